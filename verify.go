package supabase

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// ErrInvalidToken is matched by every error from [Verifier.Verify]: the token
// is malformed, badly signed, of the wrong audience, expired, or cannot be
// checked with the configured keys. The error's text says why, naming the
// failing claim (for example `exp claim: token expired at
// 2025-01-02T15:04:05Z` or `aud claim: want "authenticated"`); it never
// quotes the token. An expired token's error also matches [ErrJWTExpired].
var ErrInvalidToken = errors.New("supabase: invalid access token")

// Verifier checks Supabase access tokens locally, without a request per
// token: HS256 with the project's JWT secret (legacy and local projects), or
// asymmetric keys (ES256, RS256, EdDSA) from the project's JWKS endpoint,
// cached for 10 minutes and refetched, at most every 30 s, when a token
// names an unknown key (such a token waits at most 10 s for the next
// refetch, within its ctx, and otherwise fails at once). It rejects alg "none", HS256 tokens when no secret is
// configured (no algorithm confusion), a wrong audience, expired tokens, and
// tokens without a sub or role claim.
//
// A Verifier is safe for concurrent use. Close stops its background key
// refresh. The zero Verifier is unusable: its methods return errors matching
// [ErrInvalidArgument].
type Verifier struct {
	secret   []byte
	jwks     keyfunc.Keyfunc // nil when only a secret is configured
	keys     jwkset.Storage  // the JWKS cache behind jwks
	parser   *jwt.Parser
	audience string
	leeway   time.Duration
	// fetchErr is the error of the last JWKS fetch, nil once one succeeds.
	fetchErr atomic.Pointer[error]
	// ready is closed once the JWKS machinery is set up (jwks, keys and
	// jwksErr are then safe to read); nil without JWKS. The first fetch
	// runs in the background so that NewVerifier does no I/O; Verify
	// waits for it within its ctx.
	ready    chan struct{}
	jwksErr  error
	stopOnce sync.Once
	stop     context.CancelFunc
}

// VerifierOption configures a Verifier. Options validate their input:
// NewVerifier returns the first option error.
type VerifierOption func(*verifierConfig) error

type verifierConfig struct {
	secret     string
	useJWKS    bool
	jwksURL    string
	httpClient *http.Client
	audience   string
	leeway     time.Duration
	now        func() time.Time // tests only
}

// WithJWTSecret verifies HS256 tokens with the project's JWT secret. Without
// WithJWKS, JWKS is then not used.
func WithJWTSecret(secret string) VerifierOption {
	return func(c *verifierConfig) error {
		if len(secret) < 32 {
			return invalidArg("WithJWTSecret: a Supabase JWT secret has at least 32 characters")
		}
		c.secret = secret
		return nil
	}
}

// WithJWKS also verifies asymmetric tokens with the project's JWKS (the
// default when no secret is given). jwksURL "" means
// <project>/auth/v1/.well-known/jwks.json; otherwise it must be an http or
// https URL without credentials.
func WithJWKS(jwksURL string) VerifierOption {
	return func(c *verifierConfig) error {
		if jwksURL != "" {
			u, err := url.Parse(jwksURL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return invalidArg("WithJWKS: want an http or https URL")
			}
			if u.User != nil {
				return invalidArg("WithJWKS: the URL must not contain credentials")
			}
		}
		c.useJWKS = true
		c.jwksURL = jwksURL
		return nil
	}
}

// WithVerifierHTTPClient fetches the JWKS through hc.
func WithVerifierHTTPClient(hc *http.Client) VerifierOption {
	return func(c *verifierConfig) error {
		if hc == nil {
			return invalidArg("WithVerifierHTTPClient: nil *http.Client")
		}
		c.httpClient = hc
		return nil
	}
}

// WithAudience sets the required aud claim (default "authenticated").
func WithAudience(aud string) VerifierOption {
	return func(c *verifierConfig) error {
		if strings.TrimSpace(aud) == "" {
			return invalidArg("WithAudience: empty audience (the check cannot be turned off)")
		}
		c.audience = aud
		return nil
	}
}

// WithVerifyLeeway tolerates clock differences of d when checking exp and
// nbf (default 0): a token is accepted until exp+d.
func WithVerifyLeeway(d time.Duration) VerifierOption {
	return func(c *verifierConfig) error {
		if d < 0 {
			return invalidArg("WithVerifyLeeway: negative duration")
		}
		c.leeway = d
		return nil
	}
}

// acceptedAlgs are the algorithms Supabase signs access tokens with. Tokens
// with any other alg are refused before a key is looked up.
var acceptedAlgs = []string{"HS256", "ES256", "RS256", "EdDSA"}

// NewVerifier returns a verifier for the project at projectURL. It does no
// I/O: with JWKS, the key set is fetched in the background (each fetch
// bounded by 10 s) and refreshed every 10 minutes until [Verifier.Close]; the
// first Verify of an asymmetric token waits for that fetch within its ctx. A
// failed fetch is not fatal: keys are fetched again when a token names an
// unknown key, and Verify's error reports the last failure.
func NewVerifier(projectURL string, opts ...VerifierOption) (*Verifier, error) {
	base, err := parseProjectURL(projectURL)
	if err != nil {
		return nil, err
	}
	cfg := verifierConfig{audience: "authenticated"}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.secret == "" {
		cfg.useJWKS = true
	}
	v := &Verifier{stop: func() {}, audience: cfg.audience, leeway: cfg.leeway}
	if cfg.secret != "" {
		v.secret = []byte(cfg.secret)
	}
	if cfg.useJWKS {
		// The fetches live until Close, whatever the caller's ctx.
		ctx, cancel := context.WithCancel(context.Background())
		v.stop = cancel
		v.ready = make(chan struct{})
		go func() {
			defer close(v.ready)
			v.jwksErr = v.startJWKS(ctx, base, cfg)
		}()
	}
	// Every algorithm Supabase uses passes the parser, so that the key lookup
	// can say which configuration a token needs; it refuses what is not
	// configured.
	popts := []jwt.ParserOption{jwt.WithValidMethods(acceptedAlgs), jwt.WithExpirationRequired(),
		jwt.WithLeeway(cfg.leeway), jwt.WithAudience(cfg.audience)}
	if cfg.now != nil {
		popts = append(popts, jwt.WithTimeFunc(cfg.now))
	}
	v.parser = jwt.NewParser(popts...)
	return v, nil
}

// jwksCache records successful fetches: it clears Verifier.fetchErr.
type jwksCache struct {
	jwkset.Storage
	v *Verifier
}

func (s jwksCache) KeyReplaceAll(ctx context.Context, given []jwkset.JWK) error {
	err := s.Storage.KeyReplaceAll(ctx, given)
	if err == nil {
		s.v.fetchErr.Store(nil)
	}
	return err
}

// startJWKS sets up the key set fetched from the project (or WithJWKS) and
// its refreshes, which end with ctx.
func (v *Verifier) startJWKS(ctx context.Context, base string, cfg verifierConfig) error {
	if cfg.jwksURL == "" {
		cfg.jwksURL = base + "/auth/v1/.well-known/jwks.json"
	}
	if cfg.httpClient == nil {
		cfg.httpClient = defaultHTTPClient()
	}
	v.keys = jwksCache{Storage: jwkset.NewMemoryStorage(), v: v}
	storage, err := jwkset.NewStorageFromHTTP(cfg.jwksURL, jwkset.HTTPClientStorageOptions{
		Client: cfg.httpClient, Ctx: ctx, HTTPTimeout: 10 * time.Second,
		RefreshInterval: 10 * time.Minute, NoErrorReturnFirstHTTPReq: true,
		Storage: v.keys,
		RefreshErrorHandler: func(_ context.Context, err error) {
			v.fetchErr.Store(&err)
		},
	})
	if err != nil {
		return fmt.Errorf("supabase: JWKS: %w", err)
	}
	client, err := jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
		HTTPURLs:          map[string]jwkset.Storage{cfg.jwksURL: storage},
		RefreshUnknownKID: rate.NewLimiter(rate.Every(30*time.Second), 1),
		// A rate-limited refetch fails at once (the limiter refuses waits
		// longer than this); the bound also covers the fetch itself.
		RateLimitWaitMax: 10 * time.Second,
	})
	if err != nil {
		return fmt.Errorf("supabase: JWKS: %w", err)
	}
	v.jwks, err = keyfunc.New(keyfunc.Options{Ctx: ctx, Storage: client})
	if err != nil {
		return fmt.Errorf("supabase: JWKS: %w", err)
	}
	return nil
}

// tokenError is the error Verify returns. It matches ErrInvalidToken; reason
// is safe to show to the caller who sent the token.
type tokenError struct {
	reason  string
	cause   error // a fetch or ctx error behind the failure
	expired bool  // also matches ErrJWTExpired
	misuse  bool  // a nil or zero Verifier: also matches ErrInvalidArgument
}

func (e *tokenError) Error() string {
	if e.cause != nil {
		return ErrInvalidToken.Error() + ": " + e.reason + ": " + e.cause.Error()
	}
	return ErrInvalidToken.Error() + ": " + e.reason
}

func (e *tokenError) Is(target error) bool {
	return target == ErrInvalidToken || (e.expired && target == ErrJWTExpired) ||
		(e.misuse && target == ErrInvalidArgument)
}

func (e *tokenError) Unwrap() error { return e.cause }

// keyError is a key lookup failure; Verify turns it into a tokenError.
type keyError struct {
	reason string
	cause  error
}

func (e *keyError) Error() string { return e.reason }

// Verify checks token's signature, audience, expiry, sub and role, and
// returns its claims. Every error matches [ErrInvalidToken]; see there for
// its text. On a nil or zero Verifier the error also matches
// [ErrInvalidArgument]. ctx bounds a JWKS refetch.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	if v == nil || v.parser == nil {
		return nil, &tokenError{reason: "nil or zero Verifier (use NewVerifier)", misuse: true}
	}
	if ctx == nil {
		return nil, &tokenError{reason: "nil context", misuse: true}
	}
	if strings.TrimSpace(token) == "" {
		return nil, &tokenError{reason: "token is empty"}
	}
	var claims Claims
	keyLookedUp := false
	parsed, err := v.parser.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		keyLookedUp = true
		return v.key(ctx, t)
	})
	if err == nil || errors.Is(err, jwt.ErrTokenInvalidClaims) {
		// The signature is good: report every failing claim.
		if problems, expired := v.claimProblems(err, &claims); len(problems) > 0 {
			return nil, &tokenError{reason: strings.Join(problems, "; "), expired: expired}
		}
		return &claims, nil
	}
	return nil, tokenFailure(err, parsed, token, keyLookedUp)
}

// key returns the key for t, refusing what the configuration does not allow.
func (v *Verifier) key(ctx context.Context, t *jwt.Token) (any, error) {
	if _, ok := t.Method.(*jwt.SigningMethodHMAC); ok {
		if v.secret == nil {
			// Also where an HS256 token signed with a public key ends up.
			return nil, &keyError{reason: "HS256 token but no JWT secret configured; use WithJWTSecret"}
		}
		return v.secret, nil
	}
	alg := t.Method.Alg()
	if v.ready == nil {
		return nil, &keyError{reason: alg + " token but no JWKS configured; use WithJWKS"}
	}
	select {
	case <-v.ready:
	case <-ctx.Done():
		return nil, &keyError{reason: "key lookup interrupted", cause: ctx.Err()}
	}
	if v.jwksErr != nil {
		return nil, &keyError{reason: "the project's JWKS cannot be used", cause: v.jwksErr}
	}
	rawKid, hasKid := t.Header["kid"]
	kid, ok := rawKid.(string)
	if hasKid && !ok {
		return nil, &keyError{reason: "kid header is not a string"}
	}
	key, err := v.jwks.KeyfuncCtx(ctx)(t)
	if err != nil {
		if ctx.Err() != nil {
			return nil, &keyError{reason: "key lookup interrupted", cause: ctx.Err()}
		}
		if _, err := v.keys.KeyRead(ctx, kid); err == nil {
			return nil, &keyError{reason: "the JWKS key named by kid is not for alg " + alg}
		}
		// Not found, even after a refetch, or a refetch refused because the
		// last one was less than 30 s ago.
		return nil, v.withFetchErr("kid not found in the project's JWKS")
	}
	if set, ok := key.(jwt.VerificationKeySet); ok && len(set.Keys) == 0 {
		return nil, v.withFetchErr("no keys in the project's JWKS")
	}
	return key, nil
}

func (v *Verifier) withFetchErr(reason string) *keyError {
	if p := v.fetchErr.Load(); p != nil {
		return &keyError{reason: reason + "; the last JWKS fetch failed", cause: *p}
	}
	return &keyError{reason: reason}
}

// tokenFailure explains a token whose signature could not be checked or is
// wrong, without quoting it.
func tokenFailure(err error, parsed *jwt.Token, token string, keyLookedUp bool) error {
	var ke *keyError
	switch {
	case errors.As(err, &ke):
		return &tokenError{reason: ke.reason, cause: ke.cause}
	case errors.Is(err, jwt.ErrTokenMalformed):
		return &tokenError{reason: malformedReason(token)}
	case !keyLookedUp && errors.Is(err, jwt.ErrTokenSignatureInvalid) && parsed != nil && parsed.Method != nil:
		// The parser refused the alg before any key lookup. Its name is one
		// the jwt package knows, never arbitrary text from the token.
		if a := parsed.Method.Alg(); a != "none" {
			return &tokenError{reason: fmt.Sprintf("alg %q is not accepted (only %s)", a, strings.Join(acceptedAlgs, ", "))}
		}
		return &tokenError{reason: `alg "none" is not accepted`}
	case !keyLookedUp && errors.Is(err, jwt.ErrTokenUnverifiable):
		return &tokenError{reason: "alg header is missing or not a known algorithm"}
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return &tokenError{reason: "signature is invalid"}
	}
	return &tokenError{reason: "token cannot be verified"}
}

// malformedReason says which part of a token that is not a well-formed JWT
// is wrong.
func malformedReason(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "token is malformed: want three dot-separated parts"
	}
	var header map[string]any
	if b, err := base64.RawURLEncoding.DecodeString(parts[0]); err != nil || json.Unmarshal(b, &header) != nil {
		return "token is malformed: header is not a base64url-encoded JSON object"
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	var payload map[string]json.RawMessage
	if err != nil || json.Unmarshal(b, &payload) != nil {
		return "token is malformed: payload is not a base64url-encoded JSON object"
	}
	// The payload is JSON but does not decode into Claims: find the claim.
	names := make([]string, 0, len(payload))
	for name := range payload {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		one, _ := json.Marshal(map[string]json.RawMessage{name: payload[name]})
		if json.Unmarshal(one, &Claims{}) != nil {
			// Only names matching a Claims field fail; keep odd spellings out.
			if isClaimName(name) {
				return name + " claim has the wrong type"
			}
			return "token is malformed: a claim has the wrong type"
		}
	}
	if _, err := base64.RawURLEncoding.DecodeString(parts[2]); err != nil {
		return "token is malformed: signature is not base64url"
	}
	return "token is malformed"
}

func isClaimName(s string) bool {
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && r != '_' {
			return false
		}
	}
	return s != "" && len(s) <= 32
}

// claimProblems names the claims of a correctly signed token that fail,
// in the order exp, nbf, aud, sub, role, and reports whether exp is one.
func (v *Verifier) claimProblems(err error, c *Claims) (problems []string, expired bool) {
	leeway := ""
	if v.leeway > 0 {
		leeway = fmt.Sprintf(" (leeway %s)", v.leeway)
	}
	switch {
	case c.ExpiresAt == nil:
		problems = append(problems, "exp claim is missing")
	case errors.Is(err, jwt.ErrTokenExpired):
		expired = true
		problems = append(problems, "exp claim: token expired at "+c.ExpiresAt.UTC().Format(time.RFC3339)+leeway)
	}
	if c.NotBefore != nil && errors.Is(err, jwt.ErrTokenNotValidYet) {
		problems = append(problems, "nbf claim: token not valid before "+c.NotBefore.UTC().Format(time.RFC3339)+leeway)
	}
	switch {
	case len(c.Audience) == 0 || len(c.Audience) == 1 && c.Audience[0] == "":
		problems = append(problems, fmt.Sprintf("aud claim is missing (want %q)", v.audience))
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		problems = append(problems, fmt.Sprintf("aud claim: want %q", v.audience))
	}
	if c.Subject == "" {
		problems = append(problems, "sub claim is missing")
	}
	if c.Role == "" {
		problems = append(problems, "role claim is missing")
	}
	if len(problems) == 0 && err != nil {
		// A check this function does not name; never accept the token.
		problems = append(problems, "claims are invalid")
	}
	return problems, expired
}

// Close stops the background JWKS refresh. It returns nil, also when called
// again; on a nil or zero Verifier it returns an error matching
// [ErrInvalidArgument].
func (v *Verifier) Close() error {
	if v == nil || v.parser == nil {
		return invalidArg("Verifier.Close: nil or zero Verifier (use NewVerifier)")
	}
	v.stopOnce.Do(v.stop)
	if v.ready != nil {
		<-v.ready // the first fetch ends with the cancelled ctx
	}
	return nil
}

// userKey is the context key of the verified user; one key, so that the
// claims and the client in a context always belong together.
type userKey struct{}

type ctxUser struct {
	client *Client
	claims *Claims
}

// ContextWithUser returns a copy of ctx carrying a user's client and verified
// claims, as [Client.Middleware] stores them, for callers who write their own
// middleware. [ClientFromContext] and [ClaimsFromContext] read them back. It
// replaces both values ctx may already carry; a nil user or claims is
// reported as absent. A nil ctx is taken as context.Background().
//
// Store only claims returned by [Verifier.Verify] and a client acting for
// that same token (base.WithAccessToken(token)).
func ContextWithUser(ctx context.Context, user *Client, claims *Claims) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	return context.WithValue(ctx, userKey{}, ctxUser{client: user, claims: claims})
}

// ClaimsFromContext returns the claims [Client.Middleware] verified (or
// [ContextWithUser] stored); false when there are none.
func ClaimsFromContext(ctx context.Context) (*Claims, bool) {
	if ctx == nil {
		return nil, false
	}
	u, _ := ctx.Value(userKey{}).(ctxUser)
	return u.claims, u.claims != nil
}

// ClientFromContext returns the per-request user client [Client.Middleware]
// derived (or [ContextWithUser] stored); false when there is none.
func ClientFromContext(ctx context.Context) (*Client, bool) {
	if ctx == nil {
		return nil, false
	}
	u, _ := ctx.Value(userKey{}).(ctxUser)
	return u.client, u.client != nil
}

// MiddlewareOption configures [Client.Middleware]. Options validate their
// input; a middleware given an invalid option answers every request with
// 500 (see [Client.Middleware]).
type MiddlewareOption func(*middlewareConfig) error

type middlewareConfig struct {
	unauthorized func(http.ResponseWriter, *http.Request, error)
	skip         []func(*http.Request) bool
}

// WithUnauthorizedHandler makes the middleware answer a request it refuses by
// calling h instead of writing its default 401, so that the status, headers
// and body follow your API's own format. err matches [ErrInvalidToken]
// (and [ErrJWTExpired] for an expired token); its text never contains the
// token and is "supabase: invalid access token: missing bearer token" when
// the request has no bearer token. h owns the response: the middleware
// writes nothing else and does not call the next handler.
func WithUnauthorizedHandler(h func(w http.ResponseWriter, r *http.Request, err error)) MiddlewareOption {
	return func(c *middlewareConfig) error {
		if h == nil {
			return invalidArg("WithUnauthorizedHandler: nil handler")
		}
		c.unauthorized = h
		return nil
	}
}

// WithSkip lets requests for which skip returns true through unverified: the
// next handler runs whatever their Authorization header says, and its
// context holds no user ([ClaimsFromContext] reports false). Given several
// times, a request is skipped when any of them returns true. skip sees the
// raw request, before any router cleans its path, so match exact paths and
// methods, for example
//
//	supabase.WithSkip(func(r *http.Request) bool {
//		return r.Method == http.MethodGet && r.URL.Path == "/healthz"
//	})
func WithSkip(skip func(r *http.Request) bool) MiddlewareOption {
	return func(c *middlewareConfig) error {
		if skip == nil {
			return invalidArg("WithSkip: nil function")
		}
		c.skip = append(c.skip, skip)
		return nil
	}
}

// Middleware returns HTTP middleware that requires a valid
// "Authorization: Bearer <Supabase access token>" on every request not let
// through by [WithSkip]. When the token verifies, the next handler's context
// holds the claims ([ClaimsFromContext]) and a client acting as that user
// ([ClientFromContext]), derived from c with [Client.WithAccessToken].
//
// A request with a missing, non-Bearer or invalid token is refused without
// calling next. By default ([WithUnauthorizedHandler] replaces this) the
// answer is status 401 with the headers
//
//	WWW-Authenticate: Bearer error="invalid_token"
//	Content-Type: application/json
//
// and the body {"code":"invalid_token","message":"<reason>"}, where reason is
// the error text after "supabase: invalid access token: " without any
// underlying fetch error, for example
//
//	{"code":"invalid_token","message":"missing bearer token"}
//	{"code":"invalid_token","message":"exp claim: token expired at 2025-01-02T15:04:05Z"}
//
// Misuse never panics. A nil or zero c or v, a client with a sticky error,
// an invalid option or a nil next handler makes the middleware answer every
// request, skipped ones included, with status 500, Content-Type
// application/json and the body {"code":"misconfigured","message":"<what is
// wrong>"}, without calling next.
func (c *Client) Middleware(v *Verifier, opts ...MiddlewareOption) func(http.Handler) http.Handler {
	cfg := middlewareConfig{unauthorized: writeUnauthorized}
	err := c.middlewareError(v)
	for _, o := range opts {
		if err != nil {
			break
		}
		if o != nil {
			err = o(&cfg)
		}
	}
	return func(next http.Handler) http.Handler {
		if err == nil && next == nil {
			return misconfigured(invalidArg("Middleware: nil next handler"))
		}
		if err != nil {
			return misconfigured(err)
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for _, skip := range cfg.skip {
				if skip(r) {
					next.ServeHTTP(w, r)
					return
				}
			}
			token, ok := bearerToken(r.Header.Get("Authorization"))
			if !ok {
				cfg.unauthorized(w, r, &tokenError{reason: "missing bearer token"})
				return
			}
			claims, err := v.Verify(r.Context(), token)
			if err != nil {
				cfg.unauthorized(w, r, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(ContextWithUser(r.Context(), c.WithAccessToken(token), claims)))
		})
	}
}

func (c *Client) middlewareError(v *Verifier) error {
	switch {
	case c == nil || c.core == nil:
		return invalidArg("Middleware: nil or zero Client (use NewClient or NewClientFromEnv)")
	case c.err != nil:
		return fmt.Errorf("supabase: Middleware: unusable Client: %w", c.err)
	case v == nil || v.parser == nil:
		return invalidArg("Middleware: nil or zero Verifier (use NewVerifier)")
	}
	return nil
}

func bearerToken(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// writeUnauthorized is the default answer to a refused request.
func writeUnauthorized(w http.ResponseWriter, _ *http.Request, err error) {
	reason := "invalid token"
	var te *tokenError
	if errors.As(err, &te) {
		reason = te.reason
	}
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	writeJSONError(w, http.StatusUnauthorized, "invalid_token", reason)
}

func misconfigured(err error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSONError(w, http.StatusInternalServerError, "misconfigured", err.Error())
	})
}

func writeJSONError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	body, _ := json.Marshal(struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}{code, message})
	_, _ = w.Write(body)
}

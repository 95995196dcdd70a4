package supabase

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// ErrInvalidToken is returned by Verifier.Verify for a token that is
// malformed, badly signed, of the wrong audience or expired. The wrapped
// error says which; it never quotes the token.
var ErrInvalidToken = errors.New("supabase: invalid access token")

// Verifier checks Supabase access tokens locally, without a request per
// token: HS256 with the project's JWT secret (legacy and local projects), or
// asymmetric keys (ES256, RS256, EdDSA) from the project's JWKS endpoint,
// cached for 10 minutes and refetched, at most every 30 s, when a token
// names an unknown key. It rejects alg "none", HS256 tokens when no secret is
// configured (no algorithm confusion), a wrong audience and expired tokens.
//
// A Verifier is safe for concurrent use. Close stops its background key
// refresh.
type Verifier struct {
	secret   []byte
	jwks     keyfunc.Keyfunc // nil when only a secret is configured
	parser   *jwt.Parser
	stopOnce sync.Once
	stop     context.CancelFunc
}

// VerifierOption configures a Verifier.
type VerifierOption func(*verifierConfig) error

type verifierConfig struct {
	secret     string
	useJWKS    bool
	jwksURL    string
	httpClient *http.Client
	audience   string
	leeway     time.Duration
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
// default when no secret is given). url "" means
// <project>/auth/v1/.well-known/jwks.json.
func WithJWKS(url string) VerifierOption {
	return func(c *verifierConfig) error {
		c.useJWKS = true
		c.jwksURL = url
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

// WithVerifyLeeway tolerates clock differences of d when checking exp, nbf
// and iat (default 0).
func WithVerifyLeeway(d time.Duration) VerifierOption {
	return func(c *verifierConfig) error {
		if d < 0 {
			return invalidArg("WithVerifyLeeway: negative duration")
		}
		c.leeway = d
		return nil
	}
}

// NewVerifier returns a verifier for the project at projectURL. Keys are
// fetched in the background; a key fetch failure surfaces in Verify.
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
	methods := []string{}
	v := &Verifier{stop: func() {}}
	if cfg.secret != "" {
		v.secret = []byte(cfg.secret)
		methods = append(methods, jwt.SigningMethodHS256.Alg())
	}
	if cfg.useJWKS {
		if cfg.jwksURL == "" {
			cfg.jwksURL = base + "/auth/v1/.well-known/jwks.json"
		}
		if cfg.httpClient == nil {
			cfg.httpClient = defaultHTTPClient()
		}
		// The refresh goroutine lives until Close.
		ctx, cancel := context.WithCancel(context.Background())
		v.stop = cancel
		storage, err := jwkset.NewStorageFromHTTP(cfg.jwksURL, jwkset.HTTPClientStorageOptions{
			Client: cfg.httpClient, Ctx: ctx, HTTPTimeout: 10 * time.Second,
			RefreshInterval: 10 * time.Minute, NoErrorReturnFirstHTTPReq: true,
			RefreshErrorHandler: func(context.Context, error) {},
		})
		if err != nil {
			cancel()
			return nil, fmt.Errorf("supabase: JWKS: %w", err)
		}
		client, err := jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
			HTTPURLs:          map[string]jwkset.Storage{cfg.jwksURL: storage},
			RefreshUnknownKID: rate.NewLimiter(rate.Every(30*time.Second), 1),
			// A rate-limited refetch fails at once (the limiter refuses waits
			// longer than this); the bound also covers the fetch itself.
			RateLimitWaitMax: 10 * time.Second,
		})
		if err != nil {
			cancel()
			return nil, fmt.Errorf("supabase: JWKS: %w", err)
		}
		v.jwks, err = keyfunc.New(keyfunc.Options{Ctx: ctx, Storage: client})
		if err != nil {
			cancel()
			return nil, fmt.Errorf("supabase: JWKS: %w", err)
		}
		methods = append(methods, "ES256", "RS256", "EdDSA")
	}
	popts := []jwt.ParserOption{jwt.WithValidMethods(methods), jwt.WithExpirationRequired(), jwt.WithLeeway(cfg.leeway)}
	if cfg.audience != "" {
		popts = append(popts, jwt.WithAudience(cfg.audience))
	}
	v.parser = jwt.NewParser(popts...)
	return v, nil
}

// Verify checks token's signature, audience and expiry and returns its
// claims. Errors match ErrInvalidToken.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	if v == nil || v.parser == nil {
		return nil, errNoVerifier
	}
	var claims Claims
	_, err := v.parser.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		if _, ok := t.Method.(*jwt.SigningMethodHMAC); ok {
			if v.secret == nil {
				return nil, errors.New("HS256 token but no JWT secret configured")
			}
			return v.secret, nil
		}
		if v.jwks == nil {
			return nil, errors.New("asymmetric token but JWKS not configured")
		}
		return v.jwks.KeyfuncCtx(ctx)(t)
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrInvalidToken, tokenErrorReason(err))
	}
	return &claims, nil
}

// tokenErrorReason names why a token failed without quoting it.
func tokenErrorReason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token is expired"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "wrong audience"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "signature is invalid"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "token is malformed"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "token is not valid yet"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "a required claim is missing"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "cannot verify: " + strings.TrimPrefix(err.Error(), jwt.ErrTokenUnverifiable.Error()+": ")
	}
	return "token is invalid"
}

// Close stops the background JWKS refresh.
func (v *Verifier) Close() {
	if v != nil && v.stop != nil {
		v.stopOnce.Do(v.stop)
	}
}

type ctxKey int

const (
	ctxKeyClaims ctxKey = iota
	ctxKeyClient
)

// Middleware returns HTTP middleware that requires a valid
// "Authorization: Bearer <Supabase access token>" on every request. It
// answers 401 without calling next when the token is missing or invalid;
// otherwise next sees the claims (ClaimsFromContext) and a client acting as
// that user (ClientFromContext), derived from c.
func (c *Client) Middleware(v *Verifier) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token, ok := bearerToken(r.Header.Get("Authorization"))
			if !ok {
				unauthorized(w, "missing bearer token")
				return
			}
			claims, err := v.Verify(r.Context(), token)
			if err != nil {
				unauthorized(w, tokenErrorText(err))
				return
			}
			ctx := context.WithValue(r.Context(), ctxKeyClaims, claims)
			ctx = context.WithValue(ctx, ctxKeyClient, c.WithAccessToken(token))
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

func tokenErrorText(err error) string {
	return strings.TrimPrefix(err.Error(), ErrInvalidToken.Error()+": ")
}

func bearerToken(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

func unauthorized(w http.ResponseWriter, reason string) {
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	body, _ := json.Marshal(map[string]string{"code": "invalid_token", "message": reason})
	_, _ = w.Write(body)
}

// ClaimsFromContext returns the claims Middleware verified.
func ClaimsFromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(ctxKeyClaims).(*Claims)
	return c, ok
}

// ClientFromContext returns the per-request user client Middleware derived.
func ClientFromContext(ctx context.Context) (*Client, bool) {
	c, ok := ctx.Value(ctxKeyClient).(*Client)
	return c, ok
}

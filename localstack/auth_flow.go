package localstack

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Authentication methods a flow state records, as Supabase Auth names them.
// The one the code is exchanged for becomes the session's amr method.
const (
	methodOAuth       = "oauth"
	methodMagicLink   = "magiclink"
	methodRecovery    = "recovery"
	methodInvite      = "invite"
	methodEmailSignup = "email/signup"
	methodSSOSAML     = "sso/saml"
)

// flowState is a row of auth.flow_state: one sign-in under way. A PKCE
// flow has a code challenge and an auth code; an implicit OAuth flow has
// neither and ends in tokens in the redirect's fragment.
type flowState struct {
	ID                  string
	UserID              *string
	AuthCode            *string
	CodeChallenge       *string
	CodeChallengeMethod *string
	ProviderType        string
	AuthMethod          string
	ProviderAccessToken *string
	CreatedAt           time.Time
	AuthCodeIssuedAt    *time.Time
	Referrer            *string
	LinkingTargetID     *string
}

func (f *flowState) isPKCE() bool { return f.CodeChallenge != nil && *f.CodeChallenge != "" }

// expired is Supabase Auth's rule: a magic link's flow expires counting
// from when its code was issued (the link may be followed long after it
// was asked for), every other from its creation.
func (f *flowState) expired(now time.Time, ttl time.Duration) bool {
	if f.AuthCodeIssuedAt != nil && f.AuthMethod == methodMagicLink {
		return now.After(f.AuthCodeIssuedAt.Add(ttl))
	}
	return now.After(f.CreatedAt.Add(ttl))
}

const flowStateColumns = `id, user_id, auth_code, code_challenge, code_challenge_method::text, provider_type,
	authentication_method, provider_access_token, created_at, auth_code_issued_at, referrer, linking_target_id`

func scanFlowState(row pgx.Row) (*flowState, error) {
	f := &flowState{}
	err := row.Scan(&f.ID, &f.UserID, &f.AuthCode, &f.CodeChallenge, &f.CodeChallengeMethod, &f.ProviderType,
		&f.AuthMethod, &f.ProviderAccessToken, &f.CreatedAt, &f.AuthCodeIssuedAt, &f.Referrer, &f.LinkingTargetID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return f, err
}

// findFlowState loads the flow state matching cond ($1 its one argument),
// or nil.
func findFlowState(ctx context.Context, db dbtx, cond string, arg any) (*flowState, error) {
	return scanFlowState(db.QueryRow(ctx, `SELECT `+flowStateColumns+` FROM auth.flow_state WHERE `+cond, arg))
}

// pkceParams are the code_challenge and code_challenge_method a client
// starting a PKCE flow sends.
type pkceParams struct {
	challenge, method string
}

var codeChallengePattern = regexp.MustCompile(`^[a-zA-Z._~0-9-]+$`)

// validate applies Supabase Auth's checks: both or neither, and a
// challenge of RFC 7636's length and alphabet.
func (p pkceParams) validate() error {
	if (p.challenge == "") != (p.method == "") {
		return authErr(http.StatusBadRequest, "validation_failed", "PKCE flow requires code_challenge_method and code_challenge")
	}
	if p.challenge == "" {
		return nil
	}
	if n := len(p.challenge); n < 43 || n > 128 {
		return authErr(http.StatusBadRequest, "validation_failed", "code challenge has to be between 43 and 128 characters")
	}
	if !codeChallengePattern.MatchString(p.challenge) {
		return authErr(http.StatusBadRequest, "validation_failed", "code challenge can only contain alphanumeric characters, hyphens, periods, underscores and tildes")
	}
	return nil
}

func (p pkceParams) isPKCE() bool { return p.challenge != "" }

// newFlow describes a flow state to create.
type newFlow struct {
	pkce         pkceParams
	providerType string
	authMethod   string
	userID       string // "" until known
	referrer     string
	linkTarget   string
}

// createFlowState inserts a flow state with a fresh auth code when it is a
// PKCE flow. Its timestamps come from the server's clock, which is what
// its expiry is checked against.
func (s *Server) createFlowState(ctx context.Context, db dbtx, n newFlow) (*flowState, error) {
	var method *string
	if n.pkce.isPKCE() {
		m := strings.ToLower(n.pkce.method)
		if m != "s256" && m != "plain" {
			return nil, authErr(http.StatusBadRequest, "validation_failed", "Invalid code_challenge_method")
		}
		method = &m
	}
	nullable := func(v string) *string {
		if v == "" {
			return nil
		}
		return &v
	}
	var code *string
	if n.pkce.isPKCE() {
		c := newUUID()
		code = &c
	}
	now := s.now()
	return scanFlowState(db.QueryRow(ctx, `INSERT INTO auth.flow_state (id, user_id, auth_code, code_challenge,
			code_challenge_method, provider_type, authentication_method, created_at, updated_at, referrer, linking_target_id)
		VALUES ($1, $2, $3, $4, $5::auth.code_challenge_method, $6, $7, $8, $8, $9, $10)
		RETURNING `+flowStateColumns,
		newUUID(), nullable(n.userID), code, nullable(n.pkce.challenge), method, n.providerType, n.authMethod, now,
		nullable(n.referrer), nullable(n.linkTarget)))
}

// issueAuthCode is what a verified email link does in a PKCE flow: the
// user's latest flow state for that method gets its code's issue time, and
// the code goes into the redirect.
func (s *Server) issueAuthCode(ctx context.Context, tx pgx.Tx, userID, method string) (string, error) {
	f, err := scanFlowState(tx.QueryRow(ctx, `SELECT `+flowStateColumns+` FROM auth.flow_state
		WHERE user_id = $1 AND authentication_method = $2 ORDER BY created_at DESC, id DESC LIMIT 1`, userID, method))
	if err != nil {
		return "", err
	}
	if f == nil {
		return "", authErr(http.StatusBadRequest, "flow_state_not_found", "No associated flow state found. No valid flow state found for user.")
	}
	if !f.isPKCE() {
		return "", authErr(http.StatusBadRequest, "flow_state_not_found", "No associated flow state found. Flow state does not have an auth code (not a PKCE flow).")
	}
	if _, err := tx.Exec(ctx, `UPDATE auth.flow_state SET auth_code_issued_at = $2, updated_at = $2 WHERE id = $1`, f.ID, s.now()); err != nil {
		return "", err
	}
	return *f.AuthCode, nil
}

// verifyPKCE checks a code verifier against the stored challenge.
func verifyPKCE(challenge, method, verifier string) error {
	switch strings.ToLower(method) {
	case "s256":
		sum := sha256.Sum256([]byte(verifier))
		if subtle.ConstantTimeCompare([]byte(challenge), []byte(base64.RawURLEncoding.EncodeToString(sum[:]))) != 1 {
			return errors.New("code challenge does not match previously saved code verifier")
		}
	case "plain":
		if subtle.ConstantTimeCompare([]byte(challenge), []byte(verifier)) != 1 {
			return errors.New("code challenge does not match previously saved code verifier")
		}
	default:
		return errors.New("code challenge method not supported")
	}
	return nil
}

// pkceGrant exchanges an auth code and its verifier for a session
// (grant_type=pkce). The flow state is deleted with the exchange, so a
// code works once.
func (s *Server) pkceGrant(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var p struct {
		AuthCode     string `json:"auth_code"`
		CodeVerifier string `json:"code_verifier"`
	}
	if err := decodeBody(r, &p); err != nil {
		return err
	}
	if p.AuthCode == "" || p.CodeVerifier == "" {
		return authErr(http.StatusBadRequest, "validation_failed", "invalid request: both auth code and code verifier should be non-empty")
	}
	return s.inTx(ctx, w, func(tx pgx.Tx, w http.ResponseWriter) error {
		// The row lock makes concurrent exchanges of one code wait; the
		// loser then finds no row.
		f, err := findFlowState(ctx, tx, `auth_code = $1 FOR UPDATE`, p.AuthCode)
		if err != nil {
			return err
		}
		if f == nil || f.UserID == nil {
			return authErr(http.StatusNotFound, "flow_state_not_found", "invalid flow state, no valid flow state found")
		}
		if f.expired(s.now(), s.cfg.FlowStateExpiry) {
			return authErr(http.StatusUnprocessableEntity, "flow_state_expired", "invalid flow state, flow state has expired")
		}
		u, err := findUser(ctx, tx, "id = $1", *f.UserID)
		if err != nil {
			return err
		}
		if u == nil {
			return authErr(http.StatusNotFound, "flow_state_not_found", "invalid flow state, no valid flow state found")
		}
		if err := verifyPKCE(deref(f.CodeChallenge), deref(f.CodeChallengeMethod), p.CodeVerifier); err != nil {
			return authErr(http.StatusBadRequest, "bad_code_verifier", err.Error())
		}
		resp, err := s.startSession(ctx, tx, u, f.AuthMethod)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM auth.flow_state WHERE id = $1`, f.ID); err != nil {
			return err
		}
		var out any = resp
		if f.ProviderAccessToken != nil && *f.ProviderAccessToken != "" {
			out = struct {
				*sessionResponse
				ProviderToken string `json:"provider_token"`
			}{resp, *f.ProviderAccessToken}
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	})
}

// referrer is where a flow ends: the redirect_to the request names (as
// a header or a query parameter) when it is allowed, else the Referer
// header when that is allowed, else the site URL. Supabase Auth never
// refuses a redirect_to; it ignores one it does not allow.
func (s *Server) referrer(r *http.Request, redirectTo string) string {
	if redirectTo == "" {
		redirectTo = r.Header.Get("redirect_to")
	}
	if redirectTo == "" {
		redirectTo = r.URL.Query().Get("redirect_to")
	}
	if s.redirectAllowed(redirectTo) {
		return redirectTo
	}
	if ref := r.Referer(); s.redirectAllowed(ref) {
		return ref
	}
	return s.cfg.SiteURL
}

var (
	decimalHost  = regexp.MustCompile(`^[0-9]+$`)
	regularHost  = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?$`)
	localhostSet = map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true, "0.0.0.0": true, "::": true}
)

// redirectAllowed is Supabase Auth's redirect check: the site URL's
// scheme, host and port (any port on a loopback host, RFC 8252 §7.3); any
// loopback IP address; or a match of one of the allow list's globs.
func (s *Server) redirectAllowed(target string) bool {
	if target == "" {
		return false
	}
	base, err1 := url.Parse(s.cfg.SiteURL)
	ref, err2 := url.Parse(target)
	if err1 != nil || err2 != nil {
		return false
	}
	host := ref.Hostname()
	if base.Hostname() == host && base.Scheme == ref.Scheme &&
		(base.Port() == ref.Port() || localhostSet[strings.ToLower(host)]) {
		return true
	}
	scheme := strings.TrimSuffix(strings.ToLower(ref.Scheme), ":")
	switch {
	case decimalHost.MatchString(host):
		return false
	case net.ParseIP(host) != nil:
		return net.ParseIP(host).IsLoopback()
	case (scheme == "http" || scheme == "https") && !regularHost.MatchString(host):
		return false
	}
	target, _, _ = strings.Cut(target, "#")
	for _, g := range s.cfg.URIAllowList {
		if globMatch(g, target) {
			return true
		}
	}
	return false
}

// globMatch matches s against an allow-list pattern the way Supabase Auth
// compiles them (gobwas/glob with '.' and '/' as separators): '*' is any
// run of characters but separators, '**' any run at all, '?' one
// character but a separator, '{a,b}' either alternative, '[...]' a
// character class ('!' negates), and '\' escapes.
func globMatch(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	switch c := pattern[0]; c {
	case '*':
		if strings.HasPrefix(pattern, "**") {
			rest := pattern[2:]
			for i := 0; i <= len(s); i++ {
				if globMatch(rest, s[i:]) {
					return true
				}
			}
			return false
		}
		rest := pattern[1:]
		for i := 0; i <= len(s); i++ {
			if globMatch(rest, s[i:]) {
				return true
			}
			if i < len(s) && (s[i] == '.' || s[i] == '/') {
				return false
			}
		}
		return false
	case '?':
		return s != "" && s[0] != '.' && s[0] != '/' && globMatch(pattern[1:], s[1:])
	case '{':
		end := strings.IndexByte(pattern, '}')
		if end < 0 {
			return s != "" && s[0] == '{' && globMatch(pattern[1:], s[1:])
		}
		for _, alt := range strings.Split(pattern[1:end], ",") {
			if globMatch(alt+pattern[end+1:], s) {
				return true
			}
		}
		return false
	case '[':
		end := strings.IndexByte(pattern[1:], ']')
		if end < 0 || s == "" {
			return s != "" && s[0] == '[' && globMatch(pattern[1:], s[1:])
		}
		class, neg := pattern[1:end+1], false
		if strings.HasPrefix(class, "!") {
			class, neg = class[1:], true
		}
		in := false
		for i := 0; i < len(class); i++ {
			if i+2 < len(class) && class[i+1] == '-' {
				in = in || (s[0] >= class[i] && s[0] <= class[i+2])
				i += 2
			} else {
				in = in || s[0] == class[i]
			}
		}
		return in != neg && globMatch(pattern[end+2:], s[1:])
	case '\\':
		if len(pattern) > 1 {
			return s != "" && s[0] == pattern[1] && globMatch(pattern[2:], s[1:])
		}
		fallthrough
	default:
		return s != "" && s[0] == c && globMatch(pattern[1:], s[1:])
	}
}

// withCode adds ?code= to a redirect, as a PKCE flow ends.
func withCode(target, code string) string {
	u, err := url.Parse(target)
	if err != nil {
		return target
	}
	q := u.Query()
	q.Set("code", code)
	u.RawQuery = q.Encode()
	return u.String()
}

// withTokens puts a session in a redirect's fragment, as an implicit
// flow ends.
func withTokens(target string, resp *sessionResponse, extra url.Values) string {
	if extra == nil {
		extra = url.Values{}
	}
	extra.Set("access_token", resp.AccessToken)
	extra.Set("token_type", resp.TokenType)
	extra.Set("expires_in", fmt.Sprint(resp.ExpiresIn))
	extra.Set("expires_at", fmt.Sprint(resp.ExpiresAt))
	extra.Set("refresh_token", resp.RefreshToken)
	extra.Set("sb", "")
	return target + "#" + extra.Encode()
}

// oauthErrorName is the OAuth error a status maps to in redirects.
var oauthErrorName = map[int]string{
	http.StatusBadRequest:          "invalid_request",
	http.StatusUnauthorized:        "unauthorized_client",
	http.StatusForbidden:           "access_denied",
	http.StatusInternalServerError: "server_error",
	http.StatusServiceUnavailable:  "temporarily_unavailable",
}

// withError puts an error in a redirect the way Supabase Auth's OAuth
// callback does: in the query and, for older clients, the fragment.
func withError(target string, ae *authError) string {
	u, err := url.Parse(target)
	if err != nil {
		return target
	}
	name, ok := oauthErrorName[ae.status]
	switch {
	case ae.oauth:
		name = ae.code
	case ae.code == "user_banned" || ae.code == "signup_disabled" || ae.code == "provider_email_needs_verification":
		name = "access_denied"
	case !ok:
		name = "server_error"
	}
	q := u.Query()
	q.Set("error", name)
	q.Set("error_description", ae.msg)
	if !ae.oauth {
		q.Set("error_code", ae.code)
	}
	u.RawQuery = q.Encode()
	hq := url.Values{"error": {name}, "error_description": {ae.msg}, "sb": {""}}
	if !ae.oauth {
		hq.Set("error_code", ae.code)
	}
	u.Fragment = ""
	return u.String() + "#" + hq.Encode()
}

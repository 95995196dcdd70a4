package supabase

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// AuthClient is the Supabase Auth API (/auth/v1) and the holder of a
// client's session. It is safe for concurrent use.
type AuthClient struct {
	co       *core
	sessions *sessionManager
	// disabled: the client uses WithAccessTokenFunc; Auth cannot hold a session.
	disabled bool
	// userOnly: a derived per-user client, which must never send the
	// project key in place of its user's token (that key may be a
	// service_role key, which bypasses RLS).
	userOnly bool
}

// ErrAuthDisabled is returned by AuthClient methods on a client built with
// WithAccessTokenFunc, whose tokens come from a third-party provider.
var ErrAuthDisabled = errors.New("supabase: Auth is not available on a client using WithAccessTokenFunc")

// unavailable reports why this AuthClient cannot be used: a client using
// WithAccessTokenFunc, or one not made by NewClient.
func (a *AuthClient) unavailable() error {
	switch {
	case a == nil || a.co == nil || a.sessions == nil:
		return errNoClient
	case a.disabled:
		return ErrAuthDisabled
	}
	return nil
}

func newAuthClient(co *core, store SessionStore, enabled bool) *AuthClient {
	return &AuthClient{co: co, sessions: newSessionManager(co, store), disabled: !enabled}
}

func (a *AuthClient) accessToken(ctx context.Context) (string, error) {
	if a == nil || a.disabled || a.sessions == nil {
		return "", nil
	}
	tok, err := a.sessions.accessToken(ctx)
	if err == nil && tok == "" && a.userOnly {
		return "", errSessionMissing()
	}
	return tok, err
}

func (a *AuthClient) tokenRejected(ctx context.Context, token string) bool {
	return !a.disabled && a.sessions != nil && a.sessions.tokenRejected(ctx, token)
}

// AuthOption adds optional parameters to an Auth call.
type AuthOption func(*authOptions)

type authOptions struct {
	captchaToken string
	redirectTo   string
}

// WithCaptchaToken passes a captcha verification token (hCaptcha, Turnstile).
func WithCaptchaToken(token string) AuthOption {
	return func(o *authOptions) { o.captchaToken = token }
}

// WithRedirectTo sets the URL the user lands on after following an email
// link (sent as redirect_to).
func WithRedirectTo(u string) AuthOption {
	return func(o *authOptions) { o.redirectTo = u }
}

// setContact puts the email (with the null PKCE fields supabase-js sends,
// and the email redirect) or else the phone into body, and reports whether
// it was the email. Callers have checked that exactly one is set.
func (o *authOptions) setContact(body map[string]any, email, phone, emailRedirect string) (isEmail bool) {
	if strings.TrimSpace(email) == "" {
		body["phone"] = phone
		return false
	}
	body["email"] = email
	body["code_challenge"] = nil
	body["code_challenge_method"] = nil
	o.redirectTo = emailRedirect
	return true
}

func collectAuthOptions(opts []AuthOption) authOptions {
	var o authOptions
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	return o
}

func (o authOptions) security() map[string]any {
	m := map[string]any{}
	if o.captchaToken != "" {
		m["captcha_token"] = o.captchaToken
	}
	return m
}

func (o authOptions) query() url.Values {
	if o.redirectTo == "" {
		return nil
	}
	return url.Values{"redirect_to": {o.redirectTo}}
}

// authAPIVersion is the Auth API version this client speaks.
const authAPIVersion = "2024-01-01"

func authJSONHeader() http.Header {
	return http.Header{
		"Content-Type":           {"application/json;charset=UTF-8"},
		"X-Supabase-Api-Version": {authAPIVersion},
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("supabase: encoding a request body: " + err.Error()) // only called with maps of plain values
	}
	return b
}

// sessionBearer, passed as authCall's bearer, sends the current session's
// access token read at send time, so a 401 bad_jwt triggers the shared
// refresh and one replay, as REST requests do.
const sessionBearer = "\x00session"

// authCall sends one Auth request. bearer "" sends the project key.
// body nil sends no body (and no Content-Type).
func (a *AuthClient) authCall(ctx context.Context, method, path string, query url.Values, body any, bearer string) (*apiResponse, error) {
	if a == nil || a.co == nil {
		return nil, errNoClient
	}
	var ts tokenSource
	if bearer == sessionBearer {
		ts, bearer = a, ""
	}
	u := a.co.authURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	r := &apiRequest{service: ServiceAuth, method: method, url: u, bearer: bearer}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, invalidArg("cannot encode the request body: %v", err)
		}
		r.body = b
		r.header = authJSONHeader()
	} else {
		r.header = http.Header{"X-Supabase-Api-Version": {authAPIVersion}}
	}
	resp, err := a.co.send(ctx, ts, r)
	if err != nil {
		return nil, err
	}
	a.sessions.noteServerDate(resp.header)
	return resp, nil
}

// userToken returns the signed-in user's valid access token, or
// ErrSessionMissing without any request.
func (a *AuthClient) userToken(ctx context.Context) (string, error) {
	if err := a.unavailable(); err != nil {
		return "", err
	}
	s, err := a.sessions.valid(ctx, a.co.session.refreshMargin)
	if err != nil {
		return "", err
	}
	if s == nil {
		return "", errSessionMissing()
	}
	return s.AccessToken, nil
}

// AuthResponse is what sign-up and OTP verification return: the user, and
// a session when the user is signed in (nil when a confirmation is pending).
type AuthResponse struct {
	User    *User
	Session *Session
	// MessageID is the SMS provider's message id, when one was sent.
	MessageID string
}

// decodeAuthResponse reads a body that is either a session or a bare user.
func (a *AuthClient) decodeAuthResponse(ctx context.Context, body []byte, event AuthChangeEvent) (*AuthResponse, error) {
	var probe struct {
		AccessToken string `json:"access_token"`
		MessageID   string `json:"message_id"`
	}
	if err := decodeJSON(body, &probe); err != nil {
		return nil, err
	}
	if probe.AccessToken != "" {
		s, err := a.sessions.decodeSession(body)
		if err != nil {
			return nil, err
		}
		if err := a.sessions.set(ctx, s, event); err != nil {
			return &AuthResponse{User: s.User, Session: s}, err
		}
		return &AuthResponse{User: s.User, Session: s}, nil
	}
	var u User
	if err := decodeJSON(body, &u); err != nil {
		return nil, err
	}
	res := &AuthResponse{MessageID: probe.MessageID}
	if u.ID != "" {
		res.User = &u
	}
	return res, nil
}

// SignUpParams are the fields of a new user. Set Email or Phone.
type SignUpParams struct {
	Email    string
	Phone    string
	Password string
	// Data becomes the user's user_metadata.
	Data map[string]any
	// EmailRedirectTo is where the confirmation link leads.
	EmailRedirectTo string
	// Channel is "sms" (default) or "whatsapp" for phone sign-ups.
	Channel      string
	CaptchaToken string
}

// SignUp creates a user. When the project auto-confirms, the user is signed
// in and Session is set; otherwise Session is nil until they confirm.
func (a *AuthClient) SignUp(ctx context.Context, p SignUpParams) (*AuthResponse, error) {
	if err := a.unavailable(); err != nil {
		return nil, err
	}
	if (strings.TrimSpace(p.Email) == "") == (strings.TrimSpace(p.Phone) == "") {
		return nil, invalidArg("SignUp: set exactly one of Email and Phone")
	}
	if p.Password == "" {
		return nil, invalidArg("SignUp: empty password")
	}
	data := p.Data
	if data == nil {
		data = map[string]any{}
	}
	o := authOptions{captchaToken: p.CaptchaToken}
	body := map[string]any{"password": p.Password, "data": data, "gotrue_meta_security": o.security()}
	if !o.setContact(body, p.Email, p.Phone, p.EmailRedirectTo) {
		body["channel"] = orDefault(p.Channel, "sms")
	}
	resp, err := a.authCall(ctx, http.MethodPost, "/signup", o.query(), body, "")
	if err != nil {
		return nil, err
	}
	return a.decodeAuthResponse(ctx, resp.body, EventSignedIn)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// SignInWithPassword signs a user in with email and password. The session
// is kept by the client: later queries run as this user.
func (a *AuthClient) SignInWithPassword(ctx context.Context, email, password string, opts ...AuthOption) (*Session, error) {
	if strings.TrimSpace(email) == "" || password == "" {
		return nil, invalidArg("SignInWithPassword: email and password are required")
	}
	return a.signInPassword(ctx, map[string]any{"email": email, "password": password}, opts)
}

// SignInWithPhonePassword signs a user in with phone number and password.
func (a *AuthClient) SignInWithPhonePassword(ctx context.Context, phone, password string, opts ...AuthOption) (*Session, error) {
	if strings.TrimSpace(phone) == "" || password == "" {
		return nil, invalidArg("SignInWithPhonePassword: phone and password are required")
	}
	return a.signInPassword(ctx, map[string]any{"phone": phone, "password": password}, opts)
}

func (a *AuthClient) signInPassword(ctx context.Context, body map[string]any, opts []AuthOption) (*Session, error) {
	if err := a.unavailable(); err != nil {
		return nil, err
	}
	body["gotrue_meta_security"] = collectAuthOptions(opts).security()
	resp, err := a.authCall(ctx, http.MethodPost, "/token", url.Values{"grant_type": {"password"}}, body, "")
	if err != nil {
		return nil, err
	}
	return a.signedIn(ctx, resp.body, EventSignedIn)
}

// signedIn decodes a session response, stores it and emits event.
func (a *AuthClient) signedIn(ctx context.Context, body []byte, event AuthChangeEvent) (*Session, error) {
	s, err := a.sessions.decodeSession(body)
	if err != nil {
		return nil, err
	}
	if err := a.sessions.set(ctx, s, event); err != nil {
		return s, err
	}
	return s, nil
}

// Session returns the current session, refreshed first when it expires in
// less than the refresh margin (90 s by default). With nobody signed in it
// returns an error matching ErrSessionMissing; once a session ended without
// SignOut (refresh token refused, session ended by Auth), one matching
// ErrSessionExpired until the next sign-in or SignOut.
func (a *AuthClient) Session(ctx context.Context) (*Session, error) {
	if err := a.unavailable(); err != nil {
		return nil, err
	}
	s, err := a.sessions.valid(ctx, a.co.session.refreshMargin)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, errSessionMissing()
	}
	return s, nil
}

// RefreshSession exchanges the current refresh token for a new session now,
// whatever the expiry. Concurrent calls share one request.
func (a *AuthClient) RefreshSession(ctx context.Context) (*Session, error) {
	if err := a.unavailable(); err != nil {
		return nil, err
	}
	s, err := a.sessions.current(ctx)
	if err != nil {
		return nil, err
	}
	if s == nil || s.RefreshToken == "" {
		return nil, errSessionMissing()
	}
	return a.sessions.refresh(ctx, s)
}

// RefreshSessionWith exchanges refreshToken (from elsewhere, e.g. a cookie)
// for a session and signs the client in with it (TOKEN_REFRESHED). Like
// every refresh, the exchange is shared: concurrent calls, the background
// refresher and derived clients never send the same refresh token twice,
// and a token exchanged moments ago yields the session it was exchanged
// for instead of a second request.
func (a *AuthClient) RefreshSessionWith(ctx context.Context, refreshToken string) (*Session, error) {
	if err := a.unavailable(); err != nil {
		return nil, err
	}
	if refreshToken == "" {
		return nil, errSessionMissing()
	}
	return a.sessions.refreshWith(ctx, refreshToken)
}

// SetSession signs the client in with tokens obtained elsewhere. An expired
// access token is refreshed right away; a valid one is checked with GET
// /user.
func (a *AuthClient) SetSession(ctx context.Context, accessToken, refreshToken string) (*Session, error) {
	if err := a.unavailable(); err != nil {
		return nil, err
	}
	if accessToken == "" || refreshToken == "" {
		return nil, errSessionMissing()
	}
	if !validAccessToken(accessToken) {
		return nil, invalidArg("SetSession: the access token cannot be sent as a bearer token (control character or space)")
	}
	claims, err := ParseClaims(accessToken)
	if err != nil {
		return nil, err
	}
	var exp int64
	if claims.ExpiresAt != nil {
		exp = claims.ExpiresAt.Unix()
	}
	now := a.sessions.now().Unix()
	if exp != 0 && exp <= now {
		return a.RefreshSessionWith(ctx, refreshToken)
	}
	u, err := a.UserFromToken(ctx, accessToken)
	if err != nil {
		return nil, err
	}
	s := &Session{AccessToken: accessToken, RefreshToken: refreshToken, TokenType: "bearer",
		ExpiresAt: exp, User: u}
	if exp != 0 {
		s.ExpiresIn = exp - now
	}
	if err := a.sessions.set(ctx, s, EventSignedIn); err != nil {
		return s, err
	}
	return s, nil
}

// User fetches the signed-in user from the server (GET /user), which also
// proves the session is still valid server-side.
//
// When the server answers session_not_found (the session was ended
// elsewhere), the local session is dropped (SIGNED_OUT), as in supabase-js,
// but later calls needing it fail with an error matching ErrSessionExpired
// until the next sign-in or SignOut, rather than running as anon. With
// nobody signed in but a global Authorization header (WithHeaders), that
// header's user is fetched.
func (a *AuthClient) User(ctx context.Context) (*User, error) {
	if err := a.unavailable(); err != nil {
		return nil, err
	}
	s, err := a.sessions.valid(ctx, a.co.session.refreshMargin)
	if err != nil {
		return nil, err
	}
	if s == nil {
		if a.co.headers.Get("Authorization") == "" {
			return nil, errSessionMissing()
		}
		return a.fetchUser(ctx, "") // the global header replaces the key as bearer
	}
	u, err := a.fetchUser(ctx, sessionBearer)
	var e *Error
	if errors.As(err, &e) && e.Code == "session_not_found" {
		a.sessions.endSession(ctx, s, err)
	}
	return u, err
}

// UserFromToken fetches the user that jwt belongs to (GET /user). Backends
// use it to check a token a caller sent.
func (a *AuthClient) UserFromToken(ctx context.Context, jwt string) (*User, error) {
	if jwt == "" {
		return nil, errSessionMissing()
	}
	return a.fetchUser(ctx, jwt)
}

// fetchUser sends GET /user with jwt ("" sends the key).
func (a *AuthClient) fetchUser(ctx context.Context, jwt string) (*User, error) {
	resp, err := a.authCall(ctx, http.MethodGet, "/user", nil, nil, jwt)
	if err != nil {
		return nil, err
	}
	var u User
	if err := decodeJSON(resp.body, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// UserAttributes are the fields UpdateUser changes; empty fields are left alone.
type UserAttributes struct {
	Email    string
	Phone    string
	Password string
	// Nonce is the reauthentication code, when the project requires one to
	// change the password.
	Nonce string
	// Data is merged into user_metadata.
	Data map[string]any
	// EmailRedirectTo is where the email-change confirmation link leads.
	EmailRedirectTo string
}

// UpdateUser changes the signed-in user and emits USER_UPDATED.
func (a *AuthClient) UpdateUser(ctx context.Context, attrs UserAttributes) (*User, error) {
	if _, err := a.userToken(ctx); err != nil {
		return nil, err
	}
	body := map[string]any{"code_challenge": nil, "code_challenge_method": nil}
	for k, v := range map[string]string{"email": attrs.Email, "phone": attrs.Phone, "password": attrs.Password, "nonce": attrs.Nonce} {
		if v != "" {
			body[k] = v
		}
	}
	if attrs.Data != nil {
		body["data"] = attrs.Data
	}
	o := authOptions{redirectTo: attrs.EmailRedirectTo}
	resp, err := a.authCall(ctx, http.MethodPut, "/user", o.query(), body, sessionBearer)
	if err != nil {
		return nil, err
	}
	var u User
	if err := decodeJSON(resp.body, &u); err != nil {
		return nil, err
	}
	a.sessions.updateUser(ctx, &u)
	return &u, nil
}

// SignOutScope says which sessions SignOut ends.
type SignOutScope string

// Sign-out scopes.
const (
	// SignOutGlobal ends every session of the user, on every device.
	SignOutGlobal SignOutScope = "global"
	// SignOutLocal ends this session only.
	SignOutLocal SignOutScope = "local"
	// SignOutOthers ends every other session and keeps this one.
	SignOutOthers SignOutScope = "others"
)

// SignOut ends sessions on the server and, except for SignOutOthers, forgets
// the local one (SIGNED_OUT). As in supabase-js, an access token about to
// expire is refreshed first, so the server accepts it and really ends the
// session; a 401, 403 or 404 (the session is already gone) still signs out
// locally; any other failure returns the error and keeps the session.
//
// When the refresh token is dead too (the server refused it), nothing is
// left to end on the server: the session is forgotten locally and SignOut
// returns nil (SignOutOthers returns the error). A refresh that failed
// otherwise (network, 5xx) returns the error and keeps the session. A sign-in
// that happens while SignOut runs is never undone by it. A stored session
// that cannot be read (the store failed) is deleted from the store and the
// error returned, since it may still be alive on the server. Without a
// session it does nothing.
func (a *AuthClient) SignOut(ctx context.Context, scope SignOutScope) error {
	if a.disabled {
		return ErrAuthDisabled
	}
	switch scope {
	case "":
		scope = SignOutGlobal
	case SignOutGlobal, SignOutLocal, SignOutOthers:
	default:
		return invalidArg("SignOut: unknown scope %q", scope)
	}
	s, gen, err := a.sessions.forSignOut(ctx, a.co.session.refreshMargin, scope != SignOutOthers)
	if err != nil || s == nil {
		return err
	}
	_, err = a.authCall(ctx, http.MethodPost, "/logout", url.Values{"scope": {string(scope)}}, nil, s.AccessToken)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) || (e.Status != http.StatusUnauthorized && e.Status != http.StatusForbidden && e.Status != http.StatusNotFound) {
			return err
		}
	}
	if scope != SignOutOthers {
		// Only if no sign-in or sign-out happened meanwhile (a refresh may have).
		return a.sessions.clearGen(ctx, gen)
	}
	return nil
}

// ResetPasswordForEmail sends a password-reset email. Use WithRedirectTo
// for the page the link opens.
func (a *AuthClient) ResetPasswordForEmail(ctx context.Context, email string, opts ...AuthOption) error {
	if err := a.unavailable(); err != nil {
		return err
	}
	if strings.TrimSpace(email) == "" {
		return invalidArg("ResetPasswordForEmail: empty email")
	}
	o := collectAuthOptions(opts)
	body := map[string]any{"email": email, "code_challenge": nil, "code_challenge_method": nil,
		"gotrue_meta_security": o.security()}
	_, err := a.authCall(ctx, http.MethodPost, "/recover", o.query(), body, "")
	return err
}

// OnAuthStateChange calls fn for every auth event, starting with
// INITIAL_SESSION, in order, on a goroutine of its own: a slow or panicking
// fn never blocks sign-in or refresh. Call the returned func to unsubscribe.
//
// fn must return: events queue per subscriber while it runs (consecutive
// TOKEN_REFRESHED events are merged), and a fn that never returns keeps its
// goroutine and queue. A panic in fn is recovered and logged at Error.
func (a *AuthClient) OnAuthStateChange(fn func(event AuthChangeEvent, s *Session)) (unsubscribe func()) {
	if fn == nil || a == nil || a.sessions == nil {
		return func() {}
	}
	return a.sessions.subscribe(fn)
}

// StartAutoRefresh refreshes the session in the background (checked every
// 30 s, refreshed when less than 120 s remain) until ctx ends or
// StopAutoRefresh is called. Calling it again restarts it.
func (a *AuthClient) StartAutoRefresh(ctx context.Context) {
	if a.unavailable() != nil {
		return
	}
	a.sessions.startAuto(ctx)
}

// StopAutoRefresh stops the background refresher and waits for it to exit.
func (a *AuthClient) StopAutoRefresh() {
	if a != nil && a.sessions != nil {
		a.sessions.stopAuto()
	}
}

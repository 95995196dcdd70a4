package supabase

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
)

// AuthClient is the Supabase Auth API (/auth/v1) and the holder of a
// client's session. It is safe for concurrent use.
type AuthClient struct {
	co       *core
	sessions *sessionManager
	// disabled: the client uses [WithAccessTokenFunc]; Auth cannot hold a
	// session.
	disabled bool
	// userOnly: a derived per-user client, which must never send the
	// project key in place of its user's token (that key may be a
	// service_role key, which bypasses RLS).
	userOnly bool
	// pkce holds the code verifier of a PKCE flow (see auth_pkce.go).
	pkce *pkceState
}

// ErrAuthDisabled is returned by [AuthClient] methods on a client built with
// [WithAccessTokenFunc], whose tokens come from a third-party provider.
var ErrAuthDisabled = errors.New("supabase: Auth is not available on a client using WithAccessTokenFunc")

// check reports a nil or zero [AuthClient], one not made by [NewClient].
func (a *AuthClient) check() error {
	if a == nil || a.co == nil || a.sessions == nil || a.pkce == nil {
		return errNoClient
	}
	return nil
}

// unavailable reports why this [AuthClient] cannot hold a session: a client
// not made by [NewClient], or one using [WithAccessTokenFunc].
func (a *AuthClient) unavailable() error {
	if err := a.check(); err != nil {
		return err
	}
	if a.disabled {
		return ErrAuthDisabled
	}
	return nil
}

// who says whose token a's requests carry, from immutable and atomically
// loaded state only.
func (a *AuthClient) who() string {
	switch {
	case a.check() != nil:
		return "none (not made by NewClient)"
	case a.disabled:
		return "token from WithAccessTokenFunc"
	case a.sessions.noRefresh:
		return "token from WithAccessToken"
	case !a.sessions.loaded.Load():
		return "not loaded yet"
	}
	s := a.sessions.cur.Load()
	switch {
	case s == nil:
		return "signed out"
	case s.User != nil && s.User.ID != "":
		return "signed in as " + s.User.ID
	}
	return "signed in"
}

// String describes a without secrets: the Auth URL and who its requests
// run as. Like [Client.String] it never races with a refresh.
func (a *AuthClient) String() string {
	if a == nil {
		return "<nil>"
	}
	if a.check() != nil {
		return "supabase.AuthClient{not made by NewClient}"
	}
	return "supabase.AuthClient{url: " + a.co.authURL + ", user: " + a.who() + "}"
}

// Format makes every fmt verb (%v, %+v, %#v, %s) print [AuthClient.String].
// Its receiver is a value so that a dereferenced AuthClient prints the same:
// fmt would otherwise walk its fields and, with a verb such as %s, print what
// its unexported pointers point to. fmt prints a nil *AuthClient as <nil>.
func (a AuthClient) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, (&a).String()) }

// LogValue makes slog log what [AuthClient.String] shows.
func (a *AuthClient) LogValue() slog.Value {
	if a.check() != nil {
		return slog.StringValue(a.String())
	}
	return slog.GroupValue(slog.String("url", a.co.authURL), slog.String("user", a.who()))
}

func newAuthClient(co *core, store SessionStore, enabled bool) *AuthClient {
	return &AuthClient{co: co, sessions: newSessionManager(co, store), disabled: !enabled, pkce: newPKCEState()}
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

// AuthOption is an option shared by several Auth calls: [WithCaptchaToken]
// and [WithRedirectTo]. Each call says which ones it takes; passing one it
// does not take is an error matching [ErrInvalidArgument], never an option
// silently dropped. An option with an empty value is no option.
type AuthOption func(*authOptions)

type authOptions struct {
	captchaToken string
	redirectTo   string
}

// WithCaptchaToken passes a captcha verification token (hCaptcha,
// Turnstile), sent as gotrue_meta_security.captcha_token.
func WithCaptchaToken(token string) AuthOption {
	return func(o *authOptions) { o.captchaToken = token }
}

// WithRedirectTo sets the URL the user lands on after following an email
// link or an OAuth sign-in (sent as redirect_to).
func WithRedirectTo(u string) AuthOption {
	return func(o *authOptions) { o.redirectTo = u }
}

// authOptionSet says which AuthOptions a call takes.
type authOptionSet uint8

const (
	takesCaptcha authOptionSet = 1 << iota
	takesRedirect
)

// authOpts applies opts for the call named call, which takes the options
// in allowed.
func authOpts(call string, opts []AuthOption, allowed authOptionSet) (authOptions, error) {
	var o authOptions
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	if o.captchaToken != "" && allowed&takesCaptcha == 0 {
		return o, invalidArg("%s does not take WithCaptchaToken", call)
	}
	if o.redirectTo != "" && allowed&takesRedirect == 0 {
		return o, invalidArg("%s does not take WithRedirectTo", call)
	}
	return o, nil
}

func (o authOptions) security() metaSecurity {
	return metaSecurity{CaptchaToken: o.captchaToken}
}

func (o authOptions) query() url.Values {
	if o.redirectTo == "" {
		return nil
	}
	return url.Values{"redirect_to": {o.redirectTo}}
}

// Request bodies. Their shapes are supabase-js's: every key it sends, null
// where it sends null, absent where it leaves one out.

// metaSecurity is gotrue_meta_security, sent with every sign-up and
// sign-in: {} or {"captcha_token": ...}.
type metaSecurity struct {
	CaptchaToken string `json:"captcha_token,omitempty"`
}

// contact is the email-or-phone part of sign-up, OTP, recovery and resend
// bodies; the PKCE fields (null in the implicit flow) go with the email
// only, as supabase-js sends them.
type contact struct {
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
	*pkceFlow
}

// newContact takes the email, or else the phone. Callers have checked that
// exactly one is set.
func newContact(email, phone string) contact {
	if strings.TrimSpace(email) == "" {
		return contact{Phone: phone}
	}
	return contact{Email: email, pkceFlow: &pkceFlow{}}
}

func (c contact) isEmail() bool { return c.pkceFlow != nil }

// startEmailFlow starts a PKCE flow (see startFlow) for an email contact,
// whose link will bring the code; a phone gets none.
func (a *AuthClient) startEmailFlow(ctx context.Context, c *contact, recovery bool) (*pkceFlow, error) {
	if !c.isEmail() {
		return nil, nil
	}
	f, err := a.startFlow(ctx, recovery)
	if err != nil {
		return nil, err
	}
	c.pkceFlow = f
	return f, nil
}

// emailOnlyRedirect rejects a redirect for a phone: only email links lead
// anywhere.
func (c contact) emailOnlyRedirect(call string, o authOptions) error {
	if o.redirectTo != "" && !c.isEmail() {
		return invalidArg("%s: WithRedirectTo applies to email only", call)
	}
	return nil
}

type signUpBody struct {
	contact
	Password string         `json:"password"`
	Data     map[string]any `json:"data"`
	Channel  string         `json:"channel,omitempty"` // phone only
	Security metaSecurity   `json:"gotrue_meta_security"`
}

type passwordGrantBody struct {
	Email    string       `json:"email,omitempty"`
	Phone    string       `json:"phone,omitempty"`
	Password string       `json:"password"`
	Security metaSecurity `json:"gotrue_meta_security"`
}

type updateUserBody struct {
	pkceFlow
	Email    string         `json:"email,omitempty"`
	Phone    string         `json:"phone,omitempty"`
	Password string         `json:"password,omitempty"`
	Nonce    string         `json:"nonce,omitempty"`
	Data     map[string]any `json:"data,omitzero"`
}

type recoverBody struct {
	contact
	Security metaSecurity `json:"gotrue_meta_security"`
}

// orEmpty sends a nil map as {}, as supabase-js does with absent data.
func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
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

// bearer says which token an Auth request carries as its Authorization.
type bearer struct {
	kind  bearerKind
	token string // bearerJWT only
}

type bearerKind uint8

const (
	// bearerKey: the project key (or a global Authorization header set
	// with [WithHeaders]).
	bearerKey bearerKind = iota
	// bearerSession: the current session's access token, read when the
	// request is sent, so a 401 bad_jwt triggers the shared refresh and one
	// replay, as REST requests do. Never the key: with nobody signed in the
	// request fails with [ErrSessionMissing].
	bearerSession
	// bearerJWT: a token the caller gave, sent as it is.
	bearerJWT
)

var (
	keyBearer     = bearer{kind: bearerKey}
	sessionBearer = bearer{kind: bearerSession}
)

func jwtBearer(token string) bearer { return bearer{kind: bearerJWT, token: token} }

// sessionTokens is the token source of bearerSession requests. Unlike the
// client's own source it never yields "" (which would send the key).
type sessionTokens struct{ a *AuthClient }

func (s sessionTokens) accessToken(ctx context.Context) (string, error) {
	tok, err := s.a.accessToken(ctx)
	if err == nil && tok == "" {
		return "", errSessionMissing()
	}
	return tok, err
}

func (s sessionTokens) tokenRejected(ctx context.Context, token string) bool {
	return s.a.tokenRejected(ctx, token)
}

// authCall sends one Auth request with the bearer b. body nil sends no
// body (and no Content-Type).
func (a *AuthClient) authCall(ctx context.Context, method, path string, query url.Values, body any, b bearer) (*apiResponse, error) {
	if err := a.check(); err != nil {
		return nil, err
	}
	u := a.co.authURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	r := &apiRequest{service: ServiceAuth, method: method, url: u}
	var ts tokenSource
	switch b.kind {
	case bearerSession:
		ts = sessionTokens{a}
	case bearerJWT:
		if b.token == "" {
			// An empty token would send the key in its place.
			return nil, invalidArg("empty JWT")
		}
		r.bearer = b.token
	}
	if body != nil {
		enc, err := json.Marshal(body)
		if err != nil {
			return nil, invalidArg("cannot encode the request body: %v", err)
		}
		r.body = enc
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

// userCall sends an Auth request as the signed-in user (bearerSession): the
// session is refreshed first when it is about to expire, and with nobody
// signed in it fails with [ErrSessionMissing] before any request.
func (a *AuthClient) userCall(ctx context.Context, method, path string, query url.Values, body any) (*apiResponse, error) {
	if _, err := a.userSession(ctx); err != nil {
		return nil, err
	}
	return a.authCall(ctx, method, path, query, body, sessionBearer)
}

// userSession returns the signed-in user's valid session, or
// [ErrSessionMissing] without any request.
func (a *AuthClient) userSession(ctx context.Context) (*Session, error) {
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

// AuthResponse is what sign-up, OTP verification and the PKCE code
// exchange return: the user, and a session when the user is signed in (nil
// when a confirmation is pending).
//
// Like [Session] it is a wire type: encoding/json writes it in full, tokens
// included, for a backend that hands it to its frontend. fmt and slog print
// its Session the way Session prints itself, tokens redacted.
type AuthResponse struct {
	User    *User
	Session *Session
	// MessageID is the SMS provider's message id, when one was sent.
	MessageID string
	// WeakPassword is set when Auth signed the user in but found the
	// password weak ([Session.WeakPassword]): supabase-js data.weakPassword.
	WeakPassword *WeakPassword
	// RedirectType is "recovery" when [AuthClient.ExchangeCodeForSession]
	// completed a flow started by [AuthClient.ResetPasswordForEmail] (the
	// application should ask for a new password), else empty: supabase-js
	// data.redirectType.
	RedirectType string
}

// Format prints the response with fmt's verb, its [Session] (and [User]) the
// way they print themselves.
func (r AuthResponse) Format(f fmt.State, verb rune) {
	type authResponse AuthResponse // without methods
	formatRedacted(f, verb, authResponse(r))
}

// LogValue makes slog log the response field by field, the Session through
// its own [Session.LogValue] (slog's JSON handler would otherwise encode it
// with encoding/json, tokens included).
func (r AuthResponse) LogValue() slog.Value {
	return slog.GroupValue(logPtr("User", r.User), logPtr("Session", r.Session), slog.String("MessageID", r.MessageID),
		logPtr("WeakPassword", r.WeakPassword), slog.String("RedirectType", r.RedirectType))
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
		keepWeakPassword(s)
		res := &AuthResponse{User: s.User, Session: s, WeakPassword: s.WeakPassword}
		return res, a.sessions.set(ctx, s, event)
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
//
// fmt (every verb) and encoding/json show it with Password redacted, and so
// do slog's text and JSON handlers, which rely on them.
type SignUpParams struct {
	Email    string
	Phone    string
	Password string
	// Data becomes the user's user_metadata.
	Data map[string]any
	// Channel is "sms" (default) or "whatsapp" for phone sign-ups.
	Channel string
}

func (p SignUpParams) redacted() any {
	type signUpParams SignUpParams
	r := signUpParams(p)
	r.Password = redact(r.Password)
	return r
}

// Format prints p with Password redacted, whatever the verb.
func (p SignUpParams) Format(f fmt.State, verb rune) { formatRedacted(f, verb, p.redacted()) }

// MarshalJSON encodes p with Password redacted: requests are built from wire
// types of their own, never by encoding it.
func (p SignUpParams) MarshalJSON() ([]byte, error) { return json.Marshal(p.redacted()) }

// SignUp creates a user. When the project auto-confirms, the user is signed
// in and [AuthResponse.Session] is set (with [AuthResponse.WeakPassword] when
// Auth flags the password); otherwise Session is nil until they confirm. It
// takes [WithCaptchaToken] and, for an email, [WithRedirectTo] (where the
// confirmation link leads). With [FlowPKCE] an email sign-up starts a PKCE
// flow: the confirmation link brings a code for
// [AuthClient.ExchangeCodeForSession]. supabase-js: signUp.
func (a *AuthClient) SignUp(ctx context.Context, p SignUpParams, opts ...AuthOption) (*AuthResponse, error) {
	if err := a.unavailable(); err != nil {
		return nil, err
	}
	o, err := authOpts("SignUp", opts, takesCaptcha|takesRedirect)
	if err != nil {
		return nil, err
	}
	if (strings.TrimSpace(p.Email) == "") == (strings.TrimSpace(p.Phone) == "") {
		return nil, invalidArg("SignUp: set exactly one of Email and Phone")
	}
	if p.Password == "" {
		return nil, invalidArg("SignUp: empty password")
	}
	body := signUpBody{contact: newContact(p.Email, p.Phone), Password: p.Password, Data: orEmpty(p.Data),
		Security: o.security()}
	if err := body.emailOnlyRedirect("SignUp", o); err != nil {
		return nil, err
	}
	if !body.isEmail() {
		body.Channel = orDefault(p.Channel, "sms")
	}
	flow, err := a.startEmailFlow(ctx, &body.contact, false)
	if err != nil {
		return nil, err
	}
	resp, err := a.authCall(ctx, http.MethodPost, "/signup", o.query(), body, keyBearer)
	a.endFlow(ctx, flow, err)
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
// is kept by the client: later queries run as this user. It takes
// [WithCaptchaToken]. supabase-js: signInWithPassword.
//
// When Auth accepts the password but finds it weak under the project's
// current policy, the session's [Session.WeakPassword] says why (supabase-js
// data.weakPassword): the user is signed in, and the application may ask
// for a new password. It describes this sign-in only: a refreshed session
// has none.
func (a *AuthClient) SignInWithPassword(ctx context.Context, email, password string, opts ...AuthOption) (*Session, error) {
	if err := a.unavailable(); err != nil {
		return nil, err
	}
	if strings.TrimSpace(email) == "" || password == "" {
		return nil, invalidArg("SignInWithPassword: email and password are required")
	}
	return a.signInPassword(ctx, "SignInWithPassword", passwordGrantBody{Email: email, Password: password}, opts)
}

// SignInWithPhonePassword signs a user in with phone number and password, as
// [AuthClient.SignInWithPassword] does with an email ([Session.WeakPassword]
// included). It takes [WithCaptchaToken]. supabase-js: signInWithPassword
// with a phone.
func (a *AuthClient) SignInWithPhonePassword(ctx context.Context, phone, password string, opts ...AuthOption) (*Session, error) {
	if err := a.unavailable(); err != nil {
		return nil, err
	}
	if strings.TrimSpace(phone) == "" || password == "" {
		return nil, invalidArg("SignInWithPhonePassword: phone and password are required")
	}
	return a.signInPassword(ctx, "SignInWithPhonePassword", passwordGrantBody{Phone: phone, Password: password}, opts)
}

func (a *AuthClient) signInPassword(ctx context.Context, call string, body passwordGrantBody, opts []AuthOption) (*Session, error) {
	o, err := authOpts(call, opts, takesCaptcha)
	if err != nil {
		return nil, err
	}
	body.Security = o.security()
	resp, err := a.authCall(ctx, http.MethodPost, "/token", url.Values{"grant_type": {"password"}}, body, keyBearer)
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
	keepWeakPassword(s)
	if err := a.sessions.set(ctx, s, event); err != nil {
		return s, err
	}
	return s, nil
}

// keepWeakPassword keeps the weak_password that Auth sent beside a new
// session only when it gives a reason, as auth-js does (an empty object
// says nothing); s is fresh from decodeSession, not yet shared.
func keepWeakPassword(s *Session) {
	if s.WeakPassword != nil && len(s.WeakPassword.Reasons) == 0 {
		s.WeakPassword = nil
	}
}

// Session returns the current session, refreshed first when it expires in
// less than the refresh margin (90 s by default). With nobody signed in it
// returns an error matching [ErrSessionMissing]; once a session ended without
// [AuthClient.SignOut] (refresh token refused, session ended by Auth), one
// matching [ErrSessionExpired] until the next sign-in or SignOut.
func (a *AuthClient) Session(ctx context.Context) (*Session, error) {
	return a.userSession(ctx)
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
// but later calls needing it fail with an error matching [ErrSessionExpired]
// until the next sign-in or [AuthClient.SignOut], rather than running as
// anon. With nobody signed in but a global Authorization header
// ([WithHeaders]), that header's user is fetched.
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
		return a.fetchUser(ctx, keyBearer) // the global header replaces the key as bearer
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
	if err := a.check(); err != nil {
		return nil, err
	}
	if jwt == "" {
		return nil, errSessionMissing()
	}
	return a.fetchUser(ctx, jwtBearer(jwt))
}

// fetchUser sends GET /user with the bearer b.
func (a *AuthClient) fetchUser(ctx context.Context, b bearer) (*User, error) {
	resp, err := a.authCall(ctx, http.MethodGet, "/user", nil, nil, b)
	if err != nil {
		return nil, err
	}
	var u User
	if err := decodeJSON(resp.body, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// UserAttributes are the fields [AuthClient.UpdateUser] changes; empty fields
// are left alone.
//
// fmt (every verb) and encoding/json show it with Password and Nonce
// redacted, and so do slog's text and JSON handlers, which rely on them.
type UserAttributes struct {
	Email    string
	Phone    string
	Password string
	// Nonce is the reauthentication code, when the project requires one to
	// change the password.
	Nonce string
	// Data is merged into user_metadata.
	Data map[string]any
}

func (p UserAttributes) redacted() any {
	type userAttributes UserAttributes
	r := userAttributes(p)
	r.Password = redact(r.Password)
	r.Nonce = redact(r.Nonce)
	return r
}

// Format prints p with Password and Nonce redacted, whatever the verb.
func (p UserAttributes) Format(f fmt.State, verb rune) { formatRedacted(f, verb, p.redacted()) }

// MarshalJSON encodes p with Password and Nonce redacted: requests are built
// from wire types of their own, never by encoding it.
func (p UserAttributes) MarshalJSON() ([]byte, error) { return json.Marshal(p.redacted()) }

// UpdateUser changes the signed-in user and emits USER_UPDATED. It takes
// [WithRedirectTo] (where an email-change confirmation link leads). With
// [FlowPKCE] a change of email starts a PKCE flow, as in supabase-js: the
// confirmation link brings a code for [AuthClient.ExchangeCodeForSession].
// supabase-js: updateUser.
func (a *AuthClient) UpdateUser(ctx context.Context, attrs UserAttributes, opts ...AuthOption) (*User, error) {
	if err := a.unavailable(); err != nil {
		return nil, err
	}
	o, err := authOpts("UpdateUser", opts, takesRedirect)
	if err != nil {
		return nil, err
	}
	body := updateUserBody{Email: attrs.Email, Phone: attrs.Phone, Password: attrs.Password, Nonce: attrs.Nonce,
		Data: attrs.Data}
	var flow *pkceFlow
	if attrs.Email != "" {
		// Only once a session is there: no flow for a call that fails
		// before any request.
		if _, err := a.userSession(ctx); err != nil {
			return nil, err
		}
		if flow, err = a.startFlow(ctx, false); err != nil {
			return nil, err
		}
		body.pkceFlow = *flow
	}
	resp, err := a.userCall(ctx, http.MethodPut, "/user", o.query(), body)
	a.endFlow(ctx, flow, err)
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

// SignOutScope says which sessions [AuthClient.SignOut] ends.
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

// SignOut ends sessions on the server and, except for [SignOutOthers], forgets
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
	if err := a.unavailable(); err != nil {
		return err
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
	// This session's token exactly, not whatever is current when the
	// request is sent: it is this session that must end.
	_, err = a.authCall(ctx, http.MethodPost, "/logout", url.Values{"scope": {string(scope)}}, nil, jwtBearer(s.AccessToken))
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

// ResetPasswordForEmail sends a password-reset email. It takes
// [WithCaptchaToken] and [WithRedirectTo] (the page the link opens). With
// [FlowPKCE] it starts a PKCE flow marked as a recovery: the link brings a
// code, and [AuthClient.ExchangeCodeForSession] signs the user in with
// [AuthResponse.RedirectType] "recovery" and emits PASSWORD_RECOVERY.
// supabase-js: resetPasswordForEmail.
func (a *AuthClient) ResetPasswordForEmail(ctx context.Context, email string, opts ...AuthOption) error {
	if err := a.unavailable(); err != nil {
		return err
	}
	o, err := authOpts("ResetPasswordForEmail", opts, takesCaptcha|takesRedirect)
	if err != nil {
		return err
	}
	if strings.TrimSpace(email) == "" {
		return invalidArg("ResetPasswordForEmail: empty email")
	}
	body := recoverBody{contact: newContact(email, ""), Security: o.security()}
	flow, err := a.startEmailFlow(ctx, &body.contact, true)
	if err != nil {
		return err
	}
	_, err = a.authCall(ctx, http.MethodPost, "/recover", o.query(), body, keyBearer)
	a.endFlow(ctx, flow, err)
	return err
}

// OnAuthStateChange calls fn for every auth event, starting with
// INITIAL_SESSION, in order, on a goroutine of its own: a slow or panicking
// fn never blocks sign-in or refresh. Call the returned func to unsubscribe.
//
// fn must return: events queue per subscriber while it runs (consecutive
// TOKEN_REFRESHED events are merged), and a fn that never returns keeps its
// goroutine and queue. A panic in fn is recovered and logged at
// [slog.LevelError].
func (a *AuthClient) OnAuthStateChange(fn func(event AuthChangeEvent, s *Session)) (unsubscribe func()) {
	if fn == nil || a == nil || a.sessions == nil {
		return func() {}
	}
	return a.sessions.subscribe(fn)
}

// StartAutoRefresh refreshes the session in the background (checked every
// 30 s, refreshed when less than 120 s remain) until ctx ends or
// [AuthClient.StopAutoRefresh] is called. Calling it again restarts it.
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

package supabase

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Keys of the conformance corpus (fake HS256 JWTs, role anon and service_role).
const (
	axAnonKey    = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZSIsInJlZiI6ImNvbmZvcm1hbmNlIiwicm9sZSI6ImFub24iLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6NDEwMjQ0NDgwMH0.gBTCOP2eI2e32o4TuPI83C1gpB3X2z9S8EtAxNEx7JU"
	axServiceKey = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZSIsInJlZiI6ImNvbmZvcm1hbmNlIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjo0MTAyNDQ0ODAwfQ.xZiDpIF299otQAySIG9WCVe22bJxOYurHWHR-NTTyEU"
)

func axTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "auth", name))
	require.NoError(t, err)
	return b
}

// axWant is the exact request an Auth call must send.
type axWant struct {
	method, path string
	query        url.Values // nil: no query
	key          string     // apikey
	bearer       string     // Authorization: Bearer ...
	body         string     // JSON; "": no body and no Content-Type
}

func axAssertRequest(t *testing.T, got fakeRequest, want axWant) {
	t.Helper()
	assert.Equal(t, want.method, got.Method, "method")
	assert.Equal(t, want.path, got.Path, "path")
	if len(want.query) == 0 {
		assert.Empty(t, got.Query, "query")
	} else {
		assert.Equal(t, want.query, got.Query, "query")
	}
	assert.Equal(t, "2024-01-01", got.Header.Get("X-Supabase-Api-Version"))
	assert.Equal(t, want.key, got.Header.Get("Apikey"), "apikey")
	assert.Equal(t, "Bearer "+want.bearer, got.Header.Get("Authorization"), "authorization")
	assert.NotEmpty(t, got.Header.Get("X-Client-Info"))
	if want.body == "" {
		assert.Empty(t, got.Body, "body")
		assert.Empty(t, got.Header.Values("Content-Type"), "Content-Type without a body")
		return
	}
	assert.Equal(t, "application/json;charset=UTF-8", got.Header.Get("Content-Type"))
	assert.JSONEq(t, want.body, string(got.Body), "body")
}

// axEvents subscribes to c's auth events.
type axEvents struct {
	ch chan authEvent
}

func axWatchEvents(t *testing.T, c *Client) *axEvents {
	t.Helper()
	e := &axEvents{ch: make(chan authEvent, 32)}
	unsub := c.Auth.OnAuthStateChange(func(ev AuthChangeEvent, s *Session) { e.ch <- authEvent{ev, s} })
	t.Cleanup(unsub)
	e.next(t, EventInitialSession)
	return e
}

// next waits for the next event and checks it is want.
func (e *axEvents) next(t *testing.T, want AuthChangeEvent) *Session {
	t.Helper()
	select {
	case got := <-e.ch:
		require.Equal(t, want, got.event)
		return got.session
	case <-time.After(5 * time.Second):
		t.Fatalf("no %s event", want)
		return nil
	}
}

// none checks that no event arrives for a short while.
func (e *axEvents) none(t *testing.T) {
	t.Helper()
	select {
	case got := <-e.ch:
		t.Fatalf("unexpected event %s", got.event)
	case <-time.After(50 * time.Millisecond):
	}
}

const (
	axAdaPassword  = "correct horse battery staple"
	axAdaUserID    = "6a1d5b2e-3f4c-4d8e-9a7b-2c1e0f9d8b7a"
	axOTPEmailBody = `{"email":"ada@example.com","data":{"source":"newsletter"},"create_user":false,"gotrue_meta_security":{},"code_challenge":null,"code_challenge_method":null}`
)

// axSignInAda signs c in with the recorded password session (aal1) and
// returns the session.
func axSignInAda(t *testing.T, f *fakeAPI, c *Client, sessionFile string) *Session {
	t.Helper()
	f.on("POST", "/auth/v1/token", 200, axTestdata(t, sessionFile)).once = true
	s, err := c.Auth.SignInWithPassword(context.Background(), "ada@example.com", axAdaPassword)
	require.NoError(t, err)
	return s
}

func TestSignInWithOTPEmail(t *testing.T) {
	// auth_sign_in_otp_email
	f, _ := newFakeAPI(t, nil)
	f.on("POST", "/auth/v1/otp", 200, []byte(`{}`))
	c := f.client(t, axAnonKey)
	no := false
	res, err := c.Auth.SignInWithOTP(context.Background(), SignInWithOTPParams{
		Email:            "ada@example.com",
		ShouldCreateUser: &no,
		Data:             map[string]any{"source": "newsletter"},
	}, WithRedirectTo("https://app.example.com/auth/callback"))
	require.NoError(t, err)
	assert.Nil(t, res.User)
	assert.Nil(t, res.Session)
	assert.Empty(t, res.MessageID)
	require.Len(t, f.requests(), 1)
	axAssertRequest(t, f.last(), axWant{
		method: "POST", path: "/auth/v1/otp",
		query: url.Values{"redirect_to": {"https://app.example.com/auth/callback"}},
		key:   axAnonKey, bearer: axAnonKey, body: axOTPEmailBody,
	})
	_, err = c.Auth.Session(context.Background())
	assert.ErrorIs(t, err, ErrSessionMissing, "an OTP request signs nobody in")
}

func TestSignInWithOTPPhone(t *testing.T) {
	// auth_sign_in_otp_phone
	f, _ := newFakeAPI(t, nil)
	f.on("POST", "/auth/v1/otp", 200, axTestdata(t, "otp_phone.json"))
	c := f.client(t, axAnonKey)
	res, err := c.Auth.SignInWithOTP(context.Background(), SignInWithOTPParams{Phone: "+15555550123", Channel: "sms"})
	require.NoError(t, err)
	assert.Equal(t, "SM3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c", res.MessageID)
	assert.Nil(t, res.Session)
	axAssertRequest(t, f.last(), axWant{
		method: "POST", path: "/auth/v1/otp", key: axAnonKey, bearer: axAnonKey,
		body: `{"phone":"+15555550123","data":{},"create_user":true,"gotrue_meta_security":{},"channel":"sms"}`,
	})

	// Defaults: sms channel; captcha and WhatsApp pass through.
	_, err = c.Auth.SignInWithOTP(context.Background(), SignInWithOTPParams{Phone: "+15555550123"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"phone":"+15555550123","data":{},"create_user":true,"gotrue_meta_security":{},"channel":"sms"}`,
		string(f.last().Body))
	_, err = c.Auth.SignInWithOTP(context.Background(), SignInWithOTPParams{Phone: "+15555550123", Channel: "whatsapp"}, WithCaptchaToken("cap"))
	require.NoError(t, err)
	assert.JSONEq(t, `{"phone":"+15555550123","data":{},"create_user":true,"gotrue_meta_security":{"captcha_token":"cap"},"channel":"whatsapp"}`,
		string(f.last().Body))
}

func TestSignInWithOTPRateLimited(t *testing.T) {
	// auth_err_otp_rate_limited: defaults for an email OTP, and the 429.
	f, _ := newFakeAPI(t, nil)
	f.on("POST", "/auth/v1/otp", 429, []byte(`{"code":"over_email_send_rate_limit","message":"email rate limit exceeded"}`))
	c := f.client(t, axAnonKey)
	res, err := c.Auth.SignInWithOTP(context.Background(), SignInWithOTPParams{Email: "ada@example.com"})
	assert.Nil(t, res)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrRateLimited)
	var e *Error
	require.True(t, errors.As(err, &e))
	assert.Equal(t, 429, e.Status)
	assert.Equal(t, "over_email_send_rate_limit", e.Code)
	assert.Equal(t, "email rate limit exceeded", e.Message)
	require.Len(t, f.requests(), 1, "an auth POST is never retried")
	axAssertRequest(t, f.last(), axWant{
		method: "POST", path: "/auth/v1/otp", key: axAnonKey, bearer: axAnonKey,
		body: `{"email":"ada@example.com","data":{},"create_user":true,"gotrue_meta_security":{},"code_challenge":null,"code_challenge_method":null}`,
	})
}

func TestSignInWithOTPServerErrorHTML(t *testing.T) {
	// auth_err_500_html
	f, _ := newFakeAPI(t, nil)
	f.on("POST", "/auth/v1/otp", 500, []byte(`<html><body>Internal Server Error</body></html>`), "Content-Type", "text/html")
	c := f.client(t, axAnonKey)
	_, err := c.Auth.SignInWithOTP(context.Background(), SignInWithOTPParams{Email: "ada@example.com"})
	var e *Error
	require.True(t, errors.As(err, &e), "%v", err)
	assert.Equal(t, 500, e.Status)
	assert.Equal(t, ServiceAuth, e.Service)
}

func TestOTPValidationSendsNothing(t *testing.T) {
	f, _ := newFakeAPI(t, nil)
	c := f.client(t, axAnonKey)
	ctx := context.Background()
	_, err := c.Auth.SignInWithOTP(ctx, SignInWithOTPParams{})
	assert.Error(t, err)
	_, err = c.Auth.SignInWithOTP(ctx, SignInWithOTPParams{Email: "a@b.c", Phone: "1"})
	assert.Error(t, err)
	_, err = c.Auth.SignInWithOTP(ctx, SignInWithOTPParams{Email: "a@b.c", Channel: "sms"})
	assert.Error(t, err)
	for _, p := range []VerifyOTPParams{
		{Email: "a@b.c", Token: "1"},                         // no type
		{Type: OTPTypeEmail, Token: "1"},                     // no email/phone
		{Type: OTPTypeEmail, Email: "a@b.c"},                 // no token
		{Type: OTPTypeEmail, Email: "a@b.c", Phone: "1"},     // both
		{Type: OTPTypeEmail, TokenHash: "h", Email: "a@b.c"}, // hash with email
	} {
		_, err = c.Auth.VerifyOTP(ctx, p)
		assert.Error(t, err, "%+v", p)
	}
	_, err = c.Auth.Resend(ctx, ResendParams{Email: "a@b.c"})
	assert.Error(t, err)
	_, err = c.Auth.Resend(ctx, ResendParams{Type: OTPTypeSMS})
	assert.Error(t, err)
	_, err = c.Auth.SignInWithOAuthURL(context.Background(), " ", OAuthParams{})
	assert.Error(t, err)
	assert.Empty(t, f.requests())
}

func TestVerifyOTPEmailSignsIn(t *testing.T) {
	// auth_verify_otp_email and seq_verify_otp_then_update
	f, _ := newFakeAPI(t, nil)
	f.on("POST", "/auth/v1/verify", 200, axTestdata(t, "verify_otp_email.json"))
	f.on("GET", "/auth/v1/reauthenticate", 200, []byte(`{}`))
	c := f.client(t, axAnonKey)
	ev := axWatchEvents(t, c)

	res, err := c.Auth.VerifyOTP(context.Background(), VerifyOTPParams{Email: "ada@example.com", Token: "123456", Type: OTPTypeEmail})
	require.NoError(t, err)
	require.NotNil(t, res.Session)
	require.NotNil(t, res.User)
	assert.Equal(t, axAdaUserID, res.User.ID)
	assert.Equal(t, "ycxk4mq5w2ab", res.Session.RefreshToken)
	assert.Equal(t, int64(4102444800), res.Session.ExpiresAt)
	axAssertRequest(t, f.last(), axWant{
		method: "POST", path: "/auth/v1/verify", key: axAnonKey, bearer: axAnonKey,
		body: `{"email":"ada@example.com","token":"123456","type":"email","gotrue_meta_security":{}}`,
	})
	got := ev.next(t, EventSignedIn)
	assert.Equal(t, res.Session.AccessToken, got.AccessToken)

	s, err := c.Auth.Session(context.Background())
	require.NoError(t, err)
	assert.Equal(t, res.Session.AccessToken, s.AccessToken)
	// The next user call carries the new token.
	require.NoError(t, c.Auth.Reauthenticate(context.Background()))
	assert.Equal(t, "Bearer "+res.Session.AccessToken, f.last().Header.Get("Authorization"))
}

func TestVerifyOTPSMSWithCaptcha(t *testing.T) {
	// auth_verify_otp_sms (+ a captcha token)
	f, _ := newFakeAPI(t, nil)
	f.on("POST", "/auth/v1/verify", 200, axTestdata(t, "verify_otp_email.json"))
	c := f.client(t, axAnonKey)
	_, err := c.Auth.VerifyOTP(context.Background(), VerifyOTPParams{Phone: "64211234567", Token: "654321", Type: OTPTypeSMS}, WithCaptchaToken("cap-1"))
	require.NoError(t, err)
	axAssertRequest(t, f.last(), axWant{
		method: "POST", path: "/auth/v1/verify", key: axAnonKey, bearer: axAnonKey,
		body: `{"phone":"64211234567","token":"654321","type":"sms","gotrue_meta_security":{"captcha_token":"cap-1"}}`,
	})
}

func TestVerifyOTPTokenHash(t *testing.T) {
	// auth_verify_otp_token_hash. Divergence: supabase-js also puts its
	// options object ({"redirectTo": ...}) in the body; only the API fields
	// are sent here, redirect_to stays in the query.
	f, _ := newFakeAPI(t, nil)
	f.on("POST", "/auth/v1/verify", 200, axTestdata(t, "verify_otp_email.json"))
	c := f.client(t, axAnonKey)
	res, err := c.Auth.VerifyOTP(context.Background(), VerifyOTPParams{
		TokenHash: "pkce_0123456789abcdef0123456789abcdef", Type: OTPTypeMagicLink,
	}, WithRedirectTo("https://app.example.com/done"))
	require.NoError(t, err)
	require.NotNil(t, res.Session)
	axAssertRequest(t, f.last(), axWant{
		method: "POST", path: "/auth/v1/verify",
		query: url.Values{"redirect_to": {"https://app.example.com/done"}},
		key:   axAnonKey, bearer: axAnonKey,
		body: `{"token_hash":"pkce_0123456789abcdef0123456789abcdef","type":"magiclink","gotrue_meta_security":{}}`,
	})
}

func TestVerifyOTPRecoveryEmitsPasswordRecovery(t *testing.T) {
	f, _ := newFakeAPI(t, nil)
	f.on("POST", "/auth/v1/verify", 200, axTestdata(t, "verify_otp_email.json"))
	c := f.client(t, axAnonKey)
	ev := axWatchEvents(t, c)
	res, err := c.Auth.VerifyOTP(context.Background(), VerifyOTPParams{Email: "ada@example.com", Token: "111111", Type: OTPTypeRecovery})
	require.NoError(t, err)
	s := ev.next(t, EventPasswordRecovery)
	assert.Equal(t, res.Session.AccessToken, s.AccessToken)
	ev.none(t)
}

func TestVerifyOTPExpired(t *testing.T) {
	// auth_err_verify_otp_expired
	f, _ := newFakeAPI(t, nil)
	f.on("POST", "/auth/v1/verify", 403, []byte(`{"code":"otp_expired","message":"Token has expired or is invalid"}`))
	c := f.client(t, axAnonKey)
	ev := axWatchEvents(t, c)
	res, err := c.Auth.VerifyOTP(context.Background(), VerifyOTPParams{Email: "ada@example.com", Token: "000000", Type: OTPTypeEmail})
	assert.Nil(t, res)
	var e *Error
	require.True(t, errors.As(err, &e))
	assert.Equal(t, 403, e.Status)
	assert.Equal(t, "otp_expired", e.Code)
	assert.Equal(t, "Token has expired or is invalid", e.Message)
	assert.NotContains(t, err.Error(), "000000")
	ev.none(t)
	_, err = c.Auth.Session(context.Background())
	assert.ErrorIs(t, err, ErrSessionMissing)
}

func TestSignInAnonymously(t *testing.T) {
	// auth_sign_in_anonymously
	f, _ := newFakeAPI(t, nil)
	f.on("POST", "/auth/v1/signup", 200, axTestdata(t, "anonymous_session.json"))
	c := f.client(t, axAnonKey)
	ev := axWatchEvents(t, c)
	s, err := c.Auth.SignInAnonymously(context.Background(), SignInAnonymouslyParams{
		Data: map[string]any{"theme": "dark"},
	}, WithCaptchaToken("captcha-xyz"))
	require.NoError(t, err)
	require.NotNil(t, s.User)
	assert.True(t, s.User.IsAnonymous)
	assert.Equal(t, "2f3a4b5c-6d7e-4f8a-9b0c-1d2e3f4a5b6c", s.User.ID)
	axAssertRequest(t, f.last(), axWant{
		method: "POST", path: "/auth/v1/signup", key: axAnonKey, bearer: axAnonKey,
		body: `{"data":{"theme":"dark"},"gotrue_meta_security":{"captcha_token":"captcha-xyz"}}`,
	})
	assert.Equal(t, s.AccessToken, ev.next(t, EventSignedIn).AccessToken)
	cur, err := c.Auth.Session(context.Background())
	require.NoError(t, err)
	assert.Equal(t, s.AccessToken, cur.AccessToken)

	// seq_anonymous_sign_in_then_insert: no options.
	_, err = c.Auth.SignInAnonymously(context.Background(), SignInAnonymouslyParams{})
	require.NoError(t, err)
	assert.JSONEq(t, `{"data":{},"gotrue_meta_security":{}}`, string(f.last().Body))
}

func TestSignInAnonymouslyDisabled(t *testing.T) {
	// auth_err_signup_disabled
	f, _ := newFakeAPI(t, nil)
	f.on("POST", "/auth/v1/signup", 422, []byte(`{"code":"anonymous_provider_disabled","message":"Anonymous sign-ins are disabled"}`))
	c := f.client(t, axAnonKey)
	s, err := c.Auth.SignInAnonymously(context.Background(), SignInAnonymouslyParams{})
	assert.Nil(t, s)
	var e *Error
	require.True(t, errors.As(err, &e))
	assert.Equal(t, 422, e.Status)
	assert.Equal(t, "anonymous_provider_disabled", e.Code)
	axAssertRequest(t, f.last(), axWant{
		method: "POST", path: "/auth/v1/signup", key: axAnonKey, bearer: axAnonKey,
		body: `{"data":{},"gotrue_meta_security":{}}`,
	})
}

func TestReauthenticate(t *testing.T) {
	// auth_reauthenticate
	f, _ := newFakeAPI(t, nil)
	f.on("GET", "/auth/v1/reauthenticate", 200, []byte(`{}`))
	c := f.client(t, axAnonKey)

	err := c.Auth.Reauthenticate(context.Background())
	assert.ErrorIs(t, err, ErrSessionMissing)
	assert.Empty(t, f.requests(), "no request without a session")

	s := axSignInAda(t, f, c, "session_password.json")
	require.NoError(t, c.Auth.Reauthenticate(context.Background()))
	require.Len(t, f.requests(), 2)
	axAssertRequest(t, f.last(), axWant{
		method: "GET", path: "/auth/v1/reauthenticate", key: axAnonKey, bearer: s.AccessToken,
	})
}

func TestResendSignupEmail(t *testing.T) {
	// auth_resend_signup_email
	f, _ := newFakeAPI(t, nil)
	f.on("POST", "/auth/v1/resend", 200, []byte(`{}`))
	c := f.client(t, axAnonKey)
	res, err := c.Auth.Resend(context.Background(), ResendParams{Type: OTPTypeSignup, Email: "new.user@example.org"},
		WithRedirectTo("https://app.example.com/confirmed"))
	require.NoError(t, err)
	assert.Nil(t, res.User)
	assert.Nil(t, res.Session)
	assert.Empty(t, res.MessageID)
	axAssertRequest(t, f.last(), axWant{
		method: "POST", path: "/auth/v1/resend",
		query: url.Values{"redirect_to": {"https://app.example.com/confirmed"}},
		key:   axAnonKey, bearer: axAnonKey,
		body: `{"email":"new.user@example.org","type":"signup","gotrue_meta_security":{},"code_challenge":null,"code_challenge_method":null}`,
	})
}

func TestResendSMS(t *testing.T) {
	// auth_resend_sms
	f, _ := newFakeAPI(t, nil)
	f.on("POST", "/auth/v1/resend", 200, axTestdata(t, "resend_sms.json"))
	c := f.client(t, axAnonKey)
	res, err := c.Auth.Resend(context.Background(), ResendParams{Type: OTPTypeSMS, Phone: "64211234567"})
	require.NoError(t, err)
	assert.Equal(t, "SMaa11bb22cc33dd44ee55ff66aa77bb88", res.MessageID)
	axAssertRequest(t, f.last(), axWant{
		method: "POST", path: "/auth/v1/resend", key: axAnonKey, bearer: axAnonKey,
		body: `{"phone":"64211234567","type":"sms","gotrue_meta_security":{}}`,
	})
}

func TestResendEmptyBody(t *testing.T) {
	f, _ := newFakeAPI(t, nil)
	f.on("POST", "/auth/v1/resend", 200, nil)
	c := f.client(t, axAnonKey)
	res, err := c.Auth.Resend(context.Background(), ResendParams{Type: OTPTypeEmailChange, Email: "a@example.com"})
	require.NoError(t, err)
	assert.Empty(t, res.MessageID)
}

func TestSignInWithOAuthURL(t *testing.T) {
	// auth_sign_in_with_oauth_no_request: the same URL (query params from
	// QueryParams in key order instead of insertion order), no request.
	f, _ := newFakeAPI(t, nil)
	c := f.client(t, axAnonKey)
	got, err := c.Auth.SignInWithOAuthURL(context.Background(), "github", OAuthParams{
		Scopes:      "repo read:user",
		QueryParams: map[string]string{"prompt": "consent", "access_type": "offline"},
	}, WithRedirectTo("https://app.example.com/cb?x=1"))
	require.NoError(t, err)
	assert.Equal(t, f.ProjectURL+"/auth/v1/authorize?provider=github&redirect_to=https%3A%2F%2Fapp.example.com%2Fcb%3Fx%3D1&scopes=repo%20read%3Auser&access_type=offline&prompt=consent", got)
	u, err := url.Parse(got)
	require.NoError(t, err)
	assert.Equal(t, url.Values{
		"provider": {"github"}, "redirect_to": {"https://app.example.com/cb?x=1"}, "scopes": {"repo read:user"},
		"prompt": {"consent"}, "access_type": {"offline"},
	}, u.Query())

	got, err = c.Auth.SignInWithOAuthURL(context.Background(), "google", OAuthParams{})
	require.NoError(t, err)
	assert.Equal(t, f.ProjectURL+"/auth/v1/authorize?provider=google", got)
	assert.Empty(t, f.requests())
}

func TestAuthDisabledOTP(t *testing.T) {
	f, _ := newFakeAPI(t, nil)
	c := f.client(t, axAnonKey, WithAccessTokenFunc(func(context.Context) (string, error) { return "third-party", nil }))
	ctx := context.Background()
	_, err := c.Auth.SignInWithOTP(ctx, SignInWithOTPParams{Email: "a@b.c"})
	assert.ErrorIs(t, err, ErrAuthDisabled)
	_, err = c.Auth.VerifyOTP(ctx, VerifyOTPParams{Email: "a@b.c", Token: "1", Type: OTPTypeEmail})
	assert.ErrorIs(t, err, ErrAuthDisabled)
	_, err = c.Auth.SignInAnonymously(ctx, SignInAnonymouslyParams{})
	assert.ErrorIs(t, err, ErrAuthDisabled)
	assert.ErrorIs(t, c.Auth.Reauthenticate(ctx), ErrAuthDisabled)
	_, err = c.Auth.Resend(ctx, ResendParams{Type: OTPTypeSMS, Phone: "1"})
	assert.ErrorIs(t, err, ErrAuthDisabled)
	_, err = c.Auth.SignInWithOAuthURL(context.Background(), "github", OAuthParams{})
	assert.ErrorIs(t, err, ErrAuthDisabled)
	_, err = c.Auth.MFA().Enroll(ctx, MFAEnrollParams{FactorType: FactorTypeTOTP})
	assert.ErrorIs(t, err, ErrAuthDisabled)
	_, err = c.Auth.MFA().AuthenticatorAssuranceLevel(ctx)
	assert.ErrorIs(t, err, ErrAuthDisabled)
	assert.Empty(t, f.requests())
}

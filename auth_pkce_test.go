package supabase

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const pkceCode = "0b9c8d7e-6f5a-4b3c-9d2e-1f0a9b8c7d6e"

// verifierShape is what auth-js generates: 56 random bytes in hex.
var verifierShape = regexp.MustCompile(`^[0-9a-f]{112}$`)

func s256(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// storedVerifier returns what c's store keeps.
func storedVerifier(t *testing.T, c *Client) string {
	t.Helper()
	unlock, err := c.Auth.lockPKCE(context.Background())
	require.NoError(t, err)
	defer unlock()
	v, err := c.Auth.loadVerifierLocked(context.Background())
	require.NoError(t, err)
	return v
}

// bodyField reads a string field of a JSON request body; ok is false when
// it is absent, and v is "" (ok true) when it is null.
func bodyField(t *testing.T, r fakeRequest, name string) (v string, ok bool) {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(r.Body, &m), "body %s", r.Body)
	raw, ok := m[name]
	if !ok {
		return "", false
	}
	if string(raw) == "null" {
		return "", true
	}
	require.NoError(t, json.Unmarshal(raw, &v))
	return v, true
}

// pkceStart is one call that starts a PKCE flow and where its challenge
// goes.
type pkceStart struct {
	name     string
	recovery bool
	signedIn bool
	call     func(ctx context.Context, c *Client) error
	// challenge reads the challenge and method the call sent (or, for a
	// URL it returned, carried).
	challenge func(t *testing.T, f *fakeAPI, url string) (challenge, method string)
}

func fromBody(t *testing.T, f *fakeAPI, _ string) (string, string) {
	r := f.last()
	ch, ok := bodyField(t, r, "code_challenge")
	require.True(t, ok, "code_challenge in %s", r.Body)
	m, ok := bodyField(t, r, "code_challenge_method")
	require.True(t, ok)
	return ch, m
}

func fromQuery(q url.Values) (string, string) {
	return q.Get("code_challenge"), q.Get("code_challenge_method")
}

func pkceStarts() []pkceStart {
	var oauthURL string
	return []pkceStart{
		{name: "SignUp", challenge: fromBody, call: func(ctx context.Context, c *Client) error {
			_, err := c.Auth.SignUp(ctx, SignUpParams{Email: "ada@example.com", Password: "pw"})
			return err
		}},
		{name: "SignInWithOTP", challenge: fromBody, call: func(ctx context.Context, c *Client) error {
			_, err := c.Auth.SignInWithOTP(ctx, SignInWithOTPParams{Email: "ada@example.com"})
			return err
		}},
		{name: "Resend", challenge: fromBody, call: func(ctx context.Context, c *Client) error {
			_, err := c.Auth.Resend(ctx, ResendParams{Type: OTPTypeSignup, Email: "ada@example.com"})
			return err
		}},
		{name: "ResetPasswordForEmail", recovery: true, challenge: fromBody, call: func(ctx context.Context, c *Client) error {
			return c.Auth.ResetPasswordForEmail(ctx, "ada@example.com")
		}},
		{name: "UpdateUser email", signedIn: true, challenge: fromBody, call: func(ctx context.Context, c *Client) error {
			_, err := c.Auth.UpdateUser(ctx, UserAttributes{Email: "ada.new@example.com"})
			return err
		}},
		{name: "SignInWithSSO", challenge: fromBody, call: func(ctx context.Context, c *Client) error {
			_, err := c.Auth.SignInWithSSO(ctx, SSOParams{Domain: "example.com"})
			return err
		}},
		{name: "SignInWithOAuthURL", call: func(ctx context.Context, c *Client) error {
			var err error
			oauthURL, err = c.Auth.SignInWithOAuthURL(ctx, "github", OAuthParams{})
			return err
		}, challenge: func(t *testing.T, _ *fakeAPI, _ string) (string, string) {
			u, err := url.Parse(oauthURL)
			require.NoError(t, err)
			return fromQuery(u.Query())
		}},
		{name: "LinkIdentityURL", signedIn: true, call: func(ctx context.Context, c *Client) error {
			_, err := c.Auth.LinkIdentityURL(ctx, "google", OAuthParams{})
			return err
		}, challenge: func(t *testing.T, f *fakeAPI, _ string) (string, string) {
			r := f.last()
			assert.Equal(t, "true", r.Query.Get("skip_http_redirect"))
			return fromQuery(r.Query)
		}},
	}
}

func pkceServer(t *testing.T) *fakeAPI {
	f, _ := newFakeAPI(t, nil)
	for _, p := range []string{"/auth/v1/otp", "/auth/v1/recover", "/auth/v1/resend"} {
		f.on("POST", p, 200, []byte(`{}`))
	}
	f.on("POST", "/auth/v1/signup", 200, axTestdata(t, "invite_user.json"))
	f.on("PUT", "/auth/v1/user", 200, axTestdata(t, "user_with_factors.json"))
	f.on("POST", "/auth/v1/sso", 200, []byte(`{"url":"https://idp.example.com/sso?x=1"}`))
	f.on("GET", "/auth/v1/user/identities/authorize", 200, []byte(`{"url":"https://accounts.example.com/auth"}`))
	return f
}

// Every call that starts a PKCE flow keeps a verifier of auth-js's shape
// and sends (or returns in its URL) its S256 challenge with method s256;
// the exchange sends that verifier with the code, signs in, and deletes
// it; a second exchange finds none and sends nothing.
func TestPKCEFlowOnEveryStartingCall(t *testing.T) {
	for _, st := range pkceStarts() {
		t.Run(st.name, func(t *testing.T) {
			f := pkceServer(t)
			f.on("POST", "/auth/v1/token", 200, axTestdata(t, "session_password.json"))
			c := f.client(t, axAnonKey, WithFlowType(FlowPKCE))
			ctx := context.Background()
			if st.signedIn {
				axSignInAda(t, f, c, "session_password.json")
			}
			require.NoError(t, st.call(ctx, c))
			events := axWatchEvents(t, c)
			kept := storedVerifier(t, c)
			verifier, suffix, _ := strings.Cut(kept, "/")
			assert.Regexp(t, verifierShape, verifier)
			if st.recovery {
				assert.Equal(t, "recovery", suffix, "a recovery flow is marked as auth-js marks it")
			} else {
				assert.Empty(t, suffix)
			}
			ch, method := st.challenge(t, f, "")
			assert.Equal(t, s256(verifier), ch)
			assert.Equal(t, "s256", method)

			n := len(f.requests())
			res, err := c.Auth.ExchangeCodeForSession(ctx, pkceCode)
			require.NoError(t, err)
			axAssertRequest(t, f.last(), axWant{method: "POST", path: "/auth/v1/token", query: url.Values{"grant_type": {"pkce"}},
				key: axAnonKey, bearer: axAnonKey, body: `{"auth_code":"` + pkceCode + `","code_verifier":"` + verifier + `"}`})
			require.NotNil(t, res.Session)
			assert.Equal(t, res.Session.User, res.User)
			want := EventSignedIn
			if st.recovery {
				assert.Equal(t, "recovery", res.RedirectType)
				want = EventPasswordRecovery
			} else {
				assert.Empty(t, res.RedirectType)
			}
			assert.Equal(t, res.Session.AccessToken, events.next(t, want).AccessToken)
			s, err := c.Auth.Session(ctx)
			require.NoError(t, err)
			assert.Equal(t, res.Session.AccessToken, s.AccessToken)

			assert.Empty(t, storedVerifier(t, c), "used once")
			_, err = c.Auth.ExchangeCodeForSession(ctx, pkceCode)
			assert.ErrorIs(t, err, ErrCodeVerifierMissing)
			assert.ErrorIs(t, err, ErrInvalidArgument)
			assert.Len(t, f.requests(), n+1, "the second exchange sent nothing")
		})
	}
}

// In the implicit flow (the default) the same calls send null challenge
// fields, as supabase-js does, and keep nothing; an exchange fails before
// any request.
func TestImplicitFlowKeepsNoVerifier(t *testing.T) {
	for _, st := range pkceStarts() {
		t.Run(st.name, func(t *testing.T) {
			f := pkceServer(t)
			c := f.client(t, axAnonKey)
			ctx := context.Background()
			if st.signedIn {
				axSignInAda(t, f, c, "session_password.json")
			}
			require.NoError(t, st.call(ctx, c))
			assert.Empty(t, storedVerifier(t, c))
			if st.name == "SignInWithOAuthURL" || st.name == "LinkIdentityURL" {
				ch, m := st.challenge(t, f, "")
				assert.Empty(t, ch+m, "no challenge parameters")
			} else {
				for _, k := range []string{"code_challenge", "code_challenge_method"} {
					v, ok := bodyField(t, f.last(), k)
					assert.True(t, ok, "%s sent as null", k)
					assert.Empty(t, v)
				}
			}
			n := len(f.requests())
			_, err := c.Auth.ExchangeCodeForSession(ctx, pkceCode)
			assert.ErrorIs(t, err, ErrCodeVerifierMissing)
			assert.Len(t, f.requests(), n)
		})
	}
}

// A phone starts no flow; a password change starts none; with nobody
// signed in, UpdateUser and LinkIdentityURL fail before keeping anything.
func TestPKCEFlowOnlyWhereALinkFollows(t *testing.T) {
	f := pkceServer(t)
	c := f.client(t, axAnonKey, WithFlowType(FlowPKCE))
	ctx := context.Background()
	_, err := c.Auth.SignInWithOTP(ctx, SignInWithOTPParams{Phone: "64211234567"})
	require.NoError(t, err)
	assert.NotContains(t, string(f.last().Body), "code_challenge")
	_, err = c.Auth.UpdateUser(ctx, UserAttributes{Email: "b@example.com"})
	assert.ErrorIs(t, err, ErrSessionMissing)
	_, err = c.Auth.LinkIdentityURL(ctx, "github", OAuthParams{})
	assert.ErrorIs(t, err, ErrSessionMissing)
	assert.Empty(t, storedVerifier(t, c))

	axSignInAda(t, f, c, "session_password.json")
	_, err = c.Auth.UpdateUser(ctx, UserAttributes{Password: "a-new-password"})
	require.NoError(t, err)
	v, ok := bodyField(t, f.last(), "code_challenge")
	assert.True(t, ok)
	assert.Empty(t, v, "null, as supabase-js sends it")
	assert.Empty(t, storedVerifier(t, c))
}

// A new flow replaces the verifier of the one before: only the latest
// code can be exchanged.
func TestPKCELatestFlowWins(t *testing.T) {
	f := pkceServer(t)
	f.on("POST", "/auth/v1/token", 200, axTestdata(t, "session_password.json"))
	c := f.client(t, axAnonKey, WithFlowType(FlowPKCE))
	ctx := context.Background()
	u1, err := c.Auth.SignInWithOAuthURL(ctx, "github", OAuthParams{})
	require.NoError(t, err)
	u2, err := c.Auth.SignInWithOAuthURL(ctx, "github", OAuthParams{})
	require.NoError(t, err)
	assert.NotEqual(t, u1, u2, "a verifier per flow")
	_, err = c.Auth.ExchangeCodeForSession(ctx, pkceCode)
	require.NoError(t, err)
	got, _ := bodyField(t, f.last(), "code_verifier")
	q, _ := url.Parse(u2)
	assert.Equal(t, q.Query().Get("code_challenge"), s256(got))
}

// The verifier goes once the server has answered for good (a 2xx, or a
// 4xx refusal); after a network error, a 5xx, 408 or 429 it stays for
// another try. A start whose request is refused drops its verifier; one
// that failed otherwise keeps it (the email may have gone out).
func TestPKCEVerifierKeptUntilDefinitiveAnswer(t *testing.T) {
	ctx := context.Background()
	f := pkceServer(t)
	c := f.client(t, axAnonKey, WithFlowType(FlowPKCE), WithRetryPolicy(RetryPolicy{}))
	_, err := c.Auth.SignInWithOAuthURL(ctx, "github", OAuthParams{})
	require.NoError(t, err)
	kept := storedVerifier(t, c)
	for _, status := range []int{500, 503, 408, 429} {
		r := f.on("POST", "/auth/v1/token", status, []byte(`{"code":"unexpected_failure","message":"try later"}`))
		r.once = true
		_, err := c.Auth.ExchangeCodeForSession(ctx, pkceCode)
		require.Error(t, err)
		assert.Equal(t, kept, storedVerifier(t, c), "after %d", status)
	}
	f.on("POST", "/auth/v1/token", 404, []byte(`{"code":"flow_state_not_found","message":"invalid flow state, no valid flow state found"}`)).once = true
	_, err = c.Auth.ExchangeCodeForSession(ctx, pkceCode)
	assert.ErrorIs(t, err, ErrNotFound)
	assert.Empty(t, storedVerifier(t, c), "refused: gone")
	verifiers := map[string]bool{}
	for _, r := range f.requests() {
		v, _ := bodyField(t, r, "code_verifier")
		verifiers[v] = true
	}
	assert.Equal(t, map[string]bool{kept: true}, verifiers, "every try sent the same verifier")

	// A network error keeps it too.
	dead := f.client(t, axAnonKey, WithFlowType(FlowPKCE), WithHTTPClient(&http.Client{Transport: roundTripFunc(
		func(*http.Request) (*http.Response, error) { return nil, fmt.Errorf("connection refused") })}))
	_, err = dead.Auth.SignInWithOAuthURL(ctx, "github", OAuthParams{})
	require.NoError(t, err)
	kept = storedVerifier(t, dead)
	_, err = dead.Auth.ExchangeCodeForSession(ctx, pkceCode)
	require.Error(t, err)
	assert.Equal(t, kept, storedVerifier(t, dead))

	// Starting calls: refused, the flow's verifier goes; a 5xx keeps it.
	g, _ := newFakeAPI(t, nil)
	g.on("POST", "/auth/v1/otp", 429, []byte(`{"code":"over_email_send_rate_limit","message":"slow down"}`)).once = true
	g.on("POST", "/auth/v1/otp", 422, []byte(`{"code":"validation_failed","message":"bad email"}`)).once = true
	g.on("POST", "/auth/v1/otp", 502, []byte(`{"message":"bad gateway"}`)).once = true
	c = g.client(t, axAnonKey, WithFlowType(FlowPKCE))
	_, err = c.Auth.SignInWithOTP(ctx, SignInWithOTPParams{Email: "a@example.com"})
	assert.ErrorIs(t, err, ErrRateLimited)
	assert.NotEmpty(t, storedVerifier(t, c), "429: the server may take the same request later")
	_, err = c.Auth.SignInWithOTP(ctx, SignInWithOTPParams{Email: "a@example.com"})
	require.Error(t, err)
	assert.Empty(t, storedVerifier(t, c), "422: no email was sent")
	_, err = c.Auth.SignInWithOTP(ctx, SignInWithOTPParams{Email: "a@example.com"})
	require.Error(t, err)
	assert.NotEmpty(t, storedVerifier(t, c), "502: the email may have gone out")
}

// A 2xx whose body is not a session still spends the code: the verifier
// goes, and the error says what was wrong.
func TestPKCEExchangeUnreadableAnswerSpendsVerifier(t *testing.T) {
	f := pkceServer(t)
	f.on("POST", "/auth/v1/token", 200, []byte(`{"message":"no session here"}`))
	c := f.client(t, axAnonKey, WithFlowType(FlowPKCE))
	ctx := context.Background()
	_, err := c.Auth.SignInWithOAuthURL(ctx, "github", OAuthParams{})
	require.NoError(t, err)
	_, err = c.Auth.ExchangeCodeForSession(ctx, pkceCode)
	assert.ErrorIs(t, err, ErrInvalidResponse)
	assert.Empty(t, storedVerifier(t, c))
	_, err = c.Auth.Session(ctx)
	assert.ErrorIs(t, err, ErrSessionMissing, "not signed in")
}

// A command-line tool with a FileStore prints the URL in one run and
// exchanges the code in the next: the verifier waits in a 0600 file beside
// the session's, and is removed once used.
func TestPKCEFileStoreSurvivesRestart(t *testing.T) {
	f := pkceServer(t)
	f.on("POST", "/auth/v1/token", 200, axTestdata(t, "session_password.json"))
	path := filepath.Join(t.TempDir(), "cli", "session.json")
	ctx := context.Background()

	fs1, err := NewFileStore(path)
	require.NoError(t, err)
	first := f.client(t, axAnonKey, WithFlowType(FlowPKCE), WithSessionStore(fs1))
	u, err := first.Auth.SignInWithOAuthURL(ctx, "github", OAuthParams{}, WithRedirectTo("http://127.0.0.1:8765/cb"))
	require.NoError(t, err)
	data, err := os.ReadFile(path + ".code-verifier")
	require.NoError(t, err)
	q, _ := url.Parse(u)
	assert.Equal(t, q.Query().Get("code_challenge"), s256(string(data)))
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path + ".code-verifier")
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	}

	fs2, err := NewFileStore(path) // the next run
	require.NoError(t, err)
	second := f.client(t, axAnonKey, WithFlowType(FlowPKCE), WithSessionStore(fs2))
	res, err := second.Auth.ExchangeCodeForSession(ctx, pkceCode)
	require.NoError(t, err)
	got, _ := bodyField(t, f.last(), "code_verifier")
	assert.Equal(t, string(data), got)
	_, err = os.Stat(path + ".code-verifier")
	assert.ErrorIs(t, err, os.ErrNotExist, "used: removed")
	stored, err := fs2.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, res.Session.AccessToken, stored.AccessToken, "the session is in the store")
}

// sessionOnlyStore is a SessionStore without CodeVerifierStore.
type sessionOnlyStore struct{ m MemoryStore }

func (s *sessionOnlyStore) Load(ctx context.Context) (*Session, error) { return s.m.Load(ctx) }
func (s *sessionOnlyStore) Save(ctx context.Context, x *Session) error { return s.m.Save(ctx, x) }
func (s *sessionOnlyStore) Delete(ctx context.Context) error           { return s.m.Delete(ctx) }

// With a store that keeps no verifier, the client keeps it in memory: the
// same client can exchange the code; another cannot.
func TestPKCEStoreWithoutVerifierFallsBackToMemory(t *testing.T) {
	f := pkceServer(t)
	f.on("POST", "/auth/v1/token", 200, axTestdata(t, "session_password.json"))
	ctx := context.Background()
	store := &sessionOnlyStore{}
	c := f.client(t, axAnonKey, WithFlowType(FlowPKCE), WithSessionStore(store))
	_, err := c.Auth.SignInWithOAuthURL(ctx, "github", OAuthParams{})
	require.NoError(t, err)
	other := f.client(t, axAnonKey, WithFlowType(FlowPKCE), WithSessionStore(store))
	_, err = other.Auth.ExchangeCodeForSession(ctx, pkceCode)
	assert.ErrorIs(t, err, ErrCodeVerifierMissing)
	_, err = c.Auth.ExchangeCodeForSession(ctx, pkceCode)
	require.NoError(t, err)
	assert.Len(t, f.requests(), 1)
}

// Concurrent exchanges of one code send it once: the others find the
// verifier used and fail with ErrCodeVerifierMissing, sending nothing.
func TestPKCEConcurrentExchangesSendOnce(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	_, base := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		<-release
		writeJSON(w, 200, coreSessionJSON(t, "u1", 4102444800, "r1"))
	})
	c, err := NewClient(base.URL(), coreTestKey, WithFlowType(FlowPKCE))
	require.NoError(t, err)
	ctx := context.Background()
	_, err = c.Auth.SignInWithOAuthURL(ctx, "github", OAuthParams{})
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Auth.ExchangeCodeForSession(ctx, pkceCode)
			errs <- err
		}()
	}
	require.Eventually(t, func() bool { return calls.Load() == 1 }, 5*time.Second, time.Millisecond)
	close(release)
	wg.Wait()
	close(errs)
	ok, missing := 0, 0
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case assert.ErrorIs(t, err, ErrCodeVerifierMissing):
			missing++
		}
	}
	assert.Equal(t, 1, ok)
	assert.Equal(t, 3, missing)
	assert.Equal(t, int32(1), calls.Load())
}

// An exchange waiting for another one gives up with its ctx.
func TestPKCEExchangeWaitWatchesCtx(t *testing.T) {
	f := pkceServer(t)
	c := f.client(t, axAnonKey, WithFlowType(FlowPKCE))
	unlock, err := c.Auth.lockPKCE(context.Background())
	require.NoError(t, err)
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = c.Auth.ExchangeCodeForSession(ctx, pkceCode)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	_, err = c.Auth.SignInWithOAuthURL(ctx, "github", OAuthParams{})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Empty(t, f.requests())
}

// The verifier is never printed: not by the client, its store, the
// results, the errors nor the logs.
func TestPKCEVerifierNeverPrinted(t *testing.T) {
	f := pkceServer(t)
	f.on("POST", "/auth/v1/token", 400, []byte(`{"code":"bad_code_verifier","message":"code challenge does not match previously saved code verifier"}`))
	var logs bytes.Buffer
	store := NewMemoryStore()
	c := f.client(t, axAnonKey, WithFlowType(FlowPKCE), WithSessionStore(store),
		WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	ctx := context.Background()
	u, err := c.Auth.SignInWithOAuthURL(ctx, "github", OAuthParams{})
	require.NoError(t, err)
	v := storedVerifier(t, c)
	_, xerr := c.Auth.ExchangeCodeForSession(ctx, pkceCode)
	require.Error(t, xerr)
	_, merr := c.Auth.ExchangeCodeForSession(ctx, pkceCode)
	require.ErrorIs(t, merr, ErrCodeVerifierMissing)
	require.NoError(t, store.SaveCodeVerifier(ctx, v)) // as if pending
	for _, x := range []any{c, c.Auth, store, xerr, merr, u} {
		for how, out := range printings(x, true) {
			assert.NotContains(t, out, v, "%T via %s", x, how)
		}
	}
	assert.NotContains(t, logs.String(), v)
}

func TestWithFlowTypeValidates(t *testing.T) {
	_, err := NewClient("http://127.0.0.1:54321", "anon", WithFlowType("pkce "))
	assert.ErrorIs(t, err, ErrInvalidArgument)
	c, err := NewClient("http://127.0.0.1:54321", "anon", WithFlowType(FlowImplicit))
	require.NoError(t, err)
	assert.Equal(t, FlowImplicit, c.core.flow)
	_, err = c.Auth.ExchangeCodeForSession(context.Background(), " ")
	assert.ErrorIs(t, err, ErrInvalidArgument)
}

// The verifier's shape and challenge are RFC 7636's, as auth-js makes
// them (RFC 7636 appendix B's example pair checks the S256 itself).
func TestCodeVerifierAndChallenge(t *testing.T) {
	assert.Equal(t, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", codeChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"))
	seen := map[string]bool{}
	for range 100 {
		v := newCodeVerifier()
		assert.Regexp(t, verifierShape, v)
		assert.False(t, seen[v])
		seen[v] = true
	}
}

func TestStoresKeepCodeVerifier(t *testing.T) {
	ctx := context.Background()
	fs, err := NewFileStore(filepath.Join(t.TempDir(), "s.json"))
	require.NoError(t, err)
	for name, s := range map[string]CodeVerifierStore{"memory": NewMemoryStore(), "file": fs} {
		v, err := s.LoadCodeVerifier(ctx)
		require.NoError(t, err, name)
		assert.Empty(t, v, name)
		require.NoError(t, s.SaveCodeVerifier(ctx, "v1/recovery"), name)
		require.NoError(t, s.SaveCodeVerifier(ctx, "v2"), name)
		v, err = s.LoadCodeVerifier(ctx)
		require.NoError(t, err, name)
		assert.Equal(t, "v2", v, name)
		require.NoError(t, s.DeleteCodeVerifier(ctx), name)
		require.NoError(t, s.DeleteCodeVerifier(ctx), "%s: deleting nothing is fine", name)
		v, err = s.LoadCodeVerifier(ctx)
		require.NoError(t, err, name)
		assert.Empty(t, v, name)
	}
	// The session file is left alone.
	require.NoError(t, fs.Save(ctx, &Session{AccessToken: "a"}))
	require.NoError(t, fs.SaveCodeVerifier(ctx, "v3"))
	require.NoError(t, fs.Delete(ctx))
	v, err := fs.LoadCodeVerifier(ctx)
	require.NoError(t, err)
	assert.Equal(t, "v3", v)
}

package supabase

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// This file holds the fake Supabase used by the session, refresh, store and
// transport tests: an Auth token endpoint that rotates refresh tokens and
// treats reuse as Supabase does, and a REST endpoint that checks the bearer.

const (
	fakeKey    = "anon-key-for-session-tests"
	fakeSecret = "fake-jwt-secret-for-session-tests-0123456789"
)

// fakeFault scripts one answer of the token endpoint.
type fakeFault struct {
	netErr bool // fail the round trip (RoundTripper mode) or drop the connection
	status int
	code   string
	// raw, when set, is sent as the body as it is. A 2xx fault rotates the
	// refresh token as a real server does: sending it again counts as reuse.
	raw string
}

// fakeSupabase is an in-memory Supabase: use it as an http.Handler (with
// httptest.NewServer) or as an http.RoundTripper (inside synctest bubbles).
type fakeSupabase struct {
	t        testing.TB
	lifetime time.Duration // access token lifetime; default 1 h
	// tokenDelay and restDelay are each request's time in the server (fake
	// time inside a synctest bubble); a request whose ctx ends meanwhile
	// fails, as it does with a real transport.
	tokenDelay, restDelay time.Duration
	// serverDateOffset is added to the Date header sent by the token endpoint
	// (a Date header is only sent when it is set).
	serverDateOffset time.Duration
	serverDate       bool
	// expAt, when set, gives the expiry of the n-th session issued (n from 1).
	expAt func(n int) int64
	// omitExpiry makes session answers carry expires_in 0 and no
	// expires_at: only the JWT's exp tells the expiry.
	omitExpiry bool

	mu           sync.Mutex
	seq          int
	issued       map[string]bool // refresh tokens issued and not yet used
	sent         map[string]int  // refresh token -> times received
	rejected     map[string]bool // access tokens answered 401 PGRST303
	faults       []fakeFault
	restAuth     []string // bearer of every REST request, in order
	tokenLog     []time.Time
	refreshes    atomic.Int64 // grant_type=refresh_token requests
	reused       atomic.Int64 // refresh tokens received more than once
	expired      atomic.Int64 // REST requests whose token had expired on arrival
	rest         atomic.Int64
	rest401      atomic.Int64
	logouts      atomic.Int64  // logout requests, accepted or not
	logoutAuth   []string      // bearer of every logout request, in order
	logoutDelay  time.Duration // as tokenDelay, for logout requests
	blockRefresh chan struct{} // when set, each refresh waits for a receive
	verified     sync.Map      // access token -> exp, once its signature checked
	rejectAll    bool          // every user token is answered 401
}

func newFakeSupabase(t testing.TB) *fakeSupabase {
	return &fakeSupabase{t: t, lifetime: time.Hour, issued: map[string]bool{}, sent: map[string]int{},
		rejected: map[string]bool{}}
}

// session issues a new session expiring lifetime from now.
func (f *fakeSupabase) session(sub string) *Session {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sessionLocked(sub)
}

func (f *fakeSupabase) sessionLocked(sub string) *Session {
	f.seq++
	now := time.Now()
	exp := now.Add(f.lifetime).Unix()
	if f.expAt != nil {
		exp = f.expAt(f.seq)
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": sub, "aud": "authenticated", "role": "authenticated", "exp": exp, "iat": now.Unix(),
		"session_id": "sess-" + sub, "jti": fmt.Sprint(f.seq),
	}).SignedString([]byte(fakeSecret))
	if err != nil {
		f.t.Fatal(err)
	}
	rt := fmt.Sprintf("rt-%s-%d", sub, f.seq)
	f.issued[rt] = true
	return &Session{AccessToken: tok, TokenType: "bearer", ExpiresIn: int64(f.lifetime / time.Second),
		ExpiresAt: exp, RefreshToken: rt, User: &User{ID: sub, Aud: "authenticated", Role: "authenticated"}}
}

// expiredSession issues a session whose access token expired a minute ago.
func (f *fakeSupabase) expiredSession(sub string) *Session {
	f.mu.Lock()
	defer f.mu.Unlock()
	saved := f.lifetime
	f.lifetime = -time.Minute
	s := f.sessionLocked(sub)
	f.lifetime = saved
	s.ExpiresIn = 3600
	return s
}

func (f *fakeSupabase) reject(accessToken string) {
	f.mu.Lock()
	f.rejected[accessToken] = true
	f.mu.Unlock()
}

func (f *fakeSupabase) fail(faults ...fakeFault) {
	f.mu.Lock()
	f.faults = append(f.faults, faults...)
	f.mu.Unlock()
}

func (f *fakeSupabase) restBearers() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.restAuth...)
}

func (f *fakeSupabase) tokenTimes() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.tokenLog...)
}

var errFakeNetwork = errors.New("fake network error")

func (f *fakeSupabase) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	if err := f.serve(rec, r); err != nil {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, err
	}
	res := rec.Result()
	res.Request = r
	return res, nil
}

func (f *fakeSupabase) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := f.serve(w, r); err != nil {
		panic(http.ErrAbortHandler) // drops the connection
	}
}

func fakeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Supabase-Api-Version", "2024-01-01")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeSupabase) serve(w http.ResponseWriter, r *http.Request) error {
	if r.Header.Get("Apikey") != fakeKey {
		fakeJSON(w, 401, map[string]string{"message": "no apikey"})
		return nil
	}
	switch {
	case r.URL.Path == "/auth/v1/token" && r.URL.Query().Get("grant_type") == "refresh_token":
		return f.serveRefresh(w, r)
	case r.URL.Path == "/auth/v1/token" && r.URL.Query().Get("grant_type") == "password":
		return f.servePassword(w, r)
	case r.URL.Path == "/auth/v1/user":
		return f.serveUser(w, r)
	case r.URL.Path == "/auth/v1/logout":
		return f.serveLogout(w, r)
	case strings.HasPrefix(r.URL.Path, "/rest/v1/"):
		return f.serveREST(w, r)
	default:
		fakeJSON(w, 404, map[string]string{"message": "not found"})
	}
	return nil
}

func (f *fakeSupabase) serveRefresh(w http.ResponseWriter, r *http.Request) error {
	f.refreshes.Add(1)
	var body struct {
		RefreshToken string `json:"refresh_token"`
	}
	data, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(data, &body)
	f.mu.Lock()
	f.tokenLog = append(f.tokenLog, time.Now())
	f.sent[body.RefreshToken]++
	var fault *fakeFault
	if len(f.faults) > 0 {
		fault = &f.faults[0]
		f.faults = f.faults[1:]
	}
	block := f.blockRefresh
	f.mu.Unlock()
	if block != nil {
		<-block
	}
	if err := work(r, f.tokenDelay); err != nil {
		return err
	}
	if fault != nil {
		if fault.netErr {
			return errFakeNetwork
		}
		if fault.status >= 200 && fault.status < 300 {
			f.mu.Lock()
			if !f.issued[body.RefreshToken] {
				f.reused.Add(1)
			}
			delete(f.issued, body.RefreshToken)
			f.mu.Unlock()
		}
		if fault.raw != "" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(fault.status)
			_, _ = io.WriteString(w, fault.raw)
			return nil
		}
		fakeJSON(w, fault.status, map[string]any{"code": fault.code, "message": "injected failure"})
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.issued[body.RefreshToken] {
		f.reused.Add(1)
		fakeJSON(w, 400, map[string]any{"code": "refresh_token_already_used", "message": "Invalid Refresh Token: Already Used"})
		return nil
	}
	delete(f.issued, body.RefreshToken)
	s := f.sessionLocked("user-1")
	if f.serverDate {
		w.Header().Set("Date", time.Now().Add(f.serverDateOffset).UTC().Format(http.TimeFormat))
	}
	fakeJSON(w, 200, f.answer(s))
	return nil
}

// answer is s as the token endpoint sends it.
func (f *fakeSupabase) answer(s *Session) any {
	if !f.omitExpiry {
		return s
	}
	m := map[string]any{"access_token": s.AccessToken, "token_type": "bearer", "expires_in": 0,
		"refresh_token": s.RefreshToken, "user": s.User}
	return m
}

// serveLogout answers as Supabase does: 401 for an expired or invalid
// token; otherwise 204, and for scopes global and local the user's refresh
// tokens are revoked (each fake user has one session).
func (f *fakeSupabase) serveLogout(w http.ResponseWriter, r *http.Request) error {
	f.logouts.Add(1)
	bearer := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	f.logoutAuth = append(f.logoutAuth, bearer)
	delay := f.logoutDelay
	f.mu.Unlock()
	if err := work(r, delay); err != nil {
		return err
	}
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(bearer, &claims, func(*jwt.Token) (any, error) { return []byte(fakeSecret), nil },
		jwt.WithValidMethods([]string{"HS256"}))
	if err != nil {
		fakeJSON(w, 401, map[string]any{"code": "bad_jwt", "message": "invalid JWT: " + err.Error()})
		return nil
	}
	if scope := r.URL.Query().Get("scope"); scope != string(SignOutOthers) {
		f.mu.Lock()
		for rt := range f.issued {
			if strings.HasPrefix(rt, "rt-"+claims.Subject+"-") {
				delete(f.issued, rt)
			}
		}
		f.mu.Unlock()
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// servePassword signs in the user named by the email's local part, with
// any password.
func (f *fakeSupabase) servePassword(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Email string `json:"email"`
	}
	data, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(data, &body)
	sub, _, _ := strings.Cut(body.Email, "@")
	if err := work(r, f.tokenDelay); err != nil {
		return err
	}
	fakeJSON(w, 200, f.answer(f.session(sub)))
	return nil
}

// serveUser answers GET /user: 403 session_not_found for a token marked
// rejected (its session ended on the server), else the token's user.
func (f *fakeSupabase) serveUser(w http.ResponseWriter, r *http.Request) error {
	bearer := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	ended := f.rejected[bearer]
	f.mu.Unlock()
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(bearer, &claims, func(*jwt.Token) (any, error) { return []byte(fakeSecret), nil },
		jwt.WithValidMethods([]string{"HS256"}))
	switch {
	case ended:
		fakeJSON(w, 403, map[string]any{"code": "session_not_found", "message": "Session from session_id claim in JWT does not exist"})
	case err != nil:
		fakeJSON(w, 401, map[string]any{"code": "bad_jwt", "message": "invalid JWT"})
	default:
		fakeJSON(w, 200, &User{ID: claims.Subject, Aud: "authenticated", Role: "authenticated"})
	}
	return nil
}

func (f *fakeSupabase) logoutBearers() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.logoutAuth...)
}

// live reports whether refresh token rt was issued and neither exchanged
// nor revoked.
func (f *fakeSupabase) live(rt string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.issued[rt]
}

func (f *fakeSupabase) serveREST(w http.ResponseWriter, r *http.Request) error {
	f.rest.Add(1)
	if err := work(r, f.restDelay); err != nil {
		return err
	}
	bearer := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	f.restAuth = append(f.restAuth, bearer)
	rejected := f.rejected[bearer] || f.rejectAll
	f.mu.Unlock()
	if bearer == fakeKey {
		writeRows(w, `[]`)
		return nil
	}
	exp, valid := f.expiryOf(bearer)
	if !valid || rejected || time.Now().Unix() >= exp {
		if valid && time.Now().Unix() >= exp {
			f.expired.Add(1)
		}
		f.rest401.Add(1)
		fakeJSON(w, 401, map[string]any{"code": "PGRST303", "details": nil, "hint": nil, "message": "JWT expired"})
		return nil
	}
	writeRows(w, `[{"id":1}]`)
	return nil
}

// work spends d serving r (fake time inside a synctest bubble), or fails
// with r's ctx error when it ends first.
func work(r *http.Request, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-r.Context().Done():
		return r.Context().Err()
	}
}

func writeRows(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(200)
	_, _ = io.WriteString(w, body)
}

// expiryOf verifies a JWT's signature (once per token) and returns its exp.
func (f *fakeSupabase) expiryOf(tok string) (int64, bool) {
	if v, ok := f.verified.Load(tok); ok {
		return v.(int64), true
	}
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(tok, &claims, func(*jwt.Token) (any, error) { return []byte(fakeSecret), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithoutClaimsValidation())
	if err != nil || claims.ExpiresAt == nil {
		return 0, false
	}
	exp := claims.ExpiresAt.Unix()
	f.verified.Store(tok, exp)
	return exp, true
}

// newFakeClient returns a client whose requests go to f through an
// in-memory transport (no network: usable inside synctest bubbles).
func newFakeClient(t testing.TB, f *fakeSupabase, opts ...Option) *Client {
	t.Helper()
	c, err := NewClient("http://supabase.test", fakeKey,
		append([]Option{WithHTTPClient(&http.Client{Transport: f})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// query sends a REST GET exactly as the query builder does.
func query(ctx context.Context, c *Client) error {
	_, err := c.core.send(ctx, c.tokens, &apiRequest{service: ServiceREST, method: http.MethodGet,
		url: c.core.restURL + "/todos?select=id", retry: true})
	return err
}

// signIn installs s as if a sign-in had returned it.
func signIn(t testing.TB, c *Client, s *Session) {
	t.Helper()
	if err := c.Auth.sessions.set(context.Background(), s, EventSignedIn); err != nil {
		t.Fatal(err)
	}
}

// advance moves the fake clock of the calling test's synctest bubble on by
// d: the bubble's other goroutines run until they block, then timers fire in
// order until d has passed, at no cost in real time. It panics outside a
// bubble (synctest.Wait does), so it can never turn into a real sleep.
func advance(d time.Duration) {
	synctest.Wait()
	time.Sleep(d)
}

// eventLog records auth events.
type eventLog struct {
	mu     sync.Mutex
	events []AuthChangeEvent
	seen   chan struct{}
}

func watchEvents(c *Client) (*eventLog, func()) {
	l := &eventLog{seen: make(chan struct{}, 1024)}
	unsub := c.Auth.OnAuthStateChange(func(e AuthChangeEvent, _ *Session) {
		l.mu.Lock()
		l.events = append(l.events, e)
		l.mu.Unlock()
		l.seen <- struct{}{}
	})
	return l, unsub
}

// wait blocks until n events arrived (or fails after a while).
func (l *eventLog) wait(t testing.TB, n int) []AuthChangeEvent {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		l.mu.Lock()
		got := append([]AuthChangeEvent(nil), l.events...)
		l.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-l.seen:
		case <-deadline:
			t.Fatalf("got events %v, want %d", got, n)
		}
	}
}

// TestRefreshRacingSignOutStaysSignedOut: a refresh that completes after a
// local sign-out (what SignOut ends with, and what a dead session causes)
// is discarded; the client stays signed out and the store empty.
func TestRefreshRacingSignOutStaysSignedOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		f.tokenDelay = time.Second
		store := NewMemoryStore()
		c := newFakeClient(t, f, WithSessionStore(store))
		old := f.expiredSession("user-1")
		signIn(t, c, old)
		events, unsub := watchEvents(c)
		defer unsub()

		errc := make(chan error, 1)
		go func() { errc <- query(context.Background(), c) }()
		synctest.Wait() // the refresh is in flight: its request waits in the token endpoint
		require.EqualValues(t, 1, f.refreshes.Load())
		require.NoError(t, c.Auth.sessions.clear(context.Background()))
		require.NoError(t, <-errc)
		synctest.Wait()

		_, err := c.Auth.Session(context.Background())
		assert.ErrorIs(t, err, ErrSessionMissing)
		stored, _ := store.Load(context.Background())
		assert.Nil(t, stored, "the refreshed session is not saved")
		assert.Equal(t, []string{fakeKey}, f.restBearers(), "the query went out signed out")
		assert.Equal(t, []AuthChangeEvent{EventInitialSession, EventSignedOut}, events.wait(t, 2))
		advance(time.Minute)
		assert.Equal(t, []AuthChangeEvent{EventInitialSession, EventSignedOut}, events.wait(t, 2), "no TOKEN_REFRESHED later")
	})
}

// TestRefreshRacingNewSignInKeepsNewUser: a refresh of the previous user's
// session never replaces a session signed in meanwhile.
func TestRefreshRacingNewSignInKeepsNewUser(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		f.tokenDelay = time.Second
		c := newFakeClient(t, f)
		signIn(t, c, f.expiredSession("user-1"))
		errc := make(chan error, 1)
		go func() { errc <- query(context.Background(), c) }()
		synctest.Wait() // the refresh is in flight
		second := f.session("user-2")
		signIn(t, c, second)
		require.NoError(t, <-errc)
		cur, err := c.Auth.Session(context.Background())
		require.NoError(t, err)
		assert.Same(t, second, cur)
		assert.Equal(t, []string{second.AccessToken}, f.restBearers())
	})
}

// TestRefreshFlakyTokenEndpoint: a network error, then a 503, then success:
// the session survives and the backoff is 200 ms then 400 ms.
func TestRefreshFlakyTokenEndpoint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		f.fail(fakeFault{netErr: true}, fakeFault{status: 503})
		c := newFakeClient(t, f)
		events, unsub := watchEvents(c)
		defer unsub()
		signIn(t, c, f.expiredSession("user-1"))
		start := time.Now()
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() { assert.NoError(t, query(context.Background(), c)) })
		}
		wg.Wait()
		assert.Equal(t, 600*time.Millisecond, time.Since(start), "200 ms + 400 ms of backoff")
		assert.EqualValues(t, 3, f.refreshes.Load())
		assert.EqualValues(t, 0, f.reused.Load(), "no token sent after it was exchanged")
		times := f.tokenTimes()
		assert.Equal(t, 200*time.Millisecond, times[1].Sub(times[0]))
		assert.Equal(t, 400*time.Millisecond, times[2].Sub(times[1]))
		assert.Equal(t, []AuthChangeEvent{EventInitialSession, EventSignedIn, EventTokenRefreshed}, events.wait(t, 3))
	})
}

// TestRefreshFlakyStillValidTokenDoesNotWait: while the access token is
// still valid, a refresh that has to retry holds no request up.
func TestRefreshFlakyStillValidTokenDoesNotWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		f.fail(fakeFault{status: 502}, fakeFault{status: 504})
		c := newFakeClient(t, f)
		f.lifetime = 60 * time.Second // inside the 90 s margin, still valid
		old := f.session("user-1")
		f.lifetime = time.Hour
		old.ExpiresIn = 3600
		signIn(t, c, old)
		start := time.Now()
		require.NoError(t, query(context.Background(), c))
		assert.Zero(t, time.Since(start), "the query did not wait for the retries")
		assert.Equal(t, []string{old.AccessToken}, f.restBearers())
		advance(time.Second) // the refresh completes in the background, after 200 ms + 400 ms of backoff
		require.NoError(t, query(context.Background(), c))
		assert.EqualValues(t, 3, f.refreshes.Load())
		b := f.restBearers()
		assert.NotEqual(t, old.AccessToken, b[len(b)-1])
	})
}

// TestRefreshRetryWindowAndCooldown: a token endpoint that keeps failing is
// tried with backoff for at most 30 s, then not again for 60 s; the session
// is kept throughout.
func TestRefreshRetryWindowAndCooldown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		for range 20 {
			f.fail(fakeFault{status: 503})
		}
		store := NewMemoryStore()
		c := newFakeClient(t, f, WithSessionStore(store))
		events, unsub := watchEvents(c)
		defer unsub()
		old := f.expiredSession("user-1")
		signIn(t, c, old)

		start := time.Now()
		err := query(context.Background(), c)
		require.Error(t, err)
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, 503, e.Status)
		// 200 ms·2ⁿ: 0.2+0.4+…+12.8 = 25.4 s; the next wait would end past 30 s.
		assert.EqualValues(t, 8, f.refreshes.Load())
		assert.Equal(t, 25400*time.Millisecond, time.Since(start))
		assert.LessOrEqual(t, time.Since(start), 30*time.Second)

		// Within the cooldown: no request, the error at once.
		for range 5 {
			require.Error(t, query(context.Background(), c))
		}
		advance(30 * time.Second)
		require.Error(t, query(context.Background(), c))
		assert.EqualValues(t, 8, f.refreshes.Load(), "no attempt within 60 s of the failure")
		assert.Equal(t, 0, len(f.restBearers()), "an expired token is never sent")

		// After the cooldown the same token is tried again, and succeeds.
		advance(31 * time.Second)
		f.mu.Lock()
		f.faults = nil
		f.mu.Unlock()
		require.NoError(t, query(context.Background(), c))
		assert.EqualValues(t, 9, f.refreshes.Load())
		stored, _ := store.Load(context.Background())
		require.NotNil(t, stored)
		assert.NotEqual(t, old.RefreshToken, stored.RefreshToken)
		assert.Equal(t, []AuthChangeEvent{EventInitialSession, EventSignedIn, EventTokenRefreshed}, events.wait(t, 3))
	})
}

// TestRefresh4xxKeepsSessionUntilExpired: a refresh token the server refuses
// is never sent again; the still-valid access token keeps being used until
// it expires, then the session ends with SIGNED_OUT and calls report
// ErrSessionExpired instead of running as anon.
func TestRefresh4xxKeepsSessionUntilExpired(t *testing.T) {
	for _, code := range []string{"refresh_token_already_used", "refresh_token_not_found", "session_expired"} {
		t.Run(code, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFakeSupabase(t)
				f.fail(fakeFault{status: 400, code: code})
				store := NewMemoryStore()
				c := newFakeClient(t, f, WithSessionStore(store))
				f.lifetime = 60 * time.Second
				old := f.session("user-1")
				old.ExpiresIn = 3600
				signIn(t, c, old)
				events, unsub := watchEvents(c)
				defer unsub()

				for range 5 {
					require.NoError(t, query(context.Background(), c))
					advance(10 * time.Second)
				}
				assert.EqualValues(t, 1, f.refreshes.Load(), "the refused token is not sent again")
				s, err := c.Auth.Session(context.Background())
				require.NoError(t, err)
				assert.Same(t, old, s)

				advance(15 * time.Second) // now expired
				assert.ErrorIs(t, query(context.Background(), c), ErrSessionExpired)
				assert.EqualValues(t, 1, f.refreshes.Load())
				_, err = c.Auth.Session(context.Background())
				assert.ErrorIs(t, err, ErrSessionExpired)
				stored, _ := store.Load(context.Background())
				assert.True(t, isEndedRecord(stored), "the store records the end: %v", stored)
				b := f.restBearers()
				assert.Len(t, b, 5, "neither the expired token nor the project key is sent")
				for _, tok := range b {
					assert.Equal(t, old.AccessToken, tok)
				}
				assert.Equal(t, []AuthChangeEvent{EventInitialSession, EventSignedOut}, events.wait(t, 2))
			})
		})
	}
}

// TestRefreshExpiredSession4xxEndsSession is the conformance sequence
// seq_expired_session_refresh_fails_then_anon, where this client differs
// from supabase-js: the refresh of an expired session fails, the session is
// dropped (SIGNED_OUT), and the query fails with ErrSessionExpired instead
// of going out with the project key.
func TestRefreshExpiredSession4xxEndsSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		f.fail(fakeFault{status: 400, code: "refresh_token_not_found"})
		c := newFakeClient(t, f)
		signIn(t, c, f.expiredSession("user-1"))
		events, unsub := watchEvents(c)
		defer unsub()
		err := query(context.Background(), c)
		assert.ErrorIs(t, err, ErrSessionExpired)
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, "session_expired", e.Code)
		assert.Contains(t, err.Error(), "400 refresh_token_not_found", "the cause is kept")
		assert.Empty(t, f.restBearers())
		assert.Equal(t, []AuthChangeEvent{EventInitialSession, EventSignedOut}, events.wait(t, 2))
		_, err = c.Auth.RefreshSession(context.Background())
		assert.ErrorIs(t, err, ErrSessionExpired)
	})
}

// TestRefreshAfter401ReplaysOnceWithSameBody: a write rejected with a
// JWT-expired 401 is replayed once, with the same body, after one refresh;
// a second rejection is returned.
func TestRefreshAfter401ReplaysOnceWithSameBody(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		var bodies []string
		var mu sync.Mutex
		rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if r.Body != nil && r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/rest/") {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				bodies = append(bodies, string(b))
				mu.Unlock()
				r.Body = io.NopCloser(strings.NewReader(string(b)))
			}
			return f.RoundTrip(r)
		})
		c, err := NewClient("http://supabase.test", fakeKey, WithHTTPClient(&http.Client{Transport: rt}))
		require.NoError(t, err)
		old := f.session("user-1")
		f.reject(old.AccessToken)
		signIn(t, c, old)
		insert := func() error {
			_, err := c.core.send(context.Background(), c.tokens, &apiRequest{service: ServiceREST, method: http.MethodPost,
				url: c.core.restURL + "/todos", body: []byte(`{"title":"x"}`)})
			return err
		}
		require.NoError(t, insert())
		assert.Equal(t, []string{`{"title":"x"}`, `{"title":"x"}`}, bodies)
		assert.EqualValues(t, 1, f.refreshes.Load())

		// Every token is rejected now: one more refresh, one replay, then the
		// error.
		f.mu.Lock()
		f.rejectAll = true
		f.mu.Unlock()
		err = insert()
		require.Error(t, err)
		assert.ErrorIs(t, err, ErrJWTExpired)
		assert.EqualValues(t, 2, f.refreshes.Load())
		assert.Len(t, bodies, 4)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestAutoRefresh: the background refresher ticks every 30 s, refreshes
// under 120 s left, and stops with StopAutoRefresh or its ctx, leaving no
// goroutine behind (synctest fails a test that leaks one).
func TestAutoRefresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		f.lifetime = 300 * time.Second
		c := newFakeClient(t, f)
		signIn(t, c, f.session("user-1"))
		start := time.Now()
		c.Auth.StartAutoRefresh(context.Background())
		advance(175 * time.Second) // ticks at 0, 30, …, 150: more than 120 s left
		assert.EqualValues(t, 0, f.refreshes.Load())
		advance(10 * time.Second) // tick at 180: 120 s left
		require.EqualValues(t, 1, f.refreshes.Load())
		assert.Equal(t, 180*time.Second, f.tokenTimes()[0].Sub(start))
		advance(180 * time.Second) // issued at 180 s, due at 360 s
		assert.EqualValues(t, 2, f.refreshes.Load())
		assert.Equal(t, 360*time.Second, f.tokenTimes()[1].Sub(start))
		c.Auth.StopAutoRefresh()
		advance(time.Hour)
		assert.EqualValues(t, 2, f.refreshes.Load(), "stopped")
		assert.Zero(t, f.rest.Load())

		// Stopping with the ctx, restarting replaces the running refresher.
		ctx, cancel := context.WithCancel(context.Background())
		c.Auth.StartAutoRefresh(ctx)
		c.Auth.StartAutoRefresh(ctx)
		advance(time.Hour)
		cancel()
		synctest.Wait()
		assert.Greater(t, f.refreshes.Load(), int64(2))
		c.Auth.StopAutoRefresh() // after the ctx ended: a no-op
	})
}

// TestAutoRefreshLoadsStoredSession: a session found in the store at
// start-up is refreshed by the background refresher when needed.
func TestAutoRefreshLoadsStoredSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		store := NewMemoryStore()
		old := f.expiredSession("user-1")
		require.NoError(t, store.Save(context.Background(), old))
		c := newFakeClient(t, f, WithSessionStore(store))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c.Auth.StartAutoRefresh(ctx)
		synctest.Wait()
		assert.EqualValues(t, 1, f.refreshes.Load())
		stored, _ := store.Load(context.Background())
		assert.NotEqual(t, old.RefreshToken, stored.RefreshToken)
		cancel()
		c.Auth.StopAutoRefresh()
	})
}

// TestEventOrderAndSubscribers: INITIAL_SESSION (with the stored session),
// then every change in order; a panicking or blocked subscriber holds up
// neither sign-in nor refresh nor the other subscribers.
func TestEventOrderAndSubscribers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		store := NewMemoryStore()
		stored := f.session("user-0")
		require.NoError(t, store.Save(context.Background(), stored))
		c := newFakeClient(t, f, WithSessionStore(store))

		release := make(chan struct{})
		unsubSlow := c.Auth.OnAuthStateChange(func(AuthChangeEvent, *Session) { <-release })
		unsubPanic := c.Auth.OnAuthStateChange(func(AuthChangeEvent, *Session) { panic("subscriber bug") })
		var mu sync.Mutex
		var got []string
		unsub := c.Auth.OnAuthStateChange(func(e AuthChangeEvent, s *Session) {
			mu.Lock()
			defer mu.Unlock()
			uid := "-"
			if s != nil && s.User != nil {
				uid = s.User.ID
			}
			got = append(got, string(e)+":"+uid)
		})

		ctx := context.Background()
		signIn(t, c, f.session("user-1"))
		_, err := c.Auth.RefreshSession(ctx)
		require.NoError(t, err)
		c.Auth.sessions.updateUser(ctx, &User{ID: "user-1", Email: "new@example.com"})
		require.NoError(t, c.Auth.SignOut(ctx, SignOutLocal))
		synctest.Wait()
		mu.Lock()
		assert.Equal(t, []string{"INITIAL_SESSION:user-0", "SIGNED_IN:user-1", "TOKEN_REFRESHED:user-1",
			"USER_UPDATED:user-1", "SIGNED_OUT:-"}, got)
		mu.Unlock()

		unsub()
		signIn(t, c, f.session("user-2"))
		synctest.Wait()
		mu.Lock()
		assert.Len(t, got, 5, "no event after unsubscribing")
		mu.Unlock()
		unsubPanic()
		unsubSlow()
		close(release) // the blocked subscriber returns and its goroutine ends
	})
}

// TestSessionClockSkewFromServerDate: a client clock running 50 minutes
// ahead makes every 30-minute token look expired; the server's Date header
// corrects it after the first refresh, instead of a refresh per request.
func TestSessionClockSkewFromServerDate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		f.serverDate = true
		f.serverDateOffset = -50 * time.Minute
		f.expAt = func(int) int64 { return time.Now().Add(-50*time.Minute + 30*time.Minute).Unix() }
		c := newFakeClient(t, f)
		signIn(t, c, f.session("user-1"))
		for range 10 {
			_, err := c.Auth.Session(context.Background())
			require.NoError(t, err)
		}
		assert.EqualValues(t, 1, f.refreshes.Load())
		assert.InDelta(t, float64(-50*time.Minute), float64(c.Auth.sessions.shared.skew.Load()), float64(time.Second))
	})
}

// TestSessionClockLeeway: WithClockLeeway adds to the margin, for a clock
// running behind the server's.
func TestSessionClockLeeway(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		f.lifetime = 100 * time.Second
		c := newFakeClient(t, f, WithRefreshMargin(0), WithClockLeeway(30*time.Second))
		signIn(t, c, f.session("user-1"))
		advance(60 * time.Second)
		require.NoError(t, query(context.Background(), c))
		assert.EqualValues(t, 0, f.refreshes.Load(), "40 s left")
		advance(15 * time.Second)
		require.NoError(t, query(context.Background(), c))
		assert.EqualValues(t, 1, f.refreshes.Load(), "25 s left, under the 30 s leeway")
	})
}

// TestSessionShortLivedTokensNoStorm: tokens living less than twice the
// margin are refreshed at half their life, not on every read.
func TestSessionShortLivedTokensNoStorm(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		f.lifetime = 60 * time.Second // shorter than the 90 s margin
		c := newFakeClient(t, f)
		signIn(t, c, f.session("user-1"))
		for range 100 {
			require.NoError(t, query(context.Background(), c))
			advance(time.Second)
		}
		assert.EqualValues(t, 3, f.refreshes.Load(), "one refresh per 30 s over 100 s")
	})
}

// TestSessionWaiterCancelDoesNotCancelRefresh: a waiter giving up leaves
// the refresh running; its result is kept.
func TestSessionWaiterCancelDoesNotCancelRefresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		f.tokenDelay = time.Second
		c := newFakeClient(t, f)
		old := f.expiredSession("user-1")
		signIn(t, c, old)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		err := query(ctx, c)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		advance(time.Second) // the refresh, still in flight, completes
		s, err := c.Auth.Session(context.Background())
		require.NoError(t, err)
		assert.NotEqual(t, old.RefreshToken, s.RefreshToken)
		assert.EqualValues(t, 1, f.refreshes.Load())
	})
}

// BenchmarkAccessTokenRead is the per-request hot path: a lock-free read
// of a valid session.
func BenchmarkAccessTokenRead(b *testing.B) {
	f := newFakeSupabase(b)
	c := newFakeClient(b, f)
	signIn(b, c, f.session("user-1"))
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.tokens.accessToken(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDerivedClient is the cost of a per-user client.
func BenchmarkDerivedClient(b *testing.B) {
	f := newFakeSupabase(b)
	c := newFakeClient(b, f)
	tok := f.session("user-1").AccessToken
	b.ReportAllocs()
	for b.Loop() {
		_ = c.WithAccessToken(tok)
	}
}

// observingStore checks, on every Save, that the session being saved is not
// visible to readers yet.
type observingStore struct {
	MemoryStore
	c      *Client
	saves  atomic.Int64
	early  atomic.Int64
	failOn atomic.Bool
}

func (o *observingStore) Save(ctx context.Context, s *Session) error {
	o.saves.Add(1)
	if o.c != nil && o.c.Auth.sessions.cur.Load() == s {
		o.early.Add(1)
	}
	if o.failOn.Load() {
		return errors.New("disk full")
	}
	return o.MemoryStore.Save(ctx, s)
}

// TestSessionSavedBeforeVisible: a rotated session reaches the store before
// any reader can use it; a failing store never loses the rotated token.
func TestSessionSavedBeforeVisible(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		store := &observingStore{}
		c := newFakeClient(t, f, WithSessionStore(store))
		store.c = c
		signIn(t, c, f.expiredSession("user-1"))
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() { assert.NoError(t, query(context.Background(), c)) })
		}
		wg.Wait()
		assert.EqualValues(t, 2, store.saves.Load(), "sign-in and one refresh")
		assert.EqualValues(t, 0, store.early.Load(), "saved before it was visible")

		store.failOn.Store(true)
		before, _ := c.Auth.Session(context.Background())
		s, err := c.Auth.RefreshSession(context.Background())
		require.NoError(t, err, "the server rotated the token: the session is kept")
		assert.NotEqual(t, before.RefreshToken, s.RefreshToken)
		cur, _ := c.Auth.Session(context.Background())
		assert.Same(t, s, cur)
	})
}

// TestRefreshAfter401WithDeadRefreshTokenSignsOut: a token the server
// rejects although its expiry says valid, and a refresh token it refuses:
// the session is dead, so it ends (SIGNED_OUT) and the request, not sent
// again, fails with ErrSessionExpired, as every later call does.
func TestRefreshAfter401WithDeadRefreshTokenSignsOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		f.fail(fakeFault{status: 400, code: "session_not_found"})
		c := newFakeClient(t, f)
		old := f.session("user-1")
		f.reject(old.AccessToken)
		signIn(t, c, old)
		events, unsub := watchEvents(c)
		defer unsub()
		err := query(context.Background(), c)
		assert.ErrorIs(t, err, ErrSessionExpired)
		assert.EqualValues(t, 1, f.refreshes.Load())
		assert.Equal(t, []string{old.AccessToken}, f.restBearers(), "no replay, no project key")
		_, err = c.Auth.Session(context.Background())
		assert.ErrorIs(t, err, ErrSessionExpired)
		assert.ErrorIs(t, query(context.Background(), c), ErrSessionExpired)
		assert.Len(t, f.restBearers(), 1)
		assert.Equal(t, []AuthChangeEvent{EventInitialSession, EventSignedOut}, events.wait(t, 2))
	})
}

// TestRefreshAfter401Retryable: the token was rejected and the refresh
// meets a network failure: the session is kept, the error returned, and the
// rejected token is not sent again while the endpoint is down.
func TestRefreshAfter401Retryable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		for range 8 {
			f.fail(fakeFault{netErr: true})
		}
		c := newFakeClient(t, f)
		old := f.session("user-1")
		f.reject(old.AccessToken)
		signIn(t, c, old)
		assert.ErrorIs(t, query(context.Background(), c), ErrJWTExpired)
		assert.Error(t, query(context.Background(), c))
		assert.Len(t, f.restBearers(), 1, "the rejected token is not sent again")
		s, err := c.Auth.sessions.current(context.Background())
		require.NoError(t, err)
		assert.Same(t, old, s, "the session is kept")
		advance(time.Minute) // cooldown over, endpoint back
		require.NoError(t, query(context.Background(), c))
		b := f.restBearers()
		assert.NotEqual(t, old.AccessToken, b[len(b)-1])
	})
}

// TestDerivedAccessTokenClientNeverRefreshes: a WithAccessToken client sends
// its token as given, and a 401 is returned as is.
func TestDerivedAccessTokenClientNeverRefreshes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		c := newFakeClient(t, f)
		s := f.session("user-1")
		uc := c.WithAccessToken(s.AccessToken)
		require.NoError(t, query(context.Background(), uc))
		f.reject(s.AccessToken)
		assert.ErrorIs(t, query(context.Background(), uc), ErrJWTExpired)
		exp := f.expiredSession("user-2")
		assert.ErrorIs(t, query(context.Background(), c.WithAccessToken(exp.AccessToken)), ErrJWTExpired)
		assert.Zero(t, f.refreshes.Load())
		assert.Len(t, f.restBearers(), 3)
	})
}

// logRecords collects log records, for tests that check what is logged.
type logRecords struct {
	mu   sync.Mutex
	recs []slog.Record
	seen chan struct{}
}

func newLogRecords() *logRecords { return &logRecords{seen: make(chan struct{}, 1024)} }

func (l *logRecords) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecords) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecords) WithGroup(string) slog.Handler            { return l }
func (l *logRecords) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.recs = append(l.recs, r.Clone())
	l.mu.Unlock()
	select {
	case l.seen <- struct{}{}:
	default:
	}
	return nil
}

// find returns the first record whose message contains msg, waiting a
// while for it.
func (l *logRecords) find(t testing.TB, msg string) slog.Record {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		l.mu.Lock()
		for _, r := range l.recs {
			if strings.Contains(r.Message, msg) {
				l.mu.Unlock()
				return r
			}
		}
		l.mu.Unlock()
		select {
		case <-l.seen:
		case <-deadline:
			t.Fatalf("no log record %q", msg)
		}
	}
}

// text renders every record, attributes included.
func (l *logRecords) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, r := range l.recs {
		b.WriteString(r.Level.String() + " " + r.Message)
		r.Attrs(func(a slog.Attr) bool {
			b.WriteString(" " + a.String())
			return true
		})
		b.WriteString("\n")
	}
	return b.String()
}

func recordAttrs(r slog.Record) map[string]string {
	m := map[string]string{}
	r.Attrs(func(a slog.Attr) bool {
		m[a.Key] = a.Value.String()
		return true
	})
	return m
}

// TestSignOutExpiredSessionRefreshesFirst: an expired access token would be
// answered 401 and leave the session alive on the server; SignOut refreshes
// it first, so the logout is accepted and the refresh token revoked.
func TestSignOutExpiredSessionRefreshesFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		store := NewMemoryStore()
		c := newFakeClient(t, f, WithSessionStore(store))
		old := f.expiredSession("user-1")
		signIn(t, c, old)
		events, unsub := watchEvents(c)
		defer unsub()

		require.NoError(t, c.Auth.SignOut(context.Background(), SignOutGlobal))
		assert.EqualValues(t, 1, f.refreshes.Load())
		logouts := f.logoutBearers()
		require.Len(t, logouts, 1)
		assert.NotEqual(t, old.AccessToken, logouts[0], "the logout carried a live token")
		f.mu.Lock()
		for rt := range f.issued {
			assert.NotContains(t, rt, "user-1", "refresh token %s still valid on the server", rt)
		}
		f.mu.Unlock()
		assert.EqualValues(t, 0, f.reused.Load())
		_, err := c.Auth.Session(context.Background())
		assert.ErrorIs(t, err, ErrSessionMissing)
		stored, _ := store.Load(context.Background())
		assert.Nil(t, stored)
		assert.Equal(t, []AuthChangeEvent{EventInitialSession, EventTokenRefreshed, EventSignedOut}, events.wait(t, 3))
	})
}

// TestSignOutDuringRefreshJoinsIt: a SignOut arriving while the session is
// being refreshed waits for that refresh (it never sends the refresh token
// a second time) and ends the refreshed session.
func TestSignOutDuringRefreshJoinsIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		f.tokenDelay = time.Second
		store := NewMemoryStore()
		c := newFakeClient(t, f, WithSessionStore(store))
		signIn(t, c, f.expiredSession("user-1"))
		errc := make(chan error, 1)
		go func() { errc <- query(context.Background(), c) }()
		synctest.Wait() // the refresh is in flight
		require.NoError(t, c.Auth.SignOut(context.Background(), SignOutLocal))
		require.NoError(t, <-errc)
		assert.EqualValues(t, 1, f.refreshes.Load())
		assert.EqualValues(t, 0, f.reused.Load())
		b := f.restBearers()
		require.Len(t, b, 1)
		assert.Equal(t, []string{b[0]}, f.logoutBearers(), "the refreshed session was ended")
		_, err := c.Auth.Session(context.Background())
		assert.ErrorIs(t, err, ErrSessionMissing)
		stored, _ := store.Load(context.Background())
		assert.Nil(t, stored)
	})
}

// TestSignOutDeadRefreshTokenSignsOutLocally: the access token expired and
// the server refuses the refresh token: nothing is left to end on the
// server, so SignOut forgets the session without a logout request.
func TestSignOutDeadRefreshTokenSignsOutLocally(t *testing.T) {
	for _, name := range []string{"Expired", "WithinLeeway"} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFakeSupabase(t)
				f.fail(fakeFault{status: 400, code: "refresh_token_not_found"})
				store := NewMemoryStore()
				var s *Session
				var c *Client
				if name == "Expired" {
					c = newFakeClient(t, f, WithSessionStore(store))
					s = f.expiredSession("user-1")
				} else {
					// Unusable because of the leeway, though not past its expiry:
					// the failed refresh leaves it to SignOut to remove it.
					c = newFakeClient(t, f, WithSessionStore(store), WithClockLeeway(5*time.Minute))
					f.lifetime = time.Minute
					s = f.session("user-1")
					s.ExpiresIn = 3600
				}
				signIn(t, c, s)
				events, unsub := watchEvents(c)
				defer unsub()
				require.NoError(t, c.Auth.SignOut(context.Background(), SignOutGlobal))
				assert.EqualValues(t, 1, f.refreshes.Load())
				assert.Zero(t, f.logouts.Load(), "no logout with a token the server would refuse")
				_, err := c.Auth.Session(context.Background())
				assert.ErrorIs(t, err, ErrSessionMissing)
				stored, _ := store.Load(context.Background())
				assert.Nil(t, stored)
				assert.Equal(t, []AuthChangeEvent{EventInitialSession, EventSignedOut}, events.wait(t, 2))
			})
		})
	}
}

// TestSignOutOthersDeadRefreshTokenFails: SignOutOthers cannot end the
// other sessions without a live token; it says so and keeps the session.
func TestSignOutOthersDeadRefreshTokenFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		f.fail(fakeFault{status: 400, code: "refresh_token_not_found"})
		c := newFakeClient(t, f, WithClockLeeway(5*time.Minute))
		f.lifetime = time.Minute
		s := f.session("user-1")
		s.ExpiresIn = 3600
		signIn(t, c, s)
		err := c.Auth.SignOut(context.Background(), SignOutOthers)
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, 400, e.Status)
		assert.Zero(t, f.logouts.Load())
		cur, err := c.Auth.sessions.current(context.Background())
		require.NoError(t, err)
		assert.Same(t, s, cur)
	})
}

// TestSignOutRetryableRefreshFailureKeepsSession: the access token expired
// and the token endpoint is down: the session may still be alive on the
// server, so SignOut returns the error and keeps it, as for a 5xx logout.
func TestSignOutRetryableRefreshFailureKeepsSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		for range 20 {
			f.fail(fakeFault{status: 503})
		}
		store := NewMemoryStore()
		c := newFakeClient(t, f, WithSessionStore(store))
		old := f.expiredSession("user-1")
		signIn(t, c, old)
		err := c.Auth.SignOut(context.Background(), SignOutGlobal)
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, 503, e.Status)
		assert.Zero(t, f.logouts.Load())
		cur, err := c.Auth.sessions.current(context.Background())
		require.NoError(t, err)
		assert.Same(t, old, cur, "the session is kept")
		stored, _ := store.Load(context.Background())
		assert.Same(t, old, stored)
		assert.True(t, f.live(old.RefreshToken))
	})
}

// TestSignOutKeepsSessionSignedInMeanwhile: a different session signed in
// while the logout request is under way is not wiped by it.
func TestSignOutKeepsSessionSignedInMeanwhile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		f.logoutDelay = time.Second
		store := NewMemoryStore()
		c := newFakeClient(t, f, WithSessionStore(store))
		first := f.session("user-1")
		signIn(t, c, first)
		errc := make(chan error, 1)
		go func() { errc <- c.Auth.SignOut(context.Background(), SignOutLocal) }()
		synctest.Wait() // the logout request is under way
		second := f.session("user-2")
		signIn(t, c, second)
		require.NoError(t, <-errc)
		assert.Equal(t, []string{first.AccessToken}, f.logoutBearers())
		cur, err := c.Auth.Session(context.Background())
		require.NoError(t, err)
		assert.Same(t, second, cur)
		stored, _ := store.Load(context.Background())
		assert.Same(t, second, stored)
	})
}

// TestSignOutClearsSessionRefreshedMeanwhile: a refresh (not a sign-in)
// committed while the logout request is under way does not keep the
// session alive locally.
func TestSignOutClearsSessionRefreshedMeanwhile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		f.logoutDelay = time.Second
		c := newFakeClient(t, f)
		signIn(t, c, f.session("user-1"))
		errc := make(chan error, 1)
		go func() { errc <- c.Auth.SignOut(context.Background(), SignOutLocal) }()
		synctest.Wait() // the logout request is under way
		_, err := c.Auth.RefreshSession(context.Background())
		require.NoError(t, err)
		require.NoError(t, <-errc)
		_, err = c.Auth.Session(context.Background())
		assert.ErrorIs(t, err, ErrSessionMissing)
	})
}

// TestRefreshSessionWithSharesTheRefresh: a refresh token from a cookie
// that is also the current session's (cookie flow with the background
// refresher) is exchanged once, whoever asks, and a token exchanged moments
// ago yields the newest session without a request: reuse detection never
// sees it twice.
func TestRefreshSessionWithSharesTheRefresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		f.tokenDelay = 100 * time.Millisecond
		store := NewMemoryStore()
		c := newFakeClient(t, f, WithSessionStore(store))
		cookie := f.expiredSession("user-1")
		signIn(t, c, cookie)

		var wg sync.WaitGroup
		wg.Go(func() { assert.NoError(t, query(context.Background(), c)) })
		var got *Session
		wg.Go(func() {
			var err error
			got, err = c.Auth.RefreshSessionWith(context.Background(), cookie.RefreshToken)
			assert.NoError(t, err)
		})
		wg.Wait()
		assert.EqualValues(t, 1, f.refreshes.Load())
		assert.EqualValues(t, 0, f.reused.Load())
		cur, err := c.Auth.Session(context.Background())
		require.NoError(t, err)
		assert.Same(t, cur, got)
		stored, _ := store.Load(context.Background())
		assert.Same(t, cur, stored)

		// The session is rotated again; the stale cookie still yields the
		// newest session, not the one whose refresh token is spent.
		latest, err := c.Auth.RefreshSession(context.Background())
		require.NoError(t, err)
		again, err := c.Auth.RefreshSessionWith(context.Background(), cookie.RefreshToken)
		require.NoError(t, err)
		assert.Same(t, latest, again)
		assert.EqualValues(t, 2, f.refreshes.Load())
		assert.EqualValues(t, 0, f.reused.Load())

		// A client of its own (a request handler) with the same stale cookie.
		other := c.WithSession(f.session("user-3"))
		s, err := other.Auth.RefreshSessionWith(context.Background(), cookie.RefreshToken)
		require.NoError(t, err)
		assert.Equal(t, latest.RefreshToken, s.RefreshToken)
		assert.EqualValues(t, 2, f.refreshes.Load())
		assert.EqualValues(t, 0, f.reused.Load())
	})
}

// TestRefreshSessionWithSignsIn: a token the client does not hold is
// exchanged and the client signed in with the result (TOKEN_REFRESHED,
// saved); a refused one is returned as the server's error.
func TestRefreshSessionWithSignsIn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		store := NewMemoryStore()
		c := newFakeClient(t, f, WithSessionStore(store))
		events, unsub := watchEvents(c)
		defer unsub()
		cookie := f.session("user-1")
		s, err := c.Auth.RefreshSessionWith(context.Background(), cookie.RefreshToken)
		require.NoError(t, err)
		assert.NotEqual(t, cookie.RefreshToken, s.RefreshToken)
		stored, _ := store.Load(context.Background())
		assert.Same(t, s, stored)
		assert.Equal(t, []AuthChangeEvent{EventInitialSession, EventTokenRefreshed}, events.wait(t, 2))

		f.fail(fakeFault{status: 400, code: "refresh_token_not_found"})
		_, err = c.Auth.RefreshSessionWith(context.Background(), f.session("user-2").RefreshToken)
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, 400, e.Status)
		cur, _ := c.Auth.Session(context.Background())
		assert.Same(t, s, cur, "a failed exchange leaves the session alone")
	})
}

// TestEventPanickingSubscriberIsLogged: a subscriber's panic is recovered
// and logged at Error with its value, never with session data; the
// subscriber keeps receiving events.
func TestEventPanickingSubscriberIsLogged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		logs := newLogRecords()
		c := newFakeClient(t, f, WithLogger(slog.New(logs)))
		s := f.session("user-1")
		calls := make(chan AuthChangeEvent, 8)
		unsub := c.Auth.OnAuthStateChange(func(e AuthChangeEvent, _ *Session) {
			calls <- e
			panic(fmt.Sprintf("subscriber bug on %s", e))
		})
		defer unsub()
		signIn(t, c, s)
		synctest.Wait() // both events delivered, both panics recovered
		for _, want := range []AuthChangeEvent{EventInitialSession, EventSignedIn} {
			select {
			case e := <-calls:
				assert.Equal(t, want, e)
			default:
				t.Fatalf("no %s", want)
			}
		}
		r := logs.find(t, "subscriber panicked")
		assert.Equal(t, slog.LevelError, r.Level)
		a := recordAttrs(r)
		assert.Equal(t, "string", a["panic_type"])
		assert.Contains(t, a["panic"], "subscriber bug on INITIAL_SESSION")
		assert.Equal(t, "INITIAL_SESSION", a["event"])
		text := logs.text()
		assert.Contains(t, text, "subscriber bug on SIGNED_IN")
		assert.NotContains(t, text, s.AccessToken)
		assert.NotContains(t, text, s.RefreshToken)
	})
}

// TestEventSlowSubscriberQueueMergesRefreshes: while a subscriber is busy,
// consecutive TOKEN_REFRESHED wait as one, carrying the latest session, so
// the background refresher cannot grow its queue; other events all stay.
func TestEventSlowSubscriberQueueMergesRefreshes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		c := newFakeClient(t, f)
		signIn(t, c, f.session("user-1"))
		release := make(chan struct{})
		var mu sync.Mutex
		var got []string
		unsub := c.Auth.OnAuthStateChange(func(e AuthChangeEvent, s *Session) {
			if e == EventInitialSession {
				<-release
			}
			mu.Lock()
			defer mu.Unlock()
			rt := "-"
			if s != nil {
				rt = s.RefreshToken
			}
			got = append(got, string(e)+":"+rt)
		})
		defer unsub()
		ctx := context.Background()
		first := c.Auth.sessions.cur.Load()
		var last *Session
		for range 50 {
			var err error
			last, err = c.Auth.RefreshSession(ctx)
			require.NoError(t, err)
		}
		c.Auth.sessions.updateUser(ctx, &User{ID: "user-1"})
		upd := c.Auth.sessions.cur.Load()
		synctest.Wait()
		sub := c.Auth.sessions.events.subs
		require.Len(t, sub, 1)
		for _, s := range sub {
			s.mu.Lock()
			assert.Len(t, s.queue, 2, "50 refreshes wait as one")
			s.mu.Unlock()
		}
		close(release)
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, []string{"INITIAL_SESSION:" + first.RefreshToken, "TOKEN_REFRESHED:" + last.RefreshToken,
			"USER_UPDATED:" + upd.RefreshToken}, got)
	})
}

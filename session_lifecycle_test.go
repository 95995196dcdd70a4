package supabase

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// withLineBreak puts CR LF in the middle of tok: still a JWT to a lenient
// base64 decoder, but unusable in a header.
func withLineBreak(tok string) string { return tok[:20] + "\r\n" + tok[20:] }

// TestRefresh2xxUnreadableSpendsToken: a refresh answered 2xx with a body
// that is not a usable session has rotated the token all the same. It is
// never sent again (not retried like a network error, not after the
// cooldown, not by a derived client or the background refresher); the
// session is kept while its access token works, the store's copy loses the
// spent token, and once the access token expires the session ends.
func TestRefresh2xxUnreadableSpendsToken(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"TruncatedJSON", `{"access_token":"eyJhbGciOiJIUzI1NiJ9.e30.x","token_type":"bearer","refresh_`},
		{"NoAccessToken", `{"token_type":"bearer","expires_in":3600,"refresh_token":"rt-next"}`},
		{"AccessTokenWithLineBreak", ""}, // filled in below with a real token
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFakeSupabase(t)
				body := tc.body
				if body == "" {
					next := f.session("user-1")
					next.AccessToken = withLineBreak(next.AccessToken)
					b, err := json.Marshal(next)
					require.NoError(t, err)
					body = string(b)
				}
				f.fail(fakeFault{status: 200, raw: body})
				logs := newLogRecords()
				store := NewMemoryStore()
				c := newFakeClient(t, f, WithSessionStore(store), WithLogger(slog.New(logs)))
				f.lifetime = 60 * time.Second // inside the refresh margin, still valid
				old := f.session("user-1")
				f.lifetime = time.Hour
				old.ExpiresIn = 3600
				signIn(t, c, old)
				derived := c.WithSession(old) // shares the refresh bookkeeping, not the session
				events, unsub := watchEvents(c)
				defer unsub()
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				c.Auth.StartAutoRefresh(ctx)
				defer c.Auth.StopAutoRefresh()

				_, err := c.Auth.RefreshSession(context.Background())
				require.ErrorIs(t, err, ErrInvalidResponse)
				var e *Error
				require.ErrorAs(t, err, &e)
				assert.Equal(t, 200, e.Status)
				assert.Equal(t, "POST", e.Method)
				assert.Equal(t, "http://supabase.test/auth/v1/token", e.URL)
				assert.NotContains(t, err.Error(), "eyJ", "no token in the error")

				for range 11 { // 55 s: the old access token still works
					require.NoError(t, query(context.Background(), c))
					require.NoError(t, query(context.Background(), derived))
					advance(5 * time.Second)
				}
				assert.EqualValues(t, 1, f.refreshes.Load(), "the spent token is never sent again")
				assert.EqualValues(t, 0, f.reused.Load())
				for _, b := range f.restBearers() {
					assert.Equal(t, old.AccessToken, b)
				}
				stored, _ := store.Load(context.Background())
				require.NotNil(t, stored)
				assert.Equal(t, old.AccessToken, stored.AccessToken)
				assert.Empty(t, stored.RefreshToken, "the store's copy no longer holds the spent token")
				_, err = c.Auth.UpdateUser(context.Background(), UserAttributes{Data: map[string]any{"theme": "dark"}})
				require.NoError(t, err)
				stored, _ = store.Load(context.Background())
				assert.Empty(t, stored.RefreshToken, "a user update does not store it again")
				assert.NotEmpty(t, stored.AccessToken)

				advance(10 * time.Second) // the access token has expired
				err = query(context.Background(), c)
				assert.ErrorIs(t, err, ErrSessionExpired)
				assert.ErrorIs(t, err, ErrInvalidResponse, "the cause is kept")
				assert.ErrorIs(t, query(context.Background(), derived), ErrSessionExpired)
				assert.EqualValues(t, 1, f.refreshes.Load())
				assert.EqualValues(t, 0, f.reused.Load())
				assert.Len(t, f.restBearers(), 22, "no expired token, no project key")
				stored, _ = store.Load(context.Background())
				assert.True(t, isEndedRecord(stored))
				assert.Equal(t, []AuthChangeEvent{EventInitialSession, EventUserUpdated, EventSignedOut}, events.wait(t, 3))
				assert.NotContains(t, logs.text(), old.RefreshToken)
				assert.NotContains(t, logs.text(), old.AccessToken)
			})
		})
	}
}

// TestRefreshSpentTokenNotSentByStoreSharer: a client sharing the session
// file (another process) never sends a refresh token that was spent by a
// 2xx whose body could not be decoded, and a client started later uses the
// access token until it expires, then reports ErrSessionExpired.
func TestRefreshSpentTokenNotSentByStoreSharer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		f.fail(fakeFault{status: 200, raw: `{"access_token":`})
		path := filepath.Join(t.TempDir(), "session.json")
		fa, err := NewFileStore(path)
		require.NoError(t, err)
		fb, err := NewFileStore(path)
		require.NoError(t, err)
		f.lifetime = 60 * time.Second
		old := f.session("user-1")
		f.lifetime = time.Hour
		old.ExpiresIn = 3600
		require.NoError(t, fa.Save(context.Background(), old))
		a := newFakeClient(t, f, WithSessionStore(fa))
		b := newFakeClient(t, f, WithSessionStore(fb))
		_, err = b.Auth.sessions.current(context.Background()) // b holds the old session too
		require.NoError(t, err)

		_, err = a.Auth.RefreshSession(context.Background())
		require.ErrorIs(t, err, ErrInvalidResponse)
		_, err = b.Auth.RefreshSession(context.Background())
		require.ErrorIs(t, err, ErrInvalidResponse)
		assert.EqualValues(t, 1, f.refreshes.Load(), "b saw in the file that the token is spent")
		require.NoError(t, query(context.Background(), b))

		later := newFakeClient(t, f, WithSessionStore(fb)) // a process started afterwards
		require.NoError(t, query(context.Background(), later))
		advance(61 * time.Second)
		assert.ErrorIs(t, query(context.Background(), later), ErrSessionExpired)
		assert.ErrorIs(t, query(context.Background(), b), ErrSessionExpired)
		assert.EqualValues(t, 1, f.refreshes.Load())
		assert.EqualValues(t, 0, f.reused.Load())
		assert.Len(t, f.restBearers(), 2)
	})
}

// TestDecodeSessionExpiry: the expiry of a session answer comes from the
// JWT's exp when the token has one, whatever expires_at and expires_in say;
// without exp, from expires_at, else now + expires_in, capped.
func TestDecodeSessionExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		c := newFakeClient(t, f)
		now := time.Now().Unix()
		jwtExp := func(exp int64) string {
			tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "u", "exp": exp}).
				SignedString([]byte(fakeSecret))
			require.NoError(t, err)
			return tok
		}
		tests := []struct {
			name          string
			body          map[string]any
			wantExpiresAt int64
			wantExpiresIn int64
		}{
			{"ExpiresInZeroNoExpiresAt", map[string]any{"access_token": jwtExp(now - 30), "expires_in": 0},
				now - 30, 0},
			{"ExpiresInNegative", map[string]any{"access_token": jwtExp(now + 600), "expires_in": -5},
				now + 600, 600},
			{"NoExpiresIn", map[string]any{"access_token": jwtExp(now + 900)},
				now + 900, 900},
			{"ExpiresAtDisagreesWithExp", map[string]any{"access_token": jwtExp(now + 600), "expires_in": 3600, "expires_at": now + 3600},
				now + 600, 3600},
			{"HugeExpiresInWithExp", map[string]any{"access_token": jwtExp(now + 600), "expires_in": int64(math.MaxInt64)},
				now + 600, maxSessionLifetime},
			{"HugeExpiresInOpaqueToken", map[string]any{"access_token": "opaque-token", "expires_in": int64(math.MaxInt64)},
				now + maxSessionLifetime, maxSessionLifetime},
			{"ExpiresInOpaqueToken", map[string]any{"access_token": "opaque-token", "expires_in": 3600},
				now + 3600, 3600},
			{"ExpiresAtOpaqueToken", map[string]any{"access_token": "opaque-token", "expires_in": 3600, "expires_at": now + 100},
				now + 100, 3600},
		}
		for _, tt := range tests {
			b, err := json.Marshal(tt.body)
			require.NoError(t, err)
			s, err := c.Auth.sessions.decodeSession(b)
			require.NoError(t, err, tt.name)
			assert.Equal(t, tt.wantExpiresAt, s.ExpiresAt, tt.name)
			assert.Equal(t, tt.wantExpiresIn, s.ExpiresIn, tt.name)
		}
	})
}

// TestSessionWithoutExpiresInIsRefreshed: answers without expires_in and
// expires_at still expire by the JWT's exp: the session is refreshed before
// it dies, never sent expired.
func TestSessionWithoutExpiresInIsRefreshed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		f.omitExpiry = true
		f.lifetime = 10 * time.Minute
		c := newFakeClient(t, f)
		s, err := c.Auth.SignInWithPassword(context.Background(), "ada@example.com", "pw")
		require.NoError(t, err)
		assert.Equal(t, time.Now().Add(10*time.Minute).Unix(), s.ExpiresAt)
		for range 25 { // 25 minutes
			require.NoError(t, query(context.Background(), c))
			advance(time.Minute)
		}
		assert.Zero(t, f.expired.Load(), "requests carrying an expired token")
		assert.Zero(t, f.rest401.Load())
		assert.EqualValues(t, 2, f.refreshes.Load(), "at 9 and 18 min: the first query within 90 s of each expiry")
	})
}

// TestSessionHugeExpiresInStillRefreshed: a session whose expires_in is
// absurdly large (from a store or a caller) is refreshed on time, not
// silently kept past its expiry by an overflowing lifetime.
func TestSessionHugeExpiresInStillRefreshed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		c := newFakeClient(t, f)
		f.lifetime = 60 * time.Second
		s := f.session("user-1")
		s.ExpiresIn = math.MaxInt64
		signIn(t, c, s)
		require.NoError(t, query(context.Background(), c))
		assert.EqualValues(t, 1, f.refreshes.Load(), "60 s left, inside the 90 s margin")

		uc := c.WithSession(f.session("user-2")) // the same through a derived client
		uc.Auth.sessions.cur.Load().ExpiresIn = math.MaxInt64
		require.NoError(t, query(context.Background(), uc))
		assert.EqualValues(t, 2, f.refreshes.Load())
	})
}

// TestSessionClockSkewBeyondCapIgnored: a Date header years away (a broken
// proxy) is not taken as the server's clock, which would make every token
// look expired and every request refresh; it is logged once at Warn, then
// at Debug, without any token.
func TestSessionClockSkewBeyondCapIgnored(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		f.serverDate = true
		f.serverDateOffset = 5 * 365 * 24 * time.Hour
		logs := newLogRecords()
		c := newFakeClient(t, f, WithLogger(slog.New(logs)))
		old := f.expiredSession("user-1")
		signIn(t, c, old)
		for range 10 {
			require.NoError(t, query(context.Background(), c))
		}
		assert.EqualValues(t, 1, f.refreshes.Load())
		assert.Zero(t, c.Auth.sessions.shared.skew.Load())
		r := logs.find(t, "ignoring the Date header")
		assert.Equal(t, slog.LevelWarn, r.Level)
		assert.Equal(t, (5 * 365 * 24 * time.Hour).String(), recordAttrs(r)["difference"])

		_, err := c.Auth.RefreshSession(context.Background())
		require.NoError(t, err)
		n := 0
		for _, line := range strings.Split(logs.text(), "\n") {
			if strings.Contains(line, "ignoring the Date header") {
				n++
				if n > 1 {
					assert.True(t, strings.HasPrefix(line, "DEBUG "), line)
				}
			}
		}
		assert.Equal(t, 2, n)
		assert.NotContains(t, logs.text(), old.AccessToken)
		assert.NotContains(t, logs.text(), old.RefreshToken)
	})
}

// TestAccessTokenNotSendableRefused: an access token that cannot be sent in
// a header (CR/LF, other control bytes, spaces) is refused where it enters:
// ErrInvalidResponse from a sign-in answer (nothing stored), and
// ErrInvalidArgument from SetSession and WithSession (nothing sent).
func TestAccessTokenNotSendableRefused(t *testing.T) {
	good := coreJWT(t, jwt.MapClaims{"sub": "u1", "exp": 4102444800})
	bad := withLineBreak(good)
	body, err := json.Marshal(map[string]any{"access_token": bad, "token_type": "bearer", "expires_in": 3600,
		"refresh_token": "r1", "user": map[string]any{"id": "u1"}})
	require.NoError(t, err)
	srv, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, body)
	})
	ctx := context.Background()
	_, err = c.Auth.SignInWithPassword(ctx, "ada@example.com", "pw")
	require.ErrorIs(t, err, ErrInvalidResponse)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 200, e.Status)
	assert.NotContains(t, err.Error(), good[:20])
	_, err = c.Auth.Session(ctx)
	assert.ErrorIs(t, err, ErrSessionMissing, "nothing stored")
	require.Len(t, srv.requests(), 1)

	for _, tok := range []string{bad, good + "\n", "Bearer " + good, good[:10] + "\x00" + good[10:]} {
		_, err = c.Auth.SetSession(ctx, tok, "r1")
		assert.ErrorIs(t, err, ErrInvalidArgument)
		assert.NotContains(t, err.Error(), good[:20])
		_, err = c.WithSession(&Session{AccessToken: tok, RefreshToken: "r1"}).From("todos").Select("id").Execute(ctx)
		assert.ErrorIs(t, err, ErrInvalidArgument)
	}
	assert.Len(t, srv.requests(), 1, "nothing sent")
}

// TestLostSessionUntilSignInOrSignOut: once a session ended without
// SignOut, queries and Auth calls needing it fail with ErrSessionExpired
// (never running as anon) until the user signs in again; after SignOut the
// client is signed out as asked and queries run as anon. A client that
// never signed in uses the key.
func TestLostSessionUntilSignInOrSignOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		ctx := context.Background()
		fresh := newFakeClient(t, f)
		require.NoError(t, query(ctx, fresh))
		assert.Equal(t, []string{fakeKey}, f.restBearers(), "never signed in: the key")

		f.fail(fakeFault{status: 400, code: "refresh_token_already_used"})
		c := newFakeClient(t, f)
		signIn(t, c, f.expiredSession("user-1"))
		events, unsub := watchEvents(c)
		defer unsub()
		for range 3 {
			assert.ErrorIs(t, query(ctx, c), ErrSessionExpired)
		}
		_, err := c.Auth.Session(ctx)
		assert.ErrorIs(t, err, ErrSessionExpired)
		_, err = c.Auth.User(ctx)
		assert.ErrorIs(t, err, ErrSessionExpired)
		_, err = c.Auth.UpdateUser(ctx, UserAttributes{Data: map[string]any{"a": 1}})
		assert.ErrorIs(t, err, ErrSessionExpired)
		_, err = c.Auth.RefreshSession(ctx)
		assert.ErrorIs(t, err, ErrSessionExpired)
		assert.ErrorIs(t, c.Auth.SignOut(ctx, SignOutOthers), ErrSessionExpired, "nothing to end the others with")
		assert.Len(t, f.restBearers(), 1, "no query sent")
		assert.EqualValues(t, 1, f.refreshes.Load())
		assert.Equal(t, []AuthChangeEvent{EventInitialSession, EventSignedOut}, events.wait(t, 2))

		// Signing in again ends the lost state.
		s, err := c.Auth.SignInWithPassword(ctx, "user-2@example.com", "pw")
		require.NoError(t, err)
		require.NoError(t, query(ctx, c))
		assert.Equal(t, s.AccessToken, f.restBearers()[1])

		// Lost again: the server ended the session (GET /user says so).
		f.reject(s.AccessToken)
		_, err = c.Auth.User(ctx)
		assert.ErrorIs(t, err, ErrSessionExpired)
		assert.ErrorIs(t, query(ctx, c), ErrSessionExpired)
		assert.Len(t, f.restBearers(), 2)

		// SignOut: signed out as asked, anon from now on.
		logouts := f.logouts.Load()
		require.NoError(t, c.Auth.SignOut(ctx, SignOutLocal))
		assert.Equal(t, logouts, f.logouts.Load(), "nothing left to end on the server")
		require.NoError(t, query(ctx, c))
		assert.Equal(t, fakeKey, f.restBearers()[2])
		_, err = c.Auth.Session(ctx)
		assert.ErrorIs(t, err, ErrSessionMissing)
		assert.Equal(t, []AuthChangeEvent{EventInitialSession, EventSignedOut, EventSignedIn, EventSignedOut},
			events.wait(t, 4))
	})
}

// TestLostSessionDuringSignOut: SignOut whose refresh finds the session
// over (refresh token refused, access token expired) signs out without
// leaving the client in the lost state.
func TestLostSessionDuringSignOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		f.fail(fakeFault{status: 400, code: "refresh_token_not_found"})
		store := NewMemoryStore()
		c := newFakeClient(t, f, WithSessionStore(store))
		signIn(t, c, f.expiredSession("user-1"))
		require.NoError(t, c.Auth.SignOut(context.Background(), SignOutGlobal))
		require.NoError(t, query(context.Background(), c))
		assert.Equal(t, []string{fakeKey}, f.restBearers())
		stored, err := store.Load(context.Background())
		require.NoError(t, err)
		assert.Nil(t, stored, "the ended record is removed too")
	})
}

// TestLostSessionErrorIsTyped: the lost state's error is an *Error with
// Auth's session_expired code, and says what to do.
func TestLostSessionErrorIsTyped(t *testing.T) {
	err := sessionEnded("the session ended", errors.New("cause"))
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, ServiceAuth, e.Service)
	assert.Equal(t, "session_expired", e.Code)
	assert.Zero(t, e.Status, "no request of its own")
	assert.ErrorIs(t, err, ErrSessionExpired)
	assert.NotErrorIs(t, err, ErrSessionMissing)
	assert.Equal(t, "supabase auth session_expired: the session ended; sign in again, or call SignOut to go on signed out: cause", err.Error())
}

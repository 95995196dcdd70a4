package supabase

import (
	"context"
	"errors"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Zero and nil values a caller can build must return errors, never panic.
func TestNilAndZeroValuesDoNotPanic(t *testing.T) {
	ctx := context.Background()
	var nilClient *Client
	zero := &Client{}
	assert.NotPanics(t, func() {
		for _, c := range []*Client{nilClient, zero, nilClient.Schema("x"), zero.WithAccessToken("t"), nilClient.WithSession(nil)} {
			_, err := c.From("todos").Select("id").Execute(ctx)
			assert.ErrorIs(t, err, ErrInvalidQuery)
			_, err = All[map[string]any](ctx, c.RPC("f", nil))
			assert.Error(t, err)
			assert.Equal(t, "", c.URL())
		}
		_, err := zero.Auth.SignInWithPassword(ctx, "a@b.c", "pw")
		assert.ErrorIs(t, err, ErrInvalidArgument)
		var nilAuth *AuthClient
		_, err = nilAuth.Session(ctx)
		assert.Error(t, err)
		_, err = nilAuth.Admin().ListUsers(ctx, ListUsersParams{})
		assert.Error(t, err)
		_, err = nilAuth.MFA().ListFactors(ctx)
		assert.Error(t, err)
		nilAuth.StopAutoRefresh()
		nilAuth.OnAuthStateChange(func(AuthChangeEvent, *Session) {})()
		var q Query
		_, err = q.Execute(ctx)
		assert.ErrorIs(t, err, ErrInvalidQuery)
		var v *Verifier
		_, err = v.Verify(ctx, "x")
		assert.ErrorIs(t, err, ErrInvalidToken)
		v.Close()
		(&Verifier{}).Close()
	})
}

func TestRangeOverflowIsAnError(t *testing.T) {
	c, err := NewClient("http://127.0.0.1:54321", "anon")
	require.NoError(t, err)
	assert.ErrorIs(t, c.From("t").Range(0, math.MaxInt).Err(), ErrInvalidQuery)
	assert.ErrorIs(t, c.From("t").Insert([]map[string]any{{`a"b`: 1}}).Err(), ErrInvalidQuery)
}

// A per-user client must never send the project key (possibly a
// service_role key, which bypasses RLS) in place of its user's token.
func TestDerivedClientsNeverFallBackToTheKey(t *testing.T) {
	srv, _ := newCoreServer(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, []byte(`[]`)) })
	base, err := NewClient(srv.URL+"/base", "SERVICE-ROLE-KEY")
	require.NoError(t, err)
	ctx := context.Background()
	for name, c := range map[string]*Client{
		"WithAccessToken empty": base.WithAccessToken(""),
		"WithAccessToken CRLF":  base.WithAccessToken("a\r\nb"),
		"WithSession nil":       base.WithSession(nil),
		"WithSession empty":     base.WithSession(&Session{}),
	} {
		_, err := c.From("todos").Select("id").Execute(ctx)
		assert.ErrorIs(t, err, ErrInvalidArgument, name)
	}
	// A WithSession client whose session is gone fails instead of going anon.
	user := base.WithSession(&Session{AccessToken: "u", RefreshToken: "r", ExpiresAt: 4102444800})
	user.Auth.sessions.clear(ctx)
	_, err = user.From("todos").Select("id").Execute(ctx)
	assert.ErrorIs(t, err, ErrSessionMissing)
	assert.Empty(t, srv.requests(), "no request carried the key for a user client")
	assert.True(t, errors.Is(base.Schema("").From("t").Err(), ErrInvalidArgument))
}

// Only the session's own token is refreshed after a 401: a caller's
// Authorization header (WithHeaders, Query.Header) replaced it on the wire.
func TestUnauthorizedWithCallerAuthorizationDoesNotRefresh(t *testing.T) {
	srv, c := newCoreServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/auth/v1/token" {
			writeJSON(w, 200, coreSessionJSON(t, "u1", 4102444800, "r1"))
			return
		}
		writeJSON(w, 401, []byte(`{"code":"PGRST303","message":"JWT expired","details":null,"hint":null}`))
	})
	ctx := context.Background()
	_, err := c.Auth.SignInWithPassword(ctx, "a@b.c", "pw")
	require.NoError(t, err)
	for range 3 {
		_, err = c.From("todos").Select("id").Header("Authorization", "Bearer gateway").Execute(ctx)
		assert.ErrorIs(t, err, ErrJWTExpired)
	}
	assert.Len(t, srv.requests(), 4, "sign-in and three queries, no refresh and no replay")
}

func TestRetryPolicyBounds(t *testing.T) {
	c, err := NewClient("http://127.0.0.1:54321", "anon", WithRetryPolicy(RetryPolicy{MaxRetries: 3}))
	require.NoError(t, err)
	assert.Equal(t, time.Second, c.core.retry.BaseDelay, "a zero BaseDelay means the documented 1 s")
	assert.Equal(t, 30*time.Second, c.core.retry.MaxDelay)
	c.core.retry.BaseDelay = 1 << 40
	for _, n := range []int{0, 1, 20, 63, 64, 200} {
		d := c.core.backoff(n)
		assert.True(t, d > 0 && d <= c.core.retry.MaxDelay, "backoff(%d) = %v", n, d)
	}
	now := time.Now()
	assert.Equal(t, 24*time.Hour, parseRetryAfter("99999999999", now))
	assert.Zero(t, parseRetryAfter("99999999999999999999", now), "beyond int64: not a number, so the backoff applies")
	assert.Zero(t, parseRetryAfter("-5", now))
	assert.Equal(t, 2*time.Second, parseRetryAfter("2", now))
}

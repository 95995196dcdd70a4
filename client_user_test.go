package supabase

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWithEmptySessionSignsUsersInIndependently: a backend signs many users
// in at once, each through a client of its own derived from one base: each
// one's queries carry its own user's token, and the base client's session
// is never touched.
func TestWithEmptySessionSignsUsersInIndependently(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		base := newFakeClient(t, f)
		events, unsub := watchEvents(base)
		defer unsub()
		ctx := context.Background()

		uc := base.WithEmptySession()
		assert.ErrorIs(t, query(ctx, uc), ErrSessionMissing, "never the project key")
		assert.Empty(t, f.restBearers())

		const users = 20
		sessions := make([]*Session, users)
		clients := make([]*Client, users)
		var wg sync.WaitGroup
		for i := range users {
			wg.Go(func() {
				c := base.WithEmptySession()
				s, err := c.Auth.SignInWithPassword(ctx, fmt.Sprintf("user-%d@example.com", i), "pw")
				if !assert.NoError(t, err) {
					return
				}
				sessions[i], clients[i] = s, c
			})
		}
		wg.Wait()
		for i, c := range clients {
			require.NotNil(t, c)
			cur, err := c.Auth.Session(ctx)
			require.NoError(t, err)
			assert.Same(t, sessions[i], cur)
			assert.Equal(t, fmt.Sprintf("user-%d", i), cur.User.ID)
		}
		for i, c := range clients {
			require.NoError(t, query(ctx, c))
			assert.Equal(t, sessions[i].AccessToken, f.restBearers()[i])
		}

		// The base client is as it was: signed out, querying as anon.
		_, err := base.Auth.Session(ctx)
		assert.ErrorIs(t, err, ErrSessionMissing)
		require.NoError(t, query(ctx, base))
		assert.Equal(t, fakeKey, f.restBearers()[users])
		synctest.Wait()
		assert.Equal(t, []AuthChangeEvent{EventInitialSession}, events.wait(t, 1))

		// Signing one user out leaves the others signed in.
		require.NoError(t, clients[0].Auth.SignOut(ctx, SignOutLocal))
		assert.ErrorIs(t, query(ctx, clients[0]), ErrSessionMissing)
		require.NoError(t, query(ctx, clients[1]))
		b := f.restBearers()
		assert.Equal(t, sessions[1].AccessToken, b[len(b)-1])
	})
}

// TestWithEmptySessionFromBrokenClient: deriving from a nil or zero client
// never panics; its queries and sign-ins fail before any I/O, as those of
// every client derived from it do.
func TestWithEmptySessionFromBrokenClient(t *testing.T) {
	for _, c := range []*Client{nil, {}} {
		uc := c.WithEmptySession()
		_, err := uc.From("todos").Select("id").Execute(context.Background())
		assert.ErrorIs(t, err, ErrInvalidQuery)
		_, err = uc.Auth.SignInWithPassword(context.Background(), "a@example.com", "pw")
		assert.ErrorIs(t, err, ErrInvalidArgument)
	}
}

// BenchmarkDerivedClientEmptySession is the cost of a client for signing
// one user in.
func BenchmarkDerivedClientEmptySession(b *testing.B) {
	f := newFakeSupabase(b)
	c := newFakeClient(b, f)
	b.ReportAllocs()
	for b.Loop() {
		_ = c.WithEmptySession()
	}
}

// TestNewClientRefusesAPIURL: a URL that already names one of the project's
// APIs is refused with a message that says what to pass and never repeats
// the argument (swapped with the key, it would be a secret).
func TestNewClientRefusesAPIURL(t *testing.T) {
	for _, u := range []string{
		"https://abcdefgh.supabase.co/rest/v1",
		"https://abcdefgh.supabase.co/rest/v1/",
		"https://abcdefgh.supabase.co/auth/v1",
		"https://abcdefgh.supabase.co/storage/v1/",
		"https://abcdefgh.supabase.co/functions/v1",
		"https://abcdefgh.supabase.co/rest/v1/todos",
		"https://example.com/prefix/REST/V1",
	} {
		_, err := NewClient(u, "key")
		require.ErrorIs(t, err, ErrInvalidArgument, u)
		assert.Contains(t, err.Error(), "pass the project URL itself", u)
		assert.NotContains(t, err.Error(), "abcdefgh", u)
		assert.NotContains(t, err.Error(), "example.com/prefix", u)
	}
	for _, u := range []string{"https://example.com/rest", "https://example.com/rest/v10", "https://example.com/my-auth/v1x"} {
		_, err := NewClient(u, "key")
		assert.NoError(t, err, u)
	}
}

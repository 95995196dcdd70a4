package supabase

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestRefreshOncePerExpiry64x3: 64 goroutines × 3 queries after the access
// token died, once by expires_at and once by a server 401 while expires_at
// says it is valid: exactly one refresh, 192 successes, no failure.
func TestRefreshOncePerExpiry64x3(t *testing.T) {
	for _, mode := range []string{"ExpiresAt", "Server401"} {
		t.Run(mode, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			synctest.Test(t, func(t *testing.T) {
				f := newFakeSupabase(t)
				// The token request takes 50 ms of fake time, which passes
				// only once every goroutine is blocked: all of them have
				// joined the refresh (or been rejected) before it completes.
				f.tokenDelay = 50 * time.Millisecond
				c := newFakeClient(t, f)

				var old *Session
				if mode == "ExpiresAt" {
					old = f.expiredSession("user-1")
				} else {
					old = f.session("user-1")
					f.reject(old.AccessToken)
				}
				signIn(t, c, old)
				events, unsub := watchEvents(c)
				defer unsub()

				start := make(chan struct{})
				var ok, failed atomic.Int64
				var wg sync.WaitGroup
				for range 64 {
					wg.Go(func() {
						<-start
						for range 3 {
							if err := query(context.Background(), c); err != nil {
								failed.Add(1)
								t.Log(err)
							} else {
								ok.Add(1)
							}
						}
					})
				}
				close(start)
				wg.Wait()

				assert.EqualValues(t, 1, f.refreshes.Load(), "refresh requests")
				assert.EqualValues(t, 192, ok.Load(), "queries that succeeded")
				assert.EqualValues(t, 0, failed.Load(), "queries that failed")
				assert.EqualValues(t, 0, f.reused.Load(), "refresh tokens sent twice")
				assert.EqualValues(t, 0, f.expired.Load(), "requests carrying an expired token")
				cur, err := c.Auth.Session(context.Background())
				require.NoError(t, err)
				assert.NotEqual(t, old.AccessToken, cur.AccessToken)
				for _, b := range f.restBearers() {
					if b != cur.AccessToken {
						assert.Equal(t, old.AccessToken, b, "only the old or the refreshed token is ever sent")
					}
				}
				if mode == "Server401" {
					assert.GreaterOrEqual(t, f.rest401.Load(), int64(1))
					assert.LessOrEqual(t, f.rest401.Load(), int64(64), "at most one rejected request per goroutine")
					assert.EqualValues(t, 192+f.rest401.Load(), f.rest.Load(), "each rejected request replayed once")
				} else {
					assert.EqualValues(t, 192, f.rest.Load(), "the expired token is never sent")
				}
				got := events.wait(t, 2)
				assert.Equal(t, []AuthChangeEvent{EventInitialSession, EventTokenRefreshed}, got)
			})
		})
	}
}

// TestRefreshThroughExpiries1000Goroutines: 1,000 goroutines query through
// 20 expiries (fake time): one refresh per expiry, no refresh token sent
// twice, no request carrying a token already expired when it arrives.
func TestRefreshThroughExpiries1000Goroutines(t *testing.T) {
	const (
		goroutines = 1000
		expiries   = 20
		lifetime   = 20 // seconds; refreshed 10 s before expiry (half the lifetime)
	)
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		t0 := time.Now().Unix()
		f.lifetime = lifetime * time.Second
		// Session n (n from 1) expires at t0+20+10(n-1): refresh n is due at
		// t0+10n, whatever the latency of the earlier ones.
		f.expAt = func(n int) int64 { return t0 + lifetime + 10*int64(n-1) }
		f.tokenDelay = 500 * time.Millisecond // many goroutines pile onto each refresh
		f.restDelay = 20 * time.Millisecond
		c := newFakeClient(t, f)
		signIn(t, c, f.session("user-1"))

		end := time.Unix(t0, 0).Add(expiries*10*time.Second + 5*time.Second)
		var ok, failed atomic.Int64
		var wg sync.WaitGroup
		// Each goroutine sleeps (fake time, in the bubble) to spread its
		// first query and to pause between queries, as clients do.
		for i := range goroutines {
			wg.Go(func() {
				pause := time.Duration(3000+(i*7919)%6000) * time.Millisecond // 3–9 s, spread
				time.Sleep(time.Duration(i%1000) * time.Millisecond)
				for time.Now().Before(end) {
					if err := query(context.Background(), c); err != nil {
						failed.Add(1)
					} else {
						ok.Add(1)
					}
					time.Sleep(pause)
				}
			})
		}
		wg.Wait()

		assert.EqualValues(t, expiries, f.refreshes.Load(), "refresh requests")
		assert.EqualValues(t, 0, f.reused.Load(), "refresh tokens sent twice")
		assert.EqualValues(t, 0, f.expired.Load(), "requests carrying an expired token")
		assert.EqualValues(t, 0, f.rest401.Load(), "requests rejected")
		assert.EqualValues(t, 0, failed.Load(), "failed queries")
		assert.Greater(t, ok.Load(), int64(goroutines*expiries), "queries")
		times := f.tokenTimes()
		require.Len(t, times, expiries)
		for i, at := range times {
			assert.Equal(t, t0+10*int64(i+1), at.Unix(), "refresh %d happens when it is due", i+1)
		}
		t.Logf("%d queries, %d refreshes", ok.Load(), f.refreshes.Load())
	})
}

// TestDerivedClientsShareConnectionPool: 10,000 per-user clients used
// concurrently open no more connections than the pool holds.
func TestDerivedClientsShareConnectionPool(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	f := newFakeSupabase(t)
	srv := httptest.NewServer(f)
	var dials atomic.Int64
	d := &net.Dialer{}
	tr := &http.Transport{
		MaxIdleConnsPerHost: 64,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return d.DialContext(ctx, network, addr)
		},
	}
	defer tr.CloseIdleConnections()
	defer srv.Close()
	c, err := NewClient(srv.URL, fakeKey, WithHTTPClient(&http.Client{Transport: tr}))
	require.NoError(t, err)

	const users, workers = 10000, 16
	tokens := make([]string, 100)
	for i := range tokens {
		tokens[i] = f.session("user").AccessToken
	}
	jobs := make(chan int)
	var failed atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				uc := c.WithAccessToken(tokens[i%len(tokens)])
				if err := query(context.Background(), uc); err != nil {
					failed.Add(1)
				}
			}
		})
	}
	for i := range users {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	assert.EqualValues(t, 0, failed.Load())
	assert.EqualValues(t, users, f.rest.Load())
	assert.LessOrEqual(t, dials.Load(), int64(tr.MaxIdleConnsPerHost), "connections dialled for %d clients", users)
	assert.Nil(t, c.Auth.sessions.cur.Load(), "the parent stays signed out")
	t.Logf("%d derived clients, %d requests, %d dials", users, f.rest.Load(), dials.Load())
}

// TestDerivedSessionClientsShareOneRefresh: clients derived with the same
// session (a backend building one per request from a cookie) refresh it
// once between them, concurrently or one after the other.
func TestDerivedSessionClientsShareOneRefresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSupabase(t)
		f.tokenDelay = 100 * time.Millisecond
		c := newFakeClient(t, f)
		s := f.expiredSession("user-1")
		var wg sync.WaitGroup
		var failed atomic.Int64
		for range 50 {
			wg.Go(func() {
				if err := query(context.Background(), c.WithSession(s)); err != nil {
					failed.Add(1)
				}
			})
		}
		wg.Wait()
		advance(time.Second)
		// A request arriving later with the same stale session.
		late := c.WithSession(s)
		require.NoError(t, query(context.Background(), late))
		assert.EqualValues(t, 0, failed.Load())
		assert.EqualValues(t, 1, f.refreshes.Load())
		assert.EqualValues(t, 0, f.reused.Load())
	})
}

package supabase

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"reflect"
	"strconv"
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

// scriptedAnswer is one response (or network error) of a scriptedTransport.
type scriptedAnswer struct {
	status int
	header map[string]string
	netErr bool
}

// scriptedTransport answers requests from a script, then 200, and records
// what it was sent and when.
type scriptedTransport struct {
	mu      sync.Mutex
	script  []scriptedAnswer
	times   []time.Time
	retries []string // X-Retry-Count of each attempt
	bodies  []string
}

func (s *scriptedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var body string
	if r.Body != nil {
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		body = string(b)
	}
	s.mu.Lock()
	s.times = append(s.times, time.Now())
	s.retries = append(s.retries, r.Header.Get("X-Retry-Count"))
	s.bodies = append(s.bodies, body)
	a := scriptedAnswer{status: 200}
	if len(s.script) > 0 {
		a = s.script[0]
		s.script = s.script[1:]
	}
	s.mu.Unlock()
	if a.netErr {
		return nil, errFakeNetwork
	}
	h := http.Header{"Content-Type": {"application/json"}}
	for k, v := range a.header {
		h.Set(k, v)
	}
	b := `[]`
	if a.status != 200 {
		b = `{"code":"","message":"unavailable"}`
	}
	return &http.Response{StatusCode: a.status, Header: h, Body: io.NopCloser(strings.NewReader(b)), Request: r}, nil
}

func (s *scriptedTransport) gaps() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var d []time.Duration
	for i := 1; i < len(s.times); i++ {
		d = append(d, s.times[i].Sub(s.times[i-1]))
	}
	return d
}

func newScriptedClient(t *testing.T, st *scriptedTransport, opts ...Option) *Client {
	t.Helper()
	c, err := NewClient("http://supabase.test", fakeKey, append([]Option{WithHTTPClient(&http.Client{Transport: st})}, opts...)...)
	require.NoError(t, err)
	return c
}

func sendREST(ctx context.Context, c *Client, method string, body []byte, retry bool) error {
	_, err := c.core.send(ctx, c.tokens, &apiRequest{service: ServiceREST, method: method,
		url: c.core.restURL + "/todos?select=id", body: body, retry: retry})
	return err
}

// TestRetryHonoursRetryAfterAndCountsRetries: 503 with Retry-After in
// seconds, 520 with an HTTP date, 503 without (jittered backoff), then 200;
// X-Retry-Count on every retry.
func TestRetryHonoursRetryAfterAndCountsRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &scriptedTransport{script: []scriptedAnswer{
			{status: 503, header: map[string]string{"Retry-After": "2"}},
			{status: 520, header: map[string]string{"Retry-After": time.Now().Add(5 * time.Second).UTC().Format(http.TimeFormat)}},
			{status: 503},
		}}
		c := newScriptedClient(t, st)
		require.NoError(t, sendREST(context.Background(), c, http.MethodGet, nil, true))
		assert.Equal(t, []string{"", "1", "2", "3"}, st.retries)
		g := st.gaps()
		require.Len(t, g, 3)
		assert.Equal(t, 2*time.Second, g[0])
		assert.Equal(t, 3*time.Second, g[1], "until the HTTP date (5 s after the start)")
		assert.Greater(t, g[2], 3*time.Second, "backoff 4 s less up to a quarter")
		assert.LessOrEqual(t, g[2], 4*time.Second)
	})
}

// TestRetryAtMostThree: a GET meeting 503 forever is sent 4 times.
func TestRetryAtMostThree(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &scriptedTransport{}
		for range 10 {
			st.script = append(st.script, scriptedAnswer{status: 503})
		}
		c := newScriptedClient(t, st)
		err := sendREST(context.Background(), c, http.MethodGet, nil, true)
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, 503, e.Status)
		assert.Len(t, st.times, 4)
		for i, g := range st.gaps() {
			full := time.Second << i
			assert.Greater(t, g, full*3/4-time.Nanosecond)
			assert.LessOrEqual(t, g, full)
		}
	})
}

// TestRetryNetworkErrors: a GET after network errors is retried; a write
// is not, unless the caller asked, and then its body is identical on every
// attempt.
func TestRetryNetworkErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &scriptedTransport{script: []scriptedAnswer{{netErr: true}, {netErr: true}}}
		c := newScriptedClient(t, st)
		require.NoError(t, sendREST(context.Background(), c, http.MethodGet, nil, true))
		assert.Len(t, st.times, 3)

		st = &scriptedTransport{script: []scriptedAnswer{{netErr: true}}}
		c = newScriptedClient(t, st)
		err := sendREST(context.Background(), c, http.MethodPost, []byte(`{"a":1}`), false)
		assert.ErrorIs(t, err, errFakeNetwork)
		assert.Len(t, st.times, 1, "a write is never retried on its own")

		st = &scriptedTransport{script: []scriptedAnswer{{status: 503}}}
		c = newScriptedClient(t, st)
		err = sendREST(context.Background(), c, http.MethodPatch, []byte(`{"a":1}`), false)
		assert.Error(t, err)
		assert.Len(t, st.times, 1)

		st = &scriptedTransport{script: []scriptedAnswer{{netErr: true}, {status: 520}}}
		c = newScriptedClient(t, st)
		require.NoError(t, sendREST(context.Background(), c, http.MethodPost, []byte(`{"a":1}`), true))
		assert.Equal(t, []string{`{"a":1}`, `{"a":1}`, `{"a":1}`}, st.bodies)
	})
}

// TestRetryWaitsWatchTheContext: a long Retry-After ends with the ctx.
func TestRetryWaitsWatchTheContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &scriptedTransport{script: []scriptedAnswer{{status: 503, header: map[string]string{"Retry-After": "20"}}}}
		c := newScriptedClient(t, st)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		err := sendREST(ctx, c, http.MethodGet, nil, true)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, time.Second, time.Since(start))
		assert.Len(t, st.times, 1)
	})
}

// TestRetryAfterLongerThanMaxDelay: the error is returned at once, with the
// server's hint, rather than sleeping for an hour.
func TestRetryAfterLongerThanMaxDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &scriptedTransport{script: []scriptedAnswer{{status: 503, header: map[string]string{"Retry-After": "3600"}}}}
		c := newScriptedClient(t, st)
		start := time.Now()
		err := sendREST(context.Background(), c, http.MethodGet, nil, true)
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, time.Hour, e.RetryAfter)
		assert.Zero(t, time.Since(start))
		assert.Len(t, st.times, 1)
	})
}

// TestRetryInvalidRetryAfterUsesBackoff: an unparsable Retry-After falls
// back to the backoff; "0" retries at once.
func TestRetryInvalidRetryAfterUsesBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &scriptedTransport{script: []scriptedAnswer{
			{status: 503, header: map[string]string{"Retry-After": "soon"}},
			{status: 503, header: map[string]string{"Retry-After": "0"}},
		}}
		c := newScriptedClient(t, st, WithRetryPolicy(RetryPolicy{MaxRetries: 3, BaseDelay: 100 * time.Millisecond}))
		require.NoError(t, sendREST(context.Background(), c, http.MethodGet, nil, true))
		g := st.gaps()
		require.Len(t, g, 2)
		assert.Greater(t, g[0], 74*time.Millisecond)
		assert.LessOrEqual(t, g[0], 100*time.Millisecond)
		assert.Zero(t, g[1])
	})
}

// TestTransportNoRetryPolicy: MaxRetries 0 disables retries.
func TestTransportNoRetryPolicy(t *testing.T) {
	st := &scriptedTransport{script: []scriptedAnswer{{status: 503}}}
	c := newScriptedClient(t, st, WithRetryPolicy(RetryPolicy{}))
	assert.Error(t, sendREST(context.Background(), c, http.MethodGet, nil, true))
	assert.Len(t, st.times, 1)
}

// TestTransportParseRetryAfter covers both forms.
func TestTransportParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	assert.Equal(t, 7*time.Second, parseRetryAfter("7", now))
	assert.Equal(t, time.Duration(0), parseRetryAfter("-1", now))
	assert.Equal(t, 90*time.Second, parseRetryAfter(now.Add(90*time.Second).Format(http.TimeFormat), now))
	assert.Equal(t, time.Duration(0), parseRetryAfter(now.Add(-time.Minute).Format(http.TimeFormat), now))
	assert.Equal(t, time.Duration(0), parseRetryAfter("later", now))
}

// assertRedirectRefused checks the typed error: the status, and the
// Location's origin without its path or query.
func assertRedirectRefused(t *testing.T, err error, status int, service string, other *fakeAPI) {
	t.Helper()
	require.ErrorIs(t, err, ErrRedirect)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, status, e.Status)
	assert.Equal(t, service, e.Service)
	assert.Equal(t, "redirect to "+other.URL+" not followed", e.Message)
	assert.NotContains(t, err.Error(), "?")
	assert.NotContains(t, err.Error(), coreTestKey)
}

// TestRedirectsAreNeverFollowed: a REST read or write answered with a
// redirect to another host sends that host nothing (net/http would forward
// apikey there, and turn a 302/303 POST into a GET reported as success).
func TestRedirectsAreNeverFollowed(t *testing.T) {
	other := newForeignAPI(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, []byte(`[{"id":666}]`))
	})
	for _, tc := range []struct {
		name   string
		status int
		run    func(c *Client) error
	}{
		{"GET 302", http.StatusFound, func(c *Client) error {
			_, err := All[streamRow](context.Background(), c.From("todos").Select("id").Eq("secret", "s3"))
			return err
		}},
		{"GET 307", http.StatusTemporaryRedirect, func(c *Client) error {
			_, err := c.From("todos").Select("id").Execute(context.Background())
			return err
		}},
		{"Rows 308", http.StatusPermanentRedirect, func(c *Client) error {
			for _, err := range Rows[streamRow](context.Background(), c.From("todos").Select("id")) {
				return err
			}
			return nil
		}},
		{"Insert 303", http.StatusSeeOther, func(c *Client) error {
			_, err := c.From("todos").Insert(map[string]any{"title": "x"}).Execute(context.Background())
			return err
		}},
		{"Insert with Select 302", http.StatusFound, func(c *Client) error {
			_, err := All[streamRow](context.Background(), c.From("todos").Insert(map[string]any{"title": "x"}).Select("id"))
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			project, c := newFakeAPI(t, redirectTo(tc.status, func() string { return other.URL }))
			err := tc.run(c)
			assertRedirectRefused(t, err, tc.status, ServiceREST, other)
			assert.Len(t, project.requests(), 1, "a redirect is not retried")
			assert.Empty(t, other.requests(), "nothing may reach the other host")
		})
	}
}

// TestSameOriginRedirectRefused: Supabase never redirects an API call, so
// even a redirect to the same server is refused rather than followed.
func TestSameOriginRedirectRefused(t *testing.T) {
	var project *fakeAPI
	var c *Client
	project, c = newFakeAPI(t, redirectTo(http.StatusTemporaryRedirect, func() string { return project.URL }))
	_, err := c.From("todos").Insert(map[string]any{"a": 1}).Execute(context.Background())
	assertRedirectRefused(t, err, http.StatusTemporaryRedirect, ServiceREST, project)
	assert.Len(t, project.requests(), 1)
}

// TestAuthRedirectsNeverCarrySecrets: a sign-in answered 307 would re-POST
// the password to the other host and adopt its session; a refresh answered
// 307 would send it the refresh token.
func TestAuthRedirectsNeverCarrySecrets(t *testing.T) {
	other := newForeignAPI(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, coreSessionJSON(t, "intruder", time.Now().Add(time.Hour).Unix(), "r-intruder"))
	})
	project, c := newFakeAPI(t, redirectTo(http.StatusTemporaryRedirect, func() string { return other.URL }))
	_, err := c.Auth.SignInWithPassword(context.Background(), "ada@example.com", "correct horse")
	assertRedirectRefused(t, err, http.StatusTemporaryRedirect, ServiceAuth, other)
	_, err = c.Auth.Session(context.Background())
	assert.ErrorIs(t, err, ErrSessionMissing, "no session adopted")

	soon := time.Now().Add(time.Hour).Unix()
	u := c.WithSession(&Session{AccessToken: coreJWT(t, jwt.MapClaims{"exp": soon}), RefreshToken: "r-secret", ExpiresAt: soon})
	_, err = u.Auth.RefreshSession(context.Background())
	assertRedirectRefused(t, err, http.StatusTemporaryRedirect, ServiceAuth, other)

	assert.Len(t, project.requests(), 2)
	assert.Empty(t, other.requests(), "neither the password nor the refresh token may leave")
}

// TestRedirectsRefusedWithCallersClient: the caller's own *http.Client is
// used through a copy that refuses redirects whatever its CheckRedirect
// says; the copy keeps its Transport, Jar and Timeout, and the caller's
// client is left as it was.
func TestRedirectsRefusedWithCallersClient(t *testing.T) {
	other := newForeignAPI(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, []byte(`[]`))
	})
	follow := func(*http.Request, []*http.Request) error { return nil }
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	own := &http.Client{Transport: tr, Jar: jar, Timeout: 7 * time.Second, CheckRedirect: follow}
	_, c := newFakeAPI(t, redirectTo(http.StatusFound, func() string { return other.URL }), WithHTTPClient(own))

	_, err = c.From("todos").Select("id").Execute(context.Background())
	assertRedirectRefused(t, err, http.StatusFound, ServiceREST, other)
	assert.Empty(t, other.requests())

	assert.Same(t, tr, c.core.httpClient.Transport)
	assert.Same(t, jar, c.core.httpClient.Jar)
	assert.Equal(t, 7*time.Second, c.core.httpClient.Timeout)
	assert.NotSame(t, own, c.core.httpClient)
	assert.Equal(t, reflect.ValueOf(follow).Pointer(), reflect.ValueOf(own.CheckRedirect).Pointer(), "the caller's client is not modified")
}

// allocBudget is what a test lets the process allocate before it cancels a
// call that reads without bound; the limits under test are far below it.
const allocBudget = 128 << 20

// assertTooLarge checks the typed error of a body or row over its limit.
func assertTooLarge(t *testing.T, err error, service, what string, limit int64) {
	t.Helper()
	require.ErrorIs(t, err, ErrResponseTooLarge)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, service, e.Service)
	assert.Equal(t, http.StatusOK, e.Status)
	assert.Equal(t, what+" larger than "+strconv.FormatInt(limit, 10)+" bytes", e.Message)
	assert.NotEmpty(t, e.URL)
}

// TestBufferedReadsAreBounded: All, Execute and Auth answers read an endless
// body only up to WithMaxResponseSize, then fail; memory stays bounded (the
// unbounded reader is stopped by the allocation budget, and fails).
func TestBufferedReadsAreBounded(t *testing.T) {
	const limit = 1 << 20
	_, c := newFakeAPI(t, endlessRows(), WithMaxResponseSize(limit))
	for _, tc := range []struct {
		name    string
		service string
		run     func(ctx context.Context) error
	}{
		{"All", ServiceREST, func(ctx context.Context) error {
			_, err := All[streamRow](ctx, c.From("todos").Select("id"))
			return err
		}},
		{"Execute", ServiceREST, func(ctx context.Context) error {
			_, err := c.From("todos").Select("id").Execute(ctx)
			return err
		}},
		{"Auth", ServiceAuth, func(ctx context.Context) error {
			_, err := c.Auth.SignInWithPassword(ctx, "ada@example.com", "pw")
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			allocated := withAllocBudget(t, allocBudget, func(ctx context.Context) { err = tc.run(ctx) })
			assertTooLarge(t, err, tc.service, "response body", limit)
			t.Logf("allocated %.1f MiB reading an endless body with a 1 MiB limit", float64(allocated)/(1<<20))
			assert.Less(t, allocated, uint64(8*limit))
		})
	}
}

// TestDeclaredLengthOverLimitNotRead: a Content-Length over the limit is
// refused before anything is read.
func TestDeclaredLengthOverLimitNotRead(t *testing.T) {
	srv, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(64<<20))
		endlessRows()(w, r)
	}, WithMaxResponseSize(32<<20))
	var err error
	allocated := withAllocBudget(t, allocBudget, func(ctx context.Context) {
		_, err = c.From("todos").Select("id").Execute(ctx)
	})
	assertTooLarge(t, err, ServiceREST, "response body", 32<<20)
	assert.Less(t, allocated, uint64(4<<20), "nothing sized from the declared length")
	assert.Len(t, srv.requests(), 1, "not retried")
}

// TestReadLimited: the boundary, and a known length read in one allocation.
func TestReadLimited(t *testing.T) {
	body := bytes.Repeat([]byte("a"), 10000)
	for _, length := range []int64{-1, 10000} {
		data, over, err := readLimited(bytes.NewReader(body), length, 10000)
		require.NoError(t, err)
		assert.False(t, over)
		assert.Equal(t, body, data)

		_, over, err = readLimited(bytes.NewReader(body), length, 9999)
		require.NoError(t, err)
		assert.True(t, over)
	}
	r := bytes.NewReader(body)
	allocs := testing.AllocsPerRun(20, func() {
		r.Reset(body)
		data, over, err := readLimited(r, int64(len(body)), 1<<20)
		if err != nil || over || len(data) != len(body) {
			t.Fatalf("readLimited: %d bytes, over %v, %v", len(data), over, err)
		}
	})
	assert.Equal(t, 1.0, allocs, "a known length is read into one buffer of that size")
	data, _, _ := readLimited(bytes.NewReader(body), int64(len(body)), 1<<20)
	assert.Equal(t, len(body)+1, cap(data))
}

// TestRowsBoundsEachRow: an endless row makes Rows stop past WithMaxRowSize
// with ErrResponseTooLarge, after the rows before it, without buffering the
// row whole; an endless single object likewise. Many rows adding up to more
// than the limit are fine: the limit is per row.
func TestRowsBoundsEachRow(t *testing.T) {
	const limit = 1 << 20
	row := `{"id":7,"title":"` + strings.Repeat("z", 1000) + `"}`
	many := 8 * limit / len(row) // rows adding up to 8 times the limit
	_, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/rest/v1/row":
			endlessRow()(w, r)
		case "/rest/v1/object":
			endlessBody(`{"id":1,"title":"`, bytes.Repeat([]byte("y"), 32<<10))(w, r)
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, "[")
			for i := range many {
				if i > 0 {
					_, _ = io.WriteString(w, ",\n")
				}
				_, _ = io.WriteString(w, row)
			}
			_, _ = io.WriteString(w, "]")
		}
	}, WithMaxRowSize(limit))
	collect := func(ctx context.Context, table string) (ids []int, err error) {
		for row, err := range Rows[streamRow](ctx, c.From(table).Select("id")) {
			if err != nil {
				return ids, err
			}
			ids = append(ids, row.ID)
		}
		return ids, nil
	}
	for table, want := range map[string][]int{"row": {1}, "object": nil} {
		var ids []int
		var err error
		allocated := withAllocBudget(t, allocBudget, func(ctx context.Context) { ids, err = collect(ctx, table) })
		assertTooLarge(t, err, ServiceREST, "row", limit)
		assert.Equal(t, want, ids)
		t.Logf("%s: allocated %.1f MiB streaming an endless row with a 1 MiB row limit", table, float64(allocated)/(1<<20))
		assert.Less(t, allocated, uint64(8*limit))
	}
	ids, err := collect(context.Background(), "many")
	require.NoError(t, err)
	assert.Equal(t, many, len(ids))
}

// TestHeaderTimeoutIsNotRetried: with the default client and no ctx
// deadline, a GET whose server never sends headers fails after the 30 s
// header timeout, once: a timed-out attempt is not retried (four attempts
// would take two minutes). The network is an in-memory pipe inside a
// synctest bubble, so the 30 s pass on the fake clock.
func TestHeaderTimeoutIsNotRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hc := defaultHTTPClient()
		tr := hc.Transport.(*http.Transport)
		tr.Proxy = nil
		var attempts atomic.Int32
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			attempts.Add(1)
			server, client := net.Pipe()
			go func() { // read the request, answer nothing, until the client hangs up
				_, _ = io.Copy(io.Discard, server)
				_ = server.Close()
			}()
			return client, nil
		}
		defer tr.CloseIdleConnections()
		c, err := NewClient("http://supabase.test", coreTestKey, WithHTTPClient(hc))
		require.NoError(t, err)

		start := time.Now()
		_, err = c.From("todos").Select("id").Execute(context.Background())
		var timeout interface{ Timeout() bool }
		require.ErrorAs(t, err, &timeout)
		assert.True(t, timeout.Timeout(), "%v", err)
		assert.Equal(t, int32(1), attempts.Load(), "a timed-out attempt is not retried")
		assert.Equal(t, 30*time.Second, time.Since(start), "the documented bound")
	})
}

// TestHeaderTimeoutOverTheNetwork: the same over a real socket, with the
// default client's header timeout shortened: the server sees one attempt.
func TestHeaderTimeoutOverTheNetwork(t *testing.T) {
	var arrived atomic.Int32
	hc := defaultHTTPClient()
	hc.Transport.(*http.Transport).ResponseHeaderTimeout = 50 * time.Millisecond
	defer hc.CloseIdleConnections()
	_, c := newFakeAPI(t, neverSendHeaders(&arrived), WithHTTPClient(hc))
	_, err := All[streamRow](context.Background(), c.From("todos").Select("id"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "timeout awaiting response headers")
	assert.Equal(t, int32(1), arrived.Load())
}

// TestUndecodableAuthAnswer: a 2xx Auth answer that does not decode is a
// *Error with the status, Service "auth" and ErrInvalidResponse; the body
// (which may hold tokens) is not quoted, and no session is adopted.
func TestUndecodableAuthAnswer(t *testing.T) {
	_, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/auth/v1/user" {
			writeJSON(w, http.StatusOK, []byte(`["not","a","user"]`))
			return
		}
		truncatedJSON(`{"access_token":"eyJhbGciOiJIUzI1NiJ9.secret-part`)(w, r)
	})
	_, err := c.Auth.SignInWithPassword(context.Background(), "ada@example.com", "pw")
	assertInvalidAuthAnswer(t, err)
	assert.NotContains(t, err.Error(), "secret-part")
	_, err = c.Auth.Session(context.Background())
	assert.ErrorIs(t, err, ErrSessionMissing)

	_, err = c.Auth.UserFromToken(context.Background(), coreJWT(t, jwt.MapClaims{"sub": "u"}))
	assertInvalidAuthAnswer(t, err)
}

func assertInvalidAuthAnswer(t *testing.T, err error) {
	t.Helper()
	require.ErrorIs(t, err, ErrInvalidResponse)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, ServiceAuth, e.Service)
	assert.Equal(t, http.StatusOK, e.Status)
	assert.Contains(t, e.Message, "decod", "the message says the answer could not be decoded")
}

// TestLimitOptionsValidate: limits must be positive; the defaults apply
// otherwise.
func TestLimitOptionsValidate(t *testing.T) {
	for _, opt := range []Option{WithMaxResponseSize(0), WithMaxResponseSize(-1), WithMaxRowSize(0), WithMaxRowSize(-5)} {
		_, err := NewClient("https://x.supabase.co", "k", opt)
		assert.ErrorIs(t, err, ErrInvalidArgument)
	}
	c, err := NewClient("https://x.supabase.co", "k")
	require.NoError(t, err)
	assert.Equal(t, int64(256<<20), c.core.maxResponse)
	assert.Equal(t, int64(16<<20), c.core.maxRow)
	c, err = NewClient("https://x.supabase.co", "k", WithMaxResponseSize(10), WithMaxRowSize(20))
	require.NoError(t, err)
	assert.Equal(t, int64(10), c.core.maxResponse)
	assert.Equal(t, int64(20), c.core.maxRow)
}

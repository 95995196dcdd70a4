package supabase

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

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

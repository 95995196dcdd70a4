package supabase

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Invoke sends exactly what functions-js sends for each kind of body,
// method, header, region and name.
func TestInvokeRequests(t *testing.T) {
	type point struct {
		X int `json:"x"`
		Y int `json:"y"`
	}
	tests := []struct {
		name   string
		fn     string
		opts   *InvokeOptions
		method string
		uri    string
		header map[string]string // besides apikey, bearer and client info
		body   string
	}{
		{name: "no options", fn: "cron-tick", method: "POST", uri: "/functions/v1/cron-tick"},
		{name: "JSON value", fn: "hello-world", opts: &InvokeOptions{Body: map[string]any{"name": "Ada <3"}},
			method: "POST", uri: "/functions/v1/hello-world", header: map[string]string{"Content-Type": "application/json"},
			body: `{"name":"Ada <3"}`},
		{name: "struct", fn: "plot", opts: &InvokeOptions{Body: point{1, 2}}, method: "POST", uri: "/functions/v1/plot",
			header: map[string]string{"Content-Type": "application/json"}, body: `{"x":1,"y":2}`},
		{name: "raw JSON", fn: "plot", opts: &InvokeOptions{Body: json.RawMessage(`{ "b": 1, "a": [1, 2] }`)},
			method: "POST", uri: "/functions/v1/plot", header: map[string]string{"Content-Type": "application/json"},
			body: `{"b":1,"a":[1,2]}`},
		{name: "string", fn: "echo", opts: &InvokeOptions{Body: "ping"}, method: "POST", uri: "/functions/v1/echo",
			header: map[string]string{"Content-Type": "text/plain"}, body: "ping"},
		{name: "bytes", fn: "echo", opts: &InvokeOptions{Body: []byte{0, 1, 2}}, method: "POST", uri: "/functions/v1/echo",
			header: map[string]string{"Content-Type": "application/octet-stream"}, body: "\x00\x01\x02"},
		{name: "reader", fn: "echo", opts: &InvokeOptions{Body: io.MultiReader(strings.NewReader("streamed"))},
			method: "POST", uri: "/functions/v1/echo", header: map[string]string{"Content-Type": "application/octet-stream"},
			body: "streamed"},
		{name: "GET with a header", fn: "status", opts: &InvokeOptions{Method: "get", Headers: map[string]string{"x-check": "deep"}},
			method: "GET", uri: "/functions/v1/status", header: map[string]string{"X-Check": "deep"}},
		{name: "PUT JSON", fn: "profiles", opts: &InvokeOptions{Method: "PUT", Body: map[string]any{"id": 7}},
			method: "PUT", uri: "/functions/v1/profiles", header: map[string]string{"Content-Type": "application/json"}, body: `{"id":7}`},
		{name: "DELETE JSON", fn: "sessions", opts: &InvokeOptions{Method: "DELETE", Body: map[string]any{"session_id": "s-1"}},
			method: "DELETE", uri: "/functions/v1/sessions", header: map[string]string{"Content-Type": "application/json"},
			body: `{"session_id":"s-1"}`},
		{name: "caller content type, string", fn: "webhook",
			opts:   &InvokeOptions{Body: "a=1&b=two+words", Headers: map[string]string{"content-type": "application/x-www-form-urlencoded"}},
			method: "POST", uri: "/functions/v1/webhook", header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			body: "a=1&b=two+words"},
		{name: "caller content type, value still JSON", fn: "webhook",
			opts:   &InvokeOptions{Body: map[string]any{"type": "articles"}, Headers: map[string]string{"CONTENT-TYPE": "application/vnd.api+json"}},
			method: "POST", uri: "/functions/v1/webhook", header: map[string]string{"Content-Type": "application/vnd.api+json"},
			body: `{"type":"articles"}`},
		{name: "region", fn: "geo", opts: &InvokeOptions{Body: map[string]any{"q": "Berlin"}, Region: "eu-central-1"},
			method: "POST", uri: "/functions/v1/geo?forceFunctionRegion=eu-central-1",
			header: map[string]string{"Content-Type": "application/json", "X-Region": "eu-central-1"}, body: `{"q":"Berlin"}`},
		{name: "region any", fn: "geo", opts: &InvokeOptions{Region: "any"}, method: "POST", uri: "/functions/v1/geo"},
		{name: "sub-path and query", fn: "api/users/ü 1", opts: &InvokeOptions{Method: "GET", Query: url.Values{"page": {"2"}, "q": {"a b"}}},
			method: "GET", uri: "/functions/v1/api/users/%C3%BC%201?page=2&q=a+b"},
		{name: "caller Authorization", fn: "admin-task",
			opts:   &InvokeOptions{Headers: map[string]string{"Authorization": "Bearer custom-service-token"}},
			method: "POST", uri: "/functions/v1/admin-task", header: map[string]string{"Authorization": "Bearer custom-service-token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, `{"ok":true}`)
			})
			resp, err := c.Functions.Invoke(context.Background(), tt.fn, tt.opts)
			require.NoError(t, err)
			var got map[string]bool
			require.NoError(t, resp.Decode(&got))
			assert.Equal(t, map[string]bool{"ok": true}, got)
			assert.Equal(t, 200, resp.Status)
			reqs := srv.requests()
			require.Len(t, reqs, 1)
			r := reqs[0]
			assert.Equal(t, tt.method, r.Method)
			assert.Equal(t, tt.uri, r.URI)
			assert.Equal(t, baseHeaders(tt.header), r.Headers())
			assert.Equal(t, tt.body, string(r.Body))
		})
	}
}

// The bearer: the session's token after sign-in, the key without one, and
// nothing at all with a new-format key (which is not a JWT).
func TestInvokeBearer(t *testing.T) {
	ctx := context.Background()
	handler := func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }
	srv, c := newFakeAPI(t, handler)
	srv.answerSessions("u1", 4102444800, "r1")
	_, err := c.Functions.Invoke(ctx, "whoami", nil)
	require.NoError(t, err)
	s, err := c.Auth.SignInWithPassword(ctx, "a@b.c", "pw")
	require.NoError(t, err)
	_, err = c.Functions.Invoke(ctx, "whoami", nil)
	require.NoError(t, err)
	reqs := srv.requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, "Bearer "+coreTestKey, reqs[0].Headers()["Authorization"])
	assert.Equal(t, "Bearer "+s.AccessToken, reqs[2].Headers()["Authorization"])

	for _, key := range []string{"sb_publishable_abc123", "sb_secret_abc123"} {
		srv, _ := newFakeAPI(t, handler)
		srv.answerSessions("u1", 4102444800, "r1")
		c := srv.client(t, key)
		_, err := c.Functions.Invoke(ctx, "hello", nil)
		require.NoError(t, err)
		_, err = c.Storage.From("b").Download(ctx, "a", nil)
		require.NoError(t, err)
		reqs := srv.requests()
		require.Len(t, reqs, 2)
		assert.Equal(t, map[string]string{"Apikey": key, "X-Client-Info": clientInfo}, reqs[0].Headers(), "functions: no Authorization")
		assert.Equal(t, "Bearer "+key, reqs[1].Headers()["Authorization"], "storage sends the key as bearer, as supabase-js")
		_, err = c.Auth.SignInWithPassword(ctx, "a@b.c", "pw")
		require.NoError(t, err)
		_, err = c.Functions.Invoke(ctx, "hello", nil)
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(srv.requests()[3].Headers()["Authorization"], "Bearer ey"), "the session's token")
	}
}

// Error answers as functions-js distinguishes them: the function's own
// non-2xx answer, the relay's (even with a 2xx status), and no answer.
func TestInvokeErrors(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		header  map[string]string
		body    string
		code    string
		message string
		details string
		relay   bool
		is      []error
	}{
		{name: "function error JSON", status: 400, body: `{"error":"name is required"}`, message: "name is required"},
		{name: "function not found", status: 404, body: `{"code":"NOT_FOUND","message":"Requested function was not found"}`,
			code: "NOT_FOUND", message: "Requested function was not found", is: []error{ErrNotFound}},
		{name: "relay error", status: 503, header: map[string]string{"X-Relay-Error": "true"},
			body: `{"code":"BOOT_ERROR","message":"Function failed to start (please check logs)"}`,
			code: "BOOT_ERROR", message: "relay error: Function failed to start (please check logs)", relay: true},
		{name: "relay error on 200", status: 200, header: map[string]string{"x-relay-error": "true"}, body: `oops`,
			message: "relay error invoking the Edge Function", details: "oops", relay: true},
		{name: "HTML gateway page", status: 502, header: map[string]string{"Content-Type": "text/html"},
			body: "<html><body><h1>502 Bad Gateway</h1></body></html>", message: "Edge Function returned a non-2xx status code",
			details: "<html><body><h1>502 Bad Gateway</h1></body></html>"},
		{name: "expired JWT", status: 401, body: `{"code":401,"message":"JWT expired"}`, code: "401", message: "JWT expired",
			is: []error{ErrUnauthorized, ErrJWTExpired}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			})
			resp, err := c.Functions.Invoke(context.Background(), "fn", &InvokeOptions{Method: "GET"})
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, ServiceFunctions, e.Service)
			assert.Equal(t, tt.status, e.Status)
			assert.Equal(t, tt.code, e.Code)
			assert.Equal(t, tt.message, e.Message)
			assert.Equal(t, tt.details, e.Details)
			assert.Equal(t, "GET", e.Method)
			assert.Equal(t, tt.relay, errors.Is(err, ErrFunctionRelay))
			for _, s := range tt.is {
				assert.ErrorIs(t, err, s)
			}
			require.NotNil(t, resp, "the error answer is returned too")
			assert.Equal(t, tt.status, resp.Status)
			body, rerr := io.ReadAll(resp.Body)
			require.NoError(t, rerr)
			require.NoError(t, resp.Body.Close())
			assert.Equal(t, tt.body, string(body), "the error body stays readable")
			assert.Len(t, srv.requests(), 1, "never retried")
		})
	}
}

// A request that cannot be sent: no response, the transport error wrapped.
func TestInvokeTransportError(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens there now
	c, err := NewClient("http://"+addr, coreTestKey)
	require.NoError(t, err)
	resp, err := c.Functions.Invoke(context.Background(), "fn", &InvokeOptions{Body: "x"})
	assert.Nil(t, resp)
	var ne net.Error
	var e *Error
	assert.ErrorAs(t, err, &ne)
	assert.False(t, errors.As(err, &e))
	assert.NotContains(t, err.Error(), coreTestKey)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.Functions.Invoke(ctx, "fn", nil)
	assert.ErrorIs(t, err, context.Canceled)
}

// Bad input is refused before any I/O.
func TestInvokeBadInput(t *testing.T) {
	srv, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) { t.Errorf("unexpected request %s", r.URL) })
	tests := map[string]struct {
		fn   string
		opts *InvokeOptions
	}{
		"GET with a body":    {"status", &InvokeOptions{Method: "GET", Body: map[string]any{"verbose": true}}},
		"HEAD with a body":   {"status", &InvokeOptions{Method: "head", Body: "x"}},
		"empty name":         {"", nil},
		"name with query":    {"fn?x=1", nil},
		"name with fragment": {"fn#x", nil},
		"dot-dot":            {"a/../b", nil},
		"empty segment":      {"a//b", nil},
		"control char":       {"a\nb", nil},
		"bad method":         {"fn", &InvokeOptions{Method: "GE T"}},
		"bad header name":    {"fn", &InvokeOptions{Headers: map[string]string{"a:b": "1"}}},
		"bad header value":   {"fn", &InvokeOptions{Headers: map[string]string{"X": "1\n2"}}},
		"bad region":         {"fn", &InvokeOptions{Region: "eu\r\n"}},
		"unencodable body":   {"fn", &InvokeOptions{Body: map[string]any{"f": func() {}}}},
		"typed nil reader":   {"fn", &InvokeOptions{Body: (*bytes.Reader)(nil)}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			resp, err := c.Functions.Invoke(context.Background(), tt.fn, tt.opts)
			assert.Nil(t, resp)
			assert.ErrorIs(t, err, ErrInvalidArgument)
		})
	}
	assert.Empty(t, srv.requests())
}

// InvokeJSON decodes the answer into a T; an empty answer is the zero T.
func TestInvokeJSON(t *testing.T) {
	type hello struct {
		Message string `json:"message"`
	}
	status := 200
	_, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		if status == 200 {
			_, _ = io.WriteString(w, `{"message":"Hello Ada!"}`)
		}
		if status == 400 {
			_, _ = io.WriteString(w, `{"error":"name is required"}`)
		}
	})
	ctx := context.Background()
	h, err := InvokeJSON[hello](ctx, c.Functions, "hello", &InvokeOptions{Body: map[string]string{"name": "Ada"}})
	require.NoError(t, err)
	assert.Equal(t, hello{"Hello Ada!"}, h)

	status = 204
	h, err = InvokeJSON[hello](ctx, c.Functions, "hello", nil)
	require.NoError(t, err)
	assert.Equal(t, hello{}, h)

	status = 400
	_, err = InvokeJSON[hello](ctx, c.Functions, "hello", nil)
	assert.ErrorContains(t, err, "name is required")
}

// A 2xx body is streamed to the caller, unread until then.
func TestInvokeStreamsTheAnswer(t *testing.T) {
	release := make(chan struct{})
	_, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: 1\n\n")
		w.(http.Flusher).Flush()
		<-release
		_, _ = io.WriteString(w, "data: 2\n\n")
	})
	resp, err := c.Functions.Invoke(context.Background(), "events", nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	buf := make([]byte, 9)
	_, err = io.ReadFull(resp.Body, buf)
	require.NoError(t, err)
	assert.Equal(t, "data: 1\n\n", string(buf), "the first event arrives before the function finished")
	close(release)
	rest, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "data: 2\n\n", string(rest))
}

// A function that answers while still reading its request (full duplex):
// the streamed request body stays readable until the answer is closed.
func TestInvokeFullDuplex(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		require.NoError(t, rc.EnableFullDuplex())
		w.WriteHeader(200)
		require.NoError(t, rc.Flush())
		buf := make([]byte, 64)
		for {
			n, err := r.Body.Read(buf)
			if n > 0 {
				_, _ = w.Write(bytes.ToUpper(buf[:n]))
				_ = rc.Flush()
			}
			if err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	c, err := NewClient(srv.URL, coreTestKey)
	require.NoError(t, err)
	pr, pw := io.Pipe()
	defer pr.Close() // unblocks the writer if the exchange breaks
	resp, err := c.Functions.Invoke(context.Background(), "upper", &InvokeOptions{Body: pr})
	require.NoError(t, err)
	words := []string{"hello", "world"}
	next := make(chan string)
	go func() {
		for w := range next {
			if _, err := pw.Write([]byte(w)); err != nil {
				return
			}
		}
		_ = pw.Close()
	}()
	got := make([]byte, 5)
	for _, word := range words {
		next <- word // the next part is written only after the previous answer arrived
		_, err = io.ReadFull(resp.Body, got)
		require.NoError(t, err)
		assert.Equal(t, strings.ToUpper(word), string(got))
	}
	close(next)
	rest, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Empty(t, rest)
	require.NoError(t, resp.Body.Close())
}

package supabase

// The fake Supabase project most unit tests talk to: one httptest server
// that records every request, answers from per-route handlers or a
// fallback, and can misbehave on purpose (redirect elsewhere, never end a
// body, never answer, cut JSON short). It is mounted under a path prefix,
// as a project behind a gateway may be, so a client that builds an
// absolute path fails loudly instead of passing by accident.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

// coreTestKey is the fake anon key of the client newFakeAPI returns.
const coreTestKey = "anon-key-for-tests"

// fakeAPIPrefix is the path the fake project is mounted under.
const fakeAPIPrefix = "/base"

// fakeRequest is one request as the fake project received it.
type fakeRequest struct {
	Method string
	Path   string      // decoded, without the mount prefix
	URI    string      // escaped path and raw query as sent, without the mount prefix
	Query  url.Values  // never nil
	Pairs  [][2]string // the query's name=value pairs in order, decoded
	Header http.Header
	Body   []byte
}

// JSON decodes the body as a JSON object.
func (r fakeRequest) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), "body %q", r.Body)
	return m
}

// transportHeaders are set by net/http, not by the client.
var transportHeaders = map[string]bool{"User-Agent": true, "Accept-Encoding": true, "Content-Length": true}

// Headers returns the headers the client chose (not net/http's own), each
// with its values joined by ", ".
func (r fakeRequest) Headers() map[string]string {
	h := map[string]string{}
	for k, v := range r.Header {
		if !transportHeaders[k] {
			h[k] = strings.Join(v, ", ")
		}
	}
	return h
}

// fakeRoute answers method path; once routes answer a single request.
type fakeRoute struct {
	method, path string
	handler      http.HandlerFunc
	once, used   bool
}

// fakeAPI is a fake Supabase project. Handlers see the request with the
// mount prefix removed from its path and its body readable again.
type fakeAPI struct {
	*httptest.Server
	// ProjectURL is the project's URL, with the mount prefix: what
	// NewClient is given.
	ProjectURL string

	t        *testing.T
	fallback http.HandlerFunc
	mu       sync.Mutex
	routes   []*fakeRoute
	reqs     []fakeRequest
}

// newFakeAPI starts a fake project on 127.0.0.1 answering with fallback
// where no route matches (nil: 404 naming the request), and returns it with
// a client using coreTestKey and fast retries, then opts.
func newFakeAPI(t *testing.T, fallback http.HandlerFunc, opts ...Option) (*fakeAPI, *Client) {
	t.Helper()
	f := startFakeAPI(t, "127.0.0.1:0", fallback)
	c := f.client(t, coreTestKey,
		append([]Option{WithRetryPolicy(RetryPolicy{MaxRetries: 3, BaseDelay: time.Millisecond})}, opts...)...)
	return f, c
}

// newForeignAPI starts a fake project on 127.0.0.2, another host than the
// 127.0.0.1 of newFakeAPI (on Linux all of 127/8 is loopback), so net/http
// treats it as foreign: it drops Authorization on a redirect there, but
// keeps apikey. Where 127.0.0.2 cannot be bound, another port on 127.0.0.1
// is still another origin.
func newForeignAPI(t *testing.T, fallback http.HandlerFunc) *fakeAPI {
	t.Helper()
	if ln, err := net.Listen("tcp", "127.0.0.2:0"); err == nil {
		_ = ln.Close()
		return startFakeAPI(t, "127.0.0.2:0", fallback)
	}
	return startFakeAPI(t, "127.0.0.1:0", fallback)
}

func startFakeAPI(t *testing.T, addr string, fallback http.HandlerFunc) *fakeAPI {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	f := &fakeAPI{t: t, fallback: fallback}
	f.Server = &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(f.serve)}}
	f.Start()
	t.Cleanup(f.Close)
	f.ProjectURL = f.URL + fakeAPIPrefix
	return f
}

// client returns a client of the project with key and exactly opts.
func (f *fakeAPI) client(t *testing.T, key string, opts ...Option) *Client {
	t.Helper()
	c, err := NewClient(f.ProjectURL, key, opts...)
	require.NoError(t, err)
	return c
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.RequestURI, fakeAPIPrefix+"/") {
		f.t.Errorf("request outside the project path: %s %s", r.Method, r.RequestURI)
		w.WriteHeader(http.StatusTeapot)
		return
	}
	body, _ := io.ReadAll(r.Body)
	rec := fakeRequest{Method: r.Method, Path: strings.TrimPrefix(r.URL.Path, fakeAPIPrefix),
		URI: strings.TrimPrefix(r.RequestURI, fakeAPIPrefix), Query: url.Values{},
		Header: r.Header.Clone(), Body: body}
	if r.URL.RawQuery != "" {
		for part := range strings.SplitSeq(r.URL.RawQuery, "&") {
			k, v, _ := strings.Cut(part, "=")
			dk, err1 := url.QueryUnescape(k)
			dv, err2 := url.QueryUnescape(v)
			if err1 != nil || err2 != nil {
				f.t.Errorf("undecodable query %q", r.URL.RawQuery)
			}
			rec.Pairs = append(rec.Pairs, [2]string{dk, dv})
			rec.Query.Add(dk, dv)
		}
	}
	r.URL.Path = rec.Path
	r.URL.RawPath = strings.TrimPrefix(r.URL.RawPath, fakeAPIPrefix)
	r.Body = io.NopCloser(bytes.NewReader(body))

	f.mu.Lock()
	f.reqs = append(f.reqs, rec)
	h := f.fallback
	for _, ru := range f.routes {
		if ru.method == r.Method && ru.path == rec.Path && !(ru.once && ru.used) {
			ru.used = true
			h = ru.handler
			break
		}
	}
	f.mu.Unlock()
	if h == nil {
		writeJSON(w, http.StatusNotFound, []byte(`{"code":"no_route","message":"no route for `+r.Method+` `+rec.Path+`"}`))
		return
	}
	h(w, r)
}

// handle answers method path with h (the first unused matching route wins).
func (f *fakeAPI) handle(method, path string, h http.HandlerFunc) *fakeRoute {
	ru := &fakeRoute{method: method, path: path, handler: h}
	f.mu.Lock()
	f.routes = append(f.routes, ru)
	f.mu.Unlock()
	return ru
}

// on answers method path with status and body, as Supabase's Auth does;
// headers are name, value pairs.
func (f *fakeAPI) on(method, path string, status int, body []byte, headers ...string) *fakeRoute {
	return f.handle(method, path, func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Add(headers[i], headers[i+1])
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
		}
		w.Header().Set("X-Supabase-Api-Version", "2024-01-01")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
}

// answerSessions answers sign-in and refresh (POST /auth/v1/token) with a
// session for sub whose access token expires at exp.
func (f *fakeAPI) answerSessions(sub string, exp int64, refresh string) {
	b := coreSessionJSON(f.t, sub, exp, refresh)
	f.handle(http.MethodPost, "/auth/v1/token", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, b)
	})
}

// requests returns the requests received so far, in order.
func (f *fakeAPI) requests() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeRequest(nil), f.reqs...)
}

// last returns the last request received.
func (f *fakeAPI) last() fakeRequest {
	f.t.Helper()
	r := f.requests()
	require.NotEmpty(f.t, r, "no request was sent")
	return r[len(r)-1]
}

// coreJWT signs claims with a throwaway HS256 secret.
func coreJWT(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte("test-secret-test-secret-test-secret!"))
	require.NoError(t, err)
	return tok
}

// coreSessionJSON is a session response whose access token expires at exp.
func coreSessionJSON(t testing.TB, sub string, exp int64, refresh string) []byte {
	t.Helper()
	tok := coreJWT(t, jwt.MapClaims{"sub": sub, "role": "authenticated", "aud": "authenticated", "exp": exp})
	b, err := json.Marshal(map[string]any{
		"access_token": tok, "token_type": "bearer", "expires_in": 3600, "expires_at": exp,
		"refresh_token": refresh, "user": map[string]any{"id": sub, "aud": "authenticated", "role": "authenticated"},
	})
	require.NoError(t, err)
	return b
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "core", name))
	require.NoError(t, err)
	return b
}

// writeJSON answers status with body as JSON, as Supabase's gateway does.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Supabase-Api-Version", "2024-01-01")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// jsonReply answers status with body as JSON; headers are name, value pairs.
func jsonReply(status int, body string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// Misbehaviour, for the tests of what the client must never do with it
// (follow a redirect elsewhere, read without bound, wait forever, trust a
// body that does not decode).

// redirectTo answers with status and a Location on target carrying the
// request's path and query, as a proxy or a moved host would.
func redirectTo(status int, target func() string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", target()+r.URL.RequestURI())
		w.WriteHeader(status)
	}
}

// endlessBody answers 200 with prefix and then fill, again and again, until
// the client goes away: a body with no end and no Content-Length.
func endlessBody(prefix string, fill []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if _, err := io.WriteString(w, prefix); err != nil {
			return
		}
		for r.Context().Err() == nil {
			if _, err := w.Write(fill); err != nil {
				return
			}
		}
	}
}

// endlessRows is a JSON array whose rows never end.
func endlessRows() http.HandlerFunc {
	return endlessBody(`[`, bytes.Repeat([]byte(`{"id":1,"title":"a row of a stream that never ends"},`), 1000))
}

// endlessRow is a JSON array whose second row is one string that never ends.
func endlessRow() http.HandlerFunc {
	return endlessBody(`[{"id":1},{"id":2,"title":"`, bytes.Repeat([]byte("x"), 32<<10))
}

// neverSendHeaders reads the request and then sends nothing until the
// client gives up; arrived counts the requests.
func neverSendHeaders(arrived *atomic.Int32) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		arrived.Add(1)
		<-r.Context().Done()
	}
}

// truncatedJSON answers 200 with body, a JSON text cut short.
func truncatedJSON(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, []byte(body))
	}
}

// shortBody answers 200 with a Content-Length of declared and then only
// body, closing the connection: a transfer cut off midway.
func shortBody(t *testing.T, contentType string, declared int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		_, _ = fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", contentType, declared)
		_, _ = buf.WriteString(body)
		_ = buf.Flush()
	}
}

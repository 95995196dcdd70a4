package supabase

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

// coreTestKey is a fake anon key used by the core tests.
const coreTestKey = "anon-key-for-tests"

// coreRequest is one request as the test server saw it.
type coreRequest struct {
	Method string
	Path   string // decoded, without the /base prefix
	Query  url.Values
	Header http.Header
	Body   []byte
}

// JSON decodes the body as a generic JSON value.
func (r coreRequest) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), "body %q", r.Body)
	return m
}

// coreServer records requests and answers with handler. It is mounted
// under /base so that a client ignoring the path prefix fails.
type coreServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []coreRequest
}

func newCoreServer(t *testing.T, handler http.HandlerFunc) (*coreServer, *Client) {
	t.Helper()
	s := &coreServer{}
	mux := http.NewServeMux()
	mux.HandleFunc("/base/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec := coreRequest{Method: r.Method, Path: r.URL.Path[len("/base"):], Query: r.URL.Query(),
			Header: r.Header.Clone(), Body: body}
		s.mu.Lock()
		s.reqs = append(s.reqs, rec)
		s.mu.Unlock()
		r.URL.Path = rec.Path
		handler(w, r)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside the project path: %s %s", r.Method, r.URL.Path)
		w.WriteHeader(http.StatusTeapot)
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	c, err := NewClient(s.URL+"/base/", coreTestKey, WithRetryPolicy(RetryPolicy{MaxRetries: 3, BaseDelay: time.Millisecond}))
	require.NoError(t, err)
	return s, c
}

func (s *coreServer) requests() []coreRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]coreRequest(nil), s.reqs...)
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

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Supabase-Api-Version", "2024-01-01")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

package main

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/supabase-go/supabase"
)

const secret = "super-secret-jwt-token-with-at-least-32-characters-long"

func token(t *testing.T, exp time.Time) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "u1", "role": "authenticated",
		"aud": "authenticated", "email": "ada@example.com", "exp": exp.Unix()}).SignedString([]byte(secret))
	require.NoError(t, err)
	return s
}

func TestAPI(t *testing.T) {
	log.SetOutput(io.Discard)
	t.Cleanup(func() { log.SetOutput(os.Stderr) })
	var gotAuth []string
	rest := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "/rest/v1/todos", r.URL.Path)
		gotAuth = append(gotAuth, r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `[{"id":1,"title":"write docs","done":false}]`)
	}))
	defer rest.Close()
	base, err := supabase.NewClient(rest.URL, "anon-key")
	require.NoError(t, err)
	v, err := supabase.NewVerifier(rest.URL, supabase.WithJWTSecret(secret))
	require.NoError(t, err)
	defer v.Close()
	h := newHandler(base, v)

	good := token(t, time.Now().Add(time.Hour))
	for _, tt := range []struct {
		name, path, auth string
		status           int
		header           http.Header
		body             string
	}{
		{"health needs no token", "/healthz", "", 200,
			http.Header{"Content-Type": {"application/json"}}, `{"status":"ok"}`},
		{"no token", "/todos", "", 401,
			http.Header{"Content-Type": {"application/json"}, "Www-Authenticate": {"Bearer"}},
			`{"error":{"status":401,"message":"sign in required"}}`},
		{"forged token", "/me", "Bearer " + token(t, time.Now().Add(time.Hour))[:40] + "x.y", 401,
			http.Header{"Content-Type": {"application/json"}, "Www-Authenticate": {"Bearer"}},
			`{"error":{"status":401,"message":"sign in required"}}`},
		{"expired token", "/me", "Bearer " + token(t, time.Now().Add(-time.Hour)), 401,
			http.Header{"Content-Type": {"application/json"}, "Www-Authenticate": {"Bearer"}},
			`{"error":{"status":401,"message":"session expired: refresh the access token"}}`},
		{"me", "/me", "Bearer " + good, 200,
			http.Header{"Content-Type": {"application/json"}},
			`{"email":"ada@example.com","role":"authenticated","sub":"u1"}`},
		{"todos as the user", "/todos", "Bearer " + good, 200,
			http.Header{"Content-Type": {"application/json"}},
			`[{"id":1,"title":"write docs","done":false}]`},
	} {
		req := httptest.NewRequest("GET", tt.path, nil)
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		assert.Equal(t, tt.status, rec.Code, tt.name)
		assert.Equal(t, tt.header, rec.Header(), tt.name)
		assert.Equal(t, tt.body, strings.TrimSuffix(rec.Body.String(), "\n"), tt.name)
	}
	assert.Equal(t, []string{"Bearer " + good}, gotAuth, "PostgREST saw the caller's token only")
}

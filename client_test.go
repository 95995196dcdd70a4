package supabase

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewClientURLs(t *testing.T) {
	tests := []struct {
		in, base string
	}{
		{"https://abcdefgh.supabase.co", "https://abcdefgh.supabase.co"},
		{"https://abcdefgh.supabase.co/", "https://abcdefgh.supabase.co"},
		{"http://127.0.0.1:54321", "http://127.0.0.1:54321"},
		{"  https://api.example.com  ", "https://api.example.com"},
		{"https://example.com/supabase/", "https://example.com/supabase"},
		{"http://[::1]:54321", "http://[::1]:54321"},
	}
	for _, tt := range tests {
		c, err := NewClient(tt.in, "key")
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.base, c.URL())
		assert.Equal(t, tt.base+"/rest/v1", c.core.restURL)
		assert.Equal(t, tt.base+"/auth/v1", c.core.authURL)
	}
}

func TestNewClientRejects(t *testing.T) {
	tests := []struct {
		url, key, want string
	}{
		{"", "k", "empty project URL"},
		{"ftp://x.supabase.co", "k", "must start with http:// or https://"},
		{"abcdefgh.supabase.co", "k", "must start with http"},
		{"https://", "k", "has no host"},
		{"https://user:pw@x.supabase.co", "k", "must not contain credentials"},
		{"https://x.supabase.co?x=1", "k", "must not have a query"},
		{"https://x.supabase.co", "", "empty API key"},
		{"https://x.supabase.co", "  ", "empty API key"},
		{"https://x.supabase.co", "a b", "whitespace"},
	}
	for _, tt := range tests {
		_, err := NewClient(tt.url, tt.key)
		require.Error(t, err, "%q %q", tt.url, tt.key)
		assert.Contains(t, err.Error(), tt.want)
		assert.NotContains(t, err.Error(), "pw@", "credentials leak into the error")
	}
}

func TestOptionsValidate(t *testing.T) {
	bad := []struct {
		opt  Option
		want string
	}{
		{WithHTTPClient(nil), "nil *http.Client"},
		{WithHeaders(map[string]string{"Bad Name": "x"}), "invalid header name"},
		{WithHeaders(map[string]string{"X": "a\r\nb"}), "control character"},
		{WithSchema(" "), "empty schema"},
		{WithSessionStore(nil), "nil store"},
		{WithLogger(nil), "nil logger"},
		{WithAccessTokenFunc(nil), "nil func"},
		{WithRetryPolicy(RetryPolicy{MaxRetries: -1}), "negative"},
		{WithRefreshMargin(-1), "negative"},
		{WithClockLeeway(-1), "negative"},
	}
	for _, tt := range bad {
		_, err := NewClient("https://x.supabase.co", "k", tt.opt)
		require.Error(t, err)
		assert.Contains(t, err.Error(), tt.want)
	}
}

func TestNewClientFromEnv(t *testing.T) {
	t.Setenv(EnvURL, "")
	t.Setenv(EnvAnonKey, "")
	t.Setenv(EnvPublishableKey, "")
	t.Setenv(EnvKey, "")
	_, err := NewClientFromEnv()
	require.ErrorContains(t, err, "SUPABASE_URL is not set")

	t.Setenv(EnvURL, "http://127.0.0.1:54321")
	_, err = NewClientFromEnv()
	require.ErrorContains(t, err, "SUPABASE_ANON_KEY is not set")

	for _, name := range []string{EnvKey, EnvPublishableKey, EnvAnonKey} {
		t.Setenv(name, "key-from-"+name)
		c, err := NewClientFromEnv()
		require.NoError(t, err)
		assert.Equal(t, "key-from-"+name, c.core.key)
	}
}

func TestDefaultHTTPClient(t *testing.T) {
	c, err := NewClient("https://x.supabase.co", "k")
	require.NoError(t, err)
	assert.NotSame(t, http.DefaultClient, c.core.httpClient)
	tr := c.core.httpClient.Transport.(*http.Transport)
	assert.Zero(t, c.core.httpClient.Timeout, "a client timeout would cut off streamed bodies")
	assert.Equal(t, 30*time.Second, tr.ResponseHeaderTimeout)
	assert.GreaterOrEqual(t, tr.MaxIdleConnsPerHost, 64)

	own := &http.Client{}
	c, err = NewClient("https://x.supabase.co", "k", WithHTTPClient(own))
	require.NoError(t, err)
	assert.Nil(t, c.core.httpClient.Transport, "requests go through a copy of own")
	assert.Nil(t, own.Transport, "the caller's client is never modified")
	assert.Zero(t, own.Timeout)
}

func restGet(ctx context.Context, c *Client, path string) (*apiResponse, error) {
	return c.core.send(ctx, c.tokens, &apiRequest{service: ServiceREST, method: http.MethodGet,
		url: c.core.restURL + path, retry: true})
}

func TestRequestHeadersAnonAndUser(t *testing.T) {
	exp := int64(4102444800)
	srv, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, []byte(`[]`)) })
	srv.answerSessions("u1", exp, "r1")
	ctx := context.Background()
	_, err := restGet(ctx, c, "/todos?select=id")
	require.NoError(t, err)
	_, err = c.Auth.SignInWithPassword(ctx, "ada@example.com", "pw")
	require.NoError(t, err)
	_, err = restGet(ctx, c, "/todos?select=id")
	require.NoError(t, err)
	require.NoError(t, c.Auth.SignOut(ctx, SignOutLocal))
	_, err = restGet(ctx, c, "/todos?select=id")
	require.NoError(t, err)

	reqs := srv.requests()
	require.Len(t, reqs, 5)
	userTok := coreJWT(t, jwt.MapClaims{"sub": "u1", "role": "authenticated", "aud": "authenticated", "exp": exp})
	for i, want := range []string{coreTestKey, "", userTok, "", coreTestKey} {
		if want == "" {
			continue
		}
		r := reqs[i]
		assert.Equal(t, []string{coreTestKey}, r.Header.Values("Apikey"), "request %d", i)
		assert.Equal(t, []string{"Bearer " + want}, r.Header.Values("Authorization"), "request %d", i)
		assert.Equal(t, "supabase-go/"+Version, r.Header.Get("X-Client-Info"))
	}
	assert.Equal(t, "/auth/v1/logout", reqs[3].Path)
	assert.Equal(t, "Bearer "+userTok, reqs[3].Header.Get("Authorization"))
}

func TestGlobalHeadersOverride(t *testing.T) {
	srv, _ := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, []byte(`[]`)) })
	c := srv.client(t, coreTestKey, WithHeaders(map[string]string{
		"X-App-Name": "tests", "Authorization": "Bearer gateway"}))
	_, err := restGet(context.Background(), c, "/todos")
	require.NoError(t, err)
	r := srv.requests()[0]
	assert.Equal(t, "tests", r.Header.Get("X-App-Name"))
	assert.Equal(t, []string{"Bearer gateway"}, r.Header.Values("Authorization"))
}

func TestAccessTokenFunc(t *testing.T) {
	srv, _ := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, []byte(`[]`)) })
	calls := 0
	c := srv.client(t, coreTestKey, WithAccessTokenFunc(func(context.Context) (string, error) {
		calls++
		return "third-party-jwt", nil
	}))
	_, err := restGet(context.Background(), c, "/todos")
	require.NoError(t, err)
	assert.Equal(t, "Bearer third-party-jwt", srv.requests()[0].Header.Get("Authorization"))
	assert.Equal(t, 1, calls)

	_, err = c.Auth.SignInWithPassword(context.Background(), "a@b.c", "pw")
	assert.ErrorIs(t, err, ErrAuthDisabled)
	assert.Len(t, srv.requests(), 1, "no auth request is sent")

	boom := errors.New("provider down")
	c = srv.client(t, coreTestKey, WithAccessTokenFunc(func(context.Context) (string, error) { return "", boom }))
	_, err = restGet(context.Background(), c, "/todos")
	assert.ErrorIs(t, err, boom)
	assert.Len(t, srv.requests(), 1, "no request without a token")
}

func TestDerivedClients(t *testing.T) {
	srv, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, []byte(`[]`)) })
	ctx := context.Background()
	alice := c.WithAccessToken("alice-jwt")
	bob := c.WithSession(&Session{AccessToken: "bob-jwt", RefreshToken: "bob-r", ExpiresAt: 4102444800})
	analytics := alice.Schema("analytics")

	var wg sync.WaitGroup
	for _, cl := range []*Client{c, alice, bob, analytics} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := restGet(ctx, cl, "/todos")
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	got := map[string]int{}
	for _, r := range srv.requests() {
		got[r.Header.Get("Authorization")]++
	}
	assert.Equal(t, map[string]int{"Bearer " + coreTestKey: 1, "Bearer alice-jwt": 2, "Bearer bob-jwt": 1}, got)
	assert.Equal(t, "public", c.schema)
	assert.Equal(t, "public", alice.schema)
	assert.Equal(t, "analytics", analytics.schema)
	assert.Same(t, c.core, alice.core, "derived clients share the HTTP client and configuration")
	s, err := c.Auth.Session(ctx)
	assert.Nil(t, s)
	assert.ErrorIs(t, err, ErrSessionMissing, "the parent stays signed out")
}

func TestErrorsNeverLeakSecrets(t *testing.T) {
	// A server that is gone: the transport error must name neither the
	// password, the key, nor the query string's user data.
	srv, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {})
	srv.Close()
	_, err := c.Auth.SignInWithPassword(context.Background(), "ada@example.com", "hunter2-secret")
	require.Error(t, err)
	_, qerr := c.From("todos").Select("id").Eq("email", "ada-private@example.com").Execute(context.Background())
	require.Error(t, qerr)
	for _, e := range []error{err, qerr} {
		for _, s := range []string{"hunter2-secret", coreTestKey, "ada-private"} {
			assert.False(t, strings.Contains(e.Error(), s), "error %q leaks %q", e, s)
		}
	}
}

// NewClient's errors describe a bad argument without quoting it: the URL
// argument may be the key, passed in the wrong order.
func TestNewClientErrorsNeverEchoArguments(t *testing.T) {
	jwtKey := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2lnbmF0dXJl"
	for _, args := range [][2]string{
		{jwtKey, "http://127.0.0.1:54321"},
		{"sb_secret_abc123DEF", "https://ref.supabase.co"},
		{"ftp://sb_secret_abc123DEF", "k"},
		{"https://:sb_secret_abc123DEF@ref.supabase.co", "k"},
		{"https://ref.supabase.co/?apikey=sb_secret_abc123DEF", "k"},
		{"https:///sb_secret_abc123DEF", "k"},
		{"https://ref.supabase.co", "https://sb_secret_abc123DEF"},
		{"http://[sb_secret_abc123DEF", "k"},
		{"https://ref.supabase.co:sb_secret_abc123DEF", "k"},
	} {
		_, err := NewClient(args[0], args[1])
		require.ErrorIs(t, err, ErrInvalidArgument, args[0])
		assert.NotContains(t, err.Error(), "abc123DEF", "%q", args)
		assert.NotContains(t, err.Error(), "c2lnbmF0dXJl", "%q", args)
	}
	_, err := NewClient(jwtKey, "http://127.0.0.1:54321")
	assert.EqualError(t, err, "supabase: project URL must start with http:// or https:// (it has no scheme); it looks like an API key: are the URL and key arguments swapped?")
	_, err = NewClient("https://ref.supabase.co", "https://ref.supabase.co")
	assert.EqualError(t, err, "supabase: the API key looks like a URL: are the URL and key arguments swapped?")
}

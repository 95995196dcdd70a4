package localstack_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/supabase-go/supabase/localstack"
	"github.com/supabase-go/supabase/localstack/localstacktest"
)

func TestFunctionsEcho(t *testing.T) {
	c := newClient(t)
	ada := c.signUp("ada@example.com", "password1")
	r := c.raw("POST", "/functions/v1/echo/sub/path?x=1&x=2&y=z", strings.NewReader(`{"name":"Ada","n":1}`),
		c.as(ada.AccessToken, "Content-Type", "application/json", "X-Custom", "yes", "Cookie", "session=secret")...)
	if r.status != 200 {
		t.Fatalf("echo: %d %s", r.status, r.body)
	}
	got := r.json(t)
	claims, _ := got["claims"].(map[string]any)
	headers, _ := got["headers"].(map[string]any)
	if got["method"] != "POST" || got["path"] != "/echo/sub/path" || fmt.Sprint(got["query"]) != "map[x:[1 2] y:[z]]" ||
		fmt.Sprint(got["body"]) != "map[n:1 name:Ada]" {
		t.Errorf("echo = %s", r.body)
	}
	if claims["sub"] != ada.User.ID || claims["role"] != "authenticated" || claims["email"] != "ada@example.com" {
		t.Errorf("claims = %v", claims)
	}
	if headers["x-custom"] != "yes" || headers["content-type"] != "application/json" {
		t.Errorf("headers = %v", headers)
	}
	// Credentials are not repeated.
	for _, h := range []string{"authorization", "apikey", "cookie"} {
		if headers[h] != "[redacted]" {
			t.Errorf("%s echoed as %v", h, headers[h])
		}
	}
	if strings.Contains(string(r.body), ada.AccessToken) || strings.Contains(string(r.body), c.st.AnonKey) {
		t.Error("echo repeats a credential")
	}
	// The anon key is a valid JWT too; a body that is not JSON comes back as text.
	r = c.raw("PUT", "/functions/v1/echo", strings.NewReader("plain words"), "Authorization", "Bearer "+c.st.AnonKey)
	got = r.json(t)
	if r.status != 200 || got["body"] != "plain words" || got["claims"].(map[string]any)["role"] != "anon" || got["path"] != "/echo" {
		t.Errorf("echo as anon: %d %s", r.status, r.body)
	}
}

// The relay's refusals, as the Supabase CLI's edge runtime answers them.
func TestFunctionsRelayVerifiesJWT(t *testing.T) {
	c := newClient(t, localstacktest.Configure(func(cfg *localstack.Config) {
		cfg.Functions = map[string]http.Handler{
			"hello": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				role, _ := localstack.FunctionClaims(r)["role"].(string)
				fmt.Fprintf(w, "hello %q", role)
			}),
			"open": localstack.NoVerifyJWT(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(w, "open to all, claims %v", localstack.FunctionClaims(r))
			})),
		}
	}))
	expired := signedToken(t, c, map[string]any{"role": "authenticated", "sub": "x", "exp": 1})
	forged := c.st.AnonKey[:len(c.st.AnonKey)-4] + "AAAA"
	for _, tc := range []struct {
		name    string
		headers []string
		body    string
	}{
		{"no header", nil, `{"msg":"Error: Missing authorization header"}`},
		{"not bearer", []string{"Authorization", "Basic abc"}, `{"msg":"Error: Auth header is not 'Bearer {token}'"}`},
		{"lowercase bearer", []string{"Authorization", "bearer " + c.st.AnonKey}, `{"msg":"Error: Auth header is not 'Bearer {token}'"}`},
		{"not a JWT", []string{"Authorization", "Bearer nope"}, `{"msg":"TypeError: Invalid Token or Protected Header formatting"}`},
		{"bad signature", []string{"Authorization", "Bearer " + forged}, `{"msg":"Invalid JWT"}`},
		{"expired", []string{"Authorization", "Bearer " + expired}, `{"msg":"Invalid JWT"}`},
		{"apikey is not enough", []string{"apikey", c.st.AnonKey}, `{"msg":"Error: Missing authorization header"}`},
	} {
		r := c.raw("POST", "/functions/v1/hello", nil, tc.headers...)
		if r.status != 401 || string(r.body) != tc.body || r.header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %s (%s)", tc.name, r.status, r.body, r.header.Get("Content-Type"))
		}
	}
	if r := c.raw("GET", "/functions/v1/hello", nil, "Authorization", "Bearer "+c.st.ServiceRoleKey); r.status != 200 || string(r.body) != `hello "service_role"` {
		t.Errorf("hello: %d %s", r.status, r.body)
	}
	if r := c.raw("GET", "/functions/v1/open", nil); r.status != 200 || string(r.body) != "open to all, claims map[]" {
		t.Errorf("open: %d %s", r.status, r.body)
	}
	r := c.raw("POST", "/functions/v1/missing", nil, "Authorization", "Bearer "+c.st.AnonKey)
	if r.status != 404 || string(r.body) != "Function not found" || r.header.Get("Content-Type") != "text/plain" {
		t.Errorf("missing: %d %s", r.status, r.body)
	}
	// OPTIONS reaches the function without a token.
	if r := c.raw("OPTIONS", "/functions/v1/hello", nil); r.status != 200 || string(r.body) != `hello ""` {
		t.Errorf("OPTIONS: %d %s", r.status, r.body)
	}
}

func TestFunctionsFailAndCrash(t *testing.T) {
	c := newClient(t)
	auth := []string{"Authorization", "Bearer " + c.st.AnonKey}
	r := c.raw("POST", "/functions/v1/fail", nil, auth...)
	if r.status != 400 || string(r.body) != `{"error":"fail always fails","status":400}` || r.header.Get("x-relay-error") != "" {
		t.Errorf("fail: %d %s %v", r.status, r.body, r.header)
	}
	if r := c.raw("POST", "/functions/v1/fail?status=503", nil, auth...); r.status != 503 || string(r.body) != `{"error":"fail always fails","status":503}` {
		t.Errorf("fail 503: %d %s", r.status, r.body)
	}
	// A crash is the relay's answer, marked as such.
	r = c.raw("POST", "/functions/v1/crash", nil, auth...)
	if r.status != 500 || r.header.Get("x-relay-error") != "true" ||
		string(r.body) != `{"code":"WORKER_ERROR","message":"Function exited due to an error (please check logs)"}` {
		t.Errorf("crash: %d %s %v", r.status, r.body, r.header)
	}
}

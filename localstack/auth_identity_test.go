package localstack_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/supabase-go/supabase/localstack"
	"github.com/supabase-go/supabase/localstack/localstacktest"
)

// Sign-in with an ID token from the stack's test OIDC provider, verified
// as Supabase Auth verifies one: signature, issuer, expiry, audience and
// the nonce's SHA-256.
func TestIDTokenSignIn(t *testing.T) {
	clk := newClock()
	c := newClient(t, localstacktest.Configure(func(cfg *localstack.Config) { cfg.Now = clk.now }))
	nonce := "raw-nonce-value"
	hashed := fmt.Sprintf("%x", sha256.Sum256([]byte(nonce)))
	claims := map[string]any{"sub": "10769150350006150715113082367", "email": "Linus@Example.com", "email_verified": true, "name": "Linus", "nonce": hashed}
	tok := c.st.IDToken(claims)
	grant := func(body map[string]any) reply {
		return c.do("POST", "/auth/v1/token?grant_type=id_token", "", body)
	}

	r := grant(map[string]any{"provider": "google", "id_token": tok, "nonce": nonce})
	if r.status != 200 {
		t.Fatalf("id_token: %d %s", r.status, r.body)
	}
	var s session
	json.Unmarshal(r.body, &s)
	u := r.json(t)["user"].(map[string]any)
	id := u["identities"].([]any)[0].(map[string]any)
	if s.User.Email != "linus@example.com" || id["provider"] != "google" || id["id"] != claims["sub"] ||
		id["identity_data"].(map[string]any)["iss"] != c.st.Server.OIDCIssuer() || amrMethod(t, s.AccessToken) != "oauth" {
		t.Errorf("user = %v", u)
	}
	// The same identity signs in to the same user.
	if r := grant(map[string]any{"provider": "google", "id_token": tok, "nonce": nonce}); r.status != 200 || r.json(t)["user"].(map[string]any)["id"] != s.User.ID {
		t.Errorf("second sign-in: %d %s", r.status, r.body)
	}
	// By issuer and client id instead of a provider name.
	if r := grant(map[string]any{"issuer": c.st.Server.OIDCIssuer(), "client_id": localstack.TestOIDCClientID, "id_token": tok, "nonce": nonce}); r.status != 200 {
		t.Errorf("by issuer: %d %s", r.status, r.body)
	}

	bad := func(body map[string]any, status int, want string) {
		t.Helper()
		wantError(t, grant(body), status, want)
	}
	bad(map[string]any{"provider": "google"}, 400, `{"error":"invalid request","error_description":"id_token required"}`)
	bad(map[string]any{"id_token": tok}, 400, `{"error":"invalid request","error_description":"provider or client_id and issuer required"}`)
	bad(map[string]any{"provider": "myspace", "id_token": tok}, 400, `{"code":"validation_failed","message":"Custom OIDC provider \"myspace\" not allowed"}`)
	bad(map[string]any{"provider": "google", "id_token": tok}, 400,
		`{"error":"invalid request","error_description":"Passed nonce and nonce in id_token should either both exist or not."}`)
	bad(map[string]any{"provider": "google", "id_token": tok, "nonce": hashed}, 400, `{"error":"invalid nonce","error_description":"Nonces mismatch"}`)
	bad(map[string]any{"provider": "google", "id_token": tok[:len(tok)-4] + "AAAA", "nonce": nonce}, 400,
		`{"error":"invalid request","error_description":"Bad ID token"}`)
	bad(map[string]any{"provider": "google", "id_token": c.st.IDToken(map[string]any{"sub": "1", "aud": "someone-else"})}, 400,
		`{"error":"invalid request","error_description":"Unacceptable audience in id_token: [someone-else]"}`)
	bad(map[string]any{"provider": "google", "id_token": c.st.IDToken(map[string]any{"sub": "1", "iss": "https://accounts.google.com"})}, 400,
		`{"error":"invalid request","error_description":"Bad ID token"}`)
	bad(map[string]any{"provider": "google", "id_token": c.st.IDToken(map[string]any{"email": "x@example.com"})}, 400,
		`{"error":"invalid request","error_description":"Missing sub claim in id_token"}`)
	withAt := c.st.IDToken(map[string]any{"sub": "2", "at_hash": localstack.AccessTokenHash("provider-access-token")})
	bad(map[string]any{"provider": "google", "id_token": withAt, "access_token": "another-token"}, 400,
		`{"error":"invalid request","error_description":"Bad ID token"}`)
	if r := grant(map[string]any{"provider": "google", "id_token": withAt, "access_token": "provider-access-token"}); r.status != 200 {
		t.Errorf("matching at_hash: %d %s", r.status, r.body)
	}
	clk.add(time.Hour + time.Minute)
	bad(map[string]any{"provider": "google", "id_token": tok, "nonce": nonce}, 400, `{"error":"invalid request","error_description":"Bad ID token"}`)
}

// The provider's discovery document and JWKS verify the tokens it signs.
func TestTestOIDCProviderDiscovery(t *testing.T) {
	c := newClient(t)
	r := c.do("GET", "/localstack/oidc/.well-known/openid-configuration", "", nil, "apikey", "")
	d := r.json(t)
	if r.status != 200 || d["issuer"] != c.st.Server.OIDCIssuer() || d["jwks_uri"] != c.st.URL+"/localstack/oidc/jwks" {
		t.Fatalf("discovery: %d %s", r.status, r.body)
	}
	r = c.do("GET", "/localstack/oidc/jwks", "", nil, "apikey", "")
	var set struct {
		Keys []struct{ Kty, Crv, Alg, Kid, X, Y string }
	}
	if err := json.Unmarshal(r.body, &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("jwks: %s", r.body)
	}
	k := set.Keys[0]
	tok := c.st.IDToken(map[string]any{"sub": "42"})
	var hdr struct{ Kid, Alg string }
	b, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	json.Unmarshal(b, &hdr)
	if k.Kty != "EC" || k.Crv != "P-256" || k.Alg != "ES256" || hdr.Kid != k.Kid || hdr.Alg != "ES256" {
		t.Errorf("key %+v, token header %+v", k, hdr)
	}
	if !verifyES256(t, tok, k.X, k.Y) {
		t.Error("the JWKS key does not verify the token")
	}
}

// Manual linking: a signed-in user links a provider identity through the
// OAuth flow, and unlinks identities but never the last one.
func TestIdentityLinking(t *testing.T) {
	t.Run("disabled", func(t *testing.T) {
		off := newClient(t)
		s0 := off.signUp("solo@example.com", "password1")
		wantError(t, off.do("GET", "/auth/v1/user/identities/authorize?provider=github&skip_http_redirect=true", s0.AccessToken, nil), 404,
			`{"code":"manual_linking_disabled","message":"Manual linking is disabled"}`)
	})
	c := newClient(t, localstacktest.Configure(func(cfg *localstack.Config) { cfg.ManualLinking = true }))
	s := c.signUp("link@example.com", "password1")
	wantError(t, c.do("GET", "/auth/v1/user/identities/authorize?provider=github", "", nil), 403,
		`{"code":"bad_jwt","message":"invalid claim: missing sub claim"}`)
	link := func(login string) *url.URL {
		t.Helper()
		r := c.do("GET", "/auth/v1/user/identities/authorize?provider=github&skip_http_redirect=true&login_hint="+login+
			"&redirect_to="+url.QueryEscape("http://127.0.0.1:3000/linked"), s.AccessToken, nil)
		if r.status != 200 {
			t.Fatalf("link authorize: %d %s", r.status, r.body)
		}
		_, cb := hop(t, "GET", r.json(t)["url"].(string))
		_, back := hop(t, "GET", cb.String())
		return back
	}
	// A different email at the provider: linked all the same.
	back := link("octocat@example.com")
	if back.Path != "/linked" || fragment(t, back).Get("access_token") == "" {
		t.Fatalf("linked: %v", back)
	}
	r := c.do("GET", "/auth/v1/user", s.AccessToken, nil)
	u := r.json(t)
	ids := u["identities"].([]any)
	if len(ids) != 2 || u["email"] != "link@example.com" || fmt.Sprint(u["app_metadata"]) != "map[provider:email providers:[email github]]" {
		t.Fatalf("user after linking: %s", r.body)
	}
	back = link("octocat@example.com")
	if back.Query().Get("error_code") != "identity_already_exists" || back.Query().Get("error_description") != "Identity is already linked" {
		t.Errorf("linking twice: %v", back)
	}
	other := c.signUp("other@example.com", "password1")
	req, _ := http.NewRequest("GET", c.st.URL+"/auth/v1/user/identities/authorize?provider=github&login_hint=octocat@example.com", nil)
	req.Header.Set("apikey", c.st.AnonKey)
	req.Header.Set("Authorization", "Bearer "+other.AccessToken)
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc, _ := resp.Location(); resp.StatusCode != http.StatusFound || loc == nil || loc.Path != "/localstack/oauth/authorize" {
		t.Fatalf("redirecting link authorize: %d %v", resp.StatusCode, loc)
	}
	_, cb := hop(t, "GET", resp.Header.Get("Location"))
	_, back = hop(t, "GET", cb.String())
	// A 422 has no OAuth error name: Supabase Auth says server_error.
	if back.Query().Get("error") != "server_error" || back.Query().Get("error_code") != "identity_already_exists" ||
		back.Query().Get("error_description") != "Identity is already linked to another user" {
		t.Errorf("linking another user's identity: %v", back)
	}

	var emailID, githubID string
	for _, i := range ids {
		m := i.(map[string]any)
		if m["provider"] == "email" {
			emailID = m["identity_id"].(string)
		} else {
			githubID = m["identity_id"].(string)
		}
	}
	wantError(t, c.do("DELETE", "/auth/v1/user/identities/not-a-uuid", s.AccessToken, nil), 404,
		`{"code":"validation_failed","message":"identity_id must be an UUID"}`)
	wantError(t, c.do("DELETE", "/auth/v1/user/identities/00000000-0000-4000-8000-000000000000", s.AccessToken, nil), 422,
		`{"code":"identity_not_found","message":"Identity doesn't exist"}`)
	// Unlinking the email identity moves the user to the provider's email.
	if r := c.do("DELETE", "/auth/v1/user/identities/"+emailID, s.AccessToken, nil); r.status != 200 || string(r.body) != "{}" {
		t.Fatalf("unlink: %d %s", r.status, r.body)
	}
	u = c.do("GET", "/auth/v1/user", s.AccessToken, nil).json(t)
	if u["email"] != "octocat@example.com" || fmt.Sprint(u["app_metadata"]) != "map[provider:github providers:[github]]" {
		t.Errorf("after unlinking email: %v", u)
	}
	wantError(t, c.do("DELETE", "/auth/v1/user/identities/"+githubID, s.AccessToken, nil), 422,
		`{"code":"single_identity_not_deletable","message":"User must have at least 1 identity after unlinking"}`)

	// An ID token identity links to the caller too.
	r = c.do("POST", "/auth/v1/token?grant_type=id_token", s.AccessToken, map[string]any{"provider": "google", "link_identity": true,
		"id_token": c.st.IDToken(map[string]any{"sub": "g-1", "email": "link@gmail.test", "email_verified": true})})
	if r.status != 200 || len(r.json(t)["user"].(map[string]any)["identities"].([]any)) != 2 {
		t.Errorf("link by ID token: %d %s", r.status, r.body)
	}
}

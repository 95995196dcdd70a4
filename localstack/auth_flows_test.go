package localstack_test

import (
	"context"
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

func newClock() *clock { return &clock{t: time.Now()} }

// noFollow is an HTTP client that hands redirects back instead of
// following them, as the tests follow each hop themselves.
var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// hop sends GET or POST target (a full URL) with no API key, like a
// browser, and returns the status and Location.
func hop(t *testing.T, method, target string) (int, *url.URL) {
	t.Helper()
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := resp.Location()
	return resp.StatusCode, loc
}

// pkcePair returns a code verifier and its S256 challenge.
func pkcePair(seed string) (verifier, challenge string) {
	verifier = strings.Repeat(seed, 64/len(seed)+1)[:64]
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

func fragment(t *testing.T, u *url.URL) url.Values {
	t.Helper()
	v, err := url.ParseQuery(u.Fragment)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (c *client) exchange(code, verifier string) reply {
	c.t.Helper()
	return c.do("POST", "/auth/v1/token?grant_type=pkce", "", map[string]any{"auth_code": code, "code_verifier": verifier})
}

func amrMethod(t *testing.T, accessToken string) string {
	t.Helper()
	amr := claimsOf(t, accessToken)["amr"].([]any)
	return amr[0].(map[string]any)["method"].(string)
}

// A magic link asked for with a code challenge ends in ?code=, which the
// verifier exchanges once for a session; the flow state is kept as
// Supabase Auth keeps it.
func TestPKCEMagicLink(t *testing.T) {
	clk := newClock()
	c := newClient(t, localstacktest.Configure(func(cfg *localstack.Config) { cfg.Now = clk.now }))
	ada := c.signUp("ada@example.com", "password1")
	verifier, challenge := pkcePair("verifier-")
	redirect := "http://127.0.0.1:4321/callback"

	r := c.do("POST", "/auth/v1/otp?redirect_to="+url.QueryEscape(redirect), "", map[string]any{
		"email": "Ada@Example.com", "create_user": true, "code_challenge": challenge, "code_challenge_method": "s256",
	})
	if r.status != 200 || string(r.body) != "{}" {
		t.Fatalf("otp: %d %s", r.status, r.body)
	}
	mail := c.st.LastEmail("ada@example.com")
	if mail.Type != "magiclink" || !strings.HasPrefix(mail.TokenHash, "pkce_") || len(mail.OTP) != 6 || mail.RedirectTo != redirect {
		t.Errorf("email = %+v", mail)
	}
	wantLink := c.st.URL + "/auth/v1/verify?token=" + mail.TokenHash + "&type=magiclink&redirect_to=" + redirect
	if mail.ActionLink != wantLink {
		t.Errorf("link = %s\nwant   %s", mail.ActionLink, wantLink)
	}

	var (
		method, ccMethod, provider, storedChallenge string
		userID                                      *string
		issued                                      *time.Time
	)
	err := c.st.Server.Pool().QueryRow(context.Background(), `SELECT authentication_method, code_challenge_method::text, provider_type,
		code_challenge, user_id::text, auth_code_issued_at FROM auth.flow_state`).Scan(&method, &ccMethod, &provider, &storedChallenge, &userID, &issued)
	if err != nil {
		t.Fatal(err)
	}
	if method != "magiclink" || ccMethod != "s256" || provider != "magiclink" || storedChallenge != challenge ||
		userID == nil || *userID != ada.User.ID || issued != nil {
		t.Errorf("flow state: %s %s %s %s %v %v", method, ccMethod, provider, storedChallenge, userID, issued)
	}

	status, loc := hop(t, "GET", mail.ActionLink)
	if status != http.StatusSeeOther || !strings.HasPrefix(loc.String(), redirect+"?code=") || loc.Fragment != "" {
		t.Fatalf("verify: %d %v", status, loc)
	}
	code := loc.Query().Get("code")
	if !isUUIDString(code) {
		t.Errorf("code = %q", code)
	}

	wantError(t, c.exchange(code, "not-the-verifier"), 400,
		`{"code":"bad_code_verifier","message":"code challenge does not match previously saved code verifier"}`)
	wantError(t, c.do("POST", "/auth/v1/token?grant_type=pkce", "", map[string]any{"auth_code": code}), 400,
		`{"code":"validation_failed","message":"invalid request: both auth code and code verifier should be non-empty"}`)
	r = c.exchange(code, verifier)
	if r.status != 200 {
		t.Fatalf("exchange: %d %s", r.status, r.body)
	}
	var s session
	json.Unmarshal(r.body, &s)
	if s.User.ID != ada.User.ID || s.RefreshToken == "" || amrMethod(t, s.AccessToken) != "magiclink" {
		t.Errorf("session = %s", r.body)
	}
	if r := c.refresh(s.RefreshToken); r.status != 200 {
		t.Errorf("refresh the exchanged session: %d %s", r.status, r.body)
	}
	// A code works once; the link too.
	wantError(t, c.exchange(code, verifier), 404, `{"code":"flow_state_not_found","message":"invalid flow state, no valid flow state found"}`)
	status, loc = hop(t, "GET", mail.ActionLink)
	if status != http.StatusSeeOther || loc.Query().Get("error_code") != "otp_expired" ||
		fragment(t, loc).Get("error_description") != "Email link is invalid or has expired" || fragment(t, loc).Get("error") != "access_denied" {
		t.Errorf("reused link: %d %v", status, loc)
	}

	// A code not exchanged within the flow state's lifetime (counted from
	// its issue for a magic link) has expired.
	c.do("POST", "/auth/v1/otp", "", map[string]any{"email": "ada@example.com", "code_challenge": challenge, "code_challenge_method": "S256"})
	clk.add(10 * time.Minute) // the link may be followed later...
	_, loc = hop(t, "GET", c.st.LastEmail("ada@example.com").ActionLink)
	code = loc.Query().Get("code")
	if code == "" {
		t.Fatalf("second link: %v", loc)
	}
	clk.add(4 * time.Minute) // ...but the code is good for five minutes
	if r := c.exchange(code, verifier); r.status != 200 {
		t.Errorf("exchange within five minutes of the code: %d %s", r.status, r.body)
	}
	c.do("POST", "/auth/v1/otp", "", map[string]any{"email": "ada@example.com", "code_challenge": challenge, "code_challenge_method": "s256"})
	_, loc = hop(t, "GET", c.st.LastEmail("ada@example.com").ActionLink)
	clk.add(5*time.Minute + time.Second)
	wantError(t, c.exchange(loc.Query().Get("code"), verifier), 422, `{"code":"flow_state_expired","message":"invalid flow state, flow state has expired"}`)
}

func isUUIDString(s string) bool {
	return len(s) == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-'
}

// Without a code challenge the link ends in the fragment, and the code in
// the email can be typed in instead.
func TestImplicitMagicLinkAndOTP(t *testing.T) {
	clk := newClock()
	c := newClient(t, localstacktest.Configure(func(cfg *localstack.Config) { cfg.Now = clk.now }))

	// An unknown address is signed up, unless create_user is false.
	wantError(t, c.do("POST", "/auth/v1/otp", "", map[string]any{"email": "new@example.com", "create_user": false}), 422,
		`{"code":"otp_disabled","message":"Signups not allowed for otp"}`)
	if r := c.do("POST", "/auth/v1/otp", "", map[string]any{"email": "new@example.com", "data": map[string]any{"plan": "free"}}); r.status != 200 {
		t.Fatalf("otp: %d %s", r.status, r.body)
	}
	mail := c.st.LastEmail("new@example.com")
	if strings.HasPrefix(mail.TokenHash, "pkce_") || mail.RedirectTo != "http://127.0.0.1:3000" {
		t.Errorf("email = %+v", mail)
	}
	status, loc := hop(t, "GET", mail.ActionLink)
	f := fragment(t, loc)
	if status != http.StatusSeeOther || loc.Scheme+"://"+loc.Host != "http://127.0.0.1:3000" || f.Get("type") != "magiclink" ||
		f.Get("token_type") != "bearer" || f.Get("expires_in") != "3600" || f.Get("refresh_token") == "" || !f.Has("sb") {
		t.Fatalf("verify: %d %v", status, loc)
	}
	cl := claimsOf(t, f.Get("access_token"))
	if cl["email"] != "new@example.com" || amrMethod(t, f.Get("access_token")) != "otp" {
		t.Errorf("claims = %v", cl)
	}
	if meta, _ := cl["user_metadata"].(map[string]any); meta["plan"] != "free" {
		t.Errorf("user_metadata = %v", cl["user_metadata"])
	}

	// The code in the email, typed in.
	c.do("POST", "/auth/v1/otp", "", map[string]any{"email": "new@example.com"})
	mail = c.st.LastEmail("new@example.com")
	wantError(t, c.do("POST", "/auth/v1/verify", "", map[string]any{"type": "email", "email": "new@example.com", "token": "000000x"}), 403,
		`{"code":"otp_expired","message":"Token has expired or is invalid"}`)
	r := c.do("POST", "/auth/v1/verify", "", map[string]any{"type": "email", "email": "NEW@example.com", "token": mail.OTP})
	if r.status != 200 || r.json(t)["access_token"] == nil {
		t.Fatalf("verify code: %d %s", r.status, r.body)
	}
	wantError(t, c.do("POST", "/auth/v1/verify", "", map[string]any{"type": "email", "email": "new@example.com", "token": mail.OTP}), 403,
		`{"code":"otp_expired","message":"Token has expired or is invalid"}`)

	// By token hash, and the checks on the parameters.
	c.do("POST", "/auth/v1/otp", "", map[string]any{"email": "new@example.com"})
	mail = c.st.LastEmail("new@example.com")
	wantError(t, c.do("POST", "/auth/v1/verify", "", map[string]any{"type": "magiclink", "token_hash": mail.TokenHash, "email": "new@example.com"}), 400,
		`{"code":"validation_failed","message":"Only the token_hash and type should be provided"}`)
	wantError(t, c.do("POST", "/auth/v1/verify", "", map[string]any{"type": "magiclink"}), 400,
		`{"code":"validation_failed","message":"Verify requires either a token or a token hash"}`)
	if r := c.do("POST", "/auth/v1/verify", "", map[string]any{"type": "magiclink", "token_hash": mail.TokenHash}); r.status != 200 {
		t.Fatalf("verify token hash: %d %s", r.status, r.body)
	}

	// A link older than the OTP lifetime (an hour) has expired.
	c.do("POST", "/auth/v1/otp", "", map[string]any{"email": "new@example.com"})
	clk.add(time.Hour + time.Second)
	_, loc = hop(t, "GET", c.st.LastEmail("new@example.com").ActionLink)
	if f := fragment(t, loc); f.Get("error_code") != "otp_expired" || loc.RawQuery != "" {
		t.Errorf("expired link: %v", loc)
	}
	wantError(t, c.do("POST", "/auth/v1/otp", "", map[string]any{"phone": "+15555550100"}), 400,
		`{"code":"phone_provider_disabled","message":"Unsupported phone provider"}`)
}

// With confirmation required, a PKCE sign-up's confirmation link and a
// recovery link end in codes, exchanged for sessions whose amr names the
// flow.
func TestPKCEConfirmationAndRecovery(t *testing.T) {
	c := newClient(t, localstacktest.Configure(func(cfg *localstack.Config) { cfg.RequireEmailConfirmation = true }))
	verifier, challenge := pkcePair("confirm-")
	r := c.do("POST", "/auth/v1/signup", "", map[string]any{
		"email": "conf@example.com", "password": "password1", "code_challenge": challenge, "code_challenge_method": "s256",
	})
	if r.status != 200 || r.json(t)["confirmation_sent_at"] == nil {
		t.Fatalf("signup: %d %s", r.status, r.body)
	}
	mail := c.st.LastEmail("conf@example.com")
	if mail.Type != "signup" || !strings.HasPrefix(mail.TokenHash, "pkce_") {
		t.Fatalf("email = %+v", mail)
	}
	_, loc := hop(t, "GET", mail.ActionLink)
	r = c.exchange(loc.Query().Get("code"), verifier)
	if r.status != 200 {
		t.Fatalf("exchange: %d %s", r.status, r.body)
	}
	var s session
	json.Unmarshal(r.body, &s)
	if amrMethod(t, s.AccessToken) != "email/signup" {
		t.Errorf("amr = %v", claimsOf(t, s.AccessToken)["amr"])
	}
	c.signIn("conf@example.com", "password1") // confirmed

	// An unknown address gets the same empty answer and no email.
	if r := c.do("POST", "/auth/v1/recover", "", map[string]any{"email": "nobody@example.com"}); r.status != 200 || string(r.body) != "{}" {
		t.Errorf("recover unknown: %d %s", r.status, r.body)
	}
	if got := c.st.Server.Emails("nobody@example.com"); len(got) != 0 {
		t.Errorf("emails to an unknown address: %+v", got)
	}
	verifier, challenge = pkcePair("recover-")
	if r := c.do("POST", "/auth/v1/recover?redirect_to="+url.QueryEscape("http://127.0.0.1:3000/reset"), "", map[string]any{
		"email": "conf@example.com", "code_challenge": challenge, "code_challenge_method": "s256",
	}); r.status != 200 {
		t.Fatalf("recover: %d %s", r.status, r.body)
	}
	mail = c.st.LastEmail("conf@example.com")
	_, loc = hop(t, "GET", mail.ActionLink)
	if !strings.HasPrefix(loc.String(), "http://127.0.0.1:3000/reset?code=") {
		t.Fatalf("recovery link: %v", loc)
	}
	r = c.exchange(loc.Query().Get("code"), verifier)
	json.Unmarshal(r.body, &s)
	if r.status != 200 || amrMethod(t, s.AccessToken) != "recovery" {
		t.Fatalf("exchange: %d %s", r.status, r.body)
	}
	if r := c.do("PUT", "/auth/v1/user", s.AccessToken, map[string]any{"password": "password2"}); r.status != 200 {
		t.Fatalf("new password: %d %s", r.status, r.body)
	}
	c.signIn("conf@example.com", "password2")

	wantError(t, c.do("POST", "/auth/v1/recover", "", map[string]any{"email": "conf@example.com", "code_challenge": "short", "code_challenge_method": "s256"}), 400,
		`{"code":"validation_failed","message":"code challenge has to be between 43 and 128 characters"}`)
	wantError(t, c.do("POST", "/auth/v1/otp", "", map[string]any{"email": "conf@example.com", "code_challenge": challenge}), 400,
		`{"code":"validation_failed","message":"PKCE flow requires code_challenge_method and code_challenge"}`)
}

// redirect_to is kept only when allowed: the site URL, loopback on any
// port, or the allow list's globs; anything else becomes the site URL.
func TestRedirectAllowList(t *testing.T) {
	c := newClient(t, localstacktest.Configure(func(cfg *localstack.Config) {
		cfg.SiteURL = "https://app.example.com"
		cfg.URIAllowList = []string{"https://*.example.org/auth/**", "myapp://callback", "http://localhost:8080/cb?x=1"}
	}))
	for _, tc := range []struct{ to, want string }{
		{"https://app.example.com/welcome", "https://app.example.com/welcome"},
		{"https://app.example.com:8443/x", "https://app.example.com"},
		{"http://127.0.0.1:51234/callback", "http://127.0.0.1:51234/callback"},
		{"http://[::1]:9/cb", "http://[::1]:9/cb"},
		{"http://localhost:1234/cb", "https://app.example.com"},
		{"https://preview.example.org/auth/callback/deep", "https://preview.example.org/auth/callback/deep"},
		{"https://a.b.example.org/auth/x", "https://app.example.com"},
		{"myapp://callback", "myapp://callback"},
		{"https://evil.example.net/", "https://app.example.com"},
		{"http://10.0.0.1/cb", "https://app.example.com"},
		{"http://2130706433/", "https://app.example.com"},
	} {
		if r := c.do("POST", "/auth/v1/otp?redirect_to="+url.QueryEscape(tc.to), "", map[string]any{"email": "r@example.com"}); r.status != 200 {
			t.Fatalf("otp: %d %s", r.status, r.body)
		}
		if got := c.st.LastEmail("r@example.com").RedirectTo; got != tc.want {
			t.Errorf("redirect_to %s became %s, want %s", tc.to, got, tc.want)
		}
	}
}

// The OAuth dance over HTTP, as a browser runs it: /authorize, the test
// provider's page, /callback, the app with a code, and the exchange.
func TestOAuthPKCEFlow(t *testing.T) {
	c := newClient(t)
	verifier, challenge := pkcePair("oauth-")
	app := "http://127.0.0.1:8765/callback"
	start := c.st.URL + "/auth/v1/authorize?provider=github&redirect_to=" + url.QueryEscape(app) +
		"&code_challenge=" + challenge + "&code_challenge_method=s256&login_hint=Grace@Example.com&name=Grace"

	status, loc := hop(t, "GET", start)
	if status != http.StatusFound || loc.Path != "/localstack/oauth/authorize" {
		t.Fatalf("authorize: %d %v", status, loc)
	}
	q := loc.Query()
	if q.Get("client_id") != localstack.TestOIDCClientID || q.Get("redirect_uri") != c.st.URL+"/auth/v1/callback" ||
		q.Get("response_type") != "code" || !isUUIDString(q.Get("state")) || q.Get("login_hint") != "Grace@Example.com" || q.Has("code_challenge") {
		t.Errorf("provider URL = %v", loc)
	}
	var provider, method string
	var referrer *string
	if err := c.st.Server.Pool().QueryRow(context.Background(), `SELECT provider_type, authentication_method, referrer FROM auth.flow_state WHERE id = $1`,
		q.Get("state")).Scan(&provider, &method, &referrer); err != nil || provider != "github" || method != "oauth" || referrer == nil || *referrer != app {
		t.Errorf("flow state: %s %s %v %v", provider, method, referrer, err)
	}
	status, cb := hop(t, "GET", loc.String())
	if status != http.StatusFound || cb.Path != "/auth/v1/callback" || cb.Query().Get("state") != q.Get("state") || cb.Query().Get("code") == "" {
		t.Fatalf("provider: %d %v", status, cb)
	}
	status, back := hop(t, "GET", cb.String())
	if status != http.StatusFound || !strings.HasPrefix(back.String(), app+"?code=") {
		t.Fatalf("callback: %d %v", status, back)
	}
	// The callback cannot be replayed.
	r := c.do("GET", cb.RequestURI(), "", nil)
	wantError(t, r, 400, `{"code":"flow_state_already_used","message":"State has already been used"}`)

	r = c.exchange(back.Query().Get("code"), verifier)
	if r.status != 200 {
		t.Fatalf("exchange: %d %s", r.status, r.body)
	}
	body := r.json(t)
	if !strings.HasPrefix(fmt.Sprint(body["provider_token"]), "local-") {
		t.Errorf("provider_token = %v", body["provider_token"])
	}
	u := body["user"].(map[string]any)
	ids := u["identities"].([]any)
	if u["email"] != "grace@example.com" || u["email_confirmed_at"] == nil || len(ids) != 1 ||
		fmt.Sprint(u["app_metadata"]) != "map[provider:github providers:[github]]" {
		t.Errorf("user = %v", u)
	}
	id := ids[0].(map[string]any)
	data := id["identity_data"].(map[string]any)
	if id["provider"] != "github" || data["email"] != "grace@example.com" || data["name"] != "Grace" || data["email_verified"] != true || data["sub"] != id["id"] {
		t.Errorf("identity = %v", id)
	}
	if meta := u["user_metadata"].(map[string]any); meta["full_name"] != "Grace" {
		t.Errorf("user_metadata = %v", meta)
	}
	if amrMethod(t, body["access_token"].(string)) != "oauth" {
		t.Errorf("amr = %v", claimsOf(t, body["access_token"].(string))["amr"])
	}

	// Signing in again finds the same user; another provider with the same
	// verified email is linked to it.
	for _, p := range []string{"github", "google"} {
		_, loc = hop(t, "GET", c.st.URL+"/auth/v1/authorize?provider="+p+"&login_hint=grace@example.com&code_challenge="+challenge+"&code_challenge_method=s256")
		_, cb = hop(t, "GET", loc.String())
		_, back = hop(t, "GET", cb.String())
		if back.Scheme+"://"+back.Host != "http://127.0.0.1:3000" {
			t.Errorf("without redirect_to the flow ends at the site URL: %v", back)
		}
		r = c.exchange(back.Query().Get("code"), verifier)
		if r.status != 200 || r.json(t)["user"].(map[string]any)["id"] != u["id"] {
			t.Fatalf("%s sign-in: %d %s", p, r.status, r.body)
		}
	}
	if u := r.json(t)["user"].(map[string]any); fmt.Sprint(u["app_metadata"]) != "map[provider:github providers:[github google]]" || len(u["identities"].([]any)) != 2 {
		t.Errorf("after google: %v", u)
	}
}

func TestOAuthImplicitAndErrors(t *testing.T) {
	c := newClient(t)
	app := "http://localhost:3000/done"

	_, loc := hop(t, "GET", c.st.URL+"/auth/v1/authorize?provider=local&redirect_to="+url.QueryEscape("http://127.0.0.1:3000/done"))
	_, cb := hop(t, "GET", loc.String())
	_, back := hop(t, "GET", cb.String())
	f := fragment(t, back)
	if back.Path != "/done" || back.RawQuery != "" || f.Get("access_token") == "" || f.Get("refresh_token") == "" ||
		!strings.HasPrefix(f.Get("provider_token"), "local-") || f.Get("token_type") != "bearer" {
		t.Fatalf("implicit: %v", back)
	}
	if claimsOf(t, f.Get("access_token"))["email"] != localstack.DefaultOAuthUser {
		t.Errorf("default user: %v", claimsOf(t, f.Get("access_token")))
	}

	// Errors before the flow is found are JSON; after, they go back to the app.
	wantError(t, c.do("GET", "/auth/v1/authorize?provider=myspace", "", nil), 400,
		`{"code":"validation_failed","message":"Unsupported provider: Provider myspace could not be found"}`)
	wantError(t, c.do("GET", "/auth/v1/callback?code=x", "", nil), 400, `{"code":"bad_oauth_callback","message":"OAuth state parameter missing"}`)
	wantError(t, c.do("GET", "/auth/v1/callback?state=nope", "", nil), 400, `{"code":"bad_oauth_state","message":"OAuth state parameter is invalid"}`)
	wantError(t, c.do("GET", "/auth/v1/callback?state=00000000-0000-4000-8000-000000000000", "", nil), 400,
		`{"code":"bad_oauth_state","message":"OAuth state not found or expired"}`)

	_, loc = hop(t, "GET", c.st.URL+"/auth/v1/authorize?provider=google&deny=true&redirect_to="+url.QueryEscape("http://127.0.0.1:3000/done"))
	_, cb = hop(t, "GET", loc.String())
	_, back = hop(t, "GET", cb.String())
	if back.Query().Get("error") != "access_denied" || back.Query().Get("error_description") != "The user denied the request" ||
		fragment(t, back).Get("error") != "access_denied" {
		t.Errorf("denied: %v", back)
	}

	// A forged provider code is refused at the callback.
	_, loc = hop(t, "GET", c.st.URL+"/auth/v1/authorize?provider=local&redirect_to="+url.QueryEscape(app))
	_, back = hop(t, "GET", c.st.URL+"/auth/v1/callback?state="+loc.Query().Get("state")+"&code="+signedToken(t, c, map[string]any{"typ": "other"}))
	if back.Query().Get("error") != "invalid_grant" {
		t.Errorf("forged code: %v", back)
	}
}

// A banned user cannot sign in or refresh by any route; ban_duration
// "none" lifts the ban.
func TestAdminBanAndMetadata(t *testing.T) {
	c := newClient(t)
	svc := c.st.ServiceRoleKey
	s := c.signUp("ban@example.com", "password1")
	r := c.do("PUT", "/auth/v1/admin/users/"+s.User.ID, svc, map[string]any{"ban_duration": "1h", "app_metadata": map[string]any{"plan": "pro"}})
	u := r.json(t)
	if r.status != 200 || u["banned_until"] == nil || fmt.Sprint(u["app_metadata"]) != "map[plan:pro provider:email providers:[email]]" {
		t.Fatalf("ban: %d %s", r.status, r.body)
	}
	wantError(t, c.do("POST", "/auth/v1/token?grant_type=password", "", map[string]any{"email": "ban@example.com", "password": "wrong"}), 400,
		`{"code":"user_banned","message":"User is banned"}`)
	wantError(t, c.refresh(s.RefreshToken), 400, `{"code":"user_banned","message":"Invalid Refresh Token: User Banned"}`)
	c.do("POST", "/auth/v1/otp", "", map[string]any{"email": "ban@example.com"})
	_, loc := hop(t, "GET", c.st.LastEmail("ban@example.com").ActionLink)
	if f := fragment(t, loc); f.Get("error_code") != "user_banned" {
		t.Errorf("magic link of a banned user: %v", loc)
	}
	_, loc = hop(t, "GET", c.st.URL+"/auth/v1/authorize?provider=github&login_hint=ban@example.com&redirect_to="+url.QueryEscape("http://127.0.0.1:3000/"))
	_, cb := hop(t, "GET", loc.String())
	_, back := hop(t, "GET", cb.String())
	if back.Query().Get("error") != "access_denied" || back.Query().Get("error_code") != "user_banned" {
		t.Errorf("OAuth sign-in of a banned user: %v", back)
	}
	wantError(t, c.do("PUT", "/auth/v1/admin/users/"+s.User.ID, svc, map[string]any{"ban_duration": "forever"}), 400,
		`{"code":"validation_failed","message":"invalid format for ban duration: forever"}`)

	if r := c.do("PUT", "/auth/v1/admin/users/"+s.User.ID, svc, map[string]any{"ban_duration": "none"}); r.status != 200 || r.json(t)["banned_until"] != nil {
		t.Fatalf("unban: %d %s", r.status, r.body)
	}
	c.signIn("ban@example.com", "password1")
	if r := c.refresh(s.RefreshToken); r.status != 200 {
		t.Errorf("refresh after unban: %d %s", r.status, r.body)
	}
	cl := claimsOf(t, c.signIn("ban@example.com", "password1").AccessToken)
	if cl["app_metadata"].(map[string]any)["plan"] != "pro" {
		t.Errorf("app_metadata claim = %v", cl["app_metadata"])
	}
}

func TestAdminUsersPaging(t *testing.T) {
	c := newClient(t)
	svc := c.st.ServiceRoleKey
	for i := range 5 {
		c.signUp(fmt.Sprintf("p%d@example.com", i), "password1")
	}
	seen := map[string]bool{}
	for page := 1; page <= 3; page++ {
		r := c.do("GET", fmt.Sprintf("/auth/v1/admin/users?per_page=2&page=%d&apikey=%s", page, c.st.AnonKey), svc, nil)
		if r.status != 200 || r.header.Get("X-Total-Count") != "5" {
			t.Fatalf("page %d: %d %v", page, r.status, r.header)
		}
		want := `</admin/users?page=3&per_page=2>; rel="last"`
		if page < 3 {
			want = fmt.Sprintf(`</admin/users?page=%d&per_page=2>; rel="next", `, page+1) + want
		}
		if got := r.header.Get("Link"); got != want {
			t.Errorf("page %d Link = %s\nwant %s", page, got, want)
		}
		for _, u := range r.json(t)["users"].([]any) {
			seen[u.(map[string]any)["email"].(string)] = true
		}
	}
	if len(seen) != 5 {
		t.Errorf("users seen over the pages: %v", seen)
	}
}

// An invitation and generated links: verified like emailed ones.
func TestInviteAndGenerateLink(t *testing.T) {
	c := newClient(t)
	svc := c.st.ServiceRoleKey
	wantError(t, c.do("POST", "/auth/v1/invite", "", map[string]any{"email": "x@example.com"}), 403, `{"code":"not_admin","message":"User not allowed"}`)
	r := c.do("POST", "/auth/v1/invite?redirect_to="+url.QueryEscape("http://127.0.0.1:3000/welcome"), svc,
		map[string]any{"email": "inv@example.com", "data": map[string]any{"team": "a"}})
	u := r.json(t)
	if r.status != 200 || u["invited_at"] == nil || u["confirmed_at"] != nil || u["email"] != "inv@example.com" {
		t.Fatalf("invite: %d %s", r.status, r.body)
	}
	mail := c.st.LastEmail("inv@example.com")
	_, loc := hop(t, "GET", mail.ActionLink)
	if f := fragment(t, loc); loc.Path != "/welcome" || f.Get("type") != "invite" || f.Get("access_token") == "" {
		t.Fatalf("invite link: %v", loc)
	}
	wantError(t, c.do("POST", "/auth/v1/invite", svc, map[string]any{"email": "inv@example.com"}), 422,
		`{"code":"email_exists","message":"A user with this email address has already been registered"}`)

	r = c.do("POST", "/auth/v1/admin/generate_link", svc, map[string]any{"type": "magiclink", "email": "inv@example.com", "redirect_to": "http://127.0.0.1:3000/x"})
	link := r.json(t)
	if r.status != 200 || link["verification_type"] != "magiclink" || link["redirect_to"] != "http://127.0.0.1:3000/x" || link["id"] != u["id"] ||
		strings.HasPrefix(link["hashed_token"].(string), "pkce_") || len(link["email_otp"].(string)) != 6 {
		t.Fatalf("generate_link: %d %s", r.status, r.body)
	}
	if got := c.st.Server.Emails("inv@example.com"); len(got) != 1 {
		t.Errorf("a generated link was emailed: %d emails", len(got))
	}
	if r := c.do("POST", "/auth/v1/verify", "", map[string]any{"type": "magiclink", "token_hash": link["hashed_token"]}); r.status != 200 {
		t.Errorf("verify generated link: %d %s", r.status, r.body)
	}
	// A magic link for an unknown address is a sign-up link.
	r = c.do("POST", "/auth/v1/admin/generate_link", svc, map[string]any{"type": "magiclink", "email": "fresh@example.com"})
	if link := r.json(t); r.status != 200 || link["verification_type"] != "signup" {
		t.Errorf("magic link for a new address: %d %s", r.status, r.body)
	}
	wantError(t, c.do("POST", "/auth/v1/admin/generate_link", svc, map[string]any{"type": "recovery", "email": "ghost@example.com"}), 404,
		`{"code":"user_not_found","message":"User with this email not found"}`)
	wantError(t, c.do("POST", "/auth/v1/admin/generate_link", svc, map[string]any{"type": "teleport", "email": "inv@example.com"}), 400,
		`{"code":"validation_failed","message":"Invalid email action link type requested: teleport"}`)
}

func TestSSONotEnabled(t *testing.T) {
	c := newClient(t)
	wantError(t, c.do("POST", "/auth/v1/sso", "", map[string]any{"domain": "example.com"}), 404,
		`{"code":"saml_provider_disabled","message":"SAML 2.0 is disabled"}`)
}

// A registered test SSO provider's identity provider signs in at once;
// SSO users are accounts of their own, never linked by email.
func TestSSOFlow(t *testing.T) {
	c := newClient(t, localstacktest.Configure(func(cfg *localstack.Config) { cfg.SSODomains = []string{"acme.test"} }))
	pw := c.signUp("alice@acme.test", "password1")
	verifier, challenge := pkcePair("sso-")
	wantError(t, c.do("POST", "/auth/v1/sso", "", map[string]any{}), 400,
		`{"code":"validation_failed","message":"A provider_id or domain needs to be provided"}`)
	wantError(t, c.do("POST", "/auth/v1/sso", "", map[string]any{"domain": "other.test"}), 404,
		`{"code":"sso_provider_not_found","message":"No SSO provider assigned for this domain"}`)
	wantError(t, c.do("POST", "/auth/v1/sso", "", map[string]any{"provider_id": "00000000-0000-4000-8000-000000000000"}), 404,
		`{"code":"sso_provider_not_found","message":"No such SSO provider"}`)

	r := c.do("POST", "/auth/v1/sso", "", map[string]any{"domain": "ACME.test", "skip_http_redirect": true,
		"redirect_to": "http://127.0.0.1:3000/sso", "code_challenge": challenge, "code_challenge_method": "s256"})
	if r.status != 200 {
		t.Fatalf("sso: %d %s", r.status, r.body)
	}
	idp, _ := url.Parse(r.json(t)["url"].(string))
	if idp.Query().Get("provider_id") != c.st.Server.SSOProviderID("acme.test") {
		t.Errorf("idp URL = %v", idp)
	}
	q := idp.Query()
	q.Set("login_hint", "alice@acme.test")
	idp.RawQuery = q.Encode()
	_, acs := hop(t, "GET", idp.String())
	if acs.Path != "/auth/v1/sso/saml/acs" {
		t.Fatalf("idp: %v", acs)
	}
	// The identity provider posts its response.
	resp, err := noFollow.PostForm(c.st.URL+"/auth/v1/sso/saml/acs", acs.Query())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, _ := resp.Location()
	if resp.StatusCode != http.StatusFound || back == nil || !strings.HasPrefix(back.String(), "http://127.0.0.1:3000/sso?code=") {
		t.Fatalf("acs: %d %v", resp.StatusCode, back)
	}
	code := back.Query().Get("code")
	r = c.exchange(code, verifier)
	if r.status != 200 {
		t.Fatalf("exchange: %d %s", r.status, r.body)
	}
	u := r.json(t)["user"].(map[string]any)
	if u["id"] == pw.User.ID || u["email"] != "alice@acme.test" || amrMethod(t, r.json(t)["access_token"].(string)) != "sso/saml" ||
		u["app_metadata"].(map[string]any)["provider"] != "sso:"+c.st.Server.SSOProviderID("acme.test") {
		t.Errorf("sso user = %v", u)
	}
	// The password user is untouched.
	c.signIn("alice@acme.test", "password1")
	wantError(t, c.do("POST", "/auth/v1/sso/saml/acs", "", "RelayState="+q.Get("RelayState")+"&SAMLResponse=x",
		"Content-Type", "application/x-www-form-urlencoded"), 404,
		`{"code":"saml_relay_state_not_found","message":"SAML RelayState does not exist, try logging in again?"}`)
}

// The stack enrolls no MFA factors, but the admin routes list and delete
// the ones auth.mfa_factors holds, as Supabase Auth does.
func TestAdminFactors(t *testing.T) {
	c := newClient(t)
	svc := c.st.ServiceRoleKey
	s := c.signUp("mfa@example.com", "password1")
	r := c.do("GET", "/auth/v1/admin/users/"+s.User.ID+"/factors", svc, nil)
	if r.status != 200 || string(r.body) != "[]" {
		t.Fatalf("no factors: %d %s", r.status, r.body)
	}
	ctx := context.Background()
	const id = "8c1b9d1e-6f1a-4b53-9d2c-2b0f7d4e5a61"
	if _, err := c.st.Server.Pool().Exec(ctx, `INSERT INTO auth.mfa_factors (id, user_id, friendly_name, factor_type, status, created_at, updated_at)
		VALUES ($1, $2, 'phone app', 'totp', 'verified', now(), now())`, id, s.User.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.st.Server.Pool().Exec(ctx, `UPDATE auth.sessions SET aal = 'aal2' WHERE user_id = $1`, s.User.ID); err != nil {
		t.Fatal(err)
	}
	r = c.do("GET", "/auth/v1/admin/users/"+s.User.ID+"/factors", svc, nil)
	var fs []map[string]any
	json.Unmarshal(r.body, &fs)
	if r.status != 200 || len(fs) != 1 || fs[0]["id"] != id || fs[0]["factor_type"] != "totp" || fs[0]["status"] != "verified" || fs[0]["friendly_name"] != "phone app" {
		t.Fatalf("factors: %d %s", r.status, r.body)
	}
	wantError(t, c.do("GET", "/auth/v1/admin/users/"+s.User.ID+"/factors", s.AccessToken, nil), 403, `{"code":"not_admin","message":"User not allowed"}`)
	if r := c.do("DELETE", "/auth/v1/admin/users/"+s.User.ID+"/factors/"+id, svc, nil); r.status != 200 || r.json(t)["id"] != id {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	var aal string
	if err := c.st.Server.Pool().QueryRow(ctx, `SELECT aal FROM auth.sessions WHERE user_id = $1`, s.User.ID).Scan(&aal); err != nil || aal != "aal1" {
		t.Errorf("session aal after deleting the factor: %q %v", aal, err)
	}
	wantError(t, c.do("DELETE", "/auth/v1/admin/users/"+s.User.ID+"/factors/"+id, svc, nil), 404, `{"code":"mfa_factor_not_found","message":"Factor not found"}`)
	wantError(t, c.do("DELETE", "/auth/v1/admin/users/"+s.User.ID+"/factors/nope", svc, nil), 404, `{"code":"validation_failed","message":"factor_id must be an UUID"}`)
	wantError(t, c.do("GET", "/auth/v1/admin/users/00000000-0000-4000-8000-000000000000/factors", svc, nil), 404, `{"code":"user_not_found","message":"User not found"}`)
}

package localstack_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/supabase-go/supabase/localstack"
	"github.com/supabase-go/supabase/localstack/localstacktest"
)

func claimsOf(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestGatewayRequiresAPIKey(t *testing.T) {
	c := newClient(t)
	r := c.do("GET", "/rest/v1/todos", "", nil, "apikey", "")
	wantError(t, r, 401, `{"message":"No API key found in request","hint":"No `+"`apikey`"+` request header or url param was found."}`)
	r = c.do("GET", "/auth/v1/settings", "", nil, "apikey", "nope")
	wantError(t, r, 401, `{"message":"Invalid API key","hint":"Double check your Supabase `+"`anon`"+` or `+"`service_role`"+` API key."}`)
	// The key may also come as a query parameter, which is not a filter.
	r = c.do("GET", "/rest/v1/todos?apikey="+c.st.AnonKey, "", nil, "apikey", "")
	if r.status != 200 || string(r.body) != "[]" {
		t.Errorf("apikey in query: %d %s", r.status, r.body)
	}
}

func TestSignUpSignInAndUser(t *testing.T) {
	c := newClient(t)
	before := time.Now().Unix()
	r := c.do("POST", "/auth/v1/signup", "", map[string]any{
		"email": "Ada@Example.com", "password": "correct horse", "data": map[string]any{"full_name": "Ada"},
	})
	if r.status != 200 {
		t.Fatalf("signup: %d %s", r.status, r.body)
	}
	if got := r.header.Get("X-Supabase-Api-Version"); got != "2024-01-01" {
		t.Errorf("X-Supabase-Api-Version = %q", got)
	}
	s := r.json(t)
	if s["token_type"] != "bearer" || s["expires_in"] != float64(3600) {
		t.Errorf("token_type, expires_in = %v, %v", s["token_type"], s["expires_in"])
	}
	if exp := int64(s["expires_at"].(float64)); exp < before+3600 || exp > time.Now().Unix()+3600 {
		t.Errorf("expires_at = %d", exp)
	}
	u := s["user"].(map[string]any)
	if u["email"] != "ada@example.com" || u["aud"] != "authenticated" || u["role"] != "authenticated" || u["is_anonymous"] != false {
		t.Errorf("user = %v", u)
	}
	for _, k := range []string{"email_confirmed_at", "confirmed_at", "last_sign_in_at", "created_at", "updated_at"} {
		if _, ok := u[k].(string); !ok {
			t.Errorf("user.%s missing: %v", k, u)
		}
	}
	if got, _ := json.Marshal(u["app_metadata"]); string(got) != `{"provider":"email","providers":["email"]}` {
		t.Errorf("app_metadata = %s", got)
	}
	if got, _ := json.Marshal(u["user_metadata"]); string(got) != `{"full_name":"Ada"}` {
		t.Errorf("user_metadata = %s", got)
	}
	ids := u["identities"].([]any)
	if len(ids) != 1 || ids[0].(map[string]any)["provider"] != "email" || ids[0].(map[string]any)["user_id"] != u["id"] {
		t.Errorf("identities = %v", ids)
	}

	cl := claimsOf(t, s["access_token"].(string))
	for k, want := range map[string]any{
		"iss": "http://127.0.0.1:54321/auth/v1", "sub": u["id"], "aud": "authenticated", "email": "ada@example.com",
		"phone": "", "role": "authenticated", "aal": "aal1", "is_anonymous": false,
	} {
		if cl[k] != want {
			t.Errorf("claim %s = %v, want %v", k, cl[k], want)
		}
	}
	if cl["exp"].(float64)-cl["iat"].(float64) != 3600 {
		t.Errorf("exp - iat = %v", cl["exp"].(float64)-cl["iat"].(float64))
	}
	if amr := cl["amr"].([]any); len(amr) != 1 || amr[0].(map[string]any)["method"] != "password" {
		t.Errorf("amr = %v", cl["amr"])
	}
	if sid, _ := cl["session_id"].(string); len(sid) != 36 {
		t.Errorf("session_id = %v", cl["session_id"])
	}

	wantError(t, c.do("POST", "/auth/v1/signup", "", map[string]any{"email": "ada@example.com", "password": "whatever1"}),
		422, `{"code":"user_already_exists","message":"User already registered"}`)
	wantError(t, c.do("POST", "/auth/v1/signup", "", map[string]any{"email": "bob@example.com", "password": "short"}),
		422, `{"code":"weak_password","message":"Password should be at least 6 characters.","weak_password":{"reasons":["length"]}}`)
	wantError(t, c.do("POST", "/auth/v1/signup", "", map[string]any{"email": "not-an-email", "password": "whatever1"}),
		400, `{"code":"email_address_invalid","message":"Email address \"not-an-email\" is invalid"}`)
	wantError(t, c.do("POST", "/auth/v1/signup", "", map[string]any{}),
		422, `{"code":"anonymous_provider_disabled","message":"Anonymous sign-ins are disabled"}`)

	// Without the API version header, errors come in the legacy shape.
	wantError(t, c.do("POST", "/auth/v1/token?grant_type=password", "", map[string]any{"email": "ada@example.com", "password": "wrong"}, "X-Supabase-Api-Version", ""),
		400, `{"code":400,"error_code":"invalid_credentials","msg":"Invalid login credentials"}`)
	wantError(t, c.do("POST", "/auth/v1/token?grant_type=password", "", map[string]any{"email": "nobody@example.com", "password": "wrong"}),
		400, `{"code":"invalid_credentials","message":"Invalid login credentials"}`)

	in := c.signIn("ada@example.com", "correct horse")
	if in.User.ID != u["id"] || in.AccessToken == "" || in.RefreshToken == "" || in.RefreshToken == s["refresh_token"] {
		t.Errorf("sign in = %+v", in)
	}

	r = c.do("GET", "/auth/v1/user", in.AccessToken, nil)
	if r.status != 200 || r.json(t)["id"] != u["id"] {
		t.Errorf("get user: %d %s", r.status, r.body)
	}
	wantError(t, c.do("GET", "/auth/v1/user", "", nil), 403, `{"code":"bad_jwt","message":"invalid claim: missing sub claim"}`)
	wantError(t, c.do("GET", "/auth/v1/user", "", nil, "Authorization", ""), 401, `{"code":"no_authorization","message":"This endpoint requires a Bearer token"}`)
	wantError(t, c.do("GET", "/auth/v1/user", in.AccessToken+"x", nil), 403,
		`{"code":"bad_jwt","message":"invalid JWT: unable to parse or verify signature, token signature is invalid: signature is invalid"}`)

	r = c.do("PUT", "/auth/v1/user", in.AccessToken, map[string]any{"data": map[string]any{"plan": "pro"}})
	if got, _ := json.Marshal(r.json(t)["user_metadata"]); r.status != 200 || string(got) != `{"full_name":"Ada","plan":"pro"}` {
		t.Errorf("update user: %d %s", r.status, r.body)
	}
	wantError(t, c.do("PUT", "/auth/v1/user", in.AccessToken, map[string]any{"password": "correct horse"}),
		422, `{"code":"same_password","message":"New password should be different from the old password."}`)
	if r := c.do("PUT", "/auth/v1/user", in.AccessToken, map[string]any{"password": "new password"}); r.status != 200 {
		t.Fatalf("change password: %d %s", r.status, r.body)
	}
	c.signIn("ada@example.com", "new password")
}

func TestEmailConfirmationRequired(t *testing.T) {
	c := newClient(t, localstacktest.Configure(func(cfg *localstack.Config) { cfg.RequireEmailConfirmation = true }))
	r := c.do("POST", "/auth/v1/signup", "", map[string]any{"email": "new@example.org", "password": "S3cure-Passw0rd!"})
	u := r.json(t)
	if r.status != 200 || u["access_token"] != nil || u["email"] != "new@example.org" || u["confirmation_sent_at"] == nil || u["confirmed_at"] != nil {
		t.Errorf("signup: %d %s", r.status, r.body)
	}
	wantError(t, c.do("POST", "/auth/v1/token?grant_type=password", "", map[string]any{"email": "new@example.org", "password": "S3cure-Passw0rd!"}),
		400, `{"code":"email_not_confirmed","message":"Email not confirmed"}`)
}

func TestAnonymousSignIn(t *testing.T) {
	c := newClient(t, localstacktest.Configure(func(cfg *localstack.Config) { cfg.AllowAnonymousSignIns = true }))
	r := c.do("POST", "/auth/v1/signup", "", map[string]any{})
	s := r.json(t)
	if r.status != 200 {
		t.Fatalf("anonymous sign-in: %d %s", r.status, r.body)
	}
	cl := claimsOf(t, s["access_token"].(string))
	if cl["is_anonymous"] != true || cl["role"] != "authenticated" || cl["amr"].([]any)[0].(map[string]any)["method"] != "anonymous" {
		t.Errorf("claims = %v", cl)
	}

	// A password alone cannot be set; with an email the user is converted.
	tok := s["access_token"].(string)
	wantError(t, c.do("PUT", "/auth/v1/user", tok, map[string]any{"password": "password1"}), 422,
		`{"code":"validation_failed","message":"Updating password of an anonymous user without an email or phone is not allowed"}`)
	r = c.do("PUT", "/auth/v1/user", tok, map[string]any{"email": "anon@example.com", "password": "password1"})
	u := r.json(t)
	ids, _ := u["identities"].([]any)
	if r.status != 200 || u["is_anonymous"] != false || len(ids) != 1 || ids[0].(map[string]any)["provider"] != "email" ||
		fmt.Sprint(u["app_metadata"]) != "map[provider:email providers:[email]]" {
		t.Fatalf("converted user: %d %s", r.status, r.body)
	}
	signedIn := c.signIn("anon@example.com", "password1")
	if claimsOf(t, signedIn.AccessToken)["is_anonymous"] != false {
		t.Error("the converted user signs in as anonymous")
	}
	// A phone added later is one more identity.
	r = c.do("PUT", "/auth/v1/user", signedIn.AccessToken, map[string]any{"phone": "+15555550123"})
	if u := r.json(t); r.status != 200 || len(u["identities"].([]any)) != 2 || fmt.Sprint(u["app_metadata"]) != "map[provider:email providers:[email phone]]" {
		t.Errorf("phone added: %d %s", r.status, r.body)
	}
}

func TestRefreshRotationAndReuse(t *testing.T) {
	c := newClient(t, localstacktest.Configure(func(cfg *localstack.Config) { cfg.RefreshReuseInterval = time.Second }))
	s0 := c.signUp("rot@example.com", "password1")

	r := c.refresh(s0.RefreshToken)
	if r.status != 200 {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	var s1 session
	json.Unmarshal(r.body, &s1)
	if s1.RefreshToken == s0.RefreshToken || s1.User.ID != s0.User.ID {
		t.Fatalf("refresh did not rotate: %+v", s1)
	}
	if claimsOf(t, s1.AccessToken)["session_id"] != claimsOf(t, s0.AccessToken)["session_id"] {
		t.Error("refresh changed the session")
	}

	// Within the reuse interval the old token gives the active one back.
	r = c.refresh(s0.RefreshToken)
	var again session
	json.Unmarshal(r.body, &again)
	if r.status != 200 || again.RefreshToken != s1.RefreshToken {
		t.Fatalf("reuse within interval: %d %s", r.status, r.body)
	}

	// After it too, as long as the old token is the active one's parent.
	time.Sleep(1100 * time.Millisecond)
	r = c.refresh(s0.RefreshToken)
	json.Unmarshal(r.body, &again)
	if r.status != 200 || again.RefreshToken != s1.RefreshToken {
		t.Fatalf("parent of the active token after the interval: %d %s", r.status, r.body)
	}

	// An older token reused after the interval is taken as theft: the whole
	// session is revoked.
	r = c.refresh(s1.RefreshToken)
	var s2 session
	json.Unmarshal(r.body, &s2)
	if r.status != 200 || s2.RefreshToken == s1.RefreshToken {
		t.Fatalf("second rotation: %d %s", r.status, r.body)
	}
	wantError(t, c.refresh(s0.RefreshToken), 400, `{"code":"refresh_token_already_used","message":"Invalid Refresh Token: Already Used"}`)
	wantError(t, c.refresh(s2.RefreshToken), 400, `{"code":"refresh_token_already_used","message":"Invalid Refresh Token: Already Used"}`)

	wantError(t, c.refresh("no-such-token"), 400, `{"code":"refresh_token_not_found","message":"Invalid Refresh Token: Refresh Token Not Found"}`)
	wantError(t, c.do("POST", "/auth/v1/token?grant_type=refresh_token", "", map[string]any{}), 400, `{"error":"invalid_request","error_description":"refresh_token required"}`)
}

func TestLogoutScopes(t *testing.T) {
	c := newClient(t)
	a := c.signUp("out@example.com", "password1")
	b := c.signIn("out@example.com", "password1")
	d := c.signIn("out@example.com", "password1")

	if r := c.do("POST", "/auth/v1/logout?scope=local", a.AccessToken, nil); r.status != 204 {
		t.Fatalf("logout local: %d %s", r.status, r.body)
	}
	wantError(t, c.refresh(a.RefreshToken), 400, `{"code":"refresh_token_not_found","message":"Invalid Refresh Token: Refresh Token Not Found"}`)
	wantError(t, c.do("GET", "/auth/v1/user", a.AccessToken, nil), 403, `{"code":"session_not_found","message":"Session from session_id claim in JWT does not exist"}`)

	if r := c.do("POST", "/auth/v1/logout?scope=others", b.AccessToken, nil); r.status != 204 {
		t.Fatalf("logout others: %d %s", r.status, r.body)
	}
	wantError(t, c.refresh(d.RefreshToken), 400, `{"code":"refresh_token_not_found","message":"Invalid Refresh Token: Refresh Token Not Found"}`)
	r := c.refresh(b.RefreshToken)
	if r.status != 200 {
		t.Fatalf("refresh after logout others: %d %s", r.status, r.body)
	}
	var b2 session
	json.Unmarshal(r.body, &b2)

	e := c.signIn("out@example.com", "password1")
	if r := c.do("POST", "/auth/v1/logout", b2.AccessToken, nil); r.status != 204 {
		t.Fatalf("logout global: %d %s", r.status, r.body)
	}
	for _, tok := range []string{b2.RefreshToken, e.RefreshToken} {
		wantError(t, c.refresh(tok), 400, `{"code":"refresh_token_not_found","message":"Invalid Refresh Token: Refresh Token Not Found"}`)
	}
	wantError(t, c.do("POST", "/auth/v1/logout?scope=everywhere", e.AccessToken, nil), 400,
		`{"code":"validation_failed","message":"Unsupported logout scope \"everywhere\""}`)
}

func TestAdminUsers(t *testing.T) {
	c := newClient(t)
	svc := c.st.ServiceRoleKey
	wantError(t, c.do("GET", "/auth/v1/admin/users", "", nil), 403, `{"code":"not_admin","message":"User not allowed"}`)

	r := c.do("POST", "/auth/v1/admin/users", svc, map[string]any{
		"email": "bob@example.net", "password": "password1", "email_confirm": true,
		"user_metadata": map[string]any{"name": "Bob"}, "app_metadata": map[string]any{"roles": []string{"editor"}},
	})
	if r.status != 200 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	u := r.json(t)
	id := u["id"].(string)
	if got, _ := json.Marshal(u["app_metadata"]); string(got) != `{"provider":"email","providers":["email"],"roles":["editor"]}` {
		t.Errorf("app_metadata = %s", got)
	}
	wantError(t, c.do("POST", "/auth/v1/admin/users", svc, map[string]any{"email": "bob@example.net"}),
		422, `{"code":"email_exists","message":"A user with this email address has already been registered"}`)
	c.signUp("carol@example.com", "password1")

	r = c.do("GET", "/auth/v1/admin/users?page=1&per_page=1", svc, nil)
	if r.status != 200 || r.header.Get("X-Total-Count") != "2" ||
		r.header.Get("Link") != `</admin/users?page=2&per_page=1>; rel="next", </admin/users?page=2&per_page=1>; rel="last"` {
		t.Errorf("list: %d %v %s", r.status, r.header, r.body)
	}
	list := r.json(t)
	if list["aud"] != "authenticated" || len(list["users"].([]any)) != 1 {
		t.Errorf("list body = %s", r.body)
	}

	r = c.do("GET", "/auth/v1/admin/users/"+id, svc, nil)
	if r.status != 200 || r.json(t)["email"] != "bob@example.net" {
		t.Errorf("get: %d %s", r.status, r.body)
	}
	wantError(t, c.do("GET", "/auth/v1/admin/users/00000000-0000-4000-8000-000000000000", svc, nil), 404, `{"code":"user_not_found","message":"User not found"}`)

	r = c.do("PUT", "/auth/v1/admin/users/"+id, svc, map[string]any{"email": "bob2@example.net", "ban_duration": "24h"})
	if u := r.json(t); r.status != 200 || u["email"] != "bob2@example.net" || u["banned_until"] == nil {
		t.Errorf("update: %d %s", r.status, r.body)
	}
	wantError(t, c.do("POST", "/auth/v1/token?grant_type=password", "", map[string]any{"email": "bob2@example.net", "password": "password1"}),
		400, `{"code":"user_banned","message":"User is banned"}`)

	r = c.do("DELETE", "/auth/v1/admin/users/"+id, svc, map[string]any{"should_soft_delete": false})
	if r.status != 200 || string(r.body) != "{}" {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	wantError(t, c.do("GET", "/auth/v1/admin/users/"+id, svc, nil), 404, `{"code":"user_not_found","message":"User not found"}`)
}

func TestCORSPreflight(t *testing.T) {
	c := newClient(t)
	r := c.do("OPTIONS", "/rest/v1/todos", "", nil, "apikey", "", "Authorization", "",
		"Origin", "http://localhost:3000", "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "apikey,authorization,content-type")
	if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "*" ||
		r.header.Get("Access-Control-Allow-Headers") != "apikey,authorization,content-type" {
		t.Errorf("preflight: %d %v", r.status, r.header)
	}
}

// Clients refreshing with the same token at once (no coordination between
// them) all get the same rotated session: the session row lock serialises
// them and the later ones fall in the reuse interval.
func TestConcurrentRefreshOfOneToken(t *testing.T) {
	c := newClient(t)
	s := c.signUp("race@example.com", "password1")
	const n = 10
	got := make(chan reply, n)
	for range n {
		go func() { got <- c.refresh(s.RefreshToken) }()
	}
	tokens := map[string]bool{}
	for range n {
		r := <-got
		if r.status != 200 {
			t.Fatalf("refresh: %d %s", r.status, r.body)
		}
		var ns session
		json.Unmarshal(r.body, &ns)
		tokens[ns.RefreshToken] = true
	}
	if len(tokens) != 1 || tokens[s.RefreshToken] {
		t.Errorf("refresh tokens handed out: %v", tokens)
	}
}

func TestPhoneAndEmailChange(t *testing.T) {
	c := newClient(t)
	r := c.do("POST", "/auth/v1/signup", "", map[string]any{"phone": "+64 21 123 4567", "password": "password1"})
	if r.status != 200 {
		t.Fatalf("phone signup: %d %s", r.status, r.body)
	}
	if u := r.json(t)["user"].(map[string]any); u["phone"] != "64211234567" || u["email"] != "" {
		t.Errorf("phone user = %v", u)
	}
	r = c.do("POST", "/auth/v1/token?grant_type=password", "", map[string]any{"phone": "+64211234567", "password": "password1"})
	if r.status != 200 {
		t.Fatalf("phone sign in: %d %s", r.status, r.body)
	}

	s := c.signUp("old@example.com", "password1")
	c.signUp("taken@example.com", "password1")
	wantError(t, c.do("PUT", "/auth/v1/user", s.AccessToken, map[string]any{"email": "taken@example.com"}), 422,
		`{"code":"email_exists","message":"A user with this email address has already been registered"}`)
	r = c.do("PUT", "/auth/v1/user", s.AccessToken, map[string]any{"email": "New@Example.com"})
	if r.status != 200 || r.json(t)["email"] != "new@example.com" {
		t.Errorf("email change: %d %s", r.status, r.body)
	}
	c.signIn("new@example.com", "password1")
}

// A password change signs the user's other sessions out; one made by an
// admin signs out every session.
func TestPasswordChangeEndsSessions(t *testing.T) {
	c := newClient(t)
	notFound := `{"code":"refresh_token_not_found","message":"Invalid Refresh Token: Refresh Token Not Found"}`
	a := c.signUp("pw@example.com", "password1")
	b := c.signIn("pw@example.com", "password1")
	if r := c.do("PUT", "/auth/v1/user", a.AccessToken, map[string]any{"password": "password2"}); r.status != 200 {
		t.Fatalf("change password: %d %s", r.status, r.body)
	}
	wantError(t, c.refresh(b.RefreshToken), 400, notFound)
	if r := c.refresh(a.RefreshToken); r.status != 200 {
		t.Errorf("the session that changed the password: %d %s", r.status, r.body)
	}

	d := c.signIn("pw@example.com", "password2")
	if r := c.do("PUT", "/auth/v1/admin/users/"+d.User.ID, c.st.ServiceRoleKey, map[string]any{"password": "password3"}); r.status != 200 {
		t.Fatalf("admin password change: %d %s", r.status, r.body)
	}
	wantError(t, c.refresh(d.RefreshToken), 400, notFound)
	if r := c.do("PUT", "/auth/v1/admin/users/"+d.User.ID, c.st.ServiceRoleKey, map[string]any{"user_metadata": map[string]any{"x": 1}}); r.status != 200 {
		t.Fatalf("admin metadata change: %d %s", r.status, r.body)
	}
	e := c.signIn("pw@example.com", "password3")
	if r := c.do("PUT", "/auth/v1/user", e.AccessToken, map[string]any{"data": map[string]any{"y": 2}}); r.status != 200 {
		t.Fatalf("metadata change: %d %s", r.status, r.body)
	}
	if r := c.refresh(e.RefreshToken); r.status != 200 {
		t.Errorf("a change without a password ended the session: %d %s", r.status, r.body)
	}
}

// A sign-in for an unknown email does the same work as one with a wrong
// password: exactly one bcrypt comparison, against a dummy hash of the
// configured cost, so the answer's timing does not tell which accounts
// exist. Counted, not timed.
func TestInvalidCredentialsCompareOnce(t *testing.T) {
	c := newClient(t)
	c.signUp("known@example.com", "password1")
	var mu sync.Mutex
	var hashes [][]byte
	localstack.SetPasswordComparer(c.st.Server, func(hash, pw []byte) error {
		mu.Lock()
		hashes = append(hashes, hash)
		mu.Unlock()
		return bcrypt.CompareHashAndPassword(hash, pw)
	})
	compared := func(email, password string, status int, body string) []byte {
		t.Helper()
		mu.Lock()
		hashes = nil
		mu.Unlock()
		r := c.do("POST", "/auth/v1/token?grant_type=password", "", map[string]any{"email": email, "password": password})
		if body == "" {
			if r.status != status {
				t.Fatalf("%s: %d %s", email, r.status, r.body)
			}
		} else {
			wantError(t, r, status, body)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(hashes) != 1 {
			t.Fatalf("%s: %d bcrypt comparisons, want 1", email, len(hashes))
		}
		return hashes[0]
	}
	invalid := `{"code":"invalid_credentials","message":"Invalid login credentials"}`
	userHash := compared("known@example.com", "wrong-password", 400, invalid)
	dummy := compared("nobody@example.com", "wrong-password", 400, invalid)
	compared("known@example.com", "password1", 200, "")
	if string(dummy) == string(userHash) {
		t.Fatal("the unknown email was compared against the user's hash")
	}
	// The dummy hash costs what a real one does.
	uc, err1 := bcrypt.Cost(userHash)
	dc, err2 := bcrypt.Cost(dummy)
	if err1 != nil || err2 != nil || uc != dc {
		t.Errorf("costs: user %d (%v), dummy %d (%v)", uc, err1, dc, err2)
	}
	// A user without a password (signed up by magic link) is compared
	// against the dummy hash too.
	if r := c.do("POST", "/auth/v1/otp", "", map[string]any{"email": "nopass@example.com"}); r.status != 200 {
		t.Fatalf("otp: %d %s", r.status, r.body)
	}
	if got := compared("nopass@example.com", "anything", 400, invalid); string(got) != string(dummy) {
		t.Error("a user without a password was not compared against the dummy hash")
	}
}

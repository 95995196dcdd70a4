package sdktest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/supabase-go/supabase"
	"github.com/supabase-go/supabase/localstack"
	"github.com/supabase-go/supabase/localstack/localstacktest"
)

// noFollow hands redirects back: the tests play the browser hop by hop.
var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// browse follows target's redirects like a browser until one leaves the
// stack (the app's redirect_to, which nothing serves here) and returns
// that URL.
func browse(t *testing.T, st *localstacktest.Stack, target string) *url.URL {
	t.Helper()
	for range 10 {
		resp, err := noFollow.Get(target)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, err := resp.Location()
		if err != nil {
			t.Fatalf("GET %s: %d without a redirect", target, resp.StatusCode)
		}
		if !strings.HasPrefix(loc.String(), st.URL+"/") {
			return loc
		}
		target = loc.String()
	}
	t.Fatalf("too many redirects from %s", target)
	return nil
}

func pkceClient(t *testing.T, st *localstacktest.Stack, opts ...supabase.Option) *supabase.Client {
	return newClient(t, st, st.AnonKey, append([]supabase.Option{supabase.WithFlowType(supabase.FlowPKCE)}, opts...)...)
}

func authCode(t *testing.T, u *url.URL) string {
	t.Helper()
	code := u.Query().Get("code")
	if code == "" {
		t.Fatalf("no code in %v", u)
	}
	return code
}

// A magic link asked for in the PKCE flow ends in a code that
// ExchangeCodeForSession turns into the client's session, once.
func TestSDKPKCEMagicLink(t *testing.T) {
	t.Parallel()
	st := localstacktest.New(t)
	ctx := ctxFor(t)
	c := pkceClient(t, st)
	app := "http://127.0.0.1:3000/auth/callback"
	if _, err := c.Auth.SignInWithOTP(ctx, supabase.SignInWithOTPParams{Email: "magic@example.com"}, supabase.WithRedirectTo(app)); err != nil {
		t.Fatal(err)
	}
	mail := st.LastEmail("magic@example.com")
	back := browse(t, st, mail.ActionLink)
	if !strings.HasPrefix(back.String(), app+"?code=") {
		t.Fatalf("link led to %v", back)
	}
	res, err := c.Auth.ExchangeCodeForSession(ctx, authCode(t, back))
	if err != nil {
		t.Fatal(err)
	}
	if res.Session == nil || res.User == nil || res.User.Email != "magic@example.com" {
		t.Fatalf("exchange = %+v", res)
	}
	// The session is the client's: RLS sees the user.
	todo, err := supabase.One[Todo](ctx, c.From("todos").Insert(Todo{Title: "from a magic link"}).Select("*"))
	if err != nil || todo.UserID != res.User.ID {
		t.Errorf("insert as the user: %+v, %v", todo, err)
	}
	// The verifier is spent.
	if _, err := c.Auth.ExchangeCodeForSession(ctx, authCode(t, back)); !errors.Is(err, supabase.ErrCodeVerifierMissing) {
		t.Errorf("second exchange: %v", err)
	}
	// A code with another client's verifier is refused by the server.
	other := pkceClient(t, st)
	if _, err := other.Auth.SignInWithOTP(ctx, supabase.SignInWithOTPParams{Email: "magic@example.com"}); err != nil {
		t.Fatal(err)
	}
	third := pkceClient(t, st)
	if _, err := third.Auth.SignInWithOTP(ctx, supabase.SignInWithOTPParams{Email: "else@example.com"}); err != nil {
		t.Fatal(err)
	}
	code := authCode(t, browse(t, st, st.LastEmail("magic@example.com").ActionLink))
	_, err = third.Auth.ExchangeCodeForSession(ctx, code)
	var e *supabase.Error
	if !errors.As(err, &e) || e.Status != 400 || e.Code != "bad_code_verifier" {
		t.Errorf("exchange with the wrong verifier: %v", err)
	}
}

// The OAuth dance driven over HTTP: the URL the SDK builds, the provider,
// the callback, and the code exchanged.
func TestSDKOAuthPKCE(t *testing.T) {
	t.Parallel()
	st := localstacktest.New(t)
	ctx := ctxFor(t)
	c := pkceClient(t, st)
	app := "http://127.0.0.1:53682/callback"
	start, err := c.Auth.SignInWithOAuthURL(ctx, "github", supabase.OAuthParams{Scopes: "read:user",
		QueryParams: map[string]string{"login_hint": "octo@example.com"}}, supabase.WithRedirectTo(app))
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := url.Parse(start); u.Query().Get("code_challenge_method") != "s256" || len(u.Query().Get("code_challenge")) != 43 {
		t.Errorf("authorize URL = %s", start)
	}
	back := browse(t, st, start)
	if !strings.HasPrefix(back.String(), app+"?code=") {
		t.Fatalf("flow ended at %v", back)
	}
	res, err := c.Auth.ExchangeCodeForSession(ctx, authCode(t, back))
	if err != nil {
		t.Fatal(err)
	}
	if res.User.Email != "octo@example.com" || res.Session.ProviderToken == "" {
		t.Errorf("user %+v, provider token %q", res.User, res.Session.ProviderToken)
	}
	ids, err := c.Auth.UserIdentities(ctx)
	if err != nil || len(ids) != 1 || ids[0].Provider != "github" || ids[0].IdentityData["email"] != "octo@example.com" {
		t.Errorf("identities = %+v, %v", ids, err)
	}
}

// Sign-in with an ID token of the stack's test issuer, the nonce checked.
func TestSDKIDTokenSignIn(t *testing.T) {
	t.Parallel()
	st := localstacktest.New(t)
	ctx := ctxFor(t)
	c := newClient(t, st, st.AnonKey)
	nonce := "a-raw-nonce"
	tok := st.IDToken(map[string]any{"sub": "g-123", "email": "idt@example.com", "email_verified": true,
		"nonce": fmt.Sprintf("%x", sha256.Sum256([]byte(nonce)))})
	s, err := c.Auth.SignInWithIDToken(ctx, supabase.IDTokenCredentials{Provider: "google", Token: tok, Nonce: nonce})
	if err != nil {
		t.Fatal(err)
	}
	if s.User.Email != "idt@example.com" || len(s.User.Identities) != 1 || s.User.Identities[0].ID != "g-123" {
		t.Errorf("user = %+v", s.User)
	}
	_, err = c.Auth.SignInWithIDToken(ctx, supabase.IDTokenCredentials{Provider: "google", Token: tok, Nonce: "another"})
	var e *supabase.Error
	if !errors.As(err, &e) || e.Status != 400 || !strings.Contains(e.Message, "Nonces mismatch") {
		t.Errorf("wrong nonce: %v", err)
	}
}

// Identities linked through the OAuth flow and by ID token, then
// unlinked, never the last.
func TestSDKIdentities(t *testing.T) {
	t.Parallel()
	st := localstacktest.New(t, localstacktest.Configure(func(cfg *localstack.Config) { cfg.ManualLinking = true }))
	ctx := ctxFor(t)
	c := pkceClient(t, st)
	if _, err := c.Auth.SignUp(ctx, supabase.SignUpParams{Email: "ids@example.com", Password: password}); err != nil {
		t.Fatal(err)
	}
	start, err := c.Auth.LinkIdentityURL(ctx, "github", supabase.OAuthParams{QueryParams: map[string]string{"login_hint": "ids-gh@example.com"}},
		supabase.WithRedirectTo("http://127.0.0.1:3000/linked"))
	if err != nil {
		t.Fatal(err)
	}
	back := browse(t, st, start)
	if _, err := c.Auth.ExchangeCodeForSession(ctx, authCode(t, back)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Auth.LinkIdentityWithIDToken(ctx, supabase.IDTokenCredentials{Provider: "google",
		Token: st.IDToken(map[string]any{"sub": "g-ids", "email": "ids@example.com", "email_verified": true})}); err != nil {
		t.Fatal(err)
	}
	ids, err := c.Auth.UserIdentities(ctx)
	if err != nil || len(ids) != 3 {
		t.Fatalf("identities = %+v, %v", ids, err)
	}
	for _, id := range ids[:2] {
		if err := c.Auth.UnlinkIdentity(ctx, id); err != nil {
			t.Fatalf("unlink %s: %v", id.Provider, err)
		}
	}
	ids, err = c.Auth.UserIdentities(ctx)
	if err != nil || len(ids) != 1 || ids[0].Provider != "google" {
		t.Fatalf("identities left = %+v, %v", ids, err)
	}
	err = c.Auth.UnlinkIdentity(ctx, ids[0])
	var e *supabase.Error
	if !errors.As(err, &e) || e.Status != 422 || e.Code != "single_identity_not_deletable" {
		t.Errorf("unlinking the last identity: %v", err)
	}
}

// A banned user can neither sign in nor refresh; lifting the ban lets
// them back.
func TestSDKAdminBan(t *testing.T) {
	t.Parallel()
	st := localstacktest.New(t)
	ctx := ctxFor(t)
	c, s := user(t, ctx, st, "banned@example.com")
	admin := newClient(t, st, st.ServiceRoleKey).Auth.Admin()
	u, err := admin.UpdateUserByID(ctx, s.User.ID, supabase.AdminUserAttributes{BanDuration: "24h", AppMetadata: map[string]any{"tier": "gold"}})
	if err != nil || u.BannedUntil == nil || u.AppMetadata["tier"] != "gold" {
		t.Fatalf("ban: %+v, %v", u, err)
	}
	var e *supabase.Error
	_, err = newClient(t, st, st.AnonKey).Auth.SignInWithPassword(ctx, "banned@example.com", password)
	if !errors.As(err, &e) || e.Status != 400 || e.Code != "user_banned" {
		t.Errorf("sign in while banned: %v", err)
	}
	_, err = c.Auth.RefreshSession(ctx)
	if !errors.As(err, &e) || e.Code != "user_banned" {
		t.Errorf("refresh while banned: %v", err)
	}
	if _, err := admin.UpdateUserByID(ctx, s.User.ID, supabase.AdminUserAttributes{BanDuration: "none"}); err != nil {
		t.Fatal(err)
	}
	if _, err := newClient(t, st, st.AnonKey).Auth.SignInWithPassword(ctx, "banned@example.com", password); err != nil {
		t.Errorf("sign in after the ban: %v", err)
	}
}

// AllUsers walks every page the Link header names, one request a page.
func TestSDKAllUsersPaging(t *testing.T) {
	t.Parallel()
	var listed atomic.Int32
	st := localstacktest.New(t, localstacktest.WrapHandler(func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && r.URL.Path == "/auth/v1/admin/users" {
				listed.Add(1)
			}
			h.ServeHTTP(w, r)
		})
	}))
	ctx := ctxFor(t)
	admin := newClient(t, st, st.ServiceRoleKey).Auth.Admin()
	want := map[string]bool{}
	for i := range 7 {
		email := fmt.Sprintf("page%d@example.com", i)
		if _, err := admin.CreateUser(ctx, supabase.AdminUserAttributes{Email: email, Password: password, EmailConfirm: true}); err != nil {
			t.Fatal(err)
		}
		want[email] = true
	}
	got := map[string]bool{}
	for u, err := range admin.AllUsers(ctx, 3) {
		if err != nil {
			t.Fatal(err)
		}
		if got[u.Email] {
			t.Errorf("%s listed twice", u.Email)
		}
		got[u.Email] = true
	}
	if len(got) != len(want) {
		t.Errorf("listed %v, want %v", got, want)
	}
	if n := listed.Load(); n != 3 {
		t.Errorf("%d list requests for 7 users 3 a page, want 3", n)
	}
}

// SSO with the test SAML provider of a registered domain.
func TestSDKSSO(t *testing.T) {
	t.Parallel()
	st := localstacktest.New(t, localstacktest.Configure(func(cfg *localstack.Config) { cfg.SSODomains = []string{"corp.test"} }))
	ctx := ctxFor(t)
	c := pkceClient(t, st)
	start, err := c.Auth.SignInWithSSO(ctx, supabase.SSOParams{Domain: "corp.test"}, supabase.WithRedirectTo("http://127.0.0.1:3000/sso"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Auth.ExchangeCodeForSession(ctx, authCode(t, browse(t, st, start)))
	if err != nil {
		t.Fatal(err)
	}
	if res.User.Email != "sso-user@corp.test" || res.User.AppMetadata["provider"] != "sso:"+st.Server.SSOProviderID("corp.test") {
		t.Errorf("user = %+v", res.User)
	}
	_, err = c.Auth.SignInWithSSO(ctx, supabase.SSOParams{Domain: "nowhere.test"})
	var e *supabase.Error
	if !errors.As(err, &e) || e.Status != 404 || e.Code != "sso_provider_not_found" {
		t.Errorf("unknown domain: %v", err)
	}
}

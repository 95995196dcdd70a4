package supabase

import (
	"context"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSignInWithIDToken(t *testing.T) {
	// xi_id_token_google_nonce_captcha
	f, _ := newFakeAPI(t, nil)
	f.on("POST", "/auth/v1/token", 200, axTestdata(t, "session_password.json"))
	c := f.client(t, axAnonKey)
	ctx := context.Background()
	events := axWatchEvents(t, c)
	s, err := c.Auth.SignInWithIDToken(ctx, IDTokenCredentials{Provider: "google", Token: "id.tok.en", AccessToken: "ya29.x",
		Nonce: "raw-nonce"}, WithCaptchaToken("cap-1"))
	require.NoError(t, err)
	axAssertRequest(t, f.last(), axWant{method: "POST", path: "/auth/v1/token", query: url.Values{"grant_type": {"id_token"}},
		key: axAnonKey, bearer: axAnonKey,
		body: `{"provider":"google","id_token":"id.tok.en","access_token":"ya29.x","nonce":"raw-nonce","gotrue_meta_security":{"captcha_token":"cap-1"}}`})
	assert.Equal(t, s.AccessToken, events.next(t, EventSignedIn).AccessToken)

	// Only what is given is sent (supabase-js leaves undefined fields out).
	_, err = c.Auth.SignInWithIDToken(ctx, IDTokenCredentials{Provider: "apple", Token: "id.tok.en"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"provider":"apple","id_token":"id.tok.en","gotrue_meta_security":{}}`, string(f.last().Body))

	n := len(f.requests())
	for _, bad := range []IDTokenCredentials{{Token: "t"}, {Provider: "google"}, {Provider: " ", Token: "t"}} {
		_, err = c.Auth.SignInWithIDToken(ctx, bad)
		assert.ErrorIs(t, err, ErrInvalidArgument)
	}
	_, err = c.Auth.SignInWithIDToken(ctx, IDTokenCredentials{Provider: "google", Token: "t"}, WithRedirectTo("https://x"))
	assert.ErrorIs(t, err, ErrInvalidArgument, "WithRedirectTo is not an option of SignInWithIDToken")
	assert.Len(t, f.requests(), n)
}

func TestLinkIdentityWithIDToken(t *testing.T) {
	// xi_link_identity_id_token
	f, _ := newFakeAPI(t, nil)
	c := f.client(t, axAnonKey)
	ctx := context.Background()
	_, err := c.Auth.LinkIdentityWithIDToken(ctx, IDTokenCredentials{Provider: "google", Token: "t"})
	assert.ErrorIs(t, err, ErrSessionMissing)
	assert.Empty(t, f.requests())

	old := axSignInAda(t, f, c, "session_password.json")
	f.on("POST", "/auth/v1/token", 200, axTestdata(t, "mfa_verify_session.json"))
	events := axWatchEvents(t, c)
	s, err := c.Auth.LinkIdentityWithIDToken(ctx, IDTokenCredentials{Provider: "google", Token: "id.tok.en", Nonce: "n"})
	require.NoError(t, err)
	axAssertRequest(t, f.last(), axWant{method: "POST", path: "/auth/v1/token", query: url.Values{"grant_type": {"id_token"}},
		key: axAnonKey, bearer: old.AccessToken,
		body: `{"provider":"google","id_token":"id.tok.en","nonce":"n","link_identity":true,"gotrue_meta_security":{}}`})
	assert.Equal(t, s.AccessToken, events.next(t, EventUserUpdated).AccessToken)
	cur, err := c.Auth.Session(ctx)
	require.NoError(t, err)
	assert.Equal(t, s.AccessToken, cur.AccessToken, "the new session replaces the old")
}

func TestSignInWithSSO(t *testing.T) {
	// xi_sso_provider_id_captcha, xi_sso_domain_not_found
	f, _ := newFakeAPI(t, nil)
	f.on("POST", "/auth/v1/sso", 200, []byte(`{"url":"https://idp.example.org/saml?SAMLRequest=abc"}`)).once = true
	f.on("POST", "/auth/v1/sso", 404, []byte(`{"code":"sso_provider_not_found","message":"No SSO provider assigned for this domain"}`))
	c := f.client(t, axAnonKey)
	ctx := context.Background()
	u, err := c.Auth.SignInWithSSO(ctx, SSOParams{ProviderID: "4a5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d"},
		WithCaptchaToken("cap-sso"), WithRedirectTo("https://app.example.com/done"))
	require.NoError(t, err)
	assert.Equal(t, "https://idp.example.org/saml?SAMLRequest=abc", u)
	axAssertRequest(t, f.last(), axWant{method: "POST", path: "/auth/v1/sso", key: axAnonKey, bearer: axAnonKey,
		body: `{"provider_id":"4a5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d","redirect_to":"https://app.example.com/done",
			"gotrue_meta_security":{"captcha_token":"cap-sso"},"skip_http_redirect":true,"code_challenge":null,"code_challenge_method":null}`})

	_, err = c.Auth.SignInWithSSO(ctx, SSOParams{Domain: "unknown.example"})
	assert.ErrorIs(t, err, ErrNotFound)
	assert.JSONEq(t, `{"domain":"unknown.example","skip_http_redirect":true,"code_challenge":null,"code_challenge_method":null}`,
		string(f.last().Body), "no redirect_to and no gotrue_meta_security when not given, as supabase-js")

	n := len(f.requests())
	for _, p := range []SSOParams{{}, {Domain: "a.example", ProviderID: "4a5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d"}, {Domain: " "}} {
		_, err = c.Auth.SignInWithSSO(ctx, p)
		assert.ErrorIs(t, err, ErrInvalidArgument)
	}
	assert.Len(t, f.requests(), n)

	// An answer without a URL is not a usable answer.
	g, _ := newFakeAPI(t, nil)
	g.on("POST", "/auth/v1/sso", 200, []byte(`{}`))
	_, err = g.client(t, axAnonKey).Auth.SignInWithSSO(ctx, SSOParams{Domain: "a.example"})
	assert.ErrorIs(t, err, ErrInvalidResponse)
}

func TestUserIdentities(t *testing.T) {
	// xi_get_user_identities
	f, _ := newFakeAPI(t, nil)
	c := f.client(t, axAnonKey)
	ctx := context.Background()
	_, err := c.Auth.UserIdentities(ctx)
	assert.ErrorIs(t, err, ErrSessionMissing)
	s := axSignInAda(t, f, c, "session_password.json")
	f.on("GET", "/auth/v1/user", 200, []byte(`{"id":"6a1d5b2e-3f4c-4d8e-9a7b-2c1e0f9d8b7a","identities":[
		{"identity_id":"1c9e7a3b-5d2f-4e8a-b6c4-0a9f8e7d6c5b","id":"6a1d5b2e-3f4c-4d8e-9a7b-2c1e0f9d8b7a","provider":"email"},
		{"identity_id":"e1f2a3b4-c5d6-4e7f-8091-a2b3c4d5e6f7","id":"10987654321","provider":"google"}]}`)).once = true
	f.on("GET", "/auth/v1/user", 200, []byte(`{"id":"6a1d5b2e-3f4c-4d8e-9a7b-2c1e0f9d8b7a"}`))
	ids, err := c.Auth.UserIdentities(ctx)
	require.NoError(t, err)
	axAssertRequest(t, f.last(), axWant{method: "GET", path: "/auth/v1/user", key: axAnonKey, bearer: s.AccessToken})
	require.Len(t, ids, 2)
	assert.Equal(t, "google", ids[1].Provider)
	assert.Equal(t, "e1f2a3b4-c5d6-4e7f-8091-a2b3c4d5e6f7", ids[1].IdentityID)
	ids, err = c.Auth.UserIdentities(ctx)
	require.NoError(t, err)
	assert.NotNil(t, ids, "none is an empty slice")
	assert.Empty(t, ids)
}

func TestLinkIdentityURL(t *testing.T) {
	// xi_link_identity_scopes_params
	f, _ := newFakeAPI(t, nil)
	f.on("GET", "/auth/v1/user/identities/authorize", 200, []byte(`{"url":"https://github.com/login/oauth/authorize?client_id=x"}`))
	c := f.client(t, axAnonKey)
	ctx := context.Background()
	s := axSignInAda(t, f, c, "session_password.json")
	u, err := c.Auth.LinkIdentityURL(ctx, "github", OAuthParams{Scopes: "repo gist", QueryParams: map[string]string{"allow_signup": "false"}},
		WithRedirectTo("https://app.example.com/linked"))
	require.NoError(t, err)
	assert.Equal(t, "https://github.com/login/oauth/authorize?client_id=x", u)
	axAssertRequest(t, f.last(), axWant{method: "GET", path: "/auth/v1/user/identities/authorize",
		query: url.Values{"provider": {"github"}, "redirect_to": {"https://app.example.com/linked"}, "scopes": {"repo gist"},
			"allow_signup": {"false"}, "skip_http_redirect": {"true"}},
		key: axAnonKey, bearer: s.AccessToken})

	n := len(f.requests())
	_, err = c.Auth.LinkIdentityURL(ctx, " ", OAuthParams{})
	assert.ErrorIs(t, err, ErrInvalidArgument)
	_, err = c.Auth.LinkIdentityURL(ctx, "github", OAuthParams{}, WithCaptchaToken("c"))
	assert.ErrorIs(t, err, ErrInvalidArgument)
	assert.Len(t, f.requests(), n)
}

func TestUnlinkIdentity(t *testing.T) {
	// xi_unlink_identity, xi_unlink_last_identity_refused
	f, _ := newFakeAPI(t, nil)
	const google = "e1f2a3b4-c5d6-4e7f-8091-a2b3c4d5e6f7"
	f.on("DELETE", "/auth/v1/user/identities/"+google, 200, []byte(`{}`))
	f.on("DELETE", "/auth/v1/user/identities/1c9e7a3b-5d2f-4e8a-b6c4-0a9f8e7d6c5b", 422,
		[]byte(`{"code":"single_identity_not_deletable","message":"User must have at least 1 identity after unlinking"}`))
	c := f.client(t, axAnonKey)
	ctx := context.Background()
	id := Identity{IdentityID: google, ID: "10987654321", Provider: "google"}
	assert.ErrorIs(t, c.Auth.UnlinkIdentity(ctx, id), ErrSessionMissing)
	assert.Empty(t, f.requests())

	s := axSignInAda(t, f, c, "session_password.json")
	require.NoError(t, c.Auth.UnlinkIdentity(ctx, id))
	axAssertRequest(t, f.last(), axWant{method: "DELETE", path: "/auth/v1/user/identities/" + google, key: axAnonKey, bearer: s.AccessToken})

	err := c.Auth.UnlinkIdentity(ctx, s.User.Identities[0])
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "single_identity_not_deletable", e.Code)
	assert.Equal(t, 422, e.Status)

	// The identity is named by IdentityID: an Identity with only the
	// provider's ID set, or a path in it, is refused before any request.
	n := len(f.requests())
	for _, bad := range []Identity{{ID: "6a1d5b2e-3f4c-4d8e-9a7b-2c1e0f9d8b7a"}, {IdentityID: "../../admin/users"}} {
		assert.ErrorIs(t, c.Auth.UnlinkIdentity(ctx, bad), ErrInvalidArgument)
	}
	assert.Len(t, f.requests(), n)
}

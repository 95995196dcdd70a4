package supabase

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

// UserIdentities returns the identities linked to the signed-in user
// (email, phone, OAuth providers, ...), read from the user as the server
// has it (GET /user, as User). It never returns a nil slice on success.
// supabase-js: getUserIdentities.
func (a *AuthClient) UserIdentities(ctx context.Context) ([]Identity, error) {
	u, err := a.User(ctx)
	if err != nil {
		return nil, err
	}
	if u.Identities == nil {
		return []Identity{}, nil
	}
	return u.Identities, nil
}

// LinkIdentityURL returns the URL that links an OAuth identity of provider
// to the signed-in user: send the user's browser there, and the provider
// sends them back to the WithRedirectTo URL (GET
// /user/identities/authorize, as the user). Manual linking must be enabled
// in the project. With FlowPKCE it starts a PKCE flow, whose code the
// redirect brings for ExchangeCodeForSession. It takes WithRedirectTo.
// supabase-js: linkIdentity with an OAuth provider.
func (a *AuthClient) LinkIdentityURL(ctx context.Context, provider string, p OAuthParams, opts ...AuthOption) (string, error) {
	if err := a.unavailable(); err != nil {
		return "", err
	}
	o, err := authOpts("LinkIdentityURL", opts, takesRedirect)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(provider) == "" {
		return "", invalidArg("LinkIdentityURL: empty provider")
	}
	if _, err := a.userSession(ctx); err != nil {
		return "", err
	}
	flow, err := a.startFlow(ctx, false)
	if err != nil {
		return "", err
	}
	q := url.Values{}
	for _, kv := range providerQuery(provider, o.redirectTo, p, flow) {
		q.Add(kv[0], kv[1])
	}
	// The answer is the URL as JSON rather than a redirect, which this
	// client never follows.
	q.Add("skip_http_redirect", "true")
	resp, err := a.userCall(ctx, http.MethodGet, "/user/identities/authorize", q, nil)
	a.endFlow(ctx, flow, err)
	if err != nil {
		return "", err
	}
	return decodeURLAnswer(resp.body)
}

// LinkIdentityWithIDToken links the identity of an OpenID Connect ID token
// to the signed-in user (POST /token?grant_type=id_token with
// link_identity, as the user). The server answers with a new session,
// which replaces the current one (USER_UPDATED). It takes
// WithCaptchaToken. supabase-js: linkIdentity with an ID token.
func (a *AuthClient) LinkIdentityWithIDToken(ctx context.Context, c IDTokenCredentials, opts ...AuthOption) (*Session, error) {
	if err := a.unavailable(); err != nil {
		return nil, err
	}
	o, err := authOpts("LinkIdentityWithIDToken", opts, takesCaptcha)
	if err != nil {
		return nil, err
	}
	if err := c.check("LinkIdentityWithIDToken"); err != nil {
		return nil, err
	}
	body := idTokenBody{Provider: c.Provider, IDToken: c.Token, AccessToken: c.AccessToken, Nonce: c.Nonce,
		LinkIdentity: true, Security: o.security()}
	resp, err := a.userCall(ctx, http.MethodPost, "/token", url.Values{"grant_type": {"id_token"}}, body)
	if err != nil {
		return nil, err
	}
	return a.signedIn(ctx, resp.body, EventUserUpdated)
}

// UnlinkIdentity removes identity (one of UserIdentities) from the
// signed-in user, who can then no longer sign in with it (DELETE
// /user/identities/{identity_id}). A user keeps at least one identity;
// manual linking must be enabled in the project. supabase-js:
// unlinkIdentity.
func (a *AuthClient) UnlinkIdentity(ctx context.Context, identity Identity) error {
	if err := a.unavailable(); err != nil {
		return err
	}
	// IdentityID, not ID (the provider's id for the user): only the former
	// names the identity, and a UUID cannot change the endpoint called.
	if err := checkUUID("UnlinkIdentity", "Identity.IdentityID", identity.IdentityID); err != nil {
		return err
	}
	_, err := a.userCall(ctx, http.MethodDelete, "/user/identities/"+identity.IdentityID, nil, nil)
	return err
}

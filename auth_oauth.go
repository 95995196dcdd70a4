package supabase

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// OAuthParams are the optional parts of an OAuth sign-in URL. Where the
// provider sends the user back is WithRedirectTo.
type OAuthParams struct {
	// Scopes are extra provider scopes, space separated.
	Scopes string
	// QueryParams are passed on to the provider (e.g. prompt, access_type);
	// they are added in key order.
	QueryParams map[string]string
}

// providerQuery is the query of an authorize URL, in supabase-js's order:
// provider, redirect_to, scopes, the PKCE challenge, the caller's
// parameters (here in key order). Each pair is (name, value), unescaped.
func providerQuery(provider, redirectTo string, p OAuthParams, f *pkceFlow) [][2]string {
	q := [][2]string{{"provider", provider}}
	if redirectTo != "" {
		q = append(q, [2]string{"redirect_to", redirectTo})
	}
	if p.Scopes != "" {
		q = append(q, [2]string{"scopes", p.Scopes})
	}
	if f != nil && f.CodeChallenge != nil {
		q = append(q, [2]string{"code_challenge", *f.CodeChallenge}, [2]string{"code_challenge_method", *f.CodeChallengeMethod})
	}
	keys := make([]string, 0, len(p.QueryParams))
	for k := range p.QueryParams {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		q = append(q, [2]string{k, p.QueryParams[k]})
	}
	return q
}

// SignInWithOAuthURL returns the URL of the Auth authorize endpoint that
// starts an OAuth sign-in with provider ("github", "google", ...): send the
// user's browser there. It takes WithRedirectTo, where the provider sends
// the user back. supabase-js: signInWithOAuth.
//
// In the implicit flow (the default) it makes no request: the tokens come
// back in the fragment of the redirect URL, and the page there hands them
// to SetSession. With FlowPKCE it starts a PKCE flow: the code verifier is
// kept in the client's store (hence ctx) and the URL carries its
// challenge; the redirect brings ?code=... for ExchangeCodeForSession.
func (a *AuthClient) SignInWithOAuthURL(ctx context.Context, provider string, p OAuthParams, opts ...AuthOption) (string, error) {
	if err := a.unavailable(); err != nil {
		return "", err
	}
	o, err := authOpts("SignInWithOAuthURL", opts, takesRedirect)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(provider) == "" {
		return "", invalidArg("SignInWithOAuthURL: empty provider")
	}
	flow, err := a.startFlow(ctx, false)
	if err != nil {
		return "", err
	}
	q := providerQuery(provider, o.redirectTo, p, flow)
	parts := make([]string, len(q))
	for i, kv := range q {
		switch kv[0] {
		case "provider", "redirect_to", "scopes":
			parts[i] = kv[0] + "=" + encodeURIComponent(kv[1])
		default:
			parts[i] = url.QueryEscape(kv[0]) + "=" + url.QueryEscape(kv[1])
		}
	}
	return a.co.authURL + "/authorize?" + strings.Join(parts, "&"), nil
}

// encodeURIComponent escapes s for a query value with spaces as %20, as the
// JavaScript function of that name does for the parameters Auth reads.
func encodeURIComponent(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// SSOParams name the identity provider of an SSO (SAML) sign-in: set
// exactly one of Domain and ProviderID. supabase-js: SignInWithSSO's
// domain and providerId.
type SSOParams struct {
	// Domain is the organisation's email domain, registered with an SSO
	// provider in the project.
	Domain string
	// ProviderID is the SSO provider's UUID.
	ProviderID string
}

type ssoBody struct {
	ProviderID string        `json:"provider_id,omitempty"`
	Domain     string        `json:"domain,omitempty"`
	RedirectTo string        `json:"redirect_to,omitempty"`
	Security   *metaSecurity `json:"gotrue_meta_security,omitempty"`
	// The answer is the URL as JSON rather than a redirect, which this
	// client never follows.
	SkipHTTPRedirect bool `json:"skip_http_redirect"`
	pkceFlow
}

// SignInWithSSO starts an SSO (SAML) sign-in through the identity provider
// of p's domain or id (POST /sso) and returns the URL to send the user's
// browser to. It takes WithCaptchaToken and WithRedirectTo (where the user
// lands after signing in). With FlowPKCE it starts a PKCE flow: the
// redirect brings a code for ExchangeCodeForSession; otherwise the tokens
// come in the redirect's fragment, for SetSession. supabase-js:
// signInWithSSO.
func (a *AuthClient) SignInWithSSO(ctx context.Context, p SSOParams, opts ...AuthOption) (string, error) {
	if err := a.unavailable(); err != nil {
		return "", err
	}
	o, err := authOpts("SignInWithSSO", opts, takesCaptcha|takesRedirect)
	if err != nil {
		return "", err
	}
	if (strings.TrimSpace(p.Domain) == "") == (strings.TrimSpace(p.ProviderID) == "") {
		return "", invalidArg("SignInWithSSO: set exactly one of Domain and ProviderID")
	}
	body := ssoBody{ProviderID: p.ProviderID, Domain: p.Domain, RedirectTo: o.redirectTo, SkipHTTPRedirect: true}
	if o.captchaToken != "" {
		body.Security = &metaSecurity{CaptchaToken: o.captchaToken}
	}
	flow, err := a.startFlow(ctx, false)
	if err != nil {
		return "", err
	}
	body.pkceFlow = *flow
	resp, err := a.authCall(ctx, http.MethodPost, "/sso", nil, body, keyBearer)
	a.endFlow(ctx, flow, err)
	if err != nil {
		return "", err
	}
	return decodeURLAnswer(resp.body)
}

// decodeURLAnswer reads the {"url": ...} answer of /sso and
// /user/identities/authorize.
func decodeURLAnswer(body []byte) (string, error) {
	var wire struct {
		URL string `json:"url"`
	}
	if err := decodeJSON(body, &wire); err != nil {
		return "", err
	}
	if wire.URL == "" {
		return "", invalidSessionAnswer("the answer has no url")
	}
	return wire.URL, nil
}

// IDTokenCredentials are an OpenID Connect ID token obtained from a
// provider (Sign in with Apple or Google on a device, for example), for
// SignInWithIDToken and LinkIdentityWithIDToken. supabase-js:
// SignInWithIdTokenCredentials.
//
// fmt (every verb) and encoding/json show it with Token, AccessToken and
// Nonce redacted, and so do slog's text and JSON handlers, which rely on
// them.
type IDTokenCredentials struct {
	// Provider is "google", "apple", "azure", "facebook", "kakao", a
	// custom OIDC provider as "custom:<name>", or the token's issuer.
	Provider string
	// Token is the ID token.
	Token string
	// AccessToken is the provider's access token, needed when the ID token
	// has an at_hash claim.
	AccessToken string
	// Nonce is the raw nonce, needed when the ID token has a nonce claim
	// (its hash).
	Nonce string
}

func (c IDTokenCredentials) redacted() any {
	type idTokenCredentials IDTokenCredentials
	r := idTokenCredentials(c)
	r.Token = redact(r.Token)
	r.AccessToken = redact(r.AccessToken)
	r.Nonce = redact(r.Nonce)
	return r
}

// Format prints c with Token, AccessToken and Nonce redacted, whatever the
// verb.
func (c IDTokenCredentials) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c.redacted()) }

// MarshalJSON encodes c with Token, AccessToken and Nonce redacted:
// requests are built from wire types of their own, never by encoding it.
func (c IDTokenCredentials) MarshalJSON() ([]byte, error) { return json.Marshal(c.redacted()) }

func (c IDTokenCredentials) check(call string) error {
	if strings.TrimSpace(c.Provider) == "" || c.Token == "" {
		return invalidArg("%s: Provider and Token are required", call)
	}
	return nil
}

type idTokenBody struct {
	Provider     string       `json:"provider"`
	IDToken      string       `json:"id_token"`
	AccessToken  string       `json:"access_token,omitempty"`
	Nonce        string       `json:"nonce,omitempty"`
	LinkIdentity bool         `json:"link_identity,omitempty"`
	Security     metaSecurity `json:"gotrue_meta_security"`
}

// SignInWithIDToken signs a user in with an OpenID Connect ID token from
// a provider enabled in the project (POST /token?grant_type=id_token),
// creating the user on first sign-in, and emits SIGNED_IN. It takes
// WithCaptchaToken. supabase-js: signInWithIdToken.
func (a *AuthClient) SignInWithIDToken(ctx context.Context, c IDTokenCredentials, opts ...AuthOption) (*Session, error) {
	if err := a.unavailable(); err != nil {
		return nil, err
	}
	o, err := authOpts("SignInWithIDToken", opts, takesCaptcha)
	if err != nil {
		return nil, err
	}
	if err := c.check("SignInWithIDToken"); err != nil {
		return nil, err
	}
	body := idTokenBody{Provider: c.Provider, IDToken: c.Token, AccessToken: c.AccessToken, Nonce: c.Nonce,
		Security: o.security()}
	resp, err := a.authCall(ctx, http.MethodPost, "/token", url.Values{"grant_type": {"id_token"}}, body, keyBearer)
	if err != nil {
		return nil, err
	}
	return a.signedIn(ctx, resp.body, EventSignedIn)
}

package supabase

import (
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

// SignInWithOAuthURL returns the URL of the Auth authorize endpoint that
// starts an OAuth sign-in with provider ("github", "google", ...). It makes
// no request: send the user's browser there. In this (implicit) flow the
// tokens come back in the fragment of the WithRedirectTo URL; the page
// there hands them to SetSession. It takes WithRedirectTo.
func (a *AuthClient) SignInWithOAuthURL(provider string, p OAuthParams, opts ...AuthOption) (string, error) {
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
	parts := []string{"provider=" + encodeURIComponent(provider)}
	if o.redirectTo != "" {
		parts = append(parts, "redirect_to="+encodeURIComponent(o.redirectTo))
	}
	if p.Scopes != "" {
		parts = append(parts, "scopes="+encodeURIComponent(p.Scopes))
	}
	keys := make([]string, 0, len(p.QueryParams))
	for k := range p.QueryParams {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(p.QueryParams[k]))
	}
	return a.co.authURL + "/authorize?" + strings.Join(parts, "&"), nil
}

// encodeURIComponent escapes s for a query value with spaces as %20, as the
// JavaScript function of that name does for the parameters Auth reads.
func encodeURIComponent(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

package supabase

import (
	"net/url"
	"strings"
)

// WithEmptySession returns a client with a session of its own, empty, for
// signing one end user in from a server: its Auth signs in, refreshes and
// signs out without touching c's session, and its queries run as the user
// it signed in. It shares the HTTP client, configuration and refresh
// bookkeeping with c (it is as cheap as WithAccessToken) and keeps its
// session in memory.
//
// Signing users in through a shared base client instead would make every
// request handler's sign-in the base client's session: the last user to
// sign in would be the one every query runs as.
//
// Like WithAccessToken and WithSession, it never falls back to the project
// key: before a sign-in, and after SignOut, its queries fail with an error
// matching ErrSessionMissing (the key may be a service_role key, which
// bypasses RLS). Auth calls that need no session (sign-in, sign-up, OTP,
// password reset) send the key as usual.
func (c *Client) WithEmptySession() *Client {
	d := c.derive()
	if d.core == nil {
		return d
	}
	d.Auth = newAuthClient(c.core, NewMemoryStore(), true)
	d.Auth.userOnly = true
	d.tokens = d.Auth
	return d
}

// apiPaths are the paths the client appends to the project URL itself.
var apiPaths = []string{"/rest/v1", "/auth/v1", "/storage/v1", "/functions/v1"}

// checkNotAPIURL refuses a project URL (as parseProjectURL returns it)
// that already names one of the project's APIs: the client would send
// requests to .../rest/v1/rest/v1/... The message names only the API path,
// never the argument: when URL and key are swapped it is a secret.
func checkNotAPIURL(base string) error {
	u, err := url.Parse(base)
	if err != nil {
		return nil // parseProjectURL accepted it; nothing more to check
	}
	p := strings.ToLower(strings.TrimRight(u.Path, "/")) + "/"
	for _, api := range apiPaths {
		if strings.Contains(p, api+"/") {
			return invalidArg("the project URL has the API path %s: pass the project URL itself (for example https://<ref>.supabase.co); the client adds %s", api, api)
		}
	}
	return nil
}

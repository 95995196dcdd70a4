package supabase

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// optionCall is one Auth call that takes AuthOptions.
type optionCall struct {
	name            string
	captcha, redir  bool // which options it takes
	path            string
	call            func(c *Client, opts ...AuthOption) error
	urlOnly         bool // builds a URL, sends nothing
	signedIn, admin bool
	get             bool // a GET: no body, redirect_to among other query parameters
	redirInBody     bool // redirect_to goes in the body, not the query
}

func optionCalls() []optionCall {
	ctx := context.Background()
	return []optionCall{
		{name: "SignUp", captcha: true, redir: true, path: "/auth/v1/signup", call: func(c *Client, o ...AuthOption) error {
			_, err := c.Auth.SignUp(ctx, SignUpParams{Email: "a@example.com", Password: "pw"}, o...)
			return err
		}},
		{name: "SignInWithPassword", captcha: true, path: "/auth/v1/token", call: func(c *Client, o ...AuthOption) error {
			_, err := c.Auth.SignInWithPassword(ctx, "a@example.com", "pw", o...)
			return err
		}},
		{name: "SignInWithPhonePassword", captcha: true, path: "/auth/v1/token", call: func(c *Client, o ...AuthOption) error {
			_, err := c.Auth.SignInWithPhonePassword(ctx, "64211234567", "pw", o...)
			return err
		}},
		{name: "SignInWithOTP", captcha: true, redir: true, path: "/auth/v1/otp", call: func(c *Client, o ...AuthOption) error {
			_, err := c.Auth.SignInWithOTP(ctx, SignInWithOTPParams{Email: "a@example.com"}, o...)
			return err
		}},
		{name: "VerifyOTP", captcha: true, redir: true, path: "/auth/v1/verify", call: func(c *Client, o ...AuthOption) error {
			_, err := c.Auth.VerifyOTP(ctx, VerifyOTPParams{Email: "a@example.com", Token: "123456", Type: OTPTypeEmail}, o...)
			return err
		}},
		{name: "SignInAnonymously", captcha: true, path: "/auth/v1/signup", call: func(c *Client, o ...AuthOption) error {
			_, err := c.Auth.SignInAnonymously(ctx, SignInAnonymouslyParams{}, o...)
			return err
		}},
		{name: "ResetPasswordForEmail", captcha: true, redir: true, path: "/auth/v1/recover", call: func(c *Client, o ...AuthOption) error {
			return c.Auth.ResetPasswordForEmail(ctx, "a@example.com", o...)
		}},
		{name: "Resend", captcha: true, redir: true, path: "/auth/v1/resend", call: func(c *Client, o ...AuthOption) error {
			_, err := c.Auth.Resend(ctx, ResendParams{Type: OTPTypeSignup, Email: "a@example.com"}, o...)
			return err
		}},
		{name: "UpdateUser", redir: true, path: "/auth/v1/user", signedIn: true, call: func(c *Client, o ...AuthOption) error {
			_, err := c.Auth.UpdateUser(ctx, UserAttributes{Email: "b@example.com"}, o...)
			return err
		}},
		{name: "SignInWithOAuthURL", redir: true, urlOnly: true, call: func(c *Client, o ...AuthOption) error {
			u, err := c.Auth.SignInWithOAuthURL(ctx, "github", OAuthParams{}, o...)
			if err == nil && !strings.Contains(u, "redirect_to=https%3A%2F%2Fapp.example.com%2Fcb") {
				return &Error{Message: "no redirect_to in " + u}
			}
			return err
		}},
		{name: "SignInWithIDToken", captcha: true, path: "/auth/v1/token", call: func(c *Client, o ...AuthOption) error {
			_, err := c.Auth.SignInWithIDToken(ctx, IDTokenCredentials{Provider: "google", Token: "id-token"}, o...)
			return err
		}},
		{name: "LinkIdentityWithIDToken", captcha: true, path: "/auth/v1/token", signedIn: true, call: func(c *Client, o ...AuthOption) error {
			_, err := c.Auth.LinkIdentityWithIDToken(ctx, IDTokenCredentials{Provider: "google", Token: "id-token"}, o...)
			return err
		}},
		{name: "SignInWithSSO", captcha: true, redir: true, redirInBody: true, path: "/auth/v1/sso", call: func(c *Client, o ...AuthOption) error {
			_, err := c.Auth.SignInWithSSO(ctx, SSOParams{Domain: "example.com"}, o...)
			return err
		}},
		{name: "LinkIdentityURL", redir: true, get: true, signedIn: true, path: "/auth/v1/user/identities/authorize", call: func(c *Client, o ...AuthOption) error {
			_, err := c.Auth.LinkIdentityURL(ctx, "github", OAuthParams{}, o...)
			return err
		}},
		{name: "Admin GenerateLink", redir: true, path: "/auth/v1/admin/generate_link", admin: true, call: func(c *Client, o ...AuthOption) error {
			_, err := c.Auth.Admin().GenerateLink(ctx, GenerateLinkParams{Type: LinkMagicLink, Email: "a@example.com"}, o...)
			return err
		}},
		{name: "Admin InviteUserByEmail", redir: true, path: "/auth/v1/invite", admin: true, call: func(c *Client, o ...AuthOption) error {
			_, err := c.Auth.Admin().InviteUserByEmail(ctx, "a@example.com", InviteParams{}, o...)
			return err
		}},
	}
}

// Every call that takes WithCaptchaToken sends it as
// gotrue_meta_security.captcha_token, every call that takes WithRedirectTo
// sends redirect_to; an option a call does not take fails with
// ErrInvalidArgument before any request.
func TestAuthOptionsOnEveryCall(t *testing.T) {
	const redirect = "https://app.example.com/cb"
	for _, oc := range optionCalls() {
		t.Run(oc.name, func(t *testing.T) {
			f, _ := newFakeAPI(t, nil)
			f.on("POST", "/auth/v1/token", 200, axTestdata(t, "session_password.json"))
			f.on("POST", "/auth/v1/signup", 200, axTestdata(t, "anonymous_session.json"))
			f.on("POST", "/auth/v1/verify", 200, axTestdata(t, "verify_otp_email.json"))
			f.on("POST", "/auth/v1/admin/generate_link", 200, axTestdata(t, "generate_link_signup.json"))
			f.on("POST", "/auth/v1/invite", 200, axTestdata(t, "invite_user.json"))
			f.on("PUT", "/auth/v1/user", 200, axTestdata(t, "user_with_factors.json"))
			f.on("POST", "/auth/v1/sso", 200, []byte(`{"url":"https://idp.example.com/sso"}`))
			f.on("GET", "/auth/v1/user/identities/authorize", 200, []byte(`{"url":"https://github.com/login"}`))
			for _, p := range []string{"/auth/v1/otp", "/auth/v1/recover", "/auth/v1/resend"} {
				f.on("POST", p, 200, []byte(`{}`))
			}
			c := f.client(t, axAnonKey)
			if oc.signedIn {
				axSignInAda(t, f, c, "session_password.json")
			}

			var opts []AuthOption
			if oc.captcha {
				opts = append(opts, WithCaptchaToken("cap-1"))
			}
			if oc.redir {
				opts = append(opts, WithRedirectTo(redirect))
			}
			require.NoError(t, oc.call(c, opts...))
			switch {
			case oc.urlOnly:
			case oc.get:
				r := f.last()
				assert.Equal(t, oc.path, r.Path)
				assert.Empty(t, r.Body)
				assert.Equal(t, redirect, r.Query.Get("redirect_to"))
			default:
				r := f.last()
				assert.Equal(t, oc.path, r.Path)
				var body struct {
					RedirectTo *string `json:"redirect_to"`
					Security   *struct {
						CaptchaToken *string `json:"captcha_token"`
					} `json:"gotrue_meta_security"`
				}
				require.NoError(t, json.Unmarshal(r.Body, &body))
				if oc.captcha {
					require.NotNil(t, body.Security)
					assert.Equal(t, "cap-1", *body.Security.CaptchaToken)
				} else {
					assert.Nil(t, body.Security, "no gotrue_meta_security where supabase-js sends none")
				}
				switch {
				case oc.redirInBody:
					require.NotNil(t, body.RedirectTo)
					assert.Equal(t, redirect, *body.RedirectTo)
					assert.Empty(t, r.Query.Get("redirect_to"))
				case oc.redir:
					assert.Equal(t, url.Values{"redirect_to": {redirect}}, r.Query)
				default:
					assert.Nil(t, body.RedirectTo)
				}
			}

			// Options the call does not take, and empty ones, which are no option.
			n := len(f.requests())
			if !oc.captcha {
				assert.ErrorIs(t, oc.call(c, WithCaptchaToken("cap-1")), ErrInvalidArgument)
			}
			if !oc.redir {
				assert.ErrorIs(t, oc.call(c, WithRedirectTo(redirect)), ErrInvalidArgument)
			}
			assert.Len(t, f.requests(), n, "nothing sent with an option the call does not take")
			if !oc.urlOnly {
				require.NoError(t, oc.call(c, WithCaptchaToken(""), WithRedirectTo(""), nil))
				assert.Len(t, f.requests(), n+1)
				assert.Empty(t, f.last().Query.Get("redirect_to"))
			}
		})
	}
}

// Email links lead somewhere; an SMS code does not: WithRedirectTo with a
// phone is an invalid argument rather than an option silently dropped.
func TestRedirectIsForEmailOnly(t *testing.T) {
	f, _ := newFakeAPI(t, nil)
	c := f.client(t, axAnonKey)
	ctx := context.Background()
	rt := WithRedirectTo("https://app.example.com/cb")
	_, err := c.Auth.SignUp(ctx, SignUpParams{Phone: "64211234567", Password: "pw"}, rt)
	assert.ErrorIs(t, err, ErrInvalidArgument)
	_, err = c.Auth.SignInWithOTP(ctx, SignInWithOTPParams{Phone: "64211234567"}, rt)
	assert.ErrorIs(t, err, ErrInvalidArgument)
	_, err = c.Auth.Resend(ctx, ResendParams{Type: OTPTypeSMS, Phone: "64211234567"}, rt)
	assert.ErrorIs(t, err, ErrInvalidArgument)
	assert.Empty(t, f.requests())
}

// A call made with the user's token never carries the project key, even
// when nobody is signed in by the time it is sent; an explicit JWT that is
// empty is refused instead of replaced by the key.
func TestUserCallsNeverSendTheKey(t *testing.T) {
	f, _ := newFakeAPI(t, nil)
	c := f.client(t, axServiceKey)
	ctx := context.Background()
	_, err := c.Auth.authCall(ctx, http.MethodGet, "/user", nil, nil, sessionBearer)
	assert.ErrorIs(t, err, ErrSessionMissing)
	_, err = c.Auth.authCall(ctx, http.MethodGet, "/user", nil, nil, jwtBearer(""))
	assert.ErrorIs(t, err, ErrInvalidArgument)
	_, err = c.Auth.userCall(ctx, http.MethodGet, "/reauthenticate", nil, nil)
	assert.ErrorIs(t, err, ErrSessionMissing)
	assert.Empty(t, f.requests())

	// Signed in: the session's token, read at send time; the key only as apikey.
	f.on("GET", "/auth/v1/reauthenticate", 200, []byte(`{}`))
	s := axSignInAda(t, f, c, "session_password.json")
	require.NoError(t, c.Auth.Reauthenticate(ctx))
	axAssertRequest(t, f.last(), axWant{method: "GET", path: "/auth/v1/reauthenticate", key: axServiceKey, bearer: s.AccessToken})
}

package supabase

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// OTPType names what a one-time password or email link was sent for. It is
// the type given to VerifyOTP and Resend.
type OTPType string

// One-time password types.
const (
	// OTPTypeSMS: a code sent by SMS (or WhatsApp) to sign up or sign in.
	OTPTypeSMS OTPType = "sms"
	// OTPTypePhoneChange: a code sent to a new phone number.
	OTPTypePhoneChange OTPType = "phone_change"
	// OTPTypeEmail: a code or link sent by email to sign up or sign in.
	OTPTypeEmail OTPType = "email"
	// OTPTypeRecovery: a password-recovery code or link.
	OTPTypeRecovery OTPType = "recovery"
	// OTPTypeInvite: an invitation link.
	OTPTypeInvite OTPType = "invite"
	// OTPTypeEmailChange: a code or link sent to confirm an email change.
	OTPTypeEmailChange OTPType = "email_change"
	// OTPTypeSignup: a sign-up confirmation (deprecated by Auth in favour of
	// OTPTypeEmail for verification, still used by Resend).
	OTPTypeSignup OTPType = "signup"
	// OTPTypeMagicLink: a magic link (deprecated by Auth in favour of
	// OTPTypeEmail).
	OTPTypeMagicLink OTPType = "magiclink"
)

// SignInWithOTPParams say where SignInWithOTP sends a one-time password.
// Set exactly one of Email and Phone.
type SignInWithOTPParams struct {
	Email string
	Phone string
	// Data becomes the user's user_metadata when the user is created.
	Data map[string]any
	// ShouldCreateUser says whether an unknown email or phone signs up a
	// new user. nil means true, as in supabase-js.
	ShouldCreateUser *bool
	// Channel is "sms" (default) or "whatsapp" (phone only).
	Channel string
}

type otpBody struct {
	contact
	Data       map[string]any `json:"data"`
	CreateUser bool           `json:"create_user"`
	Channel    string         `json:"channel,omitempty"` // phone only
	Security   metaSecurity   `json:"gotrue_meta_security"`
}

// SignInWithOTP sends a one-time password: a magic link or code by email, or
// a code by SMS or WhatsApp (POST /otp). Nobody is signed in yet: pass the
// code to VerifyOTP. For SMS the provider's message id is in MessageID. It
// takes WithCaptchaToken and, for an email, WithRedirectTo (where the magic
// link leads). With FlowPKCE an email starts a PKCE flow: the magic link
// brings a code for ExchangeCodeForSession (a code typed by the user still
// goes to VerifyOTP). supabase-js: signInWithOtp.
func (a *AuthClient) SignInWithOTP(ctx context.Context, p SignInWithOTPParams, opts ...AuthOption) (*AuthResponse, error) {
	if err := a.unavailable(); err != nil {
		return nil, err
	}
	o, err := authOpts("SignInWithOTP", opts, takesCaptcha|takesRedirect)
	if err != nil {
		return nil, err
	}
	if (strings.TrimSpace(p.Email) == "") == (strings.TrimSpace(p.Phone) == "") {
		return nil, invalidArg("SignInWithOTP: set exactly one of Email and Phone")
	}
	if strings.TrimSpace(p.Email) != "" && p.Channel != "" {
		return nil, invalidArg("SignInWithOTP: Channel is only valid with Phone")
	}
	body := otpBody{contact: newContact(p.Email, p.Phone), Data: orEmpty(p.Data),
		CreateUser: p.ShouldCreateUser == nil || *p.ShouldCreateUser, Security: o.security()}
	if err := body.emailOnlyRedirect("SignInWithOTP", o); err != nil {
		return nil, err
	}
	if !body.isEmail() {
		body.Channel = orDefault(p.Channel, "sms")
	}
	flow, err := a.startEmailFlow(ctx, &body.contact, false)
	if err != nil {
		return nil, err
	}
	resp, err := a.authCall(ctx, http.MethodPost, "/otp", o.query(), body, keyBearer)
	a.endFlow(ctx, flow, err)
	if err != nil {
		return nil, err
	}
	return decodeMessageID(resp.body)
}

// decodeMessageID reads the {"message_id": ...} answer of /otp and /resend.
// An empty body is a valid answer.
func decodeMessageID(body []byte) (*AuthResponse, error) {
	res := &AuthResponse{}
	if len(strings.TrimSpace(string(body))) == 0 {
		return res, nil
	}
	var wire struct {
		MessageID string `json:"message_id"`
	}
	if err := decodeJSON(body, &wire); err != nil {
		return nil, err
	}
	res.MessageID = wire.MessageID
	return res, nil
}

// VerifyOTPParams identify a one-time password to verify: Email or Phone
// with Token, or TokenHash alone (from an email link). Type is required.
//
// fmt (every verb) and encoding/json show it with Token and TokenHash
// redacted, and so do slog's text and JSON handlers, which rely on them.
type VerifyOTPParams struct {
	Email string
	Phone string
	// Token is the code the user received.
	Token string
	// TokenHash is the token_hash of an email link; it replaces Email and
	// Token.
	TokenHash string
	Type      OTPType
}

func (p VerifyOTPParams) redacted() any {
	type verifyOTPParams VerifyOTPParams
	r := verifyOTPParams(p)
	r.Token = redact(r.Token)
	r.TokenHash = redact(r.TokenHash)
	return r
}

// Format prints p with Token and TokenHash redacted, whatever the verb.
func (p VerifyOTPParams) Format(f fmt.State, verb rune) { formatRedacted(f, verb, p.redacted()) }

// MarshalJSON encodes p with Token and TokenHash redacted: requests are
// built from wire types of their own, never by encoding it.
func (p VerifyOTPParams) MarshalJSON() ([]byte, error) { return json.Marshal(p.redacted()) }

type verifyBody struct {
	Type      OTPType      `json:"type"`
	Email     string       `json:"email,omitempty"`
	Phone     string       `json:"phone,omitempty"`
	Token     string       `json:"token,omitempty"`
	TokenHash string       `json:"token_hash,omitempty"`
	Security  metaSecurity `json:"gotrue_meta_security"`
}

// VerifyOTP checks a one-time password (POST /verify). On success the user
// is signed in: the session is stored and PASSWORD_RECOVERY (for
// OTPTypeRecovery) or SIGNED_IN is emitted. It takes WithCaptchaToken and
// WithRedirectTo.
func (a *AuthClient) VerifyOTP(ctx context.Context, p VerifyOTPParams, opts ...AuthOption) (*AuthResponse, error) {
	if err := a.unavailable(); err != nil {
		return nil, err
	}
	o, err := authOpts("VerifyOTP", opts, takesCaptcha|takesRedirect)
	if err != nil {
		return nil, err
	}
	if p.Type == "" {
		return nil, invalidArg("VerifyOTP: Type is required")
	}
	body := verifyBody{Type: p.Type, Security: o.security()}
	if p.TokenHash != "" {
		if p.Email != "" || p.Phone != "" || p.Token != "" {
			return nil, invalidArg("VerifyOTP: TokenHash excludes Email, Phone and Token")
		}
		body.TokenHash = p.TokenHash
	} else {
		if (p.Email == "") == (p.Phone == "") {
			return nil, invalidArg("VerifyOTP: set exactly one of Email, Phone and TokenHash")
		}
		if p.Token == "" {
			return nil, invalidArg("VerifyOTP: Token is required with Email or Phone")
		}
		body.Email, body.Phone, body.Token = p.Email, p.Phone, p.Token
	}
	resp, err := a.authCall(ctx, http.MethodPost, "/verify", o.query(), body, keyBearer)
	if err != nil {
		return nil, err
	}
	event := EventSignedIn
	if p.Type == OTPTypeRecovery {
		event = EventPasswordRecovery
	}
	return a.decodeAuthResponse(ctx, resp.body, event)
}

// SignInAnonymouslyParams are the optional fields of SignInAnonymously.
type SignInAnonymouslyParams struct {
	// Data becomes the anonymous user's user_metadata.
	Data map[string]any
}

type anonymousSignUpBody struct {
	Data     map[string]any `json:"data"`
	Security metaSecurity   `json:"gotrue_meta_security"`
}

// SignInAnonymously creates an anonymous user and signs it in (POST
// /signup without credentials), emitting SIGNED_IN. Anonymous sign-ins must
// be enabled in the project. It takes WithCaptchaToken.
func (a *AuthClient) SignInAnonymously(ctx context.Context, p SignInAnonymouslyParams, opts ...AuthOption) (*Session, error) {
	if err := a.unavailable(); err != nil {
		return nil, err
	}
	o, err := authOpts("SignInAnonymously", opts, takesCaptcha)
	if err != nil {
		return nil, err
	}
	body := anonymousSignUpBody{Data: orEmpty(p.Data), Security: o.security()}
	resp, err := a.authCall(ctx, http.MethodPost, "/signup", nil, body, keyBearer)
	if err != nil {
		return nil, err
	}
	return a.signedIn(ctx, resp.body, EventSignedIn)
}

// Reauthenticate sends the signed-in user a nonce (by email or SMS) to pass
// as UserAttributes.Nonce when changing the password, for projects that
// require recent authentication (GET /reauthenticate).
func (a *AuthClient) Reauthenticate(ctx context.Context) error {
	_, err := a.userCall(ctx, http.MethodGet, "/reauthenticate", nil, nil)
	return err
}

// ResendParams say which confirmation to send again. Set exactly one of
// Email (types OTPTypeSignup, OTPTypeEmailChange) and Phone (OTPTypeSMS,
// OTPTypePhoneChange).
type ResendParams struct {
	Type  OTPType
	Email string
	Phone string
}

type resendBody struct {
	contact
	Type     OTPType      `json:"type"`
	Security metaSecurity `json:"gotrue_meta_security"`
}

// Resend sends a sign-up confirmation, email change email, SMS code or
// phone change code again (POST /resend). For SMS the provider's message id
// is in MessageID; User and Session are always nil. It takes
// WithCaptchaToken and, for an email, WithRedirectTo (where the link
// leads). With FlowPKCE an email starts a PKCE flow, as in supabase-js.
// supabase-js: resend.
func (a *AuthClient) Resend(ctx context.Context, p ResendParams, opts ...AuthOption) (*AuthResponse, error) {
	if err := a.unavailable(); err != nil {
		return nil, err
	}
	o, err := authOpts("Resend", opts, takesCaptcha|takesRedirect)
	if err != nil {
		return nil, err
	}
	if p.Type == "" {
		return nil, invalidArg("Resend: Type is required")
	}
	if (strings.TrimSpace(p.Email) == "") == (strings.TrimSpace(p.Phone) == "") {
		return nil, invalidArg("Resend: set exactly one of Email and Phone")
	}
	body := resendBody{contact: newContact(p.Email, p.Phone), Type: p.Type, Security: o.security()}
	if err := body.emailOnlyRedirect("Resend", o); err != nil {
		return nil, err
	}
	flow, err := a.startEmailFlow(ctx, &body.contact, false)
	if err != nil {
		return nil, err
	}
	resp, err := a.authCall(ctx, http.MethodPost, "/resend", o.query(), body, keyBearer)
	a.endFlow(ctx, flow, err)
	if err != nil {
		return nil, err
	}
	return decodeMessageID(resp.body)
}

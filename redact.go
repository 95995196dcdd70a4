package supabase

import (
	"fmt"
	"log/slog"
)

// Every exported type that can hold a credential (tokens, passwords, OTP
// codes, TOTP secrets, magic links) prints through fmt (%v, %+v, %#v, %s)
// and slog (text and JSON handlers) with those fields replaced by
// "[redacted]". encoding/json is left alone: stores and requests need the
// real values.
//
// Each type does it the same way: a copy of itself as a local type without
// methods, secrets blanked, printed with the caller's verb.

func formatRedacted(f fmt.State, verb rune, v any) {
	_, _ = fmt.Fprintf(f, fmt.FormatString(f, verb), v)
}

func (s Session) redacted() any {
	type session Session
	c := session(s)
	c.AccessToken = redact(c.AccessToken)
	c.RefreshToken = redact(c.RefreshToken)
	c.ProviderToken = redact(c.ProviderToken)
	c.ProviderRefreshToken = redact(c.ProviderRefreshToken)
	if c.User != nil {
		u := c.User.redacted()
		c.User = nil
		return struct {
			session
			User any
		}{c, u}
	}
	return c
}

func (u User) redacted() any {
	type user User
	c := user(u)
	c.ActionLink = redact(c.ActionLink)
	return c
}

// Format prints the user with ActionLink redacted.
func (u User) Format(f fmt.State, verb rune) { formatRedacted(f, verb, u.redacted()) }

// LogValue makes slog print the user with ActionLink redacted.
func (u User) LogValue() slog.Value { return slog.AnyValue(u.redacted()) }

func (r AuthResponse) redacted() any {
	v := struct {
		User      any
		Session   any
		MessageID string
	}{MessageID: r.MessageID}
	if r.User != nil {
		v.User = r.User.redacted()
	}
	if r.Session != nil {
		v.Session = r.Session.redacted()
	}
	return v
}

// Format prints the response with the session's tokens redacted.
func (r AuthResponse) Format(f fmt.State, verb rune) { formatRedacted(f, verb, r.redacted()) }

// LogValue makes slog print the response with the session's tokens redacted.
func (r AuthResponse) LogValue() slog.Value { return slog.AnyValue(r.redacted()) }

func (p SignUpParams) redacted() any {
	type params SignUpParams
	c := params(p)
	c.Password = redact(c.Password)
	return c
}

// Format prints the parameters with Password redacted.
func (p SignUpParams) Format(f fmt.State, verb rune) { formatRedacted(f, verb, p.redacted()) }

// LogValue makes slog print the parameters with secrets redacted.
func (p SignUpParams) LogValue() slog.Value { return slog.AnyValue(p.redacted()) }

func (p UserAttributes) redacted() any {
	type attrs UserAttributes
	c := attrs(p)
	c.Password = redact(c.Password)
	c.Nonce = redact(c.Nonce)
	return c
}

// Format prints the attributes with Password and Nonce redacted.
func (p UserAttributes) Format(f fmt.State, verb rune) { formatRedacted(f, verb, p.redacted()) }

// LogValue makes slog print the attributes with secrets redacted.
func (p UserAttributes) LogValue() slog.Value { return slog.AnyValue(p.redacted()) }

func (p AdminUserAttributes) redacted() any {
	type attrs AdminUserAttributes
	c := attrs(p)
	c.Password = redact(c.Password)
	c.PasswordHash = redact(c.PasswordHash)
	return c
}

// Format prints the attributes with Password and PasswordHash redacted.
func (p AdminUserAttributes) Format(f fmt.State, verb rune) { formatRedacted(f, verb, p.redacted()) }

// LogValue makes slog print the attributes with secrets redacted.
func (p AdminUserAttributes) LogValue() slog.Value { return slog.AnyValue(p.redacted()) }

func (p GenerateLinkParams) redacted() any {
	type params GenerateLinkParams
	c := params(p)
	c.Password = redact(c.Password)
	return c
}

// Format prints the parameters with Password redacted.
func (p GenerateLinkParams) Format(f fmt.State, verb rune) { formatRedacted(f, verb, p.redacted()) }

// LogValue makes slog print the parameters with Password redacted.
func (p GenerateLinkParams) LogValue() slog.Value { return slog.AnyValue(p.redacted()) }

func (p LinkProperties) redacted() any {
	type props LinkProperties
	c := props(p)
	c.ActionLink = redact(c.ActionLink)
	c.EmailOTP = redact(c.EmailOTP)
	c.HashedToken = redact(c.HashedToken)
	return c
}

// Format prints the properties with the link, OTP and token hash redacted.
func (p LinkProperties) Format(f fmt.State, verb rune) { formatRedacted(f, verb, p.redacted()) }

// LogValue makes slog print the properties with their secrets redacted.
func (p LinkProperties) LogValue() slog.Value { return slog.AnyValue(p.redacted()) }

func (r GenerateLinkResponse) redacted() any {
	v := struct {
		User       any
		Properties any
	}{Properties: r.Properties.redacted()}
	if r.User != nil {
		v.User = r.User.redacted()
	}
	return v
}

// Format prints the response with the link, OTP and token hash redacted.
func (r GenerateLinkResponse) Format(f fmt.State, verb rune) { formatRedacted(f, verb, r.redacted()) }

// LogValue makes slog print the response with its secrets redacted.
func (r GenerateLinkResponse) LogValue() slog.Value { return slog.AnyValue(r.redacted()) }

func (p VerifyOTPParams) redacted() any {
	type params VerifyOTPParams
	c := params(p)
	c.Token = redact(c.Token)
	c.TokenHash = redact(c.TokenHash)
	return c
}

// Format prints the parameters with Token and TokenHash redacted.
func (p VerifyOTPParams) Format(f fmt.State, verb rune) { formatRedacted(f, verb, p.redacted()) }

// LogValue makes slog print the parameters with secrets redacted.
func (p VerifyOTPParams) LogValue() slog.Value { return slog.AnyValue(p.redacted()) }

func (e TOTPEnrollment) redacted() any {
	type totp TOTPEnrollment
	c := totp(e)
	c.Secret = redact(c.Secret)
	c.URI = redact(c.URI)
	c.QRCode = redact(c.QRCode)
	return c
}

// Format prints the enrollment with Secret, URI and QRCode redacted.
func (e TOTPEnrollment) Format(f fmt.State, verb rune) { formatRedacted(f, verb, e.redacted()) }

// LogValue makes slog print the enrollment with its secrets redacted.
func (e TOTPEnrollment) LogValue() slog.Value { return slog.AnyValue(e.redacted()) }

func (r MFAEnrollResponse) redacted() any {
	type resp MFAEnrollResponse
	c := resp(r)
	v := struct {
		resp
		TOTP any
	}{resp: c}
	v.resp.TOTP = nil
	if r.TOTP != nil {
		v.TOTP = r.TOTP.redacted()
	}
	return v
}

// Format prints the response with the TOTP secret redacted.
func (r MFAEnrollResponse) Format(f fmt.State, verb rune) { formatRedacted(f, verb, r.redacted()) }

// LogValue makes slog print the response with the TOTP secret redacted.
func (r MFAEnrollResponse) LogValue() slog.Value { return slog.AnyValue(r.redacted()) }

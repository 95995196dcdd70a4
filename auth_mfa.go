package supabase

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
)

// MFAClient enrolls and verifies the signed-in user's multi-factor
// authentication factors. Get one with [AuthClient.MFA]; it is a view over the
// [AuthClient] and its session, safe for concurrent use.
type MFAClient struct {
	a *AuthClient
}

// MFA returns the multi-factor authentication API of a's user. It is cheap:
// call it whenever needed.
func (a *AuthClient) MFA() *MFAClient { return &MFAClient{a: a} }

// auth returns the [AuthClient] m is a view of; nil for a nil or zero m,
// whose calls then fail with [ErrInvalidArgument].
func (m *MFAClient) auth() *AuthClient {
	if m == nil {
		return nil
	}
	return m.a
}

// String describes m without secrets: the Auth URL and whose factors it
// manages.
func (m *MFAClient) String() string {
	if m == nil {
		return "<nil>"
	}
	a := m.auth()
	if a.check() != nil {
		return "supabase.MFAClient{not made by AuthClient.MFA}"
	}
	return "supabase.MFAClient{url: " + a.co.authURL + ", user: " + a.who() + "}"
}

// Format makes every fmt verb (%v, %+v, %#v, %s) print [MFAClient.String].
// Its receiver is a value so that a dereferenced MFAClient prints the same:
// fmt would otherwise walk its fields and, with a verb such as %s, print what
// its unexported pointers point to. fmt prints a nil *MFAClient as <nil>.
func (m MFAClient) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, (&m).String()) }

// LogValue makes slog log what [MFAClient.String] shows.
func (m *MFAClient) LogValue() slog.Value {
	a := m.auth()
	if a.check() != nil {
		return slog.StringValue(m.String())
	}
	return slog.GroupValue(slog.String("url", a.co.authURL), slog.String("user", a.who()))
}

// Factor types accepted by [MFAClient.Enroll].
const (
	FactorTypeTOTP  = "totp"
	FactorTypePhone = "phone"
)

// Authenticator assurance levels, as found in [AAL] and the aal claim.
const (
	// AAL1: signed in with one factor (password, OTP, OAuth, ...).
	AAL1 = "aal1"
	// AAL2: a second factor was verified in this session.
	AAL2 = "aal2"
)

// MFAEnrollParams describe a new factor.
type MFAEnrollParams struct {
	// FactorType is [FactorTypeTOTP] or [FactorTypePhone].
	FactorType string
	// FriendlyName tells the user's factors apart; optional.
	FriendlyName string
	// Issuer names the app in authenticator apps (TOTP only); optional.
	Issuer string
	// Phone is the number codes are sent to (phone factors only).
	Phone string
}

// MFAEnrollResponse is a newly enrolled, still unverified factor.
//
// Like [TOTPEnrollment] it is a wire type: encoding/json writes it in full,
// for a backend that hands the QR code to its frontend. fmt and slog print
// its TOTP the way TOTPEnrollment prints itself, secrets redacted.
type MFAEnrollResponse struct {
	ID           string `json:"id"`
	Type         string `json:"type"`
	FriendlyName string `json:"friendly_name"`
	// TOTP is set for TOTP factors.
	TOTP *TOTPEnrollment `json:"totp,omitempty"`
	// Phone is set for phone factors.
	Phone string `json:"phone,omitempty"`
}

// Format prints the response with fmt's verb, its TOTP the way
// [TOTPEnrollment] prints itself.
func (r MFAEnrollResponse) Format(f fmt.State, verb rune) {
	type mfaEnrollResponse MFAEnrollResponse // without methods
	formatRedacted(f, verb, mfaEnrollResponse(r))
}

// LogValue makes slog log the response field by field, TOTP through its own
// [TOTPEnrollment.LogValue] (slog's JSON handler would otherwise encode it
// with encoding/json, secret included).
func (r MFAEnrollResponse) LogValue() slog.Value {
	return slog.GroupValue(slog.String("ID", r.ID), slog.String("Type", r.Type),
		slog.String("FriendlyName", r.FriendlyName), logPtr("TOTP", r.TOTP), slog.String("Phone", r.Phone))
}

// TOTPEnrollment is what an authenticator app needs to set up a TOTP factor.
//
// It is a wire type: encoding/json writes it in full. fmt and slog print
// it with QRCode, Secret and URI (which holds the secret) redacted.
type TOTPEnrollment struct {
	// QRCode is an SVG image as a data URI
	// ("data:image/svg+xml;utf-8,<svg ...>"), usable as an <img> src.
	QRCode string `json:"qr_code"`
	// Secret is the shared secret, for entering by hand.
	Secret string `json:"secret"`
	// URI is the otpauth:// URI encoded in the QR code.
	URI string `json:"uri"`
}

func (e TOTPEnrollment) redacted() any {
	type totpEnrollment TOTPEnrollment
	r := totpEnrollment(e)
	r.QRCode = redact(r.QRCode)
	r.Secret = redact(r.Secret)
	r.URI = redact(r.URI)
	return r
}

// Format prints e with QRCode, Secret and URI redacted, whatever the verb.
func (e TOTPEnrollment) Format(f fmt.State, verb rune) { formatRedacted(f, verb, e.redacted()) }

// LogValue makes slog log e with QRCode, Secret and URI redacted.
func (e TOTPEnrollment) LogValue() slog.Value { return slog.AnyValue(e.redacted()) }

type enrollBody struct {
	FactorType   string `json:"factor_type"`
	FriendlyName string `json:"friendly_name,omitempty"`
	Issuer       string `json:"issuer,omitempty"` // TOTP only
	Phone        string `json:"phone,omitempty"`  // phone only
}

// qrDataURIPrefix is what supabase-js puts before the SVG Auth returns.
const qrDataURIPrefix = "data:image/svg+xml;utf-8,"

// Enroll starts enrolling a factor (POST /factors). The factor stays
// unverified until [MFAClient.Challenge] and [MFAClient.Verify] succeed with
// a code from it.
func (m *MFAClient) Enroll(ctx context.Context, p MFAEnrollParams) (*MFAEnrollResponse, error) {
	a := m.auth()
	if err := a.check(); err != nil {
		return nil, err
	}
	body := enrollBody{FactorType: p.FactorType, FriendlyName: p.FriendlyName}
	switch p.FactorType {
	case FactorTypeTOTP:
		body.Issuer = p.Issuer
	case FactorTypePhone:
		if strings.TrimSpace(p.Phone) == "" {
			return nil, invalidArg("MFA Enroll: Phone is required for a phone factor")
		}
		body.Phone = p.Phone
	default:
		return nil, invalidArg("MFA Enroll: FactorType must be \"totp\" or \"phone\"")
	}
	resp, err := a.userCall(ctx, http.MethodPost, "/factors", nil, body)
	if err != nil {
		return nil, err
	}
	var out MFAEnrollResponse
	if err := decodeJSON(resp.body, &out); err != nil {
		return nil, err
	}
	if out.TOTP != nil && out.TOTP.QRCode != "" && !strings.HasPrefix(out.TOTP.QRCode, "data:") {
		out.TOTP.QRCode = qrDataURIPrefix + out.TOTP.QRCode
	}
	return &out, nil
}

// MFAChallenge is a pending challenge of a factor, answered with
// [MFAClient.Verify].
type MFAChallenge struct {
	ID   string `json:"id"`
	Type string `json:"type"` // factor type: "totp" or "phone"
	// ExpiresAt is when the challenge expires (Unix seconds).
	ExpiresAt int64 `json:"expires_at"`
}

// MFAChallengeOption adds optional parameters to [MFAClient.Challenge].
type MFAChallengeOption func(*mfaChallengeOptions)

type mfaChallengeOptions struct {
	channel string
}

// WithMFAChannel chooses how a phone factor's code is sent: "sms" (the
// server's default) or "whatsapp".
func WithMFAChannel(channel string) MFAChallengeOption {
	return func(o *mfaChallengeOptions) { o.channel = channel }
}

type challengeBody struct {
	Channel string `json:"channel,omitempty"`
}

// Challenge creates a challenge for a factor (POST
// /factors/{id}/challenge); for a phone factor this sends the code.
func (m *MFAClient) Challenge(ctx context.Context, factorID string, opts ...MFAChallengeOption) (*MFAChallenge, error) {
	a := m.auth()
	if err := a.check(); err != nil {
		return nil, err
	}
	if err := checkUUID("MFA Challenge", "factor ID", factorID); err != nil {
		return nil, err
	}
	var o mfaChallengeOptions
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	// A phone factor's challenge must have a JSON body, even empty; the
	// factor ID is already in the path.
	body := challengeBody{Channel: o.channel}
	resp, err := a.userCall(ctx, http.MethodPost, "/factors/"+factorID+"/challenge", nil, body)
	if err != nil {
		return nil, err
	}
	var ch MFAChallenge
	if err := decodeJSON(resp.body, &ch); err != nil {
		return nil, err
	}
	return &ch, nil
}

// Verify answers a challenge with the code from the factor (POST
// /factors/{id}/verify). On success the session is replaced by the aal2
// session the server returns, stored, and MFA_CHALLENGE_VERIFIED emitted.
func (m *MFAClient) Verify(ctx context.Context, factorID, challengeID, code string) (*Session, error) {
	a := m.auth()
	if err := a.check(); err != nil {
		return nil, err
	}
	if err := checkUUID("MFA Verify", "factor ID", factorID); err != nil {
		return nil, err
	}
	if challengeID == "" || code == "" {
		return nil, invalidArg("MFA Verify: challenge ID and code are required")
	}
	body := mfaVerifyBody{ChallengeID: challengeID, Code: code}
	resp, err := a.userCall(ctx, http.MethodPost, "/factors/"+factorID+"/verify", nil, body)
	if err != nil {
		return nil, err
	}
	return a.signedIn(ctx, resp.body, EventMFAChallengeVerified)
}

type mfaVerifyBody struct {
	ChallengeID string `json:"challenge_id"`
	Code        string `json:"code"`
}

// ChallengeAndVerify is [MFAClient.Challenge] followed by [MFAClient.Verify]
// with code, for TOTP factors whose code the user already has.
func (m *MFAClient) ChallengeAndVerify(ctx context.Context, factorID, code string) (*Session, error) {
	if err := m.auth().check(); err != nil {
		return nil, err
	}
	if code == "" {
		return nil, invalidArg("MFA ChallengeAndVerify: code is required")
	}
	ch, err := m.Challenge(ctx, factorID)
	if err != nil {
		return nil, err
	}
	return m.Verify(ctx, factorID, ch.ID, code)
}

// Unenroll removes a factor (DELETE /factors/{id}). Removing a verified
// factor needs an aal2 session. The current session's token keeps its aal
// claim until it is refreshed.
func (m *MFAClient) Unenroll(ctx context.Context, factorID string) error {
	a := m.auth()
	if err := a.check(); err != nil {
		return err
	}
	if err := checkUUID("MFA Unenroll", "factor ID", factorID); err != nil {
		return err
	}
	_, err := a.userCall(ctx, http.MethodDelete, "/factors/"+factorID, nil, nil)
	return err
}

// MFAFactors are a user's factors: All of them, and the verified ones by
// type.
type MFAFactors struct {
	// All lists every factor, verified or not.
	All []Factor
	// TOTP lists the verified TOTP factors.
	TOTP []Factor
	// Phone lists the verified phone factors.
	Phone []Factor
	// WebAuthn lists the verified WebAuthn factors.
	WebAuthn []Factor
}

// ListFactors fetches the signed-in user (GET /user) and returns its
// factors.
func (m *MFAClient) ListFactors(ctx context.Context) (*MFAFactors, error) {
	u, err := m.auth().User(ctx)
	if err != nil {
		return nil, err
	}
	return groupFactors(u.Factors), nil
}

func groupFactors(fs []Factor) *MFAFactors {
	out := &MFAFactors{All: []Factor{}, TOTP: []Factor{}, Phone: []Factor{}, WebAuthn: []Factor{}}
	for _, f := range fs {
		out.All = append(out.All, f)
		if f.Status != "verified" {
			continue
		}
		switch f.FactorType {
		case FactorTypeTOTP:
			out.TOTP = append(out.TOTP, f)
		case FactorTypePhone:
			out.Phone = append(out.Phone, f)
		case "webauthn":
			out.WebAuthn = append(out.WebAuthn, f)
		}
	}
	return out
}

// AAL is a session's authenticator assurance level.
type AAL struct {
	// Current is the level of the access token ([AAL1] or [AAL2]), "" without
	// a session.
	Current string
	// Next is the level the user can reach: [AAL2] when they have a verified
	// factor, else Current.
	Next string
	// CurrentAuthenticationMethods are the token's amr claim: how and when
	// the user authenticated in this session.
	CurrentAuthenticationMethods []AMREntry
}

// AuthenticatorAssuranceLevel reports the session's current and next
// assurance levels, read from the access token and the session's user (no
// request unless the session needs a refresh). When [AAL.Current] is [AAL1]
// and [AAL.Next] is [AAL2], ask the user for a second factor. Without a
// session it returns an [AAL] with empty levels and no error, as supabase-js
// does.
func (m *MFAClient) AuthenticatorAssuranceLevel(ctx context.Context) (*AAL, error) {
	a := m.auth()
	if err := a.unavailable(); err != nil {
		return nil, err
	}
	s, err := a.sessions.valid(ctx, a.co.session.refreshMargin)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return &AAL{CurrentAuthenticationMethods: []AMREntry{}}, nil
	}
	var factors []Factor
	if s.User != nil {
		factors = s.User.Factors
	}
	return assuranceLevel(s.AccessToken, factors)
}

// AuthenticatorAssuranceLevelOf reports the assurance levels of jwt, a
// user's access token (e.g. one a backend received), fetching that user's
// factors with GET /user.
func (m *MFAClient) AuthenticatorAssuranceLevelOf(ctx context.Context, jwt string) (*AAL, error) {
	a := m.auth()
	if err := a.check(); err != nil {
		return nil, err
	}
	if _, err := ParseClaims(jwt); err != nil {
		return nil, err
	}
	u, err := a.UserFromToken(ctx, jwt)
	if err != nil {
		return nil, err
	}
	return assuranceLevel(jwt, u.Factors)
}

func assuranceLevel(token string, factors []Factor) (*AAL, error) {
	c, err := ParseClaims(token)
	if err != nil {
		return nil, err
	}
	out := &AAL{Current: c.AAL, Next: c.AAL, CurrentAuthenticationMethods: c.AMR}
	if out.CurrentAuthenticationMethods == nil {
		out.CurrentAuthenticationMethods = []AMREntry{}
	}
	for _, f := range factors {
		if f.Status == "verified" {
			out.Next = AAL2
			break
		}
	}
	return out, nil
}

package supabase

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Session is a signed-in user's tokens as Supabase Auth issues them.
//
// A Session value handed out by this package is never modified afterwards;
// share it freely.
//
// It prints the same wherever it appears, alone or inside another value
// (fmt's verbs, String, slog's text handler): the user's ID, the expiry and
// the tokens redacted; slog's handlers log it through LogValue. It is a
// wire type: encoding/json writes it in full, tokens included, so that a
// SessionStore can persist it and a backend can hand it to its frontend.
// Hence slog's JSON handler, which encodes values nested in slices, maps or
// structs without a LogValue of their own with encoding/json, logs a
// []*Session with its tokens: log sessions one by one.
type Session struct {
	AccessToken          string        `json:"access_token"`
	TokenType            string        `json:"token_type"`
	ExpiresIn            int64         `json:"expires_in"`
	ExpiresAt            int64         `json:"expires_at"` // Unix seconds
	RefreshToken         string        `json:"refresh_token"`
	ProviderToken        string        `json:"provider_token,omitempty"`
	ProviderRefreshToken string        `json:"provider_refresh_token,omitempty"`
	User                 *User         `json:"user"`
	WeakPassword         *WeakPassword `json:"weak_password,omitempty"`
}

// WeakPassword tells why Auth considers a password it accepted weak.
type WeakPassword struct {
	Reasons []string `json:"reasons"`
	Message string   `json:"message,omitempty"`
}

// Expiry returns the access token's expiry time (the zero time for a nil
// session).
func (s *Session) Expiry() time.Time {
	if s == nil {
		return time.Time{}
	}
	return time.Unix(s.ExpiresAt, 0)
}

// Claims decodes the access token's claims without verifying its signature.
func (s *Session) Claims() (*Claims, error) {
	if s == nil {
		return nil, ErrMalformedToken
	}
	return ParseClaims(s.AccessToken)
}

func (s *Session) clone() *Session {
	c := *s
	return &c
}

// String describes the session without its tokens.
func (s Session) String() string {
	uid := ""
	if s.User != nil {
		uid = s.User.ID
	}
	return fmt.Sprintf("Session{User:%s ExpiresAt:%s AccessToken:%s RefreshToken:%s}",
		uid, time.Unix(s.ExpiresAt, 0).UTC().Format(time.RFC3339), redact(s.AccessToken), redact(s.RefreshToken))
}

// Format makes every fmt verb (%v, %+v, %#v, %s) print String.
func (s Session) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// LogValue makes slog log the session without its tokens.
func (s Session) LogValue() slog.Value {
	uid := ""
	if s.User != nil {
		uid = s.User.ID
	}
	return slog.GroupValue(slog.String("user_id", uid), slog.Int64("expires_at", s.ExpiresAt),
		slog.String("access_token", redact(s.AccessToken)), slog.String("refresh_token", redact(s.RefreshToken)))
}

// User is a Supabase Auth user.
type User struct {
	ID                 string         `json:"id"`
	Aud                string         `json:"aud"`
	Role               string         `json:"role"`
	Email              string         `json:"email"`
	EmailConfirmedAt   *time.Time     `json:"email_confirmed_at,omitempty"`
	Phone              string         `json:"phone"`
	PhoneConfirmedAt   *time.Time     `json:"phone_confirmed_at,omitempty"`
	ConfirmationSentAt *time.Time     `json:"confirmation_sent_at,omitempty"`
	ConfirmedAt        *time.Time     `json:"confirmed_at,omitempty"`
	RecoverySentAt     *time.Time     `json:"recovery_sent_at,omitempty"`
	EmailChangeSentAt  *time.Time     `json:"email_change_sent_at,omitempty"`
	NewEmail           string         `json:"new_email,omitempty"`
	NewPhone           string         `json:"new_phone,omitempty"`
	InvitedAt          *time.Time     `json:"invited_at,omitempty"`
	LastSignInAt       *time.Time     `json:"last_sign_in_at,omitempty"`
	AppMetadata        map[string]any `json:"app_metadata"`
	UserMetadata       map[string]any `json:"user_metadata"`
	Identities         []Identity     `json:"identities,omitempty"`
	Factors            []Factor       `json:"factors,omitempty"`
	CreatedAt          *time.Time     `json:"created_at,omitempty"`
	UpdatedAt          *time.Time     `json:"updated_at,omitempty"`
	BannedUntil        *time.Time     `json:"banned_until,omitempty"`
	DeletedAt          *time.Time     `json:"deleted_at,omitempty"`
	IsAnonymous        bool           `json:"is_anonymous"`
	IsSSOUser          bool           `json:"is_sso_user,omitempty"`
}

// Identity links a user to a sign-in provider.
type Identity struct {
	IdentityID   string         `json:"identity_id"`
	ID           string         `json:"id"`
	UserID       string         `json:"user_id"`
	IdentityData map[string]any `json:"identity_data,omitempty"`
	Provider     string         `json:"provider"`
	Email        string         `json:"email,omitempty"`
	LastSignInAt *time.Time     `json:"last_sign_in_at,omitempty"`
	CreatedAt    *time.Time     `json:"created_at,omitempty"`
	UpdatedAt    *time.Time     `json:"updated_at,omitempty"`
}

// Factor is a multi-factor authentication factor.
type Factor struct {
	ID               string     `json:"id"`
	FriendlyName     string     `json:"friendly_name,omitempty"`
	FactorType       string     `json:"factor_type"` // "totp", "phone", "webauthn"
	Status           string     `json:"status"`      // "verified", "unverified"
	Phone            string     `json:"phone,omitempty"`
	CreatedAt        *time.Time `json:"created_at,omitempty"`
	UpdatedAt        *time.Time `json:"updated_at,omitempty"`
	LastChallengedAt *time.Time `json:"last_challenged_at,omitempty"`
}

// AMREntry is one authentication method reference in a Supabase JWT.
type AMREntry struct {
	Method    string `json:"method"`
	Timestamp int64  `json:"timestamp"`
	Provider  string `json:"provider,omitempty"`
}

// Claims are the claims Supabase Auth puts in an access token. They embed
// jwt.RegisteredClaims (iss, sub, aud, exp, nbf, iat, jti), so *Claims can be
// used with github.com/golang-jwt/jwt/v5 to verify a token.
type Claims struct {
	jwt.RegisteredClaims
	Email        string         `json:"email,omitempty"`
	Phone        string         `json:"phone,omitempty"`
	Role         string         `json:"role,omitempty"`
	AAL          string         `json:"aal,omitempty"`
	AMR          []AMREntry     `json:"amr,omitempty"`
	SessionID    string         `json:"session_id,omitempty"`
	IsAnonymous  bool           `json:"is_anonymous,omitempty"`
	AppMetadata  map[string]any `json:"app_metadata,omitempty"`
	UserMetadata map[string]any `json:"user_metadata,omitempty"`
}

// ErrMalformedToken is returned by ParseClaims for a string that is not a JWT.
var ErrMalformedToken = errors.New("supabase: malformed JWT")

// ParseClaims decodes a JWT's claims WITHOUT verifying its signature or
// expiry. Use it to read a token you obtained from Supabase yourself; never to
// authenticate a token a caller sent you.
func ParseClaims(token string) (*Claims, error) {
	var c Claims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &c); err != nil {
		// The jwt error may quote parts of the token; keep it out.
		return nil, ErrMalformedToken
	}
	return &c, nil
}

// expiryOf returns a JWT's exp (Unix seconds), or 0 if it has none. It
// decodes only exp: derived per-request clients call it on a hot path.
func expiryOf(token string) int64 {
	_, rest, ok := strings.Cut(token, ".")
	if !ok {
		return 0
	}
	payload, _, ok := strings.Cut(rest, ".")
	if !ok {
		return 0
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(payload, "="))
	if err != nil {
		return 0
	}
	var c struct {
		Exp *jwt.NumericDate `json:"exp"`
	}
	if json.Unmarshal(raw, &c) != nil || c.Exp == nil {
		return 0
	}
	return c.Exp.Unix()
}

// decodeJSON unmarshals a 2xx Auth answer into v. A body that does not
// decode is a *Error matching ErrInvalidResponse with Status 200: every Auth
// endpoint this client decodes answers 200. The body is never quoted: it
// may hold tokens.
func decodeJSON(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return &Error{Service: ServiceAuth, Status: http.StatusOK, Code: codeInvalidResponse,
			Message: "decoding response: " + err.Error()}
	}
	return nil
}

package localstack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// jwtHeader is the header of every token the stack signs; its bytes match
// the CLI's demo keys.
const jwtHeader = `{"alg":"HS256","typ":"JWT"}`

// signHS256 signs the JSON encoding of claims. Field order in claims is
// kept, which is what makes demoKey reproduce the CLI's keys byte for byte.
func signHS256(secret string, claims any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	unsigned := enc.EncodeToString([]byte(jwtHeader)) + "." + enc.EncodeToString(payload)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(unsigned))
	return unsigned + "." + enc.EncodeToString(mac.Sum(nil)), nil
}

// demoKey makes an API key the way the Supabase CLI makes its demo keys.
func demoKey(secret, role string) string {
	k, err := signHS256(secret, struct {
		Iss  string `json:"iss"`
		Role string `json:"role"`
		Exp  int64  `json:"exp"`
	}{"supabase-demo", role, demoKeyExpiry})
	if err != nil {
		panic(err) // a fixed struct always encodes
	}
	return k
}

// jwtError is why a bearer token was refused; its text is PostgREST's
// message for it.
type jwtError string

func (e jwtError) Error() string { return string(e) }

const (
	errJWTExpired   jwtError = "JWT expired"
	errJWTParts     jwtError = "JWT parts"
	errJWTAlgorithm jwtError = "Wrong or unsupported encoding algorithm"
	errJWTCrypto    jwtError = "JWT cryptographic operation failed"
	errJWTClaims    jwtError = "Parsing claims failed"
	errJWTNotYet    jwtError = "JWT not yet valid"
	errJWTFuture    jwtError = "JWT issued at future"
)

// verifiedToken is a bearer token whose signature and expiry were checked.
type verifiedToken struct {
	raw    json.RawMessage // the claims exactly as signed
	claims jwt.MapClaims
}

func (t *verifiedToken) str(name string) string {
	s, _ := t.claims[name].(string)
	return s
}

// restLeeway is the clock skew PostgREST allows on exp, nbf and iat.
const restLeeway = 30 * time.Second

// restJWTOptions are PostgREST's extra checks: clock skew allowed, and no
// token issued in the future. Supabase Auth makes neither.
var restJWTOptions = []jwt.ParserOption{jwt.WithLeeway(restLeeway), jwt.WithIssuedAt()}

// verifyJWT checks an HS256 token against secret, with the parser options
// opts on top of the signature and time checks.
func verifyJWT(secret, token string, opts ...jwt.ParserOption) (*verifiedToken, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errJWTParts
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	if b, err := base64.RawURLEncoding.DecodeString(parts[0]); err != nil || json.Unmarshal(b, &hdr) != nil {
		return nil, errJWTCrypto
	}
	if hdr.Alg != "HS256" {
		return nil, errJWTAlgorithm
	}
	p := jwt.NewParser(append(opts, jwt.WithValidMethods([]string{"HS256"}))...)
	claims := jwt.MapClaims{}
	_, err := p.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return []byte(secret), nil })
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, errJWTExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return nil, errJWTNotYet
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return nil, errJWTFuture
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenMalformed):
		return nil, errJWTCrypto
	default:
		return nil, errJWTClaims
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, errJWTCrypto
	}
	return &verifiedToken{raw: payload, claims: claims}, nil
}

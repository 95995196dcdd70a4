package supabase

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

const fuzzJWTSecret = "super-secret-jwt-token-with-at-least-32-characters-long"

var (
	jwtGoodHeader  = `{"alg":"HS256","typ":"JWT"}`
	jwtGoodPayload = `{"sub":"6f1c","role":"authenticated","aud":"authenticated","exp":4102444800,"iat":1700000000,` +
		`"email":"a@b.c","amr":[{"method":"password","timestamp":1700000000}],"app_metadata":{"provider":"email"}}`
)

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func hs256(secret, signingInput string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(signingInput))
	return m.Sum(nil)
}

// fuzzToken builds a token from fuzz input. mode picks the signature:
// 0 HS256 with the verifier's secret, 1 with another secret, 2 the given
// bytes, 3 none; 4 takes raw as the whole token; 5 signs, then appends
// raw to the signature segment.
func fuzzToken(header, payload string, mode byte, raw string) string {
	input := b64(header) + "." + b64(payload)
	switch mode % 6 {
	case 0:
		return input + "." + base64.RawURLEncoding.EncodeToString(hs256(fuzzJWTSecret, input))
	case 1:
		return input + "." + base64.RawURLEncoding.EncodeToString(hs256(fuzzJWTSecret+"x", input))
	case 2:
		return input + "." + base64.RawURLEncoding.EncodeToString([]byte(raw))
	case 3:
		return input + "."
	case 4:
		return raw
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(hs256(fuzzJWTSecret, input)) + raw
}

// FuzzVerify checks the HS256 verification path: no panic; a token that
// verifies is a three-part HS256 JWT whose signature is the HMAC of its
// first two parts under the secret, unexpired, for the audience, with a
// sub and a role; every error matches ErrInvalidToken and quotes no part
// of the token.
func FuzzVerify(f *testing.F) {
	for _, h := range []string{
		jwtGoodHeader, `{"alg":"none"}`, `{"alg":"HS512"}`, `{"alg":"RS256","kid":"k"}`, `{"alg":"ES256"}`,
		`{"alg":"EdDSA"}`, `{"alg":"hs256"}`, `{}`, `{"alg":"HS256","crit":["x"]}`, `{"alg":["HS256"]}`, `[]`, `x`,
	} {
		for mode := range byte(6) {
			f.Add(h, jwtGoodPayload, mode, "")
		}
	}
	for _, p := range []string{
		`{"sub":"1","role":"authenticated","aud":"authenticated","exp":1}`,
		`{"sub":"1","role":"authenticated","aud":["x","authenticated"],"exp":4102444800}`,
		`{"sub":"","role":"","aud":"other","exp":4102444800,"nbf":4102444800}`,
		`{"sub":"1","role":"a","aud":"authenticated","exp":"4102444800"}`,
		`{"sub":"1","role":"a","aud":"authenticated","exp":1e300}`,
		`{"sub":"1","role":"a","aud":"authenticated","exp":4102444800.5,"amr":"x"}`,
		`{"sub":1}`, `{"exp":null}`, `null`, `{"sub":"` + strings.Repeat("A", 70000) + `"}`,
	} {
		f.Add(jwtGoodHeader, p, byte(0), "")
	}
	f.Add("", "", byte(4), "a.b.c")
	f.Add("", "", byte(4), "..")
	f.Add("", "", byte(4), "eyJhbGciOiJIUzI1NiJ9.e30")
	f.Add(jwtGoodHeader, jwtGoodPayload, byte(5), "==")
	f.Add(jwtGoodHeader, jwtGoodPayload, byte(5), ".x")
	v, err := NewVerifier("http://127.0.0.1:54321", WithJWTSecret(fuzzJWTSecret))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = v.Close() })
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, header, payload string, mode byte, raw string) {
		token := fuzzToken(header, payload, mode, raw)
		claims, err := v.Verify(ctx, token)
		if err != nil {
			if claims != nil {
				t.Fatal("claims and an error")
			}
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("error %v does not match ErrInvalidToken", err)
			}
			msg := err.Error()
			if !utf8.ValidString(msg) {
				t.Fatalf("error %q is not valid UTF-8", msg)
			}
			for _, part := range strings.Split(token, ".") {
				if len(part) >= 12 && strings.Contains(msg, part) {
					t.Fatalf("error quotes the token: %v", err)
				}
			}
			return
		}
		parts := strings.Split(token, ".")
		if len(parts) != 3 {
			t.Fatalf("token %q of %d parts verified", token, len(parts))
		}
		var h struct {
			Alg string `json:"alg"`
		}
		hb, err := base64.RawURLEncoding.DecodeString(parts[0])
		if err != nil || json.Unmarshal(hb, &h) != nil || h.Alg != "HS256" {
			t.Fatalf("token verified with header %q", hb)
		}
		sig, err := base64.RawURLEncoding.DecodeString(parts[2])
		if err != nil || !hmac.Equal(sig, hs256(fuzzJWTSecret, parts[0]+"."+parts[1])) {
			t.Fatalf("token %q verified without the secret's signature", token)
		}
		if claims.ExpiresAt == nil || !claims.ExpiresAt.After(time.Now()) {
			t.Fatalf("token verified with exp %v", claims.ExpiresAt)
		}
		if claims.Subject == "" || claims.Role == "" {
			t.Fatalf("token verified without sub or role: %+v", claims)
		}
		aud := false
		for _, a := range claims.Audience {
			aud = aud || a == "authenticated"
		}
		if !aud {
			t.Fatalf("token verified for audience %q", claims.Audience)
		}
	})
}

// FuzzParseClaims checks the unverified decoding of tokens: no panic, an
// error that is ErrMalformedToken and nothing else, and an expiry that
// agrees with the one the session code reads on its own.
func FuzzParseClaims(f *testing.F) {
	good := fuzzToken(jwtGoodHeader, jwtGoodPayload, 0, "")
	for _, s := range []string{
		good, "", ".", "..", "a.b.c", good + ".x", strings.TrimSuffix(good, good[strings.LastIndex(good, "."):]),
		b64(`{"alg":"none"}`) + "." + b64(`{"exp":1700000000}`) + ".",
		b64(jwtGoodHeader) + "." + b64(`{"exp":"x"}`) + ".c2ln",
		b64(jwtGoodHeader) + "." + b64(`{"exp":1e300,"EXP":5}`) + ".c2ln",
		b64(jwtGoodHeader) + "=." + b64(`{"exp":5}`) + "==.c2ln",
		b64(jwtGoodHeader) + "." + strings.Repeat("A", 100000) + ".c2ln",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		c, err := ParseClaims(token)
		exp := expiryOf(token)
		if err != nil {
			if err != ErrMalformedToken || c != nil {
				t.Fatalf("ParseClaims: %v, %v", c, err)
			}
			return
		}
		var want int64
		if c.ExpiresAt != nil {
			want = c.ExpiresAt.Unix()
		}
		if exp != want {
			t.Fatalf("expiryOf = %d, ParseClaims exp = %d", exp, want)
		}
		s := &Session{AccessToken: token}
		if _, err := s.Claims(); err != nil {
			t.Fatal(err)
		}
	})
}

package supabase

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const verifySecret = "super-secret-jwt-token-with-at-least-32-characters-long"

func hsToken(t *testing.T, secret string, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	require.NoError(t, err)
	return s
}

func userClaims(exp time.Time) jwt.MapClaims {
	return jwt.MapClaims{"sub": "u1", "role": "authenticated", "aud": "authenticated", "exp": exp.Unix(),
		"email": "ada@example.com", "session_id": "s1"}
}

func TestVerifierHS256(t *testing.T) {
	v, err := NewVerifier("http://127.0.0.1:54321", WithJWTSecret(verifySecret))
	require.NoError(t, err)
	defer v.Close()
	ctx := context.Background()
	future := time.Now().Add(time.Hour)

	c, err := v.Verify(ctx, hsToken(t, verifySecret, userClaims(future)))
	require.NoError(t, err)
	assert.Equal(t, "u1", c.Subject)
	assert.Equal(t, "ada@example.com", c.Email)

	bad := map[string]string{
		"expired":        hsToken(t, verifySecret, userClaims(time.Now().Add(-time.Minute))),
		"wrong secret":   hsToken(t, "another-secret-another-secret-another-secret", userClaims(future)),
		"wrong audience": hsToken(t, verifySecret, jwt.MapClaims{"sub": "u1", "aud": "other", "exp": future.Unix()}),
		"no exp":         hsToken(t, verifySecret, jwt.MapClaims{"sub": "u1", "aud": "authenticated"}),
		"malformed":      "not.a.jwt",
	}
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, userClaims(future)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)
	bad["alg none"] = none
	for name, tok := range bad {
		_, err := v.Verify(ctx, tok)
		assert.ErrorIs(t, err, ErrInvalidToken, name)
		if err != nil {
			assert.NotContains(t, err.Error(), tok, "the error must not quote the token")
		}
	}
	_, err = NewVerifier("http://127.0.0.1:54321", WithJWTSecret("short"))
	assert.Error(t, err)
}

func jwkFor(t *testing.T, kid string, pub *ecdsa.PublicKey) map[string]any {
	t.Helper()
	raw, err := pub.Bytes() // 0x04 || X || Y
	require.NoError(t, err)
	require.Len(t, raw, 65)
	b64 := base64.RawURLEncoding.EncodeToString
	return map[string]any{"kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256", "use": "sig",
		"x": b64(raw[1:33]), "y": b64(raw[33:65])}
}

func TestVerifierJWKS(t *testing.T) {
	key1, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	key2, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	var fetches atomic.Int32
	var keys atomic.Value
	keys.Store([]any{jwkFor(t, "k1", &key1.PublicKey)})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "/auth/v1/.well-known/jwks.json", r.URL.Path)
		fetches.Add(1)
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": keys.Load()})
	}))
	defer srv.Close()

	v, err := NewVerifier(srv.URL)
	require.NoError(t, err)
	defer v.Close()
	ctx := context.Background()
	sign := func(kid string, k *ecdsa.PrivateKey) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodES256, userClaims(time.Now().Add(time.Hour)))
		tok.Header["kid"] = kid
		s, err := tok.SignedString(k)
		require.NoError(t, err)
		return s
	}
	c, err := v.Verify(ctx, sign("k1", key1))
	require.NoError(t, err)
	assert.Equal(t, "u1", c.Subject)
	_, err = v.Verify(ctx, sign("k1", key2))
	assert.ErrorIs(t, err, ErrInvalidToken, "signed by another key")

	// HS256 signed with the public key's bytes: algorithm confusion.
	pubDER, _ := x509.MarshalPKIXPublicKey(&key1.PublicKey)
	conf := jwt.NewWithClaims(jwt.SigningMethodHS256, userClaims(time.Now().Add(time.Hour)))
	conf.Header["kid"] = "k1"
	confTok, err := conf.SignedString(pubDER)
	require.NoError(t, err)
	_, err = v.Verify(ctx, confTok)
	assert.ErrorIs(t, err, ErrInvalidToken)

	// Key rotation: an unknown kid triggers one refetch; more unknown kids
	// within 30 s do not hammer the endpoint.
	before := fetches.Load()
	keys.Store([]any{jwkFor(t, "k1", &key1.PublicKey), jwkFor(t, "k2", &key2.PublicKey)})
	_, err = v.Verify(ctx, sign("k2", key2))
	require.NoError(t, err)
	assert.Equal(t, before+1, fetches.Load())
	for range 5 {
		_, err = v.Verify(ctx, sign("k3", key2))
		assert.ErrorIs(t, err, ErrInvalidToken)
	}
	assert.LessOrEqual(t, fetches.Load(), before+1, "unknown kids are rate-limited")
}

func TestMiddleware(t *testing.T) {
	base, err := NewClient("http://127.0.0.1:54321", "anon")
	require.NoError(t, err)
	v, err := NewVerifier("http://127.0.0.1:54321", WithJWTSecret(verifySecret))
	require.NoError(t, err)
	defer v.Close()
	h := base.Middleware(v)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, ok := ClaimsFromContext(r.Context())
		require.True(t, ok)
		user, ok := ClientFromContext(r.Context())
		require.True(t, ok)
		tok, err := user.tokens.accessToken(r.Context())
		require.NoError(t, err)
		assert.Equal(t, r.Header.Get("Authorization"), "Bearer "+tok)
		_, _ = io.WriteString(w, claims.Subject)
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()

	do := func(auth string) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	status, body := do("Bearer " + hsToken(t, verifySecret, userClaims(time.Now().Add(time.Hour))))
	assert.Equal(t, 200, status)
	assert.Equal(t, "u1", body)

	status, body = do("")
	assert.Equal(t, 401, status)
	assert.JSONEq(t, `{"code":"invalid_token","message":"missing bearer token"}`, body)
	status, body = do("Bearer " + hsToken(t, verifySecret, userClaims(time.Now().Add(-time.Hour))))
	assert.Equal(t, 401, status)
	assert.JSONEq(t, `{"code":"invalid_token","message":"token is expired"}`, body)
	status, _ = do("Basic dXNlcjpwdw==")
	assert.Equal(t, 401, status)
}

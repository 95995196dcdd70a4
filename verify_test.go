package supabase

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const verifySecret = "super-secret-jwt-token-with-at-least-32-characters-long"

// verifyNow is the fixed clock of the verifiers below, so that messages
// quoting times are exact.
var verifyNow = time.Unix(1_700_000_000, 0) // 2023-11-14T22:13:20Z

func withVerifierClock(now func() time.Time) VerifierOption {
	return func(c *verifierConfig) error {
		c.now = now
		return nil
	}
}

func fixedClock() VerifierOption { return withVerifierClock(func() time.Time { return verifyNow }) }

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

// withClaims returns a copy of c with the given claims set, or removed when nil.
func withClaims(c jwt.MapClaims, kv ...any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

func signed(t *testing.T, m jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

// rawToken builds a token from literal header and payload JSON.
func rawToken(header, payload, sig string) string {
	b64 := base64.RawURLEncoding.EncodeToString
	return b64([]byte(header)) + "." + b64([]byte(payload)) + "." + sig
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

func newECKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

// jwksHandler serves a project's JWKS and counts fetches; status, when set,
// makes it fail.
type jwksHandler struct {
	t       *testing.T
	fetches atomic.Int32
	keys    atomic.Value // []any
	status  atomic.Int32
}

func newJWKSHandler(t *testing.T, keys ...any) *jwksHandler {
	h := &jwksHandler{t: t}
	h.keys.Store(keys)
	return h
}

func (h *jwksHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	assert.Equal(h.t, "GET /auth/v1/.well-known/jwks.json", r.Method+" "+r.URL.Path)
	h.fetches.Add(1)
	if s := h.status.Load(); s != 0 {
		w.WriteHeader(int(s))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"keys": h.keys.Load()})
}

// assertTokenError checks the exact message, the sentinels, and that no part
// of the token leaks into the error.
func assertTokenError(t *testing.T, err error, token, reason string, expired bool) {
	t.Helper()
	require.Error(t, err)
	assert.Equal(t, "supabase: invalid access token: "+reason, err.Error())
	assert.ErrorIs(t, err, ErrInvalidToken)
	assert.Equal(t, expired, errors.Is(err, ErrJWTExpired), "matches ErrJWTExpired")
	assert.NotErrorIs(t, err, ErrInvalidArgument)
	for _, part := range strings.Split(token, ".") {
		if len(part) >= 8 {
			assert.NotContains(t, err.Error(), part, "the error must not quote the token")
		}
	}
}

func TestVerifyMessages(t *testing.T) {
	key1, key2 := newECKey(t), newECKey(t)
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	jwks := newJWKSHandler(t, jwkFor(t, "k1", &key1.PublicKey))
	srv := httptest.NewServer(jwks)
	defer srv.Close()

	newV := func(url string, opts ...VerifierOption) *Verifier {
		v, err := NewVerifier(url, append([]VerifierOption{fixedClock()}, opts...)...)
		require.NoError(t, err)
		t.Cleanup(func() { assert.NoError(t, v.Close()) })
		return v
	}
	hsOnly := newV("http://127.0.0.1:54321", WithJWTSecret(verifySecret))
	jwksOnly := newV(srv.URL)
	both := newV(srv.URL, WithJWTSecret(verifySecret), WithJWKS(""))
	lenient := newV("http://127.0.0.1:54321", WithJWTSecret(verifySecret), WithVerifyLeeway(30*time.Second))
	api := newV("http://127.0.0.1:54321", WithJWTSecret(verifySecret), WithAudience("api"))

	good := userClaims(verifyNow.Add(time.Hour))
	past := userClaims(verifyNow.Add(-time.Hour)) // expired at 2023-11-14T21:13:20Z
	pubDER, err := x509.MarshalPKIXPublicKey(&key1.PublicKey)
	require.NoError(t, err)
	hsHeader := `{"alg":"HS256","typ":"JWT"}`

	tests := []struct {
		name    string
		v       *Verifier
		token   string
		reason  string // "" means the token verifies
		expired bool
	}{
		{"HS256 with secret", hsOnly, hsToken(t, verifySecret, good), "", false},
		{"ES256 with JWKS", jwksOnly, signed(t, jwt.SigningMethodES256, key1, "k1", good), "", false},
		{"HS256 with secret and JWKS", both, hsToken(t, verifySecret, good), "", false},
		{"ES256 with secret and JWKS", both, signed(t, jwt.SigningMethodES256, key1, "k1", good), "", false},
		{"expired within leeway", lenient, hsToken(t, verifySecret, withClaims(good, "exp", verifyNow.Add(-29*time.Second).Unix())), "", false},
		{"audience as a list", hsOnly, hsToken(t, verifySecret, withClaims(good, "aud", []string{"x", "authenticated"})), "", false},

		{"HS256 without secret", jwksOnly, hsToken(t, verifySecret, good),
			"HS256 token but no JWT secret configured; use WithJWTSecret", false},
		{"algorithm confusion", jwksOnly, signed(t, jwt.SigningMethodHS256, pubDER, "k1", good),
			"HS256 token but no JWT secret configured; use WithJWTSecret", false},
		{"algorithm confusion with a secret", both, signed(t, jwt.SigningMethodHS256, pubDER, "k1", good),
			"signature is invalid", false},
		{"ES256 without JWKS", hsOnly, signed(t, jwt.SigningMethodES256, key1, "k1", good),
			"ES256 token but no JWKS configured; use WithJWKS", false},
		{"alg none", hsOnly, signed(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", good),
			`alg "none" is not accepted`, false},
		{"alg none with JWKS", jwksOnly, signed(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "k1", good),
			`alg "none" is not accepted`, false},
		{"alg HS512", hsOnly, signed(t, jwt.SigningMethodHS512, []byte(verifySecret), "", good),
			`alg "HS512" is not accepted (only HS256, ES256, RS256, EdDSA)`, false},
		{"unknown alg", hsOnly, rawToken(`{"alg":"XY999"}`, `{"sub":"u1"}`, "c2ln"),
			"alg header is missing or not a known algorithm", false},
		{"no alg", hsOnly, rawToken(`{"typ":"JWT"}`, `{"sub":"u1"}`, "c2ln"),
			"alg header is missing or not a known algorithm", false},
		{"wrong secret", hsOnly, hsToken(t, "another-secret-another-secret-another-secret", good),
			"signature is invalid", false},
		{"signed by another key", jwksOnly, signed(t, jwt.SigningMethodES256, key2, "k1", good),
			"signature is invalid", false},
		{"unknown kid", jwksOnly, signed(t, jwt.SigningMethodES256, key2, "nope", good),
			"kid not found in the project's JWKS", false},
		{"kid not a string", jwksOnly, func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodES256, good)
			tok.Header["kid"] = 7
			s, err := tok.SignedString(key1)
			require.NoError(t, err)
			return s
		}(), "kid header is not a string", false},
		{"key for another alg", jwksOnly, signed(t, jwt.SigningMethodEdDSA, edKey, "k1", good),
			"the JWKS key named by kid is not for alg EdDSA", false},

		{"expired", hsOnly, hsToken(t, verifySecret, past),
			"exp claim: token expired at 2023-11-14T21:13:20Z", true},
		{"expired with JWKS", jwksOnly, signed(t, jwt.SigningMethodES256, key1, "k1", past),
			"exp claim: token expired at 2023-11-14T21:13:20Z", true},
		{"expired beyond leeway", lenient, hsToken(t, verifySecret, withClaims(good, "exp", verifyNow.Add(-30*time.Second).Unix())),
			"exp claim: token expired at 2023-11-14T22:12:50Z (leeway 30s)", true},
		{"no exp", hsOnly, hsToken(t, verifySecret, withClaims(good, "exp", nil)), "exp claim is missing", false},
		{"not valid yet", hsOnly, hsToken(t, verifySecret, withClaims(good, "nbf", verifyNow.Add(time.Hour).Unix())),
			"nbf claim: token not valid before 2023-11-14T23:13:20Z", false},
		{"wrong audience", hsOnly, hsToken(t, verifySecret, withClaims(good, "aud", "other")),
			`aud claim: want "authenticated"`, false},
		{"wrong configured audience", api, hsToken(t, verifySecret, good), `aud claim: want "api"`, false},
		{"no audience", hsOnly, hsToken(t, verifySecret, withClaims(good, "aud", nil)),
			`aud claim is missing (want "authenticated")`, false},
		{"no sub", hsOnly, hsToken(t, verifySecret, withClaims(good, "sub", nil)), "sub claim is missing", false},
		{"no role", hsOnly, hsToken(t, verifySecret, withClaims(good, "role", "")), "role claim is missing", false},
		{"every claim wrong", hsOnly, hsToken(t, verifySecret, withClaims(past, "aud", "other", "role", nil)),
			`exp claim: token expired at 2023-11-14T21:13:20Z; aud claim: want "authenticated"; role claim is missing`, true},
		{"anon key", hsOnly, hsToken(t, verifySecret, jwt.MapClaims{"iss": "supabase-demo", "role": "anon", "exp": verifyNow.Add(time.Hour).Unix()}),
			`aud claim is missing (want "authenticated"); sub claim is missing`, false},
		{"exp of the wrong type", hsOnly, hsToken(t, verifySecret, withClaims(good, "exp", "tomorrow")),
			"exp claim has the wrong type", false},
		{"aud of the wrong type", hsOnly, hsToken(t, verifySecret, withClaims(good, "aud", 5)),
			"aud claim has the wrong type", false},

		{"empty", hsOnly, "", "token is empty", false},
		{"one part", hsOnly, "abcdefghijkl", "token is malformed: want three dot-separated parts", false},
		{"bad header", hsOnly, "!!!!!!!!.e30.c2ln", "token is malformed: header is not a base64url-encoded JSON object", false},
		{"bad payload", hsOnly, base64.RawURLEncoding.EncodeToString([]byte(hsHeader)) + ".!!!!!!!!.c2ln",
			"token is malformed: payload is not a base64url-encoded JSON object", false},
		{"payload not an object", hsOnly, rawToken(hsHeader, `["a"]`, "c2ln"),
			"token is malformed: payload is not a base64url-encoded JSON object", false},
		{"bad signature encoding", hsOnly, rawToken(hsHeader, `{"sub":"u1"}`, "!!!!!!!!"),
			"token is malformed: signature is not base64url", false},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.v.Verify(ctx, tt.token)
			if tt.reason == "" {
				require.NoError(t, err)
				assert.Equal(t, "u1", c.Subject)
				assert.Equal(t, "authenticated", c.Role)
				return
			}
			assert.Nil(t, c)
			assertTokenError(t, err, tt.token, tt.reason, tt.expired)
		})
	}
}

func TestVerifyLeeway(t *testing.T) {
	now := verifyNow
	clock := withVerifierClock(func() time.Time { return now })
	exp := verifyNow
	tok := hsToken(t, verifySecret, userClaims(exp))
	for _, tt := range []struct {
		leeway time.Duration
		at     time.Duration // now - exp
		ok     bool
	}{
		{0, -time.Second, true},
		{0, 0, false},
		{30 * time.Second, 29 * time.Second, true},
		{30 * time.Second, 30 * time.Second, false},
	} {
		v, err := NewVerifier("http://127.0.0.1:54321", WithJWTSecret(verifySecret), WithVerifyLeeway(tt.leeway), clock)
		require.NoError(t, err)
		now = exp.Add(tt.at)
		_, err = v.Verify(context.Background(), tok)
		if tt.ok {
			assert.NoError(t, err, "leeway %s, %s after exp", tt.leeway, tt.at)
		} else {
			want := "exp claim: token expired at 2023-11-14T22:13:20Z"
			if tt.leeway > 0 {
				want += " (leeway " + tt.leeway.String() + ")"
			}
			assertTokenError(t, err, tok, want, true)
		}
		// nbf gets the same leeway: valid from nbf-leeway.
		nbfTok := hsToken(t, verifySecret, withClaims(userClaims(exp.Add(time.Hour)), "nbf", exp.Unix()))
		now = exp.Add(-tt.at - time.Second)
		_, err = v.Verify(context.Background(), nbfTok)
		if tt.ok {
			assert.NoError(t, err, "nbf: leeway %s, now %s", tt.leeway, now.Sub(exp))
		} else {
			want := "nbf claim: token not valid before 2023-11-14T22:13:20Z"
			if tt.leeway > 0 {
				want += " (leeway " + tt.leeway.String() + ")"
			}
			assertTokenError(t, err, nbfTok, want, false)
		}
		require.NoError(t, v.Close())
	}
}

// NewVerifier does no I/O: the first fetch runs in the background, and a
// Verify waiting for it ends with its ctx.
func TestNewVerifierDoesNoIO(t *testing.T) {
	release := make(chan struct{})
	var fetches atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"keys":[]}`))
	}))
	defer srv.Close()
	defer close(release)
	v, err := NewVerifier(srv.URL) // returns although the JWKS never answers
	require.NoError(t, err)
	key := newECKey(t)
	tok := signed(t, jwt.SigningMethodES256, key, "k1", userClaims(time.Now().Add(time.Hour)))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = v.Verify(ctx, tok)
	assert.ErrorIs(t, err, ErrInvalidToken)
	assert.ErrorIs(t, err, context.Canceled)
	require.NoError(t, v.Close(), "Close ends the pending fetch")
}

// TestVerifierJWKS runs against a JWKS served over HTTP: key rotation picks
// up a new kid with one refetch, and unknown kids do not hammer the endpoint.
func TestVerifierJWKS(t *testing.T) {
	key1, key2 := newECKey(t), newECKey(t)
	jwks := newJWKSHandler(t, jwkFor(t, "k1", &key1.PublicKey))
	srv := httptest.NewServer(jwks)
	defer srv.Close()

	v, err := NewVerifier(srv.URL)
	require.NoError(t, err)
	defer v.Close()
	ctx := context.Background()
	sign := func(kid string, k *ecdsa.PrivateKey) string {
		return signed(t, jwt.SigningMethodES256, k, kid, userClaims(time.Now().Add(time.Hour)))
	}
	c, err := v.Verify(ctx, sign("k1", key1))
	require.NoError(t, err)
	assert.Equal(t, "u1", c.Subject)
	assert.Equal(t, int32(1), jwks.fetches.Load(), "the key set is fetched once, in the background")
	_, err = v.Verify(ctx, sign("k1", key1))
	require.NoError(t, err)
	assert.Equal(t, int32(1), jwks.fetches.Load(), "a known kid needs no fetch")

	jwks.keys.Store([]any{jwkFor(t, "k1", &key1.PublicKey), jwkFor(t, "k2", &key2.PublicKey)})
	_, err = v.Verify(ctx, sign("k2", key2))
	require.NoError(t, err)
	assert.Equal(t, int32(2), jwks.fetches.Load(), "an unknown kid triggers one refetch")
	for range 5 {
		tok := sign("k3", key2)
		_, err = v.Verify(ctx, tok)
		assertTokenError(t, err, tok, "kid not found in the project's JWKS", false)
	}
	assert.Equal(t, int32(2), jwks.fetches.Load(), "refetches are at most every 30 s")
}

func TestVerifierJWKSUnavailable(t *testing.T) {
	key := newECKey(t)
	jwks := newJWKSHandler(t)
	jwks.status.Store(http.StatusServiceUnavailable)
	srv := httptest.NewServer(jwks)
	defer srv.Close()
	v, err := NewVerifier(srv.URL)
	require.NoError(t, err, "a failed first fetch is not fatal")
	defer v.Close()

	tok := signed(t, jwt.SigningMethodES256, key, "k1", userClaims(time.Now().Add(time.Hour)))
	_, err = v.Verify(context.Background(), tok)
	require.Error(t, err)
	assert.Equal(t, "supabase: invalid access token: kid not found in the project's JWKS; the last JWKS fetch failed: "+
		jwkset.ErrInvalidHTTPStatusCode.Error()+": 503", err.Error())
	assert.ErrorIs(t, err, ErrInvalidToken)
	assert.ErrorIs(t, err, jwkset.ErrInvalidHTTPStatusCode, "the fetch error is wrapped")
	assert.Equal(t, int32(2), jwks.fetches.Load())

	noKid := signed(t, jwt.SigningMethodES256, key, "", userClaims(time.Now().Add(time.Hour)))
	_, err = v.Verify(context.Background(), noKid)
	assert.Equal(t, "supabase: invalid access token: no keys in the project's JWKS; the last JWKS fetch failed: "+
		jwkset.ErrInvalidHTTPStatusCode.Error()+": 503", err.Error())

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = v.Verify(ctx, tok)
	assert.Equal(t, "supabase: invalid access token: key lookup interrupted: context canceled", err.Error())
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, err, ErrInvalidToken)
}

// handlerTransport serves requests in memory, so that a synctest bubble
// has no network goroutines.
type handlerTransport struct{ h http.Handler }

func (tr handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	tr.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// TestVerifierJWKSTiming follows the key cache on a fake clock: unknown kids
// refetch at most every 30 s (a token waits at most 10 s for the next
// slot), the set is refreshed every 10 minutes (so revoked keys go), and a
// failed fetch is reported until one succeeds.
func TestVerifierJWKSTiming(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k1, k2, k3, k4 := newECKey(t), newECKey(t), newECKey(t), newECKey(t)
		jwks := newJWKSHandler(t, jwkFor(t, "k1", &k1.PublicKey))
		v, err := NewVerifier("https://ref.supabase.co", WithVerifierHTTPClient(&http.Client{Transport: handlerTransport{jwks}}))
		require.NoError(t, err)
		start := time.Now()
		ctx := context.Background()
		// verify checks kid at second at (since start): how many fetches
		// there were after it and how long it waited.
		verify := func(at time.Duration, kid string, k *ecdsa.PrivateKey, wantFetches int32, wantWait time.Duration) error {
			t.Helper()
			time.Sleep(time.Until(start.Add(at)))
			before := time.Now()
			_, err := v.Verify(ctx, signed(t, jwt.SigningMethodES256, k, kid, userClaims(time.Now().Add(time.Hour))))
			assert.Equal(t, wantWait, time.Since(before), "wait for kid %s at %s", kid, at)
			synctest.Wait()
			assert.Equal(t, wantFetches, jwks.fetches.Load(), "fetches after kid %s at %s", kid, at)
			return err
		}
		const notFound = "supabase: invalid access token: kid not found in the project's JWKS"

		require.NoError(t, verify(0, "k1", k1, 1, 0))
		jwks.keys.Store([]any{jwkFor(t, "k1", &k1.PublicKey), jwkFor(t, "k2", &k2.PublicKey)})
		require.NoError(t, verify(0, "k2", k2, 2, 0), "a new kid is fetched at once")
		assert.EqualError(t, verify(0, "k3", k3, 2, 0), notFound, "the next refetch is 30 s away: refused at once")
		assert.EqualError(t, verify(19*time.Second, "k3", k3, 2, 0), notFound, "11 s away: refused at once")
		assert.EqualError(t, verify(21*time.Second, "k3", k3, 3, 9*time.Second), notFound, "9 s away: waits, refetches")
		jwks.keys.Store([]any{jwkFor(t, "k2", &k2.PublicKey), jwkFor(t, "k3", &k3.PublicKey)})
		assert.EqualError(t, verify(30*time.Second, "k3", k3, 3, 0), notFound)
		require.NoError(t, verify(60*time.Second, "k3", k3, 4, 0))

		// The 10-minute refresh drops a revoked key without any token asking.
		jwks.keys.Store([]any{jwkFor(t, "k3", &k3.PublicKey)})
		require.NoError(t, verify(599*time.Second, "k2", k2, 4, 0), "cached until the refresh")
		time.Sleep(time.Until(start.Add(10 * time.Minute)))
		synctest.Wait()
		assert.Equal(t, int32(5), jwks.fetches.Load())
		assert.EqualError(t, verify(10*time.Minute+time.Second, "k2", k2, 6, 0), notFound)

		jwks.status.Store(http.StatusInternalServerError)
		assert.EqualError(t, verify(11*time.Minute, "k4", k4, 7, 0),
			notFound+"; the last JWKS fetch failed: "+jwkset.ErrInvalidHTTPStatusCode.Error()+": 500")
		jwks.status.Store(0)
		jwks.keys.Store([]any{jwkFor(t, "k4", &k4.PublicKey)})
		require.NoError(t, verify(12*time.Minute, "k4", k4, 8, 0))
		assert.EqualError(t, verify(13*time.Minute, "k5", k4, 9, 0), notFound, "a successful fetch clears the failure")

		require.NoError(t, v.Close()) // ends the refresh goroutine before the bubble does
	})
}

func TestVerifierZeroValues(t *testing.T) {
	ctx := context.Background()
	for name, v := range map[string]*Verifier{"nil": nil, "zero": {}} {
		c, err := v.Verify(ctx, "x.y.z")
		assert.Nil(t, c)
		assert.EqualError(t, err, "supabase: invalid access token: nil or zero Verifier (use NewVerifier)", name)
		assert.ErrorIs(t, err, ErrInvalidArgument, name)
		assert.ErrorIs(t, err, ErrInvalidToken, name)
		err = v.Close()
		assert.EqualError(t, err, "supabase: Verifier.Close: nil or zero Verifier (use NewVerifier)", name)
		assert.ErrorIs(t, err, ErrInvalidArgument, name)
	}
	v, err := NewVerifier("http://127.0.0.1:54321", WithJWTSecret(verifySecret))
	require.NoError(t, err)
	//lint:ignore SA1012 a nil ctx is the misuse under test
	_, err = v.Verify(nil, hsToken(t, verifySecret, userClaims(time.Now().Add(time.Hour))))
	assert.EqualError(t, err, "supabase: invalid access token: nil context")
	assert.ErrorIs(t, err, ErrInvalidArgument)
	assert.NoError(t, v.Close())
	assert.NoError(t, v.Close(), "Close twice")
}

func TestVerifierOptionsValidate(t *testing.T) {
	for name, opt := range map[string]VerifierOption{
		"short secret":       WithJWTSecret("short"),
		"JWKS not http":      WithJWKS("ftp://example.com/jwks.json"),
		"JWKS relative":      WithJWKS("/jwks.json"),
		"JWKS unparsable":    WithJWKS("http://[::1"),
		"JWKS credentials":   WithJWKS("https://user:hunter2@example.com/jwks.json"),
		"nil http client":    WithVerifierHTTPClient(nil),
		"blank audience":     WithAudience("  "),
		"negative leeway":    WithVerifyLeeway(-time.Second),
		"secret then broken": WithAudience(""),
	} {
		v, err := NewVerifier("http://127.0.0.1:54321", WithJWTSecret(verifySecret), opt)
		assert.Nil(t, v, name)
		assert.ErrorIs(t, err, ErrInvalidArgument, name)
		if err != nil {
			assert.NotContains(t, err.Error(), "hunter2", name)
		}
	}
	_, err := NewVerifier("not a url", WithJWTSecret(verifySecret))
	assert.ErrorIs(t, err, ErrInvalidArgument)
	v, err := NewVerifier("http://127.0.0.1:54321", nil, WithJWTSecret(verifySecret))
	require.NoError(t, err, "a nil option is ignored")
	assert.NoError(t, v.Close())
}

// middlewareFixture is a base client whose PostgREST requests the test
// server records, and an HS256 verifier on the fixed clock.
func middlewareFixture(t *testing.T) (*fakeAPI, *Client, *Verifier) {
	t.Helper()
	srv, base := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, []byte(`[]`)) })
	v, err := NewVerifier("http://127.0.0.1:54321", WithJWTSecret(verifySecret), fixedClock())
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, v.Close()) })
	return srv, base, v
}

func serve(h http.Handler, method, path, authorization string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestMiddlewareAuthenticates(t *testing.T) {
	srv, base, v := middlewareFixture(t)
	h := base.Middleware(v)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, ok := ClaimsFromContext(r.Context())
		require.True(t, ok)
		user, ok := ClientFromContext(r.Context())
		require.True(t, ok)
		_, err := user.From("todos").Select("id").Execute(r.Context())
		require.NoError(t, err)
		_, _ = io.WriteString(w, claims.Subject+" "+claims.Email)
	}))
	tok := hsToken(t, verifySecret, userClaims(verifyNow.Add(time.Hour)))
	for i, auth := range []string{"Bearer " + tok, "bearer  " + tok + " "} {
		rec := serve(h, "GET", "/todos", auth)
		assert.Equal(t, 200, rec.Code)
		assert.Equal(t, "u1 ada@example.com", rec.Body.String())
		reqs := srv.requests()
		require.Len(t, reqs, i+1)
		got := reqs[i]
		assert.Equal(t, "GET /rest/v1/todos", got.Method+" "+got.Path)
		assert.Equal(t, "Bearer "+tok, got.Header.Get("Authorization"), "the user client sends the caller's token")
		assert.Equal(t, coreTestKey, got.Header.Get("apikey"))
	}
}

func TestMiddlewareDefaultUnauthorized(t *testing.T) {
	_, base, v := middlewareFixture(t)
	var calls atomic.Int32
	h := base.Middleware(v)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { calls.Add(1) }))
	wantHeader := http.Header{
		"Www-Authenticate": {`Bearer error="invalid_token"`},
		"Content-Type":     {"application/json"},
	}
	for _, tt := range []struct{ name, auth, body string }{
		{"no header", "", `{"code":"invalid_token","message":"missing bearer token"}`},
		{"basic", "Basic dXNlcjpwdw==", `{"code":"invalid_token","message":"missing bearer token"}`},
		{"empty bearer", "Bearer   ", `{"code":"invalid_token","message":"missing bearer token"}`},
		{"malformed", "Bearer not-a-jwt", `{"code":"invalid_token","message":"token is malformed: want three dot-separated parts"}`},
		{"expired", "Bearer " + hsToken(t, verifySecret, userClaims(verifyNow.Add(-time.Hour))),
			`{"code":"invalid_token","message":"exp claim: token expired at 2023-11-14T21:13:20Z"}`},
		{"wrong audience", "Bearer " + hsToken(t, verifySecret, withClaims(userClaims(verifyNow.Add(time.Hour)), "aud", "x")),
			`{"code":"invalid_token","message":"aud claim: want \"authenticated\""}`},
		{"alg none", "Bearer " + signed(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", userClaims(verifyNow.Add(time.Hour))),
			`{"code":"invalid_token","message":"alg \"none\" is not accepted"}`},
	} {
		rec := serve(h, "GET", "/todos", tt.auth)
		assert.Equal(t, http.StatusUnauthorized, rec.Code, tt.name)
		assert.Equal(t, wantHeader, rec.Header(), tt.name)
		assert.Equal(t, tt.body, rec.Body.String(), tt.name)
	}
	assert.Zero(t, calls.Load(), "next never runs for a refused request")
}

func TestMiddlewareCustomUnauthorized(t *testing.T) {
	_, base, v := middlewareFixture(t)
	var got []error
	respond := func(w http.ResponseWriter, r *http.Request, err error) {
		got = append(got, err)
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = fmt.Fprintf(w, `{"title":"not signed in","path":%q}`, r.URL.Path)
	}
	var calls atomic.Int32
	h := base.Middleware(v, WithUnauthorizedHandler(respond))(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { calls.Add(1) }))

	expired := hsToken(t, verifySecret, userClaims(verifyNow.Add(-time.Hour)))
	for _, auth := range []string{"", "Bearer " + expired} {
		rec := serve(h, "GET", "/todos", auth)
		assert.Equal(t, http.StatusForbidden, rec.Code)
		assert.Equal(t, http.Header{"Content-Type": {"application/problem+json"}}, rec.Header(), "only the handler's headers")
		assert.Equal(t, `{"title":"not signed in","path":"/todos"}`, rec.Body.String())
	}
	assert.Zero(t, calls.Load())
	require.Len(t, got, 2)
	assert.EqualError(t, got[0], "supabase: invalid access token: missing bearer token")
	assert.ErrorIs(t, got[0], ErrInvalidToken)
	assert.NotErrorIs(t, got[0], ErrJWTExpired)
	assertTokenError(t, got[1], expired, "exp claim: token expired at 2023-11-14T21:13:20Z", true)

	// The last handler given wins.
	h = base.Middleware(v, WithUnauthorizedHandler(respond), WithUnauthorizedHandler(func(w http.ResponseWriter, _ *http.Request, _ error) {
		w.WriteHeader(http.StatusTeapot)
	}))(http.NotFoundHandler())
	assert.Equal(t, http.StatusTeapot, serve(h, "GET", "/", "").Code)
}

func TestMiddlewareSkip(t *testing.T) {
	_, base, v := middlewareFixture(t)
	health := WithSkip(func(r *http.Request) bool { return r.Method == http.MethodGet && r.URL.Path == "/healthz" })
	preflight := WithSkip(func(r *http.Request) bool { return r.Method == http.MethodOptions })
	h := base.Middleware(v, health, nil, preflight)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, hasClaims := ClaimsFromContext(r.Context())
		_, hasClient := ClientFromContext(r.Context())
		_, _ = fmt.Fprintf(w, "%s claims=%t client=%t", r.URL.Path, hasClaims, hasClient)
	}))
	good := "Bearer " + hsToken(t, verifySecret, userClaims(verifyNow.Add(time.Hour)))
	for _, tt := range []struct {
		method, path, auth string
		status             int
		body               string
	}{
		{"GET", "/healthz", "", 200, "/healthz claims=false client=false"},
		{"GET", "/healthz", "Bearer broken", 200, "/healthz claims=false client=false"},
		{"GET", "/healthz", good, 200, "/healthz claims=false client=false"},
		{"OPTIONS", "/todos", "", 200, "/todos claims=false client=false"},
		{"POST", "/healthz", "", 401, `{"code":"invalid_token","message":"missing bearer token"}`},
		{"GET", "/healthz/x", "", 401, `{"code":"invalid_token","message":"missing bearer token"}`},
		{"GET", "/todos", "", 401, `{"code":"invalid_token","message":"missing bearer token"}`},
		{"GET", "/todos", good, 200, "/todos claims=true client=true"},
	} {
		rec := serve(h, tt.method, tt.path, tt.auth)
		assert.Equal(t, tt.status, rec.Code, "%s %s %q", tt.method, tt.path, tt.auth)
		assert.Equal(t, tt.body, rec.Body.String(), "%s %s %q", tt.method, tt.path, tt.auth)
	}
}

func TestMiddlewareMisconfigured(t *testing.T) {
	_, base, v := middlewareFixture(t)
	var nilClient *Client
	always := WithSkip(func(*http.Request) bool { return true })
	var responded atomic.Int32
	respond := WithUnauthorizedHandler(func(http.ResponseWriter, *http.Request, error) { responded.Add(1) })
	var calls atomic.Int32
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { calls.Add(1) })
	const noClient = "supabase: Middleware: nil or zero Client (use NewClient or NewClientFromEnv)"
	const noVerifier = "supabase: Middleware: nil or zero Verifier (use NewVerifier)"
	for _, tt := range []struct {
		name    string
		handler func() http.Handler
		message string
	}{
		{"nil client", func() http.Handler { return nilClient.Middleware(v, respond, always)(next) }, noClient},
		{"zero client", func() http.Handler { return (&Client{}).Middleware(v)(next) }, noClient},
		{"client with an error", func() http.Handler { return base.Schema("").Middleware(v)(next) },
			"supabase: Middleware: unusable Client: supabase: Schema: empty schema name"},
		{"nil verifier", func() http.Handler { return base.Middleware(nil, respond, always)(next) }, noVerifier},
		{"zero verifier", func() http.Handler { return base.Middleware(&Verifier{})(next) }, noVerifier},
		{"nil unauthorized handler", func() http.Handler { return base.Middleware(v, WithUnauthorizedHandler(nil))(next) },
			"supabase: WithUnauthorizedHandler: nil handler"},
		{"nil skip", func() http.Handler { return base.Middleware(v, always, WithSkip(nil))(next) },
			"supabase: WithSkip: nil function"},
		{"nil next", func() http.Handler { return base.Middleware(v, respond)(nil) },
			"supabase: Middleware: nil next handler"},
	} {
		var h http.Handler
		require.NotPanics(t, func() { h = tt.handler() }, tt.name)
		for _, auth := range []string{"", "Bearer " + hsToken(t, verifySecret, userClaims(verifyNow.Add(time.Hour)))} {
			rec := serve(h, "GET", "/healthz", auth)
			assert.Equal(t, http.StatusInternalServerError, rec.Code, tt.name)
			assert.Equal(t, http.Header{"Content-Type": {"application/json"}}, rec.Header(), tt.name)
			want, err := json.Marshal(map[string]string{"code": "misconfigured", "message": tt.message})
			require.NoError(t, err)
			assert.Equal(t, string(want), rec.Body.String(), tt.name)
		}
	}
	assert.Zero(t, calls.Load(), "next never runs")
	assert.Zero(t, responded.Load(), "a misconfiguration is not a 401")
}

func TestContextWithUser(t *testing.T) {
	base, err := NewClient("http://127.0.0.1:54321", "anon")
	require.NoError(t, err)
	user := base.WithAccessToken("user-token")
	claims := &Claims{Role: "authenticated"}

	ctx := ContextWithUser(context.Background(), user, claims)
	gotClaims, ok := ClaimsFromContext(ctx)
	assert.True(t, ok)
	assert.Same(t, claims, gotClaims)
	gotUser, ok := ClientFromContext(ctx)
	assert.True(t, ok)
	assert.Same(t, user, gotUser)

	// Both values are replaced together: no claims of one user next to the
	// client of another.
	other := &Claims{Role: "anon"}
	ctx2 := ContextWithUser(ctx, nil, other)
	gotClaims, ok = ClaimsFromContext(ctx2)
	assert.True(t, ok)
	assert.Same(t, other, gotClaims)
	gotUser, ok = ClientFromContext(ctx2)
	assert.False(t, ok)
	assert.Nil(t, gotUser)

	//lint:ignore SA1012 a nil ctx must not panic
	ctx3 := ContextWithUser(nil, user, nil)
	_, ok = ClaimsFromContext(ctx3)
	assert.False(t, ok, "nil claims are absent")
	_, ok = ClientFromContext(ctx3)
	assert.True(t, ok)

	_, ok = ClaimsFromContext(context.Background())
	assert.False(t, ok)
	//lint:ignore SA1012 a nil ctx must not panic
	_, ok = ClientFromContext(nil)
	assert.False(t, ok)
}

// A hand-written middleware, here reading the token from a cookie, stores
// the user as Client.Middleware does, so handlers read it the same way.
func ExampleContextWithUser() {
	const secret = "super-secret-jwt-token-with-at-least-32-characters-long"
	base, _ := NewClient("http://127.0.0.1:54321", "anon-key")
	v, _ := NewVerifier(base.URL(), WithJWTSecret(secret))
	defer v.Close()

	fromCookie := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			cookie, err := r.Cookie("sb-access-token")
			if err != nil {
				http.Error(w, "sign in first", http.StatusUnauthorized)
				return
			}
			claims, err := v.Verify(r.Context(), cookie.Value)
			if err != nil {
				http.Error(w, "sign in again", http.StatusUnauthorized)
				return
			}
			ctx := ContextWithUser(r.Context(), base.WithAccessToken(cookie.Value), claims)
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
	h := fromCookie(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := ClaimsFromContext(r.Context())
		fmt.Fprintln(w, "hello", claims.Subject)
	}))

	token, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "u1", "role": "authenticated",
		"aud": "authenticated", "exp": time.Now().Add(time.Hour).Unix()}).SignedString([]byte(secret))
	for _, cookie := range []*http.Cookie{nil, {Name: "sb-access-token", Value: "forged"}, {Name: "sb-access-token", Value: token}} {
		req := httptest.NewRequest("GET", "/", nil)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Print(rec.Code, " ", rec.Body.String())
	}
	// Output:
	// 401 sign in first
	// 401 sign in again
	// 200 hello u1
}

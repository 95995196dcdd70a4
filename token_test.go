package supabase

import (
	"bytes"
	"fmt"
	"log/slog"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseClaims(t *testing.T) {
	tok := coreJWT(t, jwt.MapClaims{
		"iss": "http://127.0.0.1:54321/auth/v1", "sub": "6a1d5b2e", "aud": "authenticated", "exp": 4102444800, "iat": 1767225000,
		"email": "ada@example.com", "phone": "", "role": "authenticated", "aal": "aal1",
		"amr":        []map[string]any{{"method": "password", "timestamp": 1767225000}},
		"session_id": "s1", "is_anonymous": false,
		"app_metadata":  map[string]any{"provider": "email"},
		"user_metadata": map[string]any{"full_name": "Ada"},
	})
	c, err := ParseClaims(tok)
	require.NoError(t, err)
	assert.Equal(t, "6a1d5b2e", c.Subject)
	assert.Equal(t, jwt.ClaimStrings{"authenticated"}, c.Audience)
	assert.Equal(t, int64(4102444800), c.ExpiresAt.Unix())
	assert.Equal(t, "ada@example.com", c.Email)
	assert.Equal(t, "authenticated", c.Role)
	assert.Equal(t, "aal1", c.AAL)
	assert.Equal(t, []AMREntry{{Method: "password", Timestamp: 1767225000}}, c.AMR)
	assert.Equal(t, "s1", c.SessionID)
	assert.Equal(t, "email", c.AppMetadata["provider"])
	assert.Equal(t, "Ada", c.UserMetadata["full_name"])

	for _, bad := range []string{"", "abc", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.!!!.sig"} {
		_, err := ParseClaims(bad)
		assert.ErrorIs(t, err, ErrMalformedToken, bad)
	}
}

func TestSessionRedacted(t *testing.T) {
	s := &Session{AccessToken: "secret-access", RefreshToken: "secret-refresh", ExpiresAt: 4102444800, User: &User{ID: "u1"}}
	var log bytes.Buffer
	slog.New(slog.NewJSONHandler(&log, nil)).Info("signed in", "session", s)
	for _, out := range []string{s.String(), fmt.Sprintf("%v", s), fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", s), fmt.Sprint(s), log.String()} {
		assert.NotContains(t, out, "secret-access")
		assert.NotContains(t, out, "secret-refresh")
		assert.Contains(t, out, "u1")
	}
	assert.Equal(t, "Session{User:u1 ExpiresAt:2100-01-01T00:00:00Z AccessToken:[redacted] RefreshToken:[redacted]}", s.String())
}

func TestExpiryOf(t *testing.T) {
	assert.Equal(t, int64(4102444800), expiryOf(coreJWT(t, jwt.MapClaims{"exp": 4102444800})))
	assert.Equal(t, int64(0), expiryOf(coreJWT(t, jwt.MapClaims{"sub": "x"})))
	for _, bad := range []string{"", "abc", "a.b", "a.!!.c", "a." + "eyJleHAiOiJzb29uIn0" + ".c"} {
		assert.Equal(t, int64(0), expiryOf(bad), bad)
	}
}

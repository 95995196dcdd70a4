package supabase

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// withWeakPassword is a session answer with weak_password beside it.
func withWeakPassword(t *testing.T, file, weak string) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(axTestdata(t, file), &m))
	m["weak_password"] = json.RawMessage(weak)
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return b
}

// A sign-in Auth accepts while finding the password weak signs the user
// in, and says why on the session (supabase-js data.weakPassword); a
// weak_password without reasons says nothing. A refreshed session has none.
func TestSignInWeakPasswordWarning(t *testing.T) {
	// xa_sign_in_weak_password_warning, xa_sign_in_phone_weak_password
	const weak = `{"message":"Password is known to be weak and easy to guess, please choose a different one.","reasons":["length","pwned"]}`
	f, _ := newFakeAPI(t, nil)
	f.on("POST", "/auth/v1/token", 200, withWeakPassword(t, "session_password.json", weak)).once = true
	f.on("POST", "/auth/v1/token", 200, withWeakPassword(t, "session_password.json", `{"message":"m","reasons":[]}`)).once = true
	f.on("POST", "/auth/v1/token", 200, axTestdata(t, "mfa_verify_session.json"))
	c := f.client(t, axAnonKey)
	ctx := context.Background()
	s, err := c.Auth.SignInWithPassword(ctx, "ada@example.com", "hunter2")
	require.NoError(t, err)
	require.NotNil(t, s.WeakPassword)
	assert.Equal(t, []string{"length", "pwned"}, s.WeakPassword.Reasons)
	assert.Equal(t, "Password is known to be weak and easy to guess, please choose a different one.", s.WeakPassword.Message)
	cur, err := c.Auth.Session(ctx)
	require.NoError(t, err)
	assert.Equal(t, s.WeakPassword, cur.WeakPassword)

	s, err = c.Auth.SignInWithPhonePassword(ctx, "64211234567", "abcdefgh")
	require.NoError(t, err)
	assert.Nil(t, s.WeakPassword, "no reason, no warning")

	r, err := c.Auth.RefreshSession(ctx)
	require.NoError(t, err)
	assert.Nil(t, r.WeakPassword)
}

// A sign-up or code exchange answered with a session and weak_password
// reports it on the AuthResponse too.
func TestAuthResponseWeakPassword(t *testing.T) {
	f, _ := newFakeAPI(t, nil)
	f.on("POST", "/auth/v1/signup", 200, withWeakPassword(t, "session_password.json", `{"message":"weak","reasons":["characters"]}`))
	c := f.client(t, axAnonKey)
	res, err := c.Auth.SignUp(context.Background(), SignUpParams{Email: "ada@example.com", Password: "abcdefgh"})
	require.NoError(t, err)
	require.NotNil(t, res.WeakPassword)
	assert.Same(t, res.Session.WeakPassword, res.WeakPassword)
	assert.Equal(t, []string{"characters"}, res.WeakPassword.Reasons)
}

// Auth errors, weak passwords included, in every shape Auth has sent, as
// auth-js's handleError tells them apart: the error code comes from
// "code" (API 2024-01-01) or "error_code"; without one, a weak_password
// object with string reasons makes a weak-password error (the legacy
// shape); with another code, weak_password is ignored.
func TestDecodeAuthErrorWeakPassword(t *testing.T) {
	v2024 := http.Header{"X-Supabase-Api-Version": {"2024-01-01"}}
	tests := []struct {
		name    string
		header  http.Header
		body    string
		code    string
		msg     string
		reasons []string
		weak    bool
	}{
		{"api 2024", v2024, `{"code":"weak_password","message":"too short","weak_password":{"reasons":["length"]}}`,
			"weak_password", "too short", []string{"length"}, true},
		{"api 2024, code without weak_password", v2024, `{"code":"weak_password","message":"too short"}`,
			"weak_password", "too short", []string{}, true},
		{"legacy: integer code, msg, weak_password", nil, `{"code":422,"msg":"Password should be at least 10 characters","weak_password":{"reasons":["length","characters"]}}`,
			"weak_password", "Password should be at least 10 characters", []string{"length", "characters"}, true},
		{"legacy with error_code weak_password", nil, `{"code":422,"error_code":"weak_password","msg":"m","weak_password":{"reasons":["pwned"]}}`,
			"weak_password", "m", []string{"pwned"}, true},
		{"legacy: another error_code wins", nil, `{"code":422,"error_code":"validation_failed","msg":"bad email","weak_password":{"reasons":["length"]}}`,
			"validation_failed", "bad email", nil, false},
		{"api 2024: another code wins", v2024, `{"code":"validation_failed","message":"bad email","weak_password":{"reasons":["length"]}}`,
			"validation_failed", "bad email", nil, false},
		{"legacy: no reasons", nil, `{"code":422,"msg":"m","weak_password":{"reasons":[]}}`, "", "m", nil, false},
		{"legacy: reasons not strings", nil, `{"code":422,"msg":"m","weak_password":{"reasons":[1,2]}}`, "", "m", nil, false},
		{"legacy: weak_password not an object", nil, `{"code":422,"msg":"m","weak_password":"length"}`, "", "m", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := decodeAuthError(422, tt.header, []byte(tt.body))
			assert.Equal(t, tt.code, e.Code)
			assert.Equal(t, tt.msg, e.Message)
			assert.Equal(t, tt.reasons, e.Reasons)
			assert.Equal(t, tt.weak, e.Is(ErrWeakPassword))
			assert.Equal(t, 422, e.Status)
		})
	}
}

// On the wire: a legacy answer (no API version header) to a sign-up.
func TestSignUpWeakPasswordLegacyAnswer(t *testing.T) {
	// xa_err_weak_password_legacy
	_, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(422)
		_, _ = io.WriteString(w, `{"code":422,"msg":"Password should be at least 10 characters","weak_password":{"reasons":["length"]}}`)
	})
	_, err := c.Auth.SignUp(context.Background(), SignUpParams{Email: "a@b.c", Password: "short"})
	require.ErrorIs(t, err, ErrWeakPassword)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "weak_password", e.Code)
	assert.Equal(t, []string{"length"}, e.Reasons)
	assert.Equal(t, "Password should be at least 10 characters", e.Message)
}

package supabase

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeRESTError(t *testing.T) {
	e := decodeRESTError(403, []byte(`{"code":"42501","details":null,"hint":null,"message":"new row violates row-level security policy for table \"todos\""}`))
	assert.Equal(t, &Error{Service: ServiceREST, Status: 403, Code: "42501",
		Message: `new row violates row-level security policy for table "todos"`}, e)
	assert.ErrorIs(t, e, ErrPermissionDenied)
	assert.NotErrorIs(t, e, ErrUnauthorized)

	e = decodeRESTError(400, []byte(`{"code":"42703","details":"x","hint":"Perhaps you meant to reference the column \"todos.title\".","message":"column todos.titel does not exist"}`))
	assert.Equal(t, "42703", e.Code)
	assert.Equal(t, "x", e.Details)
	assert.Contains(t, e.Hint, "todos.title")

	e = decodeRESTError(502, []byte("<html><body><h1>502 Bad Gateway</h1></body></html>"))
	assert.Equal(t, 502, e.Status)
	assert.Equal(t, "<html><body><h1>502 Bad Gateway</h1></body></html>", e.Message)
	assert.Empty(t, e.Code)

	e = decodeRESTError(500, []byte(strings.Repeat("x", 5000)))
	assert.LessOrEqual(t, len(e.Message), 204, "only an excerpt is kept")

	e = decodeRESTError(503, nil)
	assert.Equal(t, "Service Unavailable", e.Message)
}

func TestDecodeAuthErrorShapes(t *testing.T) {
	v2024 := http.Header{"X-Supabase-Api-Version": {"2024-01-01"}}
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		code   string
		msg    string
	}{
		{"api 2024", 400, v2024, `{"code":"invalid_credentials","message":"Invalid login credentials"}`, "invalid_credentials", "Invalid login credentials"},
		{"legacy", 400, nil, `{"code":400,"error_code":"invalid_credentials","msg":"Invalid login credentials"}`, "invalid_credentials", "Invalid login credentials"},
		{"legacy with version header but int code", 400, v2024, `{"code":400,"error_code":"bad_jwt","msg":"invalid JWT"}`, "bad_jwt", "invalid JWT"},
		{"string code without version header (stripped by a proxy)", 400, nil, `{"code":"session_not_found","message":"m"}`, "session_not_found", "m"},
		{"error_code wins without version header", 400, nil, `{"code":"x","error_code":"bad_jwt","msg":"m"}`, "bad_jwt", "m"},
		{"oauth", 400, nil, `{"error":"invalid_grant","error_description":"Invalid login credentials"}`, "", "Invalid login credentials"},
		{"non json", 500, nil, `<html><body>Internal Server Error</body></html>`, "", "<html><body>Internal Server Error</body></html>"},
	}
	for _, tt := range tests {
		e := decodeAuthError(tt.status, tt.header, []byte(tt.body))
		assert.Equal(t, tt.code, e.Code, tt.name)
		assert.Equal(t, tt.msg, e.Message, tt.name)
		assert.Equal(t, tt.status, e.Status, tt.name)
		assert.Equal(t, ServiceAuth, e.Service, tt.name)
	}
	assert.ErrorIs(t, decodeAuthError(400, nil, []byte(`{"error":"invalid_grant","error_description":"Invalid login credentials"}`)), ErrInvalidCredentials)
}

func TestErrorCategories(t *testing.T) {
	tests := []struct {
		err  *Error
		is   []error
		isnt []error
	}{
		{&Error{Service: ServiceREST, Status: 401, Code: "42501"}, []error{ErrUnauthorized, ErrPermissionDenied}, []error{ErrJWTExpired}},
		{&Error{Service: ServiceREST, Status: 401, Code: "PGRST303", Message: "JWT expired"}, []error{ErrUnauthorized, ErrJWTExpired}, []error{ErrPermissionDenied}},
		{&Error{Service: ServiceREST, Status: 401, Code: "PGRST301"}, []error{ErrJWTExpired}, nil},
		{&Error{Service: ServiceAuth, Status: 401, Code: "bad_jwt"}, []error{ErrJWTExpired, ErrUnauthorized}, nil},
		{&Error{Service: ServiceREST, Status: 406, Code: "PGRST116", Details: "The result contains 0 rows"}, []error{ErrNotFound}, []error{ErrTooManyRows}},
		{&Error{Service: ServiceREST, Status: 406, Code: "PGRST116", Details: "The result contains 2 rows"}, []error{ErrTooManyRows}, []error{ErrNotFound}},
		{&Error{Service: ServiceREST, Status: 404, Code: "PGRST205"}, []error{ErrNotFound}, nil},
		{&Error{Service: ServiceREST, Status: 409, Code: "23505"}, []error{ErrConflict}, nil},
		{&Error{Service: ServiceAuth, Status: 422, Code: "user_already_exists"}, []error{ErrConflict}, nil},
		{&Error{Service: ServiceAuth, Status: 429, Code: "over_email_send_rate_limit"}, []error{ErrRateLimited}, nil},
		{&Error{Service: ServiceAuth, Status: 400, Code: "over_request_rate_limit"}, []error{ErrRateLimited}, nil},
		{&Error{Service: ServiceAuth, Status: 400, Code: "refresh_token_already_used"}, []error{ErrSessionExpired}, []error{ErrUnauthorized}},
		{&Error{Service: ServiceAuth, Status: 404, Code: "session_not_found"}, []error{ErrSessionExpired}, nil},
		{&Error{Service: ServiceAuth, Status: 403, Code: "not_admin"}, []error{ErrPermissionDenied}, nil},
		{&Error{Service: ServiceAuth, Status: 422, Code: "weak_password", Reasons: []string{"length"}}, []error{ErrWeakPassword}, nil},
		{errSessionMissing(), []error{ErrSessionMissing}, []error{ErrSessionExpired, ErrUnauthorized}},
		{invalidQuery("x"), []error{ErrInvalidQuery, ErrInvalidArgument}, []error{ErrNotFound}},
	}
	for _, tt := range tests {
		wrapped := fmt.Errorf("context: %w", tt.err)
		for _, s := range tt.is {
			assert.ErrorIs(t, wrapped, s, "%v", tt.err)
		}
		for _, s := range tt.isnt {
			assert.NotErrorIs(t, wrapped, s, "%v", tt.err)
		}
	}
}

func TestErrorString(t *testing.T) {
	e := &Error{Service: ServiceREST, Status: 400, Code: "22P02", Message: "invalid input syntax", Details: "d", Hint: "h",
		Method: "GET", URL: "https://x.supabase.co/rest/v1/todos"}
	assert.Equal(t, "supabase rest: GET https://x.supabase.co/rest/v1/todos: 400 22P02: invalid input syntax (d) hint: h", e.Error())
	assert.Equal(t, "https://x.supabase.co/rest/v1/todos", sanitizeURL("https://x.supabase.co/rest/v1/todos?email=eq.ada%40example.com"))
}

func TestTransportErrorsWrapContext(t *testing.T) {
	srv, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(200 * time.Millisecond)
		writeJSON(w, 200, []byte(`[]`))
	})
	_ = srv
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := restGet(ctx, c, "/todos?select=id&email=eq.secret%40example.com")
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "got %v", err)
	assert.NotContains(t, err.Error(), "secret")
}

func TestRESTErrorCarriesRequest(t *testing.T) {
	_, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 400, []byte(`{"code":"22P02","details":null,"hint":null,"message":"invalid input syntax for type bigint: \"abc\""}`))
	})
	_, err := restGet(context.Background(), c, "/todos?id=eq.abc")
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "GET", e.Method)
	assert.True(t, strings.HasSuffix(e.URL, "/base/rest/v1/todos"), e.URL)
	assert.Equal(t, "22P02", e.Code)
}

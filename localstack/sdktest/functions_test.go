package sdktest

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/supabase-go/supabase"
	"github.com/supabase-go/supabase/localstack"
	"github.com/supabase-go/supabase/localstack/localstacktest"
)

// echoed is what the stack's echo function answers.
type echoed struct {
	Method  string              `json:"method"`
	Path    string              `json:"path"`
	Query   map[string][]string `json:"query"`
	Headers map[string]string   `json:"headers"`
	Body    any                 `json:"body"`
	Claims  map[string]any      `json:"claims"`
}

// echo sees who called it: a signed-in user's claims, anon's without a
// session, service_role's with that key.
func TestFunctionsEchoSeesTheCaller(t *testing.T) {
	t.Parallel()
	st := localstacktest.New(t)
	ctx := ctxFor(t)
	ada, adaS := user(t, ctx, st, "ada@example.com")
	bob, bobS := user(t, ctx, st, "bob@example.com")

	for _, tc := range []struct {
		c     *supabase.Client
		s     *supabase.Session
		email string
	}{{ada, adaS, "ada@example.com"}, {bob, bobS, "bob@example.com"}} {
		got, err := supabase.InvokeJSON[echoed](ctx, tc.c.Functions, "echo", &supabase.InvokeOptions{Body: map[string]any{"hello": "world"}})
		require.NoError(t, err)
		assert.Equal(t, tc.s.User.ID, got.Claims["sub"], tc.email)
		assert.Equal(t, "authenticated", got.Claims["role"])
		assert.Equal(t, tc.email, got.Claims["email"])
		assert.NotEmpty(t, got.Claims["session_id"], "a session's access token")
		assert.Equal(t, "POST", got.Method)
		assert.Equal(t, "/echo", got.Path)
		assert.Equal(t, map[string]any{"hello": "world"}, got.Body)
		assert.Equal(t, "application/json", got.Headers["content-type"])
		assert.Equal(t, "[redacted]", got.Headers["authorization"], "a bearer was sent")
		assert.Equal(t, "[redacted]", got.Headers["apikey"])
	}

	anon, err := supabase.InvokeJSON[echoed](ctx, newClient(t, st, st.AnonKey).Functions, "echo", nil)
	require.NoError(t, err)
	assert.Equal(t, "anon", anon.Claims["role"])
	assert.NotContains(t, anon.Claims, "sub")
	assert.Nil(t, anon.Body, "no body")

	svc, err := supabase.InvokeJSON[echoed](ctx, newClient(t, st, st.ServiceRoleKey).Functions, "echo", nil)
	require.NoError(t, err)
	assert.Equal(t, "service_role", svc.Claims["role"])

	// After sign-out the same client is anon again.
	require.NoError(t, bob.Auth.SignOut(ctx, supabase.SignOutLocal))
	after, err := supabase.InvokeJSON[echoed](ctx, bob.Functions, "echo", nil)
	require.NoError(t, err)
	assert.Equal(t, "anon", after.Claims["role"])
}

// Bodies, methods, sub-paths, queries, headers and regions reach the
// function as sent.
func TestFunctionsInvokeOptions(t *testing.T) {
	t.Parallel()
	st := localstacktest.New(t)
	ctx := ctxFor(t)
	c := newClient(t, st, st.AnonKey)
	f := c.Functions

	got, err := supabase.InvokeJSON[echoed](ctx, f, "echo", &supabase.InvokeOptions{Body: "plain text"})
	require.NoError(t, err)
	assert.Equal(t, "plain text", got.Body)
	assert.Equal(t, "text/plain", got.Headers["content-type"])

	got, err = supabase.InvokeJSON[echoed](ctx, f, "echo", &supabase.InvokeOptions{Body: []byte("raw bytes")})
	require.NoError(t, err)
	assert.Equal(t, "raw bytes", got.Body)
	assert.Equal(t, "application/octet-stream", got.Headers["content-type"])

	// A reader is streamed, its length unknown.
	pr, pw := io.Pipe()
	go func() {
		for i := range 3 {
			pw.Write([]byte(strings.Repeat(string(rune('a'+i)), 4)))
		}
		pw.Close()
	}()
	got, err = supabase.InvokeJSON[echoed](ctx, f, "echo", &supabase.InvokeOptions{Body: pr,
		Headers: map[string]string{"content-type": "application/x-custom"}})
	require.NoError(t, err)
	assert.Equal(t, "aaaabbbbcccc", got.Body)
	assert.Equal(t, "application/x-custom", got.Headers["content-type"], "a Content-Type given wins")
	assert.NotContains(t, got.Headers, "content-length", "streamed, length unknown")

	got, err = supabase.InvokeJSON[echoed](ctx, f, "echo/users/a b", &supabase.InvokeOptions{
		Method: "get", Query: url.Values{"q": {"x&y"}, "n": {"1", "2"}}, Region: "eu-central-1",
		Headers: map[string]string{"X-Trace": "t-1"}})
	require.NoError(t, err)
	assert.Equal(t, "GET", got.Method)
	assert.Equal(t, "/echo/users/a b", got.Path, "a sub-path, escaped on the way")
	assert.Equal(t, map[string][]string{"q": {"x&y"}, "n": {"1", "2"}, "forceFunctionRegion": {"eu-central-1"}}, got.Query)
	assert.Equal(t, "eu-central-1", got.Headers["x-region"])
	assert.Equal(t, "t-1", got.Headers["x-trace"])

	for _, m := range []string{"PUT", "PATCH", "DELETE"} {
		got, err = supabase.InvokeJSON[echoed](ctx, f, "echo", &supabase.InvokeOptions{Method: m, Body: json.RawMessage(`[1,2]`)})
		require.NoError(t, err)
		assert.Equal(t, m, got.Method)
		assert.Equal(t, []any{json.Number("1"), json.Number("2")}, numbers(got.Body))
	}

	// The raw answer: unread until the caller reads it.
	resp, err := f.Invoke(ctx, "echo", nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.Status)
	assert.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
	var raw map[string]json.RawMessage
	require.NoError(t, resp.Decode(&raw), "Decode reads and closes")
	assert.JSONEq(t, `"/echo"`, string(raw["path"]))
}

// numbers re-decodes v keeping numbers as json.Number, to compare them.
func numbers(v any) any {
	b, _ := json.Marshal(v)
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	var out any
	_ = d.Decode(&out)
	return out
}

// fail's answer is the function's own: an *Error with its status and body,
// and the response with the body still readable. Invoke does not retry,
// not even a 503.
func TestFunctionsFailGivesTheFunctionsError(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	st := localstacktest.New(t, localstacktest.WrapHandler(func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/functions/v1/fail") {
				calls.Add(1)
			}
			h.ServeHTTP(w, r)
		})
	}))
	ctx := ctxFor(t)
	ada, _ := user(t, ctx, st, "ada@example.com")

	resp, err := ada.Functions.Invoke(ctx, "fail", nil)
	var e *supabase.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, supabase.ServiceFunctions, e.Service)
	assert.Equal(t, http.StatusBadRequest, e.Status)
	assert.Equal(t, "fail always fails", e.Message)
	assert.Equal(t, "POST", e.Method)
	assert.Equal(t, st.URL+"/functions/v1/fail", e.URL)
	assert.False(t, errors.Is(err, supabase.ErrFunctionRelay), "the function answered, not the relay")
	require.NotNil(t, resp)
	assert.Equal(t, http.StatusBadRequest, resp.Status)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.JSONEq(t, `{"error":"fail always fails","status":400}`, string(body))

	_, err = ada.Functions.Invoke(ctx, "fail", &supabase.InvokeOptions{Query: url.Values{"status": {"503"}}})
	require.ErrorAs(t, err, &e)
	assert.Equal(t, http.StatusServiceUnavailable, e.Status)
	_, err = ada.Functions.Invoke(ctx, "fail", &supabase.InvokeOptions{Query: url.Values{"status": {"404"}}})
	assert.ErrorIs(t, err, supabase.ErrNotFound)
	assert.EqualValues(t, 3, calls.Load(), "one request per call")

	type answer struct {
		Error string `json:"error"`
	}
	v, err := supabase.InvokeJSON[answer](ctx, ada.Functions, "fail", nil)
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 400, e.Status)
	assert.Equal(t, answer{}, v, "nothing decoded from an error")
}

// crash panics: the relay answers, and the error says so.
func TestFunctionsCrashIsARelayError(t *testing.T) {
	t.Parallel()
	st := localstacktest.New(t)
	ctx := ctxFor(t)
	ada, _ := user(t, ctx, st, "ada@example.com")

	resp, err := ada.Functions.Invoke(ctx, "crash", nil)
	require.ErrorIs(t, err, supabase.ErrFunctionRelay)
	var e *supabase.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, http.StatusInternalServerError, e.Status)
	assert.Equal(t, "WORKER_ERROR", e.Code)
	assert.Equal(t, "relay error: Function exited due to an error (please check logs)", e.Message)
	require.NotNil(t, resp)
	assert.Equal(t, "true", resp.Header.Get("X-Relay-Error"))

	_, err = supabase.InvokeJSON[echoed](ctx, ada.Functions, "crash", nil)
	assert.ErrorIs(t, err, supabase.ErrFunctionRelay)

	// An unknown function is the relay's 404, without the relay header.
	_, err = ada.Functions.Invoke(ctx, "no-such-function", nil)
	require.ErrorAs(t, err, &e)
	assert.Equal(t, http.StatusNotFound, e.Status)
	assert.ErrorIs(t, err, supabase.ErrNotFound)
	assert.Equal(t, "Function not found", e.Details)
	assert.False(t, errors.Is(err, supabase.ErrFunctionRelay))

	// A token the relay cannot verify: 401 from the relay.
	_, err = ada.WithAccessToken("not-a-jwt").Functions.Invoke(ctx, "echo", nil)
	require.ErrorAs(t, err, &e)
	assert.Equal(t, http.StatusUnauthorized, e.Status)
	assert.Equal(t, "TypeError: Invalid Token or Protected Header formatting", e.Message)
	assert.ErrorIs(t, err, supabase.ErrUnauthorized)
}

// InvokeJSON decodes into any type, and reports an answer that does not
// fit it; functions of the project's own run next to the built-in ones.
func TestFunctionsInvokeJSONDecodes(t *testing.T) {
	t.Parallel()
	st := localstacktest.New(t, localstacktest.Configure(func(c *localstack.Config) {
		c.Functions = map[string]http.Handler{
			"add": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var in struct{ A, B int }
				if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
					http.Error(w, `{"message":"bad input"}`, http.StatusBadRequest)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				json.NewEncoder(w).Encode(map[string]any{"sum": in.A + in.B, "caller": localstack.FunctionClaims(r)["sub"]})
			}),
			"nothing": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }),
			"text": localstack.NoVerifyJWT(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "not json")
			})),
		}
	}))
	ctx := ctxFor(t)
	ada, adaS := user(t, ctx, st, "ada@example.com")

	type sum struct {
		Sum    int    `json:"sum"`
		Caller string `json:"caller"`
	}
	got, err := supabase.InvokeJSON[sum](ctx, ada.Functions, "add", &supabase.InvokeOptions{Body: map[string]int{"a": 2, "b": 40}})
	require.NoError(t, err)
	assert.Equal(t, sum{Sum: 42, Caller: adaS.User.ID}, got)

	m, err := supabase.InvokeJSON[map[string]any](ctx, ada.Functions, "add", &supabase.InvokeOptions{Body: map[string]int{"a": 1}})
	require.NoError(t, err)
	assert.EqualValues(t, 1, m["sum"])

	_, err = supabase.InvokeJSON[sum](ctx, ada.Functions, "add", &supabase.InvokeOptions{Body: "{"})
	var e *supabase.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "bad input", e.Message)

	none, err := supabase.InvokeJSON[*sum](ctx, ada.Functions, "nothing", nil)
	require.NoError(t, err, "204: the zero value")
	assert.Nil(t, none)

	_, err = supabase.InvokeJSON[sum](ctx, ada.Functions, "text", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "decoding response")
	_, err = supabase.InvokeJSON[int](ctx, ada.Functions, "add", &supabase.InvokeOptions{Body: map[string]int{}})
	assert.Contains(t, err.Error(), "decoding response", "an object is not an int")
}

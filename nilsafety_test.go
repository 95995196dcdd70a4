package supabase

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// zeroTargets are the types whose nil pointer and zero value a caller can
// build without a constructor. Every exported method of each, found by
// reflection (so a new method is covered without editing this list), must
// return an error matching ErrInvalidArgument, or not panic when it has no
// error result.
//
// A value-receiver method called through a nil pointer dereferences it
// before the method runs (the language does, not the method), so for nil
// *Query only methods declared on the pointer would be checked: there are
// none. A zero MemoryStore is a valid empty store; only its nil pointer is
// an invalid argument.
func zeroTargets() []struct {
	name string
	v    reflect.Value
} {
	return []struct {
		name string
		v    reflect.Value
	}{
		{"nil *Client", reflect.ValueOf((*Client)(nil))},
		{"zero Client", reflect.ValueOf(&Client{})},
		{"nil *AuthClient", reflect.ValueOf((*AuthClient)(nil))},
		{"zero AuthClient", reflect.ValueOf(&AuthClient{})},
		{"nil *MFAClient", reflect.ValueOf((*MFAClient)(nil))},
		{"zero MFAClient", reflect.ValueOf(&MFAClient{})},
		{"nil *AdminClient", reflect.ValueOf((*AdminClient)(nil))},
		{"zero AdminClient", reflect.ValueOf(&AdminClient{})},
		{"nil *Query", reflect.ValueOf((*Query)(nil))},
		{"zero Query", reflect.ValueOf(Query{})},
		{"nil *Verifier", reflect.ValueOf((*Verifier)(nil))},
		{"zero Verifier", reflect.ValueOf(&Verifier{})},
		{"nil *FileStore", reflect.ValueOf((*FileStore)(nil))},
		{"zero FileStore", reflect.ValueOf(&FileStore{})},
		{"nil *MemoryStore", reflect.ValueOf((*MemoryStore)(nil))},
	}
}

func TestZeroValuesNeverPanic(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	calls := 0
	for _, ctx := range []context.Context{context.Background(), cancelled} {
		for _, tg := range zeroTargets() {
			z := &zeroCaller{t: t, ctx: ctx}
			z.methods(tg.name, tg.v, 0)
			calls += z.calls
		}
	}
	t.Logf("%d method calls checked", calls)
	assert.Greater(t, calls, 200, "the method sets were found")
}

type zeroCaller struct {
	t     *testing.T
	ctx   context.Context
	calls int
}

var (
	errorType   = reflect.TypeFor[error]()
	contextType = reflect.TypeFor[context.Context]()
	handlerType = reflect.TypeFor[http.Handler]()
	stateType   = reflect.TypeFor[fmt.State]()
)

// testState is the fmt.State fmt would pass to a Format method.
type testState struct{ bytes.Buffer }

func (*testState) Width() (int, bool)     { return 0, false }
func (*testState) Precision() (int, bool) { return 0, false }
func (*testState) Flag(int) bool          { return false }

// methods calls every exported method of v with zero arguments. Results
// that are clients are checked the same way, up to depth 2.
func (z *zeroCaller) methods(name string, v reflect.Value, depth int) {
	typ := v.Type()
	for i := range typ.NumMethod() {
		m := typ.Method(i)
		if typ.Kind() == reflect.Pointer && v.IsNil() {
			if _, onValue := typ.Elem().MethodByName(m.Name); onValue {
				continue // see zeroTargets
			}
		}
		z.call(name+"."+m.Name, v.Method(i), depth)
	}
}

// call calls f with a ctx, nil funcs and zero values, recovers a panic and
// checks the results.
func (z *zeroCaller) call(name string, f reflect.Value, depth int) {
	ft := f.Type()
	n := ft.NumIn()
	if ft.IsVariadic() {
		n-- // no variadic arguments
	}
	args := make([]reflect.Value, n)
	for i := range n {
		switch ft.In(i) {
		case contextType:
			args[i] = reflect.ValueOf(z.ctx)
		case stateType: // fmt never passes a nil State
			args[i] = reflect.ValueOf(&testState{})
		default:
			args[i] = reflect.Zero(ft.In(i))
		}
	}
	z.calls++
	var out []reflect.Value
	func() {
		defer func() {
			if r := recover(); r != nil {
				z.t.Errorf("%s panicked: %v", name, r)
			}
		}()
		out = f.Call(args)
	}()
	z.results(name, out, depth)
}

func (z *zeroCaller) results(name string, out []reflect.Value, depth int) {
	for _, r := range out {
		switch {
		case r.Type() == errorType:
			err, _ := r.Interface().(error)
			if assert.Error(z.t, err, "%s returned no error", name) {
				assert.ErrorIs(z.t, err, ErrInvalidArgument, name)
			}
		case r.Type() == reflect.TypeFor[Query]():
			assert.ErrorIs(z.t, r.Interface().(Query).Err(), ErrInvalidArgument, "%s returned a valid Query", name)
		case r.Type() == reflect.TypeFor[*Client]():
			c := r.Interface().(*Client)
			if assert.NotNil(z.t, c, name) {
				assert.ErrorIs(z.t, c.From("t").Err(), ErrInvalidArgument, "%s returned a usable Client", name)
				if depth < 2 {
					z.methods(name+"()", r, depth+1)
				}
			}
		case r.Type() == reflect.TypeFor[*AuthClient](), r.Type() == reflect.TypeFor[*MFAClient](),
			r.Type() == reflect.TypeFor[*AdminClient]():
			if depth < 2 {
				z.methods(name+"()", r, depth+1)
			}
		case r.Type().Implements(handlerType) && !r.IsNil():
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Authorization", "Bearer x")
			assert.NotPanics(z.t, func() { r.Interface().(http.Handler).ServeHTTP(rec, req) }, name)
			// A misconfigured middleware (nil client or verifier) answers 500.
			assert.Equal(z.t, http.StatusInternalServerError, rec.Code, "%s served a request", name)
		case r.Kind() == reflect.Func && !r.IsNil():
			if r.Type().NumIn() == 1 && r.Type().In(0).Kind() == reflect.Func {
				z.iterate(name, r)
			} else {
				z.call(name+"()", r, depth)
			}
		}
	}
}

// iterate ranges over an iterator (iter.Seq, iter.Seq2) and checks that
// what it yields is an error matching ErrInvalidArgument.
func (z *zeroCaller) iterate(name string, seq reflect.Value) {
	yieldType := seq.Type().In(0)
	yielded := false
	yield := reflect.MakeFunc(yieldType, func(args []reflect.Value) []reflect.Value {
		yielded = true
		z.results(name+" yield", args, 2)
		return []reflect.Value{reflect.ValueOf(true)}
	})
	z.calls++
	assert.NotPanics(z.t, func() { seq.Call([]reflect.Value{yield}) }, name)
	assert.True(z.t, yielded, "%s yielded no error", name)
}

// The hand-written cases the reflection test cannot express.
func TestZeroValuesReturnErrors(t *testing.T) {
	ctx := context.Background()
	var nilClient *Client
	zero := &Client{}
	for _, c := range []*Client{nilClient, zero, nilClient.Schema("x"), zero.WithAccessToken("t"), nilClient.WithSession(nil)} {
		_, err := c.From("todos").Select("id").Execute(ctx)
		assert.ErrorIs(t, err, ErrInvalidQuery)
		assert.ErrorIs(t, err, ErrInvalidArgument)
		_, err = All[map[string]any](ctx, c.RPC("f", nil))
		assert.ErrorIs(t, err, ErrInvalidArgument)
		assert.Equal(t, "", c.URL())
	}
	_, err := zero.Auth.SignInWithPassword(ctx, "a@b.c", "pw")
	assert.ErrorIs(t, err, ErrInvalidArgument)
	assert.ErrorIs(t, (&AuthClient{}).SignOut(ctx, SignOutGlobal), ErrInvalidArgument)
	var v *Verifier
	_, err = v.Verify(ctx, "x")
	assert.ErrorIs(t, err, ErrInvalidToken, "still an invalid token")
	assert.ErrorIs(t, err, ErrInvalidArgument)
	assert.Equal(t, "supabase: invalid access token: nil or zero Verifier (use NewVerifier)", err.Error())
	assert.Equal(t, "", (*FileStore)(nil).Path())
}

func TestRangeOverflowIsAnError(t *testing.T) {
	c, err := NewClient("http://127.0.0.1:54321", "anon")
	require.NoError(t, err)
	assert.ErrorIs(t, c.From("t").Range(0, math.MaxInt).Err(), ErrInvalidQuery)
	assert.ErrorIs(t, c.From("t").Insert([]map[string]any{{`a"b`: 1}}).Err(), ErrInvalidQuery)
}

// A per-user client must never send the project key (possibly a
// service_role key, which bypasses RLS) in place of its user's token.
func TestDerivedClientsNeverFallBackToTheKey(t *testing.T) {
	srv, _ := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, []byte(`[]`)) })
	base := srv.client(t, "SERVICE-ROLE-KEY")
	ctx := context.Background()
	for name, c := range map[string]*Client{
		"WithAccessToken empty": base.WithAccessToken(""),
		"WithAccessToken CRLF":  base.WithAccessToken("a\r\nb"),
		"WithSession nil":       base.WithSession(nil),
		"WithSession empty":     base.WithSession(&Session{}),
	} {
		_, err := c.From("todos").Select("id").Execute(ctx)
		assert.ErrorIs(t, err, ErrInvalidArgument, name)
	}
	// A WithSession client whose session is gone fails instead of going anon.
	user := base.WithSession(&Session{AccessToken: "u", RefreshToken: "r", ExpiresAt: 4102444800})
	user.Auth.sessions.clear(ctx)
	_, err := user.From("todos").Select("id").Execute(ctx)
	assert.ErrorIs(t, err, ErrSessionMissing)
	assert.Empty(t, srv.requests(), "no request carried the key for a user client")
	assert.True(t, errors.Is(base.Schema("").From("t").Err(), ErrInvalidArgument))
}

// Only the session's own token is refreshed after a 401: a caller's
// Authorization header (WithHeaders, Query.Header) replaced it on the wire.
func TestUnauthorizedWithCallerAuthorizationDoesNotRefresh(t *testing.T) {
	srv, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 401, []byte(`{"code":"PGRST303","message":"JWT expired","details":null,"hint":null}`))
	})
	srv.answerSessions("u1", 4102444800, "r1")
	ctx := context.Background()
	_, err := c.Auth.SignInWithPassword(ctx, "a@b.c", "pw")
	require.NoError(t, err)
	for range 3 {
		_, err = c.From("todos").Select("id").Header("Authorization", "Bearer gateway").Execute(ctx)
		assert.ErrorIs(t, err, ErrJWTExpired)
	}
	assert.Len(t, srv.requests(), 4, "sign-in and three queries, no refresh and no replay")
}

func TestRetryPolicyBounds(t *testing.T) {
	c, err := NewClient("http://127.0.0.1:54321", "anon", WithRetryPolicy(RetryPolicy{MaxRetries: 3}))
	require.NoError(t, err)
	assert.Equal(t, time.Second, c.core.retry.BaseDelay, "a zero BaseDelay means the documented 1 s")
	assert.Equal(t, 30*time.Second, c.core.retry.MaxDelay)
	c.core.retry.BaseDelay = 1 << 40
	for _, n := range []int{0, 1, 20, 63, 64, 200} {
		d := c.core.backoff(n)
		assert.True(t, d > 0 && d <= c.core.retry.MaxDelay, "backoff(%d) = %v", n, d)
	}
	now := time.Now()
	assert.Equal(t, 24*time.Hour, parseRetryAfter("99999999999", now))
	assert.Zero(t, parseRetryAfter("99999999999999999999", now), "beyond int64: not a number, so the backoff applies")
	assert.Zero(t, parseRetryAfter("-5", now))
	assert.Equal(t, 2*time.Second, parseRetryAfter("2", now))
}

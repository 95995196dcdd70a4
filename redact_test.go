package supabase

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"net/http"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// secretField matches the names of fields that hold a credential: generous
// on purpose, a false positive only costs a redaction.
var secretField = regexp.MustCompile(`(?i)token|passw|secret|key|captcha|nonce|verifier|otp|recoverycode|hash|` +
	`credential|jwt|bearer|cookie|signature|private|link|uri$|qrcode`)

// notSecret are field names secretField matches that hold no credential.
var notSecret = map[string]string{
	"WeakPassword": "why Auth found a password weak; never the password",
	"TOTP":         "TOTP factors; a TOTPEnrollment's secrets are in fields of their own",
}

// wireTypes are encoded by encoding/json in full, secrets included: what
// the server returns, which a SessionStore persists or a backend hands on.
// Every other type's JSON must not carry its secrets.
var wireTypes = map[string]bool{
	"Session": true, "AuthResponse": true, "MFAEnrollResponse": true, "TOTPEnrollment": true,
	"GenerateLinkResponse": true, "LinkProperties": true,
	// Made to be handed to whoever uploads (a backend returns it to its
	// frontend); its URL carries the token anyway.
	"SignedUploadURL": true,
}

func isSecretField(name string) bool {
	return secretField.MatchString(name) && notSecret[name] == ""
}

// secretTypes parses the package and returns its exported struct types
// holding a secret: a field whose name marks one, or whose type is (a
// pointer to, slice or map of) a struct type holding one, exported or not.
func secretTypes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	structs := map[string]*ast.StructType{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			if ts, ok := n.(*ast.TypeSpec); ok {
				if st, ok := ts.Type.(*ast.StructType); ok {
					structs[ts.Name.Name] = st
				}
			}
			return true
		})
	}
	require.NotEmpty(t, structs)
	secret := map[string]bool{}
	for changed := true; changed; {
		changed = false
		for name, st := range structs {
			if secret[name] {
				continue
			}
			for _, fld := range st.Fields.List {
				hit := secret[baseIdent(fld.Type)]
				for _, id := range fld.Names {
					hit = hit || isSecretField(id.Name)
				}
				if hit {
					secret[name], changed = true, true
					break
				}
			}
		}
	}
	var out []string
	for name := range secret {
		if ast.IsExported(name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// baseIdent is the package-local type name under pointers, slices, arrays
// and map values, or "".
func baseIdent(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.StarExpr:
		return baseIdent(e.X)
	case *ast.ArrayType:
		return baseIdent(e.Elt)
	case *ast.MapType:
		return baseIdent(e.Value)
	}
	return ""
}

const thisPkg = "github.com/supabase-go/supabase"

// apiTypes returns every named type of this package reachable from the
// API: the roots' fields, methods, parameters and results, transitively.
func apiTypes() map[string]reflect.Type {
	roots := []any{(*Client)(nil), NewClient, NewClientFromEnv, NewVerifier, NewFileStore, NewMemoryStore, ParseClaims}
	found := map[string]reflect.Type{}
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		if seen[t] {
			return
		}
		seen[t] = true
		if t.PkgPath() == thisPkg && t.Name() != "" {
			found[t.Name()] = t
		}
		if t.Name() != "" && t.PkgPath() != thisPkg {
			return // another package's type: its insides are not our API
		}
		for _, mt := range []reflect.Type{t, reflect.PointerTo(t)} {
			for i := range mt.NumMethod() {
				walk(mt.Method(i).Type)
			}
		}
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Chan:
			walk(t.Elem())
		case reflect.Map:
			walk(t.Key())
			walk(t.Elem())
		case reflect.Struct:
			for i := range t.NumField() {
				walk(t.Field(i).Type)
			}
		case reflect.Func:
			for i := range t.NumIn() {
				walk(t.In(i))
			}
			for i := range t.NumOut() {
				walk(t.Out(i))
			}
		}
	}
	for _, r := range roots {
		walk(reflect.TypeOf(r))
	}
	return found
}

// filler builds values with a distinct marker in every string (and []byte)
// field, remembering which markers sit in secret fields.
type filler struct {
	n       int
	secrets []string
}

func (f *filler) marker(secret bool) string {
	f.n++
	m := fmt.Sprintf("MARK%03dZ", f.n)
	if secret {
		// As printed, and as %x and %d print it (as a string or []byte).
		f.secrets = append(f.secrets, m, fmt.Sprintf("%x", m), strings.Trim(fmt.Sprint([]byte(m)), "[]"))
	}
	return m
}

// fill sets v (settable) and everything under it. Structs of other
// packages (time.Time, http.Client, sync.Mutex, ...) stay zero, as do
// funcs, chans and non-empty interfaces; a pointer to a type already being
// filled stays nil.
func (f *filler) fill(v reflect.Value, secret bool, stack []reflect.Type) {
	t := v.Type()
	switch t.Kind() {
	case reflect.String:
		v.SetString(f.marker(secret))
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			v.SetBytes([]byte(f.marker(secret)))
			return
		}
		s := reflect.MakeSlice(t, 1, 1)
		f.fill(s.Index(0), secret, stack)
		v.Set(s)
	case reflect.Array:
		for i := range v.Len() {
			f.fill(v.Index(i), secret, stack)
		}
	case reflect.Map:
		m := reflect.MakeMap(t)
		k := reflect.New(t.Key()).Elem()
		f.fill(k, secret, stack)
		e := reflect.New(t.Elem()).Elem()
		f.fill(e, secret, stack)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Interface:
		if t.NumMethod() == 0 {
			v.Set(reflect.ValueOf(f.marker(secret)))
		}
	case reflect.Pointer:
		if slices.Contains(stack, t.Elem()) || (t.Elem().Kind() == reflect.Struct && t.Elem().PkgPath() != thisPkg) {
			return
		}
		p := reflect.New(t.Elem())
		f.fill(p.Elem(), secret, stack)
		v.Set(p)
	case reflect.Struct:
		if t.PkgPath() != thisPkg && t.Name() != "" {
			return
		}
		stack = append(stack, t)
		for i := range t.NumField() {
			fv := v.Field(i)
			if !fv.CanSet() { // unexported: reach it as the package itself does
				fv = reflect.NewAt(fv.Type(), unsafe.Pointer(fv.UnsafeAddr())).Elem()
			}
			f.fill(fv, secret || isSecretField(t.Field(i).Name), stack)
		}
	}
}

// holdsLock reports whether t contains a sync or sync/atomic value, which
// go vet forbids copying: such types are only ever printed by pointer.
func holdsLock(t reflect.Type) bool {
	if t.Kind() != reflect.Struct {
		return false
	}
	if p := t.PkgPath(); p == "sync" || p == "sync/atomic" {
		return true
	}
	for i := range t.NumField() {
		if holdsLock(t.Field(i).Type) {
			return true
		}
	}
	return false
}

// printings renders v every way a secret could escape: fmt's verbs, slog's
// text and JSON handlers, and (unless skipJSON) encoding/json.
func printings(v any, skipJSON bool) map[string]string {
	out := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x"} {
		out[verb] = fmt.Sprintf(verb, v)
	}
	out["Sprint"] = fmt.Sprint(v)
	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("m", "v", v)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("m", "v", v)
	out["slog text"], out["slog JSON"] = text.String(), js.String()
	if !skipJSON {
		b, err := json.Marshal(v)
		out["encoding/json"] = string(b) + fmt.Sprint(err)
	}
	return out
}

// Every exported type holding a secret, found by parsing the package,
// prints without it: as a value and a pointer, alone and inside a slice or
// map, through fmt, slog and (unless a wire type) encoding/json.
func TestNoTypePrintsItsSecrets(t *testing.T) {
	names := secretTypes(t)
	t.Logf("types holding a secret: %s", strings.Join(names, ", "))
	api := apiTypes()
	for _, name := range names {
		typ, ok := api[name]
		if !assert.True(t, ok, "%s holds a secret but is not reachable from the API roots of apiTypes: add it there", name) {
			continue
		}
		t.Run(name, func(t *testing.T) {
			f := &filler{}
			p := reflect.New(typ)
			f.fill(p.Elem(), false, nil)
			require.NotEmpty(t, f.secrets, "no secret marker was placed")
			forms := map[string]any{"pointer": p.Interface()}
			if !holdsLock(typ) {
				forms["value"] = p.Elem().Interface()
				sl := reflect.MakeSlice(reflect.SliceOf(typ), 1, 1)
				sl.Index(0).Set(p.Elem())
				forms["slice"] = sl.Interface()
			}
			m := reflect.MakeMap(reflect.MapOf(reflect.TypeFor[string](), p.Type()))
			m.SetMapIndex(reflect.ValueOf("k"), p)
			forms["map of pointers"] = m.Interface()
			for form, v := range forms {
				// slog's JSON handler encodes what is nested in a slice or
				// map with encoding/json: see TestWireTypesEncodeInFull.
				nested := form == "slice" || form == "map of pointers"
				for how, out := range printings(v, wireTypes[name]) {
					if nested && wireTypes[name] && how == "slog JSON" {
						continue
					}
					for _, s := range f.secrets {
						assert.NotContains(t, out, s, "%s (%s) leaks a secret through %s: %s", name, form, how, out)
					}
				}
			}
			if wireTypes[name] {
				b, err := json.Marshal(p.Interface())
				require.NoError(t, err)
				assert.True(t, slices.ContainsFunc(f.secrets, func(s string) bool { return bytes.Contains(b, []byte(s)) }),
					"%s is a wire type: its JSON keeps its secrets: %s", name, b)
			}
		})
	}
	for name := range wireTypes {
		assert.Contains(t, names, name, "wire type %s holds no secret: take it off the list", name)
	}
}

// The JSON encoding of Session and AuthResponse keeps the tokens: a
// SessionStore persists a Session as JSON, a backend may return either to
// its frontend. slog's JSON handler logs a value through its LogValue, but
// encodes whatever is nested in a slice or map with encoding/json, so a
// []*Session logged that way shows its tokens.
func TestWireTypesEncodeInFull(t *testing.T) {
	s := &Session{AccessToken: "AT-SECRET", RefreshToken: "RT-SECRET", ProviderToken: "PT-SECRET", ExpiresAt: 4102444800,
		User: &User{ID: "u1"}}
	b, err := json.Marshal(s)
	require.NoError(t, err)
	var back Session
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, *s, back, "a Session survives a store round trip")

	b, err = json.Marshal(AuthResponse{User: s.User, Session: s})
	require.NoError(t, err)
	assert.Contains(t, string(b), `"access_token":"AT-SECRET"`)
	assert.Contains(t, string(b), `"refresh_token":"RT-SECRET"`)

	var top, nested bytes.Buffer
	slog.New(slog.NewJSONHandler(&top, nil)).Info("m", "session", s, "resp", AuthResponse{Session: s})
	assert.NotContains(t, top.String(), "SECRET", "top level: LogValue")
	slog.New(slog.NewJSONHandler(&nested, nil)).Info("m", "sessions", []*Session{s})
	assert.Contains(t, nested.String(), "AT-SECRET", "nested in a slice: encoding/json, as documented on Session")
}

// A Session prints the same alone, in an AuthResponse, in a slice or a
// map, and through slog; a nil one prints as nil.
func TestSessionPrintsTheSameEverywhere(t *testing.T) {
	s := &Session{AccessToken: "AT-SECRET", RefreshToken: "RT-SECRET", ExpiresAt: 4102444800, User: &User{ID: "u1"}}
	const want = "Session{User:u1 ExpiresAt:2100-01-01T00:00:00Z AccessToken:[redacted] RefreshToken:[redacted]}"
	for _, v := range []any{s, *s, AuthResponse{Session: s}, &AuthResponse{Session: s}, []*Session{s},
		map[string]Session{"k": *s}, map[string]*AuthResponse{"k": {Session: s}}, struct{ S *Session }{s}} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x"} {
			assert.Contains(t, fmt.Sprintf(verb, v), want, "%T with %s", v, verb)
		}
	}
	var alone, inResp bytes.Buffer
	slog.New(slog.NewJSONHandler(&alone, nil)).Info("m", "v", s)
	slog.New(slog.NewJSONHandler(&inResp, nil)).Info("m", "v", AuthResponse{Session: s})
	const wantLog = `{"user_id":"u1","expires_at":4102444800,"access_token":"[redacted]","refresh_token":"[redacted]"}`
	assert.Contains(t, alone.String(), `"v":`+wantLog)
	assert.Contains(t, inResp.String(), `"Session":`+wantLog)

	var text bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("m", "v", AuthResponse{})
	assert.Contains(t, text.String(), "v.Session=<nil>", "a nil Session is logged as nil, not as a LogValue panic")
	assert.Equal(t, "<nil>", fmt.Sprint((*Session)(nil)))
}

// Clients print as a short summary without key or token, read without a
// data race even while a refresh is in flight (run with -race).
func TestClientsPrintASummary(t *testing.T) {
	const key = "sb_secret_KEY-SECRET"
	const uid = "6a1d5b2e-0000-4000-8000-000000000001"
	release := make(chan struct{})
	refreshing := make(chan struct{}, 1)
	srv, _ := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		refresh := r.URL.Query().Get("grant_type") == "refresh_token"
		if refresh {
			refreshing <- struct{}{}
			<-release
		}
		writeJSON(w, 200, coreSessionJSON(t, uid, 4102444800, map[bool]string{false: "RT-OLD-SECRET", true: "RT-NEXT-SECRET"}[refresh]))
	})
	base := srv.ProjectURL
	c, err := NewClient(base, key)
	require.NoError(t, err)
	assert.Equal(t, "supabase.Client{url: "+base+", schema: public, user: not loaded yet}", c.String())
	ctx := context.Background()
	s, err := c.Auth.SignInWithPassword(ctx, "ada@example.com", "PW-SECRET")
	require.NoError(t, err)

	done := make(chan error)
	go func() { _, err := c.Auth.RefreshSession(ctx); done <- err }()
	<-refreshing
	user := c.WithAccessToken(s.AccessToken)
	third, err := NewClient(base, key, WithAccessTokenFunc(func(context.Context) (string, error) { return "TP-SECRET", nil }))
	require.NoError(t, err)
	want := map[any]string{
		c:                  "supabase.Client{url: " + base + ", schema: public, user: signed in as " + uid + "}",
		c.Auth:             "supabase.AuthClient{url: " + base + "/auth/v1, user: signed in as " + uid + "}",
		c.Auth.MFA():       "supabase.MFAClient{url: " + base + "/auth/v1, user: signed in as " + uid + "}",
		c.Auth.Admin():     "supabase.AdminClient{url: " + base + "/auth/v1}",
		user:               "supabase.Client{url: " + base + ", schema: public, user: token from WithAccessToken}",
		third:              "supabase.Client{url: " + base + ", schema: public, user: token from WithAccessTokenFunc}",
		c.Schema(""):       "supabase.Client{url: " + base + ", schema: , user: signed in as " + uid + ", err: supabase: Schema: empty schema name}",
		(*Client)(nil):     "<nil>",
		&Client{}:          "supabase.Client{not made by NewClient}",
		(*AuthClient)(nil): "<nil>",
	}
	secrets := []string{key, s.AccessToken, "RT-OLD-SECRET", "RT-NEXT-SECRET", "PW-SECRET", "TP-SECRET"}
	var wg sync.WaitGroup
	for range 4 { // printing races with nothing: the refresh is in flight
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v, w := range want {
				assert.Equal(t, w, fmt.Sprint(v))
				for how, out := range printings(v, false) {
					for _, sec := range secrets {
						assert.NotContains(t, out, sec, "%s of %s", how, w)
					}
				}
			}
		}()
	}
	wg.Wait()
	close(release)
	require.NoError(t, <-done)
	assert.NotContains(t, fmt.Sprintf("%+v", c), "RT-NEXT-SECRET")

	var js bytes.Buffer
	slog.New(slog.NewJSONHandler(&js, nil)).Info("m", "client", c, "auth", c.Auth, "mfa", c.Auth.MFA(), "admin", c.Auth.Admin(),
		"store", NewMemoryStore())
	for _, w := range []string{
		`"client":{"url":"` + base + `","schema":"public","user":"signed in as ` + uid + `"}`,
		`"auth":{"url":"` + base + `/auth/v1","user":"signed in as ` + uid + `"}`,
		`"mfa":{"url":"` + base + `/auth/v1","user":"signed in as ` + uid + `"}`,
		`"admin":{"url":"` + base + `/auth/v1"}`,
		`"store":"supabase.MemoryStore{empty}"`,
	} {
		assert.Contains(t, js.String(), w)
	}
	store := NewMemoryStore()
	require.NoError(t, store.Save(ctx, s))
	assert.Equal(t, "supabase.MemoryStore{"+s.String()+"}", fmt.Sprintf("%#v", store))
}

// A query prints its method, target, parameters and header names, never a
// header's value.
func TestQueryPrintsNoHeaderValues(t *testing.T) {
	c, err := NewClient("http://127.0.0.1:54321", "KEY-SECRET")
	require.NoError(t, err)
	q := c.From("todos").Select("id").Eq("done", false).
		Header("Authorization", "Bearer Q-JWT-SECRET").Header("apikey", "Q-KEY-SECRET").Header("Cookie", "sid=Q-COOKIE-SECRET")
	assert.Equal(t, "supabase.Query{GET todos?select=id&done=eq.false, headers: Authorization Apikey Cookie}", q.String())
	for _, v := range []any{q, &q, []Query{q}, map[string]Query{"k": q}} {
		for how, out := range printings(v, false) {
			assert.NotContains(t, out, "SECRET", "%T %s: %s", v, how, out)
		}
	}
	var js bytes.Buffer
	slog.New(slog.NewJSONHandler(&js, nil)).Info("m", "q", q)
	assert.Contains(t, js.String(), `"q":{"request":"GET todos?select=id&done=eq.false","headers":["Authorization","Apikey","Cookie"]}`)
	assert.Equal(t, "supabase.Query{GET , err: supabase rest invalid_query: query has no client: start it with Client.From or Client.RPC on a client from NewClient}",
		Query{}.String())
}

func TestVerifierPrintsNoSecret(t *testing.T) {
	v, err := NewVerifier("http://127.0.0.1:54321", WithJWTSecret("JWT-SECRET-0123456789abcdef0123456789"))
	require.NoError(t, err)
	defer v.Close()
	assert.Equal(t, "supabase.Verifier{hs256 secret: true, jwks: false}", v.String())
	var js bytes.Buffer
	slog.New(slog.NewJSONHandler(&js, nil)).Info("m", "v", v)
	assert.Contains(t, js.String(), `"v":"supabase.Verifier{hs256 secret: true, jwks: false}"`)
	for how, out := range printings(v, false) {
		assert.NotContains(t, out, "JWT-SECRET", how)
	}
}

package supabase

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/supabase-go/supabase/internal/pgrest"
)

// The filter fuzz targets build a query through the public API, take the
// URL Preview shows, read it back with the model of PostgREST's grammar in
// postgrest_grammar_fuzz_test.go and check that PostgREST gets exactly the
// value that was given, or that the query carries ErrInvalidQuery when the
// value cannot be sent. Values come from valueGen, which turns the fuzzer's
// bytes into strings (any bytes), numbers, booleans, nil, lists and maps.

// fuzzDict holds strings that exercise the grammar: reserved characters,
// quotes, escapes, operator look-alikes, spellings of null and
// non-ASCII spaces.
var fuzzDict = []string{
	"", "null", "NULL", "Null", "not_null", "true", "FALSE", "unknown", " ", "a b", " a", "a ", "a,b", "a.b",
	"a:b", "(", ")", "()", "(a,b)", "{", "}", "{}", "{a}", "{a}b", "{a,b}", "{{a}}", `"`, `""`, `\`, `\\`,
	`"a"`, `a"b`, `\"`, "[1,5)", "(1,5]", "eq.1", "not.eq.1", "in.(1,2)", "is.null", "isdistinct.x", "fts.a",
	"like(any).x", "a*b", "%", "_", "\x00", "\xff", "\xc3", "é", "東京", "🚀", "\u00a0", "\u2028", "\u3000", "+",
	"&", ";", "=", "#", "?", "%20", "%2", "a\tb", "a\nb", "\r", "or(a.eq.1)", "and", "or", "not", "1e3", "-0",
	"NaN", "Infinity", "-Infinity", "0x10", "1_000", "'", "`", "*", "->", "->>", "::", "!", "@", "$",
	"NOT_NULL", "x",
}

var fuzzColumns = []string{"col", "name", "created_at", "a1", "x_y"}

// valueGen turns fuzz input into Go values.
type valueGen struct{ b []byte }

func (g *valueGen) byte() byte {
	if len(g.b) == 0 {
		return 0
	}
	c := g.b[0]
	g.b = g.b[1:]
	return c
}

func (g *valueGen) u64() uint64 {
	var x uint64
	for range 8 {
		x = x<<8 | uint64(g.byte())
	}
	return x
}

// str returns a string of arbitrary bytes, a dictionary entry, or a mix.
func (g *valueGen) str() string {
	switch g.byte() % 4 {
	case 0, 1:
		n := int(g.byte() % 48)
		n = min(n, len(g.b))
		s := string(g.b[:n])
		g.b = g.b[n:]
		return s
	case 2:
		return fuzzDict[int(g.byte())%len(fuzzDict)]
	}
	return g.str() + g.str()
}

// value returns a string, int64, float64, bool, nil, []any or
// map[string]any.
func (g *valueGen) value(depth int) any {
	switch g.byte() % 11 {
	case 0, 1, 2:
		return g.str()
	case 3:
		return int64(g.u64())
	case 4:
		return int64(int8(g.byte()))
	case 5:
		return math.Float64frombits(g.u64())
	case 6:
		return float64(int8(g.byte())) / 8
	case 7:
		return g.byte()%2 == 0
	case 8:
		return nil
	case 9:
		if depth < 3 {
			return g.list(depth + 1)
		}
		return g.str()
	default:
		if depth < 2 {
			m := map[string]any{}
			for range g.byte() % 4 {
				m[g.str()] = g.value(depth + 1)
			}
			return m
		}
		return nil
	}
}

func (g *valueGen) list(depth int) []any {
	n := int(g.byte() % 6)
	l := make([]any, 0, n)
	for range n {
		l = append(l, g.value(depth))
	}
	return l
}

func (g *valueGen) strings() []string {
	n := int(g.byte() % 5)
	l := make([]string, 0, n)
	for range n {
		l = append(l, g.str())
	}
	return l
}

// sendable reports whether s can reach PostgREST and Postgres as text:
// valid UTF-8 (PostgREST decodes the query string strictly) without NUL
// (which Postgres text cannot hold, and PostgREST cuts in-list elements
// at).
func sendable(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// rawOK reports whether v can be sent: every string that is sent as it is
// (not escaped inside JSON) is sendable, lists are rectangular (Postgres
// arrays) and maps encode as JSON.
func rawOK(v any) bool {
	switch x := v.(type) {
	case string:
		return sendable(x)
	case []any:
		if !rectangular(x) {
			return false
		}
		for _, e := range x {
			if !rawOK(e) {
				return false
			}
		}
	case []string:
		for _, e := range x {
			if !sendable(e) {
				return false
			}
		}
	case map[string]any:
		_, err := json.Marshal(x)
		return err == nil
	}
	return true
}

// rectangular reports whether the list can be a Postgres array: at each
// level, members are all non-empty sub-lists with the same shape or none is
// a list.
func rectangular(v []any) bool {
	_, ok := listShape(v)
	return ok
}

func listShape(v []any) ([]int, bool) {
	var shape []int
	for i, e := range v {
		var s []int
		if l, ok := e.([]any); ok {
			var ok2 bool
			if s, ok2 = listShape(l); !ok2 || len(l) == 0 {
				return nil, false // Postgres has no empty sub-arrays
			}
			s = append([]int{len(l)}, s...)
		} else {
			s = []int{-1}
		}
		if i == 0 {
			shape = s
		} else if !slices.Equal(s, shape) {
			return nil, false
		}
	}
	return shape, true
}

var pgNumber = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// meansText checks that text, as Postgres reads a value of v's kind, is v.
func meansText(v any, text string) error {
	switch x := v.(type) {
	case nil:
		if text != "null" {
			return fmt.Errorf("nil sent as %q", text)
		}
	case string:
		if text != x {
			return fmt.Errorf("string %q read back as %q", x, text)
		}
	case bool:
		if text != strconv.FormatBool(x) {
			return fmt.Errorf("bool %v sent as %q", x, text)
		}
	case int64:
		if n, err := strconv.ParseInt(text, 10, 64); err != nil || n != x || !pgNumber.MatchString(text) {
			return fmt.Errorf("int %d sent as %q", x, text)
		}
	case float64:
		switch {
		case math.IsNaN(x):
			if text != "NaN" {
				return fmt.Errorf("NaN sent as %q", text)
			}
		case math.IsInf(x, 1):
			if text != "Infinity" {
				return fmt.Errorf("+Inf sent as %q", text)
			}
		case math.IsInf(x, -1):
			if text != "-Infinity" {
				return fmt.Errorf("-Inf sent as %q", text)
			}
		default:
			f, err := strconv.ParseFloat(text, 64)
			if err != nil || !pgNumber.MatchString(text) || math.Float64bits(f) != math.Float64bits(x) {
				return fmt.Errorf("float %v sent as %q", x, text)
			}
		}
	case []any:
		a, err := pgArrayIn(text)
		if err != nil {
			return fmt.Errorf("list %#v sent as %q, not an array literal: %v", x, text, err)
		}
		return meansArray(x, a, text)
	case []string:
		l := make([]any, len(x))
		for i, s := range x {
			l[i] = s
		}
		return meansText(l, text)
	case json.Number:
		if text != string(x) {
			return fmt.Errorf("number %s sent as %q", x, text)
		}
	case map[string]any:
		want, err := json.Marshal(x)
		if err != nil {
			return fmt.Errorf("map %#v cannot be JSON: %v", x, err)
		}
		if !jsonEqual(want, []byte(text)) {
			return fmt.Errorf("map %#v sent as %q", x, text)
		}
	default:
		return fmt.Errorf("unexpected value %T", v)
	}
	return nil
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	da := json.NewDecoder(strings.NewReader(string(a)))
	da.UseNumber()
	db := json.NewDecoder(strings.NewReader(string(b)))
	db.UseNumber()
	if da.Decode(&x) != nil || db.Decode(&y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// meansArray compares a list with the array literal array_in read.
func meansArray(want []any, got *pgArray, text string) error {
	if got.Leaf {
		return fmt.Errorf("list %#v read as an element in %q", want, text)
	}
	if len(want) != len(got.Sub) {
		return fmt.Errorf("list %#v read as %d elements from %q", want, len(got.Sub), text)
	}
	for i, e := range want {
		m := got.Sub[i]
		switch x := e.(type) {
		case []any:
			if err := meansArray(x, m, text); err != nil {
				return err
			}
		case nil:
			if !m.Leaf || !m.Null {
				return fmt.Errorf("nil element %d not read as NULL from %q", i, text)
			}
		default:
			if !m.Leaf || m.Null {
				return fmt.Errorf("element %d (%#v) read as NULL or an array from %q", i, e, text)
			}
			if err := meansText(e, m.Text); err != nil {
				return fmt.Errorf("element %d in %q: %w", i, text, err)
			}
		}
	}
	return nil
}

// meansInList checks that the elements PostgREST uses (after
// pgrstInList) are the list's values as a set. nil is sent as null, which
// PostgREST takes as the text "null", as supabase-js does.
func meansInList(want []any, elems []string) error {
	got := pgrstInList(elems)
	if (len(want) == 0) != (len(got) == 0) {
		return fmt.Errorf("in-list %#v read as %q", want, got)
	}
	for _, e := range want {
		if !slices.ContainsFunc(got, func(g string) bool { return meansText(e, g) == nil }) {
			return fmt.Errorf("in-list element %#v missing from %q", e, got)
		}
	}
	for _, g := range got {
		if !slices.ContainsFunc(want, func(e any) bool { return meansText(e, g) == nil }) {
			return fmt.Errorf("in-list %#v read with extra element %q", want, g)
		}
	}
	return nil
}

func toAnyList(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, true
	case []string:
		l := make([]any, len(x))
		for i, s := range x {
			l[i] = s
		}
		return l, true
	}
	return nil, false
}

// wireParams returns the query parameters a query sends, as PostgREST
// reads them.
func wireParams(t *testing.T, q Query) ([]pgrstPair, error) {
	t.Helper()
	p, err := q.Preview()
	if err != nil {
		return nil, err
	}
	_, raw, _ := strings.Cut(p.URL, "?")
	pairs, perr := pgrstParseQuery(raw)
	if perr != nil {
		t.Fatalf("PostgREST cannot read the query string of %s: %v", p.URL, perr)
	}
	return pairs, nil
}

func fuzzClient(t testing.TB) *Client {
	c, err := NewClient("http://127.0.0.1:54321", "anon-key-for-fuzzing")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// filterOps are the operators the fuzz target applies through Filter and
// Not, with what they expect.
var filterOps = []string{
	"eq", "neq", "gt", "gte", "lt", "lte", "like", "ilike", "match", "imatch", "isdistinct", "in", "is",
	"cs", "cd", "ov", "sl", "sr", "nxl", "nxr", "adj", "fts", "plfts", "phfts", "wfts", "wfts(english)",
	"eq(any)", "like(all)", "ilike(any)", "gt(all)", "fts(x-y)", "plfts(pg_catalog.english)", "phfts(a b)",
}

// FuzzFilterValue checks every filter method with arbitrary values: the
// value PostgREST reads is the one given, or the query fails with
// ErrInvalidQuery before any I/O.
func FuzzFilterValue(f *testing.F) {
	for _, seed := range [][]byte{
		cat([]byte{0, 0}, seedString(`a,b`)),                                // Eq
		cat([]byte{0, 1}, seedString("\xff")),                               // Eq: invalid UTF-8 is refused
		cat([]byte{7, 2}, seedDict("\x00")),                                 // Like: NUL is refused
		cat([]byte{16, 0}, seedNil(), []byte{0}, seedElems(seedString(""))), // In("") is not the empty list
		cat([]byte{17, 0}, seedNil(), []byte{0}, seedElems(seedString(`"`), seedNil(), seedString("null"))),
		cat([]byte{16, 0}, seedNil(), []byte{1}),                                                      // In(nil): the empty list
		cat([]byte{18, 3}, seedNil(), []byte{0}, seedElems(seedList(seedBool(true)), seedBool(true))), // ragged
		cat([]byte{19, 3}, seedNil(), []byte{0}, seedElems(seedList(), seedList())),                   // empty sub-arrays
		cat([]byte{20, 3}, seedNil(), []byte{0}, seedElems(seedList(seedString("a b"), seedNil()), seedList(seedString("{}"), seedInt8(-3)))),
		cat([]byte{22, 0, 3}, seedDict("%"), seedDict("a,b"), seedDict("null")),                // LikeAnyOf
		cat([]byte{25, 0}, seedString("NOT_NULL")),                                             // Is
		cat([]byte{27, 0}, seedDict("a b"), []byte{3, byte(slices.Index(fuzzConfigs, "x-y"))}), // TextSearch config PostgREST cannot read
		cat([]byte{28, 0, byte(slices.Index(filterOps, "in"))}, seedString("(a,b)"), []byte{1}),
		cat([]byte{38, 0, byte(slices.Index(filterOps, "ilike(any)"))}, seedNil(), []byte{0}, seedElems(seedString("a*b"), seedString(`\`))),
		cat([]byte{30, 0, byte(slices.Index(filterOps, "cs"))}, []byte{10, 2}, seedDict("a b"), seedString("\u2028"), seedDict("東京"), seedList(seedNil()), []byte{1}),
	} {
		f.Add(seed)
	}
	c := fuzzClient(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		g := &valueGen{b: data}
		sel := g.byte()
		col := fuzzColumns[int(g.byte())%len(fuzzColumns)]
		base := c.From("items").Select("id")
		checkFilter(t, base, sel, col, g)
	})
}

// checkFilter applies one filter method chosen by sel with a value from g
// and checks what PostgREST reads.
func checkFilter(t *testing.T, base Query, sel byte, col string, g *valueGen) {
	type expectation struct {
		op    string // operator PostgREST must read ("" for Is)
		not   bool
		quant string
		lang  string
		check func(e *pgrstOpExpr) error // compares the value
		valid bool
		raw   string // for raw text: the parameter value it must be sent as
	}
	var q Query
	var x expectation
	scalar := func(op string, v any) {
		x = expectation{op: op, valid: rawOK(v), check: func(e *pgrstOpExpr) error { return meansText(v, e.Value) }}
	}
	text := func(op, s string) {
		x = expectation{op: op, valid: sendable(s), check: func(e *pgrstOpExpr) error { return meansText(s, e.Value) }}
	}
	list := func(op string, v any) {
		l, isList := toAnyList(v)
		x = expectation{op: "in", not: op == "not.in", valid: isList || v == nil}
		for _, e := range l {
			x.valid = x.valid && rawOK(e)
		}
		x.check = func(e *pgrstOpExpr) error { return meansInList(l, e.List) }
	}
	collection := func(op string, v any) {
		scalar(op, v)
	}
	var v any
	switch k := sel % 42; k {
	case 0, 1, 2, 3, 4, 5, 6:
		v = g.value(0)
		op := []string{"eq", "neq", "gt", "gte", "lt", "lte", "isdistinct"}[k]
		m := []func(string, any) Query{base.Eq, base.Neq, base.Gt, base.Gte, base.Lt, base.Lte, base.IsDistinct}[k]
		q = m(col, v)
		scalar(op, v)
	case 7, 8, 9, 10, 11, 12, 13, 14, 15:
		s := g.str()
		v = s
		op := []string{"like", "ilike", "match", "imatch", "sr", "nxl", "sl", "nxr", "adj"}[k-7]
		m := []func(string, string) Query{base.Like, base.ILike, base.RegexMatch, base.RegexIMatch,
			base.RangeGt, base.RangeGte, base.RangeLt, base.RangeLte, base.RangeAdjacent}[k-7]
		q = m(col, s)
		text(op, s)
	case 16, 17:
		v = g.value(0)
		if g.byte()%2 == 0 {
			v = g.list(1)
		}
		op := []string{"in", "not.in"}[k-16]
		if k == 16 {
			q = base.In(col, v)
		} else {
			q = base.NotIn(col, v)
		}
		list(op, v)
	case 18, 19, 20:
		v = g.value(0)
		if g.byte()%2 == 0 {
			v = g.list(1)
		}
		op := []string{"cs", "cd", "ov"}[k-18]
		m := []func(string, any) Query{base.Contains, base.ContainedBy, base.Overlaps}[k-18]
		q = m(col, v)
		collection(op, v)
	case 21, 22, 23, 24:
		pats := g.strings()
		v = pats
		op := []string{"like", "like", "ilike", "ilike"}[k-21]
		quant := []string{"all", "any", "all", "any"}[k-21]
		m := []func(string, []string) Query{base.LikeAllOf, base.LikeAnyOf, base.ILikeAllOf, base.ILikeAnyOf}[k-21]
		q = m(col, pats)
		scalar(op, pats)
		x.quant = quant
	case 25:
		v = g.value(0)
		q = base.Is(col, v)
		want, ok := isWant(v)
		x = expectation{valid: ok, check: func(e *pgrstOpExpr) error {
			if e.Op != "is" || e.IsVal != want || e.Rest != "" {
				return fmt.Errorf("Is(%#v) read as %+v", v, e)
			}
			return nil
		}}
	case 26, 27:
		s := g.str()
		v = s
		var opts []TextSearchOption
		typ := []TextSearchType{TextSearchDefault, TextSearchPlain, TextSearchPhrase, TextSearchWebsearch}[g.byte()%4]
		opts = append(opts, SearchType(typ))
		lang := ""
		if k == 27 {
			lang = fuzzConfigs[int(g.byte())%len(fuzzConfigs)]
			opts = append(opts, SearchConfig(lang))
		}
		q = base.TextSearch(col, s, opts...)
		op := map[TextSearchType]string{TextSearchDefault: "fts", TextSearchPlain: "plfts",
			TextSearchPhrase: "phfts", TextSearchWebsearch: "wfts"}[typ]
		text(op, s)
		x.lang = lang
		if k == 27 && !ftsConfigOK(lang) {
			x.valid = false
		}
	default: // Filter and Not with any operator
		op := filterOps[int(g.byte())%len(filterOps)]
		v = g.value(0)
		if g.byte()%2 == 0 {
			v = g.list(1)
		}
		neg := k >= 36
		if neg {
			q = base.Not(col, op, v)
		} else {
			q = base.Filter(col, op, v)
		}
		name, arg, _ := strings.Cut(strings.TrimSuffix(op, ")"), "(")
		_, isList := toAnyList(v)
		switch {
		case name == "in" && isList:
			list("in", v)
		case name == "is":
			want, ok := isWant(v)
			if !ok {
				// Filter sends any other value as text: PostgREST must
				// refuse it, never read it as something else.
				x = expectation{raw: rawText(op, v)}
				break
			}
			x = expectation{valid: true, check: func(e *pgrstOpExpr) error {
				if e.Op != "is" || e.IsVal != want || e.Rest != "" {
					return fmt.Errorf("is %#v read as %+v", v, e)
				}
				return nil
			}}
		case name == "in":
			// A non-list value is sent as text after in.: it must be an
			// in-list PostgREST reads as the value, or be refused.
			x = expectation{raw: rawText(op, v)}
		default:
			scalar(name, v)
			if arg == "any" || arg == "all" {
				x.quant = arg
			} else if arg != "" {
				// PostgREST reads the language with pIdentifier, which
				// takes spaces and trims them.
				x.lang = strings.TrimSpace(arg)
				x.valid = x.valid && pgrstIdentifierOK(arg)
			}
		}
		x.not = neg || x.not
		if x.raw != "" && neg {
			x.raw = "not." + x.raw
		}
	}

	pairs, err := wireParams(t, q)
	if x.raw != "" {
		// Text given to Filter/Not for in or is that is not a list or an
		// IS value: sent as it is (it may hold PostgREST syntax) or
		// refused, never changed.
		if err != nil {
			if !errors.Is(err, ErrInvalidQuery) {
				t.Fatalf("error %v does not match ErrInvalidQuery", err)
			}
			return
		}
		if len(pairs) != 2 || pairs[1].Key != col || pairs[1].Value != x.raw {
			t.Fatalf("value %#v: query parameters %+v, want %s=%q", v, pairs, col, x.raw)
		}
		return
	}
	if !x.valid {
		if err == nil {
			p, _ := q.Preview()
			t.Fatalf("value %#v cannot be sent, but the query was built: %s", v, p.URL)
		}
		if !errors.Is(err, ErrInvalidQuery) {
			t.Fatalf("error %v does not match ErrInvalidQuery", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("value %#v: unexpected error %v", v, err)
	}
	if len(pairs) != 2 || pairs[0].Key != "select" || pairs[0].Value != "id" || pairs[1].Key != col || !pairs[1].HasValue {
		t.Fatalf("value %#v: query parameters %+v", v, pairs)
	}
	e, perr := pgrstParseFilter(pairs[1].Value, false)
	if perr != nil {
		t.Fatalf("value %#v sent as %q, which PostgREST refuses: %v", v, pairs[1].Value, perr)
	}
	if x.op != "" && (e.Op != x.op || e.Quant != x.quant || e.Lang != x.lang) {
		t.Fatalf("value %#v sent as %q: PostgREST reads operator %q quant %q lang %q", v, pairs[1].Value, e.Op, e.Quant, e.Lang)
	}
	if e.Not != x.not {
		t.Fatalf("value %#v sent as %q: negation %v", v, pairs[1].Value, e.Not)
	}
	if e.Rest != "" {
		t.Fatalf("value %#v sent as %q: PostgREST ignores %q", v, pairs[1].Value, e.Rest)
	}
	if err := x.check(e); err != nil {
		t.Fatalf("sent %q: %v", pairs[1].Value, err)
	}
}

var fuzzConfigs = []string{"english", "simple", "pg_catalog.english", "a b", " english", "x-y", "", "(", "é", "a$"}

// ftsConfigOK is the configuration names TextSearch accepts: what
// PostgREST's pIdentifier reads back unchanged, without spaces.
func ftsConfigOK(config string) bool {
	for _, r := range config {
		if !(r == '_' || r == '$' || '0' <= r && r <= '9' || unicode.IsLetter(r)) {
			return false
		}
	}
	return config != ""
}

// pgrstIdentifierOK reports whether PostgREST's pIdentifier reads all of
// s: letters, ASCII digits, _, $ and spaces, not only spaces.
func pgrstIdentifierOK(s string) bool {
	for _, r := range s {
		if !(r == '_' || r == '$' || r == ' ' || '0' <= r && r <= '9' || unicode.IsLetter(r)) {
			return false
		}
	}
	return strings.TrimSpace(s) != ""
}

// isWant is what Is must send for v, and whether v is accepted.
func isWant(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "null", true
	case bool:
		return strconv.FormatBool(x), true
	case string:
		switch s := strings.ToLower(x); s {
		case "null", "not_null", "true", "false", "unknown":
			return s, true
		}
	}
	return "", false
}

// rawText is the parameter value Filter sends for v as text after op, or
// "-" when v has no text (it must then be refused).
func rawText(op string, v any) string {
	s, err := pgrest.Text(v)
	if err != nil || !rawOK(v) {
		return "-"
	}
	return op + "." + s
}

// orOps are the operators FuzzOrGroup writes before a value from OrValue.
var orOps = []string{"eq", "neq", "gt", "gte", "lt", "lte", "like", "ilike", "match", "imatch", "isdistinct", "sr", "adj"}

// orWant is the expected reading of one part of an Or group.
type orWant struct {
	op       string // "and", "or" for a group; else the filter operator
	not      bool
	field    string
	value    any
	children []*orWant
}

// orGroup writes up to four parts of an Or group, nested up to depth 2,
// with values from OrValue, and returns the text and what PostgREST must
// read. ok is false when a value cannot be sent.
func orGroup(g *valueGen, depth int) (parts []string, want []*orWant, ok bool) {
	ok = true
	n := 1 + int(g.byte()%4)
	for range n {
		col := fuzzColumns[int(g.byte())%len(fuzzColumns)]
		w := &orWant{field: col}
		not := g.byte()%4 == 0
		w.not = not
		prefix := col + "."
		if not {
			prefix += "not."
		}
		switch k := g.byte() % 6; {
		case k <= 2:
			w.op = orOps[int(g.byte())%len(orOps)]
			v := g.value(1)
			if l, isList := v.([]any); isList {
				v = fmt.Sprint(l) // lists are for in; send their text
			}
			w.value = v
			ok = ok && rawOK(v)
			parts = append(parts, prefix+w.op+"."+OrValue(v))
		case k == 3:
			w.op = "in"
			l := g.list(1)
			w.value = l
			for _, e := range l {
				ok = ok && rawOK(e)
			}
			parts = append(parts, prefix+"in."+OrValue(l))
		case k == 4:
			w.op = "is"
			v := []any{nil, true, false}[g.byte()%3]
			w.value = v
			parts = append(parts, prefix+"is."+OrValue(v))
		default:
			if depth >= 2 {
				w.op = "eq"
				w.value = int64(1)
				parts = append(parts, prefix+"eq.1")
				break
			}
			w.field = ""
			w.op = []string{"and", "or"}[g.byte()%2]
			sub, subWant, subOK := orGroup(g, depth+1)
			ok = ok && subOK
			w.children = subWant
			p := w.op + "(" + strings.Join(sub, ",") + ")"
			if not {
				p = "not." + p
			}
			parts = append(parts, p)
		}
		want = append(want, w)
	}
	return parts, want, ok
}

// checkLogic compares a parsed logic tree with what was written.
func checkLogic(got *pgrstLogic, want *orWant) error {
	if want.children != nil {
		if got.Op != want.op || got.Not != want.not || len(got.Children) != len(want.children) {
			return fmt.Errorf("group %s (not %v, %d parts) read as %s", want.op, want.not, len(want.children), logicString(got))
		}
		for i, c := range want.children {
			if err := checkLogic(got.Children[i], c); err != nil {
				return err
			}
		}
		return nil
	}
	e := got.Expr
	if got.Op != "" || e == nil || got.Field != want.field || e.Op != want.op || e.Not != want.not || e.Quant != "" {
		return fmt.Errorf("%s %s (not %v) read as %s", want.field, want.op, want.not, logicString(got))
	}
	switch want.op {
	case "in":
		return meansInList(want.value.([]any), e.List)
	case "is":
		w, _ := isWant(want.value)
		if e.IsVal != w {
			return fmt.Errorf("is %v read as %s", want.value, e.IsVal)
		}
		return nil
	}
	return meansText(want.value, e.Value)
}

// FuzzOrGroup checks Or groups written with OrValue: PostgREST reads the
// same tree and every value as given, or the query fails with
// ErrInvalidQuery.
func FuzzOrGroup(f *testing.F) {
	// Layout: referenced table (0: yes), part count, then per part the
	// column, negation (0: not), kind (0-2 value, 3 in-list, 4 is, 5
	// group) and its operator and value.
	for _, seed := range [][]byte{
		cat([]byte{1, 0, 0, 1, 0, 0}, seedString("a,b")),
		cat([]byte{1, 0, 0, 1, 0, 0}, seedString("{a}b")),
		cat([]byte{0, 1, 1, 0, 3}, seedElems(seedString(`"`), seedString(""), seedNil()), []byte{2, 1, 4, 0}),
		cat([]byte{1, 0, 0, 1, 3}, seedElems(seedString(""))),
		cat([]byte{1, 0, 0, 0, 5, 1, 1, 2, 1, 2, 6}, seedString(")"), []byte{3, 1, 4, 2}),
		cat([]byte{2, 0, 0, 1, 1, 7}, seedString("\x00")),
	} {
		f.Add(seed)
	}
	c := fuzzClient(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		g := &valueGen{b: data}
		ref := g.byte()%3 == 0
		parts, want, ok := orGroup(g, 0)
		var opts []FilterOption
		key := "or"
		if ref {
			opts = append(opts, ReferencedTable("tbl"))
			key = "tbl.or"
		}
		q := c.From("items").Select("id").Or(strings.Join(parts, ","), opts...)
		pairs, err := wireParams(t, q)
		if !ok {
			if !errors.Is(err, ErrInvalidQuery) {
				t.Fatalf("parts %q cannot be sent, got error %v", parts, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("parts %q: %v", parts, err)
		}
		if len(pairs) != 2 || pairs[1].Key != key {
			t.Fatalf("parts %q: query parameters %+v", parts, pairs)
		}
		embed, tree, rest, perr := pgrstParseLogic(pairs[1].Key, pairs[1].Value)
		if perr != nil {
			t.Fatalf("or=%s: PostgREST refuses it: %v", pairs[1].Value, perr)
		}
		if rest != "" {
			t.Fatalf("or=%s: PostgREST ignores %q", pairs[1].Value, rest)
		}
		if ref != (len(embed) == 1 && embed[0] == "tbl") || (!ref && len(embed) != 0) {
			t.Fatalf("or=%s: embed path %q", pairs[1].Value, embed)
		}
		if err := checkLogic(tree, &orWant{op: "or", children: want}); err != nil {
			t.Fatalf("or=%s: %v", pairs[1].Value, err)
		}
	})
}

// Seed builders, so that seeds say what valueGen makes of them.

func cat(parts ...[]byte) []byte { return slices.Concat(parts...) }

// seedDict is a dictionary string (valueGen.str).
func seedDict(s string) []byte {
	i := slices.Index(fuzzDict, s)
	if i < 0 {
		panic("not in fuzzDict: " + strconv.Quote(s))
	}
	return []byte{2, byte(i)}
}

// seedString, seedNil, seedBool, seedInt8 and seedList are values
// (valueGen.value).
func seedString(s string) []byte { return cat([]byte{0}, seedDict(s)) }
func seedNil() []byte            { return []byte{8} }
func seedInt8(n int8) []byte     { return []byte{4, byte(n)} }
func seedBool(b bool) []byte {
	if b {
		return []byte{7, 0}
	}
	return []byte{7, 1}
}
func seedList(elems ...[]byte) []byte { return cat([]byte{9}, seedElems(elems...)) }

// seedElems is a list (valueGen.list).
func seedElems(elems ...[]byte) []byte { return cat([]byte{byte(len(elems))}, cat(elems...)) }

// rpcKeys are argument names that exercise how PostgREST reads parameter
// keys.
var rpcKeys = []string{
	"name", "p_id", "a-b", "$x", "été", "limit", "select", "order", "a.limit", "columns", "on_conflict", "and",
	"a.b", " a", "a ", "a b", "a - b", "a--b", "-a", "a->b", `"q"`, "a!b", "", "_", "1", "or",
}

// FuzzRPCGetArgs checks function calls sent as GET: PostgREST reads
// exactly the given arguments, each with its value, and nothing else (no
// filter, limit or select), or the call fails with ErrInvalidQuery; and it
// is refused only when PostgREST would misread it.
func FuzzRPCGetArgs(f *testing.F) {
	for _, seed := range [][]byte{
		cat([]byte{0, 0}, seedString("a b")),
		cat([]byte{0, 0}, seedString("eq.1")),
		cat([]byte{0, 0}, seedString("not.eq.1")),
		cat([]byte{0, 0}, seedString("in.(1,2)")),
		cat([]byte{0, 5}, seedInt8(5)),
		cat([]byte{1, 9}, seedString("x"), []byte{2}, seedList(seedString("a,b"), seedNil())),
		cat([]byte{0, 12}, seedString("x")),
		cat([]byte{0, 19}, []byte{10, 1}, seedDict("a b"), seedBool(true)),
		cat([]byte{0, 0}, seedString("\x00")),
	} {
		f.Add(seed)
	}
	c := fuzzClient(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		g := &valueGen{b: data}
		args := map[string]any{}
		for range 1 + g.byte()%3 {
			k := g.byte()
			var key string
			if k < 200 {
				key = rpcKeys[int(k)%len(rpcKeys)]
			} else {
				key = g.str()
			}
			args[key] = g.value(1)
		}
		q := c.RPC("fn", args, RPCGet())
		pairs, err := wireParams(t, q)

		// What the arguments are once JSON: encoding/json replaces invalid
		// UTF-8, as for every JSON body.
		body, jerr := json.Marshal(args)
		if jerr != nil {
			if !errors.Is(err, ErrInvalidQuery) {
				t.Fatalf("args %#v cannot be JSON (%v), got error %v", args, jerr, err)
			}
			return
		}
		var want map[string]any
		d := json.NewDecoder(strings.NewReader(string(body)))
		d.UseNumber()
		if err := d.Decode(&want); err != nil {
			t.Fatal(err)
		}

		if err != nil {
			if !errors.Is(err, ErrInvalidQuery) {
				t.Fatalf("args %s: error %v does not match ErrInvalidQuery", body, err)
			}
			// Refused: only when PostgREST would misread the plain
			// encoding (or cannot be sent a value at all).
			members, merr := pgrest.ObjectMembers(body)
			if merr != nil {
				t.Fatal(merr)
			}
			var plain []pgrest.Pair
			for _, m := range members {
				text, _, terr := pgrest.ParamText(m.Value)
				if terr != nil || pgrest.CheckText(m.Key) != nil || pgrest.CheckText(text) != nil {
					return
				}
				plain = append(plain, pgrest.Pair{Key: m.Key, Value: text})
			}
			ps, perr := pgrstParseQuery(pgrest.EncodeQuery(plain))
			if perr != nil {
				return
			}
			r, rerr := pgrstParseRPCRead(ps)
			if rerr != nil || len(r.Other) > 0 || rpcArgsDiffer(want, r.Args) != nil {
				return
			}
			t.Fatalf("args %s refused (%v), but PostgREST reads them right", body, err)
		}

		r, rerr := pgrstParseRPCRead(pairs)
		if rerr != nil {
			t.Fatalf("args %s sent as %+v, which PostgREST refuses: %v", body, pairs, rerr)
		}
		if len(r.Other) > 0 {
			t.Fatalf("args %s sent as %+v: PostgREST reads %q as something else than arguments", body, pairs, r.Other)
		}
		if err := rpcArgsDiffer(want, r.Args); err != nil {
			t.Fatalf("args %s sent as %+v: %v", body, pairs, err)
		}
	})
}

// rpcArgsDiffer compares the arguments PostgREST reads with the JSON ones.
func rpcArgsDiffer(want map[string]any, got map[string]string) error {
	if len(want) != len(got) {
		return fmt.Errorf("%d arguments read, want %d", len(got), len(want))
	}
	for k, v := range want {
		text, ok := got[k]
		if !ok {
			return fmt.Errorf("argument %q missing", k)
		}
		if err := meansText(v, text); err != nil {
			return fmt.Errorf("argument %q: %w", k, err)
		}
	}
	return nil
}

// FuzzIsFilterText checks pgrest.IsFilterText against the model of
// PostgREST's grammar: a value is filter text exactly when PostgREST, for
// a GET function call, does not read it as a plain argument.
func FuzzIsFilterText(f *testing.F) {
	for _, s := range []string{"eq.1", "not.x", "in.x", "is.nul", "fts(a b).x", "fts(x-y).x", "eq(any).x",
		"eq(anyx).x", "gte", "like(all)", "isdistinct.", "hello", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return // PostgREST never sees it (CheckText)
		}
		e, err := pgrstParseFilter(s, true)
		plain := err == nil && e.NoOp
		if pgrest.IsFilterText(s) == plain {
			t.Fatalf("IsFilterText(%q) = %v, but PostgREST reads it as plain: %v (%+v, %v)", s, !plain, plain, e, err)
		}
	})
}

package pgrest

import (
	"database/sql"
	"encoding/json"
	"errors"
	"math"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type color int

func (c color) String() string { return [...]string{"red", "green"}[c] }

type status string

type celsius float64

func (c celsius) String() string { return strconv.FormatFloat(float64(c), 'f', -1, 64) + " C" }

func ptrTo[T any](v T) *T { return &v }

type textID [2]byte

func (t textID) MarshalText() ([]byte, error) { return []byte("id-" + string(t[:])), nil }

func TestText(t *testing.T) {
	ts := time.Date(2025, 1, 2, 3, 4, 5, 600, time.UTC)
	var nilPtr *int
	n := 7
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"nil", nil, "null"},
		{"nil pointer", nilPtr, "null"},
		{"pointer", &n, "7"},
		{"string", "a,b (c)", "a,b (c)"},
		{"empty", "", ""},
		{"bool", true, "true"},
		{"int", -42, "-42"},
		{"int8", int8(-8), "-8"},
		{"uint16", uint16(65535), "65535"},
		{"uint64 max", uint64(math.MaxUint64), "18446744073709551615"},
		{"float", 99.5, "99.5"},
		{"float no exponent", 1e21, "1000000000000000000000"},
		{"small float", 0.000001, "0.000001"},
		{"float32", float32(0.1), "0.1"},
		{"nan", math.NaN(), "NaN"},
		{"inf", math.Inf(-1), "-Infinity"},
		{"time", ts, "2025-01-02T03:04:05.0000006Z"},
		{"time pointer", &ts, "2025-01-02T03:04:05.0000006Z"},
		{"time zone", time.Date(2025, 1, 1, 0, 0, 0, 0, time.FixedZone("", 5*3600+1800)), "2025-01-01T00:00:00+05:30"},
		{"json number", json.Number("1e3"), "1e3"},
		{"raw json", json.RawMessage(` {"a":1} `), `{"a":1}`},
		{"bytes", []byte{0xde, 0xad}, `\xdead`},
		{"stringer", color(1), "green"},
		{"named string", status("open"), "open"},
		{"text marshaler", textID{'a', 'b'}, "id-ab"},
		{"valuer", sql.NullString{String: "x", Valid: true}, "x"},
		{"valuer null", sql.NullInt64{}, "null"},
		{"slice", []int{1, 2}, "{1,2}"},
		{"map", map[string]any{"b": 1, "a": []string{"x"}}, `{"a":["x"],"b":1}`},
		{"struct", struct {
			A int `json:"a"`
		}{1}, `{"a":1}`},
		{"unicode", "Zürich 東京 🚀", "Zürich 東京 🚀"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Text(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestTextUnsupported(t *testing.T) {
	for _, v := range []any{make(chan int), func() {}, complex(1, 2), []any{1, make(chan int)}, map[string]any{"f": func() {}}} {
		_, err := Text(v)
		assert.ErrorIs(t, err, ErrUnsupported, "%T", v)
	}
}

func TestArray(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"plain", []string{"red", "blue"}, "{red,blue}"},
		{"empty", []string{}, "{}"},
		{"nil slice", []string(nil), "{}"},
		{"comma", []string{"%x,y%", "Z%"}, `{"%x,y%",Z%}`},
		{"quotes and backslash", []string{`say "hi"`, `back\slash`}, `{"say \"hi\"","back\\slash"}`},
		{"space", []string{"two words"}, `{"two words"}`},
		{"braces", []string{"{a}"}, `{"{a}"}`},
		{"empty and null strings", []string{"", "null", "NULL"}, `{"","null","NULL"}`},
		{"nil element", []any{"a", nil}, "{a,null}"},
		{"nested", [][]int{{1, 2}, {3, 4}}, "{{1,2},{3,4}}"},
		{"nested any", []any{[]any{"a b", nil}, []any{"c", 1}}, `{{"a b",null},{c,1}}`},
		{"object element", []any{map[string]int{"a": 1}}, `{"{\"a\":1}"}`},
		{"array type", [2]int{5, 6}, "{5,6}"},
		{"numbers", []any{1, 2.5, json.Number("3"), json.Number("-0.25e+2"), float32(1.5), uint8(7)}, `{1,2.5,3,-0.25e+2,1.5,7}`},
		{"float slice", []float64{1.5, 2, -0.001}, `{1.5,2,-0.001}`},
		{"numeric pointers and valuers", []any{ptrTo(1.5), sql.NullFloat64{Float64: 2.5, Valid: true}}, `{1.5,2.5}`},
		{"strings that look like numbers", []string{"1.5", "2"}, `{"1.5",2}`},
		{"json number that is not a number", []json.Number{"1.5", "1,2", "NaN"}, `{1.5,"1,2",NaN}`},
		{"stringer over a float", []celsius{21.5}, `{"21.5 C"}`},
		{"unicode", []string{"naïve", "✓"}, "{naïve,✓}"},
		{"time", []time.Time{time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}, `{"2025-01-01T00:00:00Z"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Array(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	_, err := Array("not a list")
	assert.ErrorIs(t, err, ErrUnsupported)
	// Postgres arrays are rectangular, without empty sub-arrays.
	for _, v := range []any{
		[][]int{{1}, {2, 3}}, [][]int{{}}, []any{[]any{}, []any{}}, []any{1, []any{2}}, []any{[]any{1}, nil},
		[]any{[]any{[]any{1}}, []any{2}},
	} {
		_, err := Array(v)
		assert.ErrorIs(t, err, ErrUnsupported, "%v", v)
	}
}

func TestList(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"numbers", []int{1, 2, 3}, "(1,2,3)"},
		{"floats", []float64{1.5, 2}, "(1.5,2)"},
		{"mixed numbers", []any{1.5, json.Number("2.25"), int64(-3), "4.5"}, `(1.5,2.25,-3,"4.5")`},
		{"json number break out", []json.Number{"1),id.gt.(0"}, `("1),id.gt.(0")`},
		{"number duplicates string", []any{1.5, "1.5"}, "(1.5)"},
		{"strings", []string{"open", "closed"}, "(open,closed)"},
		{"reserved", []string{"a,b", "(x)", "plain", "open)"}, `("a,b","(x)",plain,"open)")`},
		{"escapes", []string{`say "hi"`, `back\slash`, "two words", "naïve ✓"},
			`("say \"hi\"","back\\slash","two words","naïve ✓")`},
		{"dot and colon", []string{"ada@example.com", "12:00"}, `("ada@example.com","12:00")`},
		{"mixed", []any{"", nil, true, 0}, `("",null,true,0)`},
		{"only empty", []string{""}, `("","")`},
		{"only empty twice", []string{"", ""}, `("","")`},
		{"braces", []string{"{a}b", "a{b}"}, `({a}b,a{b})`},
		{"duplicates", []int{5, 5, 6, 5}, "(5,6)"},
		{"empty", []int{}, "()"},
		{"nested", []any{[]int{1, 2}}, `("{1,2}")`},
		{"quote only", []string{`"`}, `("\"")`},
		{"break out attempt", []string{`x"),id.gt.(0`}, `("x\"),id.gt.(0")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := List(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	_, err := List(42)
	assert.ErrorIs(t, err, ErrUnsupported)
	_, err = List([]any{make(chan int)})
	assert.ErrorIs(t, err, ErrUnsupported)
}

// parseList is PostgREST's in-list grammar: elements separated by commas,
// a double-quoted element reads \x as x.
func parseList(t *testing.T, s string) []string {
	t.Helper()
	require.True(t, strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")"), s)
	s = s[1 : len(s)-1]
	var out []string
	for i := 0; i <= len(s); {
		if i < len(s) && s[i] == '"' {
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' {
					j++
				}
				b.WriteByte(s[j])
			}
			require.Less(t, j, len(s), "unterminated quote in %s", s)
			out = append(out, b.String())
			i = j + 1
		} else {
			j := strings.IndexAny(s[i:], ",)")
			if j < 0 {
				j = len(s) - i
			}
			out = append(out, s[i:i+j])
			i += j
		}
		if i < len(s) {
			require.Equal(t, byte(','), s[i], "in %s", s)
		}
		i++
	}
	return out
}

func TestListRoundTrip(t *testing.T) {
	values := []string{`a,b`, `"quoted"`, `back\`, `\"`, `)`, `(`, `x"),or=(id.gt.0`, "tab\there", "ünï", "a.b:c"}
	s, err := List(values)
	require.NoError(t, err)
	assert.Equal(t, values, parseList(t, s))
}

func TestIsNumber(t *testing.T) {
	for _, s := range []string{"0", "-0", "12", "-1.5", "0.25", "1e3", "1E-3", "2.5e+10"} {
		assert.True(t, IsNumber(s), s)
	}
	for _, s := range []string{"", "-", "01", "1.", ".5", "1e", "1e+", "+1", "1,2", "NaN", "Infinity", "0x10", "1 ", "1.5)"} {
		assert.False(t, IsNumber(s), s)
	}
}

func TestListElement(t *testing.T) {
	for v, want := range map[any]string{
		1.5: "1.5", 3: "3", json.Number("2.50"): "2.50", "1.5": `"1.5"`, "a,b": `"a,b"`, "plain": "plain", true: "true",
	} {
		got, err := ListElement(v)
		require.NoError(t, err)
		assert.Equal(t, want, got, "%#v", v)
	}
	got, err := ListElement(nil)
	require.NoError(t, err)
	assert.Equal(t, "null", got)
	_, err = ListElement(make(chan int))
	assert.ErrorIs(t, err, ErrUnsupported)
}

func TestCleanSelect(t *testing.T) {
	for in, want := range map[string]string{
		"":                                      "*",
		"   ":                                   "*",
		"*":                                     "*",
		" id, title ,\n\tdone ":                 "id,title,done",
		`id, "Full Name", "home address" , age`: `id,"Full Name","home address",age`,
		"id, author:profiles ( id, username )":  "id,author:profiles(id,username)",
	} {
		assert.Equal(t, want, CleanSelect(in), in)
	}
}

func TestEncodeQuery(t *testing.T) {
	pairs := []Pair{
		{Key: "select", Value: "id,title"},
		{Key: "q", Value: "eq.a b+c&d=e#f%g?h/i"},
		{Key: "city", Value: "eq.Zürich 東京 🚀"},
		{Key: "label", Value: `in.("a,b",plain)`},
		{Key: "weird key&=", Value: "x;y"},
	}
	raw := EncodeQuery(pairs)
	assert.NotContains(t, raw, " ")
	assert.NotContains(t, raw, ";")
	var got []Pair
	for _, part := range strings.Split(raw, "&") {
		k, v, _ := strings.Cut(part, "=")
		dk, err := url.QueryUnescape(k)
		require.NoError(t, err)
		dv, err := url.QueryUnescape(v)
		require.NoError(t, err)
		got = append(got, Pair{Key: dk, Value: dv})
	}
	assert.Equal(t, pairs, got)
	parsed, err := url.ParseQuery(raw)
	require.NoError(t, err)
	assert.Equal(t, "eq.a b+c&d=e#f%g?h/i", parsed.Get("q"))
	assert.Equal(t, "select=id,title", EncodeQuery(pairs[:1]))
}

// TestEncodeQueryParts: a pair in parts is sent as Op.Value Suffix, or as
// its number; the length Params claims for each pair is exact.
func TestEncodeQueryParts(t *testing.T) {
	pairs := []Pair{
		{Key: "title", Op: "ilike", Value: "%a b%"},
		{Key: "id", Op: "not.in", Value: "(1,2)"},
		{Key: "order", Value: "created at", Suffix: ".desc.nullslast"},
		{Key: "limit", Num: 100, IsNum: true},
		{Key: "offset", Num: -9223372036854775808, IsNum: true},
		{Key: "x", Num: 0, IsNum: true},
	}
	raw := EncodeQuery(pairs)
	assert.Equal(t, "title=ilike.%25a%20b%25&id=not.in.(1,2)&order=created%20at.desc.nullslast&limit=100&offset=-9223372036854775808&x=0", raw)
	var ps Params
	for i, p := range pairs {
		n, _, err := p.encodedLen()
		require.NoError(t, err)
		before := ps.EncodedLen()
		ps, err = ps.Append(p)
		require.NoError(t, err)
		if i > 0 {
			n++
		}
		assert.Equal(t, before+n, ps.EncodedLen(), p.Key)
	}
	assert.Equal(t, raw, ps.String())
	want := []string{"ilike.%a b%", "not.in.(1,2)", "created at.desc.nullslast", "100", "-9223372036854775808", "0"}
	for i, p := range pairs {
		assert.Equal(t, want[i], p.Text())
	}
	for _, n := range []int64{0, 9, 10, 99, 100, -1, -10, 1<<63 - 1} {
		assert.Equal(t, len(strconv.FormatInt(n, 10)), numLen(n), n)
	}
}

func TestJSONHelpers(t *testing.T) {
	keys, err := ArrayObjectKeys([]byte(`[{"title":"a"},{"done":true,"priority":2},{"title":"c","note":null,"x\"y":{"k":[1,"}"]}}]`))
	require.NoError(t, err)
	assert.Equal(t, []string{"title", "done", "priority", "note", `x"y`}, keys)

	keys, err = ArrayObjectKeys([]byte(`[]`))
	require.NoError(t, err)
	assert.Empty(t, keys)

	_, err = ArrayObjectKeys([]byte(`[1,2]`))
	assert.Error(t, err)
	_, err = ArrayObjectKeys([]byte(`[{"a":1}`))
	assert.Error(t, err)

	m, err := ObjectMembers([]byte(`{"b":[1,2],"a":"x","c":{"d":null},"e":null}`))
	require.NoError(t, err)
	require.Len(t, m, 4)
	assert.Equal(t, "b", m[0].Key)
	assert.Equal(t, `[1,2]`, string(m[0].Value))
	assert.Equal(t, `{"d":null}`, string(m[2].Value))

	for raw, want := range map[string]struct {
		text string
		obj  bool
	}{
		`"a b,c"`:               {"a b,c", false},
		`[1,2,3]`:               {"{1,2,3}", false},
		`["a,b","c"]`:           {`{"a,b",c}`, false},
		`null`:                  {"null", false},
		`12.50`:                 {"12.50", false},
		`true`:                  {"true", false},
		`{"color":"red"}`:       {`{"color":"red"}`, true},
		`[{"a":1}]`:             {`{"{\"a\":1}"}`, true},
		`[[1],[2]]`:             {"{{1},{2}}", false},
		`[["x",{"deep":true}]]`: {`{{x,"{\"deep\":true}"}}`, true},
	} {
		text, obj, err := ParamText([]byte(raw))
		require.NoError(t, err, raw)
		assert.Equal(t, want.text, text, raw)
		assert.Equal(t, want.obj, obj, raw)
	}
	_, _, err = ParamText(nil)
	assert.True(t, errors.Is(err, errSyntax))
}

func TestCheckText(t *testing.T) {
	for _, s := range []string{"", "plain", "naïve ✓ 🚀", "\u2028\t\n"} {
		assert.NoError(t, CheckText(s), "%q", s)
	}
	for s, want := range map[string]string{
		"a\x00b":        "NUL byte at offset 1",
		"ok\xff":        "invalid UTF-8 at offset 2",
		"\xed\xa0\x80x": "invalid UTF-8 at offset 0", // an encoded surrogate
		"é\xc3":         "invalid UTF-8 at offset 2",
	} {
		err := CheckText(s)
		assert.ErrorIs(t, err, ErrText, "%q", s)
		assert.ErrorContains(t, err, want, "%q", s)
	}
}

func TestQuoteLogicValue(t *testing.T) {
	for in, want := range map[string]string{
		"plain": "plain", "": `""`, "{a}b": `"{a}b"`, "{}": `"{}"`, "a{b}": "a{b}", "a,b": `"a,b"`, `{"x"`: `"{\"x\""`,
	} {
		assert.Equal(t, want, QuoteLogicValue(in), "%q", in)
	}
}

func TestInvalidUTF8(t *testing.T) {
	// Left as it is, for CheckText to refuse: not joined into valid text.
	assert.Equal(t, "\xc2  \xa0", CleanSelect("\xc2  \xa0"))
	// Keys decode as encoding/json decodes them.
	ms, err := ObjectMembers([]byte("{\"\xa9\":0}"))
	require.NoError(t, err)
	assert.Equal(t, "\uFFFD", ms[0].Key)
}

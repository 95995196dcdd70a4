package supabase

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The compatibility suite: DefaultJSON must decode what encoding/json
// decodes, into the same values, and refuse what it refuses. The shapes
// below cover what rows are decoded into: json tags and their options,
// embedded structs, pointers, json.RawMessage, json.Number, time.Time,
// methods, interface values, maps and slices.

type compatEmbedded struct {
	Owner  string `json:"owner"`
	Shared string
}

type compatUpper string

func (u *compatUpper) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*u = compatUpper(strings.ToUpper(s))
	return nil
}

type compatLevel int

func (l *compatLevel) UnmarshalText(b []byte) error {
	switch string(b) {
	case "low":
		*l = 1
	case "high":
		*l = 2
	default:
		return fmt.Errorf("unknown level %q", b)
	}
	return nil
}

type compatRow struct {
	compatEmbedded
	ID       int64           `json:"id"`
	Title    string          `json:"title"`
	Done     bool            `json:"done,omitempty"`
	Score    float64         `json:"score"`
	Count    int             `json:"count,string"`
	Small    int8            `json:"small"`
	Unsigned uint32          `json:"unsigned"`
	Tags     []string        `json:"tags"`
	Fixed    [2]int          `json:"fixed"`
	Meta     map[string]any  `json:"meta"`
	Ints     map[string]int  `json:"ints"`
	Raw      json.RawMessage `json:"raw"`
	Num      json.Number     `json:"num"`
	When     time.Time       `json:"when"`
	WhenPtr  *time.Time      `json:"when_ptr"`
	Note     *string         `json:"note"`
	Any      any             `json:"any"`
	Upper    compatUpper     `json:"upper"`
	Level    compatLevel     `json:"level"`
	Author   *compatAuthor   `json:"author"`
	Comments []compatComment `json:"comments"`
	Skipped  string          `json:"-"`
	//lint:ignore SA5008 the key "-", as encoding/json documents it
	Dash  string `json:"-,"`
	NoTag string
	Bytes []byte           `json:"bytes"`
	ByID  map[int64]string `json:"by_id"`
}

type compatAuthor struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type compatComment struct {
	ID   int            `json:"id"`
	Body string         `json:"body"`
	Tags map[string]any `json:"tags"`
}

// compatShapes are the Go values each input is decoded into.
var compatShapes = map[string]func() any{
	"struct":   func() any { return new(compatRow) },
	"rows":     func() any { return new([]compatRow) },
	"any":      func() any { return new(any) },
	"map":      func() any { return new(map[string]any) },
	"ptrs":     func() any { return new([]*compatAuthor) },
	"strings":  func() any { return new([]string) },
	"numbers":  func() any { return new([]json.Number) },
	"floats":   func() any { return new([]float64) },
	"rawslice": func() any { return new([]json.RawMessage) },
}

// compatInputs are PostgREST-shaped documents and the edge cases around
// them.
var compatInputs = []string{
	// Real PostgREST output.
	`{"id":1,"title":"Buy milk","done":true,"score":4.5,"count":"3","tags":["a","b"],"when":"2024-03-01T08:00:00.000000+00:00","note":null,"owner":"u1"}`,
	`[{"id":1,"title":"t","author":{"id":"a","name":"Ann"},"comments":[{"id":1,"body":"x","tags":{"k":[1,2,{"n":null}]}}]}]`,
	`[{"id":9223372036854775807,"num":12345678901234567890123,"score":1e-7,"any":9007199254740993}]`,
	`{"when":"2024-03-01T08:00:00Z","when_ptr":"2024-03-01T08:00:00.123456789+05:30"}`,
	`{"when":"2024-02-30T08:00:00Z"}`, `{"when":"2024-03-01 08:00:00+00"}`, `{"when":null,"when_ptr":null}`,
	// Unicode.
	`{"title":"caf\u00e9 \ud83d\ude00 \u2028 \u0000","owner":"Zürich 東京 🚀"}`,
	`{"title":"\ud800"}`, `{"title":"\udc00\ud800x"}`, "{\"title\":\"\xff\xfe bad utf-8\"}",
	"{\"title\":\"tab\tinside\"}",
	// Field matching.
	`{"TITLE":"upper","Id":7,"notag":"n","NoTag":"exact","shared":"s"}`,
	`{"title":"first","Title":"second"}`, `{"Title":"first","title":"second"}`,
	`{"id":1,"id":2}`, `{"skipped":"x","-":"dash","unexported":"u","unknown":{"deep":[1]}}`,
	// Nulls.
	`{"id":null,"title":null,"tags":null,"meta":null,"raw":null,"num":null,"any":null,"author":null,"fixed":null}`,
	`[null,{"id":"a"}]`, `null`, `[null]`,
	// Numbers.
	`{"id":1.5}`, `{"id":"1"}`, `{"id":1e2}`, `{"id":-0}`, `{"small":300}`, `{"unsigned":-1}`,
	`{"score":1e400}`, `{"score":-0.0}`, `{"count":"x"}`, `{"count":3}`, `{"count":"\"3\""}`,
	`{"num":"12"}`, `{"num":"x"}`, `{"num":""}`, `{"num":true}`, `[1,2.5,-3e-5,"4"]`, `["1","2"]`,
	`{"fixed":[1,2,3]}`, `{"fixed":[1]}`, `{"ints":{"a":1,"b":"2"}}`, `{"by_id":{"1":"a","x":"b"}}`,
	// Methods.
	`{"upper":"shout","level":"high"}`, `{"level":"nope"}`, `{"upper":5}`,
	// Raw values and bytes.
	`{"raw":{"a" : [1, 2]},"bytes":"aGVsbG8="}`, `{"bytes":"not base64!"}`, `[{"x":1}, 2, "s", null]`,
	// Kinds that do not fit.
	`{"tags":"not a list"}`, `{"meta":[1]}`, `{"author":"x"}`, `{"done":"true"}`, `"a string"`, `42`, `true`, `[]`, `{}`,
	// Not JSON, or not all of it.
	``, ` `, `{`, `[1,]`, `{"a":1}}`, `{"a":1} x`, `<html>502</html>`, `[1] [2]`, `{"a":tru}`, `{'a':1}`, `NaN`,
}

// decodeCompat decodes in with both codecs into fresh values of shape.
func decodeCompat(in []byte, shape func() any) (std, def any, errStd, errDef error) {
	std, def = shape(), shape()
	errStd = StdJSON{}.Unmarshal(in, std)
	errDef = DefaultJSON{}.Unmarshal(in, def)
	return std, def, errStd, errDef
}

// compatDiff describes how the two results differ, or "".
func compatDiff(std, def any, errStd, errDef error) string {
	if (errStd == nil) != (errDef == nil) {
		return fmt.Sprintf("encoding/json: %v; DefaultJSON: %v", errStd, errDef)
	}
	if errStd == nil && !compatEqual(std, def) {
		return fmt.Sprintf("values differ:\n encoding/json: %#v\n DefaultJSON:   %#v", reflect.ValueOf(std).Elem(), reflect.ValueOf(def).Elem())
	}
	return ""
}

// compatEqual compares decoded values; times are compared as instants in
// the same offset (their *time.Location values may be distinct but equal).
func compatEqual(a, b any) bool {
	return reflect.DeepEqual(normTimes(reflect.ValueOf(a)), normTimes(reflect.ValueOf(b)))
}

// normTimes returns v with every time.Time replaced by its RFC 3339 text.
func normTimes(v reflect.Value) any {
	b, err := json.Marshal(v.Interface())
	if err != nil {
		return err.Error()
	}
	var out any
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	if err := d.Decode(&out); err != nil {
		return err.Error()
	}
	return out
}

func TestDefaultJSONMatchesEncodingJSON(t *testing.T) {
	for _, in := range compatInputs {
		for name, shape := range compatShapes {
			std, def, errStd, errDef := decodeCompat([]byte(in), shape)
			if d := compatDiff(std, def, errStd, errDef); d != "" {
				t.Errorf("%s into %s: %s", in, name, d)
			}
		}
	}
}

// TestDefaultJSONKeepsFieldsOnNull: null leaves a non-pointer field as it
// was, as in encoding/json, when decoding into a value that has data.
func TestDefaultJSONKeepsFieldsOnNull(t *testing.T) {
	for _, c := range []JSONCodec{StdJSON{}, DefaultJSON{}} {
		row := compatRow{ID: 5, Title: "kept", Num: "7", Tags: []string{"x"}}
		require.NoError(t, c.Unmarshal([]byte(`{"id":null,"title":null,"num":null,"tags":null}`), &row))
		assert.Equal(t, int64(5), row.ID, "%T", c)
		assert.Equal(t, "kept", row.Title, "%T", c)
		assert.Equal(t, json.Number("7"), row.Num, "%T", c)
		assert.Nil(t, row.Tags, "%T: null sets a slice to nil", c)
	}
}

// FuzzDefaultJSON decodes random input with both codecs into several
// shapes and requires the same outcome.
func FuzzDefaultJSON(f *testing.F) {
	for _, in := range compatInputs {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		for name, shape := range compatShapes {
			std, def, errStd, errDef := decodeCompat(in, shape)
			if d := compatDiff(std, def, errStd, errDef); d != "" {
				t.Fatalf("%q into %s: %s", in, name, d)
			}
		}
	})
}

// recordingCodec counts its calls, decoding with encoding/json.
type recordingCodec struct{ calls *int }

func (r recordingCodec) Unmarshal(data []byte, v any) error {
	*r.calls++
	return json.Unmarshal(data, v)
}

// TestWithJSONCodec: the chosen codec decodes the rows of All, One and
// Rows; a nil codec is refused.
func TestWithJSONCodec(t *testing.T) {
	_, err := NewClient("https://x.supabase.co", "k", WithJSONCodec(nil))
	require.ErrorIs(t, err, ErrInvalidArgument)

	srv, _ := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, []byte(`[{"id":1,"title":"a"},{"id":2,"title":"b"}]`))
	})
	calls := 0
	c, err := NewClient(srv.ProjectURL, coreTestKey, WithJSONCodec(recordingCodec{&calls}))
	require.NoError(t, err)
	ctx := context.Background()
	type row struct {
		ID    int    `json:"id"`
		Title string `json:"title"`
	}
	rows, err := All[row](ctx, c.From("todos"))
	require.NoError(t, err)
	assert.Equal(t, []row{{1, "a"}, {2, "b"}}, rows)
	assert.Equal(t, 1, calls, "All decodes the array in one call")

	calls = 0
	var got []row
	for r, err := range Rows[row](ctx, c.From("todos")) {
		require.NoError(t, err)
		got = append(got, r)
	}
	assert.Equal(t, rows, got)
	assert.Equal(t, 2, calls, "Rows decodes row by row")

	calls = 0
	_, err = One[row](ctx, c.From("todos"))
	assert.ErrorIs(t, err, ErrTooManyRows)
	assert.Equal(t, 1, calls, "One decodes the first row only")
}

// TestCodecErrorsAreInvalidResponse: a body DefaultJSON refuses is an
// ErrInvalidResponse *Error; one that is not JSON at all is quoted as an
// excerpt, rows that do not fit are not.
func TestCodecErrorsAreInvalidResponse(t *testing.T) {
	for body, excerpt := range map[string]bool{`<html>bad gateway</html>`: true, `[{"id":"not a number"}]`: false} {
		srv, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, []byte(body))
		})
		_ = srv
		_, err := All[struct {
			ID int `json:"id"`
		}](context.Background(), c.From("todos"))
		var e *Error
		require.True(t, errors.As(err, &e), "%v", err)
		assert.ErrorIs(t, err, ErrInvalidResponse)
		assert.Equal(t, excerpt, strings.Contains(e.Details, "bad gateway"), "%s: %+v", body, e)
		assert.NotContains(t, e.Error(), "not a number")
	}
}

// TestRecycledBodiesNeverReachTheCaller: All and Page decode from a
// recycled buffer; what they return must not share it, whatever the
// codec, so a later request cannot change an earlier result. Execute hands
// the body itself to the caller and never recycles it.
func TestRecycledBodiesNeverReachTheCaller(t *testing.T) {
	type row struct {
		Title string          `json:"title"`
		Raw   json.RawMessage `json:"raw"`
		Num   json.Number     `json:"num"`
		Any   any             `json:"any"`
		Bytes []byte          `json:"bytes"`
	}
	bodies := []string{
		`[{"title":"aaaa","raw":{"k":"aaaa"},"num":1111,"any":{"s":"aaaa"},"bytes":"YWFhYQ=="}]`,
		`[{"title":"bbbb","raw":{"k":"bbbb"},"num":2222,"any":{"s":"bbbb"},"bytes":"YmJiYg=="}]`,
	}
	n := 0
	srv, _ := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Range", "0-0/1")
		writeJSON(w, http.StatusOK, []byte(bodies[n%2]))
		n++
	})
	want := row{Title: "aaaa", Raw: json.RawMessage(`{"k":"aaaa"}`), Num: "1111", Any: map[string]any{"s": "aaaa"}, Bytes: []byte("aaaa")}
	for _, codec := range []JSONCodec{DefaultJSON{}, StdJSON{}} {
		c, err := NewClient(srv.ProjectURL, coreTestKey, WithJSONCodec(codec))
		require.NoError(t, err)
		ctx := context.Background()
		n = 0
		first, err := All[row](ctx, c.From("todos"))
		require.NoError(t, err)
		page, err := Page[row](ctx, c.From("todos"))
		require.NoError(t, err)
		for range 3 {
			_, err = All[row](ctx, c.From("todos"))
			require.NoError(t, err)
			_, err = Page[row](ctx, c.From("todos"))
			require.NoError(t, err)
		}
		assert.Equal(t, []row{want}, first, "%T", codec)
		assert.Equal(t, "bbbb", page.Rows[0].Title, "%T", codec)
		assert.Equal(t, json.RawMessage(`{"k":"bbbb"}`), page.Rows[0].Raw, "%T", codec)

		n = 0
		resp, err := c.From("todos").Execute(ctx)
		require.NoError(t, err)
		for range 3 {
			_, err = All[row](ctx, c.From("todos"))
			require.NoError(t, err)
		}
		assert.Equal(t, bodies[0], string(resp.Body), "%T", codec)
	}
}

// TestRowsHintIsBounded: the result slice is sized from Content-Range only
// when the body could hold that many rows and the slice would not dwarf
// the body.
func TestRowsHintIsBounded(t *testing.T) {
	h := func(v string) http.Header { return http.Header{"Content-Range": {v}} }
	type small struct{ ID int }
	type large struct{ Pad [4096]byte }
	n, ok := rowsHint[small](h("0-99/*"), 13000)
	assert.True(t, ok)
	assert.Equal(t, 100, n)
	_, ok = rowsHint[small](h("0-999999/*"), 13000)
	assert.False(t, ok, "more rows than the body can hold")
	_, ok = rowsHint[large](h("0-999/*"), 3000*3)
	assert.False(t, ok, "a slice far larger than the body")
	_, ok = rowsHint[small](h("*/100"), 13000)
	assert.False(t, ok)
	_, ok = rowsHint[small](nil, 13000)
	assert.False(t, ok)
}

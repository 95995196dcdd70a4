package pgrest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzEncodeQuery checks that EncodeQuery's output is a query string that
// decodes, with form decoding, to exactly the pairs given, that a URL
// keeps it as it is, and that it holds no byte a query string or
// PostgREST's parser would read as a separator (& ; = + # and space).
func FuzzEncodeQuery(f *testing.F) {
	f.Add("select", "*", "name", "eq.a b")
	f.Add("a&b", "c=d;e", "+", "%zz#x")
	f.Add("", "", "é", "\x00\xff")
	f.Add("or", "(a.eq.\"x,y\",b.in.(1,2))", "k", "{\"a\":[1,2]}")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		pairs := []Pair{{Key: k1, Value: v1}, {Key: k2, Value: v2}}
		q := EncodeQuery(pairs)
		for i := 0; i < len(q); i++ {
			c := q[i]
			if c == '%' {
				if i+2 >= len(q) || !strings.ContainsRune(upperhex, rune(q[i+1])) || !strings.ContainsRune(upperhex, rune(q[i+2])) {
					t.Fatalf("EncodeQuery(%v) = %q: bad escape at %d", pairs, q, i)
				}
				continue
			}
			if !keepTable[c] && c != '&' && c != '=' {
				t.Fatalf("EncodeQuery(%v) = %q: %q left unescaped", pairs, q, c)
			}
		}
		if strings.Count(q, "&") != 1 || strings.Count(q, "=") != 2 {
			t.Fatalf("EncodeQuery(%v) = %q: separators", pairs, q)
		}
		vals, err := url.ParseQuery(q)
		if err != nil {
			t.Fatalf("EncodeQuery(%v) = %q: %v", pairs, q, err)
		}
		want := url.Values{}
		for _, p := range pairs {
			want[p.Key] = append(want[p.Key], p.Value)
		}
		if !reflect.DeepEqual(vals, want) {
			t.Fatalf("EncodeQuery(%v) = %q, decodes to %q", pairs, q, vals)
		}
		u, err := url.Parse("http://example.com/rest/v1/t?" + q)
		if err != nil || u.RawQuery != q {
			t.Fatalf("EncodeQuery(%v) = %q: URL %v %v", pairs, q, u, err)
		}
		req, err := http.NewRequest(http.MethodGet, "http://example.com/t?"+q, nil)
		if err != nil || req.URL.RequestURI() != "/t?"+q {
			t.Fatalf("EncodeQuery(%v) = %q: request %v", pairs, q, err)
		}
	})
}

// jsonMembers walks a JSON object with encoding/json's decoder and returns
// its members in document order, values compacted.
func jsonMembers(t *testing.T, b []byte) ([]Member, bool) {
	d := json.NewDecoder(bytes.NewReader(b))
	tok, err := d.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var out []Member
	for d.More() {
		k, err := d.Token()
		if err != nil {
			t.Fatalf("%q: %v", b, err)
		}
		var raw json.RawMessage
		if err := d.Decode(&raw); err != nil {
			t.Fatalf("%q: %v", b, err)
		}
		out = append(out, Member{Key: k.(string), Value: compact(t, raw)})
	}
	return out, true
}

func compact(t *testing.T, raw []byte) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		t.Fatalf("compact %q: %v", raw, err)
	}
	return buf.Bytes()
}

// FuzzObjectMembers checks the object scanner RPC uses against
// encoding/json: for a valid JSON object, the same members with the same
// keys and values, in the same order; for anything else, no panic.
func FuzzObjectMembers(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"a":1,"b":"x","c":null}`, ` {"a" : [1, {"b":"}"}], "a":{"\"":"\\"} } `, `{"\u00e9":"\ud83d\ude80"}`,
		`{"a":1`, `{"a":"\xff"}`, `{"\xff":1}`, `[{"a":1},{"b":2,"a":3}]`, `{"a":1}x`, `{"a":tru}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ObjectMembers(b)
		keys, kerr := ArrayObjectKeys(b)
		if !json.Valid(b) {
			return // never sent: only the absence of a panic matters
		}
		if want, ok := jsonMembers(t, b); ok {
			if err != nil {
				t.Fatalf("ObjectMembers(%q): %v", b, err)
			}
			if len(got) != len(want) {
				t.Fatalf("ObjectMembers(%q) = %q, want %q", b, got, want)
			}
			for i := range got {
				if got[i].Key != want[i].Key || !bytes.Equal(compact(t, got[i].Value), want[i].Value) {
					t.Fatalf("ObjectMembers(%q) member %d = %q: %s, want %q: %s", b, i, got[i].Key, got[i].Value, want[i].Key, want[i].Value)
				}
			}
		} else if err == nil {
			t.Fatalf("ObjectMembers(%q) = %q for a non-object", b, got)
		}

		// ArrayObjectKeys: the union of the keys of an array of objects.
		var elems []json.RawMessage
		if Kind(b) != '[' || json.Unmarshal(b, &elems) != nil { // (null unmarshals into a slice)
			if kerr == nil {
				t.Fatalf("ArrayObjectKeys(%q) = %q for a non-array", b, keys)
			}
			return
		}
		var want []string
		seen := map[string]bool{}
		for _, e := range elems {
			ms, ok := jsonMembers(t, e)
			if !ok {
				if kerr == nil {
					t.Fatalf("ArrayObjectKeys(%q) = %q, but an element is not an object", b, keys)
				}
				return
			}
			for _, m := range ms {
				if !seen[m.Key] {
					seen[m.Key] = true
					want = append(want, m.Key)
				}
			}
		}
		if kerr != nil || !reflect.DeepEqual(keys, want) && len(keys)+len(want) > 0 {
			t.Fatalf("ArrayObjectKeys(%q) = %q, %v; want %q", b, keys, kerr, want)
		}
	})
}

// FuzzParamText checks the text of a JSON value sent as a GET function
// argument: a string unquoted as encoding/json does, a scalar as written,
// an object as its JSON, an array as the Postgres array literal of its
// elements; never a panic.
func FuzzParamText(f *testing.F) {
	for _, s := range []string{`"a b"`, `"\u0000"`, `12.5e3`, `null`, `true`, `{"a":[1]}`, `[1,"a,b",null,[2]]`,
		`[[1],[2,3]]`, `[{"a":1}]`, ``, `  "x"  `, `[1,`, `"\ud800"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		text, hasObject, err := ParamText(raw)
		if !json.Valid(raw) {
			return
		}
		var v any
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if d.Decode(&v) != nil {
			t.Fatalf("%q", raw)
		}
		if _, err := d.Token(); err != io.EOF {
			return
		}
		switch x := v.(type) {
		case string:
			if err != nil || text != x || hasObject {
				t.Fatalf("ParamText(%q) = %q, %v, %v; want %q", raw, text, hasObject, err, x)
			}
		case map[string]any:
			if err != nil || !hasObject || !bytes.Equal(compact(t, []byte(text)), compact(t, raw)) {
				t.Fatalf("ParamText(%q) = %q, %v, %v", raw, text, hasObject, err)
			}
		case []any:
			want, werr := Array(x)
			if (werr == nil) != (err == nil) || text != want || hasObject != containsObject(x) {
				t.Fatalf("ParamText(%q) = %q, %v, %v; want %q, %v", raw, text, hasObject, err, want, werr)
			}
		default:
			if err != nil || hasObject || text != strings.TrimSpace(string(raw)) {
				t.Fatalf("ParamText(%q) = %q, %v, %v", raw, text, hasObject, err)
			}
		}
	})
}

// FuzzCleanSelect checks that CleanSelect drops exactly the whitespace
// outside double quotes, keeps everything else in order, and is stable;
// text that is not UTF-8 is left for CheckText to refuse.
func FuzzCleanSelect(f *testing.F) {
	for _, s := range []string{"", " ", "id, name", `"first name", id`, `a"b c`, "x\u00a0y", "*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := CleanSelect(s)
		if !utf8.ValidString(s) {
			if got != s {
				t.Fatalf("CleanSelect(%q) = %q, want it unchanged", s, got)
			}
			return
		}
		var want strings.Builder
		quoted := false
		for i, r := range s {
			if r == '"' {
				quoted = !quoted
			}
			if quoted || r == '"' || !unicode.IsSpace(r) {
				want.WriteString(s[i : i+utf8.RuneLen(r)])
			}
		}
		w := want.String()
		if w == "" {
			w = "*"
		}
		if got != w {
			t.Fatalf("CleanSelect(%q) = %q, want %q", s, got, w)
		}
		if again := CleanSelect(got); again != got {
			t.Fatalf("CleanSelect(%q) = %q, then %q", s, got, again)
		}
	})
}

// FuzzParams drives a Params through Append, Set, Get and Delete chosen by
// the fuzzer, beside a plain slice of pairs as the model, and branches from
// earlier lists so that siblings share blocks. After every step each list
// seen so far must still encode to exactly EncodeQuery of its model, with
// the prefix in front of its URL.
func FuzzParams(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 1, 2, 1, 1, 3, 3, 0, 0, 5, 0, 0, 0, 2, 2}, "k", "v w", "é&=")
	f.Add([]byte{4, 3, 200, 1, 3, 1, 2, 3, 0, 5, 1, 0}, "order", "\x00", "\xff")
	f.Fuzz(func(t *testing.T, ops []byte, a, b, c string) {
		strs := []string{a, b, c, "select", "order", "x", "", strings.Repeat("y", 300)}
		type list struct {
			ps    Params
			model []Pair
		}
		const prefix = "https://h/rest/v1/t?"
		lists := []list{{ps: Prefixed("https://h/rest/v1", "/", "t")}}
		if len(ops) > 0 && ops[0]&1 == 1 {
			lists[0].ps = Params{}
		}
		cur := lists[0]
		for i := 0; i+2 < len(ops) && i < 90; i += 3 {
			k := strs[int(ops[i+1]&0x7f)%len(strs)]
			v := strs[int(ops[i+2]&0x7f)%len(strs)]
			p := Pair{Key: k, Value: v}
			if ops[i+2]&0x80 != 0 {
				p.Op = "not.eq"
			}
			if ops[i+1]&0x80 != 0 {
				p.Suffix = ".desc"
			}
			valid := CheckText(p.Key) == nil && CheckText(p.Value) == nil && CheckText(p.Suffix) == nil
			next := cur
			switch ops[i] % 6 {
			case 0, 4:
				if ops[i]%6 == 4 {
					p = Pair{Key: k, Num: int64(ops[i+2]) - 100, IsNum: true}
					valid = CheckText(p.Key) == nil
				}
				ps, err := cur.ps.Append(p)
				if (err == nil) != valid {
					t.Fatalf("Append(%+v): %v", p, err)
				}
				if err == nil {
					next = list{ps, append(slices.Clip(cur.model), p)}
				}
			case 1:
				ps, err := cur.ps.Set(p)
				if (err == nil) != valid {
					t.Fatalf("Set(%+v): %v", p, err)
				}
				if err == nil {
					m := slices.Clone(cur.model)
					if j := slices.IndexFunc(m, func(q Pair) bool { return q.Key == p.Key }); j >= 0 {
						m[j] = p
					} else {
						m = append(m, p)
					}
					next = list{ps, m}
				}
			case 2:
				next = list{cur.ps.Delete(k), slices.DeleteFunc(slices.Clone(cur.model), func(q Pair) bool { return q.Key == k })}
			case 3:
				got, ok := cur.ps.Get(k)
				j := slices.IndexFunc(cur.model, func(q Pair) bool { return q.Key == k })
				if ok != (j >= 0) || (ok && got != cur.model[j].Text()) {
					t.Fatalf("Get(%q) = %q, %v; model %+v", k, got, ok, cur.model)
				}
			case 5:
				next = lists[int(ops[i+1])%len(lists)]
			}
			cur = next
			lists = append(lists, cur)
			for _, l := range lists {
				want := EncodeQuery(l.model)
				if got := l.ps.String(); got != want {
					t.Fatalf("list encodes to %q, model %q", got, want)
				}
				if l.ps.Len() != len(l.model) {
					t.Fatalf("Len %d, model %d", l.ps.Len(), len(l.model))
				}
				wantURL := prefix + want
				if want == "" {
					wantURL = strings.TrimSuffix(prefix, "?")
				}
				if got := l.ps.URL("https://h/rest/v1", "/", "t", ""); got != wantURL {
					t.Fatalf("URL %q, want %q", got, wantURL)
				}
				if got := l.ps.URL("https://h/rest/v1", "/", "t", "select=*"); got != strings.TrimSuffix(prefix+"select=*&"+want, "&") {
					t.Fatalf("URL with lead %q", got)
				}
			}
		}
	})
}

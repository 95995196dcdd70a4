package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// suiteDirs are the corpora: the public one ($SUPABASE_CONFORMANCE_DIR or
// the copy in testdata) and this repository's own.
func suiteDirs() []string {
	public := filepath.Join("..", "..", "testdata", "conformance")
	if d := os.Getenv("SUPABASE_CONFORMANCE_DIR"); d != "" {
		public = d
	}
	return []string{public, filepath.Join("..", "..", "testdata", "conformance-extra")}
}

// TestReplayGoldens sends every golden request, as recorded, to the case's
// server: the server must pick the rule the recorder picked, and Compare
// must find no difference between a golden and its own replay. This checks
// the rule server, the recorder's normalisation and the comparator against
// the corpus itself.
func TestReplayGoldens(t *testing.T) {
	for _, dir := range suiteDirs() {
		s, err := LoadSuite(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Entries) == 0 {
			t.Fatalf("%s: empty suite", dir)
		}
		replayGoldens(t, s)
	}
}

func replayGoldens(t *testing.T, s *Suite) {
	for _, e := range s.Entries {
		t.Run(filepath.Base(s.Dir)+"/"+e.File+"/"+e.Case.Name, func(t *testing.T) {
			srv := NewServer(&e.Case)
			defer srv.Close()
			for i, gr := range e.Golden.Requests {
				srv.SetStep(gr.Step)
				u := srv.URL + gr.RawPath
				if gr.RawQuery != "" {
					u += "?" + gr.RawQuery
				}
				var body io.Reader
				switch {
				case gr.Body != nil:
					body = bytes.NewReader(gr.Body)
				case gr.BodyText != nil:
					body = strings.NewReader(*gr.BodyText)
				}
				req, err := http.NewRequest(gr.Method, u, body)
				if err != nil {
					t.Fatal(err)
				}
				for k, v := range gr.Headers {
					req.Header.Set(k, v)
				}
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				got := srv.Requests()[i]
				if (gr.Rule == nil) != (got.Rule == nil) || gr.Rule != nil && *gr.Rule != *got.Rule {
					t.Errorf("request %d: rule %v, golden %v", i, ptr(got.Rule), ptr(gr.Rule))
				}
			}
			for _, d := range Compare(e.Golden.Requests, srv.Requests(), CompareOptions{Strict: true}) {
				t.Error(d)
			}
			for _, d := range srv.Errors() {
				t.Error(d)
			}
		})
	}
}

func ptr(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestParseQuery(t *testing.T) {
	got := ParseQuery("select=id%2Ctitle&&a=b+c&x&or=(a.eq.1,b.eq.2)&bad=%zz&e=")
	want := []Pair{{"select", "id,title"}, {"a", "b c"}, {"x", ""}, {"or", "(a.eq.1,b.eq.2)"}, {"bad", "%zz"}, {"e", ""}}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("pair %d: %q, want %q", i, got[i], want[i])
		}
	}
}

func TestCompare(t *testing.T) {
	base := Request{Method: "GET", Path: "/rest/v1/t",
		Query:   []Pair{{"select", "*"}, {"a", "eq.1"}, {"a", "eq.1"}},
		Headers: map[string]string{"prefer": "count=exact, return=minimal", "x-client-info": "supabase-js", "apikey": "k"},
		Body:    json.RawMessage(`{"a":1,"b":[1,2],"c":null}`)}
	same := base.Clone()
	same.Query = []Pair{{"a", "eq.1"}, {"select", "*"}, {"a", "eq.1"}}
	same.Headers["prefer"] = "return=minimal,count=exact"
	same.Headers["x-client-info"] = "supabase-go"
	same.Body = json.RawMessage(`{"c":null,"b":[1,2],"a":1.0}`)
	if d := Compare([]Request{base}, []Request{same}, CompareOptions{Strict: true}); d != nil {
		t.Errorf("equal requests reported different: %q", d)
	}

	cases := map[string]func(r *Request){
		"duplicate lost":   func(r *Request) { r.Query = r.Query[:2] },
		"value differs":    func(r *Request) { r.Query[1][1] = "eq.2" },
		"prefer token":     func(r *Request) { r.Headers["prefer"] = "count=exact" },
		"header value":     func(r *Request) { r.Headers["apikey"] = "x" },
		"header missing":   func(r *Request) { delete(r.Headers, "apikey") },
		"extra header":     func(r *Request) { r.Headers["content-type"] = "application/json" },
		"null vs missing":  func(r *Request) { r.Body = json.RawMessage(`{"a":1,"b":[1,2]}`) },
		"array order":      func(r *Request) { r.Body = json.RawMessage(`{"a":1,"b":[2,1],"c":null}`) },
		"no body":          func(r *Request) { r.Body = nil },
		"text body":        func(r *Request) { r.Body = nil; s := "x"; r.BodyText = &s },
		"method":           func(r *Request) { r.Method = "HEAD" },
		"path":             func(r *Request) { r.Path = "/rest/v1/u" },
		"step":             func(r *Request) { r.Step = 1 },
		"no x-client-info": func(r *Request) { delete(r.Headers, "x-client-info") },
	}
	for name, mutate := range cases {
		r := base.Clone()
		mutate(&r)
		if d := Compare([]Request{base}, []Request{r}, CompareOptions{Strict: true}); len(d) == 0 {
			t.Errorf("%s: no difference reported", name)
		}
	}
	if d := Compare([]Request{base}, nil, CompareOptions{}); len(d) == 0 {
		t.Error("missing request not reported")
	}
}

func TestDiffJSONInstants(t *testing.T) {
	w, _ := DecodeJSON([]byte(`{"t":"2025-12-31T23:59:00.000000Z","n":null}`))
	g, _ := DecodeJSON([]byte(`{"t":"2025-12-31T23:59:00Z"}`))
	if d := DiffJSON(w, g, JSONOptions{Instants: true, MissingAsNull: true}); d != nil {
		t.Errorf("got %q", d)
	}
	if d := DiffJSON(w, g, JSONOptions{}); len(d) != 2 {
		t.Errorf("got %q, want 2 differences", d)
	}
}

func TestApplyDivergences(t *testing.T) {
	rule0 := 0
	e := Entry{
		Case: Case{Name: "c", Steps: []Step{{Target: "auth.admin"}, {Target: "db"}},
			Responses: []Rule{{Match: Match{Method: "GET"}, Headers: map[string]string{"X-Total-Count": "3"}}}},
		Golden: Golden{
			Requests: []Request{
				{Step: 0, Method: "GET", Path: "/auth/v1/admin/users", Query: []Pair{{"page", ""}, {"a", "1"}}, Rule: &rule0},
				{Step: 1, Method: "DELETE", Path: "/rest/v1/t", Headers: map[string]string{"content-type": "application/json"}},
				{Step: 2, Method: "GET", Path: "/late"},
			},
			Results: []Result{
				{Kind: "auth", Result: json.RawMessage(`{"data":{"total":0},"error":null}`)},
				{Kind: "data", Result: json.RawMessage(`{"data":null,"error":null}`)},
			},
		},
	}
	var seenSteps []int
	dropGET := &Divergence{Name: "drop-get",
		When: func(x *Exchange) bool { seenSteps = append(seenSteps, x.Index); return x.Target() == "auth.admin" },
		Rewrite: func(x *Exchange) error {
			x.Requests = x.Requests[:0]
			return nil
		}}
	total := &Divergence{Name: "total",
		When: func(x *Exchange) bool { return x.Result != nil && x.Result.Kind == "auth" },
		Rewrite: func(x *Exchange) error {
			m, err := x.ResultObject()
			if err != nil {
				return err
			}
			v, _ := x.Answer(&e.Golden.Requests[0]).Header("x-total-count")
			m["data"].(map[string]any)["total"] = json.Number(v)
			return x.SetResultObject(m)
		}}
	noop := &Divergence{Name: "noop", When: func(*Exchange) bool { return true },
		Rewrite: func(x *Exchange) error {
			if x.Step != nil && x.Step.Target == "db" {
				x.Requests[0].Headers["content-type"] = "application/json" // the same value: no change
			}
			return nil
		}}
	g, touched, err := ApplyDivergences(&e, []*Divergence{dropGET, total, noop})
	if err != nil {
		t.Fatal(err)
	}
	if len(touched) != 2 || touched[0] != dropGET || touched[1] != total {
		t.Errorf("touched %v, want drop-get and total", touched)
	}
	if fmt.Sprint(seenSteps) != "[0 1 2]" {
		t.Errorf("predicate saw steps %v, want [0 1 2] (the last for late requests)", seenSteps)
	}
	if len(g.Requests) != 2 || g.Requests[0].Path != "/rest/v1/t" || g.Requests[0].Step != 1 || g.Requests[1].Step != 2 {
		t.Errorf("requests %+v", g.Requests)
	}
	if got := string(g.Results[0].Result); got != `{"data":{"total":3},"error":null}` {
		t.Errorf("result %s", got)
	}
	// The entry is untouched.
	if len(e.Golden.Requests) != 3 || string(e.Golden.Results[0].Result) != `{"data":{"total":0},"error":null}` {
		t.Error("ApplyDivergences modified the entry")
	}
	failing := &Divergence{Name: "bad", When: func(*Exchange) bool { return true },
		Rewrite: func(*Exchange) error { return fmt.Errorf("unexpected shape") }}
	if _, _, err := ApplyDivergences(&e, []*Divergence{failing}); err == nil || !strings.Contains(err.Error(), "bad") {
		t.Errorf("rewrite error not reported with the rule's name: %v", err)
	}
}

func TestReplaceQueryValue(t *testing.T) {
	x := &Exchange{Requests: []Request{
		{Query: []Pair{{"c", "in.(a)"}, {"c", "in.(a)"}, {"d", "in.(a)"}}},
		{Query: []Pair{{"c", "in.(a)"}}}, // a retry of the same request
	}}
	done := map[[2]int]bool{}
	for i := range 2 { // two identical filters: each replaced once
		if !x.ReplaceQueryValue(done, "c", "in.(a)", "in.(b)") {
			t.Fatalf("replacement %d: not found", i)
		}
	}
	if x.ReplaceQueryValue(done, "c", "in.(a)", "in.(b)") {
		t.Error("a third replacement found a pair to replace")
	}
	if got := fmt.Sprint(x.Requests[0].Query, x.Requests[1].Query); got != "[[c in.(b)] [c in.(b)] [d in.(a)]] [[c in.(b)]]" {
		t.Errorf("got %s", got)
	}
}

func TestJSEncodings(t *testing.T) {
	for _, c := range []struct{ in, list, array string }{
		{`["a","b"]`, `(a,b)`, `{a,b}`},
		{`["say \"hi\"","back\\slash","two words","a,b","(x)"]`, `(say "hi",back\slash,two words,"a,b","(x)")`, `{say "hi",back\slash,two words,a,b,(x)}`},
		{`["",null,true,0]`, `(,null,true,0)`, `{,,true,0}`},
		{`[7,"7",7.0,"x","x"]`, `(7,7,x)`, `{7,7,7,x,x}`},
		{`[1.50,1e21,0.0000001,-0]`, `(1.5,1e+21,1e-7,0)`, `{1.5,1e+21,1e-7,0}`},
		{`[[1,2],[3,null]]`, `(1,2,3,)`, `{1,2,3,}`},
		{`[{"a":1}]`, `([object Object])`, `{[object Object]}`},
		{`[]`, `()`, `{}`},
	} {
		l, err := JSInList(json.RawMessage(c.in))
		if err != nil || l != c.list {
			t.Errorf("JSInList(%s) = %q, %v; want %q", c.in, l, err, c.list)
		}
		a, err := JSArrayLiteral(json.RawMessage(c.in))
		if err != nil || a != c.array {
			t.Errorf("JSArrayLiteral(%s) = %q, %v; want %q", c.in, a, err, c.array)
		}
	}
	if _, err := JSInList(json.RawMessage(`"x"`)); err == nil {
		t.Error("JSInList of a string: no error")
	}
}

func TestLinkPages(t *testing.T) {
	for h, want := range map[string][2]int{
		`</admin/users?page=12&per_page=10>; rel="next", </admin/users?page=15&per_page=10>; rel="last"`: {12, 15},
		`</admin/users?page=2&per_page=50>; rel="last"`:                                                  {0, 2},
		`<https://x/admin/users?per_page=5&page=3>; rel=next`:                                            {3, 0},
		`garbage, <x?page=a>; rel="next"`:                                                                {0, 0},
		``:                                                                                               {0, 0},
	} {
		n, l := LinkPages(h)
		if [2]int{n, l} != want {
			t.Errorf("LinkPages(%q) = %d, %d; want %v", h, n, l, want)
		}
	}
}

func TestArgs(t *testing.T) {
	a := NewArgs(Call{Call: "select", Args: []json.RawMessage{
		json.RawMessage(`"id"`), json.RawMessage(`{"count":"exact","head":true,"extra":1}`),
		json.RawMessage(`[1,"a",null,true,{"k":2},[1.50]]`)}})
	if a.Str(0) != "id" {
		t.Error("Str")
	}
	o := a.Obj(1)
	if o.Str("count") != "exact" || o.Bool("head") == nil || !*o.Bool("head") || o.Bool("none") != nil {
		t.Error("Object fields")
	}
	if a.Err() != nil {
		t.Fatal(a.Err())
	}
	o.Done()
	if a.Err() == nil || !strings.Contains(a.Err().Error(), "extra") {
		t.Errorf("unread option not reported: %v", a.Err())
	}
	v := a.Value(2).([]any)
	if v[0] != json.Number("1") || v[1] != "a" || v[2] != nil || v[3] != true ||
		string(v[4].(json.RawMessage)) != `{"k":2}` || v[5].([]any)[0] != json.Number("1.50") {
		t.Errorf("Value: %#v", v)
	}
	b := NewArgs(Call{Call: "eq", Args: []json.RawMessage{json.RawMessage(`1`)}})
	b.Max(0)
	if b.Err() == nil {
		t.Error("Max: extra argument not reported")
	}
}

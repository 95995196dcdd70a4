package conformance

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func suiteDir() string {
	if d := os.Getenv("SUPABASE_CONFORMANCE_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "testdata", "conformance")
}

// TestReplayGoldens sends every golden request, as recorded, to the case's
// server: the server must pick the rule the recorder picked, and Compare
// must find no difference between a golden and its own replay. This checks
// the rule server, the recorder's normalisation and the comparator against
// the corpus itself.
func TestReplayGoldens(t *testing.T) {
	s, err := LoadSuite(suiteDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Entries) == 0 {
		t.Fatal("empty suite")
	}
	for _, e := range s.Entries {
		t.Run(e.File+"/"+e.Case.Name, func(t *testing.T) {
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

func TestPatches(t *testing.T) {
	g := Golden{
		Requests: []Request{
			{Method: "GET", Path: "/auth/v1/admin/users/x", Query: []Pair{{"page", ""}, {"a", "1"}}, Headers: map[string]string{"content-type": "application/json"}},
			{Method: "POST", Path: "/auth/v1/factors/f1/challenge", Headers: map[string]string{"content-type": "application/json"},
				Body: json.RawMessage(`{"factorId":"f1","channel":"sms","n":12345678901234567890}`)},
		},
		Results: []Result{{Kind: "auth", Result: json.RawMessage(`{"data":{"total":0},"error":null}`)}},
	}
	c := g.Clone()
	Patches(
		NoContentTypeWithoutBody,
		DropEmptyQuery,
		SetQuery("a", "1", "2"),
		DropBodyKeys("/auth/v1/factors/*/challenge", "factorId"),
		RenameBodyKey("/auth/v1/factors/*/challenge", "channel", "via"),
		PatchResult(0, func(res map[string]any) { res["data"].(map[string]any)["total"] = 2 }),
	)(&c)
	if _, ok := c.Requests[0].Headers["content-type"]; ok {
		t.Error("content-type kept on a body-less request")
	}
	if _, ok := c.Requests[1].Headers["content-type"]; !ok {
		t.Error("content-type dropped from a request with a body")
	}
	if len(c.Requests[0].Query) != 1 || c.Requests[0].Query[0] != (Pair{"a", "2"}) {
		t.Errorf("query %q", c.Requests[0].Query)
	}
	if got := string(c.Requests[1].Body); got != `{"n":12345678901234567890,"via":"sms"}` {
		t.Errorf("body %s", got)
	}
	if got := string(c.Results[0].Result); got != `{"data":{"total":2},"error":null}` {
		t.Errorf("result %s", got)
	}
	// The original is untouched.
	if len(g.Requests[0].Query) != 2 || g.Requests[0].Headers["content-type"] == "" ||
		string(g.Requests[1].Body) != `{"factorId":"f1","channel":"sms","n":12345678901234567890}` ||
		string(g.Results[0].Result) != `{"data":{"total":0},"error":null}` {
		t.Error("Clone shares state with the original")
	}
	DropRequests(func(r *Request) bool { return r.Method == "GET" })(&c)
	if len(c.Requests) != 1 || c.Requests[0].Method != "POST" {
		t.Errorf("DropRequests left %d requests", len(c.Requests))
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

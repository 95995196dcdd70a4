package conformance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Divergence is a rule stating a deliberate difference from supabase-js once
// for every case it applies to: a predicate saying which steps of a case it
// concerns (by the calls made and the requests, answers and results
// recorded) and a rewrite turning what supabase-js sent and returned there
// into what the SDK under test must send and return.
//
// Rules are never keyed to case names: a rule right for one case is right
// for every case its predicate selects, in any corpus.
type Divergence struct {
	// Name identifies the rule in reports and in DIVERGENCES.md.
	Name string
	// Scope says in words what When selects.
	Scope string
	// JS, Go and Why document the difference: what supabase-js does, what
	// the SDK does instead, and why.
	JS, Go, Why string
	// When is the predicate: whether the rule concerns this step.
	When func(x *Exchange) bool
	// Rewrite transforms the step's golden requests and result (a copy)
	// into the SDK's. It changes nothing where the two agree; an error
	// means the recording does not look the way the rule expects.
	Rewrite func(x *Exchange) error
}

// Exchange is one step of a case as rules see it: the calls, the golden
// requests sent while it ran, the answers they got and the result.
type Exchange struct {
	Case *Case
	// Index is the step's index; len(Case.Steps) for requests that arrived
	// after the last step (Step and Result are then nil).
	Index    int
	Step     *Step
	Requests []Request
	Result   *Result
	// Before holds the case's earlier steps, in order, as rules have left
	// them so far (read them, never change them).
	Before []*Exchange
}

// Target is the step's target ("db" when empty).
func (x *Exchange) Target() string {
	if x.Step == nil {
		return ""
	}
	if x.Step.Target == "" {
		return "db"
	}
	return x.Step.Target
}

// Calls returns the step's call chain.
func (x *Exchange) Calls() []Call {
	if x.Step == nil {
		return nil
	}
	return x.Step.Chain
}

// CallsAny reports whether the step's chain makes a call named one of names.
func (x *Exchange) CallsAny(names ...string) bool {
	for _, c := range x.Calls() {
		for _, n := range names {
			if c.Call == n {
				return true
			}
		}
	}
	return false
}

// AnyRequest reports whether one of the step's requests satisfies f.
func (x *Exchange) AnyRequest(f func(r *Request) bool) bool {
	for i := range x.Requests {
		if f(&x.Requests[i]) {
			return true
		}
	}
	return false
}

// Answer returns the response rule that answered r: the case's rule the
// recorder noted, or the default answer.
func (x *Exchange) Answer(r *Request) Rule {
	if r.Rule != nil && *r.Rule >= 0 && *r.Rule < len(x.Case.Responses) {
		return x.Case.Responses[*r.Rule]
	}
	return DefaultResponse(r.Method, r.Path)
}

// AnswerIndex returns the index of the case's response rule that answers
// r first (ignoring which once-rules were used up), or -1 for the default.
func (x *Exchange) AnswerIndex(r *Request) int {
	for i := range x.Case.Responses {
		if RuleMatches(&x.Case.Responses[i].Match, r) {
			return i
		}
	}
	return -1
}

// ResultObject decodes the step's result ({data, error, ...}).
func (x *Exchange) ResultObject() (map[string]any, error) {
	if x.Result == nil || x.Result.Kind == "thrown" {
		return nil, errors.New("step has no result object")
	}
	v, err := DecodeJSON(x.Result.Result)
	m, ok := v.(map[string]any)
	if err != nil || !ok {
		return nil, fmt.Errorf("step %d: result is not a JSON object", x.Index)
	}
	return m, nil
}

// SetResultObject stores m as the step's result.
func (x *Exchange) SetResultObject(m map[string]any) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	x.Result.Result = b
	return nil
}

// HasBody reports whether r carries a body.
func (r *Request) HasBody() bool { return r.Body != nil || r.BodyText != nil }

// Under reports whether r's decoded path is prefix or below it.
func (r *Request) Under(prefix string) bool {
	return r.Path == prefix || strings.HasPrefix(r.Path, strings.TrimSuffix(prefix, "/")+"/")
}

// BodyObject decodes r's body as a JSON object; ok is false for any other
// body.
func (r *Request) BodyObject() (m map[string]any, ok bool) {
	if r.Body == nil {
		return nil, false
	}
	v, err := DecodeJSON(r.Body)
	m, ok = v.(map[string]any)
	return m, err == nil && ok
}

// SetBodyObject stores m as r's JSON body.
func (r *Request) SetBodyObject(m map[string]any) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	r.Body = b
	return nil
}

// BodyHasKey reports whether r's body is a JSON object with key k.
func (r *Request) BodyHasKey(k string) bool {
	m, ok := r.BodyObject()
	if !ok {
		return false
	}
	_, has := m[k]
	return has
}

// ReplaceQueryValue replaces, in every request of the step, the first
// query pair (name, from) not replaced before by (name, to), and reports
// whether any request had one. Each replacement is remembered in done, so
// that two identical filters are each replaced once.
func (x *Exchange) ReplaceQueryValue(done map[[2]int]bool, name, from, to string) bool {
	found := false
	for i := range x.Requests {
		r := &x.Requests[i]
		for j, p := range r.Query {
			if done[[2]int{i, j}] || p[0] != name || p[1] != from {
				continue
			}
			r.Query[j][1] = to
			done[[2]int{i, j}] = true
			found = true
			break
		}
	}
	return found
}

// Header returns the value of the rule's header name (any spelling).
func (r Rule) Header(name string) (string, bool) {
	for k, v := range r.Headers {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// ApplyDivergences returns e's golden with every rule applied to every step its
// predicate selects, in the order given, and the rules that changed it.
// The entry itself is not modified.
func ApplyDivergences(e *Entry, rules []*Divergence) (Golden, []*Divergence, error) {
	g := e.Golden.Clone()
	xs := make([]*Exchange, len(e.Case.Steps)+1)
	for i := range xs {
		xs[i] = &Exchange{Case: &e.Case, Index: i, Before: xs[:i:i]}
		if i < len(e.Case.Steps) {
			xs[i].Step = &e.Case.Steps[i]
			xs[i].Result = &g.Results[i]
		}
	}
	for _, r := range g.Requests {
		i := r.Step
		if i < 0 || i >= len(xs) {
			return Golden{}, nil, fmt.Errorf("golden request %s: no step %d", r.Summary(), i)
		}
		xs[i].Requests = append(xs[i].Requests, r)
	}
	var touched []*Divergence
	for _, rule := range rules {
		changed := false
		for _, x := range xs {
			if !rule.When(x) {
				continue
			}
			before, err := snapshot(x)
			if err != nil {
				return Golden{}, nil, err
			}
			if err := rule.Rewrite(x); err != nil {
				return Golden{}, nil, fmt.Errorf("rule %s, step %d: %w", rule.Name, x.Index, err)
			}
			after, err := snapshot(x)
			if err != nil {
				return Golden{}, nil, err
			}
			if !bytes.Equal(before, after) {
				changed = true
			}
		}
		if changed {
			touched = append(touched, rule)
		}
	}
	g.Requests = g.Requests[:0:0]
	for _, x := range xs {
		for _, r := range x.Requests {
			r.Step = x.Index
			g.Requests = append(g.Requests, r)
		}
	}
	return g, touched, nil
}

// snapshot is the step's requests and result in a canonical form (JSON
// re-encoded with sorted keys), so that re-encoding alone is no change.
func snapshot(x *Exchange) ([]byte, error) {
	canon := func(b json.RawMessage) (json.RawMessage, error) {
		if b == nil {
			return nil, nil
		}
		v, err := DecodeJSON(b)
		if err != nil {
			return b, nil
		}
		return json.Marshal(v)
	}
	reqs := make([]Request, len(x.Requests))
	for i, r := range x.Requests {
		reqs[i] = r.Clone()
		var err error
		if reqs[i].Body, err = canon(r.Body); err != nil {
			return nil, err
		}
	}
	var res *Result
	if x.Result != nil {
		c := *x.Result
		var err error
		if c.Result, err = canon(c.Result); err != nil {
			return nil, err
		}
		res = &c
	}
	return json.Marshal(struct {
		R []Request
		X *Result
	}{reqs, res})
}

// LinkPages reads the page numbers of the rel="next" and rel="last" links
// of a Link header value (RFC 8288), such as
// `</admin/users?page=3&per_page=50>; rel="next", </admin/users?page=4&per_page=50>; rel="last"`.
// A page is the whole number in the target's page parameter; 0 when absent.
func LinkPages(header string) (next, last int) {
	for _, link := range strings.Split(header, ",") {
		target, params, ok := strings.Cut(link, ";")
		if !ok {
			continue
		}
		target = strings.TrimSpace(target)
		if !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
			continue
		}
		u, err := url.Parse(target[1 : len(target)-1])
		if err != nil {
			continue
		}
		page, err := strconv.Atoi(u.Query().Get("page"))
		if err != nil || page < 0 {
			continue
		}
		for _, p := range strings.Split(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if !strings.EqualFold(strings.TrimSpace(k), "rel") {
				continue
			}
			for _, rel := range strings.Fields(strings.Trim(strings.TrimSpace(v), `"`)) {
				switch strings.ToLower(rel) {
				case "next":
					next = page
				case "last":
					last = page
				}
			}
		}
	}
	return next, last
}

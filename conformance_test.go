package supabase_test

// TestConformance replays the supabase-js conformance corpora
// (testdata/conformance and testdata/conformance-extra, see their README.md
// files) with this SDK: for every case a local server answers from the
// case's response rules, the case's steps are mapped onto the Go API and
// run, and what the server received is compared with the requests
// supabase-js 2.119.0 sent; the results are compared with what supabase-js
// returned.
//
// Where this SDK deliberately differs, a rule in divergenceRules
// (conformance_rules_test.go, rendered in testdata/conformance/DIVERGENCES.md)
// rewrites the golden of every case it concerns into what this SDK must do;
// such a case counts as diverged. A case that calls an API this SDK does
// not have is skipped and counted as unimplemented.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/supabase-go/supabase"
	"github.com/supabase-go/supabase/internal/conformance"
)

// conformanceDir is the public corpus folder: $SUPABASE_CONFORMANCE_DIR or
// the copy in testdata.
func conformanceDir() string {
	if d := os.Getenv("SUPABASE_CONFORMANCE_DIR"); d != "" {
		return d
	}
	return filepath.Join("testdata", "conformance")
}

// conformanceDirs are the corpora TestConformance replays: the public one
// and this repository's own (testdata/conformance-extra).
func conformanceDirs() []string {
	return []string{conformanceDir(), filepath.Join("testdata", "conformance-extra")}
}

type tally struct {
	mu                                         sync.Mutex
	ran, matched, diverged, unimplemented, bad int
	unimplementedCalls                         map[string]int
	divergedBy                                 map[string]int // rule name → cases
}

func (t *tally) add(f func(*tally)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f(t)
}

// ruleProof collects, per rule, the cases whose replay needed it.
type ruleProof struct {
	mu    sync.Mutex
	cases map[string][]string
}

func (p *ruleProof) add(rule, c string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cases[rule] = append(p.cases[rule], c)
}

func TestConformance(t *testing.T) {
	dirs := conformanceDirs()
	var suites []*conformance.Suite
	seen := map[string]string{}
	for _, d := range dirs {
		s, err := conformance.LoadSuite(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range s.Entries {
			if prev, dup := seen[e.Case.Name]; dup {
				t.Fatalf("case %q is in both %s and %s: names must be unique across corpora", e.Case.Name, prev, d)
			}
			seen[e.Case.Name] = d
		}
		suites = append(suites, s)
	}
	proof := &ruleProof{cases: map[string][]string{}}
	complete := true
	var summaries []string
	for _, suite := range suites {
		tl := &tally{unimplementedCalls: map[string]int{}, divergedBy: map[string]int{}}
		t.Run(filepath.Base(suite.Dir), func(t *testing.T) {
			files := []string{}
			byFile := map[string][]conformance.Entry{}
			for _, e := range suite.Entries {
				if _, ok := byFile[e.File]; !ok {
					files = append(files, e.File)
				}
				byFile[e.File] = append(byFile[e.File], e)
			}
			for _, file := range files {
				t.Run(file, func(t *testing.T) {
					for _, e := range byFile[file] {
						t.Run(e.Case.Name, func(t *testing.T) {
							t.Parallel()
							runCase(t, e, tl, proof)
						})
					}
				})
			}
		})
		if tl.ran != len(suite.Entries) {
			complete = false
		}
		summaries = append(summaries, fmt.Sprintf("conformance: %d matched, %d diverged (listed), %d unimplemented, %d failed (%s)",
			tl.matched, tl.diverged, tl.unimplemented, tl.bad, suite.Dir))
		if len(tl.unimplementedCalls) > 0 {
			t.Logf("%s: unimplemented calls: %s", suite.Dir, countList(tl.unimplementedCalls))
		}
		if len(tl.divergedBy) > 0 {
			t.Logf("%s: diverged cases by rule: %s", suite.Dir, countList(tl.divergedBy))
		}
	}
	// Every rule must be needed by at least one case, so none goes stale.
	if complete {
		for _, r := range divergenceRules {
			if len(proof.cases[r.Name]) == 0 {
				t.Errorf("rule %s is stale: no case in %s needs it (remove it, or record a case showing the difference)",
					r.Name, strings.Join(dirs, ", "))
			}
		}
	} else {
		t.Log("not every case ran: rule liveness not checked")
	}
	// One line per corpus on stdout: shown by go test -v, and whenever the
	// test fails.
	for _, s := range summaries {
		fmt.Fprintln(os.Stdout, s)
	}
}

// runCase runs one case, checks it against its golden rewritten by the
// divergence rules that concern it, and records the outcome in tl and the
// rules it needed in proof.
func runCase(t *testing.T, e conformance.Entry, tl *tally, proof *ruleProof) {
	tl.add(func(tl *tally) { tl.ran++ })
	got, err := replay(e)
	var unimpl *unimplementedError
	switch {
	case errors.As(err, &unimpl):
		tl.add(func(tl *tally) { tl.unimplemented++; tl.unimplementedCalls[unimpl.call]++ })
		t.Skipf("not yet implemented: %v", unimpl)
	case err != nil:
		tl.add(func(tl *tally) { tl.bad++ })
		t.Fatalf("replay: %v", err)
	}
	fail := func(format string, v ...any) {
		tl.add(func(tl *tally) { tl.bad++ })
		t.Errorf(format, v...)
	}
	if problems := got.hidePKCE(len(e.Case.Steps)); len(problems) > 0 {
		fail("%s: PKCE values sent by the SDK:\n  %s", e.Case.Name, strings.Join(problems, "\n  "))
		return
	}

	want, touched, err := conformance.ApplyDivergences(&e, divergenceRules)
	if err != nil {
		fail("%s: divergence rules: %v", e.Case.Name, err)
		return
	}
	names := ruleNames(touched)
	if diffs := compareRun(want, got); len(diffs) > 0 {
		from := "the supabase-js golden"
		if len(touched) > 0 {
			from = "the golden rewritten by " + strings.Join(names, ", ")
		}
		fail("%s: %d difference(s) from %s:\n  %s", e.Case.Name, len(diffs), from, strings.Join(diffs, "\n  "))
		for _, r := range got.requests {
			t.Logf("sent: %s", r.Summary())
		}
		return
	}
	// Every rule that rewrote the golden must be needed: without it, the
	// case must not match.
	var needless []string
	for _, r := range touched {
		w, _, err := conformance.ApplyDivergences(&e, withoutRule(divergenceRules, r))
		if err == nil && len(compareRun(w, got)) == 0 {
			needless = append(needless, r.Name)
		}
	}
	if len(needless) > 0 {
		fail("%s: rule(s) %s rewrote the golden, yet the SDK matches it without them: the predicate is too broad",
			e.Case.Name, strings.Join(needless, ", "))
		return
	}
	for _, n := range names {
		proof.add(n, e.Case.Name)
	}
	if len(touched) > 0 {
		tl.add(func(tl *tally) {
			tl.diverged++
			for _, n := range names {
				tl.divergedBy[n]++
			}
		})
		t.Logf("diverged: %s", strings.Join(names, ", "))
		return
	}
	tl.add(func(tl *tally) { tl.matched++ })
}

// countList formats counts as "name×n, ..." sorted by name.
func countList(m map[string]int) string {
	out := make([]string, 0, len(m))
	for k, n := range m {
		out = append(out, fmt.Sprintf("%s×%d", k, n))
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

func ruleNames(rules []*conformance.Divergence) []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = r.Name
	}
	return out
}

func withoutRule(rules []*conformance.Divergence, drop *conformance.Divergence) []*conformance.Divergence {
	var out []*conformance.Divergence
	for _, r := range rules {
		if r != drop {
			out = append(out, r)
		}
	}
	return out
}

// run is what one replay produced.
type run struct {
	requests []conformance.Request
	outcomes []outcome
}

// compareRun lists the differences between a golden and a replay (whose
// PKCE values are hidden already, see run.hidePKCE).
func compareRun(want conformance.Golden, got *run) []string {
	want, problems := hideGoldenPKCE(want)
	if len(problems) > 0 {
		return append([]string{"the golden's PKCE values:"}, problems...)
	}
	diffs := conformance.Compare(want.Requests, got.requests, conformance.CompareOptions{Strict: true})
	for i, o := range got.outcomes {
		for _, d := range o.compare(want.Results[i]) {
			diffs = append(diffs, fmt.Sprintf("step %d result: %s", i, d))
		}
	}
	return diffs
}

// ---------------------------------------------------------------------------
// PKCE values
//
// A code verifier is random, in supabase-js as in this SDK, so its value
// and its challenge's are not compared. Instead, in a golden and in a
// replay alike, every code_challenge (in a request body or query, or in a
// URL a step returned) must be an S256 challenge, and every code_verifier
// sent to /token?grant_type=pkce must be an RFC 7636 verifier whose S256 is
// a challenge that came before it. Both are then replaced by placeholders
// that number the challenges in order of appearance, so the comparison
// still sees which exchange answers which flow, and nothing random. No
// divergence rule is involved: both sides are held to the same relation.

var (
	challengeRE      = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)
	verifierRE       = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)
	challengeInURLRE = regexp.MustCompile(`([?&]code_challenge=)([^&#]*)`)
)

// pkceHider replaces PKCE values by placeholders, collecting what is wrong
// with them.
type pkceHider struct {
	index    map[string]int // challenge → order of first appearance
	problems []string
}

func (h *pkceHider) challenge(v string) string {
	if !challengeRE.MatchString(v) {
		h.problems = append(h.problems, fmt.Sprintf("code_challenge %q is not an S256 challenge (43 base64url characters)", v))
		return v
	}
	n, ok := h.index[v]
	if !ok {
		n = len(h.index) + 1
		h.index[v] = n
	}
	return fmt.Sprintf("(code_challenge #%d)", n)
}

func (h *pkceHider) verifier(v string) string {
	if !verifierRE.MatchString(v) {
		h.problems = append(h.problems, fmt.Sprintf("code_verifier of %d characters is not an RFC 7636 verifier", len(v)))
		return v
	}
	sum := sha256.Sum256([]byte(v))
	n, ok := h.index[base64.RawURLEncoding.EncodeToString(sum[:])]
	if !ok {
		h.problems = append(h.problems, "a code_verifier was sent whose S256 is no code_challenge sent before it")
		return v
	}
	return fmt.Sprintf("(code_verifier of #%d)", n)
}

// request hides the PKCE values of r, which must be a copy.
func (h *pkceHider) request(r *conformance.Request) {
	for i, p := range r.Query {
		if p[0] == "code_challenge" {
			r.Query[i][1] = h.challenge(p[1])
		}
	}
	m, ok := r.BodyObject()
	if !ok {
		return
	}
	changed := false
	if v, ok := m["code_challenge"].(string); ok {
		m["code_challenge"], changed = h.challenge(v), true
	}
	if v, ok := m["code_verifier"].(string); ok && r.Method == "POST" && r.Path == "/auth/v1/token" &&
		slices.Contains(r.Query, conformance.Pair{"grant_type", "pkce"}) {
		m["code_verifier"], changed = h.verifier(v), true
	}
	if changed {
		if err := r.SetBodyObject(m); err != nil {
			h.problems = append(h.problems, err.Error())
		}
	}
}

// value hides the challenges in the URLs of a JSON-shaped result value,
// in place.
func (h *pkceHider) value(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = h.value(e)
		}
	case []any:
		for i, e := range x {
			x[i] = h.value(e)
		}
	case string:
		return challengeInURLRE.ReplaceAllStringFunc(x, func(m string) string {
			sub := challengeInURLRE.FindStringSubmatch(m)
			return sub[1] + h.challenge(sub[2])
		})
	}
	return v
}

// hideSteps walks the steps in order, each step's requests before its
// result (where a returned URL carries a challenge).
func (h *pkceHider) hideSteps(steps int, reqs []conformance.Request, result func(i int)) {
	for i := 0; i <= steps; i++ {
		for j := range reqs {
			if reqs[j].Step == i {
				h.request(&reqs[j])
			}
		}
		if i < steps {
			result(i)
		}
	}
}

func newPKCEHider() *pkceHider { return &pkceHider{index: map[string]int{}} }

// hidePKCE hides the PKCE values of a replay, in place; steps is the
// number of steps of its case.
func (r *run) hidePKCE(steps int) []string {
	h := newPKCEHider()
	h.hideSteps(steps, r.requests, func(i int) {
		if i < len(r.outcomes) && r.outcomes[i].check == nil {
			r.outcomes[i].data = h.value(r.outcomes[i].data)
		}
	})
	return h.problems
}

// hideGoldenPKCE returns a copy of g with its PKCE values hidden.
func hideGoldenPKCE(g conformance.Golden) (conformance.Golden, []string) {
	h := newPKCEHider()
	reqs := make([]conformance.Request, len(g.Requests))
	for i, r := range g.Requests {
		reqs[i] = r.Clone()
	}
	results := slices.Clone(g.Results)
	h.hideSteps(len(results), reqs, func(i int) {
		if len(results[i].Result) == 0 || !bytes.Contains(results[i].Result, []byte("code_challenge=")) {
			return
		}
		v, err := conformance.DecodeJSON(results[i].Result)
		if err != nil {
			h.problems = append(h.problems, err.Error())
			return
		}
		b, err := json.Marshal(h.value(v))
		if err != nil {
			h.problems = append(h.problems, err.Error())
			return
		}
		results[i].Result = b
	})
	g.Requests, g.Results = reqs, results
	return g, h.problems
}

type unimplementedError struct{ call string }

func (e *unimplementedError) Error() string { return e.call + " has no Go mapping yet" }

func unimplemented(target, call string) error {
	return &unimplementedError{call: target + "." + call}
}

// replay runs the case's steps against a fresh server and client.
func replay(e conformance.Entry) (*run, error) {
	srv := conformance.NewServer(&e.Case)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()

	c, err := newClient(srv, &e)
	if err != nil {
		return nil, err
	}
	r := &replayer{ctx: ctx, client: c, base: srv.URL}
	out := &run{}
	for i, step := range e.Case.Steps {
		srv.SetStep(i)
		o, err := r.step(step)
		if err != nil {
			return nil, fmt.Errorf("step %d: %w", i, err)
		}
		out.outcomes = append(out.outcomes, o)
	}
	srv.SetStep(len(e.Case.Steps))
	time.Sleep(10 * time.Millisecond) // let stray requests arrive, as the recorder does
	out.requests = srv.Requests()
	if errs := srv.Errors(); len(errs) > 0 {
		return nil, fmt.Errorf("case server: %s", strings.Join(errs, "; "))
	}
	return out, nil
}

// newClient maps the case's key and createClient options onto NewClient.
// Session persistence and auto-refresh are off in the recorder, which is
// this SDK's default (in-memory session, refresh on use only).
func newClient(srv *conformance.Server, e *conformance.Entry) (*supabase.Client, error) {
	o, err := e.Case.Options()
	if err != nil {
		return nil, err
	}
	opts := []supabase.Option{supabase.WithHTTPClient(srv.Client())}
	if o.DB != nil && o.DB.Schema != "" {
		opts = append(opts, supabase.WithSchema(o.DB.Schema))
	}
	if o.Global != nil && len(o.Global.Headers) > 0 {
		opts = append(opts, supabase.WithHeaders(o.Global.Headers))
	}
	if o.AccessToken != nil {
		tok := *o.AccessToken
		opts = append(opts, supabase.WithAccessTokenFunc(func(context.Context) (string, error) { return tok, nil }))
	}
	for k, v := range o.Auth {
		switch k {
		case "persistSession", "autoRefreshToken", "detectSessionInUrl":
			if v != false {
				return nil, fmt.Errorf("clientOptions.auth.%s=%v has no mapping", k, v)
			}
		case "flowType":
			ft, _ := v.(string)
			opts = append(opts, supabase.WithFlowType(supabase.FlowType(ft)))
		default:
			return nil, fmt.Errorf("clientOptions.auth.%s has no mapping", k)
		}
	}
	return supabase.NewClient(srv.URL, e.Golden.Key, opts...)
}

type replayer struct {
	ctx    context.Context
	client *supabase.Client
	base   string // server URL, replaced by http://127.0.0.1:PORT in results
}

func (r *replayer) step(s conformance.Step) (outcome, error) {
	switch s.Target {
	case "db", "rpc", "":
		return r.db(s.Chain)
	case "auth", "auth.mfa", "auth.admin", "auth.admin.mfa":
		if len(s.Chain) != 1 {
			return outcome{}, fmt.Errorf("%s: chains of %d calls are not supported", s.Target, len(s.Chain))
		}
		return r.auth(s.Target, s.Chain[0])
	case "storage", "functions": // conformance_storage_test.go
		return r.storageOrFunctions(s.Target, s.Chain)
	}
	if len(s.Chain) == 0 {
		return outcome{}, fmt.Errorf("%s: empty chain", s.Target)
	}
	return outcome{}, unimplemented(s.Target, s.Chain[0].Call) // e.g. storage, functions
}

// ---------------------------------------------------------------------------
// Database chains

func (r *replayer) db(chain []conformance.Call) (outcome, error) {
	c := r.client
	var q supabase.Query
	started := false
	for _, call := range chain {
		a := conformance.NewArgs(call)
		if !started {
			switch call.Call {
			case "schema":
				c = c.Schema(a.Str(0))
				a.Max(1)
			case "from":
				q = c.From(a.Str(0))
				a.Max(1)
				started = true
			case "rpc":
				q = r.rpc(c, a)
				started = true
			default:
				return outcome{}, unimplemented("db", call.Call)
			}
		} else {
			var err error
			q, err = r.queryCall(q, a)
			if err != nil {
				return outcome{}, err
			}
		}
		if a.Err() != nil {
			return outcome{}, a.Err()
		}
	}
	if !started {
		return outcome{}, errors.New("db chain without from or rpc")
	}
	resp, err := q.Execute(r.ctx)
	o := outcome{kind: "data", err: err}
	if err == nil {
		o.status = resp.Status
		o.count = resp.Count
		o.data = bodyValue(resp.Body)
		o.exact = true
	}
	return o, nil
}

// bodyValue is how supabase-js presents a response body: parsed JSON, the
// text itself when it is not JSON (CSV, text plans), null when empty.
func bodyValue(b []byte) any {
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	v, err := conformance.DecodeJSON(b)
	if err != nil {
		return string(b)
	}
	return v
}

func countOpt(o *conformance.Object) (supabase.CountMethod, bool) {
	m := o.Str("count")
	if m == "" {
		return "", false
	}
	return supabase.CountMethod(m), true
}

func (r *replayer) rpc(c *supabase.Client, a *conformance.Args) supabase.Query {
	fn := a.Str(0)
	var params any
	if a.Has(1) {
		params = a.Raw[1]
	}
	o := a.Obj(2)
	var opts []supabase.RPCOption
	if b := o.Bool("get"); b != nil && *b {
		opts = append(opts, supabase.RPCGet())
	}
	if b := o.Bool("head"); b != nil && *b {
		opts = append(opts, supabase.Head())
	}
	if co, ok := countOpt(o); ok {
		opts = append(opts, co)
	}
	o.Done()
	a.Max(3)
	return c.RPC(fn, params, opts...)
}

// refTable reads referencedTable (or its older name foreignTable).
func refTable(o *conformance.Object) (supabase.ReferencedTableOption, bool) {
	t := o.Str("referencedTable")
	if ft := o.Str("foreignTable"); ft != "" {
		t = ft
	}
	if t == "" {
		return supabase.ReferencedTableOption{}, false
	}
	return supabase.ReferencedTable(t), true
}

func (r *replayer) queryCall(q supabase.Query, a *conformance.Args) (supabase.Query, error) {
	col := func() string { return a.Str(0) }
	switch a.Call {
	case "select":
		cols := ""
		if a.Has(0) {
			cols = a.Str(0)
		}
		o := a.Obj(1)
		var opts []supabase.SelectOption
		if co, ok := countOpt(o); ok {
			opts = append(opts, co)
		}
		if b := o.Bool("head"); b != nil && *b {
			opts = append(opts, supabase.Head())
		}
		o.Done()
		a.Max(2)
		return q.Select(cols, opts...), nil
	case "insert", "upsert":
		values := a.JSON(0)
		o := a.Obj(1)
		var opts []supabase.WriteOption
		if co, ok := countOpt(o); ok {
			opts = append(opts, co)
		}
		if b := o.Bool("defaultToNull"); b != nil {
			opts = append(opts, supabase.DefaultToNull(*b))
		}
		if a.Call == "upsert" {
			if oc := o.Str("onConflict"); oc != "" {
				opts = append(opts, supabase.OnConflict(oc))
			}
			if b := o.Bool("ignoreDuplicates"); b != nil && *b {
				opts = append(opts, supabase.IgnoreDuplicates())
			}
		}
		o.Done()
		a.Max(2)
		if a.Call == "insert" {
			return q.Insert(values, opts...), nil
		}
		return q.Upsert(values, opts...), nil
	case "update":
		values := a.JSON(0)
		o := a.Obj(1)
		var opts []supabase.WriteOption
		if co, ok := countOpt(o); ok {
			opts = append(opts, co)
		}
		o.Done()
		a.Max(2)
		return q.Update(values, opts...), nil
	case "delete":
		o := a.Obj(0)
		var opts []supabase.WriteOption
		if co, ok := countOpt(o); ok {
			opts = append(opts, co)
		}
		o.Done()
		a.Max(1)
		return q.Delete(opts...), nil

	case "eq", "neq", "gt", "gte", "lt", "lte", "isDistinct", "in", "notIn", "contains", "containedBy", "overlaps", "is":
		c, v := col(), a.Value(1)
		a.Max(2)
		switch a.Call {
		case "eq":
			return q.Eq(c, v), nil
		case "neq":
			return q.Neq(c, v), nil
		case "gt":
			return q.Gt(c, v), nil
		case "gte":
			return q.Gte(c, v), nil
		case "lt":
			return q.Lt(c, v), nil
		case "lte":
			return q.Lte(c, v), nil
		case "isDistinct":
			return q.IsDistinct(c, v), nil
		case "in":
			return q.In(c, v), nil
		case "notIn":
			return q.NotIn(c, v), nil
		case "contains":
			return q.Contains(c, v), nil
		case "containedBy":
			return q.ContainedBy(c, v), nil
		case "overlaps":
			return q.Overlaps(c, v), nil
		case "is":
			return q.Is(c, v), nil
		}
	case "like", "ilike", "regexMatch", "regexIMatch", "rangeGt", "rangeGte", "rangeLt", "rangeLte", "rangeAdjacent":
		c, s := col(), a.Str(1)
		a.Max(2)
		f := map[string]func(string, string) supabase.Query{
			"like": q.Like, "ilike": q.ILike, "regexMatch": q.RegexMatch, "regexIMatch": q.RegexIMatch,
			"rangeGt": q.RangeGt, "rangeGte": q.RangeGte, "rangeLt": q.RangeLt, "rangeLte": q.RangeLte,
			"rangeAdjacent": q.RangeAdjacent,
		}[a.Call]
		return f(c, s), nil
	case "likeAllOf", "likeAnyOf", "ilikeAllOf", "ilikeAnyOf":
		c, ps := col(), a.Strings(1)
		a.Max(2)
		f := map[string]func(string, []string) supabase.Query{
			"likeAllOf": q.LikeAllOf, "likeAnyOf": q.LikeAnyOf, "ilikeAllOf": q.ILikeAllOf, "ilikeAnyOf": q.ILikeAnyOf,
		}[a.Call]
		return f(c, ps), nil
	case "textSearch":
		c, query := col(), a.Str(1)
		o := a.Obj(2)
		var opts []supabase.TextSearchOption
		switch t := o.Str("type"); t {
		case "":
		case "plain":
			opts = append(opts, supabase.SearchType(supabase.TextSearchPlain))
		case "phrase":
			opts = append(opts, supabase.SearchType(supabase.TextSearchPhrase))
		case "websearch":
			opts = append(opts, supabase.SearchType(supabase.TextSearchWebsearch))
		default:
			a.Fail("unknown type %q", t)
		}
		if o.Has("config") {
			opts = append(opts, supabase.SearchConfig(o.Str("config")))
		}
		o.Done()
		a.Max(3)
		return q.TextSearch(c, query, opts...), nil
	case "match":
		// Values as for eq; a Go map has no order, so Match sends the
		// filters sorted by column (the query is compared as a multiset).
		m := map[string]any{}
		for k, raw := range a.Obj(0).Fields {
			v, err := conformance.JSValue(raw)
			if err != nil {
				a.Fail("%s: %v", k, err)
			}
			m[k] = v
		}
		a.Max(1)
		return q.Match(m), nil
	case "not", "filter":
		c, op, v := col(), a.Str(1), a.Value(2)
		a.Max(3)
		if a.Call == "not" {
			return q.Not(c, op, v), nil
		}
		return q.Filter(c, op, v), nil
	case "or":
		f := a.Str(0)
		o := a.Obj(1)
		var opts []supabase.FilterOption
		if rt, ok := refTable(o); ok {
			opts = append(opts, rt)
		}
		o.Done()
		a.Max(2)
		return q.Or(f, opts...), nil
	case "order":
		c := col()
		o := a.Obj(1)
		var opts []supabase.OrderOption
		if asc := o.Bool("ascending"); asc != nil && !*asc {
			opts = append(opts, supabase.Descending())
		}
		if nf := o.Bool("nullsFirst"); nf != nil {
			if *nf {
				opts = append(opts, supabase.NullsFirst())
			} else {
				opts = append(opts, supabase.NullsLast())
			}
		}
		if rt, ok := refTable(o); ok {
			opts = append(opts, rt)
		}
		o.Done()
		a.Max(2)
		return q.Order(c, opts...), nil
	case "limit":
		n := a.Int(0)
		o := a.Obj(1)
		var opts []supabase.RangeOption
		if rt, ok := refTable(o); ok {
			opts = append(opts, rt)
		}
		o.Done()
		a.Max(2)
		return q.Limit(n, opts...), nil
	case "range":
		from, to := a.Int(0), a.Int(1)
		o := a.Obj(2)
		var opts []supabase.RangeOption
		if rt, ok := refTable(o); ok {
			opts = append(opts, rt)
		}
		o.Done()
		a.Max(3)
		return q.Range(from, to, opts...), nil
	case "single", "maybeSingle", "csv", "geojson", "rollback", "stripNulls":
		a.Max(0)
		return map[string]func() supabase.Query{
			"single": q.Single, "maybeSingle": q.MaybeSingle, "csv": q.CSV, "geojson": q.GeoJSON,
			"rollback": q.Rollback, "stripNulls": q.StripNulls,
		}[a.Call](), nil
	case "explain":
		o := a.Obj(0)
		e := supabase.ExplainOptions{Format: o.Str("format")}
		for k, p := range map[string]*bool{"analyze": &e.Analyze, "verbose": &e.Verbose, "settings": &e.Settings,
			"buffers": &e.Buffers, "wal": &e.WAL} {
			if b := o.Bool(k); b != nil {
				*p = *b
			}
		}
		o.Done()
		a.Max(1)
		return q.Explain(e), nil
	case "maxAffected":
		n := a.Int(0)
		a.Max(1)
		return q.MaxAffected(n), nil
	case "setHeader":
		k, v := a.Str(0), a.Str(1)
		a.Max(2)
		return q.Header(k, v), nil
	}
	return q, unimplemented("db", a.Call)
}

// ---------------------------------------------------------------------------
// Auth calls

func (r *replayer) auth(target string, call conformance.Call) (outcome, error) {
	a := conformance.NewArgs(call)
	var o outcome
	var err error
	switch target {
	case "auth":
		o, err = r.authCall(a)
	case "auth.mfa":
		o, err = r.mfaCall(a)
	case "auth.admin", "auth.admin.mfa":
		o, err = r.adminCall(target, a)
	default:
		return outcome{}, unimplemented(target, call.Call)
	}
	if err != nil {
		return outcome{}, err
	}
	if a.Err() != nil {
		return outcome{}, a.Err()
	}
	o.kind = "auth"
	return o, nil
}

// sessionData builds supabase-js's {user, session} from a session.
func sessionData(s *supabase.Session) map[string]any {
	if s == nil {
		return map[string]any{"user": nil, "session": nil}
	}
	return map[string]any{"user": s.User, "session": s}
}

func (r *replayer) authCall(a *conformance.Args) (outcome, error) {
	ctx, au := r.ctx, r.client.Auth
	switch a.Call {
	case "signUp":
		p := a.Obj(0)
		opt := p.Sub("options")
		sp := supabase.SignUpParams{
			Email: p.Str("email"), Phone: p.Str("phone"), Password: p.Str("password"),
			Data: opt.Map("data"), Channel: opt.Str("channel"),
		}
		ao := []supabase.AuthOption{supabase.WithRedirectTo(opt.Str("emailRedirectTo")), supabase.WithCaptchaToken(opt.Str("captchaToken"))}
		p.Done()
		opt.Done()
		a.Max(1)
		res, err := au.SignUp(ctx, sp, ao...)
		var data any
		if res != nil {
			data = map[string]any{"user": res.User, "session": res.Session}
		}
		return outcome{data: data, err: err}, nil

	case "signInWithPassword":
		p := a.Obj(0)
		opt := p.Sub("options")
		var opts []supabase.AuthOption
		if ct := opt.Str("captchaToken"); ct != "" {
			opts = append(opts, supabase.WithCaptchaToken(ct))
		}
		email, phone, pw := p.Str("email"), p.Str("phone"), p.Str("password")
		p.Done()
		opt.Done()
		a.Max(1)
		var s *supabase.Session
		var err error
		if phone != "" {
			s, err = au.SignInWithPhonePassword(ctx, phone, pw, opts...)
		} else {
			s, err = au.SignInWithPassword(ctx, email, pw, opts...)
		}
		data := sessionData(s)
		if s != nil && s.WeakPassword != nil {
			data["weakPassword"] = s.WeakPassword
		}
		return outcome{data: data, err: err}, nil

	case "signInWithOtp":
		p := a.Obj(0)
		opt := p.Sub("options")
		sp := supabase.SignInWithOTPParams{
			Email: p.Str("email"), Phone: p.Str("phone"),
			Data: opt.Map("data"), ShouldCreateUser: opt.Bool("shouldCreateUser"), Channel: opt.Str("channel"),
		}
		ao := []supabase.AuthOption{supabase.WithRedirectTo(opt.Str("emailRedirectTo")), supabase.WithCaptchaToken(opt.Str("captchaToken"))}
		p.Done()
		opt.Done()
		a.Max(1)
		res, err := au.SignInWithOTP(ctx, sp, ao...)
		return outcome{data: messageData(res), err: err}, nil

	case "verifyOtp":
		p := a.Obj(0)
		opt := p.Sub("options")
		vp := supabase.VerifyOTPParams{
			Email: p.Str("email"), Phone: p.Str("phone"), Token: p.Str("token"), TokenHash: p.Str("token_hash"),
			Type: supabase.OTPType(p.Str("type")),
		}
		ao := []supabase.AuthOption{supabase.WithRedirectTo(opt.Str("redirectTo")), supabase.WithCaptchaToken(opt.Str("captchaToken"))}
		p.Done()
		opt.Done()
		a.Max(1)
		res, err := au.VerifyOTP(ctx, vp, ao...)
		var data any
		if res != nil {
			data = map[string]any{"user": res.User, "session": res.Session}
		}
		return outcome{data: data, err: err}, nil

	case "signInAnonymously":
		p := a.Obj(0)
		opt := p.Sub("options")
		sp := supabase.SignInAnonymouslyParams{Data: opt.Map("data")}
		ct := supabase.WithCaptchaToken(opt.Str("captchaToken"))
		p.Done()
		opt.Done()
		a.Max(1)
		s, err := au.SignInAnonymously(ctx, sp, ct)
		return outcome{data: sessionData(s), err: err}, nil

	case "refreshSession":
		p := a.Obj(0)
		rt := p.Str("refresh_token")
		p.Done()
		a.Max(1)
		var s *supabase.Session
		var err error
		if rt != "" {
			s, err = au.RefreshSessionWith(ctx, rt)
		} else {
			s, err = au.RefreshSession(ctx)
		}
		return outcome{data: sessionData(s), err: err}, nil

	case "setSession":
		p := a.Obj(0)
		at, rt := p.Str("access_token"), p.Str("refresh_token")
		p.Done()
		a.Max(1)
		now := time.Now().Unix()
		s, err := au.SetSession(ctx, at, rt)
		o := outcome{data: sessionData(s), err: err}
		if s != nil && s.AccessToken == at {
			// supabase-js computes expires_in = exp - now with its clock
			// frozen at 2026-01-01T00:00:00Z; this SDK uses the real clock,
			// so the value is checked against the real clock instead.
			o.ignore = []string{"$.session.expires_in"}
			if want := s.ExpiresAt - now; s.ExpiresIn < want-5 || s.ExpiresIn > want+5 {
				o.extra = append(o.extra, fmt.Sprintf("session.expires_in %d, want expires_at - now = %d", s.ExpiresIn, want))
			}
		}
		return o, nil

	case "getUser":
		var u *supabase.User
		var err error
		if a.Has(0) {
			u, err = au.UserFromToken(ctx, a.Str(0))
		} else {
			u, err = au.User(ctx)
		}
		a.Max(1)
		return outcome{data: map[string]any{"user": u}, err: err}, nil

	case "getSession":
		a.Max(0)
		s, err := au.Session(ctx)
		return outcome{data: map[string]any{"session": s}, err: err}, nil

	case "updateUser":
		p := a.Obj(0)
		o := a.Obj(1)
		attrs := supabase.UserAttributes{
			Email: p.Str("email"), Phone: p.Str("phone"), Password: p.Str("password"), Nonce: p.Str("nonce"),
			Data: p.Map("data"),
		}
		rt := supabase.WithRedirectTo(o.Str("emailRedirectTo"))
		p.Done()
		o.Done()
		a.Max(2)
		u, err := au.UpdateUser(ctx, attrs, rt)
		return outcome{data: map[string]any{"user": u}, err: err}, nil

	case "signOut":
		p := a.Obj(0)
		scope := supabase.SignOutScope(p.Str("scope"))
		p.Done()
		a.Max(1)
		err := au.SignOut(ctx, scope)
		return outcome{err: err, noData: true}, nil

	case "resetPasswordForEmail":
		email := a.Str(0)
		o := a.Obj(1)
		var opts []supabase.AuthOption
		if rt := o.Str("redirectTo"); rt != "" {
			opts = append(opts, supabase.WithRedirectTo(rt))
		}
		if ct := o.Str("captchaToken"); ct != "" {
			opts = append(opts, supabase.WithCaptchaToken(ct))
		}
		o.Done()
		a.Max(2)
		err := au.ResetPasswordForEmail(ctx, email, opts...)
		return outcome{err: err, noData: true}, nil

	case "reauthenticate":
		a.Max(0)
		err := au.Reauthenticate(ctx)
		return outcome{err: err, noData: true}, nil

	case "resend":
		p := a.Obj(0)
		opt := p.Sub("options")
		rp := supabase.ResendParams{
			Type: supabase.OTPType(p.Str("type")), Email: p.Str("email"), Phone: p.Str("phone"),
		}
		ao := []supabase.AuthOption{supabase.WithRedirectTo(opt.Str("emailRedirectTo")), supabase.WithCaptchaToken(opt.Str("captchaToken"))}
		p.Done()
		opt.Done()
		a.Max(1)
		res, err := au.Resend(ctx, rp, ao...)
		return outcome{data: messageData(res), err: err}, nil

	case "signInWithOAuth":
		p := a.Obj(0)
		opt := p.Sub("options")
		provider := p.Str("provider")
		op := supabase.OAuthParams{Scopes: opt.Str("scopes")}
		rt := supabase.WithRedirectTo(opt.Str("redirectTo"))
		if qp := opt.Map("queryParams"); qp != nil {
			op.QueryParams = map[string]string{}
			for k, v := range qp {
				op.QueryParams[k] = fmt.Sprint(v)
			}
		}
		opt.Bool("skipBrowserRedirect") // no browser here: the URL is returned
		p.Done()
		opt.Done()
		a.Max(1)
		u, err := au.SignInWithOAuthURL(ctx, provider, op, rt)
		u = strings.Replace(u, r.base, "http://127.0.0.1:PORT", 1)
		return outcome{data: map[string]any{"provider": provider, "url": u}, err: err, urls: true}, nil

	case "exchangeCodeForSession":
		code := a.Str(0)
		a.Max(1)
		res, err := au.ExchangeCodeForSession(ctx, code)
		data := map[string]any{"user": nil, "session": nil, "redirectType": nil}
		if res != nil {
			data["user"], data["session"], data["redirectType"] = res.User, res.Session, nullIfEmpty(res.RedirectType)
		}
		return outcome{data: data, err: err}, nil

	case "signInWithIdToken":
		c, opts := idTokenArgs(a)
		s, err := au.SignInWithIDToken(ctx, c, opts...)
		return outcome{data: sessionData(s), err: err}, nil

	case "signInWithSSO":
		p := a.Obj(0)
		opt := p.Sub("options")
		sp := supabase.SSOParams{Domain: p.Str("domain"), ProviderID: p.Str("providerId")}
		ao := []supabase.AuthOption{supabase.WithRedirectTo(opt.Str("redirectTo")), supabase.WithCaptchaToken(opt.Str("captchaToken"))}
		opt.Bool("skipBrowserRedirect") // no browser here: the URL is returned
		p.Done()
		opt.Done()
		a.Max(1)
		u, err := au.SignInWithSSO(ctx, sp, ao...)
		var data any
		if err == nil {
			data = map[string]any{"url": u}
		}
		return outcome{data: data, err: err, urls: true}, nil

	case "getUserIdentities":
		a.Max(0)
		ids, err := au.UserIdentities(ctx)
		var data any
		if err == nil {
			data = map[string]any{"identities": ids}
		}
		return outcome{data: data, err: err}, nil

	case "linkIdentity":
		if a.Obj(0).Has("token") {
			c, opts := idTokenArgs(a)
			s, err := au.LinkIdentityWithIDToken(ctx, c, opts...)
			return outcome{data: sessionData(s), err: err}, nil
		}
		p := a.Obj(0)
		opt := p.Sub("options")
		provider := p.Str("provider")
		op := supabase.OAuthParams{Scopes: opt.Str("scopes")}
		if qp := opt.Map("queryParams"); qp != nil {
			op.QueryParams = map[string]string{}
			for k, v := range qp {
				op.QueryParams[k] = fmt.Sprint(v)
			}
		}
		rt := supabase.WithRedirectTo(opt.Str("redirectTo"))
		opt.Bool("skipBrowserRedirect") // no browser here: the URL is returned
		p.Done()
		opt.Done()
		a.Max(1)
		u, err := au.LinkIdentityURL(ctx, provider, op, rt)
		data := map[string]any{"provider": provider, "url": nil}
		if err == nil {
			data["url"] = u
		}
		return outcome{data: data, err: err, urls: true}, nil

	case "unlinkIdentity":
		// The whole identity object, as getUserIdentities returns it.
		var id supabase.Identity
		if err := json.Unmarshal(a.JSON(0), &id); err != nil {
			a.Fail("argument 0: want an identity: %v", err)
		}
		a.Max(1)
		// supabase-js returns the answer ({}); this SDK returns only the error.
		return outcome{err: au.UnlinkIdentity(ctx, id), noData: true}, nil
	}
	return outcome{}, unimplemented("auth", a.Call)
}

func (r *replayer) mfaCall(a *conformance.Args) (outcome, error) {
	ctx, m := r.ctx, r.client.Auth.MFA()
	switch a.Call {
	case "enroll":
		p := a.Obj(0)
		ep := supabase.MFAEnrollParams{FactorType: p.Str("factorType"), FriendlyName: p.Str("friendlyName"),
			Issuer: p.Str("issuer"), Phone: p.Str("phone")}
		p.Done()
		a.Max(1)
		res, err := m.Enroll(ctx, ep)
		return outcome{data: res, err: err}, nil
	case "challenge":
		p := a.Obj(0)
		id := p.Str("factorId")
		var opts []supabase.MFAChallengeOption
		if ch := p.Str("channel"); ch != "" {
			opts = append(opts, supabase.WithMFAChannel(ch))
		}
		p.Done()
		a.Max(1)
		res, err := m.Challenge(ctx, id, opts...)
		return outcome{data: res, err: err}, nil
	case "verify":
		p := a.Obj(0)
		id, ch, code := p.Str("factorId"), p.Str("challengeId"), p.Str("code")
		p.Done()
		a.Max(1)
		s, err := m.Verify(ctx, id, ch, code)
		return outcome{data: s, err: err}, nil
	case "challengeAndVerify":
		p := a.Obj(0)
		id, code := p.Str("factorId"), p.Str("code")
		p.Done()
		a.Max(1)
		s, err := m.ChallengeAndVerify(ctx, id, code)
		return outcome{data: s, err: err}, nil
	case "unenroll":
		p := a.Obj(0)
		id := p.Str("factorId")
		p.Done()
		a.Max(1)
		// supabase-js returns {id}; this SDK returns only the error.
		return outcome{err: m.Unenroll(ctx, id), noData: true}, nil
	case "listFactors":
		a.Max(0)
		f, err := m.ListFactors(ctx)
		var data any
		if f != nil {
			data = map[string]any{"all": f.All, "totp": f.TOTP, "phone": f.Phone, "webauthn": f.WebAuthn}
		}
		return outcome{data: data, err: err}, nil
	case "getAuthenticatorAssuranceLevel":
		a.Max(0)
		l, err := m.AuthenticatorAssuranceLevel(ctx)
		var data any
		if l != nil {
			data = map[string]any{"currentLevel": nullIfEmpty(l.Current), "nextLevel": nullIfEmpty(l.Next),
				"currentAuthenticationMethods": l.CurrentAuthenticationMethods}
		}
		return outcome{data: data, err: err}, nil
	}
	return outcome{}, unimplemented("auth.mfa", a.Call)
}

// idTokenArgs maps supabase-js's SignInWithIdTokenCredentials.
func idTokenArgs(a *conformance.Args) (supabase.IDTokenCredentials, []supabase.AuthOption) {
	p := a.Obj(0)
	opt := p.Sub("options")
	c := supabase.IDTokenCredentials{Provider: p.Str("provider"), Token: p.Str("token"),
		AccessToken: p.Str("access_token"), Nonce: p.Str("nonce")}
	opts := []supabase.AuthOption{supabase.WithCaptchaToken(opt.Str("captchaToken"))}
	p.Done()
	opt.Done()
	a.Max(1)
	return c, opts
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// adminAttributes maps supabase-js's AdminUserAttributes.
func adminAttributes(p *conformance.Object) supabase.AdminUserAttributes {
	u := supabase.AdminUserAttributes{
		ID: p.Str("id"), Email: p.Str("email"), Phone: p.Str("phone"), Password: p.Str("password"),
		PasswordHash: p.Str("password_hash"), UserMetadata: p.Map("user_metadata"), AppMetadata: p.Map("app_metadata"),
		BanDuration: p.Str("ban_duration"), Role: p.Str("role"),
	}
	if b := p.Bool("email_confirm"); b != nil {
		u.EmailConfirm = *b
	}
	if b := p.Bool("phone_confirm"); b != nil {
		u.PhoneConfirm = *b
	}
	return u
}

func (r *replayer) adminCall(target string, a *conformance.Args) (outcome, error) {
	ctx, ad := r.ctx, r.client.Auth.Admin()
	userData := func(u *supabase.User, err error) (outcome, error) {
		return outcome{data: map[string]any{"user": u}, err: err}, nil
	}
	if target == "auth.admin.mfa" {
		p := a.Obj(0)
		a.Max(1)
		switch a.Call {
		case "listFactors":
			uid := p.Str("userId")
			p.Done()
			fs, err := ad.ListFactors(ctx, uid)
			return outcome{data: map[string]any{"factors": fs}, err: err}, nil
		case "deleteFactor":
			uid, id := p.Str("userId"), p.Str("id")
			p.Done()
			// supabase-js returns {data: {id}, error: null} as data; this
			// SDK returns only the error.
			return outcome{err: ad.DeleteFactor(ctx, uid, id), noData: true}, nil
		}
		return outcome{}, unimplemented(target, a.Call)
	}
	switch a.Call {
	case "createUser":
		p := a.Obj(0)
		attrs := adminAttributes(p)
		p.Done()
		a.Max(1)
		return userData(ad.CreateUser(ctx, attrs))
	case "listUsers":
		p := a.Obj(0)
		lp := supabase.ListUsersParams{Page: p.Int("page"), PerPage: p.Int("perPage")}
		p.Done()
		a.Max(1)
		l, err := ad.ListUsers(ctx, lp)
		var data any
		if l != nil {
			data = map[string]any{"users": l.Users, "aud": l.Aud, "total": l.Total,
				"nextPage": nullIfZero(l.NextPage), "lastPage": l.LastPage}
		}
		return outcome{data: data, err: err}, nil
	case "getUserById":
		id := a.Str(0)
		a.Max(1)
		return userData(ad.GetUserByID(ctx, id))
	case "updateUserById":
		id := a.Str(0)
		p := a.Obj(1)
		attrs := adminAttributes(p)
		p.Done()
		a.Max(2)
		return userData(ad.UpdateUserByID(ctx, id, attrs))
	case "deleteUser":
		id := a.Str(0)
		soft := false
		if a.Has(1) {
			if err := json.Unmarshal(a.Raw[1], &soft); err != nil {
				a.Fail("argument 1: want a bool: %v", err)
			}
		}
		a.Max(2)
		// supabase-js returns {user}; this SDK returns only the error.
		return outcome{err: ad.DeleteUser(ctx, id, soft), noData: true}, nil
	case "generateLink":
		p := a.Obj(0)
		opt := p.Sub("options")
		gp := supabase.GenerateLinkParams{Type: supabase.LinkType(p.Str("type")), Email: p.Str("email"),
			Password: p.Str("password"), NewEmail: p.Str("newEmail"), Data: opt.Map("data")}
		rt := supabase.WithRedirectTo(opt.Str("redirectTo"))
		p.Done()
		opt.Done()
		a.Max(1)
		res, err := ad.GenerateLink(ctx, gp, rt)
		var data any
		if res != nil {
			data = map[string]any{"properties": res.Properties, "user": res.User}
		}
		return outcome{data: data, err: err}, nil
	case "inviteUserByEmail":
		email := a.Str(0)
		o := a.Obj(1)
		ip := supabase.InviteParams{Data: o.Map("data")}
		rt := supabase.WithRedirectTo(o.Str("redirectTo"))
		o.Done()
		a.Max(2)
		return userData(ad.InviteUserByEmail(ctx, email, ip, rt))
	case "signOut":
		jwt := a.Str(0)
		scope := supabase.SignOutGlobal
		if a.Has(1) {
			scope = supabase.SignOutScope(a.Str(1))
		}
		a.Max(2)
		return outcome{err: ad.SignOut(ctx, jwt, scope), noData: true}, nil
	}
	return outcome{}, unimplemented(target, a.Call)
}

func nullIfZero(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

// messageData is supabase-js's {user: null, session: null, messageId}.
func messageData(res *supabase.AuthResponse) any {
	d := map[string]any{"user": nil, "session": nil}
	if res != nil && res.MessageID != "" {
		d["messageId"] = res.MessageID
	}
	return d
}

// ---------------------------------------------------------------------------
// Results

// outcome is the Go result of one step, in a form comparable with the
// JavaScript result.
type outcome struct {
	kind string // "data" or "auth"
	// data is the JavaScript-shaped data payload (Go values, encoded to
	// JSON for the comparison).
	data any
	// exact: data is the raw response (REST); compare it exactly.
	// Otherwise data comes from typed Go structs, encoded to JSON: every
	// golden field must be there, but an empty Go field (omitempty, zero
	// value) equals a null or absent one, and timestamps compare as
	// instants (Go re-encodes them).
	exact  bool
	noData bool     // the Go call returns no data (supabase-js: null or {})
	urls   bool     // data holds URLs: compare their query pairs as multisets
	ignore []string // data paths not compared
	extra  []string // differences found by the mapping itself
	err    error
	count  *int64
	status int
	// check, when set, compares the result instead (storage, functions).
	check func(want conformance.Result) []string
}

func (o outcome) compare(want conformance.Result) []string {
	if isLostSessionResult(want) {
		// Whatever the step's service: the lost-session error, nothing else.
		if !errors.Is(o.err, supabase.ErrSessionExpired) {
			return []string{fmt.Sprintf("error %v, want one matching ErrSessionExpired", o.err)}
		}
		return nil
	}
	if o.check != nil {
		return o.check(want)
	}
	if want.Kind == "thrown" {
		// supabase-js threw before sending anything (e.g. a malformed
		// argument); here the call must fail. That nothing was sent is
		// checked with the requests.
		if o.err == nil {
			return []string{fmt.Sprintf("call succeeded, supabase-js threw %s: %s", want.Thrown.Name, want.Thrown.Message)}
		}
		return nil
	}
	if want.Kind != o.kind {
		return []string{fmt.Sprintf("result kind %s, want %s", o.kind, want.Kind)}
	}
	var res struct {
		Data   json.RawMessage `json:"data"`
		Error  json.RawMessage `json:"error"`
		Count  *int64          `json:"count"`
		Status *int            `json:"status"`
	}
	if err := json.Unmarshal(want.Result, &res); err != nil {
		return []string{fmt.Sprintf("golden result: %v", err)}
	}
	var d []string
	if len(res.Error) > 0 && string(res.Error) != "null" {
		v, err := conformance.DecodeJSON(res.Error)
		wantErr, ok := v.(map[string]any)
		if err != nil || !ok {
			return []string{fmt.Sprintf("golden error %s: not an object", res.Error)}
		}
		if o.err == nil {
			return []string{fmt.Sprintf("no error, want %s", res.Error)}
		}
		if o.kind == "data" {
			d = append(d, compareRESTError(wantErr, res.Status, o.err)...)
		} else {
			d = append(d, compareAuthError(wantErr, o.err)...)
		}
		return d
	}
	if o.err != nil {
		return []string{fmt.Sprintf("error %v, want none", o.err)}
	}
	if o.kind == "data" {
		if res.Status != nil && *res.Status != o.status {
			d = append(d, fmt.Sprintf("status %d, want %d", o.status, *res.Status))
		}
		if !sameCount(res.Count, o.count) {
			d = append(d, fmt.Sprintf("count %s, want %s", countText(o.count), countText(res.Count)))
		}
	}
	if o.noData {
		return d
	}
	wantData, err := conformance.DecodeJSON(res.Data)
	if err != nil {
		return append(d, fmt.Sprintf("golden data: %v", err))
	}
	gotData := o.data
	opt := conformance.JSONOptions{Ignore: o.ignore}
	if !o.exact {
		b, err := json.Marshal(o.data)
		if err != nil {
			return append(d, fmt.Sprintf("encoding Go data: %v", err))
		}
		gotData, _ = conformance.DecodeJSON(b)
		opt.Instants, opt.MissingAsNull = true, true
	}
	if o.urls {
		wantData, gotData = normaliseURLs(wantData), normaliseURLs(gotData)
	}
	for _, x := range conformance.DiffJSON(wantData, gotData, opt) {
		d = append(d, "data "+x)
	}
	return append(d, o.extra...)
}

// isLostSessionResult reports whether want is a result rewritten by the
// lost-session rule: its error is lostSessionError.
func isLostSessionResult(want conformance.Result) bool {
	var res struct {
		Error *struct {
			Name string `json:"name"`
		} `json:"error"`
	}
	return want.Kind != "thrown" && json.Unmarshal(want.Result, &res) == nil && res.Error != nil &&
		res.Error.Name == lostSessionError
}

func sameCount(a, b *int64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func countText(c *int64) string {
	if c == nil {
		return "null"
	}
	return fmt.Sprint(*c)
}

func brief(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// normaliseURLs replaces every string holding an absolute URL with a query
// by the URL with its query pairs sorted, so parameter order is ignored.
func normaliseURLs(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normaliseURLs(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normaliseURLs(e)
		}
	case string:
		base, query, ok := strings.Cut(x, "?")
		if !ok || !strings.Contains(base, "://") {
			return x
		}
		pairs := conformance.ParseQuery(query)
		parts := make([]string, len(pairs))
		for i, p := range pairs {
			parts[i] = url.QueryEscape(p[0]) + "=" + url.QueryEscape(p[1])
		}
		sort.Strings(parts)
		return base + "?" + strings.Join(parts, "&")
	}
	return v
}

func str(m map[string]any, k string) (string, bool) {
	v, ok := m[k]
	if !ok || v == nil {
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		s = fmt.Sprint(v)
	}
	return s, true
}

// compareRESTError compares a PostgREST error: code, message, details and
// hint as the body carried them, and the HTTP status.
func compareRESTError(want map[string]any, status *int, err error) []string {
	var e *supabase.Error
	if !errors.As(err, &e) {
		return []string{fmt.Sprintf("error %v (%T), want a *supabase.Error like %s", err, err, brief(want))}
	}
	var d []string
	for _, f := range []struct {
		name string
		got  string
	}{{"code", e.Code}, {"message", e.Message}, {"details", e.Details}, {"hint", e.Hint}} {
		w, _ := str(want, f.name)
		if w != f.got {
			d = append(d, fmt.Sprintf("error %s %q, want %q", f.name, f.got, w))
		}
	}
	if status != nil && e.Status != *status {
		d = append(d, fmt.Sprintf("error status %d, want %d", e.Status, *status))
	}
	return d
}

// compareAuthError compares an auth-js error by its class: server errors
// (AuthApiError, AuthWeakPasswordError) by status, code, message and
// reasons; client-side conditions by the matching sentinel; errors whose
// message comes from the JavaScript runtime (AuthUnknownError,
// AuthRetryableFetchError) by kind and status only.
func compareAuthError(want map[string]any, err error) []string {
	name, _ := str(want, "name")
	var e *supabase.Error
	isErr := errors.As(err, &e)
	var d []string
	wantStatus := -1
	if s, ok := want["status"].(json.Number); ok {
		n, _ := s.Int64()
		wantStatus = int(n)
	}
	switch name {
	case "AuthApiError", "AuthWeakPasswordError":
		if !isErr {
			return []string{fmt.Sprintf("error %v (%T), want a *supabase.Error like %s", err, err, brief(want))}
		}
		code, _ := str(want, "code")
		msg, _ := str(want, "message")
		if e.Code != code {
			d = append(d, fmt.Sprintf("error code %q, want %q", e.Code, code))
		}
		if e.Message != msg {
			d = append(d, fmt.Sprintf("error message %q, want %q", e.Message, msg))
		}
		if e.Status != wantStatus {
			d = append(d, fmt.Sprintf("error status %d, want %d", e.Status, wantStatus))
		}
		if name == "AuthWeakPasswordError" {
			if !errors.Is(err, supabase.ErrWeakPassword) {
				d = append(d, "error does not match ErrWeakPassword")
			}
			if brief(want["reasons"]) != brief(e.Reasons) {
				d = append(d, fmt.Sprintf("error reasons %s, want %s", brief(e.Reasons), brief(want["reasons"])))
			}
		}
	case "AuthSessionMissingError":
		// auth-js also reports a server's session_not_found this way; this
		// SDK keeps the server's code (it matches ErrSessionExpired).
		if !errors.Is(err, supabase.ErrSessionMissing) && !(isErr && e.Code == "session_not_found") {
			d = append(d, fmt.Sprintf("error %v, want one matching ErrSessionMissing", err))
		}
	case "AuthPKCECodeVerifierMissingError":
		if !errors.Is(err, supabase.ErrCodeVerifierMissing) {
			d = append(d, fmt.Sprintf("error %v, want one matching ErrCodeVerifierMissing", err))
		}
	case "AuthRetryableFetchError":
		if isErr && wantStatus > 0 && e.Status != wantStatus {
			d = append(d, fmt.Sprintf("error status %d, want %d", e.Status, wantStatus))
		}
	case "AuthUnknownError":
		// The message is JSON.parse's; any decoding failure will do.
	default:
		d = append(d, fmt.Sprintf("no mapping for auth-js error class %q (got %v)", name, err))
	}
	return d
}

// The PKCE check holds both sides to the relation and hides only values
// that satisfy it: a verifier that answers no earlier challenge, or values
// of the wrong shape, are reported.
func TestConformancePKCEHider(t *testing.T) {
	v1 := strings.Repeat("ab", 56)
	v2 := strings.Repeat("cd", 56)
	ch := func(v string) string {
		sum := sha256.Sum256([]byte(v))
		return base64.RawURLEncoding.EncodeToString(sum[:])
	}
	body := func(m map[string]any) json.RawMessage { b, _ := json.Marshal(m); return b }
	start := func(step int, challenge string) conformance.Request {
		return conformance.Request{Step: step, Method: "POST", Path: "/auth/v1/otp",
			Body: body(map[string]any{"email": "a@b.c", "code_challenge": challenge, "code_challenge_method": "s256"})}
	}
	exchange := func(step int, verifier string) conformance.Request {
		return conformance.Request{Step: step, Method: "POST", Path: "/auth/v1/token", Query: []conformance.Pair{{"grant_type", "pkce"}},
			Body: body(map[string]any{"auth_code": "c", "code_verifier": verifier})}
	}
	urlResult := func(challenge string) conformance.Result {
		return conformance.Result{Kind: "auth", Result: body(map[string]any{"data": map[string]any{
			"url": "http://127.0.0.1:PORT/auth/v1/authorize?provider=github&code_challenge=" + challenge + "&code_challenge_method=s256"}})}
	}
	none := conformance.Result{Kind: "auth", Result: json.RawMessage(`{"data":null,"error":null}`)}

	g := conformance.Golden{
		Requests: []conformance.Request{start(0, ch(v1)), exchange(2, v2), exchange(3, v1)},
		Results:  []conformance.Result{none, urlResult(ch(v2)), none, none},
	}
	hidden, problems := hideGoldenPKCE(g)
	require.Empty(t, problems)
	got := func(r conformance.Request, k string) any { m, _ := r.BodyObject(); return m[k] }
	assert.Equal(t, "(code_challenge #1)", got(hidden.Requests[0], "code_challenge"))
	assert.Equal(t, "(code_verifier of #2)", got(hidden.Requests[1], "code_verifier"))
	assert.Equal(t, "(code_verifier of #1)", got(hidden.Requests[2], "code_verifier"))
	assert.Contains(t, string(hidden.Results[1].Result), "code_challenge=(code_challenge #2)")
	assert.Contains(t, string(g.Requests[0].Body), ch(v1), "the golden itself is left alone")

	for name, bad := range map[string]conformance.Golden{
		"verifier of no challenge":      {Requests: []conformance.Request{start(0, ch(v1)), exchange(1, v2)}, Results: []conformance.Result{none, none}},
		"verifier before its challenge": {Requests: []conformance.Request{exchange(0, v1), start(1, ch(v1))}, Results: []conformance.Result{none, none}},
		"plain challenge":               {Requests: []conformance.Request{start(0, v1)}, Results: []conformance.Result{none}},
		"short verifier": {Requests: []conformance.Request{start(0, ch("short")), exchange(1, "short")},
			Results: []conformance.Result{none, none}},
	} {
		_, problems := hideGoldenPKCE(bad)
		assert.NotEmpty(t, problems, name)
	}

	// A replay is held to the same relation.
	r := &run{requests: []conformance.Request{exchange(1, v1)},
		outcomes: []outcome{{data: map[string]any{"url": "https://x/authorize?code_challenge=" + ch(v1)}}, {}}}
	require.Empty(t, r.hidePKCE(2))
	assert.Equal(t, "https://x/authorize?code_challenge=(code_challenge #1)", r.outcomes[0].data.(map[string]any)["url"])
	r = &run{requests: []conformance.Request{exchange(0, v1)}, outcomes: []outcome{{}}}
	assert.NotEmpty(t, r.hidePKCE(1))
}

// Package conformance replays the supabase-js conformance corpus against
// this SDK: it loads the language-neutral cases and their goldens (the
// requests supabase-js sent and the results it returned), serves each case's
// response rules from a local HTTP server that records what it receives, and
// compares the recorded requests with the golden ones.
//
// The formats are described in testdata/conformance/README.md. Deliberate
// differences from supabase-js are expressed as Divergence rules and applied
// with ApplyDivergences.
package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// DefaultAnonKey is the key the recorder uses when a case names none.
const DefaultAnonKey = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZSIsInJlZiI6ImNvbmZvcm1hbmNlIiwicm9sZSI6ImFub24iLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6NDEwMjQ0NDgwMH0.gBTCOP2eI2e32o4TuPI83C1gpB3X2z9S8EtAxNEx7JU"

// Case is one entry of a cases/*.json file.
type Case struct {
	Name          string          `json:"name"`
	Description   string          `json:"description"`
	Key           string          `json:"key"`
	ClientOptions json.RawMessage `json:"clientOptions"`
	Steps         []Step          `json:"steps"`
	Responses     []Rule          `json:"responses"`
}

// Options decodes the case's clientOptions (nil when absent).
func (c *Case) Options() (*ClientOptions, error) {
	var o ClientOptions
	if len(c.ClientOptions) == 0 || string(c.ClientOptions) == "null" {
		return &o, nil
	}
	dec := json.NewDecoder(bytes.NewReader(c.ClientOptions))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		return nil, fmt.Errorf("case %s: clientOptions: %w", c.Name, err)
	}
	return &o, nil
}

// ClientOptions are the supabase-js createClient options the corpus uses.
type ClientOptions struct {
	DB *struct {
		Schema string `json:"schema"`
	} `json:"db"`
	Global *struct {
		Headers map[string]string `json:"headers"`
	} `json:"global"`
	// Auth overrides the recorder's defaults (no persistence, no auto
	// refresh, no URL detection).
	Auth map[string]any `json:"auth"`
	// AccessToken, when set, becomes `async () => AccessToken`.
	AccessToken *string `json:"accessToken"`
}

// Step is one chain of calls, awaited at its end.
type Step struct {
	Target string `json:"target"`
	Chain  []Call `json:"chain"`
}

// Call is one method call of a chain; Args are JSON values.
type Call struct {
	Call string            `json:"call"`
	Args []json.RawMessage `json:"args"`
}

// Rule is one response rule.
type Rule struct {
	Match    Match             `json:"match"`
	Status   int               `json:"status"`
	Headers  map[string]string `json:"headers"`
	Body     json.RawMessage   `json:"body"`
	BodyText *string           `json:"bodyText"`
	Once     bool              `json:"once"`
}

// Match says which requests a rule answers.
type Match struct {
	Method     string             `json:"method"`
	Path       *string            `json:"path"`
	PathPrefix *string            `json:"pathPrefix"`
	Query      map[string]*string `json:"query"`
}

// GoldenFile is one goldens/*.json file.
type GoldenFile struct {
	Source   string          `json:"source"`
	Recorder json.RawMessage `json:"recorder"`
	Cases    []Golden        `json:"cases"`
}

// Golden is what supabase-js did for one case.
type Golden struct {
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Key         string    `json:"key"`
	Requests    []Request `json:"requests"`
	Results     []Result  `json:"results"`
}

// Request is one request as the server saw it, normalised (see
// NormaliseHeaders). The goldens store the same shape.
type Request struct {
	Step     int               `json:"step"`
	Method   string            `json:"method"`
	Path     string            `json:"path"`
	RawPath  string            `json:"rawPath"`
	RawQuery string            `json:"rawQuery"`
	Query    []Pair            `json:"query"`
	Headers  map[string]string `json:"headers"`
	Body     json.RawMessage   `json:"body,omitempty"`
	BodyText *string           `json:"bodyText,omitempty"`
	Rule     *int              `json:"rule"`
}

// Clone returns a deep copy of r, for patching.
func (r Request) Clone() Request {
	c := r
	c.Query = append([]Pair(nil), r.Query...)
	c.Headers = make(map[string]string, len(r.Headers))
	for k, v := range r.Headers {
		c.Headers[k] = v
	}
	if r.Body != nil {
		c.Body = append(json.RawMessage(nil), r.Body...)
	}
	if r.BodyText != nil {
		s := *r.BodyText
		c.BodyText = &s
	}
	if r.Rule != nil {
		n := *r.Rule
		c.Rule = &n
	}
	return c
}

// Pair is one decoded query parameter (name, value).
type Pair [2]string

// Result is the outcome of one step as supabase-js returned it.
type Result struct {
	// Kind is "data" (PostgREST), "auth" or "thrown".
	Kind   string          `json:"kind"`
	Result json.RawMessage `json:"result,omitempty"`
	Thrown *Thrown         `json:"thrown,omitempty"`
}

// Thrown is an exception a call raised instead of returning.
type Thrown struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

// Entry pairs a case with its golden.
type Entry struct {
	// File is the case file's base name without ".json" (e.g. "filters").
	File   string
	Case   Case
	Golden Golden
}

// Suite is a loaded corpus, in file order and, within a file, case order.
type Suite struct {
	Dir     string
	Entries []Entry
}

// LoadSuite reads dir/cases/*.json and dir/goldens/*.json and pairs every
// case with the golden of the same name in the golden file of the same base
// name. A case without golden, a golden without case, or a duplicate name is
// an error.
func LoadSuite(dir string) (*Suite, error) {
	files, err := filepath.Glob(filepath.Join(dir, "cases", "*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("conformance: no case files in %s", filepath.Join(dir, "cases"))
	}
	sort.Strings(files)
	s := &Suite{Dir: dir}
	seen := map[string]string{}
	for _, cf := range files {
		base := filepath.Base(cf)
		var cases []Case
		if err := readJSON(cf, &cases); err != nil {
			return nil, err
		}
		var gf GoldenFile
		if err := readJSON(filepath.Join(dir, "goldens", base), &gf); err != nil {
			return nil, err
		}
		goldens := map[string]Golden{}
		for _, g := range gf.Cases {
			if _, dup := goldens[g.Name]; dup {
				return nil, fmt.Errorf("conformance: goldens/%s: duplicate case %q", base, g.Name)
			}
			goldens[g.Name] = g
		}
		name := strings.TrimSuffix(base, ".json")
		for _, c := range cases {
			if c.Name == "" {
				return nil, fmt.Errorf("conformance: cases/%s: case without a name", base)
			}
			if prev, dup := seen[c.Name]; dup {
				return nil, fmt.Errorf("conformance: case %q in both %s and %s", c.Name, prev, base)
			}
			seen[c.Name] = base
			g, ok := goldens[c.Name]
			if !ok {
				return nil, fmt.Errorf("conformance: case %q (cases/%s) has no golden in goldens/%s", c.Name, base, base)
			}
			delete(goldens, c.Name)
			if g.Key == "" {
				g.Key = c.Key
			}
			if g.Key == "" {
				g.Key = DefaultAnonKey
			}
			if len(g.Results) != len(c.Steps) {
				return nil, fmt.Errorf("conformance: case %q: %d steps but %d golden results", c.Name, len(c.Steps), len(g.Results))
			}
			s.Entries = append(s.Entries, Entry{File: name, Case: c, Golden: g})
		}
		for n := range goldens {
			return nil, fmt.Errorf("conformance: goldens/%s: golden %q has no case", base, n)
		}
	}
	return s, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("conformance: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("conformance: %s: %w", path, err)
	}
	return nil
}

// Clone returns a deep copy of g's requests and results, for rewriting.
func (g Golden) Clone() Golden {
	c := g
	c.Requests = make([]Request, len(g.Requests))
	for i, r := range g.Requests {
		c.Requests[i] = r.Clone()
	}
	c.Results = make([]Result, len(g.Results))
	for i, r := range g.Results {
		c.Results[i] = r
		c.Results[i].Result = append(json.RawMessage(nil), r.Result...)
	}
	return c
}

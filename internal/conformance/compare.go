package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"
)

// CompareOptions tune Compare.
type CompareOptions struct {
	// Strict also reports headers the recorded request has and the golden
	// lacks (after normalisation).
	Strict bool
}

// Compare reports, in readable form, every way the recorded requests got
// differ from the golden requests want; nil means they match.
//
// Requests are compared in order (same count, same step). Per request:
// method; decoded path; query pairs as a multiset; headers (every golden
// header present and equal, x-client-info by presence only, prefer as a
// multiset of comma-separated tokens; with Strict, no extra headers);
// body presence, JSON bodies as JSON values, text bodies as text.
func Compare(want, got []Request, opt CompareOptions) []string {
	var diffs []string
	n := min(len(want), len(got))
	for i := 0; i < n; i++ {
		for _, d := range CompareRequest(want[i], got[i], opt) {
			diffs = append(diffs, fmt.Sprintf("request %d (%s %s): %s", i, want[i].Method, want[i].Path, d))
		}
	}
	if len(want) != len(got) {
		diffs = append(diffs, fmt.Sprintf("%d requests, want %d", len(got), len(want)))
		for i := n; i < len(want); i++ {
			diffs = append(diffs, fmt.Sprintf("missing request %d: %s", i, want[i].Summary()))
		}
		for i := n; i < len(got); i++ {
			diffs = append(diffs, fmt.Sprintf("extra request %d: %s", i, got[i].Summary()))
		}
	}
	return diffs
}

// Summary is a one-line description of r for messages.
func (r Request) Summary() string {
	s := fmt.Sprintf("step %d %s %s", r.Step, r.Method, r.Path)
	if r.RawQuery != "" {
		s += "?" + r.RawQuery
	}
	switch {
	case r.Body != nil:
		s += " body " + string(compactJSON(r.Body))
	case r.BodyText != nil:
		s += fmt.Sprintf(" body %q", *r.BodyText)
	}
	return s
}

// CompareRequest compares one request with its golden.
func CompareRequest(want, got Request, opt CompareOptions) []string {
	var d []string
	if want.Step != got.Step {
		d = append(d, fmt.Sprintf("sent during step %d, want step %d", got.Step, want.Step))
	}
	if want.Method != got.Method {
		d = append(d, fmt.Sprintf("method %s, want %s", got.Method, want.Method))
	}
	if want.Path != got.Path {
		d = append(d, fmt.Sprintf("path %q, want %q", got.Path, want.Path))
	}
	d = append(d, compareQuery(want.Query, got.Query)...)
	d = append(d, compareHeaders(want.Headers, got.Headers, opt.Strict)...)
	d = append(d, compareBody(want, got)...)
	return d
}

func compareQuery(want, got []Pair) []string {
	count := map[Pair]int{}
	for _, p := range want {
		count[p]++
	}
	for _, p := range got {
		count[p]--
	}
	var missing, extra []string
	for p, n := range count {
		for ; n > 0; n-- {
			missing = append(missing, fmt.Sprintf("%s=%s", p[0], p[1]))
		}
		for ; n < 0; n++ {
			extra = append(extra, fmt.Sprintf("%s=%s", p[0], p[1]))
		}
	}
	if len(missing) == 0 && len(extra) == 0 {
		return nil
	}
	sort.Strings(missing)
	sort.Strings(extra)
	var d []string
	if len(missing) > 0 {
		d = append(d, fmt.Sprintf("query lacks %q", missing))
	}
	if len(extra) > 0 {
		d = append(d, fmt.Sprintf("query has unexpected %q", extra))
	}
	return append(d, fmt.Sprintf("  query sent: %q", pairsText(got)), fmt.Sprintf("  query want: %q", pairsText(want)))
}

func pairsText(ps []Pair) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p[0] + "=" + p[1]
	}
	return out
}

func compareHeaders(want, got map[string]string, strict bool) []string {
	var d []string
	names := make([]string, 0, len(want))
	for k := range want {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		w := want[k]
		g, ok := got[k]
		switch {
		case !ok:
			d = append(d, fmt.Sprintf("header %s missing, want %q", k, w))
		case k == "x-client-info":
			// presence only
		case k == "prefer":
			if !sameTokens(w, g) {
				d = append(d, fmt.Sprintf("header prefer %q, want tokens of %q", g, w))
			}
		case g != w:
			d = append(d, fmt.Sprintf("header %s %q, want %q", k, abbrev(g, w), abbrev(w, g)))
		}
	}
	if strict {
		var extra []string
		for k := range got {
			if _, ok := want[k]; !ok {
				extra = append(extra, k)
			}
		}
		sort.Strings(extra)
		for _, k := range extra {
			d = append(d, fmt.Sprintf("unexpected header %s: %q", k, got[k]))
		}
	}
	return d
}

// PreferTokens splits a Prefer header value into trimmed, sorted tokens.
func PreferTokens(v string) []string {
	var out []string
	for _, t := range strings.Split(v, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

func sameTokens(a, b string) bool {
	ta, tb := PreferTokens(a), PreferTokens(b)
	if len(ta) != len(tb) {
		return false
	}
	for i := range ta {
		if ta[i] != tb[i] {
			return false
		}
	}
	return true
}

func compareBody(want, got Request) []string {
	switch {
	case want.Body == nil && want.BodyText == nil:
		if got.Body != nil || got.BodyText != nil {
			return []string{"has a body, want none: " + bodyText(got)}
		}
		return nil
	case got.Body == nil && got.BodyText == nil:
		return []string{"has no body, want " + bodyText(want)}
	case want.BodyText != nil:
		if got.BodyText == nil || *got.BodyText != *want.BodyText {
			return []string{fmt.Sprintf("body %s, want text %q", bodyText(got), *want.BodyText)}
		}
		return nil
	case got.Body == nil:
		return []string{fmt.Sprintf("body is text %q, want JSON %s", *got.BodyText, compactJSON(want.Body))}
	}
	wv, err1 := DecodeJSON(want.Body)
	gv, err2 := DecodeJSON(got.Body)
	if err1 != nil || err2 != nil {
		return []string{fmt.Sprintf("body: cannot decode JSON (%v, %v)", err1, err2)}
	}
	diffs := DiffJSON(wv, gv, JSONOptions{})
	if len(diffs) == 0 {
		return nil
	}
	out := make([]string, 0, len(diffs)+2)
	for _, x := range diffs {
		out = append(out, "body: "+x)
	}
	return append(out, "  body sent: "+string(compactJSON(got.Body)), "  body want: "+string(compactJSON(want.Body)))
}

func bodyText(r Request) string {
	if r.Body != nil {
		return string(compactJSON(r.Body))
	}
	if r.BodyText != nil {
		return fmt.Sprintf("%q", *r.BodyText)
	}
	return "none"
}

func compactJSON(b []byte) []byte {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return b
	}
	return buf.Bytes()
}

// DecodeJSON decodes b into plain values, keeping numbers as json.Number.
func DecodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// JSONOptions tune DiffJSON.
type JSONOptions struct {
	// Instants compares two strings that both parse as RFC 3339 timestamps
	// as instants, so re-encoding a time does not count as a difference.
	Instants bool
	// Ignore lists paths (as DiffJSON prints them, e.g. "$.session.expires_in")
	// whose values are not compared.
	Ignore []string
	// MissingAsNull treats an absent object key like a null or empty value
	// on the other side (for results whose Go form omits empty fields).
	MissingAsNull bool
}

// DiffJSON compares two decoded JSON values (from DecodeJSON or plain
// encoding/json decoding) and describes every difference with its path.
// Object key order is ignored, array order matters, null differs from a
// missing key (unless MissingAsNull), numbers compare by value.
func DiffJSON(want, got any, opt JSONOptions) []string {
	var d []string
	diffJSON("$", want, got, &opt, &d)
	return d
}

func diffJSON(path string, want, got any, opt *JSONOptions, d *[]string) {
	for _, p := range opt.Ignore {
		if p == path {
			return
		}
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			*d = append(*d, fmt.Sprintf("%s: %s, want an object", path, brief(got)))
			return
		}
		keys := map[string]bool{}
		for k := range w {
			keys[k] = true
		}
		for k := range g {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			p := path + "." + k
			wv, wok := w[k]
			gv, gok := g[k]
			switch {
			case wok && gok:
				diffJSON(p, wv, gv, opt, d)
			case wok:
				if opt.MissingAsNull && isEmpty(wv) || ignored(p, opt) {
					continue
				}
				*d = append(*d, fmt.Sprintf("%s: missing, want %s", p, brief(wv)))
			default:
				if opt.MissingAsNull && isEmpty(gv) || ignored(p, opt) {
					continue
				}
				*d = append(*d, fmt.Sprintf("%s: unexpected %s", p, brief(gv)))
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			*d = append(*d, fmt.Sprintf("%s: %s, want an array", path, brief(got)))
			return
		}
		if len(g) != len(w) {
			*d = append(*d, fmt.Sprintf("%s: %d elements, want %d: %s, want %s", path, len(g), len(w), brief(got), brief(want)))
			return
		}
		for i := range w {
			diffJSON(fmt.Sprintf("%s[%d]", path, i), w[i], g[i], opt, d)
		}
	case nil:
		if got != nil {
			if opt.MissingAsNull && isEmpty(got) {
				return
			}
			*d = append(*d, fmt.Sprintf("%s: %s, want null", path, brief(got)))
		}
	default:
		if !sameScalar(want, got, opt) {
			*d = append(*d, fmt.Sprintf("%s: %s, want %s", path, brief(got), brief(want)))
		}
	}
}

func ignored(p string, opt *JSONOptions) bool {
	for _, x := range opt.Ignore {
		if x == p {
			return true
		}
	}
	return false
}

// isEmpty: null, "", false, 0, [] or {} — what Go's omitempty leaves out.
func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case bool:
		return !x
	case json.Number:
		r, ok := new(big.Rat).SetString(x.String())
		return ok && r.Sign() == 0
	case float64:
		return x == 0
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

func sameScalar(want, got any, opt *JSONOptions) bool {
	if wn, ok := number(want); ok {
		gn, ok := number(got)
		return ok && wn.Cmp(gn) == 0
	}
	ws, wok := want.(string)
	gs, gok := got.(string)
	if wok && gok {
		if ws == gs {
			return true
		}
		if opt.Instants {
			wt, err1 := time.Parse(time.RFC3339Nano, ws)
			gt, err2 := time.Parse(time.RFC3339Nano, gs)
			return err1 == nil && err2 == nil && wt.Equal(gt)
		}
		return false
	}
	return want == got
}

func number(v any) (*big.Rat, bool) {
	switch x := v.(type) {
	case json.Number:
		return new(big.Rat).SetString(x.String())
	case float64:
		r := new(big.Rat)
		if r.SetFloat64(x) == nil {
			return nil, false
		}
		return r, true
	case int:
		return new(big.Rat).SetInt64(int64(x)), true
	case int64:
		return new(big.Rat).SetInt64(x), true
	}
	return nil, false
}

func brief(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// abbrev shortens a long value s for a message, keeping its start and the
// part where it differs from other (long tokens often differ only at the
// end).
func abbrev(s, other string) string {
	const keep = 24
	if len(s) <= 3*keep {
		return s
	}
	i := 0
	for i < len(s) && i < len(other) && s[i] == other[i] {
		i++
	}
	if i < keep {
		return s[:2*keep] + "…" + s[len(s)-keep:]
	}
	mid := i - keep/2
	if mid+keep >= len(s)-keep {
		return s[:keep] + "…" + s[mid:]
	}
	return s[:keep] + "…" + s[mid:mid+keep] + "…" + s[len(s)-keep:]
}

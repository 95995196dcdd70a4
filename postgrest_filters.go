package supabase

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"unicode"

	"github.com/supabase-go/supabase/internal/pgrest"
)

// Filter values
//
// A value given to a filter method is sent as text after the operator
// (column=eq.<text>):
//
//   - nil: null; strings as they are; bools true/false; integers in decimal;
//     floats without exponent (1e21 is 1000000000000000000000)
//   - time.Time: RFC 3339 with nanoseconds
//   - []byte: Postgres bytea hex (\x...); json.Number, json.RawMessage: as written
//   - driver.Valuer, encoding.TextMarshaler, fmt.Stringer: their value or text
//   - slices and arrays: a Postgres array literal {a,b} with elements quoted
//     as needed; for In and NotIn an in-list (a,b). Numbers (Go numeric
//     kinds, json.Number) are never quoted: {1.5,2}, (1.5,2); a string
//     that looks like a number is quoted like any other string
//     ("1.5" in a list becomes "\"1.5\"" because of the dot)
//   - maps and structs: JSON
//
// A string is never changed: it can hold PostgREST syntax, such as a range
// literal "[1,5)" or the list "(1,2)" given to Filter. Values cannot break
// out of their parameter: the query string is percent-encoded, and list and
// array elements are quoted and escaped. A value of another kind (a
// channel, a function) makes the query carry an ErrInvalidQuery error.

// filter appends column=<op>.<text>.
func (q Query) filter(method, column, op, text string) Query {
	q.addFilterTo(method, column, op, text)
	return q
}

// addFilterTo is filter on q itself: the filter methods work on their
// receiver's copy through a pointer, so that a Query (a few hundred bytes)
// is copied once per call rather than once per helper.
func (q *Query) addFilterTo(method, column, op, text string) {
	switch {
	case q.err != nil:
	case strings.TrimSpace(column) == "":
		*q = q.fail("%s: empty column name", method)
	default:
		// The operator is this package's or checked by Filter; column and
		// text are the caller's, checked as they are encoded.
		ps, err := q.params.Append(pgrest.Pair{Key: column, Op: op, Value: text})
		if err != nil {
			if inKey, cause := paramError(err); inKey {
				*q = q.fail("%s: column: %v", method, cause)
			} else {
				*q = q.fail("%s: value for %q: %v", method, column, cause)
			}
			return
		}
		q.params = ps
	}
}

func (q Query) scalar(method, column, op string, v any) Query {
	q.scalarTo(method, column, op, v)
	return q
}

// scalarTo appends column=<op>.<v as text> to q itself (see addFilterTo).
func (q *Query) scalarTo(method, column, op string, v any) {
	if q.err != nil {
		return
	}
	s, err := pgrest.Text(v)
	if err != nil {
		*q = q.fail("%s(%q): %v", method, column, err)
		return
	}
	q.addFilterTo(method, column, op, s)
}

// Eq matches rows where column equals v (eq). Eq(col, nil) sends eq.null,
// as supabase-js does; use Is(col, nil) to test for NULL.
func (q Query) Eq(column string, v any) Query {
	q.scalarTo("Eq", column, "eq", v)
	return q
}

// Neq matches rows where column is not equal to v (neq).
func (q Query) Neq(column string, v any) Query {
	q.scalarTo("Neq", column, "neq", v)
	return q
}

// Gt matches rows where column is greater than v (gt).
func (q Query) Gt(column string, v any) Query {
	q.scalarTo("Gt", column, "gt", v)
	return q
}

// Gte matches rows where column is greater than or equal to v (gte).
func (q Query) Gte(column string, v any) Query {
	q.scalarTo("Gte", column, "gte", v)
	return q
}

// Lt matches rows where column is less than v (lt).
func (q Query) Lt(column string, v any) Query {
	q.scalarTo("Lt", column, "lt", v)
	return q
}

// Lte matches rows where column is less than or equal to v (lte).
func (q Query) Lte(column string, v any) Query {
	q.scalarTo("Lte", column, "lte", v)
	return q
}

// Like matches rows where column matches the case-sensitive LIKE pattern
// (% any run, _ one character, \ escapes; PostgREST also reads every * as
// %). Put user input into a pattern with [EscapeLike]:
//
//	q.ILike("title", "%"+supabase.EscapeLike(search)+"%")
func (q Query) Like(column, pattern string) Query {
	q.addFilterTo("Like", column, "like", pattern)
	return q
}

// EscapeLike escapes text for use inside a [Query.Like], [Query.ILike],
// [Query.LikeAllOf] or [Query.LikeAnyOf] pattern, so that it matches itself rather than acting as a
// wildcard: % and _ become \% and \_, and \ becomes \\.
//
// A literal * cannot be matched by a like pattern sent through PostgREST:
// it rewrites every * to % before Postgres sees the pattern, and has no
// escape for it (\* becomes \%, a literal percent sign). EscapeLike
// therefore writes * as _, which matches exactly one character of any
// kind: the narrowest pattern that still finds every row containing the
// text. A search for "a*b" also finds "axb", and "*" stands for one
// character instead of any run of them. To match text containing *
// exactly, use [Query.RegexMatch] or [Query.RegexIMatch] with
// [regexp.QuoteMeta](text).
func EscapeLike(text string) string {
	if !strings.ContainsAny(text, `%_*\`) {
		return text
	}
	var b strings.Builder
	b.Grow(len(text) + 8)
	for i := 0; i < len(text); i++ {
		switch c := text[i]; c {
		case '%', '_', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '*':
			b.WriteByte('_')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// ILike is Like, case-insensitive (ilike).
func (q Query) ILike(column, pattern string) Query {
	q.addFilterTo("ILike", column, "ilike", pattern)
	return q
}

func (q Query) patterns(method, column, op string, patterns []string) Query {
	if q.err != nil {
		return q
	}
	s, err := pgrest.Array(patterns)
	if err != nil {
		return q.fail("%s(%q): %v", method, column, err)
	}
	return q.filter(method, column, op, s)
}

// LikeAllOf matches rows where column matches every pattern (like(all)).
func (q Query) LikeAllOf(column string, patterns []string) Query {
	return q.patterns("LikeAllOf", column, "like(all)", patterns)
}

// LikeAnyOf matches rows where column matches at least one pattern
// (like(any)).
func (q Query) LikeAnyOf(column string, patterns []string) Query {
	return q.patterns("LikeAnyOf", column, "like(any)", patterns)
}

// ILikeAllOf is LikeAllOf, case-insensitive (ilike(all)).
func (q Query) ILikeAllOf(column string, patterns []string) Query {
	return q.patterns("ILikeAllOf", column, "ilike(all)", patterns)
}

// ILikeAnyOf is LikeAnyOf, case-insensitive (ilike(any)).
func (q Query) ILikeAnyOf(column string, patterns []string) Query {
	return q.patterns("ILikeAnyOf", column, "ilike(any)", patterns)
}

// RegexMatch matches rows where column matches the POSIX regular expression
// pattern, case-sensitively (match, Postgres ~).
func (q Query) RegexMatch(column, pattern string) Query {
	q.addFilterTo("RegexMatch", column, "match", pattern)
	return q
}

// RegexIMatch is RegexMatch, case-insensitive (imatch, Postgres ~*).
func (q Query) RegexIMatch(column, pattern string) Query {
	q.addFilterTo("RegexIMatch", column, "imatch", pattern)
	return q
}

// Is tests column with IS: v is nil (IS NULL), true or false, or one of
// the strings "null", "not_null", "true", "false", "unknown".
func (q Query) Is(column string, v any) Query {
	if q.err != nil {
		return q
	}
	s, ok := isValue(v)
	if !ok {
		return q.fail("Is(%q): value must be nil, a bool or null/not_null/true/false/unknown, got %v", column, v)
	}
	q.addFilterTo("Is", column, "is", s)
	return q
}

func isValue(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "null", true
	case bool:
		if x {
			return "true", true
		}
		return "false", true
	case *bool:
		if x == nil {
			return "null", true
		}
		return isValue(*x)
	case string:
		switch s := strings.ToLower(x); s {
		case "null", "not_null", "true", "false", "unknown":
			return s, true
		}
	}
	return "", false
}

// IsDistinct matches rows where column IS DISTINCT FROM v (isdistinct):
// like Neq, but null is a value.
func (q Query) IsDistinct(column string, v any) Query {
	q.scalarTo("IsDistinct", column, "isdistinct", v)
	return q
}

func (q Query) list(method, column, op string, values any) Query {
	if q.err != nil {
		return q
	}
	if values == nil {
		return q.filter(method, column, op, "()")
	}
	if !pgrest.IsList(values) {
		return q.fail("%s(%q): values must be a slice or array, got %T", method, column, values)
	}
	s, err := pgrest.List(values)
	if err != nil {
		return q.fail("%s(%q): %v", method, column, err)
	}
	return q.filter(method, column, op, s)
}

// In matches rows where column equals one of values, a slice or array
// (in.(a,b)). Elements that contain whitespace or any of , . : ( ) " \ are
// double-quoted with " and \ escaped; duplicates are dropped.
func (q Query) In(column string, values any) Query { return q.list("In", column, "in", values) }

// NotIn matches rows where column equals none of values (not.in.(a,b)).
func (q Query) NotIn(column string, values any) Query {
	return q.list("NotIn", column, "not.in", values)
}

func (q Query) collection(method, column, op string, v any) Query {
	if q.err != nil {
		return q
	}
	var s string
	var err error
	if pgrest.IsList(v) {
		s, err = pgrest.Array(v)
	} else {
		s, err = pgrest.Text(v)
	}
	if err != nil {
		return q.fail("%s(%q): %v", method, column, err)
	}
	return q.filter(method, column, op, s)
}

// Contains matches rows where column (an array, range or jsonb) contains v
// (cs, Postgres @>): a slice for an array column, a map or struct (sent as
// JSON) for jsonb, or a string literal such as "[1,5)" for a range.
func (q Query) Contains(column string, v any) Query {
	return q.collection("Contains", column, "cs", v)
}

// ContainedBy matches rows where column is contained by v (cd, Postgres
// <@); v is as for Contains.
func (q Query) ContainedBy(column string, v any) Query {
	return q.collection("ContainedBy", column, "cd", v)
}

// Overlaps matches rows where column (an array or range) shares an element
// or point with v (ov, Postgres &&): a slice, or a range literal string.
func (q Query) Overlaps(column string, v any) Query {
	return q.collection("Overlaps", column, "ov", v)
}

// RangeGt matches rows where the range column is strictly right of rng
// (sr, Postgres >>). rng is a range literal such as "[2,5)".
func (q Query) RangeGt(column, rng string) Query {
	q.addFilterTo("RangeGt", column, "sr", rng)
	return q
}

// RangeGte matches rows where the range column does not extend to the left
// of rng (nxl, Postgres &>).
func (q Query) RangeGte(column, rng string) Query {
	q.addFilterTo("RangeGte", column, "nxl", rng)
	return q
}

// RangeLt matches rows where the range column is strictly left of rng (sl,
// Postgres <<).
func (q Query) RangeLt(column, rng string) Query {
	q.addFilterTo("RangeLt", column, "sl", rng)
	return q
}

// RangeLte matches rows where the range column does not extend to the
// right of rng (nxr, Postgres &<).
func (q Query) RangeLte(column, rng string) Query {
	q.addFilterTo("RangeLte", column, "nxr", rng)
	return q
}

// RangeAdjacent matches rows where the range column is adjacent to rng
// (adj, Postgres -|-).
func (q Query) RangeAdjacent(column, rng string) Query {
	q.addFilterTo("RangeAdjacent", column, "adj", rng)
	return q
}

// TextSearchType selects the Postgres function that parses a TextSearch
// query.
type TextSearchType string

// Text search types.
const (
	// TextSearchDefault parses the query with to_tsquery (fts): operators
	// & | ! <-> and quoted lexemes.
	TextSearchDefault TextSearchType = ""
	// TextSearchPlain uses plainto_tsquery (plfts): all words must match.
	TextSearchPlain TextSearchType = "plain"
	// TextSearchPhrase uses phraseto_tsquery (phfts): the words in order.
	TextSearchPhrase TextSearchType = "phrase"
	// TextSearchWebsearch uses websearch_to_tsquery (wfts): "quoted
	// phrases", or, -negation, as in search engines.
	TextSearchWebsearch TextSearchType = "websearch"
)

// TextSearchOption configures [Query.TextSearch].
type TextSearchOption func(*textSearchOptions)

type textSearchOptions struct {
	typ    TextSearchType
	config string
	set    bool
}

// SearchType chooses how [Query.TextSearch] parses its query.
func SearchType(t TextSearchType) TextSearchOption {
	return func(o *textSearchOptions) { o.typ = t }
}

// SearchConfig sets the text search configuration (such as "english") used
// to parse the query; by default the database's default_text_search_config.
// PostgREST reads only a name of letters, digits, _ and $ (no schema).
func SearchConfig(config string) TextSearchOption {
	return func(o *textSearchOptions) { o.config, o.set = config, true }
}

// TextSearch matches rows where the tsvector column matches the full-text
// query. Options: [SearchType], [SearchConfig].
func (q Query) TextSearch(column, query string, opts ...TextSearchOption) Query {
	if q.err != nil {
		return q
	}
	var o textSearchOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	var op string
	switch o.typ {
	case TextSearchDefault:
		op = "fts"
	case TextSearchPlain:
		op = "plfts"
	case TextSearchPhrase:
		op = "phfts"
	case TextSearchWebsearch:
		op = "wfts"
	default:
		return q.fail("TextSearch(%q): unknown search type %q", column, o.typ)
	}
	if o.set {
		if !pgrest.IsTextSearchConfig(o.config) {
			return q.fail("TextSearch(%q): invalid config %q", column, o.config)
		}
		op += "(" + o.config + ")"
	}
	q.addFilterTo("TextSearch", column, op, query)
	return q
}

// Match adds Eq(column, value) for every entry of m, in sorted column order.
func (q Query) Match(m map[string]any) Query {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		q = q.scalar("Match", k, "eq", m[k])
	}
	return q
}

// Not negates a filter: Not("deleted_at", "is", nil) sends not.is.null.
// op is an operator as for [Query.Filter], without the not. prefix, and v
// is encoded as Filter encodes it.
func (q Query) Not(column, op string, v any) Query {
	if q.err != nil {
		return q
	}
	if strings.HasPrefix(op, "not.") {
		return q.fail("Not(%q): operator %q is already negated", column, op)
	}
	return q.Filter(column, "not."+op, v)
}

// Filter adds column=<op>.<v> for any PostgREST operator: the escape hatch
// for operators this package has no method for, including ones newer than
// it. op is a lower-case name, optionally prefixed with "not." and followed
// by a modifier in parentheses: "eq", "not.in", "like(any)",
// "wfts(english)". Any such operator is sent and the server judges it (an
// operator PostgREST does not know is answered 400, code PGRST100). Only
// what cannot be an operator token — an empty name, other characters, a
// "." that would move the operator into the value, a bare "not" that would
// let the value choose the operator — makes the query carry an
// [ErrInvalidQuery] error, before any I/O.
//
// v is encoded for the operator: a slice becomes an in-list (a,b) for in
// and a Postgres array literal {a,b} for anything else (cs, cd, ov,
// eq(any), ...); for is, nil and bools become null, true and false; a
// string is sent as it is (it can carry PostgREST syntax, such as the list
// "(1,2)" or a range "[1,5)"); other values as described under Filter
// values.
func (q Query) Filter(column, op string, v any) Query {
	if q.err != nil {
		return q
	}
	base, ok := parseOperator(op)
	if !ok {
		return q.fail("Filter(%q): %q is not an operator (a lower-case name, optionally not.-prefixed, with an optional (modifier))", column, op)
	}
	var s string
	var err error
	switch {
	case pgrest.IsList(v) && base == "in":
		s, err = pgrest.List(v)
	case base == "is":
		var okIs bool
		if s, okIs = isValue(v); !okIs {
			s, err = pgrest.Text(v)
		}
	default:
		// Text writes any other slice as an array literal.
		s, err = pgrest.Text(v)
	}
	if err != nil {
		return q.fail("Filter(%q): %v", column, err)
	}
	q.addFilterTo("Filter", column, op, s)
	return q
}

// parseOperator checks that op is one operator token as PostgREST's filter
// grammar reads it — [not.]name[(modifier)], name in a-z, modifier in the
// characters of its identifiers (letters, digits, _, $ and space) — and
// returns name.
func parseOperator(op string) (base string, ok bool) {
	op = strings.TrimPrefix(op, "not.")
	base, arg, hasArg := strings.Cut(op, "(")
	if base == "" || base == "not" {
		return "", false
	}
	for i := 0; i < len(base); i++ {
		if base[i] < 'a' || base[i] > 'z' {
			return "", false
		}
	}
	if !hasArg {
		return base, true
	}
	arg, closed := strings.CutSuffix(arg, ")")
	if !closed || arg == "" {
		return "", false
	}
	// What PostgREST's identifier parser reads: letters, ASCII digits, _, $
	// and spaces, which it trims (so at least one other character).
	if strings.TrimSpace(arg) == "" {
		return "", false
	}
	for _, r := range arg {
		if !unicode.IsLetter(r) && !('0' <= r && r <= '9') && r != '_' && r != '$' && r != ' ' {
			return "", false
		}
	}
	return base, true
}

// Or adds a disjunction of filters written in PostgREST syntax:
// Or("id.eq.1,name.ilike.*widget*") sends or=(id.eq.1,name.ilike.*widget*).
// Groups nest with and(...) and or(...). Values containing , . : ( ) or
// spaces must be double-quoted inside the group; [OrValue] does that.
// Option: [ReferencedTable], to filter an embedded resource.
func (q Query) Or(filters string, opts ...FilterOption) Query {
	if q.err != nil {
		return q
	}
	if strings.TrimSpace(filters) == "" {
		return q.fail("Or: empty filter list")
	}
	if _, rest, bad := strings.Cut(filters, orValueInvalid); bad {
		reason, _, _ := strings.Cut(rest, orValueInvalid)
		return q.fail("Or: a value given to OrValue cannot be encoded: %s", reason)
	}
	var r refOptions
	for _, opt := range opts {
		if opt != nil {
			opt.applyFilter(&r)
		}
	}
	return q.addParam(r.key("or"), "("+filters+")")
}

// OrValue encodes v for use as a value inside a [Query.Or] group,
// double-quoting and escaping it when it contains a character the group
// syntax reserves (numbers are never quoted; a slice becomes an in-list):
//
//	q.Or("name.eq." + supabase.OrValue(name) + ",nick.eq." + supabase.OrValue(name))
//
// A value that cannot be encoded (a channel, a function) yields a marker
// that makes Or fail with [ErrInvalidQuery] before any I/O.
func OrValue(v any) string {
	var s string
	var err error
	if pgrest.IsList(v) {
		s, err = pgrest.List(v)
	} else {
		s, err = pgrest.ListElement(v)
	}
	if err != nil {
		// NUL cannot occur in a Postgres text value, so it safely marks
		// the failure for Or to report.
		return orValueInvalid + err.Error() + orValueInvalid
	}
	return s
}

const orValueInvalid = "\x00"

// marshalJSON encodes v as compact JSON without HTML escaping.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

package localstack

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// This file parses PostgREST's URL grammar into a small syntax tree; sql.go
// renders the tree to parameterised SQL.

// pair is one query parameter, in request order.
type pair struct{ name, value string }

// queryPairs splits a raw query into decoded pairs, keeping order and
// repeats, which url.Values would lose. The apikey parameter belongs to the
// gateway and is dropped.
func queryPairs(raw string) ([]pair, error) {
	var out []pair
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		name, value, _ := strings.Cut(part, "=")
		n, err := url.QueryUnescape(name)
		if err != nil {
			return nil, restErr(http.StatusBadRequest, "PGRST100", "failed to parse query string").withDetails(err.Error())
		}
		v, err := url.QueryUnescape(value)
		if err != nil {
			return nil, restErr(http.StatusBadRequest, "PGRST100", "failed to parse query string").withDetails(err.Error())
		}
		if n == "apikey" {
			continue
		}
		out = append(out, pair{n, v})
	}
	return out, nil
}

// pathStep is one JSON arrow: col->key or col->>key.
type pathStep struct {
	arrow string // "->" or "->>"
	key   string
	index bool // key is an array index
}

// colRef names a column, optionally a JSON path into it and a cast.
type colRef struct {
	name string
	path []pathStep
	cast string
}

// key is the name PostgREST gives the column in its output.
func (c colRef) key() string {
	if len(c.path) > 0 {
		return c.path[len(c.path)-1].key
	}
	return c.name
}

var (
	castRe  = regexp.MustCompile(`^[a-z_][a-z0-9_]*(\[\])?$`)
	indexRe = regexp.MustCompile(`^-?[0-9]+$`)
)

func parseColRef(s string) (colRef, error) {
	var c colRef
	if i := strings.Index(s, "::"); i >= 0 {
		c.cast = strings.TrimSpace(s[i+2:])
		s = s[:i]
		// A type name cannot be a bind parameter, so only one plain word
		// (optionally an array of it) is accepted: no spaces, quotes or
		// punctuation that could end the cast and start more SQL.
		if !castRe.MatchString(c.cast) {
			return c, restErr(http.StatusBadRequest, "PGRST100", fmt.Sprintf("failed to parse select parameter (%s)", s+"::"+c.cast)).
				withDetails("unsupported cast type " + strconv.Quote(c.cast))
		}
	}
	i := strings.Index(s, "->")
	if i < 0 {
		c.name = strings.TrimSpace(s)
	} else {
		c.name = strings.TrimSpace(s[:i])
		rest := s[i:]
		for rest != "" {
			arrow := "->"
			if strings.HasPrefix(rest, "->>") {
				arrow = "->>"
			} else if !strings.HasPrefix(rest, "->") {
				return c, restErr(http.StatusBadRequest, "PGRST100", "failed to parse JSON path ("+s+")")
			}
			rest = rest[len(arrow):]
			j := strings.Index(rest, "->")
			if j < 0 {
				j = len(rest)
			}
			k := rest[:j]
			rest = rest[j:]
			if k == "" {
				return c, restErr(http.StatusBadRequest, "PGRST100", "failed to parse JSON path ("+s+")")
			}
			c.path = append(c.path, pathStep{arrow: arrow, key: k, index: indexRe.MatchString(k)})
		}
	}
	if c.name == "" {
		return c, restErr(http.StatusBadRequest, "PGRST100", "failed to parse column ("+s+")")
	}
	return c, nil
}

// selectItem is one element of select=: all columns, a column, or an
// embedded resource.
type selectItem struct {
	star  bool
	col   colRef
	alias string
	embed *embed
}

// embed is a resource embedded through a foreign key: alias:name!hint(...).
type embed struct {
	name   string
	alias  string
	hint   string
	inner  bool
	sel    []selectItem
	where  []cond
	order  []orderItem
	limit  *int64
	offset int64
	spread bool          // ...rel(cols): the columns join the parent's
	rel    *relationship // set by resolveEmbeds
}

// splitTop splits s on sep outside parentheses, braces and double quotes.
func splitTop(s string, sep byte) []string {
	var out []string
	depth, start, inQuote := 0, 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case inQuote:
		case c == '(' || c == '{' || c == '[':
			depth++
		case c == ')' || c == '}' || c == ']':
			depth--
		case c == sep && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func parseSelect(table, s string) ([]selectItem, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "*" {
		return []selectItem{{star: true}}, nil
	}
	var items []selectItem
	for _, part := range splitTop(s, ',') {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, restErr(http.StatusBadRequest, "PGRST100", "failed to parse select parameter ("+s+")")
		}
		if part == "*" {
			items = append(items, selectItem{star: true})
			continue
		}
		alias := ""
		head := part
		if i := strings.IndexByte(part, '('); i >= 0 {
			head = part[:i] // a colon inside the parentheses belongs to the embed
		}
		if i := strings.IndexByte(head, ':'); i > 0 && !strings.HasPrefix(part[i:], "::") {
			alias, part = strings.TrimSpace(part[:i]), strings.TrimSpace(part[i+1:])
		}
		if i := strings.IndexByte(part, '('); i >= 0 {
			e, err := parseEmbed(part[:i], part[i:], alias)
			if err != nil {
				return nil, err
			}
			items = append(items, selectItem{embed: e, alias: e.alias})
			continue
		}
		c, err := parseColRef(part)
		if err != nil {
			return nil, err
		}
		if alias == "" {
			alias = c.key()
		}
		items = append(items, selectItem{col: c, alias: alias})
	}
	return items, nil
}

// parseEmbed parses head(list), where head is [...]name[!hint][!inner|!left].
func parseEmbed(head, list, alias string) (*embed, error) {
	spread := strings.HasPrefix(head, "...")
	parts := strings.Split(strings.TrimPrefix(head, "..."), "!")
	e := &embed{name: strings.TrimSpace(parts[0]), alias: alias, spread: spread}
	if e.name == "count" || strings.Contains(e.name, ".") {
		return nil, restErr(http.StatusBadRequest, "PGRST123", "Use of aggregate functions is not allowed")
	}
	for _, m := range parts[1:] {
		switch m {
		case "inner":
			e.inner = true
		case "left":
		default:
			e.hint = m
		}
	}
	if e.alias == "" {
		e.alias = e.name
	}
	if !strings.HasSuffix(list, ")") || e.name == "" {
		return nil, restErr(http.StatusBadRequest, "PGRST100", "failed to parse select parameter ("+head+list+")")
	}
	var err error
	e.sel, err = parseSelect(e.name, list[1:len(list)-1])
	return e, err
}

// findEmbed follows a dotted path of embed names or aliases.
func findEmbed(items []selectItem, path []string) *embed {
	for _, it := range items {
		if it.embed == nil || (it.embed.alias != path[0] && it.embed.name != path[0]) {
			continue
		}
		if len(path) == 1 {
			return it.embed
		}
		return findEmbed(it.embed.sel, path[1:])
	}
	return nil
}

// orderItem is one element of order=.
type orderItem struct {
	col   colRef
	desc  bool
	nulls string // "", "NULLS FIRST" or "NULLS LAST"
}

func parseOrder(s string) ([]orderItem, error) {
	var out []orderItem
	for _, part := range splitTop(s, ',') {
		fields := strings.Split(strings.TrimSpace(part), ".")
		var it orderItem
	modifiers:
		for len(fields) > 1 {
			switch fields[len(fields)-1] {
			case "asc":
				it.desc = false
			case "desc":
				it.desc = true
			case "nullsfirst":
				it.nulls = "NULLS FIRST"
			case "nullslast":
				it.nulls = "NULLS LAST"
			default:
				break modifiers
			}
			fields = fields[:len(fields)-1]
		}
		if len(fields) != 1 || strings.ContainsAny(fields[0], "()") {
			return nil, restErr(http.StatusBadRequest, "PGRST100", "failed to parse order ("+s+")").
				withDetails("unexpected \".\" expecting \"asc\", \"desc\", \"nullsfirst\" or \"nullslast\"")
		}
		c, err := parseColRef(fields[0])
		if err != nil {
			return nil, err
		}
		it.col = c
		out = append(out, it)
	}
	return out, nil
}

// cond is a node of a WHERE clause: *filter or *logic.
type cond interface{ isCond() }

type filter struct {
	col    colRef
	negate bool
	op     string
	mod    string // "any", "all" or an FTS configuration
	value  string
	list   []string // in
}

type logic struct {
	or       bool
	negate   bool
	children []cond
}

func (*filter) isCond() {}
func (*logic) isCond()  {}

var ops = map[string]bool{
	"eq": true, "neq": true, "gt": true, "gte": true, "lt": true, "lte": true,
	"like": true, "ilike": true, "match": true, "imatch": true, "is": true, "isdistinct": true,
	"in": true, "cs": true, "cd": true, "ov": true, "sl": true, "sr": true, "nxl": true, "nxr": true,
	"adj": true, "fts": true, "plfts": true, "phfts": true, "wfts": true,
}

// quantifiable are the operators that take (any) or (all).
var quantifiable = map[string]bool{
	"eq": true, "neq": true, "gt": true, "gte": true, "lt": true, "lte": true,
	"like": true, "ilike": true, "match": true, "imatch": true,
}

// parseFilter parses "[not.]op[(mod)].value" for column col. inTree says the
// value comes from a logic tree, where values may be double-quoted.
func parseFilter(col colRef, s string, inTree bool) (*filter, error) {
	orig := s
	bad := func(detail string) error {
		return restErr(http.StatusBadRequest, "PGRST100", "failed to parse filter ("+orig+")").withDetails(detail)
	}
	f := &filter{col: col}
	if strings.HasPrefix(s, "not.") {
		f.negate = true
		s = s[4:]
	}
	op, value, ok := strings.Cut(s, ".")
	if !ok {
		return nil, bad("unexpected end of input expecting operator")
	}
	if i := strings.IndexByte(op, '('); i >= 0 && strings.HasSuffix(op, ")") {
		f.mod = op[i+1 : len(op)-1]
		op = op[:i]
	}
	if !ops[op] {
		return nil, bad("unknown operator " + strconv.Quote(op))
	}
	f.op = op
	switch {
	case f.mod == "":
	case op == "fts" || op == "plfts" || op == "phfts" || op == "wfts":
		// The configuration is bound as a regconfig argument; nothing to check.
	case quantifiable[op] && (f.mod == "any" || f.mod == "all"):
		if !strings.HasPrefix(value, "{") || !strings.HasSuffix(value, "}") {
			return nil, bad("expecting a list of values in curly braces")
		}
	default:
		return nil, bad("unexpected modifier " + strconv.Quote(f.mod))
	}
	switch op {
	case "in":
		if !strings.HasPrefix(value, "(") || !strings.HasSuffix(value, ")") {
			return nil, bad("expecting a list of values in parentheses")
		}
		inner := value[1 : len(value)-1]
		if inner != "" {
			for _, it := range splitTop(inner, ',') {
				f.list = append(f.list, unquote(it))
			}
		}
	case "is":
		switch value {
		case "null", "not_null", "true", "false", "unknown":
		default:
			return nil, bad("expecting null, not_null, true, false or unknown")
		}
	}
	if inTree && op != "in" {
		value = unquote(value)
	}
	f.value = value
	return f, nil
}

// unquote removes PostgREST's optional double quotes around a value and
// their \" and \\ escapes.
func unquote(s string) string {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return s
	}
	s = s[1 : len(s)-1]
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// parseLogic parses the value of or=, and=, not.or=, not.and= and the
// nested and(...)/or(...) groups inside it.
func parseLogic(or, negate bool, s string) (*logic, error) {
	bad := restErr(http.StatusBadRequest, "PGRST100", "failed to parse logic tree ("+s+")")
	if !strings.HasPrefix(s, "(") || !strings.HasSuffix(s, ")") {
		return nil, bad.withDetails("expecting a parenthesised list of filters")
	}
	l := &logic{or: or, negate: negate}
	for _, item := range splitTop(s[1:len(s)-1], ',') {
		item = strings.TrimSpace(item)
		neg := false
		rest := item
		if strings.HasPrefix(rest, "not.") {
			neg, rest = true, rest[4:]
		}
		switch {
		case strings.HasPrefix(rest, "and("), strings.HasPrefix(rest, "or("):
			isOr := strings.HasPrefix(rest, "or(")
			open := strings.IndexByte(rest, '(')
			child, err := parseLogic(isOr, neg, rest[open:])
			if err != nil {
				return nil, err
			}
			l.children = append(l.children, child)
		default:
			colPart, opPart, ok := strings.Cut(item, ".")
			if !ok || colPart == "" {
				return nil, bad.withDetails("unexpected " + strconv.Quote(item))
			}
			c, err := parseColRef(colPart)
			if err != nil {
				return nil, err
			}
			f, err := parseFilter(c, opPart, true)
			if err != nil {
				return nil, err
			}
			l.children = append(l.children, f)
		}
	}
	return l, nil
}

// readParams is everything a request's query string says about rows.
type readParams struct {
	sel        []selectItem
	where      []cond
	order      []orderItem
	limit      *int64
	offset     int64
	columns    []string
	onConflict []string
	args       map[string]string // unreserved pairs, for GET /rpc
}

// parseParams parses the query of a request on table (or function) name.
// With forRPC, pairs whose name is a function argument are kept in args
// instead of being read as filters; isArg tells which they are.
func parseParams(name string, pairs []pair, isArg func(string) bool) (*readParams, error) {
	p := &readParams{sel: []selectItem{{star: true}}, args: map[string]string{}}
	var embedded []pair
	for _, kv := range pairs {
		var err error
		switch kv.name {
		case "select":
			p.sel, err = parseSelect(name, kv.value)
		case "order":
			var o []orderItem
			o, err = parseOrder(kv.value)
			p.order = append(p.order, o...)
		case "limit":
			var n int64
			n, err = strconv.ParseInt(kv.value, 10, 64)
			if err != nil {
				return nil, restErr(http.StatusBadRequest, "PGRST100", "failed to parse limit parameter ("+kv.value+")")
			}
			if n < 0 {
				return nil, restErr(http.StatusRequestedRangeNotSatisfiable, "PGRST103", "Requested range not satisfiable").
					withDetails("Limit should be greater than or equal to zero.")
			}
			p.limit = &n
		case "offset":
			p.offset, err = strconv.ParseInt(kv.value, 10, 64)
			if err != nil || p.offset < 0 {
				return nil, restErr(http.StatusBadRequest, "PGRST100", "failed to parse offset parameter ("+kv.value+")")
			}
		case "columns":
			for _, c := range splitTop(kv.value, ',') {
				if c = unquote(strings.TrimSpace(c)); c != "" {
					p.columns = append(p.columns, c)
				}
			}
		case "on_conflict":
			for _, c := range splitTop(kv.value, ',') {
				if c = unquote(strings.TrimSpace(c)); c != "" {
					p.onConflict = append(p.onConflict, c)
				}
			}
		case "or", "and", "not.or", "not.and":
			var l *logic
			l, err = parseLogic(strings.HasSuffix(kv.name, "or"), strings.HasPrefix(kv.name, "not."), kv.value)
			p.where = append(p.where, l)
		default:
			if isArg != nil && isArg(kv.name) {
				p.args[kv.name] = kv.value
				continue
			}
			if i := strings.IndexByte(kv.name, '.'); i >= 0 && !strings.Contains(kv.name[:i], "->") && kv.name != "not.or" && kv.name != "not.and" {
				embedded = append(embedded, kv)
				continue
			}
			var c colRef
			c, err = parseColRef(kv.name)
			if err != nil {
				return nil, err
			}
			var f *filter
			f, err = parseFilter(c, kv.value, false)
			p.where = append(p.where, f)
		}
		if err != nil {
			return nil, err
		}
	}
	for _, kv := range embedded {
		if err := p.applyEmbedded(kv); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// applyEmbedded applies rel.col=op.value, rel.or=(...), rel.order=...,
// rel.limit=n and rel.offset=n to the embedded resource rel.
func (p *readParams) applyEmbedded(kv pair) error {
	path := strings.Split(kv.name, ".")
	last := path[len(path)-1]
	path = path[:len(path)-1]
	if len(path) > 0 && path[len(path)-1] == "not" && (last == "or" || last == "and") {
		path, last = path[:len(path)-1], "not."+last
	}
	e := findEmbed(p.sel, path)
	if e == nil {
		return restErr(http.StatusBadRequest, "PGRST108", fmt.Sprintf("'%s' is not an embedded resource in this request", path[0])).
			withHint(fmt.Sprintf("Verify that '%s' is included in the 'select' query parameter.", path[0]))
	}
	switch last {
	case "or", "and", "not.or", "not.and":
		l, err := parseLogic(strings.HasSuffix(last, "or"), strings.HasPrefix(last, "not."), kv.value)
		if err != nil {
			return err
		}
		e.where = append(e.where, l)
	case "order":
		o, err := parseOrder(kv.value)
		if err != nil {
			return err
		}
		e.order = append(e.order, o...)
	case "limit", "offset":
		n, err := strconv.ParseInt(kv.value, 10, 64)
		if err != nil || n < 0 {
			return restErr(http.StatusBadRequest, "PGRST100", "failed to parse "+last+" parameter ("+kv.value+")")
		}
		if last == "limit" {
			e.limit = &n
		} else {
			e.offset = n
		}
	default:
		c, err := parseColRef(last)
		if err != nil {
			return err
		}
		f, err := parseFilter(c, kv.value, false)
		if err != nil {
			return err
		}
		e.where = append(e.where, f)
	}
	return nil
}

// prefs is a parsed Prefer header.
type prefs struct {
	ret         string // representation, minimal, headers-only
	count       string // exact, planned, estimated
	resolution  string // merge-duplicates, ignore-duplicates
	missing     string // default, null
	tx          string // commit, rollback
	strict      bool
	maxAffected *int64
	applied     []string
}

func parsePrefer(h http.Header) (*prefs, error) {
	p := &prefs{}
	var invalid []string
	for _, line := range h.Values("Prefer") {
		for _, tok := range strings.Split(line, ",") {
			tok = strings.TrimSpace(tok)
			if tok == "" {
				continue
			}
			k, v, _ := strings.Cut(tok, "=")
			ok := true
			switch k {
			case "return":
				ok = slices.Contains([]string{"representation", "minimal", "headers-only"}, v)
				if ok {
					p.ret = v
				}
			case "count":
				ok = slices.Contains([]string{"exact", "planned", "estimated"}, v)
				if ok {
					p.count = v
				}
			case "resolution":
				ok = v == "merge-duplicates" || v == "ignore-duplicates"
				if ok {
					p.resolution = v
				}
			case "missing":
				ok = v == "default" || v == "null"
				if ok {
					p.missing = v
				}
			case "tx":
				ok = v == "commit" || v == "rollback"
				if ok {
					p.tx = v
				}
			case "handling":
				ok = v == "strict" || v == "lenient"
				p.strict = v == "strict"
			case "max-affected":
				n, err := strconv.ParseInt(v, 10, 64)
				ok = err == nil && n >= 0
				if ok {
					p.maxAffected = &n
				}
			case "timezone", "params":
				// Accepted and ignored.
			default:
				ok = false
			}
			if ok {
				if k != "timezone" && k != "params" {
					p.applied = append(p.applied, tok)
				}
			} else {
				invalid = append(invalid, tok)
			}
		}
	}
	if p.strict && len(invalid) > 0 {
		return nil, restErr(http.StatusBadRequest, "PGRST122", "Invalid preferences given with handling=strict").
			withDetails("Invalid preferences: " + strings.Join(invalid, ", "))
	}
	return p, nil
}

// media is what the client asked to get back.
type media struct {
	single   bool
	csv      bool
	stripped bool // nulls=stripped
}

func parseAccept(h string) (media, error) {
	if strings.TrimSpace(h) == "" {
		return media{}, nil
	}
	var asked []string
	for _, part := range strings.Split(h, ",") {
		fields := strings.Split(part, ";")
		mt := strings.ToLower(strings.TrimSpace(fields[0]))
		stripped := false
		for _, p := range fields[1:] {
			if strings.TrimSpace(p) == "nulls=stripped" {
				stripped = true
			}
		}
		switch mt {
		case "application/json", "*/*", "application/*", "application/vnd.pgrst.array+json", "application/vnd.pgrst.array":
			return media{stripped: stripped}, nil
		case "application/vnd.pgrst.object+json", "application/vnd.pgrst.object":
			return media{single: true, stripped: stripped}, nil
		case "text/csv", "text/*":
			return media{csv: true}, nil
		}
		asked = append(asked, mt)
	}
	return media{}, restErr(http.StatusNotAcceptable, "PGRST107", "None of these media types are available: "+strings.Join(asked, ", "))
}

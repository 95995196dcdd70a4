package supabase

// A model of how PostgREST reads a query string, for the fuzz targets that
// check what the query builder sends: http-types' parseQueryReplacePlus, a
// strict UTF-8 decode, then the Parsec grammar of PostgREST's
// ApiRequest/QueryParams.hs (pOpExpr, pListVal, pLogicTree, pQuotedValue,
// pLogicSingleVal, pFieldName), with Parsec's rule that an alternative is
// tried only when the previous one failed without consuming input. What
// PostgREST does with the parsed values is modelled too: an in-list of one
// empty element is the empty list and in-list elements are cut at NUL
// (Query/SqlFragment.hs, pgBuildArrayLiteral); array literals are read as
// Postgres' array_in does.

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// pgrstPair is one decoded query parameter.
type pgrstPair struct {
	Key, Value string
	HasValue   bool // "k=v" rather than "k"
}

var errPgrstUTF8 = errors.New("query string is not valid UTF-8")

// pgrstParseQuery splits and decodes a raw query string as http-types'
// parseQueryReplacePlus True does (separators & and ;, '+' is a space, bad
// percent escapes kept as they are), then decodes every key and value as
// strict UTF-8 (Data.Text.Encoding.decodeUtf8), failing where PostgREST
// does.
func pgrstParseQuery(raw string) ([]pgrstPair, error) {
	raw = strings.TrimPrefix(raw, "?")
	var out []pgrstPair
	for raw != "" {
		item := raw
		if i := strings.IndexAny(raw, "&;"); i >= 0 {
			item, raw = raw[:i], raw[i+1:]
		} else {
			raw = ""
		}
		k, v, has := strings.Cut(item, "=")
		p := pgrstPair{Key: hsURLDecode(k), HasValue: has}
		if has {
			p.Value = hsURLDecode(v)
		}
		if !utf8.ValidString(p.Key) || !utf8.ValidString(p.Value) {
			return nil, errPgrstUTF8
		}
		out = append(out, p)
	}
	return out, nil
}

func hsURLDecode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			b.WriteByte(' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// pgrstOpExpr is a parsed filter (OpExpr, or NoOpExpr for an RPC argument).
type pgrstOpExpr struct {
	NoOp  bool   // an RPC argument: not an operator expression
	Not   bool   // "not." prefix
	Op    string // eq, neq, ..., in, is, isdistinct, fts, plfts, phfts, wfts
	Quant string // "any", "all" or ""
	Lang  string // fts language
	Value string // single value (also the NoOp value)
	List  []string
	IsVal string // null, not_null, true, false, unknown
	// Rest is what the grammar left unread (P.parse does not require eof).
	Rest string
}

// pgrstLogic is a parsed logic tree.
type pgrstLogic struct {
	Not      bool
	Op       string // "and", "or"; "" for a statement
	Children []*pgrstLogic
	Field    string
	Expr     *pgrstOpExpr
}

// hsParser is a cursor over a Text, with Parsec's consumption semantics:
// a failing parser reports failure and leaves p.i where it stopped; it
// consumed input when p.i moved.
type hsParser struct {
	s []rune
	i int
}

func newHSParser(s string) *hsParser { return &hsParser{s: []rune(s)} }

func (p *hsParser) eof() bool { return p.i >= len(p.s) }

func (p *hsParser) rest() string { return string(p.s[p.i:]) }

// char is Parsec's char: no input consumed on failure.
func (p *hsParser) char(c rune) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str is Parsec's string: a mismatch after the first character fails
// having consumed input.
func (p *hsParser) str(lit string) bool {
	start := p.i
	for k, c := range []rune(lit) {
		if p.i >= len(p.s) || p.s[p.i] != c {
			if k == 0 {
				p.i = start
			}
			return false
		}
		p.i++
	}
	return true
}

// ciStr is PostgREST's ciString: each character matches itself or its
// upper case.
func (p *hsParser) ciStr(lit string) bool {
	start := p.i
	for k, c := range []rune(lit) {
		if p.i >= len(p.s) || (p.s[p.i] != c && p.s[p.i] != unicode.ToUpper(c)) {
			if k == 0 {
				p.i = start
			}
			return false
		}
		p.i++
	}
	return true
}

// try runs f and rewinds on failure (Parsec's try).
func (p *hsParser) try(f func() bool) bool {
	start := p.i
	if f() {
		return true
	}
	p.i = start
	return false
}

// ws is many (oneOf " \t").
func (p *hsParser) ws() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// manyNoneOf is many (noneOf set).
func (p *hsParser) manyNoneOf(set string) string {
	start := p.i
	for p.i < len(p.s) && !strings.ContainsRune(set, p.s[p.i]) {
		p.i++
	}
	return string(p.s[start:p.i])
}

// notFollowedByNoneOf is notFollowedBy (noneOf set): the next character,
// if any, is in set.
func (p *hsParser) notFollowedByNoneOf(set string) bool {
	return p.eof() || strings.ContainsRune(set, p.s[p.i])
}

// quotedValue is pQuotedValue: '"' many (noneOf "\\\"" <|> '\\' anyChar) '"'.
func (p *hsParser) quotedValue() (string, bool) {
	if !p.char('"') {
		return "", false
	}
	var b strings.Builder
	for {
		if p.eof() {
			return "", false
		}
		c := p.s[p.i]
		switch c {
		case '"':
			p.i++
			return b.String(), true
		case '\\':
			p.i++
			if p.eof() {
				return "", false
			}
			b.WriteRune(p.s[p.i])
			p.i++
		default:
			b.WriteRune(c)
			p.i++
		}
	}
}

// listElement is pListElement: a quoted value followed by , or ) (or the
// end), else the raw text up to , or ).
func (p *hsParser) listElement() string {
	var v string
	if p.try(func() bool {
		var ok bool
		v, ok = p.quotedValue()
		return ok && p.notFollowedByNoneOf(",)")
	}) {
		return v
	}
	return p.manyNoneOf(",)")
}

// listVal is pListVal: lexeme '(' *> pListElement `sepBy1` ',' <* lexeme ')'.
func (p *hsParser) listVal() ([]string, bool) {
	p.ws()
	if !p.char('(') {
		return nil, false
	}
	p.ws()
	elems := []string{p.listElement()}
	for p.char(',') {
		elems = append(elems, p.listElement())
	}
	p.ws()
	if !p.char(')') {
		return nil, false
	}
	p.ws()
	return elems, true
}

// logicSingleVal is pLogicSingleVal: a quoted value followed by , or ), a
// brace-delimited array without nested braces, or the raw text up to , or ).
func (p *hsParser) logicSingleVal() string {
	var v string
	if p.try(func() bool {
		var ok bool
		v, ok = p.quotedValue()
		return ok && p.notFollowedByNoneOf(",)")
	}) {
		return v
	}
	if p.try(func() bool {
		start := p.i
		if !p.char('{') {
			return false
		}
		p.manyNoneOf("{}")
		if !p.char('}') {
			return false
		}
		v = string(p.s[start:p.i])
		return true
	}) {
		return v
	}
	return p.manyNoneOf(",)")
}

// singleVal is pSingleVal: the rest of the input.
func (p *hsParser) singleVal() string {
	v := p.rest()
	p.i = len(p.s)
	return v
}

// identifier is pIdentifier: many1 (letter <|> digit <|> oneOf "_ $"),
// stripped.
func (p *hsParser) identifier() (string, bool) {
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if unicode.IsLetter(c) || ('0' <= c && c <= '9') || c == '_' || c == ' ' || c == '$' {
			p.i++
			continue
		}
		break
	}
	if p.i == start {
		return "", false
	}
	return strings.TrimFunc(string(p.s[start:p.i]), unicode.IsSpace), true
}

// fieldName is pFieldName: a quoted value or identifiers joined by dashes
// not followed by '>'.
func (p *hsParser) fieldName() (string, bool) {
	start := p.i
	if v, ok := p.quotedValue(); ok {
		return v, true
	}
	if p.i != start {
		return "", false // consumed: the error stands
	}
	first, ok := p.identifier()
	if !ok {
		return "", false
	}
	parts := []string{first}
	for {
		if !p.try(func() bool {
			return p.char('-') && (p.eof() || p.s[p.i] != '>')
		}) {
			break
		}
		id, ok := p.identifier()
		if !ok {
			return "", false
		}
		parts = append(parts, id)
	}
	return strings.Join(parts, "-"), true
}

var errPgrstJSONPath = errors.New("JSON paths are not modelled")

// field is pField without JSON paths (the fuzz targets use plain column
// names): lexeme (pFieldName).
func (p *hsParser) field() (string, error) {
	p.ws()
	name, ok := p.fieldName()
	if !ok {
		return "", errors.New("field name")
	}
	if p.i+1 < len(p.s) && p.s[p.i] == '-' && p.s[p.i+1] == '>' {
		return "", errPgrstJSONPath
	}
	p.ws()
	return name, nil
}

// hsErr is a parse failure; consumed says whether input was consumed.
type hsErr struct {
	msg      string
	consumed bool
}

func (e *hsErr) Error() string { return e.msg }

// opExpr is pOpExpr with the given single-value parser.
func (p *hsParser) opExpr(single func() string) (*pgrstOpExpr, error) {
	start := p.i
	e := &pgrstOpExpr{}
	e.Not = p.try(func() bool { return p.str("not") && p.char('.') })
	afterNot := p.i
	fail := func(msg string) (*pgrstOpExpr, error) {
		return nil, &hsErr{msg: msg, consumed: p.i != start}
	}
	// pIn
	if p.try(func() bool { return p.str("in") && p.char('.') }) {
		l, ok := p.listVal()
		if !ok {
			return fail("in list")
		}
		e.Op, e.List, e.Rest = "in", l, p.rest()
		return e, nil
	}
	// pIs
	if p.try(func() bool { return p.str("is") && p.char('.') }) {
		for _, v := range []string{"null", "not_null", "true", "false", "unknown"} {
			if p.try(func() bool { return p.ciStr(v) }) {
				e.Op, e.IsVal, e.Rest = "is", v, p.rest()
				return e, nil
			}
		}
		return fail("is value")
	}
	// pIsDist
	if p.try(func() bool { return p.str("isdistinct") && p.char('.') }) {
		e.Op, e.Value = "isdistinct", single()
		e.Rest = p.rest()
		return e, nil
	}
	// try pFts
	if p.try(func() bool {
		op := ""
		for _, o := range []string{"fts", "plfts", "phfts", "wfts"} {
			if p.try(func() bool { return p.str(o) }) {
				op = o
				break
			}
		}
		if op == "" {
			return false
		}
		lang := ""
		p.try(func() bool {
			if !p.char('(') {
				return false
			}
			id, ok := p.identifier()
			if !ok || !p.char(')') {
				return false
			}
			lang = id
			return true
		})
		if !p.char('.') {
			return false
		}
		e.Op, e.Lang = op, lang
		return true
	}) {
		e.Value = single()
		e.Rest = p.rest()
		return e, nil
	}
	// try pSimpleOp
	if p.try(func() bool {
		for _, o := range []string{"neq", "cs", "cd", "ov", "sl", "sr", "nxr", "nxl", "adj"} {
			if p.try(func() bool { return p.str(o) }) {
				e.Op = o
				return p.char('.')
			}
		}
		return false
	}) {
		e.Value = single()
		e.Rest = p.rest()
		return e, nil
	}
	e.Op = ""
	// try pQuantOp
	if p.try(func() bool {
		for _, o := range []string{"eq", "gte", "gt", "lte", "lt", "like", "ilike", "match", "imatch"} {
			if p.try(func() bool { return p.str(o) }) {
				e.Op = o
				break
			}
		}
		if e.Op == "" {
			return false
		}
		p.try(func() bool {
			if !p.char('(') {
				return false
			}
			q := ""
			if p.try(func() bool { return p.str("any") }) {
				q = "any"
			} else if p.str("all") {
				q = "all"
			} else {
				return false
			}
			if !p.char(')') {
				return false
			}
			e.Quant = q
			return true
		})
		return p.char('.')
	}) {
		e.Value = single()
		e.Rest = p.rest()
		return e, nil
	}
	p.i = afterNot
	return fail("operator")
}

// pgrstParseFilter parses a filter parameter's value (pRequestFilter): for
// an RPC read, a value that is not an operator expression, and fails
// without consuming input, is an argument (NoOpExpr).
func pgrstParseFilter(v string, rpcRead bool) (*pgrstOpExpr, error) {
	p := newHSParser(v)
	e, err := p.opExpr(p.singleVal)
	if err != nil {
		var he *hsErr
		if rpcRead && errors.As(err, &he) && !he.consumed {
			return &pgrstOpExpr{NoOp: true, Value: v}, nil
		}
		return nil, err
	}
	return e, nil
}

// logicTree is pLogicTree.
func (p *hsParser) logicTree(depth int) (*pgrstLogic, error) {
	if depth > 100 {
		return nil, errors.New("too deep")
	}
	var stmt *pgrstLogic
	if p.try(func() bool {
		name, err := p.field()
		if err != nil || !p.char('.') {
			return false
		}
		e, err := p.opExpr(p.logicSingleVal)
		if err != nil {
			return false
		}
		e.Rest = ""
		stmt = &pgrstLogic{Field: name, Expr: e}
		return true
	}) {
		return stmt, nil
	}
	start := p.i
	n := &pgrstLogic{}
	n.Not = p.try(func() bool { return p.str("not") && p.char('.') })
	switch {
	case p.try(func() bool { return p.str("and") }):
		n.Op = "and"
	case p.str("or"):
		n.Op = "or"
	default:
		return nil, &hsErr{msg: "expecting a logic operator (and, or)", consumed: p.i != start}
	}
	p.ws()
	if !p.char('(') {
		return nil, &hsErr{msg: "expecting (", consumed: true}
	}
	p.ws()
	for {
		c, err := p.logicTree(depth + 1)
		if err != nil {
			return nil, err
		}
		n.Children = append(n.Children, c)
		before := p.i
		p.ws()
		if !p.char(',') {
			if p.i != before {
				return nil, &hsErr{msg: "expecting ,", consumed: true}
			}
			break
		}
		p.ws()
	}
	p.ws()
	if !p.char(')') {
		return nil, &hsErr{msg: "expecting )", consumed: true}
	}
	p.ws()
	return n, nil
}

// pgrstParseLogic parses an and/or parameter (pRequestLogicTree): the
// key's last path element (with "not." when the path holds "not") is
// prefixed to the value.
func pgrstParseLogic(key, value string) (embed []string, tree *pgrstLogic, rest string, err error) {
	kp := newHSParser(key)
	var path []string
	for {
		name, ok := kp.fieldName()
		if !ok {
			return nil, nil, "", fmt.Errorf("logic path %q", key)
		}
		path = append(path, name)
		if !kp.char('.') {
			break
		}
	}
	op := path[len(path)-1]
	for _, e := range path[:len(path)-1] {
		if e != "not" {
			embed = append(embed, e)
		}
	}
	if slices.Contains(path, "not") {
		op = "not." + op
	}
	p := newHSParser(op + value)
	tree, err = p.logicTree(0)
	if err != nil {
		return nil, nil, "", err
	}
	return embed, tree, p.rest(), nil
}

// pgrstInList is what PostgREST does with a parsed in-list: one empty
// element is the empty list ("= ANY('{}')"); otherwise every element is
// cut at its first NUL (pgBuildArrayLiteral).
func pgrstInList(elems []string) []string {
	if len(elems) == 1 && elems[0] == "" {
		return []string{}
	}
	out := make([]string, len(elems))
	for i, e := range elems {
		if j := strings.IndexByte(e, 0); j >= 0 {
			e = e[:j]
		}
		out[i] = e
	}
	return out
}

// pgArray is a value read from a Postgres array literal: an element
// (Null or Text) or a sub-array (Sub).
type pgArray struct {
	Sub  []*pgArray // for a (sub-)array
	Text string
	Null bool
	Leaf bool
}

func arrayIsSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// pgArrayIn reads a Postgres array literal as array_in does for a type
// whose delimiter is ','. It is strict where array_in is: whitespace around
// elements is dropped, '"' quotes, '\' escapes anywhere, an unquoted NULL
// (any case) is null, an empty unquoted element, an empty sub-array and
// junk after the closing brace are errors, and sub-arrays must have
// matching dimensions. The cases of TestPostgRESTGrammarModel were checked
// against PostgreSQL 15's array_in.
func pgArrayIn(s string) (*pgArray, error) {
	i := 0
	for i < len(s) && arrayIsSpace(s[i]) {
		i++
	}
	if i >= len(s) || s[i] != '{' {
		return nil, errors.New(`array value must start with "{"`)
	}
	a, j, err := pgArrayLevel(s, i, 0)
	if err != nil {
		return nil, err
	}
	for j < len(s) && arrayIsSpace(s[j]) {
		j++
	}
	if j != len(s) {
		return nil, errors.New("junk after closing right brace")
	}
	if _, err := pgArrayDims(a); err != nil {
		return nil, err
	}
	return a, nil
}

// pgArrayLevel reads the {...} starting at s[i].
func pgArrayLevel(s string, i, depth int) (*pgArray, int, error) {
	if depth >= 6 {
		return nil, 0, errors.New("number of array dimensions exceeds the maximum allowed (6)")
	}
	i++ // '{'
	a := &pgArray{Sub: []*pgArray{}}
	skip := func() {
		for i < len(s) && arrayIsSpace(s[i]) {
			i++
		}
	}
	skip()
	if i < len(s) && s[i] == '}' {
		if depth > 0 {
			return nil, 0, errors.New(`unexpected "}" character`) // no empty sub-arrays
		}
		return a, i + 1, nil
	}
	for {
		skip()
		if i >= len(s) {
			return nil, 0, errors.New("unexpected end of input")
		}
		if s[i] == '{' {
			sub, j, err := pgArrayLevel(s, i, depth+1)
			if err != nil {
				return nil, 0, err
			}
			a.Sub = append(a.Sub, sub)
			i = j
		} else {
			var b strings.Builder
			quoted, escaped := false, false
			start := i
			// An element: a quoted string, or unquoted characters
			// (with escapes) up to , or }.
			if s[i] == '"' {
				quoted = true
				i++
				for {
					if i >= len(s) {
						return nil, 0, errors.New("unterminated quoted element")
					}
					if s[i] == '\\' {
						if i+1 >= len(s) {
							return nil, 0, errors.New("unexpected end of input")
						}
						b.WriteByte(s[i+1])
						i += 2
						continue
					}
					if s[i] == '"' {
						i++
						break
					}
					b.WriteByte(s[i])
					i++
				}
			} else {
				end := 0 // length of b up to the last non-space character
				for i < len(s) && s[i] != ',' && s[i] != '}' {
					switch c := s[i]; {
					case c == '\\':
						if i+1 >= len(s) {
							return nil, 0, errors.New("unexpected end of input")
						}
						b.WriteByte(s[i+1])
						i += 2
						escaped = true
						end = b.Len()
					case c == '"' || c == '{':
						return nil, 0, fmt.Errorf("unexpected %q in element", c)
					case arrayIsSpace(c):
						b.WriteByte(c)
						i++
					default:
						b.WriteByte(c)
						i++
						end = b.Len()
					}
				}
				if i == start {
					return nil, 0, errors.New("empty unquoted element")
				}
				text := b.String()[:end]
				b.Reset()
				b.WriteString(text)
			}
			e := &pgArray{Leaf: true, Text: b.String()}
			if !quoted && !escaped && strings.EqualFold(e.Text, "null") {
				e.Null, e.Text = true, ""
			}
			a.Sub = append(a.Sub, e)
		}
		skip()
		if i >= len(s) {
			return nil, 0, errors.New("unexpected end of input")
		}
		switch s[i] {
		case ',':
			i++
		case '}':
			return a, i + 1, nil
		default:
			return nil, 0, fmt.Errorf("unexpected %q after element", s[i])
		}
	}
}

// pgArrayDims checks that a is rectangular: at each level all members are
// elements or all are sub-arrays of the same dimensions.
func pgArrayDims(a *pgArray) ([]int, error) {
	if len(a.Sub) == 0 {
		return []int{0}, nil
	}
	var dims []int
	for k, m := range a.Sub {
		var d []int
		if m.Leaf {
			d = []int{}
		} else {
			var err error
			if d, err = pgArrayDims(m); err != nil {
				return nil, err
			}
		}
		if k == 0 {
			dims = d
		} else if !slices.Equal(d, dims) {
			return nil, errors.New("multidimensional arrays must have sub-arrays with matching dimensions")
		}
	}
	return append([]int{len(a.Sub)}, dims...), nil
}

// TestPostgRESTGrammarModel pins the model to PostgREST's behaviour: the
// doctests of QueryParams.hs and the rules read from its parsers.
func TestPostgRESTGrammarModel(t *testing.T) {
	filters := []struct {
		in      string
		rpcRead bool
		want    *pgrstOpExpr // nil: PostgREST refuses it
	}{
		{"eq.1", false, &pgrstOpExpr{Op: "eq", Value: "1"}},
		{"eq(any).value", false, &pgrstOpExpr{Op: "eq", Quant: "any", Value: "value"}},
		{"not.eq(all).value", false, &pgrstOpExpr{Not: true, Op: "eq", Quant: "all", Value: "value"}},
		{"eq().value", false, nil},
		{"is().value", false, nil},
		{"in().value", false, nil},
		{"fts().value", false, nil},
		{"noop.0", false, nil},
		{"val", false, nil},
		{"val", true, &pgrstOpExpr{NoOp: true, Value: "val"}},
		{"eq.5", true, &pgrstOpExpr{Op: "eq", Value: "5"}},
		{"in.x", true, nil},
		{"not.x", true, nil},
		{"is.x", true, nil},
		{"likex", true, &pgrstOpExpr{NoOp: true, Value: "likex"}},
		{"gt.5", false, &pgrstOpExpr{Op: "gt", Value: "5"}},
		{"gte.5", false, &pgrstOpExpr{Op: "gte", Value: "5"}},
		{"neq.a.b", false, &pgrstOpExpr{Op: "neq", Value: "a.b"}},
		{"like.*a*", false, &pgrstOpExpr{Op: "like", Value: "*a*"}},
		{`eq."quoted"`, false, &pgrstOpExpr{Op: "eq", Value: `"quoted"`}},
		{"in.(a,b)", false, &pgrstOpExpr{Op: "in", List: []string{"a", "b"}}},
		{"in.()", false, &pgrstOpExpr{Op: "in", List: []string{""}}},
		{`in.("a,b",c)`, false, &pgrstOpExpr{Op: "in", List: []string{"a,b", "c"}}},
		{`in.("a\"b","c\\d")`, false, &pgrstOpExpr{Op: "in", List: []string{`a"b`, `c\d`}}},
		{"in.( a,b )", false, &pgrstOpExpr{Op: "in", List: []string{"a", "b "}}},
		{`in.("a" )`, false, &pgrstOpExpr{Op: "in", List: []string{`"a" `}}},
		{`in.("a"b)`, false, &pgrstOpExpr{Op: "in", List: []string{`"a"b`}}},
		{"in.(a)x", false, &pgrstOpExpr{Op: "in", List: []string{"a"}, Rest: "x"}},
		{"in.(a", false, nil},
		{"is.NULL", false, &pgrstOpExpr{Op: "is", IsVal: "null"}},
		{"is.not_null", false, &pgrstOpExpr{Op: "is", IsVal: "not_null"}},
		{"is.nullx", false, &pgrstOpExpr{Op: "is", IsVal: "null", Rest: "x"}},
		{"isdistinct.x", false, &pgrstOpExpr{Op: "isdistinct", Value: "x"}},
		{"fts(english).a b", false, &pgrstOpExpr{Op: "fts", Lang: "english", Value: "a b"}},
		{"wfts.a", false, &pgrstOpExpr{Op: "wfts", Value: "a"}},
		{"wfts(pg_catalog.english).x", false, nil},
		{"not.in.(1)", false, &pgrstOpExpr{Not: true, Op: "in", List: []string{"1"}}},
		{"cs.{1,2}", false, &pgrstOpExpr{Op: "cs", Value: "{1,2}"}},
	}
	for _, tt := range filters {
		got, err := pgrstParseFilter(tt.in, tt.rpcRead)
		if tt.want == nil {
			if err == nil {
				t.Errorf("%q (rpc %v): parsed as %+v, want a refusal", tt.in, tt.rpcRead, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q (rpc %v): %v", tt.in, tt.rpcRead, err)
			continue
		}
		if tt.want.List == nil && got.List != nil {
			tt.want.List = got.List[:0]
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q (rpc %v): got %+v, want %+v", tt.in, tt.rpcRead, got, tt.want)
		}
	}

	logic := []struct {
		key, value string
		want       string // the tree in a short form; "" for a refusal
	}{
		{"or", "()", ""},
		{"or", "(id.in.1,2,id.eq.3)", ""},
		{"or", ")(", ""},
		{"and", "(ord(id.eq.1,id.eq.1),id.eq.2)", ""},
		{"or", "(id.eq.1,not.xor(id.eq.2,id.eq.3))", ""},
		{"or", "(a.eq.1,b.in.(1,2))", "or(a eq 1,b in [1 2])"},
		{"or", `(a.eq."x,y",b.cs.{1,2},c.not.is.null)`, "or(a eq x,y,b cs {1,2},c not is null)"},
		{"or", `(a.eq."x"y)`, `or(a eq "x"y)`},
		{"or", "(a.eq.{x}y)", ""},
		{"or", "(a.eq.x ,b.eq.y)", "or(a eq x ,b eq y)"},
		{"or", "(a.is.null ,b.eq.y)", "or(a is null,b eq y)"},
		{"or", "(a.is.null )", ""},
		{"or", "(a.in.(1) x)", ""},
		{"not.and", "(a.eq.1,or(b.eq.2,c.eq.3))", "not.and(a eq 1,or(b eq 2,c eq 3))"},
		{"tbl.or", "(a.eq.1)", "or(a eq 1)"},
	}
	for _, tt := range logic {
		_, tree, _, err := pgrstParseLogic(tt.key, tt.value)
		if tt.want == "" {
			if err == nil {
				t.Errorf("%s=%s: parsed as %s, want a refusal", tt.key, tt.value, logicString(tree))
			}
			continue
		}
		if err != nil {
			t.Errorf("%s=%s: %v", tt.key, tt.value, err)
			continue
		}
		if got := logicString(tree); got != tt.want {
			t.Errorf("%s=%s: got %s, want %s", tt.key, tt.value, got, tt.want)
		}
	}

	arrays := []struct {
		in   string
		want string // elements as %q, nested with {}; "" for an error
	}{
		{`{a,"b c",NULL,"NULL",null}`, `{"a" "b c" NULL "NULL" NULL}`},
		{`{ a , b }`, `{"a" "b"}`},
		{`{a b}`, `{"a b"}`},
		{`{a\,b,\"}`, `{"a,b" "\""}`},
		{`{\NULL}`, `{"NULL"}`},
		{`{}`, `{}`},
		{` {{1,2},{3,4}} `, `{{"1" "2"} {"3" "4"}}`},
		{`{{1},{2,3}}`, ""},
		{`{{1},2}`, ""},
		{`{a,}`, ""},
		{`{{},{}}`, ""},
		{`{{{}}}`, ""},
		{`{{1},null}`, ""},
		{`{a,{b}}`, ""},
		{`{a"b"}`, ""},
		{`{ }`, `{}`},
		{`{ {1} , {2} }`, `{{"1"} {"2"}}`},
		{`{NuLl,"null"}`, `{NULL "null"}`},
		{"{\va\f}", `{"a"}`},
		{"{\u00a0a}", `{"\u00a0a"}`},
		{`{"a"  ,b}`, `{"a" "b"}`},
		{`{\}`, ""},
		{`{x\\y}`, `{"x\\y"}`},
		{`{{null,null}}`, `{{NULL NULL}}`},
		{`{,a}`, ""},
		{`{a}x`, ""},
		{`{"a"b}`, ""},
		{`{"a`, ""},
		{`a`, ""},
	}
	for _, tt := range arrays {
		a, err := pgArrayIn(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("%s: read as %s, want an error", tt.in, arrayString(a))
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if got := arrayString(a); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.in, got, tt.want)
		}
	}

	pairs, err := pgrstParseQuery("a=1&b=x+y;c&d=%zz&e=%41%2b&=&f=a=b")
	if err != nil {
		t.Fatal(err)
	}
	want := []pgrstPair{{"a", "1", true}, {"b", "x y", true}, {"c", "", false}, {"d", "%zz", true},
		{"e", "A+", true}, {"", "", true}, {"f", "a=b", true}}
	if !reflect.DeepEqual(pairs, want) {
		t.Errorf("query: got %+v, want %+v", pairs, want)
	}
	if _, err := pgrstParseQuery("a=%FF"); err == nil {
		t.Error("invalid UTF-8 accepted")
	}
}

func logicString(n *pgrstLogic) string {
	if n == nil {
		return "<nil>"
	}
	if n.Op == "" {
		e := n.Expr
		s := n.Field + " "
		if e.Not {
			s += "not "
		}
		s += e.Op + " "
		switch {
		case e.Op == "in":
			s += fmt.Sprint(e.List)
		case e.Op == "is":
			s += e.IsVal
		default:
			s += e.Value
		}
		return s
	}
	var parts []string
	for _, c := range n.Children {
		parts = append(parts, logicString(c))
	}
	prefix := ""
	if n.Not {
		prefix = "not."
	}
	return prefix + n.Op + "(" + strings.Join(parts, ",") + ")"
}

func arrayString(a *pgArray) string {
	if a.Leaf {
		if a.Null {
			return "NULL"
		}
		return strconv.Quote(a.Text)
	}
	var parts []string
	for _, s := range a.Sub {
		parts = append(parts, arrayString(s))
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// pgrstRPCRead is what PostgREST makes of the query string of a GET or
// HEAD function call: arguments (NoOpExpr parameters, named by their field
// name), and everything it takes as something else.
type pgrstRPCRead struct {
	Args  map[string]string
	Other []string // parameters read as filters, select, order, limit...
}

// pgrstParseRPCRead classifies parameters as parse in QueryParams.hs does
// for an RPC read.
func pgrstParseRPCRead(pairs []pgrstPair) (*pgrstRPCRead, error) {
	r := &pgrstRPCRead{Args: map[string]string{}}
	for _, p := range pairs {
		if !p.HasValue {
			continue // not a parameter with a value: ignored
		}
		segs := strings.Split(p.Key, ".")
		last := segs[len(segs)-1]
		switch {
		case p.Key == "select" || p.Key == "columns" || p.Key == "on_conflict",
			slices.Contains([]string{"order", "limit", "offset", "and", "or"}, last):
			r.Other = append(r.Other, p.Key)
			continue
		}
		name, exact, err := pgrstTreePath(p.Key)
		if err != nil {
			return nil, err
		}
		e, err := pgrstParseFilter(p.Value, true)
		if err != nil {
			return nil, err
		}
		if !e.NoOp {
			r.Other = append(r.Other, p.Key+" (filter)")
			continue
		}
		if strings.ContainsRune(e.Value, 0) {
			return nil, errors.New("Postgres cannot read NUL in text")
		}
		if !exact {
			r.Other = append(r.Other, p.Key+" (read as "+strconv.Quote(name)+")")
		}
		if _, dup := r.Args[name]; dup {
			r.Other = append(r.Other, p.Key+" (again)")
		}
		r.Args[name] = e.Value
	}
	return r, nil
}

// pgrstTreePath reads a filter key (pTreePath: field names separated by
// dots, then an optional JSON path) and returns the field name an RPC
// argument gets; exact reports whether that is the whole key.
func pgrstTreePath(key string) (name string, exact bool, err error) {
	p := newHSParser(key)
	var path []string
	for {
		n, ok := p.fieldName()
		if !ok {
			return "", false, fmt.Errorf("failed to parse tree path (%s)", key)
		}
		path = append(path, n)
		if !p.char('.') {
			break
		}
	}
	name = path[len(path)-1]
	return name, len(path) == 1 && p.eof() && name == key, nil
}

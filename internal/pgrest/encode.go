// Package pgrest encodes Go values into the text forms PostgREST reads in
// query strings: plain filter values, in-lists, Postgres array literals,
// select lists and the query string itself.
//
// Every function is pure and safe for concurrent use.
package pgrest

import (
	"database/sql/driver"
	"encoding"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ErrUnsupported is wrapped by the errors returned for values that have no
// text form (channels, functions, complex numbers, unsafe pointers).
var ErrUnsupported = errors.New("value cannot be encoded")

var (
	timeType   = reflect.TypeFor[time.Time]()
	rawType    = reflect.TypeFor[json.RawMessage]()
	numberType = reflect.TypeFor[json.Number]()
	valuerType = reflect.TypeFor[driver.Valuer]()
	textType   = reflect.TypeFor[encoding.TextMarshaler]()
	strType    = reflect.TypeFor[fmt.Stringer]()
)

// Text returns the text PostgREST receives for v as a plain filter value
// (the part after "eq."):
//
//   - nil and nil pointers: null
//   - strings as they are; bools true/false; integers in decimal
//   - floats without exponent (strconv 'f', -1); NaN, Infinity, -Infinity
//   - time.Time: RFC 3339 with nanoseconds
//   - json.Number and json.RawMessage: their text
//   - []byte: Postgres bytea hex form (\x0a0b...)
//   - driver.Valuer: the encoding of its Value
//   - encoding.TextMarshaler, then fmt.Stringer: their text
//   - slices and arrays: a Postgres array literal (see Array)
//   - maps and structs: JSON
//
// Channels, functions, complex numbers and unsafe pointers are an error
// wrapping ErrUnsupported.
func Text(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "null", nil
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case uint64:
		return strconv.FormatUint(x, 10), nil
	case float64:
		return formatFloat(x, 64), nil
	case float32:
		return formatFloat(float64(x), 32), nil
	case json.Number:
		return string(x), nil
	case json.RawMessage:
		return strings.TrimSpace(string(x)), nil
	case []byte:
		return `\x` + hex.EncodeToString(x), nil
	case time.Time:
		return x.Format(time.RFC3339Nano), nil
	}
	s, _, err := textReflect(reflect.ValueOf(v), 0)
	return s, err
}

// maxDepth bounds recursion through pointers, Valuers and nested slices.
const maxDepth = 64

// textReflect encodes rv as Text does. num reports that the text is a
// number (a Go numeric kind, reached directly or through a pointer or a
// driver.Valuer, or a json.Number spelling a JSON number): list and array
// elements that are numbers are never quoted.
func textReflect(rv reflect.Value, depth int) (s string, num bool, err error) {
	if depth > maxDepth {
		return "", false, fmt.Errorf("%w: nested too deeply", ErrUnsupported)
	}
	if !rv.IsValid() {
		return "null", false, nil
	}
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return "null", false, nil
		}
	}
	if rv.Kind() == reflect.Interface {
		return textReflect(rv.Elem(), depth+1)
	}
	t := rv.Type()
	switch {
	case t == timeType:
		return rv.Interface().(time.Time).Format(time.RFC3339Nano), false, nil
	case t == rawType:
		return strings.TrimSpace(string(rv.Bytes())), false, nil
	case t == numberType:
		// Checked before fmt.Stringer, which json.Number implements.
		s := rv.String()
		return s, IsNumber(s), nil
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 && !t.Implements(valuerType):
		// []byte and named byte slices.
		return `\x` + hex.EncodeToString(rv.Bytes()), false, nil
	}
	if rv.CanInterface() {
		switch x := rv.Interface().(type) {
		case driver.Valuer:
			dv, err := x.Value()
			if err != nil {
				return "", false, fmt.Errorf("%w: %T.Value: %v", ErrUnsupported, x, err)
			}
			if dv == nil {
				return "null", false, nil
			}
			return textReflect(reflect.ValueOf(dv), depth+1)
		case encoding.TextMarshaler:
			b, err := x.MarshalText()
			if err != nil {
				return "", false, fmt.Errorf("%w: %T.MarshalText: %v", ErrUnsupported, x, err)
			}
			return string(b), false, nil
		case fmt.Stringer:
			return x.String(), false, nil
		}
	}
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		return textReflect(rv.Elem(), depth+1)
	case reflect.String:
		return rv.String(), false, nil
	case reflect.Bool:
		return strconv.FormatBool(rv.Bool()), false, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10), true, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(rv.Uint(), 10), true, nil
	case reflect.Float32:
		return formatFloat(rv.Float(), 32), true, nil
	case reflect.Float64:
		return formatFloat(rv.Float(), 64), true, nil
	case reflect.Slice, reflect.Array:
		s, err := arrayReflect(rv, depth+1)
		return s, false, err
	case reflect.Map, reflect.Struct:
		b, err := json.Marshal(rv.Interface())
		if err != nil {
			return "", false, fmt.Errorf("%w: %v", ErrUnsupported, err)
		}
		return string(b), false, nil
	}
	return "", false, fmt.Errorf("%w: %s", ErrUnsupported, rv.Type())
}

// IsNumber reports whether s is a JSON number literal (-12, 0.5, 1e3):
// text that can stand unquoted in an in-list or array literal.
func IsNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// formatFloat formats f the way JavaScript prints typical numbers (no
// exponent), with Postgres' spellings of the special values.
func formatFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(f, 'f', -1, bits)
}

// IsList reports whether v is a slice or array other than a byte slice or
// json.RawMessage, i.e. a value Array and List accept.
func IsList(v any) bool {
	if v == nil {
		return false
	}
	switch v.(type) {
	case []byte, json.RawMessage, string:
		return false
	}
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	return isListValue(rv)
}

func isListValue(rv reflect.Value) bool {
	switch rv.Kind() {
	case reflect.Slice:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return false
		}
		return !rv.Type().Implements(valuerType)
	case reflect.Array:
		t := rv.Type()
		if t.Implements(valuerType) || t.Implements(textType) || t.Implements(strType) {
			return false
		}
		return true
	}
	return false
}

// Array returns v (a slice or array) as a Postgres array literal: {a,b,c}.
// Nested slices become nested literals ({{1,2},{3,4}}), nil elements null.
// As Postgres requires, sub-slices must be non-empty and of one shape, and
// not mixed with other elements: {{1},{2,3}}, {{}} and {1,{2}} are errors.
// Numbers (Go numeric kinds, json.Number) are written as they are:
// {1.5,2}. Other elements are double-quoted, with " and \
// backslash-escaped, when they are empty, spell null, or contain whitespace
// or any of , { } ( ) " \ . : so that no element can split or end the
// literal; a string that looks like a number is quoted like any string.
//
// supabase-js joins array elements with "," without any quoting, so an
// element containing a comma silently becomes two elements; this quotes it.
func Array(v any) (string, error) {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	if !isListValue(rv) {
		return "", fmt.Errorf("%w: %T is not a slice or array", ErrUnsupported, v)
	}
	return arrayReflect(rv, 0)
}

func arrayReflect(rv reflect.Value, depth int) (string, error) {
	s, _, err := arrayLevel(rv, depth)
	return s, err
}

// leafShape is the shape of an array element that is not a sub-array.
var leafShape = []int{-1}

// arrayLevel writes one level of an array literal and returns its shape
// (its length, then its members' shape). Postgres arrays are rectangular:
// the members of a level are all sub-arrays of one shape or all elements.
func arrayLevel(rv reflect.Value, depth int) (string, []int, error) {
	if depth > maxDepth {
		return "", nil, fmt.Errorf("%w: nested too deeply", ErrUnsupported)
	}
	var b strings.Builder
	b.WriteByte('{')
	n := rv.Len()
	var members []int
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		e := rv.Index(i)
		for e.Kind() == reflect.Interface && !e.IsNil() {
			e = e.Elem()
		}
		shape := leafShape
		switch {
		case isListValue(e):
			if e.Len() == 0 {
				return "", nil, fmt.Errorf("%w: a Postgres array cannot hold an empty sub-array", ErrUnsupported)
			}
			s, sub, err := arrayLevel(e, depth+1)
			if err != nil {
				return "", nil, err
			}
			b.WriteString(s)
			shape = sub
		case (e.Kind() == reflect.Pointer || e.Kind() == reflect.Interface) && e.IsNil():
			b.WriteString("null")
		default:
			s, num, err := textReflect(e, depth+1)
			if err != nil {
				return "", nil, err
			}
			if !num {
				s = QuoteArrayElement(s)
			}
			b.WriteString(s)
		}
		if i == 0 {
			members = shape
		} else if !slices.Equal(shape, members) {
			return "", nil, fmt.Errorf("%w: a Postgres array needs sub-arrays of one size and no element beside a sub-array", ErrUnsupported)
		}
	}
	b.WriteByte('}')
	return b.String(), append([]int{n}, members...), nil
}

// QuoteArrayElement quotes s for use as one element of a Postgres array
// literal when it needs it (see Array).
func QuoteArrayElement(s string) string {
	if s == "" || strings.EqualFold(s, "null") || needsQuote(s, ",{}()\"\\.:") {
		return quote(s)
	}
	return s
}

// List returns v (a slice or array) as a PostgREST in-list: (a,b,c).
// Duplicate elements (after encoding) are dropped, keeping the first, as
// supabase-js does. Numbers (Go numeric kinds, json.Number) are written as
// they are: (1.5,2). Any other element is double-quoted, with " and \
// backslash-escaped, when it is empty or contains whitespace or any
// character PostgREST's grammar reserves: , . : ( ) " \. nil elements are
// sent as null, as in supabase-js.
//
// supabase-js quotes only elements containing , ( or ) and never escapes
// " or \, so an element such as `a"b` or `x\` changes meaning; this
// escapes them. It also sends an empty string as nothing, so [""] becomes
// in.(), the empty list. PostgREST reads in.("") as the empty list too, so
// a list holding only the empty string is sent as ("","").
func List(v any) (string, error) {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	if !isListValue(rv) {
		return "", fmt.Errorf("%w: %T is not a slice or array", ErrUnsupported, v)
	}
	n := rv.Len()
	var b strings.Builder
	b.WriteByte('(')
	var seen map[string]struct{}
	if n > 1 {
		seen = make(map[string]struct{}, n)
	}
	written := 0
	onlyEmpty := true
	for i := range n {
		s, num, err := textReflect(rv.Index(i), 1)
		if err != nil {
			return "", err
		}
		if seen != nil {
			if _, dup := seen[s]; dup {
				continue
			}
			seen[s] = struct{}{}
		}
		onlyEmpty = onlyEmpty && s == ""
		if !num {
			s = QuoteListElement(s)
		}
		if written > 0 {
			b.WriteByte(',')
		}
		written++
		b.WriteString(s)
	}
	if written == 1 && onlyEmpty {
		// PostgREST reads a list of one empty element, quoted or not, as
		// the empty list: ("","") is the list holding the empty string.
		return `("","")`, nil
	}
	b.WriteByte(')')
	return b.String(), nil
}

// ListElement encodes v (not a list) as one element of an in-list or a
// value inside an or()/and() group: numbers as they are, anything else as
// Text quoted by QuoteLogicValue.
func ListElement(v any) (string, error) {
	s, num, err := textReflect(reflect.ValueOf(v), 0)
	if err != nil || num {
		return s, err
	}
	return QuoteLogicValue(s), nil
}

// QuoteListElement quotes s for use as one element of an in-list when it
// needs it (see List).
func QuoteListElement(s string) string {
	if s == "" || needsQuote(s, ",.:()\"\\") {
		return quote(s)
	}
	return s
}

// QuoteLogicValue quotes s for use as a value inside an or()/and() group
// when it needs it: as QuoteListElement, and also when s starts with {,
// since there PostgREST reads {...} up to the first } as an array literal
// and {a}b would not parse.
func QuoteLogicValue(s string) string {
	if s != "" && s[0] == '{' {
		return quote(s)
	}
	return QuoteListElement(s)
}

func needsQuote(s, reserved string) bool {
	for _, r := range s {
		if r < utf8.RuneSelf {
			if strings.IndexByte(reserved, byte(r)) >= 0 || r == ' ' || r == '\t' || r == '\n' || r == '\r' ||
				r == '\v' || r == '\f' {
				return true
			}
			continue
		}
		if unicode.IsSpace(r) {
			return true
		}
	}
	return false
}

func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	b.WriteByte('"')
	return b.String()
}

// CleanSelect removes whitespace outside double quotes from a select list,
// as supabase-js does; "" becomes "*". Text that is not valid UTF-8 is
// returned as it is, for CheckText to refuse: dropping spaces between
// invalid bytes could join them into valid text.
func CleanSelect(columns string) string {
	if columns == "" {
		return "*"
	}
	if !utf8.ValidString(columns) {
		return columns
	}
	clean := true
	for i := 0; i < len(columns); i++ {
		c := columns[i]
		if c == '"' || c == ' ' || c >= 0x80 || (c >= '\t' && c <= '\r') {
			clean = false // (bytes from 0x80 on may start a Unicode space)
			break
		}
	}
	if clean {
		return columns
	}
	var b strings.Builder
	b.Grow(len(columns))
	quoted := false
	for _, r := range columns {
		if !quoted && unicode.IsSpace(r) {
			continue
		}
		if r == '"' {
			quoted = !quoted
		}
		b.WriteRune(r)
	}
	if b.Len() == 0 {
		return "*"
	}
	return b.String()
}

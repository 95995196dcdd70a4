package conformance

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
)

// How postgrest-js (supabase-js 2.119.0) writes list and array values into
// the query string. Rules use these to find supabase-js's rendering of a
// call's arguments in a recorded query, and replace it by the SDK's.

// JSInList is what supabase-js's in(column, values) and notIn write after
// "in.": duplicates removed (by JavaScript value, so 7 and "7" stay two),
// a string element double-quoted as it is only when it contains , ( or ),
// everything else converted with String(): null is "null", the empty
// string nothing.
func JSInList(values json.RawMessage) (string, error) {
	elems, err := jsArray(values)
	if err != nil {
		return "", err
	}
	var parts []string
	var seen []any
	for _, v := range elems {
		if containsSame(seen, v) {
			continue
		}
		seen = append(seen, v)
		if s, ok := v.(string); ok && strings.ContainsAny(s, ",()") {
			parts = append(parts, `"`+s+`"`)
			continue
		}
		parts = append(parts, jsString(v))
	}
	return "(" + strings.Join(parts, ",") + ")", nil
}

// JSArrayLiteral is what supabase-js writes for an array given to
// contains, containedBy, overlaps, likeAllOf/likeAnyOf/ilikeAllOf/ilikeAnyOf
// and as an rpc argument sent in the query: "{" + values.join(",") + "}",
// with no quoting, null as nothing and nested arrays flattened.
func JSArrayLiteral(values json.RawMessage) (string, error) {
	elems, err := jsArray(values)
	if err != nil {
		return "", err
	}
	return "{" + jsJoin(elems) + "}", nil
}

// JSString is JavaScript's String(value) of a JSON value, which is what
// supabase-js writes after the operator of eq, neq, gt, gte, lt, lte and
// isDistinct: an array becomes values.join(","), without braces.
func JSString(value json.RawMessage) (string, error) {
	v, err := DecodeJSON(value)
	if err != nil {
		return "", err
	}
	return jsString(v), nil
}

func jsArray(raw json.RawMessage) ([]any, error) {
	v, err := DecodeJSON(raw)
	if err != nil {
		return nil, err
	}
	a, ok := v.([]any)
	if !ok {
		return nil, errors.New("not a JSON array")
	}
	return a, nil
}

// containsSame reports whether seen holds a value SameValueZero-equal to
// v; objects and arrays are never equal (they are distinct references).
func containsSame(seen []any, v any) bool {
	for _, s := range seen {
		switch a := v.(type) {
		case nil:
			if s == nil {
				return true
			}
		case string, bool:
			if s == v {
				return true
			}
		case json.Number:
			if b, ok := s.(json.Number); ok {
				fa, _ := strconv.ParseFloat(string(a), 64)
				fb, _ := strconv.ParseFloat(string(b), 64)
				if fa == fb {
					return true
				}
			}
		}
	}
	return false
}

// jsString is JavaScript's String(v) for a decoded JSON value.
func jsString(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		return jsNumber(string(x))
	case []any:
		return jsJoin(x)
	}
	return "[object Object]"
}

// jsJoin is Array.prototype.join(","): null elements become "".
func jsJoin(elems []any) string {
	parts := make([]string, len(elems))
	for i, e := range elems {
		if e != nil {
			parts[i] = jsString(e)
		}
	}
	return strings.Join(parts, ",")
}

// jsNumber is Number.prototype.toString() of a JSON number.
func jsNumber(s string) string {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	if f == 0 {
		return "0"
	}
	if a := math.Abs(f); a >= 1e21 || a < 1e-6 {
		m, exp, _ := strings.Cut(strconv.FormatFloat(f, 'e', -1, 64), "e")
		sign, digits := exp[:1], strings.TrimLeft(exp[1:], "0")
		return m + "e" + sign + digits
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

package pgrest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

var errSyntax = errors.New("invalid JSON")

// Kind returns the first non-space byte of a JSON document: '{', '[', '"',
// 'n', 't', 'f', a digit or '-'; 0 for an empty document.
func Kind(b []byte) byte {
	i := skipWS(b, 0)
	if i >= len(b) {
		return 0
	}
	return b[i]
}

// Member is one key of a JSON object with its raw value.
type Member struct {
	Key   string
	Value []byte
}

// ObjectMembers returns the members of the JSON object b in document order.
func ObjectMembers(b []byte) ([]Member, error) {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, fmt.Errorf("%w: not an object", errSyntax)
	}
	var out []Member
	_, err := scanObject(b, i, func(k string, v []byte) { out = append(out, Member{k, v}) })
	return out, err
}

// ArrayObjectKeys returns the union of the keys of the objects in the JSON
// array b, in first-seen order. Every element must be an object.
func ArrayObjectKeys(b []byte) ([]string, error) {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '[' {
		return nil, fmt.Errorf("%w: not an array", errSyntax)
	}
	i++
	var keys []string
	seen := map[string]struct{}{}
	add := func(k string, _ []byte) {
		if _, ok := seen[k]; !ok {
			seen[k] = struct{}{}
			keys = append(keys, k)
		}
	}
	for {
		i = skipWS(b, i)
		if i >= len(b) {
			return nil, errSyntax
		}
		if b[i] == ']' {
			return keys, nil
		}
		if b[i] != '{' {
			return nil, fmt.Errorf("%w: array element is not an object", errSyntax)
		}
		var err error
		if i, err = scanObject(b, i, add); err != nil {
			return nil, err
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return nil, errSyntax
		}
		switch b[i] {
		case ',':
			i++
		case ']':
			return keys, nil
		default:
			return nil, errSyntax
		}
	}
}

// scanObject reads the object starting at b[i] == '{', calling fn for each
// member, and returns the index after its closing brace.
func scanObject(b []byte, i int, fn func(key string, value []byte)) (int, error) {
	i++
	for {
		i = skipWS(b, i)
		if i >= len(b) {
			return 0, errSyntax
		}
		if b[i] == '}' {
			return i + 1, nil
		}
		if b[i] != '"' {
			return 0, errSyntax
		}
		end, err := endOfString(b, i)
		if err != nil {
			return 0, err
		}
		key, err := unquote(b[i:end])
		if err != nil {
			return 0, err
		}
		i = skipWS(b, end)
		if i >= len(b) || b[i] != ':' {
			return 0, errSyntax
		}
		i = skipWS(b, i+1)
		vend, err := endOfValue(b, i)
		if err != nil {
			return 0, err
		}
		fn(key, b[i:vend])
		i = skipWS(b, vend)
		if i >= len(b) {
			return 0, errSyntax
		}
		switch b[i] {
		case ',':
			i++
		case '}':
			return i + 1, nil
		default:
			return 0, errSyntax
		}
	}
}

// unquote decodes a JSON string as encoding/json does (which also turns
// invalid UTF-8 into U+FFFD).
func unquote(s []byte) (string, error) {
	if bytes.IndexByte(s, '\\') < 0 && utf8.Valid(s) {
		return string(s[1 : len(s)-1]), nil
	}
	var k string
	if err := json.Unmarshal(s, &k); err != nil {
		return "", err
	}
	return k, nil
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// endOfString returns the index after the string starting at b[i] == '"'.
func endOfString(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, errSyntax
}

// endOfValue returns the index after the JSON value starting at b[i].
func endOfValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errSyntax
	}
	switch b[i] {
	case '"':
		return endOfString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := endOfString(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errSyntax
	}
	j := i
	for j < len(b) {
		switch b[j] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return j, nil
		}
		j++
	}
	return j, nil
}

// ParamText returns the query string text for one JSON value given as an
// RPC argument on a GET or HEAD call: strings unquoted, numbers, booleans
// and null as written, arrays as Postgres array literals (see Array) and
// objects as JSON. hasObject reports whether the value is an object or an
// array holding one, which cannot be sent in a query string as supabase-js
// understands it.
func ParamText(raw []byte) (text string, hasObject bool, err error) {
	switch Kind(raw) {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false, err
		}
		return s, false, nil
	case '{':
		return string(bytes.TrimSpace(raw)), true, nil
	case '[':
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		var v []any
		if err := d.Decode(&v); err != nil {
			return "", false, err
		}
		s, err := Array(v)
		return s, containsObject(v), err
	case 0:
		return "", false, errSyntax
	}
	return string(bytes.TrimSpace(raw)), false, nil
}

func containsObject(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		return true
	case []any:
		for _, e := range x {
			if containsObject(e) {
				return true
			}
		}
	}
	return false
}

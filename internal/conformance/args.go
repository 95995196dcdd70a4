package conformance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Args reads the JSON arguments of one call for a mapping onto Go. Reading
// errors are sticky: the first is kept and reported by Err, so a mapping can
// read everything and check once.
type Args struct {
	// Call is the supabase-js method name.
	Call string
	// Raw are the arguments as JSON.
	Raw []json.RawMessage
	err error
}

// NewArgs returns the argument reader of c.
func NewArgs(c Call) *Args { return &Args{Call: c.Call, Raw: c.Args} }

// Err returns the first reading error.
func (a *Args) Err() error { return a.err }

// Fail records a mapping error (the first one is kept).
func (a *Args) Fail(format string, v ...any) {
	if a.err == nil {
		a.err = fmt.Errorf("%s: %s", a.Call, fmt.Sprintf(format, v...))
	}
}

// Has reports whether argument i is present and not null.
func (a *Args) Has(i int) bool { return i < len(a.Raw) && string(a.Raw[i]) != "null" }

// Max fails when the call has more than n arguments (one the mapping
// would silently drop).
func (a *Args) Max(n int) {
	if len(a.Raw) > n {
		a.Fail("%d arguments, the mapping reads %d", len(a.Raw), n)
	}
}

// Str reads argument i as a string.
func (a *Args) Str(i int) string {
	var s string
	if i >= len(a.Raw) {
		a.Fail("argument %d missing", i)
		return ""
	}
	if err := json.Unmarshal(a.Raw[i], &s); err != nil {
		a.Fail("argument %d: want a string: %v", i, err)
	}
	return s
}

// Int reads argument i as an integer.
func (a *Args) Int(i int) int {
	var n int
	if i >= len(a.Raw) {
		a.Fail("argument %d missing", i)
		return 0
	}
	if err := json.Unmarshal(a.Raw[i], &n); err != nil {
		a.Fail("argument %d: want an integer: %v", i, err)
	}
	return n
}

// Value converts argument i into the Go value a filter takes: strings,
// json.Number (so numbers keep their JavaScript spelling), bools, nil,
// []any for arrays and compact json.RawMessage for objects (key order
// kept).
func (a *Args) Value(i int) any {
	if i >= len(a.Raw) {
		a.Fail("argument %d missing", i)
		return nil
	}
	v, err := JSValue(a.Raw[i])
	if err != nil {
		a.Fail("argument %d: %v", i, err)
	}
	return v
}

// JSValue converts a JSON value as Value does.
func JSValue(raw json.RawMessage) (any, error) {
	raw = json.RawMessage(strings.TrimSpace(string(raw)))
	if len(raw) == 0 {
		return nil, errors.New("empty value")
	}
	switch raw[0] {
	case '{':
		// Compact, as JSON.stringify writes it; key order is kept.
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			return nil, err
		}
		return json.RawMessage(b.Bytes()), nil
	case '[':
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			return nil, err
		}
		out := make([]any, len(elems))
		for i, el := range elems {
			v, err := JSValue(el)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case 'n':
		return nil, nil
	case 't', 'f':
		var b bool
		err := json.Unmarshal(raw, &b)
		return b, err
	case '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	return json.Number(raw), nil
}

// Strings reads argument i as an array of strings.
func (a *Args) Strings(i int) []string {
	var s []string
	if i >= len(a.Raw) {
		a.Fail("argument %d missing", i)
		return nil
	}
	if err := json.Unmarshal(a.Raw[i], &s); err != nil {
		a.Fail("argument %d: want strings: %v", i, err)
	}
	return s
}

// Obj reads argument i as an options object (empty when absent or null).
func (a *Args) Obj(i int) *Object {
	o := &Object{a: a, Fields: map[string]json.RawMessage{}, used: map[string]bool{}}
	if !a.Has(i) {
		return o
	}
	if err := json.Unmarshal(a.Raw[i], &o.Fields); err != nil {
		a.Fail("argument %d: want an object: %v", i, err)
	}
	return o
}

// Object reads the fields of an options object; Done reports fields the
// mapping did not read, so an unmapped option never passes silently.
type Object struct {
	a *Args
	// Fields are the object's members as JSON.
	Fields map[string]json.RawMessage
	used   map[string]bool
}

// Has reports whether field k is present and not null.
func (o *Object) Has(k string) bool {
	v, ok := o.Fields[k]
	return ok && string(v) != "null"
}

// Raw returns field k as JSON (nil when absent).
func (o *Object) Raw(k string) json.RawMessage {
	o.used[k] = true
	return o.Fields[k]
}

// Str reads field k as a string ("" when absent).
func (o *Object) Str(k string) string {
	o.used[k] = true
	var s string
	if v, ok := o.Fields[k]; ok && string(v) != "null" {
		if err := json.Unmarshal(v, &s); err != nil {
			o.a.Fail("option %s: want a string: %v", k, err)
		}
	}
	return s
}

// Bool reads field k as a bool (nil when absent).
func (o *Object) Bool(k string) *bool {
	o.used[k] = true
	v, ok := o.Fields[k]
	if !ok || string(v) == "null" {
		return nil
	}
	var b bool
	if err := json.Unmarshal(v, &b); err != nil {
		o.a.Fail("option %s: want a bool: %v", k, err)
	}
	return &b
}

// Int reads field k as an integer (0 when absent).
func (o *Object) Int(k string) int {
	o.used[k] = true
	var n int
	if v, ok := o.Fields[k]; ok && string(v) != "null" {
		if err := json.Unmarshal(v, &n); err != nil {
			o.a.Fail("option %s: want an integer: %v", k, err)
		}
	}
	return n
}

// Map reads field k as an object of plain values (nil when absent);
// numbers are json.Number.
func (o *Object) Map(k string) map[string]any {
	o.used[k] = true
	v, ok := o.Fields[k]
	if !ok || string(v) == "null" {
		return nil
	}
	x, err := DecodeJSON(v) // numbers stay json.Number: re-encoded as written
	m, ok := x.(map[string]any)
	if err != nil || !ok {
		o.a.Fail("option %s: want an object", k)
	}
	return m
}

// Sub reads field k as a nested options object.
func (o *Object) Sub(k string) *Object {
	o.used[k] = true
	s := &Object{a: o.a, Fields: map[string]json.RawMessage{}, used: map[string]bool{}}
	if v, ok := o.Fields[k]; ok && string(v) != "null" {
		if err := json.Unmarshal(v, &s.Fields); err != nil {
			o.a.Fail("option %s: want an object: %v", k, err)
		}
	}
	return s
}

// Done fails the call when a field was not read.
func (o *Object) Done() {
	var left []string
	for k := range o.Fields {
		if !o.used[k] {
			left = append(left, k)
		}
	}
	if len(left) > 0 {
		sort.Strings(left)
		o.a.Fail("option(s) %s have no Go mapping", strings.Join(left, ", "))
	}
}

// JSON returns argument i as JSON.
func (a *Args) JSON(i int) json.RawMessage {
	if i >= len(a.Raw) {
		a.Fail("argument %d missing", i)
		return json.RawMessage("null")
	}
	return a.Raw[i]
}

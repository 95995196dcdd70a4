package supabase

import (
	"encoding/json"
	"errors"
	"reflect"
	"sync"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// JSONCodec decodes the JSON rows of PostgREST results into Go values: the
// results of [All], [One], [MaybeOne], [Page] and [Rows]. Choose one with
// [WithJSONCodec]; the default is [DefaultJSON]. Request bodies and the
// answers of Auth, Storage and Edge Functions are always handled with
// encoding/json.
//
// A JSONCodec must be safe for concurrent use.
type JSONCodec interface {
	// Unmarshal decodes the JSON value in data into v, which is a non-nil
	// pointer, as encoding/json's Unmarshal does. It must not keep data, or
	// any part of it, after returning: the SDK reuses the buffer. (This is
	// the contract encoding/json already sets for UnmarshalJSON methods,
	// which are handed parts of the same buffer.)
	Unmarshal(data []byte, v any) error
}

// StdJSON is encoding/json as a [JSONCodec]: for a program that must
// decode exactly as encoding/json does, bugs included, at its speed.
type StdJSON struct{}

// Unmarshal is encoding/json's Unmarshal.
func (StdJSON) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// DefaultJSON is the default [JSONCodec]: encoding/json's behaviour on the
// engine of encoding/json/v2, as published in the module
// github.com/go-json-experiment/json (which aliases the standard library's
// encoding/json/v2 once a Go release ships it). It decodes rows two to three
// times as fast as encoding/json, with fewer allocations.
//
// It decodes as encoding/json does: the same field matching (exact name,
// then case-insensitive), json tags and their options (omitempty, string,
// -), embedded structs, json.RawMessage, json.Number, json.Unmarshaler and
// encoding.TextUnmarshaler, time.Time, a null leaving a non-pointer as it
// was, and interface values as map[string]any, []any, float64, string,
// bool and nil. A comparison suite (codec_test.go: a table of PostgREST
// output and its edge cases, and a fuzz target) holds it to the same values
// and the same refusals as encoding/json. Its errors mostly read the same
// but are of the github.com/go-json-experiment/json/v1 package's types
// (errors.As with encoding/json's *SyntaxError or *UnmarshalTypeError does
// not match them); the SDK reports either kind as a [*Error] matching
// [ErrInvalidResponse].
type DefaultJSON struct{}

// Unmarshal decodes data into v with encoding/json's semantics.
func (DefaultJSON) Unmarshal(data []byte, v any) error {
	opts := v1Options
	if numberOpts != nil && hasStdNumber(reflect.TypeOf(v)) {
		opts = numberOpts
	}
	return jsonv2.Unmarshal(data, v, opts)
}

var (
	v1Options = jsonv1.DefaultOptionsV1()
	// numberOpts adds encoding/json's json.Number, which the v2 engine knows
	// only under its own v1 package's name: the two types are one when the
	// standard library provides encoding/json/v2 (then numberOpts is nil).
	numberOpts jsonv2.Options
)

func init() {
	if reflect.TypeFor[json.Number]() != reflect.TypeFor[jsonv1.Number]() {
		numberOpts = jsonv2.JoinOptions(v1Options, jsonv2.WithUnmarshalers(
			jsonv2.UnmarshalFromFunc(func(dec *jsontext.Decoder, n *json.Number) error {
				x := jsonv1.Number(*n) // null leaves n unchanged, as in encoding/json
				err := x.UnmarshalJSONFrom(dec)
				*n = json.Number(x)
				return err
			})))
	}
}

// stdNumberTypes caches hasStdNumber per type.
var stdNumberTypes sync.Map // reflect.Type → bool

// hasStdNumber reports whether a value of type t can hold an encoding/json
// json.Number (in a field, an element, behind a pointer).
func hasStdNumber(t reflect.Type) bool {
	if t == nil {
		return false
	}
	if v, ok := stdNumberTypes.Load(t); ok {
		return v.(bool)
	}
	has := containsType(t, reflect.TypeFor[json.Number](), map[reflect.Type]bool{})
	stdNumberTypes.Store(t, has)
	return has
}

func containsType(t, want reflect.Type, seen map[reflect.Type]bool) bool {
	if t == want {
		return true
	}
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return containsType(t.Elem(), want, seen)
	case reflect.Map:
		return containsType(t.Key(), want, seen) || containsType(t.Elem(), want, seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if containsType(t.Field(i).Type, want, seen) {
				return true
			}
		}
	}
	return false
}

// WithJSONCodec makes the client decode PostgREST rows with c instead of
// [DefaultJSON]; [StdJSON] is encoding/json.
func WithJSONCodec(c JSONCodec) Option {
	return func(o *options) error {
		if c == nil {
			return invalidArg("WithJSONCodec: nil codec")
		}
		o.codec = c
		return nil
	}
}

// isSyntaxError reports a body that is not JSON at all, whichever codec
// said so.
func isSyntaxError(err error) bool {
	var std *json.SyntaxError
	var v1 *jsonv1.SyntaxError
	var text *jsontext.SyntacticError
	return errors.As(err, &std) || errors.As(err, &v1) || errors.As(err, &text)
}

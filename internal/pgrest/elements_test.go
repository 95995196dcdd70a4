package pgrest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// splitStd splits a document as encoding/json's Decoder does: the raw
// bytes of each element of an array, or of the one value.
func splitStd(doc []byte) (vals []string, array bool, err error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	var raw json.RawMessage
	if Kind(doc) != '[' {
		if err := dec.Decode(&raw); err != nil {
			return nil, false, err
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, false, errors.New("data after the value")
		}
		return []string{string(raw)}, false, nil
	}
	if _, err := dec.Token(); err != nil {
		return nil, true, err
	}
	for dec.More() {
		if err := dec.Decode(&raw); err != nil {
			return nil, true, err
		}
		vals = append(vals, string(raw))
	}
	if _, err := dec.Token(); err != nil {
		return nil, true, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, true, errors.New("data after the array")
	}
	return vals, true, nil
}

// splitElements splits doc with Elements reading through r.
func splitElements(r io.Reader, limit int) (vals []string, array bool, err error) {
	e := NewElements(r, limit)
	return split(e)
}

func split(e *Elements) (vals []string, array bool, err error) {
	c, err := e.Start()
	if err != nil {
		return nil, false, err
	}
	if c != '[' {
		v, err := e.Value()
		if err != nil {
			return nil, false, err
		}
		if !json.Valid(v) {
			return nil, false, errors.New("invalid value")
		}
		vals = []string{string(v)} // before End, which may reuse v's bytes
		return vals, false, e.End()
	}
	for {
		more, err := e.More()
		if err != nil {
			return nil, true, err
		}
		if !more {
			break
		}
		v, err := e.Next()
		if err != nil {
			return nil, true, err
		}
		if !json.Valid(v) {
			return nil, true, errors.New("invalid value")
		}
		vals = append(vals, string(v))
	}
	return vals, true, e.End()
}

var elementDocs = []string{
	`[]`, ` [ ] `, `[1]`, `[1,2,3]`, `[ 1 , -2.5e3 ,true,false,null ]`,
	`[{"a":1},{"b":[1,2,{"c":"]}"}]}]`,
	`[{"s":"a \"quoted\" \\ backslash \\\\"},{"t":"\\"}]`,
	`["x","y\"z","\\\\"]`, `[[],[[]],{}]`,
	`{"id":1,"title":"x"}`, `null`, ` "just a string" `, `42`, `true`,
	`[{"u":"\u00e9\ud83d\ude00","k":"é😀"}]`,
	"[\n  {\"id\": 1},\n  {\"id\": 2}\n]\n",
}

var badDocs = []string{
	`[1 2]`, `[1,]`, `[,1]`, `[{"a":1}}`, `[{"a":1}`, `[`, `[1`, `["abc`, `{"a":1} x`,
	`[1] 2`, `[{]`, `[{"a":"\"}]`,
}

// TestElementsMatchDecoder: for valid documents the values match what
// encoding/json's Decoder reads, byte for byte, however the input is cut
// into reads; invalid documents fail.
func TestElementsMatchDecoder(t *testing.T) {
	readers := map[string]func(string) io.Reader{
		"whole":     func(s string) io.Reader { return strings.NewReader(s) },
		"one byte":  func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) },
		"half":      func(s string) io.Reader { return iotest.HalfReader(strings.NewReader(s)) },
		"data+EOF":  func(s string) io.Reader { return iotest.DataErrReader(strings.NewReader(s)) },
		"in memory": nil,
	}
	for _, doc := range elementDocs {
		want, wantArray, err := splitStd([]byte(doc))
		if err != nil {
			t.Fatalf("%s: encoding/json: %v", doc, err)
		}
		for name, mk := range readers {
			var got []string
			var array bool
			if mk == nil {
				got, array, err = split(NewElementsBytes([]byte(doc)))
			} else {
				got, array, err = splitElements(mk(doc), 0)
			}
			if err != nil || array != wantArray || strings.Join(got, "\x00") != strings.Join(want, "\x00") {
				t.Errorf("%s, %s: got %q (array %v, %v), want %q", doc, name, got, array, err, want)
			}
		}
	}
	for _, doc := range badDocs {
		for name, mk := range readers {
			var err error
			if mk == nil {
				_, _, err = split(NewElementsBytes([]byte(doc)))
			} else {
				_, _, err = splitElements(mk(doc), 0)
			}
			if err == nil {
				t.Errorf("%s, %s: no error", doc, name)
			}
		}
	}
}

// TestElementsLimit: a value longer than the limit is ErrTooLarge, after
// the values before it, without reading it whole.
func TestElementsLimit(t *testing.T) {
	long := `{"t":"` + strings.Repeat("x", 100) + `"}`
	doc := `[{"a":1},` + long + `]`
	e := NewElements(iotest.OneByteReader(strings.NewReader(doc)), 50)
	if c, err := e.Start(); c != '[' || err != nil {
		t.Fatal(c, err)
	}
	if more, err := e.More(); !more || err != nil {
		t.Fatal(more, err)
	}
	if v, err := e.Next(); string(v) != `{"a":1}` || err != nil {
		t.Fatalf("%q %v", v, err)
	}
	if more, err := e.More(); !more || err != nil {
		t.Fatal(more, err)
	}
	if _, err := e.Next(); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
	if e.Offset() > 9+51 {
		t.Errorf("read to offset %d, past the limit", e.Offset())
	}
	// Exactly the limit is fine.
	if vals, _, err := splitElements(strings.NewReader(`[`+long+`]`), len(long)); err != nil || len(vals) != 1 {
		t.Errorf("a value of exactly the limit: %v", err)
	}
}

// FuzzElements: on any input, Elements either fails or agrees with
// encoding/json's Decoder, and never accepts what the Decoder refuses.
func FuzzElements(f *testing.F) {
	for _, d := range append(elementDocs, badDocs...) {
		f.Add([]byte(d))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		want, wantArray, wantErr := splitStd(doc)
		got, array, err := splitElements(iotest.HalfReader(bytes.NewReader(doc)), 0)
		if err != nil {
			if wantErr == nil && json.Valid(doc) {
				t.Fatalf("%q: %v, but encoding/json reads it", doc, err)
			}
			return
		}
		if wantErr != nil {
			t.Fatalf("%q: accepted, but encoding/json says %v", doc, wantErr)
		}
		if array != wantArray || strings.Join(got, "\x00") != strings.Join(want, "\x00") {
			t.Fatalf("%q: got %q, want %q", doc, got, want)
		}
	})
}

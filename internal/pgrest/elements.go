package pgrest

import (
	"bytes"
	"errors"
	"io"
	"strconv"
)

// ErrTooLarge is returned by Elements when one value is longer than the
// limit it was given.
var ErrTooLarge = errors.New("JSON value over the size limit")

// SyntaxError reports JSON whose structure Elements cannot follow.
type SyntaxError struct {
	Msg    string
	Offset int64 // bytes read before the error
}

func (e *SyntaxError) Error() string {
	return "invalid JSON: " + e.Msg + " at offset " + strconv.FormatInt(e.Offset, 10)
}

// Elements splits a JSON document, a top-level array or a single value,
// into the raw bytes of its values, reading from a stream no further than
// needed. It finds where each value ends (strings and nesting followed, no
// more), so each value must still be decoded, which checks it; the
// separators between values are checked here.
//
// The usual sequence is Start, then for an array More and Next until More
// reports false, then End; for any other document Value, then End.
type Elements struct {
	r     io.Reader // nil: buf holds the whole document
	buf   []byte
	pos   int   // next unread byte in buf
	base  int64 // document offset of buf[0]
	limit int   // longest value allowed; 0: no limit
	err   error // sticky read error (io.EOF at the end)
	first bool  // More has not been called yet
}

// readChunk is the least Elements asks its reader for.
const readChunk = 32 << 10

// NewElements reads a document from r, refusing values longer than limit
// bytes (0: no limit) with ErrTooLarge. The buffer it reads into grows to
// the longest value it meets (plus one read).
func NewElements(r io.Reader, limit int) *Elements {
	return &Elements{r: r, limit: limit, buf: make([]byte, 0, readChunk)}
}

// NewElementsBytes splits the document b; the values it returns are parts
// of b.
func NewElementsBytes(b []byte) *Elements {
	return &Elements{buf: b, err: io.EOF}
}

// Offset is the number of bytes of the document consumed so far.
func (e *Elements) Offset() int64 { return e.base + int64(e.pos) }

// fill reads more input, keeping buf[keep:] (keep <= pos); it returns
// false once nothing more can be read (e.err says why).
func (e *Elements) fill(keep int) bool {
	if e.err != nil {
		return false
	}
	if keep > 0 {
		n := copy(e.buf, e.buf[keep:])
		e.buf = e.buf[:n]
		e.pos -= keep
		e.base += int64(keep)
	}
	if cap(e.buf)-len(e.buf) < readChunk/2 {
		grown := make([]byte, len(e.buf), 2*cap(e.buf)+readChunk)
		copy(grown, e.buf)
		e.buf = grown
	}
	for {
		n, err := e.r.Read(e.buf[len(e.buf):cap(e.buf)])
		e.buf = e.buf[:len(e.buf)+n]
		if err != nil {
			e.err = err
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
}

// peek skips whitespace and returns the next byte without consuming it.
func (e *Elements) peek() (byte, error) {
	for {
		for e.pos < len(e.buf) {
			switch c := e.buf[e.pos]; c {
			case ' ', '\t', '\n', '\r':
				e.pos++
			default:
				return c, nil
			}
		}
		if !e.fill(e.pos) {
			return 0, e.err
		}
	}
}

// Start reads up to the first value and returns its first byte: '[' for
// an array (then consumed; use More and Next), anything else for a single
// value (use Value). It returns io.EOF for an empty document.
func (e *Elements) Start() (byte, error) {
	c, err := e.peek()
	if err != nil {
		return 0, err
	}
	if c == '[' {
		e.pos++
		e.first = true
	}
	return c, nil
}

// More reports whether the array has another value, consuming the comma
// before it, or the closing bracket.
func (e *Elements) More() (bool, error) {
	c, err := e.peek()
	if err != nil {
		return false, e.unexpected(err)
	}
	switch {
	case c == ']':
		e.pos++
		return false, nil
	case e.first:
		e.first = false
		return true, nil
	case c == ',':
		e.pos++
		return true, nil
	}
	return false, e.syntax("expected , or ] after an array element")
}

// Next returns the next value of the array after More reported one. It is
// valid until the next call.
func (e *Elements) Next() ([]byte, error) {
	c, err := e.peek()
	if err != nil {
		return nil, e.unexpected(err)
	}
	if c == ']' {
		return nil, e.syntax("expected a value after ,")
	}
	return e.value()
}

// Value returns the single value of a document that is not an array.
func (e *Elements) Value() ([]byte, error) {
	if _, err := e.peek(); err != nil {
		return nil, e.unexpected(err)
	}
	return e.value()
}

// End checks that nothing but whitespace follows.
func (e *Elements) End() error {
	_, err := e.peek()
	switch err {
	case io.EOF:
		return nil
	case nil:
		return e.syntax("data after the top-level value")
	}
	return err
}

func (e *Elements) unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func (e *Elements) syntax(msg string) error {
	return &SyntaxError{Msg: msg, Offset: e.Offset()}
}

// value scans the value starting at buf[pos], reading more as needed.
func (e *Elements) value() ([]byte, error) {
	start := e.pos
	i := start
	depth := 0
	inString := false
	scalar := e.buf[i] != '{' && e.buf[i] != '[' && e.buf[i] != '"'
	for {
		end, done := scan(e.buf, i, &depth, &inString, scalar)
		if e.limit > 0 && end-start > e.limit {
			return nil, ErrTooLarge
		}
		if done {
			e.pos = end
			return e.buf[start:end], nil
		}
		rel := end - start // where to go on once buf has moved
		e.pos = start
		more := e.fill(start)
		start = e.pos
		if !more {
			if scalar && e.err == io.EOF {
				// A number or literal may end the document.
				e.pos = len(e.buf)
				return e.buf[start:], nil
			}
			return nil, e.unexpected(e.err)
		}
		i = start + rel
	}
}

// scan goes on scanning a value in b from i. It returns the index after
// the value and true, or where to go on and false when b ends first (the
// caller then reads more); depth and inString carry the state over.
func scan(b []byte, i int, depth *int, inString *bool, scalar bool) (int, bool) {
	if scalar {
		for ; i < len(b); i++ {
			switch b[i] {
			case ',', ']', '}', ' ', '\t', '\n', '\r':
				return i, true
			}
		}
		return i, false
	}
	for i < len(b) {
		if *inString {
			for {
				q := bytes.IndexByte(b[i:], '"')
				seg := b[i:]
				if q >= 0 {
					seg = seg[:q]
				}
				bs := bytes.IndexByte(seg, '\\')
				if bs < 0 {
					if q < 0 {
						return len(b), false
					}
					i += q + 1
					break
				}
				if i+bs+1 >= len(b) {
					return i + bs, false // the escaped byte is still to come
				}
				i += bs + 2
			}
			*inString = false
			if *depth == 0 {
				return i, true // a string on its own
			}
			continue
		}
		switch b[i] {
		case '"':
			*inString = true
		case '{', '[':
			*depth++
		case '}', ']':
			*depth--
			if *depth <= 0 {
				return i + 1, true
			}
		}
		i++
	}
	return i, false
}

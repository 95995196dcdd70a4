package pgrest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// EncodeQuery renders pairs as a query string (without '?'). Reserved
// characters are percent-encoded; the characters PostgREST's grammar uses
// and that are legal in a query ( * , ( ) : ! $ ' @ / ) are left as they
// are, so URLs stay readable. It decodes, with form decoding, to exactly the
// given pairs.
func EncodeQuery(pairs []Pair) string {
	return string(AppendQuery(make([]byte, 0, QueryLen(pairs)), pairs))
}

// BuildURL returns the concatenation of prefix, then '?' and the query
// string when there are pairs, in one allocation.
func BuildURL(prefix []string, pairs []Pair) string {
	n := QueryLen(pairs)
	for _, s := range prefix {
		n += len(s)
	}
	if len(pairs) > 0 {
		n++
	}
	b := make([]byte, 0, n)
	for _, s := range prefix {
		b = append(b, s...)
	}
	if len(pairs) > 0 {
		b = append(b, '?')
	}
	b = AppendQuery(b, pairs)
	// b is never written again: the string can share its bytes, as
	// strings.Builder does.
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// QueryLen is the length of the query string EncodeQuery returns.
func QueryLen(pairs []Pair) int {
	n := 0
	for i, p := range pairs {
		if i > 0 {
			n++ // &
		}
		if p.enc > 0 {
			n += p.enc
		} else {
			n += pairLen(p)
		}
	}
	return n
}

// pairLen is the length of key=value, percent-encoded.
func pairLen(p Pair) int {
	n := escapedLen(p.Key) + 1
	switch {
	case p.IsNum:
		n += numLen(p.Num)
	default:
		if p.Op != "" {
			n += escapedLen(p.Op) + 1
		}
		n += escapedLen(p.Value) + escapedLen(p.Suffix)
	}
	return n
}

// rawLen is the length of key=value before encoding.
func rawLen(p Pair) int {
	n := len(p.Key) + 1 + len(p.Value) + len(p.Suffix)
	if p.Op != "" {
		n += len(p.Op) + 1
	}
	return n
}

// AppendQuery appends the query string EncodeQuery returns to b.
func AppendQuery(b []byte, pairs []Pair) []byte {
	for i, p := range pairs {
		if i > 0 {
			b = append(b, '&')
		}
		if p.IsNum {
			b = escape(b, p.Key)
			b = append(b, '=')
			b = strconv.AppendInt(b, p.Num, 10)
			continue
		}
		if p.enc > 0 && p.enc == rawLen(p) {
			// Known to need no escaping.
			b = append(b, p.Key...)
			b = append(b, '=')
			if p.Op != "" {
				b = append(b, p.Op...)
				b = append(b, '.')
			}
			b = append(b, p.Value...)
			b = append(b, p.Suffix...)
			continue
		}
		b = escape(b, p.Key)
		b = append(b, '=')
		if p.Op != "" {
			b = escape(b, p.Op)
			b = append(b, '.')
		}
		b = escape(b, p.Value)
		b = escape(b, p.Suffix)
	}
	return b
}

func numLen(n int64) int {
	l := 1
	if n < 0 {
		l++
		if n == -1<<63 {
			return 20
		}
		n = -n
	}
	for n >= 10 {
		n /= 10
		l++
	}
	return l
}

const upperhex = "0123456789ABCDEF"

func escapedLen(s string) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		if !keepTable[s[i]] {
			n += 2
		}
	}
	return n
}

func escape(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if keepTable[c] {
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, '%', upperhex[c>>4], upperhex[c&15])
		start = i + 1
	}
	return append(b, s[start:]...)
}

// keepTable marks the bytes written as they are.
var keepTable = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "-_.~*,():!$'@/" {
		t[c] = true
	}
	return t
}()

// ErrText is wrapped by CheckText's errors.
var ErrText = errors.New("text cannot be sent")

// CheckText reports whether s can be sent as a query string key or value:
// PostgREST decodes the query string as strict UTF-8 and refuses the
// request otherwise, and Postgres text cannot hold NUL (PostgREST also
// cuts in-list elements at the first one, which would change the filter).
func CheckText(s string) error {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return fmt.Errorf("%w: NUL byte at offset %d", ErrText, i)
	}
	if !utf8.ValidString(s) {
		for i := 0; i < len(s); {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				return fmt.Errorf("%w: invalid UTF-8 at offset %d", ErrText, i)
			}
			i += n
		}
	}
	return nil
}

// IsTextSearchConfig reports whether PostgREST reads s as the language of
// a full-text search operator, fts(s): one or more letters, digits, _ or $
// (its grammar also takes spaces, but trims them; no name holds one).
func IsTextSearchConfig(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) && (r < '0' || r > '9') && r != '_' && r != '$' {
			return false
		}
	}
	return s != ""
}

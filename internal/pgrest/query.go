package pgrest

import (
	"errors"
	"fmt"

	"strings"
	"unicode"
	"unicode/utf8"
)

// EncodeQuery renders pairs as a query string (without '?'). Reserved
// characters are percent-encoded; the characters PostgREST's grammar uses
// and that are legal in a query ( * , ( ) : ! $ ' @ / ) are left as they
// are, so URLs stay readable. It decodes, with form decoding, to exactly the
// given pairs. [Params] holds its pairs encoded this way.
func EncodeQuery(pairs []Pair) string {
	var b []byte
	for i, p := range pairs {
		b = p.appendTo(b, i > 0, false)
	}
	return string(b)
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

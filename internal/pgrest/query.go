package pgrest

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Pair is one query string parameter.
type Pair struct{ Key, Value string }

// EncodeQuery renders pairs as a query string (without '?'). Reserved
// characters are percent-encoded; the characters PostgREST's grammar uses
// and that are legal in a query ( * , ( ) : ! $ ' @ / ) are left as they
// are, so URLs stay readable. It decodes, with form decoding, to exactly the
// given pairs.
func EncodeQuery(pairs []Pair) string {
	n := 0
	for _, p := range pairs {
		n += len(p.Key) + len(p.Value) + 2
	}
	var b strings.Builder
	b.Grow(n + n/4)
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		escape(&b, p.Key)
		b.WriteByte('=')
		escape(&b, p.Value)
	}
	return b.String()
}

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

const upperhex = "0123456789ABCDEF"

func escape(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if keep(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperhex[c>>4])
		b.WriteByte(upperhex[c&15])
	}
}

func keep(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '-', '_', '.', '~', '*', ',', '(', ')', ':', '!', '$', '\'', '@', '/':
		return true
	}
	return false
}

package pgrest

import "strings"

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

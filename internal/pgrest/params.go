package pgrest

import (
	"bytes"
	"slices"
	"strconv"
	"sync/atomic"
	"unsafe"
)

// Pair is one query string parameter, given in parts so that no caller has
// to join them: its text is Op "." Value Suffix (Op and its dot only when
// Op is set), or the decimal Num when IsNum.
type Pair struct {
	Key    string
	Op     string // a filter operator ("eq", "not.in"), or ""
	Value  string
	Suffix string // written as it is after Value (".desc")
	Num    int64
	IsNum  bool
}

// FieldError is the error of [Params.Append] and [Params.Set] for a key
// or value that [CheckText] refuses; it says which of the two it was.
type FieldError struct {
	InKey bool
	Err   error
}

func (e *FieldError) Error() string { return e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// Params is an immutable query string under construction, kept encoded
// ("k=v&k=v", percent-encoded as [EncodeQuery] does): building a query
// writes each parameter once, into memory the garbage collector need not
// scan, and rendering the URL is one copy. Append and Set return a new
// list and leave their receiver as it was, so a list can be shared and
// extended from any number of goroutines at once.
//
// Appending usually allocates nothing: the first list to append at the end
// of a block claims the bytes after it (an atomic compare-and-swap), and
// only a list that finds them claimed (a sibling appended first) copies.
// Bytes below a list's length are never written again.
//
// A list made by [Prefixed] keeps the start of its URL in front of the
// pairs, so that [Params.URL] is usually the list's own bytes, with no
// copy at all.
type Params struct {
	claimed *atomic.Int64 // bytes of buf's array handed out; nil when empty
	buf     []byte        // the prefix, then this list's encoded pairs; cap is the block's
	start   int           // length of the prefix
	// keys has bit keyBit(k) set for every key k in the list, so that
	// Set and Get of a key that is not there (the usual case) need not
	// search for it.
	keys uint64
}

// keyBit is the bit of key in Params.keys: a cheap hash, since a
// collision only costs a search.
func keyBit(key string) uint64 {
	if key == "" {
		return 1
	}
	return 1 << ((uint(len(key)) + uint(key[0])*5 + uint(key[len(key)-1])*3) & 63)
}

// The blocks keep their counter and bytes in one allocation without
// pointers. Sizes fill the allocator's size classes.
type (
	block256 struct {
		claimed atomic.Int64
		b       [248]byte
	}
	block1K struct {
		claimed atomic.Int64
		b       [1016]byte
	}
)

// newParams returns an empty list in a new block of at least size bytes.
func newParams(size int) Params {
	switch {
	case size <= len(block256{}.b):
		blk := new(block256)
		return Params{claimed: &blk.claimed, buf: blk.b[:0]}
	case size <= len(block1K{}.b):
		blk := new(block1K)
		return Params{claimed: &blk.claimed, buf: blk.b[:0]}
	}
	return Params{claimed: new(atomic.Int64), buf: make([]byte, 0, size)}
}

// seal returns the list holding b, a new block's bytes from its start, and
// hands those bytes out.
func seal(claimed *atomic.Int64, b []byte, start int, keys uint64) Params {
	claimed.Store(int64(len(b)))
	return Params{claimed: claimed, buf: b, start: start, keys: keys}
}

// Prefixed returns an empty list whose URL starts with base, path and
// target (each as it is sent) and a '?'.
func Prefixed(base, path, target string) Params {
	n := len(base) + len(path) + len(target) + 1
	// Room for a few filters after the prefix: enough for most queries to
	// stay in the first block.
	ps := newParams(n + 160)
	b := append(ps.buf, base...)
	b = append(b, path...)
	b = append(b, target...)
	b = append(b, '?')
	return seal(ps.claimed, b, n, 0)
}

// pairs returns the encoded pairs, without the prefix.
func (ps Params) pairs() []byte { return ps.buf[ps.start:] }

// String returns the encoded query string, without '?'.
func (ps Params) String() string { return string(ps.pairs()) }

// Append returns the list with p added at the end. A key or value that
// [CheckText] refuses is a *[FieldError], and the list is returned as it
// was. The operator is not checked: it is the caller's own text.
func (ps Params) Append(p Pair) (Params, error) {
	n, plain, err := p.encodedLen()
	if err != nil {
		return ps, err
	}
	used, sep := len(ps.buf), len(ps.buf) > ps.start
	if sep {
		n++ // '&'
	}
	keys := ps.keys | keyBit(p.Key)
	if ps.claimed != nil && used+n <= cap(ps.buf) && ps.claimed.CompareAndSwap(int64(used), int64(used+n)) {
		return Params{claimed: ps.claimed, buf: p.appendTo(ps.buf, sep, plain), start: ps.start, keys: keys}, nil
	}
	nps := newParams(max(2*cap(ps.buf), used+n))
	return seal(nps.claimed, p.appendTo(append(nps.buf, ps.buf...), sep, plain), ps.start, keys), nil
}

// Set returns the list with the first parameter named p.Key replaced by p
// where it is (as URLSearchParams.set does), or p appended. Errors are as
// for [Params.Append].
func (ps Params) Set(p Pair) (Params, error) {
	start, end := ps.find(p.Key)
	if start < 0 {
		return ps.Append(p)
	}
	n, plain, err := p.encodedLen()
	if err != nil {
		return ps, err
	}
	nps := newParams(len(ps.buf) - (end - start) + n)
	b := append(nps.buf, ps.buf[:start]...)
	b = p.appendTo(b, false, plain)
	b = append(b, ps.buf[end:]...)
	return seal(nps.claimed, b, ps.start, ps.keys), nil
}

// Get returns the value of the first parameter named key, decoded.
func (ps Params) Get(key string) (string, bool) {
	start, end := ps.find(key)
	if start < 0 {
		return "", false
	}
	seg := ps.buf[start:end]
	return unescape(seg[bytes.IndexByte(seg, '=')+1:]), true
}

// Delete returns the list without the parameters named any of keys.
func (ps Params) Delete(keys ...string) Params {
	if len(ps.pairs()) == 0 {
		return ps
	}
	out := newParams(len(ps.buf))
	b := append(out.buf, ps.buf[:ps.start]...)
	var kept uint64
	for seg := range bytes.SplitSeq(ps.pairs(), []byte{'&'}) {
		k, _, _ := bytes.Cut(seg, []byte{'='})
		if slices.ContainsFunc(keys, func(key string) bool { return escapedEqual(k, key) }) {
			continue
		}
		if len(b) > ps.start {
			b = append(b, '&')
		}
		b = append(b, seg...)
		kept |= keyBit(unescape(k))
	}
	return seal(out.claimed, b, ps.start, kept)
}

// URL returns the request URL: the prefix (from [Prefixed], or else base,
// path, target and '?'), lead and '&' when lead is set, and the pairs;
// without the '?' when nothing follows it. lead must be encoded already.
// A prefixed list without lead returns its own bytes, which are never
// written again, with no copy.
func (ps Params) URL(base, path, target, lead string) string {
	pairs := ps.pairs()
	if ps.start > 0 && lead == "" {
		b := ps.buf
		if len(pairs) == 0 {
			b = b[:ps.start-1]
		}
		return unsafe.String(unsafe.SliceData(b), len(b))
	}
	var b []byte
	if ps.start > 0 {
		b = make([]byte, 0, ps.start+len(lead)+1+len(pairs))
		b = append(b, ps.buf[:ps.start]...)
	} else {
		b = make([]byte, 0, len(base)+len(path)+len(target)+1+len(lead)+1+len(pairs))
		b = append(b, base...)
		b = append(b, path...)
		b = append(b, target...)
		b = append(b, '?')
	}
	b = append(b, lead...)
	if lead != "" && len(pairs) > 0 {
		b = append(b, '&')
	}
	b = append(b, pairs...)
	if lead == "" && len(pairs) == 0 {
		b = b[:len(b)-1]
	}
	// b is never written again: the string can share its bytes, as
	// strings.Builder does.
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// find returns the bounds in buf of the first pair named key, or -1, -1.
func (ps Params) find(key string) (start, end int) {
	if ps.keys&keyBit(key) == 0 {
		return -1, -1
	}
	for start = ps.start; start < len(ps.buf); {
		end = start + bytes.IndexByte(ps.buf[start:], '&')
		if end < start {
			end = len(ps.buf)
		}
		seg := ps.buf[start:end]
		if k, _, _ := bytes.Cut(seg, []byte{'='}); escapedEqual(k, key) {
			return start, end
		}
		start = end + 1
	}
	return -1, -1
}

// encodedLen checks p's key and value and returns the length of key=value
// percent-encoded; plain reports that nothing in p needs encoding.
func (p Pair) encodedLen() (n int, plain bool, err error) {
	n, kc := scanText(p.Key)
	if kc&^needsEscape != 0 {
		if err := CheckText(p.Key); err != nil {
			return 0, false, &FieldError{InKey: true, Err: err}
		}
	}
	n++ // '='
	if p.IsNum {
		return n + numLen(p.Num), kc == 0, nil
	}
	if p.Op != "" {
		n += escapedLen(p.Op) + 1
	}
	v, vc := scanText(p.Value)
	s, sc := scanText(p.Suffix)
	if (vc|sc)&^needsEscape != 0 {
		for _, t := range [...]string{p.Value, p.Suffix} {
			if err := CheckText(t); err != nil {
				return 0, false, &FieldError{Err: err}
			}
		}
	}
	return n + v + s, kc|vc|sc == 0 && n+v+s == len(p.Key)+1+len(p.Value)+len(p.Suffix)+opLen(p.Op), nil
}

func opLen(op string) int {
	if op == "" {
		return 0
	}
	return len(op) + 1
}

// appendTo appends p, encoded, to b, after an '&' when sep is set; plain
// is encodedLen's.
func (p Pair) appendTo(b []byte, sep, plain bool) []byte {
	if sep {
		b = append(b, '&')
	}
	if plain {
		b = append(b, p.Key...)
		b = append(b, '=')
		if p.IsNum {
			return strconv.AppendInt(b, p.Num, 10)
		}
		if p.Op != "" {
			b = append(b, p.Op...)
			b = append(b, '.')
		}
		b = append(b, p.Value...)
		return append(b, p.Suffix...)
	}
	b = escape(b, p.Key)
	b = append(b, '=')
	if p.IsNum {
		return strconv.AppendInt(b, p.Num, 10)
	}
	if p.Op != "" {
		b = escape(b, p.Op)
		b = append(b, '.')
	}
	b = escape(b, p.Value)
	return escape(b, p.Suffix)
}

// Byte classes of scanText.
const (
	needsEscape = 1 << iota // percent-encoded
	nulByte                 // refused by CheckText
	highByte                // part of a multi-byte sequence: CheckText decides
)

// scanText returns the length of s percent-encoded and the classes of the
// bytes in it, in one pass.
func scanText(s string) (n int, classes uint8) {
	n = len(s)
	for i := 0; i < len(s); i++ {
		c := byteClass[s[i]]
		n += int(c&needsEscape) << 1
		classes |= c
	}
	return n, classes
}

var byteClass = func() (t [256]uint8) {
	for c := range t {
		if !keepTable[c] {
			t[c] = needsEscape
		}
		if c >= 0x80 {
			t[c] |= highByte
		}
	}
	t[0] |= nulByte
	return t
}()

// escapedEqual reports whether enc is key percent-encoded by escape.
func escapedEqual(enc []byte, key string) bool {
	i := 0
	for j := 0; j < len(key); j++ {
		c := key[j]
		if keepTable[c] {
			if i >= len(enc) || enc[i] != c {
				return false
			}
			i++
			continue
		}
		if i+3 > len(enc) || enc[i] != '%' || enc[i+1] != upperhex[c>>4] || enc[i+2] != upperhex[c&15] {
			return false
		}
		i += 3
	}
	return i == len(enc)
}

// unescape decodes what escape wrote.
func unescape(enc []byte) string {
	if bytes.IndexByte(enc, '%') < 0 {
		return string(enc)
	}
	b := make([]byte, 0, len(enc))
	for i := 0; i < len(enc); i++ {
		if enc[i] == '%' && i+2 < len(enc) {
			if v, err := strconv.ParseUint(string(enc[i+1:i+3]), 16, 8); err == nil {
				b = append(b, byte(v))
				i += 2
				continue
			}
		}
		b = append(b, enc[i])
	}
	return string(b)
}

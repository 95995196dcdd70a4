package pgrest

import (
	"bytes"
	"strconv"
)

// Views of a list for the tests: the package itself never decodes a whole
// list.

// Len is the number of parameters.
func (ps Params) Len() int {
	if len(ps.pairs()) == 0 {
		return 0
	}
	return bytes.Count(ps.pairs(), []byte{'&'}) + 1
}

// EncodedLen is the length of [Params.String].
func (ps Params) EncodedLen() int { return len(ps.buf) - ps.start }

// Pairs returns the list decoded into keys and values.
func (ps Params) Pairs() [][2]string {
	var out [][2]string
	if len(ps.pairs()) == 0 {
		return nil
	}
	for seg := range bytes.SplitSeq(ps.pairs(), []byte{'&'}) {
		k, v, _ := bytes.Cut(seg, []byte{'='})
		out = append(out, [2]string{unescape(k), unescape(v)})
	}
	return out
}

// Text returns the parameter's value as sent (before percent-encoding).
func (p Pair) Text() string {
	if p.IsNum {
		return strconv.FormatInt(p.Num, 10)
	}
	if p.Op == "" && p.Suffix == "" {
		return p.Value
	}
	if p.Op == "" {
		return p.Value + p.Suffix
	}
	return p.Op + "." + p.Value + p.Suffix
}

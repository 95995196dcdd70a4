package pgrest

import (
	"strconv"
	"sync/atomic"
)

// Pair is one query string parameter, kept in parts so that building a
// query allocates nothing per parameter: its text is Op "." Value Suffix
// (Op and its dot only when Op is set), or the decimal Num when IsNum.
type Pair struct {
	Key    string
	Op     string // a filter operator ("eq", "not.in"), or ""
	Value  string
	Suffix string // written as it is after Value (".desc")
	Num    int64
	IsNum  bool
	// enc is the length of key=value percent-encoded, filled in when the
	// pair is put into Params (0: not known yet).
	enc int
}

// withLen returns p with enc filled in.
func (p Pair) withLen() Pair {
	p.enc = pairLen(p)
	return p
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

// Params is an immutable list of parameters: Append, Set and Delete return
// a new list and leave their receiver as it was, so a list can be shared
// and extended from any number of goroutines at once.
//
// Appending usually costs nothing: the first list to append at the end of
// a backing array claims the next slot there (an atomic compare-and-swap),
// and only a list that finds its slot claimed (a sibling appended first)
// copies. Slots below a list's length are never written again.
type Params struct {
	b *paramBlock
	n int
}

type paramBlock struct {
	claimed atomic.Int64 // slots handed out: items[:claimed] are written or being written
	items   []Pair       // len == cap, fixed
	inline  [8]Pair
}

func newBlock(size int) *paramBlock {
	b := &paramBlock{}
	if size <= len(b.inline) {
		b.items = b.inline[:]
	} else {
		b.items = make([]Pair, size)
	}
	return b
}

// NewParams returns a list holding pairs.
func NewParams(pairs ...Pair) Params {
	if len(pairs) == 0 {
		return Params{}
	}
	b := newBlock(len(pairs))
	for i, p := range pairs {
		b.items[i] = p.withLen()
	}
	b.claimed.Store(int64(len(pairs)))
	return Params{b: b, n: len(pairs)}
}

// Len is the number of parameters.
func (ps Params) Len() int { return ps.n }

// All returns the parameters. The slice must not be modified.
func (ps Params) All() []Pair {
	if ps.b == nil {
		return nil
	}
	return ps.b.items[:ps.n:ps.n]
}

// Append returns the list with p added at the end.
func (ps Params) Append(p Pair) Params {
	p = p.withLen()
	if b := ps.b; b != nil && ps.n < len(b.items) && b.claimed.CompareAndSwap(int64(ps.n), int64(ps.n+1)) {
		b.items[ps.n] = p
		return Params{b: b, n: ps.n + 1}
	}
	nb := newBlock(max(2*ps.n, len(paramBlock{}.inline)))
	copy(nb.items, ps.All())
	nb.items[ps.n] = p
	nb.claimed.Store(int64(ps.n + 1))
	return Params{b: nb, n: ps.n + 1}
}

// Index returns the position of the first parameter named key, or -1.
func (ps Params) Index(key string) int {
	for i, p := range ps.All() {
		if p.Key == key {
			return i
		}
	}
	return -1
}

// Set returns the list with the first parameter named key replaced by p
// where it is (as URLSearchParams.set does), or p appended.
func (ps Params) Set(p Pair) Params {
	i := ps.Index(p.Key)
	if i < 0 {
		return ps.Append(p)
	}
	nb := newBlock(max(ps.n, len(paramBlock{}.inline)))
	copy(nb.items, ps.All())
	nb.items[i] = p.withLen()
	nb.claimed.Store(int64(ps.n))
	return Params{b: nb, n: ps.n}
}

// Delete returns the list without the parameters for which drop is true.
func (ps Params) Delete(drop func(Pair) bool) Params {
	var kept []Pair
	for _, p := range ps.All() {
		if !drop(p) {
			kept = append(kept, p)
		}
	}
	return NewParams(kept...)
}

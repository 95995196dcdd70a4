package pgrest

import (
	"errors"
	"fmt"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func keys(ps Params) (out []string) {
	for _, p := range ps.Pairs() {
		out = append(out, p[0]+"="+p[1])
	}
	return out
}

func mustAppend(t testing.TB, ps Params, p Pair) Params {
	t.Helper()
	ps, err := ps.Append(p)
	require.NoError(t, err)
	return ps
}

func mustSet(t testing.TB, ps Params, p Pair) Params {
	t.Helper()
	ps, err := ps.Set(p)
	require.NoError(t, err)
	return ps
}

// TestParamsImmutable: lists branched from one base never see each
// other's parameters, whichever appends first; Set and Delete leave their
// receiver as it was.
func TestParamsImmutable(t *testing.T) {
	base := mustAppend(t, Params{}, Pair{Key: "a", Value: "1"})
	x := mustAppend(t, base, Pair{Key: "x", Value: "1"})
	y := mustAppend(t, base, Pair{Key: "y", Value: "1"})
	x2 := mustAppend(t, x, Pair{Key: "x2", Value: "1"})
	assert.Equal(t, []string{"a=1"}, keys(base))
	assert.Equal(t, []string{"a=1", "x=1"}, keys(x))
	assert.Equal(t, []string{"a=1", "y=1"}, keys(y))
	assert.Equal(t, []string{"a=1", "x=1", "x2=1"}, keys(x2))

	s := mustSet(t, x2, Pair{Key: "x", Value: "2"})
	assert.Equal(t, []string{"a=1", "x=2", "x2=1"}, keys(s))
	assert.Equal(t, []string{"a=1", "x=1", "x2=1"}, keys(x2))
	s2 := mustSet(t, s, Pair{Key: "new", Num: 5, IsNum: true})
	assert.Equal(t, []string{"a=1", "x=2", "x2=1", "new=5"}, keys(s2))
	// Set replaces the first pair of that name only, where it is.
	s3 := mustSet(t, mustAppend(t, s2, Pair{Key: "x", Value: "3"}), Pair{Key: "x", Op: "eq", Value: "4 5"})
	assert.Equal(t, "a=1&x=eq.4%205&x2=1&new=5&x=3", s3.String())

	d := x2.Delete("x")
	assert.Equal(t, []string{"a=1", "x2=1"}, keys(d))
	assert.Equal(t, []string{"a=1", "x=1", "x2=1"}, keys(x2))
	v, ok := d.Get("x2")
	assert.True(t, ok)
	assert.Equal(t, "1", v)
	_, ok = d.Get("x")
	assert.False(t, ok)
	assert.Equal(t, 0, x2.Delete("a", "x", "x2").Len())
	assert.Equal(t, "", x2.Delete("a", "x", "x2").String())

	// Past the first block, and past the second.
	long := base
	for i := range 200 {
		long = mustAppend(t, long, Pair{Key: fmt.Sprint(i), Value: "v"})
	}
	assert.Equal(t, 201, long.Len())
	assert.Equal(t, []string{"a=1"}, keys(base))
	assert.Equal(t, [2]string{"199", "v"}, long.Pairs()[200])
}

// TestParamsEncodedKeys: keys and values that need percent-encoding are
// found, replaced and decoded by their plain text.
func TestParamsEncodedKeys(t *testing.T) {
	ps := mustAppend(t, Params{}, Pair{Key: "a b", Value: "x&y=z"})
	ps = mustAppend(t, ps, Pair{Key: "order", Value: "naïve", Suffix: ".desc"})
	ps = mustAppend(t, ps, Pair{Key: "a", Value: "%"})
	assert.Equal(t, "a%20b=x%26y%3Dz&order=na%C3%AFve.desc&a=%25", ps.String())
	v, ok := ps.Get("a b")
	assert.True(t, ok)
	assert.Equal(t, "x&y=z", v)
	v, _ = ps.Get("order")
	assert.Equal(t, "naïve.desc", v)
	v, _ = ps.Get("a")
	assert.Equal(t, "%", v)
	_, ok = ps.Get("a%20b")
	assert.False(t, ok)
	assert.Equal(t, "order=na%C3%AFve.desc&a=%25", ps.Delete("a b").String())
	parsed, err := url.ParseQuery(ps.String())
	require.NoError(t, err)
	assert.Equal(t, url.Values{"a b": {"x&y=z"}, "order": {"naïve.desc"}, "a": {"%"}}, parsed)
}

// TestParamsRefusesText: a key or value CheckText refuses leaves the list
// as it was and says which one it was.
func TestParamsRefusesText(t *testing.T) {
	base := mustAppend(t, Params{}, Pair{Key: "a", Value: "1"})
	for _, tc := range []struct {
		p     Pair
		inKey bool
	}{
		{Pair{Key: "k\x00", Value: "v"}, true},
		{Pair{Key: "k\xff", Value: "v"}, true},
		{Pair{Key: "k", Value: "v\x00"}, false},
		{Pair{Key: "k", Value: "é\xc3"}, false},
		{Pair{Key: "k", Value: "v", Suffix: "\x00"}, false},
	} {
		for _, op := range []func(Pair) (Params, error){base.Append, base.Set} {
			got, err := op(tc.p)
			var fe *FieldError
			require.True(t, errors.As(err, &fe), "%q", tc.p)
			assert.Equal(t, tc.inKey, fe.InKey, "%q", tc.p)
			assert.ErrorIs(t, err, ErrText)
			assert.Equal(t, "a=1", got.String())
		}
	}
	// A sibling appending after the refusal still gets the next bytes.
	next := mustAppend(t, base, Pair{Key: "b", Value: "2"})
	assert.Equal(t, "a=1&b=2", next.String())
}

// TestParamsURL: the URL is the prefix, the lead and the list.
func TestParamsURL(t *testing.T) {
	ps := mustAppend(t, Params{}, Pair{Key: "id", Op: "eq", Value: "1"})
	assert.Equal(t, "https://h/rest/v1/t?select=*&id=eq.1", ps.URL("https://h/rest/v1", "/", "t", "select=*"))
	assert.Equal(t, "https://h/rest/v1/t?id=eq.1", ps.URL("https://h/rest/v1", "/", "t", ""))
	assert.Equal(t, "https://h/rest/v1/rpc/f?select=*", Params{}.URL("https://h/rest/v1", "/rpc/", "f", "select=*"))
	assert.Equal(t, "https://h/rest/v1/rpc/f", Params{}.URL("https://h/rest/v1", "/rpc/", "f", ""))
}

// TestParamsConcurrentBranches: many goroutines appending to one base at
// once each get their own parameters (run with -race).
func TestParamsConcurrentBranches(t *testing.T) {
	base := mustAppend(t, mustAppend(t, Params{}, Pair{Key: "a", Value: "1"}), Pair{Key: "b", Value: "2"})
	var wg sync.WaitGroup
	results := make([]Params, 32)
	for i := range results {
		wg.Go(func() {
			ps := base
			for j := range 10 {
				ps, _ = ps.Append(Pair{Key: fmt.Sprint(i), Value: fmt.Sprint(j)})
			}
			results[i] = ps
		})
	}
	wg.Wait()
	for i, ps := range results {
		got := keys(ps)
		assert.Len(t, got, 12)
		assert.Equal(t, []string{"a=1", "b=2"}, got[:2])
		for j, kv := range got[2:] {
			assert.Equal(t, fmt.Sprintf("%d=%d", i, j), kv)
		}
	}
	assert.Equal(t, []string{"a=1", "b=2"}, keys(base))
}

// TestParamsAppendAllocs: a chain of appends allocates one block.
func TestParamsAppendAllocs(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		var ps Params
		for range 8 {
			ps, _ = ps.Append(Pair{Key: "k", Op: "eq", Value: "v"})
		}
		if ps.Len() != 8 {
			t.Fatal(ps.Len())
		}
	})
	assert.Equal(t, 1.0, allocs)
}

package pgrest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

func keys(ps Params) (out []string) {
	for _, p := range ps.All() {
		out = append(out, p.Key+"="+p.Text())
	}
	return out
}

// TestParamsImmutable: lists branched from one base never see each
// other's parameters, whichever appends first; Set and Delete leave their
// receiver as it was.
func TestParamsImmutable(t *testing.T) {
	base := Params{}.Append(Pair{Key: "a", Value: "1"})
	x := base.Append(Pair{Key: "x", Value: "1"})
	y := base.Append(Pair{Key: "y", Value: "1"})
	x2 := x.Append(Pair{Key: "x2", Value: "1"})
	assert.Equal(t, []string{"a=1"}, keys(base))
	assert.Equal(t, []string{"a=1", "x=1"}, keys(x))
	assert.Equal(t, []string{"a=1", "y=1"}, keys(y))
	assert.Equal(t, []string{"a=1", "x=1", "x2=1"}, keys(x2))

	s := x2.Set(Pair{Key: "x", Value: "2"})
	assert.Equal(t, []string{"a=1", "x=2", "x2=1"}, keys(s))
	assert.Equal(t, []string{"a=1", "x=1", "x2=1"}, keys(x2))
	s2 := s.Set(Pair{Key: "new", Num: 5, IsNum: true})
	assert.Equal(t, []string{"a=1", "x=2", "x2=1", "new=5"}, keys(s2))

	d := x2.Delete(func(p Pair) bool { return p.Key == "x" })
	assert.Equal(t, []string{"a=1", "x2=1"}, keys(d))
	assert.Equal(t, []string{"a=1", "x=1", "x2=1"}, keys(x2))
	assert.Equal(t, 1, d.Index("x2"))
	assert.Equal(t, -1, d.Index("x"))

	// Past the first block.
	long := base
	for i := range 20 {
		long = long.Append(Pair{Key: fmt.Sprint(i), Value: "v"})
	}
	assert.Equal(t, 21, long.Len())
	assert.Equal(t, []string{"a=1"}, keys(base))
	assert.Equal(t, "19", long.All()[20].Key)
}

// TestParamsConcurrentBranches: many goroutines appending to one base at
// once each get their own parameter (run with -race).
func TestParamsConcurrentBranches(t *testing.T) {
	base := NewParams(Pair{Key: "a", Value: "1"}, Pair{Key: "b", Value: "2"})
	var wg sync.WaitGroup
	results := make([]Params, 32)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ps := base
			for j := range 10 {
				ps = ps.Append(Pair{Key: fmt.Sprint(i), Value: fmt.Sprint(j)})
			}
			results[i] = ps
		}()
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
			ps = ps.Append(Pair{Key: "k", Value: "v"})
		}
		if ps.Len() != 8 {
			t.Fatal(ps.Len())
		}
	})
	assert.Equal(t, 1.0, allocs)
}

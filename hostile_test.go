package supabase

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"
)

// withAllocBudget runs f with a ctx that is cancelled once the process has
// allocated more than budget bytes since f started, and returns how many
// bytes were allocated while f ran. Unlike a heap snapshot, the allocation
// total does not depend on when the collector runs; the cancellation keeps
// a client that reads without bound from taking the test down with it.
func withAllocBudget(t *testing.T, budget uint64, f func(ctx context.Context)) (allocated uint64) {
	t.Helper()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var watched sync.WaitGroup
	watched.Go(func() {
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		var m runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				runtime.ReadMemStats(&m)
				if m.TotalAlloc-before.TotalAlloc > budget {
					cancel()
				}
			}
		}
	})
	f(ctx)
	close(done)
	watched.Wait()
	cancel()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

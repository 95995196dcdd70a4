package sdktest

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/supabase-go/supabase"
	"github.com/supabase-go/supabase/localstack"
	"github.com/supabase-go/supabase/localstack/localstacktest"
)

// xorshift is an endless, deterministic stream of bytes that is never in
// memory as a whole.
type xorshift struct{ x uint64 }

func (p *xorshift) Read(b []byte) (int, error) {
	var w [8]byte
	for i := 0; i < len(b); i += 8 {
		p.x ^= p.x << 13
		p.x ^= p.x >> 7
		p.x ^= p.x << 17
		binary.LittleEndian.PutUint64(w[:], p.x)
		copy(b[i:], w[:])
	}
	return len(b), nil
}

// memUse is what the whole process (client and stack) used during a call.
type memUse struct {
	allocated uint64 // bytes allocated (TotalAlloc grew by)
	peakHeap  uint64 // the highest HeapInuse seen, sampled every 2 ms
}

func (m memUse) String() string {
	return mib(m.allocated) + " allocated, heap peak " + mib(m.peakHeap)
}

func mib(n uint64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// measure runs f and reports the memory the process used meanwhile.
func measure(f func()) memUse {
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var m runtime.MemStats
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	close(stop)
	wg.Wait()
	return memUse{allocated: after.TotalAlloc - before.TotalAlloc, peakHeap: peak.Load()}
}

// A 100 MiB object goes up through Upload and comes back through Download
// streamed: the process (the SDK and the stack serving it) allocates a
// small fraction of it and its heap never holds it. Not parallel, so that
// the figures are this test's alone.
func TestStorageHundredMiBThroughSDK(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 200 MiB")
	}
	const size = 100 << 20
	const bound = 32 << 20
	st := localstacktest.New(t, localstacktest.Configure(func(c *localstack.Config) { c.FileSizeLimit = 200 << 20 }))
	ctx := ctxFor(t)
	ada, adaS := user(t, ctx, st, "big@example.com")
	b := ada.Storage.From("avatars")
	path := avatarPath(adaS, "blob.bin")

	up := sha256.New()
	// No length up front: the body goes chunked, as from a pipe.
	src := io.TeeReader(io.LimitReader(&xorshift{x: 88172645463325252}, size), up)
	var res *supabase.UploadResult
	var err error
	upUse := measure(func() { res, err = b.Upload(ctx, path, src, nil) })
	require.NoError(t, err)
	assert.Equal(t, "avatars/"+path, res.FullPath)

	fi, err := b.Info(ctx, path)
	require.NoError(t, err)
	assert.EqualValues(t, size, fi.Size)
	assert.Equal(t, "application/octet-stream", fi.ContentType)

	down := sha256.New()
	var n int64
	var r *supabase.ObjectReader
	downUse := measure(func() {
		r, err = b.Download(ctx, path, nil)
		if err != nil {
			return
		}
		n, err = io.Copy(down, r)
		if cerr := r.Close(); err == nil {
			err = cerr
		}
	})
	require.NoError(t, err)
	assert.EqualValues(t, size, n)
	assert.EqualValues(t, size, r.Size, "Content-Length")
	if !bytes.Equal(up.Sum(nil), down.Sum(nil)) {
		t.Fatal("the download differs from the upload")
	}

	t.Logf("100 MiB through the SDK: upload %s; download %s", upUse, downUse)
	for what, v := range map[string]uint64{
		"upload allocated": upUse.allocated, "upload heap peak": upUse.peakHeap,
		"download allocated": downUse.allocated, "download heap peak": downUse.peakHeap,
	} {
		if v > bound {
			t.Errorf("%s: %s, want under %s", what, mib(v), mib(bound))
		}
	}
}

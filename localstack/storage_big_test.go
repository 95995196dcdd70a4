package localstack_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/supabase-go/supabase/localstack"
	"github.com/supabase-go/supabase/localstack/localstacktest"
)

// pattern is a deterministic stream of bytes that is not in memory.
type pattern struct{ x uint64 }

func (p *pattern) Read(b []byte) (int, error) {
	n := len(b) &^ 7
	if n == 0 {
		return 0, io.ErrShortBuffer
	}
	for i := 0; i < n; i += 8 {
		p.x ^= p.x << 13
		p.x ^= p.x >> 7
		p.x ^= p.x << 17
		binary.LittleEndian.PutUint64(b[i:], p.x)
	}
	return n, nil
}

// heapWatch samples the heap in use until stopped and reports its peak.
type heapWatch struct {
	peak atomic.Uint64
	stop chan struct{}
	done sync.WaitGroup
}

func watchHeap() *heapWatch {
	w := &heapWatch{stop: make(chan struct{})}
	w.done.Add(1)
	go func() {
		defer w.done.Done()
		var m runtime.MemStats
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > w.peak.Load() {
				w.peak.Store(m.HeapInuse)
			}
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

func (w *heapWatch) end() uint64 {
	close(w.stop)
	w.done.Wait()
	return w.peak.Load()
}

// allocated is what the process has allocated so far.
func allocated() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

// A 100 MiB object goes up and comes back down streamed: the process
// (server and client) allocates a small fraction of it either way. Not
// parallel, so that the figures are this test's.
func TestStorageHundredMiBStreamsInBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 200 MiB")
	}
	const size = 100 << 20
	const bound = 32 << 20
	st := localstacktest.New(t, localstacktest.Configure(func(cfg *localstack.Config) { cfg.FileSizeLimit = 200 << 20 }))
	c := &client{t: t, st: st}
	if r := c.jsonPost("POST", "/storage/v1/bucket", st.ServiceRoleKey, map[string]any{"name": "big"}); r.status != 200 {
		t.Fatalf("bucket: %d %s", r.status, r.body)
	}
	up := sha256.New()
	body := io.TeeReader(io.LimitReader(&pattern{x: 88172645463325252}, size), up)
	req, err := http.NewRequest("POST", st.URL+"/storage/v1/object/big/blob.bin", body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	req.Header.Set("Authorization", "Bearer "+st.ServiceRoleKey)
	req.Header.Set("Content-Type", "application/octet-stream")

	runtime.GC()
	w := watchHeap()
	base := allocated()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	upAlloc := allocated() - base
	upPeak := w.end()
	if resp.StatusCode != 200 {
		t.Fatalf("upload: %d", resp.StatusCode)
	}

	runtime.GC()
	w = watchHeap()
	base = allocated()
	req, _ = http.NewRequest("GET", st.URL+"/storage/v1/object/big/blob.bin", nil)
	req.Header.Set("Authorization", "Bearer "+st.ServiceRoleKey)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	down := sha256.New()
	n, err := io.Copy(down, resp.Body)
	resp.Body.Close()
	downAlloc := allocated() - base
	downPeak := w.end()
	if err != nil || resp.StatusCode != 200 || n != size || resp.ContentLength != size {
		t.Fatalf("download: %d, %d bytes (Content-Length %d), %v", resp.StatusCode, n, resp.ContentLength, err)
	}
	if !bytes.Equal(up.Sum(nil), down.Sum(nil)) {
		t.Fatal("the download differs from the upload")
	}
	t.Logf("100 MiB upload: %.1f MiB allocated, heap peak %.1f MiB; download: %.1f MiB allocated, heap peak %.1f MiB",
		float64(upAlloc)/(1<<20), float64(upPeak)/(1<<20), float64(downAlloc)/(1<<20), float64(downPeak)/(1<<20))
	if upAlloc > bound || downAlloc > bound || upPeak > bound || downPeak > bound {
		t.Errorf("memory grew with the object: want every figure under %d MiB", bound>>20)
	}
}

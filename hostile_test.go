package supabase

// Servers that misbehave on purpose, for the tests of what the client must
// never do with them (follow a redirect elsewhere, read without bound, wait
// forever, trust a body that does not decode). All listen on loopback.

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// hostileServer is an httptest server that records every request it gets.
type hostileServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []coreRequest
}

func (s *hostileServer) record(r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, coreRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(),
		Header: r.Header.Clone(), Body: body})
}

func (s *hostileServer) requests() []coreRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]coreRequest(nil), s.reqs...)
}

// newHostileServer serves h on 127.0.0.1, recording requests.
func newHostileServer(t *testing.T, h http.HandlerFunc) *hostileServer {
	t.Helper()
	return startHostile(t, "127.0.0.1:0", h)
}

// newOtherHost serves h on 127.0.0.2, another host than the 127.0.0.1 of
// newHostileServer and NewClient's test servers (on Linux all of 127/8 is
// loopback), so net/http treats it as foreign: it drops Authorization on a
// redirect there, but keeps apikey. Where 127.0.0.2 cannot be bound, another
// port on 127.0.0.1 is still another origin.
func newOtherHost(t *testing.T, h http.HandlerFunc) *hostileServer {
	t.Helper()
	if ln, err := net.Listen("tcp", "127.0.0.2:0"); err == nil {
		_ = ln.Close()
		return startHostile(t, "127.0.0.2:0", h)
	}
	return startHostile(t, "127.0.0.1:0", h)
}

func startHostile(t *testing.T, addr string, h http.HandlerFunc) *hostileServer {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	s := &hostileServer{}
	s.Server = &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.record(r)
		h(w, r)
	})}}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// redirectTo answers with status and a Location on target carrying the
// request's path and query, as a proxy or a moved host would.
func redirectTo(status int, target func() string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", target()+r.URL.RequestURI())
		w.WriteHeader(status)
	}
}

// endlessBody answers 200 with prefix and then fill, again and again, until
// the client goes away: a body with no end and no Content-Length.
func endlessBody(prefix string, fill []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if _, err := io.WriteString(w, prefix); err != nil {
			return
		}
		for r.Context().Err() == nil {
			if _, err := w.Write(fill); err != nil {
				return
			}
		}
	}
}

// endlessRows is a JSON array whose rows never end.
func endlessRows() http.HandlerFunc {
	return endlessBody(`[`, bytes.Repeat([]byte(`{"id":1,"title":"a row of a stream that never ends"},`), 1000))
}

// endlessRow is a JSON array whose second row is one string that never ends.
func endlessRow() http.HandlerFunc {
	return endlessBody(`[{"id":1},{"id":2,"title":"`, bytes.Repeat([]byte("x"), 32<<10))
}

// neverSendHeaders reads the request and then sends nothing until the
// client gives up; arrived counts the requests.
func neverSendHeaders(arrived *atomic.Int32) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		arrived.Add(1)
		<-r.Context().Done()
	}
}

// truncatedJSON answers 200 with body, a JSON text cut short.
func truncatedJSON(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, []byte(body))
	}
}

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

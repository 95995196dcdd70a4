package supabase

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The benchmarks in this file are how the cost of the SDK is read: each
// "sdk" case is measured against "floor", the least a hand-written client
// can do with net/http and encoding/json (the body read once into a buffer
// sized from Content-Length, one json.Unmarshal). docs/performance.md
// explains how to run them and read the ratios.

// pgBenchTransport is an http.RoundTripper made of a function.
type pgBenchTransport func(*http.Request) (*http.Response, error)

func (f pgBenchTransport) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// benchRow is a PostgREST row as a todo app defines it.
type benchRow struct {
	ID        int64     `json:"id"`
	UserID    string    `json:"user_id"`
	Title     string    `json:"title"`
	Done      bool      `json:"done"`
	CreatedAt time.Time `json:"created_at"`
}

const (
	benchKey    = "bench-anon-key"
	benchUserID = "8d0fd2b3-9ca7-4d9e-a95f-9e13a66a4f81"
	benchSelect = "id,user_id,title,done,created_at"
)

// benchServer answers the password sign-in and reads of /rest/v1/todos with
// PostgREST-shaped rows. Every read must carry the apikey and the signed-in
// user's bearer and ask for a known number of rows; anything else is a
// failure the benchmark reports.
type benchServer struct {
	*httptest.Server
	token   string
	session []byte
	bodies  map[string][]byte // RawQuery → body
	ranges  map[string]string // RawQuery → Content-Range
	conns   atomic.Int64      // connections accepted
	failure atomic.Pointer[string]
	gate    atomic.Pointer[benchGate]
}

// benchGate holds reads until n of them are in flight, so that a warm-up
// opens n connections at once.
type benchGate struct {
	n       int64
	arrived atomic.Int64
	open    chan struct{}
}

func (g *benchGate) wait() {
	if g.arrived.Add(1) == g.n {
		close(g.open)
	}
	<-g.open
}

// benchRows renders n rows as PostgREST sends them.
func benchRows(n int) []byte {
	var b bytes.Buffer
	b.Grow(n * 160)
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		benchAppendRow(&b, i)
	}
	b.WriteByte(']')
	return b.Bytes()
}

func benchAppendRow(b *bytes.Buffer, i int) {
	b.WriteString(`{"id":`)
	b.WriteString(strconv.Itoa(i + 1))
	b.WriteString(`,"user_id":"` + benchUserID + `","title":"Write the quarterly report for team #`)
	b.WriteString(strconv.Itoa(i % 1000))
	b.WriteString(`","done":true,"created_at":"2024-03-01T08:00:00.000000+00:00"}`)
}

// benchQuery is the query string of a read of n rows, as both the floor
// and the SDK send it.
func benchQuery(n int) string {
	return "select=" + benchSelect + "&user_id=eq." + benchUserID + "&limit=" + strconv.Itoa(n)
}

func newBenchServer(b *testing.B, rowCounts ...int) *benchServer {
	b.Helper()
	exp := time.Now().Add(24 * time.Hour).Unix()
	s := &benchServer{bodies: map[string][]byte{}, ranges: map[string]string{}}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": benchUserID, "role": "authenticated", "aud": "authenticated", "exp": exp,
	}).SignedString([]byte("bench-secret-bench-secret-bench-secret"))
	if err != nil {
		b.Fatal(err)
	}
	s.token = tok
	s.session, _ = json.Marshal(map[string]any{
		"access_token": tok, "token_type": "bearer", "expires_in": 86400, "expires_at": exp,
		"refresh_token": "bench-refresh", "user": map[string]any{"id": benchUserID, "aud": "authenticated"},
	})
	for _, n := range rowCounts {
		s.bodies[benchQuery(n)] = benchRows(n)
		s.ranges[benchQuery(n)] = "0-" + strconv.Itoa(n-1) + "/*"
	}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start()
	b.Cleanup(s.Close)
	return s
}

func (s *benchServer) fail(w http.ResponseWriter, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.failure.CompareAndSwap(nil, &msg)
	http.Error(w, msg, http.StatusBadRequest)
}

func (s *benchServer) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Apikey") != benchKey {
		s.fail(w, "%s %s: wrong apikey", r.Method, r.URL.Path)
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/auth/v1/token":
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(s.session)
	case r.Method == http.MethodGet && r.URL.Path == "/rest/v1/todos":
		if r.Header.Get("Authorization") != "Bearer "+s.token {
			s.fail(w, "read without the user's bearer")
			return
		}
		if g := s.gate.Load(); g != nil {
			g.wait()
		}
		body, ok := s.bodies[r.URL.RawQuery]
		if !ok {
			s.fail(w, "unexpected query %q", r.URL.RawQuery)
			return
		}
		h := w.Header()
		h["Content-Type"] = []string{"application/json; charset=utf-8"}
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
		h["Content-Range"] = []string{s.ranges[r.URL.RawQuery]}
		_, _ = w.Write(body)
	default:
		s.fail(w, "unexpected request %s %s", r.Method, r.URL.Path)
	}
}

// check fails b when the server saw a wrong request.
func (s *benchServer) check(b *testing.B) {
	if m := s.failure.Load(); m != nil {
		b.Fatal(*m)
	}
}

// floorClient is plain net/http, with as many idle connections per host as
// the SDK's default client keeps.
func floorClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: t}
}

// floorSelect is the hand-written request: what the SDK is measured against.
func floorSelect(ctx context.Context, hc *http.Client, rawURL, token string) ([]benchRow, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("apikey", benchKey)
	req.Header.Set("Authorization", "Bearer "+token)
	return floorDo(hc, req)
}

// floorWireClient is floorClient with the limit the SDK's default client
// puts on waiting for response headers.
func floorWireClient() *http.Client {
	hc := floorClient()
	hc.Transport.(*http.Transport).ResponseHeaderTimeout = 30 * time.Second
	return hc
}

// floorWireSelect is floorSelect sending what the SDK sends on the wire
// besides the credentials (the headers supabase-js sends), through
// floorWireClient: the floor for a client that matches supabase-js.
func floorWireSelect(ctx context.Context, hc *http.Client, rawURL, token string) ([]benchRow, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("apikey", benchKey)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Client-Info", clientInfo)
	req.Header.Set("Accept-Profile", "public")
	return floorDo(hc, req)
}

func floorDo(hc *http.Client, req *http.Request) ([]benchRow, error) {
	res, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", res.StatusCode)
	}
	buf := make([]byte, res.ContentLength)
	if _, err := io.ReadFull(res.Body, buf); err != nil {
		return nil, err
	}
	var rows []benchRow
	if err := json.Unmarshal(buf, &rows); err != nil {
		return nil, err
	}
	return rows, nil
}

// cpuMeter reports the process's CPU time per op as cpu-ns/op. On a
// machine shared with other work, wall time per op includes waiting for a
// core; CPU time does not, so the two together tell cost from load.
type cpuMeter struct{ start time.Duration }

func startCPU() cpuMeter { return cpuMeter{processCPU()} }

func (m cpuMeter) report(b *testing.B) {
	if b.N > 0 {
		b.ReportMetric(float64(processCPU()-m.start)/float64(b.N), "cpu-ns/op")
	}
}

// benchClient signs a user in through the benchmark server.
func benchClient(b *testing.B, s *benchServer, opts ...Option) *Client {
	b.Helper()
	c, err := NewClient(s.URL, benchKey, opts...)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.Auth.SignInWithPassword(context.Background(), "bench@example.com", "bench-password"); err != nil {
		b.Fatal(err)
	}
	return c
}

func benchSDKQuery(c *Client, n int) Query {
	return c.From("todos").Select(benchSelect).Eq("user_id", benchUserID).Limit(n)
}

func BenchmarkSelect(b *testing.B) {
	counts := []int{1, 100, 10000}
	s := newBenchServer(b, counts...)
	c := benchClient(b, s)
	// The SDK decoding with encoding/json: the cost of the request path alone.
	cStd := benchClient(b, s, WithJSONCodec(StdJSON{}))
	hc, hcWire := floorClient(), floorWireClient()
	ctx := context.Background()
	for _, n := range counts {
		rawURL := s.URL + "/rest/v1/todos?" + benchQuery(n)
		q := benchSDKQuery(c, n)
		qStd := benchSDKQuery(cStd, n)
		for _, impl := range []struct {
			name   string
			hc     *http.Client
			selekt func(context.Context, *http.Client, string, string) ([]benchRow, error)
		}{{"floor", hc, floorSelect}, {"floor-wire", hcWire, floorWireSelect}} {
			b.Run(fmt.Sprintf("rows=%d/impl=%s", n, impl.name), func(b *testing.B) {
				b.SetBytes(int64(len(s.bodies[benchQuery(n)])))
				b.ReportAllocs()
				cpu := startCPU()
				for b.Loop() {
					rows, err := impl.selekt(ctx, impl.hc, rawURL, s.token)
					if err != nil || len(rows) != n {
						s.check(b)
						b.Fatalf("%d rows, %v", len(rows), err)
					}
				}
				cpu.report(b)
			})
		}
		for _, impl := range []struct {
			name string
			q    Query
		}{{"sdk", q}, {"sdk-stdjson", qStd}} {
			b.Run(fmt.Sprintf("rows=%d/impl=%s", n, impl.name), func(b *testing.B) {
				b.SetBytes(int64(len(s.bodies[benchQuery(n)])))
				b.ReportAllocs()
				cpu := startCPU()
				for b.Loop() {
					rows, err := All[benchRow](ctx, impl.q)
					if err != nil || len(rows) != n {
						s.check(b)
						b.Fatalf("%d rows, %v", len(rows), err)
					}
				}
				cpu.report(b)
			})
		}
	}
}

// runParallel runs op on exactly goroutines goroutines, b.N times in all,
// after each goroutine has run it once, all at the same time (the server
// holds the warm-up requests until every one has arrived, so the pool is
// warm with one connection per goroutine), and reports the connections
// opened per op after that.
func runParallel(b *testing.B, s *benchServer, goroutines int, op func() error) {
	s.gate.Store(&benchGate{n: int64(goroutines), open: make(chan struct{})})
	var warm, start sync.WaitGroup
	warm.Add(goroutines)
	start.Add(1)
	var next atomic.Int64
	var failed atomic.Pointer[error]
	var done sync.WaitGroup
	done.Add(goroutines)
	for range goroutines {
		go func() {
			defer done.Done()
			err := op()
			warm.Done()
			start.Wait()
			for err == nil && next.Add(1) <= int64(b.N) {
				err = op()
			}
			if err != nil {
				failed.CompareAndSwap(nil, &err)
				next.Store(int64(b.N)) // stop the others
			}
		}()
	}
	warm.Wait()
	s.gate.Store(nil)
	before := s.conns.Load()
	b.ResetTimer()
	cpu := startCPU()
	start.Done()
	done.Wait()
	b.StopTimer()
	cpu.report(b)
	if e := failed.Load(); e != nil {
		s.check(b)
		b.Fatal(*e)
	}
	b.ReportMetric(float64(s.conns.Load()-before)/float64(b.N), "dials/op")
}

func BenchmarkSelectParallel(b *testing.B) {
	const n, goroutines = 100, 64
	s := newBenchServer(b, n)
	c := benchClient(b, s)
	hc := floorClient()
	ctx := context.Background()
	rawURL := s.URL + "/rest/v1/todos?" + benchQuery(n)
	q := benchSDKQuery(c, n)
	name := fmt.Sprintf("rows=%d/goroutines=%d/impl=", n, goroutines)
	b.Run(name+"floor", func(b *testing.B) {
		b.ReportAllocs()
		runParallel(b, s, goroutines, func() error {
			rows, err := floorSelect(ctx, hc, rawURL, s.token)
			if err == nil && len(rows) != n {
				err = fmt.Errorf("%d rows", len(rows))
			}
			return err
		})
	})
	b.Run(name+"sdk", func(b *testing.B) {
		b.ReportAllocs()
		runParallel(b, s, goroutines, func() error {
			rows, err := All[benchRow](ctx, q)
			if err == nil && len(rows) != n {
				err = fmt.Errorf("%d rows", len(rows))
			}
			return err
		})
	})
}

// benchValues returns the values of BenchmarkBuildQuery's filters as
// run-time values.
//
//go:noinline
func benchValues() (userID, before, pattern string, priority, limit int) {
	return strings.Clone(benchUserID), strings.Clone("2024-06-01"), strings.Clone("%report%"), 3, 50
}

// BenchmarkBuildQuery renders a query with five filters, an order and a
// limit to its URL without sending it.
func BenchmarkBuildQuery(b *testing.B) {
	const base = "https://abcdefghijklmnop.supabase.co"
	c, err := NewClient(base, "key")
	if err != nil {
		b.Fatal(err)
	}
	// Values arrive at run time, as they do in an application (a constant
	// would make some conversions free).
	userID, before, pattern, priority, limit := benchValues()
	want := base + "/rest/v1/todos?select=id,title,done&user_id=eq." + benchUserID +
		"&done=eq.false&priority=gte.3&created_at=lt.2024-06-01&title=ilike.%25report%25&order=created_at.desc&limit=50"
	b.Run("impl=floor", func(b *testing.B) {
		b.ReportAllocs()
		cpu := startCPU()
		defer cpu.report(b)
		for b.Loop() {
			v := url.Values{}
			v.Set("select", "id,title,done")
			v.Set("user_id", "eq."+userID)
			v.Set("done", "eq."+strconv.FormatBool(false))
			v.Set("priority", "gte."+strconv.Itoa(priority))
			v.Set("created_at", "lt."+before)
			v.Set("title", "ilike."+pattern)
			v.Set("order", "created_at.desc")
			v.Set("limit", strconv.Itoa(limit))
			u := url.URL{Scheme: "https", Host: "abcdefghijklmnop.supabase.co", Path: "/rest/v1/todos", RawQuery: v.Encode()}
			if u.String() == "" {
				b.Fatal("empty URL")
			}
		}
	})
	build := func() (string, error) {
		return c.From("todos").Select("id,title,done").
			Eq("user_id", userID).Eq("done", false).Gte("priority", priority).
			Lt("created_at", before).ILike("title", pattern).
			Order("created_at", Descending()).Limit(limit).url()
	}
	if u, err := build(); err != nil || u != want {
		b.Fatalf("%s, %v", u, err)
	}
	b.Run("impl=sdk", func(b *testing.B) {
		b.ReportAllocs()
		cpu := startCPU()
		defer cpu.report(b)
		for b.Loop() {
			// The whole URL was checked above; as for the floor, the loop
			// checks no more than that there is one.
			u, err := c.From("todos").Select("id,title,done").
				Eq("user_id", userID).Eq("done", false).Gte("priority", priority).
				Lt("created_at", before).ILike("title", pattern).
				Order("created_at", Descending()).Limit(limit).url()
			if err != nil || len(u) != len(want) {
				b.Fatalf("%s, %v", u, err)
			}
		}
	})
}

// rowStreamServer streams n rows, generated as they are written, so that
// the server holds no more than one chunk whatever n is.
func rowStreamServer(b *testing.B, n int) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		var buf bytes.Buffer
		buf.WriteByte('[')
		for i := range n {
			if i > 0 {
				buf.WriteByte(',')
			}
			benchAppendRow(&buf, i)
			if buf.Len() >= 32<<10 {
				if _, err := w.Write(buf.Bytes()); err != nil {
					return
				}
				buf.Reset()
			}
		}
		buf.WriteByte(']')
		_, _ = w.Write(buf.Bytes())
	}))
	b.Cleanup(srv.Close)
	return srv
}

// heapPeak samples the live heap every millisecond until stop is called,
// which returns the largest sample in MiB.
func heapPeak() (stop func() float64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	read := func() {
		metrics.Read(sample)
		peak = max(peak, sample[0].Value.Uint64())
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				read()
			}
		}
	}()
	return func() float64 {
		close(quit)
		<-done
		read()
		return float64(peak) / (1 << 20)
	}
}

// BenchmarkRows streams rows through Rows and reports the peak live heap,
// which must not grow with the number of rows.
func BenchmarkRows(b *testing.B) {
	for _, n := range []int{10000, 1000000} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			srv := rowStreamServer(b, n)
			c, err := NewClient(srv.URL, benchKey)
			if err != nil {
				b.Fatal(err)
			}
			q := c.From("todos").Select(benchSelect)
			ctx := context.Background()
			runtime.GC()
			b.ReportAllocs()
			stop := heapPeak()
			for b.Loop() {
				got := 0
				for row, err := range Rows[benchRow](ctx, q) {
					if err != nil {
						b.Fatal(err)
					}
					if row.ID != int64(got+1) {
						b.Fatalf("row %d has id %d", got, row.ID)
					}
					got++
				}
				if got != n {
					b.Fatalf("%d rows, want %d", got, n)
				}
			}
			b.ReportMetric(stop(), "peak-heap-MiB")
		})
	}
}

// BenchmarkOneOfMany: One over a large array stops at the second row, so its
// cost does not grow with the body.
func BenchmarkOneOfMany(b *testing.B) {
	for _, rows := range []int{2, 10000} {
		b.Run(fmt.Sprint(rows), func(b *testing.B) {
			payload := benchRows(rows)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(payload)
			}))
			b.Cleanup(srv.Close)
			c, err := NewClient(srv.URL, benchKey)
			if err != nil {
				b.Fatal(err)
			}
			q := c.From("todos").Select(benchSelect)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := One[benchRow](ctx, q); !errors.Is(err, ErrTooManyRows) {
					b.Fatal(err)
				}
			}
		})
	}
}

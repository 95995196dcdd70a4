package supabase

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sync"
	"sync/atomic"
)

// Streamed request and response bodies for the request core (send and
// roundTrip in transport.go): uploads are sent as they are read from the
// caller's io.Reader and never held whole in memory; downloads are handed
// to the caller unread, with a short body detected.

// streamBody is a request body read from a caller's io.Reader. It can be
// sent again (a retry, or the replay after a 401) only when it can be
// rewound to where it started: an io.Seeker. Otherwise the request is sent
// at most once.
type streamBody struct {
	src io.Reader
	// size is the number of bytes the body will yield, or -1 when unknown
	// (the request is then sent chunked).
	size int64
	// rewind returns src to its starting offset; nil when src cannot be
	// rewound.
	rewind func() error
	cur    *attemptBody // the body of the attempt in flight
	// handedOff: a streamed response owns the body; it is detached when
	// the response body is closed, not when send returns.
	handedOff bool
}

// newStreamBody wraps r. Its length is known for readers reporting Len
// (bytes.Reader, strings.Reader, bytes.Buffer) and for seekable ones
// (*os.File on a regular file); seekable readers can also be rewound.
func newStreamBody(r io.Reader) *streamBody {
	b := &streamBody{src: r, size: -1}
	if l, ok := r.(interface{ Len() int }); ok {
		b.size = int64(l.Len())
	}
	if s, ok := r.(io.Seeker); ok {
		start, err := s.Seek(0, io.SeekCurrent)
		if err != nil {
			return b // a pipe or terminal: neither length nor rewind
		}
		if b.size < 0 {
			if end, err := s.Seek(0, io.SeekEnd); err == nil && end >= start {
				b.size = end - start
			}
			if _, err := s.Seek(start, io.SeekStart); err != nil {
				// The reader is no longer where the caller left it.
				b.size = -1
				return b
			}
		}
		b.rewind = func() error {
			_, err := s.Seek(start, io.SeekStart)
			return err
		}
	}
	return b
}

// nilReader reports a nil io.Reader, including a typed nil pointer (a nil
// *bytes.Reader would panic in Len).
func nilReader(r io.Reader) bool {
	if r == nil {
		return true
	}
	v := reflect.ValueOf(r)
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan:
		return v.IsNil()
	}
	return false
}

// resendable reports whether the body can be sent again.
func (b *streamBody) resendable() bool { return b.rewind != nil }

// open returns the body for the next attempt: the caller's reader itself
// the first time, rewound before every later attempt. The previous
// attempt's body is detached first, so two attempts never read at once.
func (b *streamBody) open(ctx context.Context) (io.ReadCloser, error) {
	if b.cur != nil {
		b.cur.detach(ctx)
		if b.rewind == nil {
			return nil, errors.New("request body cannot be sent again: it is not an io.Seeker")
		}
		if err := b.rewind(); err != nil {
			return nil, fmt.Errorf("rewinding the request body: %w", err)
		}
	}
	if b.size == 0 {
		b.cur = nil
		return http.NoBody, nil
	}
	b.cur = &attemptBody{src: b.src, sem: make(chan struct{}, 1)}
	return b.cur, nil
}

// done detaches the last attempt's body: once it returns, the caller's
// reader is not read again (unless ctx ended while a Read was blocked, whose
// result is then discarded).
func (b *streamBody) done(ctx context.Context) {
	if b.cur != nil && !b.handedOff {
		b.cur.detach(ctx)
	}
}

// handOff keeps the request body readable while a streamed 2xx response is
// open (a function may answer while still reading its request): closing
// the response body detaches it. Safe on a nil b.
func (b *streamBody) handOff(resp *apiResponse) *apiResponse {
	if b == nil || b.cur == nil || resp.stream == nil {
		return resp
	}
	b.handedOff = true
	resp.stream = &handedOffBody{ReadCloser: resp.stream, upload: b.cur}
	return resp
}

// handedOffBody is a response body that detaches the request body when it
// is closed.
type handedOffBody struct {
	io.ReadCloser
	upload *attemptBody
}

func (h *handedOffBody) Close() error {
	err := h.ReadCloser.Close()
	h.upload.detach(context.Background())
	return err
}

// errBodyDetached ends a transport's reading of a body whose request is over.
var errBodyDetached = errors.New("supabase: request body read after the request ended")

// attemptBody is the body of one attempt. net/http may keep reading a
// request body after RoundTrip returned (for example when the server
// answered before reading all of it); detach stops that, so the caller's
// reader is never read after the call returns, nor by two attempts at once.
// It also keeps the transport from closing the caller's reader: the caller
// owns it.
type attemptBody struct {
	src      io.Reader
	sem      chan struct{} // held during a Read
	detached atomic.Bool
	once     sync.Once
}

func (a *attemptBody) Read(p []byte) (int, error) {
	if a.detached.Load() {
		return 0, errBodyDetached
	}
	a.sem <- struct{}{}
	defer func() { <-a.sem }()
	if a.detached.Load() {
		return 0, errBodyDetached
	}
	return a.src.Read(p)
}

// Close is called by the transport when it is done with the body.
func (a *attemptBody) Close() error {
	a.detached.Store(true)
	return nil
}

// detach makes every later Read fail and waits for a Read in progress to
// return, or for ctx to end.
func (a *attemptBody) detach(ctx context.Context) {
	a.once.Do(func() {
		a.detached.Store(true)
		select {
		case a.sem <- struct{}{}:
			<-a.sem
		case <-ctx.Done():
		}
	})
}

// checkedBody is a streamed response body that reports a body shorter than
// its Content-Length as an error instead of a clean EOF, so a download cut
// off mid-way is never taken for a complete, shorter file. (net/http does
// this for connections it reads itself; a RoundTripper need not.)
type checkedBody struct {
	rc   io.ReadCloser
	want int64 // Content-Length, -1 when unknown
	n    int64
}

func newCheckedBody(res *http.Response, method string) io.ReadCloser {
	want := res.ContentLength
	if method == http.MethodHead || res.StatusCode == http.StatusNoContent || res.StatusCode == http.StatusNotModified {
		want = -1 // no body, whatever the header says
	}
	return &checkedBody{rc: res.Body, want: want}
}

func (c *checkedBody) Read(p []byte) (int, error) {
	n, err := c.rc.Read(p)
	c.n += int64(n)
	// Only a short body is an error: net/http already stops reading at
	// Content-Length, and a RoundTripper that leaves ContentLength 0 on a
	// body with content (as test transports often do) means "unknown".
	if errors.Is(err, io.EOF) && c.want > 0 && c.n < c.want {
		return n, fmt.Errorf("supabase: response body cut off after %d of %d bytes: %w", c.n, c.want, io.ErrUnexpectedEOF)
	}
	return n, err
}

func (c *checkedBody) Close() error { return c.rc.Close() }

package supabase

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// tokenSource yields the bearer token for a request at send time.
type tokenSource interface {
	// accessToken returns the current user token, or "" to send the key.
	accessToken(ctx context.Context) (string, error)
	// tokenRejected is told that the server rejected token as expired or
	// invalid; it reports whether a different token is now available, so the
	// request can be replayed once.
	tokenRejected(ctx context.Context, token string) bool
}

type funcTokenSource func(context.Context) (string, error)

func (f funcTokenSource) accessToken(ctx context.Context) (string, error) {
	tok, err := f(ctx)
	if err != nil {
		return "", fmt.Errorf("supabase: access token func: %w", err)
	}
	return tok, nil
}

func (funcTokenSource) tokenRejected(context.Context, string) bool { return false }

// apiRequest is one HTTP call before credentials are attached.
type apiRequest struct {
	service string // ServiceREST, ServiceAuth, ServiceStorage or ServiceFunctions
	method  string
	url     string // absolute, with query
	header  http.Header
	// pairs are further headers, set in order after header (a later pair
	// replaces an earlier one of the same name); names are canonical.
	// PostgREST queries use them, in pairBuf, instead of a map.
	pairs   []headerPair
	pairBuf [5]headerPair
	body    []byte // nil: no body
	// upload, when set, is the body instead of body: streamed from the
	// caller's reader (transport_stream.go), resent only if rewindable.
	upload *streamBody
	// bearer, when set, is sent instead of asking the token source.
	bearer string
	// noKeyBearer sends no Authorization header, rather than the project
	// key, when there is no user token (Edge Functions with a new-format
	// key, which is not a JWT).
	noKeyBearer bool
	// retry allows retries on network errors, 503 and 520.
	retry bool
	// pgrst404 applies postgrest-js's reading of a 404: with an empty body
	// it is 204 No Content, with a JSON array body it is 200 (an empty
	// result).
	pgrst404 bool
	// stream leaves a 2xx body unread in apiResponse.stream (the caller
	// closes it) instead of reading it into body.
	stream bool
	// pooled reads a 2xx body of known length into a recycled buffer: for
	// callers that decode the body and then call apiResponse.release,
	// never for one that hands the body on.
	pooled bool
}

// apiResponse is a 2xx response, read into body, or left in stream for
// requests that asked for it. send also returns the (bounded) error
// response together with the [*Error] it decoded from it.
type apiResponse struct {
	status int
	header http.Header
	body   []byte
	stream io.ReadCloser
	buf    *bodyBuf // where body is, when it is a recycled buffer
}

// release recycles the body's buffer, if it came from the pool; body must
// not be used after. Safe on nil.
func (r *apiResponse) release() {
	if r != nil && r.buf != nil {
		r.body = nil
		r.buf.release()
		r.buf = nil
	}
}

// sanitizeURL drops the query string, which may hold user data.
func sanitizeURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	u.RawQuery = ""
	u.Fragment = ""
	u.User = nil
	return u.String()
}

// send performs r: it attaches apikey and Authorization at send time,
// retries what may be retried, replays once after a 401 when the token
// source has a fresh token, and returns a [*Error] for non-2xx answers.
//
// Retries (only when r.retry is set: GET and HEAD, or a write whose caller
// asked) follow network errors and 503 or 520 answers, at most
// co.retry.MaxRetries times, each attempt after the first carrying
// X-Retry-Count. The wait is the server's Retry-After when it sent one
// (seconds or an HTTP date), else a jittered exponential backoff; every wait
// ends early with ctx. A Retry-After longer than co.retry.MaxDelay is not
// waited for: the error is returned with its [Error.RetryAfter] set. An
// attempt that timed out (no response headers within the HTTP client's
// limit) is not retried, so that limit bounds the whole call.
//
// A redirect is never followed (refuseRedirects hands it back) and a 2xx
// body is read up to co.maxResponse bytes: both fail with a *Error, never
// retried.
func (co *core) send(ctx context.Context, ts tokenSource, r *apiRequest) (*apiResponse, error) {
	if r.upload != nil {
		defer r.upload.done(ctx)
	}
	replayed := false
	retries := 0
	for {
		token, fromSession := r.bearer, false
		if token == "" && ts != nil {
			t, err := ts.accessToken(ctx)
			if err != nil {
				return nil, err
			}
			// A caller's own Authorization header (WithHeaders, Query.Header)
			// replaces the session token; a 401 then says nothing about it.
			token, fromSession = t, t != "" && !r.hasHeader("Authorization") && co.headers.Get("Authorization") == ""
		}
		if token == "" && !r.noKeyBearer {
			token = co.key
		}
		resp, err := co.roundTrip(ctx, r, token, retries)
		if e, ok := err.(*Error); ok {
			return nil, e // an answer that must not be used: a redirect, a body over the limit
		}
		if err != nil {
			if retryable(ctx, err) && r.retry && r.resendable() && retries < co.retry.MaxRetries {
				if werr := sleepCtx(ctx, co.backoff(retries)); werr != nil {
					return nil, fmt.Errorf("supabase: %s %s: %w", r.method, sanitizeURL(r.url), werr)
				}
				retries++
				continue
			}
			return nil, fmt.Errorf("supabase: %s %s: %w", r.method, sanitizeURL(r.url), err)
		}
		if resp.status >= 200 && resp.status < 300 {
			return r.upload.handOff(resp), nil
		}
		if r.pgrst404 && resp.status == http.StatusNotFound {
			switch b := bytes.TrimSpace(resp.body); {
			case len(b) == 0:
				return &apiResponse{status: http.StatusNoContent, header: resp.header}, nil
			case b[0] == '[' && json.Valid(b):
				resp.status = http.StatusOK
				return co.restream(r, resp), nil
			}
		}
		e := co.decodeError(r, resp)
		if (resp.status == http.StatusServiceUnavailable || resp.status == 520) && r.retry && r.resendable() && retries < co.retry.MaxRetries {
			wait, ok := co.retryWait(retries, resp.header.Get("Retry-After"), e.RetryAfter)
			if ok {
				if werr := sleepCtx(ctx, wait); werr != nil {
					return nil, fmt.Errorf("supabase: %s %s: %w", r.method, sanitizeURL(r.url), werr)
				}
				retries++
				continue
			}
		}
		// Storage refuses an expired JWT with 400 (statusCode "403").
		if (resp.status == http.StatusUnauthorized || r.service == ServiceStorage) && fromSession && !replayed &&
			errors.Is(e, ErrJWTExpired) && ts.tokenRejected(ctx, token) && r.resendable() {
			// A body that cannot be sent again is not replayed; the
			// refresh above still serves the caller's next request.
			replayed = true
			continue
		}
		return resp, e
	}
}

// hasHeader reports whether r sets the header name (canonical).
func (r *apiRequest) hasHeader(name string) bool {
	if r.header.Get(name) != "" {
		return true
	}
	for _, p := range r.pairs {
		if p.name == name && p.value != "" {
			return true
		}
	}
	return false
}

// resendable reports whether r can be sent more than once.
func (r *apiRequest) resendable() bool { return r.upload == nil || r.upload.resendable() }

// retryWait is the wait before retry number retries+1: the server's
// Retry-After when the header parses (0 for a date in the past), else the
// backoff. ok is false when the server asks for more than MaxDelay.
func (co *core) retryWait(retries int, header string, retryAfter time.Duration) (time.Duration, bool) {
	if header == "" || (retryAfter == 0 && !retryAfterIsNow(header)) {
		return co.backoff(retries), true
	}
	if retryAfter > co.retry.MaxDelay {
		return 0, false
	}
	return retryAfter, true
}

// retryAfterIsNow reports whether a Retry-After header that parsed to 0
// really says "now" (0 seconds or a past date) rather than being invalid.
func retryAfterIsNow(v string) bool {
	if s, err := strconv.Atoi(v); err == nil {
		return s >= 0
	}
	_, err := http.ParseTime(v)
	return err == nil
}

// retryable reports whether a failed attempt may be sent again: not when the
// request could not be built, not once ctx is done, and not after a timeout,
// since a server that sent no headers within the header timeout would make
// every retry wait as long again.
func retryable(ctx context.Context, err error) bool {
	var perr permanentError
	var timeout interface{ Timeout() bool }
	if errors.As(err, &perr) || ctx.Err() != nil {
		return false
	}
	return !errors.As(err, &timeout) || !timeout.Timeout()
}

// permanentError marks a failure that no retry can fix (the request could
// not even be built).
type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

func (co *core) decodeError(r *apiRequest, resp *apiResponse) *Error {
	var e *Error
	switch r.service {
	case ServiceAuth:
		e = decodeAuthError(resp.status, resp.header, resp.body)
	case ServiceStorage:
		e = decodeStorageError(resp.status, resp.body)
	case ServiceFunctions:
		e = decodeFunctionsError(resp.status, resp.header, resp.body)
	default:
		e = decodeRESTError(resp.status, resp.body)
	}
	e.Method = r.method
	e.URL = sanitizeURL(r.url)
	e.RetryAfter = parseRetryAfter(resp.header.Get("Retry-After"), time.Now())
	return e
}

// roundTrip sends one attempt and reads the whole body (error bodies through
// a size limit).
func (co *core) roundTrip(ctx context.Context, r *apiRequest, token string, retryCount int) (*apiResponse, error) {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	if r.upload != nil {
		rc, err := r.upload.open(ctx)
		if err != nil {
			return nil, permanentError{err}
		}
		body = rc
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, body)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // it quotes the URL
		}
		return nil, permanentError{err}
	}
	if r.upload != nil && r.upload.size > 0 {
		req.ContentLength = r.upload.size // lets the server refuse an oversized body early
	}
	co.setHeaders(req.Header, r, token, retryCount)
	var start time.Time
	logging := co.logger.Enabled(ctx, slog.LevelDebug)
	if logging {
		start = time.Now()
	}
	res, err := co.do(req)
	if err != nil {
		// *url.Error quotes the full URL, whose query may hold user data;
		// the caller adds the sanitised URL instead.
		var ue *url.Error
		if errors.As(err, &ue) {
			return nil, ue.Err
		}
		return nil, err
	}
	if logging {
		co.logger.LogAttrs(ctx, slog.LevelDebug, "supabase request",
			slog.String("method", r.method), slog.String("url", sanitizeURL(r.url)),
			slog.Int("status", res.StatusCode), slog.Duration("elapsed", time.Since(start)),
			slog.Int("retry", retryCount))
	}
	ok := res.StatusCode >= 200 && res.StatusCode < 300
	if ok && r.stream {
		return &apiResponse{status: res.StatusCode, header: res.Header, stream: newCheckedBody(res, r.method)}, nil
	}
	defer res.Body.Close()
	if isRedirect(res.StatusCode) {
		return nil, redirectError(r, res)
	}
	var data []byte
	var buf *bodyBuf
	if ok {
		data, buf, err = co.readBody(r, res)
	} else {
		data, err = io.ReadAll(io.LimitReader(res.Body, maxErrorBody))
	}
	if e, isErr := err.(*Error); isErr {
		return nil, e
	}
	if err != nil {
		return nil, fmt.Errorf("reading response: %w", err)
	}
	return &apiResponse{status: res.StatusCode, header: res.Header, body: data, buf: buf}, nil
}

// do sends req through the HTTP client. [http.Client] wraps its Transport in
// a redirect loop, a cookie jar and a timeout; redirects are refused
// anyway (see refuseRedirects), so a client with neither a jar nor a
// timeout, such as the default one, adds nothing but a copy of every
// header (kept for redirects) and the request goes to its Transport
// directly. The response is the same either way: a 3xx answer comes back
// as it is, an error unwrapped as roundTrip does with [http.Client.Do]'s.
func (co *core) do(req *http.Request) (*http.Response, error) {
	hc := co.httpClient
	if hc.Jar != nil || hc.Timeout != 0 {
		return hc.Do(req)
	}
	rt := hc.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	res, err := rt.RoundTrip(req)
	switch {
	case err != nil:
		return nil, err
	case res == nil:
		return nil, errors.New("http: RoundTripper returned a nil *Response with a nil error")
	case res.Body == nil:
		res.Body = http.NoBody
	}
	return res, nil
}

// setHeaders fills h, the headers of one attempt: X-Client-Info, apikey
// and Authorization, then r's headers, then the client's ([WithHeaders]),
// each replacing what came before under the same name. Every value is a
// copy (a RoundTripper may modify the request's header slices, which must
// not reach the shared configuration or a query value), all in one
// backing array.
func (co *core) setHeaders(h http.Header, r *apiRequest, token string, retryCount int) {
	n := 4 + len(r.pairs)
	for _, vs := range r.header {
		n += len(vs)
	}
	for _, vs := range co.headers {
		n += len(vs)
	}
	f := headerFill{h: h, vals: make([]string, 0, n)}
	f.set("X-Client-Info", clientInfo)
	f.set("Apikey", co.key)
	if token != "" {
		f.set("Authorization", "Bearer "+token)
	}
	for k, vs := range r.header {
		f.set(k, vs...)
	}
	for _, p := range r.pairs {
		f.set(p.name, p.value)
	}
	for k, vs := range co.headers {
		f.set(k, vs...)
	}
	if retryCount > 0 {
		f.set("X-Retry-Count", strconv.Itoa(retryCount))
	}
}

// headerFill sets headers whose values share one backing array.
type headerFill struct {
	h    http.Header
	vals []string
}

// set replaces k's values; the slice is capped, so appending to it (as a
// RoundTripper may) never reaches the next header's values.
func (f *headerFill) set(k string, vs ...string) {
	start := len(f.vals)
	f.vals = append(f.vals, vs...)
	f.h[k] = f.vals[start:len(f.vals):len(f.vals)]
}

// refuseRedirects returns a shallow copy of hc (same Transport, Jar and
// Timeout) that hands every redirect back unfollowed: Supabase's APIs never
// redirect an API call, and following one would send apikey (net/http only
// drops Authorization, and only for another host), a password or a refresh
// token to wherever the Location points, or turn a POST into a GET. Same-
// origin redirects are refused too: none is expected (Storage serves even
// signed-URL downloads itself), and a refusal is easier to diagnose than a
// silently changed method.
func refuseRedirects(hc *http.Client) *http.Client {
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// isRedirect reports whether status sends the client elsewhere (304 Not
// Modified does not).
func isRedirect(status int) bool {
	return status >= 300 && status < 400 && status != http.StatusNotModified
}

// redirectError describes a refused redirect, naming only the origin of its
// Location: the rest (a path, a query) may carry data not meant for errors.
func redirectError(r *apiRequest, res *http.Response) *Error {
	target := "a missing or invalid Location"
	if loc, err := res.Location(); err == nil { // resolved against the request URL
		target = loc.Scheme + "://" + loc.Host
	}
	// Let the connection be reused, reading no more than an error body.
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, maxErrorBody))
	return &Error{Service: r.service, Status: res.StatusCode, Code: codeRedirect,
		Message: "redirect to " + target + " not followed",
		Hint:    "Supabase APIs do not redirect; check the project URL (scheme, host and path)",
		Method:  r.method, URL: sanitizeURL(r.url)}
}

// readBody reads a whole 2xx body, up to co.maxResponse bytes; into a
// recycled buffer (returned too) when r asks for one and the length is known.
func (co *core) readBody(r *apiRequest, res *http.Response) ([]byte, *bodyBuf, error) {
	length := res.ContentLength
	if r.method == http.MethodHead {
		length = -1 // the header describes a body that is not sent
	}
	var buf *bodyBuf
	var into []byte
	if r.pooled && length >= 0 && length < co.maxResponse {
		if buf = getBodyBuf(int(length) + 1); buf != nil {
			into = buf.b
		}
	}
	data, over, err := readLimitedInto(into, res.Body, length, co.maxResponse)
	if err != nil || over {
		buf.release()
		if err != nil {
			return nil, nil, err
		}
		return nil, nil, tooLargeError(r.service, r.method, r.url, res.StatusCode,
			"response body", co.maxResponse, "WithMaxResponseSize")
	}
	if buf != nil && (len(data) == 0 || &data[0] != &buf.b[:1][0]) {
		// Empty, or it outgrew the buffer (a Content-Length that lied).
		buf.release()
		buf = nil
		if len(data) == 0 {
			data = nil
		}
	}
	return data, buf, nil
}

// Recycled body buffers, in size classes of powers of two from 4 KiB to
// 4 MiB. A decoded body is garbage as soon as the codec returns (decoded
// values never point into it: that is the [JSONCodec] contract), so [All]
// and [Page] give their buffer back instead of leaving a body-sized
// allocation per request to the collector.
const (
	minBodyBuf     = 4 << 10
	bodyBufClasses = 11 // up to 4 MiB
)

var bodyBufPools [bodyBufClasses]sync.Pool

type bodyBuf struct {
	b     []byte // len 0, cap the class size
	class int
}

// getBodyBuf returns a buffer of at least size bytes, or nil when size is
// beyond the largest class.
func getBodyBuf(size int) *bodyBuf {
	class := 0
	for minBodyBuf<<class < size {
		if class++; class == bodyBufClasses {
			return nil
		}
	}
	if b, ok := bodyBufPools[class].Get().(*bodyBuf); ok {
		return b
	}
	return &bodyBuf{b: make([]byte, 0, minBodyBuf<<class), class: class}
}

// release returns b to its pool. Safe on nil.
func (b *bodyBuf) release() {
	if b != nil {
		b.b = b.b[:0]
		bodyBufPools[b.class].Put(b)
	}
}

// readLimited reads body to its end unless it holds more than limit bytes
// (over is then true, and nothing more is read). A known contentLength
// larger than limit is refused before reading; one within it sizes the
// buffer, so the body is read in one allocation. An unknown length is read
// in chunks joined once at the end: growing one slice would copy it again
// and again and leave garbage of several times the body size.
func readLimited(body io.Reader, contentLength, limit int64) (data []byte, over bool, err error) {
	return readLimitedInto(nil, body, contentLength, limit)
}

// readLimitedInto is readLimited reading into into's capacity first, when
// that holds contentLength+1 bytes.
func readLimitedInto(into []byte, body io.Reader, contentLength, limit int64) (data []byte, over bool, err error) {
	if contentLength > limit {
		return nil, true, nil
	}
	size := 4 << 10
	if contentLength >= 0 && contentLength < math.MaxInt {
		size = int(contentLength) + 1 // + 1: the read that meets EOF needs room too
	}
	var chunks [][]byte
	var total int64
	buf := into[:0]
	if cap(buf) < size {
		buf = make([]byte, 0, size)
	}
	for {
		if len(buf) == cap(buf) {
			chunks = append(chunks, buf)
			buf = make([]byte, 0, min(2*cap(buf), maxReadChunk))
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if total += int64(n); total > limit {
			return nil, true, nil
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, false, err
		}
	}
	if len(chunks) == 0 {
		return buf, false, nil
	}
	data = make([]byte, 0, total)
	for _, c := range chunks {
		data = append(data, c...)
	}
	return append(data, buf...), false, nil
}

// maxReadChunk bounds the chunks readLimited grows into.
const maxReadChunk = 1 << 20

// tooLargeError reports a body (or, for [Rows], one row) over its limit.
func tooLargeError(service, method, rawURL string, status int, what string, limit int64, option string) *Error {
	return &Error{Service: service, Status: status, Code: codeResponseTooLarge,
		Message: what + " larger than " + strconv.FormatInt(limit, 10) + " bytes",
		Hint:    "raise the limit with " + option,
		Method:  method, URL: sanitizeURL(rawURL)}
}

// restream hands a body that was read (an error read, later taken as
// success) to a caller that asked for a stream.
func (co *core) restream(r *apiRequest, resp *apiResponse) *apiResponse {
	if r.stream {
		resp.stream = io.NopCloser(bytes.NewReader(resp.body))
		resp.body = nil
	}
	return resp
}

// backoff is the wait before retry number retry+1: BaseDelay doubled per
// retry, capped at MaxDelay, less up to a quarter at random so that many
// clients failing together do not retry in step.
func (co *core) backoff(retry int) time.Duration {
	d := co.retry.BaseDelay
	for range retry { // doubling with a cap never overflows, unlike a shift
		if d >= co.retry.MaxDelay/2 {
			d = co.retry.MaxDelay
			break
		}
		d *= 2
	}
	d = min(d, co.retry.MaxDelay)
	if q := int64(d / 4); q > 0 {
		d -= time.Duration(rand.Int64N(q + 1))
	}
	return d
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0
		}
		// Clamp before multiplying: a huge value must not wrap negative.
		return time.Duration(min(s, maxRetryAfterSeconds)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return min(d, maxRetryAfterSeconds*time.Second)
		}
	}
	return 0
}

// maxRetryAfterSeconds bounds a parsed Retry-After (a day); anything longer
// than MaxDelay is not waited for anyway.
const maxRetryAfterSeconds = 24 * 60 * 60

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

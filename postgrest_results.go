package supabase

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/supabase-go/supabase/internal/pgrest"
)

// Response is the raw result of [Query.Execute].
type Response struct {
	// Body is the response body as received: JSON rows, a JSON object with
	// [Query.Single], CSV text, a plan with [Query.Explain]; empty for HEAD
	// and for writes without Select. With [Query.MaybeSingle] it is the one
	// row as a JSON object, or null when no row matched.
	Body []byte
	// Status is the HTTP status. As in supabase-js, a 404 with an empty body
	// is reported as 204 without an error.
	Status int
	// Header holds the response headers.
	Header http.Header
	// Count is the row count from Content-Range when a [CountMethod] was
	// asked for and the server reported one; nil otherwise.
	Count *int64
}

// Execute sends the query and returns the raw response. A non-2xx answer
// is a [*Error] decoded from PostgREST's {code, message, details, hint} (or
// carrying the status and an excerpt of a non-JSON body); a query carrying
// an error returns it without sending anything. With [Query.MaybeSingle]
// the rows are checked as described there.
//
// A Range past the last row of a counted query is answered 416: the error
// matches [ErrRangeNotSatisfiable] ([Page] reads it as an empty page).
func (q Query) Execute(ctx context.Context) (*Response, error) {
	resp, err := q.do(ctx)
	if err != nil || !q.maybeSingle {
		return resp, err
	}
	if pgrest.Kind(resp.Body) != '[' {
		return resp, nil
	}
	var rows []json.RawMessage
	if err := json.Unmarshal(resp.Body, &rows); err != nil {
		return nil, q.decodeFailure(resp.Status, "a JSON array of rows", err, resp.Body)
	}
	switch len(rows) {
	case 0:
		resp.Body = []byte("null")
	case 1:
		resp.Body = rows[0]
	default:
		return nil, q.rowsError(len(rows), false)
	}
	return resp, nil
}

// do sends the query and reads the whole response.
func (q Query) do(ctx context.Context) (*Response, error) {
	r, _, err := q.send(ctx, false)
	return r, err
}

// send sends the query; with stream the 2xx body is returned unread (the
// caller closes it) instead of in [Response.Body].
func (q Query) send(ctx context.Context, stream bool) (*Response, io.ReadCloser, error) {
	res, err := q.exchange(ctx, stream, false)
	if err != nil {
		return nil, nil, err
	}
	header := res.header
	if header == nil {
		header = http.Header{}
	}
	r := &Response{Body: res.body, Status: res.status, Header: header}
	if q.extras().count != "" {
		r.Count = parseContentRange(header.Get("Content-Range"))
	}
	return r, res.stream, nil
}

// exchange sends the query and returns the transport's response. With
// pooled the body may be in a recycled buffer: the caller decodes it and
// then calls release.
func (q Query) exchange(ctx context.Context, stream, pooled bool) (*apiResponse, error) {
	req, err := q.build()
	if err != nil {
		return nil, err
	}
	// As postgrest-js does (its issue 295): a 404 with an empty body is 204
	// No Content, one with a JSON array body an empty 200.
	req.pgrst404 = true
	req.stream = stream
	req.pooled = pooled
	return q.c.core.send(ctx, q.c.tokens, req)
}

// parseContentRange reads the total from "0-9/42" or "*/42"; nil for "*"
// or a malformed header.
func parseContentRange(v string) *int64 {
	_, total, ok := strings.Cut(v, "/")
	if !ok {
		return nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(total), 10, 64)
	if err != nil || n < 0 {
		return nil
	}
	return &n
}

// contentRangeRows reads the rows part of Content-Range: "0-9/42" gives
// (0, 9, true); "*/42" and malformed headers give ok = false.
func contentRangeRows(v string) (from, to int64, ok bool) {
	rng, _, _ := strings.Cut(v, "/")
	a, b, found := strings.Cut(strings.TrimSpace(rng), "-")
	if !found {
		return 0, 0, false
	}
	from, err1 := strconv.ParseInt(a, 10, 64)
	to, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || from < 0 || to < from {
		return 0, 0, false
	}
	return from, to, true
}

const msgObjectRequested = "JSON object requested, multiple (or no) rows returned"

// rowsError is the PGRST116 error PostgREST itself sends for Single, made
// client-side; it matches [ErrNotFound] for 0 rows and [ErrTooManyRows] for
// more.
// atLeast says that counting stopped at n.
func (q Query) rowsError(n int, atLeast bool) *Error {
	e := &Error{Service: ServiceREST, Status: http.StatusNotAcceptable, Code: "PGRST116", Message: msgObjectRequested}
	switch {
	case n == 0:
		e.Details = "The result contains 0 rows"
	case atLeast:
		e.Details = "Results contain at least " + strconv.Itoa(n) + " rows, " + mediaObject + " requires 1 row"
	default:
		e.Details = "Results contain " + strconv.Itoa(n) + " rows, " + mediaObject + " requires 1 row"
	}
	q.describe(e)
	return e
}

// describe adds the request's method and sanitised URL to a client-made error.
func (q Query) describe(e *Error) {
	if r, err := q.build(); err == nil {
		e.Method = r.method
		e.URL = sanitizeURL(r.url)
	}
}

// decodeFailure is the [ErrInvalidResponse] error for a 2xx body that could
// not be decoded as want. It quotes the body (an excerpt) only when the body
// is not JSON at all, such as a proxy's HTML page: rows may hold private data.
func (q Query) decodeFailure(status int, want string, err error, head []byte) *Error {
	e := invalidResponse(ServiceREST, status, "cannot decode the response body as "+want+": "+err.Error())
	if isSyntaxError(err) && len(head) > 0 {
		e.Details = "the body is not JSON: " + excerpt(head)
	}
	q.describe(e)
	return e
}

// readFailure reports a body whose reading failed (a network error, ctx
// ended): a transport error, wrapped so that errors.Is sees its cause.
func (q Query) readFailure(err error) error {
	method, u := "", ""
	if r, berr := q.build(); berr == nil {
		method, u = r.method, sanitizeURL(r.url)
	}
	return fmt.Errorf("supabase: %s %s: reading response: %w", method, u, err)
}

// decodingBody wraps a response body being decoded: it keeps the first bytes
// (for an excerpt) and the first read error, which tells a network failure
// from a body that is not valid JSON.
type decodingBody struct {
	r    io.Reader
	head []byte
	err  error
}

const streamHead = 256

func (b *decodingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if len(b.head) < streamHead {
		b.head = append(b.head, p[:min(n, streamHead-len(b.head))]...)
	}
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}

// failure turns an error from decoding the body into a read failure or an
// [ErrInvalidResponse] error.
func (b *decodingBody) failure(q Query, status int, want string, err error) error {
	if b.err != nil {
		return q.readFailure(b.err)
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return q.decodeFailure(status, want, err, b.head)
}

// Count sends the query as HEAD with Prefer: count=exact (or the query's
// own [CountMethod]) and returns the number of matching rows. On a write or
// RPC the request is sent as it is and the count of affected rows returned.
// The total ignores [Query.Range] and [Query.Limit], so on a read they are
// not sent (a Range past the end would only earn a 416).
func (q Query) Count(ctx context.Context) (int64, error) {
	if err := q.Err(); err != nil {
		return 0, err
	}
	if q.extras().count == "" {
		q.editExtras().count = CountExact
	}
	if q.kind == kindRead {
		q.head = true
		q.accept = acceptDefault
		if q.extras().explain != nil {
			q.editExtras().explain = nil
		}
		q.maybeSingle = false
		q.params = q.params.Delete("offset", "limit")
	}
	resp, err := q.do(ctx)
	if err != nil {
		if n, ok := rangeTotal(err); ok {
			return n, nil
		}
		return 0, err
	}
	if resp.Count == nil {
		e := invalidResponse(ServiceREST, resp.Status, "the server sent no row count (Content-Range)")
		q.describe(e)
		return 0, e
	}
	return *resp.Count, nil
}

// rangeTotal reads the row count from PostgREST's 416 answer to an offset
// past the end: "An offset of 20 was requested, but there are only 7 rows."
// (the same total as the answer's Content-Range: */7, which the error does
// not keep).
func rangeTotal(err error) (int64, bool) {
	var e *Error
	if !errors.As(err, &e) || !errors.Is(e, ErrRangeNotSatisfiable) {
		return 0, false
	}
	_, rest, ok := strings.Cut(e.Details, "there are only ")
	if !ok {
		return 0, false
	}
	digits, _, _ := strings.Cut(rest, " ")
	n, perr := strconv.ParseInt(digits, 10, 64)
	if perr != nil || n < 0 {
		return 0, false
	}
	return n, true
}

func isNull(body []byte) bool { return string(bytes.TrimSpace(body)) == "null" }

// typeName names T for decoding errors: "[]main.Todo".
func typeName[T any]() string { return reflect.TypeFor[T]().String() }

// All sends q and decodes the returned rows into a []T: straight from the
// body, in one call to the client's [JSONCodec] ([DefaultJSON] unless
// [WithJSONCodec] says otherwise). A body holding a single object
// ([Query.Single]) is one row; an empty body (HEAD, a write without Select)
// or null is no rows and a nil slice. With [Query.MaybeSingle], more than
// one row is an error matching [ErrTooManyRows]. A 2xx body that cannot be
// decoded into []T is a [*Error] matching [ErrInvalidResponse].
func All[T any](ctx context.Context, q Query) ([]T, error) {
	res, err := q.exchange(ctx, false, true)
	if err != nil {
		return nil, err
	}
	defer res.release()
	return decodeRows[T](q, res.status, res.header, res.body)
}

// rowsHint is the number of rows Content-Range announces, when it is a
// size to trust: the body can hold that many (a row takes at least 3
// bytes, "{},") and the slice would take no more than about twice the
// body's size, so that a header claiming more rows than there are cannot
// make the client allocate far more than the server sent.
func rowsHint[T any](header http.Header, bodyLen int) (int, bool) {
	from, to, ok := contentRangeRows(header.Get("Content-Range"))
	if !ok || to-from >= int64(bodyLen/3) {
		return 0, false
	}
	n := int(to - from + 1)
	if size := int64(reflect.TypeFor[T]().Size()); size > 0 && int64(n)*size > 2*int64(bodyLen)+64<<10 {
		return 0, false
	}
	return n, true
}

// decodeRows decodes a body of rows. The slice is made as large as the
// rows that Content-Range announces (when the body can hold that many), so
// that decoding appends to it without growing it again and again.
func decodeRows[T any](q Query, status int, header http.Header, body []byte) ([]T, error) {
	switch pgrest.Kind(body) {
	case 0:
		return nil, nil
	case 'n':
		if isNull(body) {
			return nil, nil
		}
	case '[':
		var rows []T
		if n, ok := rowsHint[T](header, len(body)); ok {
			rows = make([]T, 0, n)
		}
		if err := q.c.core.codec.Unmarshal(body, &rows); err != nil {
			return nil, q.decodeFailure(status, "[]"+typeName[T](), err, body)
		}
		if q.maybeSingle && len(rows) > 1 {
			return nil, q.rowsError(len(rows), false)
		}
		return rows, nil
	}
	rows := make([]T, 1)
	if err := q.c.core.codec.Unmarshal(body, &rows[0]); err != nil {
		return nil, q.decodeFailure(status, typeName[T](), err, body)
	}
	return rows, nil
}

// PageResult is one page of rows with the number of rows the query matches;
// [Page] returns it.
type PageResult[T any] struct {
	// Rows are the rows of this page, decoded as by [All].
	Rows []T
	// Total is the number of rows the query matches, ignoring
	// [Query.Range] and [Query.Limit] (from Content-Range); nil when the
	// server did not say, which [CountPlanned] and [CountEstimated] may do.
	Total *int64
	// From and To are the positions of the first and last row of Rows,
	// counted from 0 (from Content-Range). For an empty page From is the
	// offset asked for (0 without Range) and To is From-1, so
	// To-From+1 == len(Rows) always holds.
	From, To int64
}

// Page sends q and returns its rows together with the total, in one
// request: it asks for Prefer: count=exact unless q already has a
// [CountMethod] (Select("*", [CountPlanned]) keeps planned).
//
//	p, err := supabase.Page[Todo](ctx, q.Order("id").Range(20, 39))
//	// p.Rows: up to 20 rows; *p.Total: every matching row
//
// A Range that starts past the last row is answered by PostgREST with 416
// (PGRST103); Page reads that answer as an empty page with the total it
// reports, and a nil error. [Query.Execute] and [All] return that answer
// as an error matching [ErrRangeNotSatisfiable]. A 2xx body that cannot be
// decoded is a [*Error] matching [ErrInvalidResponse].
func Page[T any](ctx context.Context, q Query) (*PageResult[T], error) {
	if err := q.Err(); err != nil {
		return nil, err
	}
	if q.extras().count == "" {
		q.editExtras().count = CountExact
	}
	var offset int64
	if v, ok := q.param("offset"); ok {
		offset, _ = strconv.ParseInt(v, 10, 64)
	}
	res, err := q.exchange(ctx, false, true)
	if err != nil {
		if total, ok := rangeTotal(err); ok {
			return &PageResult[T]{Total: &total, From: offset, To: offset - 1}, nil
		}
		return nil, err
	}
	defer res.release()
	rows, err := decodeRows[T](q, res.status, res.header, res.body)
	if err != nil {
		return nil, err
	}
	contentRange := res.header.Get("Content-Range")
	p := &PageResult[T]{Rows: rows, Total: parseContentRange(contentRange), From: offset}
	if from, to, ok := contentRangeRows(contentRange); ok && to-from+1 == int64(len(rows)) {
		p.From = from
	}
	p.To = p.From + int64(len(rows)) - 1
	return p, nil
}

// One sends q and decodes exactly one row into T. No row is an error
// matching [ErrNotFound] and more than one an error matching
// [ErrTooManyRows] (both a [*Error] with PostgREST's code PGRST116 and
// status 406).
//
// On a read (and an RPC) the rows are counted on the response, which is
// read only up to the second row. On a write (Insert, Upsert, Update,
// Delete) PostgREST counts instead: One asks for the single-object answer
// (Accept: application/vnd.pgrst.object+json), and PostgREST rolls the
// write back and answers 406 PGRST116 when it did not affect exactly one
// row, so a write that One reports as failed has changed nothing. A write
// must have [Query.Select], since without it no row comes back: One
// returns an [ErrInvalidQuery] error before sending anything.
//
// An RPC keeps client-side counting because PostgREST's single-object
// answer for a function returning a set of scalars is not the scalar; add
// [Query.Single] to a call whose function writes and must affect one row.
//
// A 2xx body that cannot be decoded into T is a [*Error] matching
// [ErrInvalidResponse].
func One[T any](ctx context.Context, q Query) (T, error) {
	var zero T
	row, n, err := oneRow[T](ctx, q, "One")
	if err != nil {
		return zero, err
	}
	if n != 1 {
		e := q.rowsError(n, n > 1)
		if row == nil && n == 0 {
			e.Hint = "the response had no body"
		}
		return zero, e
	}
	return *row, nil
}

// MaybeOne sends q and decodes zero or one row: nil when no row matched,
// an error matching [ErrTooManyRows] when more than one did. On a write it
// asks PostgREST to check, as [One] does: a write that matched no row
// returns (nil, nil), one that matched several is rolled back and returns
// the error; either way nothing was changed. Without [Query.Select] a
// write returns an [ErrInvalidQuery] error before sending anything.
func MaybeOne[T any](ctx context.Context, q Query) (*T, error) {
	row, n, err := oneRow[T](ctx, q, "MaybeOne")
	switch {
	case err != nil:
		if noRowsAnswer(err) {
			return nil, nil
		}
		return nil, err
	case n == 0:
		return nil, nil
	case n > 1:
		return nil, q.rowsError(n, true)
	}
	return row, nil
}

// noRowsAnswer reports PostgREST's own PGRST116 refusal of zero rows.
func noRowsAnswer(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusNotAcceptable && e.Code == "PGRST116" &&
		rowsInDetails(e.Details) == 0
}

func (q Query) isWrite() bool {
	switch q.kind {
	case kindInsert, kindUpsert, kindUpdate, kindDelete:
		return true
	}
	return false
}

// oneRow sends q and decodes at most one row, reporting how many rows the
// body held, counting no further than 2. For "no body" it returns
// (nil, 0, nil); for an empty array or JSON null a non-nil zero row with
// n = 0.
func oneRow[T any](ctx context.Context, q Query, caller string) (*T, int, error) {
	if err := q.Err(); err != nil {
		return nil, 0, err
	}
	if q.isWrite() {
		if !q.selected {
			return nil, 0, invalidQuery("%s: a %s returns no row without Select; add Select(\"*\") or the columns to return", caller, q.kind)
		}
		// PostgREST then checks the count and rolls back when it is not 1.
		if q.accept == acceptDefault && q.extras().explain == nil {
			q.accept = acceptObject
		}
	}
	resp, body, err := q.send(ctx, true)
	if err != nil {
		return nil, 0, err
	}
	if body == nil { // 204: no rows
		return nil, 0, nil
	}
	defer body.Close()
	sb := &decodingBody{r: body}
	els := pgrest.NewElements(sb, rowLimit(q.c.core.maxResponse))
	first, err := els.Start()
	if err == io.EOF {
		return nil, 0, nil // empty body: HEAD
	}
	want := typeName[T]()
	fail := func(err error) (*T, int, error) {
		if errors.Is(err, pgrest.ErrTooLarge) {
			return nil, 0, q.tooLarge(resp.Status, "response body", q.c.core.maxResponse, "WithMaxResponseSize")
		}
		return nil, 0, sb.failure(q, resp.Status, want, err)
	}
	if err != nil {
		return fail(err)
	}
	codec := q.c.core.codec
	row := new(T)
	n := 1
	if first == '[' {
		want = "[]" + want
		more, err := els.More()
		if err != nil {
			return fail(err)
		}
		if !more {
			n = 0
		} else {
			v, err := els.Next()
			if err != nil {
				return fail(err)
			}
			if err := codec.Unmarshal(v, row); err != nil {
				return fail(err)
			}
			if more, err = els.More(); err != nil {
				return fail(err)
			}
			if more {
				// A second row: it is not read (nor is the rest of the body).
				return new(T), 2, nil
			}
		}
	} else {
		v, err := els.Value()
		if err != nil {
			return fail(err)
		}
		if isNull(v) {
			n = 0
		} else if err := codec.Unmarshal(v, row); err != nil {
			return fail(err)
		}
	}
	if err := els.End(); err != nil {
		return fail(err)
	}
	return row, n, nil
}

// rowLimit converts a byte limit for pgrest.Elements.
func rowLimit(n int64) int {
	return int(min(n, math.MaxInt))
}

// tooLarge is the [ErrResponseTooLarge] error for a body or row over its
// limit.
func (q Query) tooLarge(status int, what string, limit int64, option string) *Error {
	e := tooLargeError(ServiceREST, "", "", status, what, limit, option)
	q.describe(e)
	return e
}

// Rows sends q and yields the returned rows one at a time, decoding each
// from the response body as it arrives: memory stays constant however many
// rows there are. An error (from the request, from reading the body, or a
// row that cannot be decoded: a [*Error] matching [ErrInvalidResponse]) is
// yielded once, last; a row larger than [WithMaxRowSize] is such an error,
// matching [ErrResponseTooLarge]. Stopping the loop early closes the
// response.
func Rows[T any](ctx context.Context, q Query) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		resp, body, err := q.send(ctx, true)
		if err != nil {
			yield(zero, err)
			return
		}
		if body == nil { // 204: no rows
			return
		}
		defer body.Close()
		sb := &decodingBody{r: body}
		maxRow := q.c.core.maxRow
		fail := func(want string, err error) {
			if errors.Is(err, pgrest.ErrTooLarge) {
				yield(zero, q.tooLarge(resp.Status, "row", maxRow, "WithMaxRowSize"))
				return
			}
			yield(zero, sb.failure(q, resp.Status, want, err))
		}
		els := pgrest.NewElements(sb, rowLimit(maxRow))
		first, err := els.Start()
		if err == io.EOF {
			return // empty body: HEAD, or a write without Select
		}
		if err != nil {
			fail(typeName[T](), err)
			return
		}
		codec := q.c.core.codec
		if first != '[' {
			// One object (Single) or null (no row).
			v, err := els.Value()
			if err != nil {
				fail(typeName[T](), err)
				return
			}
			if isNull(v) {
				if err := els.End(); err != nil {
					fail(typeName[T](), err)
				}
				return
			}
			var row T
			if err := codec.Unmarshal(v, &row); err != nil {
				fail(typeName[T](), err)
				return
			}
			if err := els.End(); err != nil {
				fail(typeName[T](), err)
				return
			}
			yield(row, nil)
			return
		}
		want := "[]" + typeName[T]()
		// One row value for the whole stream, reset before each decode: a
		// pointer passed to the codec would otherwise be a heap allocation
		// per row. What is yielded is a copy, so rows never share it.
		row := new(T)
		for {
			more, err := els.More()
			if err != nil {
				fail(want, err)
				return
			}
			if !more {
				break
			}
			v, err := els.Next()
			if err != nil {
				fail(want, err)
				return
			}
			*row = zero
			if err := codec.Unmarshal(v, row); err != nil {
				fail(want, err)
				return
			}
			if !yield(*row, nil) {
				return
			}
		}
		if err := els.End(); err != nil {
			fail(want, err)
		}
	}
}

package supabase

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"net/http"
	"strconv"
	"strings"

	"github.com/supabase-go/supabase/internal/pgrest"
)

// Response is the raw result of Query.Execute.
type Response struct {
	// Body is the response body as received: JSON rows, a JSON object with
	// Single, CSV text, a plan with Explain; empty for HEAD and for writes
	// without Select. With MaybeSingle it is the one row as a JSON object,
	// or null when no row matched.
	Body []byte
	// Status is the HTTP status. As in supabase-js, a 404 with an empty body
	// is reported as 204 without an error.
	Status int
	// Header holds the response headers.
	Header http.Header
	// Count is the row count from Content-Range when Count was asked for and
	// the server reported one; nil otherwise.
	Count *int64
}

// Execute sends the query and returns the raw response. A non-2xx answer
// is a *Error decoded from PostgREST's {code, message, details, hint} (or
// carrying the status and an excerpt of a non-JSON body); a query carrying
// an error returns it without sending anything. With MaybeSingle the rows
// are checked as described there.
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
		return nil, decodeError(err)
	}
	switch len(rows) {
	case 0:
		resp.Body = []byte("null")
	case 1:
		resp.Body = rows[0]
	default:
		return nil, q.rowsError(len(rows))
	}
	return resp, nil
}

// do sends the query and reads the whole response.
func (q Query) do(ctx context.Context) (*Response, error) {
	r, _, err := q.send(ctx, false)
	return r, err
}

// send sends the query; with stream the 2xx body is returned unread (the
// caller closes it) instead of in Response.Body.
func (q Query) send(ctx context.Context, stream bool) (*Response, io.ReadCloser, error) {
	req, err := q.build()
	if err != nil {
		return nil, nil, err
	}
	// As postgrest-js does (its issue 295): a 404 with an empty body is 204
	// No Content, one with a JSON array body an empty 200.
	req.pgrst404 = true
	req.stream = stream
	res, err := q.c.core.send(ctx, q.c.tokens, req)
	if err != nil {
		return nil, nil, err
	}
	header := res.header
	if header == nil {
		header = http.Header{}
	}
	r := &Response{Body: res.body, Status: res.status, Header: header}
	if q.count != "" {
		r.Count = parseContentRange(header.Get("Content-Range"))
	}
	return r, res.stream, nil
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

const msgObjectRequested = "JSON object requested, multiple (or no) rows returned"

// rowsError is the PGRST116 error PostgREST itself sends for Single, made
// client-side; it matches ErrNotFound for 0 rows and ErrTooManyRows for more.
func (q Query) rowsError(n int) *Error {
	e := &Error{Service: ServiceREST, Status: http.StatusNotAcceptable, Code: "PGRST116", Message: msgObjectRequested}
	if n == 0 {
		e.Details = "The result contains 0 rows"
	} else {
		e.Details = "Results contain " + strconv.Itoa(n) + " rows, " + mediaObject + " requires 1 row"
	}
	if r, err := q.build(); err == nil {
		e.Method = r.method
		e.URL = sanitizeURL(r.url)
	}
	return e
}

// Count sends the query as HEAD with Prefer: count=exact (or the query's
// own Count method) and returns the number of matching rows. On a write or
// RPC the request is sent as it is and the count of affected rows returned.
func (q Query) Count(ctx context.Context) (int64, error) {
	if err := q.Err(); err != nil {
		return 0, err
	}
	if q.count == "" {
		q.count = CountExact
	}
	if q.kind == kindRead {
		q.head = true
		q.accept = acceptDefault
		q.explain = nil
		q.maybeSingle = false
	}
	resp, err := q.do(ctx)
	if err != nil {
		return 0, err
	}
	if resp.Count == nil {
		return 0, &Error{Service: ServiceREST, Status: resp.Status, Message: "the server sent no row count (Content-Range)"}
	}
	return *resp.Count, nil
}

func isNull(body []byte) bool { return string(bytes.TrimSpace(body)) == "null" }

func decodeError(err error) error {
	return fmt.Errorf("supabase: decoding response: %w", err)
}

// All sends q and decodes the returned rows into a []T: straight from the
// body, with one json.Unmarshal. A body holding a single object (Single) is
// one row; an empty body (HEAD, a write without Select) or null is no rows
// and a nil slice. With MaybeSingle, more than one row is an error matching
// ErrTooManyRows.
func All[T any](ctx context.Context, q Query) ([]T, error) {
	resp, err := q.do(ctx)
	if err != nil {
		return nil, err
	}
	body := resp.Body
	switch pgrest.Kind(body) {
	case 0:
		return nil, nil
	case 'n':
		if isNull(body) {
			return nil, nil
		}
	case '[':
		var rows []T
		if err := json.Unmarshal(body, &rows); err != nil {
			return nil, decodeError(err)
		}
		if q.maybeSingle && len(rows) > 1 {
			return nil, q.rowsError(len(rows))
		}
		return rows, nil
	}
	var row T
	if err := json.Unmarshal(body, &row); err != nil {
		return nil, decodeError(err)
	}
	return []T{row}, nil
}

// One sends q and decodes exactly one row into T. No row is an error
// matching ErrNotFound and more than one an error matching ErrTooManyRows
// (both a *Error with PostgREST's code PGRST116 and status 406).
//
// The request is not changed: the rows are counted on the response, so One
// works for any query, including writes with Select and RPC. Add Single to
// have PostgREST check instead (the error is then the server's).
func One[T any](ctx context.Context, q Query) (T, error) {
	var zero T
	row, n, err := oneRow[T](ctx, q)
	if err != nil {
		return zero, err
	}
	if n != 1 {
		e := q.rowsError(n)
		if n == 0 && row == nil {
			e.Hint = "the response had no body; add Select to a write to get its rows back"
		}
		return zero, e
	}
	return *row, nil
}

// MaybeOne sends q and decodes zero or one row: nil when no row matched,
// an error matching ErrTooManyRows when more than one did.
func MaybeOne[T any](ctx context.Context, q Query) (*T, error) {
	row, n, err := oneRow[T](ctx, q)
	switch {
	case err != nil:
		return nil, err
	case n == 0:
		return nil, nil
	case n > 1:
		return nil, q.rowsError(n)
	}
	return row, nil
}

// oneRow decodes the body as at most one row and reports how many rows it
// held. For "no body" it returns (nil, 0, nil); for a JSON null a non-nil
// zero row with n = 0.
func oneRow[T any](ctx context.Context, q Query) (*T, int, error) {
	resp, err := q.do(ctx)
	if err != nil {
		return nil, 0, err
	}
	body := resp.Body
	switch pgrest.Kind(body) {
	case 0:
		return nil, 0, nil
	case '[':
		var rows []T
		if err := json.Unmarshal(body, &rows); err != nil {
			return nil, 0, decodeError(err)
		}
		if len(rows) != 1 {
			return new(T), len(rows), nil
		}
		return &rows[0], 1, nil
	case 'n':
		if isNull(body) {
			return new(T), 0, nil
		}
	}
	row := new(T)
	if err := json.Unmarshal(body, row); err != nil {
		return nil, 0, decodeError(err)
	}
	return row, 1, nil
}

// Rows sends q and yields the returned rows one at a time, decoding each
// from the response body as it arrives: memory stays constant however many
// rows there are. An error (from the request or from decoding a row) is
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
		br := bufio.NewReader(body)
		first, err := peekNonSpace(br)
		if err == io.EOF {
			return // empty body: HEAD, or a write without Select
		}
		if err != nil {
			yield(zero, decodeError(err))
			return
		}
		dec, lim := newRowDecoder(br, q.c.core.maxRow)
		yield = guardRows(lim, yield, func() error {
			e := tooLargeError(ServiceREST, "", "", resp.Status, "row", q.c.core.maxRow, "WithMaxRowSize")
			if r, err := q.build(); err == nil {
				e.Method, e.URL = r.method, sanitizeURL(r.url)
			}
			return e
		})
		if first != '[' {
			// One object (Single) or null (no row).
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				yield(zero, decodeError(err))
				return
			}
			if isNull(raw) {
				return
			}
			var row T
			if err := json.Unmarshal(raw, &row); err != nil {
				yield(zero, decodeError(err))
				return
			}
			yield(row, nil)
			return
		}
		if _, err := dec.Token(); err != nil {
			yield(zero, decodeError(err))
			return
		}
		for dec.More() {
			var row T
			if err := dec.Decode(&row); err != nil {
				yield(zero, decodeError(err))
				return
			}
			if !yield(row, nil) {
				return
			}
			lim.startRow()
		}
		if _, err := dec.Token(); err != nil {
			yield(zero, decodeError(err))
		}
	}
}

// peekNonSpace returns the first non-whitespace byte without consuming it.
func peekNonSpace(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.ReadByte()
		if err != nil {
			return 0, err
		}
		switch b {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return b, br.UnreadByte()
	}
}

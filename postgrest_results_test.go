package supabase

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	pgrst116Three = `{"code":"PGRST116","details":"The result contains 3 rows","hint":null,"message":"Cannot coerce the result to a single JSON object"}`
	pgrst116Zero  = `{"code":"PGRST116","details":"The result contains 0 rows","hint":null,"message":"Cannot coerce the result to a single JSON object"}`
)

// A write through One or MaybeOne asks PostgREST for the single-object
// answer, so that PostgREST (which then rolls back) decides, not the
// client after the write has committed.
func TestOneWriteAsksServerToCount(t *testing.T) {
	ctx := context.Background()
	writes := map[string]func(c *Client) Query{
		"insert": func(c *Client) Query { return c.From("todos").Insert(todo{Title: "a"}).Select("id") },
		"upsert": func(c *Client) Query { return c.From("todos").Upsert(todo{ID: 1, Title: "a"}).Select("id") },
		"update": func(c *Client) Query {
			return c.From("todos").Update(map[string]any{"done": true}).Gte("id", 0).Select("id")
		},
		"delete": func(c *Client) Query { return c.From("todos").Delete().Eq("id", 1).Select("id") },
	}
	for name, build := range writes {
		t.Run(name, func(t *testing.T) {
			s, c := newFakeAPI(t, jsonReply(200, `{"id":1}`))
			got, err := One[todo](ctx, build(c))
			require.NoError(t, err)
			assert.Equal(t, 1, got.ID)
			h := s.last().Header
			assert.Equal(t, mediaObject, h.Get("Accept"))
			assert.Contains(t, h.Get("Prefer"), "return=representation")

			m, err := MaybeOne[todo](ctx, build(c))
			require.NoError(t, err)
			require.NotNil(t, m)
			assert.Equal(t, mediaObject, s.last().Header.Get("Accept"))

			// The query value is not changed by One.
			p, err := build(c).Preview()
			require.NoError(t, err)
			assert.Empty(t, p.Header.Get("Accept"))
		})
	}

	t.Run("several rows: the server's refusal", func(t *testing.T) {
		_, c := newFakeAPI(t, jsonReply(406, pgrst116Three))
		q := writes["update"](c)
		_, err := One[todo](ctx, q)
		assert.ErrorIs(t, err, ErrTooManyRows)
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, "Cannot coerce the result to a single JSON object", e.Message, "the server's error, not one made after the fact")
		assert.Equal(t, "PATCH", e.Method)

		_, err = MaybeOne[todo](ctx, q)
		assert.ErrorIs(t, err, ErrTooManyRows)
	})
	t.Run("no row", func(t *testing.T) {
		_, c := newFakeAPI(t, jsonReply(406, pgrst116Zero))
		q := writes["update"](c)
		_, err := One[todo](ctx, q)
		assert.ErrorIs(t, err, ErrNotFound)
		m, err := MaybeOne[todo](ctx, q)
		require.NoError(t, err)
		assert.Nil(t, m)
	})
	t.Run("other 406 and 404 are errors for MaybeOne", func(t *testing.T) {
		_, c := newFakeAPI(t, jsonReply(404, `{"code":"PGRST205","message":"Could not find the table 'public.todoz' in the schema cache"}`))
		_, err := MaybeOne[todo](ctx, c.From("todoz").Delete().Select("id"))
		assert.ErrorIs(t, err, ErrNotFound, "a missing table is not a missing row")
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, "PGRST205", e.Code)
	})
	t.Run("without Select nothing is sent", func(t *testing.T) {
		s, c := newFakeAPI(t, jsonReply(200, `[]`))
		for _, q := range []Query{
			c.From("todos").Insert(todo{}),
			c.From("todos").Update(map[string]any{"done": true}).Eq("id", 1),
			c.From("todos").Delete().Eq("id", 1),
		} {
			_, err := One[todo](ctx, q)
			assert.ErrorIs(t, err, ErrInvalidQuery)
			assert.ErrorContains(t, err, "add Select")
			_, err = MaybeOne[todo](ctx, q)
			assert.ErrorIs(t, err, ErrInvalidQuery)
		}
		assert.Empty(t, s.requests())
	})
	t.Run("accept variants", func(t *testing.T) {
		s, c := newFakeAPI(t, jsonReply(200, `{"id":1}`))
		_, err := One[todo](ctx, writes["insert"](c).StripNulls())
		require.NoError(t, err)
		assert.Equal(t, mediaObject+";nulls=stripped", s.last().Header.Get("Accept"))
		_, err = One[todo](ctx, writes["insert"](c).Single())
		require.NoError(t, err)
		assert.Equal(t, mediaObject, s.last().Header.Get("Accept"))
	})
	t.Run("reads and RPC count on the response", func(t *testing.T) {
		s, c := newFakeAPI(t, jsonReply(200, `[{"id":1}]`))
		_, err := One[todo](ctx, c.From("todos").Eq("id", 1))
		require.NoError(t, err)
		assert.Empty(t, s.last().Header.Get("Accept"))
		_, err = One[todo](ctx, c.RPC("newest_todo", nil))
		require.NoError(t, err)
		assert.Empty(t, s.last().Header.Get("Accept"))
	})
}

// manyRows is a body of 4 MiB of rows; it counts the bytes handed out.
type manyRows struct {
	read   atomic.Int64
	closed atomic.Bool
	rest   []byte
}

func newManyRows() *manyRows {
	const row = `{"id":1,"title":"row"},`
	b := make([]byte, 0, 4<<20+len(row))
	b = append(b, '[')
	for len(b) < 4<<20 {
		b = append(b, row...)
	}
	b = append(b, `{"id":1}]`...)
	return &manyRows{rest: b}
}

func (b *manyRows) Read(p []byte) (int, error) {
	if len(b.rest) == 0 {
		return 0, io.EOF
	}
	n := copy(p, b.rest)
	b.rest = b.rest[n:]
	b.read.Add(int64(n))
	return n, nil
}

func (b *manyRows) Close() error { b.closed.Store(true); return nil }

func TestOneStopsAtTheSecondRow(t *testing.T) {
	var body *manyRows
	hc := &http.Client{Transport: pgBenchTransport(func(r *http.Request) (*http.Response, error) {
		body = newManyRows()
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: body, Request: r}, nil
	})}
	c, err := NewClient("https://example.supabase.co", "key", WithHTTPClient(hc))
	require.NoError(t, err)
	ctx := context.Background()

	_, err = One[todo](ctx, c.From("todos"))
	assert.ErrorIs(t, err, ErrTooManyRows)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Contains(t, e.Details, "at least 2 rows")
	assert.Less(t, body.read.Load(), int64(64<<10), "the body is read only up to the second row")
	assert.True(t, body.closed.Load())

	_, err = MaybeOne[todo](ctx, c.From("todos"))
	assert.ErrorIs(t, err, ErrTooManyRows)
	assert.Less(t, body.read.Load(), int64(64<<10))
}

func TestOneRowShapes(t *testing.T) {
	ctx := context.Background()
	for body, want := range map[string]int{` [ {"id":5} ] `: 5, `{"id":6}`: 6, "[\n{\"id\":7}\n]\n": 7} {
		_, c := newFakeAPI(t, jsonReply(200, body))
		got, err := One[todo](ctx, c.From("t"))
		require.NoError(t, err, body)
		assert.Equal(t, want, got.ID, body)
	}
	for _, body := range []string{`[]`, `null`, ``, ` [ ] `} {
		_, c := newFakeAPI(t, jsonReply(200, body))
		_, err := One[todo](ctx, c.From("t"))
		assert.ErrorIs(t, err, ErrNotFound, body)
		m, err := MaybeOne[todo](ctx, c.From("t"))
		require.NoError(t, err, body)
		assert.Nil(t, m, body)
	}
	_, c := newFakeAPI(t, jsonReply(200, `[{"id":1},{"id":2}]`))
	_, err := One[todo](ctx, c.From("t"))
	assert.ErrorIs(t, err, ErrTooManyRows)
}

func TestDecodeFailuresAreErrors(t *testing.T) {
	ctx := context.Background()
	type call func(c *Client) error
	calls := map[string]call{
		"All":      func(c *Client) error { _, err := All[todo](ctx, c.From("t").Select("id")); return err },
		"One":      func(c *Client) error { _, err := One[todo](ctx, c.From("t").Select("id")); return err },
		"MaybeOne": func(c *Client) error { _, err := MaybeOne[todo](ctx, c.From("t").Select("id")); return err },
		"Page":     func(c *Client) error { _, err := Page[todo](ctx, c.From("t").Select("id")); return err },
		"Rows": func(c *Client) error {
			var last error
			for _, err := range Rows[todo](ctx, c.From("t").Select("id")) {
				last = err
			}
			return last
		},
	}
	html := "<html><body>" + strings.Repeat("Bad gateway page ", 500) + "</body></html>"
	bodies := []struct {
		name, body string
		excerpt    bool // the error quotes the start of the body
	}{
		{"html page", html, true},
		{"wrong type", `[{"id":"private-value"}]`, false},
		{"truncated", `[{"id":1}`, false},
		{"trailing data", `{"id":1} {"id":2}`, false},
	}
	for name, do := range calls {
		for _, b := range bodies {
			t.Run(name+"/"+b.name, func(t *testing.T) {
				_, c := newFakeAPI(t, jsonReply(200, b.body))
				err := do(c)
				require.ErrorIs(t, err, ErrInvalidResponse)
				var e *Error
				require.ErrorAs(t, err, &e)
				assert.Equal(t, 200, e.Status)
				assert.Equal(t, ServiceREST, e.Service)
				assert.Equal(t, "GET", e.Method)
				assert.NotContains(t, e.URL, "?")
				assert.Contains(t, e.Message, "cannot decode the response body as")
				assert.Contains(t, e.Message, "supabase.todo")
				assert.NotContains(t, err.Error(), "private-value", "row data is not quoted")
				assert.Less(t, len(err.Error()), 600, "at most an excerpt of the body")
				if b.excerpt {
					assert.Contains(t, e.Details, "the body is not JSON: <html><body>Bad gateway page")
				}
				assert.NotErrorIs(t, err, ErrNotFound)
			})
		}
	}
	t.Run("Count without Content-Range", func(t *testing.T) {
		_, c := newFakeAPI(t, jsonReply(200, ``))
		_, err := c.From("t").Count(ctx)
		assert.ErrorIs(t, err, ErrInvalidResponse)
	})
}

// stalledBody hands out its text, then blocks until the request's ctx
// ends, as a body does whose server stops sending.
type stalledBody struct {
	text    string
	ctx     context.Context
	stalled chan struct{}
}

func (b *stalledBody) Read(p []byte) (int, error) {
	if b.text != "" {
		n := copy(p, b.text)
		b.text = b.text[n:]
		return n, nil
	}
	close(b.stalled)
	<-b.ctx.Done()
	return 0, b.ctx.Err()
}

func (b *stalledBody) Close() error { return nil }

// A body cut by the caller's ctx is a transport error, not a bad answer.
func TestStreamReadFailureIsNotInvalidResponse(t *testing.T) {
	for name, read := range map[string]func(ctx context.Context, c *Client) error{
		"One": func(ctx context.Context, c *Client) error { _, err := One[todo](ctx, c.From("t")); return err },
		"Rows": func(ctx context.Context, c *Client) error {
			var last error
			for _, err := range Rows[todo](ctx, c.From("t")) {
				last = err
			}
			return last
		},
	} {
		t.Run(name, func(t *testing.T) {
			stalled := make(chan struct{})
			hc := &http.Client{Transport: pgBenchTransport(func(r *http.Request) (*http.Response, error) {
				body := &stalledBody{text: `[{"id":`, ctx: r.Context(), stalled: stalled}
				return &http.Response{StatusCode: 200, Header: http.Header{}, Body: body, Request: r}, nil
			})}
			c, err := NewClient("https://example.supabase.co", "key", WithHTTPClient(hc))
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- read(ctx, c) }()
			<-stalled // the row is half read
			cancel()
			err = <-done
			assert.ErrorIs(t, err, context.Canceled)
			assert.NotErrorIs(t, err, ErrInvalidResponse)
			assert.ErrorContains(t, err, "reading response")
		})
	}
}

func TestExcerptKeepsTextAfterInvalidBytes(t *testing.T) {
	assert.Equal(t, "ab\uFFFDcd", excerpt([]byte("ab\xffcd")))
	assert.Equal(t, "\uFFFDok", excerpt([]byte("\xff\xfeok")), "one replacement per run of bad bytes")

	long := "\xff" + strings.Repeat("a", 300)
	got := excerpt([]byte(long))
	assert.True(t, utf8.ValidString(got))
	assert.True(t, strings.HasPrefix(got, "\uFFFDaaa"), "the text after the bad byte is kept: %q", got)
	assert.True(t, strings.HasSuffix(got, "…"))
	assert.LessOrEqual(t, len(got), 200+len("…"))

	// A cut never splits a character.
	multi := strings.Repeat("é", 150) // 300 bytes
	got = excerpt([]byte(multi))
	assert.True(t, utf8.ValidString(got))
	assert.Equal(t, strings.Repeat("é", 100)+"…", got)
}

func TestPage(t *testing.T) {
	ctx := context.Background()
	t.Run("rows and total in one request", func(t *testing.T) {
		s, c := newFakeAPI(t, jsonReply(206, `[{"id":21},{"id":22}]`, "Content-Range", "20-21/42"))
		p, err := Page[todo](ctx, c.From("todos").Select("id").Order("id").Range(20, 21))
		require.NoError(t, err)
		assert.Equal(t, []todo{{ID: 21}, {ID: 22}}, p.Rows)
		require.NotNil(t, p.Total)
		assert.EqualValues(t, 42, *p.Total)
		assert.EqualValues(t, 20, p.From)
		assert.EqualValues(t, 21, p.To)
		require.Len(t, s.requests(), 1)
		checkRequest(t, s.last(), wantReq{"GET", "/rest/v1/todos",
			[][2]string{{"select", "id"}, {"order", "id.asc"}, {"offset", "20"}, {"limit", "2"}},
			with(hGet, "prefer", "count=exact"), ""})
	})
	t.Run("keeps the query's count method", func(t *testing.T) {
		s, c := newFakeAPI(t, jsonReply(200, `[]`, "Content-Range", "*/*"))
		p, err := Page[todo](ctx, c.From("todos").Select("id", CountPlanned))
		require.NoError(t, err)
		assert.Equal(t, "count=planned", s.last().Header.Get("Prefer"))
		assert.Nil(t, p.Total, "no total when the server sends none")
		assert.Empty(t, p.Rows)
		assert.EqualValues(t, 0, p.From)
		assert.EqualValues(t, -1, p.To)
	})
	t.Run("past the end is an empty page with the total", func(t *testing.T) {
		s, c := newFakeAPI(t, jsonReply(416,
			`{"code":"PGRST103","details":"An offset of 100 was requested, but there are only 42 rows.","hint":null,"message":"Requested range not satisfiable"}`,
			"Content-Range", "*/42"))
		q := c.From("todos").Select("id").Range(100, 119)
		p, err := Page[todo](ctx, q)
		require.NoError(t, err)
		assert.Empty(t, p.Rows)
		require.NotNil(t, p.Total)
		assert.EqualValues(t, 42, *p.Total)
		assert.EqualValues(t, 100, p.From)
		assert.EqualValues(t, 99, p.To)
		assert.Len(t, s.requests(), 1)

		_, err = q.Execute(ctx)
		assert.ErrorIs(t, err, ErrRangeNotSatisfiable)
		_, err = All[todo](ctx, q)
		assert.ErrorIs(t, err, ErrRangeNotSatisfiable)

		// Count sends no Range: the total does not depend on it.
		s2, c2 := newFakeAPI(t, jsonReply(200, ``, "Content-Range", "*/42"))
		n, err := c2.From("todos").Select("id").Order("id").Range(100, 119).Count(ctx)
		require.NoError(t, err)
		assert.EqualValues(t, 42, n)
		checkRequest(t, s2.last(), wantReq{"HEAD", "/rest/v1/todos", [][2]string{{"select", "id"}, {"order", "id.asc"}},
			with(hGet, "prefer", "count=exact"), ""})

		// An RPC is sent as it is; its 416 still gives the total.
		n, err = c.RPC("list_todos", nil).Range(100, 119).Count(ctx)
		require.NoError(t, err)
		assert.EqualValues(t, 42, n)
	})
	t.Run("a 416 without a total stays an error", func(t *testing.T) {
		_, c := newFakeAPI(t, jsonReply(416, `{"code":"PGRST103","details":"Limit should be greater than or equal to zero.","hint":null,"message":"Requested range not satisfiable"}`))
		_, err := Page[todo](ctx, c.From("todos"))
		assert.ErrorIs(t, err, ErrRangeNotSatisfiable)
	})
	t.Run("other errors", func(t *testing.T) {
		_, c := newFakeAPI(t, jsonReply(401, `{"code":"PGRST301","message":"JWT expired"}`))
		_, err := Page[todo](ctx, c.From("todos"))
		assert.ErrorIs(t, err, ErrJWTExpired)
		assert.NotErrorIs(t, err, ErrRangeNotSatisfiable)
		s2, c2 := newFakeAPI(t, jsonReply(200, `[]`))
		_, err = Page[todo](ctx, c2.From("todos").Eq("", 1))
		assert.ErrorIs(t, err, ErrInvalidQuery)
		assert.Empty(t, s2.requests())
	})
	t.Run("head", func(t *testing.T) {
		s, c := newFakeAPI(t, jsonReply(200, ``, "Content-Range", "*/7"))
		p, err := Page[todo](ctx, c.From("todos").Select("*", Head()))
		require.NoError(t, err)
		assert.Nil(t, p.Rows)
		assert.EqualValues(t, 7, *p.Total)
		assert.Equal(t, "HEAD", s.last().Method)
	})
}

func TestErrRangeNotSatisfiableMatching(t *testing.T) {
	assert.ErrorIs(t, &Error{Service: ServiceREST, Status: 416, Code: "PGRST103"}, ErrRangeNotSatisfiable)
	assert.ErrorIs(t, &Error{Service: ServiceREST, Code: "PGRST103"}, ErrRangeNotSatisfiable)
	assert.NotErrorIs(t, &Error{Service: ServiceREST, Status: 400, Code: "PGRST100"}, ErrRangeNotSatisfiable)
	assert.NotErrorIs(t, &Error{Service: ServiceREST, Status: 416}, ErrInvalidResponse)
	assert.False(t, errors.Is(&Error{Code: codeInvalidResponse}, ErrInvalidQuery))
}

package supabase

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type streamRow struct {
	ID int `json:"id"`
}

// Rows must hand out rows while the body is still arriving.
func TestRowsStreamsBeforeBodyEnds(t *testing.T) {
	release := make(chan struct{})
	closed := make(chan struct{})
	_, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`[{"id":1},{"id":2},`))
		w.(http.Flusher).Flush()
		if r.URL.Path == "/rest/v1/stop" {
			<-r.Context().Done() // ends only when the client goes away
			close(closed)
			return
		}
		<-release
		_, _ = w.Write([]byte(`{"id":3}]`))
	})

	var got []int
	for row, err := range Rows[streamRow](context.Background(), c.From("t").Select("id")) {
		require.NoError(t, err)
		got = append(got, row.ID)
		if row.ID == 2 {
			close(release) // row 2 arrived although the server has not finished
		}
	}
	assert.Equal(t, []int{1, 2, 3}, got)

	// Stopping early closes the response: the server sees the client go.
	for row, err := range Rows[streamRow](context.Background(), c.From("stop").Select("id")) {
		require.NoError(t, err)
		if row.ID == 1 {
			break
		}
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the response was not closed after the loop stopped")
	}
}

func TestRowsStreamShapes(t *testing.T) {
	bodies := map[string]string{"/rest/v1/array": `[{"id":1},{"id":2}]`, "/rest/v1/object": ` {"id":7}`,
		"/rest/v1/null": `null`, "/rest/v1/empty": ``, "/rest/v1/bad": `[{"id":"x"}]`}
	_, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(bodies[r.URL.Path]))
	})
	collect := func(table string) ([]int, error) {
		var ids []int
		for row, err := range Rows[streamRow](context.Background(), c.From(table).Select("id")) {
			if err != nil {
				return ids, err
			}
			ids = append(ids, row.ID)
		}
		return ids, nil
	}
	for table, want := range map[string][]int{"array": {1, 2}, "object": {7}, "null": nil, "empty": nil} {
		got, err := collect(table)
		require.NoError(t, err, table)
		assert.Equal(t, want, got, table)
	}
	_, err := collect("bad")
	assert.ErrorIs(t, err, ErrInvalidResponse)
}

func TestRESTNotFoundReadings(t *testing.T) {
	_, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		switch r.URL.Path {
		case "/rest/v1/array":
			_, _ = w.Write([]byte(`[]`))
		case "/rest/v1/text":
			_, _ = w.Write([]byte(`Not Found`))
		}
	})
	ctx := context.Background()

	res, err := c.From("empty").Delete().Eq("id", 1).Execute(ctx)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNoContent, res.Status)

	res, err = c.From("array").Select("*").Execute(ctx)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, res.Status)
	assert.JSONEq(t, `[]`, string(res.Body))

	_, err = c.From("text").Select("*").Execute(ctx)
	var e *Error
	require.ErrorAs(t, err, &e, "a 404 with a body is an error, even one reading Not Found")
	assert.Equal(t, 404, e.Status)
	assert.ErrorIs(t, err, ErrNotFound)
}

func BenchmarkRowsStream(b *testing.B) {
	var body strings.Builder
	body.WriteString("[")
	for i := range 10000 {
		if i > 0 {
			body.WriteString(",")
		}
		fmt.Fprintf(&body, `{"id":%d}`, i)
	}
	body.WriteString("]")
	payload := body.String()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(payload))
	}))
	defer srv.Close()
	c, err := NewClient(srv.URL, "anon")
	require.NoError(b, err)
	q := c.From("t").Select("id")
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for _, err := range Rows[streamRow](context.Background(), q) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 10000 {
			b.Fatalf("%d rows", n)
		}
	}
}

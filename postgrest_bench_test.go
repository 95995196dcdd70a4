package supabase

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"
)

type pgBenchTransport func(*http.Request) (*http.Response, error)

func (f pgBenchTransport) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func BenchmarkQueryBuild(b *testing.B) {
	c, err := NewClient("https://example.supabase.co", "key")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		q := c.From("todos").
			Select("id, title, done, owner:profiles(id, username)").
			Eq("done", false).
			In("tag", []string{"home", "work, urgent"}).
			Gte("priority", 2).
			Order("created_at", Descending()).
			Range(0, 49)
		if _, err := q.Preview(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAllDecode(b *testing.B) {
	type row struct {
		ID       int      `json:"id"`
		Title    string   `json:"title"`
		Done     bool     `json:"done"`
		Priority float64  `json:"priority"`
		Tags     []string `json:"tags"`
	}
	var body bytes.Buffer
	body.WriteByte('[')
	for i := range 100 {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"id":%d,"title":"Todo number %d","done":%t,"priority":%d.5,"tags":["a","b"]}`, i, i, i%2 == 0, i%5)
	}
	body.WriteByte(']')
	payload := body.Bytes()
	hc := &http.Client{Transport: pgBenchTransport(func(r *http.Request) (*http.Response, error) {
		return &http.Response{
			StatusCode: 200,
			Header:     http.Header{"Content-Type": {"application/json"}},
			Body:       io.NopCloser(bytes.NewReader(payload)),
			Request:    r,
		}, nil
	})}
	c, err := NewClient("https://example.supabase.co", "key", WithHTTPClient(hc))
	if err != nil {
		b.Fatal(err)
	}
	q := c.From("todos").Select("id,title,done,priority,tags").Limit(100)
	ctx := context.Background()
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		rows, err := All[row](ctx, q)
		if err != nil || len(rows) != 100 {
			b.Fatal(err, len(rows))
		}
	}
}

// BenchmarkOneOfMany: One over a large array stops at the second row, so its
// cost does not grow with the body.
func BenchmarkOneOfMany(b *testing.B) {
	for _, rows := range []int{2, 10000} {
		b.Run(fmt.Sprint(rows), func(b *testing.B) {
			var body bytes.Buffer
			body.WriteByte('[')
			for i := range rows {
				if i > 0 {
					body.WriteByte(',')
				}
				fmt.Fprintf(&body, `{"id":%d,"title":"Todo number %d"}`, i, i)
			}
			body.WriteByte(']')
			payload := body.Bytes()
			hc := &http.Client{Transport: pgBenchTransport(func(r *http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(payload)), Request: r}, nil
			})}
			c, err := NewClient("https://example.supabase.co", "key", WithHTTPClient(hc))
			if err != nil {
				b.Fatal(err)
			}
			type row struct {
				ID    int    `json:"id"`
				Title string `json:"title"`
			}
			q := c.From("todos").Select("id,title")
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := One[row](ctx, q); !errors.Is(err, ErrTooManyRows) {
					b.Fatal(err)
				}
			}
		})
	}
}

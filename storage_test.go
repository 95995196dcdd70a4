package supabase

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// baseHeaders are the headers of every request sent with the key.
func baseHeaders(extra map[string]string) map[string]string {
	h := map[string]string{"Apikey": coreTestKey, "Authorization": "Bearer " + coreTestKey, "X-Client-Info": clientInfo}
	for k, v := range extra {
		if v == "" {
			delete(h, k)
			continue
		}
		h[k] = v
	}
	return h
}

const jsonCT = "application/json"

// Every Storage call sends exactly the request storage-js sends (or the
// documented divergence): method, escaped path, query, headers and body.
func TestStorageRequests(t *testing.T) {
	ctx := context.Background()
	type call func(c *Client) (any, error)
	tests := []struct {
		name   string
		call   call
		answer string // JSON body of the 200 answer
		method string
		uri    string
		header map[string]string // besides apikey, bearer and client info
		body   string            // exact bytes; "" no body
		want   any               // the call's result
	}{
		{name: "list buckets",
			call:   func(c *Client) (any, error) { return c.Storage.ListBuckets(ctx, nil) },
			answer: `[{"id":"a","name":"a","owner":"","public":true,"file_size_limit":1024,"allowed_mime_types":["image/png"],"created_at":"2025-11-20T08:15:00.000Z","updated_at":"2025-11-20T08:15:00.000Z"}]`,
			method: "GET", uri: "/storage/v1/bucket",
			want: []Bucket{{ID: "a", Name: "a", Public: true, FileSizeLimit: ptr(int64(1024)), AllowedMIMETypes: []string{"image/png"},
				CreatedAt: time.Date(2025, 11, 20, 8, 15, 0, 0, time.UTC), UpdatedAt: time.Date(2025, 11, 20, 8, 15, 0, 0, time.UTC)}}},
		{name: "list buckets with options",
			call: func(c *Client) (any, error) {
				return c.Storage.ListBuckets(ctx, &ListBucketsOptions{Limit: 10, Offset: 20, Search: "a v", SortColumn: "created_at", SortOrder: "desc"})
			},
			answer: `[]`, method: "GET", uri: "/storage/v1/bucket?limit=10&offset=20&search=a+v&sortColumn=created_at&sortOrder=desc",
			want: []Bucket{}},
		{name: "get bucket",
			call:   func(c *Client) (any, error) { return c.Storage.GetBucket(ctx, "my bucket") },
			answer: `{"id":"my bucket","name":"my bucket","public":false,"file_size_limit":null,"allowed_mime_types":null}`,
			method: "GET", uri: "/storage/v1/bucket/my%20bucket",
			want: &Bucket{ID: "my bucket", Name: "my bucket"}},
		{name: "create bucket defaults",
			call:   func(c *Client) (any, error) { return nil, c.Storage.CreateBucket(ctx, "avatars", nil) },
			answer: `{"name":"avatars"}`, method: "POST", uri: "/storage/v1/bucket",
			header: map[string]string{"Content-Type": jsonCT}, body: `{"id":"avatars","name":"avatars","public":false}`},
		{name: "create bucket options",
			call: func(c *Client) (any, error) {
				return nil, c.Storage.CreateBucket(ctx, "img", &BucketOptions{Public: true, FileSizeLimit: "5MB",
					AllowedMIMETypes: []string{"image/png", "image/*"}, Type: "STANDARD"})
			},
			answer: `{"name":"img"}`, method: "POST", uri: "/storage/v1/bucket", header: map[string]string{"Content-Type": jsonCT},
			body: `{"allowed_mime_types":["image/png","image/*"],"file_size_limit":"5MB","id":"img","name":"img","public":true,"type":"STANDARD"}`},
		{name: "update bucket numeric limit, empty MIME list",
			call: func(c *Client) (any, error) {
				return nil, c.Storage.UpdateBucket(ctx, "docs", &BucketOptions{FileSizeLimit: "10485760", AllowedMIMETypes: []string{}})
			},
			answer: `{"message":"Successfully updated"}`, method: "PUT", uri: "/storage/v1/bucket/docs", header: map[string]string{"Content-Type": jsonCT},
			body: `{"allowed_mime_types":[],"file_size_limit":10485760,"id":"docs","name":"docs","public":false}`},
		{name: "empty bucket",
			call:   func(c *Client) (any, error) { return nil, c.Storage.EmptyBucket(ctx, "tmp") },
			answer: `{"message":"Successfully emptied"}`, method: "POST", uri: "/storage/v1/bucket/tmp/empty",
			header: map[string]string{"Content-Type": jsonCT}, body: `{}`},
		{name: "delete bucket",
			call:   func(c *Client) (any, error) { return nil, c.Storage.DeleteBucket(ctx, "tmp") },
			answer: `{"message":"Successfully deleted"}`, method: "DELETE", uri: "/storage/v1/bucket/tmp",
			header: map[string]string{"Content-Type": jsonCT}, body: `{}`},
		{name: "upload defaults",
			call: func(c *Client) (any, error) {
				return c.Storage.From("notes").Upload(ctx, "todo.txt", strings.NewReader("Buy milk"), nil)
			},
			answer: `{"Id":"id-1","Key":"notes/todo.txt"}`, method: "POST", uri: "/storage/v1/object/notes/todo.txt",
			header: map[string]string{"Content-Type": "application/octet-stream", "Cache-Control": "max-age=3600", "X-Upsert": "false"},
			body:   "Buy milk", want: &UploadResult{ID: "id-1", Path: "todo.txt", FullPath: "notes/todo.txt"}},
		{name: "upload with every option",
			call: func(c *Client) (any, error) {
				return c.Storage.From("docs").Upload(ctx, "//a//b/c.txt/", strings.NewReader("x"), &UploadOptions{
					ContentType: "text/plain", CacheMaxAge: time.Minute, Upsert: true,
					Metadata: map[string]any{"owner": "ada", "n": 1},
					Headers:  map[string]string{"cache-control": "no-store", "X-Trace": "t1"}})
			},
			answer: `{"Id":"id-2","Key":"docs/a/b/c.txt"}`, method: "POST", uri: "/storage/v1/object/docs/a/b/c.txt",
			header: map[string]string{"Content-Type": "text/plain", "Cache-Control": "no-store", "X-Upsert": "true", "X-Trace": "t1",
				"X-Metadata": "eyJuIjoxLCJvd25lciI6ImFkYSJ9"}, // {"n":1,"owner":"ada"}
			body: "x", want: &UploadResult{ID: "id-2", Path: "a/b/c.txt", FullPath: "docs/a/b/c.txt"}},
		{name: "update",
			call: func(c *Client) (any, error) {
				return c.Storage.From("notes").Update(ctx, "todo.txt", bytes.NewReader([]byte("# Todo")), &UploadOptions{ContentType: "text/markdown", Upsert: true})
			},
			answer: `{"Id":"id-1","Key":"notes/todo.txt"}`, method: "PUT", uri: "/storage/v1/object/notes/todo.txt",
			header: map[string]string{"Content-Type": "text/markdown", "Cache-Control": "max-age=3600"},
			body:   "# Todo", want: &UploadResult{ID: "id-1", Path: "todo.txt", FullPath: "notes/todo.txt"}},
		{name: "list defaults",
			call:   func(c *Client) (any, error) { return c.Storage.From("avatars").List(ctx, "", nil) },
			answer: `[{"name":"users","id":null,"updated_at":null,"metadata":null}]`, method: "POST", uri: "/storage/v1/object/list/avatars",
			header: map[string]string{"Content-Type": jsonCT},
			body:   `{"limit":100,"offset":0,"prefix":"","sortBy":{"column":"name","order":"asc"}}`,
			want:   []FileObject{{Name: "users"}}},
		{name: "list with options and a partial sort",
			call: func(c *Client) (any, error) {
				return c.Storage.From("docs").List(ctx, "contracts/2026", &ListOptions{Limit: 10, Offset: 5, SortBy: SortBy{Order: "desc"}, Search: "acme"})
			},
			answer: `[]`, method: "POST", uri: "/storage/v1/object/list/docs", header: map[string]string{"Content-Type": jsonCT},
			body: `{"limit":10,"offset":5,"prefix":"contracts/2026","search":"acme","sortBy":{"column":"name","order":"desc"}}`,
			want: []FileObject{}},
		{name: "move",
			call:   func(c *Client) (any, error) { return nil, c.Storage.From("notes").Move(ctx, "a.txt", "b/a.txt", nil) },
			answer: `{"message":"Successfully moved"}`, method: "POST", uri: "/storage/v1/object/move", header: map[string]string{"Content-Type": jsonCT},
			body: `{"bucketId":"notes","destinationKey":"b/a.txt","sourceKey":"a.txt"}`},
		{name: "copy to another bucket",
			call: func(c *Client) (any, error) {
				return c.Storage.From("docs").Copy(ctx, "a.txt", "a copy.txt", &DestinationOptions{DestinationBucket: "archive"})
			},
			answer: `{"Id":"x","Key":"archive/a copy.txt"}`, method: "POST", uri: "/storage/v1/object/copy", header: map[string]string{"Content-Type": jsonCT},
			body: `{"bucketId":"docs","destinationBucket":"archive","destinationKey":"a copy.txt","sourceKey":"a.txt"}`,
			want: "archive/a copy.txt"},
		{name: "remove several",
			call:   func(c *Client) (any, error) { return c.Storage.From("avatars").Remove(ctx, "a.png", "tmp/ü.txt") },
			answer: `[{"name":"a.png","bucket_id":"avatars","id":"1"}]`, method: "DELETE", uri: "/storage/v1/object/avatars",
			header: map[string]string{"Content-Type": jsonCT}, body: `{"prefixes":["a.png","tmp/ü.txt"]}`,
			want: []FileObject{{Name: "a.png", BucketID: "avatars", ID: "1"}}},
		{name: "info",
			call:   func(c *Client) (any, error) { return c.Storage.From("docs").Info(ctx, "/a/b.txt") },
			answer: `{"id":"1","name":"a/b.txt","bucket_id":"docs","size":42,"content_type":"text/plain","etag":"\"e\"","metadata":{"k":"v"},"created_at":"2025-12-31T23:40:00.000Z"}`,
			method: "GET", uri: "/storage/v1/object/info/docs/a/b.txt",
			want: &FileInfo{ID: "1", Name: "a/b.txt", BucketID: "docs", Size: 42, ContentType: "text/plain", ETag: `"e"`,
				Metadata: map[string]any{"k": "v"}, CreatedAt: time.Date(2025, 12, 31, 23, 40, 0, 0, time.UTC)}},
		{name: "exists",
			call:   func(c *Client) (any, error) { return c.Storage.From("docs").Exists(ctx, "a.txt") },
			answer: `{"id":"1","name":"a.txt"}`, method: "GET", uri: "/storage/v1/object/info/docs/a.txt", want: true},
		{name: "signed URL",
			call: func(c *Client) (any, error) {
				return c.Storage.From("docs").CreateSignedURL(ctx, "r/q 1.pdf", 90*time.Second, nil)
			},
			answer: `{"signedURL":"/object/sign/docs/r/q 1.pdf?token=tok"}`, method: "POST", uri: "/storage/v1/object/sign/docs/r/q%201.pdf",
			header: map[string]string{"Content-Type": jsonCT}, body: `{"expiresIn":90}`,
			want: "{base}/storage/v1/object/sign/docs/r/q%201.pdf?token=tok"},
		{name: "signed URL, download as, transform",
			call: func(c *Client) (any, error) {
				return c.Storage.From("img").CreateSignedURL(ctx, "a.png", 10*time.Minute, &URLOptions{DownloadAs: "Ada avatar.png",
					Transform: &TransformOptions{Width: 64, Height: 64, Resize: ResizeContain}})
			},
			answer: `{"signedURL":"/render/image/sign/img/a.png?token=tok"}`, method: "POST", uri: "/storage/v1/object/sign/img/a.png",
			header: map[string]string{"Content-Type": jsonCT}, body: `{"expiresIn":600,"transform":{"height":64,"resize":"contain","width":64}}`,
			want: "{base}/storage/v1/render/image/sign/img/a.png?token=tok&download=Ada+avatar.png"},
		{name: "signed URL of a name with ? and #",
			call: func(c *Client) (any, error) {
				return c.Storage.From("docs").CreateSignedURL(ctx, "Q1?draft#2", time.Hour, &URLOptions{Download: true})
			},
			answer: `{"signedURL":"/object/sign/docs/Q1?draft#2?token=tok"}`, method: "POST", uri: "/storage/v1/object/sign/docs/Q1%3Fdraft%232",
			header: map[string]string{"Content-Type": jsonCT}, body: `{"expiresIn":3600}`,
			want: "{base}/storage/v1/object/sign/docs/Q1%3Fdraft%232?token=tok&download="},
		{name: "signed URLs",
			call: func(c *Client) (any, error) {
				return c.Storage.From("docs").CreateSignedURLs(ctx, []string{"a b.pdf", "gone.pdf"}, 5*time.Minute, &URLOptions{Download: true})
			},
			answer: `[{"error":null,"path":"a b.pdf","signedURL":"/object/sign/docs/a b.pdf?token=t1"},{"error":"not found","path":"gone.pdf","signedURL":null}]`,
			method: "POST", uri: "/storage/v1/object/sign/docs", header: map[string]string{"Content-Type": jsonCT},
			body: `{"expiresIn":300,"paths":["a b.pdf","gone.pdf"]}`,
			want: []SignedURL{{Path: "a b.pdf", URL: "{base}/storage/v1/object/sign/docs/a%20b.pdf?token=t1&download="},
				{Path: "gone.pdf", Error: "not found"}}},
		{name: "signed upload URL with upsert",
			call: func(c *Client) (any, error) {
				return c.Storage.From("avatars").CreateSignedUploadURL(ctx, "up/new a.png", &SignedUploadOptions{Upsert: true})
			},
			answer: `{"url":"/object/upload/sign/avatars/up/new a.png?token=t.o.k"}`, method: "POST", uri: "/storage/v1/object/upload/sign/avatars/up/new%20a.png",
			header: map[string]string{"Content-Type": jsonCT, "X-Upsert": "true"}, body: `{}`,
			want: &SignedUploadURL{URL: "{base}/storage/v1/object/upload/sign/avatars/up/new%20a.png?token=t.o.k", Path: "up/new a.png", Token: "t.o.k"}},
		{name: "upload to signed URL",
			call: func(c *Client) (any, error) {
				return c.Storage.From("avatars").UploadToSignedURL(ctx, "up/r.txt", "t.o.k", strings.NewReader("q"), &UploadOptions{ContentType: "text/plain"})
			},
			answer: `{"Key":"avatars/up/r.txt"}`, method: "PUT", uri: "/storage/v1/object/upload/sign/avatars/up/r.txt?token=t.o.k",
			header: map[string]string{"Content-Type": "text/plain", "Cache-Control": "max-age=3600", "X-Upsert": "false"},
			body:   "q", want: &UploadResult{Path: "up/r.txt", FullPath: "avatars/up/r.txt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, tt.answer)
			})
			got, err := tt.call(c)
			require.NoError(t, err)
			reqs := srv.requests()
			require.Len(t, reqs, 1)
			r := reqs[0]
			assert.Equal(t, tt.method, r.Method)
			assert.Equal(t, tt.uri, r.URI)
			assert.Equal(t, baseHeaders(tt.header), r.Headers())
			assert.Equal(t, tt.body, string(r.Body))
			if tt.want != nil {
				want := tt.want
				switch w := want.(type) {
				case string:
					want = strings.ReplaceAll(w, "{base}", srv.ProjectURL)
				case []SignedURL:
					for i := range w {
						w[i].URL = strings.ReplaceAll(w[i].URL, "{base}", srv.ProjectURL)
					}
				case *SignedUploadURL:
					w.URL = strings.ReplaceAll(w.URL, "{base}", srv.ProjectURL)
				}
				assert.Equal(t, want, got)
			}
		})
	}
}

// Download and DownloadBytes: GET the object (or the transformed image),
// stream the body, report the content type and size.
func TestStorageDownload(t *testing.T) {
	ctx := context.Background()
	srv, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = io.WriteString(w, "PNG-BYTES")
	})
	b := c.Storage.From("avatars")
	rd, err := b.Download(ctx, "users/6a1d/avatar.png", &DownloadOptions{Transform: &TransformOptions{
		Width: 200, Height: 100, Resize: ResizeCover, Quality: 75, Format: "origin"}})
	require.NoError(t, err)
	data, err := io.ReadAll(rd)
	require.NoError(t, err)
	require.NoError(t, rd.Close())
	assert.Equal(t, "PNG-BYTES", string(data))
	assert.Equal(t, "image/png", rd.ContentType)
	assert.Equal(t, int64(9), rd.Size)

	data, err = b.DownloadBytes(ctx, "/a b/ü.png", nil)
	require.NoError(t, err)
	assert.Equal(t, "PNG-BYTES", string(data))

	_, err = b.DownloadBytes(ctx, "big.png", &DownloadOptions{MaxBytes: 4})
	assert.ErrorIs(t, err, ErrTooLarge)

	reqs := srv.requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, "/storage/v1/render/image/authenticated/avatars/users/6a1d/avatar.png?width=200&height=100&resize=cover&format=origin&quality=75", reqs[0].URI)
	assert.Equal(t, "/storage/v1/object/avatars/a%20b/%C3%BC.png", reqs[1].URI)
	assert.Equal(t, "/storage/v1/object/avatars/a b/ü.png", reqs[1].Path)
	for _, r := range reqs {
		assert.Equal(t, "GET", r.Method)
		assert.Equal(t, baseHeaders(nil), r.Headers())
		assert.Empty(t, r.Body)
	}
}

// DownloadBytes stops at MaxBytes also when Storage sends no
// Content-Length.
func TestStorageDownloadBytesBoundWithoutLength(t *testing.T) {
	_, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		for range 8 {
			_, _ = w.Write(bytes.Repeat([]byte("x"), 1024))
			w.(http.Flusher).Flush() // chunked: no Content-Length
		}
	})
	_, err := c.Storage.From("b").DownloadBytes(context.Background(), "f", &DownloadOptions{MaxBytes: 4096})
	assert.ErrorIs(t, err, ErrTooLarge)
	data, err := c.Storage.From("b").DownloadBytes(context.Background(), "f", &DownloadOptions{MaxBytes: 8192})
	require.NoError(t, err)
	assert.Len(t, data, 8192)
}

// Object paths reach Storage as the same name, whatever they contain; the
// raw URL escapes everything outside encodeURIComponent's safe set.
func TestStoragePathEscaping(t *testing.T) {
	tests := []struct{ path, raw, decoded string }{
		{"a b/c.txt", "a%20b/c.txt", "a b/c.txt"},
		{"2026/Grüße/naïve résumé ☕.pdf", "2026/Gr%C3%BC%C3%9Fe/na%C3%AFve%20r%C3%A9sum%C3%A9%20%E2%98%95.pdf", "2026/Grüße/naïve résumé ☕.pdf"},
		{"reports/Q1?draft=true#page=2", "reports/Q1%3Fdraft%3Dtrue%23page%3D2", "reports/Q1?draft=true#page=2"},
		{"a+b & c=d (1) [x] @$!,;'*~.txt", "a%2Bb%20%26%20c%3Dd%20(1)%20%5Bx%5D%20%40%24!%2C%3B'*~.txt", "a+b & c=d (1) [x] @$!,;'*~.txt"},
		{`quotes/"q" {b} <a> ` + "`t`" + ` ^|%41.txt`, "quotes/%22q%22%20%7Bb%7D%20%3Ca%3E%20%60t%60%20%5E%7C%2541.txt", `quotes/"q" {b} <a> ` + "`t`" + ` ^|%41.txt`},
		{"///lead/ing.txt", "lead/ing.txt", "lead/ing.txt"},
		{"a//b/", "a//b/", "a//b/"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			srv, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "x") })
			rd, err := c.Storage.From("my bucket").Download(context.Background(), tt.path, nil)
			require.NoError(t, err)
			rd.Close()
			r := srv.requests()[0]
			assert.Equal(t, "/storage/v1/object/my%20bucket/"+tt.raw, r.URI)
			assert.Equal(t, "/storage/v1/object/my bucket/"+tt.decoded, r.Path)
			u, err := c.Storage.From("my bucket").PublicURL(tt.path, nil)
			require.NoError(t, err)
			assert.Equal(t, srv.ProjectURL+"/storage/v1/object/public/my%20bucket/"+tt.raw, u)
		})
	}
}

// PublicURL builds the URL without a request: download first, then the
// transformation, as storage-js.
func TestStoragePublicURL(t *testing.T) {
	c, err := NewClient("https://abc.supabase.co", coreTestKey)
	require.NoError(t, err)
	b := c.Storage.From("avatars")
	u, err := b.PublicURL("users/a one.png", &URLOptions{DownloadAs: "avatar.png",
		Transform: &TransformOptions{Width: 128, Height: 128, Resize: ResizeFill, Quality: 60}})
	require.NoError(t, err)
	assert.Equal(t, "https://abc.supabase.co/storage/v1/render/image/public/avatars/users/a%20one.png?download=avatar.png&width=128&height=128&resize=fill&quality=60", u)
	u, err = b.PublicURL("x.png", &URLOptions{Download: true})
	require.NoError(t, err)
	assert.Equal(t, "https://abc.supabase.co/storage/v1/object/public/avatars/x.png?download=", u)
}

// Bad input is refused before any I/O with ErrInvalidArgument.
func TestStorageBadInput(t *testing.T) {
	ctx := context.Background()
	srv, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) { t.Errorf("unexpected request %s", r.URL) })
	b := c.Storage.From("docs")
	body := strings.NewReader("x")
	e := func(_ any, err error) error { return err }
	tests := map[string]func() error{
		"empty bucket":        func() error { return e(c.Storage.From("").List(ctx, "", nil)) },
		"bucket with slash":   func() error { return e(c.Storage.GetBucket(ctx, "a/b")) },
		"bucket ..":           func() error { return c.Storage.DeleteBucket(ctx, "..") },
		"bucket control char": func() error { return c.Storage.EmptyBucket(ctx, "a\nb") },
		"empty path":          func() error { return e(b.Upload(ctx, "", body, nil)) },
		"only slashes":        func() error { return e(b.Upload(ctx, "//", body, nil)) },
		"dot-dot segment":     func() error { return e(b.Download(ctx, "a/../b", nil)) },
		"dot segment":         func() error { return e(b.Info(ctx, "./a")) },
		"control char":        func() error { return e(b.Exists(ctx, "a\x00b")) },
		"DEL":                 func() error { return e(b.PublicURL("a\x7f", nil)) },
		"invalid UTF-8":       func() error { return e(b.Upload(ctx, "a\xffb", body, nil)) },
		"nil reader":          func() error { return e(b.Upload(ctx, "a.txt", nil, nil)) },
		"typed nil reader":    func() error { return e(b.Upload(ctx, "a.txt", (*bytes.Reader)(nil), nil)) },
		"nil reader update":   func() error { return e(b.Update(ctx, "a.txt", nil, nil)) },
		"nil reader signed":   func() error { return e(b.UploadToSignedURL(ctx, "a.txt", "tok", nil, nil)) },
		"negative expiry":     func() error { return e(b.CreateSignedURL(ctx, "a", -time.Second, nil)) },
		"zero expiry":         func() error { return e(b.CreateSignedURLs(ctx, []string{"a"}, 0, nil)) },
		"no paths to sign":    func() error { return e(b.CreateSignedURLs(ctx, nil, time.Minute, nil)) },
		"transform on several": func() error {
			return e(b.CreateSignedURLs(ctx, []string{"a"}, time.Minute, &URLOptions{Transform: &TransformOptions{Width: 1}}))
		},
		"bad resize": func() error { return e(b.PublicURL("a", &URLOptions{Transform: &TransformOptions{Resize: "squash"}})) },
		"negative width": func() error {
			return e(b.Download(ctx, "a", &DownloadOptions{Transform: &TransformOptions{Width: -1}}))
		},
		"no paths to remove":     func() error { return e(b.Remove(ctx)) },
		"remove ..":              func() error { return e(b.Remove(ctx, "ok", "..")) },
		"move to empty":          func() error { return b.Move(ctx, "a", "", nil) },
		"copy to bad bucket":     func() error { return e(b.Copy(ctx, "a", "b", &DestinationOptions{DestinationBucket: "x/y"})) },
		"negative cache max-age": func() error { return e(b.Upload(ctx, "a", body, &UploadOptions{CacheMaxAge: -1})) },
		"metadata not an object": func() error { return e(b.Upload(ctx, "a", body, &UploadOptions{Metadata: []int{1}})) },
		"metadata unencodable": func() error {
			return e(b.Upload(ctx, "a", body, &UploadOptions{Metadata: map[string]any{"f": func() {}}}))
		},
		"header name": func() error {
			return e(b.Upload(ctx, "a", body, &UploadOptions{Headers: map[string]string{"a b": "1"}}))
		},
		"header value": func() error {
			return e(b.Upload(ctx, "a", body, &UploadOptions{Headers: map[string]string{"X": "1\r\n2"}}))
		},
		"content type":          func() error { return e(b.Upload(ctx, "a", body, &UploadOptions{ContentType: "a\nb"})) },
		"empty signed token":    func() error { return e(b.UploadToSignedURL(ctx, "a", "", body, nil)) },
		"negative list limit":   func() error { return e(b.List(ctx, "", &ListOptions{Limit: -1})) },
		"list prefix ..":        func() error { return e(b.List(ctx, "../x", nil)) },
		"negative bucket limit": func() error { return e(c.Storage.ListBuckets(ctx, &ListBucketsOptions{Offset: -1})) },
		"negative size limit":   func() error { return c.Storage.CreateBucket(ctx, "a", &BucketOptions{FileSizeLimit: "-5"}) },
		"type on update":        func() error { return c.Storage.UpdateBucket(ctx, "a", &BucketOptions{Type: "ANALYTICS"}) },
		"blank MIME type":       func() error { return c.Storage.CreateBucket(ctx, "a", &BucketOptions{AllowedMIMETypes: []string{" "}}) },
		"negative MaxBytes":     func() error { return e(b.DownloadBytes(ctx, "a", &DownloadOptions{MaxBytes: -1})) },
	}
	for name, f := range tests {
		t.Run(name, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { err = f() })
			assert.ErrorIs(t, err, ErrInvalidArgument)
		})
	}
	assert.Empty(t, srv.requests())
}

// Storage's error shapes become *Error with Service "storage" and the
// sentinels of their category.
// A 2xx answer cut short never puts its JSON, which may hold a signed URL's
// token, into the error.
func TestStorageTruncatedAnswerNotQuoted(t *testing.T) {
	_, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"signedURL":"/object/sign/b/p?token=SECRET-TOKEN-123"`)
	})
	_, err := c.Storage.From("b").CreateSignedURL(context.Background(), "p", time.Minute, nil)
	require.ErrorIs(t, err, ErrInvalidResponse)
	assert.NotContains(t, err.Error(), "SECRET-TOKEN-123")
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Empty(t, e.Details)

	_, c = newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{}`)
	})
	_, err = c.Storage.From("b").CreateSignedURL(context.Background(), "p", time.Minute, nil)
	assert.ErrorIs(t, err, ErrInvalidResponse, "no signedURL")
	_, err = c.Storage.From("b").CreateSignedUploadURL(context.Background(), "p", nil)
	assert.ErrorIs(t, err, ErrInvalidResponse, "no token")
}

func TestStorageErrors(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		ctype      string
		body       string
		statusCode string
		code       string
		message    string
		is         []error
		isNot      []error
	}{
		{name: "RLS refusal", status: 400,
			body:       `{"statusCode":"403","error":"Unauthorized","message":"new row violates row-level security policy"}`,
			statusCode: "403", message: "new row violates row-level security policy",
			is: []error{ErrPermissionDenied}, isNot: []error{ErrNotFound, ErrUnauthorized, ErrConflict}},
		{name: "not found", status: 404, body: `{"statusCode":"404","error":"not_found","message":"Object not found"}`,
			statusCode: "404", message: "Object not found", is: []error{ErrNotFound}, isNot: []error{ErrPermissionDenied}},
		{name: "not found as 400", status: 400, body: `{"statusCode":"404","code":"NoSuchKey","error":"not_found","message":"Object not found"}`,
			statusCode: "404", code: "NoSuchKey", message: "Object not found", is: []error{ErrNotFound}},
		{name: "bucket not found code only", status: 400, body: `{"code":"NoSuchBucket","message":"Bucket not found"}`,
			statusCode: "NoSuchBucket", code: "NoSuchBucket", message: "Bucket not found", is: []error{ErrNotFound}},
		{name: "duplicate", status: 409, body: `{"statusCode":"409","error":"Duplicate","message":"The resource already exists"}`,
			statusCode: "409", message: "The resource already exists", is: []error{ErrConflict}, isNot: []error{ErrTooLarge}},
		{name: "duplicate as 400", status: 400, body: `{"statusCode":"409","code":"KeyAlreadyExists","error":"Duplicate","message":"The resource already exists"}`,
			statusCode: "409", code: "KeyAlreadyExists", message: "The resource already exists", is: []error{ErrConflict}},
		{name: "too large", status: 413, body: `{"statusCode":"413","error":"Payload too large","message":"The object exceeded the maximum allowed size"}`,
			statusCode: "413", message: "The object exceeded the maximum allowed size", is: []error{ErrTooLarge}, isNot: []error{ErrConflict}},
		{name: "too large without body", status: 413, ctype: "text/plain", body: ``,
			statusCode: "413", message: "Request Entity Too Large", is: []error{ErrTooLarge}},
		{name: "expired JWT", status: 400, body: `{"statusCode":"403","error":"Unauthorized","message":"\"exp\" claim timestamp check failed"}`,
			statusCode: "403", message: `"exp" claim timestamp check failed`, is: []error{ErrJWTExpired, ErrPermissionDenied}},
		{name: "invalid JWT code", status: 400, body: `{"statusCode":"400","code":"InvalidJWT","error":"InvalidJWT","message":"jwt malformed"}`,
			statusCode: "400", code: "InvalidJWT", message: "jwt malformed", is: []error{ErrJWTExpired}, isNot: []error{ErrPermissionDenied}},
		{name: "slow down", status: 429, body: `{"statusCode":"429","code":"SlowDown","message":"Too many connections issued to the database"}`,
			statusCode: "429", code: "SlowDown", message: "Too many connections issued to the database", is: []error{ErrRateLimited}},
		{name: "HTML gateway page", status: 502, ctype: "text/html",
			body:       "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>",
			statusCode: "502", message: "Bad Gateway", isNot: []error{ErrNotFound, ErrPermissionDenied}},
		{name: "plain text 500", status: 500, ctype: "text/plain", body: "upstream timeout",
			statusCode: "500", message: "Internal Server Error"},
		{name: "nested error message", status: 400, body: `{"error":{"message":"bad thing"}}`,
			statusCode: "400", message: "bad thing"},
		{name: "non-JSON 2xx", status: 200, ctype: "text/plain", body: "OK"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
				ct := tt.ctype
				if ct == "" {
					ct = "application/json"
				}
				w.Header().Set("Content-Type", ct)
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}, WithRetryPolicy(RetryPolicy{MaxRetries: 0}))
			_, err := c.Storage.From("docs").List(context.Background(), "x", nil)
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, ServiceStorage, e.Service)
			assert.Equal(t, tt.status, e.Status)
			assert.Equal(t, "POST", e.Method)
			assert.True(t, strings.HasSuffix(e.URL, "/storage/v1/object/list/docs"), e.URL)
			if tt.status == 200 {
				assert.Contains(t, e.Message, "invalid JSON")
				assert.Equal(t, "OK", e.Details)
				assert.ErrorIs(t, err, ErrInvalidResponse)
				return
			}
			assert.Equal(t, tt.statusCode, e.StatusCode)
			assert.Equal(t, tt.code, e.Code)
			assert.Equal(t, tt.message, e.Message)
			for _, s := range tt.is {
				assert.ErrorIs(t, err, s)
			}
			for _, s := range tt.isNot {
				assert.NotErrorIs(t, err, s)
			}
		})
	}
}

func TestStorageErrorString(t *testing.T) {
	e := decodeStorageError(400, []byte(`{"statusCode":"403","error":"Unauthorized","message":"new row violates row-level security policy"}`))
	e.Method, e.URL = "POST", "https://x.supabase.co/storage/v1/object/a/b.png"
	assert.Equal(t, "supabase storage: POST https://x.supabase.co/storage/v1/object/a/b.png: 400 (statusCode 403): "+
		"new row violates row-level security policy (Unauthorized)", e.Error())
}

// Exists answers false for a missing object and fails on anything else.
func TestStorageExists(t *testing.T) {
	status, body := 404, `{"statusCode":"404","error":"not_found","message":"Object not found"}`
	_, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	})
	ok, err := c.Storage.From("docs").Exists(context.Background(), "gone.pdf")
	require.NoError(t, err)
	assert.False(t, ok)
	status, body = 400, `{"statusCode":"403","error":"Unauthorized","message":"\"exp\" claim timestamp check failed"}`
	ok, err = c.Storage.From("docs").Exists(context.Background(), "q1.pdf")
	assert.ErrorIs(t, err, ErrJWTExpired)
	assert.False(t, ok)
}

// Storage requests carry the signed-in user's token, the key when nobody
// is signed in, the WithAccessToken token for derived clients, and never
// the key on a per-user client.
func TestStorageBearer(t *testing.T) {
	ctx := context.Background()
	srv, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, `[]`) })
	srv.answerSessions("u1", 4102444800, "r1")
	_, err := c.Storage.From("b").List(ctx, "", nil)
	require.NoError(t, err)
	s, err := c.Auth.SignInWithPassword(ctx, "a@b.c", "pw")
	require.NoError(t, err)
	_, err = c.Storage.From("b").List(ctx, "", nil)
	require.NoError(t, err)
	_, err = c.WithAccessToken("other-user-jwt").Storage.From("b").List(ctx, "", nil)
	require.NoError(t, err)
	n := len(srv.requests())
	_, err = c.WithAccessToken("").Storage.From("b").List(ctx, "", nil)
	assert.ErrorIs(t, err, ErrInvalidArgument)
	_, err = c.WithAccessToken("").Functions.Invoke(ctx, "f", nil)
	assert.ErrorIs(t, err, ErrInvalidArgument)
	assert.Len(t, srv.requests(), n, "a per-user client without a token sends nothing")

	reqs := srv.requests()
	require.Len(t, reqs, 4)
	assert.Equal(t, "Bearer "+coreTestKey, reqs[0].Headers()["Authorization"])
	assert.Equal(t, "Bearer "+s.AccessToken, reqs[2].Headers()["Authorization"])
	assert.Equal(t, "Bearer other-user-jwt", reqs[3].Headers()["Authorization"])
	for _, r := range reqs {
		assert.Equal(t, coreTestKey, r.Headers()["Apikey"])
	}
}

// A nil or zero client, or handles made from one, fail without panicking.
func TestStorageAndFunctionsZeroValues(t *testing.T) {
	ctx := context.Background()
	var nilClient *Client
	zero := &Client{}
	require.NotPanics(t, func() {
		for _, st := range []*StorageClient{nil, zero.Storage, nilClient.WithAccessToken("t").Storage, zero.Schema("x").Storage} {
			_, err := st.ListBuckets(ctx, nil)
			assert.ErrorIs(t, err, ErrInvalidArgument)
			_, err = st.From("b").Upload(ctx, "a", strings.NewReader("x"), nil)
			assert.ErrorIs(t, err, ErrInvalidArgument)
			_, err = st.From("b").PublicURL("a", nil)
			assert.ErrorIs(t, err, ErrInvalidArgument)
			assert.NotEmpty(t, st.String())
			assert.NotEmpty(t, st.From("b").String())
		}
		var f *FunctionsClient
		_, err := f.Invoke(ctx, "x", nil)
		assert.ErrorIs(t, err, ErrInvalidArgument)
		_, err = InvokeJSON[map[string]any](ctx, zero.Functions, "x", nil)
		assert.ErrorIs(t, err, ErrInvalidArgument)
		var b *BucketHandle
		_, err = b.Info(ctx, "a")
		assert.ErrorIs(t, err, ErrInvalidArgument)
		assert.Equal(t, "", b.Bucket())
		var r *ObjectReader
		n, err := r.Read(make([]byte, 1))
		assert.Equal(t, 0, n)
		assert.Equal(t, io.EOF, err)
		assert.NoError(t, r.Close())
	})
}

// Nothing printed about the clients, handles or signed upload URLs holds
// the key or a token.
func TestStorageAndFunctionsPrintNoSecrets(t *testing.T) {
	const key = "SECRET-KEY-1234"
	c, err := NewClient("https://abc.supabase.co", key)
	require.NoError(t, err)
	u := c.WithAccessToken("SECRET-USER-JWT")
	su := SignedUploadURL{URL: "https://abc.supabase.co/storage/v1/object/upload/sign/b/a.png?token=SECRET-TOKEN", Path: "a.png", Token: "SECRET-TOKEN"}
	for _, v := range []any{c.Storage, u.Storage, c.Functions, u.Functions, u.Storage.From("b"), su, &su} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			out := fmt.Sprintf(verb, v)
			assert.NotContains(t, out, "SECRET", "%s of %T: %s", verb, v, out)
		}
	}
	assert.Equal(t, "supabase.StorageClient{url: https://abc.supabase.co/storage/v1}", c.Storage.String())
	assert.Equal(t, `supabase.BucketHandle{bucket: "b", url: https://abc.supabase.co/storage/v1}`, fmt.Sprint(c.Storage.From("b")))
	assert.Equal(t, "supabase.FunctionsClient{url: https://abc.supabase.co/functions/v1}", fmt.Sprintf("%+v", c.Functions))
	assert.Contains(t, fmt.Sprintf("%+v", su), "Path:a.png")
}

// An upload names its length when it is known, so Storage can refuse an
// oversized file before it is sent; otherwise it is sent chunked.
func TestStorageUploadContentLength(t *testing.T) {
	ctx := context.Background()
	var lengths []int64
	var encodings [][]string
	var mu sync.Mutex
	_, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		lengths, encodings = append(lengths, r.ContentLength), append(encodings, r.TransferEncoding)
		mu.Unlock()
		_, _ = io.WriteString(w, `{"Id":"1","Key":"b/a"}`)
	})
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	require.NoError(t, err)
	defer f.Close()
	_, err = f.WriteString("0123456789")
	require.NoError(t, err)
	_, err = f.Seek(3, io.SeekStart) // the upload starts where the caller left the file
	require.NoError(t, err)

	b := c.Storage.From("b")
	for _, body := range []io.Reader{strings.NewReader("abc"), bytes.NewReader([]byte("abcd")), bytes.NewBufferString("ab"),
		f, io.MultiReader(strings.NewReader("xyz")), strings.NewReader("")} {
		_, err := b.Upload(ctx, "a", body, nil)
		require.NoError(t, err)
	}
	assert.Equal(t, []int64{3, 4, 2, 7, -1, 0}, lengths)
	assert.Equal(t, []string{"chunked"}, encodings[4])
	pos, err := f.Seek(0, io.SeekCurrent)
	require.NoError(t, err)
	assert.Equal(t, int64(10), pos, "the file was read, not closed or rewound")
	_, err = f.Stat()
	assert.NoError(t, err, "the caller's file is still open")
}

// A download answered 503 is retried (GET is idempotent); an upload is
// never retried.
func TestStorageRetries(t *testing.T) {
	ctx := context.Background()
	fail := 1
	srv, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		if fail > 0 {
			fail--
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, `ok`)
	})
	data, err := c.Storage.From("b").DownloadBytes(ctx, "a", nil)
	require.NoError(t, err)
	assert.Equal(t, "ok", string(data))
	reqs := srv.requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "1", reqs[1].Headers()["X-Retry-Count"])

	fail = 1
	_, err = c.Storage.From("b").Upload(ctx, "a", strings.NewReader("x"), nil)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, http.StatusServiceUnavailable, e.Status)
	assert.Len(t, srv.requests(), 3)
}

// A storage request refused for an expired JWT (Storage answers 400 with
// statusCode "403") refreshes the session and is replayed once, with the
// same body when the body can be rewound. A body that cannot be rewound is
// sent once: the refusal is returned, and the next call uses the new token.
func TestStorageUploadReplayAfterExpiredJWT(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	rejected := map[string]bool{}
	exp := int64(4102444800)
	srv, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path == "/auth/v1/token" {
			exp++ // every session has a different access token
			writeJSON(w, 200, coreSessionJSON(t, "u1", exp, fmt.Sprintf("r%d", exp)))
			return
		}
		if rejected[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")] {
			w.WriteHeader(400)
			_, _ = io.WriteString(w, `{"statusCode":"403","error":"Unauthorized","message":"\"exp\" claim timestamp check failed"}`)
			return
		}
		_, _ = io.WriteString(w, `{"Id":"1","Key":"b/a.txt"}`)
	})
	reject := func(tok string) {
		mu.Lock()
		rejected[tok] = true
		mu.Unlock()
	}
	tokA, err := c.Auth.SignInWithPassword(ctx, "a@b.c", "pw")
	require.NoError(t, err)
	reject(tokA.AccessToken)

	// Rewindable: replayed with identical bytes after one refresh.
	res, err := c.Storage.From("b").Upload(ctx, "a.txt", strings.NewReader("payload-1"), nil)
	require.NoError(t, err)
	assert.Equal(t, "b/a.txt", res.FullPath)
	tokB, err := c.Auth.Session(ctx)
	require.NoError(t, err)
	require.NotEqual(t, tokA.AccessToken, tokB.AccessToken)
	reqs := srv.requests()
	require.Len(t, reqs, 4)
	assert.Equal(t, "Bearer "+tokA.AccessToken, reqs[1].Headers()["Authorization"])
	assert.Equal(t, "/auth/v1/token?grant_type=refresh_token", reqs[2].URI)
	assert.Equal(t, "Bearer "+tokB.AccessToken, reqs[3].Headers()["Authorization"])
	assert.Equal(t, "payload-1", string(reqs[1].Body))
	assert.Equal(t, "payload-1", string(reqs[3].Body), "the replay sends the whole body again")

	// Not rewindable: sent once; the session is refreshed for next time.
	reject(tokB.AccessToken)
	_, err = c.Storage.From("b").Upload(ctx, "a.txt", io.MultiReader(strings.NewReader("payload-2")), nil)
	assert.ErrorIs(t, err, ErrJWTExpired)
	reqs = srv.requests()
	require.Len(t, reqs, 6)
	assert.Equal(t, "payload-2", string(reqs[4].Body))
	assert.Equal(t, "/auth/v1/token?grant_type=refresh_token", reqs[5].URI)
	tokC, err := c.Auth.Session(ctx)
	require.NoError(t, err)
	_, err = c.Storage.From("b").Upload(ctx, "a.txt", io.MultiReader(strings.NewReader("payload-3")), nil)
	require.NoError(t, err)
	reqs = srv.requests()
	require.Len(t, reqs, 7)
	assert.Equal(t, "Bearer "+tokC.AccessToken, reqs[6].Headers()["Authorization"])
}

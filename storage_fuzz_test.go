package supabase

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// captureTransport answers every request with 200 and an empty body and
// records the last request.
type captureTransport struct{ last *http.Request }

func (c *captureTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.last = r
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("{}")),
		Request: r}, nil
}

// storageNameOK and storagePathOK are the names Storage can take in a URL
// path as they are: valid UTF-8 without control characters; a bucket
// without slashes that is not "." or ".."; an object path (leading
// slashes dropped) without "." or ".." segments.
func storageNameOK(s string) bool {
	return s != "" && utf8.ValidString(s) && strings.IndexFunc(s, unicode.IsControl) < 0
}

func storageBucketOK(b string) bool {
	return storageNameOK(b) && !strings.ContainsAny(b, `/\`) && b != "." && b != ".."
}

func storagePathOK(p string) bool {
	if !storageNameOK(p) {
		return false
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// checkObjectURL checks that the escaped URL path after prefix names
// exactly bucket/path: only unreserved characters, escapes and slashes,
// no query or fragment, each segment decoding back to its name, and no
// segment a client, proxy or server would collapse.
func checkObjectURL(t *testing.T, escaped, prefix, bucket, path string) {
	t.Helper()
	rest, ok := strings.CutPrefix(escaped, prefix)
	if !ok {
		t.Fatalf("%q does not start with %q", escaped, prefix)
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.!~*'()%/", c) >= 0) {
			t.Fatalf("%q: %q left unescaped", escaped, c)
		}
	}
	segs := strings.Split(rest, "/")
	var names []string
	for _, s := range segs {
		if s == "." || s == ".." {
			t.Fatalf("%q: a %q segment", escaped, s)
		}
		d, err := url.PathUnescape(s)
		if err != nil {
			t.Fatalf("%q: %v", escaped, err)
		}
		names = append(names, d)
	}
	if names[0] != bucket || strings.Join(names[1:], "/") != path {
		t.Fatalf("%q names bucket %q path %q, want %q %q", escaped, names[0], strings.Join(names[1:], "/"), bucket, path)
	}
}

// FuzzStorageObjectPath checks how bucket names and object paths go into
// URLs (PublicURL, and the requests Download and Upload send): refused with
// ErrInvalidArgument when Storage could not take them as they are (empty,
// invalid UTF-8, control characters, "." or ".." segments, a slash in a
// bucket), else escaped so that unescaping gives them back.
func FuzzStorageObjectPath(f *testing.F) {
	for _, s := range [][2]string{
		{"avatars", "ada/face.png"}, {"avatars", "/lead/slash"}, {"b", "a b/c?d#e%20f"}, {"b", "../etc/passwd"},
		{"b", "a/./b"}, {"b", "a/.."}, {"b", "..."}, {"b", "a\x00b"}, {"b", "a\nb"}, {"b", "\xff"}, {"b", "é/東京/🚀"},
		{"a/b", "x"}, {"..", "x"}, {"", "x"}, {"b", ""}, {"b", "///"}, {"b", "a//b/"}, {"b", "%2e%2e/x"},
		{"b c", "x+y=z&w;v"}, {"b", "a\u0085b"}, {"b", "a\u202eb"}, {`b\c`, "x"},
	} {
		f.Add(s[0], s[1])
	}
	tr := &captureTransport{}
	c, err := NewClient("http://127.0.0.1:54321", "anon-key-for-fuzzing", WithHTTPClient(&http.Client{Transport: tr}))
	if err != nil {
		f.Fatal(err)
	}
	base := "http://127.0.0.1:54321/storage/v1"
	f.Fuzz(func(t *testing.T, bucket, path string) {
		b := c.Storage.From(bucket)
		u, err := b.PublicURL(path, nil)
		p := strings.TrimLeft(path, "/")
		if !storageBucketOK(bucket) || !storagePathOK(p) {
			if !errors.Is(err, ErrInvalidArgument) {
				t.Fatalf("bucket %q path %q: got %q, %v; want ErrInvalidArgument", bucket, path, u, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("bucket %q path %q: %v", bucket, path, err)
		}
		checkObjectURL(t, u, base+"/object/public/", bucket, p)
		pu, err := url.Parse(u)
		if err != nil || pu.RawQuery != "" || pu.Fragment != "" || pu.Path != "/storage/v1/object/public/"+bucket+"/"+p {
			t.Fatalf("PublicURL %q parses to path %q query %q fragment %q (%v)", u, pu.Path, pu.RawQuery, pu.Fragment, err)
		}

		tr.last = nil
		r, err := b.Download(context.Background(), path, nil)
		if err != nil {
			t.Fatalf("Download(%q, %q): %v", bucket, path, err)
		}
		_ = r.Close()
		if tr.last == nil {
			t.Fatal("no request sent")
		}
		checkObjectURL(t, tr.last.URL.RequestURI(), "/storage/v1/object/", bucket, p)

		// Upload stores the path without empty segments.
		var segs []string
		for _, s := range strings.Split(path, "/") {
			if s != "" {
				segs = append(segs, s)
			}
		}
		clean := strings.Join(segs, "/")
		tr.last = nil
		res, err := b.Upload(context.Background(), path, strings.NewReader("x"), nil)
		if !storagePathOK(clean) {
			if !errors.Is(err, ErrInvalidArgument) {
				t.Fatalf("Upload(%q, %q): %v, want ErrInvalidArgument", bucket, path, err)
			}
			return
		}
		if err != nil || res.Path != clean {
			t.Fatalf("Upload(%q, %q): %+v, %v", bucket, path, res, err)
		}
		checkObjectURL(t, tr.last.URL.RequestURI(), "/storage/v1/object/", bucket, clean)
	})
}

package supabase

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// URLOptions shape the URLs of [BucketHandle.CreateSignedURL],
// [BucketHandle.CreateSignedURLs] and [BucketHandle.PublicURL].
type URLOptions struct {
	// Download makes browsers save the file (Content-Disposition:
	// attachment) under its own name.
	Download bool
	// DownloadAs makes browsers save the file under this name; it implies
	// Download.
	DownloadAs string
	// Transform serves a transformed image (not for
	// [BucketHandle.CreateSignedURLs]).
	Transform *TransformOptions
}

// downloadQuery adds download= to q as storage-js does.
func (o *URLOptions) downloadQuery(q *orderedQuery) {
	switch {
	case o == nil:
	case o.DownloadAs != "":
		q.add("download", o.DownloadAs)
	case o.Download:
		*q = append(*q, "download=")
	}
}

// signedExpiry converts a signed URL's lifetime to Storage's whole seconds.
func signedExpiry(call string, d time.Duration) (int64, error) {
	if d < time.Second {
		return 0, invalidArg("%s: expiry %v is under one second", call, d)
	}
	return int64(d / time.Second), nil
}

// CreateSignedURL returns a URL through which anyone can download the
// object path until expiresIn (whole seconds) has passed (storage-js
// createSignedUrl). Signing is subject to the caller's RLS select policy.
// opts may be nil.
func (b *BucketHandle) CreateSignedURL(ctx context.Context, path string, expiresIn time.Duration, opts *URLOptions) (string, error) {
	if err := b.ready(); err != nil {
		return "", err
	}
	p := urlPath(path)
	if err := checkObjectPath("object path", p); err != nil {
		return "", err
	}
	secs, err := signedExpiry("CreateSignedURL", expiresIn)
	if err != nil {
		return "", err
	}
	body := map[string]any{"expiresIn": secs}
	if opts != nil {
		transform, err := opts.Transform.check()
		if err != nil {
			return "", err
		}
		if transform {
			body["transform"] = opts.Transform.body()
		}
	}
	var out struct {
		SignedURL string `json:"signedURL"`
	}
	if err := b.s.call(ctx, http.MethodPost, objectURLPath("object/sign", b.bucket, p), body, &out, true); err != nil {
		return "", err
	}
	if out.SignedURL == "" {
		return "", invalidResponse(ServiceStorage, http.StatusOK, "no signedURL in the response")
	}
	return b.signedURL(out.SignedURL, p, opts), nil
}

// SignedURL is one result of [BucketHandle.CreateSignedURLs].
type SignedURL struct {
	// Path is the object path as requested.
	Path string
	// URL is the signed URL; "" when Error is set.
	URL string
	// Error says why this path was not signed (a missing object, or one the
	// caller may not read).
	Error string
}

// CreateSignedURLs signs several objects at once (storage-js
// createSignedUrls); the result has one entry per path. A path Storage does
// not sign has its [SignedURL.Error] set rather than failing the call. opts
// may be nil; [URLOptions.Transform] is not supported here.
func (b *BucketHandle) CreateSignedURLs(ctx context.Context, paths []string, expiresIn time.Duration, opts *URLOptions) ([]SignedURL, error) {
	if err := b.ready(); err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, invalidArg("CreateSignedURLs: no paths")
	}
	for _, p := range paths {
		if err := checkObjectPath("object path", p); err != nil {
			return nil, err
		}
	}
	secs, err := signedExpiry("CreateSignedURLs", expiresIn)
	if err != nil {
		return nil, err
	}
	if opts != nil && opts.Transform != nil {
		return nil, invalidArg("CreateSignedURLs: Transform is only supported by CreateSignedURL")
	}
	var out []struct {
		Error     *string `json:"error"`
		Path      *string `json:"path"`
		SignedURL *string `json:"signedURL"`
	}
	body := map[string]any{"expiresIn": secs, "paths": paths}
	if err := b.s.call(ctx, http.MethodPost, "/object/sign/"+escapeSegment(b.bucket), body, &out, true); err != nil {
		return nil, err
	}
	res := make([]SignedURL, len(out))
	for i, d := range out {
		if d.Path != nil {
			res[i].Path = *d.Path
		}
		if d.Error != nil {
			res[i].Error = *d.Error
		}
		if d.SignedURL != nil && *d.SignedURL != "" {
			res[i].URL = b.signedURL(*d.SignedURL, urlPath(res[i].Path), opts)
		}
	}
	return res, nil
}

// signedURL turns the signedURL Storage returned ("/object/sign/<bucket>/
// <path>?token=...", path not escaped) into an absolute URL. Storage does
// not escape the path, so a '?' in a name would be ambiguous: when the
// answer is for the object asked about, the path is rebuilt from that
// object's name and only the query is taken from the answer.
func (b *BucketHandle) signedURL(signed, path string, opts *URLOptions) string {
	var u string
	for _, kind := range []string{"object/sign", "render/image/sign"} {
		prefix := "/" + kind + "/" + b.bucket + "/" + path + "?"
		if strings.HasPrefix(signed, prefix) {
			u = b.s.baseURL() + objectURLPath(kind, b.bucket, path) + "?" + escapeInvalid(signed[len(prefix):])
			break
		}
	}
	if u == "" {
		u = b.s.baseURL() + escapeInvalid(signed)
	}
	q := orderedQuery{}
	opts.downloadQuery(&q)
	if len(q) > 0 {
		sep := "&"
		if !strings.Contains(u, "?") {
			sep = "?"
		}
		u += sep + strings.Join(q, "&")
	}
	return u
}

// escapeInvalid percent-encodes the bytes that cannot appear in a URL
// (spaces, controls, non-ASCII, and a '%' not starting an escape), leaving
// everything else, including existing escapes, as it is: encodeURI, made
// safe to apply to text that may already be escaped.
func escapeInvalid(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && ishexByte(s[i+1]) && ishexByte(s[i+2]):
			b.WriteByte(c)
		case c > ' ' && c < 0x7f && strings.IndexByte(`"<>\^`+"`{|}%", c) < 0:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

func ishexByte(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// SignedUploadURL lets someone without credentials upload one object
// ([BucketHandle.UploadToSignedURL]), for two hours. It prints redacted;
// its JSON encoding keeps URL and Token, since it is made to be handed to
// the uploader.
type SignedUploadURL struct {
	// URL is the absolute upload URL, token included.
	URL string
	// Path is the object path as requested.
	Path string
	// Token authorises the upload.
	Token string
}

func (s SignedUploadURL) redacted() any {
	type signed SignedUploadURL
	c := signed(s)
	if base, _, ok := strings.Cut(c.URL, "?"); ok {
		c.URL = base + "?token=" + redact(c.Token)
	}
	c.Token = redact(c.Token)
	return c
}

// Format prints the value with its token redacted.
func (s SignedUploadURL) Format(f fmt.State, verb rune) { formatRedacted(f, verb, s.redacted()) }

// LogValue makes slog print the value with its token redacted.
func (s SignedUploadURL) LogValue() slog.Value { return slog.AnyValue(s.redacted()) }

// SignedUploadOptions are the options of [BucketHandle.CreateSignedUploadURL].
type SignedUploadOptions struct {
	// Upsert lets the upload replace an existing object.
	Upsert bool
}

// CreateSignedUploadURL returns a URL and token with which
// [BucketHandle.UploadToSignedURL] (or any HTTP client) can upload the object
// path without further credentials (storage-js createSignedUploadUrl).
// Signing is subject to the caller's RLS insert policy. opts may be nil.
func (b *BucketHandle) CreateSignedUploadURL(ctx context.Context, path string, opts *SignedUploadOptions) (*SignedUploadURL, error) {
	if err := b.ready(); err != nil {
		return nil, err
	}
	p := urlPath(path)
	if err := checkObjectPath("object path", p); err != nil {
		return nil, err
	}
	r, err := b.s.request(http.MethodPost, objectURLPath("object/upload/sign", b.bucket, p), map[string]any{}, false)
	if err != nil {
		return nil, err
	}
	if opts != nil && opts.Upsert {
		r.header.Set("X-Upsert", "true")
	}
	var out struct {
		URL   string `json:"url"`
		Token string `json:"token"`
	}
	if err := b.s.do(ctx, r, &out); err != nil {
		return nil, err
	}
	token := out.Token
	if _, query, ok := strings.Cut(out.URL, "?"); ok {
		if q, err := url.ParseQuery(query); err == nil && q.Get("token") != "" {
			token = q.Get("token")
		}
	}
	if token == "" {
		e := invalidResponse(ServiceStorage, http.StatusOK, "no token in the response")
		e.Method, e.URL = r.method, sanitizeURL(r.url)
		return nil, e
	}
	return &SignedUploadURL{
		URL:   b.s.baseURL() + objectURLPath("object/upload/sign", b.bucket, p) + "?token=" + url.QueryEscape(token),
		Path:  path,
		Token: token,
	}, nil
}

// UploadToSignedURL uploads body as the object path with a token from
// [BucketHandle.CreateSignedUploadURL] (storage-js uploadToSignedUrl),
// streamed as for [BucketHandle.Upload]. [UploadOptions.Upsert] is sent, but
// the token decides. opts may be nil.
func (b *BucketHandle) UploadToSignedURL(ctx context.Context, path, token string, body io.Reader, opts *UploadOptions) (*UploadResult, error) {
	if err := b.ready(); err != nil {
		return nil, err
	}
	clean := uploadPath(path)
	if err := checkObjectPath("object path", clean); err != nil {
		return nil, err
	}
	if token == "" || !validHeaderValue(token) {
		return nil, invalidArg("UploadToSignedURL: empty or malformed token")
	}
	if nilReader(body) {
		return nil, invalidArg("UploadToSignedURL: nil body")
	}
	h, err := opts.header("UploadToSignedURL", true)
	if err != nil {
		return nil, err
	}
	r := &apiRequest{service: ServiceStorage, method: http.MethodPut, header: h, upload: newStreamBody(body),
		url: b.s.baseURL() + objectURLPath("object/upload/sign", b.bucket, clean) + "?token=" + url.QueryEscape(token)}
	var out struct {
		Key string `json:"Key"`
	}
	if err := b.s.do(ctx, r, &out); err != nil {
		return nil, err
	}
	return &UploadResult{Path: clean, FullPath: out.Key}, nil
}

// PublicURL returns the URL of the object path in a public bucket
// (storage-js getPublicUrl). It sends no request: the URL works only if the
// bucket is public. opts may be nil.
func (b *BucketHandle) PublicURL(path string, opts *URLOptions) (string, error) {
	if err := b.ready(); err != nil {
		return "", err
	}
	p := urlPath(path)
	if err := checkObjectPath("object path", p); err != nil {
		return "", err
	}
	kind, q := "object/public", orderedQuery{}
	opts.downloadQuery(&q)
	if opts != nil {
		transform, err := opts.Transform.check()
		if err != nil {
			return "", err
		}
		if transform {
			kind = "render/image/public"
			opts.Transform.query(&q)
		}
	}
	return b.s.baseURL() + objectURLPath(kind, b.bucket, p) + q.encode(), nil
}

package supabase

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// BucketHandle is the file API of one bucket (storage-js StorageFileApi),
// returned by [StorageClient.From]. It is an immutable value, safe for
// concurrent use; credentials are read when each request is sent.
//
// Object paths are names inside the bucket ("users/42/avatar.png"). They
// are percent-encoded segment by segment, so spaces, non-ASCII letters and
// even '?' or '#' reach Storage as part of the name. Empty paths, "." and
// ".." segments, control characters and invalid UTF-8 are refused with
// [ErrInvalidArgument] before any I/O.
type BucketHandle struct {
	s      *StorageClient
	bucket string
	err    error // sticky: an unusable client or bucket name
}

// Bucket returns the bucket's name.
func (b *BucketHandle) Bucket() string {
	if b == nil {
		return ""
	}
	return b.bucket
}

// String describes the handle without credentials.
func (b *BucketHandle) String() string {
	if b == nil || b.s == nil || b.s.c == nil || b.s.c.core == nil {
		return "supabase.BucketHandle{}"
	}
	return "supabase.BucketHandle{bucket: " + strconv.Quote(b.bucket) + ", url: " + b.s.baseURL() + "}"
}

// Format prints String for every verb, so no key or token can leak through
// fmt or slog.
func (b *BucketHandle) Format(f fmt.State, _ rune) { _, _ = fmt.Fprint(f, b.String()) }

func (b *BucketHandle) ready() error {
	if b == nil {
		return errNoClient
	}
	return b.err
}

// ---------------------------------------------------------------------------
// Upload

// UploadOptions are the options of Upload, Update and
// [BucketHandle.UploadToSignedURL] (storage-js FileOptions). The zero value
// is ready to use.
type UploadOptions struct {
	// ContentType is stored with the object and sent back on download.
	// Default "application/octet-stream".
	ContentType string
	// CacheMaxAge is sent as Cache-Control: max-age (whole seconds; default
	// one hour) and kept for the object's downloads.
	CacheMaxAge time.Duration
	// Upsert replaces an existing object instead of failing with an error
	// matching [ErrConflict]. (Update always replaces.)
	Upsert bool
	// Metadata is any value that encodes to a JSON object; it is stored as
	// the object's user metadata (sent base64-encoded in x-metadata).
	Metadata any
	// Headers are sent last and replace the headers above with the same
	// name (case-insensitive), e.g. {"Cache-Control": "no-store"}.
	Headers map[string]string
}

// defaultUploadContentType is the Content-Type of uploads that name none.
// storage-js sends text/plain;charset=UTF-8, which is wrong for most bytes
// an io.Reader yields; this is HTTP's type for unknown bytes, and S3's.
const defaultUploadContentType = "application/octet-stream"

// header builds the upload headers; upsert says whether x-upsert is sent.
func (o *UploadOptions) header(call string, upsert bool) (http.Header, error) {
	var opt UploadOptions
	if o != nil {
		opt = *o
	}
	h := http.Header{}
	if upsert {
		h.Set("X-Upsert", strconv.FormatBool(opt.Upsert))
	}
	if opt.CacheMaxAge < 0 {
		return nil, invalidArg("%s: negative CacheMaxAge", call)
	}
	maxAge := int64(3600)
	if opt.CacheMaxAge > 0 {
		maxAge = int64(opt.CacheMaxAge / time.Second)
	}
	h.Set("Cache-Control", "max-age="+strconv.FormatInt(maxAge, 10))
	ct := opt.ContentType
	if ct == "" {
		ct = defaultUploadContentType
	}
	if !validHeaderValue(ct) {
		return nil, invalidArg("%s: ContentType has a control character", call)
	}
	h.Set("Content-Type", ct)
	if opt.Metadata != nil {
		m, err := marshalJSON(opt.Metadata)
		if err != nil || len(m) == 0 || m[0] != '{' {
			return nil, invalidArg("%s: Metadata must encode to a JSON object", call)
		}
		h.Set("X-Metadata", base64.StdEncoding.EncodeToString(m))
	}
	for k, v := range opt.Headers {
		if !validHeaderName(k) {
			return nil, invalidArg("%s: invalid header name %q", call, k)
		}
		if !validHeaderValue(v) {
			return nil, invalidArg("%s: header %q has a control character in its value", call, k)
		}
		h.Set(k, v)
	}
	return h, nil
}

// UploadResult describes an uploaded object.
type UploadResult struct {
	// ID is the object's id ("" from [BucketHandle.UploadToSignedURL], which
	// Storage does not tell).
	ID string
	// Path is the object's name in the bucket, as stored.
	Path string
	// FullPath is "<bucket>/<path>", as Storage reports it.
	FullPath string
}

// Upload stores body as the object path (storage-js upload). body is
// streamed: it is read while the request is sent and never held in memory.
// Its length is sent when it is known (bytes.Reader, strings.Reader,
// bytes.Buffer, a seekable *os.File), so Storage can refuse an oversized
// file at once. A body that is an io.Seeker is rewound and sent again when
// the request is replayed after a refused JWT; any other body is sent once,
// and such a refusal is returned (the session is refreshed for the next
// call). body is never closed; it is not read after Upload returns.
//
// Leading, trailing and repeated slashes in path are dropped. An existing
// object is an error matching [ErrConflict] unless opts.Upsert is set; a
// refusal by RLS matches [ErrPermissionDenied]; a file over the bucket's
// limit matches [ErrTooLarge]. opts may be nil.
func (b *BucketHandle) Upload(ctx context.Context, path string, body io.Reader, opts *UploadOptions) (*UploadResult, error) {
	return b.upload(ctx, "Upload", http.MethodPost, path, body, opts)
}

// Update replaces the object path with body (storage-js update), streamed
// as for Upload. Storage serves it as an upsert: a missing object is
// created, if the INSERT policy allows it; the UPDATE policy decides over
// an existing one.
func (b *BucketHandle) Update(ctx context.Context, path string, body io.Reader, opts *UploadOptions) (*UploadResult, error) {
	return b.upload(ctx, "Update", http.MethodPut, path, body, opts)
}

func (b *BucketHandle) upload(ctx context.Context, call, method, path string, body io.Reader, opts *UploadOptions) (*UploadResult, error) {
	if err := b.ready(); err != nil {
		return nil, err
	}
	clean := uploadPath(path)
	if err := checkObjectPath("object path", clean); err != nil {
		return nil, err
	}
	if nilReader(body) {
		return nil, invalidArg("%s: nil body", call)
	}
	h, err := opts.header(call, method == http.MethodPost)
	if err != nil {
		return nil, err
	}
	r := &apiRequest{service: ServiceStorage, method: method, header: h, upload: newStreamBody(body),
		url: b.s.baseURL() + objectURLPath("object", b.bucket, clean)}
	var out struct {
		ID  string `json:"Id"`
		Key string `json:"Key"`
	}
	if err := b.s.do(ctx, r, &out); err != nil {
		return nil, err
	}
	return &UploadResult{ID: out.ID, Path: clean, FullPath: out.Key}, nil
}

// ---------------------------------------------------------------------------
// Download

// TransformOptions ask Storage's image transformation to resize or
// re-encode an image (storage-js TransformOptions). Zero fields are not
// sent.
type TransformOptions struct {
	Width  int
	Height int
	// Resize is ResizeCover (the default), ResizeContain or ResizeFill.
	Resize ResizeMode
	// Format "origin" keeps the original format; empty lets Storage choose
	// (WebP for clients that accept it).
	Format string
	// Quality is 20 to 100 (Storage's default 80).
	Quality int
}

// ResizeMode is how a transformed image fits Width and Height.
type ResizeMode string

// Resize modes of TransformOptions.
const (
	ResizeCover   ResizeMode = "cover"
	ResizeContain ResizeMode = "contain"
	ResizeFill    ResizeMode = "fill"
)

// check validates t; a nil or all-zero t is no transformation.
func (t *TransformOptions) check() (bool, error) {
	if t == nil || *t == (TransformOptions{}) {
		return false, nil
	}
	if t.Width < 0 || t.Height < 0 || t.Quality < 0 {
		return false, invalidArg("storage: negative width, height or quality in TransformOptions")
	}
	switch t.Resize {
	case "", ResizeCover, ResizeContain, ResizeFill:
	default:
		return false, invalidArg("storage: unknown resize mode %q", t.Resize)
	}
	if !validHeaderValue(t.Format) {
		return false, invalidArg("storage: malformed transform format %q", t.Format)
	}
	return true, nil
}

// query adds the transformation to q in storage-js's order.
func (t *TransformOptions) query(q *orderedQuery) {
	if t.Width > 0 {
		q.add("width", strconv.Itoa(t.Width))
	}
	if t.Height > 0 {
		q.add("height", strconv.Itoa(t.Height))
	}
	q.add("resize", string(t.Resize))
	q.add("format", t.Format)
	if t.Quality > 0 {
		q.add("quality", strconv.Itoa(t.Quality))
	}
}

// body is the transformation as a JSON body member.
func (t *TransformOptions) body() map[string]any {
	m := map[string]any{}
	if t.Width > 0 {
		m["width"] = t.Width
	}
	if t.Height > 0 {
		m["height"] = t.Height
	}
	if t.Resize != "" {
		m["resize"] = t.Resize
	}
	if t.Format != "" {
		m["format"] = t.Format
	}
	if t.Quality > 0 {
		m["quality"] = t.Quality
	}
	return m
}

// DownloadOptions are the options of Download and [BucketHandle.DownloadBytes].
type DownloadOptions struct {
	// Transform downloads a transformed image (from
	// /render/image/authenticated) instead of the stored bytes.
	Transform *TransformOptions
	// MaxBytes bounds [BucketHandle.DownloadBytes] (default 32 MiB): a
	// larger object is an error matching [ErrTooLarge]. Download ignores it.
	MaxBytes int64
}

// defaultMaxDownloadBytes is [BucketHandle.DownloadBytes]' default bound.
const defaultMaxDownloadBytes = 32 << 20

// ObjectReader streams a downloaded object. It is an io.ReadCloser: read
// it to the end, then Close it (always Close it). A download cut off
// before its Content-Length returns an error wrapping io.ErrUnexpectedEOF
// from Read, never a clean io.EOF, so a truncated file is never mistaken
// for a complete one.
type ObjectReader struct {
	// ContentType is the object's Content-Type as Storage sent it.
	ContentType string
	// Size is the Content-Length in bytes, or -1 when Storage did not send
	// one.
	Size int64
	// Header is the whole response header (ETag, Last-Modified, ...).
	Header http.Header

	body io.ReadCloser
}

// Read reads the object's bytes.
func (r *ObjectReader) Read(p []byte) (int, error) {
	if r == nil || r.body == nil {
		return 0, io.EOF
	}
	return r.body.Read(p)
}

// Close releases the connection; reading stops.
func (r *ObjectReader) Close() error {
	if r == nil || r.body == nil {
		return nil
	}
	return r.body.Close()
}

// Download opens the object path for reading (storage-js download). The
// body is streamed: nothing is read until the caller reads. A missing
// object is an error matching [ErrNotFound]. opts may be nil.
func (b *BucketHandle) Download(ctx context.Context, path string, opts *DownloadOptions) (*ObjectReader, error) {
	if err := b.ready(); err != nil {
		return nil, err
	}
	p := urlPath(path)
	if err := checkObjectPath("object path", p); err != nil {
		return nil, err
	}
	kind, q := "object", orderedQuery{}
	if opts != nil {
		transform, err := opts.Transform.check()
		if err != nil {
			return nil, err
		}
		if transform {
			kind = "render/image/authenticated"
			opts.Transform.query(&q)
		}
	}
	r := &apiRequest{service: ServiceStorage, method: http.MethodGet, retry: true, stream: true,
		url: b.s.baseURL() + objectURLPath(kind, b.bucket, p) + q.encode()}
	resp, err := b.s.c.core.send(ctx, b.s.c.tokens, r)
	if err != nil {
		return nil, err
	}
	size := int64(-1)
	if n, err := strconv.ParseInt(resp.header.Get("Content-Length"), 10, 64); err == nil && n >= 0 {
		size = n
	}
	return &ObjectReader{ContentType: resp.header.Get("Content-Type"), Size: size, Header: resp.header, body: resp.stream}, nil
}

// DownloadBytes downloads the object path into memory, at most
// opts.MaxBytes (default 32 MiB): a larger object is an error matching
// [ErrTooLarge], found from its Content-Length before reading when Storage
// sends one. Use Download to stream large objects.
func (b *BucketHandle) DownloadBytes(ctx context.Context, path string, opts *DownloadOptions) ([]byte, error) {
	limit := int64(defaultMaxDownloadBytes)
	if opts != nil && opts.MaxBytes != 0 {
		if opts.MaxBytes < 0 {
			return nil, invalidArg("DownloadBytes: negative MaxBytes")
		}
		limit = opts.MaxBytes
	}
	r, err := b.Download(ctx, path, opts)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	tooLarge := fmt.Errorf("supabase: storage: object larger than %d bytes: %w", limit, ErrTooLarge)
	if r.Size > limit {
		return nil, tooLarge
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("supabase: storage: reading download: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, tooLarge
	}
	return data, nil
}

// ---------------------------------------------------------------------------
// Listing, moving, removing

// FileObject is an object (or, from List, a folder: only Name set) as
// Storage lists it.
type FileObject struct {
	Name           string         `json:"name"`
	ID             string         `json:"id"`
	BucketID       string         `json:"bucket_id,omitempty"`
	Owner          string         `json:"owner,omitempty"`
	OwnerID        string         `json:"owner_id,omitempty"`
	Version        string         `json:"version,omitempty"`
	CreatedAt      time.Time      `json:"created_at,omitzero"`
	UpdatedAt      time.Time      `json:"updated_at,omitzero"`
	LastAccessedAt time.Time      `json:"last_accessed_at,omitzero"`
	Metadata       *FileMetadata  `json:"metadata"`
	UserMetadata   map[string]any `json:"user_metadata,omitempty"`
}

// FileMetadata is what Storage records about an object's bytes.
type FileMetadata struct {
	ETag           string    `json:"eTag"`
	Size           int64     `json:"size"`
	MIMEType       string    `json:"mimetype"`
	CacheControl   string    `json:"cacheControl"`
	LastModified   time.Time `json:"lastModified,omitzero"`
	ContentLength  int64     `json:"contentLength"`
	HTTPStatusCode int       `json:"httpStatusCode"`
}

// ListOptions page, order and filter List (storage-js SearchOptions).
type ListOptions struct {
	// Limit is the page size (default 100).
	Limit int
	// Offset skips that many entries.
	Offset int
	// SortBy orders the entries (default name ascending); a zero field
	// keeps its default.
	SortBy SortBy
	// Search keeps entries whose name under the prefix starts with it
	// (case-insensitive); Storage matches no further inside names.
	Search string
}

// SortBy orders List's entries.
type SortBy struct {
	// Column is "name", "created_at", "updated_at" or "last_accessed_at".
	Column string `json:"column"`
	// Order is "asc" or "desc".
	Order string `json:"order"`
}

// List lists the objects and folders directly under prefix ("" for the
// bucket's root) that the caller may see (storage-js list). opts may be nil.
func (b *BucketHandle) List(ctx context.Context, prefix string, opts *ListOptions) ([]FileObject, error) {
	if err := b.ready(); err != nil {
		return nil, err
	}
	if prefix != "" {
		if err := checkObjectPath("prefix", prefix); err != nil {
			return nil, err
		}
	}
	o := ListOptions{}
	if opts != nil {
		o = *opts
	}
	if o.Limit < 0 || o.Offset < 0 {
		return nil, invalidArg("List: negative limit or offset")
	}
	if o.Limit == 0 {
		o.Limit = 100
	}
	if o.SortBy.Column == "" {
		o.SortBy.Column = "name"
	}
	if o.SortBy.Order == "" {
		o.SortBy.Order = "asc"
	}
	body := map[string]any{"limit": o.Limit, "offset": o.Offset, "sortBy": o.SortBy, "prefix": prefix}
	if o.Search != "" {
		body["search"] = o.Search
	}
	var out []FileObject
	err := b.s.call(ctx, http.MethodPost, "/object/list/"+escapeSegment(b.bucket), body, &out, true)
	return out, err
}

// DestinationOptions say where Move and Copy put the object.
type DestinationOptions struct {
	// DestinationBucket is the bucket to move or copy to (default: this one).
	DestinationBucket string
}

func (b *BucketHandle) transferBody(call, from, to string, opts *DestinationOptions) (map[string]any, error) {
	if err := b.ready(); err != nil {
		return nil, err
	}
	if err := checkObjectPath("source path", from); err != nil {
		return nil, err
	}
	if err := checkObjectPath("destination path", to); err != nil {
		return nil, err
	}
	body := map[string]any{"bucketId": b.bucket, "sourceKey": from, "destinationKey": to}
	if opts != nil && opts.DestinationBucket != "" {
		if err := checkBucket(opts.DestinationBucket); err != nil {
			return nil, fmt.Errorf("%s: %w", call, err)
		}
		body["destinationBucket"] = opts.DestinationBucket
	}
	return body, nil
}

// Move renames the object from to the path to (storage-js move), in this
// bucket or opts.DestinationBucket. opts may be nil.
func (b *BucketHandle) Move(ctx context.Context, from, to string, opts *DestinationOptions) error {
	body, err := b.transferBody("Move", from, to, opts)
	if err != nil {
		return err
	}
	return b.s.call(ctx, http.MethodPost, "/object/move", body, nil, false)
}

// Copy copies the object from to the path to (storage-js copy), in this
// bucket or opts.DestinationBucket, and returns the copy's full key
// ("<bucket>/<path>"). opts may be nil.
func (b *BucketHandle) Copy(ctx context.Context, from, to string, opts *DestinationOptions) (string, error) {
	body, err := b.transferBody("Copy", from, to, opts)
	if err != nil {
		return "", err
	}
	var out struct {
		Key string `json:"Key"`
	}
	if err := b.s.call(ctx, http.MethodPost, "/object/copy", body, &out, false); err != nil {
		return "", err
	}
	return out.Key, nil
}

// Remove deletes the objects at paths (storage-js remove) and returns those
// Storage removed; paths the caller may not delete, or that do not exist,
// are left out of the result rather than failing the call.
func (b *BucketHandle) Remove(ctx context.Context, paths ...string) ([]FileObject, error) {
	if err := b.ready(); err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, invalidArg("Remove: no paths")
	}
	for _, p := range paths {
		if err := checkObjectPath("object path", p); err != nil {
			return nil, err
		}
	}
	var out []FileObject
	err := b.s.call(ctx, http.MethodDelete, "/object/"+escapeSegment(b.bucket), map[string]any{"prefixes": paths}, &out, false)
	return out, err
}

// FileInfo describes one object (storage-js info).
type FileInfo struct {
	ID           string         `json:"id"`
	Name         string         `json:"name"`
	Version      string         `json:"version"`
	BucketID     string         `json:"bucket_id"`
	Size         int64          `json:"size"`
	ContentType  string         `json:"content_type"`
	CacheControl string         `json:"cache_control"`
	ETag         string         `json:"etag"`
	Metadata     map[string]any `json:"metadata"`
	LastModified time.Time      `json:"last_modified,omitzero"`
	CreatedAt    time.Time      `json:"created_at,omitzero"`
	UpdatedAt    time.Time      `json:"updated_at,omitzero"`
}

// Info describes the object path (storage-js info). A missing object is an
// error matching [ErrNotFound].
func (b *BucketHandle) Info(ctx context.Context, path string) (*FileInfo, error) {
	if err := b.ready(); err != nil {
		return nil, err
	}
	p := urlPath(path)
	if err := checkObjectPath("object path", p); err != nil {
		return nil, err
	}
	var fi FileInfo
	if err := b.s.call(ctx, http.MethodGet, objectURLPath("object/info", b.bucket, p), nil, &fi, true); err != nil {
		return nil, err
	}
	return &fi, nil
}

// Exists reports whether the object path exists and the caller may see it
// (storage-js exists). Not found is the answer false, not an error; any
// other failure (a network error, a cancelled ctx) is returned. Storage
// reads this request with an invalid or expired token as anon (so that
// public buckets answer): in a private bucket such a token gets false.
func (b *BucketHandle) Exists(ctx context.Context, path string) (bool, error) {
	_, err := b.Info(ctx, path)
	var e *Error
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &e) && errors.Is(e, ErrNotFound):
		return false, nil
	}
	return false, err
}

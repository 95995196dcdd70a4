package supabase

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// StorageClient is the Supabase Storage API (/storage/v1): buckets, and the
// files in them through [StorageClient.From]. Requests carry the same
// credentials as every other request of its [Client], read when each request
// is sent, so Storage's RLS policies on storage.objects and storage.buckets
// see the signed-in user (or anon).
//
// A StorageClient is safe for concurrent use. It never changes: a client
// derived with [Client.WithAccessToken] or [Client.WithSession] has its own.
type StorageClient struct {
	c *Client
}

// String describes the client without credentials.
func (s *StorageClient) String() string {
	if s == nil || s.c == nil || s.c.core == nil {
		return "supabase.StorageClient{}"
	}
	return "supabase.StorageClient{url: " + s.baseURL() + "}"
}

// Format prints [StorageClient.String] for every verb, so no key or token can
// leak through fmt or slog.
func (s *StorageClient) Format(f fmt.State, _ rune) { _, _ = fmt.Fprint(f, s.String()) }

// ready reports why s cannot send requests: a client not made by [NewClient],
// or the sticky error of a derived client (an empty access token).
func (s *StorageClient) ready() error {
	if s == nil || s.c == nil || s.c.core == nil {
		return errNoClient
	}
	return s.c.err
}

func (s *StorageClient) baseURL() string { return s.c.core.baseURL + "/storage/v1" }

// Bucket is a Storage bucket as Storage describes it.
type Bucket struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Owner string `json:"owner"`
	// Public buckets serve their files without credentials
	// ([BucketHandle.PublicURL]).
	Public bool `json:"public"`
	// Type is "STANDARD" or "ANALYTICS" ("" when Storage did not say).
	Type string `json:"type,omitempty"`
	// FileSizeLimit is the largest object the bucket accepts, in bytes;
	// nil for no bucket limit (the project's applies).
	FileSizeLimit *int64 `json:"file_size_limit"`
	// AllowedMIMETypes lists the content types the bucket accepts
	// (wildcards such as "image/*" allowed); nil accepts any.
	AllowedMIMETypes []string  `json:"allowed_mime_types"`
	CreatedAt        time.Time `json:"created_at,omitzero"`
	UpdatedAt        time.Time `json:"updated_at,omitzero"`
}

// ListBucketsOptions filter and order [StorageClient.ListBuckets] (storage-js
// ListBucketOptions). Zero values are not sent.
type ListBucketsOptions struct {
	Limit  int
	Offset int
	// Search keeps buckets whose name contains it.
	Search string
	// SortColumn is "id", "name", "created_at" or "updated_at".
	SortColumn string
	// SortOrder is "asc" or "desc".
	SortOrder string
}

// BucketOptions are the settings of [StorageClient.CreateBucket] and
// [StorageClient.UpdateBucket].
type BucketOptions struct {
	// Public buckets serve their files to anyone who has the URL.
	Public bool
	// FileSizeLimit caps each object's size: a byte count ("10485760", sent
	// as a number) or a size with a unit Storage reads ("5MB", "1GB").
	// Empty: not sent.
	FileSizeLimit string
	// AllowedMIMETypes restricts the content types of uploads ("image/png",
	// "image/*"). nil: not sent; an empty, non-nil slice is sent as [].
	AllowedMIMETypes []string
	// Type is the bucket type for [StorageClient.CreateBucket] ("STANDARD"
	// or "ANALYTICS"); empty: Storage's default. [StorageClient.UpdateBucket]
	// cannot change it.
	Type string
}

// ListBuckets lists the buckets the caller may see (storage-js
// listBuckets). opts may be nil.
func (s *StorageClient) ListBuckets(ctx context.Context, opts *ListBucketsOptions) ([]Bucket, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	var o ListBucketsOptions
	if opts != nil {
		o = *opts
	}
	if o.Limit < 0 || o.Offset < 0 {
		return nil, invalidArg("ListBuckets: negative limit or offset")
	}
	q := orderedQuery{}
	if o.Limit > 0 {
		q.add("limit", strconv.Itoa(o.Limit))
	}
	if o.Offset > 0 {
		q.add("offset", strconv.Itoa(o.Offset))
	}
	q.add("search", o.Search)
	q.add("sortColumn", o.SortColumn)
	q.add("sortOrder", o.SortOrder)
	var out []Bucket
	err := s.call(ctx, http.MethodGet, "/bucket"+q.encode(), nil, &out, true)
	return out, err
}

// GetBucket returns the bucket id (storage-js getBucket). A missing bucket
// is an error matching [ErrNotFound].
func (s *StorageClient) GetBucket(ctx context.Context, id string) (*Bucket, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	if err := checkBucket(id); err != nil {
		return nil, err
	}
	var b Bucket
	if err := s.call(ctx, http.MethodGet, "/bucket/"+escapeSegment(id), nil, &b, true); err != nil {
		return nil, err
	}
	return &b, nil
}

// CreateBucket creates the bucket id (storage-js createBucket); opts may be
// nil (a private bucket without limits). An existing id is an error
// matching [ErrConflict].
func (s *StorageClient) CreateBucket(ctx context.Context, id string, opts *BucketOptions) error {
	body, err := s.bucketBody("CreateBucket", id, opts, true)
	if err != nil {
		return err
	}
	return s.call(ctx, http.MethodPost, "/bucket", body, nil, false)
}

// UpdateBucket changes the settings of bucket id (storage-js updateBucket).
// [BucketOptions.Public] is always sent; opts nil makes the bucket private.
func (s *StorageClient) UpdateBucket(ctx context.Context, id string, opts *BucketOptions) error {
	body, err := s.bucketBody("UpdateBucket", id, opts, false)
	if err != nil {
		return err
	}
	return s.call(ctx, http.MethodPut, "/bucket/"+escapeSegment(id), body, nil, false)
}

func (s *StorageClient) bucketBody(call, id string, opts *BucketOptions, create bool) (map[string]any, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	if err := checkBucket(id); err != nil {
		return nil, err
	}
	var o BucketOptions
	if opts != nil {
		o = *opts
	}
	body := map[string]any{"id": id, "name": id, "public": o.Public}
	if o.FileSizeLimit != "" {
		v := strings.TrimSpace(o.FileSizeLimit)
		if v == "" || !validHeaderValue(v) {
			return nil, invalidArg("%s: malformed FileSizeLimit %q", call, o.FileSizeLimit)
		}
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			if n < 0 {
				return nil, invalidArg("%s: negative FileSizeLimit", call)
			}
			body["file_size_limit"] = n
		} else {
			body["file_size_limit"] = v
		}
	}
	if o.AllowedMIMETypes != nil {
		for _, m := range o.AllowedMIMETypes {
			if strings.TrimSpace(m) == "" || !validHeaderValue(m) {
				return nil, invalidArg("%s: malformed MIME type %q", call, m)
			}
		}
		body["allowed_mime_types"] = o.AllowedMIMETypes
	}
	switch {
	case o.Type != "" && !create:
		return nil, invalidArg("%s: a bucket's Type cannot be changed", call)
	case o.Type != "":
		body["type"] = o.Type
	}
	return body, nil
}

// EmptyBucket removes every object of bucket id (storage-js emptyBucket).
func (s *StorageClient) EmptyBucket(ctx context.Context, id string) error {
	if err := s.ready(); err != nil {
		return err
	}
	if err := checkBucket(id); err != nil {
		return err
	}
	return s.call(ctx, http.MethodPost, "/bucket/"+escapeSegment(id)+"/empty", map[string]any{}, nil, false)
}

// DeleteBucket deletes the empty bucket id (storage-js deleteBucket); a
// bucket with objects is an error matching [ErrConflict].
func (s *StorageClient) DeleteBucket(ctx context.Context, id string) error {
	if err := s.ready(); err != nil {
		return err
	}
	if err := checkBucket(id); err != nil {
		return err
	}
	return s.call(ctx, http.MethodDelete, "/bucket/"+escapeSegment(id), map[string]any{}, nil, false)
}

// From returns the file API of bucket (storage-js from). It does no I/O; an
// empty or malformed bucket name makes every call on the handle fail with
// [ErrInvalidArgument].
func (s *StorageClient) From(bucket string) *BucketHandle {
	b := &BucketHandle{s: s, bucket: bucket}
	if b.err = s.ready(); b.err == nil {
		b.err = checkBucket(bucket)
	}
	return b
}

// ---------------------------------------------------------------------------
// Requests

// request builds a Storage request for path (already escaped, with any
// query) below /storage/v1. body nil sends no body; anything else is sent
// as JSON.
func (s *StorageClient) request(method, path string, body any, retry bool) (*apiRequest, error) {
	r := &apiRequest{service: ServiceStorage, method: method, url: s.baseURL() + path, retry: retry}
	if body != nil {
		b, err := marshalJSON(body)
		if err != nil {
			return nil, invalidArg("storage: cannot encode the request body: %v", err)
		}
		r.body = b
		r.header = http.Header{"Content-Type": {"application/json"}}
	}
	return r, nil
}

// call sends a JSON request and decodes the JSON answer into out (nil:
// the answer is not read).
func (s *StorageClient) call(ctx context.Context, method, path string, body, out any, retry bool) error {
	r, err := s.request(method, path, body, retry)
	if err != nil {
		return err
	}
	return s.do(ctx, r, out)
}

// do sends r and decodes the answer into out (nil: not decoded).
func (s *StorageClient) do(ctx context.Context, r *apiRequest, out any) error {
	resp, err := s.c.core.send(ctx, s.c.tokens, r)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(resp.body, out); err != nil {
		// storage-js: StorageUnknownError.
		e := invalidResponse(ServiceStorage, resp.status, "invalid JSON in response: "+err.Error())
		e.Method, e.URL = r.method, sanitizeURL(r.url)
		// A proxy's page helps to see what answered; JSON, even cut
		// short, may hold a signed URL's token.
		if b := bytes.TrimSpace(resp.body); len(b) > 0 && b[0] != '{' && b[0] != '[' {
			e.Details = excerpt(resp.body)
		}
		return e
	}
	return nil
}

// orderedQuery is a query string whose parameters keep the order they were
// added in (as storage-js sends them); empty values are skipped.
type orderedQuery []string

func (q *orderedQuery) add(name, value string) {
	if value != "" {
		*q = append(*q, url.QueryEscape(name)+"="+url.QueryEscape(value))
	}
}

func (q orderedQuery) encode() string {
	if len(q) == 0 {
		return ""
	}
	return "?" + strings.Join(q, "&")
}

// ---------------------------------------------------------------------------
// Names and paths

// checkBucket rejects bucket names that cannot name a bucket in a URL.
func checkBucket(id string) error {
	switch {
	case id == "":
		return invalidArg("storage: empty bucket name")
	case strings.ContainsAny(id, `/\`):
		return invalidArg("storage: bucket name %q contains a slash", id)
	case id == "." || id == "..":
		return invalidArg("storage: bucket name %q is a relative path", id)
	case !utf8.ValidString(id) || hasControl(id):
		return invalidArg("storage: bucket name %q has a control character or invalid UTF-8", id)
	}
	return nil
}

// checkObjectPath rejects object paths Storage could not store under the
// same name, or that a URL would resolve to another path: empty, invalid
// UTF-8, control characters, and "." or ".." segments (which proxies and
// servers collapse).
func checkObjectPath(what, p string) error {
	if p == "" {
		return invalidArg("storage: empty %s", what)
	}
	if !utf8.ValidString(p) || hasControl(p) {
		return invalidArg("storage: %s %q has a control character or invalid UTF-8", what, p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return invalidArg("storage: %s %q has a %q segment", what, p, seg)
		}
	}
	return nil
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}

// urlPath is how storage-js puts an object path in a URL: leading slashes
// dropped, everything else kept.
func urlPath(p string) string { return strings.TrimLeft(p, "/") }

// uploadPath is how storage-js cleans the path of an upload: no slash at
// either end, no repeated slashes. (storage-js strips one leading slash and
// keeps the rest of a run; the object is stored under this name either way.)
func uploadPath(p string) string {
	var b strings.Builder
	for _, seg := range strings.Split(p, "/") {
		if seg == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('/')
		}
		b.WriteString(seg)
	}
	return b.String()
}

// escapePath percent-encodes each segment of an object path (see
// escapeSegment) and keeps the slashes between them. Unlike storage-js,
// which leaves paths to the URL parser, a '?' or '#' in a name is escaped
// instead of starting a query or fragment, so the server decodes exactly
// the path it was given.
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = escapeSegment(s)
	}
	return strings.Join(segs, "/")
}

// escapeSegment encodes s as JavaScript's encodeURIComponent does (which
// storage-js uses where it does encode paths): everything but letters,
// digits and -_.!~*'() is percent-encoded as UTF-8.
func escapeSegment(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// objectURLPath is "/<kind>/<bucket>/<path>", escaped.
func objectURLPath(kind, bucket, path string) string {
	return "/" + kind + "/" + escapeSegment(bucket) + "/" + escapePath(path)
}

// ---------------------------------------------------------------------------
// Errors

// decodeStorageError builds an [Error] from a Storage error response, as
// storage-js reads it: statusCode from the body's statusCode (else its
// code, else the HTTP status); the message from msg, message,
// error_description or error; a body that is not JSON gives the status
// text (its excerpt is kept in [Error.Details]).
func decodeStorageError(status int, body []byte) *Error {
	e := &Error{Service: ServiceStorage, Status: status, StatusCode: strconv.Itoa(status)}
	var wire map[string]json.RawMessage
	if err := json.Unmarshal(body, &wire); err != nil || wire == nil {
		e.Message = http.StatusText(status)
		if e.Message == "" {
			e.Message = "HTTP " + strconv.Itoa(status) + " error"
		}
		e.Details = excerpt(body)
		return e
	}
	e.Code = jsonText(wire["code"])
	if sc := jsonText(wire["statusCode"]); sc != "" {
		e.StatusCode = sc
	} else if e.Code != "" {
		e.StatusCode = e.Code
	}
	legacy := jsonText(wire["error"])
	for _, k := range []string{"msg", "message", "error_description"} {
		var m string
		if json.Unmarshal(wire[k], &m) == nil && m != "" {
			e.Message = m
			break
		}
	}
	if e.Message == "" {
		var nested struct {
			Message string `json:"message"`
		}
		var m string
		switch {
		case json.Unmarshal(wire["error"], &m) == nil && m != "":
			e.Message, legacy = m, ""
		case json.Unmarshal(wire["error"], &nested) == nil && nested.Message != "":
			e.Message, legacy = nested.Message, ""
		default:
			e.Message = excerpt(body)
		}
	}
	// The legacy error name ("Unauthorized", "Duplicate") when it adds to
	// the code.
	if legacy != "" && legacy != e.Code && legacy != e.Message {
		e.Details = legacy
	}
	return e
}

// Storage error codes (its ErrorCode enum) matched by the sentinels.
var storageCodes = map[error][]string{
	ErrNotFound:         {"NoSuchKey", "NoSuchBucket", "NoSuchUpload"},
	ErrPermissionDenied: {"AccessDenied"},
	ErrConflict:         {"KeyAlreadyExists", "ResourceAlreadyExists", "BucketAlreadyExists", "ResourceNotEmpty"},
	ErrTooLarge:         {"EntityTooLarge"},
	ErrRateLimited:      {"SlowDown"},
	ErrJWTExpired:       {"InvalidJWT", "ExpiredToken"},
}

// Storage statusCode values matched by the sentinels: Storage answers most
// errors with HTTP 400 and puts the real status here.
var storageStatusCodes = map[error]string{
	ErrNotFound:         "404",
	ErrPermissionDenied: "403",
	ErrConflict:         "409",
	ErrTooLarge:         "413",
	ErrRateLimited:      "429",
}

// storageErrorIs adds Storage's categories to [Error.Is].
func storageErrorIs(e *Error, target error) bool {
	for _, c := range storageCodes[target] {
		if e.Code == c {
			return true
		}
	}
	if sc, ok := storageStatusCodes[target]; ok && e.StatusCode == sc {
		return true
	}
	switch target {
	case ErrTooLarge:
		return e.Status == http.StatusRequestEntityTooLarge
	case ErrJWTExpired:
		m := strings.ToLower(e.Message)
		return strings.Contains(m, "jwt expired") || strings.Contains(m, `"exp" claim timestamp check failed`)
	}
	return false
}

package localstack

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// objectColumns are the storage.objects columns Storage answers with.
const objectColumns = `id::text, name, bucket_id, owner::text, owner_id, version, created_at, updated_at,
	last_accessed_at, metadata, user_metadata`

// objectRow is a row of storage.objects.
type objectRow struct {
	id, name, bucketID                   string
	owner, ownerID, version              *string
	createdAt, updatedAt, lastAccessedAt *time.Time
	metadata, userMetadata               []byte
}

func scanObject(row pgx.Row) (*objectRow, error) {
	o := &objectRow{}
	err := row.Scan(&o.id, &o.name, &o.bucketID, &o.owner, &o.ownerID, &o.version, &o.createdAt, &o.updatedAt,
		&o.lastAccessedAt, &o.metadata, &o.userMetadata)
	return o, err
}

// fields are the object as Storage serializes it.
func (o *objectRow) fields() jsonObj {
	return jsonObj{
		{"name", o.name}, {"bucket_id", o.bucketID}, {"owner", strOrEmpty(o.owner)}, {"owner_id", strOrEmpty(o.ownerID)},
		{"version", strOrEmpty(o.version)}, {"id", o.id}, {"updated_at", jsTimeOrNull(o.updatedAt)},
		{"created_at", jsTimeOrNull(o.createdAt)}, {"last_accessed_at", jsTimeOrNull(o.lastAccessedAt)},
		{"metadata", rawOrNull(o.metadata)}, {"user_metadata", rawOrNull(o.userMetadata)},
	}
}

// objectMeta is what the metadata column says about the bytes.
type objectMeta struct {
	eTag, mimetype, cacheControl string
	size, contentLength          *int64
	lastModified                 time.Time
}

func parseMeta(raw []byte) objectMeta {
	var m map[string]any
	json.Unmarshal(raw, &m)
	num := func(k string) *int64 {
		switch v := m[k].(type) {
		case float64:
			n := int64(v)
			return &n
		case string:
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				return &n
			}
		}
		return nil
	}
	str := func(k string) string { s, _ := m[k].(string); return s }
	om := objectMeta{eTag: str("eTag"), mimetype: str("mimetype"), cacheControl: str("cacheControl"),
		size: num("size"), contentLength: num("contentLength")}
	om.lastModified, _ = time.Parse(time.RFC3339Nano, str("lastModified"))
	return om
}

func isEmptyFolder(name string) bool { return strings.HasSuffix(name, ".emptyFolderPlaceholder") }

// checkMime is Storage's test of a content type against a bucket's
// allowed_mime_types, where "image/*" allows any image type. The type is
// compared as sent: parameters count ("text/plain;charset=UTF-8" is not
// "text/plain").
func checkMime(m string, allowed []string) error {
	req := strings.Split(m, "/")
	if len(req) < 2 {
		return errMimeType(m)
	}
	for _, a := range allowed {
		al := strings.Split(a, "/")
		if len(al) >= 2 && al[0] == req[0] && (al[1] == "*" || al[1] == req[1]) {
			return nil
		}
	}
	return errMimeType(m)
}

// parseUserMetadata reads x-metadata: base64 of a JSON object. Anything
// else is ignored, as Storage ignores it.
func parseUserMetadata(v string) []byte {
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil
	}
	return jsonObject(b)
}

func jsonObject(b []byte) []byte {
	var m map[string]any
	if json.Unmarshal(b, &m) != nil || m == nil {
		return nil
	}
	out, _ := json.Marshal(m)
	return out
}

// uploadSource is the file of an upload request: a binary body, or the
// first file of a multipart/form-data body (with the form fields before it).
type uploadSource struct {
	body         io.Reader
	mime         string
	cacheControl string
	userMeta     []byte // a JSON object, nil when none was given
	declared     *int64 // the request's Content-Length
}

// maxUserMetadata is the most custom metadata Storage takes in a form field.
const maxUserMetadata = 1 << 20

func (c *storageCall) uploadSource(name string, max int64, allowed []string) (*uploadSource, error) {
	src := &uploadSource{}
	if c.r.ContentLength >= 0 {
		n := c.r.ContentLength
		src.declared = &n
	}
	check := len(allowed) > 0 && !isEmptyFolder(name)
	if strings.HasPrefix(c.r.Header.Get("Content-Type"), "multipart/form-data") {
		mr, err := c.r.MultipartReader()
		if err != nil {
			return nil, errNoContent()
		}
		fields := map[string]string{}
		for {
			part, err := mr.NextPart()
			if err != nil {
				return nil, errNoContent()
			}
			if part.FileName() == "" {
				v, err := io.ReadAll(io.LimitReader(part, maxUserMetadata+1))
				if err != nil {
					return nil, errNoContent()
				}
				if len(v) > maxUserMetadata && (part.FormName() == "metadata" || part.FormName() == "userMetadata") {
					return nil, errTooLarge("user_metadata")
				}
				if len(fields) < 10 {
					fields[part.FormName()] = string(v)
				}
				continue
			}
			src.body = part
			src.mime = fields["contentType"]
			if src.mime == "" {
				src.mime = part.Header.Get("Content-Type")
			}
			if src.mime == "" {
				src.mime = "application/octet-stream"
			}
			src.cacheControl = "no-cache"
			if v := fields["cacheControl"]; v != "" {
				src.cacheControl = "max-age=" + v
			}
			md, ok := fields["metadata"]
			if !ok {
				md = fields["userMetadata"]
			}
			src.userMeta = jsonObject([]byte(md))
			if check {
				if err := checkMime(src.mime, allowed); err != nil {
					return nil, err
				}
			}
			return src, nil
		}
	}
	src.body = c.r.Body
	src.mime = c.r.Header.Get("Content-Type")
	if src.mime == "" {
		src.mime = "application/octet-stream"
	}
	src.cacheControl = c.r.Header.Get("Cache-Control")
	if src.cacheControl == "" {
		src.cacheControl = "no-cache"
	}
	if check {
		if err := checkMime(src.mime, allowed); err != nil {
			return nil, err
		}
	}
	if v := c.r.Header.Get("x-metadata"); v != "" {
		src.userMeta = parseUserMetadata(v)
	}
	if src.declared != nil && *src.declared > max {
		return nil, errTooLarge("object")
	}
	return src, nil
}

// objectWrite is a row an upload or copy writes.
type objectWrite struct {
	bucket, name   string
	owner, ownerID any
	version        string
	metadata       any
	userMeta       []byte
	upsert         bool
}

// writeObjectRow inserts the row, or with upsert inserts or replaces it
// (INSERT ... ON CONFLICT DO UPDATE, so the UPDATE and SELECT policies
// decide too), and returns its id.
func writeObjectRow(ctx context.Context, tx pgx.Tx, w objectWrite) (string, error) {
	md, err := json.Marshal(w.metadata)
	if err != nil {
		return "", err
	}
	var um any
	if w.userMeta != nil {
		um = string(w.userMeta)
	}
	if !w.upsert {
		id := newUUID()
		_, err := tx.Exec(ctx, `INSERT INTO storage.objects (id, bucket_id, name, owner, owner_id, metadata, user_metadata, version)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, id, w.bucket, w.name, w.owner, w.ownerID, string(md), um, w.version)
		return id, err
	}
	set := "metadata = excluded.metadata, version = excluded.version"
	if w.userMeta != nil {
		set += ", user_metadata = excluded.user_metadata"
	}
	if w.ownerID != nil {
		set += ", owner = excluded.owner, owner_id = excluded.owner_id"
	}
	var id string
	err = tx.QueryRow(ctx, `INSERT INTO storage.objects (bucket_id, name, owner, owner_id, metadata, user_metadata, version)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name, bucket_id) DO UPDATE SET `+set+` RETURNING id::text`,
		w.bucket, w.name, w.owner, w.ownerID, string(md), um, w.version).Scan(&id)
	return id, err
}

// duplicateAsKey reports a unique violation of an object insert as Storage
// does.
func duplicateAsKey(err error) error {
	if isPgCode(err, "23505") {
		return errKeyExists()
	}
	return err
}

// putObject stores an upload: POST (create), PUT (create or replace) or the
// PUT of a signed upload URL (super: as Storage's admin role, the caller's
// permission having been checked when the URL was signed). As Storage
// does, it asks the database whether the write is allowed before reading
// the body, then streams the body to disk and records the row.
func (c *storageCall) putObject(bucket, name, owner string, upsert, super bool) (string, error) {
	if !validBucketName(bucket) {
		return "", errInvalidBucketName()
	}
	ctx := c.r.Context()
	var limit *int64
	var allowed []string
	err := c.s.pool.QueryRow(ctx, `SELECT file_size_limit, allowed_mime_types FROM storage.buckets WHERE id = $1`, bucket).Scan(&limit, &allowed)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", errNoSuchBucket()
	}
	if err != nil {
		return "", err
	}
	var max int64 // an empty folder's placeholder has no bytes
	if !isEmptyFolder(name) {
		max = c.s.cfg.FileSizeLimit
		if limit != nil && *limit < max {
			max = *limit
		}
	}
	src, err := c.uploadSource(name, max, allowed)
	if err != nil {
		return "", err
	}
	if !validKey(name) {
		return "", errInvalidKey(name)
	}
	ownerCol, ownerID := ownerColumns(owner)
	declared := jsonObj{{"mimetype", src.mime}}
	if src.declared != nil {
		declared = append(declared, kv{"contentLength", *src.declared})
	}
	err = c.test(super, func(ctx context.Context, tx pgx.Tx) error {
		_, err := writeObjectRow(ctx, tx, objectWrite{bucket: bucket, name: name, owner: ownerCol, ownerID: ownerID,
			version: "1", metadata: declared, userMeta: src.userMeta, upsert: upsert})
		return err
	})
	if err != nil {
		return "", duplicateAsKey(err)
	}

	p, err := c.s.store.write(src.body, max)
	if errors.Is(err, errBodyTooLarge) {
		return "", errTooLarge("object")
	}
	if err != nil {
		return "", err
	}
	version := newUUID()
	if err := p.commit(version); err != nil {
		return "", err
	}
	meta := jsonObj{{"eTag", `"` + p.md5 + `"`}, {"size", p.size}, {"mimetype", src.mime}, {"cacheControl", src.cacheControl},
		{"lastModified", jsTime(time.Now())}, {"contentLength", p.size}, {"httpStatusCode", 200}}
	userMeta := src.userMeta
	if userMeta == nil {
		userMeta = []byte("{}")
	}
	var id string
	var old *string
	err = c.tx(super, func(ctx context.Context, tx pgx.Tx) error {
		if err := lockObjects(ctx, tx, bucket+"/"+name); err != nil {
			return err
		}
		if upsert {
			err := tx.QueryRow(ctx, `SELECT version FROM storage.objects WHERE bucket_id = $1 AND name = $2`, bucket, name).Scan(&old)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		}
		var err error
		id, err = writeObjectRow(ctx, tx, objectWrite{bucket: bucket, name: name, owner: ownerCol, ownerID: ownerID,
			version: version, metadata: meta, userMeta: userMeta, upsert: upsert})
		return err
	})
	if err != nil {
		c.s.store.remove(version)
		return "", duplicateAsKey(err)
	}
	if old != nil {
		c.s.store.remove(*old)
	}
	return id, nil
}

func (c *storageCall) uploadObject(p map[string]string) error {
	if err := c.authenticate(false); err != nil {
		return err
	}
	id, err := c.putObject(p["bucket"], p["path"], c.sub, c.r.Header.Get("x-upsert") == "true", false)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, jsonObj{{"Id", id}, {"Key", p["bucket"] + "/" + p["path"]}})
	return nil
}

// updateObject is PUT: Storage's update is an upsert.
func (c *storageCall) updateObject(p map[string]string) error {
	if err := c.authenticate(false); err != nil {
		return err
	}
	id, err := c.putObject(p["bucket"], p["path"], c.sub, true, false)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, jsonObj{{"Id", id}, {"Key", p["bucket"] + "/" + p["path"]}})
	return nil
}

// bucketInfo is whether a bucket exists and is public, as the superuser
// sees it.
func (c *storageCall) bucketInfo(bucket string) (exists, public bool, err error) {
	var pub *bool
	err = c.s.pool.QueryRow(c.r.Context(), `SELECT public FROM storage.buckets WHERE id = $1`, bucket).Scan(&pub)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, false, nil
	}
	return err == nil, pub != nil && *pub, err
}

// findObject reads an object's row as the caller (row level security
// decides: an object the caller may not see is not found) or as the
// superuser.
func (c *storageCall) findObject(super bool, bucket, name string) (*objectRow, error) {
	if !validKey(name) {
		return nil, errInvalidKey(name)
	}
	var o *objectRow
	err := c.tx(super, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		o, err = scanObject(tx.QueryRow(ctx, `SELECT `+objectColumns+` FROM storage.objects WHERE name = $1 AND bucket_id = $2 LIMIT 1`, name, bucket))
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errNoSuchKey()
	}
	return o, err
}

// render is how an object is answered: its bytes, its headers only, or
// its info as JSON.
type render int

const (
	renderAsset render = iota
	renderHead
	renderInfo
)

// readObject serves GET and HEAD /object/[authenticated/]{bucket}/{path}
// and GET /object/info/[authenticated/]...: lenient routes take a missing
// or invalid token as an anonymous caller, who reaches only public
// buckets. Objects of public buckets are read without row level security,
// others as the caller.
func (c *storageCall) readObject(p map[string]string, lenient bool, how render) error {
	if err := c.authenticate(lenient); err != nil {
		return err
	}
	bucket, name := p["bucket"], p["path"]
	exists, public, err := c.bucketInfo(bucket)
	if err != nil {
		return err
	}
	if !exists || (!c.authed && !public) {
		return errNoSuchBucket()
	}
	if !validBucketName(bucket) {
		return errInvalidBucketName()
	}
	o, err := c.findObject(public, bucket, name)
	if err != nil {
		return err
	}
	return c.render(o, how, "")
}

func (c *storageCall) getObject(p map[string]string) error { return c.readObject(p, true, renderAsset) }
func (c *storageCall) headObject(p map[string]string) error {
	return c.readObject(p, true, renderHead)
}
func (c *storageCall) getAuthenticated(p map[string]string) error {
	return c.readObject(p, false, renderAsset)
}
func (c *storageCall) headAuthenticated(p map[string]string) error {
	return c.readObject(p, false, renderHead)
}
func (c *storageCall) info(p map[string]string) error { return c.readObject(p, true, renderInfo) }
func (c *storageCall) infoAuthenticated(p map[string]string) error {
	return c.readObject(p, false, renderInfo)
}

// readPublic serves the public routes, which take no token: the bucket
// must be public.
func (c *storageCall) readPublic(p map[string]string, how render) error {
	bucket, name := p["bucket"], p["path"]
	exists, public, err := c.bucketInfo(bucket)
	if err != nil {
		return err
	}
	if !exists || !public {
		return errNoSuchBucket()
	}
	if !validBucketName(bucket) {
		return errInvalidBucketName()
	}
	o, err := c.findObject(true, bucket, name)
	if err != nil {
		return err
	}
	return c.render(o, how, "")
}

func (c *storageCall) getPublic(p map[string]string) error  { return c.readPublic(p, renderAsset) }
func (c *storageCall) headPublic(p map[string]string) error { return c.readPublic(p, renderHead) }
func (c *storageCall) infoPublic(p map[string]string) error { return c.readPublic(p, renderInfo) }

// encodeURIComponent escapes as JavaScript's function of that name.
func encodeURIComponent(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// rangeRe is the one form of Range Storage serves: a single byte range.
var rangeRe = regexp.MustCompile(`^bytes=(\d*)-(\d*)$`)

func validRange(h string, size int64) bool {
	m := rangeRe.FindStringSubmatch(h)
	if m == nil || size <= 0 || (m[1] == "" && m[2] == "") {
		return false
	}
	if m[1] == "" {
		n, err := strconv.ParseInt(m[2], 10, 64)
		return err == nil && n > 0
	}
	from, err := strconv.ParseInt(m[1], 10, 64)
	to := size - 1
	if err == nil && m[2] != "" {
		to, err = strconv.ParseInt(m[2], 10, 64)
	}
	return err == nil && to >= from && from < size
}

// render answers an object as Storage's renderers do. expires is set for
// signed URLs, which answer Expires instead of Cache-Control.
func (c *storageCall) render(o *objectRow, how render, expires string) error {
	m := parseMeta(o.metadata)
	h := c.w.Header()
	if how == renderInfo {
		h.Set("Content-Type", "application/json")
		if m.eTag != "" {
			h.Set("ETag", m.eTag)
		}
		if !m.lastModified.IsZero() {
			h.Set("Last-Modified", m.lastModified.UTC().Format(http.TimeFormat))
		}
		if m.cacheControl != "" {
			h.Set("Cache-Control", m.cacheControl)
		}
		nullStr := func(s string) any {
			if s == "" {
				return nil
			}
			return s
		}
		var size any
		if m.size != nil {
			size = *m.size
		}
		var version any
		if o.version != nil {
			version = *o.version
		}
		writeJSON(c.w, http.StatusOK, jsonObj{
			{"id", o.id}, {"name", o.name}, {"version", version}, {"bucket_id", o.bucketID}, {"size", size},
			{"content_type", nullStr(m.mimetype)}, {"cache_control", nullStr(m.cacheControl)}, {"etag", nullStr(m.eTag)},
			{"metadata", rawOrNull(o.userMetadata)}, {"last_modified", jsTimeOrNull(o.updatedAt)},
			{"created_at", jsTimeOrNull(o.createdAt)},
		})
		return nil
	}

	contentType := m.mimetype
	if strings.Contains(contentType, "text/html") {
		contentType = "text/plain" // never served as a page from the API's origin
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	h.Set("Accept-Ranges", "bytes")
	h.Set("Content-Type", contentType)
	if m.eTag != "" {
		h.Set("ETag", m.eTag)
	}
	h.Set("X-Robots-Tag", "none")
	cacheControl := m.cacheControl
	if inm := c.r.Header.Get("If-None-Match"); inm != "" && cacheControl != "" {
		if how == renderHead && inm != m.eTag {
			cacheControl += ", must-revalidate"
		} else if how == renderAsset && inm != m.eTag {
			cacheControl += ", stale-while-revalidate=30"
		}
	}
	if expires != "" {
		h.Set("Expires", expires)
	} else if cacheControl != "" {
		h.Set("Cache-Control", cacheControl)
	}
	if d, ok := c.r.URL.Query()["download"]; ok && how == renderAsset {
		if d[0] == "" {
			h.Set("Content-Disposition", "attachment;")
		} else {
			name := encodeURIComponent(d[0])
			h.Set("Content-Disposition", "attachment; filename="+name+"; filename*=UTF-8''"+name)
		}
	}
	if how == renderHead {
		if !m.lastModified.IsZero() {
			h.Set("Last-Modified", m.lastModified.UTC().Format(http.TimeFormat))
		}
		if m.contentLength != nil {
			h.Set("Content-Length", strconv.FormatInt(*m.contentLength, 10))
		}
		c.w.WriteHeader(http.StatusOK)
		return nil
	}

	f, err := c.s.store.open(strOrEmpty(o.version))
	var size int64
	var mod time.Time
	if err == nil {
		st, serr := f.Stat()
		if serr != nil {
			f.Close()
			return serr
		}
		size, mod = st.Size(), st.ModTime()
		defer f.Close()
	}
	if err != nil {
		// The row is there but not its bytes (it was written in SQL).
		for _, k := range []string{"Accept-Ranges", "Content-Type", "ETag", "X-Robots-Tag", "Expires", "Cache-Control", "Content-Disposition"} {
			h.Del(k)
		}
		h.Set("Cache-Control", "no-store")
		writeJSON(c.w, http.StatusBadRequest, jsonObj{{"error", "Not found"}, {"message", "The resource was not found"},
			{"statusCode", "404"}, {"code", "NoSuchKey"}})
		return nil
	}
	if rng := c.r.Header.Get("Range"); rng != "" && !validRange(rng, size) {
		for _, k := range []string{"Accept-Ranges", "Content-Type", "ETag", "X-Robots-Tag", "Expires", "Cache-Control", "Content-Disposition"} {
			h.Del(k)
		}
		return errInvalidRange()
	}
	// ServeContent streams the file and answers Range, If-None-Match and
	// If-Modified-Since as Storage's file backend does.
	http.ServeContent(c.w, c.r, "", mod, f)
	return nil
}

// listObjects is POST /object/list/{bucket}: one level of the bucket under
// a prefix, folders and files, through storage.search as the caller.
func (c *storageCall) listObjects(p map[string]string) error {
	if err := c.authenticate(false); err != nil {
		return err
	}
	bucket := p["bucket"]
	if !validBucketName(bucket) {
		return errInvalidBucketName()
	}
	b, err := c.readJSON()
	if err != nil {
		return err
	}
	if err := b.require("prefix"); err != nil {
		return err
	}
	prefix, _, err := b.str("prefix")
	if err != nil {
		return err
	}
	limit, hasLimit, err := b.integer("limit", 1)
	if err != nil {
		return err
	}
	if !hasLimit {
		limit = 100
	}
	offset, _, err := b.integer("offset", 0)
	if err != nil {
		return err
	}
	search, _, err := b.str("search")
	if err != nil {
		return err
	}
	column, order, err := sortBy(b, "name", "updated_at", "created_at", "last_accessed_at")
	if err != nil {
		return err
	}
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/" // a prefix is a folder
	}
	levels := len(strings.Split(prefix+search, "/"))
	out := []jsonObj{}
	err = c.tx(false, func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT name, id::text, updated_at, created_at, last_accessed_at, metadata
			FROM storage.search($1, $2, $3, $4, $5, $6, $7, $8)`, prefix, bucket, limit, levels, offset, search, column, order)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var name string
			var id *string
			var upd, cre, acc *time.Time
			var md []byte
			if err := rows.Scan(&name, &id, &upd, &cre, &acc, &md); err != nil {
				return err
			}
			var idv any
			if id != nil {
				idv = *id
			}
			out = append(out, jsonObj{{"name", name}, {"id", idv}, {"updated_at", jsTimeOrNull(upd)},
				{"created_at", jsTimeOrNull(cre)}, {"last_accessed_at", jsTimeOrNull(acc)}, {"metadata", rawOrNull(md)}})
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, out)
	return nil
}

// sortBy reads {"sortBy": {"column", "order"}}.
func sortBy(b jsonBody, columns ...string) (column, order string, err error) {
	column, order = "name", "asc"
	v, ok := b["sortBy"]
	if !ok {
		return column, order, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return "", "", errValidation("body/sortBy must be object")
	}
	sb := jsonBody(m)
	if err := sb.require("column"); err != nil {
		return "", "", errValidation("body/sortBy must have required property 'column'")
	}
	col, _, err := sb.str("column")
	if err != nil || !contains(columns, col) {
		return "", "", errValidation("body/sortBy/column must be equal to one of the allowed values")
	}
	ord, has, err := sb.str("order")
	if err != nil || (has && ord != "asc" && ord != "desc") {
		return "", "", errValidation("body/sortBy/order must be equal to one of the allowed values")
	}
	if has {
		order = ord
	}
	return col, order, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// moveCopyBody reads the body move and copy share.
func (c *storageCall) moveCopyBody() (b jsonBody, bucket, src, dstBucket, dst string, err error) {
	if b, err = c.readJSON(); err != nil {
		return
	}
	for _, n := range []string{"bucketId", "sourceKey", "destinationKey"} {
		if err = b.require(n); err != nil {
			return
		}
	}
	if bucket, _, err = b.str("bucketId"); err != nil {
		return
	}
	if src, _, err = b.str("sourceKey"); err != nil {
		return
	}
	if dst, _, err = b.str("destinationKey"); err != nil {
		return
	}
	if dstBucket, _, err = b.str("destinationBucket"); err != nil {
		return
	}
	if dstBucket == "" {
		dstBucket = bucket
	}
	if !validBucketName(bucket) {
		err = errInvalidBucketName()
		return
	}
	if !validKey(dst) {
		err = errInvalidKey(dst)
	}
	return
}

// moveObject renames an object (possibly into another bucket) as the
// caller: the source must be visible and the UPDATE allowed by the
// policies for both the old and the new row. The bytes stay where they are.
func (c *storageCall) moveObject(map[string]string) error {
	if err := c.authenticate(false); err != nil {
		return err
	}
	_, bucket, src, dstBucket, dst, err := c.moveCopyBody()
	if err != nil {
		return err
	}
	owner, ownerID := ownerColumns(c.sub)
	var id string
	err = c.tx(false, func(ctx context.Context, tx pgx.Tx) error {
		if err := lockObjects(ctx, tx, bucket+"/"+src, dstBucket+"/"+dst); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT id::text FROM storage.objects WHERE name = $1 AND bucket_id = $2`, src, bucket).Scan(&id); err != nil {
			return err
		}
		set := "name = $3, bucket_id = $4"
		args := []any{bucket, src, dst, dstBucket}
		if ownerID != nil {
			set += ", owner = $5, owner_id = $6"
			args = append(args, owner, ownerID)
		}
		return tx.QueryRow(ctx, `UPDATE storage.objects SET `+set+` WHERE bucket_id = $1 AND name = $2 RETURNING id::text`, args...).Scan(&id)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return errNoSuchKey()
	}
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, jsonObj{{"message", "Successfully moved"}, {"Id", id}, {"Key", dst}})
	return nil
}

// copyObject copies an object (possibly into another bucket): the source
// must be visible to the caller and the destination writable by them (an
// INSERT, or with x-upsert an upsert).
func (c *storageCall) copyObject(map[string]string) error {
	if err := c.authenticate(false); err != nil {
		return err
	}
	b, bucket, srcKey, dstBucket, dst, err := c.moveCopyBody()
	if err != nil {
		return err
	}
	copyMeta, hasCopyMeta, err := b.boolean("copyMetadata")
	if err != nil {
		return err
	}
	if !hasCopyMeta {
		copyMeta = true
	}
	upsert := c.r.Header.Get("x-upsert") == "true"
	src, err := c.findObject(false, bucket, srcKey)
	if err != nil {
		return err
	}
	meta := map[string]any{}
	json.Unmarshal(src.metadata, &meta)
	if meta == nil {
		meta = map[string]any{}
	}
	userMeta := src.userMetadata
	if !copyMeta {
		if over, ok := b["metadata"].(map[string]any); ok {
			if v, ok := over["cacheControl"].(string); ok {
				meta["cacheControl"] = v
			}
			if v, ok := over["mimetype"].(string); ok {
				meta["mimetype"] = v
			}
		}
		userMeta = nil
		if v := c.r.Header.Get("x-metadata"); v != "" {
			userMeta = parseUserMetadata(v)
		}
	}
	owner, ownerID := ownerColumns(c.sub)
	row := objectWrite{bucket: dstBucket, name: dst, owner: owner, ownerID: ownerID, version: "1", metadata: meta, userMeta: userMeta, upsert: upsert}
	if err := c.test(false, func(ctx context.Context, tx pgx.Tx) error {
		_, err := writeObjectRow(ctx, tx, row)
		return err
	}); err != nil {
		return duplicateAsKey(err)
	}

	f, err := c.s.store.open(strOrEmpty(src.version))
	if err != nil {
		return errNoSuchKey()
	}
	p, err := c.s.store.write(f, 1<<62)
	f.Close()
	if err != nil {
		return err
	}
	row.version = newUUID()
	if err := p.commit(row.version); err != nil {
		return err
	}
	meta["eTag"] = `"` + p.md5 + `"`
	meta["lastModified"] = jsTime(time.Now())
	var id string
	var old *string
	err = c.tx(false, func(ctx context.Context, tx pgx.Tx) error {
		if err := lockObjects(ctx, tx, dstBucket+"/"+dst); err != nil {
			return err
		}
		if upsert {
			err := tx.QueryRow(ctx, `SELECT version FROM storage.objects WHERE bucket_id = $1 AND name = $2`, dstBucket, dst).Scan(&old)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		}
		var err error
		id, err = writeObjectRow(ctx, tx, row)
		return err
	})
	if err != nil {
		c.s.store.remove(row.version)
		return duplicateAsKey(err)
	}
	if old != nil {
		c.s.store.remove(*old)
	}
	o, err := scanObject(c.s.pool.QueryRow(c.r.Context(), `SELECT `+objectColumns+` FROM storage.objects WHERE id = $1`, id))
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, append(jsonObj{{"Id", id}, {"Key", dstBucket + "/" + dst}}, o.fields()...))
	return nil
}

// deleteObject deletes one object as the caller: a missing object is not
// found, one the policies keep from the caller is access denied.
func (c *storageCall) deleteObject(p map[string]string) error {
	if err := c.authenticate(false); err != nil {
		return err
	}
	bucket, name := p["bucket"], p["path"]
	if !validBucketName(bucket) {
		return errInvalidBucketName()
	}
	var version *string
	err := c.tx(false, func(ctx context.Context, tx pgx.Tx) error {
		if err := lockObjects(ctx, tx, bucket+"/"+name); err != nil {
			return err
		}
		var exists bool
		if err := c.s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM storage.objects WHERE bucket_id = $1 AND name = $2)`, bucket, name).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return errNoSuchKey()
		}
		err := tx.QueryRow(ctx, `DELETE FROM storage.objects WHERE name = $1 AND bucket_id = $2 RETURNING version`, name, bucket).Scan(&version)
		if errors.Is(err, pgx.ErrNoRows) {
			return errAccessDenied("Access denied")
		}
		return err
	})
	if err != nil {
		return err
	}
	if version != nil {
		c.s.store.remove(*version)
	}
	writeJSON(c.w, http.StatusOK, jsonObj{{"message", "Successfully deleted"}})
	return nil
}

// deleteObjects is DELETE /object/{bucket} with {"prefixes": [names]}: it
// deletes those the caller may delete and answers them.
func (c *storageCall) deleteObjects(p map[string]string) error {
	if err := c.authenticate(false); err != nil {
		return err
	}
	bucket := p["bucket"]
	if !validBucketName(bucket) {
		return errInvalidBucketName()
	}
	b, err := c.readJSON()
	if err != nil {
		return err
	}
	names, err := stringList(b, "prefixes", 1, 1000)
	if err != nil {
		return err
	}
	keys := make([]string, len(names))
	for i, n := range names {
		keys[i] = bucket + "/" + n
	}
	out := []jsonObj{}
	var versions []string
	err = c.tx(false, func(ctx context.Context, tx pgx.Tx) error {
		if err := lockObjects(ctx, tx, keys...); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `DELETE FROM storage.objects WHERE bucket_id = $1 AND name = ANY($2) RETURNING `+objectColumns, bucket, names)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			o, err := scanObject(rows)
			if err != nil {
				return err
			}
			out = append(out, o.fields())
			if o.version != nil {
				versions = append(versions, *o.version)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	c.s.store.remove(versions...)
	writeJSON(c.w, http.StatusOK, out)
	return nil
}

// stringList reads a required array of strings with at least min and at
// most max items.
func stringList(b jsonBody, name string, min, max int) ([]string, error) {
	if err := b.require(name); err != nil {
		return nil, err
	}
	arr, ok := b[name].([]any)
	if !ok {
		return nil, errValidation("body/" + name + " must be array")
	}
	if len(arr) < min {
		return nil, errValidation("body/" + name + " must NOT have fewer than " + strconv.Itoa(min) + " items")
	}
	if len(arr) > max {
		return nil, errValidation("body/" + name + " must NOT have more than " + strconv.Itoa(max) + " items")
	}
	out := make([]string, len(arr))
	for i, v := range arr {
		s, ok := v.(string)
		if !ok {
			return nil, errValidation("body/" + name + "/" + strconv.Itoa(i) + " must be string")
		}
		out[i] = s
	}
	return out, nil
}

// expiresIn reads a signing request's expiresIn.
func (c *storageCall) expiresIn(b jsonBody) (int64, error) {
	if err := b.require("expiresIn"); err != nil {
		return 0, err
	}
	n, _, err := b.integer("expiresIn", 1)
	if err != nil {
		return 0, err
	}
	if n > c.s.maxExpiresIn() {
		return 0, errInvalidParameter("expiresIn")
	}
	return n, nil
}

// transformations is the transformations claim of a signed URL for a
// transformed image, as Storage writes it.
func transformations(t map[string]any) (string, string) {
	if t == nil {
		return "", ""
	}
	str := func(k string) string {
		switch v := t[k].(type) {
		case string:
			return v
		case json.Number:
			if v.String() == "0" {
				return ""
			}
			return v.String()
		}
		return ""
	}
	var segs []string
	if h := str("height"); h != "" {
		segs = append(segs, "height:"+h)
	}
	if w := str("width"); w != "" {
		segs = append(segs, "width:"+w)
	}
	if str("height") != "" || str("width") != "" {
		r := str("resize")
		if r == "" {
			r = "undefined" // as Storage writes a missing value
		}
		segs = append(segs, "resize:"+r)
	}
	if q := str("quality"); q != "" {
		segs = append(segs, "quality:"+q)
	}
	format := str("format")
	if format != "" && format != "origin" {
		segs = append(segs, "format:"+format)
	}
	return strings.Join(segs, ","), format
}

// signURL is POST /object/sign/{bucket}/{path}: a URL that downloads the
// object without a token until it expires. The caller must be able to see
// the object.
func (c *storageCall) signURL(p map[string]string) error {
	if err := c.authenticate(false); err != nil {
		return err
	}
	bucket, name := p["bucket"], p["path"]
	if !validBucketName(bucket) {
		return errInvalidBucketName()
	}
	b, err := c.readJSON()
	if err != nil {
		return err
	}
	exp, err := c.expiresIn(b)
	if err != nil {
		return err
	}
	tm, _ := b["transform"].(map[string]any)
	trans, format := transformations(tm)
	if _, err := c.findObject(false, bucket, name); err != nil {
		return err
	}
	claims := jsonObj{}
	route := "/object/sign/"
	if trans != "" {
		claims = append(claims, kv{"transformations", trans})
		if format != "" {
			claims = append(claims, kv{"format", format})
		}
		route = "/render/image/sign/"
	}
	claims = append(claims, kv{"url", bucket + "/" + name}, kv{"scope", "download"})
	tok, err := c.s.signToken(claims, exp)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, jsonObj{{"signedURL", route + bucket + "/" + name + "?token=" + tok}})
	return nil
}

// signURLs is POST /object/sign/{bucket}: signed URLs for the listed
// objects the caller can see, an error for the others.
func (c *storageCall) signURLs(p map[string]string) error {
	if err := c.authenticate(false); err != nil {
		return err
	}
	bucket := p["bucket"]
	if !validBucketName(bucket) {
		return errInvalidBucketName()
	}
	b, err := c.readJSON()
	if err != nil {
		return err
	}
	exp, err := c.expiresIn(b)
	if err != nil {
		return err
	}
	paths, err := stringList(b, "paths", 1, 1000)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	err = c.tx(false, func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT name FROM storage.objects WHERE bucket_id = $1 AND name = ANY($2::text[])`, bucket, paths)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				return err
			}
			seen[n] = true
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	out := make([]jsonObj, len(paths))
	for i, path := range paths {
		if !seen[path] {
			out[i] = jsonObj{{"error", "Either the object does not exist or you do not have access to it"}, {"path", path}, {"signedURL", nil}}
			continue
		}
		tok, err := c.s.signToken(jsonObj{{"url", bucket + "/" + path}, {"scope", "download"}}, exp)
		if err != nil {
			return err
		}
		out[i] = jsonObj{{"error", nil}, {"path", path}, {"signedURL", "/object/sign/" + bucket + "/" + path + "?token=" + tok}}
	}
	writeJSON(c.w, http.StatusOK, out)
	return nil
}

// signedUploadExpiry is how long a signed upload URL works (Supabase's
// documented two hours).
const signedUploadExpiry = 2 * 60 * 60

// signUploadURL is POST /object/upload/sign/{bucket}/{path}: a URL anyone
// can upload that one object to, once the caller's permission to write it
// (an INSERT, or with x-upsert an upsert) has been checked.
func (c *storageCall) signUploadURL(p map[string]string) error {
	if err := c.authenticate(false); err != nil {
		return err
	}
	bucket, name := p["bucket"], p["path"]
	if !validBucketName(bucket) {
		return errInvalidBucketName()
	}
	upsert := c.r.Header.Get("x-upsert") == "true"
	var userMeta []byte
	if v := c.r.Header.Get("x-metadata"); v != "" {
		userMeta = parseUserMetadata(v)
	}
	declared := jsonObj{}
	if ct := c.r.Header.Get("Content-Type"); ct != "" {
		declared = append(declared, kv{"mimetype", ct})
	}
	if c.r.ContentLength >= 0 {
		declared = append(declared, kv{"contentLength", c.r.ContentLength})
	}
	owner, ownerID := ownerColumns(c.sub)
	if err := c.test(false, func(ctx context.Context, tx pgx.Tx) error {
		_, err := writeObjectRow(ctx, tx, objectWrite{bucket: bucket, name: name, owner: owner, ownerID: ownerID,
			version: "1", metadata: declared, userMeta: userMeta, upsert: upsert})
		return err
	}); err != nil {
		return duplicateAsKey(err)
	}
	claims := jsonObj{}
	if c.sub != "" {
		claims = append(claims, kv{"owner", c.sub})
	}
	claims = append(claims, kv{"url", bucket + "/" + name}, kv{"upsert", upsert}, kv{"scope", "upload"})
	tok, err := c.s.signToken(claims, signedUploadExpiry)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, jsonObj{{"url", "/object/upload/sign/" + bucket + "/" + name + "?token=" + tok}, {"token", tok}})
	return nil
}

// verifySigned checks a signed URL's token as Storage does: signature and
// expiry, the scope it was issued for, and the object it names.
func (c *storageCall) verifySigned(bucket, name, scope string) (map[string]any, error) {
	q := c.r.URL.Query()
	if !q.Has("token") {
		return nil, errValidation("querystring must have required property 'token'")
	}
	_, claims, err := joseVerify(c.s.cfg.JWTSecret, q.Get("token"), c.s.now())
	if err != nil {
		return nil, errInvalidJWT(err.Error())
	}
	sc, hasScope := claims["scope"]
	_, hasUpsert := claims["upsert"]
	ok := sc == scope
	if !hasScope {
		ok = hasUpsert == (scope == "upload") // tokens from before scopes
	}
	if !ok {
		return nil, errInvalidSignature("Token is not scoped for " + scope)
	}
	if u, _ := claims["url"].(string); u != bucket+"/"+name {
		return nil, errInvalidSignature("")
	}
	if exp, ok := claims["exp"].(float64); ok && int64(exp) < c.s.now().Unix() {
		return nil, errExpiredSignature()
	}
	return claims, nil
}

// uploadSigned is PUT /object/upload/sign/{bucket}/{path}?token=: the
// upload a signed upload URL allows, without the caller's own token.
func (c *storageCall) uploadSigned(p map[string]string) error {
	bucket, name := p["bucket"], p["path"]
	if !validBucketName(bucket) {
		return errInvalidBucketName()
	}
	claims, err := c.verifySigned(bucket, name, "upload")
	if err != nil {
		return err
	}
	owner, _ := claims["owner"].(string)
	upsert, _ := claims["upsert"].(bool)
	if _, err := c.putObject(bucket, name, owner, upsert, true); err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, jsonObj{{"Key", bucket + "/" + name}})
	return nil
}

// getSigned is GET /object/sign/{bucket}/{path}?token=: a signed URL's
// download, answered with the token's expiry as Expires.
func (c *storageCall) getSigned(p map[string]string) error {
	bucket, name := p["bucket"], p["path"]
	if !validBucketName(bucket) {
		return errInvalidBucketName()
	}
	claims, err := c.verifySigned(bucket, name, "download")
	if err != nil {
		return err
	}
	o, err := c.findObject(true, bucket, name)
	if err != nil {
		return err
	}
	expires := ""
	if exp, ok := claims["exp"].(float64); ok {
		expires = time.Unix(int64(exp), 0).UTC().Format(http.TimeFormat)
	}
	return c.render(o, renderAsset, expires)
}

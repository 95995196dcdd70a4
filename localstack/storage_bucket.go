package localstack

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// bucketRow is a row of storage.buckets.
type bucketRow struct {
	id, name             string
	owner                *string
	public               *bool
	typ                  *string
	fileSizeLimit        *int64
	allowedMimeTypes     []string
	createdAt, updatedAt *time.Time
}

// fields are the bucket as Storage serializes it; withType adds type, which
// the list answers and a single bucket does not.
func (b *bucketRow) fields(withType bool) jsonObj {
	out := jsonObj{{"id", b.id}, {"name", b.name}, {"owner", strOrEmpty(b.owner)}, {"public", b.public != nil && *b.public}}
	if withType {
		out = append(out, kv{"type", strOrEmpty(b.typ)})
	}
	var mimes any
	if b.allowedMimeTypes != nil {
		mimes = b.allowedMimeTypes
	}
	var limit any
	if b.fileSizeLimit != nil {
		limit = *b.fileSizeLimit
	}
	return append(out, kv{"file_size_limit", limit}, kv{"allowed_mime_types", mimes},
		kv{"created_at", jsTimeOrNull(b.createdAt)}, kv{"updated_at", jsTimeOrNull(b.updatedAt)})
}

const bucketColumns = `id, name, owner::text, public, type::text, file_size_limit, allowed_mime_types, created_at, updated_at`

func scanBucket(row pgx.Row) (*bucketRow, error) {
	b := &bucketRow{}
	err := row.Scan(&b.id, &b.name, &b.owner, &b.public, &b.typ, &b.fileSizeLimit, &b.allowedMimeTypes, &b.createdAt, &b.updatedAt)
	return b, err
}

// escapeLike makes s match itself in a LIKE pattern.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// listBuckets is GET /bucket: the buckets the caller may see.
func (c *storageCall) listBuckets(map[string]string) error {
	if err := c.authenticate(false); err != nil {
		return err
	}
	q := c.r.URL.Query()
	sql := `SELECT ` + bucketColumns + ` FROM storage.buckets`
	var args []any
	if s := q.Get("search"); s != "" {
		args = append(args, "%"+escapeLike(s)+"%")
		sql += ` WHERE name ILIKE $1`
	}
	if col := q.Get("sortColumn"); q.Has("sortColumn") {
		if !contains([]string{"id", "name", "created_at", "updated_at"}, col) {
			return errValidation("querystring/sortColumn must be equal to one of the allowed values")
		}
		dir := "ASC"
		if ord := q.Get("sortOrder"); q.Has("sortOrder") {
			if ord != "asc" && ord != "desc" {
				return errValidation("querystring/sortOrder must be equal to one of the allowed values")
			}
			if ord == "desc" {
				dir = "DESC"
			}
		}
		sql += ` ORDER BY ` + ident(col) + ` ` + dir
	} else if ord := q.Get("sortOrder"); q.Has("sortOrder") && ord != "asc" && ord != "desc" {
		return errValidation("querystring/sortOrder must be equal to one of the allowed values")
	}
	for _, p := range []struct {
		name string
		min  int64
		sql  string
	}{{"limit", 1, " LIMIT "}, {"offset", 0, " OFFSET "}} {
		if !q.Has(p.name) {
			continue
		}
		n, err := strconv.ParseInt(q.Get(p.name), 10, 64)
		if err != nil {
			return errValidation("querystring/" + p.name + " must be integer")
		}
		if n < p.min {
			return errValidation("querystring/" + p.name + " must be >= " + strconv.FormatInt(p.min, 10))
		}
		args = append(args, n)
		sql += p.sql + "$" + strconv.Itoa(len(args))
	}
	out := []jsonObj{}
	err := c.tx(false, func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			b, err := scanBucket(rows)
			if err != nil {
				return err
			}
			out = append(out, b.fields(true))
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, out)
	return nil
}

// getBucket is GET /bucket/{id}, as the caller.
func (c *storageCall) getBucket(p map[string]string) error {
	if err := c.authenticate(false); err != nil {
		return err
	}
	var b *bucketRow
	err := c.tx(false, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		b, err = scanBucket(tx.QueryRow(ctx, `SELECT `+bucketColumns+` FROM storage.buckets WHERE id = $1 LIMIT 1`, p["bucket"]))
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return errNoSuchBucket()
	}
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, b.fields(false))
	return nil
}

// sizeRe is the form of a file size limit given as a string ("5MB").
var sizeRe = regexp.MustCompile(`(?i)^([0-9]+(?:\.[0-9]+)?)(gb|mb|kb|b)$`)

// fileSizeLimit reads a bucket's file_size_limit: bytes, a size such as
// "20MB" (decimal units, as Storage reads them), or null; never above the
// stack's own limit.
func (c *storageCall) fileSizeLimit(b jsonBody) (v any, set bool, err error) {
	raw, ok := b["file_size_limit"]
	if !ok {
		return nil, false, nil
	}
	var n float64
	switch x := raw.(type) {
	case nil:
		return nil, true, nil
	case json.Number:
		f, err := x.Float64()
		if err != nil || f != math.Trunc(f) || f < 0 {
			return nil, false, errValidation("body/file_size_limit must match a schema in anyOf")
		}
		n = f
	case string:
		m := sizeRe.FindStringSubmatch(x)
		if m == nil {
			return nil, false, errValidation("body/file_size_limit must match a schema in anyOf")
		}
		f, _ := strconv.ParseFloat(m[1], 64)
		f, _ = strconv.ParseFloat(strconv.FormatFloat(f, 'g', 3, 64), 64) // three significant digits
		n = f * map[string]float64{"gb": 1e9, "mb": 1e6, "kb": 1e3, "b": 1}[strings.ToLower(m[2])]
	default:
		return nil, false, errValidation("body/file_size_limit must match a schema in anyOf")
	}
	if n > float64(c.s.cfg.FileSizeLimit) {
		return nil, false, errTooLarge("object")
	}
	return int64(math.Round(n)), true, nil
}

// mimeTypeRe is what Storage accepts in allowed_mime_types.
var mimeTypeRe = regexp.MustCompile(`^([a-zA-Z0-9\-+.]+)/([a-zA-Z0-9\-+.]+)(;\s*charset=[a-zA-Z0-9\-]+)?$|\*$`)

// allowedMimeTypes reads a bucket's allowed_mime_types: a list (empty
// entries dropped) or null.
func allowedMimeTypes(b jsonBody) (v any, set bool, err error) {
	raw, ok := b["allowed_mime_types"]
	if !ok {
		return nil, false, nil
	}
	if raw == nil {
		return nil, true, nil
	}
	arr, ok := raw.([]any)
	if !ok {
		return nil, false, errValidation("body/allowed_mime_types must be array")
	}
	out := []string{}
	for i, x := range arr {
		s, ok := x.(string)
		if !ok {
			return nil, false, errValidation("body/allowed_mime_types/" + strconv.Itoa(i) + " must be string")
		}
		if s == "" {
			continue
		}
		if len(s) > 1000 || !mimeTypeRe.MatchString(s) {
			return nil, false, errMimeType(s)
		}
		out = append(out, s)
	}
	return out, true, nil
}

// createBucket is POST /bucket, an INSERT as the caller: without a policy
// allowing it only service_role creates buckets.
func (c *storageCall) createBucket(map[string]string) error {
	if err := c.authenticate(false); err != nil {
		return err
	}
	b, err := c.readJSON()
	if err != nil {
		return err
	}
	if err := b.require("name"); err != nil {
		return err
	}
	name, _, err := b.str("name")
	if err != nil {
		return err
	}
	id, _, err := b.str("id")
	if err != nil {
		return err
	}
	public, _, err := b.boolean("public")
	if err != nil {
		return err
	}
	typ, hasType, err := b.str("type")
	if err != nil || (hasType && typ != "STANDARD" && typ != "ANALYTICS") {
		return errValidation("body/type must be equal to one of the allowed values")
	}
	if strings.TrimSpace(name) != name || !validBucketName(name) {
		return errInvalidBucketName()
	}
	if typ == "ANALYTICS" {
		return stErr(409, "FeatureNotEnabled", "", "The feature iceberg_catalog is not enabled for this resource")
	}
	limit, _, err := c.fileSizeLimit(b)
	if err != nil {
		return err
	}
	mimes, _, err := allowedMimeTypes(b)
	if err != nil {
		return err
	}
	if id == "" {
		id = name
	}
	owner, ownerID := ownerColumns(c.sub)
	err = c.tx(false, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO storage.buckets (id, name, owner, owner_id, public, file_size_limit, allowed_mime_types, type)
			VALUES ($1, $2, $3, $4, $5, $6, $7, 'STANDARD')`, id, name, owner, ownerID, public, limit, mimes)
		return err
	})
	if isPgCode(err, "23505") {
		return errBucketExists()
	}
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, jsonObj{{"name", name}})
	return nil
}

// updateBucket is PUT /bucket/{id}: public, file_size_limit and
// allowed_mime_types, an UPDATE as the caller.
func (c *storageCall) updateBucket(p map[string]string) error {
	if err := c.authenticate(false); err != nil {
		return err
	}
	b, err := c.readJSON()
	if err != nil {
		return err
	}
	if len(b) == 0 {
		return errValidation("body must NOT have fewer than 1 properties")
	}
	var sets []string
	var args []any
	add := func(col string, v any) {
		args = append(args, v)
		sets = append(sets, col+" = $"+strconv.Itoa(len(args)))
	}
	if _, ok := b["public"]; ok {
		pub, _, err := b.boolean("public")
		if err != nil {
			return err
		}
		add("public", pub)
	}
	limit, set, err := c.fileSizeLimit(b)
	if err != nil {
		return err
	}
	if set {
		add("file_size_limit", limit)
	}
	mimes, set, err := allowedMimeTypes(b)
	if err != nil {
		return err
	}
	if set {
		add("allowed_mime_types", mimes)
	}
	if len(sets) == 0 {
		return errValidation("body must match a schema in anyOf")
	}
	bucket := p["bucket"]
	if !validBucketName(bucket) {
		return errInvalidBucketName()
	}
	args = append(args, bucket)
	err = c.tx(false, func(ctx context.Context, tx pgx.Tx) error {
		var id string
		return tx.QueryRow(ctx, `UPDATE storage.buckets SET `+strings.Join(sets, ", ")+` WHERE id = $`+strconv.Itoa(len(args))+` RETURNING id`, args...).Scan(&id)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return errNoSuchBucket()
	}
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, jsonObj{{"message", "Successfully updated"}})
	return nil
}

// deleteBucket is DELETE /bucket/{id}: only an empty bucket, deleted as
// the caller.
func (c *storageCall) deleteBucket(p map[string]string) error {
	if err := c.authenticate(false); err != nil {
		return err
	}
	bucket := p["bucket"]
	var exists, hasObjects bool
	if err := c.s.pool.QueryRow(c.r.Context(), `SELECT EXISTS (SELECT FROM storage.buckets WHERE id = $1),
		EXISTS (SELECT FROM storage.objects WHERE bucket_id = $1)`, bucket).Scan(&exists, &hasObjects); err != nil {
		return err
	}
	if !exists {
		return errNoSuchBucket()
	}
	if hasObjects {
		return stErr(409, "ResourceNotEmpty", "", "The bucket you tried to delete is not empty")
	}
	err := c.tx(false, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM storage.buckets WHERE id = $1`, bucket)
		if err == nil && tag.RowsAffected() == 0 {
			return errNoSuchBucket()
		}
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, jsonObj{{"message", "Successfully deleted"}})
	return nil
}

// emptyBucket is POST /bucket/{id}/empty, for service_role only. Storage
// queues the deletion; here it is done by the time the answer comes.
func (c *storageCall) emptyBucket(p map[string]string) error {
	if err := c.authenticate(false); err != nil {
		return err
	}
	if c.role != "service_role" {
		return errAccessDenied("Access denied: Invalid role").withHTTPStatus(http.StatusForbidden)
	}
	bucket := p["bucket"]
	var versions []string
	err := c.tx(true, func(ctx context.Context, tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM storage.buckets WHERE id = $1)`, bucket).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return errNoSuchBucket()
		}
		rows, err := tx.Query(ctx, `DELETE FROM storage.objects WHERE bucket_id = $1 RETURNING coalesce(version, '')`, bucket)
		if err != nil {
			return err
		}
		versions, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		return err
	}
	c.s.store.remove(versions...)
	writeJSON(c.w, http.StatusOK, jsonObj{{"message", "Empty bucket has been queued. Completion may take up to an hour."}})
	return nil
}

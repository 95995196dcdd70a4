package localstack

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// storageCall is one request to /storage/v1 being served: who is asking,
// from the token the gateway forwards, and the operation, which every
// statement sees as storage.operation.
type storageCall struct {
	s      *Server
	w      http.ResponseWriter
	r      *http.Request
	op     string
	jwt    string
	claims []byte // as signed; {"role":"anon"} when unauthenticated
	role   string
	sub    string
	authed bool
}

// storageRoute is one route: a method and a path pattern under /storage/v1
// whose last segment may be {path...} (the rest of the path, at least one
// character when required) and whose {x} segments match one segment.
type storageRoute struct {
	method  string
	pattern []string
	op      string
	h       func(c *storageCall, p map[string]string) error
}

// storageRoutes are tried in order, so a literal segment wins over a
// parameter as in Storage's router.
func (s *Server) storageRoutes() []storageRoute {
	r := func(method, pattern, op string, h func(*storageCall, map[string]string) error) storageRoute {
		return storageRoute{method, strings.Split(strings.Trim(pattern, "/"), "/"), op, h}
	}
	return []storageRoute{
		r("GET", "bucket", "storage.bucket.list", (*storageCall).listBuckets),
		r("POST", "bucket", "storage.bucket.create", (*storageCall).createBucket),
		r("POST", "bucket/{bucket}/empty", "storage.bucket.empty", (*storageCall).emptyBucket),
		r("GET", "bucket/{bucket}", "storage.bucket.get", (*storageCall).getBucket),
		r("PUT", "bucket/{bucket}", "storage.bucket.update", (*storageCall).updateBucket),
		r("DELETE", "bucket/{bucket}", "storage.bucket.delete", (*storageCall).deleteBucket),

		r("POST", "object/list/{bucket}", "storage.object.list", (*storageCall).listObjects),
		r("POST", "object/move", "storage.object.move", (*storageCall).moveObject),
		r("POST", "object/copy", "storage.object.copy", (*storageCall).copyObject),
		r("POST", "object/upload/sign/{bucket}/{path...}", "storage.object.sign_upload_url", (*storageCall).signUploadURL),
		r("PUT", "object/upload/sign/{bucket}/{path...}", "storage.object.upload_signed", (*storageCall).uploadSigned),
		r("POST", "object/sign/{bucket}/{path...}", "storage.object.sign", (*storageCall).signURL),
		r("POST", "object/sign/{bucket}", "storage.object.sign_many", (*storageCall).signURLs),
		r("GET", "object/sign/{bucket}/{path...}", "storage.object.get_signed", (*storageCall).getSigned),
		r("GET", "object/info/public/{bucket}/{path...}", "storage.object.info_public", (*storageCall).infoPublic),
		r("GET", "object/info/authenticated/{bucket}/{path...}", "object.get_authenticated_info", (*storageCall).infoAuthenticated),
		r("GET", "object/info/{bucket}/{path...}", "object.get_authenticated_info", (*storageCall).info),
		r("GET", "object/public/{bucket}/{path...}", "storage.object.get_public", (*storageCall).getPublic),
		r("HEAD", "object/public/{bucket}/{path...}", "storage.object.info_public", (*storageCall).headPublic),
		r("GET", "object/authenticated/{bucket}/{path...}", "storage.object.get_authenticated", (*storageCall).getAuthenticated),
		r("HEAD", "object/authenticated/{bucket}/{path...}", "object.head_authenticated_info", (*storageCall).headAuthenticated),
		r("POST", "object/{bucket}/{path...}", "storage.object.upload", (*storageCall).uploadObject),
		r("PUT", "object/{bucket}/{path...}", "storage.object.upload_update", (*storageCall).updateObject),
		r("GET", "object/{bucket}/{path...}", "storage.object.get_authenticated", (*storageCall).getObject),
		r("HEAD", "object/{bucket}/{path...}", "object.head_authenticated_info", (*storageCall).headObject),
		r("DELETE", "object/{bucket}/{path...}", "storage.object.delete", (*storageCall).deleteObject),
		r("DELETE", "object/{bucket}", "storage.object.delete_many", (*storageCall).deleteObjects),

		// Images are served as stored: there is no image processing here.
		r("GET", "render/image/authenticated/{bucket}/{path...}", "storage.render.image_authenticated", (*storageCall).getAuthenticated),
		r("GET", "render/image/public/{bucket}/{path...}", "storage.render.image_public", (*storageCall).getPublic),
		r("GET", "render/image/sign/{bucket}/{path...}", "storage.render.image_sign", (*storageCall).getSigned),
	}
}

// match reports whether path segments fit the pattern, and its parameters.
func (rt *storageRoute) match(segs []string) (map[string]string, bool) {
	p := map[string]string{}
	for i, pat := range rt.pattern {
		if i >= len(segs) {
			return nil, false // a {path...} needs the slash after the bucket too
		}
		switch {
		case strings.HasSuffix(pat, "...}"):
			p[strings.TrimSuffix(strings.TrimPrefix(pat, "{"), "...}")] = strings.Join(segs[i:], "/")
			return p, true
		case strings.HasPrefix(pat, "{"):
			if segs[i] == "" {
				return nil, false
			}
			p[strings.Trim(pat, "{}")] = segs[i]
		case segs[i] != pat:
			return nil, false
		}
	}
	return p, len(segs) == len(rt.pattern)
}

// serveStorage serves /storage/v1: Supabase Storage's REST API over the
// storage schema, with object bytes on local disk.
func (s *Server) serveStorage(w http.ResponseWriter, r *http.Request) {
	rel := strings.TrimPrefix(r.URL.Path, "/storage/v1")
	segs := strings.Split(strings.TrimPrefix(rel, "/"), "/")
	if len(segs) > 1 && segs[len(segs)-1] == "" && len(segs) <= 2 {
		segs = segs[:len(segs)-1] // /bucket/ is /bucket
	}
	for _, rt := range s.stRoutes {
		if rt.method != r.Method {
			continue
		}
		p, ok := rt.match(segs)
		if !ok {
			continue
		}
		c := &storageCall{s: s, w: w, r: r, op: rt.op, role: "anon", claims: []byte(`{"role":"anon"}`)}
		if err := rt.h(c, p); err != nil {
			s.writeStorageError(w, r, err)
		}
		return
	}
	// Storage's answer for a route it does not have.
	raw := rel
	if r.URL.RawQuery != "" {
		raw += "?" + r.URL.RawQuery
	}
	writeJSON(w, http.StatusNotFound, jsonObj{
		{"statusCode", "404"}, {"error", "Not Found"},
		{"message", fmt.Sprintf("Route %s:%s not found", r.Method, raw)}, {"code", "InvalidRequest"},
	})
}

// jsonObj is a JSON object whose keys keep their order, as Storage's
// serializer writes them.
type jsonObj []kv

type kv struct {
	k string
	v any
}

// MarshalJSON writes the members in order.
func (o jsonObj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.k)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(m.v)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// storageError is an error answered in Storage's format:
// {"statusCode","error","message","code"}. Storage answers every error
// below 500 with HTTP 400 and the real status in statusCode, except where
// it says otherwise (httpStatus).
type storageError struct {
	status     int
	httpStatus int
	code       string
	name       string // the body's "error"
	message    string
}

func (e *storageError) Error() string { return e.code + ": " + e.message }

func stErr(status int, code, name, message string) *storageError {
	h := http.StatusBadRequest
	if status == http.StatusInternalServerError {
		h = status
	}
	if name == "" {
		name = code
	}
	return &storageError{status: status, httpStatus: h, code: code, name: name, message: message}
}

func (e *storageError) withHTTPStatus(h int) *storageError { e.httpStatus = h; return e }

func errNoSuchBucket() *storageError {
	return stErr(404, "NoSuchBucket", "Bucket not found", "Bucket not found")
}
func errNoSuchKey() *storageError { return stErr(404, "NoSuchKey", "not_found", "Object not found") }
func errAccessDenied(msg string) *storageError {
	return stErr(403, "AccessDenied", "Unauthorized", msg)
}
func errKeyExists() *storageError {
	return stErr(409, "KeyAlreadyExists", "Duplicate", "The resource already exists")
}
func errBucketExists() *storageError {
	return stErr(409, "BucketAlreadyExists", "Duplicate", "The resource already exists")
}
func errTooLarge(entity string) *storageError {
	return stErr(413, "EntityTooLarge", "Payload too large", "The "+entity+" exceeded the maximum allowed size")
}
func errMimeType(m string) *storageError {
	return stErr(415, "InvalidMimeType", "invalid_mime_type", "mime type "+m+" is not supported")
}
func errInvalidKey(k string) *storageError { return stErr(400, "InvalidKey", "", "Invalid key: "+k) }
func errInvalidBucketName() *storageError {
	return stErr(400, "InvalidBucketName", "Invalid Input", "Bucket name invalid")
}
func errInvalidJWT(msg string) *storageError { return stErr(400, "InvalidJWT", "", msg) }
func errInvalidSignature(msg string) *storageError {
	if msg == "" {
		msg = "Invalid signature"
	}
	return stErr(400, "InvalidSignature", "", msg)
}
func errExpiredSignature() *storageError {
	return stErr(400, "ExpiredToken", "", "The provided token has expired.")
}
func errInvalidParameter(p string) *storageError {
	return stErr(400, "InvalidParameter", "", "Invalid Parameter "+p)
}

// errValidation is a request that does not fit the route's schema, with
// the validator's message ("body must have required property 'prefix'").
func errValidation(msg string) *storageError { return stErr(400, "InvalidRequest", "Error", msg) }
func errNoContent() *storageError            { return stErr(400, "InvalidRequest", "", "No content provided") }
func errRelatedNotFound() *storageError {
	return stErr(404, "InvalidRequest", "", "The related resource does not exist")
}
func errInvalidRange() *storageError {
	return stErr(416, "InvalidRange", "invalid_range", "invalid range provided").withHTTPStatus(http.StatusRequestedRangeNotSatisfiable)
}
func errInternal() *storageError {
	return stErr(500, "InternalError", "Internal", "Internal Server Error")
}

// storageDBError is Storage's reading of a database error.
func storageDBError(pe *pgconn.PgError) *storageError {
	switch pe.Code {
	case "42501":
		msg := pe.Message
		if strings.Contains(msg, "row-level security") {
			msg = "new row violates row-level security policy"
		}
		return errAccessDenied(msg)
	case "23505":
		return stErr(409, "ResourceAlreadyExists", "Duplicate", "The resource already exists")
	case "23503":
		if strings.Contains(pe.Detail, "is still referenced from table") {
			return stErr(409, "ResourceReferenced", "", "The resource could not be updated or removed due to a foreign key constraint")
		}
		return errRelatedNotFound()
	case "22P02":
		return stErr(400, "InvalidParameter", "", pe.Message)
	case "57014":
		return stErr(544, "DatabaseTimeout", "", "The connection to the database timed out").withHTTPStatus(544)
	}
	return stErr(500, "DatabaseError", "", "database error, code: "+pe.Code)
}

func isPgCode(err error, code string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == code
}

func (s *Server) writeStorageError(w http.ResponseWriter, r *http.Request, err error) {
	var se *storageError
	if !errors.As(err, &se) {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			se = storageDBError(pe)
		} else {
			se = errInternal()
		}
	}
	if se.status >= 500 {
		s.cfg.Logger.Error("storage request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	b, _ := json.Marshal(jsonObj{{"statusCode", strconv.Itoa(se.status)}, {"error", se.name}, {"message", se.message}, {"code", se.code}})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(se.httpStatus)
	if r.Method != http.MethodHead {
		w.Write(b)
	}
}

// bearerPrefix is what Storage strips from the Authorization header.
var bearerPrefix = regexp.MustCompile(`(?i)^Bearer\s+`)

// authenticate reads the caller's token as Supabase's gateway hands it to
// Storage (the Authorization header, else the apikey header) and verifies
// it. Where Storage allows an invalid token (lenient), a missing or bad one
// makes the caller anon and unauthenticated instead of refusing.
func (c *storageCall) authenticate(lenient bool) error {
	tok := c.r.Header.Get("apikey")
	if v, ok := c.r.Header["Authorization"]; ok && len(v) > 0 {
		tok = v[0]
	}
	tok = bearerPrefix.ReplaceAllString(tok, "")
	if tok == "" && lenient {
		return nil
	}
	raw, claims, err := joseVerify(c.s.cfg.JWTSecret, tok, c.s.now())
	if err != nil {
		if lenient {
			return nil
		}
		return errAccessDenied(err.Error())
	}
	c.jwt, c.claims, c.authed = tok, raw, true
	if role, _ := claims["role"].(string); role != "" {
		c.role = role
	}
	c.sub, _ = claims["sub"].(string)
	return nil
}

// joseError is a token refusal in the words of Storage's JWT library.
type joseError string

func (e joseError) Error() string { return string(e) }

// joseVerify checks an HS256 token the way Storage's JWT library does
// (no clock leeway) and fails with that library's messages.
func joseVerify(secret, token string, now time.Time) ([]byte, map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, nil, joseError("Invalid Compact JWS")
	}
	enc := base64.RawURLEncoding
	var hdr map[string]any
	if b, err := enc.DecodeString(parts[0]); err != nil || json.Unmarshal(b, &hdr) != nil {
		return nil, nil, joseError("JWS Protected Header is invalid")
	}
	if alg, _ := hdr["alg"].(string); alg != "HS256" {
		return nil, nil, joseError(`"alg" (Algorithm) Header Parameter value not allowed`)
	}
	sig, err := enc.DecodeString(parts[2])
	if err != nil {
		return nil, nil, joseError("Failed to base64url decode the signature")
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return nil, nil, joseError("signature verification failed")
	}
	payload, err := enc.DecodeString(parts[1])
	if err != nil {
		return nil, nil, joseError("Failed to base64url decode the payload")
	}
	var claims map[string]any
	if json.Unmarshal(payload, &claims) != nil || claims == nil {
		return nil, nil, joseError("JWT Claims Set must be a top-level JSON object")
	}
	secs := now.Unix()
	for _, c := range []string{"exp", "nbf"} {
		v, ok := claims[c]
		if !ok {
			continue
		}
		n, ok := v.(float64)
		if !ok {
			return nil, nil, joseError(strconv.Quote(c) + " claim must be a number")
		}
		if (c == "exp" && n <= float64(secs)) || (c == "nbf" && n > float64(secs)) {
			return nil, nil, joseError(strconv.Quote(c) + " claim timestamp check failed")
		}
	}
	return payload, claims, nil
}

// errRollback ends a permission test: what it did is undone.
var errRollback = errors.New("rollback")

// tx runs f in one transaction with the request published the way Storage
// publishes it: the caller's role and claims (on authenticator's
// connection), or, with super, as the superuser the stack does its own
// bookkeeping as (Storage's admin role).
func (c *storageCall) tx(super bool, f func(ctx context.Context, tx pgx.Tx) error) error {
	ctx := c.r.Context()
	pool := c.s.rest
	if super {
		pool = c.s.pool
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	headers := map[string]string{}
	for k, v := range c.r.Header {
		headers[strings.ToLower(k)] = strings.Join(v, ", ")
	}
	hjson, _ := json.Marshal(headers)
	role := c.role
	if super {
		role = "service_role" // what the claims say; the connection stays the superuser's
	}
	set := `SELECT set_config('request.jwt.claim.role', $1, true), set_config('request.jwt', $2, true),
		set_config('request.jwt.claim.sub', $3, true), set_config('request.jwt.claims', $4, true),
		set_config('request.headers', $5, true), set_config('request.method', $6, true),
		set_config('request.path', $7, true), set_config('storage.operation', $8, true),
		set_config('storage.allow_delete_query', 'true', true)`
	if !super {
		set += `, set_config('role', $1, true)`
	}
	path := strings.TrimPrefix(c.r.URL.Path, "/storage/v1")
	if _, err := tx.Exec(ctx, set, role, c.jwt, c.sub, string(c.claims), string(hjson), c.r.Method, path, c.op); err != nil {
		return err
	}
	if err := f(ctx, tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// test runs f as tx does and undoes it: Storage's permission check, asking
// the database whether the caller may do something before doing it.
func (c *storageCall) test(super bool, f func(ctx context.Context, tx pgx.Tx) error) error {
	err := c.tx(super, func(ctx context.Context, tx pgx.Tx) error {
		if err := f(ctx, tx); err != nil {
			return err
		}
		return errRollback
	})
	if errors.Is(err, errRollback) {
		return nil
	}
	return err
}

// lockObjects serialises writers of the same objects for the rest of tx,
// so the version a write replaces is the one it read.
func lockObjects(ctx context.Context, tx pgx.Tx, keys ...string) error {
	sort.Strings(keys)
	for i, k := range keys {
		if i > 0 && k == keys[i-1] {
			continue
		}
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('storage.objects:' || $1, 0))`, k); err != nil {
			return err
		}
	}
	return nil
}

// jsonBody is a JSON request body as Storage's schema validation reads it,
// including its type coercion ("60" is an integer).
type jsonBody map[string]any

func (c *storageCall) readJSON() (jsonBody, error) {
	b, err := io.ReadAll(io.LimitReader(c.r.Body, 1<<20+1))
	if err != nil {
		return nil, err
	}
	if len(b) > 1<<20 {
		return nil, stErr(413, "EntityTooLarge", "Payload Too Large", "Request body is too large").withHTTPStatus(http.StatusRequestEntityTooLarge)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return jsonBody{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, stErr(400, "InvalidRequest", "FastifyError", "Body is not valid JSON but content-type is set to 'application/json'")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errValidation("body must be object")
	}
	return m, nil
}

func (b jsonBody) require(names ...string) error {
	for _, n := range names {
		if _, ok := b[n]; !ok {
			return errValidation("body must have required property '" + n + "'")
		}
	}
	return nil
}

// str returns a string member (numbers and booleans coerced), and whether
// it was there.
func (b jsonBody) str(name string) (string, bool, error) {
	switch v := b[name].(type) {
	case nil:
		if _, ok := b[name]; ok {
			return "", false, errValidation("body/" + name + " must be string")
		}
		return "", false, nil
	case string:
		return v, true, nil
	case json.Number:
		return v.String(), true, nil
	case bool:
		return strconv.FormatBool(v), true, nil
	}
	return "", false, errValidation("body/" + name + " must be string")
}

// integer returns an integer member no smaller than min.
func (b jsonBody) integer(name string, min int64) (int64, bool, error) {
	v, ok := b[name]
	if !ok {
		return 0, false, nil
	}
	var s string
	switch v := v.(type) {
	case json.Number:
		s = v.String()
	case string:
		s = v
	default:
		return 0, false, errValidation("body/" + name + " must be integer")
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.IsInf(f, 0) {
		return 0, false, errValidation("body/" + name + " must be integer")
	}
	if f < float64(min) {
		return 0, false, errValidation(fmt.Sprintf("body/%s must be >= %d", name, min))
	}
	if f > 1<<62 {
		return 0, false, errInvalidParameter(name)
	}
	return int64(f), true, nil
}

func (b jsonBody) boolean(name string) (bool, bool, error) {
	switch v := b[name].(type) {
	case bool:
		return v, true, nil
	case string:
		if v == "true" || v == "false" {
			return v == "true", true, nil
		}
	case nil:
		if _, ok := b[name]; !ok {
			return false, false, nil
		}
	}
	return false, false, errValidation("body/" + name + " must be boolean")
}

// validKey and validBucketName are Storage's rules: S3-safe characters only.
var (
	validKeyRe    = regexp.MustCompile(`^[A-Za-z0-9_/!.*'() &$=@;:+,?-]*$`)
	validBucketRe = regexp.MustCompile(`^[A-Za-z0-9_!.*'() &$=@;:+,?-]*$`)
	uuidRe        = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-5][0-9a-fA-F]{3}-[089abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$`)
)

func validKey(k string) bool        { return k != "" && validKeyRe.MatchString(k) }
func validBucketName(b string) bool { return b != "" && len(b) < 101 && validBucketRe.MatchString(b) }

// ownerColumns are the owner (a uuid, or null) and owner_id (any subject)
// Storage records for sub.
func ownerColumns(sub string) (owner, ownerID any) {
	if sub == "" {
		return nil, nil
	}
	if uuidRe.MatchString(sub) {
		return sub, sub
	}
	return nil, sub
}

// newUUID returns a random version 4 UUID.
func newUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// jsTime formats a time as JavaScript's Date.toISOString does.
func jsTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func jsTimeOrNull(t *time.Time) any {
	if t == nil {
		return nil
	}
	return jsTime(*t)
}

// strOrEmpty is how Storage's serializer writes a null string field.
func strOrEmpty(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func rawOrNull(b []byte) any {
	if b == nil {
		return nil
	}
	return json.RawMessage(b)
}

// signToken signs Storage's URL tokens: claims, then iat and exp.
func (s *Server) signToken(claims jsonObj, expiresIn int64) (string, error) {
	now := s.now().Unix()
	return signHS256(s.cfg.JWTSecret, append(claims, kv{"iat", now}, kv{"exp", now + expiresIn}))
}

// maxJWTExpiry is the latest exp Storage signs (JavaScript's largest safe
// integer of milliseconds, in seconds).
const maxJWTExpiry = 9007199254740

// maxExpiresIn is the longest expiresIn Storage signs for, now.
func (s *Server) maxExpiresIn() int64 { return maxJWTExpiry - s.now().Unix() }

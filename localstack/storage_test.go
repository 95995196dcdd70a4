package localstack_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supabase-go/supabase/localstack"
	"github.com/supabase-go/supabase/localstack/localstacktest"
)

// raw sends a request with exactly the headers given (name, value pairs).
func (c *client) raw(method, path string, body io.Reader, headers ...string) reply {
	c.t.Helper()
	req, err := http.NewRequest(method, c.st.URL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// as is what supabase-js sends with token (the anon key when empty), then
// the extra headers.
func (c *client) as(token string, extra ...string) []string {
	if token == "" {
		token = c.st.AnonKey
	}
	return append([]string{"apikey", c.st.AnonKey, "Authorization", "Bearer " + token}, extra...)
}

// upload POSTs a text body to /storage/v1/object/<path> and wants 200.
func (c *client) upload(token, path, body string, extra ...string) map[string]any {
	c.t.Helper()
	r := c.raw("POST", "/storage/v1/object/"+path, strings.NewReader(body), c.as(token, append([]string{"Content-Type", "text/plain"}, extra...)...)...)
	if r.status != 200 {
		c.t.Fatalf("upload %s: %d %s", path, r.status, r.body)
	}
	return r.json(c.t)
}

// download GETs an object and wants 200 and body.
func (c *client) wantObject(token, path, body string) reply {
	c.t.Helper()
	r := c.raw("GET", "/storage/v1/object/"+path, nil, c.as(token)...)
	if r.status != 200 || string(r.body) != body {
		c.t.Fatalf("download %s: %d %q, want 200 %q", path, r.status, r.body, body)
	}
	return r
}

// jsonPost sends a JSON body.
func (c *client) jsonPost(method, path, token string, body any, extra ...string) reply {
	c.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.raw(method, path, strings.NewReader(string(b)), c.as(token, append([]string{"Content-Type", "application/json"}, extra...)...)...)
}

// names lists the names a listing answered.
func names(t *testing.T, r reply) []string {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	out := []string{}
	for _, row := range r.rows(t) {
		out = append(out, row["name"].(string))
	}
	return out
}

// storedFiles counts the files under the stack's storage directory.
func storedFiles(t *testing.T, c *client, sub string) int {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(c.st.Server.StorageDir(), sub))
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

const (
	rlsRefusal = `{"statusCode":"403","error":"Unauthorized","message":"new row violates row-level security policy","code":"AccessDenied"}`
	notFound   = `{"statusCode":"404","error":"not_found","message":"Object not found","code":"NoSuchKey"}`
	noBucket   = `{"statusCode":"404","error":"Bucket not found","message":"Bucket not found","code":"NoSuchBucket"}`
	duplicate  = `{"statusCode":"409","error":"Duplicate","message":"The resource already exists","code":"KeyAlreadyExists"}`
	tooLarge   = `{"statusCode":"413","error":"Payload too large","message":"The object exceeded the maximum allowed size","code":"EntityTooLarge"}`
)

// The demo's avatars bucket: each user reads and writes only under their
// own folder, and the policies on storage.objects decide every operation.
func TestStorageAvatarPolicies(t *testing.T) {
	c := newClient(t)
	ada := c.signUp("ada@example.com", "password1")
	bob := c.signUp("bob@example.com", "password1")
	adaPath := "avatars/" + ada.User.ID + "/avatar.png"

	r := c.raw("POST", "/storage/v1/object/"+adaPath, strings.NewReader("ada's png"),
		c.as(ada.AccessToken, "Content-Type", "image/png", "Cache-Control", "max-age=3600", "x-upsert", "false")...)
	if r.status != 200 {
		t.Fatalf("ada uploads: %d %s", r.status, r.body)
	}
	up := r.json(t)
	if up["Key"] != adaPath || len(up["Id"].(string)) != 36 {
		t.Errorf("upload answer = %v", up)
	}
	// The exact bytes of a refusal: Storage's field order, HTTP 400.
	r = c.raw("POST", "/storage/v1/object/avatars/"+ada.User.ID+"/bob.png", strings.NewReader("x"), c.as(bob.AccessToken, "Content-Type", "image/png")...)
	if r.status != 400 || string(r.body) != rlsRefusal {
		t.Errorf("bob writes into ada's folder: %d %s", r.status, r.body)
	}
	// Overwriting is an upsert, refused as well.
	wantError(t, c.raw("PUT", "/storage/v1/object/"+adaPath, strings.NewReader("bob's"), c.as(bob.AccessToken, "Content-Type", "image/png")...), 400, rlsRefusal)
	wantError(t, c.raw("POST", "/storage/v1/object/"+adaPath, strings.NewReader("bob's"), c.as(bob.AccessToken, "Content-Type", "image/png", "x-upsert", "true")...), 400, rlsRefusal)
	// Reading: the object is not there for Bob, nor for anon.
	for _, p := range []string{"object/", "object/authenticated/", "object/info/", "object/info/authenticated/"} {
		wantError(t, c.raw("GET", "/storage/v1/"+p+adaPath, nil, c.as(bob.AccessToken)...), 400, notFound)
		wantError(t, c.raw("GET", "/storage/v1/"+p+adaPath, nil, c.as("")...), 400, notFound)
	}
	if r := c.raw("HEAD", "/storage/v1/object/"+adaPath, nil, c.as(bob.AccessToken)...); r.status != 400 || len(r.body) != 0 {
		t.Errorf("bob HEADs: %d %q", r.status, r.body)
	}
	// Without any token a private bucket does not exist.
	wantError(t, c.raw("GET", "/storage/v1/object/"+adaPath, nil), 400, noBucket)
	wantError(t, c.jsonPost("POST", "/storage/v1/object/sign/"+adaPath, bob.AccessToken, map[string]any{"expiresIn": 60}), 400, notFound)
	wantError(t, c.raw("DELETE", "/storage/v1/object/"+adaPath, nil, c.as(bob.AccessToken)...), 400,
		`{"statusCode":"403","error":"Unauthorized","message":"Access denied","code":"AccessDenied"}`)

	r = c.wantObject(ada.AccessToken, adaPath, "ada's png")
	sum := md5.Sum([]byte("ada's png"))
	for k, want := range map[string]string{
		"Content-Type": "image/png", "Cache-Control": "max-age=3600", "ETag": `"` + hex.EncodeToString(sum[:]) + `"`,
		"Content-Length": "9", "Accept-Ranges": "bytes", "X-Robots-Tag": "none",
	} {
		if got := r.header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	// The row is Ada's.
	var owner, ownerID string
	if err := c.st.Server.Pool().QueryRow(context.Background(), `SELECT owner::text, owner_id FROM storage.objects WHERE name = $1`,
		ada.User.ID+"/avatar.png").Scan(&owner, &ownerID); err != nil || owner != ada.User.ID || ownerID != ada.User.ID {
		t.Errorf("owner = %q %q (%v)", owner, ownerID, err)
	}
	// Ada deletes it; then it is gone.
	r = c.raw("DELETE", "/storage/v1/object/"+adaPath, nil, c.as(ada.AccessToken)...)
	if r.status != 200 || string(r.body) != `{"message":"Successfully deleted"}` {
		t.Errorf("ada deletes: %d %s", r.status, r.body)
	}
	wantError(t, c.raw("DELETE", "/storage/v1/object/"+adaPath, nil, c.as(ada.AccessToken)...), 400, notFound)
	if n := storedFiles(t, c, "objects"); n != 0 {
		t.Errorf("%d files left after the delete", n)
	}
}

// A listing is one level of folders and files, of what the caller may see.
func TestStorageListShowsOnlyPermittedObjects(t *testing.T) {
	c := newClient(t)
	ada := c.signUp("ada@example.com", "password1")
	bob := c.signUp("bob@example.com", "password1")
	a := ada.User.ID
	for _, p := range []string{"a.txt", "b/c.txt", "avatar.png"} {
		c.upload(ada.AccessToken, "avatars/"+a+"/"+p, "ada "+p)
	}
	c.upload(bob.AccessToken, "avatars/"+bob.User.ID+"/x.txt", "bob")
	list := func(token string, body map[string]any) reply {
		t.Helper()
		return c.jsonPost("POST", "/storage/v1/object/list/avatars", token, body)
	}
	for _, tc := range []struct {
		who   string
		token string
		body  map[string]any
		want  []string
	}{
		{"ada at the root", ada.AccessToken, map[string]any{"prefix": ""}, []string{a}},
		{"bob at the root", bob.AccessToken, map[string]any{"prefix": ""}, []string{bob.User.ID}},
		{"anon", "", map[string]any{"prefix": ""}, []string{}},
		{"service_role", c.st.ServiceRoleKey, map[string]any{"prefix": ""}, sorted(a, bob.User.ID)},
		{"ada in her folder", ada.AccessToken, map[string]any{"prefix": a}, []string{"a.txt", "avatar.png", "b"}},
		{"with a slash", ada.AccessToken, map[string]any{"prefix": a + "/"}, []string{"a.txt", "avatar.png", "b"}},
		{"bob in ada's folder", bob.AccessToken, map[string]any{"prefix": a}, []string{}},
		{"a subfolder", ada.AccessToken, map[string]any{"prefix": a + "/b"}, []string{"c.txt"}},
		{"limit and offset", ada.AccessToken, map[string]any{"prefix": a, "limit": 2, "offset": 1}, []string{"avatar.png", "b"}},
		{"descending", ada.AccessToken, map[string]any{"prefix": a, "sortBy": map[string]any{"column": "name", "order": "desc"}}, []string{"b", "avatar.png", "a.txt"}},
		{"search", ada.AccessToken, map[string]any{"prefix": a, "search": "av"}, []string{"avatar.png"}},
		{"by creation, newest first", ada.AccessToken, map[string]any{"prefix": a, "sortBy": map[string]any{"column": "created_at", "order": "desc"}}, []string{"b", "avatar.png", "a.txt"}},
		{"by creation", ada.AccessToken, map[string]any{"prefix": a, "sortBy": map[string]any{"column": "created_at", "order": "asc"}}, []string{"b", "a.txt", "avatar.png"}},
	} {
		if got := names(t, list(tc.token, tc.body)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.who, got, tc.want)
		}
	}
	// Folders have no id or dates; files carry their metadata.
	rows := list(ada.AccessToken, map[string]any{"prefix": a}).rows(t)
	if b := rows[2]; b["id"] != nil || b["metadata"] != nil || b["created_at"] != nil || len(b) != 6 {
		t.Errorf("folder row = %v", b)
	}
	f := rows[0]
	md, _ := f["metadata"].(map[string]any)
	if len(f["id"].(string)) != 36 || md["size"] != float64(len("ada a.txt")) || md["mimetype"] != "text/plain" || md["cacheControl"] != "no-cache" {
		t.Errorf("file row = %v", f)
	}
	wantError(t, list(ada.AccessToken, map[string]any{}), 400,
		`{"statusCode":"400","error":"Error","message":"body must have required property 'prefix'","code":"InvalidRequest"}`)
	wantError(t, list(ada.AccessToken, map[string]any{"prefix": "", "sortBy": map[string]any{"column": "size"}}), 400,
		`{"statusCode":"400","error":"Error","message":"body/sortBy/column must be equal to one of the allowed values","code":"InvalidRequest"}`)
}

func sorted(s ...string) []string { slices.Sort(s); return s }

// An upload to an existing name is refused unless it is an upsert (x-upsert,
// or PUT); an upsert replaces the bytes and keeps the object.
func TestStorageUpsertVersusDuplicate(t *testing.T) {
	c := newClient(t)
	ada := c.signUp("ada@example.com", "password1")
	path := "avatars/" + ada.User.ID + "/note.txt"
	first := c.upload(ada.AccessToken, path, "v1")
	r := c.raw("POST", "/storage/v1/object/"+path, strings.NewReader("v2"), c.as(ada.AccessToken, "Content-Type", "text/plain", "x-upsert", "false")...)
	if r.status != 400 || string(r.body) != duplicate {
		t.Errorf("duplicate: %d %s", r.status, r.body)
	}
	c.wantObject(ada.AccessToken, path, "v1")
	second := c.upload(ada.AccessToken, path, "v2", "x-upsert", "true")
	if second["Id"] != first["Id"] {
		t.Errorf("upsert made a new object: %v, was %v", second["Id"], first["Id"])
	}
	c.wantObject(ada.AccessToken, path, "v2")
	r = c.raw("PUT", "/storage/v1/object/"+path, strings.NewReader("v3"), c.as(ada.AccessToken, "Content-Type", "text/markdown")...)
	if r.status != 200 || r.json(t)["Id"] != first["Id"] || r.json(t)["Key"] != path {
		t.Errorf("update: %d %s", r.status, r.body)
	}
	if got := c.wantObject(ada.AccessToken, path, "v3").header.Get("Content-Type"); got != "text/markdown" {
		t.Errorf("Content-Type after the update = %q", got)
	}
	// PUT of a new name creates it, as Storage's update is an upsert.
	if r := c.raw("PUT", "/storage/v1/object/avatars/"+ada.User.ID+"/new.txt", strings.NewReader("new"), c.as(ada.AccessToken, "Content-Type", "text/plain")...); r.status != 200 {
		t.Errorf("PUT of a new name: %d %s", r.status, r.body)
	}
	// Replaced bytes are gone from disk; nothing is left in the way.
	if n, tmp := storedFiles(t, c, "objects"), storedFiles(t, c, "tmp"); n != 2 || tmp != 0 {
		t.Errorf("files on disk: %d objects, %d temporary; want 2, 0", n, tmp)
	}
}

func TestStorageMoveCopyAndRemove(t *testing.T) {
	c := newClient(t)
	ada := c.signUp("ada@example.com", "password1")
	bob := c.signUp("bob@example.com", "password1")
	a, b := ada.User.ID, bob.User.ID
	up := c.upload(ada.AccessToken, "avatars/"+a+"/a.txt", "hello")
	c.upload(bob.AccessToken, "avatars/"+b+"/x.txt", "bob's")
	move := func(token, src, dst string, extra map[string]any) reply {
		body := map[string]any{"bucketId": "avatars", "sourceKey": src, "destinationKey": dst}
		for k, v := range extra {
			body[k] = v
		}
		return c.jsonPost("POST", "/storage/v1/object/move", token, body)
	}
	r := move(ada.AccessToken, a+"/a.txt", a+"/moved.txt", nil)
	if r.status != 200 || string(r.body) != fmt.Sprintf(`{"message":"Successfully moved","Id":%q,"Key":%q}`, up["Id"], a+"/moved.txt") {
		t.Fatalf("move: %d %s", r.status, r.body)
	}
	wantError(t, c.raw("GET", "/storage/v1/object/avatars/"+a+"/a.txt", nil, c.as(ada.AccessToken)...), 400, notFound)
	c.wantObject(ada.AccessToken, "avatars/"+a+"/moved.txt", "hello")
	// Into Bob's folder: the UPDATE's new row fails the policy.
	wantError(t, move(ada.AccessToken, a+"/moved.txt", b+"/stolen.txt", nil), 400, rlsRefusal)
	// Bob cannot see the source.
	wantError(t, move(bob.AccessToken, a+"/moved.txt", b+"/stolen.txt", nil), 400, notFound)
	// Onto an existing name.
	c.upload(ada.AccessToken, "avatars/"+a+"/other.txt", "other")
	wantError(t, move(ada.AccessToken, a+"/moved.txt", a+"/other.txt", nil), 400,
		`{"statusCode":"409","error":"Duplicate","message":"The resource already exists","code":"ResourceAlreadyExists"}`)

	copyObj := func(token, dst string, extra map[string]any, headers ...string) reply {
		body := map[string]any{"bucketId": "avatars", "sourceKey": a + "/moved.txt", "destinationKey": dst}
		for k, v := range extra {
			body[k] = v
		}
		return c.jsonPost("POST", "/storage/v1/object/copy", token, body, headers...)
	}
	r = copyObj(ada.AccessToken, a+"/copy.txt", nil)
	if r.status != 200 {
		t.Fatalf("copy: %d %s", r.status, r.body)
	}
	cp := r.json(t)
	if cp["Key"] != "avatars/"+a+"/copy.txt" || cp["name"] != a+"/copy.txt" || cp["bucket_id"] != "avatars" || cp["Id"] != cp["id"] ||
		cp["owner"] != a || cp["Id"] == up["Id"] || cp["metadata"].(map[string]any)["size"] != float64(5) {
		t.Errorf("copy answer = %s", r.body)
	}
	c.wantObject(ada.AccessToken, "avatars/"+a+"/copy.txt", "hello")
	wantError(t, copyObj(ada.AccessToken, a+"/copy.txt", nil), 400, duplicate)
	if r := copyObj(ada.AccessToken, a+"/copy.txt", nil, "x-upsert", "true"); r.status != 200 {
		t.Errorf("copy with x-upsert: %d %s", r.status, r.body)
	}
	wantError(t, copyObj(ada.AccessToken, b+"/copy.txt", nil), 400, rlsRefusal)
	// Another bucket: the avatars policies do not reach it, service_role does.
	c.jsonPost("POST", "/storage/v1/bucket", c.st.ServiceRoleKey, map[string]any{"name": "archive"})
	wantError(t, copyObj(ada.AccessToken, "kept.txt", map[string]any{"destinationBucket": "archive"}), 400, rlsRefusal)
	r = copyObj(c.st.ServiceRoleKey, "kept.txt", map[string]any{"destinationBucket": "archive"})
	if r.status != 200 || r.json(t)["Key"] != "archive/kept.txt" {
		t.Errorf("copy to another bucket: %d %s", r.status, r.body)
	}
	c.wantObject(c.st.ServiceRoleKey, "archive/kept.txt", "hello")

	// Removing several: only what the caller may delete goes.
	r = c.jsonPost("DELETE", "/storage/v1/object/avatars", ada.AccessToken,
		map[string]any{"prefixes": []string{a + "/moved.txt", b + "/x.txt", a + "/missing.txt"}})
	if r.status != 200 {
		t.Fatalf("remove: %d %s", r.status, r.body)
	}
	if got := names(t, r); !slices.Equal(got, []string{a + "/moved.txt"}) {
		t.Errorf("removed %q", got)
	}
	if row := r.rows(t)[0]; row["bucket_id"] != "avatars" || row["owner_id"] != a || row["id"] != up["Id"] {
		t.Errorf("removed row = %v", row)
	}
	c.wantObject(bob.AccessToken, "avatars/"+b+"/x.txt", "bob's")
	wantError(t, c.jsonPost("DELETE", "/storage/v1/object/avatars", ada.AccessToken, map[string]any{"prefixes": []string{}}), 400,
		`{"statusCode":"400","error":"Error","message":"body/prefixes must NOT have fewer than 1 items","code":"InvalidRequest"}`)
}

func TestStorageBuckets(t *testing.T) {
	c := newClient(t)
	ada := c.signUp("ada@example.com", "password1")
	svc := c.st.ServiceRoleKey
	r := c.jsonPost("POST", "/storage/v1/bucket", svc, map[string]any{
		"id": "docs", "name": "docs", "public": true, "file_size_limit": "5MB", "allowed_mime_types": []string{"application/pdf", "", "text/*"},
	})
	if r.status != 200 || string(r.body) != `{"name":"docs"}` {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	wantError(t, c.jsonPost("POST", "/storage/v1/bucket", svc, map[string]any{"name": "docs"}), 400,
		`{"statusCode":"409","error":"Duplicate","message":"The resource already exists","code":"BucketAlreadyExists"}`)
	// Users create buckets only where a policy lets them.
	wantError(t, c.jsonPost("POST", "/storage/v1/bucket", ada.AccessToken, map[string]any{"name": "mine"}), 400, rlsRefusal)
	wantError(t, c.jsonPost("POST", "/storage/v1/bucket", svc, map[string]any{"public": true}), 400,
		`{"statusCode":"400","error":"Error","message":"body must have required property 'name'","code":"InvalidRequest"}`)
	wantError(t, c.jsonPost("POST", "/storage/v1/bucket", svc, map[string]any{"name": "a/b"}), 400,
		`{"statusCode":"400","error":"Invalid Input","message":"Bucket name invalid","code":"InvalidBucketName"}`)
	wantError(t, c.jsonPost("POST", "/storage/v1/bucket", svc, map[string]any{"name": "big", "file_size_limit": "1GB"}), 400, tooLarge)
	wantError(t, c.jsonPost("POST", "/storage/v1/bucket", svc, map[string]any{"name": "odd", "allowed_mime_types": []string{"nope"}}), 400,
		`{"statusCode":"415","error":"invalid_mime_type","message":"mime type nope is not supported","code":"InvalidMimeType"}`)

	r = c.raw("GET", "/storage/v1/bucket/docs", nil, c.as(svc)...)
	got := r.json(t)
	if r.status != 200 || got["id"] != "docs" || got["public"] != true || got["file_size_limit"] != float64(5000000) ||
		fmt.Sprint(got["allowed_mime_types"]) != "[application/pdf text/*]" || got["owner"] != "" || got["type"] != nil {
		t.Errorf("get: %d %s", r.status, r.body)
	}
	if !strings.HasPrefix(string(r.body), `{"id":"docs","name":"docs","owner":"","public":true,"file_size_limit":5000000,`) {
		t.Errorf("field order: %s", r.body)
	}
	// Users see no bucket without a SELECT policy on storage.buckets.
	if r := c.raw("GET", "/storage/v1/bucket", nil, c.as(ada.AccessToken)...); r.status != 200 || string(r.body) != "[]" {
		t.Errorf("ada lists: %d %s", r.status, r.body)
	}
	wantError(t, c.raw("GET", "/storage/v1/bucket/docs", nil, c.as(ada.AccessToken)...), 400, noBucket)
	r = c.raw("GET", "/storage/v1/bucket?sortColumn=name&sortOrder=desc&limit=5", nil, c.as(svc)...)
	var ids []string
	for _, b := range r.rows(t) {
		ids = append(ids, b["id"].(string))
		if b["type"] != "STANDARD" {
			t.Errorf("listed bucket type = %v", b["type"])
		}
	}
	if !slices.Equal(ids, []string{"docs", "avatars"}) {
		t.Errorf("list: %s", r.body)
	}
	if r := c.raw("GET", "/storage/v1/bucket?search=ava", nil, c.as(svc)...); len(r.rows(t)) != 1 {
		t.Errorf("search: %s", r.body)
	}

	r = c.jsonPost("PUT", "/storage/v1/bucket/docs", svc, map[string]any{"public": false, "file_size_limit": nil, "allowed_mime_types": nil})
	if r.status != 200 || string(r.body) != `{"message":"Successfully updated"}` {
		t.Errorf("update: %d %s", r.status, r.body)
	}
	r = c.raw("GET", "/storage/v1/bucket/docs", nil, c.as(svc)...)
	if got := r.json(t); got["public"] != false || got["file_size_limit"] != nil || got["allowed_mime_types"] != nil {
		t.Errorf("after the update: %s", r.body)
	}
	wantError(t, c.jsonPost("PUT", "/storage/v1/bucket/nope", svc, map[string]any{"public": true}), 400, noBucket)
	wantError(t, c.jsonPost("PUT", "/storage/v1/bucket/docs", svc, map[string]any{"name": "x"}), 400,
		`{"statusCode":"400","error":"Error","message":"body must match a schema in anyOf","code":"InvalidRequest"}`)

	c.upload(svc, "docs/a.txt", "a")
	wantError(t, c.raw("DELETE", "/storage/v1/bucket/docs", nil, c.as(svc)...), 400,
		`{"statusCode":"409","error":"ResourceNotEmpty","message":"The bucket you tried to delete is not empty","code":"ResourceNotEmpty"}`)
	// Emptying is for service_role only.
	wantError(t, c.jsonPost("POST", "/storage/v1/bucket/docs/empty", ada.AccessToken, map[string]any{}), 403,
		`{"statusCode":"403","error":"Unauthorized","message":"Access denied: Invalid role","code":"AccessDenied"}`)
	r = c.jsonPost("POST", "/storage/v1/bucket/docs/empty", svc, map[string]any{})
	if r.status != 200 || string(r.body) != `{"message":"Empty bucket has been queued. Completion may take up to an hour."}` {
		t.Errorf("empty: %d %s", r.status, r.body)
	}
	if n := storedFiles(t, c, "objects"); n != 0 {
		t.Errorf("%d files after emptying", n)
	}
	r = c.jsonPost("DELETE", "/storage/v1/bucket/docs", svc, map[string]any{})
	if r.status != 200 || string(r.body) != `{"message":"Successfully deleted"}` {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	wantError(t, c.raw("DELETE", "/storage/v1/bucket/docs", nil, c.as(svc)...), 400, noBucket)
}

// A public bucket's objects are readable by anyone, without a token.
func TestStoragePublicBucketAsAnon(t *testing.T) {
	c := newClient(t)
	svc := c.st.ServiceRoleKey
	c.jsonPost("POST", "/storage/v1/bucket", svc, map[string]any{"name": "pub", "public": true})
	c.upload(svc, "pub/logo.svg", "<svg/>", "Content-Type", "image/svg+xml")
	for _, p := range []string{"object/public/pub/logo.svg", "object/pub/logo.svg", "render/image/public/pub/logo.svg?width=10"} {
		r := c.raw("GET", "/storage/v1/"+p, nil) // no apikey, no token
		if r.status != 200 || string(r.body) != "<svg/>" || r.header.Get("Content-Type") != "image/svg+xml" {
			t.Errorf("GET %s: %d %s", p, r.status, r.body)
		}
	}
	if r := c.raw("HEAD", "/storage/v1/object/public/pub/logo.svg", nil); r.status != 200 || r.header.Get("Content-Length") != "6" {
		t.Errorf("HEAD: %d %v", r.status, r.header)
	}
	r := c.raw("GET", "/storage/v1/object/info/public/pub/logo.svg", nil)
	if info := r.json(t); r.status != 200 || info["size"] != float64(6) || info["content_type"] != "image/svg+xml" || info["bucket_id"] != "pub" {
		t.Errorf("info: %d %s", r.status, r.body)
	}
	// Public reads do not list or write.
	wantError(t, c.raw("POST", "/storage/v1/object/pub/x.txt", strings.NewReader("x"), c.as("", "Content-Type", "text/plain")...), 400, rlsRefusal)
	if got := names(t, c.jsonPost("POST", "/storage/v1/object/list/pub", "", map[string]any{"prefix": ""})); len(got) != 0 {
		t.Errorf("anon lists %q", got)
	}
	// A private bucket has no public route.
	c.upload(svc, "avatars/x.txt", "x")
	wantError(t, c.raw("GET", "/storage/v1/object/public/avatars/x.txt", nil), 400, noBucket)
	wantError(t, c.raw("GET", "/storage/v1/object/public/pub/missing.svg", nil), 400, notFound)
}

// Size and type limits are enforced as the body streams, and a refused
// upload leaves nothing behind.
func TestStorageLimits(t *testing.T) {
	c := newClient(t, localstacktest.Configure(func(cfg *localstack.Config) { cfg.FileSizeLimit = 1024 }))
	svc := c.st.ServiceRoleKey
	c.jsonPost("POST", "/storage/v1/bucket", svc, map[string]any{"name": "img", "file_size_limit": 10, "allowed_mime_types": []string{"image/*"}})
	c.jsonPost("POST", "/storage/v1/bucket", svc, map[string]any{"name": "any"})
	post := func(path, contentType string, body io.Reader, extra ...string) reply {
		return c.raw("POST", "/storage/v1/object/"+path, body, c.as(svc, append([]string{"Content-Type", contentType}, extra...)...)...)
	}
	unsized := func(s string) io.Reader { return io.MultiReader(strings.NewReader(s)) } // sent chunked
	if r := post("img/ok.png", "image/png", strings.NewReader("0123456789")); r.status != 200 {
		t.Errorf("10 bytes: %d %s", r.status, r.body)
	}
	wantError(t, post("img/big.png", "image/png", strings.NewReader("0123456789X")), 400, tooLarge)
	wantError(t, post("img/big2.png", "image/png", unsized("0123456789X")), 400, tooLarge)
	wantError(t, post("img/x.txt", "text/plain", strings.NewReader("x")), 400,
		`{"statusCode":"415","error":"invalid_mime_type","message":"mime type text/plain is not supported","code":"InvalidMimeType"}`)
	// The stack's own limit holds for every bucket.
	if r := post("any/1k", "application/octet-stream", unsized(strings.Repeat("x", 1024))); r.status != 200 {
		t.Errorf("1 KiB: %d %s", r.status, r.body)
	}
	wantError(t, post("any/big", "application/octet-stream", strings.NewReader(strings.Repeat("x", 1025))), 400, tooLarge)
	wantError(t, post("any/big2", "application/octet-stream", unsized(strings.Repeat("x", 1025))), 400, tooLarge)
	// An empty folder's placeholder has no bytes.
	if r := post("any/folder/.emptyFolderPlaceholder", "text/plain", strings.NewReader("")); r.status != 200 {
		t.Errorf("placeholder: %d %s", r.status, r.body)
	}
	wantError(t, post("any/f2/.emptyFolderPlaceholder", "text/plain", strings.NewReader("x")), 400, tooLarge)
	// multipart/form-data as browsers send it, with the limit on the file part.
	form := func(content string) (io.Reader, string) {
		b := "--XYZ\r\nContent-Disposition: form-data; name=\"cacheControl\"\r\n\r\n60\r\n" +
			"--XYZ\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{\"k\":\"v\"}\r\n" +
			"--XYZ\r\nContent-Disposition: form-data; name=\"\"; filename=\"blob\"\r\nContent-Type: image/png\r\n\r\n" + content + "\r\n--XYZ--\r\n"
		return strings.NewReader(b), "multipart/form-data; boundary=XYZ"
	}
	body, ct := form("0123456789")
	if r := post("img/form.png", ct, body); r.status != 200 {
		t.Errorf("multipart: %d %s", r.status, r.body)
	}
	r := c.raw("GET", "/storage/v1/object/info/img/form.png", nil, c.as(svc)...)
	if info := r.json(t); info["cache_control"] != "max-age=60" || info["content_type"] != "image/png" || fmt.Sprint(info["metadata"]) != "map[k:v]" {
		t.Errorf("multipart info: %s", r.body)
	}
	body, ct = form("0123456789X")
	wantError(t, post("img/form2.png", ct, body), 400, tooLarge)
	// Nothing of the refused uploads is left: rows or files.
	var rows int
	c.st.Server.Pool().QueryRow(context.Background(), `SELECT count(*) FROM storage.objects`).Scan(&rows)
	if files, tmp := storedFiles(t, c, "objects"), storedFiles(t, c, "tmp"); rows != 4 || files != 4 || tmp != 0 {
		t.Errorf("after the refusals: %d rows, %d files, %d temporary; want 4, 4, 0", rows, files, tmp)
	}
}

// downloads answer ranges, conditional requests and download names as
// Storage does; info answers the metadata.
func TestStorageDownloadAndInfo(t *testing.T) {
	c := newClient(t)
	svc := c.st.ServiceRoleKey
	meta := "eyJvd25lciI6ImFkYSJ9" // {"owner":"ada"}
	up := c.upload(svc, "avatars/doc.txt", "0123456789", "Cache-Control", "max-age=60", "x-metadata", meta)
	r := c.raw("GET", "/storage/v1/object/avatars/doc.txt", nil, c.as(svc, "Range", "bytes=2-4")...)
	if r.status != 206 || string(r.body) != "234" || r.header.Get("Content-Range") != "bytes 2-4/10" {
		t.Errorf("range: %d %q %v", r.status, r.body, r.header)
	}
	wantError(t, c.raw("GET", "/storage/v1/object/avatars/doc.txt", nil, c.as(svc, "Range", "bytes=20-")...), 416,
		`{"statusCode":"416","error":"invalid_range","message":"invalid range provided","code":"InvalidRange"}`)
	etag := r.header.Get("ETag")
	if r := c.raw("GET", "/storage/v1/object/avatars/doc.txt", nil, c.as(svc, "If-None-Match", etag)...); r.status != 304 {
		t.Errorf("If-None-Match: %d", r.status)
	}
	r = c.raw("GET", "/storage/v1/object/avatars/doc.txt?download=my%20doc.txt", nil, c.as(svc)...)
	if got := r.header.Get("Content-Disposition"); got != "attachment; filename=my%20doc.txt; filename*=UTF-8''my%20doc.txt" {
		t.Errorf("Content-Disposition = %q", got)
	}
	r = c.raw("GET", "/storage/v1/object/info/avatars/doc.txt", nil, c.as(svc)...)
	info := r.json(t)
	if r.status != 200 || info["id"] != up["Id"] || info["name"] != "doc.txt" || info["bucket_id"] != "avatars" || info["size"] != float64(10) ||
		info["content_type"] != "text/plain" || info["cache_control"] != "max-age=60" || info["etag"] != etag ||
		fmt.Sprint(info["metadata"]) != "map[owner:ada]" || info["last_modified"] == nil || info["created_at"] == nil {
		t.Errorf("info: %d %s", r.status, r.body)
	}
	if !strings.HasPrefix(string(r.body), `{"id":`) || !strings.Contains(string(r.body), `,"name":"doc.txt","version":"`) {
		t.Errorf("info field order: %s", r.body)
	}
	// exists: HEAD, with the object's headers and no body.
	r = c.raw("HEAD", "/storage/v1/object/avatars/doc.txt", nil, c.as(svc)...)
	if r.status != 200 || r.header.Get("Content-Length") != "10" || r.header.Get("ETag") != etag || r.header.Get("Cache-Control") != "max-age=60" {
		t.Errorf("HEAD: %d %v", r.status, r.header)
	}
	if r := c.raw("HEAD", "/storage/v1/object/avatars/nope.txt", nil, c.as(svc)...); r.status != 400 {
		t.Errorf("HEAD of a missing object: %d", r.status)
	}
	// Transforms are served as the original bytes.
	if r := c.raw("GET", "/storage/v1/render/image/authenticated/avatars/doc.txt?width=10&height=10", nil, c.as(svc)...); r.status != 200 || string(r.body) != "0123456789" {
		t.Errorf("render: %d %s", r.status, r.body)
	}
	// HTML is never served as a page.
	c.upload(svc, "avatars/page.html", "<p>", "Content-Type", "text/html")
	if r := c.raw("GET", "/storage/v1/object/avatars/page.html", nil, c.as(svc)...); r.header.Get("Content-Type") != "text/plain" {
		t.Errorf("html served as %q", r.header.Get("Content-Type"))
	}
}

// clock is an injectable clock for the stack.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// A signed URL downloads without a token until it expires.
func TestStorageSignedURLs(t *testing.T) {
	clk := &clock{t: time.Now()}
	c := newClient(t, localstacktest.Configure(func(cfg *localstack.Config) { cfg.Now = clk.now }))
	ada := c.signUp("ada@example.com", "password1")
	bob := c.signUp("bob@example.com", "password1")
	path := "avatars/" + ada.User.ID + "/avatar.png"
	c.upload(ada.AccessToken, path, "ada's face", "Content-Type", "image/png")
	r := c.jsonPost("POST", "/storage/v1/object/sign/"+path, ada.AccessToken, map[string]any{"expiresIn": 60})
	if r.status != 200 {
		t.Fatalf("sign: %d %s", r.status, r.body)
	}
	signed := r.json(t)["signedURL"].(string)
	if !strings.HasPrefix(signed, "/object/sign/"+path+"?token=") {
		t.Fatalf("signedURL = %q", signed)
	}
	tok := strings.TrimPrefix(signed, "/object/sign/"+path+"?token=")
	claims := claimsOf(t, tok)
	if claims["url"] != path || claims["scope"] != "download" || claims["exp"].(float64)-claims["iat"].(float64) != 60 || len(claims) != 4 {
		t.Errorf("token claims = %v", claims)
	}
	r = c.raw("GET", "/storage/v1"+signed, nil) // no token, no key
	if r.status != 200 || string(r.body) != "ada's face" {
		t.Fatalf("signed download: %d %s", r.status, r.body)
	}
	if got, want := r.header.Get("Expires"), time.Unix(int64(claims["exp"].(float64)), 0).UTC().Format(http.TimeFormat); got != want || r.header.Get("Cache-Control") != "" {
		t.Errorf("Expires = %q (Cache-Control %q), want %q", got, r.header.Get("Cache-Control"), want)
	}
	// The token is for this object and for downloads only.
	wantError(t, c.raw("GET", "/storage/v1/object/sign/avatars/"+bob.User.ID+"/x.png?token="+tok, nil), 400,
		`{"statusCode":"400","error":"InvalidSignature","message":"Invalid signature","code":"InvalidSignature"}`)
	wantError(t, c.raw("PUT", "/storage/v1/object/upload/sign/"+path+"?token="+tok, strings.NewReader("x")), 400,
		`{"statusCode":"400","error":"InvalidSignature","message":"Token is not scoped for upload","code":"InvalidSignature"}`)
	forged := tok[:len(tok)-10] + strings.Map(func(r rune) rune { return 'A' + (r+1)%26 }, tok[len(tok)-10:len(tok)-1]) + tok[len(tok)-1:]
	wantError(t, c.raw("GET", "/storage/v1/object/sign/"+path+"?token="+forged, nil), 400,
		`{"statusCode":"400","error":"InvalidJWT","message":"signature verification failed","code":"InvalidJWT"}`)
	wantError(t, c.raw("GET", "/storage/v1/object/sign/"+path, nil), 400,
		`{"statusCode":"400","error":"Error","message":"querystring must have required property 'token'","code":"InvalidRequest"}`)

	clk.add(59 * time.Second)
	if r := c.raw("GET", "/storage/v1"+signed, nil); r.status != 200 {
		t.Errorf("a second before expiry: %d %s", r.status, r.body)
	}
	clk.add(time.Second)
	wantError(t, c.raw("GET", "/storage/v1"+signed, nil), 400,
		`{"statusCode":"400","error":"InvalidJWT","message":"\"exp\" claim timestamp check failed","code":"InvalidJWT"}`)

	// Several at once: what the caller cannot see gets an error instead.
	c.upload(bob.AccessToken, "avatars/"+bob.User.ID+"/b.png", "bob")
	r = c.jsonPost("POST", "/storage/v1/object/sign/avatars", ada.AccessToken, map[string]any{
		"expiresIn": "120", "paths": []string{ada.User.ID + "/avatar.png", bob.User.ID + "/b.png"},
	})
	var many []map[string]any
	json.Unmarshal(r.body, &many)
	if r.status != 200 || len(many) != 2 || many[0]["error"] != nil || many[0]["path"] != ada.User.ID+"/avatar.png" ||
		many[1]["error"] != "Either the object does not exist or you do not have access to it" || many[1]["signedURL"] != nil {
		t.Fatalf("sign many: %d %s", r.status, r.body)
	}
	if r := c.raw("GET", "/storage/v1"+many[0]["signedURL"].(string), nil); r.status != 200 || string(r.body) != "ada's face" {
		t.Errorf("download of a URL signed with others: %d %s", r.status, r.body)
	}
	wantError(t, c.jsonPost("POST", "/storage/v1/object/sign/"+path, ada.AccessToken, map[string]any{"expiresIn": 0}), 400,
		`{"statusCode":"400","error":"Error","message":"body/expiresIn must be >= 1","code":"InvalidRequest"}`)
	// With a transform the URL is the image renderer's.
	r = c.jsonPost("POST", "/storage/v1/object/sign/"+path, ada.AccessToken, map[string]any{"expiresIn": 60, "transform": map[string]any{"width": 64, "height": 32, "resize": "contain"}})
	signed = r.json(t)["signedURL"].(string)
	if !strings.HasPrefix(signed, "/render/image/sign/"+path+"?token=") {
		t.Fatalf("transform signedURL = %q", signed)
	}
	if got := claimsOf(t, signed[strings.Index(signed, "token=")+6:])["transformations"]; got != "height:32,width:64,resize:contain" {
		t.Errorf("transformations = %v", got)
	}
	if r := c.raw("GET", "/storage/v1"+signed, nil); r.status != 200 || string(r.body) != "ada's face" {
		t.Errorf("render of a signed URL: %d %s", r.status, r.body)
	}
}

// A signed upload URL lets anyone upload that one object, as the user who
// signed it, once.
func TestStorageSignedUpload(t *testing.T) {
	clk := &clock{t: time.Now()}
	c := newClient(t, localstacktest.Configure(func(cfg *localstack.Config) { cfg.Now = clk.now }))
	ada := c.signUp("ada@example.com", "password1")
	bob := c.signUp("bob@example.com", "password1")
	path := "avatars/" + ada.User.ID + "/upload.txt"
	wantError(t, c.jsonPost("POST", "/storage/v1/object/upload/sign/"+path, bob.AccessToken, map[string]any{}), 400, rlsRefusal)
	r := c.jsonPost("POST", "/storage/v1/object/upload/sign/"+path, ada.AccessToken, map[string]any{})
	if r.status != 200 {
		t.Fatalf("sign upload: %d %s", r.status, r.body)
	}
	res := r.json(t)
	tok := res["token"].(string)
	if res["url"] != "/object/upload/sign/"+path+"?token="+tok {
		t.Errorf("url = %v", res["url"])
	}
	claims := claimsOf(t, tok)
	if claims["owner"] != ada.User.ID || claims["url"] != path || claims["upsert"] != false || claims["scope"] != "upload" ||
		claims["exp"].(float64)-claims["iat"].(float64) != 7200 {
		t.Errorf("claims = %v", claims)
	}
	put := func(body string) reply {
		return c.raw("PUT", "/storage/v1"+res["url"].(string), strings.NewReader(body), "Content-Type", "text/plain")
	}
	r = put("signed upload")
	if r.status != 200 || string(r.body) != `{"Key":"`+path+`"}` {
		t.Fatalf("upload to the signed URL: %d %s", r.status, r.body)
	}
	c.wantObject(ada.AccessToken, path, "signed upload")
	var owner string
	c.st.Server.Pool().QueryRow(context.Background(), `SELECT owner_id FROM storage.objects WHERE name = $1`, ada.User.ID+"/upload.txt").Scan(&owner)
	if owner != ada.User.ID {
		t.Errorf("owner_id = %q", owner)
	}
	wantError(t, put("again"), 400, duplicate)
	clk.add(2 * time.Hour)
	wantError(t, put("late"), 400, `{"statusCode":"400","error":"InvalidJWT","message":"\"exp\" claim timestamp check failed","code":"InvalidJWT"}`)
}

// Storage and Functions are not behind the gateway's key check: the token
// decides, and its refusals are Storage's.
func TestStorageAuthentication(t *testing.T) {
	clk := &clock{t: time.Now()}
	c := newClient(t, localstacktest.Configure(func(cfg *localstack.Config) { cfg.Now = clk.now }))
	ada := c.signUp("ada@example.com", "password1")
	// The apikey header alone is the token, as the gateway forwards it.
	if r := c.raw("GET", "/storage/v1/bucket", nil, "apikey", c.st.ServiceRoleKey); r.status != 200 || len(r.rows(t)) != 1 {
		t.Errorf("apikey only: %d %s", r.status, r.body)
	}
	wantError(t, c.raw("GET", "/storage/v1/bucket", nil), 400,
		`{"statusCode":"403","error":"Unauthorized","message":"Invalid Compact JWS","code":"AccessDenied"}`)
	wantError(t, c.raw("GET", "/storage/v1/bucket", nil, "Authorization", "Bearer "+c.st.AnonKey+"x"), 400,
		`{"statusCode":"403","error":"Unauthorized","message":"signature verification failed","code":"AccessDenied"}`)
	clk.add(2 * time.Hour) // the access token expires
	wantError(t, c.raw("GET", "/storage/v1/bucket", nil, c.as(ada.AccessToken)...), 400,
		`{"statusCode":"403","error":"Unauthorized","message":"\"exp\" claim timestamp check failed","code":"AccessDenied"}`)
	wantError(t, c.raw("GET", "/storage/v1/nothing/here?x=1", nil), 404,
		`{"statusCode":"404","error":"Not Found","message":"Route GET:/nothing/here?x=1 not found","code":"InvalidRequest"}`)
	wantError(t, c.raw("POST", `/storage/v1/object/avatars/a"b.txt`, strings.NewReader("x"), c.as(c.st.ServiceRoleKey, "Content-Type", "text/plain")...), 400,
		`{"statusCode":"400","error":"InvalidKey","message":"Invalid key: a\"b.txt","code":"InvalidKey"}`)
	wantError(t, c.raw("POST", "/storage/v1/object/nope/a.txt", strings.NewReader("x"), c.as(c.st.ServiceRoleKey, "Content-Type", "text/plain")...), 400, noBucket)
	// CORS preflights are answered at the edge.
	r := c.raw("OPTIONS", "/storage/v1/object/avatars/a.txt", nil, "Origin", "http://localhost:3000", "Access-Control-Request-Method", "POST")
	if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("preflight: %d %v", r.status, r.header)
	}
}

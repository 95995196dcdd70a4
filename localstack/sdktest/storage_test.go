package sdktest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/supabase-go/supabase"
	"github.com/supabase-go/supabase/localstack"
	"github.com/supabase-go/supabase/localstack/localstacktest"
)

// The SDK's Storage API against the stack's: the demo schema's private
// avatars bucket, whose policies on storage.objects let each user read and
// write only under a folder named after their user id.

// storageErr asserts err is a Storage *Error with that HTTP status,
// statusCode and code, and returns it.
func storageErr(t *testing.T, err error, status int, statusCode, code string) *supabase.Error {
	t.Helper()
	var e *supabase.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, supabase.ServiceStorage, e.Service, "service")
	assert.Equal(t, status, e.Status, "HTTP status")
	assert.Equal(t, statusCode, e.StatusCode, "statusCode")
	assert.Equal(t, code, e.Code, "code")
	return e
}

// avatarPath is the user's object in the avatars bucket.
func avatarPath(s *supabase.Session, name string) string { return s.User.ID + "/" + name }

// Ada's folder is hers: Bob can neither read nor write it, whatever call he
// uses, and anon sees nothing.
func TestStorageRLSOnUserFolders(t *testing.T) {
	t.Parallel()
	st := localstacktest.New(t)
	ctx := ctxFor(t)
	ada, adaS := user(t, ctx, st, "ada@example.com")
	bob, bobS := user(t, ctx, st, "bob@example.com")
	png := []byte("\x89PNG\r\n\x1a\nada's avatar")
	path := avatarPath(adaS, "avatar.png")

	res, err := ada.Storage.From("avatars").Upload(ctx, path, bytes.NewReader(png), &supabase.UploadOptions{ContentType: "image/png"})
	require.NoError(t, err)
	assert.Equal(t, path, res.Path)
	assert.Equal(t, "avatars/"+path, res.FullPath)
	assert.Len(t, res.ID, 36, "the object's uuid")

	bobs := bob.Storage.From("avatars")
	// Writes into Ada's folder: the INSERT policy's WITH CHECK refuses them,
	// an upsert and an update (an upsert too) as well.
	_, err = bobs.Upload(ctx, path, strings.NewReader("bob's"), &supabase.UploadOptions{ContentType: "image/png"})
	e := storageErr(t, err, 400, "403", "AccessDenied")
	assert.ErrorIs(t, err, supabase.ErrPermissionDenied)
	assert.Equal(t, "new row violates row-level security policy", e.Message)
	_, err = bobs.Upload(ctx, path, strings.NewReader("bob's"), &supabase.UploadOptions{Upsert: true})
	assert.ErrorIs(t, err, supabase.ErrPermissionDenied)
	_, err = bobs.Update(ctx, path, strings.NewReader("bob's"), nil)
	assert.ErrorIs(t, err, supabase.ErrPermissionDenied)
	_, err = bobs.Upload(ctx, avatarPath(adaS, "planted.png"), strings.NewReader("bob's"), nil)
	assert.ErrorIs(t, err, supabase.ErrPermissionDenied, "a new name in her folder")

	// Reads: the SELECT policy hides the object, so it is not found.
	_, err = bobs.Download(ctx, path, nil)
	storageErr(t, err, 400, "404", "NoSuchKey")
	assert.ErrorIs(t, err, supabase.ErrNotFound)
	_, err = bobs.Download(ctx, path, &supabase.DownloadOptions{Transform: &supabase.TransformOptions{Width: 4}})
	assert.ErrorIs(t, err, supabase.ErrNotFound, "the image renderer reads as the caller too")
	_, err = bobs.Info(ctx, path)
	assert.ErrorIs(t, err, supabase.ErrNotFound)
	ok, err := bobs.Exists(ctx, path)
	assert.NoError(t, err)
	assert.False(t, ok, "bob: exists")
	_, err = bobs.CreateSignedURL(ctx, path, time.Minute, nil)
	assert.ErrorIs(t, err, supabase.ErrNotFound, "bob cannot sign what he cannot see")
	_, err = bobs.CreateSignedUploadURL(ctx, path, &supabase.SignedUploadOptions{Upsert: true})
	assert.ErrorIs(t, err, supabase.ErrPermissionDenied, "nor a signed upload into her folder")
	_, err = bobs.Copy(ctx, path, avatarPath(bobS, "copied.png"), nil)
	assert.ErrorIs(t, err, supabase.ErrNotFound, "nor copy it to his")
	err = bobs.Move(ctx, path, avatarPath(bobS, "moved.png"), nil)
	assert.ErrorIs(t, err, supabase.ErrNotFound, "nor move it")
	removed, err := bobs.Remove(ctx, path)
	require.NoError(t, err, "remove leaves out what the caller may not delete")
	assert.Empty(t, removed)

	anon := newClient(t, st, st.AnonKey)
	_, err = anon.Storage.From("avatars").Download(ctx, path, nil)
	assert.ErrorIs(t, err, supabase.ErrNotFound, "anon")
	_, err = anon.Storage.From("avatars").Upload(ctx, "anything.png", strings.NewReader("x"), nil)
	assert.ErrorIs(t, err, supabase.ErrPermissionDenied, "anon writes")

	// All of it left Ada's avatar as it was.
	r, err := ada.Storage.From("avatars").Download(ctx, path, nil)
	require.NoError(t, err)
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	assert.Equal(t, png, got)
	assert.Equal(t, "image/png", r.ContentType)
	assert.EqualValues(t, len(png), r.Size)
	// The stack has no image processing: a transformed download is the
	// original, read through /render/image/authenticated.
	got, err = ada.Storage.From("avatars").DownloadBytes(ctx, path, &supabase.DownloadOptions{Transform: &supabase.TransformOptions{Width: 4}})
	require.NoError(t, err)
	assert.Equal(t, png, got)
	list, err := ada.Storage.From("avatars").List(ctx, adaS.User.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"avatar.png"}, names(list))
}

func names(objs []supabase.FileObject) []string {
	out := []string{}
	for _, o := range objs {
		out = append(out, o.Name)
	}
	return out
}

// List shows each caller the objects the SELECT policy lets them see, and
// the folders holding them.
func TestStorageListShowsOnlyPermittedObjects(t *testing.T) {
	t.Parallel()
	st := localstacktest.New(t)
	ctx := ctxFor(t)
	ada, adaS := user(t, ctx, st, "ada@example.com")
	bob, bobS := user(t, ctx, st, "bob@example.com")
	for _, f := range []struct {
		c    *supabase.Client
		path string
		body string
	}{
		{ada, avatarPath(adaS, "b.png"), "bb"},
		{ada, avatarPath(adaS, "a.png"), "a"},
		{ada, avatarPath(adaS, "old/c.png"), "ccc"},
		{bob, avatarPath(bobS, "bob.png"), "bob"},
	} {
		_, err := f.c.Storage.From("avatars").Upload(ctx, f.path, strings.NewReader(f.body), &supabase.UploadOptions{ContentType: "image/png"})
		require.NoError(t, err, f.path)
	}
	svc := newClient(t, st, st.ServiceRoleKey)

	root := func(c *supabase.Client) []string {
		t.Helper()
		objs, err := c.Storage.From("avatars").List(ctx, "", nil)
		require.NoError(t, err)
		for _, o := range objs {
			assert.Empty(t, o.ID, "%s is a folder", o.Name)
			assert.Nil(t, o.Metadata, "%s is a folder", o.Name)
		}
		return names(objs)
	}
	assert.Equal(t, []string{adaS.User.ID}, root(ada))
	assert.Equal(t, []string{bobS.User.ID}, root(bob))
	want := []string{adaS.User.ID, bobS.User.ID}
	slices.Sort(want)
	assert.Equal(t, want, root(svc), "service_role bypasses RLS")
	assert.Empty(t, root(newClient(t, st, st.AnonKey)), "anon")

	objs, err := ada.Storage.From("avatars").List(ctx, adaS.User.ID, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"a.png", "b.png", "old"}, names(objs))
	a := objs[0]
	assert.Len(t, a.ID, 36)
	require.NotNil(t, a.Metadata)
	assert.EqualValues(t, 1, a.Metadata.Size)
	assert.Equal(t, "image/png", a.Metadata.MIMEType)
	assert.Equal(t, "max-age=3600", a.Metadata.CacheControl)
	assert.False(t, a.CreatedAt.IsZero())

	objs, err = ada.Storage.From("avatars").List(ctx, adaS.User.ID, &supabase.ListOptions{
		Limit: 2, SortBy: supabase.SortBy{Column: "name", Order: "desc"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"old", "b.png"}, names(objs), "limit and order")
	objs, err = ada.Storage.From("avatars").List(ctx, adaS.User.ID, &supabase.ListOptions{Offset: 1})
	require.NoError(t, err)
	assert.Equal(t, []string{"b.png", "old"}, names(objs), "offset")
	// Search is a prefix of the name within the folder, in any case.
	objs, err = ada.Storage.From("avatars").List(ctx, adaS.User.ID, &supabase.ListOptions{Search: "B"})
	require.NoError(t, err)
	assert.Equal(t, []string{"b.png"}, names(objs), "search")
	objs, err = ada.Storage.From("avatars").List(ctx, adaS.User.ID, &supabase.ListOptions{Search: ".png"})
	require.NoError(t, err)
	assert.Empty(t, objs, "search does not match inside names")
	objs, err = ada.Storage.From("avatars").List(ctx, adaS.User.ID+"/old", nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"c.png"}, names(objs), "a sub-folder")

	objs, err = ada.Storage.From("avatars").List(ctx, bobS.User.ID, nil)
	require.NoError(t, err)
	assert.Empty(t, objs, "ada lists bob's folder")
	objs, err = svc.Storage.From("avatars").List(ctx, bobS.User.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"bob.png"}, names(objs))

	_, err = ada.Storage.From("no-such-bucket").List(ctx, "", nil)
	require.NoError(t, err, "Storage lists a missing bucket as empty")
}

// Upload refuses an existing name unless Upsert is set; Update replaces.
func TestStorageUpsertVersusDuplicate(t *testing.T) {
	t.Parallel()
	st := localstacktest.New(t)
	ctx := ctxFor(t)
	ada, adaS := user(t, ctx, st, "ada@example.com")
	b := ada.Storage.From("avatars")
	path := avatarPath(adaS, "notes.txt")
	download := func() (string, string) {
		t.Helper()
		r, err := b.Download(ctx, path, nil)
		require.NoError(t, err)
		defer r.Close()
		got, err := io.ReadAll(r)
		require.NoError(t, err)
		return string(got), r.ContentType
	}

	first, err := b.Upload(ctx, path, strings.NewReader("one"), &supabase.UploadOptions{ContentType: "text/plain"})
	require.NoError(t, err)
	_, err = b.Upload(ctx, path, strings.NewReader("two"), &supabase.UploadOptions{ContentType: "text/plain"})
	e := storageErr(t, err, 400, "409", "KeyAlreadyExists")
	assert.ErrorIs(t, err, supabase.ErrConflict)
	assert.Equal(t, "The resource already exists", e.Message)
	body, _ := download()
	assert.Equal(t, "one", body, "a refused duplicate changes nothing")

	second, err := b.Upload(ctx, path, strings.NewReader("two"), &supabase.UploadOptions{ContentType: "text/markdown", Upsert: true})
	require.NoError(t, err)
	assert.Equal(t, first.ID, second.ID, "an upsert replaces the object in place")
	body, ctype := download()
	assert.Equal(t, "two", body)
	assert.Equal(t, "text/markdown", ctype)

	third, err := b.Update(ctx, path, strings.NewReader("three"), nil)
	require.NoError(t, err)
	assert.Equal(t, first.ID, third.ID)
	body, ctype = download()
	assert.Equal(t, "three", body)
	assert.Equal(t, "application/octet-stream", ctype, "an upload without ContentType is octet-stream")

	// Update is Storage's PUT, an upsert: a new name is created (the INSERT
	// policy permitting).
	_, err = b.Update(ctx, avatarPath(adaS, "new.txt"), strings.NewReader("new"), nil)
	require.NoError(t, err)
	ok, err := b.Exists(ctx, avatarPath(adaS, "new.txt"))
	require.NoError(t, err)
	assert.True(t, ok)
}

// Move, Copy, Remove, Info and Exists as the owner, with metadata and
// cache settings kept.
func TestStorageMoveCopyRemoveInfoExists(t *testing.T) {
	t.Parallel()
	st := localstacktest.New(t)
	ctx := ctxFor(t)
	ada, adaS := user(t, ctx, st, "ada@example.com")
	b := ada.Storage.From("avatars")
	p := func(name string) string { return avatarPath(adaS, name) }

	_, err := b.Upload(ctx, p("a.txt"), strings.NewReader("hello"), &supabase.UploadOptions{
		ContentType: "text/plain", CacheMaxAge: time.Minute, Metadata: map[string]any{"kind": "greeting"}})
	require.NoError(t, err)

	fi, err := b.Info(ctx, p("a.txt"))
	require.NoError(t, err)
	assert.Equal(t, p("a.txt"), fi.Name)
	assert.Equal(t, "avatars", fi.BucketID)
	assert.EqualValues(t, 5, fi.Size)
	assert.Equal(t, "text/plain", fi.ContentType)
	assert.Equal(t, "max-age=60", fi.CacheControl)
	assert.Equal(t, `"5d41402abc4b2a76b9719d911017c592"`, fi.ETag, "the md5 of the bytes")
	assert.Equal(t, map[string]any{"kind": "greeting"}, fi.Metadata)
	assert.False(t, fi.CreatedAt.IsZero())

	// Move: the old name is gone, the new one has the bytes.
	require.NoError(t, b.Move(ctx, p("a.txt"), p("dir/b.txt"), nil))
	ok, err := b.Exists(ctx, p("a.txt"))
	require.NoError(t, err)
	assert.False(t, ok, "moved away")
	got, err := b.DownloadBytes(ctx, p("dir/b.txt"), nil)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(got))
	err = b.Move(ctx, p("a.txt"), p("c.txt"), nil)
	assert.ErrorIs(t, err, supabase.ErrNotFound, "moving a missing object")

	// Copy keeps the source; copying onto an existing name is a conflict.
	key, err := b.Copy(ctx, p("dir/b.txt"), p("copy.txt"), nil)
	require.NoError(t, err)
	assert.Equal(t, "avatars/"+p("copy.txt"), key)
	for _, name := range []string{"dir/b.txt", "copy.txt"} {
		got, err := b.DownloadBytes(ctx, p(name), nil)
		require.NoError(t, err)
		assert.Equal(t, "hello", string(got), name)
	}
	cfi, err := b.Info(ctx, p("copy.txt"))
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"kind": "greeting"}, cfi.Metadata, "the copy keeps the metadata")
	assert.Equal(t, "text/plain", cfi.ContentType)
	assert.NotEqual(t, fi.ID, cfi.ID)
	_, err = b.Copy(ctx, p("dir/b.txt"), p("copy.txt"), nil)
	assert.ErrorIs(t, err, supabase.ErrConflict)

	// Copy into another bucket the policies do not open: refused.
	svc := newClient(t, st, st.ServiceRoleKey)
	require.NoError(t, svc.Storage.CreateBucket(ctx, "archive", nil))
	_, err = b.Copy(ctx, p("copy.txt"), "kept.txt", &supabase.DestinationOptions{DestinationBucket: "archive"})
	assert.ErrorIs(t, err, supabase.ErrPermissionDenied)
	key, err = svc.Storage.From("avatars").Copy(ctx, p("copy.txt"), "kept.txt", &supabase.DestinationOptions{DestinationBucket: "archive"})
	require.NoError(t, err, "service_role may")
	assert.Equal(t, "archive/kept.txt", key)

	// Remove answers what it removed; a missing name is left out.
	removed, err := b.Remove(ctx, p("copy.txt"), p("dir/b.txt"), p("never.txt"))
	require.NoError(t, err)
	got2 := names(removed)
	slices.Sort(got2)
	assert.Equal(t, []string{p("copy.txt"), p("dir/b.txt")}, got2)
	for _, o := range removed {
		assert.Equal(t, "avatars", o.BucketID)
		assert.Equal(t, adaS.User.ID, o.Owner)
	}
	for _, name := range []string{"copy.txt", "dir/b.txt"} {
		ok, err := b.Exists(ctx, p(name))
		require.NoError(t, err)
		assert.False(t, ok, name)
		_, err = b.Info(ctx, p(name))
		storageErr(t, err, 400, "404", "NoSuchKey")
	}

	// A bucket the caller cannot see is not found: false.
	ok, err = ada.Storage.From("no-such-bucket").Exists(ctx, "x")
	require.NoError(t, err)
	assert.False(t, ok)
	// Storage reads this request with an invalid token as anon (it serves
	// public buckets so), so in a private bucket the answer is false too.
	_, err = b.Upload(ctx, p("kept.txt"), strings.NewReader("kept"), nil)
	require.NoError(t, err)
	ok, err = b.Exists(ctx, p("kept.txt"))
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = ada.WithAccessToken("not-a-jwt").Storage.From("avatars").Exists(ctx, p("kept.txt"))
	require.NoError(t, err)
	assert.False(t, ok)
	// Failures other than not found are returned.
	done, cancel := context.WithCancel(ctx)
	cancel()
	_, err = b.Exists(done, p("x"))
	assert.ErrorIs(t, err, context.Canceled)
}

// Paths with spaces, non-ASCII letters and the characters a URL reserves
// are stored under exactly that name.
func TestStorageEscapedPaths(t *testing.T) {
	t.Parallel()
	st := localstacktest.New(t)
	ctx := ctxFor(t)
	svc := newClient(t, st, st.ServiceRoleKey)
	require.NoError(t, svc.Storage.CreateBucket(ctx, "files", nil))
	b := svc.Storage.From("files")
	for _, name := range []string{"with space.txt", "what?.txt", "a+b=c&d.txt", "dir/(x) 'y'.txt", "$@;:,!*.txt"} {
		t.Run(name, func(t *testing.T) {
			res, err := b.Upload(ctx, name, strings.NewReader(name), nil)
			require.NoError(t, err)
			assert.Equal(t, "files/"+name, res.FullPath)
			got, err := b.DownloadBytes(ctx, name, nil)
			require.NoError(t, err)
			assert.Equal(t, name, string(got))
			fi, err := b.Info(ctx, name)
			require.NoError(t, err)
			assert.Equal(t, name, fi.Name)
			u, err := b.CreateSignedURL(ctx, name, time.Minute, nil)
			require.NoError(t, err)
			assert.Equal(t, name, fetch(t, u, http.StatusOK))
		})
	}
	// Storage refuses names outside its (ASCII) character set; the SDK
	// sends them escaped and reports Storage's answer.
	for _, name := range []string{"naïve.txt", "a#b.txt", "100%.txt"} {
		_, err := b.Upload(ctx, name, strings.NewReader("x"), nil)
		e := storageErr(t, err, 400, "400", "InvalidKey")
		assert.Equal(t, "Invalid key: "+name, e.Message)
	}
}

// fetch GETs url with net/http alone, no apikey and no token, and returns
// the body after checking the status.
func fetch(t *testing.T, url string, status int) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, status, resp.StatusCode, "GET %s: %s", url, body)
	return string(body)
}

// storageBody decodes a Storage error body.
func storageBody(t *testing.T, body string) map[string]string {
	t.Helper()
	var m map[string]string
	require.NoError(t, json.Unmarshal([]byte(body), &m), body)
	return m
}

// A signed URL works without any token until it expires; expiry is
// checked against the stack's clock, moved forward instead of waited for.
func TestStorageSignedURLExpiry(t *testing.T) {
	t.Parallel()
	var skew atomic.Int64 // how far the stack's clock is ahead, in ns
	st := localstacktest.New(t, localstacktest.Configure(func(c *localstack.Config) {
		c.Now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	}))
	ctx := ctxFor(t)
	ada, adaS := user(t, ctx, st, "ada@example.com")
	b := ada.Storage.From("avatars")
	path := avatarPath(adaS, "avatar.png")
	_, err := b.Upload(ctx, path, strings.NewReader("pixels"), &supabase.UploadOptions{ContentType: "image/png"})
	require.NoError(t, err)

	u, err := b.CreateSignedURL(ctx, path, time.Minute, nil)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(u, st.URL+"/storage/v1/object/sign/avatars/"+path+"?token="), u)
	dl, err := b.CreateSignedURL(ctx, path, time.Minute, &supabase.URLOptions{DownloadAs: "me.png"})
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(dl, "&download=me.png"), dl)
	img, err := b.CreateSignedURL(ctx, path, time.Minute, &supabase.URLOptions{Transform: &supabase.TransformOptions{Width: 4, Height: 4}})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(img, st.URL+"/storage/v1/render/image/sign/avatars/"+path+"?token="), img)
	assert.Equal(t, "pixels", fetch(t, img, http.StatusOK))
	many, err := b.CreateSignedURLs(ctx, []string{path, avatarPath(adaS, "missing.png")}, time.Minute, nil)
	require.NoError(t, err)
	require.Len(t, many, 2)
	assert.Equal(t, path, many[0].Path)
	assert.Empty(t, many[0].Error)
	assert.Empty(t, many[1].URL)
	assert.Equal(t, "Either the object does not exist or you do not have access to it", many[1].Error)

	assert.Equal(t, "pixels", fetch(t, u, http.StatusOK))
	assert.Equal(t, "pixels", fetch(t, many[0].URL, http.StatusOK))
	resp, err := http.Get(dl)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "attachment; filename=me.png; filename*=UTF-8''me.png", resp.Header.Get("Content-Disposition"))

	// 58 s on: still valid (the token's exp is whole seconds).
	skew.Store(int64(58 * time.Second))
	assert.Equal(t, "pixels", fetch(t, u, http.StatusOK))

	// 61 s on: expired.
	skew.Store(int64(61 * time.Second))
	for _, url := range []string{u, many[0].URL} {
		m := storageBody(t, fetch(t, url, http.StatusBadRequest))
		assert.Equal(t, "InvalidJWT", m["code"])
		assert.Equal(t, `"exp" claim timestamp check failed`, m["message"])
	}

	// A token is for its own object only.
	other := avatarPath(adaS, "other.png")
	_, err = b.Upload(ctx, other, strings.NewReader("other"), nil)
	require.NoError(t, err)
	skew.Store(0)
	forged := strings.Replace(u, "avatar.png?", "other.png?", 1)
	require.NotEqual(t, u, forged)
	assert.Equal(t, "InvalidSignature", storageBody(t, fetch(t, forged, http.StatusBadRequest))["code"])
}

// A public bucket serves its objects to anon and to plain HTTP; writing to
// it still takes a policy.
func TestStoragePublicBucketAsAnon(t *testing.T) {
	t.Parallel()
	st := localstacktest.New(t)
	ctx := ctxFor(t)
	svc := newClient(t, st, st.ServiceRoleKey)
	require.NoError(t, svc.Storage.CreateBucket(ctx, "public-docs", &supabase.BucketOptions{Public: true}))
	_, err := svc.Storage.From("public-docs").Upload(ctx, "guide/readme.txt", strings.NewReader("read me"),
		&supabase.UploadOptions{ContentType: "text/plain"})
	require.NoError(t, err)

	anon := newClient(t, st, st.AnonKey).Storage.From("public-docs")
	got, err := anon.DownloadBytes(ctx, "guide/readme.txt", nil)
	require.NoError(t, err)
	assert.Equal(t, "read me", string(got))
	fi, err := anon.Info(ctx, "guide/readme.txt")
	require.NoError(t, err)
	assert.EqualValues(t, 7, fi.Size)

	u, err := anon.PublicURL("guide/readme.txt", nil)
	require.NoError(t, err)
	assert.Equal(t, st.URL+"/storage/v1/object/public/public-docs/guide/readme.txt", u)
	assert.Equal(t, "read me", fetch(t, u, http.StatusOK))
	u, err = anon.PublicURL("guide/readme.txt", &supabase.URLOptions{Download: true})
	require.NoError(t, err)
	resp, err := http.Get(u)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "attachment;", resp.Header.Get("Content-Disposition"))

	// Listing and writing are not opened by public: they go through RLS.
	objs, err := anon.List(ctx, "guide", nil)
	require.NoError(t, err)
	assert.Empty(t, objs, "anon lists")
	_, err = anon.Upload(ctx, "guide/spam.txt", strings.NewReader("spam"), nil)
	assert.ErrorIs(t, err, supabase.ErrPermissionDenied)

	// A private bucket's public URL answers "Bucket not found".
	u, err = anon.PublicURL("x", nil)
	require.NoError(t, err)
	priv, err := newClient(t, st, st.AnonKey).Storage.From("avatars").PublicURL("x/avatar.png", nil)
	require.NoError(t, err)
	m := storageBody(t, fetch(t, priv, http.StatusBadRequest))
	assert.Equal(t, "NoSuchBucket", m["code"])
	assert.Equal(t, "NoSuchKey", storageBody(t, fetch(t, u, http.StatusBadRequest))["code"])
}

// A bucket's file_size_limit and allowed_mime_types are enforced, whether
// or not the upload says its length up front.
func TestStorageSizeAndMIMELimits(t *testing.T) {
	t.Parallel()
	st := localstacktest.New(t)
	ctx := ctxFor(t)
	svc := newClient(t, st, st.ServiceRoleKey)
	require.NoError(t, svc.Storage.CreateBucket(ctx, "small", &supabase.BucketOptions{
		FileSizeLimit: "1KB", AllowedMIMETypes: []string{"image/*", "text/plain"}}))
	bk, err := svc.Storage.GetBucket(ctx, "small")
	require.NoError(t, err)
	require.NotNil(t, bk.FileSizeLimit)
	assert.EqualValues(t, 1000, *bk.FileSizeLimit, "1KB is decimal")
	assert.Equal(t, []string{"image/*", "text/plain"}, bk.AllowedMIMETypes)
	b := svc.Storage.From("small")

	_, err = b.Upload(ctx, "ok.png", bytes.NewReader(make([]byte, 1000)), &supabase.UploadOptions{ContentType: "image/png"})
	require.NoError(t, err, "exactly the limit")

	// Declared length over the limit: refused before the body is read.
	_, err = b.Upload(ctx, "big.png", bytes.NewReader(make([]byte, 1001)), &supabase.UploadOptions{ContentType: "image/png"})
	e := storageErr(t, err, 400, "413", "EntityTooLarge")
	assert.ErrorIs(t, err, supabase.ErrTooLarge)
	assert.Equal(t, "The object exceeded the maximum allowed size", e.Message)
	// Unknown length (chunked): refused as the bytes pass the limit. A
	// large body, so the refusal comes mid-stream.
	_, err = b.Upload(ctx, "big.png", io.LimitReader(&xorshift{x: 1}, 8<<20), &supabase.UploadOptions{ContentType: "image/png"})
	assert.ErrorIs(t, err, supabase.ErrTooLarge)
	ok, err := b.Exists(ctx, "big.png")
	require.NoError(t, err)
	assert.False(t, ok, "nothing is left of a refused upload")

	for _, ct := range []string{"application/pdf", "text/plain;charset=UTF-8", ""} {
		_, err = b.Upload(ctx, "doc", strings.NewReader("%PDF"), &supabase.UploadOptions{ContentType: ct})
		e = storageErr(t, err, 400, "415", "InvalidMimeType")
		want := ct
		if ct == "" {
			want = "application/octet-stream" // the SDK's default
		}
		assert.Equal(t, "mime type "+want+" is not supported", e.Message)
	}
	_, err = b.Upload(ctx, "doc.txt", strings.NewReader("text"), &supabase.UploadOptions{ContentType: "text/plain"})
	require.NoError(t, err)

	// The project's own limit (FileSizeLimit, 50 MiB by default) caps the
	// bucket's.
	err = svc.Storage.CreateBucket(ctx, "huge", &supabase.BucketOptions{FileSizeLimit: "1GB"})
	assert.ErrorIs(t, err, supabase.ErrTooLarge)
	err = svc.Storage.UpdateBucket(ctx, "small", &supabase.BucketOptions{AllowedMIMETypes: []string{"not a type"}})
	storageErr(t, err, 400, "415", "InvalidMimeType")

	// DownloadBytes bounds what it reads.
	_, err = b.DownloadBytes(ctx, "ok.png", &supabase.DownloadOptions{MaxBytes: 999})
	assert.ErrorIs(t, err, supabase.ErrTooLarge)
	got, err := b.DownloadBytes(ctx, "ok.png", &supabase.DownloadOptions{MaxBytes: 1000})
	require.NoError(t, err)
	assert.Len(t, got, 1000)
}

// A signed upload URL lets someone without credentials upload the one
// object its signer may write.
func TestStorageSignedUploadURL(t *testing.T) {
	t.Parallel()
	st := localstacktest.New(t)
	ctx := ctxFor(t)
	ada, adaS := user(t, ctx, st, "ada@example.com")
	path := avatarPath(adaS, "from-the-browser.png")

	su, err := ada.Storage.From("avatars").CreateSignedUploadURL(ctx, path, nil)
	require.NoError(t, err)
	assert.Equal(t, path, su.Path)
	assert.Equal(t, st.URL+"/storage/v1/object/upload/sign/avatars/"+path+"?token="+su.Token, su.URL)
	assert.NotContains(t, fmt.Sprintf("%v %+v", su, *su), su.Token, "printed redacted")

	// Anyone with the token: a client with no session, here anon.
	anon := newClient(t, st, st.AnonKey).Storage.From("avatars")
	res, err := anon.UploadToSignedURL(ctx, path, su.Token, strings.NewReader("uploaded"), &supabase.UploadOptions{ContentType: "image/png"})
	require.NoError(t, err)
	assert.Equal(t, "avatars/"+path, res.FullPath)
	fi, err := ada.Storage.From("avatars").Info(ctx, path)
	require.NoError(t, err, "ada sees it: it is hers")
	assert.Equal(t, "image/png", fi.ContentType)
	assert.EqualValues(t, 8, fi.Size)

	// Without upsert the token cannot overwrite.
	_, err = anon.UploadToSignedURL(ctx, path, su.Token, strings.NewReader("again"), nil)
	assert.ErrorIs(t, err, supabase.ErrConflict)
	// With upsert it can.
	su2, err := ada.Storage.From("avatars").CreateSignedUploadURL(ctx, path, &supabase.SignedUploadOptions{Upsert: true})
	require.NoError(t, err)
	_, err = anon.UploadToSignedURL(ctx, path, su2.Token, strings.NewReader("replaced"), &supabase.UploadOptions{Upsert: true})
	require.NoError(t, err)
	got, err := ada.Storage.From("avatars").DownloadBytes(ctx, path, nil)
	require.NoError(t, err)
	assert.Equal(t, "replaced", string(got))

	// The token names one object.
	_, err = anon.UploadToSignedURL(ctx, avatarPath(adaS, "elsewhere.png"), su2.Token, strings.NewReader("x"), nil)
	storageErr(t, err, 400, "400", "InvalidSignature")
	_, err = anon.UploadToSignedURL(ctx, path, "not-a-token", strings.NewReader("x"), nil)
	e := storageErr(t, err, 400, "400", "InvalidJWT")
	assert.Equal(t, "Invalid Compact JWS", e.Message)
}

// Bucket management as service_role; users get no bucket of their own
// without a policy on storage.buckets.
func TestStorageBucketsAsServiceRole(t *testing.T) {
	t.Parallel()
	st := localstacktest.New(t)
	ctx := ctxFor(t)
	svc := newClient(t, st, st.ServiceRoleKey).Storage
	ada, _ := user(t, ctx, st, "ada@example.com")

	require.NoError(t, svc.CreateBucket(ctx, "docs", &supabase.BucketOptions{FileSizeLimit: "5242880", AllowedMIMETypes: []string{"application/pdf"}}))
	err := svc.CreateBucket(ctx, "docs", nil)
	storageErr(t, err, 400, "409", "BucketAlreadyExists")
	assert.ErrorIs(t, err, supabase.ErrConflict)
	err = ada.Storage.CreateBucket(ctx, "adas", nil)
	assert.ErrorIs(t, err, supabase.ErrPermissionDenied, "no INSERT policy on storage.buckets")

	b, err := svc.GetBucket(ctx, "docs")
	require.NoError(t, err)
	assert.Equal(t, "docs", b.ID)
	assert.Equal(t, "docs", b.Name)
	assert.False(t, b.Public)
	assert.Empty(t, b.Type, "GET /bucket/{id} does not say")
	require.NotNil(t, b.FileSizeLimit)
	assert.EqualValues(t, 5<<20, *b.FileSizeLimit)
	assert.Equal(t, []string{"application/pdf"}, b.AllowedMIMETypes)
	assert.False(t, b.CreatedAt.IsZero())
	_, err = svc.GetBucket(ctx, "nope")
	storageErr(t, err, 400, "404", "NoSuchBucket")
	assert.ErrorIs(t, err, supabase.ErrNotFound)
	_, err = ada.Storage.GetBucket(ctx, "docs")
	assert.ErrorIs(t, err, supabase.ErrNotFound, "no SELECT policy on storage.buckets")

	require.NoError(t, svc.UpdateBucket(ctx, "docs", &supabase.BucketOptions{Public: true, AllowedMIMETypes: []string{}}))
	b, err = svc.GetBucket(ctx, "docs")
	require.NoError(t, err)
	assert.True(t, b.Public)
	assert.Empty(t, b.AllowedMIMETypes)
	require.NotNil(t, b.FileSizeLimit, "a limit not sent is kept")
	err = svc.UpdateBucket(ctx, "nope", nil)
	assert.ErrorIs(t, err, supabase.ErrNotFound)

	all, err := svc.ListBuckets(ctx, nil)
	require.NoError(t, err)
	var ids []string
	for _, b := range all {
		ids = append(ids, b.ID)
		assert.Equal(t, "STANDARD", b.Type, "the list says")
	}
	assert.Equal(t, []string{"avatars", "docs"}, ids)
	found, err := svc.ListBuckets(ctx, &supabase.ListBucketsOptions{Search: "doc", SortColumn: "name", SortOrder: "desc", Limit: 5})
	require.NoError(t, err)
	require.Len(t, found, 1)
	assert.Equal(t, "docs", found[0].ID)
	mine, err := ada.Storage.ListBuckets(ctx, nil)
	require.NoError(t, err)
	assert.Empty(t, mine, "users see no buckets without a policy")

	// A bucket with objects cannot be deleted until it is emptied.
	_, err = svc.From("docs").Upload(ctx, "a.pdf", strings.NewReader("%PDF-1.7"), &supabase.UploadOptions{ContentType: "application/pdf"})
	require.NoError(t, err)
	err = svc.DeleteBucket(ctx, "docs")
	storageErr(t, err, 400, "409", "ResourceNotEmpty")
	assert.ErrorIs(t, err, supabase.ErrConflict)
	err = ada.Storage.EmptyBucket(ctx, "docs")
	e := storageErr(t, err, 403, "403", "AccessDenied")
	assert.ErrorIs(t, e, supabase.ErrPermissionDenied)
	require.NoError(t, svc.EmptyBucket(ctx, "docs"))
	ok, err := svc.From("docs").Exists(ctx, "a.pdf")
	require.NoError(t, err)
	assert.False(t, ok)
	require.NoError(t, svc.DeleteBucket(ctx, "docs"))
	_, err = svc.GetBucket(ctx, "docs")
	assert.ErrorIs(t, err, supabase.ErrNotFound)
	assert.ErrorIs(t, svc.DeleteBucket(ctx, "docs"), supabase.ErrNotFound)
}

// Every malformed argument is refused with ErrInvalidArgument before a
// request is sent.
func TestStorageBadInputBeforeIO(t *testing.T) {
	t.Parallel()
	var requests atomic.Int64
	st := localstacktest.New(t, localstacktest.WrapHandler(func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/storage/") || strings.HasPrefix(r.URL.Path, "/functions/") {
				requests.Add(1)
			}
			h.ServeHTTP(w, r)
		})
	}))
	ctx := ctxFor(t)
	c := newClient(t, st, st.ServiceRoleKey)
	s := c.Storage
	b := s.From("avatars")
	var nilReader *bytes.Reader
	body := func() io.Reader { return strings.NewReader("x") }

	cases := map[string]func() error{
		"empty bucket":      func() error { _, err := s.From("").List(ctx, "", nil); return err },
		"slash in bucket":   func() error { _, err := s.From("a/b").Upload(ctx, "x", body(), nil); return err },
		"dot-dot bucket":    func() error { _, err := s.GetBucket(ctx, ".."); return err },
		"empty path":        func() error { _, err := b.Upload(ctx, "", body(), nil); return err },
		"only slashes":      func() error { _, err := b.Upload(ctx, "//", body(), nil); return err },
		"dot-dot segment":   func() error { _, err := b.Upload(ctx, "a/../b", body(), nil); return err },
		"dot segment":       func() error { _, err := b.Download(ctx, "a/./b", nil); return err },
		"control character": func() error { _, err := b.Info(ctx, "a\x00b"); return err },
		"invalid UTF-8":     func() error { _, err := b.Exists(ctx, "a\xffb"); return err },
		"nil body":          func() error { _, err := b.Upload(ctx, "x", nil, nil); return err },
		"typed nil body":    func() error { _, err := b.Update(ctx, "x", nilReader, nil); return err },
		"negative max-age": func() error {
			_, err := b.Upload(ctx, "x", body(), &supabase.UploadOptions{CacheMaxAge: -time.Second})
			return err
		},
		"metadata not object": func() error {
			_, err := b.Upload(ctx, "x", body(), &supabase.UploadOptions{Metadata: []int{1}})
			return err
		},
		"content type newline": func() error {
			_, err := b.Upload(ctx, "x", body(), &supabase.UploadOptions{ContentType: "a\nb"})
			return err
		},
		"bad header name": func() error {
			_, err := b.Upload(ctx, "x", body(), &supabase.UploadOptions{Headers: map[string]string{"a b": "c"}})
			return err
		},
		"negative width": func() error {
			_, err := b.Download(ctx, "x", &supabase.DownloadOptions{Transform: &supabase.TransformOptions{Width: -1}})
			return err
		},
		"unknown resize": func() error {
			_, err := b.Download(ctx, "x", &supabase.DownloadOptions{Transform: &supabase.TransformOptions{Resize: "zoom"}})
			return err
		},
		"negative MaxBytes":   func() error { _, err := b.DownloadBytes(ctx, "x", &supabase.DownloadOptions{MaxBytes: -1}); return err },
		"negative list limit": func() error { _, err := b.List(ctx, "", &supabase.ListOptions{Limit: -1}); return err },
		"bad prefix":          func() error { _, err := b.List(ctx, "../x", nil); return err },
		"move to dot-dot":     func() error { return b.Move(ctx, "x", "..", nil) },
		"copy to bad bucket": func() error {
			_, err := b.Copy(ctx, "x", "y", &supabase.DestinationOptions{DestinationBucket: "a/b"})
			return err
		},
		"remove nothing":    func() error { _, err := b.Remove(ctx); return err },
		"remove empty path": func() error { _, err := b.Remove(ctx, "x", ""); return err },
		"sub-second expiry": func() error { _, err := b.CreateSignedURL(ctx, "x", 500*time.Millisecond, nil); return err },
		"sign nothing":      func() error { _, err := b.CreateSignedURLs(ctx, nil, time.Minute, nil); return err },
		"sign many transformed": func() error {
			_, err := b.CreateSignedURLs(ctx, []string{"x"}, time.Minute, &supabase.URLOptions{Transform: &supabase.TransformOptions{Width: 9}})
			return err
		},
		"empty upload token":   func() error { _, err := b.UploadToSignedURL(ctx, "x", "", body(), nil); return err },
		"upload token newline": func() error { _, err := b.UploadToSignedURL(ctx, "x", "a\nb", body(), nil); return err },
		"signed upload bad path": func() error {
			_, err := b.CreateSignedUploadURL(ctx, "a/../b", nil)
			return err
		},
		"public URL bad path":   func() error { _, err := b.PublicURL("", nil); return err },
		"negative bucket list":  func() error { _, err := s.ListBuckets(ctx, &supabase.ListBucketsOptions{Offset: -1}); return err },
		"negative size limit":   func() error { return s.CreateBucket(ctx, "x", &supabase.BucketOptions{FileSizeLimit: "-5"}) },
		"empty MIME type":       func() error { return s.CreateBucket(ctx, "x", &supabase.BucketOptions{AllowedMIMETypes: []string{""}}) },
		"type change on update": func() error { return s.UpdateBucket(ctx, "x", &supabase.BucketOptions{Type: "ANALYTICS"}) },
		"empty bucket id":       func() error { return s.EmptyBucket(ctx, "") },
		"delete bad bucket":     func() error { return s.DeleteBucket(ctx, "a\\b") },
		"empty function":        func() error { _, err := c.Functions.Invoke(ctx, "", nil); return err },
		"function with query":   func() error { _, err := c.Functions.Invoke(ctx, "echo?x=1", nil); return err },
		"function dot-dot":      func() error { _, err := c.Functions.Invoke(ctx, "echo/../fail", nil); return err },
		"GET with a body": func() error {
			_, err := c.Functions.Invoke(ctx, "echo", &supabase.InvokeOptions{Method: "GET", Body: "x"})
			return err
		},
		"bad function header": func() error {
			_, err := c.Functions.Invoke(ctx, "echo", &supabase.InvokeOptions{Headers: map[string]string{"x": "a\r\nb"}})
			return err
		},
		"bad region": func() error {
			_, err := c.Functions.Invoke(ctx, "echo", &supabase.InvokeOptions{Region: "eu central"})
			return err
		},
		"unencodable body": func() error {
			_, err := c.Functions.Invoke(ctx, "echo", &supabase.InvokeOptions{Body: func() {}})
			return err
		},
		"InvokeJSON bad method": func() error {
			_, err := supabase.InvokeJSON[map[string]any](ctx, c.Functions, "echo", &supabase.InvokeOptions{Method: "NO PE"})
			return err
		},
	}
	for name, call := range cases {
		err := call()
		if !errors.Is(err, supabase.ErrInvalidArgument) {
			t.Errorf("%s: got %v, want ErrInvalidArgument", name, err)
		}
	}
	assert.Zero(t, requests.Load(), "requests sent")
}

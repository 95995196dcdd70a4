package supabase_test

// The storage and functions targets of the conformance replay (see
// conformance_test.go): each step's chain is mapped onto StorageClient,
// BucketHandle or FunctionsClient, and its result compared with what
// supabase-js returned.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"sort"
	"strings"
	"time"

	"github.com/supabase-go/supabase"
	"github.com/supabase-go/supabase/internal/conformance"
)

func init() {
	divergenceRules = append(divergenceRules, storageRules...)
}

func (r *replayer) storageOrFunctions(target string, chain []conformance.Call) (outcome, error) {
	if target == "functions" {
		if len(chain) != 1 {
			return outcome{}, fmt.Errorf("functions: chains of %d calls are not supported", len(chain))
		}
		return r.invoke(conformance.NewArgs(chain[0]))
	}
	if len(chain) == 0 {
		return outcome{}, errors.New("storage: empty chain")
	}
	if chain[0].Call != "from" {
		if len(chain) != 1 {
			return outcome{}, fmt.Errorf("storage: %s: chains of %d calls are not supported", chain[0].Call, len(chain))
		}
		return r.bucketAPI(conformance.NewArgs(chain[0]))
	}
	a := conformance.NewArgs(chain[0])
	bucket := a.Str(0)
	a.Max(1)
	if a.Err() != nil {
		return outcome{}, a.Err()
	}
	if len(chain) != 2 {
		return outcome{}, fmt.Errorf("storage: from() followed by %d calls, the mapping takes one", len(chain)-1)
	}
	return r.fileAPI(r.client.Storage.From(bucket), conformance.NewArgs(chain[1]))
}

// ---------------------------------------------------------------------------
// Storage: buckets

func bucketOptions(o *conformance.Object) *supabase.BucketOptions {
	bo := &supabase.BucketOptions{Type: o.Str("type")}
	if b := o.Bool("public"); b != nil {
		bo.Public = *b
	}
	if raw := o.Raw("fileSizeLimit"); raw != nil && string(raw) != "null" {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			s = string(raw) // a number: its digits
		}
		bo.FileSizeLimit = s
	}
	if raw := o.Raw("allowedMimeTypes"); raw != nil && string(raw) != "null" {
		_ = json.Unmarshal(raw, &bo.AllowedMIMETypes)
	}
	return bo
}

func (r *replayer) bucketAPI(a *conformance.Args) (outcome, error) {
	ctx, st := r.ctx, r.client.Storage
	var o outcome
	switch a.Call {
	case "listBuckets":
		p := a.Obj(0)
		lo := &supabase.ListBucketsOptions{Limit: p.Int("limit"), Offset: p.Int("offset"), Search: p.Str("search"),
			SortColumn: p.Str("sortColumn"), SortOrder: p.Str("sortOrder")}
		p.Done()
		a.Max(1)
		bs, err := st.ListBuckets(ctx, lo)
		o = storageOutcome(bs, err)
	case "getBucket":
		id := a.Str(0)
		a.Max(1)
		b, err := st.GetBucket(ctx, id)
		o = storageOutcome(b, err)
	case "createBucket", "updateBucket":
		id := a.Str(0)
		p := a.Obj(1)
		bo := bucketOptions(p)
		p.Done()
		a.Max(2)
		// supabase-js returns {name} or {message}; these return only an error.
		if a.Call == "createBucket" {
			o = storageNoData(st.CreateBucket(ctx, id, bo))
		} else {
			o = storageNoData(st.UpdateBucket(ctx, id, bo))
		}
	case "emptyBucket", "deleteBucket":
		id := a.Str(0)
		a.Max(1)
		if a.Call == "emptyBucket" {
			o = storageNoData(st.EmptyBucket(ctx, id))
		} else {
			o = storageNoData(st.DeleteBucket(ctx, id))
		}
	default:
		return outcome{}, unimplemented("storage", a.Call)
	}
	return o, a.Err()
}

// ---------------------------------------------------------------------------
// Storage: files

// uploadBody is a JavaScript upload body as an io.Reader: a string as its
// text, anything else JSON-encoded (as the supabase-js fetch does with a
// plain object).
func uploadBody(a *conformance.Args, i int) io.Reader {
	raw := a.JSON(i)
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.NewReader(s)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		a.Fail("argument %d: %v", i, err)
	}
	return bytes.NewReader(buf.Bytes())
}

func uploadOptions(o *conformance.Object) *supabase.UploadOptions {
	uo := &supabase.UploadOptions{ContentType: o.Str("contentType")}
	if cc := o.Str("cacheControl"); cc != "" {
		d, err := time.ParseDuration(cc + "s")
		if err != nil {
			o.Raw("cacheControl") // reported below as unusable
		}
		uo.CacheMaxAge = d
	}
	if b := o.Bool("upsert"); b != nil {
		uo.Upsert = *b
	}
	if m := o.Raw("metadata"); m != nil && string(m) != "null" {
		uo.Metadata = m // json.RawMessage keeps the key order of the call
	}
	if h := o.Map("headers"); h != nil {
		uo.Headers = map[string]string{}
		for k, v := range h {
			uo.Headers[k] = fmt.Sprint(v)
		}
	}
	return uo
}

func transformOptions(o *conformance.Object) *supabase.TransformOptions {
	if !o.Has("transform") {
		o.Raw("transform")
		return nil
	}
	t := o.Sub("transform")
	to := &supabase.TransformOptions{Width: t.Int("width"), Height: t.Int("height"),
		Resize: supabase.ResizeMode(t.Str("resize")), Format: t.Str("format"), Quality: t.Int("quality")}
	t.Done()
	return to
}

// urlOptions maps {download: bool | string, transform}.
func urlOptions(o *conformance.Object) *supabase.URLOptions {
	uo := &supabase.URLOptions{Transform: transformOptions(o)}
	if raw := o.Raw("download"); raw != nil && string(raw) != "null" {
		var b bool
		if json.Unmarshal(raw, &b) == nil {
			uo.Download = b
		} else {
			uo.DownloadAs = o.Str("download")
		}
	}
	return uo
}

func (r *replayer) fileAPI(b *supabase.BucketHandle, a *conformance.Args) (outcome, error) {
	ctx := r.ctx
	var o outcome
	uploaded := func(res *supabase.UploadResult, err error) outcome {
		if err != nil {
			return storageOutcome(nil, err)
		}
		d := map[string]any{"path": res.Path, "fullPath": res.FullPath}
		if res.ID != "" {
			d["id"] = res.ID
		}
		return storageOutcome(d, nil)
	}
	switch a.Call {
	case "upload", "update":
		path, body := a.Str(0), uploadBody(a, 1)
		p := a.Obj(2)
		uo := uploadOptions(p)
		p.Done()
		a.Max(3)
		if a.Call == "upload" {
			o = uploaded(b.Upload(ctx, path, body, uo))
		} else {
			o = uploaded(b.Update(ctx, path, body, uo))
		}
	case "uploadToSignedUrl":
		path, token, body := a.Str(0), a.Str(1), uploadBody(a, 2)
		p := a.Obj(3)
		uo := uploadOptions(p)
		p.Done()
		a.Max(4)
		o = uploaded(b.UploadToSignedURL(ctx, path, token, body, uo))
	case "download":
		path := a.Str(0)
		p := a.Obj(1)
		do := &supabase.DownloadOptions{Transform: transformOptions(p)}
		p.Done()
		a.Max(2)
		rd, err := b.Download(ctx, path, do)
		if err != nil {
			o = storageOutcome(nil, err)
			break
		}
		text, err := io.ReadAll(rd)
		rd.Close()
		if err != nil {
			o = storageOutcome(nil, err)
			break
		}
		o = storageOutcome(blob(rd.ContentType, text), nil)
	case "list":
		prefix := ""
		if a.Has(0) {
			prefix = a.Str(0)
		}
		p := a.Obj(1)
		lo := &supabase.ListOptions{Limit: p.Int("limit"), Offset: p.Int("offset"), Search: p.Str("search")}
		sb := p.Sub("sortBy")
		lo.SortBy = supabase.SortBy{Column: sb.Str("column"), Order: sb.Str("order")}
		sb.Done()
		p.Done()
		a.Max(2)
		objs, err := b.List(ctx, prefix, lo)
		o = storageOutcome(objs, err)
	case "move", "copy":
		from, to := a.Str(0), a.Str(1)
		p := a.Obj(2)
		do := &supabase.DestinationOptions{DestinationBucket: p.Str("destinationBucket")}
		p.Done()
		a.Max(3)
		if a.Call == "move" {
			// supabase-js returns {message}; Move returns only an error.
			o = storageNoData(b.Move(ctx, from, to, do))
			break
		}
		key, err := b.Copy(ctx, from, to, do)
		o = storageOutcome(map[string]any{"path": key}, err)
	case "remove":
		paths := a.Strings(0)
		a.Max(1)
		objs, err := b.Remove(ctx, paths...)
		o = storageOutcome(objs, err)
	case "createSignedUrl":
		path, secs := a.Str(0), a.Int(1)
		p := a.Obj(2)
		uo := urlOptions(p)
		p.Done()
		a.Max(3)
		u, err := b.CreateSignedURL(ctx, path, time.Duration(secs)*time.Second, uo)
		o = r.urlOutcome(map[string]any{"signedUrl": u}, err)
	case "createSignedUrls":
		paths, secs := a.Strings(0), a.Int(1)
		p := a.Obj(2)
		uo := urlOptions(p)
		p.Done()
		a.Max(3)
		res, err := b.CreateSignedURLs(ctx, paths, time.Duration(secs)*time.Second, uo)
		var data []map[string]any
		// The Go result has the absolute URL only, not Storage's relative
		// signedURL.
		var ignore []string
		for i, s := range res {
			data = append(data, map[string]any{"path": s.Path, "error": s.Error, "signedUrl": s.URL})
			ignore = append(ignore, fmt.Sprintf("$[%d].signedURL", i))
		}
		o = r.urlOutcome(data, err, ignore...)
	case "createSignedUploadUrl":
		path := a.Str(0)
		p := a.Obj(1)
		so := &supabase.SignedUploadOptions{}
		if u := p.Bool("upsert"); u != nil {
			so.Upsert = *u
		}
		p.Done()
		a.Max(2)
		su, err := b.CreateSignedUploadURL(ctx, path, so)
		var data any
		if su != nil {
			data = map[string]any{"signedUrl": su.URL, "path": su.Path, "token": su.Token}
		}
		o = r.urlOutcome(data, err)
	case "getPublicUrl":
		path := a.Str(0)
		p := a.Obj(1)
		uo := urlOptions(p)
		p.Done()
		a.Max(2)
		u, err := b.PublicURL(path, uo)
		o = r.urlOutcome(map[string]any{"publicUrl": u}, err)
	case "info":
		path := a.Str(0)
		a.Max(1)
		fi, err := b.Info(ctx, path)
		var data any
		if fi != nil {
			data = map[string]any{"id": fi.ID, "name": fi.Name, "version": fi.Version, "bucketId": fi.BucketID,
				"size": fi.Size, "contentType": fi.ContentType, "cacheControl": fi.CacheControl, "etag": fi.ETag,
				"metadata": fi.Metadata, "lastModified": instant(fi.LastModified), "createdAt": instant(fi.CreatedAt),
				"updatedAt": instant(fi.UpdatedAt)}
		}
		o = storageOutcome(data, err)
	case "exists":
		path := a.Str(0)
		a.Max(1)
		ok, err := b.Exists(ctx, path)
		o = storageOutcome(ok, err)
	default:
		return outcome{}, unimplemented("storage.from", a.Call)
	}
	return o, a.Err()
}

func instant(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Format(time.RFC3339Nano)
}

// blobData is supabase-js's Blob result as the recorder writes it.
type blobData struct{ Type, Text string }

func blob(contentType string, text []byte) blobData {
	return blobData{Type: fetchMediaType(contentType), Text: string(text)}
}

// fetchMediaType is a Content-Type as fetch gives it to a Blob: lower-case,
// parameters joined without spaces.
func fetchMediaType(ct string) string {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return strings.ToLower(ct)
	}
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		mt += ";" + k + "=" + params[k]
	}
	return mt
}

// ---------------------------------------------------------------------------
// Storage results

func storageOutcome(data any, err error) outcome {
	return outcome{kind: "storage", err: err, check: func(want conformance.Result) []string {
		return compareStorage(want, data, err, nil, false)
	}}
}

// storageNoData: the Go call returns only an error where supabase-js
// returns a message object.
func storageNoData(err error) outcome {
	return outcome{kind: "storage", err: err, noData: true, check: func(want conformance.Result) []string {
		return compareStorage(want, nil, err, nil, true)
	}}
}

// urlOutcome is a result holding URLs on the case server: its address
// becomes 127.0.0.1:PORT and query pairs are compared as multisets.
// ignore lists data paths not compared.
func (r *replayer) urlOutcome(data any, err error, ignore ...string) outcome {
	return outcome{kind: "storage", err: err, check: func(want conformance.Result) []string {
		b, _ := json.Marshal(data)
		b = bytes.ReplaceAll(b, []byte(r.base), []byte("http://127.0.0.1:PORT"))
		v, _ := conformance.DecodeJSON(b)
		return compareStorage(want, v, err, ignore, false)
	}}
}

func compareStorage(want conformance.Result, data any, err error, ignore []string, noData bool) []string {
	if want.Kind == "thrown" {
		// exists() throws errors other than "not found".
		var e *supabase.Error
		if !errors.As(err, &e) || e.Service != supabase.ServiceStorage {
			return []string{fmt.Sprintf("error %v, supabase-js threw %s: %s", err, want.Thrown.Name, want.Thrown.Message)}
		}
		if e.Message != want.Thrown.Message {
			return []string{fmt.Sprintf("error message %q, supabase-js threw %q", e.Message, want.Thrown.Message)}
		}
		return nil
	}
	if want.Kind != "storage" {
		return []string{fmt.Sprintf("result kind storage, want %s", want.Kind)}
	}
	var res struct {
		Data  json.RawMessage `json:"data"`
		Error json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(want.Result, &res); err != nil {
		return []string{fmt.Sprintf("golden result: %v", err)}
	}
	var d []string
	if len(res.Error) > 0 && string(res.Error) != "null" {
		v, _ := conformance.DecodeJSON(res.Error)
		wantErr, _ := v.(map[string]any)
		d = append(d, compareStorageError(wantErr, err)...)
	} else if err != nil {
		return []string{fmt.Sprintf("error %v, want none", err)}
	}
	if noData || (err != nil && string(res.Data) == "null") {
		return d
	}
	wantData, derr := conformance.DecodeJSON(res.Data)
	if derr != nil {
		return append(d, fmt.Sprintf("golden data: %v", derr))
	}
	if bl, ok := data.(blobData); ok {
		data = map[string]any{"$blob": map[string]any{"type": bl.Type, "text": bl.Text}}
	}
	b, merr := json.Marshal(data)
	if merr != nil {
		return append(d, fmt.Sprintf("encoding Go data: %v", merr))
	}
	gotData, _ := conformance.DecodeJSON(b)
	wantData, gotData = normaliseURLs(wantData), normaliseURLs(gotData)
	for _, x := range conformance.DiffJSON(wantData, gotData,
		conformance.JSONOptions{Instants: true, MissingAsNull: true, Ignore: ignore}) {
		d = append(d, "data "+x)
	}
	return d
}

// compareStorageError compares a storage-js error: StorageApiError by
// status, statusCode and message; StorageUnknownError (a 2xx answer that is
// not JSON; its message is the JavaScript parser's) by kind.
func compareStorageError(want map[string]any, err error) []string {
	var e *supabase.Error
	if !errors.As(err, &e) || e.Service != supabase.ServiceStorage {
		return []string{fmt.Sprintf("error %v (%T), want a storage *supabase.Error like %s", err, err, brief(want))}
	}
	name, _ := str(want, "name")
	switch name {
	case "StorageApiError":
		var d []string
		status, _ := str(want, "status")
		sc, _ := str(want, "statusCode")
		msg, _ := str(want, "message")
		if fmt.Sprint(e.Status) != status {
			d = append(d, fmt.Sprintf("error status %d, want %s", e.Status, status))
		}
		if e.StatusCode != sc {
			d = append(d, fmt.Sprintf("error statusCode %q, want %q", e.StatusCode, sc))
		}
		if e.Message != msg {
			d = append(d, fmt.Sprintf("error message %q, want %q", e.Message, msg))
		}
		return d
	case "StorageUnknownError":
		if e.Status < 200 || e.Status > 299 {
			return []string{fmt.Sprintf("error %v, want a 2xx answer that could not be decoded", err)}
		}
		return nil
	}
	return []string{fmt.Sprintf("no mapping for storage-js error class %q (got %v)", name, err)}
}

// ---------------------------------------------------------------------------
// Functions

func (r *replayer) invoke(a *conformance.Args) (outcome, error) {
	if a.Call != "invoke" {
		return outcome{}, unimplemented("functions", a.Call)
	}
	name := a.Str(0)
	p := a.Obj(1)
	opts := &supabase.InvokeOptions{Method: p.Str("method"), Region: p.Str("region")}
	if h := p.Map("headers"); h != nil {
		opts.Headers = map[string]string{}
		for k, v := range h {
			opts.Headers[k] = fmt.Sprint(v)
		}
	}
	if raw := p.Raw("body"); raw != nil && string(raw) != "null" {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			opts.Body = s
		} else {
			opts.Body = raw // json.RawMessage: sent as JSON
		}
	}
	p.Done()
	a.Max(2)
	if a.Err() != nil {
		return outcome{}, a.Err()
	}
	resp, err := r.client.Functions.Invoke(r.ctx, name, opts)
	var got *functionsResult
	if resp != nil {
		body, rerr := readAllClose(resp.Body)
		if rerr != nil && err == nil {
			err = rerr
		}
		got = &functionsResult{status: resp.Status, contentType: resp.Header.Get("Content-Type"), body: body}
	}
	return outcome{kind: "functions", err: err, check: func(want conformance.Result) []string {
		return compareFunctions(want, got, err)
	}}, nil
}

func readAllClose(rc io.ReadCloser) ([]byte, error) {
	defer rc.Close()
	return io.ReadAll(rc)
}

type functionsResult struct {
	status      int
	contentType string
	body        []byte
}

// data is how functions-js reads a 2xx answer: JSON, a Blob for
// octet-stream and PDF, else text.
func (f *functionsResult) data() (any, error) {
	mt, _, _ := mime.ParseMediaType(f.contentType)
	switch strings.ToLower(mt) {
	case "application/json":
		return conformance.DecodeJSON(f.body)
	case "application/octet-stream", "application/pdf":
		return map[string]any{"$blob": map[string]any{"type": fetchMediaType(f.contentType), "text": string(f.body)}}, nil
	}
	return string(f.body), nil
}

func compareFunctions(want conformance.Result, got *functionsResult, err error) []string {
	if want.Kind != "functions" {
		return []string{fmt.Sprintf("result kind functions, want %s", want.Kind)}
	}
	var res struct {
		Data     json.RawMessage `json:"data"`
		Error    json.RawMessage `json:"error"`
		Response *struct {
			Status   int             `json:"status"`
			Body     json.RawMessage `json:"body"`
			BodyText *string         `json:"bodyText"`
		} `json:"response"`
	}
	if err := json.Unmarshal(want.Result, &res); err != nil {
		return []string{fmt.Sprintf("golden result: %v", err)}
	}
	var d []string
	switch {
	case res.Response == nil && got != nil:
		d = append(d, fmt.Sprintf("response with status %d, want none", got.status))
	case res.Response != nil && got == nil:
		return append(d, fmt.Sprintf("no response (error %v), want status %d", err, res.Response.Status))
	case res.Response != nil && got.status != res.Response.Status:
		d = append(d, fmt.Sprintf("response status %d, want %d", got.status, res.Response.Status))
	}
	if len(res.Error) > 0 && string(res.Error) != "null" {
		v, _ := conformance.DecodeJSON(res.Error)
		wantErr, _ := v.(map[string]any)
		name, _ := str(wantErr, "name")
		var e *supabase.Error
		isErr := errors.As(err, &e) && e.Service == supabase.ServiceFunctions
		switch name {
		case "FunctionsHttpError", "FunctionsRelayError":
			relay := name == "FunctionsRelayError"
			switch {
			case !isErr:
				d = append(d, fmt.Sprintf("error %v (%T), want a functions *supabase.Error (%s)", err, err, name))
			case errors.Is(err, supabase.ErrFunctionRelay) != relay:
				d = append(d, fmt.Sprintf("error %v: matches ErrFunctionRelay %v, want %v", err, !relay, relay))
			case e.Status != res.Response.Status:
				d = append(d, fmt.Sprintf("error status %d, want %d", e.Status, res.Response.Status))
			}
		case "FunctionsFetchError":
			// Nothing answered: a transport error or, for a request that
			// cannot be sent, ErrInvalidArgument before any I/O.
			if err == nil || isErr {
				d = append(d, fmt.Sprintf("error %v, want one without a response", err))
			}
		default:
			d = append(d, fmt.Sprintf("no mapping for functions-js error class %q (got %v)", name, err))
		}
		// The error response's body, left unread by functions-js.
		if res.Response != nil && got != nil {
			var wantBody any = ""
			if res.Response.BodyText != nil {
				wantBody = *res.Response.BodyText
			} else if res.Response.Body != nil {
				wantBody, _ = conformance.DecodeJSON(res.Response.Body)
			}
			var gotBody any = string(got.body)
			if v, jerr := conformance.DecodeJSON(got.body); jerr == nil {
				gotBody = v
			}
			for _, x := range conformance.DiffJSON(wantBody, gotBody, conformance.JSONOptions{}) {
				d = append(d, "response body "+x)
			}
		}
		return d
	}
	if err != nil {
		return append(d, fmt.Sprintf("error %v, want none", err))
	}
	wantData, derr := conformance.DecodeJSON(res.Data)
	gotData, gerr := got.data()
	if derr != nil || gerr != nil {
		return append(d, fmt.Sprintf("data: cannot decode (%v, %v)", derr, gerr))
	}
	for _, x := range conformance.DiffJSON(wantData, gotData, conformance.JSONOptions{}) {
		d = append(d, "data "+x)
	}
	return d
}

// ---------------------------------------------------------------------------
// Storage divergences, as rules (appended to divergenceRules)

var storageRules = []*conformance.Divergence{
	{
		Name:  "storage-upload-octet-stream",
		Scope: "Storage `upload`, `update` and `uploadToSignedUrl` steps given no `contentType` (and no Content-Type in `headers`).",
		JS:    "An upload without `contentType` is sent as `text/plain;charset=UTF-8`.",
		Go:    "Sends `application/octet-stream` (storage_files.go, UploadOptions).",
		Why: "An io.Reader yields bytes of unknown type; labelling them text makes Storage serve images and archives as text. " +
			"`application/octet-stream` is HTTP's type for unknown bytes (and S3's default).",
		When: func(x *conformance.Exchange) bool {
			return uploadWithoutType(x) && x.AnyRequest(isDefaultTypedUpload)
		},
		Rewrite: func(x *conformance.Exchange) error {
			for i := range x.Requests {
				if r := &x.Requests[i]; isDefaultTypedUpload(r) {
					r.Headers["content-type"] = "application/octet-stream"
				}
			}
			return nil
		},
	},
	{
		Name:  "storage-upload-returned-path",
		Scope: "Results of storage `upload`, `update` and `uploadToSignedUrl` whose `data.path` is not the object name sent.",
		JS: "Strips one leading and one trailing slash and collapses repeated ones in the URL, but returns the path with " +
			"only one leading slash removed: for `//users/6a1d///photo2.txt` it returns `/users/6a1d/photo2.txt`, although it stored `users/6a1d/photo2.txt`.",
		Go:  "Drops every leading, trailing and repeated slash and returns the name the object was stored under (storage.go, uploadPath).",
		Why: "The returned path is used to address the object again; a leading slash that was never sent names nothing.",
		When: func(x *conformance.Exchange) bool {
			got, want, ok := uploadResultPath(x)
			return ok && got != want
		},
		Rewrite: func(x *conformance.Exchange) error {
			_, want, _ := uploadResultPath(x)
			m, err := x.ResultObject()
			if err != nil {
				return err
			}
			m["data"].(map[string]any)["path"] = want
			return x.SetResultObject(m)
		},
	},
	{
		Name:  "storage-path-query-fragment-escaped",
		Scope: "Storage steps whose object path contains `?` or `#`.",
		JS: "Leaves object paths to the URL parser, so `reports/Q1?draft=true#page=2` requests the object `reports/Q1` " +
			"with the query `draft=true` (the fragment is dropped).",
		Go: "Percent-encodes each path segment (`reports/Q1%3Fdraft%3Dtrue%23page%3D2`), so Storage receives the object's " +
			"real name (storage.go, escapePath).",
		Why:  "A file name may contain `?` or `#`; sending them raw reads, overwrites or signs a different object.",
		When: func(x *conformance.Exchange) bool { _, ok := queryCharsPath(x); return ok },
		Rewrite: func(x *conformance.Exchange) error {
			name, _ := queryCharsPath(x)
			cut := strings.IndexAny(name, "?#")
			head, tail := name[:cut], name[cut:]
			fromName := []conformance.Pair{}
			if q, _, _ := strings.Cut(strings.TrimPrefix(tail, "?"), "#"); strings.HasPrefix(tail, "?") {
				for _, kv := range strings.Split(q, "&") {
					k, v, _ := strings.Cut(kv, "=")
					fromName = append(fromName, conformance.Pair{k, v})
				}
			}
			changed := false
			for i := range x.Requests {
				r := &x.Requests[i]
				if !strings.HasSuffix(r.Path, head) {
					continue
				}
				r.Path += tail
				r.Query = removePairs(r.Query, fromName)
				changed = true
				if x.AnswerIndex(r) >= 0 {
					return fmt.Errorf("%s %s: a response rule answers the escaped path; cannot derive the result", r.Method, r.Path)
				}
				// No rule answers the real name: the server's default 404.
				m, err := x.ResultObject()
				if err != nil {
					return err
				}
				m["data"] = nil
				m["error"] = map[string]any{"name": "StorageApiError", "status": 404, "statusCode": "404",
					"message": "no response rule for " + r.Method + " " + r.Path}
				if err := x.SetResultObject(m); err != nil {
					return err
				}
			}
			if !changed {
				return fmt.Errorf("no request ends with the object name %q before its '?'/'#'", head)
			}
			return nil
		},
	},
	{
		Name:  "storage-exists-missing-is-false",
		Scope: "Storage `exists` results that are `false` together with a not-found error.",
		JS:    "exists() on a missing object returns `data: false` together with the 404 error.",
		Go:    "BucketHandle.Exists returns `false, nil` (storage_files.go).",
		Why:   "Not found is the answer to the question, not a failure; other errors (a refused JWT) are still returned.",
		When: func(x *conformance.Exchange) bool {
			if x.Target() != "storage" || !x.CallsAny("exists") {
				return false
			}
			m, err := x.ResultObject()
			return err == nil && m["data"] == false && m["error"] != nil
		},
		Rewrite: func(x *conformance.Exchange) error {
			m, err := x.ResultObject()
			if err != nil {
				return err
			}
			m["error"] = nil
			return x.SetResultObject(m)
		},
	},
}

// uploadCall returns the step's upload-like call and the index of its
// options argument.
func uploadCall(x *conformance.Exchange) (conformance.Call, int, bool) {
	if x.Target() != "storage" {
		return conformance.Call{}, 0, false
	}
	for _, c := range x.Calls() {
		switch c.Call {
		case "upload", "update":
			return c, 2, true
		case "uploadToSignedUrl":
			return c, 3, true
		}
	}
	return conformance.Call{}, 0, false
}

// uploadWithoutType reports whether the step uploads without naming a
// content type, in contentType or in headers.
func uploadWithoutType(x *conformance.Exchange) bool {
	c, opt, ok := uploadCall(x)
	if !ok {
		return false
	}
	if opt >= len(c.Args) {
		return true
	}
	var o map[string]any
	if json.Unmarshal(c.Args[opt], &o) != nil || o == nil {
		return true
	}
	if _, has := o["contentType"]; has {
		return false
	}
	if h, ok := o["headers"].(map[string]any); ok {
		for k := range h {
			if strings.EqualFold(k, "content-type") {
				return false
			}
		}
	}
	return true
}

func isDefaultTypedUpload(r *conformance.Request) bool {
	return (r.Method == "POST" || r.Method == "PUT") && r.Under("/storage/v1/object") &&
		r.Headers["content-type"] == "text/plain;charset=UTF-8"
}

// uploadResultPath returns the path an upload step's result reports and the
// object name as this SDK normalises it (no empty segments).
func uploadResultPath(x *conformance.Exchange) (got, want string, ok bool) {
	c, _, isUpload := uploadCall(x)
	if !isUpload || len(c.Args) == 0 {
		return "", "", false
	}
	var name string
	if json.Unmarshal(c.Args[0], &name) != nil {
		return "", "", false
	}
	m, err := x.ResultObject()
	if err != nil {
		return "", "", false
	}
	data, _ := m["data"].(map[string]any)
	got, ok = data["path"].(string)
	if !ok {
		return "", "", false
	}
	var segs []string
	for _, s := range strings.Split(name, "/") {
		if s != "" {
			segs = append(segs, s)
		}
	}
	return got, strings.Join(segs, "/"), true
}

// queryCharsPath returns the object path argument of a storage step when it
// contains '?' or '#'.
func queryCharsPath(x *conformance.Exchange) (string, bool) {
	if x.Target() != "storage" {
		return "", false
	}
	for _, c := range x.Calls() {
		if c.Call == "from" || len(c.Args) == 0 {
			continue
		}
		var name string
		if json.Unmarshal(c.Args[0], &name) == nil && strings.ContainsAny(name, "?#") {
			return name, true
		}
	}
	return "", false
}

// removePairs removes one occurrence of each of drop from ps.
func removePairs(ps, drop []conformance.Pair) []conformance.Pair {
	out := append([]conformance.Pair{}, ps...)
	for _, d := range drop {
		for i, p := range out {
			if p == d {
				out = append(out[:i], out[i+1:]...)
				break
			}
		}
	}
	return out
}

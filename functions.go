package supabase

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// FunctionsClient invokes Supabase Edge Functions (/functions/v1). Each
// call carries the apikey and the signed-in user's access token, read when
// the request is sent, so a function sees who called it.
//
// A FunctionsClient is safe for concurrent use. It never changes: a client
// derived with [Client.WithAccessToken] or [Client.WithSession] has its own.
type FunctionsClient struct {
	c *Client
}

// String describes the client without credentials.
func (f *FunctionsClient) String() string {
	if f == nil || f.c == nil || f.c.core == nil {
		return "supabase.FunctionsClient{}"
	}
	return "supabase.FunctionsClient{url: " + f.baseURL() + "}"
}

// Format prints String for every verb, so no key or token can leak through
// fmt or slog.
func (f *FunctionsClient) Format(s fmt.State, _ rune) { _, _ = fmt.Fprint(s, f.String()) }

func (f *FunctionsClient) ready() error {
	if f == nil || f.c == nil || f.c.core == nil {
		return errNoClient
	}
	return f.c.err
}

func (f *FunctionsClient) baseURL() string { return f.c.core.baseURL + "/functions/v1" }

// InvokeOptions are the options of Invoke (functions-js
// FunctionInvokeOptions). The zero value POSTs no body.
type InvokeOptions struct {
	// Method is the HTTP method (default POST). GET and HEAD cannot carry a
	// Body.
	Method string
	// Headers are sent with the request. An Authorization header here
	// replaces the session's bearer; a Content-Type replaces the automatic
	// one (names in any case).
	Headers map[string]string
	// Body is the request body. nil sends none; a string is sent as
	// text/plain; []byte and io.Reader as application/octet-stream; any
	// other value, json.RawMessage included, as JSON. An io.Reader is
	// streamed as for [BucketHandle.Upload] and never closed; it may be read
	// until the answer's body is closed, since a function can start
	// answering before it has read its whole request.
	Body any
	// Query is added to the function's URL.
	Query url.Values
	// Region runs the function in that region ("eu-central-1"), sent as
	// x-region and forceFunctionRegion; "" or "any" lets Supabase choose.
	Region string
}

// FunctionResponse is an Edge Function's answer. Body is the unread
// response body: read it and Close it. For an error answer (returned with
// an *Error) Body holds up to 64 KiB of the error body, already read.
type FunctionResponse struct {
	Status int
	Header http.Header
	Body   io.ReadCloser
}

// Decode reads the whole body as JSON into v and closes it. An empty body
// (204 No Content) leaves v unchanged.
func (r *FunctionResponse) Decode(v any) error {
	if r == nil || r.Body == nil {
		return nil
	}
	defer r.Body.Close()
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return fmt.Errorf("supabase: functions: decoding response: %w", err)
	}
	return nil
}

// Invoke calls the Edge Function name (functions-js invoke); name may have
// a sub-path ("api/users/42"), escaped segment by segment. opts may be nil.
//
// A 2xx answer is returned with its body unread: the caller must Close
// resp.Body. Any other answer is returned both as resp (its body read, at
// most 64 KiB) and as an *Error with Service "functions", the HTTP status
// and the code and message of a JSON error body (functions-js
// FunctionsHttpError). An answer from the Supabase relay rather than the
// function (x-relay-error: true, even with a 2xx status) is such an error
// too, matching [ErrFunctionRelay] (FunctionsRelayError). A request that
// could not be sent returns no resp and the transport error, wrapped
// (FunctionsFetchError). Invoke never retries: a function is not known to
// be idempotent.
//
// With a new-format API key (sb_publishable_..., sb_secret_...) and nobody
// signed in, no Authorization header is sent: such a key is not a JWT, and
// the key travels in apikey (as supabase-js).
func (f *FunctionsClient) Invoke(ctx context.Context, name string, opts *InvokeOptions) (*FunctionResponse, error) {
	if err := f.ready(); err != nil {
		return nil, err
	}
	if err := checkFunctionName(name); err != nil {
		return nil, err
	}
	var o InvokeOptions
	if opts != nil {
		o = *opts
	}
	r, err := f.request(name, &o)
	if err != nil {
		return nil, err
	}
	resp, err := f.c.core.send(ctx, f.c.tokens, r)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && resp != nil {
			return &FunctionResponse{Status: resp.status, Header: resp.header, Body: io.NopCloser(bytes.NewReader(resp.body))}, err
		}
		return nil, err
	}
	if strings.EqualFold(resp.header.Get("X-Relay-Error"), "true") {
		body, rerr := io.ReadAll(io.LimitReader(resp.stream, maxErrorBody))
		_ = resp.stream.Close()
		if rerr != nil {
			return nil, fmt.Errorf("supabase: %s %s: reading relay error: %w", r.method, sanitizeURL(r.url), rerr)
		}
		e := decodeFunctionsError(resp.status, resp.header, body)
		e.Method, e.URL = r.method, sanitizeURL(r.url)
		return &FunctionResponse{Status: resp.status, Header: resp.header, Body: io.NopCloser(bytes.NewReader(body))}, e
	}
	return &FunctionResponse{Status: resp.status, Header: resp.header, Body: resp.stream}, nil
}

// InvokeJSON calls the function name as Invoke does and decodes its JSON
// answer into a T (the zero T for an empty answer).
func InvokeJSON[T any](ctx context.Context, f *FunctionsClient, name string, opts *InvokeOptions) (T, error) {
	var v T
	resp, err := f.Invoke(ctx, name, opts)
	if err != nil {
		if resp != nil {
			_ = resp.Body.Close()
		}
		return v, err
	}
	err = resp.Decode(&v)
	return v, err
}

// request builds the request for Invoke.
func (f *FunctionsClient) request(name string, o *InvokeOptions) (*apiRequest, error) {
	method := o.Method
	switch m := strings.ToUpper(method); m {
	case "":
		method = http.MethodPost
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		method = m
	default:
		if !validHeaderName(method) {
			return nil, invalidArg("Invoke: invalid method %q", o.Method)
		}
	}
	if o.Body != nil && (method == http.MethodGet || method == http.MethodHead) {
		return nil, invalidArg("Invoke: a %s request cannot have a body", method)
	}
	h := http.Header{}
	hasType := false
	for k, v := range o.Headers {
		if !validHeaderName(k) {
			return nil, invalidArg("Invoke: invalid header name %q", k)
		}
		if !validHeaderValue(v) {
			return nil, invalidArg("Invoke: header %q has a control character in its value", k)
		}
		h.Set(k, v)
		hasType = hasType || strings.EqualFold(k, "Content-Type")
	}
	r := &apiRequest{service: ServiceFunctions, method: method, header: h, stream: true,
		noKeyBearer: isNewAPIKey(f.c.core.key)}
	var ctype string
	switch b := o.Body.(type) {
	case nil:
	case string:
		r.body, ctype = []byte(b), "text/plain"
	case []byte:
		r.body, ctype = b, "application/octet-stream"
		if b == nil {
			r.body = []byte{}
		}
	case io.Reader:
		if nilReader(b) {
			return nil, invalidArg("Invoke: nil io.Reader body")
		}
		r.upload, ctype = newStreamBody(b), "application/octet-stream"
	default:
		j, err := marshalJSON(b)
		if err != nil {
			return nil, invalidArg("Invoke: cannot encode the body as JSON: %v", err)
		}
		r.body, ctype = j, "application/json"
	}
	if ctype != "" && !hasType {
		h.Set("Content-Type", ctype)
	}
	q := url.Values{}
	for k, vs := range o.Query {
		q[k] = vs
	}
	if region := o.Region; region != "" && region != "any" {
		if !validHeaderName(region) {
			return nil, invalidArg("Invoke: malformed region %q", o.Region)
		}
		h.Set("X-Region", region)
		q.Set("forceFunctionRegion", region)
	}
	r.url = f.baseURL() + "/" + escapePath(name)
	if len(q) > 0 {
		r.url += "?" + q.Encode()
	}
	return r, nil
}

// checkFunctionName rejects names that do not name one function path.
func checkFunctionName(name string) error {
	if name == "" {
		return invalidArg("Invoke: empty function name")
	}
	if strings.ContainsAny(name, "?#") {
		return invalidArg("Invoke: function name %q contains '?' or '#' (use InvokeOptions.Query)", name)
	}
	if hasControl(name) || !utf8.ValidString(name) {
		return invalidArg("Invoke: function name %q has a control character or invalid UTF-8", name)
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return invalidArg("Invoke: function name %q has an empty, \".\" or \"..\" segment", name)
		}
	}
	return nil
}

// isNewAPIKey reports a new-format API key, which is not a JWT and is never
// sent as a bearer token to Edge Functions.
func isNewAPIKey(key string) bool {
	return strings.HasPrefix(key, "sb_publishable_") || strings.HasPrefix(key, "sb_secret_")
}

// decodeFunctionsError builds an Error from an Edge Function's (or the
// relay's) error answer: the code and message of a JSON body
// ({"code","message"}, {"error"}, {"msg"}); otherwise functions-js's
// message, with an excerpt of the body in Details.
func decodeFunctionsError(status int, header http.Header, body []byte) *Error {
	e := &Error{Service: ServiceFunctions, Status: status, relay: strings.EqualFold(header.Get("X-Relay-Error"), "true")}
	var wire map[string]json.RawMessage
	if json.Unmarshal(body, &wire) == nil {
		e.Code = jsonText(wire["code"])
		for _, k := range []string{"message", "msg", "error", "error_description"} {
			var m string
			if json.Unmarshal(wire[k], &m) == nil && m != "" {
				e.Message = m
				break
			}
		}
	}
	switch {
	case e.Message == "" && e.relay:
		e.Message, e.Details = "relay error invoking the Edge Function", excerpt(body)
	case e.Message == "":
		e.Message, e.Details = "Edge Function returned a non-2xx status code", excerpt(body)
	case e.relay:
		e.Message = "relay error: " + e.Message
	}
	return e
}

// functionsErrorIs adds [ErrFunctionRelay] to Error.Is.
func functionsErrorIs(e *Error, target error) bool {
	return target == ErrFunctionRelay && e.relay
}

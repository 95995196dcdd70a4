package supabase

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// errorSecret is put in the query string of the failing request: it must
// never reach the error.
const errorSecret = "s3cr3t-t0ken-in-query"

// clientSentinels match errors the client makes itself; a server's answer
// must never match them.
var clientSentinels = []error{ErrInvalidQuery, ErrInvalidArgument, ErrSessionMissing, ErrInvalidResponse,
	ErrRedirect, ErrResponseTooLarge}

// checkDecodedError checks the properties every decoded error response
// has: the status and service kept, no panic in Error(), valid UTF-8, a
// bounded text, no secret from the request URL, and sentinels that agree
// with the status and with each other.
func checkDecodedError(t *testing.T, e *Error, service string, status int, body []byte) {
	t.Helper()
	if e.Status != status || e.Service != service {
		t.Fatalf("status %d service %s, want %d %s", e.Status, e.Service, status, service)
	}
	s := e.Error()
	if !utf8.ValidString(s) {
		t.Fatalf("Error() is not valid UTF-8: %q", s)
	}
	// JSON fields are kept whole (up to the 64 KiB read limit): at most
	// three bytes of text per byte of body (invalid UTF-8 becomes U+FFFD).
	if max := 3*len(body) + len(e.URL) + 400; len(s) > max {
		t.Fatalf("Error() is %d bytes for a %d-byte body", len(s), len(body))
	}
	if strings.Contains(s, errorSecret) {
		t.Fatalf("Error() shows the query string: %q", s)
	}
	if u, err := url.Parse(e.URL); e.URL != "" && (err != nil || u.RawQuery != "" || u.Fragment != "" || u.User != nil) {
		t.Fatalf("URL %q keeps a query, fragment or user", e.URL)
	}
	if errors.Is(e, ErrUnauthorized) != (status == http.StatusUnauthorized) {
		t.Fatalf("ErrUnauthorized = %v for status %d", errors.Is(e, ErrUnauthorized), status)
	}
	if status == http.StatusNotFound && !errors.Is(e, ErrNotFound) || status == http.StatusConflict && !errors.Is(e, ErrConflict) ||
		status == http.StatusTooManyRequests && !errors.Is(e, ErrRateLimited) {
		t.Fatalf("status %d does not match its sentinel: %v", status, e)
	}
	// (A 404 is ErrNotFound whatever its body says.)
	if status != http.StatusNotFound && errors.Is(e, ErrNotFound) && errors.Is(e, ErrTooManyRows) {
		t.Fatalf("both ErrNotFound and ErrTooManyRows: %v", e)
	}
	for _, c := range clientSentinels {
		if errors.Is(e, c) {
			t.Fatalf("a server's answer matches %v: %#v", c, e)
		}
	}
	if e.RetryAfter < 0 || e.RetryAfter > maxRetryAfterSeconds*time.Second {
		t.Fatalf("RetryAfter %v", e.RetryAfter)
	}
}

// errorStatus maps fuzz input to an error status.
func errorStatus(b uint16) int {
	statuses := []int{400, 401, 403, 404, 406, 409, 416, 422, 429, 500, 502, 503, 504, 520}
	if b < 1000 {
		return statuses[int(b)%len(statuses)]
	}
	return 400 + int(b)%200
}

func errorRequest(service, path string) *apiRequest {
	return &apiRequest{service: service, method: http.MethodGet,
		url: "http://127.0.0.1:54321/" + path + "?apikey=" + errorSecret + "&q=" + url.QueryEscape(path)}
}

// FuzzRESTError decodes arbitrary PostgREST error answers.
func FuzzRESTError(f *testing.F) {
	for _, s := range []string{
		`{"code":"42501","message":"permission denied for table t","details":null,"hint":null}`,
		`{"code":"PGRST116","message":"JSON object requested, multiple (or no) rows returned","details":"The result contains 0 rows","hint":null}`,
		`{"code":"PGRST116","details":"Results contain 2 rows, application/vnd.pgrst.object+json requires 1 row"}`,
		`{"code":23505,"message":"dup","details":{"k":["\xff"]},"hint":[1]}`,
		"{\"code\":\"1\",\"details\":{\"k\":\"\xff\"},\"hint\":[\"\xc3\"]}",
		`{"message":null}`, `{"code":"invalid_query"}`, `{"code":"session_missing","message":"x"}`,
		"<html>\xff\xfe bad gateway</html>", "", "   ", strings.Repeat("é", 150), `{"message":"` + strings.Repeat("a", 300) + `"}`,
		`{"code":"PGRST301","message":"JWT expired"}`, `[1,2]`, `"just a string"`,
	} {
		f.Add(uint16(0), []byte(s), "", "rest/v1/items")
	}
	f.Add(uint16(8), []byte(`{}`), "120", "rest/v1/t")
	f.Add(uint16(12), []byte(`{}`), "Fri, 31 Dec 9999 23:59:59 GMT", "rest/v1/t")
	f.Add(uint16(12), []byte(`{}`), "-5", "rest/v1/t")
	f.Add(uint16(1), []byte(`{}`), "", "rest/v1/t#frag")
	c := fuzzClient(f)
	f.Fuzz(func(t *testing.T, st uint16, body []byte, retryAfter, path string) {
		status := errorStatus(st)
		h := http.Header{}
		h.Set("Retry-After", retryAfter)
		e := c.core.decodeError(errorRequest(ServiceREST, path), &apiResponse{status: status, header: h, body: body})
		checkDecodedError(t, e, ServiceREST, status, body)
		var wire struct {
			Message *string `json:"message"`
		}
		if json.Unmarshal(body, &wire) == nil && wire.Message != nil && utf8.ValidString(*wire.Message) && e.Message != *wire.Message {
			t.Fatalf("message %q decoded as %q", *wire.Message, e.Message)
		}
	})
}

// FuzzAuthError decodes arbitrary Auth error answers, in both shapes: the
// API 2024-01-01 one ({code, message} with X-Supabase-Api-Version) and the
// legacy one ({code: int, error_code, msg, error_description,
// weak_password}).
func FuzzAuthError(f *testing.F) {
	for _, s := range []string{
		`{"code":"invalid_credentials","message":"Invalid login credentials"}`,
		`{"code":400,"error_code":"weak_password","msg":"Password should be at least 6 characters","weak_password":{"reasons":["length"]}}`,
		`{"code":422,"msg":"x","weak_password":{"reasons":null}}`,
		`{"code":422,"msg":"Password is known to be weak","weak_password":{"reasons":["pwned"]}}`,
		`{"error":"invalid_grant","error_description":"Invalid Refresh Token: Refresh Token Not Found"}`,
		`{"code":"refresh_token_not_found","message":"Invalid Refresh Token"}`,
		`{"code":"over_email_send_rate_limit","msg":"\xff"}`, `{"code":{"x":1},"error_code":"bad_jwt"}`,
		`{"code":"session_missing"}`, `{"error_code":"invalid_query"}`, `{"weak_password":{"reasons":["\xff"]}}`,
		"not json \xc3", "", "{}", `{"msg":""}`,
	} {
		f.Add(uint16(0), []byte(s), "2024-01-01", "")
		f.Add(uint16(0), []byte(s), "", "")
	}
	f.Add(uint16(8), []byte(`{"code":"over_request_rate_limit"}`), "2023-12-31", "10")
	f.Add(uint16(3), []byte(`{"code":"user_not_found"}`), "2024-01-01x", "")
	c := fuzzClient(f)
	f.Fuzz(func(t *testing.T, st uint16, body []byte, version, retryAfter string) {
		status := errorStatus(st)
		h := http.Header{}
		h.Set("X-Supabase-Api-Version", version)
		h.Set("Retry-After", retryAfter)
		e := c.core.decodeError(errorRequest(ServiceAuth, "auth/v1/token"), &apiResponse{status: status, header: h, body: body})
		checkDecodedError(t, e, ServiceAuth, status, body)
		if errors.Is(e, ErrWeakPassword) && e.Reasons == nil && e.Code != "weak_password" {
			t.Fatalf("ErrWeakPassword without reasons or code: %#v", e)
		}
		for _, r := range e.Reasons {
			if !utf8.ValidString(r) {
				t.Fatalf("reason %q", r)
			}
		}
		// Code comes from the body's code or error_code, or is
		// weak_password for a legacy answer giving reasons.
		var wire struct { // keys matched as encoding/json matches them
			Code      json.RawMessage `json:"code"`
			ErrorCode json.RawMessage `json:"error_code"`
		}
		if json.Unmarshal(body, &wire) == nil && e.Code != "" {
			var code, errorCode string
			_ = json.Unmarshal(wire.Code, &code)
			_ = json.Unmarshal(wire.ErrorCode, &errorCode)
			if e.Code != code && e.Code != errorCode && !(e.Code == "weak_password" && len(e.Reasons) > 0) {
				t.Fatalf("code %q is neither code %q nor error_code %q", e.Code, code, errorCode)
			}
		}
	})
}

// FuzzStorageError decodes arbitrary Storage error answers: its JSON
// ({statusCode, error, message}, {code, message}, nested errors) and
// anything else.
func FuzzStorageError(f *testing.F) {
	for _, s := range []string{
		`{"statusCode":"404","error":"not_found","message":"Object not found"}`,
		`{"statusCode":"409","error":"Duplicate","message":"The resource already exists"}`,
		`{"code":"NoSuchKey","message":"Object not found","statusCode":404}`,
		`{"statusCode":"403","error":"Unauthorized","message":"new row violates row-level security policy"}`,
		`{"error":{"message":"nested"},"code":{"x":"\xff"}}`, `{"error":"invalid_request","statusCode":["\xff"]}`,
		`{"message":"jwt expired","statusCode":"400","error":"InvalidJWT"}`, `{"code":"invalid_query"}`,
		"<html>\xff</html>", "", "null", `[]`, `{"msg":""}`, "{\"code\":{\"x\":\"\xff\"},\"statusCode\":[\"\xfe\"]}",
	} {
		f.Add(uint16(0), []byte(s), "")
	}
	f.Add(uint16(9), []byte(`{"code":"SlowDown"}`), "3")
	c := fuzzClient(f)
	f.Fuzz(func(t *testing.T, st uint16, body []byte, retryAfter string) {
		status := errorStatus(st)
		h := http.Header{}
		h.Set("Retry-After", retryAfter)
		e := c.core.decodeError(errorRequest(ServiceStorage, "storage/v1/object/b/p"), &apiResponse{status: status, header: h, body: body})
		checkDecodedError(t, e, ServiceStorage, status, body)
		if !utf8.ValidString(e.StatusCode) || e.StatusCode == "" {
			t.Fatalf("statusCode %q", e.StatusCode)
		}
	})
}

// FuzzFunctionsError decodes arbitrary Edge Function error answers, from
// the function or from the relay (X-Relay-Error: true).
func FuzzFunctionsError(f *testing.F) {
	for _, s := range []string{
		`{"code":"BOOT_ERROR","message":"Function failed to start"}`, `{"error":"boom"}`, `{"msg":"x"}`,
		`{"code":404,"message":"Requested function was not found"}`, `{"code":{"a":"\xff"}}`, `{"code":"session_missing"}`,
		"plain text \xc3", "", strings.Repeat("x", 300), "{\"code\":[\"\xff\"],\"message\":\"m\"}",
	} {
		f.Add(uint16(0), []byte(s), "true")
		f.Add(uint16(3), []byte(s), "")
	}
	c := fuzzClient(f)
	f.Fuzz(func(t *testing.T, st uint16, body []byte, relay string) {
		status := errorStatus(st)
		h := http.Header{}
		h.Set("X-Relay-Error", relay)
		e := c.core.decodeError(errorRequest(ServiceFunctions, "functions/v1/hello"), &apiResponse{status: status, header: h, body: body})
		checkDecodedError(t, e, ServiceFunctions, status, body)
		if errors.Is(e, ErrFunctionRelay) != strings.EqualFold(relay, "true") {
			t.Fatalf("ErrFunctionRelay = %v for X-Relay-Error %q", errors.Is(e, ErrFunctionRelay), relay)
		}
	})
}

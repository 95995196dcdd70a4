package supabase

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Sentinel errors matched with [errors.Is]. A *[Error] matches every sentinel
// whose category it belongs to; for example a PostgREST 42501 answered with
// 401 matches both [ErrUnauthorized] and [ErrPermissionDenied].
var (
	// ErrNotFound: no row where one was required ([One], single()), a 404, or
	// an Auth user_not_found.
	ErrNotFound = errors.New("supabase: not found")
	// ErrTooManyRows: more than one row where at most one was expected.
	ErrTooManyRows = errors.New("supabase: too many rows")
	// ErrUnauthorized: the server answered 401.
	ErrUnauthorized = errors.New("supabase: unauthorized")
	// ErrPermissionDenied: SQLSTATE 42501 (missing grant or an RLS policy,
	// including WITH CHECK refusals) or a 403 from Auth.
	ErrPermissionDenied = errors.New("supabase: permission denied")
	// ErrConflict: a 409, a unique or foreign key violation, or an Auth
	// "already exists" error.
	ErrConflict = errors.New("supabase: conflict")
	// ErrInvalidCredentials: wrong email/phone or password.
	ErrInvalidCredentials = errors.New("supabase: invalid login credentials")
	// ErrSessionMissing: an auth call needs a signed-in session and there is
	// none. No request was sent.
	ErrSessionMissing = errors.New("supabase: auth session missing")
	// ErrSessionExpired: the session cannot be refreshed any more (refresh
	// token not found or already used, session not found or expired).
	ErrSessionExpired = errors.New("supabase: session expired")
	// ErrWeakPassword: Auth refused the password; see [Error.Reasons].
	ErrWeakPassword = errors.New("supabase: weak password")
	// ErrRateLimited: a 429 or an Auth over_*_rate_limit error.
	ErrRateLimited = errors.New("supabase: rate limited")
	// ErrJWTExpired: the server rejected the bearer JWT as expired or invalid
	// (PostgREST PGRST301/PGRST303, Auth bad_jwt).
	ErrJWTExpired = errors.New("supabase: JWT expired or invalid")
	// ErrInvalidQuery: a query could not be built (bad operator, column,
	// range or value). Returned before any I/O. An invalid query is an
	// invalid argument: these errors match [ErrInvalidArgument] too.
	ErrInvalidQuery = errors.New("supabase: invalid query")
	// ErrInvalidArgument: a call or option was given input it cannot use
	// (an empty email, a nil or zero client, a malformed URL). Returned
	// before any I/O.
	ErrInvalidArgument = errors.New("supabase: invalid argument")
	// ErrInvalidResponse: the server answered with a success status but a
	// body the client cannot read as the answer it expected (not JSON, cut
	// short, or JSON of another shape), or without a header it needs. The
	// *[Error] carries the status and says what could not be decoded.
	ErrInvalidResponse = errors.New("supabase: invalid response")
	// ErrRangeNotSatisfiable: PostgREST answered 416 (PGRST103), typically
	// for a [Query.Range] or offset past the last row of a counted query.
	ErrRangeNotSatisfiable = errors.New("supabase: range not satisfiable")
	// ErrTooLarge: a payload over a size limit: Storage refused an upload
	// (413, statusCode "413" or EntityTooLarge), or a download was larger
	// than [DownloadOptions.MaxBytes] allowed.
	ErrTooLarge = errors.New("supabase: payload too large")
	// ErrFunctionRelay: the Supabase relay in front of Edge Functions
	// answered instead of the function (x-relay-error: true), for example
	// because the function failed to start. The *[Error]'s Status and Code
	// are the relay's.
	ErrFunctionRelay = errors.New("supabase: Edge Functions relay error")
)

// Sentinels for answers the client refuses to use; see [WithMaxResponseSize]
// and [WithHTTPClient].
var (
	// ErrRedirect: the server answered with a redirect (3xx), which is never
	// followed: Supabase's APIs do not redirect API calls, and following one
	// would send the key, a token or a password elsewhere, or turn a write
	// into a GET. [Error.Status] is the 3xx status and [Error.Message] names
	// the Location's origin.
	ErrRedirect = errors.New("supabase: redirect not followed")
	// ErrResponseTooLarge: a response body, or one row read by [Rows], was
	// larger than the configured limit ([WithMaxResponseSize],
	// [WithMaxRowSize]); reading stopped there.
	ErrResponseTooLarge = errors.New("supabase: response too large")
)

// argError is an invalid argument or option, found before any I/O.
type argError struct {
	msg string
	// also is a further sentinel the error matches, if any.
	also error
}

func (e *argError) Error() string { return "supabase: " + e.msg }

// Is makes argError match [ErrInvalidArgument] (and also).
func (e *argError) Is(target error) bool {
	return target == ErrInvalidArgument || (e.also != nil && target == e.also)
}

// invalidArg reports bad input; the message must not quote secrets.
func invalidArg(format string, a ...any) error { return &argError{msg: fmt.Sprintf(format, a...)} }

// Service names used in [Error.Service].
const (
	ServiceREST      = "rest"
	ServiceAuth      = "auth"
	ServiceStorage   = "storage"
	ServiceFunctions = "functions"
)

// Error is the error returned for every non-2xx answer from Supabase, for
// responses that cannot be decoded, and for client-side conditions that
// mirror a server error ([ErrSessionMissing], [One]'s row-count checks).
//
// It never holds a token, key or password: URL is sanitised (no query) and
// bodies are only kept as a short excerpt.
type Error struct {
	Service string // ServiceREST, ServiceAuth, ServiceStorage or ServiceFunctions
	Status  int    // HTTP status; 0 when no request was sent
	Code    string // PostgREST code (SQLSTATE or PGRSTxxx), Auth error_code, Storage or Functions code
	Message string
	Details string
	Hint    string
	// Reasons lists why Auth found a password weak ("length", "characters", "pwned").
	Reasons []string
	Method  string // request method
	URL     string // request URL without query string
	// RetryAfter is the server's Retry-After hint, when it sent one.
	RetryAfter time.Duration
	// StatusCode is the statusCode of a Storage error body, which can differ
	// from [Error.Status]: Storage refuses a write under RLS with HTTP 400
	// and statusCode "403".
	StatusCode string

	relay bool // Functions: the relay answered (x-relay-error: true)
}

// Error formats the error without secrets.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("supabase")
	if e.Service != "" {
		b.WriteString(" " + e.Service)
	}
	if e.Method != "" {
		b.WriteString(": " + e.Method + " " + e.URL)
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, ": %d", e.Status)
	}
	if e.StatusCode != "" && e.StatusCode != strconv.Itoa(e.Status) {
		b.WriteString(" (statusCode " + e.StatusCode + ")")
	}
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Details != "" {
		b.WriteString(" (" + e.Details + ")")
	}
	if e.Hint != "" {
		b.WriteString(" hint: " + e.Hint)
	}
	return b.String()
}

var sessionExpiredCodes = map[string]bool{
	"refresh_token_not_found":    true,
	"refresh_token_already_used": true,
	"session_not_found":          true,
	"session_expired":            true,
}

var conflictCodes = map[string]bool{
	"23505":                   true, // unique_violation
	"23503":                   true, // foreign_key_violation
	"user_already_exists":     true,
	"email_exists":            true,
	"phone_exists":            true,
	"identity_already_exists": true,
	"conflict":                true,
}

// Is reports whether e belongs to the category of the sentinel target.
func (e *Error) Is(target error) bool {
	if e.Service == ServiceStorage && storageErrorIs(e, target) ||
		e.Service == ServiceFunctions && functionsErrorIs(e, target) {
		return true
	}
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound || e.Code == "user_not_found" ||
			(e.Code == "PGRST116" && rowsInDetails(e.Details) == 0)
	case ErrTooManyRows:
		return e.Code == "PGRST116" && rowsInDetails(e.Details) > 1
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrPermissionDenied:
		return e.Code == "42501" || (e.Service == ServiceAuth && e.Status == http.StatusForbidden)
	case ErrConflict:
		return e.Status == http.StatusConflict || conflictCodes[e.Code]
	case ErrInvalidCredentials:
		return e.Code == "invalid_credentials" ||
			(e.Service == ServiceAuth && e.Code == "" && e.Message == "Invalid login credentials")
	case ErrSessionMissing:
		return e.Code == codeSessionMissing && e.clientSide()
	case ErrSessionExpired:
		return sessionExpiredCodes[e.Code]
	case ErrWeakPassword:
		return e.Code == "weak_password" || len(e.Reasons) > 0
	case ErrRateLimited:
		return e.Status == http.StatusTooManyRequests ||
			(strings.HasPrefix(e.Code, "over_") && strings.HasSuffix(e.Code, "_rate_limit"))
	case ErrJWTExpired:
		return e.Code == "PGRST301" || e.Code == "PGRST303" || e.Code == "bad_jwt" ||
			(e.Status == http.StatusUnauthorized && strings.Contains(e.Message, "JWT expired"))
	case ErrInvalidQuery, ErrInvalidArgument:
		return e.Code == codeInvalidQuery && e.clientSide()
	case ErrInvalidResponse:
		return e.Code == codeInvalidResponse && e.clientSide()
	case ErrRedirect:
		return e.Code == codeRedirect && e.clientSide()
	case ErrResponseTooLarge:
		return e.Code == codeResponseTooLarge && e.clientSide()
	case ErrRangeNotSatisfiable:
		return e.Status == http.StatusRequestedRangeNotSatisfiable || (e.Service == ServiceREST && e.Code == "PGRST103")
	}
	return false
}

// clientSide reports whether e can be an error the client made itself:
// its status is 0 (nothing sent), 2xx or a redirect (an answer the client
// refused). A decoded error answer has none of these, so a server sending
// one of the client-side codes below as its own code does not match the
// client's sentinels.
func (e *Error) clientSide() bool { return e.Status < 300 || isRedirect(e.Status) }

// codeSessionMissing and the other codes below are client-side codes.
const (
	codeSessionMissing   = "session_missing"
	codeInvalidQuery     = "invalid_query"
	codeInvalidResponse  = "invalid_response"
	codeRedirect         = "redirect_not_followed"
	codeResponseTooLarge = "response_too_large"
)

// invalidResponse is the error for a 2xx answer that cannot be decoded;
// what says what was expected and why it failed. It must not quote a body
// that may hold tokens.
func invalidResponse(service string, status int, what string) *Error {
	return &Error{Service: service, Status: status, Code: codeInvalidResponse, Message: what}
}

func errSessionMissing() *Error {
	return &Error{Service: ServiceAuth, Code: codeSessionMissing, Message: "auth session missing"}
}

// rowsInDetails reads the row count from PGRST116 details such as
// "The result contains 0 rows" or "Results contain 2 rows, ...". It returns
// -1 when no count is present.
func rowsInDetails(details string) int {
	for _, f := range strings.Fields(details) {
		n := 0
		ok := len(f) > 0
		for _, r := range f {
			if r < '0' || r > '9' {
				ok = false
				break
			}
			n = n*10 + int(r-'0')
		}
		if ok {
			return n
		}
	}
	return -1
}

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 64 << 10

// excerpt returns at most 200 bytes of body as valid UTF-8 text: invalid
// bytes become U+FFFD (the text after them is kept), and a cut never splits
// a character.
func excerpt(body []byte) string {
	s := strings.ToValidUTF8(strings.TrimSpace(string(body)), "\uFFFD")
	if len(s) > 200 {
		cut := 200
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// jsonText turns a JSON value that may be a string, null or something else
// into text.
func jsonText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return strings.ToValidUTF8(string(raw), "\uFFFD")
}

// decodeRESTError builds an [Error] from a PostgREST error response.
func decodeRESTError(status int, body []byte) *Error {
	e := &Error{Service: ServiceREST, Status: status}
	var wire struct {
		Code    json.RawMessage `json:"code"`
		Message *string         `json:"message"`
		Details json.RawMessage `json:"details"`
		Hint    json.RawMessage `json:"hint"`
	}
	if json.Unmarshal(body, &wire) == nil && (wire.Message != nil || len(wire.Code) > 0) {
		e.Code = jsonText(wire.Code)
		if wire.Message != nil {
			e.Message = *wire.Message
		}
		e.Details = jsonText(wire.Details)
		e.Hint = jsonText(wire.Hint)
		return e
	}
	e.Message = excerpt(body)
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	return e
}

// apiVersion20240101 is the Auth API version from which the JSON "code" field
// is the string error code (before it, "error_code" carries it).
var apiVersion20240101 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// decodeAuthError builds an [Error] from a Supabase Auth error response. Auth
// has three body shapes: {code, message} (API 2024-01-01), the legacy
// {code:int, error_code, msg} and OAuth-style {error, error_description}.
func decodeAuthError(status int, header http.Header, body []byte) *Error {
	e := &Error{Service: ServiceAuth, Status: status}
	var wire struct {
		Code             json.RawMessage `json:"code"`
		ErrorCode        string          `json:"error_code"`
		Msg              string          `json:"msg"`
		Message          string          `json:"message"`
		Error            string          `json:"error"`
		ErrorDescription string          `json:"error_description"`
		WeakPassword     json.RawMessage `json:"weak_password"`
	}
	if err := json.Unmarshal(body, &wire); err != nil {
		e.Message = excerpt(body)
		if e.Message == "" {
			e.Message = http.StatusText(status)
		}
		return e
	}
	// As supabase-js: the response's API version says whether "code" is the
	// error code. A string "code" with no error_code is used even without
	// the version header (a proxy may strip it); a legacy integer never is.
	var code string
	stringCode := json.Unmarshal(wire.Code, &code) == nil
	if v, err := time.Parse("2006-01-02", header.Get("X-Supabase-Api-Version")); err == nil &&
		!v.Before(apiVersion20240101) && stringCode {
		e.Code = code
	} else if wire.ErrorCode != "" || !stringCode {
		e.Code = wire.ErrorCode
	} else {
		e.Code = code
	}
	for _, m := range []string{wire.Msg, wire.Message, wire.ErrorDescription, wire.Error} {
		if m != "" {
			e.Message = m
			break
		}
	}
	if e.Message == "" {
		e.Message = excerpt(body)
	}
	// Weak passwords, as auth-js tells them: the weak_password code, or,
	// from servers that sent no error code (the legacy {code: 422, msg}
	// shape), a weak_password object giving at least one reason.
	var weak struct {
		Reasons json.RawMessage `json:"reasons"`
	}
	var reasons []string
	if json.Unmarshal(wire.WeakPassword, &weak) == nil {
		reasons = stringList(weak.Reasons)
	}
	switch {
	case e.Code == "weak_password":
		e.Reasons = reasons
		if e.Reasons == nil {
			e.Reasons = []string{}
		}
	case e.Code == "" && len(reasons) > 0:
		e.Code, e.Reasons = "weak_password", reasons
	}
	return e
}

// stringList decodes a JSON array of strings; anything else is nil.
func stringList(raw json.RawMessage) []string {
	var out []string
	if json.Unmarshal(raw, &out) != nil {
		return nil
	}
	return out
}

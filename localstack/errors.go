package localstack

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// apiVersionHeader is the header Supabase Auth uses to pick its error format.
const apiVersionHeader = "X-Supabase-Api-Version"

// apiVersion20240101 is the first (and so far only) dated Auth API version.
const apiVersion20240101 = "2024-01-01"

// authError is an error answered in Supabase Auth's format.
type authError struct {
	status  int
	code    string // error_code, e.g. invalid_credentials
	msg     string
	reasons []string // weak_password only
	oauth   bool     // answered as {"error","error_description"}
}

func (e *authError) Error() string { return e.code + ": " + e.msg }

func authErr(status int, code, msg string) *authError {
	return &authError{status: status, code: code, msg: msg}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}

// writeAuthError answers in the format the request asked for: the dated
// {"code","message"} shape when X-Supabase-Api-Version is 2024-01-01 or
// later (as every current client sends), the legacy {"code","error_code","msg"}
// otherwise.
func (s *Server) writeAuthError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *authError
	if !errors.As(err, &ae) {
		s.cfg.Logger.Error("auth request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		ae = authErr(http.StatusInternalServerError, "unexpected_failure", "Unexpected failure, please check server logs for more information")
	}
	if ae.oauth {
		writeJSON(w, ae.status, map[string]string{"error": ae.code, "error_description": ae.msg})
		return
	}
	v := r.Header.Get(apiVersionHeader)
	_, perr := time.Parse("2006-01-02", v)
	dated := perr == nil && v >= apiVersion20240101
	if dated {
		w.Header().Set(apiVersionHeader, apiVersion20240101)
	}
	body := map[string]any{}
	if dated {
		body["code"] = ae.code
		body["message"] = ae.msg
	} else {
		body["code"] = ae.status
		body["error_code"] = ae.code
		body["msg"] = ae.msg
	}
	if ae.reasons != nil {
		body["weak_password"] = map[string]any{"reasons": ae.reasons}
	}
	writeJSON(w, ae.status, body)
}

// restError is an error answered in PostgREST's format.
type restError struct {
	status  int
	code    string
	message string
	details any // string or, for PGRST201, a list of relationships
	hint    *string
	header  http.Header
}

func (e *restError) Error() string { return e.code + ": " + e.message }

func strp(s string) *string { return &s }

func restErr(status int, code, message string) *restError {
	return &restError{status: status, code: code, message: message}
}

func (e *restError) withDetails(d any) *restError { e.details = d; return e }
func (e *restError) withHint(h string) *restError { e.hint = &h; return e }

func (s *Server) writeRESTError(w http.ResponseWriter, r *http.Request, err error, authed bool) {
	re := s.toRESTError(err, authed)
	if re.status >= 500 && re.code != "" {
		s.cfg.Logger.Error("rest request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	for k, v := range re.header {
		w.Header()[k] = v
	}
	if re.status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	w.Header().Set("Proxy-Status", "PostgREST; error="+re.code)
	writeJSON(w, re.status, map[string]any{"code": re.code, "message": re.message, "details": re.details, "hint": re.hint})
}

// toRESTError turns any error into PostgREST's shape. Database errors keep
// their SQLSTATE and get PostgREST's status for it; authed says whether the
// request ran as a role other than anon (42501 is 403 then, 401 otherwise).
func (s *Server) toRESTError(err error, authed bool) *restError {
	var re *restError
	if errors.As(err, &re) {
		return re
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "PGRST" {
		return raisedError(pe)
	}
	if errors.As(err, &pe) {
		out := &restError{status: pgStatus(pe, authed), code: pe.Code, message: pe.Message}
		if pe.Detail != "" {
			out.details = strp(pe.Detail)
		}
		if pe.Hint != "" {
			out.hint = strp(pe.Hint)
		}
		return out
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return restErr(http.StatusServiceUnavailable, "PGRST000", "Database connection error. Retrying the connection.")
	}
	return &restError{status: http.StatusInternalServerError, code: "PGRSTX00", message: err.Error()}
}

// pgStatus is PostgREST's mapping of SQLSTATE to HTTP status.
// raisedError answers PostgREST's RAISE SQLSTATE 'PGRST': MESSAGE is the
// JSON error body, DETAIL the JSON status and headers of the response.
func raisedError(pe *pgconn.PgError) *restError {
	var body struct {
		Code    *string `json:"code"`
		Message *string `json:"message"`
		Details *string `json:"details"`
		Hint    *string `json:"hint"`
	}
	var meta struct {
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
	}
	bad := restErr(http.StatusInternalServerError, "PGRST121", "Could not parse JSON in the RAISE SQLSTATE 'PGRST' error")
	if json.Unmarshal([]byte(pe.Message), &body) != nil || body.Code == nil || body.Message == nil {
		return bad.withDetails("Invalid JSON value for MESSAGE: '" + pe.Message + "'").
			withHint("MESSAGE must be a JSON object with obligatory keys: 'code', 'message' and optional keys: 'details', 'hint'.")
	}
	if json.Unmarshal([]byte(pe.Detail), &meta) != nil || meta.Status < 100 || meta.Status > 599 {
		return bad.withDetails("Invalid JSON value for optional DETAIL: '" + pe.Detail + "'").
			withHint("DETAIL must be a JSON object with obligatory keys: 'status', 'headers' and optional key: 'status_text'.")
	}
	re := &restError{status: meta.Status, code: *body.Code, message: *body.Message, hint: body.Hint, header: http.Header{}}
	if body.Details != nil {
		re.details = body.Details
	}
	for k, v := range meta.Headers {
		re.header.Set(k, v)
	}
	return re
}

func pgStatus(pe *pgconn.PgError, authed bool) int {
	c := pe.Code
	switch c {
	case "23503", "23505":
		return http.StatusConflict
	case "25006":
		return http.StatusMethodNotAllowed
	case "21000":
		if strings.HasSuffix(pe.Message, "requires a WHERE clause") {
			return http.StatusBadRequest
		}
		return http.StatusInternalServerError
	case "22023":
		if strings.HasPrefix(pe.Message, "role") && strings.HasSuffix(pe.Message, "does not exist") {
			return http.StatusUnauthorized
		}
		return http.StatusBadRequest
	case "53400":
		return http.StatusInternalServerError
	case "57P01":
		return http.StatusServiceUnavailable
	case "P0001":
		return http.StatusBadRequest
	case "42883":
		return http.StatusNotFound
	case "42P01":
		return http.StatusNotFound
	case "42P17":
		return http.StatusInternalServerError
	case "42501":
		if authed {
			return http.StatusForbidden
		}
		return http.StatusUnauthorized
	}
	switch {
	case strings.HasPrefix(c, "08"), strings.HasPrefix(c, "53"):
		return http.StatusServiceUnavailable
	case strings.HasPrefix(c, "0L"), strings.HasPrefix(c, "0P"), strings.HasPrefix(c, "28"):
		return http.StatusForbidden
	case strings.HasPrefix(c, "PT"):
		if n, err := strconv.Atoi(c[2:]); err == nil && n >= 100 && n <= 599 {
			return n
		}
		return http.StatusInternalServerError
	}
	for _, p := range []string{"09", "25", "2D", "38", "39", "3B", "40", "54", "55", "57", "58", "F0", "HV", "P0", "XX"} {
		if strings.HasPrefix(c, p) {
			return http.StatusInternalServerError
		}
	}
	return http.StatusBadRequest
}

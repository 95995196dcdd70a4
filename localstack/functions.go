package localstack

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
)

// claimsKey is the context key of a function request's verified claims.
type claimsKey struct{}

// FunctionClaims returns the JWT claims the relay verified for a request
// to a function, or nil when the function does not verify JWTs.
func FunctionClaims(r *http.Request) map[string]any {
	m, _ := r.Context().Value(claimsKey{}).(map[string]any)
	return m
}

// noVerifyJWT marks a function served without JWT verification.
type noVerifyJWT struct{ http.Handler }

// NoVerifyJWT serves h without verifying the caller's JWT, as a function
// deployed with verify_jwt = false.
func NoVerifyJWT(h http.Handler) http.Handler { return noVerifyJWT{h} }

// builtinFunctions are the functions every stack serves.
func builtinFunctions() map[string]http.Handler {
	return map[string]http.Handler{
		"echo":  http.HandlerFunc(echoFunction),
		"fail":  http.HandlerFunc(failFunction),
		"crash": http.HandlerFunc(crashFunction),
	}
}

// relayResponse answers as the Supabase CLI's edge runtime relay does: a
// JSON object, or text.
func relayResponse(w http.ResponseWriter, status int, body any) {
	if s, ok := body.(string); ok {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(status)
		io.WriteString(w, s)
		return
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// serveFunctions serves /functions/v1/<name>[/...] as Supabase's edge
// runtime relay does: an unknown function is 404 "Function not found";
// unless the function was registered with NoVerifyJWT, every request but
// OPTIONS needs "Authorization: Bearer <JWT>" signed with the project
// secret and unexpired (the anon key, the service_role key or a user's
// access token), else 401 {"msg": ...}. The function sees the path without
// /functions/v1 and its verified claims through FunctionClaims. A function
// that panics is answered 500 WORKER_ERROR, marked x-relay-error: true as
// Supabase's relay marks the answers it gives itself.
func (s *Server) serveFunctions(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/functions/v1/")
	name, _, _ := strings.Cut(rest, "/")
	h, ok := s.functions[name]
	if name == "" || !ok {
		relayResponse(w, http.StatusNotFound, "Function not found")
		return
	}
	var claims map[string]any
	if _, open := h.(noVerifyJWT); !open && r.Method != http.MethodOptions {
		auth, ok := r.Header["Authorization"]
		if !ok {
			relayResponse(w, http.StatusUnauthorized, map[string]string{"msg": "Error: Missing authorization header"})
			return
		}
		parts := strings.Split(auth[0], " ")
		if parts[0] != "Bearer" {
			relayResponse(w, http.StatusUnauthorized, map[string]string{"msg": "Error: Auth header is not 'Bearer {token}'"})
			return
		}
		token := ""
		if len(parts) > 1 {
			token = parts[1]
		}
		alg, ok := protectedAlg(token)
		if !ok {
			relayResponse(w, http.StatusUnauthorized, map[string]string{"msg": "TypeError: Invalid Token or Protected Header formatting"})
			return
		}
		var err error
		if alg == "HS256" {
			_, claims, err = joseVerify(s.cfg.JWTSecret, token, s.now())
		}
		if alg != "HS256" || err != nil {
			relayResponse(w, http.StatusUnauthorized, map[string]string{"msg": "Invalid JWT"})
			return
		}
	}
	r2 := r.Clone(context.WithValue(r.Context(), claimsKey{}, claims))
	r2.URL.Path = "/" + rest
	r2.URL.RawPath = ""
	s.runFunction(h, w, r2)
}

// protectedAlg reads the alg of a JWT's protected header.
func protectedAlg(token string) (string, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 && len(parts) != 5 {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[0])
	var hdr map[string]any
	if err != nil || json.Unmarshal(b, &hdr) != nil || hdr == nil {
		return "", false
	}
	alg, _ := hdr["alg"].(string)
	return alg, true
}

// panicWriter notes whether a response was started, so that a panic after
// the headers went out is not answered twice.
type panicWriter struct {
	http.ResponseWriter
	started bool
}

func (w *panicWriter) WriteHeader(code int) { w.started = true; w.ResponseWriter.WriteHeader(code) }
func (w *panicWriter) Write(b []byte) (int, error) {
	w.started = true
	return w.ResponseWriter.Write(b)
}
func (w *panicWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// runFunction runs a function the way the relay runs a worker: a crash is
// the relay's answer, not the function's.
func (s *Server) runFunction(h http.Handler, w http.ResponseWriter, r *http.Request) {
	pw := &panicWriter{ResponseWriter: w}
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler || pw.started {
			panic(http.ErrAbortHandler) // too late for an answer: drop the connection
		}
		s.cfg.Logger.Error("function panicked", "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
		w.Header().Set("x-relay-error", "true")
		relayResponse(w, http.StatusInternalServerError, map[string]string{
			"code": "WORKER_ERROR", "message": "Function exited due to an error (please check logs)",
		})
	}()
	h.ServeHTTP(pw, r)
}

// secretHeaders are request headers echo does not repeat.
var secretHeaders = map[string]bool{"authorization": true, "apikey": true, "cookie": true, "proxy-authorization": true, "sb-api-key": true}

// echoFunction answers what it received: the method, the path, the query,
// the headers (credentials redacted), the body (parsed when it is JSON)
// and the caller's verified claims.
func echoFunction(w http.ResponseWriter, r *http.Request) {
	headers := map[string]string{}
	for k, v := range r.Header {
		k = strings.ToLower(k)
		if secretHeaders[k] {
			headers[k] = "[redacted]"
			continue
		}
		headers[k] = strings.Join(v, ", ")
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var body any
	if len(raw) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if dec.Decode(&body) != nil || dec.More() {
			body = string(raw)
		}
	}
	query := map[string][]string{}
	for k, v := range r.URL.Query() {
		query[k] = v
	}
	writeJSON(w, http.StatusOK, jsonObj{
		{"method", r.Method}, {"path", r.URL.Path}, {"query", query}, {"headers", headers},
		{"body", body}, {"claims", FunctionClaims(r)},
	})
}

// failFunction always fails: 400 {"error": ...}, or the 4xx or 5xx status
// given as ?status=.
func failFunction(w http.ResponseWriter, r *http.Request) {
	status := http.StatusBadRequest
	if v := r.URL.Query().Get("status"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 400 && n <= 599 {
			status = n
		}
	}
	writeJSON(w, status, map[string]any{"error": "fail always fails", "status": status})
}

// crashFunction panics: the relay's answer to a function that crashed.
func crashFunction(http.ResponseWriter, *http.Request) {
	panic("crash always crashes")
}

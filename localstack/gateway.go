package localstack

import (
	"net/http"
	"runtime/debug"
	"strings"
)

// gateway does what Supabase's API gateway does before a request reaches
// Auth or PostgREST: it requires a project API key, from the apikey header
// or the apikey query parameter.
func (s *Server) gateway(h http.HandlerFunc) http.Handler { return s.edge(h, true) }

// edge is the gateway's work on every request: CORS, and with keyAuth the
// API key.
func (s *Server) edge(h http.HandlerFunc, keyAuth bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			// A bug must not take the connection down without an answer.
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.cfg.Logger.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				writeJSON(w, http.StatusInternalServerError, map[string]string{"message": "internal server error"})
			}
		}()
		// CORS as the gateway answers it, so browser clients work too.
		w.Header().Set("Access-Control-Allow-Origin", "*")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			w.Header().Set("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS")
			if h := r.Header.Get("Access-Control-Request-Headers"); h != "" {
				w.Header().Set("Access-Control-Allow-Headers", h)
			}
			w.Header().Set("Access-Control-Max-Age", "3600")
			w.WriteHeader(http.StatusOK)
			return
		}
		w.Header().Set("Access-Control-Expose-Headers", "Content-Range, X-Total-Count, Link, Preference-Applied, X-Supabase-Api-Version")
		if strings.HasPrefix(r.URL.Path, "/auth/v1/") {
			w.Header().Set(apiVersionHeader, apiVersion20240101)
		}
		if !keyAuth {
			h(w, r)
			return
		}
		key := r.Header.Get("apikey")
		if key == "" {
			key = r.URL.Query().Get("apikey")
		}
		switch key {
		case "":
			writeJSON(w, http.StatusUnauthorized, map[string]string{
				"message": "No API key found in request",
				"hint":    "No `apikey` request header or url param was found.",
			})
			return
		case s.cfg.AnonKey, s.cfg.ServiceRoleKey:
		default:
			writeJSON(w, http.StatusUnauthorized, map[string]string{
				"message": "Invalid API key",
				"hint":    "Double check your Supabase `anon` or `service_role` API key.",
			})
			return
		}
		h(w, r)
	})
}

// bearer returns the token of an "Authorization: Bearer" header and whether
// there was one.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return "", false
	}
	return strings.TrimSpace(h[7:]), true
}

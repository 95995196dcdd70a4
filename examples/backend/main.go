// Command backend is an HTTP API that serves many users at once: it
// verifies each request's Supabase access token locally and queries
// PostgREST as that user, so RLS applies per request.
//
//	SUPABASE_URL=http://127.0.0.1:54321 SUPABASE_ANON_KEY=... \
//	SUPABASE_JWT_SECRET=super-secret-jwt-token-with-at-least-32-characters-long \
//	go run ./examples/backend
//	curl -H "Authorization: Bearer $ACCESS_TOKEN" http://127.0.0.1:8080/todos
//	curl http://127.0.0.1:8080/healthz   # no token needed
//
// Without SUPABASE_JWT_SECRET the tokens are checked against the project's
// JWKS (asymmetric signing keys).
package main

import (
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"os"

	"github.com/supabase-go/supabase"
)

type todo struct {
	ID    int64  `json:"id"`
	Title string `json:"title"`
	Done  bool   `json:"done"`
}

func main() {
	base, err := supabase.NewClientFromEnv() // one client, one connection pool, for every user
	if err != nil {
		log.Fatal(err)
	}
	var opts []supabase.VerifierOption
	if s := os.Getenv("SUPABASE_JWT_SECRET"); s != "" {
		opts = append(opts, supabase.WithJWTSecret(s))
	}
	verifier, err := supabase.NewVerifier(base.URL(), opts...)
	if err != nil {
		log.Fatal(err)
	}
	defer verifier.Close()

	addr := "127.0.0.1:8080"
	log.Printf("listening on http://%s", addr)
	log.Fatal(http.ListenAndServe(addr, newHandler(base, verifier)))
}

// newHandler is the API: every route but GET /healthz needs a signed-in user.
func newHandler(base *supabase.Client, verifier *supabase.Verifier) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /todos", func(w http.ResponseWriter, r *http.Request) {
		user, _ := supabase.ClientFromContext(r.Context()) // acts as the caller: RLS applies
		todos, err := supabase.All[todo](r.Context(), user.From("todos").Select("id,title,done").Order("id"))
		if err != nil {
			log.Printf("GET /todos: %v", err) // never contains the token
			if errors.Is(err, supabase.ErrUnauthorized) {
				writeError(w, http.StatusUnauthorized, "token refused by the database")
				return
			}
			writeError(w, http.StatusBadGateway, "database unavailable")
			return
		}
		writeJSON(w, http.StatusOK, todos)
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		claims, _ := supabase.ClaimsFromContext(r.Context())
		writeJSON(w, http.StatusOK, map[string]any{"sub": claims.Subject, "role": claims.Role, "email": claims.Email})
	})

	return base.Middleware(verifier,
		// The load balancer's health check carries no token.
		supabase.WithSkip(func(r *http.Request) bool {
			return r.Method == http.MethodGet && r.URL.Path == "/healthz"
		}),
		// Refused tokens get this API's error format; the reason stays in
		// the server log.
		supabase.WithUnauthorizedHandler(func(w http.ResponseWriter, r *http.Request, err error) {
			log.Printf("%s %s: %v", r.Method, r.URL.Path, err)
			msg := "sign in required"
			if errors.Is(err, supabase.ErrJWTExpired) {
				msg = "session expired: refresh the access token"
			}
			w.Header().Set("WWW-Authenticate", "Bearer")
			writeError(w, http.StatusUnauthorized, msg)
		}),
	)(mux)
}

// apiError is this API's error body: {"error":{"status":401,"message":"..."}}.
type apiError struct {
	Error struct {
		Status  int    `json:"status"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	var e apiError
	e.Error.Status, e.Error.Message = status, msg
	writeJSON(w, status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

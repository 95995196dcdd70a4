// Command backend is an HTTP API that serves many users at once: it
// verifies each request's Supabase access token locally and queries
// PostgREST as that user, so RLS applies per request.
//
//	SUPABASE_URL=http://127.0.0.1:54321 SUPABASE_ANON_KEY=... \
//	SUPABASE_JWT_SECRET=super-secret-jwt-token-with-at-least-32-characters-long \
//	go run ./examples/backend
//	curl -H "Authorization: Bearer $ACCESS_TOKEN" http://127.0.0.1:8080/todos
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

	mux := http.NewServeMux()
	mux.HandleFunc("GET /todos", func(w http.ResponseWriter, r *http.Request) {
		user, _ := supabase.ClientFromContext(r.Context()) // acts as the caller: RLS applies
		todos, err := supabase.All[todo](r.Context(), user.From("todos").Select("id,title,done").Order("id"))
		if err != nil {
			status := http.StatusBadGateway
			if errors.Is(err, supabase.ErrUnauthorized) {
				status = http.StatusUnauthorized
			}
			http.Error(w, err.Error(), status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(todos)
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		claims, _ := supabase.ClaimsFromContext(r.Context())
		_ = json.NewEncoder(w).Encode(map[string]any{"sub": claims.Subject, "role": claims.Role, "email": claims.Email})
	})
	addr := "127.0.0.1:8080"
	log.Printf("listening on http://%s", addr)
	log.Fatal(http.ListenAndServe(addr, base.Middleware(verifier)(mux)))
}

// Command devserver runs a local Supabase-compatible stack (Auth, a
// PostgREST-compatible data API and Storage with real row level security,
// and the built-in Edge Functions echo, fail and crash) over a PostgreSQL
// database, with the demo schema applied.
//
//	go run ./cmd/devserver [-addr 127.0.0.1:54321] [-storage-dir DIR]   # in localstack/
//
// Object bytes are kept in -storage-dir; by default in a temporary
// directory removed when the server stops.
//
// DATABASE_URL names a PostgreSQL superuser connection (default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable). The other
// settings Supabase Auth reads from its environment apply where they make
// sense: GOTRUE_JWT_SECRET, GOTRUE_JWT_EXP,
// GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL, GOTRUE_MAILER_AUTOCONFIRM,
// GOTRUE_EXTERNAL_ANONYMOUS_USERS_ENABLED, GOTRUE_PASSWORD_MIN_LENGTH.
//
// The defaults are those of the Supabase CLI's `supabase start`, so programs
// written against this server run unchanged against a real local Supabase.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/supabase-go/supabase/localstack"
)

func main() {
	addr := flag.String("addr", localstack.DefaultAddr, "address to serve the API on")
	storageDir := flag.String("storage-dir", "", "directory to keep storage objects in (default: a temporary directory removed at exit)")
	flag.Parse()
	if err := run(*addr, *storageDir); err != nil {
		fmt.Fprintln(os.Stderr, "devserver:", err)
		os.Exit(1)
	}
}

func run(addr, storageDir string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg, err := localstack.ConfigFromEnv()
	if err != nil {
		return err
	}
	if cfg.DatabaseURL == "" {
		cfg.DatabaseURL = localstack.DefaultDatabaseURL
	}
	apiURL := "http://" + addr
	if os.Getenv("API_EXTERNAL_URL") == "" {
		cfg.Issuer = apiURL + "/auth/v1"
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg.StorageDir = storageDir

	setupCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	srv, err := localstack.New(setupCtx, cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	if err := srv.ApplyDemoSchema(setupCtx); err != nil {
		return err
	}

	// Listen before printing, so the banner means the API is reachable.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	secret := cfg.JWTSecret
	if secret == "" {
		secret = localstack.DefaultJWTSecret
	}
	fmt.Printf(`Started local Supabase-compatible stack.

         API URL: %s
          DB URL: %s
     Storage dir: %s
       Functions: %s/functions/v1/{echo,fail,crash}
      JWT secret: %s
        anon key: %s
service_role key: %s

Press Ctrl+C to stop.
`, apiURL, redact(cfg.DatabaseURL), srv.StorageDir(), apiURL, secret, srv.AnonKey(), srv.ServiceRoleKey())

	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	fmt.Println("Stopping.")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// redact hides a password in a connection URL.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

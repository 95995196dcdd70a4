// Command devserver runs a local Supabase-compatible stack (Auth, a
// PostgREST-compatible data API and Storage with real row level security,
// and the built-in Edge Functions echo, fail and crash) over a PostgreSQL
// database, with the demo schema applied.
//
//	go run ./cmd/devserver [-addr 127.0.0.1:54321] [-storage-dir DIR]   # in localstack/
//
// Sign-ups are confirmed at once (GOTRUE_MAILER_AUTOCONFIRM=false turns
// that off). No email is sent: each one is kept, and GET
// /localstack/mail?email=ADDRESS with the service_role key lists them
// with their links and codes. `devserver -h` lists every setting it reads.
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
	flag.Usage = usage
	flag.Parse()
	if err := run(*addr, *storageDir); err != nil {
		fmt.Fprintln(os.Stderr, "devserver:", err)
		os.Exit(1)
	}
}

// settings are the environment variables the server reads.
const settings = `
Environment (as Supabase Auth names them where it has a name):
  DATABASE_URL                      PostgreSQL superuser connection
                                    (default postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable)
  GOTRUE_JWT_SECRET                 JWT secret, at least 32 characters (default the Supabase CLI's);
                                    the anon and service_role keys are derived from it
  GOTRUE_JWT_EXP                    access token lifetime in seconds (default 3600)
  GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL
                                    seconds a rotated refresh token may still be used (default 10; 0: never)
  GOTRUE_MAILER_AUTOCONFIRM         sign-ups are confirmed at once (default true); false: a
                                    confirmation email (see /localstack/mail) must be followed first
  GOTRUE_MAILER_OTP_EXP             seconds email links and codes stay valid (default 3600)
  GOTRUE_EXTERNAL_ANONYMOUS_USERS_ENABLED
                                    allow anonymous sign-ins (default false)
  GOTRUE_PASSWORD_MIN_LENGTH        shortest password accepted (default 6)
  GOTRUE_SITE_URL                   where Auth flows end without an allowed redirect_to
                                    (default http://127.0.0.1:3000)
  GOTRUE_URI_ALLOW_LIST             other allowed redirect_to URLs, comma-separated globs
                                    ('*' stops at '.' and '/', '**' does not); loopback
                                    addresses on any port are always allowed (RFC 8252)
  GOTRUE_SECURITY_MANUAL_LINKING_ENABLED
                                    allow linking and unlinking identities (default false)
  GOTRUE_EXTERNAL_FLOW_STATE_EXPIRY_DURATION
                                    how long an OAuth or PKCE flow may take (default 300s)
  LOCALSTACK_OAUTH_PROVIDERS        OAuth/OIDC provider names served by the built-in test
                                    provider, which approves at once (default local,github,google)
  LOCALSTACK_SSO_DOMAINS            email domains given a test SSO (SAML) provider that signs in
                                    at once (default none: POST /sso says SAML is disabled)
  API_EXTERNAL_URL                  the API's public URL, for the iss claim (default http://ADDR)
`

func usage() {
	out := flag.CommandLine.Output()
	fmt.Fprintf(out, "Usage: devserver [flags]\n\nRuns a local Supabase-compatible stack. Sign-ups are confirmed at once.\n\nFlags:\n")
	flag.PrintDefaults()
	fmt.Fprint(out, settings)
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

// Command cli-login signs a user in to a Supabase project from a terminal,
// the way native apps should (RFC 8252): it starts an OAuth sign-in with
// PKCE, opens the provider's page in the browser (or prints it), receives
// the code on a loopback redirect (http://127.0.0.1:<random port>/callback),
// exchanges it for a session and saves the session in a file that later
// runs, and other programs using supabase.NewFileStore, sign in from.
//
//	(cd localstack && go run ./cmd/devserver) &   # or `supabase start`
//	go run ./examples/cli-login -provider github
//
// Flags, with the environment variables that set their defaults:
//
//	-url URL          project URL (SUPABASE_URL; default the local stack, http://127.0.0.1:54321)
//	-key KEY          anon key (SUPABASE_ANON_KEY; default the Supabase CLI's)
//	-provider NAME    OAuth provider (CLI_LOGIN_PROVIDER; default github)
//	-store PATH       session file (CLI_LOGIN_STORE; default <user config dir>/supabase-cli-login/session.json)
//	-timeout D        how long to wait for the browser (default 2m)
//	-login-hint EMAIL passed to the provider as login_hint
//	-no-browser       print the URL instead of opening a browser
//
// The project must allow the redirect: Supabase Auth allows loopback
// addresses on any port. The local stack's test provider signs in at once
// (the user is -login-hint, or a default test user).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"time"

	"github.com/supabase-go/supabase"
)

const (
	localURL     = "http://127.0.0.1:54321"
	localAnonKey = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0"
)

// config is what the flags say.
type config struct {
	url, key, provider, store, loginHint string
	timeout                              time.Duration
	noBrowser                            bool
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		os.Exit(2) // flag has printed why
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "cli-login:", err)
		os.Exit(1)
	}
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func parseFlags(args []string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("cli-login", flag.ContinueOnError)
	defStore := "session.json"
	if dir, err := os.UserConfigDir(); err == nil {
		defStore = filepath.Join(dir, "supabase-cli-login", "session.json")
	}
	fs.StringVar(&cfg.url, "url", env("SUPABASE_URL", localURL), "project URL (SUPABASE_URL)")
	fs.StringVar(&cfg.key, "key", env("SUPABASE_ANON_KEY", localAnonKey), "anon key (SUPABASE_ANON_KEY)")
	fs.StringVar(&cfg.provider, "provider", env("CLI_LOGIN_PROVIDER", "github"), "OAuth provider (CLI_LOGIN_PROVIDER)")
	fs.StringVar(&cfg.store, "store", env("CLI_LOGIN_STORE", defStore), "file to save the session in (CLI_LOGIN_STORE)")
	fs.DurationVar(&cfg.timeout, "timeout", 2*time.Minute, "how long to wait for the browser")
	fs.StringVar(&cfg.loginHint, "login-hint", "", "email passed to the provider as login_hint")
	fs.BoolVar(&cfg.noBrowser, "no-browser", false, "print the sign-in URL instead of opening a browser")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if cfg.timeout <= 0 {
		fmt.Fprintln(fs.Output(), "-timeout must be positive")
		return cfg, errors.New("bad timeout")
	}
	return cfg, nil
}

// run signs the user in and saves the session. It prints the URL to out
// before waiting, so that the URL is there to follow with -no-browser.
func run(ctx context.Context, cfg config, out io.Writer) error {
	store, err := supabase.NewFileStore(cfg.store)
	if err != nil {
		return err
	}
	// The PKCE code verifier is kept in the store (beside the session
	// file) until the code is exchanged.
	client, err := supabase.NewClient(cfg.url, cfg.key, supabase.WithFlowType(supabase.FlowPKCE), supabase.WithSessionStore(store))
	if err != nil {
		return err
	}

	// Loopback on a port the system picks (RFC 8252 §7.3): the redirect
	// never leaves this machine.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen for the redirect: %w", err)
	}
	redirect := fmt.Sprintf("http://127.0.0.1:%d/callback", ln.Addr().(*net.TCPAddr).Port)
	codes := make(chan callbackResult, 1)
	srv := &http.Server{Handler: callbackHandler(codes), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }() // ends with Shutdown
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()

	var params supabase.OAuthParams
	if cfg.loginHint != "" {
		params.QueryParams = map[string]string{"login_hint": cfg.loginHint}
	}
	authURL, err := client.Auth.SignInWithOAuthURL(ctx, cfg.provider, params, supabase.WithRedirectTo(redirect))
	if err != nil {
		return fmt.Errorf("start the sign-in: %w", err)
	}
	fmt.Fprintf(out, "Sign in with %s in your browser:\n\n  %s\n\n", cfg.provider, authURL)
	if !cfg.noBrowser {
		if err := openBrowser(authURL); err != nil {
			fmt.Fprintf(out, "(could not open a browser: %v; open the URL above yourself)\n", err)
		}
	}
	fmt.Fprintf(out, "Waiting up to %s for the sign-in to finish...\n", cfg.timeout)

	wctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	var res callbackResult
	select {
	case res = <-codes:
	case <-wctx.Done():
		if errors.Is(wctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("no sign-in within %s", cfg.timeout)
		}
		return wctx.Err()
	}
	if res.err != nil {
		return res.err
	}
	auth, err := client.Auth.ExchangeCodeForSession(ctx, res.code)
	if err != nil {
		return fmt.Errorf("exchange the code: %w", err)
	}
	who := auth.User.Email
	if who == "" {
		who = auth.User.ID
	}
	fmt.Fprintf(out, "Signed in as %s. Session saved to %s.\n", who, cfg.store)
	return nil
}

// callbackResult is what the redirect brought: a code, or the error the
// provider or Supabase Auth put in it.
type callbackResult struct {
	code string
	err  error
}

// callbackHandler answers the browser's redirect and hands the first
// code (or error) to codes.
func callbackHandler(codes chan<- callbackResult) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var res callbackResult
		switch {
		case q.Get("error") != "":
			res.err = fmt.Errorf("sign-in refused: %s: %s", q.Get("error"), q.Get("error_description"))
		case q.Get("code") == "":
			http.Error(w, "no code in the redirect", http.StatusBadRequest)
			return
		default:
			res.code = q.Get("code")
		}
		select {
		case codes <- res:
		default: // a second redirect: the first one counts
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		msg := "Signed in. You can close this window and return to the terminal."
		if res.err != nil {
			msg = "Sign-in failed: " + res.err.Error()
		}
		fmt.Fprintf(w, "<!doctype html><title>cli-login</title><p>%s</p>\n", html.EscapeString(msg))
	})
	return mux
}

// openBrowser opens url in the user's browser.
func openBrowser(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }()
	return nil
}

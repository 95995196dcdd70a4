// Package localstacktest starts a throwaway local stack for a test: a fresh
// database on the PostgreSQL server at DATABASE_URL, the stack serving it
// through httptest, and cleanup that drops the database.
//
// When PostgreSQL cannot be reached the test is skipped, or failed when the
// environment variable CI is set or SUPABASE_REQUIRE_DB=1, so CI never
// passes by skipping.
package localstacktest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/supabase-go/supabase/localstack"
)

// Stack is a running stack for one test.
type Stack struct {
	// URL is the project URL (the httptest server's), for supabase.NewClient.
	URL string
	// AnonKey and ServiceRoleKey are the project's API keys.
	AnonKey        string
	ServiceRoleKey string
	// DatabaseURL connects to the test's own database as the superuser.
	DatabaseURL string
	// Server is the stack itself.
	Server *localstack.Server

	t testing.TB
}

// IDToken signs claims as the stack's test OIDC provider, for the id_token
// grant (see [localstack.Server.SignIDToken]: iss, aud, iat and exp are
// filled in when missing). It fails the test if signing fails.
func (s *Stack) IDToken(claims map[string]any) string {
	s.t.Helper()
	tok, err := s.Server.SignIDToken(claims)
	if err != nil {
		s.t.Fatalf("sign ID token: %v", err)
	}
	return tok
}

// LastEmail returns the latest email the stack sent to address (it sends
// none for real: see [localstack.Server.Emails]), failing the test when
// there is none.
func (s *Stack) LastEmail(address string) localstack.Email {
	s.t.Helper()
	msgs := s.Server.Emails(address)
	if len(msgs) == 0 {
		s.t.Fatalf("no email was sent to %s", address)
	}
	return msgs[len(msgs)-1]
}

// Option adjusts how New starts the stack.
type Option func(*options)

type options struct {
	cfg    localstack.Config
	noDemo bool
	wrap   func(http.Handler) http.Handler
}

// Configure lets f change the stack's configuration, e.g. its token lifetime.
func Configure(f func(*localstack.Config)) Option {
	return func(o *options) { f(&o.cfg) }
}

// NoDemoSchema leaves out the demo schema (public.todos and the avatars
// bucket).
func NoDemoSchema() Option {
	return func(o *options) { o.noDemo = true }
}

// WrapHandler puts f's handler in front of the stack, e.g. to count or
// delay requests.
func WrapHandler(f func(http.Handler) http.Handler) Option {
	return func(o *options) { o.wrap = f }
}

// AdminURL returns the PostgreSQL URL tests create their databases with.
func AdminURL() string {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		return u
	}
	return localstack.DefaultDatabaseURL
}

// RequireDB reports whether an unreachable database fails tests instead of
// skipping them.
func RequireDB() bool {
	return os.Getenv("CI") != "" || os.Getenv("SUPABASE_REQUIRE_DB") == "1"
}

// New starts a stack on a fresh database and registers its cleanup. The
// stack uses the Supabase CLI's secret and keys, bcrypt's minimum cost, a
// storage directory of the test's own (t.TempDir) and the demo schema
// unless opts say otherwise.
func New(t testing.TB, opts ...Option) *Stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	admin := AdminURL()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		msg := "PostgreSQL is not reachable at DATABASE_URL (" + redact(admin) + "): " + err.Error() +
			"\nstart it with localstack/scripts/ensure-postgres.sh"
		if RequireDB() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	defer conn.Close(context.Background())

	b := make([]byte, 6)
	rand.Read(b)
	name := "lst_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("drop test database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})

	dbURL, err := withDatabase(admin, name)
	if err != nil {
		t.Fatal(err)
	}
	o := options{cfg: localstack.Config{BcryptCost: bcrypt.MinCost, MaxConns: 4}}
	for _, opt := range opts {
		opt(&o)
	}
	cfg := o.cfg
	cfg.DatabaseURL = dbURL
	if cfg.StorageDir == "" {
		cfg.StorageDir = t.TempDir() // removed after the test, like the database
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	}
	srv, err := localstack.New(ctx, cfg)
	if err != nil {
		t.Fatalf("start local stack: %v", err)
	}
	if !o.noDemo {
		if err := srv.ApplyDemoSchema(ctx); err != nil {
			srv.Close()
			t.Fatalf("apply demo schema: %v", err)
		}
	}
	h := srv.Handler()
	if o.wrap != nil {
		h = o.wrap(h)
	}
	ts := httptest.NewServer(h)
	// Cleanups run last-registered first: the HTTP server stops, then the
	// pool closes, then the database is dropped.
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
	})
	return &Stack{URL: ts.URL, AnonKey: srv.AnonKey(), ServiceRoleKey: srv.ServiceRoleKey(), DatabaseURL: dbURL, Server: srv, t: t}
}

// testWriter sends the stack's log to the test's log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// withDatabase points a connection string (URL or key=value form) at database name.
func withDatabase(connString, name string) (string, error) {
	if strings.Contains(connString, "://") {
		u, err := url.Parse(connString)
		if err != nil {
			return "", err
		}
		u.Path = "/" + name
		u.RawPath = ""
		return u.String(), nil
	}
	return connString + " dbname=" + name, nil
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

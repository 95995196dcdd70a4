// Package localstack is a small Supabase-compatible server over a real
// PostgreSQL database: Supabase Auth's wire format under /auth/v1, a
// PostgREST-compatible data API under /rest/v1, Supabase Storage's API
// under /storage/v1 (object bytes on local disk) and Go handlers as Edge
// Functions under /functions/v1.
//
// Every data and storage request runs in transactions that switch to the
// role named in the caller's JWT and publish the JWT claims to
// request.jwt.claims, so auth.uid(), auth.role(), auth.jwt() and real row
// level security policies (on storage.objects too) behave as they do on
// Supabase.
//
// It is a test fixture and a demo server, not a product. Its defaults mirror
// the Supabase CLI's `supabase start` (API at 127.0.0.1:54321, the CLI's JWT
// secret and demo keys), so programs written against it run unchanged against
// a real local Supabase.
package localstack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"
)

// Defaults mirror the Supabase CLI's local development stack.
const (
	// DefaultDatabaseURL is the PostgreSQL server used when DATABASE_URL is unset.
	DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	// DefaultAddr is the address `supabase start` serves its API on.
	DefaultAddr = "127.0.0.1:54321"
	// DefaultJWTSecret is the Supabase CLI's JWT secret.
	DefaultJWTSecret = "super-secret-jwt-token-with-at-least-32-characters-long"
	// DefaultAnonKey is the Supabase CLI's demo anon key, signed with DefaultJWTSecret.
	DefaultAnonKey = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0"
	// DefaultServiceRoleKey is the Supabase CLI's demo service_role key, signed with DefaultJWTSecret.
	DefaultServiceRoleKey = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU"

	// demoKeyExpiry is the exp claim of the CLI's demo keys.
	demoKeyExpiry = 1983812996
)

// Config configures a Server. The zero value of every field means its default.
type Config struct {
	// DatabaseURL is a PostgreSQL connection string for a superuser.
	// /rest/v1 connects to the same place as authenticator. Default
	// DefaultDatabaseURL.
	DatabaseURL string
	// JWTSecret signs and verifies HS256 tokens. Default DefaultJWTSecret.
	JWTSecret string
	// AnonKey and ServiceRoleKey are the project API keys. By default they
	// are derived from JWTSecret the way the CLI makes its demo keys, which
	// gives exactly DefaultAnonKey and DefaultServiceRoleKey for the default secret.
	AnonKey        string
	ServiceRoleKey string
	// Issuer is the iss claim of access tokens. Default
	// "http://127.0.0.1:54321/auth/v1".
	Issuer string
	// AccessTokenTTL is the lifetime of access tokens. Default one hour.
	AccessTokenTTL time.Duration
	// RefreshReuseInterval is how long a rotated refresh token may still be
	// presented (answered with the session's active token). Default 10s;
	// negative means no reuse at all.
	RefreshReuseInterval time.Duration
	// RequireEmailConfirmation turns off auto-confirmation: sign-up then
	// returns the user without a session and password sign-in is refused
	// until the email is confirmed.
	RequireEmailConfirmation bool
	// AllowAnonymousSignIns enables POST /auth/v1/signup without credentials.
	AllowAnonymousSignIns bool
	// PasswordMinLength is the shortest accepted password. Default 6.
	PasswordMinLength int
	// BcryptCost is the cost of password hashes. Default bcrypt.DefaultCost;
	// tests use bcrypt.MinCost.
	BcryptCost int
	// Schemas are the schemas exposed under /rest/v1; the first is the
	// default. Default "public", "graphql_public".
	Schemas []string
	// MaxConns caps each of the two connection pools (the superuser's and
	// authenticator's). Default 10.
	MaxConns int32
	// Logger receives unexpected server errors. Default: discarded.
	Logger *slog.Logger

	// StorageDir is the directory /storage/v1 keeps object bytes in. Default:
	// a new temporary directory, removed by Close.
	StorageDir string
	// FileSizeLimit caps every upload, in bytes; a bucket's file_size_limit
	// can only lower it. Default 50 MiB, the Supabase CLI's.
	FileSizeLimit int64
	// Functions are served under /functions/v1/<name> next to the built-in
	// echo, fail and crash (a name given here replaces a built-in). Each
	// sees requests whose JWT the relay verified (see [FunctionClaims]),
	// unless wrapped in [NoVerifyJWT].
	Functions map[string]http.Handler
	// Now is the clock storage signs and checks its URL tokens with, and
	// Auth checks flow states, email links and test ID tokens with.
	// Default time.Now.
	Now func() time.Time

	// SiteURL is where Auth flows end when the client names no allowed
	// redirect_to (GOTRUE_SITE_URL). Default http://127.0.0.1:3000, the
	// Supabase CLI's.
	SiteURL string
	// URIAllowList are the other redirect_to URLs allowed
	// (GOTRUE_URI_ALLOW_LIST, comma-separated): globs where '*' stops at
	// '.' and '/' and '**' does not. Loopback addresses on any port, and
	// the site URL, are always allowed, as in Supabase Auth.
	URIAllowList []string
	// OAuthProviders are the provider names /authorize and the id_token
	// grant accept, all served by the stack's test provider, which
	// approves at once. Default "local", "github", "google".
	OAuthProviders []string
	// ManualLinking enables GET /user/identities/authorize and DELETE
	// /user/identities/{id} (GOTRUE_SECURITY_MANUAL_LINKING_ENABLED).
	ManualLinking bool
	// FlowStateExpiry is how long an OAuth or PKCE flow may take from
	// start to code exchange (GOTRUE_EXTERNAL_FLOW_STATE_EXPIRY_DURATION).
	// Default 5 minutes, Supabase Auth's.
	FlowStateExpiry time.Duration
	// SSODomains are email domains each given a test SAML SSO provider
	// (LOCALSTACK_SSO_DOMAINS, comma-separated) whose identity provider
	// signs in at once; see [Server.SSOProviderID]. Without any, POST
	// /sso answers that SAML is disabled, as Supabase Auth does.
	SSODomains []string
	// OTPExpiry is how long email links and codes stay valid
	// (GOTRUE_MAILER_OTP_EXP, seconds). Default one hour, the Supabase
	// CLI's.
	OTPExpiry time.Duration
}

// ConfigFromEnv returns a Config read from the environment variables a
// Supabase Auth server understands, where they apply: DATABASE_URL,
// GOTRUE_JWT_SECRET, GOTRUE_JWT_EXP (seconds),
// GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL (seconds),
// GOTRUE_MAILER_AUTOCONFIRM, GOTRUE_EXTERNAL_ANONYMOUS_USERS_ENABLED,
// GOTRUE_PASSWORD_MIN_LENGTH, GOTRUE_SITE_URL, GOTRUE_URI_ALLOW_LIST,
// GOTRUE_SECURITY_MANUAL_LINKING_ENABLED,
// GOTRUE_EXTERNAL_FLOW_STATE_EXPIRY_DURATION, GOTRUE_MAILER_OTP_EXP
// (seconds) and API_EXTERNAL_URL; and LOCALSTACK_OAUTH_PROVIDERS and
// LOCALSTACK_SSO_DOMAINS (comma-separated, see Config).
func ConfigFromEnv() (Config, error) {
	var c Config
	c.DatabaseURL = os.Getenv("DATABASE_URL")
	c.JWTSecret = os.Getenv("GOTRUE_JWT_SECRET")
	if v := os.Getenv("API_EXTERNAL_URL"); v != "" {
		c.Issuer = strings.TrimRight(v, "/") + "/auth/v1"
	}
	seconds := func(name string) (time.Duration, bool, error) {
		v := os.Getenv(name)
		if v == "" {
			return 0, false, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, false, fmt.Errorf("localstack: %s=%q: want a number of seconds", name, v)
		}
		return time.Duration(n) * time.Second, true, nil
	}
	d, ok, err := seconds("GOTRUE_JWT_EXP")
	if err != nil {
		return c, err
	}
	if ok {
		c.AccessTokenTTL = d
	}
	d, ok, err = seconds("GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL")
	if err != nil {
		return c, err
	}
	if ok {
		c.RefreshReuseInterval = d
		if d == 0 {
			c.RefreshReuseInterval = -1
		}
	}
	boolean := func(name string) (bool, bool, error) {
		v := os.Getenv(name)
		if v == "" {
			return false, false, nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, false, fmt.Errorf("localstack: %s=%q: want true or false", name, v)
		}
		return b, true, nil
	}
	b, ok, err := boolean("GOTRUE_MAILER_AUTOCONFIRM")
	if err != nil {
		return c, err
	}
	c.RequireEmailConfirmation = ok && !b
	if b, _, err = boolean("GOTRUE_EXTERNAL_ANONYMOUS_USERS_ENABLED"); err != nil {
		return c, err
	}
	c.AllowAnonymousSignIns = b
	c.SiteURL = os.Getenv("GOTRUE_SITE_URL")
	for _, u := range strings.Split(os.Getenv("GOTRUE_URI_ALLOW_LIST"), ",") {
		if u = strings.TrimSpace(u); u != "" {
			c.URIAllowList = append(c.URIAllowList, u)
		}
	}
	for _, p := range strings.Split(os.Getenv("LOCALSTACK_OAUTH_PROVIDERS"), ",") {
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" {
			c.OAuthProviders = append(c.OAuthProviders, p)
		}
	}
	for _, d := range strings.Split(os.Getenv("LOCALSTACK_SSO_DOMAINS"), ",") {
		if d = strings.ToLower(strings.TrimSpace(d)); d != "" {
			c.SSODomains = append(c.SSODomains, d)
		}
	}
	if c.ManualLinking, _, err = boolean("GOTRUE_SECURITY_MANUAL_LINKING_ENABLED"); err != nil {
		return c, err
	}
	if v := os.Getenv("GOTRUE_EXTERNAL_FLOW_STATE_EXPIRY_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return c, fmt.Errorf("localstack: GOTRUE_EXTERNAL_FLOW_STATE_EXPIRY_DURATION=%q: want a duration such as 300s", v)
		}
		c.FlowStateExpiry = d
	}
	if d, ok, err = seconds("GOTRUE_MAILER_OTP_EXP"); err != nil {
		return c, err
	} else if ok && d > 0 {
		c.OTPExpiry = d
	}
	if v := os.Getenv("GOTRUE_PASSWORD_MIN_LENGTH"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return c, fmt.Errorf("localstack: GOTRUE_PASSWORD_MIN_LENGTH=%q: want a positive number", v)
		}
		c.PasswordMinLength = n
	}
	return c, nil
}

func (c Config) withDefaults() (Config, error) {
	if c.DatabaseURL == "" {
		c.DatabaseURL = DefaultDatabaseURL
	}
	if c.JWTSecret == "" {
		c.JWTSecret = DefaultJWTSecret
	}
	if len(c.JWTSecret) < 32 {
		return c, errors.New("localstack: JWT secret must be at least 32 characters")
	}
	if c.AnonKey == "" {
		c.AnonKey = demoKey(c.JWTSecret, "anon")
	}
	if c.ServiceRoleKey == "" {
		c.ServiceRoleKey = demoKey(c.JWTSecret, "service_role")
	}
	if c.Issuer == "" {
		c.Issuer = "http://" + DefaultAddr + "/auth/v1"
	}
	if c.AccessTokenTTL == 0 {
		c.AccessTokenTTL = time.Hour
	}
	if c.AccessTokenTTL < time.Second {
		return c, errors.New("localstack: AccessTokenTTL must be at least one second")
	}
	switch {
	case c.RefreshReuseInterval == 0:
		c.RefreshReuseInterval = 10 * time.Second
	case c.RefreshReuseInterval < 0:
		c.RefreshReuseInterval = 0
	}
	if c.PasswordMinLength == 0 {
		c.PasswordMinLength = 6
	}
	if c.BcryptCost == 0 {
		c.BcryptCost = bcrypt.DefaultCost
	}
	if len(c.Schemas) == 0 {
		c.Schemas = []string{"public", "graphql_public"}
	}
	if c.MaxConns == 0 {
		c.MaxConns = 10
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.FileSizeLimit == 0 {
		c.FileSizeLimit = 50 << 20
	}
	if c.FileSizeLimit < 0 {
		return c, errors.New("localstack: FileSizeLimit must not be negative")
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.SiteURL == "" {
		c.SiteURL = "http://127.0.0.1:3000"
	}
	if c.OAuthProviders == nil {
		c.OAuthProviders = []string{TestOAuthProvider, "github", "google"}
	}
	if c.FlowStateExpiry == 0 {
		c.FlowStateExpiry = 5 * time.Minute
	}
	if c.OTPExpiry == 0 {
		c.OTPExpiry = time.Hour
	}
	return c, nil
}

// Server is a running stack: connection pools and the HTTP handler that
// serves /auth/v1, /rest/v1, /storage/v1 and /functions/v1 from them. It is
// safe for concurrent use.
type Server struct {
	cfg  Config
	pool *pgxpool.Pool // the DATABASE_URL superuser: auth, admin and setup
	rest *pgxpool.Pool // authenticator, as PostgREST connects: /rest/v1, /storage/v1
	mux  *http.ServeMux

	store     *diskStore
	stRoutes  []storageRoute
	functions map[string]http.Handler
	now       func() time.Time

	dummyHash func() []byte // compared when a sign-in names no user with a password
	// compareHash checks a password against its hash (bcrypt's); tests
	// swap it to count comparisons.
	compareHash atomic.Pointer[func(hash, password []byte) error]

	mailMu sync.Mutex
	mail   map[string][]Email // the outbox, by lower-case address
	oidc   func() *oidcKey    // the test OIDC provider's key, made on first use
}

// New connects to cfg.DatabaseURL, applies the stack's schema (roles, the
// auth schema and its functions, default grants) and returns a Server.
// Applying the schema is idempotent and safe to run concurrently from
// several processes against one cluster.
func New(ctx context.Context, cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	pcfg, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("localstack: parse database URL: %w", err)
	}
	pcfg.MaxConns = cfg.MaxConns
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("localstack: connect: %w", err)
	}
	if err := applySchema(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	rest, err := connectAuthenticator(ctx, pool, pcfg.Copy())
	if err != nil {
		pool.Close()
		return nil, err
	}
	store, err := newDiskStore(cfg.StorageDir)
	if err != nil {
		rest.Close()
		pool.Close()
		return nil, err
	}
	s := &Server{cfg: cfg, pool: pool, rest: rest, mux: http.NewServeMux(), store: store, now: cfg.Now,
		functions: builtinFunctions()}
	for name, h := range cfg.Functions {
		if name == "" || strings.Contains(name, "/") || h == nil {
			s.Close()
			return nil, fmt.Errorf("localstack: function %q: want a name without slashes and a handler", name)
		}
		s.functions[name] = h
	}
	s.stRoutes = s.storageRoutes()
	s.dummyHash = sync.OnceValue(func() []byte {
		h, _ := bcrypt.GenerateFromPassword([]byte("no user has this password"), cfg.BcryptCost)
		return h
	})
	cmp := bcrypt.CompareHashAndPassword
	s.compareHash.Store(&cmp)
	s.mail = map[string][]Email{}
	s.oidc = sync.OnceValue(newOIDCKey)
	s.routes()
	return s, nil
}

// Handler returns the HTTP handler serving the API.
func (s *Server) Handler() http.Handler { return s.mux }

// Pool returns the server's connection pool, for tests that look at the
// database directly. Queries on it run as the DATABASE_URL user.
func (s *Server) Pool() *pgxpool.Pool { return s.pool }

// AnonKey returns the project's anon API key.
func (s *Server) AnonKey() string { return s.cfg.AnonKey }

// ServiceRoleKey returns the project's service_role API key.
func (s *Server) ServiceRoleKey() string { return s.cfg.ServiceRoleKey }

// JWTSecret returns the secret the server signs and verifies tokens with.
func (s *Server) JWTSecret() string { return s.cfg.JWTSecret }

// StorageDir returns the directory object bytes are kept in.
func (s *Server) StorageDir() string { return s.store.dir }

// Close closes the connection pools and removes the storage directory if
// New made it. Stop serving requests first.
func (s *Server) Close() {
	s.rest.Close()
	s.pool.Close()
	s.store.close()
}

// connectAuthenticator opens the pool /rest/v1 runs on, logged in as
// authenticator like PostgREST, so that a request can only ever switch to
// the API roles (a function cannot set_config('role', 'postgres')).
// It connects as authenticator with the superuser's password first: that
// is Supabase's convention, and also works under a trust rule. When the
// server asks for a password authenticator does not have, authenticator
// is given one (the superuser's, or else a random one for this process)
// before each new connection.
func connectAuthenticator(ctx context.Context, admin *pgxpool.Pool, pcfg *pgxpool.Config) (*pgxpool.Pool, error) {
	pcfg.ConnConfig.User = "authenticator"
	open := func() (*pgxpool.Pool, error) {
		p, err := pgxpool.NewWithConfig(ctx, pcfg)
		if err == nil {
			if err = p.Ping(ctx); err != nil {
				p.Close()
			}
		}
		return p, err
	}
	p, err := open()
	var pe *pgconn.PgError
	if err == nil || !errors.As(err, &pe) || pe.Code != "28P01" { // invalid_password
		if err != nil {
			return nil, fmt.Errorf("localstack: connect as authenticator: %w", err)
		}
		return p, nil
	}
	if pcfg.ConnConfig.Password == "" {
		pcfg.ConnConfig.Password = processPassword()
	}
	// ALTER ROLE takes no parameters: the server quotes the literal.
	var set string
	if err := admin.QueryRow(ctx, `SELECT format('ALTER ROLE authenticator PASSWORD %L', $1::text)`, pcfg.ConnConfig.Password).Scan(&set); err != nil {
		return nil, err
	}
	pcfg.BeforeConnect = func(ctx context.Context, _ *pgx.ConnConfig) error {
		return retryConcurrent(ctx, func() error {
			_, err := admin.Exec(ctx, set)
			return err
		})
	}
	if p, err = open(); err != nil {
		return nil, fmt.Errorf("localstack: connect as authenticator: %w", err)
	}
	return p, nil
}

// processPassword is authenticator's password when the superuser has none.
var processPassword = sync.OnceValue(func() string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
})

func (s *Server) routes() {
	a := func(pattern string, h http.HandlerFunc) { s.mux.Handle(pattern, s.gateway(h)) }
	a("GET /auth/v1/health", s.health)
	a("GET /auth/v1/settings", s.settings)
	a("GET /auth/v1/.well-known/jwks.json", s.jwks)
	a("POST /auth/v1/signup", s.signup)
	a("POST /auth/v1/token", s.token)
	a("GET /auth/v1/user", s.getUser)
	a("PUT /auth/v1/user", s.updateUser)
	a("POST /auth/v1/logout", s.logout)
	a("POST /auth/v1/otp", s.otp)
	a("POST /auth/v1/magiclink", s.otp)
	a("POST /auth/v1/recover", s.recover)
	a("POST /auth/v1/verify", s.verify)
	a("POST /auth/v1/invite", s.invite)
	a("POST /auth/v1/admin/generate_link", s.generateLink)
	a("GET /auth/v1/user/identities/authorize", s.linkIdentityAuthorize)
	a("DELETE /auth/v1/user/identities/{id}", s.unlinkIdentity)
	a("POST /auth/v1/sso", s.sso)
	// As on Supabase's gateway, the routes a browser is sent to take no
	// API key.
	open := func(pattern string, h http.HandlerFunc) { s.mux.Handle(pattern, s.edge(h, false)) }
	open("GET /auth/v1/verify", s.verify)
	open("GET /auth/v1/authorize", s.authorize)
	open("GET /auth/v1/callback", s.callback)
	open("POST /auth/v1/callback", s.callback)
	// The stack's own test endpoints: the test OAuth/OIDC provider and
	// the outbox.
	open("GET /localstack/oauth/authorize", s.providerAuthorize)
	open("GET /localstack/oidc/.well-known/openid-configuration", s.oidcDiscovery)
	open("GET /localstack/oidc/jwks", s.oidcJWKS)
	open("GET /localstack/mail", s.serveMail)
	open("GET /localstack/sso/saml/login", s.idpLogin)
	open("POST /auth/v1/sso/saml/acs", s.samlACS)
	open("GET /auth/v1/sso/saml/acs", s.samlACS)
	a("GET /auth/v1/admin/users", s.adminListUsers)
	a("POST /auth/v1/admin/users", s.adminCreateUser)
	a("GET /auth/v1/admin/users/{id}", s.adminGetUser)
	a("PUT /auth/v1/admin/users/{id}", s.adminUpdateUser)
	a("DELETE /auth/v1/admin/users/{id}", s.adminDeleteUser)
	a("GET /auth/v1/admin/users/{id}/factors", s.adminListFactors)
	a("DELETE /auth/v1/admin/users/{id}/factors/{factor_id}", s.adminDeleteFactor)
	a("/auth/v1/", s.authNotFound)
	a("/rest/v1/rpc/{fn}", s.rpc)
	a("/rest/v1/{table}", s.table)
	a("/rest/v1/", s.restRoot)
	// Supabase's gateway asks no API key of Storage and Functions: they
	// read the caller's JWT themselves.
	s.mux.Handle("/storage/v1/", s.edge(s.serveStorage, false))
	s.mux.Handle("/functions/v1/", s.edge(s.serveFunctions, false))
}

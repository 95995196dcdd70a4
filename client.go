package supabase

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Version is this library's version, sent in the X-Client-Info header.
const Version = "0.1.0"

const clientInfo = "supabase-go/" + Version

// Client talks to one Supabase project: Auth through Client.Auth, tables and
// functions through From, RPC and Schema.
//
// A Client is safe for concurrent use by many goroutines. Its configuration
// never changes after NewClient; credentials are read from the current
// session when each request is sent. Derived clients (WithAccessToken,
// WithSession, Schema) are cheap, share the HTTP client and configuration,
// and never change their parent.
type Client struct {
	// Auth signs users in and out and holds this client's session.
	Auth *AuthClient

	core   *core
	tokens tokenSource
	schema string
	// err is a sticky error from deriving this client (an invalid schema or
	// token); every query built from it returns it before any I/O.
	err error
}

// core is the immutable state shared by a client and everything derived from it.
type core struct {
	baseURL    string // project URL without trailing slash
	restURL    string
	authURL    string
	key        string
	httpClient *http.Client
	headers    http.Header // WithHeaders, canonical names
	logger     *slog.Logger
	retry      RetryPolicy
	session    sessionConfig
}

// Option configures a Client. Options validate their input: NewClient
// returns the first option error.
type Option func(*options) error

type options struct {
	httpClient *http.Client
	headers    http.Header
	schema     string
	store      SessionStore
	logger     *slog.Logger
	tokenFunc  func(context.Context) (string, error)
	retry      RetryPolicy
	session    sessionConfig
}

// WithHTTPClient makes the client send every request through hc. hc is never
// modified. The default waits at most 30 s for response headers (the rest of
// a request is bounded by its ctx, so streamed results are not cut off) and
// keeps up to 64 idle connections per host.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) error {
		if hc == nil {
			return invalidArg("WithHTTPClient: nil *http.Client")
		}
		o.httpClient = hc
		return nil
	}
}

// WithHeaders adds headers to every request (REST and Auth). A global
// Authorization or apikey header replaces the client's own, as in supabase-js.
func WithHeaders(h map[string]string) Option {
	return func(o *options) error {
		for k, v := range h {
			if !validHeaderName(k) {
				return invalidArg("WithHeaders: invalid header name %q", k)
			}
			if !validHeaderValue(v) {
				return invalidArg("WithHeaders: header %q has a control character in its value", k)
			}
			o.headers.Set(k, v)
		}
		return nil
	}
}

// WithSchema sets the default Postgres schema for From and RPC (default "public").
func WithSchema(schema string) Option {
	return func(o *options) error {
		if err := checkSchema(schema); err != nil {
			return invalidArg("WithSchema: %v", err)
		}
		o.schema = schema
		return nil
	}
}

// WithSessionStore makes the client load its session from s at start-up and
// save every session change to it. The default keeps the session in memory.
func WithSessionStore(s SessionStore) Option {
	return func(o *options) error {
		if s == nil {
			return invalidArg("WithSessionStore: nil store")
		}
		o.store = s
		return nil
	}
}

// WithLogger sends debug logs (method, path, status, refresh events; never
// tokens or keys) to l. The default discards them.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return invalidArg("WithLogger: nil logger")
		}
		o.logger = l
		return nil
	}
}

// WithAccessTokenFunc uses f's token as the bearer on every request, for
// third-party auth (Clerk, Auth0, Firebase, ...). f is called per request and
// should cache. Client.Auth cannot sign in on such a client: its calls that
// need a session return an error.
func WithAccessTokenFunc(f func(ctx context.Context) (string, error)) Option {
	return func(o *options) error {
		if f == nil {
			return invalidArg("WithAccessTokenFunc: nil func")
		}
		o.tokenFunc = f
		return nil
	}
}

// RetryPolicy says how idempotent REST requests (GET and HEAD, and writes
// that opt in with Query.Retry) are retried after network errors and 503 or
// 520 answers.
type RetryPolicy struct {
	MaxRetries int           // 0 disables retries (the default policy has 3)
	BaseDelay  time.Duration // first backoff, doubled each time; 0 means 1 s
	MaxDelay   time.Duration // backoff cap; 0 means 30 s
}

// WithRetryPolicy replaces the default retry policy (3 retries, 1 s doubling
// up to 30 s, each wait shortened by a random jitter of up to a quarter). A
// server's Retry-After takes precedence over the backoff; a Retry-After
// longer than MaxDelay is not waited for: the error is returned at once with
// Error.RetryAfter set.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(o *options) error {
		if p.MaxRetries < 0 || p.BaseDelay < 0 || p.MaxDelay < 0 {
			return invalidArg("WithRetryPolicy: negative value")
		}
		if p.BaseDelay == 0 {
			p.BaseDelay = time.Second
		}
		if p.MaxDelay == 0 {
			p.MaxDelay = 30 * time.Second
		}
		o.retry = p
		return nil
	}
}

func defaultHTTPClient() *http.Client {
	// http.DefaultTransport may have been replaced (httpmock.Activate does
	// so); never assume its type.
	t := &http.Transport{Proxy: http.ProxyFromEnvironment, ForceAttemptHTTP2: true,
		TLSHandshakeTimeout: 10 * time.Second, IdleConnTimeout: 90 * time.Second,
		ExpectContinueTimeout: time.Second}
	if dt, ok := http.DefaultTransport.(*http.Transport); ok {
		t = dt.Clone()
	}
	t.MaxIdleConnsPerHost = 64
	t.MaxIdleConns = 256
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	// No Client.Timeout: it would also cut off a long streamed body (Rows).
	// Waiting for the response headers is bounded here; everything else
	// ends with the caller's ctx.
	t.ResponseHeaderTimeout = 30 * time.Second
	return &http.Client{Transport: t}
}

// NewClient returns a client for the project at projectURL (for example
// https://<ref>.supabase.co or http://127.0.0.1:54321; a path prefix is
// kept) using the anon or publishable key.
func NewClient(projectURL, key string, opts ...Option) (*Client, error) {
	base, err := parseProjectURL(projectURL)
	if err != nil {
		return nil, err
	}
	if err := checkNotAPIURL(base); err != nil {
		return nil, err
	}
	if strings.TrimSpace(key) == "" {
		return nil, invalidArg("empty API key (use the project's anon or publishable key)")
	}
	if strings.ContainsAny(key, " \t\r\n") {
		return nil, invalidArg("API key contains whitespace")
	}
	o := options{
		headers: http.Header{},
		schema:  "public",
		retry:   RetryPolicy{MaxRetries: 3, BaseDelay: time.Second, MaxDelay: 30 * time.Second},
		session: defaultSessionConfig(),
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if o.httpClient == nil {
		o.httpClient = defaultHTTPClient()
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	if o.store == nil {
		o.store = NewMemoryStore()
	}
	co := &core{
		baseURL:    base,
		restURL:    base + "/rest/v1",
		authURL:    base + "/auth/v1",
		key:        key,
		httpClient: o.httpClient,
		headers:    o.headers,
		logger:     o.logger,
		retry:      o.retry,
		session:    o.session,
	}
	c := &Client{core: co, schema: o.schema}
	if o.tokenFunc != nil {
		c.Auth = newAuthClient(co, nil, false)
		c.tokens = funcTokenSource(o.tokenFunc)
	} else {
		c.Auth = newAuthClient(co, o.store, true)
		c.tokens = c.Auth
	}
	return c, nil
}

// Environment variables read by NewClientFromEnv.
const (
	EnvURL            = "SUPABASE_URL"
	EnvAnonKey        = "SUPABASE_ANON_KEY"
	EnvPublishableKey = "SUPABASE_PUBLISHABLE_KEY"
	EnvKey            = "SUPABASE_KEY"
)

// NewClientFromEnv is NewClient with the URL from SUPABASE_URL and the key
// from SUPABASE_ANON_KEY, SUPABASE_PUBLISHABLE_KEY or SUPABASE_KEY (the first
// one set).
func NewClientFromEnv(opts ...Option) (*Client, error) {
	u := os.Getenv(EnvURL)
	if u == "" {
		return nil, invalidArg("environment variable %s is not set", EnvURL)
	}
	var key string
	for _, name := range []string{EnvAnonKey, EnvPublishableKey, EnvKey} {
		if key = os.Getenv(name); key != "" {
			break
		}
	}
	if key == "" {
		return nil, invalidArg("environment variable %s is not set (%s or %s also work)",
			EnvAnonKey, EnvPublishableKey, EnvKey)
	}
	return NewClient(u, key, opts...)
}

func parseProjectURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", invalidArg("empty project URL")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the input, which may hold credentials.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", invalidArg("invalid project URL: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", invalidArg("project URL must start with http:// or https://, got %q", u.Redacted())
	}
	if u.Host == "" || u.Hostname() == "" {
		return "", invalidArg("project URL %q has no host", u.Redacted())
	}
	if u.User != nil {
		return "", invalidArg("project URL must not contain credentials")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", invalidArg("project URL %q must not have a query or fragment", u.Redacted())
	}
	return strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"), nil
}

// URL returns the project URL the client was built with, without a trailing
// slash ("" for a nil or zero Client).
func (c *Client) URL() string {
	if c == nil || c.core == nil {
		return ""
	}
	return c.core.baseURL
}

// errNoClient is the sticky error of clients derived from a nil or zero Client.
var errNoClient = invalidArg("use a Client from NewClient or NewClientFromEnv")

// derive returns a shallow copy sharing core; a nil or zero c yields a
// client whose queries fail with errNoClient.
func (c *Client) derive() *Client {
	if c == nil || c.core == nil {
		return &Client{err: errNoClient, Auth: &AuthClient{disabled: true}}
	}
	d := *c
	return &d
}

// WithAccessToken returns a client that sends jwt as the bearer on every
// request, for a backend acting for one end user. It shares the HTTP client
// and configuration with c and never refreshes; c is untouched. It never
// falls back to the project key: an empty jwt makes its queries fail with
// ErrInvalidArgument.
func (c *Client) WithAccessToken(jwt string) *Client {
	d := c.derive()
	if d.core == nil {
		return d
	}
	if strings.TrimSpace(jwt) == "" || !validHeaderValue(jwt) {
		d.err = invalidArg("WithAccessToken: empty or malformed token")
	}
	d.Auth = newAuthClient(c.core, nil, true)
	d.Auth.userOnly = true
	d.Auth.sessions.setInitial(&Session{AccessToken: jwt, TokenType: "bearer", ExpiresAt: expiryOf(jwt)})
	d.Auth.sessions.noRefresh = true
	d.tokens = d.Auth
	return d
}

// WithSession returns a client signed in with s (refreshing it as needed,
// kept in memory), sharing the HTTP client and configuration with c. It
// never falls back to the project key: once s is gone its requests fail,
// with an error matching ErrSessionMissing after SignOut, ErrSessionExpired
// once the session ended (refresh token refused after expiry). A nil s, or
// one whose access token cannot be sent as a bearer token, makes its
// queries fail with ErrInvalidArgument.
func (c *Client) WithSession(s *Session) *Client {
	d := c.derive()
	if d.core == nil {
		return d
	}
	d.Auth = newAuthClient(c.core, NewMemoryStore(), true)
	d.Auth.userOnly = true
	switch {
	case s == nil || s.AccessToken == "":
		d.err = invalidArg("WithSession: nil session or empty access token")
	case !validAccessToken(s.AccessToken):
		d.err = invalidArg("WithSession: the access token cannot be sent as a bearer token (control character or space)")
	default:
		d.Auth.sessions.setInitial(d.Auth.sessions.withExpiry(s))
	}
	d.tokens = d.Auth
	return d
}

// Schema returns a client whose From and RPC use the Postgres schema name
// (sent as Accept-Profile/Content-Profile). Auth and session are shared with
// c. An empty or malformed name makes its queries fail with
// ErrInvalidArgument.
func (c *Client) Schema(name string) *Client {
	d := c.derive()
	if err := checkSchema(name); err != nil && d.err == nil {
		d.err = invalidArg("Schema: %v", err)
	}
	d.schema = name
	return d
}

func checkSchema(name string) error {
	if strings.TrimSpace(name) == "" {
		return errors.New("empty schema name")
	}
	if !validHeaderValue(name) {
		return errors.New("schema name has a control character")
	}
	return nil
}

// validHeaderName reports whether name is an HTTP token (RFC 9110).
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		b := name[i]
		if b <= ' ' || b >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", b) >= 0 {
			return false
		}
	}
	return true
}

// validHeaderValue reports whether v has no control characters (other than
// tab), which net/http would refuse to send.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if b := v[i]; (b < ' ' && b != '\t') || b == 0x7f {
			return false
		}
	}
	return true
}

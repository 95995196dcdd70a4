package supabase

import (
	"context"
	"errors"
	"fmt"
	"io"
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

// Client talks to one Supabase project: Auth through [Client.Auth], tables
// and functions through [Client.From], [Client.RPC] and [Client.Schema],
// files through [Client.Storage] and Edge Functions through
// [Client.Functions].
//
// A Client is safe for concurrent use by many goroutines. Its configuration
// never changes after [NewClient]; credentials are read from the current
// session when each request is sent. Derived clients
// ([Client.WithAccessToken], [Client.WithSession], [Client.Schema]) are
// cheap, share the HTTP client and configuration, and never change their
// parent.
type Client struct {
	// Auth signs users in and out and holds this client's session.
	Auth *AuthClient
	// Storage manages buckets and files as this client's user.
	Storage *StorageClient
	// Functions invokes Edge Functions as this client's user.
	Functions *FunctionsClient

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
	flow       FlowType
	// maxResponse and maxRow bound what is read of a 2xx body: whole
	// (buffered results, Auth answers) and per row ([Rows]).
	maxResponse int64
	maxRow      int64
	// codec decodes PostgREST rows ([WithJSONCodec]).
	codec JSONCodec
}

// Option configures a Client. Options validate their input: [NewClient]
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
	flow       FlowType
	// 0: the default
	maxResponse int64
	maxRow      int64
	codec       JSONCodec
}

// WithHTTPClient makes the client send every request through hc. hc is never
// modified. The default waits at most 30 s for response headers (the rest of
// a request is bounded by its ctx, so streamed results are not cut off) and
// keeps up to 64 idle connections per host. An attempt that times out, with
// either client, is not retried.
//
// Redirects are never followed, whatever hc's CheckRedirect says: requests
// go through a copy of hc (same Transport, Jar and Timeout) that returns a
// 3xx answer as it is, and the call fails with [ErrRedirect].
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
// should cache. [Client.Auth] cannot sign in on such a client: its calls that
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

// FlowType says how a sign-in that leaves the application (OAuth, SSO,
// email links) comes back to it: supabase-js's flowType option.
type FlowType string

// Flow types.
const (
	// FlowImplicit: the redirect carries the session in its URL fragment,
	// for the page there to hand to [AuthClient.SetSession] (supabase-js
	// 'implicit', the default).
	FlowImplicit FlowType = "implicit"
	// FlowPKCE: the redirect carries a one-time code (?code=...) that
	// [AuthClient.ExchangeCodeForSession] trades for the session together
	// with the code verifier this client kept when the flow started
	// (supabase-js 'pkce'). The code alone is useless to whoever intercepts
	// it. See [CodeVerifierStore] for where the verifier is kept.
	FlowPKCE FlowType = "pkce"
)

// WithFlowType chooses the flow of the sign-ins that leave the application
// (default [FlowImplicit]). With [FlowPKCE], [AuthClient.SignUp],
// [AuthClient.SignInWithOTP], [AuthClient.Resend] and
// [AuthClient.ResetPasswordForEmail] (for an email), [AuthClient.UpdateUser]
// (changing the email), [AuthClient.SignInWithOAuthURL],
// [AuthClient.SignInWithSSO] and [AuthClient.LinkIdentityURL] each start a
// flow: they keep a new code verifier and send its S256 challenge; the link
// or redirect then brings a code for [AuthClient.ExchangeCodeForSession].
// supabase-js: createClient's auth.flowType.
func WithFlowType(f FlowType) Option {
	return func(o *options) error {
		switch f {
		case FlowImplicit, FlowPKCE:
			o.flow = f
			return nil
		}
		return invalidArg("WithFlowType: unknown flow type %q (use FlowImplicit or FlowPKCE)", f)
	}
}

// RetryPolicy says how idempotent REST requests (GET and HEAD, and writes
// that opt in with [Query.Retry]) are retried after network errors and 503
// or 520 answers.
type RetryPolicy struct {
	MaxRetries int           // 0 disables retries (the default policy has 3)
	BaseDelay  time.Duration // first backoff, doubled each time; 0 means 1 s
	MaxDelay   time.Duration // backoff cap; 0 means 30 s
}

// WithRetryPolicy replaces the default retry policy (3 retries, 1 s doubling
// up to 30 s, each wait shortened by a random jitter of up to a quarter). A
// server's Retry-After takes precedence over the backoff; a Retry-After
// longer than [RetryPolicy.MaxDelay] is not waited for: the error is
// returned at once with [Error.RetryAfter] set.
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

// Default body limits; see [WithMaxResponseSize] and [WithMaxRowSize].
const (
	defaultMaxResponseSize = 256 << 20
	defaultMaxRowSize      = 16 << 20
)

// WithMaxResponseSize bounds the 2xx bodies the client reads whole: the
// results of [Query.Execute], [All], [One] and [MaybeOne], and every Auth
// answer (default 256 MiB). A larger body is refused with an error matching
// [ErrResponseTooLarge]: at once when its Content-Length says so, else once
// n bytes have been read. [Rows] is bounded per row instead, by
// [WithMaxRowSize].
func WithMaxResponseSize(n int64) Option {
	return func(o *options) error {
		if n <= 0 {
			return invalidArg("WithMaxResponseSize: the limit must be positive")
		}
		o.maxResponse = n
		return nil
	}
}

// WithMaxRowSize bounds each row (or the single object) that [Rows] decodes
// (default 16 MiB): reading stops once a row grows past n bytes and Rows
// yields an error matching [ErrResponseTooLarge], so an endless row never
// fills memory.
func WithMaxRowSize(n int64) Option {
	return func(o *options) error {
		if n <= 0 {
			return invalidArg("WithMaxRowSize: the limit must be positive")
		}
		o.maxRow = n
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
	if strings.HasPrefix(key, "http://") || strings.HasPrefix(key, "https://") {
		return nil, invalidArg("the API key looks like a URL: are the URL and key arguments swapped?")
	}
	o := options{
		headers: http.Header{},
		schema:  "public",
		retry:   RetryPolicy{MaxRetries: 3, BaseDelay: time.Second, MaxDelay: 30 * time.Second},
		session: defaultSessionConfig(),
		flow:    FlowImplicit,
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
		flow:       o.flow,
		codec:      o.codec,
	}
	if co.codec == nil {
		co.codec = DefaultJSON{}
	}
	// Redirects are refused on a copy, leaving the caller's client as it is.
	co.httpClient = refuseRedirects(o.httpClient)
	co.maxResponse, co.maxRow = defaultMaxResponseSize, defaultMaxRowSize
	if o.maxResponse > 0 {
		co.maxResponse = o.maxResponse
	}
	if o.maxRow > 0 {
		co.maxRow = o.maxRow
	}
	c := &Client{core: co, schema: o.schema}
	if o.tokenFunc != nil {
		c.Auth = newAuthClient(co, nil, false)
		c.tokens = funcTokenSource(o.tokenFunc)
	} else {
		c.Auth = newAuthClient(co, o.store, true)
		c.tokens = c.Auth
	}
	c.attachServices()
	return c, nil
}

// attachServices gives c its own Storage and Functions clients; they read
// c's credentials and sticky error when each request is sent.
func (c *Client) attachServices() {
	c.Storage, c.Functions = &StorageClient{c: c}, &FunctionsClient{c: c}
}

// Environment variables read by [NewClientFromEnv].
const (
	EnvURL            = "SUPABASE_URL"
	EnvAnonKey        = "SUPABASE_ANON_KEY"
	EnvPublishableKey = "SUPABASE_PUBLISHABLE_KEY"
	EnvKey            = "SUPABASE_KEY"
)

// NewClientFromEnv is [NewClient] with the URL from SUPABASE_URL and the key
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

// parseProjectURL checks the project URL. Its errors describe the problem
// without quoting the argument: when the URL and key arguments are
// swapped, the argument is the key.
func parseProjectURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", invalidArg("empty project URL")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", invalidArg("project URL does not parse as a URL%s", swappedHint(raw))
	case u.Scheme == "":
		return "", invalidArg("project URL must start with http:// or https:// (it has no scheme)%s", swappedHint(raw))
	case u.Scheme != "http" && u.Scheme != "https":
		return "", invalidArg("project URL must start with http:// or https://")
	case u.Host == "" || u.Hostname() == "":
		return "", invalidArg("project URL has no host")
	case u.User != nil:
		return "", invalidArg("project URL must not contain credentials")
	case u.RawQuery != "" || u.Fragment != "":
		return "", invalidArg("project URL must not have a query or fragment")
	}
	return strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"), nil
}

// swappedHint says when a project URL looks like an API key: a JWT (legacy
// anon and service_role keys) or an sb_publishable_/sb_secret_ key.
func swappedHint(raw string) string {
	if strings.HasPrefix(raw, "eyJ") || strings.HasPrefix(raw, "sb_") {
		return "; it looks like an API key: are the URL and key arguments swapped?"
	}
	return ""
}

// String describes c without secrets: its project URL, schema and who its
// requests run as, for example
// "supabase.Client{url: https://ref.supabase.co, schema: public, user: signed in as 6a1d…}".
// It reads only immutable and atomically loaded state, so printing a client
// never races with a refresh.
func (c *Client) String() string {
	if c == nil {
		return "<nil>"
	}
	if c.core == nil {
		return "supabase.Client{not made by NewClient}"
	}
	s := "supabase.Client{url: " + c.core.baseURL + ", schema: " + c.schema + ", user: " + c.Auth.who()
	if c.err != nil {
		s += ", err: " + c.err.Error()
	}
	return s + "}"
}

// Format makes every fmt verb (%v, %+v, %#v, %s) print String. Its receiver
// is a value so that a dereferenced Client prints the same: fmt would
// otherwise walk its fields and, with a verb such as %s, print what its
// unexported pointers point to. fmt prints a nil *Client as <nil>.
func (c Client) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, (&c).String()) }

// LogValue makes slog log what String shows.
func (c *Client) LogValue() slog.Value {
	if c == nil || c.core == nil {
		return slog.StringValue(c.String())
	}
	attrs := []slog.Attr{slog.String("url", c.core.baseURL), slog.String("schema", c.schema), slog.String("user", c.Auth.who())}
	if c.err != nil {
		attrs = append(attrs, slog.String("err", c.err.Error()))
	}
	return slog.GroupValue(attrs...)
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
		d := &Client{err: errNoClient, Auth: &AuthClient{disabled: true}}
		d.attachServices()
		return d
	}
	d := *c
	d.attachServices()
	return &d
}

// WithAccessToken returns a client that sends jwt as the bearer on every
// request, for a backend acting for one end user. It shares the HTTP client
// and configuration with c and never refreshes; c is untouched. It never
// falls back to the project key: an empty jwt makes its queries fail with
// [ErrInvalidArgument].
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
// with an error matching [ErrSessionMissing] after [AuthClient.SignOut],
// [ErrSessionExpired] once the session ended (refresh token refused after
// expiry). A nil s, or one whose access token cannot be sent as a bearer
// token, makes its queries fail with [ErrInvalidArgument].
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

// Schema returns a client whose [Client.From] and [Client.RPC] use the
// Postgres schema name (sent as Accept-Profile/Content-Profile). Auth and
// session are shared with c. An empty or malformed name makes its queries
// fail with [ErrInvalidArgument].
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

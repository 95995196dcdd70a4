// Package supabase is a client for Supabase: it signs users in with
// Supabase Auth and reads and writes Postgres tables through PostgREST as
// those users, so Row Level Security policies see who is asking.
//
//	c, err := supabase.NewClient("https://<ref>.supabase.co", anonKey)
//	sess, err := c.Auth.SignInWithPassword(ctx, "ada@example.com", password)
//	todos, err := supabase.All[Todo](ctx, c.From("todos").Select("id,title").Eq("done", false))
//
// # Authentication
//
// Client.Auth (an *AuthClient) signs users up, in and out, and holds the
// session. Every request carries the project key as apikey and
// "Authorization: Bearer <token>", where the token is read when the request
// is sent: the signed-in user's access token, or the project key when nobody
// is signed in. A query built before sign-in and run after it runs as the user.
//
// Options shared by several Auth calls are trailing AuthOption arguments on
// every call that takes them: WithCaptchaToken and WithRedirectTo. An option
// a call does not take is an error matching ErrInvalidArgument.
//
// # Sessions and refresh
//
// Reading the session takes no lock. When less than 90 s remain (see
// WithRefreshMargin) the session is refreshed first; concurrent callers
// share one refresh request, which is never cancelled by one caller giving
// up, and the rotated session is saved to the SessionStore before anyone
// uses it. A request answered 401 for an expired JWT triggers one shared
// refresh and one replay. AuthClient.StartAutoRefresh refreshes in the
// background. Persist sessions with WithSessionStore (NewFileStore for
// scripts and CLIs).
//
// # Row Level Security
//
// PostgREST switches to the role in the JWT (anon or authenticated) and
// exposes its claims to SQL, so policies such as
// "using (user_id = auth.uid())" see the signed-in user. Signed out means
// anon. A backend serving many users derives a cheap client per request with
// Client.WithAccessToken.
//
// # Errors
//
// Every error from Supabase is an *Error carrying the HTTP status and the
// service's code, message, details and hint. Match categories with
// errors.Is: ErrNotFound, ErrTooManyRows, ErrUnauthorized,
// ErrPermissionDenied, ErrConflict, ErrInvalidCredentials,
// ErrSessionMissing, ErrSessionExpired, ErrWeakPassword, ErrRateLimited,
// ErrJWTExpired, ErrInvalidQuery, ErrInvalidArgument. Transport errors are wrapped, so
// errors.Is(err, context.DeadlineExceeded) works. No error or log line
// contains a token, key or password, and no value of this package prints
// one (fmt, slog): each type holding a secret prints itself without it.
// encoding/json writes the types Auth returns (Session, AuthResponse, ...)
// in full, for storage and for a frontend; see Session.
//
// # Concurrency
//
// A Client, its AuthClient and Query values are safe for concurrent use.
// Queries are immutable: each method returns a new Query, so a base query
// can be shared and extended by many goroutines. Sessions handed out are
// never modified.
//
// # Testing
//
// Query.Preview shows the request a query would send without sending it.
// WithHTTPClient accepts any *http.Client, for example one whose transport
// is an httptest server or httpmock.
package supabase

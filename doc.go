// Package supabase is a client for Supabase: it signs users in with
// Supabase Auth and reads and writes Postgres tables through PostgREST,
// Storage files and Edge Functions as those users, so Row Level Security
// policies see who is asking.
//
//	c, err := supabase.NewClient("https://<ref>.supabase.co", anonKey)
//	sess, err := c.Auth.SignInWithPassword(ctx, "ada@example.com", password)
//	todos, err := supabase.All[Todo](ctx, c.From("todos").Select("id,title").Eq("done", false))
//
// A [Client] made by [NewClient] holds the session in [Client.Auth], builds
// queries with [Client.From] and [Client.RPC] (run with [All], [One],
// [MaybeOne], [Page], [Rows] or [Query.Execute]), and reaches Storage
// through [Client.Storage] and Edge Functions through [Client.Functions].
//
// # Authentication
//
// [Client.Auth] (an [AuthClient]) signs users up, in and out, and holds the
// session. Every request carries the project key as apikey and
// "Authorization: Bearer <token>", where the token is read when the request
// is sent: the signed-in user's access token, or the project key when nobody
// is signed in. A query built before sign-in and run after it runs as the
// user.
//
// Options shared by several Auth calls are trailing [AuthOption] arguments
// on every call that takes them: [WithCaptchaToken] and [WithRedirectTo]. An
// option a call does not take is an error matching [ErrInvalidArgument].
//
// Sign-ins that leave the application (OAuth, SSO, email links) use the
// implicit flow unless [WithFlowType] chooses [FlowPKCE]: then the client
// keeps a code verifier (in the [SessionStore] when it is a
// [CodeVerifierStore], as [FileStore] is, so a CLI may exit in between) and
// the redirect or link brings a code that
// [AuthClient.ExchangeCodeForSession] trades for the session.
//
// # Sessions and refresh
//
// Reading the session takes no lock. When less than 90 s remain (see
// [WithRefreshMargin]) the session is refreshed first; concurrent callers
// share one refresh request, which is never cancelled by one caller giving
// up, and the rotated session is saved to the [SessionStore] before anyone
// uses it. A request answered 401 for an expired JWT triggers one shared
// refresh and one replay. [AuthClient.StartAutoRefresh] refreshes in the
// background. Persist sessions with [WithSessionStore] ([NewFileStore] for
// scripts and CLIs).
//
// A session that ends without [AuthClient.SignOut] (its refresh token
// refused or spent after the access token expired, or the session ended by
// Auth) is lost, not quietly dropped: every call needing it, queries
// included, fails with an error matching [ErrSessionExpired] until the next
// sign-in or SignOut, instead of going on as anon.
//
// # Row Level Security
//
// PostgREST switches to the role in the JWT (anon or authenticated) and
// exposes its claims to SQL, so policies such as
// "using (user_id = auth.uid())" see the signed-in user. Signed out means
// anon. Storage policies and Edge Functions see the same token.
//
// # Servers
//
// A server must not sign its users in through one shared client: its
// session would be the last user's. It derives cheap clients from a base
// client instead: [Client.WithAccessToken] for a token a caller sent,
// [Client.WithSession], or [Client.WithEmptySession] to sign one user in
// with a session of its own. These never fall back to the project key
// (which may be a service_role key): without the user's token a query
// fails instead of running as anon (with [ErrSessionMissing] on a client
// from WithEmptySession, until its user signs in).
//
// A [Verifier] ([NewVerifier]) checks access tokens locally, without a
// request per token. [Client.Middleware] verifies the bearer token of every
// request and puts the caller's claims and client in its context
// ([ClaimsFromContext], [ClientFromContext]).
//
// # Storage and Edge Functions
//
// [Client.Storage] (a [StorageClient]) manages buckets and, through
// [StorageClient.From], the files of one ([BucketHandle]): uploads and
// downloads are streamed, and signed URLs let others download or upload one
// object. [Client.Functions] (a [FunctionsClient]) invokes Edge Functions
// ([FunctionsClient.Invoke], [InvokeJSON]).
//
// # Errors
//
// Every error from Supabase is an *[Error] carrying the HTTP status and the
// service's code, message, details and hint. Match categories with
// [errors.Is]: [ErrNotFound], [ErrTooManyRows], [ErrUnauthorized],
// [ErrPermissionDenied], [ErrConflict], [ErrInvalidCredentials],
// [ErrSessionMissing], [ErrSessionExpired], [ErrWeakPassword],
// [ErrRateLimited], [ErrJWTExpired], [ErrInvalidQuery],
// [ErrInvalidArgument], and the others declared here. Transport errors are
// wrapped, so errors.Is(err, context.DeadlineExceeded) works.
//
// # Secrets
//
// No error or log line contains a token, key or password, and no value of
// this package prints one with [fmt] (every verb) or [log/slog] (text and
// JSON handlers): each type holding a secret prints itself without it. The
// types Auth returns ([Session], [AuthResponse], ...) are wire types:
// [encoding/json] writes them in full, tokens included, for a
// [SessionStore] or a frontend; see [Session].
//
// # Limits
//
// Redirects are never followed, so the key or a token never reaches another
// host: a 3xx answer is an error matching [ErrRedirect]. A 2xx body read
// whole is bounded by [WithMaxResponseSize] (256 MiB by default) and each
// row streamed by [Rows] by [WithMaxRowSize] (16 MiB); past them the error
// matches [ErrResponseTooLarge]. The default HTTP client waits at most 30 s
// for response headers; the rest of a call is bounded by its ctx.
//
// # Concurrency
//
// A [Client], its [AuthClient] and [Query] values are safe for concurrent
// use. Queries are immutable: each method returns a new Query, so a base
// query can be shared and extended by many goroutines. Sessions handed out
// are never modified. A derived client's session changes only through its
// own Auth, never its parent's.
//
// # Testing
//
// [Query.Preview] shows the request a query would send without sending it.
// [WithHTTPClient] accepts any *[http.Client], for example one whose
// transport is an httptest server or httpmock.
package supabase

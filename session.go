package supabase

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// sessionConfig holds the refresh timings. Defaults follow supabase-js.
type sessionConfig struct {
	refreshMargin     time.Duration // refresh on read when less than this remains
	leeway            time.Duration // extra margin for clock skew
	autoRefreshTick   time.Duration
	autoRefreshMargin time.Duration
	retryBase         time.Duration // first backoff of a failing refresh
	retryWindow       time.Duration // total time a refresh keeps retrying
	failCooldown      time.Duration // a failed refresh token is not retried sooner
	rotatedTTL        time.Duration // how long an exchanged refresh token maps to its successor
	refreshTimeout    time.Duration // bound on one detached refresh flight

	// shared is the refresh state of a client and every client derived
	// from it (they share one core): one exchange in flight per refresh
	// token, failed and already exchanged tokens, and the server clock skew.
	shared *refreshShared
}

func defaultSessionConfig() sessionConfig {
	return sessionConfig{
		refreshMargin:     90 * time.Second,
		autoRefreshTick:   30 * time.Second,
		autoRefreshMargin: 120 * time.Second,
		retryBase:         200 * time.Millisecond,
		retryWindow:       30 * time.Second,
		failCooldown:      60 * time.Second,
		rotatedTTL:        60 * time.Second,
		refreshTimeout:    60 * time.Second,
		shared:            newRefreshShared(),
	}
}

// WithRefreshMargin sets how long before expiry a session is refreshed when
// it is read (default 90 s). For sessions whose whole lifetime is shorter
// than twice the margin, half the lifetime is used instead, so that a fresh
// session is never refreshed right away.
func WithRefreshMargin(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return invalidArg("WithRefreshMargin: negative duration")
		}
		o.session.refreshMargin = d
		return nil
	}
}

// WithClockLeeway adds d to every expiry margin, for hosts whose clock may
// run behind the server's (default 0). A clock more than 2 s off the
// server's, ahead or behind, is detected from the Date header of Auth
// responses and corrected automatically.
func WithClockLeeway(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return invalidArg("WithClockLeeway: negative duration")
		}
		o.session.leeway = d
		return nil
	}
}

// AuthChangeEvent names a change of the auth state.
type AuthChangeEvent string

// Auth state events, as supabase-js names them.
const (
	EventInitialSession       AuthChangeEvent = "INITIAL_SESSION"
	EventSignedIn             AuthChangeEvent = "SIGNED_IN"
	EventSignedOut            AuthChangeEvent = "SIGNED_OUT"
	EventTokenRefreshed       AuthChangeEvent = "TOKEN_REFRESHED"
	EventUserUpdated          AuthChangeEvent = "USER_UPDATED"
	EventPasswordRecovery     AuthChangeEvent = "PASSWORD_RECOVERY"
	EventMFAChallengeVerified AuthChangeEvent = "MFA_CHALLENGE_VERIFIED"
)

// sessionManager owns one client's session: lock-free reads, one refresh in
// flight per refresh token, every change saved to the store before anyone
// sees it.
type sessionManager struct {
	co        *core
	store     SessionStore // nil: not persisted
	noRefresh bool         // WithAccessToken: a bare token, never refreshed
	log       *slog.Logger
	shared    *refreshShared

	cur atomic.Pointer[Session]
	// gen changes on every sign-in and sign-out; a refresh started under an
	// older generation is discarded.
	gen atomic.Uint64
	// rejected is the access token a server last rejected as expired or
	// invalid although its expiry said otherwise.
	rejected atomic.Pointer[string]
	loaded   atomic.Bool

	flights flightGroup // this client's refreshes, keyed by refresh token

	mu sync.Mutex // serialises changes, store writes and event order

	events eventBus

	autoMu     sync.Mutex
	autoCancel context.CancelFunc
	autoDone   chan struct{}
}

func newSessionManager(co *core, store SessionStore) *sessionManager {
	sh := co.session.shared
	if sh == nil {
		sh = newRefreshShared()
	}
	m := &sessionManager{co: co, store: store, log: co.logger, shared: sh}
	m.events.log = co.logger
	return m
}

// setInitial installs s without events or store writes (derived clients).
func (m *sessionManager) setInitial(s *Session) {
	m.mu.Lock()
	m.cur.Store(s)
	m.loaded.Store(true)
	m.mu.Unlock()
}

// now is the best estimate of the server's clock.
func (m *sessionManager) now() time.Time {
	return time.Now().Add(time.Duration(m.shared.skew.Load()))
}

// noteServerDate records the skew between the server's Date header and the
// local clock; differences under 2 s are Date's resolution and ignored.
func (m *sessionManager) noteServerDate(h http.Header) {
	d, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		return
	}
	skew := time.Until(d)
	if skew < 2*time.Second && skew > -2*time.Second {
		skew = 0
	}
	m.shared.skew.Store(int64(skew))
}

// expiresWithin reports whether s expires within d (plus the leeway).
func (m *sessionManager) expiresWithin(s *Session, d time.Duration) bool {
	if s.ExpiresAt == 0 {
		return false
	}
	return m.now().Add(d+m.co.session.leeway).Unix() >= s.ExpiresAt
}

// needsRefresh reports whether s should be refreshed before use: it expires
// within margin (at most half its lifetime), or a server rejected it.
func (m *sessionManager) needsRefresh(s *Session, margin time.Duration) bool {
	if s.ExpiresIn > 0 {
		if half := time.Duration(s.ExpiresIn) * time.Second / 2; margin > half {
			margin = half
		}
	}
	return m.expiresWithin(s, margin) || m.isRejected(s)
}

// usable reports whether s's access token can still be sent: not expired
// (allowing for the leeway) and not rejected by a server.
func (m *sessionManager) usable(s *Session) bool {
	return !m.expiresWithin(s, 0) && !m.isRejected(s)
}

// reallyExpired reports whether s's access token is dead: past its expiry by
// the server's clock, or rejected by a server.
func (m *sessionManager) reallyExpired(s *Session) bool {
	return (s.ExpiresAt != 0 && m.now().Unix() >= s.ExpiresAt) || m.isRejected(s)
}

func (m *sessionManager) isRejected(s *Session) bool {
	p := m.rejected.Load()
	return p != nil && *p == s.AccessToken
}

// load reads the stored session once. Stored data that is not a session
// (see storeDataInvalid) is logged and taken as no session: the client
// starts signed out and the next sign-in overwrites it. Any other store
// error is returned and the next call tries again.
func (m *sessionManager) load(ctx context.Context) error {
	if m.loaded.Load() {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.loaded.Load() {
		return nil
	}
	if m.store != nil {
		s, err := m.store.Load(ctx)
		switch {
		case err != nil && storeDataInvalid(err):
			m.log.LogAttrs(ctx, slog.LevelError, "supabase: stored session is invalid; starting signed out", slog.Any("error", err))
		case err != nil:
			return err
		case s != nil && s.AccessToken != "":
			m.cur.Store(s.clone())
		}
	}
	m.loaded.Store(true)
	return nil
}

// snapshot returns the current session and the generation it belongs to.
func (m *sessionManager) snapshot() (*Session, uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cur.Load(), m.gen.Load()
}

// current returns the session without refreshing it (nil when signed out).
func (m *sessionManager) current(ctx context.Context) (*Session, error) {
	if s := m.cur.Load(); s != nil {
		return s, nil
	}
	if err := m.load(ctx); err != nil {
		return nil, err
	}
	return m.cur.Load(), nil
}

// valid returns the session, refreshed first when it expires within the
// margin. While the access token is still usable, a failing refresh (or one
// that has to retry) does not hold the caller up: the current session is
// returned and the refresh goes on in the background. When the refresh
// failed and the session was removed (the refresh token is dead and the
// access token expired, or the user signed out meanwhile), it returns nil,
// as supabase-js does: the request goes out with the project key.
func (m *sessionManager) valid(ctx context.Context, margin time.Duration) (*Session, error) {
	s, err := m.current(ctx)
	if err != nil || s == nil {
		return s, err
	}
	if m.noRefresh || s.RefreshToken == "" || !m.needsRefresh(s, margin) {
		return s, nil
	}
	ns, err := m.refreshWait(ctx, s, m.usable(s))
	if errors.Is(err, errRefreshRetrying) && !m.usable(s) {
		// The first attempt took so long that the token expired meanwhile.
		ns, err = m.refreshWait(ctx, s, false)
	}
	if err == nil {
		return ns, nil
	}
	if ctx.Err() != nil {
		return nil, err
	}
	cur := m.cur.Load()
	switch {
	case cur == nil:
		return nil, nil
	case cur.AccessToken != s.AccessToken:
		return cur, nil // signed in again, or rotated by someone else
	case m.usable(s):
		if !errors.Is(err, errRefreshRetrying) {
			m.log.LogAttrs(ctx, slog.LevelWarn, "supabase: refresh failed, using the still valid session", slog.Any("error", err))
		}
		return s, nil
	}
	return nil, err
}

// errRefreshRetrying tells a waiter with a usable token that the refresh
// failed once and is being retried in the background.
var errRefreshRetrying = errors.New("supabase: refresh is being retried")

// refresh exchanges s's refresh token now, once however many goroutines ask.
func (m *sessionManager) refresh(ctx context.Context, s *Session) (*Session, error) {
	return m.refreshWait(ctx, s, false)
}

// refreshWait joins (or starts) the refresh of s and waits for its result.
// The flight is detached from ctx: a waiter giving up never cancels the
// refresh the others wait for, and a rotated token is never lost. With
// early set, it returns errRefreshRetrying as soon as the first attempt
// failed with a retryable error.
func (m *sessionManager) refreshWait(ctx context.Context, s *Session, early bool) (*Session, error) {
	f := m.flights.start(s.RefreshToken, func(f *flight) (*Session, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.co.session.refreshTimeout)
		defer cancel()
		return m.refreshFlight(fctx, f, s)
	})
	var retrying <-chan struct{}
	if early {
		retrying = f.retrying
	}
	select {
	case <-f.done:
		return f.s, f.err
	case <-retrying:
		return nil, errRefreshRetrying
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// refreshFlight is the body of one refresh of s. It re-checks the session,
// adopts a token another process rotated into a shared store, exchanges the
// refresh token (shared with every client derived from the same parent) and
// commits the result unless the user signed out or in meanwhile.
func (m *sessionManager) refreshFlight(ctx context.Context, f *flight, s *Session) (*Session, error) {
	gen := m.gen.Load()
	cur := m.cur.Load()
	if cur == nil {
		return nil, errSessionMissing()
	}
	if cur.RefreshToken != s.RefreshToken {
		return cur, nil // someone already rotated it
	}
	unlock, err := m.lockStore(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()

	token := s.RefreshToken
	if stored := m.storedRotation(ctx, s); stored != nil {
		if !m.needsRefresh(stored, m.co.session.refreshMargin) {
			return m.commit(ctx, gen, s, stored, false)
		}
		// Another process rotated the token and its session is expiring
		// too: ours is spent, refresh theirs.
		token = stored.RefreshToken
	}
	ns, err := m.exchangeShared(ctx, f, token)
	if err != nil {
		return nil, m.refreshFailed(ctx, gen, s, err)
	}
	return m.commit(ctx, gen, s, ns, true)
}

// commit installs ns as the successor of s: saved to the store (when save
// is set) before any reader can see it, then TOKEN_REFRESHED. A refresh
// that completes after a sign-out or a new sign-in is discarded.
func (m *sessionManager) commit(ctx context.Context, gen uint64, s, ns *Session, save bool) (*Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := m.cur.Load()
	if m.gen.Load() != gen || cur == nil {
		return nil, errSessionMissing()
	}
	if cur.RefreshToken != s.RefreshToken {
		return cur, nil
	}
	if save {
		_ = m.saveLocked(ctx, ns)
	} else {
		m.cur.Store(ns)
	}
	m.events.emit(EventTokenRefreshed, ns)
	return ns, nil
}

// refreshFailed handles a failed refresh of s. A refresh token the server
// refused (4xx) removes the session, with SIGNED_OUT, only once the access
// token is really dead; until then the session is kept and the token is
// not sent again. Retryable failures always keep the session.
func (m *sessionManager) refreshFailed(ctx context.Context, gen uint64, s *Session, err error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := m.cur.Load()
	if m.gen.Load() != gen || cur == nil {
		return errSessionMissing()
	}
	if permanentRefreshError(err) && cur.RefreshToken == s.RefreshToken && m.reallyExpired(cur) {
		m.log.LogAttrs(ctx, slog.LevelInfo, "supabase: session expired and cannot be refreshed; signed out", slog.Any("error", err))
		m.clearLocked(ctx)
	}
	return err
}

// storedRotation returns the session in a shared store when another
// process rotated our refresh token, or nil.
func (m *sessionManager) storedRotation(ctx context.Context, s *Session) *Session {
	if _, ok := m.store.(LockingStore); !ok {
		return nil
	}
	stored, err := m.store.Load(ctx)
	if err != nil || stored == nil || stored.AccessToken == "" || stored.RefreshToken == "" ||
		stored.RefreshToken == s.RefreshToken {
		return nil
	}
	return stored.clone()
}

func (m *sessionManager) lockStore(ctx context.Context) (func(), error) {
	if ls, ok := m.store.(LockingStore); ok {
		return ls.Lock(ctx)
	}
	return func() {}, nil
}

// exchangeShared exchanges token once for every client sharing this core:
// concurrent callers join one request; a token exchanged moments ago yields
// the session it was exchanged for; a token the server refused (4xx) is
// never sent again, and one whose refresh failed otherwise is not retried
// within the cooldown. waiter learns when the exchange starts retrying.
func (m *sessionManager) exchangeShared(ctx context.Context, waiter *flight, token string) (*Session, error) {
	sh := m.shared
	cfg := &m.co.session
	if ns, err, ok := sh.known(token, cfg); ok {
		return ns, err
	}
	f := sh.flights.start(token, func(f *flight) (*Session, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.refreshTimeout)
		defer cancel()
		if ns, err, ok := sh.known(token, cfg); ok {
			return ns, err
		}
		ns, err := m.exchangeWithRetry(fctx, f, token)
		sh.record(token, ns, err, cfg)
		return ns, err
	})
	select {
	case <-f.done:
	case <-f.retrying:
		waiter.markRetrying()
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return f.s, f.err
}

// exchangeWithRetry calls the token endpoint, retrying network errors and
// 500–504 and 520–530 answers with 200 ms·2ⁿ backoff within the retry window.
func (m *sessionManager) exchangeWithRetry(ctx context.Context, f *flight, refreshToken string) (*Session, error) {
	deadline := time.Now().Add(m.co.session.retryWindow)
	for attempt := 0; ; attempt++ {
		ns, err := m.exchange(ctx, refreshToken)
		if err == nil || !retryableRefreshError(err) || ctx.Err() != nil {
			return ns, err
		}
		f.markRetrying()
		wait := m.co.session.retryBase << attempt
		if wait <= 0 || time.Now().Add(wait).After(deadline) {
			return nil, err
		}
		m.log.LogAttrs(ctx, slog.LevelDebug, "supabase: refresh failed, retrying", slog.Duration("wait", wait), slog.Any("error", err))
		if sleepCtx(ctx, wait) != nil {
			return nil, err
		}
	}
}

func retryableRefreshError(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return true // network error
	}
	return (e.Status >= 500 && e.Status <= 504) || (e.Status >= 520 && e.Status <= 530)
}

// permanentRefreshError reports whether the server refused the refresh
// token itself (a 4xx other than 408 and 429): sending it again is useless
// and, for a token already used, looks like theft.
func permanentRefreshError(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status >= 400 && e.Status < 500 &&
		e.Status != http.StatusRequestTimeout && e.Status != http.StatusTooManyRequests
}

// exchange sends one grant_type=refresh_token request.
func (m *sessionManager) exchange(ctx context.Context, refreshToken string) (*Session, error) {
	m.shared.requests.Add(1)
	resp, err := m.co.send(ctx, nil, &apiRequest{
		service: ServiceAuth, method: http.MethodPost,
		url:    m.co.authURL + "/token?grant_type=refresh_token",
		header: authJSONHeader(), body: mustJSON(map[string]string{"refresh_token": refreshToken}),
	})
	if err != nil {
		return nil, err
	}
	m.noteServerDate(resp.header)
	return m.decodeSession(resp.body)
}

// decodeSession decodes a session and fills expires_at when the server
// left it out.
func (m *sessionManager) decodeSession(body []byte) (*Session, error) {
	var s Session
	if err := decodeJSON(body, &s); err != nil {
		return nil, err
	}
	if s.AccessToken == "" {
		return nil, &Error{Service: ServiceAuth, Status: http.StatusOK, Message: "response has no access_token"}
	}
	if s.ExpiresAt == 0 && s.ExpiresIn > 0 {
		s.ExpiresAt = m.now().Unix() + s.ExpiresIn
	}
	return &s, nil
}

// set installs a new session (sign-in), saves it and emits event. The
// write holds the store's lock (see lockForWrite).
func (m *sessionManager) set(ctx context.Context, s *Session, event AuthChangeEvent) error {
	unlock, lerr := m.lockForWrite(ctx)
	defer unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.loaded.Store(true)
	m.gen.Add(1)
	err := m.saveLocked(ctx, s)
	m.events.emit(event, s)
	return errors.Join(lerr, err)
}

// lockForWrite takes a LockingStore's lock for a sign-in, sign-out or user
// update, so that the write is never overtaken by a refresh that another
// process holding the lock is about to commit (which would bring a signed
// out session back, or replace a new sign-in). The change already happened
// on the server, so the wait is detached from ctx and bounded by the
// refresh timeout instead (another process holds the lock for one refresh
// at most). When the lock cannot be had the write goes ahead without it:
// the error is logged and returned. Never call it with the lock held (a
// refresh flight holds it), nor with m.mu held.
func (m *sessionManager) lockForWrite(ctx context.Context) (unlock func(), err error) {
	ls, ok := m.store.(LockingStore)
	if !ok {
		return func() {}, nil
	}
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.co.session.refreshTimeout)
	defer cancel()
	unlock, err = ls.Lock(lctx)
	if err != nil {
		m.log.LogAttrs(ctx, slog.LevelError, "supabase: session store lock failed; writing without it", slog.Any("error", err))
		return func() {}, err
	}
	return unlock, nil
}

// refreshWith exchanges refreshToken, obtained elsewhere (a cookie), and
// signs in with the result (TOKEN_REFRESHED). The exchange goes through the
// same flights and record of exchanged and refused tokens as every refresh,
// so a token is never sent twice: when refreshToken is the current
// session's, the current session is refreshed (once, however many ask); a
// token exchanged moments ago yields the session it was exchanged for.
func (m *sessionManager) refreshWith(ctx context.Context, refreshToken string) (*Session, error) {
	if cur, err := m.current(ctx); err == nil && cur != nil && cur.RefreshToken == refreshToken && !m.noRefresh {
		return m.refresh(ctx, cur)
	}
	waiter := &flight{retrying: make(chan struct{})}
	ns, err := m.exchangeShared(ctx, waiter, refreshToken)
	if err != nil {
		return nil, err
	}
	if m.cur.Load() == ns {
		return ns, nil // a refresh of the current session already installed it
	}
	return ns, m.set(ctx, ns, EventTokenRefreshed)
}

// forSignOut returns the session SignOut is to end, with a token the server
// accepts (refreshed first when it expires within margin, as in
// supabase-js), and the generation it belongs to. It returns a nil session
// when there is nothing to end on the server:
//   - nobody is signed in, or a sign-in or sign-out replaced the session
//     while it was being refreshed (that newer state is left alone);
//   - the refresh token is dead (the server refused it) and the access token
//     unusable: with local, the session is then removed locally.
//
// A refresh that failed otherwise (network, 5xx) returns the error and
// keeps the session, as a failing logout call does. A stored session that
// cannot be read (a store error; corrupt data reads as no session) is
// removed from the store when local is set, and the error returned: it may
// still be alive on the server.
func (m *sessionManager) forSignOut(ctx context.Context, margin time.Duration, local bool) (*Session, uint64, error) {
	_, gen := m.snapshot()
	s, err := m.current(ctx)
	if err != nil {
		if local {
			err = errors.Join(err, m.clearGen(ctx, gen))
		}
		return nil, 0, err
	}
	if s == nil {
		return nil, 0, nil
	}
	vs, err := m.valid(ctx, margin)
	if _, g := m.snapshot(); g != gen {
		return nil, 0, nil
	}
	switch {
	case err == nil && vs != nil:
		return vs, gen, nil
	case err == nil:
		return nil, 0, nil
	case !permanentRefreshError(err) || !local:
		return nil, 0, err
	}
	m.log.LogAttrs(ctx, slog.LevelInfo, "supabase: sign-out: the session cannot be refreshed; signing out locally", slog.Any("error", err))
	return nil, 0, m.clearGen(ctx, gen)
}

// updateUser replaces the current session's user (USER_UPDATED).
func (m *sessionManager) updateUser(ctx context.Context, u *User) {
	unlock, _ := m.lockForWrite(ctx)
	defer unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := m.cur.Load()
	if cur == nil {
		return
	}
	ns := cur.clone()
	ns.User = u
	_ = m.saveLocked(ctx, ns)
	m.events.emit(EventUserUpdated, ns)
}

// saveLocked saves s to the store, then makes it the current session: no
// reader sees a session the store does not hold. A store failure is logged
// and returned, and s is installed anyway, so a token the server already
// rotated is never lost from memory. m.mu must be held.
func (m *sessionManager) saveLocked(ctx context.Context, s *Session) error {
	var err error
	if m.store != nil {
		if err = m.store.Save(ctx, s); err != nil {
			m.log.LogAttrs(ctx, slog.LevelError, "supabase: saving session failed", slog.Any("error", err))
		}
	}
	m.cur.Store(s)
	return err
}

// clear signs out locally and returns the store's error.
func (m *sessionManager) clear(ctx context.Context) error {
	return m.clearIf(ctx, func(*Session, uint64) bool { return true })
}

// clearGen signs out locally unless a sign-in or sign-out happened since
// generation gen.
func (m *sessionManager) clearGen(ctx context.Context, gen uint64) error {
	return m.clearIf(ctx, func(_ *Session, g uint64) bool { return g == gen })
}

// clearIf signs out locally (SIGNED_OUT when someone was signed in, and the
// store emptied) if ok approves the current session and generation, all
// under the store's lock and m.mu. It returns the store's error.
func (m *sessionManager) clearIf(ctx context.Context, ok func(cur *Session, gen uint64) bool) error {
	unlock, lerr := m.lockForWrite(ctx)
	defer unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	if !ok(m.cur.Load(), m.gen.Load()) {
		return nil
	}
	m.loaded.Store(true)
	return errors.Join(lerr, m.clearLocked(ctx))
}

// clearLocked signs out locally; m.mu must be held, and the store's lock
// too where the caller can take it (see lockForWrite). A store failure is
// logged and returned.
func (m *sessionManager) clearLocked(ctx context.Context) error {
	m.gen.Add(1)
	had := m.cur.Swap(nil) != nil
	var err error
	if m.store != nil {
		if err = m.store.Delete(ctx); err != nil {
			m.log.LogAttrs(ctx, slog.LevelError, "supabase: deleting stored session failed", slog.Any("error", err))
		}
	}
	if had {
		m.events.emit(EventSignedOut, nil)
	}
	return err
}

// accessToken implements tokenSource: the user's token, refreshed when it
// is about to expire, or "" when signed out.
func (m *sessionManager) accessToken(ctx context.Context) (string, error) {
	s, err := m.valid(ctx, m.co.session.refreshMargin)
	if err != nil {
		return "", err
	}
	if s == nil {
		return "", nil
	}
	return s.AccessToken, nil
}

// tokenRejected refreshes after a server rejected token, unless the session
// already moved on. Only the session holding the rejected token is
// replaced: every goroutine rejected with the same token shares one refresh.
func (m *sessionManager) tokenRejected(ctx context.Context, token string) bool {
	cur := m.cur.Load()
	if cur == nil {
		return false
	}
	if cur.AccessToken != token {
		return true
	}
	if m.noRefresh || cur.RefreshToken == "" {
		return false
	}
	m.rejected.Store(&token)
	ns, err := m.refreshWait(ctx, cur, false)
	return err == nil && ns != nil && ns.AccessToken != token
}

// subscribe registers fn; its first event is INITIAL_SESSION with the
// session as it is at that moment (loaded from the store if need be), and
// no later event is missed or delivered twice. Events wait in a queue of
// fn's own while fn runs (consecutive TOKEN_REFRESHED are merged), so fn
// must return: a fn blocked for good keeps its goroutine, and the events
// sent to it, until the process ends. The store is read without a
// deadline: SessionStore.Load must not block indefinitely.
func (m *sessionManager) subscribe(fn func(AuthChangeEvent, *Session)) func() {
	if err := m.load(context.Background()); err != nil {
		m.log.LogAttrs(context.Background(), slog.LevelError, "supabase: loading stored session failed", slog.Any("error", err))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.events.subscribe(fn, m.cur.Load())
}

// startAuto runs the background refresher until ctx ends or stopAuto.
func (m *sessionManager) startAuto(ctx context.Context) {
	m.autoMu.Lock()
	defer m.autoMu.Unlock()
	m.stopAutoLocked()
	actx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	m.autoCancel, m.autoDone = cancel, done
	go func() {
		defer close(done)
		t := time.NewTicker(m.co.session.autoRefreshTick)
		defer t.Stop()
		for {
			if actx.Err() != nil {
				return
			}
			m.autoTick(actx)
			select {
			case <-actx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

func (m *sessionManager) autoTick(ctx context.Context) {
	s, err := m.current(ctx)
	if err != nil || s == nil || m.noRefresh || s.RefreshToken == "" ||
		!m.needsRefresh(s, m.co.session.autoRefreshMargin) {
		return
	}
	if _, err := m.refresh(ctx, s); err != nil && ctx.Err() == nil {
		m.log.LogAttrs(ctx, slog.LevelWarn, "supabase: background refresh failed", slog.Any("error", err))
	}
}

func (m *sessionManager) stopAuto() {
	m.autoMu.Lock()
	defer m.autoMu.Unlock()
	m.stopAutoLocked()
}

func (m *sessionManager) stopAutoLocked() {
	cancel, done := m.autoCancel, m.autoDone
	m.autoCancel, m.autoDone = nil, nil
	if cancel != nil {
		cancel()
		<-done
	}
}

// refreshShared is the refresh state shared by a client and the clients
// derived from it.
type refreshShared struct {
	flights  flightGroup  // token exchanges, keyed by refresh token
	skew     atomic.Int64 // server clock minus local clock, nanoseconds
	requests atomic.Int64 // refresh requests sent, for tests and metrics

	mu      sync.Mutex
	failed  map[string]failedRefresh
	rotated map[string]rotatedRefresh
}

type failedRefresh struct {
	at        time.Time
	err       error
	permanent bool
}

type rotatedRefresh struct {
	at time.Time
	s  *Session
}

// maxRememberedTokens bounds the failed and rotated token maps.
const maxRememberedTokens = 1024

func newRefreshShared() *refreshShared {
	return &refreshShared{failed: map[string]failedRefresh{}, rotated: map[string]rotatedRefresh{}}
}

// known returns the outcome of an earlier exchange of token that must not
// be repeated: the session it was exchanged for (or, when that session's
// refresh token was exchanged in turn, the latest of the chain: a session
// whose refresh token is already spent is never handed out), or the
// failure it met.
func (sh *refreshShared) known(token string, cfg *sessionConfig) (*Session, error, bool) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if r, ok := sh.rotated[token]; ok && time.Since(r.at) < cfg.rotatedTTL {
		s := r.s
		for range maxRememberedTokens {
			next, ok := sh.rotated[s.RefreshToken]
			if !ok || time.Since(next.at) >= cfg.rotatedTTL {
				break
			}
			s = next.s
		}
		return s, nil, true
	}
	if f, ok := sh.failed[token]; ok && (f.permanent || time.Since(f.at) < cfg.failCooldown) {
		return nil, f.err, true
	}
	return nil, nil, false
}

// record remembers the outcome of exchanging token.
func (sh *refreshShared) record(token string, ns *Session, err error, cfg *sessionConfig) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	now := time.Now()
	for t, r := range sh.rotated {
		if now.Sub(r.at) >= cfg.rotatedTTL || len(sh.rotated) >= maxRememberedTokens {
			delete(sh.rotated, t)
		}
	}
	for t, f := range sh.failed {
		if (!f.permanent && now.Sub(f.at) >= cfg.failCooldown) || len(sh.failed) >= maxRememberedTokens {
			delete(sh.failed, t)
		}
	}
	if err == nil {
		sh.rotated[token] = rotatedRefresh{at: now, s: ns}
		return
	}
	sh.failed[token] = failedRefresh{at: now, err: err, permanent: permanentRefreshError(err)}
}

// flight is one refresh in progress; its result is readable once done is
// closed.
type flight struct {
	done      chan struct{}
	retrying  chan struct{} // closed when the first attempt failed and it retries
	retryOnce sync.Once
	s         *Session
	err       error
}

func (f *flight) markRetrying() { f.retryOnce.Do(func() { close(f.retrying) }) }

// flightGroup runs one flight per key at a time, like singleflight, and
// also tells waiters when a flight starts retrying.
type flightGroup struct {
	mu sync.Mutex
	m  map[string]*flight
}

// start returns the flight running for key, or starts fn on a goroutine of
// its own: the flight never depends on any waiter staying.
func (g *flightGroup) start(key string, fn func(*flight) (*Session, error)) *flight {
	g.mu.Lock()
	if f, ok := g.m[key]; ok {
		g.mu.Unlock()
		return f
	}
	f := &flight{done: make(chan struct{}), retrying: make(chan struct{})}
	if g.m == nil {
		g.m = map[string]*flight{}
	}
	g.m[key] = f
	g.mu.Unlock()
	go func() {
		defer func() {
			if r := recover(); r != nil {
				f.s, f.err = nil, fmt.Errorf("supabase: refresh panicked: %v", r)
			}
			g.mu.Lock()
			delete(g.m, key)
			g.mu.Unlock()
			close(f.done)
		}()
		f.s, f.err = fn(f)
	}()
	return f
}

// eventBus delivers events to subscribers in order, each subscriber on its
// own goroutine that exists only while it has events to deliver, so a slow
// or panicking subscriber blocks nobody and no goroutine outlives its work
// (unless the subscriber never returns). A panic is logged and the next
// event delivered. Events wait in an unbounded per-subscriber queue, except
// that a TOKEN_REFRESHED queued right behind another replaces it: a
// subscriber that falls behind sees only the latest refreshed session,
// so the background refresher alone cannot grow the queue.
type eventBus struct {
	log  *slog.Logger // nil: panics are not logged
	mu   sync.Mutex
	next int
	subs map[int]*subscriber
}

type subscriber struct {
	fn      func(AuthChangeEvent, *Session)
	log     *slog.Logger
	mu      sync.Mutex
	queue   []authEvent
	running bool
	closed  bool
}

type authEvent struct {
	event   AuthChangeEvent
	session *Session
}

func (b *eventBus) subscribe(fn func(AuthChangeEvent, *Session), initial *Session) func() {
	s := &subscriber{fn: fn, log: b.log}
	b.mu.Lock()
	if b.subs == nil {
		b.subs = map[int]*subscriber{}
	}
	id := b.next
	b.next++
	b.subs[id] = s
	s.push(authEvent{EventInitialSession, initial})
	b.mu.Unlock()
	return func() {
		b.mu.Lock()
		delete(b.subs, id)
		b.mu.Unlock()
		s.mu.Lock()
		s.closed = true
		s.queue = nil
		s.mu.Unlock()
	}
}

func (b *eventBus) emit(ev AuthChangeEvent, s *Session) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, sub := range b.subs {
		sub.push(authEvent{ev, s})
	}
}

func (s *subscriber) push(e authEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if n := len(s.queue); n > 0 && e.event == EventTokenRefreshed && s.queue[n-1].event == EventTokenRefreshed {
		s.queue[n-1] = e // not delivered yet: only the latest session matters
		return
	}
	s.queue = append(s.queue, e)
	if !s.running {
		s.running = true
		go s.drain()
	}
}

func (s *subscriber) drain() {
	for {
		s.mu.Lock()
		if len(s.queue) == 0 || s.closed {
			s.running = false
			s.mu.Unlock()
			return
		}
		e := s.queue[0]
		s.queue = s.queue[1:]
		s.mu.Unlock()
		s.call(e)
	}
}

// call delivers e. A panicking subscriber must not take the client down:
// the panic is recovered and logged, with its value's type and message but
// nothing of the session.
func (s *subscriber) call(e authEvent) {
	defer func() {
		if r := recover(); r != nil && s.log != nil {
			s.log.LogAttrs(context.Background(), slog.LevelError, "supabase: auth state subscriber panicked",
				slog.String("event", string(e.event)), slog.String("panic_type", fmt.Sprintf("%T", r)),
				slog.String("panic", fmt.Sprint(r)))
		}
	}()
	s.fn(e.event, e.session)
}

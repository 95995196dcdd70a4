package supabase

import (
	"context"
	"errors"
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

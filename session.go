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
// run behind the server's (default 0). A clock more than 2 s and at most
// 1 h off the server's, ahead or behind, is detected from the Date header of
// Auth responses and corrected automatically; a Date header further away is
// ignored (and logged): it says more about a proxy than about the clocks.
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
	// lost is set while the session has ended without SignOut (see
	// loseLocked): calls needing it fail with its error instead of going
	// on as anon. Set before cur is emptied and cleared after cur is set,
	// so that no reader sees neither.
	lost atomic.Pointer[lostSession]

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

// maxClockSkew bounds the clock difference taken from a Date header. A
// Date further away (a proxy or cache with a broken clock, a replayed
// answer) would make every session look expired, or never expiring; it is
// ignored.
const maxClockSkew = time.Hour

// noteServerDate records the skew between the server's Date header and the
// local clock; differences under 2 s are Date's resolution and ignored, and
// differences beyond maxClockSkew are logged (Warn the first time, then
// Debug) and ignored.
func (m *sessionManager) noteServerDate(h http.Header) {
	d, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		return
	}
	skew := time.Until(d)
	if skew > maxClockSkew || skew < -maxClockSkew {
		level := slog.LevelDebug
		if m.shared.skewWarned.CompareAndSwap(false, true) {
			level = slog.LevelWarn
		}
		m.log.LogAttrs(context.Background(), level, "supabase: ignoring the Date header of an Auth response: more than 1h off the local clock",
			slog.Duration("difference", skew.Round(time.Second)))
		return
	}
	if skew < 2*time.Second && skew > -2*time.Second {
		skew = 0
	}
	m.shared.skew.Store(int64(skew))
}

// maxSessionLifetime (seconds) bounds expires_in: a longer lifetime is
// taken as this one, so that no expiry computation overflows.
const maxSessionLifetime = 365 * 24 * 60 * 60

// normalizeExpiry sets s.ExpiresAt, when the access token stops working:
// the JWT's exp claim when the token has one, whatever expires_at says
// (exp is what PostgREST, Storage and Auth enforce, and a disagreeing
// expires_at could only make the client refresh too late or on every
// read); else expires_at; else now + expires_in. expires_in is capped at
// maxSessionLifetime. With fresh set (a session just issued), a missing
// expires_in is filled from the expiry, so that short-lived tokens are
// refreshed at half their lifetime. s must not have been handed out yet.
func (m *sessionManager) normalizeExpiry(s *Session, fresh bool) {
	now := m.now().Unix()
	s.ExpiresIn = min(s.ExpiresIn, maxSessionLifetime)
	if exp := expiryOf(s.AccessToken); exp > 0 {
		s.ExpiresAt = exp
	} else if s.ExpiresAt == 0 && s.ExpiresIn > 0 {
		s.ExpiresAt = now + s.ExpiresIn
	}
	if fresh && s.ExpiresIn <= 0 && s.ExpiresAt > now {
		s.ExpiresIn = min(s.ExpiresAt-now, maxSessionLifetime)
	}
}

// withExpiry returns a copy of s, a session from a caller or a store, with
// its expiry normalised (see normalizeExpiry).
func (m *sessionManager) withExpiry(s *Session) *Session {
	ns := s.clone()
	m.normalizeExpiry(ns, false)
	return ns
}

// validAccessToken reports whether tok can be sent as a bearer token:
// printable ASCII without spaces. A token with a line break or another
// control byte would be refused by net/http on every request, and one with
// a space would not parse as "Bearer <token>".
func validAccessToken(tok string) bool {
	if tok == "" {
		return false
	}
	for i := 0; i < len(tok); i++ {
		if b := tok[i]; b <= ' ' || b >= 0x7f {
			return false
		}
	}
	return true
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
		if half := time.Duration(min(s.ExpiresIn, maxSessionLifetime)) * time.Second / 2; margin > half {
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
// starts signed out and the next sign-in overwrites it. An ended record
// (see endedRecord) puts the client in the lost state. Any other store
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
		case isEndedRecord(s):
			m.lost.Store(&lostSession{err: sessionEnded("the stored session ended earlier", nil)})
		case s != nil && s.AccessToken != "":
			m.cur.Store(m.withExpiry(s))
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

// current returns the session without refreshing it: nil when signed out,
// the lost state's error (matching ErrSessionExpired) when the session
// ended without SignOut.
func (m *sessionManager) current(ctx context.Context) (*Session, error) {
	if s := m.cur.Load(); s != nil {
		return s, nil
	}
	if err := m.load(ctx); err != nil {
		return nil, err
	}
	if s := m.cur.Load(); s != nil {
		return s, nil
	}
	return nil, m.lostErr()
}

// lostErr is the lost state's error, or nil.
func (m *sessionManager) lostErr() error {
	if l := m.lost.Load(); l != nil {
		return l.err
	}
	return nil
}

// valid returns the session, refreshed first when it expires within the
// margin. While the access token is still usable, a failing refresh (or one
// that has to retry) does not hold the caller up: the current session is
// returned and the refresh goes on in the background. When the refresh
// failed because the session is over (the refresh token is dead and the
// access token expired), the session ends (see loseLocked) and the lost
// state's error is returned: the caller never goes on as anon without
// being told. When the user signed out meanwhile it returns nil: the
// request goes out with the project key, as asked.
//
// A session without a refresh token (its token was spent, or it never had
// one) is used until its access token really expires; then it ends too.
func (m *sessionManager) valid(ctx context.Context, margin time.Duration) (*Session, error) {
	s, err := m.current(ctx)
	if err != nil || s == nil {
		return s, err
	}
	if m.noRefresh || !m.needsRefresh(s, margin) {
		return s, nil
	}
	if s.RefreshToken == "" {
		if !m.reallyExpired(s) {
			return s, nil
		}
		m.endSession(ctx, s, errors.New("supabase: the access token expired and there is no refresh token"))
		return m.current(ctx)
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
		return nil, m.lostErr() // nil when signed out meanwhile
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
	m.lost.Store(nil) // after cur is set: see lost
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
//
// A session that ended without SignOut (the lost state) has nothing left
// to end either: with local, the client leaves the lost state and goes on
// signed out, as asked; without, the lost state's error is returned.
func (m *sessionManager) forSignOut(ctx context.Context, margin time.Duration, local bool) (*Session, uint64, error) {
	_, gen := m.snapshot()
	s, err := m.current(ctx)
	if err != nil && m.lost.Load() != nil {
		if local {
			return nil, 0, m.forgetLost(ctx)
		}
		return nil, 0, err
	}
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
		if m.lost.Load() == nil {
			return nil, 0, nil // signed in or out meanwhile
		}
		if local { // the refresh found the session over
			return nil, 0, m.forgetLost(ctx)
		}
		return nil, 0, m.lostErr()
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
	if m.shared.spent(ns.RefreshToken) { // the store must not get it back
		m.saveSpentLocked(ctx, ns)
	}
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
	m.lost.Store(nil)
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
// It also reports true when the session has ended meanwhile (the refresh
// token was refused too): the replay then fails with the lost state's
// error before anything is sent.
func (m *sessionManager) tokenRejected(ctx context.Context, token string) bool {
	cur := m.cur.Load()
	if cur == nil {
		return m.lost.Load() != nil
	}
	if cur.AccessToken != token {
		return true
	}
	if m.noRefresh || cur.RefreshToken == "" {
		return false
	}
	m.rejected.Store(&token)
	ns, err := m.refreshWait(ctx, cur, false)
	if err == nil && ns != nil && ns.AccessToken != token {
		return true
	}
	return m.cur.Load() == nil && m.lost.Load() != nil
}

// lostSession is the lost state: the session ended without SignOut.
type lostSession struct{ err error }

// codeSessionExpired is Auth's own code for a session that has ended; the
// lost state's error carries it, so it matches ErrSessionExpired.
const codeSessionExpired = "session_expired"

// sessionEnded is the lost state's error: what happened, the way out, and
// the cause (a refused refresh, the server's session_not_found) when known.
func sessionEnded(what string, cause error) error {
	e := &Error{Service: ServiceAuth, Code: codeSessionExpired,
		Message: what + "; sign in again, or call SignOut to go on signed out"}
	if cause == nil {
		return e
	}
	return fmt.Errorf("%w: %w", e, cause)
}

// endSession ends s without SignOut (see loseLocked), unless the session
// moved on meanwhile. Never call it with the store's lock or m.mu held.
func (m *sessionManager) endSession(ctx context.Context, s *Session, cause error) {
	unlock, _ := m.lockForWrite(ctx)
	defer unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cur.Load() == s {
		m.loseLocked(ctx, cause)
	}
}

// loseLocked ends the current session without SignOut: its refresh token
// was refused or spent and its access token is dead, or the server ended
// it. SIGNED_OUT is emitted, as for a sign-out, but the client enters the
// lost state: calls needing the session (queries included) fail with an
// error matching ErrSessionExpired until a sign-in or SignOut, instead of
// silently going on as anon, and the store keeps an ended record so that a
// client started later reports the same. m.mu must be held, and the
// store's lock too where the caller can take it.
func (m *sessionManager) loseLocked(ctx context.Context, cause error) {
	had := m.cur.Load()
	if had == nil {
		return
	}
	m.log.LogAttrs(ctx, slog.LevelInfo, "supabase: the session ended and cannot be refreshed; sign in again", slog.Any("error", cause))
	m.gen.Add(1)
	m.lost.Store(&lostSession{err: sessionEnded("the session ended", cause)}) // before cur is emptied: see lost
	m.cur.Store(nil)
	m.saveEndedLocked(ctx, had)
	m.events.emit(EventSignedOut, nil)
}

// saveEndedLocked replaces had, the session that just ended, with an ended
// record in the store. A store that holds another live session by now
// (another process sharing it signed in) is left alone. A store failure is
// logged: the lost state holds in this process anyway.
func (m *sessionManager) saveEndedLocked(ctx context.Context, had *Session) {
	if m.store == nil {
		return
	}
	if stored, err := m.store.Load(ctx); err == nil && stored != nil && stored.AccessToken != "" &&
		stored.AccessToken != had.AccessToken && stored.RefreshToken != had.RefreshToken {
		return
	}
	if err := m.store.Save(ctx, endedRecord(had)); err != nil {
		m.log.LogAttrs(ctx, slog.LevelError, "supabase: saving the end of the session failed", slog.Any("error", err))
	}
}

// forgetLost leaves the lost state (SignOut): the client goes on signed
// out, and an ended record is removed from the store. A sign-in that
// happened meanwhile is left alone. It returns the store's error.
func (m *sessionManager) forgetLost(ctx context.Context) error {
	unlock, lerr := m.lockForWrite(ctx)
	defer unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lost.Load() == nil {
		return nil
	}
	m.lost.Store(nil)
	if m.store == nil {
		return lerr
	}
	stored, err := m.store.Load(ctx)
	if err == nil && !isEndedRecord(stored) {
		return lerr // nothing of ours left to remove
	}
	if err = m.store.Delete(ctx); err != nil {
		m.log.LogAttrs(ctx, slog.LevelError, "supabase: deleting stored session failed", slog.Any("error", err))
	}
	return errors.Join(lerr, err)
}

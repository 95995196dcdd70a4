package supabase

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
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
	refreshTimeout    time.Duration // bound on one detached refresh flight
}

func defaultSessionConfig() sessionConfig {
	return sessionConfig{
		refreshMargin:     90 * time.Second,
		autoRefreshTick:   30 * time.Second,
		autoRefreshMargin: 120 * time.Second,
		retryBase:         200 * time.Millisecond,
		retryWindow:       30 * time.Second,
		failCooldown:      60 * time.Second,
		refreshTimeout:    60 * time.Second,
	}
}

// WithRefreshMargin sets how long before expiry a session is refreshed when
// it is read (default 90 s).
func WithRefreshMargin(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return errors.New("supabase: WithRefreshMargin: negative duration")
		}
		o.session.refreshMargin = d
		return nil
	}
}

// WithClockLeeway adds d to every expiry margin, for hosts whose clock may
// run behind the server's (default 0). A clock running ahead is detected from
// the Date header of Auth responses and corrected automatically.
func WithClockLeeway(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return errors.New("supabase: WithClockLeeway: negative duration")
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

	cur atomic.Pointer[Session]
	// gen changes on every sign-in and sign-out; a refresh started under an
	// older generation is discarded.
	gen  atomic.Uint64
	skew atomic.Int64 // server clock minus local clock, nanoseconds

	flight singleflight.Group

	mu       sync.Mutex // serialises changes, store writes and event order
	loaded   bool
	lastFail failedRefresh

	events eventBus

	autoMu     sync.Mutex
	autoCancel context.CancelFunc
	autoDone   chan struct{}

	refreshes atomic.Int64 // refresh requests sent, for tests and metrics
}

type failedRefresh struct {
	token string
	at    time.Time
	err   error
}

func newSessionManager(co *core, store SessionStore) *sessionManager {
	return &sessionManager{co: co, store: store, log: co.logger}
}

// setInitial installs s without events or store writes (derived clients).
func (m *sessionManager) setInitial(s *Session) {
	m.mu.Lock()
	m.cur.Store(s)
	m.loaded = true
	m.mu.Unlock()
}

// now is the best estimate of the server's clock.
func (m *sessionManager) now() time.Time {
	return time.Now().Add(time.Duration(m.skew.Load()))
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
	m.skew.Store(int64(skew))
}

// expiresWithin reports whether s expires within d (plus the leeway).
func (m *sessionManager) expiresWithin(s *Session, d time.Duration) bool {
	if s.ExpiresAt == 0 {
		return false
	}
	return m.now().Add(d+m.co.session.leeway).Unix() >= s.ExpiresAt
}

func (m *sessionManager) expired(s *Session) bool {
	return s.ExpiresAt != 0 && m.now().Unix() >= s.ExpiresAt
}

// load reads the stored session once.
func (m *sessionManager) load(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.loaded {
		return nil
	}
	if m.store != nil {
		s, err := m.store.Load(ctx)
		if err != nil {
			return err
		}
		if s != nil && s.AccessToken != "" {
			m.cur.Store(s.clone())
		}
	}
	m.loaded = true
	return nil
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
// margin. A refresh that fails while the access token is still valid is
// logged and the current session returned.
func (m *sessionManager) valid(ctx context.Context, margin time.Duration) (*Session, error) {
	s, err := m.current(ctx)
	if err != nil || s == nil {
		return s, err
	}
	if m.noRefresh || s.RefreshToken == "" || !m.expiresWithin(s, margin) {
		return s, nil
	}
	ns, err := m.refresh(ctx, s)
	if err == nil {
		return ns, nil
	}
	if !m.expired(s) && ctx.Err() == nil {
		m.log.LogAttrs(ctx, slog.LevelWarn, "supabase: refresh failed, using the still valid session", slog.Any("error", err))
		return s, nil
	}
	return nil, err
}

// refresh exchanges s's refresh token, once however many goroutines ask.
// The flight is detached from ctx: a waiter giving up never cancels the
// refresh the others wait for, and a rotated token is never lost.
func (m *sessionManager) refresh(ctx context.Context, s *Session) (*Session, error) {
	ch := m.flight.DoChan(s.RefreshToken, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.co.session.refreshTimeout)
		defer cancel()
		return m.refreshFlight(fctx, s)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*Session), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (m *sessionManager) refreshFlight(ctx context.Context, s *Session) (*Session, error) {
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
	if adopted := m.adoptStored(ctx, s); adopted != nil {
		return adopted, nil
	}
	m.mu.Lock()
	lf := m.lastFail
	m.mu.Unlock()
	if lf.token == s.RefreshToken && time.Since(lf.at) < m.co.session.failCooldown {
		return nil, lf.err
	}
	ns, err := m.exchangeWithRetry(ctx, s.RefreshToken)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.gen.Load() != gen || m.cur.Load() == nil {
		// Signed out (or in as someone else) while we refreshed.
		return nil, errSessionMissing()
	}
	if err != nil {
		m.lastFail = failedRefresh{token: s.RefreshToken, at: time.Now(), err: err}
		var e *Error
		if errors.As(err, &e) && e.Status >= 400 && e.Status < 500 && m.expired(m.cur.Load()) {
			m.clearLocked(ctx)
		}
		return nil, err
	}
	m.lastFail = failedRefresh{}
	if err := m.saveLocked(ctx, ns); err != nil {
		// The server already rotated the token: keep it in memory so it is
		// not lost, and report the store failure.
		m.cur.Store(ns)
		m.events.emit(EventTokenRefreshed, ns)
		return ns, nil
	}
	m.events.emit(EventTokenRefreshed, ns)
	return ns, nil
}

// adoptStored takes a session another process rotated into a shared store.
func (m *sessionManager) adoptStored(ctx context.Context, s *Session) *Session {
	if _, ok := m.store.(LockingStore); !ok {
		return nil
	}
	stored, err := m.store.Load(ctx)
	if err != nil || stored == nil || stored.RefreshToken == s.RefreshToken || stored.AccessToken == "" {
		return nil
	}
	if m.expiresWithin(stored, m.co.session.refreshMargin) {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cur.Load() != s {
		return nil
	}
	ns := stored.clone()
	m.cur.Store(ns)
	m.events.emit(EventTokenRefreshed, ns)
	return ns
}

func (m *sessionManager) lockStore(ctx context.Context) (func(), error) {
	if ls, ok := m.store.(LockingStore); ok {
		return ls.Lock(ctx)
	}
	return func() {}, nil
}

// exchangeWithRetry calls the token endpoint, retrying network errors and
// 5xx answers with 200 ms·2ⁿ backoff within the retry window.
func (m *sessionManager) exchangeWithRetry(ctx context.Context, refreshToken string) (*Session, error) {
	deadline := time.Now().Add(m.co.session.retryWindow)
	for attempt := 0; ; attempt++ {
		m.refreshes.Add(1)
		ns, err := m.exchange(ctx, refreshToken)
		if err == nil || !retryableRefreshError(err) {
			return ns, err
		}
		wait := m.co.session.retryBase << attempt
		if time.Now().Add(wait).After(deadline) {
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

// exchange sends one grant_type=refresh_token request.
func (m *sessionManager) exchange(ctx context.Context, refreshToken string) (*Session, error) {
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

// set installs a new session (sign-in), saves it and emits event.
func (m *sessionManager) set(ctx context.Context, s *Session, event AuthChangeEvent) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.loaded = true
	m.gen.Add(1)
	m.lastFail = failedRefresh{}
	err := m.saveLocked(ctx, s)
	m.events.emit(event, s)
	return err
}

// update replaces the current session's user (USER_UPDATED).
func (m *sessionManager) updateUser(ctx context.Context, u *User) {
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

// saveLocked stores s in memory and in the store. m.mu must be held.
func (m *sessionManager) saveLocked(ctx context.Context, s *Session) error {
	m.cur.Store(s)
	if m.store == nil {
		return nil
	}
	if err := m.store.Save(ctx, s); err != nil {
		m.log.LogAttrs(ctx, slog.LevelError, "supabase: saving session failed", slog.Any("error", err))
		return err
	}
	return nil
}

// clear signs out locally.
func (m *sessionManager) clear(ctx context.Context) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.loaded = true
	m.clearLocked(ctx)
}

func (m *sessionManager) clearLocked(ctx context.Context) {
	m.gen.Add(1)
	had := m.cur.Swap(nil) != nil
	if m.store != nil {
		if err := m.store.Delete(ctx); err != nil {
			m.log.LogAttrs(ctx, slog.LevelError, "supabase: deleting stored session failed", slog.Any("error", err))
		}
	}
	if had {
		m.events.emit(EventSignedOut, nil)
	}
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

// tokenRejected refreshes after the server rejected token, unless the
// session already moved on. Only the rejected session is replaced.
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
	ns, err := m.refresh(ctx, cur)
	return err == nil && ns.AccessToken != token
}

// startAuto runs the background refresher until ctx ends or stopAuto.
func (m *sessionManager) startAuto(ctx context.Context) {
	m.stopAuto()
	actx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	m.autoMu.Lock()
	m.autoCancel, m.autoDone = cancel, done
	m.autoMu.Unlock()
	go func() {
		defer close(done)
		t := time.NewTicker(m.co.session.autoRefreshTick)
		defer t.Stop()
		for {
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
		!m.expiresWithin(s, m.co.session.autoRefreshMargin) {
		return
	}
	if _, err := m.refresh(ctx, s); err != nil && ctx.Err() == nil {
		m.log.LogAttrs(ctx, slog.LevelWarn, "supabase: background refresh failed", slog.Any("error", err))
	}
}

func (m *sessionManager) stopAuto() {
	m.autoMu.Lock()
	cancel, done := m.autoCancel, m.autoDone
	m.autoCancel, m.autoDone = nil, nil
	m.autoMu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// eventBus delivers events to subscribers in order, each subscriber on its
// own goroutine that exists only while it has events to deliver, so a slow
// or panicking subscriber blocks nobody and no goroutine outlives its work.
type eventBus struct {
	mu   sync.Mutex
	next int
	subs map[int]*subscriber
}

type subscriber struct {
	fn      func(AuthChangeEvent, *Session)
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
	s := &subscriber{fn: fn}
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

func (s *subscriber) call(e authEvent) {
	defer func() { _ = recover() }() // a panicking subscriber must not take the client down
	s.fn(e.event, e.session)
}

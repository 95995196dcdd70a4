package supabase

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

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
	stored, err := m.storedRotation(ctx, s)
	if err != nil {
		m.shared.record(token, nil, err, &m.co.session) // spent: nobody here sends it either
		return nil, m.refreshFailed(ctx, gen, s, err)
	}
	if stored != nil {
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
// refused (4xx) or spent (2xx, see spentRefreshError) ends the session
// (see loseLocked) only once the access token is really dead; until then
// the session is kept and the token is not sent again. A spent token is
// also taken out of the store's copy of the session, so that no client
// sharing the store sends it. Retryable failures always keep the session.
func (m *sessionManager) refreshFailed(ctx context.Context, gen uint64, s *Session, err error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := m.cur.Load()
	if m.gen.Load() != gen || cur == nil {
		return errSessionMissing()
	}
	if !permanentRefreshError(err) || cur.RefreshToken != s.RefreshToken {
		return err
	}
	if m.reallyExpired(cur) {
		m.loseLocked(ctx, err)
	} else if spentRefreshError(err) {
		m.saveSpentLocked(ctx, cur)
	}
	return err
}

// saveSpentLocked saves cur without its refresh token, which was spent, in
// place of cur in the store: another client sharing the store (another
// process) then never sends it (see storedRotation), and a client started
// later uses the access token until it expires. The session in memory
// keeps the token, so that a refresh of it reports why it fails. m.mu must
// be held.
func (m *sessionManager) saveSpentLocked(ctx context.Context, cur *Session) {
	if m.store == nil {
		return
	}
	stored, err := m.store.Load(ctx)
	if err != nil || stored == nil || stored.AccessToken != cur.AccessToken || stored.RefreshToken == "" {
		return
	}
	spent := stored.clone()
	spent.RefreshToken = ""
	if err := m.store.Save(ctx, spent); err != nil {
		m.log.LogAttrs(ctx, slog.LevelError, "supabase: saving the session failed", slog.Any("error", err))
	}
}

// storedRotation returns the session in a shared store when another
// process rotated our refresh token, or nil. When another process spent
// our refresh token without learning its successor (the store holds our
// access token without a refresh token, see saveSpentLocked), it returns an
// error matching ErrInvalidResponse: the token must not be sent again.
func (m *sessionManager) storedRotation(ctx context.Context, s *Session) (*Session, error) {
	if _, ok := m.store.(LockingStore); !ok {
		return nil, nil
	}
	stored, err := m.store.Load(ctx)
	if err != nil || stored == nil || stored.AccessToken == "" {
		return nil, nil
	}
	if stored.RefreshToken == "" && stored.AccessToken == s.AccessToken {
		return nil, &Error{Service: ServiceAuth, Code: codeInvalidResponse,
			Message: "the refresh token was spent by another client sharing the session store, whose answer could not be decoded"}
	}
	if stored.RefreshToken == "" || stored.RefreshToken == s.RefreshToken {
		return nil, nil
	}
	return stored.clone(), nil
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

// permanentRefreshError reports whether a refresh token must never be sent
// again after err: the server refused it (a 4xx other than 408 and 429;
// sending it again is useless and, for a token already used, looks like
// theft), or it was spent (see spentRefreshError).
func permanentRefreshError(err error) bool {
	var e *Error
	return errors.As(err, &e) && (spentRefreshError(e) || e.Status >= 400 && e.Status < 500 &&
		e.Status != http.StatusRequestTimeout && e.Status != http.StatusTooManyRequests)
}

// spentRefreshError reports whether a refresh was answered 2xx with a body
// that is not a usable session (ErrInvalidResponse). The server has
// rotated the token all the same: it is spent, and its successor lost.
func spentRefreshError(err error) bool {
	var e *Error
	// A 2xx body over the size limit was rotated all the same.
	return errors.As(err, &e) && (e.Code == codeInvalidResponse || e.Code == codeResponseTooLarge)
}

// exchange sends one grant_type=refresh_token request.
func (m *sessionManager) exchange(ctx context.Context, refreshToken string) (*Session, error) {
	m.shared.requests.Add(1)
	u := m.co.authURL + "/token?grant_type=refresh_token"
	resp, err := m.co.send(ctx, nil, &apiRequest{
		service: ServiceAuth, method: http.MethodPost, url: u,
		header: authJSONHeader(), body: mustJSON(map[string]string{"refresh_token": refreshToken}),
	})
	if err != nil {
		return nil, err
	}
	m.noteServerDate(resp.header)
	s, err := m.decodeSession(resp.body)
	var e *Error
	if errors.As(err, &e) {
		e.Status, e.Method, e.URL = resp.status, http.MethodPost, sanitizeURL(u)
	}
	return s, err
}

// decodeSession decodes a session answer (sign-in, refresh). A body that
// is not a session, has no access token, or one that cannot be sent as a
// bearer token (see validAccessToken) is an *Error matching
// ErrInvalidResponse. The expiry is normalised (see normalizeExpiry).
func (m *sessionManager) decodeSession(body []byte) (*Session, error) {
	var s Session
	if err := json.Unmarshal(body, &s); err != nil {
		// json's errors name a type or offset, never the body's content.
		return nil, invalidSessionAnswer("the session in the answer cannot be decoded: " + err.Error())
	}
	switch {
	case s.AccessToken == "":
		return nil, invalidSessionAnswer("the answer has no access_token")
	case !validAccessToken(s.AccessToken):
		return nil, invalidSessionAnswer("the access_token in the answer cannot be sent as a bearer token")
	}
	m.normalizeExpiry(&s, true)
	return &s, nil
}

// invalidSessionAnswer reports a 2xx Auth answer that is not a usable
// session.
func invalidSessionAnswer(msg string) *Error {
	return &Error{Service: ServiceAuth, Status: http.StatusOK, Code: codeInvalidResponse, Message: msg}
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

// refreshShared is the refresh state shared by a client and the clients
// derived from it.
type refreshShared struct {
	flights    flightGroup  // token exchanges, keyed by refresh token
	skew       atomic.Int64 // server clock minus local clock, nanoseconds
	skewWarned atomic.Bool  // an implausible Date header was logged at Warn
	requests   atomic.Int64 // refresh requests sent, for tests and metrics

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

// spent reports whether token was spent by a 2xx answer that could not be
// decoded (see spentRefreshError).
func (sh *refreshShared) spent(token string) bool {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	f, ok := sh.failed[token]
	return ok && spentRefreshError(f.err)
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

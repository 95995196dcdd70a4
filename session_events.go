package supabase

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
)

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

// subscribe registers fn; its first event is INITIAL_SESSION with the
// session as it is at that moment (loaded from the store if need be), and
// no later event is missed or delivered twice. Events wait in a queue of
// fn's own while fn runs (consecutive TOKEN_REFRESHED are merged), so fn
// must return: a fn blocked for good keeps its goroutine, and the events
// sent to it, until the process ends. The store is read without a
// deadline: [SessionStore.Load] must not block indefinitely.
func (m *sessionManager) subscribe(fn func(AuthChangeEvent, *Session)) func() {
	if err := m.load(context.Background()); err != nil {
		m.log.LogAttrs(context.Background(), slog.LevelError, "supabase: loading stored session failed", slog.Any("error", err))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.events.subscribe(fn, m.cur.Load())
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

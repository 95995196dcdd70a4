package supabase

import (
	"context"
	"log/slog"
	"time"
)

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

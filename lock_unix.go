//go:build unix

package supabase

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"
)

// fileLocking reports whether lockFile excludes other processes.
const fileLocking = true

// lockFile takes an exclusive flock on path, polling so the wait can watch ctx.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, err
		}
		if err := sleepCtx(ctx, 10*time.Millisecond); err != nil {
			f.Close()
			return nil, err
		}
	}
}

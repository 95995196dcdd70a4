//go:build unix

package supabase

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user and system) the process has used so
// far: both sides of an in-process benchmark, and none of the time spent
// waiting for a core that other programs hold.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

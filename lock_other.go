//go:build !unix

package supabase

import "context"

// fileLocking reports whether lockFile excludes other processes.
const fileLocking = false

// lockFile is a no-op where flock is unavailable; [FileStore] then only
// serialises goroutines of one process.
func lockFile(context.Context, string) (func(), error) { return func() {}, nil }

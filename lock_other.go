//go:build !unix

package supabase

import "context"

// lockFile is a no-op where flock is unavailable; FileStore then only
// serialises goroutines of one process.
func lockFile(context.Context, string) (func(), error) { return func() {}, nil }

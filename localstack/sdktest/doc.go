// Package sdktest holds the SDK's integration tests: the supabase package
// talking to the local stack over a real PostgreSQL with real row level
// security policies. It has no code of its own; see its _test.go files.
package sdktest

package supabase

import (
	"fmt"
	"log/slog"
)

// Each type holding a secret prints itself, next to its definition: a copy
// of its value with the secrets replaced by redact, converted to a local
// type without methods, printed with the caller's verb (formatRedacted) or
// given to slog (LogValue).

// redact stands in for a secret; an empty one stays empty.
func redact(secret string) string {
	if secret == "" {
		return ""
	}
	return "[redacted]"
}

// formatRedacted prints v, a redacted copy, with the caller's verb and flags.
func formatRedacted(f fmt.State, verb rune, v any) {
	_, _ = fmt.Fprintf(f, fmt.FormatString(f, verb), v)
}

// logPtr is slog.Any(key, *p), or a nil value for a nil p: slog would call
// the LogValue of a nil pointer's value receiver and log its panic.
func logPtr[T any](key string, p *T) slog.Attr {
	if p == nil {
		return slog.Any(key, nil)
	}
	return slog.Any(key, *p)
}

package supabase

import (
	"fmt"
	"io"
	"log/slog"
	"strconv"
)

// String describes v without its JWT secret: which kinds of keys it
// verifies with.
func (v *Verifier) String() string {
	if v == nil {
		return "<nil>"
	}
	if v.parser == nil {
		return "supabase.Verifier{not made by NewVerifier}"
	}
	return "supabase.Verifier{hs256 secret: " + strconv.FormatBool(v.secret != nil) +
		", jwks: " + strconv.FormatBool(v.jwks != nil) + "}"
}

// Format makes every fmt verb (%v, %+v, %#v, %s) print String.
func (v *Verifier) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, v.String()) }

// LogValue makes slog log what String shows.
func (v *Verifier) LogValue() slog.Value { return slog.StringValue(v.String()) }

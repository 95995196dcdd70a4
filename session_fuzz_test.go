package supabase

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sessionSeeds are Auth session answers and stored sessions.
var sessionSeeds = []string{
	`{"access_token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln","token_type":"bearer","expires_in":3600,"expires_at":1700003600,` +
		`"refresh_token":"r1","user":{"id":"u1","aud":"authenticated","role":"authenticated","email":"a@b.c",` +
		`"email_confirmed_at":"2024-01-01T00:00:00+01:00","app_metadata":{"provider":"email","n":1e300},"user_metadata":{},` +
		`"identities":[{"identity_id":"i","id":"u1","user_id":"u1","provider":"email","identity_data":{"x":[1,"y"]}}],` +
		`"factors":[{"id":"f","factor_type":"totp","status":"verified"}],"is_anonymous":false}}`,
	`{"access_token":"t","expires_in":3600}`,
	`{"access_token":"t","expires_in":9223372036854775807}`,
	`{"access_token":"t","expires_in":-5,"expires_at":-1}`,
	`{"access_token":"","refresh_token":"r"}`,
	`{"access_token":" "}`,
	"{\"access_token\":\"a\\r\\nX-Injected: 1\"}",
	`{"access_token":"t","user":null,"weak_password":{"reasons":["length"],"message":"x"}}`,
	`{"access_token":"t","user":{"created_at":"not a time"}}`,
	`{"access_token":1}`, `[]`, `null`, ``, `{"access_token":"t"} trailing`, "{\"access_token\":\"\xff\"}",
	`{"access_token":"t","provider_token":"p","provider_refresh_token":"pr","expires_at":1e3}`,
}

// sendableToken reports whether "Authorization: Bearer tok" is sent as
// it is: tok is not empty, has no surrounding space or tab (trimmed from a
// header value), and every byte is allowed in a field value by RFC 9110
// (VCHAR, obs-text, SP, HTAB).
func sendableToken(tok string) bool {
	if tok == "" || strings.Trim(tok, " \t") != tok {
		return false
	}
	for _, c := range []byte(tok) {
		if !(c >= 0x21 && c <= 0x7e || c >= 0x80 || c == ' ' || c == '\t') {
			return false
		}
	}
	return true
}

// FuzzDecodeSession decodes arbitrary Auth session answers: no panic; a
// session with a usable access token and a sane expiry, or an error
// matching ErrInvalidResponse that quotes no token.
func FuzzDecodeSession(f *testing.F) {
	for _, s := range sessionSeeds {
		f.Add([]byte(s))
	}
	c := fuzzClient(f)
	m := c.Auth.sessions
	f.Fuzz(func(t *testing.T, body []byte) {
		before := time.Now().Unix()
		s, err := m.decodeSession(body)
		if err != nil {
			if s != nil {
				t.Fatalf("both a session and an error: %v", err)
			}
			if !errors.Is(err, ErrInvalidResponse) {
				t.Fatalf("error %v does not match ErrInvalidResponse", err)
			}
			var probe struct {
				AccessToken  string `json:"access_token"`
				RefreshToken string `json:"refresh_token"`
			}
			_ = json.Unmarshal(body, &probe)
			for _, tok := range []string{probe.AccessToken, probe.RefreshToken} {
				if len(tok) >= 8 && strings.Contains(err.Error(), tok) {
					t.Fatalf("error quotes a token: %v", err)
				}
			}
			return
		}
		if !sendableToken(s.AccessToken) {
			t.Fatalf("session with an unusable access token %q", s.AccessToken)
		}
		var wire struct {
			ExpiresAt *json.RawMessage `json:"expires_at"`
		}
		_ = json.Unmarshal(body, &wire)
		switch exp := expiryOf(s.AccessToken); {
		case exp > 0:
			if s.ExpiresAt != exp {
				t.Fatalf("expires_at %d, but the token's exp is %d", s.ExpiresAt, exp)
			}
		case s.ExpiresIn > 0 && wire.ExpiresAt == nil && s.ExpiresAt < before:
			t.Fatalf("expires_in %d gave expires_at %d, in the past", s.ExpiresIn, s.ExpiresAt)
		}
		if s.ExpiresIn > maxSessionLifetime {
			t.Fatalf("expires_in %d not bounded", s.ExpiresIn)
		}
		_ = s.String()
		_, _ = s.Claims()
		_ = s.Expiry()
	})
}

// FuzzFileStore loads arbitrary files: no panic; a session, nothing, or an
// error matching ErrStoredSessionInvalid. A session saved and loaded again
// is the same session.
func FuzzFileStore(f *testing.F) {
	for _, s := range sessionSeeds {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "session.json")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		st, err := NewFileStore(path)
		if err != nil {
			t.Fatal(err)
		}
		s, err := st.Load(ctx)
		if err != nil {
			if !errors.Is(err, ErrStoredSessionInvalid) || !storeDataInvalid(err) {
				t.Fatalf("Load: %v does not match ErrStoredSessionInvalid", err)
			}
			return
		}
		if s == nil {
			if len(bytes.TrimSpace(data)) != 0 && string(bytes.TrimSpace(data)) != "null" {
				t.Fatalf("no session from %q", data)
			}
			return
		}
		checkSaveLoad(t, ctx, st, s)
	})
}

// checkSaveLoad saves s and checks that Load gives the same session back.
func checkSaveLoad(t *testing.T, ctx context.Context, st SessionStore, s *Session) {
	t.Helper()
	if err := st.Save(ctx, s); err != nil {
		t.Fatalf("Save: %v", err)
	}
	got, err := st.Load(ctx)
	if err != nil || got == nil {
		t.Fatalf("Load after Save: %v, %v", got, err)
	}
	if got.AccessToken != s.AccessToken || got.RefreshToken != s.RefreshToken || got.ExpiresAt != s.ExpiresAt ||
		got.ExpiresIn != s.ExpiresIn || got.ProviderToken != s.ProviderToken || (got.User == nil) != (s.User == nil) {
		t.Fatalf("Save then Load changed the session:\n%+v\n%+v", s, got)
	}
	a, err1 := json.Marshal(s)
	b, err2 := json.Marshal(got)
	if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
		t.Fatalf("Save then Load changed the session:\n%s\n%s", a, b)
	}
}

// FuzzSessionRoundTrip decodes Auth session answers and checks that a
// FileStore keeps what was decoded.
func FuzzSessionRoundTrip(f *testing.F) {
	for _, s := range sessionSeeds {
		f.Add([]byte(s))
	}
	c := fuzzClient(f)
	m := c.Auth.sessions
	dir := f.TempDir()
	st, err := NewFileStore(filepath.Join(dir, "s.json"))
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := m.decodeSession(body)
		if err != nil {
			return
		}
		checkSaveLoad(t, ctx, st, s)
	})
}

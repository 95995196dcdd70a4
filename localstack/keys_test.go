package localstack

import (
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// The CLI's demo keys verify with its secret and carry the claims the CLI
// gives them; New derives exactly these keys from the default secret.
func TestDemoKeys(t *testing.T) {
	for _, tc := range []struct{ key, role string }{
		{DefaultAnonKey, "anon"},
		{DefaultServiceRoleKey, "service_role"},
	} {
		claims := jwt.MapClaims{}
		tok, err := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"})).ParseWithClaims(tc.key, claims,
			func(*jwt.Token) (any, error) { return []byte(DefaultJWTSecret), nil })
		if err != nil || !tok.Valid {
			t.Fatalf("%s key does not verify: %v", tc.role, err)
		}
		if claims["iss"] != "supabase-demo" || claims["role"] != tc.role || claims["exp"] != float64(1983812996) || len(claims) != 3 {
			t.Errorf("%s key claims = %v", tc.role, claims)
		}
		if got := demoKey(DefaultJWTSecret, tc.role); got != tc.key {
			t.Errorf("demoKey(%s) = %s, want %s", tc.role, got, tc.key)
		}
		if _, err := verifyJWT("another-secret-that-is-at-least-32-chars", tc.key); err != errJWTCrypto {
			t.Errorf("%s key with the wrong secret: err = %v", tc.role, err)
		}
	}
	cfg, err := Config{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AnonKey != DefaultAnonKey || cfg.ServiceRoleKey != DefaultServiceRoleKey {
		t.Error("default config does not use the CLI's keys")
	}
}

func TestConfigFromEnv(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://u@h/db")
	t.Setenv("GOTRUE_JWT_EXP", "2")
	t.Setenv("GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL", "0")
	t.Setenv("GOTRUE_MAILER_AUTOCONFIRM", "false")
	t.Setenv("API_EXTERNAL_URL", "http://localhost:9999/")
	cfg, err := ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err = cfg.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DatabaseURL != "postgres://u@h/db" || cfg.AccessTokenTTL.Seconds() != 2 || cfg.RefreshReuseInterval != 0 ||
		!cfg.RequireEmailConfirmation || cfg.Issuer != "http://localhost:9999/auth/v1" {
		t.Errorf("config = %+v", cfg)
	}
	t.Setenv("GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL", "soon")
	if _, err := ConfigFromEnv(); err == nil {
		t.Error("bad reuse interval accepted")
	}
}

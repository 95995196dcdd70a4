package localstack_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/supabase-go/supabase/localstack/localstacktest"
)

// client speaks HTTP to a test stack the way supabase-js does.
type client struct {
	t  *testing.T
	st *localstacktest.Stack
}

func newClient(t *testing.T, opts ...localstacktest.Option) *client {
	t.Parallel()
	return &client{t: t, st: localstacktest.New(t, opts...)}
}

// reply is a response with its body read.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	return m
}

func (r reply) rows(t *testing.T) []map[string]any {
	t.Helper()
	var m []map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	return m
}

// do sends a request with the anon key as apikey and token (the anon key
// when empty) as bearer. Extra headers come in name, value pairs.
func (c *client) do(method, path, token string, body any, headers ...string) reply {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.st.URL+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if token == "" {
		token = c.st.AnonKey
	}
	req.Header.Set("apikey", c.st.AnonKey)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Supabase-Api-Version", "2024-01-01")
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// session is the part of an auth response the tests use.
type session struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int64  `json:"expires_in"`
	ExpiresAt    int64  `json:"expires_at"`
	TokenType    string `json:"token_type"`
	User         struct {
		ID    string `json:"id"`
		Email string `json:"email"`
	} `json:"user"`
}

func (c *client) signUp(email, password string) session {
	c.t.Helper()
	r := c.do("POST", "/auth/v1/signup", "", map[string]any{"email": email, "password": password})
	if r.status != 200 {
		c.t.Fatalf("sign up %s: %d %s", email, r.status, r.body)
	}
	var s session
	if err := json.Unmarshal(r.body, &s); err != nil {
		c.t.Fatal(err)
	}
	return s
}

func (c *client) signIn(email, password string) session {
	c.t.Helper()
	r := c.do("POST", "/auth/v1/token?grant_type=password", "", map[string]any{"email": email, "password": password})
	if r.status != 200 {
		c.t.Fatalf("sign in %s: %d %s", email, r.status, r.body)
	}
	var s session
	if err := json.Unmarshal(r.body, &s); err != nil {
		c.t.Fatal(err)
	}
	return s
}

func (c *client) refresh(token string) reply {
	c.t.Helper()
	return c.do("POST", "/auth/v1/token?grant_type=refresh_token", "", map[string]any{"refresh_token": token})
}

// wantError checks an error reply's status and exact JSON body.
func wantError(t *testing.T, r reply, status int, body string) {
	t.Helper()
	if r.status != status {
		t.Errorf("status = %d, want %d (body %s)", r.status, status, r.body)
	}
	var got, want any
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	if err := json.Unmarshal([]byte(body), &want); err != nil {
		t.Fatalf("want %q: %v", body, err)
	}
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if !bytes.Equal(g, w) {
		t.Errorf("body = %s\nwant   %s", g, w)
	}
}

// signedToken signs claims with the stack's JWT secret.
func signedToken(t *testing.T, c *client, claims map[string]any) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(claims)).SignedString([]byte(c.st.Server.JWTSecret()))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// verifyES256 checks an ES256 JWT against a JWK's coordinates.
func verifyES256(t *testing.T, token, x, y string) bool {
	t.Helper()
	xb, err1 := base64.RawURLEncoding.DecodeString(x)
	yb, err2 := base64.RawURLEncoding.DecodeString(y)
	if err1 != nil || err2 != nil {
		t.Fatalf("coordinates: %v %v", err1, err2)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, xb...), yb...))
	if err != nil {
		t.Fatal(err)
	}
	_, err = jwt.Parse(token, func(*jwt.Token) (any, error) { return pub, nil }, jwt.WithValidMethods([]string{"ES256"}))
	return err == nil
}

package supabase_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/supabase-go/supabase"
)

type Todo struct {
	ID    int64  `json:"id,omitempty"`
	Title string `json:"title"`
	Done  bool   `json:"done"`
}

func ExampleNewClient() {
	c, err := supabase.NewClient("https://abcdefghijklmnop.supabase.co/", "public-anon-key")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.URL())

	_, err = supabase.NewClient("abcdefghijklmnop.supabase.co", "public-anon-key")
	fmt.Println(err)
	// Output:
	// https://abcdefghijklmnop.supabase.co
	// supabase: project URL must start with http:// or https:// (it has no scheme)
}

func ExampleNewClientFromEnv() {
	os.Setenv("SUPABASE_URL", "http://127.0.0.1:54321")
	os.Unsetenv("SUPABASE_ANON_KEY")
	os.Unsetenv("SUPABASE_PUBLISHABLE_KEY")
	os.Unsetenv("SUPABASE_KEY")
	_, err := supabase.NewClientFromEnv()
	fmt.Println(err)
	// Output:
	// supabase: environment variable SUPABASE_ANON_KEY is not set (SUPABASE_PUBLISHABLE_KEY or SUPABASE_KEY also work)
}

// The everyday task: sign in, then query a table protected by RLS as that user.
func ExampleAuthClient_SignInWithPassword() {
	ctx := context.Background()
	c, err := supabase.NewClientFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Auth.SignInWithPassword(ctx, "ada@example.com", os.Getenv("PASSWORD")); err != nil {
		if errors.Is(err, supabase.ErrInvalidCredentials) {
			log.Fatal("wrong email or password")
		}
		log.Fatal(err)
	}
	todos, err := supabase.All[Todo](ctx, c.From("todos").Select("id,title,done").Eq("done", false))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(todos), "open todos")
}

func ExampleParseClaims() {
	// A token as Supabase Auth issues it (signature not checked by ParseClaims).
	token := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." +
		"eyJzdWIiOiI2YTFkNWIyZSIsInJvbGUiOiJhdXRoZW50aWNhdGVkIiwiZW1haWwiOiJhZGFAZXhhbXBsZS5jb20iLCJleHAiOjQxMDI0NDQ4MDAsImFhbCI6ImFhbDEifQ." +
		"c2lnbmF0dXJl"
	claims, err := supabase.ParseClaims(token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(claims.Subject, claims.Role, claims.Email, claims.AAL, claims.ExpiresAt.UTC().Format("2006-01-02"))
	// Output:
	// 6a1d5b2e authenticated ada@example.com aal1 2100-01-01
}

func ExampleSession_String() {
	s := &supabase.Session{AccessToken: "eyJ...", RefreshToken: "ycxk4mq5w2ab", ExpiresAt: 4102444800,
		User: &supabase.User{ID: "6a1d5b2e"}}
	fmt.Println(s)
	fmt.Printf("%+v\n", s)
	// Output:
	// Session{User:6a1d5b2e ExpiresAt:2100-01-01T00:00:00Z AccessToken:[redacted] RefreshToken:[redacted]}
	// Session{User:6a1d5b2e ExpiresAt:2100-01-01T00:00:00Z AccessToken:[redacted] RefreshToken:[redacted]}
}

// A backend derives a cheap client per request for the user whose JWT came
// with it; the shared client is never modified.
func ExampleClient_WithAccessToken() {
	base, err := supabase.NewClient("http://127.0.0.1:54321", "public-anon-key")
	if err != nil {
		log.Fatal(err)
	}
	user := base.WithAccessToken("user-jwt-from-the-request")
	p, err := user.From("todos").Select("id,title").Eq("done", false).Preview()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Method, p.URL)
	// Output:
	// GET http://127.0.0.1:54321/rest/v1/todos?select=id,title&done=eq.false
}

// Command quickstart shows Row Level Security seeing the signed-in user.
//
// Two users sign in with email and password, each adds a todo as
// themselves, and the demo table's policies decide what everyone sees:
// each user only their own rows, anon nothing; a user cannot change
// another's row or insert one in another's name.
//
//	(cd localstack && go run ./cmd/devserver) &   # or `supabase start` with the demo schema
//	go run ./examples/quickstart
//
// SUPABASE_URL and SUPABASE_ANON_KEY default to the local stack
// (http://127.0.0.1:54321 and the Supabase CLI's anon key). The program
// exits non-zero if anything does not behave as described.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/supabase-go/supabase"
)

const (
	localURL     = "http://127.0.0.1:54321"
	localAnonKey = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0"
	password     = "quickstart-password"
)

// Todo is a row of public.todos.
type Todo struct {
	ID     int64  `json:"id,omitempty"`
	UserID string `json:"user_id,omitempty"`
	Title  string `json:"title"`
	Done   bool   `json:"done"`
}

func main() {
	url, key := os.Getenv("SUPABASE_URL"), os.Getenv("SUPABASE_ANON_KEY")
	if url == "" {
		url = localURL
	}
	if key == "" {
		key = localAnonKey
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, url, key); err != nil {
		fmt.Fprintln(os.Stderr, "\nquickstart failed:", err)
		os.Exit(1)
	}
}

// person is one signed-in user with their own client: a Client holds one
// session, and every request it sends carries that user's access token.
type person struct {
	name   string
	client *supabase.Client
	id     string
}

func signIn(ctx context.Context, url, key, name string) (*person, error) {
	c, err := supabase.NewClient(url, key)
	if err != nil {
		return nil, err
	}
	email := name + "@example.com"
	// Sign up the first time; afterwards the user already exists.
	_, err = c.Auth.SignUp(ctx, supabase.SignUpParams{Email: email, Password: password})
	if err != nil && !errors.Is(err, supabase.ErrConflict) {
		return nil, fmt.Errorf("sign up %s: %w", email, err)
	}
	s, err := c.Auth.SignInWithPassword(ctx, email, password)
	if err != nil {
		return nil, fmt.Errorf("sign in %s: %w", email, err)
	}
	return &person{name: name, client: c, id: s.User.ID}, nil
}

func run(ctx context.Context, url, key string) error {
	fmt.Printf("Supabase quickstart against %s\n\n", url)

	fmt.Println("1. Two users sign in with email and password")
	ada, err := signIn(ctx, url, key, "ada")
	if err != nil {
		return err
	}
	bob, err := signIn(ctx, url, key, "bob")
	if err != nil {
		return err
	}
	for _, p := range []*person{ada, bob} {
		fmt.Printf("   %-4s signed in as user %s\n", p.name, p.id)
	}

	fmt.Println("\n2. Each adds a todo as themselves (user_id defaults to auth.uid())")
	for _, p := range []*person{ada, bob} {
		// Start from a clean slate: a user may delete only their own rows.
		if _, err := p.client.From("todos").Delete().Gte("id", 0).Execute(ctx); err != nil {
			return fmt.Errorf("%s clears their todos: %w", p.name, err)
		}
		t, err := supabase.One[Todo](ctx, p.client.From("todos").Insert(Todo{Title: p.name + "'s first todo"}).Select("*"))
		if err != nil {
			return fmt.Errorf("%s inserts a todo: %w", p.name, err)
		}
		if t.UserID != p.id {
			return fmt.Errorf("%s's todo belongs to %s", p.name, t.UserID)
		}
		fmt.Printf("   %-4s added todo #%d %q\n", p.name, t.ID, t.Title)
	}

	fmt.Println("\n3. Row Level Security decides who sees what")
	var adaTodo Todo
	for _, p := range []*person{ada, bob} {
		todos, err := supabase.All[Todo](ctx, p.client.From("todos").Select("id,user_id,title,done").Order("id"))
		if err != nil {
			return fmt.Errorf("%s lists todos: %w", p.name, err)
		}
		fmt.Printf("   %-4s sees %d todo(s):", p.name, len(todos))
		for _, t := range todos {
			fmt.Printf(" #%d %q", t.ID, t.Title)
			if t.UserID != p.id {
				return fmt.Errorf("%s sees %s's todo #%d", p.name, t.UserID, t.ID)
			}
		}
		fmt.Println()
		if len(todos) != 1 {
			return fmt.Errorf("%s sees %d todos, want 1", p.name, len(todos))
		}
		if p == ada {
			adaTodo = todos[0]
		}
	}
	anon, err := supabase.NewClient(url, key)
	if err != nil {
		return err
	}
	anonTodos, err := supabase.All[Todo](ctx, anon.From("todos").Select("id"))
	if err != nil {
		return fmt.Errorf("anon lists todos: %w", err)
	}
	fmt.Printf("   anon (not signed in) sees %d todo(s)\n", len(anonTodos))
	if len(anonTodos) != 0 {
		return fmt.Errorf("anon sees %d todos", len(anonTodos))
	}

	fmt.Println("\n4. Bob tries to mark Ada's todo done")
	changed, err := supabase.All[Todo](ctx, bob.client.From("todos").Update(map[string]any{"done": true}).Eq("id", adaTodo.ID).Select("id"))
	if err != nil {
		return fmt.Errorf("bob updates ada's todo: %w", err)
	}
	fmt.Printf("   %d row(s) changed: the policy hides Ada's row from Bob\n", len(changed))
	if len(changed) != 0 {
		return errors.New("bob changed ada's todo")
	}

	fmt.Println("\n5. Ada tries to add a todo in Bob's name")
	_, err = ada.client.From("todos").Insert(Todo{Title: "forged", UserID: bob.id}).Execute(ctx)
	var e *supabase.Error
	if !errors.As(err, &e) || !errors.Is(err, supabase.ErrPermissionDenied) {
		return fmt.Errorf("forged insert: got %v, want a permission error", err)
	}
	fmt.Printf("   refused: %d %s %s\n", e.Status, e.Code, e.Message)

	fmt.Println("\n6. What PostgreSQL sees: Ada's access token claims")
	s, err := ada.client.Auth.Session(ctx)
	if err != nil {
		return err
	}
	claims, err := supabase.ParseClaims(s.AccessToken)
	if err != nil {
		return err
	}
	if claims.ExpiresAt == nil {
		return errors.New("access token has no exp claim")
	}
	exp := claims.ExpiresAt.Time
	fmt.Printf("   sub  = %s   (auth.uid() in the policies)\n", claims.Subject)
	fmt.Printf("   role = %s   (the Postgres role the request runs as)\n", claims.Role)
	fmt.Printf("   exp  = %s (in %s)\n", exp.UTC().Format(time.RFC3339), time.Until(exp).Round(time.Second))
	if claims.Subject != ada.id || claims.Role != "authenticated" {
		return fmt.Errorf("claims sub=%s role=%s", claims.Subject, claims.Role)
	}

	fmt.Println("\nAll checks passed: every user sees exactly their own rows.")
	return nil
}

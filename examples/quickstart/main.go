// Command quickstart shows Row Level Security seeing the signed-in user.
//
// Two users sign in with email and password, each adds a todo as
// themselves, and the demo table's policies decide what everyone sees:
// each user only their own rows, anon nothing; a user cannot change
// another's row or insert one in another's name. Then Storage and Edge
// Functions: Ada uploads her avatar to the private bucket avatars, whose
// policies on storage.objects keep Bob out of her folder; a signed URL
// serves it without a token until it expires; and the echo function
// answers each caller's own JWT claims.
//
//	(cd localstack && go run ./cmd/devserver) &   # or `supabase start`, see below
//	go run ./examples/quickstart
//
// SUPABASE_URL and SUPABASE_ANON_KEY default to the local stack
// (http://127.0.0.1:54321 and the Supabase CLI's anon key). The program
// exits non-zero if anything does not behave as described.
//
// It runs unchanged against a real Supabase project (or `supabase start`)
// that has the todos table, the avatars bucket and their policies
// (setup.sql in this directory) and the echo function
// (functions/echo/index.ts), with email sign-ups confirmed automatically.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
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

	if err := storageStep(ctx, ada, bob); err != nil {
		return err
	}
	if err := functionsStep(ctx, ada, bob); err != nil {
		return err
	}

	fmt.Println("\nAll checks passed: every user sees exactly their own rows and files.")
	return nil
}

// signedURLLifetime is short so that the demo can show a signed URL
// expiring.
const signedURLLifetime = 2 * time.Second

// storageStep: Ada's avatar in the private bucket avatars, where the
// policies on storage.objects let each user read and write only under a
// folder named after their user id.
func storageStep(ctx context.Context, ada, bob *person) error {
	fmt.Println("\n7. Storage: Ada's avatar in the private bucket \"avatars\"")
	avatar, err := avatarPNG()
	if err != nil {
		return err
	}
	path := ada.id + "/avatar.png"
	// Upsert: a second run replaces the avatar the first one left.
	_, err = ada.client.Storage.From("avatars").Upload(ctx, path, bytes.NewReader(avatar),
		&supabase.UploadOptions{ContentType: "image/png", Upsert: true})
	if err != nil {
		return fmt.Errorf("ada uploads her avatar: %w", err)
	}
	fmt.Printf("   ada  uploaded avatars/%s (%d bytes)\n", path, len(avatar))

	bobs := bob.client.Storage.From("avatars")
	_, err = bobs.DownloadBytes(ctx, path, nil)
	var e *supabase.Error
	if !errors.As(err, &e) || !errors.Is(err, supabase.ErrNotFound) {
		return fmt.Errorf("bob reads ada's avatar: got %v, want not found", err)
	}
	fmt.Printf("   bob  reads it:      refused: %s %s (the SELECT policy hides it)\n", e.Code, e.Message)
	_, err = bobs.Upload(ctx, path, bytes.NewReader([]byte("not an avatar")),
		&supabase.UploadOptions{ContentType: "image/png", Upsert: true})
	if !errors.As(err, &e) || !errors.Is(err, supabase.ErrPermissionDenied) {
		return fmt.Errorf("bob overwrites ada's avatar: got %v, want a permission error", err)
	}
	fmt.Printf("   bob  overwrites it: refused: %s %s\n", e.Code, e.Message)

	signed, err := ada.client.Storage.From("avatars").CreateSignedURL(ctx, path, signedURLLifetime, nil)
	if err != nil {
		return fmt.Errorf("ada signs a URL: %w", err)
	}
	// Plain net/http: no apikey, no Authorization, only the token in the URL.
	status, body, err := get(ctx, signed)
	if err != nil {
		return err
	}
	fmt.Printf("   ada  signed a URL for %s; plain GET without a token: %d, %d bytes\n", signedURLLifetime, status, len(body))
	if status != http.StatusOK || !bytes.Equal(body, avatar) {
		return fmt.Errorf("signed URL: %d, %d bytes", status, len(body))
	}
	wait := signedURLLifetime + time.Second
	select {
	case <-time.After(wait):
	case <-ctx.Done():
		return ctx.Err()
	}
	status, body, err = get(ctx, signed)
	if err != nil {
		return err
	}
	var refusal struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(body, &refusal)
	fmt.Printf("   %s later the same GET: %d %s %s\n", wait, status, refusal.Code, refusal.Message)
	if status == http.StatusOK {
		return errors.New("the signed URL still works after it expired")
	}
	return nil
}

// functionsStep: each user calls the echo function, which answers the
// claims of the JWT it was called with.
func functionsStep(ctx context.Context, ada, bob *person) error {
	fmt.Println("\n8. Edge Functions: echo answers each caller's own claims")
	type echoed struct {
		Claims struct {
			Sub   string `json:"sub"`
			Email string `json:"email"`
			Role  string `json:"role"`
		} `json:"claims"`
	}
	for _, p := range []*person{ada, bob} {
		got, err := supabase.InvokeJSON[echoed](ctx, p.client.Functions, "echo", &supabase.InvokeOptions{Body: map[string]string{"hello": p.name}})
		if err != nil {
			return fmt.Errorf("%s calls echo: %w", p.name, err)
		}
		c := got.Claims
		fmt.Printf("   %-4s sub = %s  email = %s\n", p.name, c.Sub, c.Email)
		if c.Sub != p.id || c.Email != p.name+"@example.com" || c.Role != "authenticated" {
			return fmt.Errorf("echo saw %s as sub=%s email=%s role=%s", p.name, c.Sub, c.Email, c.Role)
		}
	}
	return nil
}

// get fetches url with nothing but net/http.
func get(ctx context.Context, url string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, body, err
}

// avatarPNG is a small image: an 8x8 square in Supabase green.
func avatarPNG() ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for x := range 8 {
		for y := range 8 {
			img.Set(x, y, color.RGBA{R: 0x3e, G: 0xcf, B: 0x8e, A: 0xff})
		}
	}
	var b bytes.Buffer
	err := png.Encode(&b, img)
	return b.Bytes(), err
}

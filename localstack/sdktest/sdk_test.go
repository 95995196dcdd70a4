package sdktest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/supabase-go/supabase"
	"github.com/supabase-go/supabase/localstack"
	"github.com/supabase-go/supabase/localstack/localstacktest"
)

const password = "integration-password"

// Todo is a row of the demo table public.todos.
type Todo struct {
	ID     int64  `json:"id,omitempty"`
	UserID string `json:"user_id,omitempty"`
	Title  string `json:"title"`
	Done   bool   `json:"done"`
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func newClient(t *testing.T, st *localstacktest.Stack, key string, opts ...supabase.Option) *supabase.Client {
	t.Helper()
	c, err := supabase.NewClient(st.URL, key, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// user signs a new user up and in on a client of its own.
func user(t *testing.T, ctx context.Context, st *localstacktest.Stack, email string, opts ...supabase.Option) (*supabase.Client, *supabase.Session) {
	t.Helper()
	c := newClient(t, st, st.AnonKey, opts...)
	res, err := c.Auth.SignUp(ctx, supabase.SignUpParams{Email: email, Password: password})
	if err != nil {
		t.Fatalf("sign up %s: %v", email, err)
	}
	if res.Session == nil || res.User == nil || res.User.Email != email {
		t.Fatalf("sign up %s: %+v", email, res)
	}
	s, err := c.Auth.SignInWithPassword(ctx, email, password)
	if err != nil {
		t.Fatalf("sign in %s: %v", email, err)
	}
	return c, s
}

// The quickstart's story, as assertions.
func TestQuickstart(t *testing.T) {
	t.Parallel()
	st := localstacktest.New(t)
	ctx := ctxFor(t)
	ada, adaS := user(t, ctx, st, "ada@example.com")
	bob, bobS := user(t, ctx, st, "bob@example.com")

	adaTodo, err := supabase.One[Todo](ctx, ada.From("todos").Insert(Todo{Title: "ada's todo"}).Select("*"))
	if err != nil {
		t.Fatal(err)
	}
	if adaTodo.UserID != adaS.User.ID || adaTodo.Title != "ada's todo" || adaTodo.Done {
		t.Errorf("ada's todo = %+v", adaTodo)
	}
	if _, err := supabase.One[Todo](ctx, bob.From("todos").Insert(Todo{Title: "bob's todo"}).Select("*")); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		c    *supabase.Client
		want string
	}{{ada, "ada's todo"}, {bob, "bob's todo"}} {
		todos, err := supabase.All[Todo](ctx, tc.c.From("todos").Select("id,user_id,title,done").Order("id"))
		if err != nil {
			t.Fatal(err)
		}
		if len(todos) != 1 || todos[0].Title != tc.want {
			t.Errorf("sees %+v, want only %q", todos, tc.want)
		}
	}

	anon := newClient(t, st, st.AnonKey)
	if todos, err := supabase.All[Todo](ctx, anon.From("todos")); err != nil || len(todos) != 0 {
		t.Errorf("anon sees %+v, %v", todos, err)
	}
	if n, err := anon.From("todos").Count(ctx); err != nil || n != 0 {
		t.Errorf("anon counts %d, %v", n, err)
	}

	changed, err := supabase.All[Todo](ctx, bob.From("todos").Update(map[string]any{"done": true}).Eq("id", adaTodo.ID).Select("id"))
	if err != nil || len(changed) != 0 {
		t.Errorf("bob's update of ada's row changed %d rows, %v", len(changed), err)
	}
	if got, err := supabase.One[Todo](ctx, ada.From("todos").Eq("id", adaTodo.ID)); err != nil || got.Done {
		t.Errorf("ada's todo after bob's update: %+v, %v", got, err)
	}

	_, err = ada.From("todos").Insert(Todo{Title: "forged", UserID: bobS.User.ID}).Execute(ctx)
	var e *supabase.Error
	if !errors.As(err, &e) || !errors.Is(err, supabase.ErrPermissionDenied) || e.Status != 403 || e.Code != "42501" ||
		e.Message != `new row violates row-level security policy for table "todos"` {
		t.Errorf("forged insert: %v", err)
	}
	_, err = anon.From("todos").Insert(Todo{Title: "anon"}).Execute(ctx)
	if !errors.As(err, &e) || e.Status != 401 || e.Code != "42501" || !errors.Is(err, supabase.ErrUnauthorized) {
		t.Errorf("anon insert: %v", err)
	}

	s, err := ada.Auth.Session(ctx)
	if err != nil {
		t.Fatal(err)
	}
	claims, err := supabase.ParseClaims(s.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if claims.Subject != adaS.User.ID || claims.Role != "authenticated" || claims.Email != "ada@example.com" || claims.SessionID == "" ||
		claims.ExpiresAt == nil || time.Until(claims.ExpiresAt.Time) < 59*time.Minute {
		t.Errorf("claims = %+v", claims)
	}
	u, err := ada.Auth.User(ctx)
	if err != nil || u.ID != adaS.User.ID {
		t.Errorf("user = %+v, %v", u, err)
	}

	// Errors through the SDK.
	_, err = newClient(t, st, st.AnonKey).Auth.SignInWithPassword(ctx, "ada@example.com", "wrong password")
	if !errors.Is(err, supabase.ErrInvalidCredentials) {
		t.Errorf("wrong password: %v", err)
	}
	_, err = newClient(t, st, st.AnonKey).Auth.SignUp(ctx, supabase.SignUpParams{Email: "ada@example.com", Password: password})
	if !errors.Is(err, supabase.ErrConflict) {
		t.Errorf("second sign-up: %v", err)
	}
	_, err = newClient(t, st, st.AnonKey).Auth.SignUp(ctx, supabase.SignUpParams{Email: "weak@example.com", Password: "123"})
	if !errors.As(err, &e) || !errors.Is(err, supabase.ErrWeakPassword) || len(e.Reasons) != 1 || e.Reasons[0] != "length" {
		t.Errorf("weak password: %v", err)
	}
	_, err = supabase.One[Todo](ctx, ada.From("todos").Eq("id", -1).Single())
	if !errors.Is(err, supabase.ErrNotFound) {
		t.Errorf("single without rows: %v", err)
	}
}

// countRefreshes counts refresh_token grants and notes any refresh token
// presented more than once.
type countRefreshes struct {
	mu     sync.Mutex
	seen   map[string]int
	total  atomic.Int64
	reused atomic.Int64
}

func (c *countRefreshes) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/auth/v1/token" && r.URL.Query().Get("grant_type") == "refresh_token" {
			b, _ := io.ReadAll(r.Body)
			var p struct {
				RefreshToken string `json:"refresh_token"`
			}
			json.Unmarshal(b, &p)
			c.total.Add(1)
			c.mu.Lock()
			c.seen[p.RefreshToken]++
			if c.seen[p.RefreshToken] > 1 {
				c.reused.Add(1)
			}
			c.mu.Unlock()
			r.Body = io.NopCloser(strings.NewReader(string(b)))
		}
		h.ServeHTTP(w, r)
	})
}

// Short-lived access tokens while 20 goroutines query: every query succeeds
// and each token is refreshed once, by one request.
func TestRefreshUnderLoad(t *testing.T) {
	t.Parallel()
	counter := &countRefreshes{seen: map[string]int{}}
	st := localstacktest.New(t,
		localstacktest.Configure(func(c *localstack.Config) { c.AccessTokenTTL = 2 * time.Second }),
		localstacktest.WrapHandler(counter.wrap))
	ctx := ctxFor(t)
	c, s := user(t, ctx, st, "load@example.com", supabase.WithRefreshMargin(time.Second))
	if s.ExpiresIn != 2 {
		t.Fatalf("expires_in = %d", s.ExpiresIn)
	}
	if _, err := c.From("todos").Insert(Todo{Title: "mine"}).Execute(ctx); err != nil {
		t.Fatal(err)
	}

	const workers = 20
	const duration = 5 * time.Second
	start := time.Now()
	var queries, failures atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Since(start) < duration {
				todos, err := supabase.All[Todo](ctx, c.From("todos").Select("title"))
				queries.Add(1)
				if err == nil && (len(todos) != 1 || todos[0].Title != "mine") {
					err = fmt.Errorf("got %+v", todos)
				}
				if err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if n := failures.Load(); n > 0 {
		t.Errorf("%d of %d queries failed; first: %v", n, queries.Load(), firstErr.Load())
	}
	refreshes := counter.total.Load()
	// Tokens live 2s and are refreshed when half their life is left, so
	// one refresh per second at most; at least a few must have happened.
	if max := int64(elapsed/time.Second) + 1; refreshes < 3 || refreshes > max {
		t.Errorf("%d refreshes in %s (%d queries), want 3..%d", refreshes, elapsed.Round(time.Millisecond), queries.Load(), max)
	}
	if n := counter.reused.Load(); n != 0 {
		t.Errorf("%d refresh tokens were presented more than once", n)
	}
	t.Logf("%d queries, %d refreshes in %s", queries.Load(), refreshes, elapsed.Round(time.Millisecond))
}

// A refresh token rotates on use; presenting an old one again soon gets the
// active session back, later revokes the session.
func TestRefreshTokenRotationAndReuse(t *testing.T) {
	t.Parallel()
	st := localstacktest.New(t, localstacktest.Configure(func(c *localstack.Config) { c.RefreshReuseInterval = time.Second }))
	ctx := ctxFor(t)
	c, s0 := user(t, ctx, st, "rotate@example.com")

	s1, err := c.Auth.RefreshSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s1.RefreshToken == s0.RefreshToken || s1.User.ID != s0.User.ID {
		t.Fatalf("refresh did not rotate")
	}

	// Another client replays the old token within the reuse interval.
	other := newClient(t, st, st.AnonKey)
	again, err := other.Auth.RefreshSessionWith(ctx, s0.RefreshToken)
	if err != nil {
		t.Fatalf("reuse within the interval: %v", err)
	}
	if again.RefreshToken != s1.RefreshToken {
		t.Errorf("reuse within the interval gave refresh token %q, want the active %q", again.RefreshToken, s1.RefreshToken)
	}

	// The active token's parent gets it back even after the interval.
	time.Sleep(1100 * time.Millisecond)
	again, err = newClient(t, st, st.AnonKey).Auth.RefreshSessionWith(ctx, s0.RefreshToken)
	if err != nil || again.RefreshToken != s1.RefreshToken {
		t.Fatalf("late replay of the active token's parent: %v", err)
	}

	// Once the session has rotated on, a late replay is taken as theft.
	if _, err := c.Auth.RefreshSession(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = newClient(t, st, st.AnonKey).Auth.RefreshSessionWith(ctx, s0.RefreshToken)
	var e *supabase.Error
	if !errors.As(err, &e) || e.Code != "refresh_token_already_used" || e.Status != 400 || !errors.Is(err, supabase.ErrSessionExpired) {
		t.Fatalf("late reuse: %v", err)
	}
	// The whole session is revoked: its active token is refused too.
	_, err = c.Auth.RefreshSession(ctx)
	if !errors.Is(err, supabase.ErrSessionExpired) {
		t.Errorf("refresh after reuse detection: %v", err)
	}
}

// Global sign-out revokes every refresh token of the user.
func TestSignOutGlobal(t *testing.T) {
	t.Parallel()
	st := localstacktest.New(t)
	ctx := ctxFor(t)
	a1, _ := user(t, ctx, st, "leave@example.com")
	a2 := newClient(t, st, st.AnonKey)
	if _, err := a2.Auth.SignInWithPassword(ctx, "leave@example.com", password); err != nil {
		t.Fatal(err)
	}
	if _, err := a1.From("todos").Insert(Todo{Title: "private"}).Execute(ctx); err != nil {
		t.Fatal(err)
	}

	if err := a1.Auth.SignOut(ctx, supabase.SignOutGlobal); err != nil {
		t.Fatal(err)
	}
	if s, err := a1.Auth.Session(ctx); s != nil || (err != nil && !errors.Is(err, supabase.ErrSessionMissing)) {
		t.Errorf("session after sign-out: %v, %v", s, err)
	}
	// Signed out means anon: the row is no longer visible.
	if todos, err := supabase.All[Todo](ctx, a1.From("todos")); err != nil || len(todos) != 0 {
		t.Errorf("after sign-out sees %+v, %v", todos, err)
	}
	_, err := a2.Auth.RefreshSession(ctx)
	var e *supabase.Error
	if !errors.As(err, &e) || e.Code != "refresh_token_not_found" || !errors.Is(err, supabase.ErrSessionExpired) {
		t.Errorf("other session's refresh after global sign-out: %v", err)
	}
}

// service_role bypasses row level security.
func TestServiceRoleBypassesRLS(t *testing.T) {
	t.Parallel()
	st := localstacktest.New(t)
	ctx := ctxFor(t)
	a, as := user(t, ctx, st, "one@example.com")
	b, _ := user(t, ctx, st, "two@example.com")
	for _, c := range []*supabase.Client{a, b} {
		if _, err := c.From("todos").Insert(Todo{Title: "x"}).Execute(ctx); err != nil {
			t.Fatal(err)
		}
	}
	svc := newClient(t, st, st.ServiceRoleKey)
	todos, err := supabase.All[Todo](ctx, svc.From("todos").Order("id"))
	if err != nil || len(todos) != 2 {
		t.Fatalf("service_role sees %+v, %v", todos, err)
	}
	// It may also write rows for anyone, naming the owner explicitly.
	got, err := supabase.One[Todo](ctx, svc.From("todos").Insert(Todo{Title: "from the backend", UserID: as.User.ID}).Select("*"))
	if err != nil || got.UserID != as.User.ID {
		t.Fatalf("service_role insert: %+v, %v", got, err)
	}
	if n, err := a.From("todos").Count(ctx); err != nil || n != 2 {
		t.Errorf("owner counts %d, %v", n, err)
	}
}

// 50 users querying 20 at a time each see exactly their own rows.
func TestManyUsersSeeOnlyTheirRows(t *testing.T) {
	t.Parallel()
	st := localstacktest.New(t)
	ctx := ctxFor(t)
	const users, parallel = 50, 20

	type member struct {
		c  *supabase.Client
		id string
	}
	members := make([]member, users)
	var wg sync.WaitGroup
	errs := make(chan error, users*parallel)
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newClient(t, st, st.AnonKey)
			email := fmt.Sprintf("user%02d@example.com", i)
			res, err := c.Auth.SignUp(ctx, supabase.SignUpParams{Email: email, Password: password})
			if err != nil {
				errs <- fmt.Errorf("sign up %s: %w", email, err)
				return
			}
			rows := []Todo{{Title: email + " 1"}, {Title: email + " 2"}}
			if _, err := c.From("todos").Insert(rows).Execute(ctx); err != nil {
				errs <- fmt.Errorf("insert for %s: %w", email, err)
				return
			}
			members[i] = member{c: c, id: res.User.ID}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}

	for i, m := range members {
		for range parallel {
			wg.Add(1)
			go func() {
				defer wg.Done()
				todos, err := supabase.All[Todo](ctx, m.c.From("todos").Select("user_id,title").Order("title"))
				if err != nil {
					errs <- err
					return
				}
				want := fmt.Sprintf("user%02d@example.com", i)
				if len(todos) != 2 || todos[0].Title != want+" 1" || todos[1].Title != want+" 2" ||
					todos[0].UserID != m.id || todos[1].UserID != m.id {
					errs <- fmt.Errorf("%s sees %+v", want, todos)
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n++; n <= 5 {
			t.Error(err)
		}
	}
	if n > 0 {
		t.Errorf("%d of %d queries failed", n, users*parallel)
	}
}

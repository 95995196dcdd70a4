package sdktest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/supabase-go/supabase/localstack/localstacktest"
)

// buildQuickstart builds examples/quickstart into the test's directory.
func buildQuickstart(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "quickstart")
	build := exec.Command("go", "build", "-o", bin, "./examples/quickstart")
	build.Dir = filepath.Join("..", "..") // the SDK module at the repository root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build quickstart: %v\n%s", err, out)
	}
	return bin
}

// runQuickstart runs the program against st and checks its story.
func runQuickstart(t *testing.T, bin string, st *localstacktest.Stack, run int) {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "SUPABASE_URL="+st.URL, "SUPABASE_ANON_KEY="+st.AnonKey)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "All checks passed") {
		t.Fatalf("run %d: %v\n%s", run, err, out)
	}
	for _, want := range []string{
		"ada  sees 1 todo(s)", "bob  sees 1 todo(s)", "anon (not signed in) sees 0 todo(s)",
		"0 row(s) changed", `refused: 403 42501 new row violates row-level security policy for table "todos"`,
		"role = authenticated",
		"ada  uploaded avatars/", "/avatar.png (",
		"bob  reads it:      refused: NoSuchKey Object not found",
		"bob  overwrites it: refused: AccessDenied new row violates row-level security policy",
		"plain GET without a token: 200,",
		`later the same GET: 400 InvalidJWT "exp" claim timestamp check failed`,
		"ada  sub = ", "  email = ada@example.com", "bob  sub = ", "  email = bob@example.com",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("run %d: output lacks %q:\n%s", run, want, out)
		}
	}
}

// The quickstart program itself runs green against a fresh stack, twice.
func TestQuickstartProgram(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs examples/quickstart")
	}
	t.Parallel()
	st := localstacktest.New(t)
	bin := buildQuickstart(t)
	for run := 1; run <= 2; run++ { // the second run finds the users and the avatar already there
		runQuickstart(t, bin, st, run)
	}
}

// examples/quickstart/setup.sql, what a real project needs, is all the
// quickstart needs: it runs green on a stack without the demo schema once
// the file is applied.
func TestQuickstartSetupSQL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs examples/quickstart")
	}
	t.Parallel()
	st := localstacktest.New(t, localstacktest.NoDemoSchema())
	sql, err := os.ReadFile(filepath.Join("..", "..", "examples", "quickstart", "setup.sql"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxFor(t)
	conn, err := pgx.Connect(ctx, st.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, string(sql)); err != nil {
		t.Fatalf("apply setup.sql: %v", err)
	}
	runQuickstart(t, buildQuickstart(t), st, 1)
}

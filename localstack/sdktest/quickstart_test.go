package sdktest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supabase-go/supabase/localstack/localstacktest"
)

// The quickstart program itself runs green against a fresh stack.
func TestQuickstartProgram(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs examples/quickstart")
	}
	t.Parallel()
	st := localstacktest.New(t)
	bin := filepath.Join(t.TempDir(), "quickstart")
	build := exec.Command("go", "build", "-o", bin, "./examples/quickstart")
	build.Dir = filepath.Join("..", "..") // the SDK module at the repository root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build quickstart: %v\n%s", err, out)
	}
	for run := 1; run <= 2; run++ { // the second run finds the users already signed up
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
		} {
			if !strings.Contains(string(out), want) {
				t.Errorf("run %d: output lacks %q:\n%s", run, want, out)
			}
		}
	}
}

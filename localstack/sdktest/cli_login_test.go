package sdktest

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supabase-go/supabase"
	"github.com/supabase-go/supabase/localstack/localstacktest"
)

// buildCLILogin builds examples/cli-login into a directory of the test's.
func buildCLILogin(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cli-login")
	build := exec.Command("go", "build", "-o", bin, "./examples/cli-login")
	build.Dir = filepath.Join("..", "..") // the SDK module at the repository root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build cli-login: %v\n%s", err, out)
	}
	return bin
}

// cliLogin runs the example against st, returns the sign-in URL it
// printed and a func that waits for it to end with its output.
func cliLogin(t *testing.T, st *localstacktest.Stack, store string, args ...string) (string, func() (string, error)) {
	t.Helper()
	bin := buildCLILogin(t)
	ctx := ctxFor(t)
	cmd := exec.CommandContext(ctx, bin, append([]string{"-url", st.URL, "-key", st.AnonKey, "-store", store, "-no-browser"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	var out bytes.Buffer
	sc := bufio.NewScanner(io.TeeReader(stdout, &out))
	signIn := ""
	for signIn == "" && sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); strings.HasPrefix(line, "http") {
			signIn = line
		}
	}
	if signIn == "" {
		_ = cmd.Wait()
		t.Fatalf("no sign-in URL printed:\n%s%s", out.String(), stderr.String())
	}
	return signIn, func() (string, error) {
		_, _ = io.Copy(io.Discard, io.TeeReader(stdout, &out))
		err := cmd.Wait()
		return out.String() + stderr.String(), err
	}
}

// The example's whole story: the printed URL followed like a browser would,
// the loopback redirect answered by the program, the session saved where
// another client signs in from.
func TestCLILoginProgram(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs examples/cli-login")
	}
	t.Parallel()
	st := localstacktest.New(t)
	ctx := ctxFor(t)
	store := filepath.Join(t.TempDir(), "session.json")
	signIn, wait := cliLogin(t, st, store, "-provider", "github", "-login-hint", "cli@example.com")
	if !strings.HasPrefix(signIn, st.URL+"/auth/v1/authorize?") || !strings.Contains(signIn, "provider=github") ||
		!strings.Contains(signIn, "redirect_to=http%3A%2F%2F127.0.0.1%3A") || !strings.Contains(signIn, "code_challenge_method=s256") {
		t.Errorf("sign-in URL = %s", signIn)
	}
	loopback := browse(t, st, signIn)
	if loopback.Host == "" || !strings.HasPrefix(loopback.Host, "127.0.0.1:") || loopback.Path != "/callback" {
		t.Fatalf("the flow ended at %v", loopback)
	}
	resp, err := http.Get(loopback.String()) // the browser reaches the program
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "Signed in.") {
		t.Errorf("callback page: %d %s", resp.StatusCode, page)
	}
	out, err := wait()
	if err != nil || !strings.Contains(out, "Signed in as cli@example.com. Session saved to "+store+".") {
		t.Fatalf("cli-login: %v\n%s", err, out)
	}

	fs, err := supabase.NewFileStore(store)
	if err != nil {
		t.Fatal(err)
	}
	s, err := fs.Load(ctx)
	if err != nil || s == nil || s.User == nil || s.User.Email != "cli@example.com" {
		t.Fatalf("saved session: %+v, %v", s, err)
	}
	if _, err := os.Stat(store + ".code-verifier"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the code verifier was left behind: %v", err)
	}
	// Another program signs in from the file.
	c := newClient(t, st, st.AnonKey, supabase.WithSessionStore(fs))
	u, err := c.Auth.User(ctx)
	if err != nil || u.Email != "cli@example.com" {
		t.Errorf("user from the saved session: %+v, %v", u, err)
	}
}

// A refusal at the provider ends the program with the error the redirect
// carried; no session is saved.
func TestCLILoginRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs examples/cli-login")
	}
	t.Parallel()
	st := localstacktest.New(t)
	store := filepath.Join(t.TempDir(), "session.json")
	signIn, wait := cliLogin(t, st, store, "-provider", "google")
	loopback := browse(t, st, signIn+"&deny=true")
	resp, err := http.Get(loopback.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	out, err := wait()
	if err == nil || !strings.Contains(out, "cli-login: sign-in refused: access_denied: The user denied the request") {
		t.Fatalf("cli-login: %v\n%s", err, out)
	}
	if _, err := os.Stat(store); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a session file was written: %v", err)
	}
}

// Nobody follows the URL: the program gives up after -timeout.
func TestCLILoginTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs examples/cli-login")
	}
	t.Parallel()
	st := localstacktest.New(t)
	_, wait := cliLogin(t, st, filepath.Join(t.TempDir(), "session.json"), "-timeout", "1s")
	out, err := wait()
	if err == nil || !strings.Contains(out, "cli-login: no sign-in within 1s") {
		t.Fatalf("cli-login: %v\n%s", err, out)
	}
}

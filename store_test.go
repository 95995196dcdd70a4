package supabase

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMemoryStore(t *testing.T) {
	ctx := context.Background()
	m := NewMemoryStore()
	s, err := m.Load(ctx)
	require.NoError(t, err)
	assert.Nil(t, s)
	want := &Session{AccessToken: "a", RefreshToken: "r"}
	require.NoError(t, m.Save(ctx, want))
	s, _ = m.Load(ctx)
	assert.Same(t, want, s)
	require.NoError(t, m.Delete(ctx))
	s, _ = m.Load(ctx)
	assert.Nil(t, s)
}

func TestFileStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "nested", "dir")
	path := filepath.Join(dir, "session.json")
	fs, err := NewFileStore(path)
	require.NoError(t, err)
	assert.Equal(t, path, fs.Path())

	s, err := fs.Load(ctx)
	require.NoError(t, err)
	assert.Nil(t, s, "no file: no session")

	want := &Session{AccessToken: "a1", RefreshToken: "r1", ExpiresAt: 1700000000, TokenType: "bearer",
		User: &User{ID: "u1"}}
	require.NoError(t, fs.Save(ctx, want))
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "session file mode")
		di, err := os.Stat(dir)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), di.Mode().Perm(), "directory mode")
	}

	got, err := fs.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, want.AccessToken, got.AccessToken)
	assert.Equal(t, want.RefreshToken, got.RefreshToken)
	assert.Equal(t, want.ExpiresAt, got.ExpiresAt)
	assert.Equal(t, "u1", got.User.ID)

	require.NoError(t, fs.Save(ctx, &Session{AccessToken: "a2", RefreshToken: "r2"}))
	got, _ = fs.Load(ctx)
	assert.Equal(t, "r2", got.RefreshToken)
	entries, _ := os.ReadDir(dir)
	assert.Len(t, entries, 1, "no temporary file left behind")

	require.NoError(t, fs.Delete(ctx))
	require.NoError(t, fs.Delete(ctx), "deleting twice is fine")
	got, err = fs.Load(ctx)
	require.NoError(t, err)
	assert.Nil(t, got)

	_, err = NewFileStore("")
	assert.Error(t, err)
	require.NoError(t, os.WriteFile(path, []byte("not json"), 0o600))
	_, err = fs.Load(ctx)
	assert.Error(t, err)
}

// TestFileStoreLockIsExclusive: two stores on one path (as two processes
// would have) exclude each other; a wait ends with its ctx.
func TestFileStoreLockIsExclusive(t *testing.T) {
	if !fileLocking {
		t.Skip("no cross-process file locking on " + runtime.GOOS)
	}
	path := filepath.Join(t.TempDir(), "session.json")
	a, _ := NewFileStore(path)
	b, _ := NewFileStore(path)
	unlockA, err := a.Lock(context.Background())
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = b.Lock(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	got := make(chan func(), 1)
	go func() {
		unlock, err := b.Lock(context.Background())
		assert.NoError(t, err)
		got <- unlock
	}()
	select {
	case <-got:
		t.Fatal("b locked while a holds the lock")
	case <-time.After(50 * time.Millisecond):
	}
	unlockA()
	select {
	case unlock := <-got:
		unlock()
	case <-time.After(5 * time.Second):
		t.Fatal("b never got the lock")
	}
}

// TestStoreLoadedSessionIsRefreshed: a session found in the file at
// start-up is refreshed before use and the rotated one written back.
func TestStoreLoadedSessionIsRefreshed(t *testing.T) {
	f := newFakeSupabase(t)
	fs, err := NewFileStore(filepath.Join(t.TempDir(), "session.json"))
	require.NoError(t, err)
	old := f.expiredSession("user-1")
	require.NoError(t, fs.Save(context.Background(), old))

	c := newFakeClient(t, f, WithSessionStore(fs))
	events, unsub := watchEvents(c)
	defer unsub()
	require.NoError(t, query(context.Background(), c))
	assert.EqualValues(t, 1, f.refreshes.Load())
	stored, err := fs.Load(context.Background())
	require.NoError(t, err)
	assert.NotEqual(t, old.RefreshToken, stored.RefreshToken)
	assert.Equal(t, []string{stored.AccessToken}, f.restBearers())
	got := events.wait(t, 2)
	assert.Equal(t, []AuthChangeEvent{EventInitialSession, EventTokenRefreshed}, got)
}

// TestStoreSharedFileAdoptsRotatedToken: two clients sharing one session
// file (two processes) never send a refresh token the other already used.
func TestStoreSharedFileAdoptsRotatedToken(t *testing.T) {
	if !fileLocking {
		t.Skip("no cross-process file locking on " + runtime.GOOS)
	}
	f := newFakeSupabase(t)
	f.tokenDelay = 20 * time.Millisecond
	path := filepath.Join(t.TempDir(), "session.json")
	fa, _ := NewFileStore(path)
	fb, _ := NewFileStore(path)
	require.NoError(t, fa.Save(context.Background(), f.expiredSession("user-1")))
	a := newFakeClient(t, f, WithSessionStore(fa))
	b := newFakeClient(t, f, WithSessionStore(fb))
	// Both load the same (expired) session.
	_, err := a.Auth.sessions.current(context.Background())
	require.NoError(t, err)
	_, err = b.Auth.sessions.current(context.Background())
	require.NoError(t, err)

	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { assert.NoError(t, query(context.Background(), a)) })
		wg.Go(func() { assert.NoError(t, query(context.Background(), b)) })
	}
	wg.Wait()
	assert.EqualValues(t, 1, f.refreshes.Load(), "one refresh for both")
	assert.EqualValues(t, 0, f.reused.Load())
	sa, _ := a.Auth.Session(context.Background())
	sb, _ := b.Auth.Session(context.Background())
	assert.Equal(t, sa.RefreshToken, sb.RefreshToken)

	// a rotates again (forced); b's next refresh takes a's token from the file.
	_, err = a.Auth.RefreshSession(context.Background())
	require.NoError(t, err)
	_, err = b.Auth.RefreshSession(context.Background())
	require.NoError(t, err)
	assert.EqualValues(t, 2, f.refreshes.Load(), "b adopted a's fresh session instead of refreshing")
	assert.EqualValues(t, 0, f.reused.Load())
	sa, _ = a.Auth.Session(context.Background())
	sb, _ = b.Auth.Session(context.Background())
	assert.Equal(t, sa.AccessToken, sb.AccessToken)
}

// TestStoreSharedFileAcrossProcesses runs real processes that share one
// session file and refresh concurrently: no refresh token is ever sent after
// it was exchanged, and the file ends with the live token.
func TestStoreSharedFileAcrossProcesses(t *testing.T) {
	if !fileLocking {
		t.Skip("no cross-process file locking on " + runtime.GOOS)
	}
	if testing.Short() {
		t.Skip("starts processes")
	}
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	f := newFakeSupabase(t)
	srv := httptest.NewServer(f)
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "session.json")
	fs, _ := NewFileStore(path)
	require.NoError(t, fs.Save(context.Background(), f.session("user-1")))

	const procs, rounds = 3, 15
	var wg sync.WaitGroup
	for i := range procs {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0], "-test.run=^TestStoreHelperProcess$", "-test.count=1")
			cmd.Env = append(os.Environ(), "SUPABASE_STORE_HELPER=1", "SUPABASE_STORE_URL="+srv.URL,
				"SUPABASE_STORE_PATH="+path, fmt.Sprintf("SUPABASE_STORE_ROUNDS=%d", rounds))
			out, err := cmd.CombinedOutput()
			assert.NoError(t, err, "process %d: %s", i, out)
		})
	}
	wg.Wait()
	assert.EqualValues(t, 0, f.reused.Load(), "refresh tokens sent after they were exchanged")
	assert.Positive(t, f.refreshes.Load())
	assert.LessOrEqual(t, f.refreshes.Load(), int64(procs*rounds))
	final, err := fs.Load(context.Background())
	require.NoError(t, err)
	f.mu.Lock()
	live := f.issued[final.RefreshToken]
	f.mu.Unlock()
	assert.True(t, live, "the file holds the live refresh token")
	srv.CloseClientConnections()
	t.Logf("%d processes × %d forced refreshes: %d refresh requests", procs, rounds, f.refreshes.Load())
}

// TestStoreHelperProcess is the child of TestStoreSharedFileAcrossProcesses.
func TestStoreHelperProcess(t *testing.T) {
	if os.Getenv("SUPABASE_STORE_HELPER") != "1" {
		t.Skip("helper process")
	}
	fs, err := NewFileStore(os.Getenv("SUPABASE_STORE_PATH"))
	require.NoError(t, err)
	c, err := NewClient(os.Getenv("SUPABASE_STORE_URL"), fakeKey, WithSessionStore(fs))
	require.NoError(t, err)
	var rounds int
	_, _ = fmt.Sscan(os.Getenv("SUPABASE_STORE_ROUNDS"), &rounds)
	for range rounds {
		_, err := c.Auth.RefreshSession(context.Background())
		require.NoError(t, err)
		// Writes are atomic: the file always holds a whole session.
		raw, err := os.ReadFile(fs.Path())
		require.NoError(t, err)
		var stored Session
		require.NoError(t, json.Unmarshal(raw, &stored))
		require.NotEmpty(t, stored.RefreshToken)
	}
	c.core.httpClient.CloseIdleConnections()
}

// TestFileStoreLockWaitWatchesCtx: goroutines of one process waiting for
// the lock give up when their ctx ends, as a wait for another process does.
func TestFileStoreLockWaitWatchesCtx(t *testing.T) {
	fs, err := NewFileStore(filepath.Join(t.TempDir(), "session.json"))
	require.NoError(t, err)
	unlock, err := fs.Lock(context.Background())
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		u, err := fs.Lock(ctx)
		if err == nil {
			u()
		}
		errc <- err
	}()
	select {
	case err := <-errc:
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	case <-time.After(5 * time.Second):
		t.Fatal("Lock ignored its ctx while another goroutine held the lock")
	}

	done, cancelDone := context.WithCancel(context.Background())
	cancelDone()
	_, err = fs.Lock(done)
	assert.ErrorIs(t, err, context.Canceled)

	unlock()
	unlock() // a second call is a no-op
	// A free lock is taken even with an ended ctx (nothing to wait for).
	u, err := fs.Lock(done)
	require.NoError(t, err)
	u()
	u, err = fs.Lock(context.Background())
	require.NoError(t, err)
	u()
}

// TestStoreWritesWaitForOtherProcessRefresh: a sign-out or sign-in in one
// process waits while another process holds the lock to commit a refresh,
// so that refresh never brings a signed-out session back into the file nor
// overwrites a new sign-in.
func TestStoreWritesWaitForOtherProcessRefresh(t *testing.T) {
	if !fileLocking {
		t.Skip("no cross-process file locking on " + runtime.GOOS)
	}
	for _, op := range []string{"SignOut", "SignIn"} {
		t.Run(op, func(t *testing.T) {
			f := newFakeSupabase(t)
			path := filepath.Join(t.TempDir(), "session.json")
			fa, _ := NewFileStore(path)
			other, _ := NewFileStore(path) // the other process
			a := newFakeClient(t, f, WithSessionStore(fa))
			signIn(t, a, f.session("user-1"))
			fresh := f.session("user-2")

			unlock, err := other.Lock(context.Background()) // the other process refreshes
			require.NoError(t, err)
			errc := make(chan error, 1)
			go func() {
				if op == "SignOut" {
					errc <- a.Auth.SignOut(context.Background(), SignOutLocal)
				} else {
					errc <- a.Auth.sessions.set(context.Background(), fresh, EventSignedIn)
				}
			}()
			select {
			case err := <-errc:
				t.Fatalf("%s wrote the file while another process held the lock (%v)", op, err)
			case <-time.After(100 * time.Millisecond):
			}
			// The other process commits its refresh, then releases the lock.
			require.NoError(t, other.Save(context.Background(), f.session("user-1")))
			unlock()
			require.NoError(t, <-errc)

			stored, err := fa.Load(context.Background())
			require.NoError(t, err)
			if op == "SignOut" {
				assert.Nil(t, stored, "the signed-out session came back")
			} else {
				require.NotNil(t, stored)
				assert.Equal(t, fresh.RefreshToken, stored.RefreshToken, "the new sign-in was overwritten")
			}
		})
	}
}

// TestStoreCorruptSessionStartsSignedOut: a stored session that is not a
// session is logged and taken as none: queries run as anon, SignOut works,
// and the next sign-in replaces it.
func TestStoreCorruptSessionStartsSignedOut(t *testing.T) {
	f := newFakeSupabase(t)
	path := filepath.Join(t.TempDir(), "session.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"access_token": 42`), 0o600))
	fs, _ := NewFileStore(path)
	_, err := fs.Load(context.Background())
	require.ErrorIs(t, err, ErrStoredSessionInvalid)
	logs := newLogRecords()
	c := newFakeClient(t, f, WithSessionStore(fs), WithLogger(slog.New(logs)))

	require.NoError(t, query(context.Background(), c))
	assert.Equal(t, []string{fakeKey}, f.restBearers())
	_, err = c.Auth.Session(context.Background())
	assert.ErrorIs(t, err, ErrSessionMissing)
	require.NoError(t, c.Auth.SignOut(context.Background(), SignOutGlobal))
	r := logs.find(t, "stored session is invalid")
	assert.Equal(t, slog.LevelError, r.Level)

	s := f.session("user-1")
	signIn(t, c, s)
	stored, err := fs.Load(context.Background())
	require.NoError(t, err)
	assert.Equal(t, s.RefreshToken, stored.RefreshToken)

	// A custom store whose data does not decode, reported as JSON errors.
	var syntax json.SyntaxError
	assert.True(t, storeDataInvalid(fmt.Errorf("decoding: %w", &syntax)))
	assert.True(t, storeDataInvalid(&json.UnmarshalTypeError{}))
	assert.False(t, storeDataInvalid(os.ErrPermission))
}

// failingLoadStore fails every Load as unavailable storage would.
type failingLoadStore struct {
	MemoryStore
	deletes atomic.Int64
}

var errStoreDown = errors.New("session storage unavailable")

func (s *failingLoadStore) Load(context.Context) (*Session, error) { return nil, errStoreDown }

func (s *failingLoadStore) Delete(ctx context.Context) error {
	s.deletes.Add(1)
	return s.MemoryStore.Delete(ctx)
}

// TestStoreUnreadableSessionSignOut: a store that cannot be read makes the
// calls needing the session fail (and try again), but SignOut still removes
// the stored session, returns the error (the session may be alive on the
// server), and leaves the client usable, signed out.
func TestStoreUnreadableSessionSignOut(t *testing.T) {
	f := newFakeSupabase(t)
	store := &failingLoadStore{}
	c := newFakeClient(t, f, WithSessionStore(store))
	assert.ErrorIs(t, query(context.Background(), c), errStoreDown)
	assert.ErrorIs(t, query(context.Background(), c), errStoreDown, "tried again")

	assert.ErrorIs(t, c.Auth.SignOut(context.Background(), SignOutOthers), errStoreDown)
	assert.Zero(t, store.deletes.Load(), "SignOutOthers keeps the local session")
	assert.ErrorIs(t, c.Auth.SignOut(context.Background(), SignOutGlobal), errStoreDown)
	assert.EqualValues(t, 1, store.deletes.Load(), "the stored session was deleted")
	assert.Zero(t, f.logouts.Load())

	require.NoError(t, query(context.Background(), c), "signed out now")
	assert.Equal(t, []string{fakeKey}, f.restBearers())
	require.NoError(t, c.Auth.SignOut(context.Background(), SignOutGlobal))
}

// TestLostSessionPersistsInFileStore: a CLI whose session ended without
// SignOut (refresh token refused) reports ErrSessionExpired, and so does
// the CLI started again on the same file, rather than going on as anon;
// SignOut removes the record, and a sign-in replaces it.
func TestLostSessionPersistsInFileStore(t *testing.T) {
	f := newFakeSupabase(t)
	f.fail(fakeFault{status: 400, code: "refresh_token_not_found"})
	path := filepath.Join(t.TempDir(), "session.json")
	fs, _ := NewFileStore(path)
	old := f.expiredSession("user-1")
	require.NoError(t, fs.Save(context.Background(), old))
	ctx := context.Background()

	a := newFakeClient(t, f, WithSessionStore(fs))
	assert.ErrorIs(t, query(ctx, a), ErrSessionExpired)
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.NotContains(t, string(raw), old.AccessToken)
	assert.NotContains(t, string(raw), old.RefreshToken)
	stored, err := fs.Load(ctx)
	require.NoError(t, err)
	assert.True(t, isEndedRecord(stored), "file holds %s", raw)
	assert.Equal(t, "user-1", stored.User.ID, "whose session it was")

	b := newFakeClient(t, f, WithSessionStore(fs)) // the CLI run again
	events, unsub := watchEvents(b)
	defer unsub()
	assert.ErrorIs(t, query(ctx, b), ErrSessionExpired)
	_, err = b.Auth.Session(ctx)
	assert.ErrorIs(t, err, ErrSessionExpired)
	assert.Equal(t, []AuthChangeEvent{EventInitialSession}, events.wait(t, 1))
	assert.Empty(t, f.restBearers())
	assert.EqualValues(t, 1, f.refreshes.Load(), "the dead refresh token is not sent again")

	require.NoError(t, b.Auth.SignOut(ctx, SignOutGlobal))
	_, err = os.Stat(path)
	assert.ErrorIs(t, err, os.ErrNotExist, "SignOut removed the record")
	require.NoError(t, query(ctx, b), "signed out as asked: anon")
	require.NoError(t, query(ctx, newFakeClient(t, f, WithSessionStore(fs))))
	assert.Equal(t, []string{fakeKey, fakeKey}, f.restBearers())

	// A sign-in replaces the record.
	require.NoError(t, fs.Save(ctx, endedRecord(old)))
	c := newFakeClient(t, f, WithSessionStore(fs))
	s, err := c.Auth.SignInWithPassword(ctx, "user-2@example.com", "pw")
	require.NoError(t, err)
	require.NoError(t, query(ctx, c))
	stored, _ = fs.Load(ctx)
	assert.Equal(t, s.RefreshToken, stored.RefreshToken)
	require.NoError(t, query(ctx, newFakeClient(t, f, WithSessionStore(fs))))
	assert.Equal(t, []string{s.AccessToken, s.AccessToken}, f.restBearers()[2:])
}

// endOnlyStore keeps only sessions with an access token, as a custom store
// written before ended records might.
type endOnlyStore struct{ MemoryStore }

func (s *endOnlyStore) Save(ctx context.Context, v *Session) error {
	if v.AccessToken == "" {
		return s.MemoryStore.Delete(ctx)
	}
	return s.MemoryStore.Save(ctx, v)
}

// TestLostSessionStoreWithoutRecord: a store that drops the ended record
// still works: the client that lost the session reports ErrSessionExpired,
// and one started later on that store starts signed out.
func TestLostSessionStoreWithoutRecord(t *testing.T) {
	f := newFakeSupabase(t)
	f.fail(fakeFault{status: 400, code: "refresh_token_not_found"})
	store := &endOnlyStore{}
	ctx := context.Background()
	require.NoError(t, store.Save(ctx, f.expiredSession("user-1")))
	a := newFakeClient(t, f, WithSessionStore(store))
	assert.ErrorIs(t, query(ctx, a), ErrSessionExpired)
	assert.ErrorIs(t, query(ctx, a), ErrSessionExpired)
	stored, _ := store.Load(ctx)
	assert.Nil(t, stored)
	require.NoError(t, query(ctx, newFakeClient(t, f, WithSessionStore(store))))
	assert.Equal(t, []string{fakeKey}, f.restBearers())
}

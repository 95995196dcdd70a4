package supabase

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
)

// SessionStore persists a client's session. The client loads it once, on
// first use, and saves every change (sign-in, refresh, user update) before
// anyone sees the new session; [SessionStore.Delete] is called on sign-out.
//
// When a session ends without [AuthClient.SignOut] (its refresh token was
// refused or spent once the access token had expired, or Auth ended it), the
// client saves a record of that in its place: a [Session] without tokens. A
// client that later loads it reports [ErrSessionExpired], as the one that
// lost the session does, instead of starting signed out and querying as anon;
// a sign-in replaces the record and SignOut deletes it. A store needs nothing
// special for this: [SessionStore.Load] returns what [SessionStore.Save] was
// given. A store that drops sessions without an access token still works; a
// client loading from it after such a loss starts signed out.
//
// Implementations must be safe for concurrent use. Load returns (nil, nil)
// when nothing is stored. When what is stored is not a session (corrupt
// data), Load should return an error matching [ErrStoredSessionInvalid] (a
// *[json.SyntaxError] or *[json.UnmarshalTypeError] in the chain is recognised
// too): the client then logs it and starts signed out, and the next
// sign-in overwrites the data. Any other Load error is taken as transient:
// the call that needed the session returns it and the next call tries again.
type SessionStore interface {
	Load(ctx context.Context) (*Session, error)
	Save(ctx context.Context, s *Session) error
	Delete(ctx context.Context) error
}

// ErrStoredSessionInvalid is matched by the error of [SessionStore.Load]
// when the stored data is not a session.
var ErrStoredSessionInvalid = errors.New("supabase: stored data is not a session")

// endedTokenType is the [Session.TokenType] of an ended record.
const endedTokenType = "ended"

// endedRecord is what the store keeps in place of s once s ended without
// [AuthClient.SignOut] (see sessionManager.loseLocked): no token, only the
// user, so that a tool reading the store can still say whose session it was.
func endedRecord(s *Session) *Session {
	return &Session{TokenType: endedTokenType, User: s.User}
}

// isEndedRecord reports whether s, loaded from a store, is an ended record.
func isEndedRecord(s *Session) bool {
	return s != nil && s.AccessToken == "" && s.RefreshToken == "" && s.TokenType == endedTokenType
}

// storeDataInvalid reports whether err, from [SessionStore.Load], says the
// stored data is corrupt rather than unreadable for now.
func storeDataInvalid(err error) bool {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	return errors.Is(err, ErrStoredSessionInvalid) || errors.As(err, &syntax) || errors.As(err, &typ)
}

// LockingStore is a [SessionStore] shared between processes. The client holds
// [LockingStore.Lock] around each refresh, re-reading the store inside it so
// a refresh token rotated by another process is adopted, never sent twice,
// and around every write of its own (sign-in, sign-out, user update), so such
// a write is never overtaken by a refresh another process is committing.
//
// Load, Save and Delete are called while Lock is held (and Load also
// without it): they must not take the lock themselves. Lock is not
// reentrant: the client never calls it while holding it. Lock waits while
// ctx allows and returns ctx's error when it ends first.
type LockingStore interface {
	SessionStore
	Lock(ctx context.Context) (unlock func(), err error)
}

// CodeVerifierStore is implemented by a [SessionStore] that also keeps the
// code verifier of a pending PKCE flow (see [FlowPKCE]), from the call that
// starts it ([AuthClient.SignInWithOAuthURL], [AuthClient.SignInWithOTP],
// ...) to [AuthClient.ExchangeCodeForSession]. [MemoryStore] and [FileStore]
// implement it; with a FileStore, a command-line tool can print the sign-in
// URL, exit, and exchange the code in its next run.
//
// A store keeps one verifier: starting a flow replaces the verifier of the
// previous one, whose code can then no longer be exchanged (supabase-js
// without flow ids does the same). The verifier is a secret (with the code
// it signs the user in): keep it where the session is kept, never print or
// log it. The value is opaque; store it as given.
//
// With a SessionStore that does not implement CodeVerifierStore, the
// client keeps the verifier in memory: the code must then be exchanged by
// the same client, in the same process.
//
// Implementations must be safe for concurrent use.
// [CodeVerifierStore.LoadCodeVerifier] returns "" and no error when no
// verifier is stored; [CodeVerifierStore.DeleteCodeVerifier] of nothing is no
// error. supabase-js keeps the verifier in its storage under
// "<storageKey>-code-verifier".
type CodeVerifierStore interface {
	SaveCodeVerifier(ctx context.Context, verifier string) error
	LoadCodeVerifier(ctx context.Context) (string, error)
	DeleteCodeVerifier(ctx context.Context) error
}

// MemoryStore keeps the session in memory; it is the default store. It
// also keeps the code verifier of a pending PKCE flow (see
// [CodeVerifierStore]).
type MemoryStore struct {
	mu       sync.Mutex
	s        *Session
	verifier string
}

// NewMemoryStore returns an empty in-memory store.
func NewMemoryStore() *MemoryStore { return &MemoryStore{} }

// String describes m without its session's tokens: whether it holds one.
func (m *MemoryStore) String() string {
	if m == nil {
		return "<nil>"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.s == nil {
		return "supabase.MemoryStore{empty}"
	}
	return "supabase.MemoryStore{" + m.s.String() + "}"
}

// Format makes every fmt verb (%v, %+v, %#v, %s) print [MemoryStore.String].
func (m *MemoryStore) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, m.String()) }

// LogValue makes slog log what [MemoryStore.String] shows.
func (m *MemoryStore) LogValue() slog.Value { return slog.StringValue(m.String()) }

// errNoMemoryStore is the error of a nil [*MemoryStore].
var errNoMemoryStore = invalidArg("nil *MemoryStore (use NewMemoryStore)")

// Load returns the stored session.
func (m *MemoryStore) Load(context.Context) (*Session, error) {
	if m == nil {
		return nil, errNoMemoryStore
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.s, nil
}

// Save stores s.
func (m *MemoryStore) Save(_ context.Context, s *Session) error {
	if m == nil {
		return errNoMemoryStore
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.s = s
	return nil
}

// Delete forgets the session.
func (m *MemoryStore) Delete(context.Context) error {
	if m == nil {
		return errNoMemoryStore
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.s = nil
	return nil
}

// SaveCodeVerifier keeps the code verifier of a pending PKCE flow,
// replacing any earlier one.
func (m *MemoryStore) SaveCodeVerifier(_ context.Context, verifier string) error {
	if m == nil {
		return errNoMemoryStore
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.verifier = verifier
	return nil
}

// LoadCodeVerifier returns the kept code verifier, "" when there is none.
func (m *MemoryStore) LoadCodeVerifier(context.Context) (string, error) {
	if m == nil {
		return "", errNoMemoryStore
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.verifier, nil
}

// DeleteCodeVerifier forgets the kept code verifier.
func (m *MemoryStore) DeleteCodeVerifier(context.Context) error {
	if m == nil {
		return errNoMemoryStore
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.verifier = ""
	return nil
}

// FileStore keeps the session in a JSON file readable only by its owner
// (mode 0600), for scripts and command-line tools. Writes are atomic
// (write to a temporary file, then rename), and refreshes, sign-ins and
// sign-outs are serialised across processes with an advisory lock (flock)
// on path+".lock": a process about to refresh first re-reads the file and
// adopts a token another process rotated, so processes sharing the file
// never send a refresh token twice nor lose a rotated one, and a refresh
// that one process is committing never overwrites another's sign-out or
// sign-in. Without flock (non-Unix systems) only the goroutines of one
// process are serialised.
//
// The code verifier of a pending PKCE flow (see [CodeVerifierStore]) is kept
// beside it, in path+".code-verifier" (0600, written atomically), so that
// the process exchanging the code need not be the one that started the
// flow. Create it with [NewFileStore].
type FileStore struct {
	path string
	// sem (one slot) serialises this process's goroutines around the file
	// lock; a channel rather than a mutex so that waiting watches ctx.
	sem chan struct{}
}

// NewFileStore returns a store at path. The directory is created (0700) on
// first save.
func NewFileStore(path string) (*FileStore, error) {
	if path == "" {
		return nil, invalidArg("NewFileStore: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("supabase: NewFileStore: %w", err)
	}
	return &FileStore{path: abs, sem: make(chan struct{}, 1)}, nil
}

// errNoFileStore is the error of a nil or zero [FileStore].
var errNoFileStore = invalidArg("FileStore not made by NewFileStore")

// check reports a nil or zero FileStore, which has no path to use.
func (f *FileStore) check() error {
	if f == nil || f.path == "" || f.sem == nil {
		return errNoFileStore
	}
	return nil
}

// Path returns the file's absolute path ("" for a nil or zero FileStore).
func (f *FileStore) Path() string {
	if f == nil {
		return ""
	}
	return f.path
}

// Load reads the session; a missing file is no session. A file that is not
// a session yields an error matching [ErrStoredSessionInvalid].
func (f *FileStore) Load(context.Context) (*Session, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("supabase: reading session file: %w", err)
	}
	if len(data) == 0 {
		return nil, nil
	}
	var s Session
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrStoredSessionInvalid, f.path, err)
	}
	return &s, nil
}

// Save writes s atomically with mode 0600.
func (f *FileStore) Save(_ context.Context, s *Session) error {
	if err := f.check(); err != nil {
		return err
	}
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("supabase: encoding session: %w", err)
	}
	if err := writeFileAtomic(f.path, data); err != nil {
		return fmt.Errorf("supabase: writing session file: %w", err)
	}
	return nil
}

// writeFileAtomic writes data to path with mode 0600: to a temporary file
// in the same directory (created 0700 if missing), synced, then renamed
// over path, so a reader sees the old content or the new, never a part.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	// Make the rename itself durable; not every platform can sync a directory.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// Delete removes the file.
func (f *FileStore) Delete(context.Context) error {
	if err := f.check(); err != nil {
		return err
	}
	if err := os.Remove(f.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("supabase: deleting session file: %w", err)
	}
	return nil
}

// Lock takes the cross-process lock. It waits, for other goroutines of
// this process as for other processes, while ctx allows; when ctx ends
// first it returns an error matching ctx's.
func (f *FileStore) Lock(ctx context.Context) (func(), error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	select {
	case f.sem <- struct{}{}: // free: taken even if ctx has just ended
	default:
		select {
		case f.sem <- struct{}{}:
		case <-ctx.Done():
			return nil, fmt.Errorf("supabase: session lock: %w", ctx.Err())
		}
	}
	release := func() { <-f.sem }
	if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
		release()
		return nil, fmt.Errorf("supabase: session lock: %w", err)
	}
	unlock, err := lockFile(ctx, f.path+".lock")
	if err != nil {
		release()
		return nil, fmt.Errorf("supabase: session lock: %w", err)
	}
	var once sync.Once
	return func() { once.Do(func() { unlock(); release() }) }, nil
}

// verifierPath is the file that keeps the code verifier.
func (f *FileStore) verifierPath() string { return f.path + ".code-verifier" }

// SaveCodeVerifier writes the code verifier of a pending PKCE flow
// atomically, mode 0600, replacing any earlier one.
func (f *FileStore) SaveCodeVerifier(_ context.Context, verifier string) error {
	if err := f.check(); err != nil {
		return err
	}
	if err := writeFileAtomic(f.verifierPath(), []byte(verifier)); err != nil {
		return fmt.Errorf("supabase: writing code verifier file: %w", err)
	}
	return nil
}

// LoadCodeVerifier reads the kept code verifier; a missing file is none.
func (f *FileStore) LoadCodeVerifier(context.Context) (string, error) {
	if err := f.check(); err != nil {
		return "", err
	}
	data, err := os.ReadFile(f.verifierPath())
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("supabase: reading code verifier file: %w", err)
	}
	return string(data), nil
}

// DeleteCodeVerifier removes the code verifier file.
func (f *FileStore) DeleteCodeVerifier(context.Context) error {
	if err := f.check(); err != nil {
		return err
	}
	if err := os.Remove(f.verifierPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("supabase: deleting code verifier file: %w", err)
	}
	return nil
}

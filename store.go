package supabase

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// SessionStore persists a client's session. The client loads it once, on
// first use, and saves every change (sign-in, refresh, user update) before
// anyone sees the new session; Delete is called on sign-out.
//
// Implementations must be safe for concurrent use. Load returns (nil, nil)
// when nothing is stored.
type SessionStore interface {
	Load(ctx context.Context) (*Session, error)
	Save(ctx context.Context, s *Session) error
	Delete(ctx context.Context) error
}

// LockingStore is a SessionStore shared between processes. The client holds
// Lock around each refresh and re-reads the store inside it, so a refresh
// token rotated by another process is adopted, never sent twice.
type LockingStore interface {
	SessionStore
	Lock(ctx context.Context) (unlock func(), err error)
}

// MemoryStore keeps the session in memory; it is the default store.
type MemoryStore struct {
	mu sync.Mutex
	s  *Session
}

// NewMemoryStore returns an empty in-memory store.
func NewMemoryStore() *MemoryStore { return &MemoryStore{} }

// Load returns the stored session.
func (m *MemoryStore) Load(context.Context) (*Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.s, nil
}

// Save stores s.
func (m *MemoryStore) Save(_ context.Context, s *Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.s = s
	return nil
}

// Delete forgets the session.
func (m *MemoryStore) Delete(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.s = nil
	return nil
}

// FileStore keeps the session in a JSON file readable only by its owner
// (mode 0600), for scripts and command-line tools. Writes are atomic
// (write to a temporary file, then rename), and refreshes are serialised
// across processes with an advisory lock (flock) on path+".lock": a process
// about to refresh first re-reads the file and adopts a token another
// process rotated, so processes sharing the file never send a refresh
// token twice nor lose a rotated one. Without flock (non-Unix systems) only
// the goroutines of one process are serialised.
type FileStore struct {
	path string
	mu   sync.Mutex // serialises this process's goroutines around the file lock
}

// NewFileStore returns a store at path. The directory is created (0700) on
// first save.
func NewFileStore(path string) (*FileStore, error) {
	if path == "" {
		return nil, errors.New("supabase: NewFileStore: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("supabase: NewFileStore: %w", err)
	}
	return &FileStore{path: abs}, nil
}

// Path returns the file's absolute path.
func (f *FileStore) Path() string { return f.path }

// Load reads the session; a missing file is no session.
func (f *FileStore) Load(context.Context) (*Session, error) {
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
		return nil, fmt.Errorf("supabase: session file %s is not a session: %w", f.path, err)
	}
	return &s, nil
}

// Save writes s atomically with mode 0600.
func (f *FileStore) Save(_ context.Context, s *Session) error {
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("supabase: encoding session: %w", err)
	}
	dir := filepath.Dir(f.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("supabase: session directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(f.path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("supabase: writing session file: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("supabase: writing session file: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("supabase: writing session file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("supabase: writing session file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("supabase: writing session file: %w", err)
	}
	if err := os.Rename(tmp.Name(), f.path); err != nil {
		return fmt.Errorf("supabase: writing session file: %w", err)
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
	if err := os.Remove(f.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("supabase: deleting session file: %w", err)
	}
	return nil
}

// Lock takes the cross-process lock. It waits while ctx allows.
func (f *FileStore) Lock(ctx context.Context) (func(), error) {
	f.mu.Lock()
	if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
		f.mu.Unlock()
		return nil, fmt.Errorf("supabase: session lock: %w", err)
	}
	unlock, err := lockFile(ctx, f.path+".lock")
	if err != nil {
		f.mu.Unlock()
		return nil, fmt.Errorf("supabase: session lock: %w", err)
	}
	return func() { unlock(); f.mu.Unlock() }, nil
}

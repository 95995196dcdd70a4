package localstack

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// diskStore keeps object bytes on local disk, one file per object version
// (storage.objects.version, a UUID the stack makes) under dir/objects.
// Object names never reach the file system. A write goes to dir/tmp first
// and is renamed into place once complete, so a refused or failed upload
// leaves nothing behind.
type diskStore struct {
	dir   string
	owned bool // made by New, removed by Close
}

func newDiskStore(dir string) (*diskStore, error) {
	st := &diskStore{dir: dir}
	if dir == "" {
		d, err := os.MkdirTemp("", "localstack-storage-")
		if err != nil {
			return nil, fmt.Errorf("localstack: storage directory: %w", err)
		}
		st.dir, st.owned = d, true
	}
	for _, sub := range []string{"objects", "tmp"} {
		if err := os.MkdirAll(filepath.Join(st.dir, sub), 0o700); err != nil {
			st.close()
			return nil, fmt.Errorf("localstack: storage directory: %w", err)
		}
	}
	return st, nil
}

func (st *diskStore) close() {
	if st.owned {
		os.RemoveAll(st.dir)
	}
}

// errBodyTooLarge is a body longer than its limit.
var errBodyTooLarge = errors.New("body exceeds the size limit")

// pending is a file being written: its bytes, size and MD5 so far.
type pending struct {
	f    *os.File
	st   *diskStore
	size int64
	md5  string
}

// write copies r into a new temporary file, refusing more than max bytes
// (errBodyTooLarge). It streams: memory use does not depend on the size.
func (st *diskStore) write(r io.Reader, max int64) (*pending, error) {
	f, err := os.CreateTemp(filepath.Join(st.dir, "tmp"), "upload-")
	if err != nil {
		return nil, err
	}
	p := &pending{f: f, st: st}
	h := md5.New()
	buf := make([]byte, 256<<10)
	n, err := io.CopyBuffer(io.MultiWriter(f, h), io.LimitReader(r, max+1), buf)
	if err == nil && n > max {
		err = errBodyTooLarge
	}
	if err != nil {
		p.discard()
		return nil, err
	}
	p.size, p.md5 = n, hex.EncodeToString(h.Sum(nil))
	return p, nil
}

// discard removes the temporary file.
func (p *pending) discard() {
	p.f.Close()
	os.Remove(p.f.Name())
}

// commit makes the file the bytes of version.
func (p *pending) commit(version string) error {
	if err := p.f.Close(); err != nil {
		os.Remove(p.f.Name())
		return err
	}
	if err := os.Rename(p.f.Name(), p.st.path(version)); err != nil {
		os.Remove(p.f.Name())
		return err
	}
	return nil
}

func (st *diskStore) path(version string) string {
	return filepath.Join(st.dir, "objects", version)
}

// open opens a version's bytes; a version not of the stack's making (it
// could come from SQL) is not a file name.
func (st *diskStore) open(version string) (*os.File, error) {
	if !uuidRe.MatchString(version) {
		return nil, os.ErrNotExist
	}
	return os.Open(st.path(version))
}

// remove deletes versions' bytes, if there are any.
func (st *diskStore) remove(versions ...string) {
	for _, v := range versions {
		if uuidRe.MatchString(v) {
			os.Remove(st.path(v))
		}
	}
}

package outbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// fileSystem is the part of the operating system the queue writes through,
// so tests can record the order of writes, syncs and renames.
type fileSystem interface {
	CreateTemp(dir, pattern string) (file, error)
	Rename(from, to string) error
	Link(from, to string) error
	Remove(name string) error
	SyncDir(dir string) error
	MkdirAll(dir string) error
}

// file is an open temporary file.
type file interface {
	Name() string
	Write(p []byte) (int, error)
	Sync() error
	Close() error
}

type osFS struct{}

func (osFS) CreateTemp(dir, pattern string) (file, error) { return os.CreateTemp(dir, pattern) }
func (osFS) Rename(from, to string) error                 { return os.Rename(from, to) }
func (osFS) Link(from, to string) error                   { return os.Link(from, to) }
func (osFS) Remove(name string) error                     { return os.Remove(name) }
func (osFS) MkdirAll(dir string) error                    { return os.MkdirAll(dir, 0o700) }

func (osFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// tempPrefix starts the names of files being written; listings skip them.
const tempPrefix = ".tmp-"

// writeTemp writes data to a new file in dir and fsyncs and closes it.
// os.CreateTemp creates it with mode 0600. The caller moves it into place
// and removes it on error.
func writeTemp(fsys fileSystem, dir string, data []byte) (string, error) {
	f, err := fsys.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return "", fmt.Errorf("creating temporary file in %s: %w", dir, err)
	}
	name := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = fsys.Remove(name)
		return "", fmt.Errorf("writing %s: %w", name, err)
	}
	return name, nil
}

// replaceFile writes data to path durably: temporary file, write, fsync,
// close, rename over path, fsync of the directory.
func replaceFile(fsys fileSystem, path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := writeTemp(fsys, dir, data)
	if err != nil {
		return err
	}
	if err := fsys.Rename(tmp, path); err != nil {
		_ = fsys.Remove(tmp)
		return fmt.Errorf("moving %s into place: %w", path, err)
	}
	if err := fsys.SyncDir(dir); err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}

// removeFiles removes paths in order, ignoring those already gone, then
// fsyncs dir.
func removeFiles(fsys fileSystem, dir string, paths ...string) error {
	for _, p := range paths {
		if err := fsys.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing %s: %w", p, err)
		}
	}
	if err := fsys.SyncDir(dir); err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}

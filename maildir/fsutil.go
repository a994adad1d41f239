package maildir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// tempPattern names gmsync's temporary files in a folder's tmp/, so that
// CleanOwnTmp can tell them from other programs' files.
const tempPattern = "gmsync-*"

// writeFileDurable writes data to dest through a temporary file in tmpDir
// (which must be on the same filesystem): create 0600, write, set the mtime,
// fsync, close, rename, fsync dest's directory. A crash leaves either no
// dest or the whole file, and at worst a stray file in tmpDir.
func writeFileDurable(tmpDir, dest string, data []byte, mtime time.Time) (err error) {
	f, err := os.CreateTemp(tmpDir, tempPattern)
	if err != nil {
		return fmt.Errorf("creating temporary file in %s: %w", tmpDir, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()

	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := os.Chtimes(tmp, mtime, mtime); err != nil {
		return fmt.Errorf("setting mtime of %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, dest); err != nil {
		return fmt.Errorf("renaming %s to %s: %w", tmp, dest, err)
	}
	return syncDir(filepath.Dir(dest))
}

// syncDir fsyncs a directory so that the names created, renamed or removed
// in it survive a crash. On Windows, where opening a directory for fsync
// fails, it does nothing.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("opening directory %s to sync it: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}

// mkdirDurable creates dir and its missing parents with mode 0700, syncing
// each parent after a directory is created in it.
func mkdirDurable(dir string) error {
	info, err := os.Stat(dir)
	if err == nil {
		if !info.IsDir() {
			return fmt.Errorf("creating directory %s: a file is in the way", dir)
		}
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("checking directory %s: %w", dir, err)
	}

	parent := filepath.Dir(dir)
	if parent != dir {
		if err := mkdirDurable(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("creating directory %s: %w", dir, err)
	}
	return syncDir(parent)
}

// fileExists reports whether path exists, without following a final
// symbolic link.
func fileExists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

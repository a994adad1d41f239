package maildir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/emersion/go-maildir"
)

// Remove deletes message files given as paths relative to the root, as
// Deliver and Keys return them, and fsyncs each directory. A path whose file
// a mail client has since renamed (new flags, or moved from new/ to cur/) is
// found again by its Gmail id in the same folder. A file that is already gone
// is not an error, so Remove is idempotent. It refuses paths that are not
// gmsync message files, and goes on past failures, returning them joined.
func (s *Store) Remove(paths []string) error {
	var errs []error
	for _, p := range paths {
		if err := s.remove(p); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *Store) remove(rel string) error {
	dir, gmailID, err := splitMessagePath(rel)
	if err != nil {
		return fmt.Errorf("removing message: %w", err)
	}
	unlock := s.ids.lock(gmailID)
	defer unlock()

	current, err := s.current(rel, dir, gmailID)
	if err != nil || current == "" {
		return err
	}
	if err := os.Remove(s.abs(current)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing message %s: %w", s.abs(current), err)
	}
	s.forget(dir, gmailID)
	return syncDir(filepath.Dir(s.abs(current)))
}

// SetFlags renames the message file at path (relative to the root) to carry
// flags, moving it between new/ and cur/ when Seen changes, and returns the
// new path. Like Remove it finds a file that a mail client renamed. Other
// links of the same message keep their own names. The rename is durable when
// SetFlags returns.
func (s *Store) SetFlags(path string, flags Flags) (string, error) {
	dir, gmailID, err := splitMessagePath(path)
	if err != nil {
		return "", fmt.Errorf("setting flags: %w", err)
	}
	unlock := s.ids.lock(gmailID)
	defer unlock()

	current, err := s.current(path, dir, gmailID)
	if err != nil {
		return "", err
	}
	if current == "" {
		return "", fmt.Errorf("setting flags of %s: %w", s.abs(path), fs.ErrNotExist)
	}

	key, _, _ := strings.Cut(filepath.Base(current), string(infoSeparator))
	next := filepath.Join(dir, flags.subdir(), flags.filename(key))
	if next == current {
		return current, nil
	}
	if err := os.Rename(s.abs(current), s.abs(next)); err != nil {
		return "", fmt.Errorf("setting flags of %s: %w", s.abs(current), err)
	}
	s.remember(dir, gmailID, next)
	if err := syncDir(filepath.Dir(s.abs(next))); err != nil {
		return "", err
	}
	return next, syncDir(filepath.Dir(s.abs(current)))
}

// CleanTmp removes files older than 36 hours from the tmp/ of each folder,
// which an interrupted delivery can leave behind. It uses go-maildir's Clean.
func (s *Store) CleanTmp(dirs []string) error {
	var errs []error
	for _, dir := range dirs {
		clean, err := cleanDir(dir)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		err = maildir.Dir(s.abs(clean)).Clean()
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("cleaning tmp of %s: %w", s.abs(clean), err))
		}
	}
	return errors.Join(errs...)
}

// current returns rel if its file exists, else the path of the file holding
// gmailID in dir, else "".
func (s *Store) current(rel, dir, gmailID string) (string, error) {
	if fileExists(s.abs(rel)) {
		return filepath.Clean(rel), nil
	}
	return s.find(dir, gmailID)
}

// splitMessagePath checks that rel is a gmsync message file inside the root
// and returns its folder and Gmail id.
func splitMessagePath(rel string) (dir, gmailID string, err error) {
	clean := filepath.Clean(rel)
	if !filepath.IsLocal(clean) {
		return "", "", fmt.Errorf("invalid message path %q: not inside the maildir root", rel)
	}
	sub := filepath.Base(filepath.Dir(clean))
	if sub != "cur" && sub != "new" {
		return "", "", fmt.Errorf("invalid message path %q: not in a cur or new directory", rel)
	}
	gmailID, ok := ParseKey(filepath.Base(clean))
	if !ok {
		return "", "", fmt.Errorf("invalid message path %q: not a file that gmsync wrote", rel)
	}
	return filepath.Dir(filepath.Dir(clean)), gmailID, nil
}

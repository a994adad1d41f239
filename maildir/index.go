package maildir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/emersion/go-maildir"
)

// Keys scans a folder's cur/ and new/ and returns the Gmail id and path,
// relative to the root, of every file gmsync wrote there. Files of other
// programs are skipped. When a mail client copied one Gmail id into several
// files, the path that sorts first is returned. A missing folder has no keys.
func (s *Store) Keys(dir string) (map[string]string, error) {
	clean, err := cleanDir(dir)
	if err != nil {
		return nil, err
	}
	index, err := scanFolder(s.root, clean)
	if err != nil {
		return nil, err
	}

	s.mu.Lock()
	s.indexes[clean] = index
	s.mu.Unlock()
	return copyIndex(index), nil
}

// find returns the path of the file holding gmailID in folder dir, or "" when
// there is none. It trusts the folder's cached index, loaded on first use,
// and rescans the folder when a cached path has gone (a mail client renamed
// or deleted the file).
func (s *Store) find(dir, gmailID string) (string, error) {
	rel, err := s.lookup(dir, gmailID, false)
	if err != nil || rel == "" || fileExists(s.abs(rel)) {
		return rel, err
	}
	rel, err = s.lookup(dir, gmailID, true)
	if err != nil || rel == "" || fileExists(s.abs(rel)) {
		return rel, err
	}
	return "", nil
}

// lookup returns the cached path of gmailID in dir, loading the index first
// when it is missing or rescan is set.
func (s *Store) lookup(dir, gmailID string, rescan bool) (string, error) {
	s.mu.Lock()
	index, ok := s.indexes[dir]
	s.mu.Unlock()

	if !ok || rescan {
		fresh, err := scanFolder(s.root, dir)
		if err != nil {
			return "", err
		}
		s.mu.Lock()
		s.indexes[dir] = fresh
		index = fresh
		s.mu.Unlock()
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	return index[gmailID], nil
}

// remember records a file that the store just wrote.
func (s *Store) remember(dir, gmailID, rel string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if index, ok := s.indexes[dir]; ok {
		index[gmailID] = rel
	}
}

// forget drops gmailID from a folder's index after its file was removed.
func (s *Store) forget(dir, gmailID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.indexes[dir], gmailID)
}

// scanFolder lists the gmsync files in dir's cur/ and new/.
func scanFolder(root, dir string) (map[string]string, error) {
	index := make(map[string]string)
	add := func(name, rel string) {
		id, ok := ParseKey(name)
		if !ok {
			return
		}
		if old, dup := index[id]; !dup || rel < old {
			index[id] = rel
		}
	}

	err := maildir.Dir(filepath.Join(root, dir)).Walk(func(msg *maildir.Message) error {
		name := filepath.Base(msg.Filename())
		add(name, filepath.Join(dir, "cur", name))
		return nil
	})
	if err := dropForeignEntries(err); err != nil {
		return nil, fmt.Errorf("listing %s: %w", filepath.Join(root, dir, "cur"), err)
	}

	entries, err := os.ReadDir(filepath.Join(root, dir, "new"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("listing %s: %w", filepath.Join(root, dir, "new"), err)
	}
	for _, e := range entries {
		add(e.Name(), filepath.Join(dir, "new", e.Name()))
	}
	return index, nil
}

// dropForeignEntries removes from a maildir.Dir.Walk error the complaints
// about file names that are not Maildir names, which other programs may leave
// in cur/, and a missing cur/. It returns nil when nothing else is left.
func dropForeignEntries(err error) error {
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	var errs []error
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		errs = joined.Unwrap()
	} else {
		errs = []error{err}
	}

	var remaining []error
	for _, e := range errs {
		var mailfileErr *maildir.MailfileError
		var flagErr *maildir.FlagError
		if errors.As(e, &mailfileErr) || errors.As(e, &flagErr) {
			continue
		}
		remaining = append(remaining, e)
	}
	return errors.Join(remaining...)
}

func copyIndex(index map[string]string) map[string]string {
	out := make(map[string]string, len(index))
	for id, rel := range index {
		out[id] = rel
	}
	return out
}

package maildir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-maildir"
)

// Store writes messages into the folders under one Maildir root.
//
// Store assumes it is the only gmsync writer under its root (the caller holds
// the account's sync lock), while mail clients may read, rename and delete
// files at the same time. Its methods are safe for concurrent use: calls for
// different Gmail ids run in parallel, calls for the same id one at a time.
type Store struct {
	root string

	// link creates a hard link; tests replace it to force the copy fallback.
	link func(oldname, newname string) error

	ids keyedMutex

	mu      sync.Mutex
	ready   map[string]bool              // folders whose directories exist
	indexes map[string]map[string]string // folder → gmail id → path relative to root
}

// Open returns a Store for the Maildir under root, creating root with mode
// 0700 if it is missing. An existing root keeps its mode.
func Open(root string) (*Store, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("resolving maildir root %s: %w", root, err)
	}
	if err := mkdirDurable(abs); err != nil {
		return nil, fmt.Errorf("opening maildir root: %w", err)
	}
	return &Store{
		root:    abs,
		link:    os.Link,
		ready:   make(map[string]bool),
		indexes: make(map[string]map[string]string),
	}, nil
}

// Root returns the absolute path of the Maildir root.
func (s *Store) Root() string { return s.root }

// Deliver stores a message in every target folder and returns each copy's
// path relative to the root, in target order, with duplicate targets
// dropped. Each file is named FormatKey(internalDate, gmailID) plus its
// target's flags, and lives in new/ for an unread message and in cur/
// otherwise. The first folder without a copy gets the file itself: written to
// its tmp/, fsynced, given internalDate as mtime, then renamed into place.
// Every other folder gets a hard link to that file, or a copy with the same
// mtime where os.Link fails.
//
// Deliver is idempotent. A folder that already holds a file with this Gmail
// id, under any flags, is left as it is and its existing path is returned,
// and the other folders link to that existing copy. Everything is durable
// when Deliver returns nil. After an error some folders may hold the message
// already, and calling Deliver again with the same arguments completes the
// work without duplicating.
func (s *Store) Deliver(targets []Target, gmailID string, raw []byte, internalDate time.Time) ([]string, error) {
	if err := checkGmailID(gmailID); err != nil {
		return nil, fmt.Errorf("delivering message: %w", err)
	}
	targets, err := cleanTargets(targets)
	if err != nil {
		return nil, fmt.Errorf("delivering message %s: %w", gmailID, err)
	}

	unlock := s.ids.lock(gmailID)
	defer unlock()

	paths := make([]string, len(targets))
	source := ""
	for i, t := range targets {
		rel, err := s.find(t.Dir, gmailID)
		if err != nil {
			return nil, fmt.Errorf("delivering message %s: %w", gmailID, err)
		}
		paths[i] = rel
		if rel != "" && source == "" {
			source = s.abs(rel)
		}
	}

	key := FormatKey(internalDate, gmailID)
	for i, t := range targets {
		if paths[i] != "" {
			continue
		}
		rel, err := s.place(t, key, source, raw, internalDate)
		if err != nil {
			return nil, fmt.Errorf("delivering message %s into %s: %w", gmailID, t.Dir, err)
		}
		s.remember(t.Dir, gmailID, rel)
		paths[i] = rel
		if source == "" {
			source = s.abs(rel)
		}
	}
	return paths, nil
}

// CreateFolders creates the Maildir directories of dirs, so that folders
// without messages show in mail clients too.
func (s *Store) CreateFolders(dirs []string) error {
	for _, dir := range dirs {
		clean, err := cleanDir(dir)
		if err != nil {
			return err
		}
		if err := s.ensureFolder(clean); err != nil {
			return err
		}
	}
	return nil
}

// place puts one copy of the message into t.Dir: a new file when source is
// empty, else a hard link to source, else a copy.
func (s *Store) place(t Target, key, source string, raw []byte, date time.Time) (string, error) {
	return s.placeFrom(t, key, source, func() ([]byte, error) { return raw, nil }, date)
}

// placeFrom is place with the bytes read only when they are needed: for a
// new file, or for a copy where a hard link fails.
func (s *Store) placeFrom(t Target, key, source string, raw func() ([]byte, error), date time.Time) (string, error) {
	if err := s.ensureFolder(t.Dir); err != nil {
		return "", err
	}
	rel := filepath.Join(t.Dir, t.Flags.subdir(), t.Flags.filename(key))
	dest := s.abs(rel)
	tmpDir := s.abs(filepath.Join(t.Dir, "tmp"))

	if source != "" {
		err := s.link(source, dest)
		switch {
		case err == nil:
			return rel, syncDir(filepath.Dir(dest))
		case errors.Is(err, fs.ErrExist):
			return rel, nil // this exact name is this message under these flags
		}
		// Cross-device links (EXDEV), filesystems without hard links (EPERM,
		// ENOTSUP) and full link counts (EMLINK) all land here: copy instead.
	}
	data, err := raw()
	if err != nil {
		return "", err
	}
	return rel, writeFileDurable(tmpDir, dest, data, date)
}

// ensureFolder creates a folder's directory, its parents and its cur, new
// and tmp, durably, once per Store.
func (s *Store) ensureFolder(dir string) error {
	s.mu.Lock()
	done := s.ready[dir]
	s.mu.Unlock()
	if done {
		return nil
	}

	abs := s.abs(dir)
	if err := mkdirDurable(abs); err != nil {
		return err
	}
	if err := maildir.Dir(abs).Init(); err != nil {
		return fmt.Errorf("creating maildir %s: %w", abs, err)
	}
	if err := syncDir(abs); err != nil {
		return err
	}
	if isPlusPlusFolder(dir) {
		if err := ensureFolderMarker(abs); err != nil {
			return err
		}
	}

	s.mu.Lock()
	s.ready[dir] = true
	s.mu.Unlock()
	return nil
}

// isPlusPlusFolder reports a Maildir++ subfolder: one directory name that
// starts with '.'. The nested layout never writes such a name, because
// escaping encodes a leading '.'.
func isPlusPlusFolder(dir string) bool {
	return dir != "." && strings.HasPrefix(dir, ".") && !strings.ContainsRune(dir, filepath.Separator)
}

// ensureFolderMarker creates the empty "maildirfolder" file that Courier and
// Dovecot expect in a Maildir++ subfolder.
func ensureFolderMarker(folder string) error {
	marker := filepath.Join(folder, "maildirfolder")
	if fileExists(marker) {
		return nil
	}
	return writeFileDurable(folder, marker, nil, time.Now())
}

func (s *Store) abs(rel string) string { return filepath.Join(s.root, rel) }

// cleanTargets checks every target directory and drops repeated ones.
func cleanTargets(targets []Target) ([]Target, error) {
	seen := make(map[string]bool, len(targets))
	var out []Target
	for _, t := range targets {
		dir, err := cleanDir(t.Dir)
		if err != nil {
			return nil, err
		}
		if seen[dir] {
			continue
		}
		seen[dir] = true
		t.Dir = dir
		out = append(out, t)
	}
	return out, nil
}

// cleanDir returns dir cleaned, or an error when it would leave the root. The
// root itself ("." or "") is the Maildir++ INBOX.
func cleanDir(dir string) (string, error) {
	clean := filepath.Clean(dir)
	if clean == "." {
		return clean, nil
	}
	if !filepath.IsLocal(clean) {
		return "", fmt.Errorf("invalid folder %q: not a relative path inside the maildir root", dir)
	}
	for _, c := range strings.Split(filepath.ToSlash(clean), "/") {
		if isMaildirSubdir(c) {
			return "", fmt.Errorf("invalid folder %q: %q is a maildir subdirectory name", dir, c)
		}
	}
	return clean, nil
}

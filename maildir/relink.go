package maildir

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ErrNoCopy reports that Relink found no file of the message to link
// from: the caller has to fetch the message again and Deliver it.
var ErrNoCopy = errors.New("no local copy of the message")

// Relink moves a stored message to a new set of folders without its bytes.
// A target folder that holds the message gets its file renamed to the
// target's flags. A target folder without it gets a hard link (or a copy)
// of an existing file. A folder of current that is not a target loses its
// file. current lists the message's known paths relative to the root, and
// files that mail clients renamed are found again by Gmail id.
//
// Relink returns the new paths in target order. It is idempotent, and
// durable when it returns nil. When no file of the message exists at all it
// returns ErrNoCopy and changes nothing.
func (s *Store) Relink(gmailID string, current []string, targets []Target) ([]string, error) {
	if err := checkGmailID(gmailID); err != nil {
		return nil, fmt.Errorf("relinking message: %w", err)
	}
	targets, err := cleanTargets(targets)
	if err != nil {
		return nil, fmt.Errorf("relinking message %s: %w", gmailID, err)
	}
	existing, err := s.existingCopies(gmailID, current, targets)
	if err != nil {
		return nil, err
	}
	if len(existing) == 0 {
		return nil, fmt.Errorf("relinking message %s: %w", gmailID, ErrNoCopy)
	}
	// Rename the copies that stay first, so the source of the new links is
	// a name that exists.
	paths := make([]string, len(targets))
	source := ""
	for i, t := range targets {
		if existing[t.Dir] == "" {
			continue
		}
		path, err := s.SetFlags(existing[t.Dir], t.Flags)
		if err != nil {
			return nil, err
		}
		paths[i] = path
		source = s.abs(path)
	}
	if source == "" {
		source = s.abs(firstValue(existing))
	}
	for i, t := range targets {
		if paths[i] != "" {
			continue
		}
		path, err := s.linkInto(t, gmailID, source)
		if err != nil {
			return nil, err
		}
		paths[i] = path
	}

	var stale []string
	for dir, path := range existing {
		if !slices.ContainsFunc(targets, func(t Target) bool { return t.Dir == dir }) {
			stale = append(stale, path)
		}
	}
	slices.Sort(stale)
	if err := s.Remove(stale); err != nil {
		return nil, fmt.Errorf("relinking message %s: %w", gmailID, err)
	}
	return paths, nil
}

// existingCopies returns, by folder, the files of gmailID that exist now:
// those of current (found again when renamed) and those in target folders.
func (s *Store) existingCopies(gmailID string, current []string, targets []Target) (map[string]string, error) {
	existing := map[string]string{}
	dirs := make([]string, 0, len(current)+len(targets))
	for _, p := range current {
		dir, id, err := splitMessagePath(p)
		if err != nil || id != gmailID {
			return nil, fmt.Errorf("relinking message %s: path %q is not one of its files", gmailID, p)
		}
		dirs = append(dirs, dir)
	}
	for _, t := range targets {
		dirs = append(dirs, t.Dir)
	}
	for _, dir := range dirs {
		if _, done := existing[dir]; done {
			continue
		}
		path, err := s.find(dir, gmailID)
		if err != nil {
			return nil, fmt.Errorf("relinking message %s: %w", gmailID, err)
		}
		if path != "" {
			existing[dir] = path
		}
	}
	return existing, nil
}

// linkInto gives folder t.Dir a hard link (or a copy) of source, named
// with t's flags.
func (s *Store) linkInto(t Target, gmailID, source string) (string, error) {
	info, err := os.Stat(source)
	if err != nil {
		return "", fmt.Errorf("relinking message %s: %w", gmailID, err)
	}
	key, _, _ := strings.Cut(filepath.Base(source), string(infoSeparator))
	raw := func() ([]byte, error) { return os.ReadFile(source) }

	unlock := s.ids.lock(gmailID)
	defer unlock()
	rel, err := s.placeFrom(t, key, source, raw, info.ModTime())
	if err != nil {
		return "", fmt.Errorf("relinking message %s into %s: %w", gmailID, t.Dir, err)
	}
	s.remember(t.Dir, gmailID, rel)
	return rel, nil
}

func firstValue(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return m[keys[0]]
}

// CleanOwnTmp removes the temporary files gmsync left in the tmp/ of each
// folder when a delivery was interrupted. Only the caller holding the
// account's sync lock may call it, because a running delivery's file looks
// the same. Files of other programs in tmp/ are left alone.
func (s *Store) CleanOwnTmp(dirs []string) (int, error) {
	removed := 0
	var errs []error
	for _, dir := range dirs {
		clean, err := cleanDir(dir)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		matches, err := filepath.Glob(filepath.Join(s.abs(clean), "tmp", tempPattern))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, m := range matches {
			if err := os.Remove(m); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("removing leftover %s: %w", m, err))
				continue
			}
			removed++
		}
	}
	return removed, errors.Join(errs...)
}

// ForeignMessageIDs returns the Message-ID of every file in a folder's cur/
// and new/ that gmsync did not write, as read from its header, and the
// number of such files. Files without a readable Message-ID count but add
// no id.
func (s *Store) ForeignMessageIDs(dir string) (map[string]bool, int, error) {
	clean, err := cleanDir(dir)
	if err != nil {
		return nil, 0, err
	}
	ids := map[string]bool{}
	count := 0
	for _, sub := range []string{"cur", "new"} {
		entries, err := os.ReadDir(s.abs(filepath.Join(clean, sub)))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, 0, fmt.Errorf("listing %s: %w", s.abs(filepath.Join(clean, sub)), err)
		}
		for _, e := range entries {
			if !e.Type().IsRegular() {
				continue
			}
			if _, ok := ParseKey(e.Name()); ok {
				continue
			}
			count++
			if id := readMessageID(s.abs(filepath.Join(clean, sub, e.Name()))); id != "" {
				ids[id] = true
			}
		}
	}
	return ids, count, nil
}

// MessageIDOf returns the Message-ID of the message file at path, relative
// to the root, without angle brackets, or "" when it has none.
func (s *Store) MessageIDOf(path string) string {
	return readMessageID(s.abs(path))
}

// readMessageID returns the Message-ID of the message file at path without
// angle brackets, or "" when its header cannot be read.
func readMessageID(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	header, err := textproto.NewReader(bufio.NewReader(f)).ReadMIMEHeader()
	if err != nil && len(header) == 0 {
		return ""
	}
	id := strings.TrimSpace(header.Get("Message-Id"))
	return strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">")
}

// RemoveEmptyFolder deletes a folder's cur/, new/ and tmp/ and the folder
// itself when none of them holds a file, and reports whether it did. A
// folder that holds subfolders or any file, such as one a mail client put
// there, stays.
func (s *Store) RemoveEmptyFolder(dir string) (bool, error) {
	clean, err := cleanDir(dir)
	if err != nil {
		return false, err
	}
	abs := s.abs(clean)
	for _, sub := range []string{"cur", "new", "tmp"} {
		entries, err := os.ReadDir(filepath.Join(abs, sub))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return false, err
		}
		if len(entries) > 0 {
			return false, nil
		}
	}
	entries, err := os.ReadDir(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		switch e.Name() {
		case "cur", "new", "tmp", "maildirfolder":
		default:
			return false, nil
		}
	}
	if err := os.RemoveAll(abs); err != nil {
		return false, fmt.Errorf("removing empty folder %s: %w", abs, err)
	}
	s.mu.Lock()
	delete(s.ready, clean)
	delete(s.indexes, clean)
	s.mu.Unlock()
	return true, syncDir(filepath.Dir(abs))
}

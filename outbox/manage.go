package outbox

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
)

// Drop deletes the entry id from the queue or from failed/.
func (l *Locked) Drop(id string) (*Entry, error) {
	seq, err := parseID(id)
	if err != nil {
		return nil, err
	}
	for _, dir := range []string{l.dir, filepath.Join(l.dir, failedDir)} {
		e, err := l.readMeta(dir, seq)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		// The metadata goes first: an .eml file alone is never sent.
		if err := removeFiles(l.fs, dir, l.jsonPath(dir, seq), l.emlPath(dir, seq)); err != nil {
			return nil, fmt.Errorf("dropping outbox message %s: %w", id, err)
		}
		return e, nil
	}
	return nil, fmt.Errorf("account %s, ID %s: %w", l.account, id, ErrNotFound)
}

// Remove deletes a queued entry, as Drop does, for a sender that takes
// the message back (sendmail --no-queue).
func (l *Locked) Remove(e *Entry) error {
	if err := removeFiles(l.fs, l.dir, l.jsonPath(l.dir, e.seq), l.emlPath(l.dir, e.seq)); err != nil {
		return fmt.Errorf("removing outbox message %s: %w", e.ID, err)
	}
	return nil
}

// Retry makes the entry id due at once. A failed entry moves back to the
// queue under its old number, so it goes first, with its age and
// attempts reset so the maximum age counts from now.
func (l *Locked) Retry(id string) (*Entry, error) {
	seq, err := parseID(id)
	if err != nil {
		return nil, err
	}
	now := l.now().UTC()
	e, err := l.readMeta(l.dir, seq)
	if err == nil {
		e.NextAttempt = now
		if err := l.writeMeta(l.dir, e); err != nil {
			return nil, err
		}
		return e, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	failed := filepath.Join(l.dir, failedDir)
	e, err = l.readMeta(failed, seq)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("account %s, ID %s: %w", l.account, id, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	e.State, e.Queued, e.NextAttempt, e.Attempts = Queued, now, now, 0
	if err := l.move(e, failed, l.dir); err != nil {
		return nil, fmt.Errorf("moving outbox message %s back from failed/: %w", id, err)
	}
	return e, nil
}

// moveToFailed records reason and moves e to failed/.
func (l *Locked) moveToFailed(e *Entry, reason string) error {
	e.State = Failed
	e.LastError = reason
	// Written in place first, so that a crash during the move leaves an
	// entry that the next flush finishes moving instead of sending.
	if err := l.writeMeta(l.dir, e); err != nil {
		return err
	}
	if err := l.move(e, l.dir, filepath.Join(l.dir, failedDir)); err != nil {
		return fmt.Errorf("moving outbox message %s to failed/: %w", e.ID, err)
	}
	return nil
}

// move links e's message into to, writes its metadata there, and removes
// both files from from. Each step is durable before the next starts, so a
// crash leaves the entry in both directories, never in neither.
func (l *Locked) move(e *Entry, from, to string) error {
	err := l.fs.Link(l.emlPath(from, e.seq), l.emlPath(to, e.seq))
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	if err := l.fs.SyncDir(to); err != nil {
		return err
	}
	if err := l.writeMeta(to, e); err != nil {
		return err
	}
	return removeFiles(l.fs, from, l.jsonPath(from, e.seq), l.emlPath(from, e.seq))
}

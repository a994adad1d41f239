package outbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// DirName is the outbox's directory inside an account's state directory.
const DirName = "outbox"

// failedDir is the subdirectory of messages that will not be sent again
// without Retry.
const failedDir = "failed"

// Queue is the outbox of one account. Its methods are safe for concurrent
// use by several processes as the package comment describes.
type Queue struct {
	account  string
	stateDir string // the account's state directory, which holds the thread index
	dir      string
	policy   Policy
	fs       fileSystem
	now      func() time.Time
}

// Open returns the outbox of account in stateDir (the account's state
// directory), creating outbox/ and outbox/failed/ with mode 0700.
func Open(stateDir, account string, policy Policy) (*Queue, error) {
	q := &Queue{
		account:  account,
		stateDir: stateDir,
		dir:      filepath.Join(stateDir, DirName),
		policy:   policy.withDefaults(),
		fs:       osFS{},
		now:      time.Now,
	}
	if err := q.fs.MkdirAll(filepath.Join(q.dir, failedDir)); err != nil {
		return nil, fmt.Errorf("creating outbox %s: %w", q.dir, err)
	}
	return q, nil
}

// Dir returns the outbox directory.
func (q *Queue) Dir() string { return q.dir }

// Account returns the account the queue belongs to.
func (q *Queue) Account() string { return q.account }

// Add stores raw, a prepared message, as the last entry of the queue, due
// at once. It fills in meta's State, Queued, NextAttempt, Size and Account.
// Add is durable when it returns, and it makes no network call.
func (q *Queue) Add(raw []byte, meta Meta) (*Entry, error) {
	now := q.now().UTC()
	meta.Account = q.account
	meta.State = Queued
	meta.Queued = now
	meta.NextAttempt = now
	meta.Size = len(raw)
	meta.Attempts = 0

	seq, err := q.linkMessage(raw)
	if err != nil {
		return nil, err
	}
	e := &Entry{ID: fmt.Sprint(seq), seq: seq, Meta: meta}
	if err := q.writeMeta(q.dir, e); err != nil {
		_ = removeFiles(q.fs, q.dir, q.emlPath(q.dir, seq))
		return nil, err
	}
	return e, nil
}

// linkMessage writes raw to a temporary file and links it to the first
// free sequence number after the highest in use. A link fails where the
// name exists, so two processes adding at once get different numbers.
func (q *Queue) linkMessage(raw []byte) (uint64, error) {
	tmp, err := writeTemp(q.fs, q.dir, raw)
	if err != nil {
		return 0, fmt.Errorf("queueing message in %s: %w", q.dir, err)
	}
	defer func() { _ = q.fs.Remove(tmp) }()

	seq, err := q.maxSeq()
	if err != nil {
		return 0, err
	}
	const maxTries = 1000
	for range maxTries {
		seq++
		err := q.fs.Link(tmp, q.emlPath(q.dir, seq))
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("queueing message in %s: %w", q.dir, err)
		}
		if err := q.fs.SyncDir(q.dir); err != nil {
			return 0, fmt.Errorf("syncing directory %s: %w", q.dir, err)
		}
		return seq, nil
	}
	return 0, fmt.Errorf("queueing message in %s: no free sequence number after %d tries", q.dir, maxTries)
}

// maxSeq returns the highest sequence number of any file in the queue or
// in failed/, so numbers are never reused while a message keeps one.
func (q *Queue) maxSeq() (uint64, error) {
	var highest uint64
	for _, dir := range []string{q.dir, filepath.Join(q.dir, failedDir)} {
		names, err := readNames(dir)
		if err != nil {
			return 0, err
		}
		for _, name := range names {
			for _, ext := range []string{".eml", ".json"} {
				if seq, ok := parseBase(name, ext); ok && seq > highest {
					highest = seq
				}
			}
		}
	}
	return highest, nil
}

func readNames(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading outbox directory %s: %w", dir, err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names, nil
}

func (q *Queue) emlPath(dir string, seq uint64) string {
	return filepath.Join(dir, fileBase(seq)+".eml")
}

func (q *Queue) jsonPath(dir string, seq uint64) string {
	return filepath.Join(dir, fileBase(seq)+".json")
}

func (q *Queue) writeMeta(dir string, e *Entry) error {
	data, err := json.MarshalIndent(e.Meta, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding metadata of outbox message %s: %w", e.ID, err)
	}
	if err := replaceFile(q.fs, q.jsonPath(dir, e.seq), append(data, '\n')); err != nil {
		return fmt.Errorf("saving outbox message %s: %w", e.ID, err)
	}
	return nil
}

// List returns the queued entries, first due first. Entries whose
// metadata cannot be read are skipped and reported in the joined error,
// next to the entries that could be read.
func (q *Queue) List() ([]*Entry, error) {
	return q.list(q.dir)
}

// ListFailed returns the entries of failed/, oldest first.
func (q *Queue) ListFailed() ([]*Entry, error) {
	return q.list(filepath.Join(q.dir, failedDir))
}

func (q *Queue) list(dir string) ([]*Entry, error) {
	names, err := readNames(dir)
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	var entries []*Entry
	var errs []error
	for _, name := range names {
		seq, ok := parseBase(name, ".json")
		if !ok {
			continue
		}
		e, err := q.readMeta(dir, seq)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		entries = append(entries, e)
	}
	return entries, errors.Join(errs...)
}

func (q *Queue) readMeta(dir string, seq uint64) (*Entry, error) {
	path := q.jsonPath(dir, seq)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading outbox metadata %s: %w", path, err)
	}
	e := &Entry{ID: fmt.Sprint(seq), seq: seq}
	if err := json.Unmarshal(data, &e.Meta); err != nil {
		return nil, fmt.Errorf("reading outbox metadata %s: %w", path, err)
	}
	return e, nil
}

// Read returns the entry id, from the queue or else from failed/, with
// its message bytes.
func (q *Queue) Read(id string) (*Entry, []byte, error) {
	seq, err := parseID(id)
	if err != nil {
		return nil, nil, err
	}
	for _, dir := range []string{q.dir, filepath.Join(q.dir, failedDir)} {
		e, err := q.readMeta(dir, seq)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		raw, err := os.ReadFile(q.emlPath(dir, seq))
		if err != nil {
			return nil, nil, fmt.Errorf("reading outbox message %s: %w", id, err)
		}
		return e, raw, nil
	}
	return nil, nil, fmt.Errorf("account %s, ID %s: %w", q.account, id, ErrNotFound)
}

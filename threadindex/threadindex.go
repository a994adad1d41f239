// Package threadindex maps RFC 5322 Message-IDs to Gmail thread ids, so that
// `gmsync send` can put a reply into its Gmail thread with only the
// gmail.send scope, which cannot search. Sync writes the pair of every
// message it stores. Send reads them, and records the pair of every message
// it sends.
//
// The index is a bbolt file per account. bbolt locks the file while it is
// open, so both sides open it only for the moment of a lookup or a batch of
// writes: a long sync never blocks a send for more than one batch.
package threadindex

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// FileName is the index's file name inside an account's state directory.
const FileName = "threads.db"

var bucket = []byte("message-id")

// openTimeout bounds the wait for another process's lock on the file.
const openTimeout = 10 * time.Second

// Put records pairs (Message-ID to thread id) durably: the write is
// committed and fsynced when Put returns. Message-IDs are normalised as
// Normalize does; empty keys or values are skipped.
func Put(dir string, pairs map[string]string) error {
	if len(pairs) == 0 {
		return nil
	}
	db, err := open(dir, false)
	if err != nil {
		return err
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucket)
		if err != nil {
			return err
		}
		for msgID, threadID := range pairs {
			key := Normalize(msgID)
			if key == "" || threadID == "" {
				continue
			}
			if err := b.Put([]byte(key), []byte(threadID)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("writing thread index in %s: %w", dir, err)
	}
	return nil
}

// Lookup returns the thread id recorded for the first of msgIDs that the
// index holds, or "" when none is known or no index exists yet.
func Lookup(dir string, msgIDs ...string) (string, error) {
	if _, err := os.Stat(filepath.Join(dir, FileName)); errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	db, err := open(dir, true)
	if err != nil {
		return "", err
	}
	defer db.Close()
	var threadID string
	err = db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return nil
		}
		for _, id := range msgIDs {
			if v := b.Get([]byte(Normalize(id))); v != nil {
				threadID = string(v)
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("reading thread index in %s: %w", dir, err)
	}
	return threadID, nil
}

// Normalize strips white space and angle brackets from a Message-ID, so
// "<a@b>" and "a@b" are the same key. The local part stays case-sensitive,
// as RFC 5322 leaves it.
func Normalize(msgID string) string {
	s := strings.TrimSpace(msgID)
	s = strings.TrimPrefix(s, "<")
	s = strings.TrimSuffix(s, ">")
	return strings.TrimSpace(s)
}

func open(dir string, readOnly bool) (*bolt.DB, error) {
	if !readOnly {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("creating state directory %s: %w", dir, err)
		}
	}
	path := filepath.Join(dir, FileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: openTimeout, ReadOnly: readOnly})
	if err != nil {
		return nil, fmt.Errorf("opening thread index %s: %w", path, err)
	}
	return db, nil
}

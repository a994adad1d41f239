package historysync

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// StateFileName is the sync state's file name inside the account's state
// directory.
const StateFileName = "state.db"

var (
	metaBucket     = []byte("meta")
	messagesBucket = []byte("messages")
	keyHistoryID   = []byte("historyId")
)

// Record is the state of one synced message.
type Record struct {
	ThreadID     string   `json:"threadId"`
	LabelIDs     []string `json:"labelIds"`
	Paths        []string `json:"paths"` // relative to the Maildir root
	MessageID    string   `json:"messageId,omitempty"`
	InternalDate int64    `json:"internalDate"` // ms since the epoch
}

// State is the crash-safe sync state of one account: the historyId the
// mirror is current to, and a record per stored message. It is a bbolt
// file, so every committed write is fsynced. A crash loses at most the
// records of the batch being written. The next run fetches those messages
// again, and delivery finds their files already in place, so nothing is
// duplicated.
//
// A State is used by one goroutine and one sync at a time.
type State struct {
	db *bolt.DB
}

// ErrStateDamaged reports a state file that cannot be read.
var ErrStateDamaged = errors.New("sync state damaged")

// OpenState opens or creates the state file in dir. A file that cannot be
// read is reported with an error wrapping ErrStateDamaged, which names the
// way out.
func OpenState(dir string) (*State, error) {
	path := filepath.Join(dir, StateFileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 10 * time.Second})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("opening sync state %s: another gmsync process holds it: %w", path, err)
		}
		return nil, fmt.Errorf("opening sync state %s: %w: %w; run gmsync sync --full to set it aside and rebuild it from the Maildir and Gmail without downloading what is already there", path, ErrStateDamaged, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{metaBucket, messagesBucket} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("initialising sync state %s: %w", path, err)
	}
	return &State{db: db}, nil
}

// SetAside renames a damaged state file in dir out of the way, keeping it
// for inspection, and returns its new path.
func SetAside(dir string, now time.Time) (string, error) {
	path := filepath.Join(dir, StateFileName)
	aside := fmt.Sprintf("%s.damaged-%s", path, now.UTC().Format("20060102T150405Z"))
	if err := os.Rename(path, aside); err != nil {
		return "", fmt.Errorf("setting aside the damaged sync state %s: %w", path, err)
	}
	return aside, nil
}

// Close closes the state file.
func (s *State) Close() error { return s.db.Close() }

// HistoryID returns the stored historyId, or 0 before the first complete
// sync.
func (s *State) HistoryID() (uint64, error) {
	id, err := s.metaUint(keyHistoryID)
	if err != nil {
		return 0, fmt.Errorf("reading stored historyId: %w", err)
	}
	return id, nil
}

// SetHistoryID stores id durably. Call it only once the changes up to id
// are durable in the Maildir and in the state.
func (s *State) SetHistoryID(id uint64) error {
	return s.setMetaUint(keyHistoryID, id)
}

// metaUint reads a number from the meta bucket; a missing key is 0.
func (s *State) metaUint(key []byte) (uint64, error) {
	var n uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(metaBucket).Get(key)
		if v == nil {
			return nil
		}
		var err error
		n, err = strconv.ParseUint(string(v), 10, 64)
		return err
	})
	return n, err
}

// setMetaUint stores a number in the meta bucket, or deletes the key for 0.
func (s *State) setMetaUint(key []byte, n uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(metaBucket)
		if n == 0 {
			return b.Delete(key)
		}
		return b.Put(key, []byte(strconv.FormatUint(n, 10)))
	})
}

// Has reports whether a record exists for the Gmail message id.
func (s *State) Has(id string) (bool, error) {
	found := false
	err := s.db.View(func(tx *bolt.Tx) error {
		found = tx.Bucket(messagesBucket).Get([]byte(id)) != nil
		return nil
	})
	return found, err
}

// Get returns the record of a Gmail message id, or nil.
func (s *State) Get(id string) (*Record, error) {
	var rec *Record
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(messagesBucket).Get([]byte(id))
		if v == nil {
			return nil
		}
		rec = new(Record)
		return json.Unmarshal(v, rec)
	})
	if err != nil {
		return nil, fmt.Errorf("reading state of message %s: %w", id, err)
	}
	return rec, nil
}

// Count returns the number of stored message records.
func (s *State) Count() (int, error) {
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(messagesBucket).Stats().KeyN
		return nil
	})
	return n, err
}

var (
	keyLabels        = []byte("labels")
	keyLabelsChecked = []byte("labelsCheckedAt")
	keyFullStart     = []byte("fullSyncStart")
)

// LabelSnapshot is the label list of the last run that read it: id to
// name and type, so renames and deletions show as differences.
type LabelSnapshot map[string]SnapshotLabel

// SnapshotLabel is one label of a LabelSnapshot.
type SnapshotLabel struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Labels returns the stored label snapshot and when it was taken; a nil
// snapshot before the first run.
func (s *State) Labels() (LabelSnapshot, time.Time, error) {
	var snap LabelSnapshot
	var checked time.Time
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(metaBucket)
		if v := b.Get(keyLabels); v != nil {
			if err := json.Unmarshal(v, &snap); err != nil {
				return err
			}
		}
		if v := b.Get(keyLabelsChecked); v != nil {
			return checked.UnmarshalText(v)
		}
		return nil
	})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("reading stored labels: %w", err)
	}
	return snap, checked, nil
}

// SetLabels stores the label snapshot and the time it was taken.
func (s *State) SetLabels(snap LabelSnapshot, checked time.Time) error {
	v, err := json.Marshal(snap)
	if err != nil {
		return err
	}
	t, err := checked.UTC().MarshalText()
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(metaBucket)
		if err := b.Put(keyLabels, v); err != nil {
			return err
		}
		return b.Put(keyLabelsChecked, t)
	})
}

// FullSyncStart returns the historyId recorded when an unfinished full
// sync began, or 0.
func (s *State) FullSyncStart() (uint64, error) {
	return s.metaUint(keyFullStart)
}

// SetFullSyncStart records (or with 0 clears) the historyId a full sync
// started from, so a resumed full sync replays changes from there.
func (s *State) SetFullSyncStart(id uint64) error {
	return s.setMetaUint(keyFullStart, id)
}

// ForEach calls fn with every stored record, in Gmail id order. fn must not
// write to the state.
func (s *State) ForEach(fn func(id string, rec *Record) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(messagesBucket).ForEach(func(k, v []byte) error {
			rec := new(Record)
			if err := json.Unmarshal(v, rec); err != nil {
				return fmt.Errorf("reading state of message %s: %w", k, err)
			}
			return fn(string(k), rec)
		})
	})
}

// Apply stores records and deletes the ids in deleted, in one durable
// transaction.
func (s *State) Apply(records map[string]*Record, deleted []string) error {
	if len(records) == 0 && len(deleted) == 0 {
		return nil
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(messagesBucket)
		for id, rec := range records {
			v, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			if err := b.Put([]byte(id), v); err != nil {
				return err
			}
		}
		for _, id := range deleted {
			if err := b.Delete([]byte(id)); err != nil {
				return err
			}
		}
		return nil
	})
}

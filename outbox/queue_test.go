package outbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// recordingFS logs each operation of the queue's writes.
type recordingFS struct {
	osFS
	ops []string
}

type recordingFile struct {
	file
	fs *recordingFS
}

func (r *recordingFS) log(op string, path string) {
	name := filepath.Base(path)
	if strings.HasPrefix(name, tempPrefix) {
		name = "tmp"
	}
	r.ops = append(r.ops, op+" "+name)
}

func (r *recordingFS) CreateTemp(dir, pattern string) (file, error) {
	f, err := r.osFS.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	r.log("create", f.Name())
	return &recordingFile{file: f, fs: r}, nil
}

func (f *recordingFile) Write(p []byte) (int, error) {
	f.fs.log("write", f.Name())
	return f.file.Write(p)
}
func (f *recordingFile) Sync() error  { f.fs.log("fsync", f.Name()); return f.file.Sync() }
func (f *recordingFile) Close() error { f.fs.log("close", f.Name()); return f.file.Close() }

func (r *recordingFS) Rename(from, to string) error {
	r.log("rename-to", to)
	return r.osFS.Rename(from, to)
}

func (r *recordingFS) Link(from, to string) error {
	r.log("link-to", to)
	return r.osFS.Link(from, to)
}

func (r *recordingFS) Remove(name string) error { r.log("remove", name); return r.osFS.Remove(name) }
func (r *recordingFS) SyncDir(dir string) error { r.log("fsync-dir", dir); return r.osFS.SyncDir(dir) }

func TestAddWritesDurablyInOrder(t *testing.T) {
	q, _ := newTestQueue(t)
	rec := &recordingFS{}
	q.fs = rec

	addMessage(t, q, 1)

	want := []string{
		"create tmp", "write tmp", "fsync tmp", "close tmp",
		"link-to 0000000001.eml", "fsync-dir outbox", "remove tmp",
		"create tmp", "write tmp", "fsync tmp", "close tmp",
		"rename-to 0000000001.json", "fsync-dir outbox",
	}
	if diff := cmp.Diff(want, rec.ops); diff != "" {
		t.Errorf("Add operations (-want +got):\n%s", diff)
	}
}

func TestAddFileModes(t *testing.T) {
	q, _ := newTestQueue(t)
	addMessage(t, q, 1)

	for _, name := range []string{"0000000001.eml", "0000000001.json"} {
		info, err := os.Stat(filepath.Join(q.Dir(), name))
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != 0o600 {
			t.Errorf("mode of %s = %04o, want 0600", name, got)
		}
	}
	for _, dir := range []string{q.Dir(), filepath.Join(q.Dir(), failedDir)} {
		info, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != 0o700 {
			t.Errorf("mode of %s = %04o, want 0700", dir, got)
		}
	}
}

func TestAddListRead(t *testing.T) {
	q, _ := newTestQueue(t)
	for n := 1; n <= 3; n++ {
		addMessage(t, q, n)
	}

	entries, err := q.List()
	if err != nil {
		t.Fatal(err)
	}
	var ids, subjects []string
	for _, e := range entries {
		ids = append(ids, e.ID)
		subjects = append(subjects, e.Subject)
		if e.State != Queued || !e.Queued.Equal(start) || !e.NextAttempt.Equal(start) || e.Account != "personal" {
			t.Errorf("entry %s = %+v, want queued at %v for account personal", e.ID, e.Meta, start)
		}
	}
	if diff := cmp.Diff([]string{"1", "2", "3"}, ids); diff != "" {
		t.Errorf("List() IDs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"note 1", "note 2", "note 3"}, subjects); diff != "" {
		t.Errorf("List() subjects (-want +got):\n%s", diff)
	}

	e, raw, err := q.Read("0000000002")
	if err != nil {
		t.Fatal(err)
	}
	if e.ID != "2" || string(raw) != string(message(2)) {
		t.Errorf("Read(2) = %s, %q, want 2, %q", e.ID, raw, message(2))
	}
	if _, _, err := q.Read("9"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Read(9) error = %v, want ErrNotFound", err)
	}
	if _, _, err := q.Read("x"); err == nil {
		t.Errorf("Read(x) error = nil, want an invalid ID error")
	}
}

func TestAddConcurrentGetsDistinctIDs(t *testing.T) {
	q, _ := newTestQueue(t)
	const n = 20
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			e, err := q.Add(message(i), Meta{MessageID: fmt.Sprint(i)})
			if err != nil {
				t.Errorf("Add(%d) = %v", i, err)
				return
			}
			ids[i] = e.ID
		})
	}
	wg.Wait()

	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Errorf("ID %s given twice", id)
		}
		seen[id] = true
	}
	entries, err := q.List()
	if err != nil || len(entries) != n {
		t.Errorf("List() = %d entries, %v, want %d", len(entries), err, n)
	}
}

func TestListSkipsIncompleteAdd(t *testing.T) {
	q, _ := newTestQueue(t)
	addMessage(t, q, 1)
	// A crash inside Add leaves the message without metadata.
	if err := os.WriteFile(filepath.Join(q.Dir(), "0000000002.eml"), message(2), 0o600); err != nil {
		t.Fatal(err)
	}

	entries, err := q.List()
	if err != nil || len(entries) != 1 {
		t.Fatalf("List() = %d entries, %v, want 1", len(entries), err)
	}
	e := addMessage(t, q, 3)
	if e.ID != "3" {
		t.Errorf("Add after an orphan got ID %s, want 3", e.ID)
	}
}

func TestDropAndRetry(t *testing.T) {
	q, clock := newTestQueue(t)
	addMessage(t, q, 1)
	addMessage(t, q, 2)
	l := lock(t, q)

	if _, err := l.Drop("1"); err != nil {
		t.Fatalf("Drop(1) = %v", err)
	}
	if _, err := l.Drop("1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Drop(1) = %v, want ErrNotFound", err)
	}
	for _, name := range []string{"0000000001.eml", "0000000001.json"} {
		if _, err := os.Stat(filepath.Join(q.Dir(), name)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("after Drop(1), %s: %v, want not exist", name, err)
		}
	}

	e, _, err := q.Read("2")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.moveToFailed(e, "rejected"); err != nil {
		t.Fatal(err)
	}
	clock.advance(time.Hour)
	if _, err := l.Retry("2"); err != nil {
		t.Fatalf("Retry(2) = %v", err)
	}
	entries, _ := q.List()
	failed, _ := q.ListFailed()
	if len(entries) != 1 || len(failed) != 0 {
		t.Fatalf("after Retry(2): %d queued, %d failed, want 1 and 0", len(entries), len(failed))
	}
	got := entries[0]
	if got.State != Queued || !got.Queued.Equal(clock.now()) || got.Attempts != 0 || got.LastError != "rejected" {
		t.Errorf("retried entry = %+v, want queued at %v with 0 attempts and the last error kept", got.Meta, clock.now())
	}
}

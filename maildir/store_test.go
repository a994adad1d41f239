//go:build unix

package maildir

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var (
	testDate = time.Date(2024, 3, 1, 12, 30, 45, 0, time.UTC)
	testRaw  = []byte("From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nbody\r\n")
)

func openStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "Mail"))
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	return s
}

func deliver(t *testing.T, s *Store, targets []Target, id string) []string {
	t.Helper()
	paths, err := s.Deliver(targets, id, testRaw, testDate)
	if err != nil {
		t.Fatalf("Deliver(%v, %s) error = %v", targets, id, err)
	}
	return paths
}

// checkFile checks a delivered file's content, mode, mtime and link count.
func checkFile(t *testing.T, s *Store, rel string, wantLinks uint64) {
	t.Helper()
	path := filepath.Join(s.Root(), rel)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading delivered file: %v", err)
	}
	if !bytes.Equal(data, testRaw) {
		t.Errorf("content of %s = %q, want %q", rel, data, testRaw)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("Stat(%s) error = %v", rel, err)
	}
	if got := info.Mode().Perm(); got != 0o600 {
		t.Errorf("mode of %s = %v, want 0600", rel, got)
	}
	if got := info.ModTime(); !got.Equal(testDate) {
		t.Errorf("mtime of %s = %v, want %v", rel, got, testDate)
	}
	if got := info.Sys().(*syscall.Stat_t).Nlink; uint64(got) != wantLinks {
		t.Errorf("link count of %s = %d, want %d", rel, got, wantLinks)
	}
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	for _, sub := range []string{"cur", "new", "tmp"} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil && !os.IsNotExist(err) {
			t.Fatalf("ReadDir(%s) error = %v", dir, err)
		}
		n += len(entries)
	}
	return n
}

func TestDeliverLinksIntoEveryFolder(t *testing.T) {
	s := openStore(t)
	m := NewMapper(withUserLabels("Label_1", "Work/Projects"), MapperOptions{})
	targets := m.Targets([]string{"INBOX", "STARRED", "Label_1"})
	paths := deliver(t, s, targets, "18e0c2f4a1b2c3d4")

	key := "1709296245.18e0c2f4a1b2c3d4.gmsync:2,FS"
	want := []string{"INBOX/cur/" + key, "Starred/cur/" + key, "All Mail/cur/" + key, "Work/Projects/cur/" + key}
	if diff := cmp.Diff(want, slash(paths)); diff != "" {
		t.Errorf("Deliver paths mismatch (-want +got):\n%s", diff)
	}
	for _, p := range paths {
		checkFile(t, s, p, uint64(len(paths)))
	}
	for _, dir := range []string{"", "INBOX", "INBOX/cur", "Work", "Work/Projects", "Work/Projects/tmp"} {
		info, err := os.Stat(filepath.Join(s.Root(), dir))
		if err != nil {
			t.Fatalf("Stat(%q) error = %v", dir, err)
		}
		if got := info.Mode().Perm(); got != 0o700 {
			t.Errorf("mode of directory %q = %v, want 0700", dir, got)
		}
	}
}

func TestDeliverUnreadIntoNew(t *testing.T) {
	s := openStore(t)
	m := NewMapper(defaultSystemLabels(), MapperOptions{})
	paths := deliver(t, s, m.Targets([]string{"INBOX", "UNREAD", "STARRED"}), "abc")

	key := FormatKey(testDate, "abc")
	want := []string{"INBOX/new/" + key, "Starred/new/" + key, "All Mail/new/" + key}
	if diff := cmp.Diff(want, slash(paths)); diff != "" {
		t.Errorf("Deliver paths mismatch (-want +got):\n%s", diff)
	}
	for _, p := range paths {
		checkFile(t, s, p, 3)
	}
}

func TestDeliverFlagsPerLink(t *testing.T) {
	s := openStore(t)
	targets := []Target{{Dir: "Trash", Flags: Flags{Seen: true, Trashed: true}}, {Dir: "Work", Flags: Flags{Seen: true}}}
	paths := deliver(t, s, targets, "abc")

	key := FormatKey(testDate, "abc")
	want := []string{"Trash/cur/" + key + ":2,ST", "Work/cur/" + key + ":2,S"}
	if diff := cmp.Diff(want, slash(paths)); diff != "" {
		t.Errorf("Deliver paths mismatch (-want +got):\n%s", diff)
	}
	for _, p := range paths {
		checkFile(t, s, p, 2)
	}
}

func TestDeliverIdempotent(t *testing.T) {
	s := openStore(t)
	targets := []Target{{Dir: "INBOX", Flags: Flags{Seen: true}}, {Dir: "All Mail", Flags: Flags{Seen: true}}}
	first := deliver(t, s, targets, "abc")
	second := deliver(t, s, targets, "abc")
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("second Deliver paths mismatch (-first +second):\n%s", diff)
	}

	reopened, err := Open(s.Root())
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	third := deliver(t, reopened, targets, "abc")
	if diff := cmp.Diff(first, third); diff != "" {
		t.Errorf("Deliver after reopening paths mismatch (-first +third):\n%s", diff)
	}
	for _, dir := range []string{"INBOX", "All Mail"} {
		if n := countFiles(t, filepath.Join(s.Root(), dir)); n != 1 {
			t.Errorf("files in %s = %d, want 1", dir, n)
		}
	}
	checkFile(t, s, first[0], 2)
}

func TestDeliverAfterClientRename(t *testing.T) {
	s := openStore(t)
	unread := []Target{{Dir: "INBOX"}}
	paths := deliver(t, s, unread, "abc")

	// A mail client moves the message from new/ to cur/ and marks it replied.
	renamed := filepath.Join("INBOX", "cur", filepath.Base(paths[0])+":2,RS")
	if err := os.Rename(filepath.Join(s.Root(), paths[0]), filepath.Join(s.Root(), renamed)); err != nil {
		t.Fatal(err)
	}

	got := deliver(t, s, append(unread, Target{Dir: "All Mail"}), "abc")
	want := []string{renamed, filepath.Join("All Mail", "new", FormatKey(testDate, "abc"))}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Deliver paths mismatch (-want +got):\n%s", diff)
	}
	if n := countFiles(t, filepath.Join(s.Root(), "INBOX")); n != 1 {
		t.Errorf("files in INBOX = %d, want 1", n)
	}
	checkFile(t, s, renamed, 2)
}

func TestDeliverResumedLinksExistingCopy(t *testing.T) {
	s := openStore(t)
	deliver(t, s, []Target{{Dir: "INBOX", Flags: Flags{Seen: true}}}, "abc")

	reopened, err := Open(s.Root())
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	paths := deliver(t, reopened, []Target{{Dir: "Work", Flags: Flags{Seen: true}}, {Dir: "INBOX", Flags: Flags{Seen: true}}}, "abc")
	for _, p := range paths {
		checkFile(t, s, p, 2)
	}
}

func TestDeliverCopyFallback(t *testing.T) {
	s := openStore(t)
	var calls int
	s.link = func(oldname, newname string) error {
		calls++
		return &os.LinkError{Op: "link", Old: oldname, New: newname, Err: syscall.EXDEV}
	}
	paths := deliver(t, s, []Target{{Dir: "INBOX", Flags: Flags{Seen: true}}, {Dir: "A"}, {Dir: "B", Flags: Flags{Seen: true}}}, "abc")
	if calls != 2 {
		t.Errorf("link calls = %d, want 2", calls)
	}
	for _, p := range paths {
		checkFile(t, s, p, 1)
	}
	if n := countFiles(t, filepath.Join(s.Root(), "A")); n != 1 {
		t.Errorf("files in A = %d, want 1 (no temporary file left)", n)
	}
}

func TestDeliverMaildirPlusPlus(t *testing.T) {
	s := openStore(t)
	m := NewMapper(withUserLabels("Label_1", "Work/Projects"), MapperOptions{Layout: MaildirPlusPlus})
	paths := deliver(t, s, m.Targets([]string{"INBOX", "Label_1"}), "abc")

	key := FormatKey(testDate, "abc") + ":2,S"
	want := []string{"cur/" + key, ".All Mail/cur/" + key, ".Work.Projects/cur/" + key}
	if diff := cmp.Diff(want, slash(paths)); diff != "" {
		t.Errorf("Deliver paths mismatch (-want +got):\n%s", diff)
	}
	for _, dir := range []string{".All Mail", ".Work.Projects"} {
		if _, err := os.Stat(filepath.Join(s.Root(), dir, "maildirfolder")); err != nil {
			t.Errorf("maildirfolder in %s: %v", dir, err)
		}
	}
	if _, err := os.Stat(filepath.Join(s.Root(), "maildirfolder")); !os.IsNotExist(err) {
		t.Errorf("maildirfolder in the root: Stat error = %v, want not exist", err)
	}
}

func TestDeliverRejectsInvalidInput(t *testing.T) {
	s := openStore(t)
	tests := []struct {
		dir string
		id  string
	}{
		{"../outside", "abc"},
		{"/etc", "abc"},
		{"a/../../b", "abc"},
		{"INBOX/cur", "abc"},
		{"INBOX", ""},
		{"INBOX", "../x"},
		{"INBOX", "a:2,S"},
		{"INBOX", "a.b"},
	}
	for _, tt := range tests {
		if paths, err := s.Deliver([]Target{{Dir: tt.dir}}, tt.id, testRaw, testDate); err == nil {
			t.Errorf("Deliver(dir %q, id %q) = %q, nil, want an error", tt.dir, tt.id, paths)
		}
	}
	entries, err := os.ReadDir(s.Root())
	if err != nil || len(entries) != 0 {
		t.Errorf("root after rejected deliveries holds %d entries (error %v), want none", len(entries), err)
	}
}

func TestDeliverConcurrent(t *testing.T) {
	s := openStore(t)
	targets := []Target{{Dir: "INBOX", Flags: Flags{Seen: true}}, {Dir: "All Mail", Flags: Flags{Seen: true}}}
	const messages = 20
	var wg sync.WaitGroup
	errs := make(chan error, messages*2)
	for i := range messages * 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Deliver(targets, fmt.Sprintf("m%d", i%messages), testRaw, testDate)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Deliver() error = %v", err)
		}
	}
	for _, dir := range []string{"INBOX", "All Mail"} {
		if n := countFiles(t, filepath.Join(s.Root(), dir)); n != messages {
			t.Errorf("files in %s = %d, want %d", dir, n, messages)
		}
	}
}

func TestRemove(t *testing.T) {
	s := openStore(t)
	targets := []Target{{Dir: "INBOX", Flags: Flags{Seen: true}}, {Dir: "All Mail", Flags: Flags{Seen: true}}}
	paths := deliver(t, s, targets, "abc")

	if err := s.Remove(paths[:1]); err != nil {
		t.Fatalf("Remove(%q) error = %v", paths[:1], err)
	}
	if _, err := os.Stat(filepath.Join(s.Root(), paths[0])); !os.IsNotExist(err) {
		t.Errorf("Stat(%s) after Remove error = %v, want not exist", paths[0], err)
	}
	checkFile(t, s, paths[1], 1)
	if err := s.Remove(paths[:1]); err != nil {
		t.Errorf("second Remove(%q) error = %v, want nil", paths[:1], err)
	}

	again := deliver(t, s, targets, "abc")
	if diff := cmp.Diff(paths, again); diff != "" {
		t.Errorf("Deliver after Remove paths mismatch (-want +got):\n%s", diff)
	}
	checkFile(t, s, again[0], 2)
}

func TestRemoveFindsRenamedFile(t *testing.T) {
	s := openStore(t)
	paths := deliver(t, s, []Target{{Dir: "INBOX"}}, "abc")
	renamed := filepath.Join(s.Root(), "INBOX", "cur", filepath.Base(paths[0])+":2,S")
	if err := os.Rename(filepath.Join(s.Root(), paths[0]), renamed); err != nil {
		t.Fatal(err)
	}

	if err := s.Remove(paths); err != nil {
		t.Fatalf("Remove(%q) error = %v", paths, err)
	}
	if n := countFiles(t, filepath.Join(s.Root(), "INBOX")); n != 0 {
		t.Errorf("files in INBOX after Remove = %d, want 0", n)
	}
}

func TestRemoveRejectsForeignFiles(t *testing.T) {
	s := openStore(t)
	deliver(t, s, []Target{{Dir: "INBOX"}}, "abc")
	foreign := filepath.Join("INBOX", "cur", "1700000000.M1P2.host:2,S")
	if err := os.WriteFile(filepath.Join(s.Root(), foreign), testRaw, 0o600); err != nil {
		t.Fatal(err)
	}

	for _, p := range []string{foreign, "../../etc/passwd", filepath.Join("INBOX", FormatKey(testDate, "abc"))} {
		if err := s.Remove([]string{p}); err == nil {
			t.Errorf("Remove(%q) = nil, want an error", p)
		}
	}
	if _, err := os.Stat(filepath.Join(s.Root(), foreign)); err != nil {
		t.Errorf("foreign file after Remove: %v", err)
	}
}

func TestSetFlags(t *testing.T) {
	s := openStore(t)
	paths := deliver(t, s, []Target{{Dir: "INBOX"}, {Dir: "Work"}}, "abc")

	got, err := s.SetFlags(paths[0], Flags{Seen: true, Flagged: true})
	if err != nil {
		t.Fatalf("SetFlags(%s) error = %v", paths[0], err)
	}
	want := filepath.Join("INBOX", "cur", FormatKey(testDate, "abc")+":2,FS")
	if got != want {
		t.Errorf("SetFlags(%s) = %q, want %q", paths[0], got, want)
	}
	checkFile(t, s, got, 2)

	back, err := s.SetFlags(paths[0], Flags{})
	if err != nil || back != paths[0] {
		t.Errorf("SetFlags(stale path %s, unread) = %q, %v, want %q, nil", paths[0], back, err, paths[0])
	}
}

func TestKeys(t *testing.T) {
	s := openStore(t)
	deliver(t, s, []Target{{Dir: "INBOX"}}, "unread")
	deliver(t, s, []Target{{Dir: "INBOX", Flags: Flags{Seen: true}}}, "read")
	for _, name := range []string{"cur/1700000000.M1P2.host:2,S", "cur/no-info-part", "new/1700000000.M3P4.host", "cur/.hidden"} {
		if err := os.WriteFile(filepath.Join(s.Root(), "INBOX", name), testRaw, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	got, err := s.Keys("INBOX")
	if err != nil {
		t.Fatalf("Keys(INBOX) error = %v", err)
	}
	want := map[string]string{
		"unread": filepath.Join("INBOX", "new", FormatKey(testDate, "unread")),
		"read":   filepath.Join("INBOX", "cur", FormatKey(testDate, "read")+":2,S"),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Keys(INBOX) mismatch (-want +got):\n%s", diff)
	}

	missing, err := s.Keys("Nowhere")
	if err != nil || len(missing) != 0 {
		t.Errorf("Keys(Nowhere) = %v, %v, want empty, nil", missing, err)
	}
}

func TestCreateFoldersAndCleanTmp(t *testing.T) {
	s := openStore(t)
	m := NewMapper(withUserLabels("Label_1", "Work/Projects"), MapperOptions{})
	if err := s.CreateFolders(m.AllDirs()); err != nil {
		t.Fatalf("CreateFolders() error = %v", err)
	}
	var got []string
	for _, dir := range m.AllDirs() {
		for _, sub := range []string{"cur", "new", "tmp"} {
			if info, err := os.Stat(filepath.Join(s.Root(), dir, sub)); err != nil || !info.IsDir() {
				got = append(got, dir+"/"+sub)
			}
		}
	}
	if len(got) != 0 {
		t.Errorf("CreateFolders() left out %v", got)
	}

	stale := filepath.Join(s.Root(), "INBOX", "tmp", "stale")
	fresh := filepath.Join(s.Root(), "INBOX", "tmp", "fresh")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if err := s.CleanTmp(append(m.AllDirs(), "Missing")); err != nil {
		t.Fatalf("CleanTmp() error = %v", err)
	}
	entries, _ := os.ReadDir(filepath.Join(s.Root(), "INBOX", "tmp"))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "fresh" {
		t.Errorf("INBOX/tmp after CleanTmp = %v, want [fresh]", names)
	}
}

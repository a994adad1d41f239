package maildir

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestRelinkRenamesAndLinks(t *testing.T) {
	s := openStore(t)
	seen := Flags{Seen: true}
	paths := deliver(t, s, []Target{{Dir: "All Mail", Flags: seen}, {Dir: "Work", Flags: seen}}, "abc")

	// The message becomes unread and starred, leaves Work and enters
	// Starred: one rename, one new link, one removal in a single call.
	unread := Flags{Flagged: true}
	got, err := s.Relink("abc", paths, []Target{{Dir: "All Mail", Flags: unread}, {Dir: "Starred", Flags: unread}})
	if err != nil {
		t.Fatalf("Relink() = %v", err)
	}
	key := FormatKey(testDate, "abc")
	want := []string{"All Mail/new/" + key, "Starred/new/" + key}
	for i := range want {
		if filepath.ToSlash(got[i]) != want[i] {
			t.Errorf("Relink() path %d = %q, want %q", i, got[i], want[i])
		}
		checkFile(t, s, got[i], 2)
	}
	if entries, _ := os.ReadDir(filepath.Join(s.Root(), "Work", "cur")); len(entries) != 0 {
		t.Errorf("Work/cur still holds %d files after the message left the label", len(entries))
	}

	again, err := s.Relink("abc", got, []Target{{Dir: "All Mail", Flags: unread}, {Dir: "Starred", Flags: unread}})
	if err != nil || len(again) != 2 {
		t.Errorf("repeated Relink() = %v, %v, want the same two paths", again, err)
	}
}

func TestRelinkWithoutCopy(t *testing.T) {
	s := openStore(t)
	_, err := s.Relink("abc", nil, []Target{{Dir: "INBOX", Flags: Flags{Seen: true}}})
	if !errors.Is(err, ErrNoCopy) {
		t.Errorf("Relink() of a message with no file = %v, want ErrNoCopy", err)
	}
}

func TestCleanOwnTmp(t *testing.T) {
	s := openStore(t)
	if err := s.CreateFolders([]string{"INBOX"}); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(s.Root(), "INBOX", "tmp")
	for _, name := range []string{"gmsync-123", "gmsync-456", "1700000000.M1P1.laptop"} {
		if err := os.WriteFile(filepath.Join(tmp, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := s.CleanOwnTmp([]string{"INBOX"})
	if err != nil || removed != 2 {
		t.Errorf("CleanOwnTmp() = %d, %v, want 2 removed", removed, err)
	}
	if _, err := os.Stat(filepath.Join(tmp, "1700000000.M1P1.laptop")); err != nil {
		t.Errorf("CleanOwnTmp removed another program's file: %v", err)
	}
}

package e2e

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gmsync/gmsync/e2e/emulator"
	"github.com/gmsync/gmsync/maildir"
)

// fixtureLabels gives each of the project's own fixtures its Gmail labels.
var fixtureLabels = map[string][]string{
	"01-plain.eml":           {"INBOX", "UNREAD", "IMPORTANT", "CATEGORY_PERSONAL"},
	"02-reply.eml":           {"SENT"},
	"03-crlf-attachment.eml": {"INBOX", "STARRED", "Reisen/Köln"},
	"04-no-message-id.eml":   {"Work/Projects/2024", "Work"},
	"05-same-id-a.eml":       {"Lists/dev", "UNREAD"},
	"06-same-id-b.eml":       {"INBOX"},
	"07-long-lines.eml":      {"TRASH", "Work"},
	"08-undeclared-8bit.eml": {"SPAM", "UNREAD"},
}

// corpusPatterns are the label sets the corpus messages cycle through.
var corpusPatterns = [][]string{
	{"INBOX"},
	{"INBOX", "UNREAD"},
	{"INBOX", "STARRED", "IMPORTANT"},
	{"SENT"},
	{"DRAFT"},
	{"TRASH"},
	{"SPAM", "UNREAD"},
	{"INBOX", "Projects/gmsync"},
	{},
}

// trickyLabels reads the label names of LABELS.md in the corpus: each entry
// line starts with a JSON string literal, then a tab.
func trickyLabels(t *testing.T, dir string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "LABELS.md"))
	if err != nil {
		t.Logf("no LABELS.md in %s: %v", dir, err)
		return nil
	}
	defer f.Close()
	var names []string
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		line := scanner.Text()
		if !strings.HasPrefix(line, `"`) {
			continue
		}
		literal, _, _ := strings.Cut(line, "\t")
		var name string
		if err := json.Unmarshal([]byte(literal), &name); err != nil {
			t.Fatalf("LABELS.md line %q: %v", line, err)
		}
		names = append(names, name)
	}
	return names
}

// seed adds one message through the admin API.
func (w *world) seed(raw []byte, labels []string, internal time.Time) {
	w.t.Helper()
	body := map[string]any{"raw": raw, "labels": labels, "internalDate": strconv.FormatInt(internal.UnixMilli(), 10)}
	w.admin("POST", "users/"+w.address+"/messages", body, nil)
}

func TestSyncFixturesAndCorpus(t *testing.T) {
	w := newWorld(t, "alice@example.com")
	base := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)

	fixtures, err := filepath.Glob(filepath.Join("testdata", "mail", "*.eml"))
	if err != nil || len(fixtures) == 0 {
		t.Fatalf("no fixtures in testdata/mail: %v", err)
	}
	for i, path := range fixtures {
		w.seed(readFile(t, path), fixtureLabels[filepath.Base(path)], base.Add(time.Duration(i)*time.Minute))
	}

	corpus := 0
	if dir, ok := findCorpus(); ok {
		tricky := trickyLabels(t, dir)
		files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
		for i, path := range files {
			labels := slices.Clone(corpusPatterns[i%len(corpusPatterns)])
			if len(tricky) > 0 && !slices.Contains(labels, "DRAFT") {
				labels = append(labels, tricky[i%len(tricky)])
			}
			w.seed(readFile(t, path), labels, base.Add(time.Duration(1000+i)*time.Minute))
			corpus++
		}
	} else {
		t.Logf("corpus not found at %s (set GMSYNC_CORPUS): syncing the project's fixtures only", dir)
	}
	t.Logf("seeded %d fixtures and %d corpus messages", len(fixtures), corpus)

	w.login("sync")
	first := w.mustGmsync(nil, "sync", "-v")
	t.Logf("first sync: %s", strings.TrimSpace(first.stdout))

	d := w.dump()
	if want := len(fixtures) + corpus; len(d.Messages) != want {
		t.Fatalf("emulator holds %d messages, want %d", len(d.Messages), want)
	}
	checkMirror(t, w.maildir, d)

	second := w.mustGmsync(nil, "sync", "-v")
	if !strings.Contains(second.stdout, " 0 new,") {
		t.Errorf("second sync output = %q, want 0 new messages", second.stdout)
	}
	if strings.Contains(second.stderr, "messages.get") {
		t.Errorf("second sync fetched messages again; API usage: %s", second.stderr)
	}
	checkMirror(t, w.maildir, d)

	t.Run("notmuch", func(t *testing.T) { checkNotmuch(t, w, d) })
}

// checkMirror checks that every message of the dump is in All Mail (unless
// in Spam or Trash) and in each of its label folders, byte for byte, with
// the right flags, stored once and hard-linked, and that nothing else is
// in the Maildir.
func checkMirror(t *testing.T, root string, d emulator.Dump) {
	t.Helper()
	labels := make([]maildir.Label, 0, len(d.Labels))
	for _, l := range d.Labels {
		labels = append(labels, maildir.Label{ID: l.ID, Name: l.Name, Type: l.Type})
	}
	mapper := maildir.NewMapper(labels, maildir.MapperOptions{})
	files := indexMaildir(t, root)

	expectedFiles := 0
	for _, m := range d.Messages {
		targets := mapper.Targets(m.LabelIDs)
		inAllMail := !slices.Contains(m.LabelIDs, "SPAM") && !slices.Contains(m.LabelIDs, "TRASH")
		dirs := make([]string, 0, len(targets))
		for _, target := range targets {
			dirs = append(dirs, target.Dir)
		}
		if !inAllMail && len(dirs) != 1 {
			t.Errorf("message %s (labels %v): in folders %v, want only Spam or Trash", m.ID, m.LabelIDs, dirs)
		}
		if inAllMail != slices.Contains(dirs, "All Mail") {
			t.Errorf("message %s (labels %v): in All Mail = %v, want %v", m.ID, m.LabelIDs, !inAllMail, inAllMail)
		}
		if inAllMail && slices.Contains(m.LabelIDs, "INBOX") && !slices.Contains(dirs, "INBOX") {
			t.Errorf("message %s (labels %v): not in INBOX; folders %v", m.ID, m.LabelIDs, dirs)
		}
		var inode uint64
		for _, target := range targets {
			expectedFiles++
			f, ok := files[target.Dir+"\x00"+m.ID]
			if !ok {
				t.Errorf("message %s (labels %v): missing from folder %q", m.ID, m.LabelIDs, target.Dir)
				continue
			}
			if f.sha256 != m.SHA256 {
				t.Errorf("message %s in %q: sha256 %s, want %s (the emulator's bytes)", m.ID, target.Dir, f.sha256, m.SHA256)
			}
			unread := slices.Contains(m.LabelIDs, "UNREAD")
			if f.inNew != unread {
				t.Errorf("message %s in %q: in new/ = %v, want %v (UNREAD)", m.ID, target.Dir, f.inNew, unread)
			}
			if want := flagString(target.Flags, unread); f.flags != want {
				t.Errorf("message %s in %q: flags %q, want %q", m.ID, target.Dir, f.flags, want)
			}
			if inode == 0 {
				inode = f.inode
			} else if f.inode != inode {
				t.Errorf("message %s in %q: a separate copy (inode %d), want a hard link to inode %d", m.ID, target.Dir, f.inode, inode)
			}
			internal, _ := strconv.ParseInt(m.InternalDate, 10, 64)
			if f.mtime.Unix() != internal/1000 {
				t.Errorf("message %s in %q: mtime %v, want internalDate %v", m.ID, target.Dir, f.mtime, time.UnixMilli(internal))
			}
		}
	}
	if len(files) != expectedFiles {
		t.Errorf("Maildir holds %d message files, want %d", len(files), expectedFiles)
	}
}

type mirrorFile struct {
	sha256 string
	inNew  bool
	flags  string
	inode  uint64
	mtime  time.Time
}

// indexMaildir walks root and returns each message file by folder and
// Gmail id. It fails the test on a file whose name is not a gmsync key.
func indexMaildir(t *testing.T, root string) map[string]mirrorFile {
	t.Helper()
	files := map[string]mirrorFile{}
	err := filepath.WalkDir(root, func(path string, entry os.DirEntry, err error) error {
		if err != nil || entry.IsDir() {
			return err
		}
		sub := filepath.Base(filepath.Dir(path))
		if sub == "tmp" {
			t.Errorf("file left in tmp/: %s", path)
			return nil
		}
		if sub != "cur" && sub != "new" {
			return nil
		}
		folder, _ := filepath.Rel(root, filepath.Dir(filepath.Dir(path)))
		id, ok := maildir.ParseKey(entry.Name())
		if !ok {
			t.Errorf("file %s is not named by gmsync", path)
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		info, err := os.Stat(path)
		if err != nil {
			return err
		}
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("file %s has mode %v, want 0600", path, perm)
		}
		sum := sha256.Sum256(data)
		_, flags, _ := strings.Cut(entry.Name(), ":2,")
		files[filepath.ToSlash(folder)+"\x00"+id] = mirrorFile{
			sha256: hex.EncodeToString(sum[:]),
			inNew:  sub == "new",
			flags:  flags,
			inode:  info.Sys().(*syscall.Stat_t).Ino,
			mtime:  info.ModTime(),
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", root, err)
	}
	return files
}

// flagString is the Maildir info flags a copy should carry: none in new/.
func flagString(f maildir.Flags, unread bool) string {
	if unread {
		return ""
	}
	var s []string
	if f.Draft {
		s = append(s, "D")
	}
	if f.Flagged {
		s = append(s, "F")
	}
	if f.Seen {
		s = append(s, "S")
	}
	if f.Trashed {
		s = append(s, "T")
	}
	sort.Strings(s)
	return strings.Join(s, "")
}

var notmuchIgnored = regexp.MustCompile(`(?m)^Note: Ignoring non-mail file: (.*)$`)

// checkNotmuch indexes the mirror with notmuch and compares its message
// count with the distinct messages synced: notmuch counts messages that
// share a Message-ID once, and gives a message without one an id derived
// from its content.
func checkNotmuch(t *testing.T, w *world, d emulator.Dump) {
	config := filepath.Join(w.dir, "notmuch-config")
	w.writeFile(config, "[database]\npath="+w.maildir+"\n[user]\nname=Alice\nprimary_email="+w.address+"\n[new]\ntags=unread;inbox\n[maildir]\nsynchronize_flags=true\n")
	w.env = append(w.env, "NOTMUCH_CONFIG="+config)
	out := w.run(nil, "notmuch", "new")
	if out.code != 0 {
		t.Fatalf("notmuch new: exit %d\n%s%s", out.code, out.stdout, out.stderr)
	}
	ignored := map[string]bool{}
	for _, m := range notmuchIgnored.FindAllStringSubmatch(out.stdout+out.stderr, -1) {
		if id, ok := maildir.ParseKey(filepath.Base(m[1])); ok {
			ignored[id] = true
		}
	}
	distinct := map[string]bool{}
	for _, m := range d.Messages {
		switch {
		case ignored[m.ID]:
		case m.MessageID != "":
			distinct["id:"+m.MessageID] = true
		default:
			distinct["sha:"+m.SHA256] = true
		}
	}
	count := w.run(nil, "notmuch", "count", "*")
	got, err := strconv.Atoi(strings.TrimSpace(count.stdout))
	if err != nil {
		t.Fatalf("notmuch count: %q %s", count.stdout, count.stderr)
	}
	if got != len(distinct) {
		t.Errorf("notmuch count '*' = %d, want %d distinct messages (%d synced, %d ignored by notmuch as non-mail)", got, len(distinct), len(d.Messages), len(ignored))
	}
	t.Logf("notmuch indexed %d distinct messages; it ignored %d files as non-mail", got, len(ignored))
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

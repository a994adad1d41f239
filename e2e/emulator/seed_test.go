package emulator

import (
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type dump struct {
	HistoryID string
	Labels    []struct{ ID, Name, Type string }
	Messages  []struct {
		ID, ThreadID, InternalDate, SHA256, MessageID string
		LabelIDs                                      []string
		SizeEstimate                                  int
	}
}

func userDump(t *testing.T, base string) dump {
	t.Helper()
	var d dump
	rawGet(t, base+"admin/users/"+testUser+"/dump", "", &d)
	return d
}

func labelNames(d dump) map[string]string {
	out := map[string]string{}
	for _, l := range d.Labels {
		out[l.Name] = l.ID
	}
	return out
}

func TestSeedDemo(t *testing.T) {
	srv, base := startServer(t, Options{})
	n, err := srv.SeedDemo(testUser)
	if err != nil {
		t.Fatalf("SeedDemo() = %v", err)
	}
	d := userDump(t, base)
	if n != 39 || len(d.Messages) != n {
		t.Errorf("SeedDemo() = %d, dump has %d messages, want 39", n, len(d.Messages))
	}
	names := labelNames(d)
	for _, want := range []string{"Projects/gmsync", "Projects/gmsync/Releases", "Reisen/Köln", "日本語"} {
		if !strings.HasPrefix(names[want], "Label_") {
			t.Errorf("demo label %q has id %q, want Label_N", want, names[want])
		}
	}
	threads := map[string]int{}
	counts := map[string]int{}
	for _, m := range d.Messages {
		threads[m.ThreadID]++
		for _, l := range m.LabelIDs {
			counts[l]++
		}
	}
	if threads[d.Messages[len(d.Messages)-1].ThreadID] != 5 {
		t.Errorf("first demo thread has %d messages, want 5", threads[d.Messages[len(d.Messages)-1].ThreadID])
	}
	for _, l := range []string{"DRAFT", "SPAM", "TRASH"} {
		if counts[l] != 1 {
			t.Errorf("demo messages with %s = %d, want 1", l, counts[l])
		}
	}
	if counts["SENT"] < 3 || counts["UNREAD"] < 3 || counts["STARRED"] < 2 {
		t.Errorf("demo label counts = %v, want several SENT, UNREAD and STARRED", counts)
	}

	svc := service(t, base, scopeReadonly)
	withAttachments := 0
	for _, m := range d.Messages {
		full, err := svc.Users.Messages.Get("me", m.ID).Do()
		if err != nil {
			t.Fatalf("Messages.Get(%s) = %v", m.ID, err)
		}
		if full.Snippet == "" {
			t.Errorf("demo message %s has an empty snippet", m.ID)
		}
		for _, p := range full.Payload.Parts {
			if p.Filename != "" && p.Body.AttachmentId != "" {
				withAttachments++
			}
		}
	}
	if withAttachments != 2 {
		t.Errorf("demo attachments = %d, want 2", withAttachments)
	}

	again := New(Options{})
	if _, err := again.SeedDemo(testUser); err != nil {
		t.Fatal(err)
	}
	var firstSums, secondSums []string
	for _, m := range d.Messages {
		firstSums = append(firstSums, m.SHA256)
	}
	again.mu.Lock()
	for _, m := range again.mailboxFor(testUser).sortedMessages() {
		secondSums = append(secondSums, sha256Hex(m.raw))
	}
	again.mu.Unlock()
	if diff := cmp.Diff(firstSums, secondSums); diff != "" {
		t.Errorf("demo mailbox differs between runs (-first +second):\n%s", diff)
	}
}

func TestSeedDir(t *testing.T) {
	srv, base := startServer(t, Options{})
	dir := t.TempDir()
	files := map[string]string{
		"b.eml": string(testMessage("bob@example.org", testUser, "B", "<b@seed>", "", "b")),
		"a.eml": string(testMessage("bob@example.org", testUser, "A", "<a@seed>", "", "a")),
		"c.txt": "not a message",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	labelsFile := filepath.Join(dir, "labels.json")
	if err := os.WriteFile(labelsFile, []byte(`{"a.eml":["UNREAD","Work/Projects"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	n, err := srv.SeedDir(testUser, dir, labelsFile)
	if err != nil || n != 2 {
		t.Fatalf("SeedDir() = %d, %v, want 2", n, err)
	}
	d := userDump(t, base)
	got := map[string][]string{}
	for _, m := range d.Messages {
		got[m.MessageID] = m.LabelIDs
	}
	want := map[string][]string{"<a@seed>": {"UNREAD", labelNames(d)["Work/Projects"]}, "<b@seed>": {"INBOX"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("seeded labels (-want +got):\n%s", diff)
	}
}

// TestSeedCorpus seeds the shared corpus of real and malformed messages, when
// it is present, and fetches each in every format.
func TestSeedCorpus(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "corpus")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("corpus %s not present: %v", dir, err)
	}
	srv, base := startServer(t, Options{})
	n, err := srv.SeedDir(testUser, dir, "")
	if err != nil {
		t.Fatalf("SeedDir(corpus) = %v", err)
	}
	svc := service(t, base, scopeReadonly)
	for _, m := range userDump(t, base).Messages {
		for _, format := range []string{"full", "metadata", "minimal", "raw"} {
			if _, err := svc.Users.Messages.Get("me", m.ID).Format(format).Do(); err != nil {
				t.Errorf("Messages.Get(%s, %s) = %v", m.ID, format, err)
			}
		}
	}
	t.Logf("fetched %d corpus messages", n)
}

func TestAdminAPI(t *testing.T) {
	_, base := startServer(t, Options{})
	raw := testMessage("bob@example.org", testUser, "Admin", "<admin@x>", "", "x")
	var added struct{ ID, ThreadID string }
	body := `{"raw":"` + base64.StdEncoding.EncodeToString(raw) + `","labels":["INBOX","Work"],"internalDate":"1700000000000"}`
	if resp := adminPost(t, base+"admin/users/"+testUser+"/messages", body, &added); resp.StatusCode != http.StatusOK {
		t.Fatalf("admin add = %d", resp.StatusCode)
	}
	work := labelNames(userDump(t, base))["Work"]
	adminPost(t, base+"admin/users/"+testUser+"/messages/"+added.ID+"/modify", `{"addLabelIds":["STARRED"],"removeLabelIds":["INBOX"]}`, nil)

	req, _ := http.NewRequest(http.MethodPatch, base+"admin/users/"+testUser+"/labels/"+work, strings.NewReader(`{"name":"Work/Renamed"}`))
	doJSON(t, req, nil)
	d := userDump(t, base)
	if len(d.Messages) != 1 || d.Messages[0].InternalDate != "1700000000000" || d.Messages[0].SHA256 != sha256Hex(raw) {
		t.Fatalf("dump messages = %+v", d.Messages)
	}
	if diff := cmp.Diff([]string{work, "STARRED"}, d.Messages[0].LabelIDs); diff != "" {
		t.Errorf("labels after admin modify (-want +got):\n%s", diff)
	}
	if labelNames(d)["Work/Renamed"] != work {
		t.Errorf("label %s not renamed: %v", work, labelNames(d))
	}

	req, _ = http.NewRequest(http.MethodDelete, base+"admin/users/"+testUser+"/messages/"+added.ID, nil)
	if resp := doJSON(t, req, nil); resp.StatusCode != http.StatusNoContent {
		t.Errorf("admin delete = %d, want 204", resp.StatusCode)
	}
	if d := userDump(t, base); len(d.Messages) != 0 {
		t.Errorf("dump after delete has %d messages", len(d.Messages))
	}
	var e map[string]any
	if resp := rawGet(t, base+"admin/users/nobody@example.com/dump", "", &e); resp.StatusCode != http.StatusNotFound {
		t.Errorf("dump of unknown user = %d, want 404", resp.StatusCode)
	}
}

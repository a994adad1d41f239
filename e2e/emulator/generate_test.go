package emulator

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// generatedView is the part of a dump that Generate fixes for a seed:
// everything but the Gmail ids.
type generatedView struct {
	SHA256, MessageID, InternalDate string
	Labels                          []string
	ThreadStart                     string // Message-ID of the thread's first message
}

func viewOf(d dump) []generatedView {
	names := map[string]string{}
	for _, l := range d.Labels {
		names[l.ID] = l.Name
	}
	first := map[string]string{} // thread id to the Message-ID of its oldest message
	for _, m := range slices.Backward(d.Messages) {
		if _, ok := first[m.ThreadID]; !ok {
			first[m.ThreadID] = m.MessageID
		}
	}
	out := make([]generatedView, len(d.Messages))
	for i, m := range d.Messages {
		labels := make([]string, len(m.LabelIDs))
		for j, id := range m.LabelIDs {
			labels[j] = names[id]
		}
		out[i] = generatedView{m.SHA256, m.MessageID, m.InternalDate, labels, first[m.ThreadID]}
	}
	return out
}

func generatedDump(t *testing.T, n int, seed int64) dump {
	t.Helper()
	srv, base := startServer(t, Options{})
	if err := srv.Generate(testUser, n, seed); err != nil {
		t.Fatalf("Generate(%q, %d, %d) = %v", testUser, n, seed, err)
	}
	return userDump(t, base)
}

func TestGenerateIsDeterministic(t *testing.T) {
	first := viewOf(generatedDump(t, 300, 7))
	second := viewOf(generatedDump(t, 300, 7))
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("Generate with the same seed differs between servers (-first +second):\n%s", diff)
	}
	other := viewOf(generatedDump(t, 300, 8))
	if first[0].SHA256 == other[0].SHA256 {
		t.Errorf("Generate with seeds 7 and 8 made the same newest message %s", first[0].SHA256)
	}
}

func TestGenerateMailboxShape(t *testing.T) {
	const n = 2000
	d := generatedDump(t, n, 1)
	if len(d.Messages) != n {
		t.Fatalf("Generate(%d) left %d messages, want %d", n, len(d.Messages), n)
	}
	names := labelNames(d)
	counts := map[string]int{}
	threads := map[string]bool{}
	for _, m := range d.Messages {
		// A text body of up to 20 KiB plus headers and, for one in ten,
		// an attachment of at most 1 KiB in base64.
		if m.SizeEstimate < generatedMinSize || m.SizeEstimate > generatedMaxSize+2<<10 {
			t.Errorf("message %s is %d bytes, want %d to %d", m.MessageID, m.SizeEstimate, generatedMinSize, generatedMaxSize+2<<10)
		}
		threads[m.ThreadID] = true
		for _, id := range m.LabelIDs {
			counts[id]++
		}
	}
	for _, label := range []string{"INBOX", "SENT", "UNREAD", "STARRED", "IMPORTANT", "CATEGORY_PROMOTIONS", names["Receipts"], names["Lists/golang-nuts"]} {
		if counts[label] == 0 {
			t.Errorf("no generated message has label %q; counts %v", label, counts)
		}
	}
	if len(threads) > n*9/10 || len(threads) < n/2 {
		t.Errorf("%d messages form %d threads, want about two thirds as many threads", n, len(threads))
	}
}

func TestGenerateSnippetsMatchParser(t *testing.T) {
	srv, _ := startServer(t, Options{})
	if err := srv.Generate(testUser, 200, 3); err != nil {
		t.Fatalf("Generate() = %v", err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for _, m := range srv.mailboxFor(testUser).messages {
		if want := makeSnippet(m.raw); m.snippet != want {
			t.Errorf("message %s: snippet %q, want %q (makeSnippet)", m.messageID, m.snippet, want)
		}
		attached := strings.Contains(string(m.raw), "multipart/mixed")
		if n := len(parseMIME(m.raw).children); attached && n != 2 {
			t.Errorf("multipart message %s has %d parts, want 2", m.messageID, n)
		}
	}
}

func TestGenerateRejectsBadInput(t *testing.T) {
	srv, _ := startServer(t, Options{})
	if err := srv.Generate("nobody@example.com", 1, 1); err == nil {
		t.Errorf("Generate(unknown user) = nil, want an error")
	}
	if err := srv.Generate(testUser, -1, 1); err == nil {
		t.Errorf("Generate(count -1) = nil, want an error")
	}
}

func TestAdminGenerate(t *testing.T) {
	_, base := startServer(t, Options{})
	u := base + "admin/users/" + testUser + "/generate"
	if resp := adminPost(t, u, `{"count":25,"seed":4}`, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("POST generate = %d, want 200", resp.StatusCode)
	}
	if got := len(userDump(t, base).Messages); got != 25 {
		t.Errorf("after POST generate {count 25} the mailbox holds %d messages, want 25", got)
	}
	if resp := adminPost(t, u, `{"count":-1}`, nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("POST generate {count -1} = %d, want 400", resp.StatusCode)
	}
	if resp := adminPost(t, base+"admin/users/nobody@example.com/generate", `{"count":1}`, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST generate for an unknown user = %d, want 404", resp.StatusCode)
	}
}

// BenchmarkGenerate measures Generate for 10,000 messages, about 110 MB.
func BenchmarkGenerate(b *testing.B) {
	const n = 10000
	for b.Loop() {
		srv := New(Options{})
		if err := srv.Generate(DefaultUser, n, 1); err != nil {
			b.Fatalf("Generate() = %v", err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "msgs/s")
}

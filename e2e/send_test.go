package e2e

import (
	"bytes"
	"fmt"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// captureSendmail writes a sendmail wrapper that keeps a copy of each
// message it is given in dir, then runs `gmsync send` with the same
// arguments, so a test can compare what a mail client passed with what
// Gmail received.
func (w *world) captureSendmail(dir string) string {
	w.t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		w.t.Fatal(err)
	}
	script := filepath.Join(w.dir, "sendmail-capture")
	content := fmt.Sprintf("#!/bin/sh\nf=$(mktemp %q/msg.XXXXXX)\ncat >\"$f\"\nprintf '%%s\\n' \"$*\" >\"$f.args\"\nexec %q send -v \"$@\" <\"$f\" 2>>%q\n", dir, filepath.Join(binDir, "gmsync"), filepath.Join(dir, "stderr.log"))
	if err := os.WriteFile(script, []byte(content), 0o700); err != nil {
		w.t.Fatal(err)
	}
	return script
}

// captured returns the messages the wrapper saw, by Message-ID.
func captured(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(dir, "msg.*"))
	out := map[string][]byte{}
	for _, p := range paths {
		if strings.HasSuffix(p, ".args") {
			continue
		}
		data := readFile(t, p)
		out[headerOf(t, data, "Message-Id")] = data
	}
	return out
}

func headerOf(t testing.TB, raw []byte, name string) string {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parsing message: %v\n%s", err, raw)
	}
	return m.Header.Get(name)
}

// checkOnlyHeadersAdded checks that received is sent with header lines
// added and nothing else changed: every line of sent appears in received in
// order, and the extra lines are Bcc, Message-ID or Date fields.
func checkOnlyHeadersAdded(t *testing.T, sent, received []byte) {
	t.Helper()
	sentLines := strings.SplitAfter(string(sent), "\n")
	recvLines := strings.SplitAfter(string(received), "\n")
	i := 0
	var extra []string
	for _, line := range recvLines {
		if i < len(sentLines) && line == sentLines[i] {
			i++
			continue
		}
		extra = append(extra, line)
	}
	if i != len(sentLines) {
		t.Errorf("received message lost or changed the line %q of the message the client passed", sentLines[i])
		return
	}
	for _, line := range extra {
		name, _, _ := strings.Cut(line, ":")
		if !slices.Contains([]string{"bcc", "message-id", "date"}, strings.ToLower(name)) && !strings.HasPrefix(line, " ") && !strings.HasPrefix(line, "\t") {
			t.Errorf("received message has an added line %q that is not a Bcc, Message-ID or Date field", line)
		}
	}
}

func sortedLower(addrs []string) []string {
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = strings.ToLower(a)
	}
	slices.Sort(out)
	return out
}

func TestSendNeomutt(t *testing.T) {
	if _, err := exec.LookPath("neomutt"); err != nil {
		t.Fatalf("neomutt not found: run scripts/deps.sh: %v", err)
	}
	w := newWorld(t, "alice@example.com")
	w.login("send")
	capture := filepath.Join(w.dir, "captured")
	sendmail := w.captureSendmail(capture)

	muttrc := filepath.Join(w.dir, "muttrc")
	w.writeFile(muttrc, fmt.Sprintf(`set sendmail = "%s"
set from = "alice@example.com"
set real_name = "Alice Example"
set use_envelope_from = yes
set record = ""
set copy = no
set send_charset = "utf-8"
set hostname = "laptop.example.com"
`, sendmail))
	attachment := filepath.Join(w.dir, "notes.txt")
	w.writeFile(attachment, "Meeting notes: ship the first release on Friday.\n")
	body := []byte("Hi Bob,\n\nthe notes are attached. Grüße aus Köln.\n.\nA dot line stays.\n")

	res := w.run(body, "neomutt", "-n", "-F", muttrc, "-s", "Release notes ✔", "-c", "carol@example.org", "-b", "dave@example.net", "-a", attachment, "--", "bob@example.org")
	if res.code != 0 {
		t.Fatalf("neomutt: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}

	sent := w.sent()
	if len(sent) != 1 {
		t.Fatalf("emulator received %d messages, want 1", len(sent))
	}
	got := sent[0]
	if want := []string{"bob@example.org", "carol@example.org", "dave@example.net"}; !slices.Equal(sortedLower(got.Recipients), want) {
		t.Errorf("recipients = %v, want %v", got.Recipients, want)
	}
	if !slices.Equal(sortedLower(got.Bcc), []string{"dave@example.net"}) {
		t.Errorf("Bcc = %v, want [dave@example.net] (neomutt passes Bcc as an argument only)", got.Bcc)
	}
	if got.UploadType != "multipart" {
		t.Errorf("upload type = %q, want multipart (the media upload endpoint)", got.UploadType)
	}
	for _, original := range captured(t, capture) {
		checkOnlyHeadersAdded(t, original, got.Raw)
	}
	if !bytes.Contains(got.Raw, []byte("notes.txt")) {
		t.Errorf("sent message lacks the attachment notes.txt")
	}
}

func TestSendGitPatchSeries(t *testing.T) {
	if out, err := exec.Command("git", "send-email", "--help").CombinedOutput(); err != nil {
		t.Fatalf("git send-email not available: run scripts/deps.sh (Debian package git-email): %v\n%s", err, out)
	}
	w := newWorld(t, "alice@example.com")
	w.login("send")
	capture := filepath.Join(w.dir, "captured")
	sendmail := w.captureSendmail(capture)

	repo := filepath.Join(w.dir, "repo")
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		cmd.Env = append(w.env, "GIT_AUTHOR_NAME=Alice", "GIT_AUTHOR_EMAIL=alice@example.com", "GIT_COMMITTER_NAME=Alice", "GIT_COMMITTER_EMAIL=alice@example.com", "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if err := os.MkdirAll(repo, 0o700); err != nil {
		t.Fatal(err)
	}
	git("init", "-q", "-b", "main")
	w.writeFile(filepath.Join(repo, "README"), "gmsync test repository\n")
	git("add", "README")
	git("commit", "-q", "-m", "Initial commit")
	for i := 1; i <= 3; i++ {
		w.writeFile(filepath.Join(repo, fmt.Sprintf("file%d.txt", i)), strings.Repeat(fmt.Sprintf("line %d of a patch that git am must apply unchanged ", i), 1)+"\n")
		git("add", ".")
		git("commit", "-q", "-m", fmt.Sprintf("Add file %d", i))
	}
	git("format-patch", "-q", "--cover-letter", "-3", "-o", "patches")
	patches, _ := filepath.Glob(filepath.Join(repo, "patches", "*.patch"))
	if len(patches) != 4 {
		t.Fatalf("format-patch wrote %d files, want 4", len(patches))
	}
	cover := readFile(t, patches[0])
	cover = bytes.Replace(cover, []byte("*** SUBJECT HERE ***"), []byte("Three small files"), 1)
	cover = bytes.Replace(cover, []byte("*** BLURB HERE ***"), []byte("This series adds three files."), 1)
	w.writeFile(patches[0], string(cover))

	args := []string{"-c", "sendemail.sendmailCmd=" + sendmail, "send-email", "--confirm=never", "--quiet",
		"--from=Alice <alice@example.com>", "--to=bob@example.org", "--cc=list@lists.example.org", "--bcc=archive@example.net",
		"--suppress-cc=all", "--thread", "--no-chain-reply-to"}
	git(append(args, patches...)...)

	sent := w.sent()
	if len(sent) != 4 {
		t.Fatalf("emulator received %d messages, want 4", len(sent))
	}
	originals := captured(t, capture)
	for _, s := range sent {
		want := []string{"archive@example.net", "bob@example.org", "list@lists.example.org"}
		if !slices.Equal(sortedLower(s.Recipients), want) {
			t.Errorf("message %s: recipients %v, want %v", s.ID, s.Recipients, want)
		}
		if !slices.Equal(sortedLower(s.Bcc), []string{"archive@example.net"}) {
			t.Errorf("message %s: Bcc %v, want [archive@example.net]", s.ID, s.Bcc)
		}
		original, ok := originals[headerOf(t, s.Raw, "Message-Id")]
		if !ok {
			t.Errorf("message %s: no captured original with Message-ID %s", s.ID, headerOf(t, s.Raw, "Message-Id"))
			continue
		}
		checkOnlyHeadersAdded(t, original, s.Raw)
		// gmsync requests the cover letter's thread, from the pair it recorded
		// when it sent the cover letter. Gmail itself keeps a message in the
		// thread only when the subjects match, which a patch's does not.
		if s.ID != sent[0].ID && s.RequestThreadID != sent[0].ThreadID {
			t.Logf("gmsync send stderr:\n%s", readFile(t, filepath.Join(capture, "stderr.log")))
			t.Errorf("message %s: requested thread %q, want the cover letter's thread %s", s.ID, s.RequestThreadID, sent[0].ThreadID)
		}
	}
}

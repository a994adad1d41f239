package e2e

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gmsync/gmsync/e2e/emulator"
)

// updateSendGolden rewrites the golden files of the mail client tests. The
// name is specific to these tests so that it cannot clash with another
// golden-file flag of the package.
var updateSendGolden = flag.Bool("update-send-golden", false, "rewrite the golden files under testdata/golden for the mail client send tests")

// goldenDir holds the expected outputs of the mail client tests.
const goldenDir = "testdata/golden"

// TestSendNeomuttReply replies with neomutt to a message that a sync
// mirrored, with a draft carrying In-Reply-To and References, an attachment
// and a Bcc recipient, and checks that the reply joins the parent's thread.
func TestSendNeomuttReply(t *testing.T) {
	requireProgram(t, "neomutt", "neomutt")
	w := newWorld(t, "alice@example.com")
	parent := "From: Bob Example <bob@example.org>\r\nTo: alice@example.com\r\nSubject: Quarterly report\r\n" +
		"Date: Mon, 02 Nov 2026 09:00:00 +0000\r\nMessage-ID: <q3-report@example.org>\r\n\r\nHi Alice, the report is ready.\r\n"
	parentID := w.addMessage([]byte(parent), []string{"INBOX"}, time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	w.login("sync")
	w.login("send")
	w.mustGmsync(nil, "sync", "--account", w.account)
	parentThread := threadOf(t, w.dump(), parentID)

	capture := filepath.Join(w.dir, "captured")
	muttrc := filepath.Join(w.dir, "muttrc")
	w.writeFile(muttrc, fmt.Sprintf(`set sendmail = "%s"
set from = "alice@example.com"
set real_name = "Alice Example"
set use_envelope_from = yes
set record = ""
set copy = no
set hostname = "laptop.example.com"
`, w.captureSendmail(capture)))
	draft := filepath.Join(w.dir, "draft")
	w.writeFile(draft, "To: Bob Example <bob@example.org>\nCc: carol@example.org\nBcc: dave@example.net\n"+
		"Subject: Re: Quarterly report\nIn-Reply-To: <q3-report@example.org>\nReferences: <q3-report@example.org>\n\n"+
		"Thanks Bob, my figures are attached.\n\n> Hi Alice, the report is ready.\n")
	attachment := filepath.Join(w.dir, "figures.csv")
	w.writeFile(attachment, "quarter,revenue\nQ3,1200\n")

	// In batch mode neomutt appends standard input to the draft's body, and
	// refuses to send when standard input is empty.
	res := w.run([]byte("Alice\n"), "neomutt", "-n", "-F", muttrc, "-H", draft, "-a", attachment, "--")
	if res.code != 0 {
		t.Fatalf("neomutt -H: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}

	got := onlySent(t, w)
	if got.ThreadID != parentThread {
		t.Errorf("reply threadId = %q, want the parent's thread %q", got.ThreadID, parentThread)
	}
	if got.RequestThreadID != parentThread {
		t.Errorf("reply requestThreadId = %q, want the parent's thread %q from the mirror's index", got.RequestThreadID, parentThread)
	}
	checkRecipients(t, got, []string{"bob@example.org", "carol@example.org", "dave@example.net"}, []string{"dave@example.net"})
	if !bytes.Contains(got.Raw, []byte(`filename="figures.csv"`)) {
		t.Errorf("reply lacks the attachment figures.csv:\n%s", got.Raw)
	}
	if inReplyTo := headerOf(t, got.Raw, "In-Reply-To"); inReplyTo != "<q3-report@example.org>" {
		t.Errorf("reply In-Reply-To = %q, want <q3-report@example.org>", inReplyTo)
	}
	for _, original := range captured(t, capture) {
		checkOnlyHeadersAdded(t, original, got.Raw)
	}
}

// TestSendGitLongLines sends a patch with 120-character lines through git
// send-email. Gmail must receive it quoted-printable, and decoded it must be
// the patch: git am applies it in a fresh clone to the same tree, and the
// decoded text matches both the format-patch output and a golden file.
func TestSendGitLongLines(t *testing.T) {
	if out, err := exec.Command("git", "send-email", "--help").CombinedOutput(); err != nil {
		t.Fatalf("git send-email not available: run scripts/deps.sh (Debian package git-email): %v\n%s", err, out)
	}
	w := newWorld(t, "alice@example.com")
	w.login("send")
	capture := filepath.Join(w.dir, "captured")
	sendmail := w.captureSendmail(capture)

	repo := filepath.Join(w.dir, "repo")
	if err := os.MkdirAll(repo, 0o700); err != nil {
		t.Fatal(err)
	}
	runGit(t, w, repo, "init", "-q", "-b", "main")
	w.writeFile(filepath.Join(repo, "README"), "gmsync test repository\n")
	runGit(t, w, repo, "add", "README")
	runGit(t, w, repo, "commit", "-q", "-m", "Initial commit")
	w.writeFile(filepath.Join(repo, "wide.txt"), wideFile())
	runGit(t, w, repo, "add", "wide.txt")
	runGit(t, w, repo, "commit", "-q", "-m", "Add a file with long lines\n\nEvery line of wide.txt is 120 characters long, longer than Gmail is\nreported to keep unwrapped.")
	runGit(t, w, repo, "format-patch", "-q", "--no-signature", "-1", "-o", "patches")
	patches, _ := filepath.Glob(filepath.Join(repo, "patches", "*.patch"))
	if len(patches) != 1 {
		t.Fatalf("format-patch wrote %d files, want 1", len(patches))
	}
	runGit(t, w, repo, "-c", "sendemail.sendmailCmd="+sendmail, "send-email", "--confirm=never", "--quiet",
		"--from=Alice <alice@example.com>", "--to=bob@example.org", "--suppress-cc=all", patches[0])

	got := onlySent(t, w)
	if encoding := headerOf(t, got.Raw, "Content-Transfer-Encoding"); encoding != "quoted-printable" {
		t.Errorf("patch Content-Transfer-Encoding = %q, want quoted-printable", encoding)
	}
	_, body, _ := bytes.Cut(got.Raw, []byte("\n\n"))
	if line := longestLine(body); line > 76 {
		t.Errorf("patch as received has a body line of %d bytes, want at most 76", line)
	}
	decoded := decodedBody(t, got.Raw)
	_, patchBody, _ := bytes.Cut(readFile(t, patches[0]), []byte("\n\n"))
	if diff := cmp.Diff(string(patchBody), string(decoded)); diff != "" {
		t.Errorf("decoded patch differs from the body that format-patch wrote (-wrote +decoded):\n%s", diff)
	}
	checkGolden(t, "git-send-email-long-lines.patch", decoded)

	clone := filepath.Join(w.dir, "clone")
	runGit(t, w, w.dir, "clone", "-q", repo, clone)
	runGit(t, w, clone, "reset", "-q", "--hard", "HEAD~1")
	received := filepath.Join(w.dir, "received.eml")
	w.writeFile(received, string(got.Raw))
	runGit(t, w, clone, "am", "-q", received)
	wantTree := runGit(t, w, repo, "rev-parse", "HEAD^{tree}")
	if gotTree := runGit(t, w, clone, "rev-parse", "HEAD^{tree}"); gotTree != wantTree {
		t.Errorf("git am of the received patch gives tree %s, want %s", gotTree, wantTree)
	}
}

// wideFile returns a file of 120-character lines, with characters that
// quoted-printable encodes: "=", trailing blanks and a line starting with
// "From ".
func wideFile() string {
	var b strings.Builder
	for i := range 6 {
		line := fmt.Sprintf("line %d: a = b + c; ", i)
		line += strings.Repeat("0123456789", 12)[:120-len(line)]
		b.WriteString(line + "\n")
	}
	b.WriteString("From the start of a line, mbox readers need care " + strings.Repeat("x", 70) + "\n")
	b.WriteString(strings.Repeat("=", 119) + "\t\n")
	return b.String()
}

// TestSendMailx sends with bsd-mailx configured through a MAILRC file.
func TestSendMailx(t *testing.T) {
	requireProgram(t, "mail", "bsd-mailx")
	w := newWorld(t, "alice@example.com")
	w.login("send")
	capture := filepath.Join(w.dir, "captured")
	mailrc := filepath.Join(w.dir, "mailrc")
	w.writeFile(mailrc, fmt.Sprintf("set sendmail=%s\n", w.captureSendmail(capture)))

	env := append(slices.Clone(w.env), "MAILRC="+mailrc, "HOME="+w.dir)
	mailx := *w
	mailx.env = env
	res := mailx.run([]byte("Hello from mailx.\n"), "mail", "-s", "Status from mailx", "-c", "carol@example.org", "-b", "dave@example.net", "bob@example.org")
	if res.code != 0 {
		t.Fatalf("mail: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}

	got := onlySent(t, w)
	checkRecipients(t, got, []string{"bob@example.org", "carol@example.org", "dave@example.net"}, []string{"dave@example.net"})
	if subject := headerOf(t, got.Raw, "Subject"); subject != "Status from mailx" {
		t.Errorf("Subject = %q, want %q", subject, "Status from mailx")
	}
	if !bytes.Contains(got.Raw, []byte("Hello from mailx.")) {
		t.Errorf("message lacks the body text:\n%s", got.Raw)
	}
	for _, original := range captured(t, capture) {
		checkOnlyHeadersAdded(t, original, got.Raw)
	}
}

// TestSendEmacs sends from Emacs in batch mode through
// message-send-mail-with-sendmail, which passes "-oi -f ADDR -oem -odb -t".
func TestSendEmacs(t *testing.T) {
	requireProgram(t, "emacs", "emacs-nox")
	w := newWorld(t, "alice@example.com")
	w.login("send")
	capture := filepath.Join(w.dir, "captured")
	program := fmt.Sprintf(`(progn
  (require 'message)
  (setq sendmail-program %q
        message-send-mail-function 'message-send-mail-with-sendmail
        user-mail-address "alice@example.com"
        user-full-name "Alice Example"
        mail-host-address "laptop.example.com"
        ;; Wait for the program and report its errors: without it Emacs
        ;; starts sendmail in the background and exits.
        message-interactive t)
  (with-temp-buffer
    (insert "To: Bob Example <bob@example.org>\nCc: carol@example.org\nBcc: dave@example.net\n"
            "Subject: Sent from Emacs\n--text follows this line--\nHello from Emacs.\n")
    (message-mode)
    (message-send-mail)))`, w.captureSendmail(capture))
	emacs := *w
	emacs.env = append(slices.Clone(w.env), "HOME="+w.dir)
	res := emacs.run(nil, "emacs", "--batch", "-Q", "--eval", program)
	if res.code != 0 {
		t.Fatalf("emacs --batch: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}

	got := onlySent(t, w)
	checkRecipients(t, got, []string{"bob@example.org", "carol@example.org", "dave@example.net"}, []string{"dave@example.net"})
	if from := headerOf(t, got.Raw, "From"); from != "Alice Example <alice@example.com>" {
		t.Errorf("From = %q, want Alice Example <alice@example.com>", from)
	}
	args, _ := filepath.Glob(filepath.Join(capture, "msg.*.args"))
	for _, path := range args {
		if line := strings.TrimSpace(string(readFile(t, path))); !strings.HasSuffix(line, "-t") {
			t.Errorf("Emacs passed %q, want options ending in -t", line)
		}
	}
	for _, original := range captured(t, capture) {
		checkOnlyHeadersAdded(t, original, got.Raw)
	}
}

// TestSendRecipientLimit checks that a message for more than 100
// recipients fails with EX_DATAERR before anything reaches Gmail.
func TestSendRecipientLimit(t *testing.T) {
	w := newWorld(t, "alice@example.com")
	w.login("send")
	var to, cc []string
	for i := range 60 {
		to = append(to, fmt.Sprintf("to%d@example.org", i))
		cc = append(cc, fmt.Sprintf("cc%d@example.org", i))
	}
	message := fmt.Sprintf("From: alice@example.com\nTo: %s\nCc: %s\nSubject: too many\n\nhi\n", strings.Join(to, ", "), strings.Join(cc, ", "))
	res := w.gmsync([]byte(message), "send", "-t", "-i")
	if res.code != 65 {
		t.Errorf("gmsync send to 120 recipients: exit %d, want 65\n%s", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, "120 recipients") || !strings.Contains(res.stderr, "100") {
		t.Errorf("gmsync send to 120 recipients: stderr %q, want the count 120 and the limit 100", res.stderr)
	}
	if sent := w.sent(); len(sent) != 0 {
		t.Errorf("emulator received %d messages, want none", len(sent))
	}
}

// corpusOutcome is what `gmsync send` did with one corpus message.
type corpusOutcome struct {
	name   string
	raw    []byte
	code   int
	stderr string
	sentID string
}

// sentIDPattern finds the Gmail message id in the output of `send -v`.
var sentIDPattern = regexp.MustCompile(`sent message ([0-9A-Za-z]+)`)

// TestSendCorpus sends every corpus message through `gmsync send -t -i`.
// Each one must reach Gmail byte for byte apart from the added Date and
// Message-ID (for re-encoded parts, with the same decoded content), or be
// rejected with exit code 64 or 65. The test logs the rejected files with
// the reasons.
func TestSendCorpus(t *testing.T) {
	dir, ok := findCorpus()
	if !ok {
		t.Skipf("no corpus at %s: set GMSYNC_CORPUS to a directory of .eml files", dir)
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(paths) == 0 {
		t.Skipf("no .eml files in %s", dir)
	}
	w := newWorld(t, "alice@example.com")
	w.login("send")

	// The sends run one at a time: parallel sends of one account queue
	// behind each other's outbox lock and may send each other's messages.
	start := time.Now()
	var outcomes []corpusOutcome
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			outcomes = append(outcomes, sendCorpusFile(t, w.forTest(t), path))
		})
	}
	t.Logf("sent %d corpus messages in %v", len(paths), time.Since(start).Round(time.Millisecond))

	byID := map[string]emulator.SentMessage{}
	for _, s := range w.sent() {
		byID[s.ID] = s
	}
	var rejected []string
	for _, o := range outcomes {
		if o.code != 0 {
			rejected = append(rejected, fmt.Sprintf("%s: exit %d: %s", o.name, o.code, lastLine(o.stderr)))
			continue
		}
		received, ok := byID[o.sentID]
		if !ok {
			t.Errorf("%s: gmsync reported message %q, which the emulator did not receive", o.name, o.sentID)
			continue
		}
		checkCorpusReceived(t, o, received.Raw)
	}
	t.Logf("%d of %d corpus messages rejected:\n%s", len(rejected), len(outcomes), strings.Join(rejected, "\n"))
}

// sendCorpusFile sends one corpus file and checks the exit code, and for
// a From that is not the account's, the warning that Gmail replaces it.
func sendCorpusFile(t *testing.T, w *world, path string) corpusOutcome {
	raw := readFile(t, path)
	res := w.gmsync(raw, "send", "-t", "-i", "-v")
	outcome := corpusOutcome{name: filepath.Base(path), raw: raw, code: res.code, stderr: res.stderr}
	switch res.code {
	case 0:
		match := sentIDPattern.FindStringSubmatch(res.stderr)
		if match == nil {
			t.Errorf("gmsync send -v exited 0 without naming the sent message:\n%s", res.stderr)
			return outcome
		}
		outcome.sentID = match[1]
		checkFromWarning(t, raw, res.stderr)
	case 64, 65:
		if strings.TrimSpace(res.stderr) == "" {
			t.Errorf("gmsync send: exit %d without a message on stderr", res.code)
		}
	default:
		t.Errorf("gmsync send: exit %d, want 0, 64 or 65\n%s", res.code, res.stderr)
	}
	return outcome
}

// checkFromWarning checks that a From address other than the account's
// draws the warning that Gmail will replace it.
func checkFromWarning(t *testing.T, raw []byte, stderr string) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return
	}
	from, err := mail.ParseAddress(msg.Header.Get("From"))
	if err != nil || strings.EqualFold(from.Address, "alice@example.com") {
		return
	}
	if !strings.Contains(stderr, "neither the address nor an alias") {
		t.Errorf("From %s is not the account's address, but stderr has no warning:\n%s", from.Address, stderr)
	}
}

// checkCorpusReceived compares what Gmail received with the corpus file:
// the file's bytes after the added lines, or, where gmsync re-encoded
// parts as quoted-printable, the same decoded parts.
func checkCorpusReceived(t *testing.T, o corpusOutcome, received []byte) {
	t.Helper()
	original := withoutMboxFrom(o.raw)
	if added, found := bytes.CutSuffix(received, original); found {
		for _, line := range strings.SplitAfter(string(added), "\n") {
			name, _, _ := strings.Cut(line, ":")
			if strings.TrimSpace(line) != "" && !slices.Contains([]string{"date", "message-id"}, strings.ToLower(name)) {
				t.Errorf("%s: gmsync added the line %q, want only Date and Message-ID", o.name, line)
			}
		}
		return
	}
	if !bytes.Contains(received, []byte("quoted-printable")) {
		t.Errorf("%s: received message differs from the file, and no part was re-encoded", o.name)
		return
	}
	if diff := cmp.Diff(mimeLeaves(original), mimeLeaves(received)); diff != "" {
		t.Errorf("%s: re-encoded message decodes differently (-file +received):\n%s", o.name, diff)
	}
	t.Logf("%s: plain-text parts re-encoded as quoted-printable", o.name)
}

// withoutMboxFrom returns msg without its leading mbox "From " lines,
// which gmsync removes as Postfix's sendmail does.
func withoutMboxFrom(msg []byte) []byte {
	for bytes.HasPrefix(bytes.TrimLeft(msg, ">"), []byte("From ")) {
		end := bytes.IndexByte(msg, '\n')
		if end < 0 {
			return nil
		}
		msg = msg[end+1:]
	}
	return msg
}

// mimeLeaves returns the leaf parts of a message as the standard library
// reads them: path, media type and body, with quoted-printable decoded.
// A parse error is a leaf of its own.
func mimeLeaves(raw []byte) []string {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return []string{"error: " + err.Error()}
	}
	var leaves []string
	appendLeaves(textproto.MIMEHeader(msg.Header), msg.Body, "1", &leaves)
	return leaves
}

func appendLeaves(header textproto.MIMEHeader, body io.Reader, path string, leaves *[]string) {
	mediaType, params, err := mime.ParseMediaType(header.Get("Content-Type"))
	if err == nil && strings.HasPrefix(mediaType, "multipart/") && params["boundary"] != "" && strings.Count(path, ".") < 50 {
		reader := multipart.NewReader(body, params["boundary"])
		for k := 1; ; k++ {
			part, err := reader.NextRawPart()
			if err == io.EOF {
				return
			}
			if err != nil {
				*leaves = append(*leaves, fmt.Sprintf("%s.%d error: %v", path, k, err))
				return
			}
			appendLeaves(part.Header, part, fmt.Sprintf("%s.%d", path, k), leaves)
		}
	}
	if strings.EqualFold(strings.TrimSpace(header.Get("Content-Transfer-Encoding")), "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	content, err := io.ReadAll(body)
	leaf := fmt.Sprintf("%s %s: %q", path, mediaType, content)
	if err != nil {
		leaf += fmt.Sprintf(" error: %v", err)
	}
	*leaves = append(*leaves, leaf)
}

// decodedBody returns the body of a single-part message with its
// quoted-printable encoding undone.
func decodedBody(t *testing.T, raw []byte) []byte {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parsing the received message: %v", err)
	}
	body := msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	decoded, err := io.ReadAll(body)
	if err != nil {
		t.Fatalf("decoding the received message: %v", err)
	}
	return decoded
}

// checkGolden compares got with the golden file name, or rewrites the file
// under -update-send-golden.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join(goldenDir, name)
	if *updateSendGolden {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file: %v (run go test ./e2e -run %s -update-send-golden to create it)", err, t.Name())
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("decoded message differs from %s (-want +got):\n%s", path, diff)
	}
}

// runGit runs git in dir with a fixed identity and dates and no user or
// system configuration, and returns its trimmed output.
func runGit(t *testing.T, w *world, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(slices.Clone(w.env),
		"GIT_AUTHOR_NAME=Alice", "GIT_AUTHOR_EMAIL=alice@example.com",
		"GIT_COMMITTER_NAME=Alice", "GIT_COMMITTER_EMAIL=alice@example.com",
		"GIT_AUTHOR_DATE=2026-11-02T09:00:00Z", "GIT_COMMITTER_DATE=2026-11-02T09:00:00Z",
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func requireProgram(t *testing.T, program, debianPackage string) {
	t.Helper()
	if _, err := exec.LookPath(program); err != nil {
		t.Fatalf("%s not found: run scripts/deps.sh (Debian package %s): %v", program, debianPackage, err)
	}
}

// onlySent returns the one message the emulator received.
func onlySent(t *testing.T, w *world) emulator.SentMessage {
	t.Helper()
	sent := w.sent()
	if len(sent) != 1 {
		t.Fatalf("emulator received %d messages, want 1", len(sent))
	}
	return sent[0]
}

func checkRecipients(t *testing.T, got emulator.SentMessage, recipients, bcc []string) {
	t.Helper()
	if !slices.Equal(sortedLower(got.Recipients), recipients) {
		t.Errorf("recipients = %v, want %v", got.Recipients, recipients)
	}
	if !slices.Equal(sortedLower(got.Bcc), bcc) {
		t.Errorf("Bcc = %v, want %v", got.Bcc, bcc)
	}
}

// threadOf returns the thread of the message id in the dump.
func threadOf(t *testing.T, d emulator.Dump, id string) string {
	t.Helper()
	for _, m := range d.Messages {
		if m.ID == id {
			return m.ThreadID
		}
	}
	t.Fatalf("message %s is not in the mailbox", id)
	return ""
}

// longestLine returns the length in bytes of the longest line of raw, not
// counting its line ending.
func longestLine(raw []byte) int {
	longest := 0
	for _, line := range bytes.Split(raw, []byte("\n")) {
		longest = max(longest, len(bytes.TrimSuffix(line, []byte("\r"))))
	}
	return longest
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

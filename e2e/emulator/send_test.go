package emulator

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/api/gmail/v1"
	"google.golang.org/api/googleapi"
)

type sentEntry struct {
	ID, ThreadID, RequestThreadID, UploadType string
	Recipients, Bcc                           []string
	Raw                                       []byte
}

func sentList(t *testing.T, base string) []sentEntry {
	t.Helper()
	var out []sentEntry
	rawGet(t, base+"admin/users/"+testUser+"/sent", "", &out)
	return out
}

func TestMediaSend(t *testing.T) {
	srv, base := startServer(t, Options{})
	svc := service(t, base, scopeSend)
	raw := []byte("From: Mallory <mallory@example.net>\r\nTo: Bob <BOB@example.org>\r\nCc: carol@example.net\r\n" +
		"Bcc: secret@example.com\r\nSubject: Hello\r\nMessage-ID: <send1@client>\r\n\r\nBody\r\n")
	m, err := svc.Users.Messages.Send("me", &gmail.Message{}).
		Media(bytes.NewReader(raw), googleapi.ContentType("message/rfc822"), googleapi.ChunkSize(0)).Do()
	if err != nil {
		t.Fatalf("Messages.Send(media) = %v", err)
	}
	if m.ThreadId != m.Id || len(m.LabelIds) != 1 || m.LabelIds[0] != "SENT" {
		t.Errorf("Send() = id %s thread %s labels %v, want threadId == id and [SENT]", m.Id, m.ThreadId, m.LabelIds)
	}

	sent := sentList(t, base)
	if len(sent) != 1 {
		t.Fatalf("admin sent = %d entries, want 1", len(sent))
	}
	want := sentEntry{
		ID: m.Id, ThreadID: m.Id, UploadType: "multipart",
		Recipients: []string{"bob@example.org", "carol@example.net", "secret@example.com"},
		Bcc:        []string{"secret@example.com"},
		Raw:        raw,
	}
	if diff := cmp.Diff(want, sent[0]); diff != "" {
		t.Errorf("admin sent entry (-want +got):\n%s", diff)
	}

	srv.mu.Lock()
	stored := string(srv.mailboxFor(testUser).messages[m.Id].raw)
	srv.mu.Unlock()
	if !strings.Contains(stored, "Bcc: secret@example.com\r\n") {
		t.Errorf("stored copy lost Bcc:\n%s", stored)
	}
	if !strings.Contains(stored, "From: \"Mallory\" <alice@example.com>\r\n") {
		t.Errorf("stored copy From not rewritten to the user:\n%s", stored)
	}
}

func TestMediaSendWrongType(t *testing.T) {
	_, base := startServer(t, Options{})
	svc := service(t, base, scopeSend)
	raw := []byte("To: bob@example.org\r\nSubject: x\r\n\r\nplain text that sniffs as text/plain\r\n")
	_, err := svc.Users.Messages.Send("me", &gmail.Message{}).Media(bytes.NewReader(raw), googleapi.ChunkSize(0)).Do()
	gerr := wantAPIError(t, "Send(sniffed type)", err, http.StatusBadRequest, "badRequest")
	if gerr.Message != "Media type 'text/plain; charset=utf-8' is not supported." {
		t.Errorf("Send(sniffed type) message = %q", gerr.Message)
	}
}

func TestResumableSend(t *testing.T) {
	_, base := startServer(t, Options{})
	svc := service(t, base, scopeSend)
	var b bytes.Buffer
	b.WriteString("To: bob@example.org\r\nSubject: big\r\nContent-Type: text/plain\r\n\r\n")
	for b.Len() < 600<<10 {
		b.WriteString("0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\r\n")
	}
	m, err := svc.Users.Messages.Send("me", &gmail.Message{}).
		Media(bytes.NewReader(b.Bytes()), googleapi.ContentType("message/rfc822"), googleapi.ChunkSize(googleapi.MinUploadChunkSize)).Do()
	if err != nil {
		t.Fatalf("Messages.Send(resumable) = %v", err)
	}
	sent := sentList(t, base)
	if len(sent) != 1 || sent[0].UploadType != "resumable" || !bytes.Equal(sent[0].Raw, b.Bytes()) || sent[0].ID != m.Id {
		t.Errorf("admin sent = %d entries, want one resumable upload of %d bytes", len(sent), b.Len())
	}
}

func TestSendJSON(t *testing.T) {
	srv, base := startServer(t, Options{})
	svc := service(t, base, scopeSend)
	first, thread := mustAdd(t, srv, testMessage("bob@example.org", testUser, "Plan", "<plan@x>", "", "a"), []string{"INBOX"}, time.Time{})

	reply := testMessage(testUser, "bob@example.org", "Re: Plan", "<reply@x>", "<plan@x>", "ok")
	m, err := svc.Users.Messages.Send("me", &gmail.Message{Raw: base64.URLEncoding.EncodeToString(reply), ThreadId: thread}).Do()
	if err != nil {
		t.Fatalf("Messages.Send(json reply) = %v", err)
	}
	if m.ThreadId != first || m.Id == first {
		t.Errorf("reply = id %s thread %s, want a new id in thread %s", m.Id, m.ThreadId, first)
	}

	_, err = svc.Users.Messages.Send("me", &gmail.Message{Raw: base64.URLEncoding.EncodeToString(reply), ThreadId: "00000000000000ff"}).Do()
	gerr := wantAPIError(t, "Send(unknown thread)", err, http.StatusBadRequest, "invalidArgument")
	if gerr.Message != "Invalid thread_id value" {
		t.Errorf("Send(unknown thread) message = %q", gerr.Message)
	}

	noRcpt := []byte("From: alice@example.com\r\nSubject: nobody\r\n\r\nx\r\n")
	_, err = svc.Users.Messages.Send("me", &gmail.Message{Raw: base64.RawURLEncoding.EncodeToString(noRcpt)}).Do()
	gerr = wantAPIError(t, "Send(no recipient)", err, http.StatusBadRequest, "invalidArgument")
	if gerr.Message != "Recipient address required" {
		t.Errorf("Send(no recipient) message = %q", gerr.Message)
	}

	_, err = svc.Users.Messages.Send("me", &gmail.Message{}).Do()
	wantAPIError(t, "Send(no raw)", err, http.StatusBadRequest, "invalidArgument")

	big := append([]byte("To: bob@example.org\r\nSubject: big\r\n\r\n"), bytes.Repeat([]byte("a"), maxJSONRawSize)...)
	_, err = svc.Users.Messages.Send("me", &gmail.Message{Raw: base64.URLEncoding.EncodeToString(big)}).Do()
	wantAPIError(t, "Send(json above limit)", err, http.StatusRequestEntityTooLarge, "")
}

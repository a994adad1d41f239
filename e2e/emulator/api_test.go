package emulator

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/api/gmail/v1"
)

func TestAuthErrorBodies(t *testing.T) {
	_, base := startServer(t, Options{})
	var body struct{ Error errorBody }
	resp := rawGet(t, base+"gmail/v1/users/me/profile", "", &body)
	if resp.StatusCode != 401 || body.Error.Errors[0].Reason != "required" || body.Error.Errors[0].Message != "Login Required." {
		t.Errorf("no token = %d %+v, want 401 required", resp.StatusCode, body.Error)
	}
	if body.Error.Status != "UNAUTHENTICATED" || len(body.Error.Details) != 1 {
		t.Errorf("no token status %q details %v, want UNAUTHENTICATED with CREDENTIALS_MISSING", body.Error.Status, body.Error.Details)
	}

	resp = rawGet(t, base+"gmail/v1/users/me/profile", "ya29.unknown", &body)
	if resp.StatusCode != 401 || !strings.HasPrefix(body.Error.Message, "Request had invalid authentication credentials.") {
		t.Errorf("bad token = %d %q, want 401 invalid credentials", resp.StatusCode, body.Error.Message)
	}
	if got := resp.Header.Get("WWW-Authenticate"); got != `Bearer realm="https://accounts.google.com/", error="invalid_token"` {
		t.Errorf("bad token WWW-Authenticate = %q", got)
	}
}

func TestScopeRefusal(t *testing.T) {
	srv, base := startServer(t, Options{})
	id, _ := mustAdd(t, srv, testMessage("bob@example.org", testUser, "Hi", "<a@x>", "", "hello"), []string{"INBOX"}, time.Time{})
	svc := service(t, base, scopeSend)

	_, err := svc.Users.GetProfile("me").Do()
	gerr := wantAPIError(t, "GetProfile(send scope)", err, http.StatusForbidden, "insufficientPermissions")
	if gerr.Message != "Request had insufficient authentication scopes." {
		t.Errorf("GetProfile(send scope) message = %q", gerr.Message)
	}
	_, err = svc.Users.Messages.Get("me", id).Do()
	wantAPIError(t, "Messages.Get(send scope)", err, http.StatusForbidden, "insufficientPermissions")
	_, err = svc.Users.Labels.List("me").Do()
	wantAPIError(t, "Labels.List(send scope)", err, http.StatusForbidden, "insufficientPermissions")

	labels := service(t, base, scopeLabels)
	if _, err := labels.Users.Labels.List("me").Do(); err != nil {
		t.Errorf("Labels.List(labels scope) = %v", err)
	}
	_, err = labels.Users.Messages.List("me").Do()
	wantAPIError(t, "Messages.List(labels scope)", err, http.StatusForbidden, "insufficientPermissions")
}

func TestMetadataScopeLimits(t *testing.T) {
	srv, base := startServer(t, Options{})
	id, _ := mustAdd(t, srv, testMessage("bob@example.org", testUser, "Hi", "<a@x>", "", "hello"), []string{"INBOX"}, time.Time{})
	svc := service(t, base, scopeMetadata, scopeReadonly)

	_, err := svc.Users.Messages.List("me").Q("rfc822msgid:a@x").Do()
	wantAPIError(t, "Messages.List(q, metadata scope)", err, http.StatusForbidden, "forbidden")
	_, err = svc.Users.Messages.Get("me", id).Format("raw").Do()
	wantAPIError(t, "Messages.Get(raw, metadata scope)", err, http.StatusForbidden, "forbidden")
	m, err := svc.Users.Messages.Get("me", id).Format("metadata").MetadataHeaders("Subject").Do()
	if err != nil {
		t.Fatalf("Messages.Get(metadata) = %v", err)
	}
	want := []*gmail.MessagePartHeader{{Name: "Subject", Value: "Hi"}}
	if diff := cmp.Diff(want, m.Payload.Headers); diff != "" {
		t.Errorf("metadata headers (-want +got):\n%s", diff)
	}
}

func TestListPagingAndLabels(t *testing.T) {
	srv, base := startServer(t, Options{})
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var newestFirst []string
	for i := range 7 {
		labels := []string{"INBOX"}
		if i%2 == 0 {
			labels = append(labels, "Work/Projects")
		}
		if i == 6 {
			labels = []string{"SPAM", "Work/Projects"}
		}
		// Messages 2 and 3 share a received time to exercise the tie-break.
		when := start.Add(time.Duration(min(i, 5)) * time.Hour)
		if i == 3 {
			when = start.Add(2 * time.Hour)
		}
		id, _ := mustAdd(t, srv, testMessage("bob@example.org", testUser, fmt.Sprint("m", i), fmt.Sprintf("<m%d@x>", i), "", "x"), labels, when)
		if i < 6 {
			newestFirst = append([]string{id}, newestFirst...)
		}
	}
	// The two messages at 02:00 are ordered by descending id.
	newestFirst = reorderTie(newestFirst)
	svc := service(t, base, scopeReadonly)

	var got []string
	token := ""
	for range 10 {
		resp, err := svc.Users.Messages.List("me").MaxResults(4).PageToken(token).Do()
		if err != nil {
			t.Fatalf("Messages.List(page %q) = %v", token, err)
		}
		for _, m := range resp.Messages {
			got = append(got, m.Id)
			if m.ThreadId == "" || m.LabelIds != nil || m.Raw != "" {
				t.Errorf("list entry %+v, want only id and threadId", m)
			}
		}
		if token = resp.NextPageToken; token == "" {
			break
		}
	}
	if diff := cmp.Diff(newestFirst, got); diff != "" {
		t.Errorf("paged ids (-want +got):\n%s", diff)
	}

	labels, err := svc.Users.Labels.List("me").Do()
	if err != nil {
		t.Fatal(err)
	}
	work := ""
	for _, l := range labels.Labels {
		if l.Name == "Work/Projects" {
			work = l.Id
		}
		if l.MessagesTotal != 0 {
			t.Errorf("labels.list entry %s has counts, want none", l.Id)
		}
	}
	if !strings.HasPrefix(work, "Label_") {
		t.Fatalf("user label id = %q, want Label_N", work)
	}
	and, err := svc.Users.Messages.List("me").LabelIds("INBOX", work).Do()
	if err != nil {
		t.Fatal(err)
	}
	if len(and.Messages) != 3 {
		t.Errorf("List(INBOX AND %s) = %d messages, want 3", work, len(and.Messages))
	}
	withSpam, err := svc.Users.Messages.List("me").LabelIds(work).IncludeSpamTrash(true).Do()
	if err != nil {
		t.Fatal(err)
	}
	if len(withSpam.Messages) != 4 {
		t.Errorf("List(%s, includeSpamTrash) = %d messages, want 4", work, len(withSpam.Messages))
	}
	l, err := svc.Users.Labels.Get("me", work).Do()
	if err != nil {
		t.Fatal(err)
	}
	if l.MessagesTotal != 4 || l.Type != "user" {
		t.Errorf("Labels.Get(%s) = total %d type %q, want 4 user", work, l.MessagesTotal, l.Type)
	}

	_, err = svc.Users.Messages.List("me").PageToken("forged").Do()
	wantAPIError(t, "Messages.List(forged token)", err, http.StatusBadRequest, "invalidArgument")
}

// reorderTie swaps the entries for messages 3 and 2 (positions 2 and 3 in
// newest-first order) when the older id sorts first, since equal dates
// order by descending id.
func reorderTie(ids []string) []string {
	if ids[2] < ids[3] {
		ids[2], ids[3] = ids[3], ids[2]
	}
	return ids
}

func TestListEmptyAndQuery(t *testing.T) {
	srv, base := startServer(t, Options{})
	svc := service(t, base, scopeReadonly)
	tok := login(t, oauthConfig(base, scopeReadonly))
	var raw map[string]any
	rawGet(t, base+"gmail/v1/users/me/messages", tok.AccessToken, &raw)
	if diff := cmp.Diff(map[string]any{"resultSizeEstimate": float64(0)}, raw); diff != "" {
		t.Errorf("empty list body (-want +got):\n%s", diff)
	}

	id, _ := mustAdd(t, srv, testMessage("bob@example.org", testUser, "Hi", "<find.me@example.org>", "", "x"), []string{"INBOX", "Reisen/Köln"}, time.Time{})
	mustAdd(t, srv, testMessage("bob@example.org", testUser, "Other", "<other@example.org>", "", "x"), []string{"INBOX"}, time.Time{})
	for _, q := range []string{"rfc822msgid:<find.me@example.org>", "rfc822msgid:find.me@example.org", "label:reisen-köln", "in:inbox subject:hi"} {
		resp, err := svc.Users.Messages.List("me").Q(q).Do()
		if err != nil {
			t.Fatalf("Messages.List(q=%s) = %v", q, err)
		}
		if len(resp.Messages) != 1 || resp.Messages[0].Id != id {
			t.Errorf("Messages.List(q=%s) = %+v, want only %s", q, resp.Messages, id)
		}
	}
}

func TestGetFormats(t *testing.T) {
	srv, base := startServer(t, Options{})
	raw := []byte("From: =?UTF-8?Q?J=C3=BCrgen?= <j@example.de>\r\nTo: alice@example.com\r\nSubject: Grüße\r\n" +
		"Message-ID: <bin@x>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nK=C3=B6ln & mehr\r\n" +
		"--b1\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"a.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAP8Q\r\n" +
		"--b1--\r\n\xff\xfe trailing bytes\r\n")
	when := time.UnixMilli(1709546400123)
	id, thread := mustAdd(t, srv, raw, []string{"INBOX", "UNREAD"}, when)
	svc := service(t, base, scopeReadonly)

	m, err := svc.Users.Messages.Get("me", id).Format("raw").Do()
	if err != nil {
		t.Fatalf("Messages.Get(raw) = %v", err)
	}
	got, err := base64.URLEncoding.DecodeString(m.Raw)
	if err != nil {
		t.Fatalf("raw is not padded base64url: %v", err)
	}
	if !bytes.Equal(got, raw) {
		t.Errorf("raw round trip = %q, want %q", got, raw)
	}
	if m.Id != id || m.ThreadId != thread || m.InternalDate != 1709546400123 || m.HistoryId == 0 || m.SizeEstimate != int64(len(raw)) {
		t.Errorf("raw message fields = %+v", m)
	}
	if diff := cmp.Diff([]string{"INBOX", "UNREAD"}, m.LabelIds); diff != "" {
		t.Errorf("labelIds (-want +got):\n%s", diff)
	}
	if m.Snippet != "Köln &amp; mehr" {
		t.Errorf("snippet = %q, want %q", m.Snippet, "Köln &amp; mehr")
	}

	full, err := svc.Users.Messages.Get("me", id).Do()
	if err != nil {
		t.Fatalf("Messages.Get(full) = %v", err)
	}
	if full.Raw != "" || full.Payload == nil || len(full.Payload.Parts) != 2 {
		t.Fatalf("full payload = %+v, want two parts and no raw", full.Payload)
	}
	text, _ := base64.URLEncoding.DecodeString(full.Payload.Parts[0].Body.Data)
	if string(text) != "Köln & mehr" {
		t.Errorf("text part data = %q, want %q", text, "Köln & mehr")
	}
	att := full.Payload.Parts[1]
	if att.Filename != "a.bin" || att.Body.AttachmentId == "" || att.PartId != "1" {
		t.Fatalf("attachment part = %+v", att)
	}
	body, err := svc.Users.Messages.Attachments.Get("me", id, att.Body.AttachmentId).Do()
	if err != nil {
		t.Fatalf("Attachments.Get() = %v", err)
	}
	if data, _ := base64.URLEncoding.DecodeString(body.Data); !bytes.Equal(data, []byte{0, 0xff, 0x10}) {
		t.Errorf("attachment data = %x, want 00ff10", data)
	}

	minimal, err := svc.Users.Messages.Get("me", id).Format("minimal").Do()
	if err != nil {
		t.Fatal(err)
	}
	if minimal.Payload != nil || minimal.Raw != "" || minimal.ThreadId != thread {
		t.Errorf("minimal message = %+v, want no payload and no raw", minimal)
	}

	_, err = svc.Users.Messages.Get("me", "not-an-id!").Do()
	gerr := wantAPIError(t, "Messages.Get(malformed)", err, http.StatusBadRequest, "invalidArgument")
	if gerr.Message != "Invalid id value" {
		t.Errorf("malformed id message = %q, want Invalid id value", gerr.Message)
	}
	_, err = svc.Users.Messages.Get("me", "0000000000000001").Do()
	gerr = wantAPIError(t, "Messages.Get(unknown)", err, http.StatusNotFound, "notFound")
	if gerr.Message != "Requested entity was not found." {
		t.Errorf("unknown id message = %q", gerr.Message)
	}
}

func TestThreadingByReferences(t *testing.T) {
	srv, _ := startServer(t, Options{})
	first, thread := mustAdd(t, srv, testMessage("bob@example.org", testUser, "Plan", "<p1@x>", "", "a"), []string{"INBOX"}, time.Time{})
	if thread != first {
		t.Errorf("new thread id = %s, want the message id %s", thread, first)
	}
	reply, replyThread := mustAdd(t, srv, testMessage("bob@example.org", testUser, "Re: Plan", "<p2@x>", "<p1@x>", "b"), []string{"INBOX"}, time.Time{})
	if replyThread != thread {
		t.Errorf("reply thread = %s, want %s", replyThread, thread)
	}
	if reply <= first || len(reply) != 16 {
		t.Errorf("ids %s then %s, want 16 hex digits, increasing", first, reply)
	}
	_, other := mustAdd(t, srv, testMessage("bob@example.org", testUser, "Plan", "<p3@x>", "", "c"), []string{"INBOX"}, time.Time{})
	if other == thread {
		t.Errorf("unrelated message joined thread %s", thread)
	}
}

func TestModifyTrashDelete(t *testing.T) {
	srv, base := startServer(t, Options{})
	id, _ := mustAdd(t, srv, testMessage("bob@example.org", testUser, "Hi", "<a@x>", "", "x"), []string{"INBOX", "UNREAD"}, time.Time{})
	svc := service(t, base, scopeModify)

	m, err := svc.Users.Messages.Modify("me", id, &gmail.ModifyMessageRequest{RemoveLabelIds: []string{"UNREAD"}, AddLabelIds: []string{"STARRED"}}).Do()
	if err != nil {
		t.Fatalf("Messages.Modify() = %v", err)
	}
	if diff := cmp.Diff([]string{"INBOX", "STARRED"}, m.LabelIds); diff != "" {
		t.Errorf("labels after modify (-want +got):\n%s", diff)
	}
	_, err = svc.Users.Messages.Modify("me", id, &gmail.ModifyMessageRequest{AddLabelIds: []string{"Label_99"}}).Do()
	wantAPIError(t, "Messages.Modify(unknown label)", err, http.StatusBadRequest, "invalidArgument")
	if m, err = svc.Users.Messages.Trash("me", id).Do(); err != nil || !contains(m.LabelIds, "TRASH") {
		t.Errorf("Messages.Trash() = %v, %v, want TRASH label", m, err)
	}
	err = svc.Users.Messages.Delete("me", id).Do()
	wantAPIError(t, "Messages.Delete(modify scope)", err, http.StatusForbidden, "insufficientPermissions")
	full := service(t, base, scopeMail)
	if err := full.Users.Messages.Delete("me", id).Do(); err != nil {
		t.Fatalf("Messages.Delete() = %v", err)
	}
	_, err = full.Users.Messages.Get("me", id).Do()
	wantAPIError(t, "Messages.Get(deleted)", err, http.StatusNotFound, "notFound")
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func TestStatsCountUnits(t *testing.T) {
	_, base := startServer(t, Options{QuotaRegime: Regime2026})
	svc := service(t, base, scopeReadonly)
	for range 2 {
		_, _ = svc.Users.Messages.Get("me", "0000000000000001").Do()
	}
	if _, err := svc.Users.GetProfile("me").Do(); err != nil {
		t.Fatal(err)
	}
	var stats struct {
		Requests, Units map[string]int
	}
	rawGet(t, base+"admin/stats", "", &stats)
	want := map[string]int{"messages.get": 2, "getProfile": 1}
	if diff := cmp.Diff(want, stats.Requests); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if stats.Units["messages.get"] != 40 || stats.Units["getProfile"] != 1 {
		t.Errorf("units = %v, want messages.get 40 and getProfile 1", stats.Units)
	}
}

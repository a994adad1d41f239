package emulator

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/api/gmail/v1"
)

// historyWalk pages through history.list and returns every record.
func historyWalk(t *testing.T, svc *gmail.Service, start uint64, pageSize int64) ([]*gmail.History, uint64) {
	t.Helper()
	var all []*gmail.History
	token := ""
	for range 50 {
		resp, err := svc.Users.History.List("me").StartHistoryId(start).MaxResults(pageSize).PageToken(token).Do()
		if err != nil {
			t.Fatalf("History.List(start %d, page %q) = %v", start, token, err)
		}
		all = append(all, resp.History...)
		if token = resp.NextPageToken; token == "" {
			return all, resp.HistoryId
		}
	}
	t.Fatalf("History.List did not finish within 50 pages")
	return nil, 0
}

func TestHistoryRecordsAndPaging(t *testing.T) {
	srv, base := startServer(t, Options{})
	svc := service(t, base, scopeMail)
	p, err := svc.Users.GetProfile("me").Do()
	if err != nil {
		t.Fatal(err)
	}
	start := p.HistoryId

	empty, err := svc.Users.History.List("me").StartHistoryId(start).Do()
	if err != nil {
		t.Fatalf("History.List(no changes) = %v", err)
	}
	if empty.History != nil || empty.HistoryId != start {
		t.Errorf("History.List(no changes) = %+v, want no records and historyId %d", empty, start)
	}

	a, _ := mustAdd(t, srv, testMessage("bob@example.org", testUser, "A", "<a@x>", "", "a"), []string{"INBOX", "UNREAD"}, time.Time{})
	b, _ := mustAdd(t, srv, testMessage("bob@example.org", testUser, "B", "<b@x>", "", "b"), []string{"INBOX"}, time.Time{})
	if _, err := svc.Users.Messages.Modify("me", a, &gmail.ModifyMessageRequest{RemoveLabelIds: []string{"UNREAD"}}).Do(); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Users.Messages.Trash("me", b).Do(); err != nil {
		t.Fatal(err)
	}
	if err := svc.Users.Messages.Delete("me", a).Do(); err != nil {
		t.Fatal(err)
	}

	records, current := historyWalk(t, svc, start, 2)
	type row struct {
		Kind, ID string
		Labels   []string
	}
	var got []row
	prev := start
	for _, h := range records {
		if h.Id <= prev || h.Id == prev+1 {
			t.Errorf("history id %d after %d, want increasing with gaps", h.Id, prev)
		}
		prev = h.Id
		switch {
		case len(h.MessagesAdded) == 1:
			got = append(got, row{"added", h.MessagesAdded[0].Message.Id, nil})
		case len(h.LabelsRemoved) == 1:
			got = append(got, row{"labelsRemoved", h.LabelsRemoved[0].Message.Id, h.LabelsRemoved[0].LabelIds})
		case len(h.LabelsAdded) == 1:
			got = append(got, row{"labelsAdded", h.LabelsAdded[0].Message.Id, h.LabelsAdded[0].LabelIds})
		case len(h.MessagesDeleted) == 1:
			got = append(got, row{"deleted", h.MessagesDeleted[0].Message.Id, nil})
		default:
			t.Errorf("record %d has no single typed entry: %+v", h.Id, h)
		}
	}
	want := []row{
		{"added", a, nil},
		{"added", b, nil},
		{"labelsRemoved", a, []string{"UNREAD"}},
		{"labelsAdded", b, []string{"TRASH"}},
		{"deleted", a, nil},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	if current != prev {
		t.Errorf("history historyId = %d, want the last record %d", current, prev)
	}
	mb, err := svc.Users.Messages.Get("me", b).Format("minimal").Do()
	if err != nil {
		t.Fatal(err)
	}
	if mb.HistoryId != records[3].Id {
		t.Errorf("message historyId = %d, want its last record %d", mb.HistoryId, records[3].Id)
	}

	added, err := svc.Users.History.List("me").StartHistoryId(start).HistoryTypes("messageAdded").Do()
	if err != nil {
		t.Fatal(err)
	}
	if len(added.History) != 2 {
		t.Errorf("History.List(messageAdded) = %d records, want 2", len(added.History))
	}
	trash, err := svc.Users.History.List("me").StartHistoryId(start).LabelId("TRASH").Do()
	if err != nil {
		t.Fatal(err)
	}
	if len(trash.History) != 2 {
		t.Errorf("History.List(labelId TRASH) = %d records, want 2 (added and trashed)", len(trash.History))
	}

	_, err = svc.Users.History.List("me").StartHistoryId(current + 1000).Do()
	wantAPIError(t, "History.List(future)", err, http.StatusNotFound, "notFound")
	_, err = svc.Users.History.List("me").StartHistoryId(start + 1).Do()
	wantAPIError(t, "History.List(never issued)", err, http.StatusNotFound, "notFound")

	adminPost(t, base+"admin/users/"+testUser+"/history/expire", "", nil)
	_, err = svc.Users.History.List("me").StartHistoryId(current).Do()
	gerr := wantAPIError(t, "History.List(expired)", err, http.StatusNotFound, "notFound")
	if gerr.Message != "Requested entity was not found." {
		t.Errorf("History.List(expired) message = %q", gerr.Message)
	}
	p, err = svc.Users.GetProfile("me").Do()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Users.History.List("me").StartHistoryId(p.HistoryId).Do(); err != nil {
		t.Errorf("History.List(profile historyId after expire) = %v, want a fresh valid start", err)
	}
}

func TestHistoryRetention(t *testing.T) {
	srv, base := startServer(t, Options{HistoryRetention: 2})
	svc := service(t, base, scopeReadonly)
	p, err := svc.Users.GetProfile("me").Do()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		mustAdd(t, srv, testMessage("bob@example.org", testUser, "x", "<r"+string(rune('a'+i))+"@x>", "", "x"), []string{"INBOX"}, time.Time{})
	}
	_, err = svc.Users.History.List("me").StartHistoryId(p.HistoryId).Do()
	wantAPIError(t, "History.List(beyond retention)", err, http.StatusNotFound, "notFound")
}

func TestHistoryPageTokenBoundToQuery(t *testing.T) {
	srv, base := startServer(t, Options{})
	svc := service(t, base, scopeReadonly)
	p, _ := svc.Users.GetProfile("me").Do()
	for i := range 3 {
		mustAdd(t, srv, testMessage("bob@example.org", testUser, "x", "<t"+string(rune('a'+i))+"@x>", "", "x"), []string{"INBOX"}, time.Time{})
	}
	first, err := svc.Users.History.List("me").StartHistoryId(p.HistoryId).MaxResults(1).Do()
	if err != nil || first.NextPageToken == "" {
		t.Fatalf("History.List(max 1) = %v, %v, want a next page", first, err)
	}
	_, err = svc.Users.History.List("me").StartHistoryId(p.HistoryId).HistoryTypes("labelAdded").PageToken(first.NextPageToken).Do()
	wantAPIError(t, "History.List(token of another query)", err, http.StatusBadRequest, "invalidArgument")
}

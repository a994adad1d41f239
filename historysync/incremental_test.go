package historysync

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// admin calls the emulator's admin API.
func (h *harness) admin(t *testing.T, method, path string, body any) {
	t.Helper()
	var data []byte
	if body != nil {
		data, _ = json.Marshal(body)
	}
	req, err := http.NewRequest(method, h.base+"admin/users/"+testUser+"/"+path, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Close = true // no idle connection to hold up the emulator's shutdown
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("admin %s %s: %v", method, path, err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("admin %s %s: %s", method, path, resp.Status)
	}
}

// ids returns the Gmail ids of the emulator's messages, oldest first.
func (h *harness) ids(t *testing.T) []string {
	t.Helper()
	resp, err := http.Get(h.base + "admin/users/" + testUser + "/dump")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var dump struct {
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&dump); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range dump.Messages {
		ids = append(ids, m.ID)
	}
	slices.Sort(ids)
	return ids
}

// labelID returns the id of the label called name.
func (h *harness) labelID(t *testing.T, name string) string {
	t.Helper()
	resp, err := http.Get(h.base + "admin/users/" + testUser + "/dump")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var dump struct {
		Labels []struct{ ID, Name string } `json:"labels"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&dump); err != nil {
		t.Fatal(err)
	}
	for _, l := range dump.Labels {
		if l.Name == name {
			return l.ID
		}
	}
	t.Fatalf("no label %q in the emulator", name)
	return ""
}

// folderFiles returns the names of the message files in a folder.
func folderFiles(t *testing.T, root, folder string) []string {
	t.Helper()
	var names []string
	for _, sub := range []string{"cur", "new"} {
		entries, _ := os.ReadDir(filepath.Join(root, folder, sub))
		for _, e := range entries {
			names = append(names, sub+"/"+e.Name())
		}
	}
	return names
}

func hasID(names []string, id string) bool {
	return slices.ContainsFunc(names, func(n string) bool { return strings.Contains(n, "."+id+".gmsync") })
}

func runOnce(t *testing.T, h *harness) *Summary {
	t.Helper()
	e := h.engine(t)
	defer e.State.Close()
	sum, err := e.Run(context.Background())
	if err != nil {
		t.Fatalf("Run() = %v", err)
	}
	return sum
}

func TestIncrementalAppliesLabelChangesWithoutGets(t *testing.T) {
	h := newHarness(t, 8)
	runOnce(t, h)
	ids := h.ids(t)

	h.admin(t, "POST", "messages/"+ids[0]+"/modify", map[string]any{"addLabelIds": []string{"STARRED"}, "removeLabelIds": []string{"INBOX"}})
	h.admin(t, "POST", "messages/"+ids[1]+"/modify", map[string]any{"addLabelIds": []string{"TRASH"}})
	h.admin(t, "DELETE", "messages/"+ids[2], nil)

	sum := runOnce(t, h)
	if sum.Mode != "incremental" || sum.Changed != 2 || sum.Deleted != 1 || sum.New != 0 {
		t.Errorf("Run() = %s %d changed %d deleted %d new, want incremental 2 changed 1 deleted 0 new", sum.Mode, sum.Changed, sum.Deleted, sum.New)
	}
	if gets := sum.Usage.Calls["messages.get"]; gets != 0 {
		t.Errorf("Run() made %d messages.get calls for label changes, want 0", gets)
	}
	if names := folderFiles(t, h.root, "Starred"); !hasID(names, ids[0]) {
		t.Errorf("Starred = %v, want message %s", names, ids[0])
	}
	if names := folderFiles(t, h.root, "INBOX"); hasID(names, ids[0]) {
		t.Errorf("INBOX still holds %s after INBOX was removed", ids[0])
	}
	if names := folderFiles(t, h.root, "Trash"); !hasID(names, ids[1]) {
		t.Errorf("Trash = %v, want message %s", names, ids[1])
	}
	if names := folderFiles(t, h.root, "All Mail"); hasID(names, ids[1]) || hasID(names, ids[2]) {
		t.Errorf("All Mail still holds the trashed %s or the deleted %s", ids[1], ids[2])
	}
}

func TestIncrementalAddedAndDeletedNeverFetched(t *testing.T) {
	h := newHarness(t, 3)
	runOnce(t, h)
	id, _, err := h.srv.AddMessage(testUser, []byte("Subject: short-lived\r\n\r\nbody\r\n"), []string{"INBOX"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	h.admin(t, "DELETE", "messages/"+id, nil)
	sum := runOnce(t, h)
	if gets := sum.Usage.Calls["messages.get"]; gets != 0 || sum.New != 0 {
		t.Errorf("Run() fetched %d (new %d), want nothing for a message added and deleted in one window", gets, sum.New)
	}
}

func TestLabelRenameMovesFolder(t *testing.T) {
	h := newHarness(t, 8) // messages 1 and 5 carry Work/Projects, 2 and 6 Work
	runOnce(t, h)
	before := folderFiles(t, h.root, "Work/Projects")
	if len(before) != 2 {
		t.Fatalf("Work/Projects holds %d files before the rename, want 2", len(before))
	}
	h.admin(t, "PATCH", "labels/"+h.labelID(t, "Work/Projects"), map[string]string{"name": "Archive/Projects"})

	e := h.engine(t)
	e.LabelCheckInterval = time.Nanosecond // a rename alone produces no history
	sum, err := e.Run(context.Background())
	e.State.Close()
	if err != nil {
		t.Fatalf("Run() = %v", err)
	}
	if got := folderFiles(t, h.root, "Archive/Projects"); len(got) != 2 {
		t.Errorf("Archive/Projects = %v, want the 2 messages of the renamed label (summary %s)", got, sum)
	}
	if _, err := os.Stat(filepath.Join(h.root, "Work", "Projects")); !os.IsNotExist(err) {
		t.Errorf("Work/Projects still exists after the rename: %v", err)
	}
	if gets := sum.Usage.Calls["messages.get"]; gets != 0 {
		t.Errorf("Run() made %d messages.get calls for a rename, want 0", gets)
	}
}

func TestExpiredHistoryReconciles(t *testing.T) {
	h := newHarness(t, 12)
	runOnce(t, h)
	ids := h.ids(t)
	h.admin(t, "POST", "messages/"+ids[0]+"/modify", map[string]any{"addLabelIds": []string{"STARRED"}})
	h.admin(t, "DELETE", "messages/"+ids[1], nil)
	if _, _, err := h.srv.AddMessage(testUser, []byte("Subject: new\r\n\r\nbody\r\n"), []string{"INBOX"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	h.admin(t, "POST", "history/expire", nil)

	sum := runOnce(t, h)
	if sum.Mode != "reconcile" {
		t.Fatalf("Run() mode = %s, want reconcile after the history expired", sum.Mode)
	}
	if sum.New != 1 || sum.Deleted != 1 || sum.Changed != 1 {
		t.Errorf("Run() = %d new %d deleted %d changed, want 1 1 1", sum.New, sum.Deleted, sum.Changed)
	}
	if gets := sum.Usage.Calls["messages.get"]; gets != 1 {
		t.Errorf("reconciliation made %d messages.get calls, want 1 (only the missing message)", gets)
	}
	if names := folderFiles(t, h.root, "Starred"); !hasID(names, ids[0]) {
		t.Errorf("Starred lacks %s after reconciliation", ids[0])
	}
	next := runOnce(t, h)
	if next.Mode != "incremental" {
		t.Errorf("run after reconciliation = %s, want incremental", next.Mode)
	}
}

func TestDeletionGuardStops(t *testing.T) {
	h := newHarness(t, 40)
	runOnce(t, h)
	for _, id := range h.ids(t)[:12] {
		h.admin(t, "DELETE", "messages/"+id, nil)
	}
	e := h.engine(t)
	_, err := e.Run(context.Background())
	e.State.Close()
	if err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("Run() deleting 12 of 40 = %v, want an error naming --force", err)
	}
	if got := len(folderFiles(t, h.root, "All Mail")); got != 40 {
		t.Errorf("All Mail holds %d files after the stopped run, want all 40", got)
	}
	e = h.engine(t)
	e.Force = true
	sum, err := e.Run(context.Background())
	if err != nil || sum.Deleted != 12 {
		t.Errorf("Run() with Force = %v, %v, want 12 deleted", sum, err)
	}
}

func TestDamagedStateRebuildsWithoutDownloads(t *testing.T) {
	h := newHarness(t, 20)
	runOnce(t, h)
	if err := os.WriteFile(filepath.Join(h.stateDir, StateFileName), []byte("not a bbolt file, truncated by a crash"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenState(h.stateDir); !errors.Is(err, ErrStateDamaged) || !strings.Contains(err.Error(), "gmsync sync --full") {
		t.Fatalf("OpenState(damaged) = %v, want ErrStateDamaged naming gmsync sync --full", err)
	}
	if _, err := SetAside(h.stateDir, time.Now()); err != nil {
		t.Fatalf("SetAside() = %v", err)
	}

	e := h.engine(t)
	e.Full = true
	sum, err := e.Run(context.Background())
	e.State.Close()
	if err != nil {
		t.Fatalf("Run() with Full = %v", err)
	}
	if gets := sum.Usage.Calls["messages.get"]; gets != 0 || sum.New != 0 || sum.Present != 20 {
		t.Errorf("rebuild = %d gets, %d new, %d present, want 0, 0, 20", gets, sum.New, sum.Present)
	}
	next := runOnce(t, h)
	if next.Mode != "incremental" || next.New != 0 {
		t.Errorf("run after the rebuild = %s with %d new, want incremental with 0", next.Mode, next.New)
	}
}

func TestKeepDeletedFolder(t *testing.T) {
	h := newHarness(t, 6)
	runOnce(t, h)
	id := h.ids(t)[0]
	h.admin(t, "DELETE", "messages/"+id, nil)
	e := h.engine(t)
	e.Deletion = DeletionPolicy{KeepFolder: "Deleted"}
	sum, err := e.Run(context.Background())
	e.State.Close()
	if err != nil || sum.Deleted != 1 {
		t.Fatalf("Run() = %v, %v, want 1 deleted", sum, err)
	}
	if names := folderFiles(t, h.root, "Deleted"); !hasID(names, id) {
		t.Errorf("Deleted = %v, want the deleted message %s kept", names, id)
	}
	if names := folderFiles(t, h.root, "All Mail"); hasID(names, id) {
		t.Errorf("All Mail still holds the deleted message %s", id)
	}
}

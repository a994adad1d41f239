package outbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gmsync/gmsync/internal/sysexits"
	"github.com/gmsync/gmsync/threadindex"
)

func flushWith(t *testing.T, q *Queue, opts FlushOptions) (Summary, events) {
	t.Helper()
	var ev events
	opts.Notify = ev.add
	l := lock(t, q)
	sum, err := l.Flush(context.Background(), opts)
	if err != nil {
		t.Fatalf("Flush() = %v", err)
	}
	l.Unlock()
	return sum, ev
}

func queuedIDs(t *testing.T, q *Queue) []string {
	t.Helper()
	entries, err := q.List()
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, e := range entries {
		ids = append(ids, e.ID)
	}
	return ids
}

func TestFlushSendsInOrder(t *testing.T) {
	q, _ := newTestQueue(t)
	for n := 1; n <= 3; n++ {
		addMessage(t, q, n)
	}
	sender := &fakeSender{}

	sum, _ := flushWith(t, q, FlushOptions{Sender: sender})

	if diff := cmp.Diff([]string{"note 1", "note 2", "note 3"}, sender.sent); diff != "" {
		t.Errorf("sent (-want +got):\n%s", diff)
	}
	if sum.Sent != 3 || sum.Remaining != 0 {
		t.Errorf("Flush() summary = %+v, want 3 sent, 0 remaining", sum)
	}
	if ids := queuedIDs(t, q); len(ids) != 0 {
		t.Errorf("queue after flush = %v, want empty", ids)
	}
	thread, err := threadindex.Lookup(q.stateDir, "m2@example.org")
	if err != nil || thread != "t2" {
		t.Errorf("thread index for m2 = %q, %v, want t2", thread, err)
	}
}

func TestFlushStopsAtTemporaryFailure(t *testing.T) {
	q, clock := newTestQueue(t)
	for n := 1; n <= 3; n++ {
		addMessage(t, q, n)
	}
	sender := &fakeSender{results: []error{nil, apiError(503, "Backend Error")}}

	sum, ev := flushWith(t, q, FlushOptions{Sender: sender})

	if diff := cmp.Diff([]string{"note 1"}, sender.sent); diff != "" {
		t.Errorf("sent (-want +got):\n%s", diff)
	}
	if sum.Deferred != ReasonTemporary || sum.Remaining != 2 {
		t.Errorf("Flush() summary = %+v, want deferred temporary with 2 remaining", sum)
	}
	if diff := cmp.Diff([]EventKind{EventSent, EventDeferred}, ev.kinds()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	e, _, _ := q.Read("2")
	if e.Attempts != 1 || e.State != Queued || !e.NextAttempt.Equal(start.Add(DefaultBaseDelay)) || e.LastError == "" {
		t.Errorf("entry 2 = %+v, want queued, 1 attempt, next at %v, an error", e.Meta, start.Add(DefaultBaseDelay))
	}

	// Not due yet: nothing is sent, and message 3 waits behind message 2.
	_, ev = flushWith(t, q, FlushOptions{Sender: sender})
	if diff := cmp.Diff([]EventKind{EventWaiting}, ev.kinds()); diff != "" {
		t.Errorf("events before the retry time (-want +got):\n%s", diff)
	}

	clock.advance(DefaultBaseDelay)
	flushWith(t, q, FlushOptions{Sender: sender})
	if diff := cmp.Diff([]string{"note 1", "note 2", "note 3"}, sender.sent); diff != "" {
		t.Errorf("sent after the retry time (-want +got):\n%s", diff)
	}
}

func TestFlushIgnoreSchedule(t *testing.T) {
	q, _ := newTestQueue(t)
	addMessage(t, q, 1)
	sender := &fakeSender{results: []error{apiError(500, "Backend Error")}}
	flushWith(t, q, FlushOptions{Sender: sender})

	flushWith(t, q, FlushOptions{Sender: sender, IgnoreSchedule: true})

	if diff := cmp.Diff([]string{"note 1"}, sender.sent); diff != "" {
		t.Errorf("sent (-want +got):\n%s", diff)
	}
}

func TestFlushOfflineIsDueAtOnce(t *testing.T) {
	q, _ := newTestQueue(t)
	addMessage(t, q, 1)
	offline := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	sender := &fakeSender{results: []error{fmt.Errorf("sending message: %w", offline)}}

	sum, _ := flushWith(t, q, FlushOptions{Sender: sender})

	e, _, _ := q.Read("1")
	if sum.Deferred != ReasonOffline || e.Attempts != 0 || !e.NextAttempt.Equal(start) {
		t.Errorf("after an offline attempt: summary %+v, entry %+v, want offline, 0 attempts, due at %v", sum, e.Meta, start)
	}
}

func TestFlushHonoursRetryAfter(t *testing.T) {
	q, _ := newTestQueue(t)
	addMessage(t, q, 1)
	retryAt := start.Add(3 * time.Hour)
	limit := apiError(429, "User-rate limit exceeded (Mail sending).  Retry after "+retryAt.Format("2006-01-02T15:04:05.000Z"))
	sender := &fakeSender{results: []error{limit}}

	flushWith(t, q, FlushOptions{Sender: sender})

	e, _, _ := q.Read("1")
	if !e.NextAttempt.Equal(retryAt) {
		t.Errorf("next attempt after a Mail sending limit = %v, want %v", e.NextAttempt, retryAt)
	}
}

func TestBackoff(t *testing.T) {
	p := Policy{}.withDefaults()
	tests := []struct {
		attempts   int
		retryAfter time.Duration
		want       time.Duration
	}{
		{1, 0, time.Minute},
		{2, 0, 2 * time.Minute},
		{4, 0, 8 * time.Minute},
		{7, 0, time.Hour},
		{60, 0, time.Hour},
		{1, 5 * time.Minute, 5 * time.Minute},
		{3, time.Minute, 4 * time.Minute},
		{10, 3 * time.Hour, 3 * time.Hour},
	}
	for _, tt := range tests {
		if got := p.backoff(tt.attempts, tt.retryAfter); got != tt.want {
			t.Errorf("backoff(%d, %v) = %v, want %v", tt.attempts, tt.retryAfter, got, tt.want)
		}
	}
}

func TestFlushRejectedMovesToFailed(t *testing.T) {
	q, _ := newTestQueue(t)
	addMessage(t, q, 1)
	addMessage(t, q, 2)
	sender := &fakeSender{results: []error{apiError(400, "Invalid To header")}}

	sum, ev := flushWith(t, q, FlushOptions{Sender: sender})

	if sum.Failed != 1 || sum.Sent != 1 {
		t.Errorf("Flush() summary = %+v, want 1 failed, 1 sent", sum)
	}
	if diff := cmp.Diff([]EventKind{EventFailed, EventSent}, ev.kinds()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	failed, err := q.ListFailed()
	if err != nil || len(failed) != 1 || failed[0].State != Failed || failed[0].LastError == "" {
		t.Fatalf("ListFailed() = %v, %v, want entry 1 failed with its error", failed, err)
	}
	e, raw, err := q.Read("1")
	if err != nil || e.State != Failed || string(raw) != string(message(1)) {
		t.Errorf("Read(1) = %v, %v, want the failed copy of message 1", e, err)
	}
}

func TestFlushFinishesInterruptedMoveToFailed(t *testing.T) {
	q, _ := newTestQueue(t)
	e := addMessage(t, q, 1)
	e.State, e.LastError = Failed, "rejected"
	l := lock(t, q)
	if err := l.writeMeta(q.dir, e); err != nil {
		t.Fatal(err)
	}
	l.Unlock()
	sender := &fakeSender{}

	flushWith(t, q, FlushOptions{Sender: sender})

	failed, _ := q.ListFailed()
	if len(sender.sent) != 0 || len(queuedIDs(t, q)) != 0 || len(failed) != 1 {
		t.Errorf("after flush: sent %v, queued %v, failed %d, want nothing sent and the entry in failed/", sender.sent, queuedIDs(t, q), len(failed))
	}
}

func TestFlushExpiresOldMessages(t *testing.T) {
	q, clock := newTestQueue(t)
	addMessage(t, q, 1)
	clock.advance(DefaultMaxAge + time.Minute)
	addMessage(t, q, 2)
	sender := &fakeSender{}

	sum, ev := flushWith(t, q, FlushOptions{Sender: sender})

	if diff := cmp.Diff([]EventKind{EventExpired, EventSent}, ev.kinds()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if sum.Expired != 1 || len(sender.sent) != 1 || sender.sent[0] != "note 2" {
		t.Errorf("summary %+v, sent %v, want 1 expired and note 2 sent", sum, sender.sent)
	}
	failed, _ := q.ListFailed()
	if len(failed) != 1 || failed[0].ID != "1" {
		t.Errorf("failed/ = %v, want entry 1", failed)
	}
}

func TestFlushInvalidThreadSendsWithoutThread(t *testing.T) {
	q, _ := newTestQueue(t)
	if _, err := q.Add(message(1), Meta{MessageID: "m1@example.org", Parents: []string{"parent@example.org"}}); err != nil {
		t.Fatal(err)
	}
	if err := threadindex.Put(q.stateDir, map[string]string{"parent@example.org": "gone"}); err != nil {
		t.Fatal(err)
	}
	sender := &fakeSender{results: []error{apiError(400, "Invalid thread_id value")}}

	sum, _ := flushWith(t, q, FlushOptions{Sender: sender})

	if diff := cmp.Diff([]string{"gone", ""}, sender.threads); diff != "" {
		t.Errorf("requested threads (-want +got):\n%s", diff)
	}
	if sum.Sent != 1 {
		t.Errorf("Flush() summary = %+v, want 1 sent", sum)
	}
}

func TestFlushFindsThreadBySearch(t *testing.T) {
	q, _ := newTestQueue(t)
	if _, err := q.Add(message(1), Meta{MessageID: "m1@example.org", Parents: []string{"parent@example.org"}}); err != nil {
		t.Fatal(err)
	}
	sender := &fakeSender{}
	finder := &fakeFinder{threads: map[string]string{"parent@example.org": "t77"}}

	flushWith(t, q, FlushOptions{Sender: sender, Finder: finder})

	if diff := cmp.Diff([]string{"t77"}, sender.threads); diff != "" {
		t.Errorf("requested threads (-want +got):\n%s", diff)
	}
}

func TestFlushSearchFailureDoesNotFailSend(t *testing.T) {
	q, _ := newTestQueue(t)
	for n := 1; n <= 2; n++ {
		if _, err := q.Add(message(n), Meta{MessageID: fmt.Sprintf("m%d@example.org", n), Parents: []string{"parent@example.org"}}); err != nil {
			t.Fatal(err)
		}
	}
	sender := &fakeSender{}
	finder := &fakeFinder{err: sysexits.Wrap(sysexits.NoPerm, errors.New("no sync grant"))}

	sum, _ := flushWith(t, q, FlushOptions{Sender: sender, Finder: finder})

	if sum.Sent != 2 || finder.calls != 1 {
		t.Errorf("summary %+v with %d searches, want 2 sent after 1 failed search", sum, finder.calls)
	}
}

// markSending leaves entry n as a process that died mid-request would.
func markSending(t *testing.T, q *Queue, n int) {
	t.Helper()
	e, _, err := q.Read(fmt.Sprint(n))
	if err != nil {
		t.Fatal(err)
	}
	e.State = Sending
	e.Attempts = 1
	l := lock(t, q)
	if err := l.writeMeta(q.dir, e); err != nil {
		t.Fatal(err)
	}
	l.Unlock()
}

func TestFlushInDoubt(t *testing.T) {
	tests := []struct {
		name          string
		indexed       bool
		finder        *fakeFinder
		wantKinds     []EventKind
		wantSent      int
		wantDuplicate bool
	}{
		{"found in thread index", true, nil, []EventKind{EventAlreadySent}, 0, false},
		{"found by search", false, &fakeFinder{threads: map[string]string{"m1@example.org": "t9"}}, []EventKind{EventAlreadySent}, 0, false},
		{"not found by search", false, &fakeFinder{threads: map[string]string{}}, []EventKind{EventResending, EventSent}, 1, false},
		{"search failed", false, &fakeFinder{err: errors.New("no sync grant")}, []EventKind{EventResending, EventSent}, 1, true},
		{"no search", false, nil, []EventKind{EventResending, EventSent}, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, _ := newTestQueue(t)
			addMessage(t, q, 1)
			markSending(t, q, 1)
			if tt.indexed {
				if err := threadindex.Put(q.stateDir, map[string]string{"m1@example.org": "t1"}); err != nil {
					t.Fatal(err)
				}
			}
			opts := FlushOptions{Sender: &fakeSender{}}
			if tt.finder != nil {
				opts.Finder = tt.finder
			}

			_, ev := flushWith(t, q, opts)

			if diff := cmp.Diff(tt.wantKinds, ev.kinds()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if got := len(opts.Sender.(*fakeSender).sent); got != tt.wantSent {
				t.Errorf("sent %d messages, want %d", got, tt.wantSent)
			}
			if got := ev[len(ev)-1].Entry.PossibleDuplicate; got != tt.wantDuplicate {
				t.Errorf("PossibleDuplicate = %v, want %v", got, tt.wantDuplicate)
			}
			if ids := queuedIDs(t, q); len(ids) != 0 {
				t.Errorf("queue after flush = %v, want empty", ids)
			}
			if tt.name == "found by search" {
				if thread, _ := threadindex.Lookup(q.stateDir, "m1@example.org"); thread != "t9" {
					t.Errorf("thread index for m1 = %q, want t9 recorded from the search", thread)
				}
			}
		})
	}
}

func TestFlushDroppedConnectionLeavesInDoubt(t *testing.T) {
	q, _ := newTestQueue(t)
	addMessage(t, q, 1)
	sender := &fakeSender{results: []error{fmt.Errorf("sending message: %w", io.ErrUnexpectedEOF)}}

	sum, _ := flushWith(t, q, FlushOptions{Sender: sender})

	e, _, _ := q.Read("1")
	if sum.Deferred != ReasonInDoubt || e.State != InDoubt {
		t.Errorf("after a dropped connection: summary %+v, state %s, want in doubt", sum, e.State)
	}
	_, ev := flushWith(t, q, FlushOptions{Sender: sender})
	if diff := cmp.Diff([]EventKind{EventResending, EventSent}, ev.kinds()); diff != "" {
		t.Errorf("next flush events (-want +got):\n%s", diff)
	}
}

func TestLockContention(t *testing.T) {
	q, _ := newTestQueue(t)
	l, err := q.Lock(context.Background(), time.Second)
	if err != nil {
		t.Fatal(err)
	}

	if _, err := q.Lock(context.Background(), 50*time.Millisecond); !errors.Is(err, ErrBusy) {
		t.Errorf("second Lock() = %v, want ErrBusy", err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	l2, err := q.Lock(context.Background(), 50*time.Millisecond)
	if err != nil {
		t.Fatalf("Lock() after Unlock = %v", err)
	}
	l2.Unlock()
}

func TestClassifyFailure(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want Reason
	}{
		{"refused connection", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, ReasonOffline},
		{"unknown host", &net.DNSError{Err: "no such host", Name: "gmail.googleapis.com"}, ReasonOffline},
		{"503", apiError(503, "Backend Error"), ReasonTemporary},
		{"429 sending limit", apiError(429, "User-rate limit exceeded (Mail sending)"), ReasonTemporary},
		{"400", apiError(400, "Invalid To header"), ReasonRejected},
		{"401", apiError(401, "Invalid Credentials"), ReasonAuth},
		{"403 scope", apiError(403, "Request had insufficient authentication scopes."), ReasonAuth},
		{"revoked grant", sysexits.Wrap(sysexits.NoPerm, errors.New("invalid_grant")), ReasonAuth},
		{"keyring timeout", sysexits.Wrap(sysexits.TempFail, errors.New("keyring did not answer")), ReasonLocal},
		{"no keyring", sysexits.Wrap(sysexits.Unavailable, errors.New("no D-Bus")), ReasonLocal},
		{"connection dropped", io.ErrUnexpectedEOF, ReasonInDoubt},
		{"interrupted", context.Canceled, ReasonInDoubt},
		{"response timeout", context.DeadlineExceeded, ReasonInDoubt},
	}
	for _, tt := range tests {
		if got := classifyFailure(tt.err); got != tt.want {
			t.Errorf("classifyFailure(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

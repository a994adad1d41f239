package outbox

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/api/gmail/v1"
	"google.golang.org/api/googleapi"
)

// fakeClock is a settable clock.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

var start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// newTestQueue opens a queue in a temporary state directory with a fake
// clock.
func newTestQueue(t *testing.T) (*Queue, *fakeClock) {
	t.Helper()
	q, err := Open(filepath.Join(t.TempDir(), "state"), "personal", Policy{})
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: start}
	q.now = clock.now
	return q, clock
}

func message(n int) []byte {
	return fmt.Appendf(nil, "Message-ID: <m%d@example.org>\r\nTo: bob@example.org\r\nSubject: note %d\r\n\r\nbody %d\r\n", n, n, n)
}

func addMessage(t *testing.T, q *Queue, n int) *Entry {
	t.Helper()
	e, err := q.Add(message(n), Meta{MessageID: fmt.Sprintf("m%d@example.org", n), Recipients: []string{"bob@example.org"}, Subject: fmt.Sprint("note ", n)})
	if err != nil {
		t.Fatalf("Add(message %d) = %v", n, err)
	}
	return e
}

func lock(t *testing.T, q *Queue) *Locked {
	t.Helper()
	l, err := q.Lock(context.Background(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Unlock() })
	return l
}

// fakeSender records the messages it is given and returns the errors of results,
// in order; once they run out it accepts everything.
type fakeSender struct {
	mu      sync.Mutex
	sent    []string // Subject of each message, in order
	threads []string // requested thread of each
	results []error
	next    int
}

func (s *fakeSender) Send(_ context.Context, raw []byte, threadID string) (*gmail.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	if len(s.results) > 0 {
		err, s.results = s.results[0], s.results[1:]
	}
	subject := ""
	for _, line := range strings.Split(string(raw), "\r\n") {
		if v, ok := strings.CutPrefix(line, "Subject: "); ok {
			subject = v
		}
	}
	s.threads = append(s.threads, threadID)
	if err != nil {
		return nil, err
	}
	s.sent = append(s.sent, subject)
	s.next++
	thread := threadID
	if thread == "" {
		thread = fmt.Sprintf("t%d", s.next)
	}
	return &gmail.Message{Id: fmt.Sprintf("g%d", s.next), ThreadId: thread}, nil
}

// fakeFinder finds the Message-IDs in threads; err makes every search fail.
type fakeFinder struct {
	threads map[string]string
	err     error
	calls   int
}

func (f *fakeFinder) FindThread(_ context.Context, msgID string) (string, error) {
	f.calls++
	if f.err != nil {
		return "", f.err
	}
	return f.threads[msgID], nil
}

// events collects flush events.
type events []Event

func (ev *events) add(e Event) { *ev = append(*ev, e) }

func (ev events) kinds() []EventKind {
	out := make([]EventKind, len(ev))
	for i, e := range ev {
		out[i] = e.Kind
	}
	return out
}

func apiError(code int, message string) error {
	return fmt.Errorf("sending message: %w", &googleapi.Error{Code: code, Message: message, Header: http.Header{}})
}

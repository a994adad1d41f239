package historysync

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gmsync/gmsync/e2e/emulator"
	"github.com/gmsync/gmsync/gmailapi"
	"github.com/gmsync/gmsync/maildir"
)

const testUser = "alice@example.com"

// harness is an emulator with a mailbox, a client holding a gmail.readonly
// token obtained through the emulator's real OAuth flow, and an engine
// writing into a temporary Maildir.
type harness struct {
	srv      *emulator.Server
	base     string
	root     string
	stateDir string
	ts       oauth2.TokenSource
}

func newHarness(tb testing.TB, messages int) *harness {
	tb.Helper()
	srv := emulator.New(emulator.Options{Users: []string{testUser}})
	base, err := srv.Start("127.0.0.1:0")
	if err != nil {
		tb.Fatalf("starting emulator: %v", err)
	}
	tb.Cleanup(func() { srv.Close() })

	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for i := range messages {
		raw := fmt.Appendf(nil, "From: sender%d@example.org\r\nTo: %s\r\nSubject: message %d\r\nMessage-ID: <m%d@example.org>\r\n\r\nBody of message %d.\r\n", i, testUser, i, i, i)
		labels := []string{"INBOX"}
		switch i % 4 {
		case 1:
			labels = []string{"INBOX", "UNREAD", "Work/Projects"}
		case 2:
			labels = []string{"STARRED", "Work"}
		case 3:
			labels = []string{"SENT"}
		}
		if _, _, err := srv.AddMessage(testUser, raw, labels, start.Add(time.Duration(i)*time.Minute)); err != nil {
			tb.Fatalf("adding message %d: %v", i, err)
		}
	}

	dir := tb.TempDir()
	h := &harness{srv: srv, base: base, root: filepath.Join(dir, "Mail"), stateDir: filepath.Join(dir, "state")}
	if err := os.MkdirAll(h.stateDir, 0o700); err != nil {
		tb.Fatal(err)
	}
	h.ts = readonlyToken(tb, base)
	return h
}

// readonlyToken runs the authorization code flow with PKCE against the
// emulator, as `gmsync auth login` does, and returns the token source.
func readonlyToken(tb testing.TB, base string) oauth2.TokenSource {
	tb.Helper()
	cfg := &oauth2.Config{
		ClientID:     emulator.DefaultClientID,
		ClientSecret: emulator.DefaultClientSecret,
		Endpoint:     oauth2.Endpoint{AuthURL: base + "o/oauth2/auth", TokenURL: base + "token", AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL:  "http://127.0.0.1:1/",
		Scopes:       []string{"https://www.googleapis.com/auth/gmail.readonly"},
	}
	verifier := oauth2.GenerateVerifier()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(cfg.AuthCodeURL("state", oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		tb.Fatalf("authorizing: %v", err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		tb.Fatalf("authorize redirect %q carries no code", resp.Header.Get("Location"))
	}
	ctx := context.Background()
	tok, err := cfg.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		tb.Fatalf("exchanging the code: %v", err)
	}
	return cfg.TokenSource(ctx, tok)
}

// engine returns a fresh engine over the harness's Maildir and state; the
// caller closes the state.
func (h *harness) engine(tb testing.TB) *Engine {
	tb.Helper()
	svc, err := gmailapi.NewService(context.Background(), h.base, h.ts)
	if err != nil {
		tb.Fatal(err)
	}
	store, err := maildir.Open(h.root)
	if err != nil {
		tb.Fatal(err)
	}
	state, err := OpenState(h.stateDir)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { state.Close() })
	return &Engine{
		Client:   gmailapi.NewClient(svc, gmailapi.NewMeter(gmailapi.Regime2024, 1_000_000), nil),
		Store:    store,
		State:    state,
		StateDir: h.stateDir,
		Workers:  8,
	}
}

func TestRunFullSyncThenNothing(t *testing.T) {
	h := newHarness(t, 40)
	first := h.engine(t)
	sum, err := first.Run(context.Background())
	if err != nil {
		t.Fatalf("first Run() = %v", err)
	}
	if sum.New != 40 || sum.Present != 0 {
		t.Errorf("first Run() = %d new, %d present, want 40 new, 0 present", sum.New, sum.Present)
	}
	if gets := sum.Usage.Calls["messages.get"]; gets != 40 {
		t.Errorf("first Run() made %d messages.get calls, want 40", gets)
	}
	if sum.HistoryTo == 0 {
		t.Error("first Run() stored historyId 0, want the profile's")
	}
	first.State.Close()

	second := h.engine(t)
	sum, err = second.Run(context.Background())
	if err != nil {
		t.Fatalf("second Run() = %v", err)
	}
	if sum.Mode != "incremental" || sum.New != 0 {
		t.Errorf("second Run() = %s with %d new, want incremental with 0 new", sum.Mode, sum.New)
	}
	if calls := sum.Usage.Calls; len(calls) != 1 || calls["history.list"] != 1 {
		t.Errorf("second Run() made calls %v, want exactly one history.list", calls)
	}
	count, err := second.State.Count()
	if err != nil || count != 40 {
		t.Errorf("State.Count() = %d, %v, want 40", count, err)
	}
}

func TestRunResumesAfterInterruption(t *testing.T) {
	h := newHarness(t, 200)
	first := h.engine(t)
	ctx, cancel := context.WithCancel(context.Background())
	first.Progress = func(done, _ int) {
		if done == 100 {
			cancel()
		}
	}
	if _, err := first.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted Run() = %v, want context.Canceled", err)
	}
	stored, _ := first.State.Count()
	if stored < 64 || stored >= 200 {
		t.Fatalf("after the interruption the state holds %d messages, want at least one committed batch and not all", stored)
	}
	if id, _ := first.State.HistoryID(); id != 0 {
		t.Errorf("interrupted Run() stored historyId %d, want none before the sync completes", id)
	}
	first.State.Close()

	second := h.engine(t)
	sum, err := second.Run(context.Background())
	if err != nil {
		t.Fatalf("resumed Run() = %v", err)
	}
	if sum.Present != stored || sum.New != 200-stored {
		t.Errorf("resumed Run() = %d new, %d present, want %d new, %d present", sum.New, sum.Present, 200-stored, stored)
	}
	// Messages delivered but not yet committed when the run stopped are
	// fetched again, and delivery finds their files: no duplicates.
	files := 0
	filepath.WalkDir(filepath.Join(h.root, "All Mail"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files++
		}
		return nil
	})
	if files != 200 {
		t.Errorf("All Mail holds %d files after the resumed sync, want 200", files)
	}
}

// BenchmarkFullSync measures a first sync of 500 messages from the
// emulator on loopback, with the quota limiter set out of the way: the
// cost of gmsync itself (HTTP, decoding, fsync'd delivery, state commits).
func BenchmarkFullSync(b *testing.B) {
	const messages = 500
	h := newHarness(b, messages)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		h.root = filepath.Join(b.TempDir(), "Mail")
		h.stateDir = b.TempDir()
		e := h.engine(b)
		b.StartTimer()
		sum, err := e.Run(context.Background())
		if err != nil || sum.New != messages {
			b.Fatalf("Run() = %v, %v", sum, err)
		}
		b.StopTimer()
		b.ReportMetric(float64(sum.Usage.TotalUnits())/messages, "units/msg")
		e.State.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(messages*b.N)/b.Elapsed().Seconds(), "msgs/s")
}

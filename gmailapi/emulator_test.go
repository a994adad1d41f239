package gmailapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gmsync/gmsync/e2e/emulator"
)

const emulatorUser = "alice@example.com"

// startEmulator starts an in-process emulator configured by opts with
// messages messages in the test user's INBOX and returns it, the ids of
// the messages and a client holding a gmail.readonly token.
func startEmulator(tb testing.TB, opts emulator.Options, messages int, meter MeterOptions) (*emulator.Server, []string, *Client) {
	tb.Helper()
	opts.Users = []string{emulatorUser}
	srv := emulator.New(opts)
	base, err := srv.Start("127.0.0.1:0")
	if err != nil {
		tb.Fatalf("starting emulator: %v", err)
	}
	tb.Cleanup(func() { srv.Close() })

	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	ids := make([]string, 0, messages)
	for i := range messages {
		raw := fmt.Appendf(nil, "From: sender%d@example.org\r\nTo: %s\r\nSubject: message %d\r\nMessage-ID: <m%d@example.org>\r\n\r\nBody %d.\r\n",
			i, emulatorUser, i, i, i)
		id, _, err := srv.AddMessage(emulatorUser, raw, []string{"INBOX"}, start.Add(time.Duration(i)*time.Second))
		if err != nil {
			tb.Fatalf("adding message %d: %v", i, err)
		}
		ids = append(ids, id)
	}
	return srv, ids, newTestClient(tb, base, meter, authorize(tb, base))
}

// authorize runs the authorization code flow with PKCE against the
// emulator for a gmail.readonly token.
func authorize(tb testing.TB, base string) oauth2.TokenSource {
	tb.Helper()
	cfg := &oauth2.Config{
		ClientID:     emulator.DefaultClientID,
		ClientSecret: emulator.DefaultClientSecret,
		Endpoint:     oauth2.Endpoint{AuthURL: base + "o/oauth2/auth", TokenURL: base + "token", AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL:  "http://127.0.0.1:1/",
		Scopes:       []string{readonlyScope},
	}
	verifier := oauth2.GenerateVerifier()
	noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirects.Get(cfg.AuthCodeURL("state", oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		tb.Fatalf("authorizing: %v", err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		tb.Fatalf("authorization redirect %q carries no code", resp.Header.Get("Location"))
	}
	tok, err := cfg.Exchange(context.Background(), loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		tb.Fatalf("exchanging the authorization code: %v", err)
	}
	return cfg.TokenSource(context.Background(), tok)
}

const readonlyScope = "https://www.googleapis.com/auth/gmail.readonly"

// fetchAll fetches ids and returns how many arrived and the first
// per-message error.
func fetchAll(ctx context.Context, c *Client, ids []string, workers int) (int, error) {
	got := map[string]bool{}
	var firstErr error
	err := c.FetchRaw(ctx, ids, workers, func(res FetchResult) error {
		if res.Err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("message %s: %w", res.ID, res.Err)
			}
			return nil
		}
		got[res.ID] = true
		return nil
	})
	if err != nil {
		return len(got), err
	}
	return len(got), firstErr
}

func TestEmulatorFetchConvergesUnderFaults(t *testing.T) {
	const messages = 300
	srv, ids, c := startEmulator(t, emulator.Options{
		QuotaUnitsPerMinute:  60_000,
		MaxConcurrentPerUser: 4,
		Faults:               emulator.Faults{Latency: 2 * time.Millisecond, LatencyJitter: 3 * time.Millisecond, ErrorRate: 0.05, DropRate: 0.05, Seed: 7},
	}, messages, MeterOptions{UnitsPerMinute: 60_000})

	got, err := fetchAll(testContext(t), c, ids, 8)
	if err != nil || got != messages {
		t.Fatalf("FetchRaw() fetched %d of %d messages, error %v", got, messages, err)
	}
	u := c.Meter().Usage()
	stats := srv.Stats()
	t.Logf("usage: %v; emulator: %+v", u, stats)
	// About one request in ten fails and a volley of concurrency refusals
	// comes first: retries stay well under half the messages.
	if u.Retries > messages/2 {
		t.Errorf("Usage().Retries = %d for %d messages, want at most %d", u.Retries, messages, messages/2)
	}
	if u.Calls["messages.get"] != messages+u.Retries {
		t.Errorf("Usage() counts %d gets, want %d messages plus %d retries", u.Calls["messages.get"], messages, u.Retries)
	}
	if stats.RateLimited != 0 {
		t.Errorf("emulator refused %d requests for quota, want 0 under the meter", stats.RateLimited)
	}
	if stats.ConcurrencyRejected > 40 {
		t.Errorf("emulator refused %d requests as too many concurrent, want at most 40", stats.ConcurrencyRejected)
	}
}

func TestEmulatorFetchRecoversFromQuotaLimit(t *testing.T) {
	const messages = 400
	// The emulator allows 1,000 units (200 gets) a minute. The meter is
	// configured far too high, so the fetch runs into the limit, whose retry
	// time lies a minute ahead. Lifting the quota replaces the wait for that minute.
	srv, ids, c := startEmulator(t, emulator.Options{
		QuotaUnitsPerMinute: 1000,
		RateLimitStatus:     http.StatusTooManyRequests,
		Faults:              emulator.Faults{Latency: time.Millisecond},
	}, messages, MeterOptions{UnitsPerMinute: 600_000, MinPause: 50 * time.Millisecond, MaxPause: 200 * time.Millisecond})

	ctx := testContext(t)
	go func() {
		for srv.Stats().RateLimited == 0 && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond)
		srv.SetQuota(0, "")
	}()
	got, err := fetchAll(ctx, c, ids, 8)
	if err != nil || got != messages {
		t.Fatalf("FetchRaw() fetched %d of %d messages, error %v", got, messages, err)
	}
	u := c.Meter().Usage()
	stats := srv.Stats()
	t.Logf("usage: %v; emulator: %+v", u, stats)
	if u.RateWaits == 0 || u.RateLimited != stats.RateLimited {
		t.Errorf("Usage() = %v, want pauses and the emulator's %d rate-limit answers", u, stats.RateLimited)
	}
	// Every pause holds all eight workers, so each one costs at most a
	// volley of refusals: no storm.
	if stats.RateLimited > 40 {
		t.Errorf("emulator refused %d requests for quota, want at most 40", stats.RateLimited)
	}
	if u.Units["messages.get"] != stats.Units["messages.get"] {
		t.Errorf("Usage() counts %d units, emulator charged %d", u.Units["messages.get"], stats.Units["messages.get"])
	}
	if rate := c.Meter().Rate(); rate >= 0.95*600_000 {
		t.Errorf("Rate() = %v after quota errors, want below the target", rate)
	}
}

// enforcesQuota reports whether the emulator rejects calls over
// Options.QuotaUnitsPerMinute. It calls the service directly, without the
// meter and retries.
func enforcesQuota(tb testing.TB) bool {
	tb.Helper()
	_, _, c := startEmulator(tb, emulator.Options{QuotaUnitsPerMinute: 1}, 0, MeterOptions{})
	ctx := testContext(tb)
	for range 2 {
		if _, err := c.svc.Users.GetProfile("me").Context(ctx).Do(); err != nil {
			return Classify(err) == RateLimited
		}
	}
	return false
}

// BenchmarkFetchUnderQuota fetches 5,000 messages from the emulator with
// 50 ms of latency under Gmail's 2024 quota (15,000 units/min, 5 units per
// get), whose ceiling is 50 messages/s. The meter aims at 95% of it. One
// iteration takes about 110 s: run it with -benchtime 1x.
func BenchmarkFetchUnderQuota(b *testing.B) {
	if !enforcesQuota(b) {
		b.Skip("the emulator does not enforce QuotaUnitsPerMinute: nothing to measure")
	}
	const (
		messages = 5000
		ceiling  = 15000.0 / 60 / 5 // messages per second
	)
	for b.Loop() {
		b.StopTimer()
		srv, ids, c := startEmulator(b, emulator.Options{
			QuotaRegime:         emulator.Regime2024,
			QuotaUnitsPerMinute: emulator.UnitsPerMinute2024,
			Faults:              emulator.Faults{Latency: 50 * time.Millisecond},
		}, messages, MeterOptions{Regime: Regime2024, UnitsPerMinute: Regime2024.UnitsPerMinute()})
		c.SetRetryPolicy(DefaultRetryPolicy(nil))
		b.StartTimer()

		start := time.Now()
		got, err := fetchAll(context.Background(), c, ids, 8)
		elapsed := time.Since(start)
		if err != nil || got != messages {
			b.Fatalf("FetchRaw() fetched %d of %d messages, error %v", got, messages, err)
		}
		perSecond := messages / elapsed.Seconds()
		stats := srv.Stats()
		b.ReportMetric(perSecond, "msgs/s")
		b.ReportMetric(100*perSecond/ceiling, "%ceiling")
		b.ReportMetric(float64(stats.RateLimited+stats.ConcurrencyRejected), "rate-limited")
		b.ReportMetric(float64(c.Meter().Usage().Retries), "retries")
	}
}

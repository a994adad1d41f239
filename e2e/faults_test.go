package e2e

import (
	"fmt"
	"testing"
	"time"
)

// faultQuota is the per-user limit of TestSyncConvergesUnderFaults in units
// per minute. It is a little below what the full sync spends (300 gets at 5
// units, plus listing), so the limit is hit once and the sync waits about
// one minute for the window to move on, but not two.
const faultQuota = 1400

// TestSyncConvergesUnderFaults runs a full and an incremental sync against
// an emulator that fails 10% of calls with 5xx, drops 5% of connections,
// meters a small quota and allows 4 calls at once per user. Both syncs must
// succeed and leave an exact mirror, and the calls they make must stay
// within a small multiple of the calls needed, so retries do not spin.
func TestSyncConvergesUnderFaults(t *testing.T) {
	w := newWorld(t, "alice@example.com")
	base := time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)
	const total = 300
	var ids []string
	for i := range total {
		ids = append(ids, w.addMessage(generatedMessage("faults", i), generatedLabels[i%len(generatedLabels)], base.Add(time.Duration(i)*time.Minute)))
	}
	w.login("sync")
	w.setQuota(quota{UnitsPerMinute: faultQuota, Regime: "2024", MaxConcurrent: 4, RateLimitStatus: 403})
	w.setFaults(faults{LatencyMs: 5, LatencyJitterMs: 10, ErrorRate: 0.10, DropRate: 0.05, Seed: 1})

	t.Run("full sync", func(t *testing.T) {
		w := w.forTest(t)
		started := time.Now()
		rep, delta, res := w.syncJSON()
		t.Logf("full sync under faults: %v, mode %q, new %d; emulator: %s", time.Since(started).Round(time.Millisecond), rep.Mode, rep.New, describeStats(delta))
		if !checkExactMirror(t, w.maildir, w.dump(), mirrorOptions{}) {
			t.Logf("stderr:\n%s", res.stderr)
		}
		checkFaultsMet(t, delta, total)
		if delta.RateLimited == 0 {
			t.Errorf("full sync: the emulator rejected no call for quota; the test's quota of %d units per minute is too large to test rate limiting", faultQuota)
		}
	})

	t.Run("incremental sync", func(t *testing.T) {
		w := w.forTest(t)
		const added = 30
		for i := range added {
			w.addMessage(generatedMessage("faults-new", i), generatedLabels[i%len(generatedLabels)], base.Add(time.Duration(total+i)*time.Minute))
		}
		for _, id := range ids[:10] {
			w.deleteMessage(id)
		}
		for i, id := range ids[10:40] {
			switch i % 3 {
			case 0:
				w.modify(id, []string{"STARRED", "Faults/new"}, nil)
			case 1:
				w.modify(id, []string{"UNREAD"}, []string{"INBOX"})
			default:
				w.modify(id, []string{"TRASH"}, nil)
			}
		}
		w.renameLabel(labelID(t, w.dump(), "Projects/alpha"), "Projects/renamed")

		started := time.Now()
		rep, delta, res := w.syncJSON()
		t.Logf("incremental sync under faults: %v, mode %q, new %d, changed %d, deleted %d; emulator: %s", time.Since(started).Round(time.Millisecond), rep.Mode, rep.New, rep.Changed, rep.Deleted, describeStats(delta))
		if !checkExactMirror(t, w.maildir, w.dump(), mirrorOptions{}) {
			t.Logf("stderr:\n%s", res.stderr)
		}
		if rep.Mode != "incremental" {
			t.Errorf("sync after changes under faults: mode %q, want incremental", rep.Mode)
		}
		checkFaultsMet(t, delta, added)
	})
}

// checkFaultsMet checks that a sync met injected faults and did not spin.
// Its attempts must stay under three times the calls a fault-free sync
// needs to fetch the new messages: one get each, plus a few calls for the
// profile, labels, history and list pages.
func checkFaultsMet(t *testing.T, delta apiStats, fetched int) {
	t.Helper()
	if delta.Injected5xx == 0 || delta.Dropped == 0 {
		t.Errorf("the emulator injected %d 5xx answers and dropped %d connections, want some of each", delta.Injected5xx, delta.Dropped)
	}
	minimum := fetched + 5
	if got := attempts(delta); got >= 3*minimum {
		t.Errorf("the sync made %d attempts (%s), want fewer than %d (3 times the %d calls needed)", got, describeStats(delta), 3*minimum, minimum)
	}
	if delta.gets() < fetched {
		t.Errorf("messages.get served %d times, want at least %d", delta.gets(), fetched)
	}
}

// attempts counts every request the emulator received: those it served
// and those it refused or broke. A connection dropped after the handler
// ran is counted twice, which errs on the strict side.
func attempts(s apiStats) int {
	return s.totalRequests() + s.RateLimited + s.ConcurrencyRejected + s.Injected5xx + s.Dropped
}

// describeStats returns the counters of a stats difference on one line.
func describeStats(s apiStats) string {
	return fmt.Sprintf("requests %v, rate-limited %d, concurrency-rejected %d, injected 5xx %d, dropped %d",
		s.Requests, s.RateLimited, s.ConcurrencyRejected, s.Injected5xx, s.Dropped)
}

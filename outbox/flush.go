package outbox

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/api/gmail/v1"
)

// Sender sends one prepared message; *gmailapi.Client is one. threadID
// may be empty.
type Sender interface {
	Send(ctx context.Context, raw []byte, threadID string) (*gmail.Message, error)
}

// Finder searches the account's mail by Message-ID through a grant that
// can read, with an rfc822msgid: query.
type Finder interface {
	// FindThread returns the thread id of a message whose Message-ID is
	// msgID (without angle brackets), or "" when the mailbox has none.
	FindThread(ctx context.Context, msgID string) (string, error)
}

// FlushOptions are the dependencies and switches of one flush.
type FlushOptions struct {
	Sender Sender
	// Finder checks in-doubt messages and finds threads missing from the
	// thread index. Nil means no read grant: in-doubt messages are then
	// checked against the thread index only.
	Finder Finder
	// Notify receives one event per entry outcome, in queue order; nil
	// discards them.
	Notify func(Event)
	// IgnoreSchedule sends entries whose next attempt lies in the future.
	IgnoreSchedule bool
	Logger         *slog.Logger
}

// EventKind is the kind of outcome an entry met during a flush.
type EventKind int

const (
	// EventSent: Gmail accepted the message and it left the outbox.
	EventSent EventKind = iota + 1
	// EventAlreadySent: an in-doubt message was found among the account's
	// mail (Event.Where names how) and left the outbox without a resend.
	EventAlreadySent
	// EventResending: an in-doubt message was not found and is sent
	// again. Entry.PossibleDuplicate reports whether the check was
	// incomplete.
	EventResending
	// EventDeferred: the attempt failed (Event.Reason, Event.Err) and the
	// entry stays queued until Entry.NextAttempt. The flush stops for
	// this account, so later messages keep their order.
	EventDeferred
	// EventWaiting: the first entry is not due yet, so the flush stops.
	EventWaiting
	// EventFailed: Gmail rejected the message; it moved to failed/.
	EventFailed
	// EventExpired: the message passed the maximum age; it moved to
	// failed/.
	EventExpired
)

// Event is one outcome of a flush.
type Event struct {
	Kind   EventKind
	Entry  *Entry
	Reason Reason         // for EventDeferred and EventFailed
	Err    error          // for EventDeferred and EventFailed
	Sent   *gmail.Message // for EventSent: Gmail's ids
	Where  string         // for EventAlreadySent and EventResending: what was checked
}

// Summary counts the outcomes of a flush.
type Summary struct {
	Sent, AlreadySent, Failed, Expired int
	// Remaining is the number of entries still queued afterwards.
	Remaining int
	// Deferred is the reason the flush stopped early, or 0.
	Deferred Reason
}

// orphanAge is the age at which a flush removes a message file without
// metadata, or a temporary file. Younger ones may belong to an Add in
// progress.
const orphanAge = time.Hour

// Flush sends the due entries in queue order. It stops at the first
// entry that is not due or that fails for any reason other than a
// rejection by Gmail, so later messages never overtake earlier ones. It
// returns an error only when the outbox itself cannot be read or written;
// failed sends are reported through opts.Notify and the Summary.
func (l *Locked) Flush(ctx context.Context, opts FlushOptions) (Summary, error) {
	f := &flush{Locked: l, opts: opts, finder: opts.Finder}
	if f.opts.Logger == nil {
		f.opts.Logger = slog.New(slog.DiscardHandler)
	}
	l.cleanUp(f.opts.Logger)
	entries, err := l.List()
	if err != nil && len(entries) == 0 {
		return Summary{}, err
	}
	if err != nil {
		f.opts.Logger.Error("skipping unreadable outbox entries", "account", l.account, "err", err)
	}
	for i, e := range entries {
		if ctx.Err() != nil {
			f.sum.Remaining = len(entries) - i
			break
		}
		stop, err := f.process(ctx, e)
		if err != nil {
			f.sum.Remaining = len(entries) - i
			return f.sum, err
		}
		if stop {
			f.sum.Remaining = len(entries) - i
			break
		}
	}
	return f.sum, nil
}

// flush is the state of one Flush call.
type flush struct {
	*Locked
	opts   FlushOptions
	finder Finder // set to nil after it fails, so a broken grant costs one try
	sum    Summary
}

func (f *flush) notify(ev Event) {
	if f.opts.Notify != nil {
		f.opts.Notify(ev)
	}
}

// process handles one entry and reports whether the flush stops there.
func (f *flush) process(ctx context.Context, e *Entry) (stop bool, err error) {
	now := f.now().UTC()
	switch {
	case e.State == Failed:
		// A crash interrupted moveToFailed; finish it.
		return false, f.moveToFailed(e, e.LastError)
	case now.Sub(e.Queued) > f.policy.MaxAge:
		reason := fmt.Sprintf("not sent within %v of being queued", f.policy.MaxAge)
		if e.LastError != "" {
			reason += "; last error: " + e.LastError
		}
		if err := f.moveToFailed(e, reason); err != nil {
			return false, err
		}
		f.sum.Expired++
		f.notify(Event{Kind: EventExpired, Entry: e})
		return false, nil
	}
	if e.State == Sending {
		// The process that wrote this state died or lost its connection
		// mid-request, so Gmail may have the message.
		e.State = InDoubt
		if err := f.writeMeta(f.dir, e); err != nil {
			return false, err
		}
	}
	if e.State == InDoubt {
		done, err := f.resolveInDoubt(ctx, e)
		if done || err != nil {
			return false, err
		}
	} else if !f.opts.IgnoreSchedule && e.NextAttempt.After(now) {
		f.notify(Event{Kind: EventWaiting, Entry: e})
		return true, nil
	}
	return f.attempt(ctx, e)
}

// cleanUp removes message files without metadata and temporary files
// older than orphanAge, which crashed Add calls leave behind.
func (l *Locked) cleanUp(logger *slog.Logger) {
	names, err := readNames(l.dir)
	if err != nil {
		return
	}
	hasMeta := map[uint64]bool{}
	for _, name := range names {
		if seq, ok := parseBase(name, ".json"); ok {
			hasMeta[seq] = true
		}
	}
	cutoff := l.now().Add(-orphanAge)
	for _, name := range names {
		seq, isEML := parseBase(name, ".eml")
		isTemp := len(name) > len(tempPrefix) && name[:len(tempPrefix)] == tempPrefix
		if !(isEML && !hasMeta[seq]) && !isTemp {
			continue
		}
		path := filepath.Join(l.dir, name)
		info, err := os.Stat(path)
		if err != nil || info.ModTime().After(cutoff) {
			continue
		}
		if err := os.Remove(path); err != nil {
			logger.Warn("removing a leftover outbox file failed", "path", path, "err", err)
			continue
		}
		logger.Info("removed a leftover outbox file of an interrupted gmsync send", "path", path)
	}
	l.reconcileFailed(logger)
}

// reconcileFailed removes the failed/ copy of an entry that Retry moved
// back to the queue when a crash stopped it before the removal.
func (l *Locked) reconcileFailed(logger *slog.Logger) {
	failed := filepath.Join(l.dir, failedDir)
	names, err := readNames(failed)
	if err != nil {
		return
	}
	for _, name := range names {
		seq, ok := parseBase(name, ".json")
		if !ok {
			continue
		}
		e, err := l.readMeta(l.dir, seq)
		if err != nil || e.State == Failed {
			continue
		}
		if err := removeFiles(l.fs, failed, l.jsonPath(failed, seq), l.emlPath(failed, seq)); err != nil {
			logger.Warn("removing the failed/ copy of a retried message failed", "id", e.ID, "err", err)
		}
	}
}

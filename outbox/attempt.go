package outbox

import (
	"context"
	"fmt"
	"os"

	"github.com/gmsync/gmsync/gmailapi"
	"github.com/gmsync/gmsync/threadindex"
)

// attempt sends e once and records the outcome durably.
func (f *flush) attempt(ctx context.Context, e *Entry) (stop bool, err error) {
	raw, err := os.ReadFile(f.emlPath(f.dir, e.seq))
	if err != nil {
		return false, fmt.Errorf("reading outbox message %s: %w", e.ID, err)
	}
	threadID := f.threadFor(ctx, e)

	e.State = Sending
	e.Attempts++
	if err := f.writeMeta(f.dir, e); err != nil {
		return false, err
	}
	sent, sendErr := f.opts.Sender.Send(ctx, raw, threadID)
	if threadID != "" && invalidThread(sendErr) {
		// Gmail refused the thread before sending anything, so the
		// message goes out as the start of a new thread: threading is
		// best effort and never fails a send.
		f.opts.Logger.Warn("Gmail rejected the thread; sending as a new thread", "id", e.ID, "threadId", threadID, "err", sendErr)
		sent, sendErr = f.opts.Sender.Send(ctx, raw, "")
	}
	if sendErr != nil {
		return f.failed(e, sendErr)
	}
	return false, f.succeeded(e, sent.ThreadId, Event{Kind: EventSent, Entry: e, Sent: sent})
}

// succeeded records the message's thread, then removes the entry. The
// record comes first, so a crash in between leaves an entry that the next
// flush finds in the index and drops instead of sending again.
func (f *flush) succeeded(e *Entry, threadID string, ev Event) error {
	if e.MessageID != "" && threadID != "" {
		if err := threadindex.Put(f.stateDir, map[string]string{e.MessageID: threadID}); err != nil {
			f.opts.Logger.Warn("recording the sent message's thread failed", "id", e.ID, "err", err)
		}
	}
	if err := removeFiles(f.fs, f.dir, f.jsonPath(f.dir, e.seq), f.emlPath(f.dir, e.seq)); err != nil {
		return fmt.Errorf("removing sent message %s from the outbox: %w", e.ID, err)
	}
	if ev.Kind == EventSent {
		f.sum.Sent++
	} else {
		f.sum.AlreadySent++
	}
	f.notify(ev)
	return nil
}

// failed records a failed attempt and reports whether the flush stops.
func (f *flush) failed(e *Entry, sendErr error) (stop bool, err error) {
	reason := classifyFailure(sendErr)
	now := f.now().UTC()
	e.LastError = sendErr.Error()
	e.State = Queued
	switch reason {
	case ReasonRejected:
		if err := f.moveToFailed(e, e.LastError); err != nil {
			return false, err
		}
		f.sum.Failed++
		f.notify(Event{Kind: EventFailed, Entry: e, Reason: reason, Err: sendErr})
		return false, nil
	case ReasonInDoubt:
		e.State = InDoubt
		e.NextAttempt = now
	case ReasonOffline, ReasonLocal:
		// Nothing reached Gmail, so this was no attempt.
		e.Attempts--
		e.NextAttempt = now
	case ReasonAuth:
		// A missing or revoked grant fails at the token endpoint and costs Gmail
		// nothing, so the first flush after `gmsync auth login` sends. A 403
		// reached Gmail, so it waits like a temporary error.
		e.NextAttempt = now
		if gmailapi.Classify(sendErr) != gmailapi.Auth {
			e.NextAttempt = now.Add(f.policy.backoff(e.Attempts, 0))
		}
	default:
		retryAfter, _ := gmailapi.RetryAfter(sendErr, now)
		e.NextAttempt = now.Add(f.policy.backoff(e.Attempts, retryAfter))
	}
	if err := f.writeMeta(f.dir, e); err != nil {
		return false, err
	}
	f.sum.Deferred = reason
	f.notify(Event{Kind: EventDeferred, Entry: e, Reason: reason, Err: sendErr})
	return true, nil
}

// resolveInDoubt looks for an in-doubt message among the account's mail.
// It returns done when the message was found and left the outbox.
// Otherwise the entry is sent again, and an EventResending names what was
// checked.
func (f *flush) resolveInDoubt(ctx context.Context, e *Entry) (done bool, err error) {
	where := "the thread index"
	if e.MessageID != "" {
		threadID, err := threadindex.Lookup(f.stateDir, e.MessageID)
		if err != nil {
			f.opts.Logger.Warn("reading the thread index failed", "err", err)
		}
		if threadID != "" {
			return true, f.succeeded(e, "", Event{Kind: EventAlreadySent, Entry: e, Where: where})
		}
		threadID, searched := f.search(ctx, e.MessageID)
		if threadID != "" {
			return true, f.succeeded(e, threadID, Event{Kind: EventAlreadySent, Entry: e, Where: "an rfc822msgid: search"})
		}
		if searched {
			// NOTE: Gmail is reported to replace the Message-ID of API
			// sends, and Google does not document how soon a sent message
			// becomes searchable. Either would make this check miss a sent
			// message, so EventResending still reports the resend.
			f.notify(Event{Kind: EventResending, Entry: e, Where: "the thread index and an rfc822msgid: search"})
			return false, nil
		}
		where += " only, because no rfc822msgid: search was possible"
	}
	e.PossibleDuplicate = true
	if err := f.writeMeta(f.dir, e); err != nil {
		return false, err
	}
	f.notify(Event{Kind: EventResending, Entry: e, Where: where})
	return false, nil
}

// search runs the finder for msgID. searched is false when there is no
// finder or it failed; a failed finder is not asked again in this flush.
func (f *flush) search(ctx context.Context, msgID string) (threadID string, searched bool) {
	if f.finder == nil {
		return "", false
	}
	threadID, err := f.finder.FindThread(ctx, msgID)
	if err != nil {
		f.opts.Logger.Warn("searching Gmail by Message-ID failed; not searching again in this flush", "messageId", msgID, "err", err)
		f.finder = nil
		return "", false
	}
	return threadID, true
}

// maxParentSearches bounds the searches for a reply's thread: the
// In-Reply-To message and the two newest References.
const maxParentSearches = 3

// threadFor returns the thread e joins: from the thread index, else an
// rfc822msgid: search of its parents, else the hint recorded when it was
// queued. Threading is best effort, so failures only log.
func (f *flush) threadFor(ctx context.Context, e *Entry) string {
	if len(e.Parents) == 0 {
		return e.ThreadHint
	}
	threadID, err := threadindex.Lookup(f.stateDir, e.Parents...)
	if err != nil {
		f.opts.Logger.Warn("reading the thread index failed; sending without a thread", "err", err)
	}
	if threadID != "" {
		return threadID
	}
	for _, parent := range e.Parents[:min(len(e.Parents), maxParentSearches)] {
		threadID, searched := f.search(ctx, parent)
		if !searched {
			break
		}
		if threadID != "" {
			if err := threadindex.Put(f.stateDir, map[string]string{parent: threadID}); err != nil {
				f.opts.Logger.Warn("recording a found thread failed", "err", err)
			}
			return threadID
		}
	}
	return e.ThreadHint
}

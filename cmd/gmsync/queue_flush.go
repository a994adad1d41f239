package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"google.golang.org/api/gmail/v1"

	"github.com/gmsync/gmsync/auth"
	"github.com/gmsync/gmsync/config"
	"github.com/gmsync/gmsync/gmailapi"
	"github.com/gmsync/gmsync/internal/sysexits"
	"github.com/gmsync/gmsync/outbox"
)

// sendLockWait bounds how long `gmsync send` waits for another process's
// flush of the same outbox before it leaves its message queued.
const sendLockWait = 10 * time.Second

// flushLockWait bounds how long `gmsync queue flush` and the commands
// that change entries wait for another flush.
const flushLockWait = 30 * time.Second

// keyringWait bounds the wait for the send grant's access token, so a
// keyring that waits for an unlock prompt leaves the message queued
// instead of holding the mail client.
const keyringWait = 5 * time.Second

// openOutbox opens the outbox of acct in its state directory.
func openOutbox(acct *config.Account) (*outbox.Queue, error) {
	stateDir, err := config.StateDir(acct.Name)
	if err != nil {
		return nil, sysexits.Wrap(sysexits.IOErr, err)
	}
	q, err := outbox.Open(stateDir, acct.Name, outbox.Policy{MaxAge: acct.OutboxMaxAge.Duration})
	if err != nil {
		return nil, sysexits.Wrap(sysexits.IOErr, err)
	}
	return q, nil
}

// flushRequest holds the switches of one flushOutbox call.
type flushRequest struct {
	// own is the ID of the message `gmsync send` just queued, or "". With
	// it, the caller reports own's rejection and the deferral that stopped
	// the flush in one line of its own.
	own            string
	verbose        bool // print own's Gmail ids (send -v), or every sent message
	ignoreSchedule bool // queue flush --now
}

// flushResult is the outcome of one flushOutbox call.
type flushResult struct {
	sum outbox.Summary
	// own is the outcome of req.own, nil when the flush did not reach it.
	own *outbox.Event
	// stop is the EventDeferred or EventWaiting that ended the flush early.
	stop *outbox.Event
}

// flushOutbox flushes the locked outbox of acct and prints a notice for
// each event that needs one.
func (a *app) flushOutbox(ctx context.Context, acct *config.Account, l *outbox.Locked, req flushRequest, logger *slog.Logger) (flushResult, error) {
	var res flushResult
	sender, err := a.sendClient(ctx, acct, logger)
	if err != nil {
		return a.deferOwn(acct, l, req, err)
	}
	opts := outbox.FlushOptions{
		Sender:         sender,
		Finder:         a.searchFinder(ctx, acct, logger),
		Logger:         logger,
		IgnoreSchedule: req.ignoreSchedule,
		Notify: func(ev outbox.Event) {
			isOwn := req.own != "" && ev.Entry.ID == req.own
			if isOwn && ev.Kind != outbox.EventResending {
				res.own = &ev
			}
			if ev.Kind == outbox.EventDeferred || ev.Kind == outbox.EventWaiting {
				res.stop = &ev
			}
			callerReports := req.own != "" && (ev.Kind == outbox.EventDeferred || ev.Kind == outbox.EventWaiting || (isOwn && ev.Kind == outbox.EventFailed))
			if !callerReports {
				a.printEvent(acct, ev, req.verbose && (isOwn || req.own == ""))
			}
		},
	}
	res.sum, err = l.Flush(ctx, opts)
	if err != nil {
		return res, sysexits.Wrap(sysexits.IOErr, err)
	}
	return res, nil
}

// deferOwn handles a Gmail client that could not be built (a keyring that
// timed out, an unusable OAuth client): the outbox stays as it is.
// With an own entry the failure becomes the deferral that stopped the
// flush, because the message is safe; otherwise it is the error.
func (a *app) deferOwn(acct *config.Account, l *outbox.Locked, req flushRequest, err error) (flushResult, error) {
	if req.own == "" {
		return flushResult{}, fmt.Errorf("account %s: %w", acct.Name, err)
	}
	e, _, readErr := l.Read(req.own)
	if readErr != nil {
		return flushResult{}, err
	}
	ev := outbox.Event{Kind: outbox.EventDeferred, Entry: e, Reason: outbox.ReasonLocal, Err: err}
	return flushResult{sum: outbox.Summary{Deferred: ev.Reason}, own: &ev, stop: &ev}, nil
}

// sendClient builds the Gmail client of acct's send grant and fetches the
// access token first under keyringWait, so that a keyring that does not
// respond cannot hold the caller.
func (a *app) sendClient(ctx context.Context, acct *config.Account, logger *slog.Logger) (*gmailapi.Client, error) {
	return a.gmailClient(ctx, acct, auth.Send, clientOptions{tokenWait: keyringWait}, logger)
}

// warmToken fetches a token from ts within wait. It returns an error only
// when the wait runs out: any other failure repeats on the first request,
// where the flush classifies it. The abandoned fetch ends with the process.
func warmToken(ts *auth.Source, wait time.Duration) error {
	done := make(chan struct{})
	go func() {
		_, _ = ts.Token()
		close(done)
	}()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-done:
		return nil
	case <-timer.C:
		return sysexits.Wrap(sysexits.TempFail, fmt.Errorf("the keyring did not return the send grant within %v, perhaps because an unlock prompt waits on the desktop", wait))
	}
}

// searchFinder returns a Finder that searches with acct's sync grant. An
// account without one fails at the first search, which the flush then
// stops using.
func (a *app) searchFinder(ctx context.Context, acct *config.Account, logger *slog.Logger) outbox.Finder {
	client, err := a.gmailClient(ctx, acct, auth.Sync, clientOptions{}, logger)
	if err != nil {
		logger.Debug("no rfc822msgid: search for the outbox", "account", acct.Name, "err", err)
		return nil
	}
	// One quick retry: a search only helps the send, so it must not hold it.
	client.SetRetryPolicy(gmailapi.RetryPolicy{MaxAttempts: 2, MaxRateWaits: 1, BaseDelay: 500 * time.Millisecond, MaxDelay: 2 * time.Second, Logger: logger})
	return &messageIDFinder{client: client}
}

// messageIDFinder finds a message by Message-ID with an rfc822msgid:
// search, which needs gmail.readonly or broader: the send grant cannot.
type messageIDFinder struct {
	client *gmailapi.Client
}

func (f *messageIDFinder) FindThread(ctx context.Context, msgID string) (string, error) {
	threadID := ""
	q := gmailapi.ListQuery{Query: "rfc822msgid:" + msgID, IncludeSpamTrash: true}
	err := f.client.ListIDs(ctx, q, func(page []*gmail.Message) error {
		if threadID == "" && len(page) > 0 {
			threadID = page[0].ThreadId
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("searching for Message-ID %s: %w", msgID, err)
	}
	return threadID, nil
}

// printEvent writes the notice of one flush event on standard error:
// every event that needs the user's attention gets one line, and a sent
// message gets one only under -v or when it may be a duplicate.
func (a *app) printEvent(acct *config.Account, ev outbox.Event, verbose bool) {
	e := ev.Entry
	what := fmt.Sprintf("account %s: message %s (outbox ID %s)", acct.Name, e.MessageID, e.ID)
	switch ev.Kind {
	case outbox.EventSent:
		if e.PossibleDuplicate {
			fmt.Fprintf(a.io.Err, "gmsync: %s: sent again after an interrupted attempt that could not be checked: possible duplicate, the recipients may get it twice\n", what)
		}
		if verbose {
			fmt.Fprintf(a.io.Err, "gmsync: sent message %s in thread %s to %s\n", ev.Sent.Id, ev.Sent.ThreadId, strings.Join(e.Recipients, ", "))
		}
	case outbox.EventAlreadySent:
		fmt.Fprintf(a.io.Err, "gmsync: %s: an interrupted attempt had sent it (found in %s): removed from the outbox, not sent again\n", what, ev.Where)
	case outbox.EventResending:
		if e.PossibleDuplicate {
			fmt.Fprintf(a.io.Err, "gmsync: %s: an interrupted attempt may have sent it, and only %s could be checked: sending it again, possible duplicate\n", what, ev.Where)
		} else {
			fmt.Fprintf(a.io.Err, "gmsync: %s: an interrupted attempt did not reach %s: sending it again\n", what, ev.Where)
		}
	case outbox.EventDeferred:
		fmt.Fprintf(a.io.Err, "gmsync: %s: queued, not sent: %s\n", what, deferralText(acct, ev))
	case outbox.EventWaiting:
		if verbose {
			fmt.Fprintf(a.io.Err, "gmsync: %s waits for its next attempt at %s\n", what, e.NextAttempt.Local().Format(time.DateTime))
		}
	case outbox.EventFailed:
		fmt.Fprintf(a.io.Err, "gmsync: %s: Gmail rejected it: %s; moved to the failed/ folder of the outbox: correct it and send it again, then run gmsync queue drop %s --yes --account %s\n", what, gmailapi.OneLine(ev.Err), e.ID, acct.Name)
	case outbox.EventExpired:
		fmt.Fprintf(a.io.Err, "gmsync: %s: %s; moved to the failed/ folder of the outbox: gmsync queue retry %s --account %s tries again\n", what, e.LastError, e.ID, acct.Name)
	}
}

// deferralText explains why a message stays queued and when it goes next.
func deferralText(acct *config.Account, ev outbox.Event) string {
	next := ev.Entry.NextAttempt.Local().Format(time.DateTime)
	switch ev.Reason {
	case outbox.ReasonOffline:
		return fmt.Sprintf("Gmail is unreachable (%s); the next gmsync queue flush sends it", gmailapi.OneLine(ev.Err))
	case outbox.ReasonTemporary:
		return fmt.Sprintf("Gmail returned a temporary error (%s); gmsync queue flush sends it from %s", gmailapi.OneLine(ev.Err), next)
	case outbox.ReasonInDoubt:
		return fmt.Sprintf("the connection broke after the message was written, so Gmail may have it (%s); the next gmsync queue flush checks before it sends again", gmailapi.OneLine(ev.Err))
	case outbox.ReasonAuth:
		if sysexits.Code(ev.Err) == sysexits.NoPerm {
			// The auth package's message already names the login command.
			return fmt.Sprintf("%v; the next gmsync queue flush after that sends it", ev.Err)
		}
		return fmt.Sprintf("Gmail refused the send grant (%s): run gmsync auth login --account %s --for send; the next gmsync queue flush after that sends it", gmailapi.OneLine(ev.Err), acct.Name)
	}
	return fmt.Sprintf("%s; the next gmsync queue flush tries again", gmailapi.OneLine(ev.Err))
}

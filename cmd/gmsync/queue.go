package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gmsync/gmsync/config"
	"github.com/gmsync/gmsync/internal/sysexits"
	"github.com/gmsync/gmsync/outbox"
)

const queueHelp = `Show and manage the outbox: the messages gmsync send accepted but has not
sent yet, because Gmail was unreachable, returned a temporary error, or
the send grant needs a new login. They are sent in the order they were
queued, per account; the timer runs gmsync queue flush. Messages Gmail
rejects, and messages not sent within outbox_max_age (default 120h), move to
the outbox's failed/ folder.

The outbox of account NAME is $XDG_STATE_HOME/gmsync/NAME/outbox/.
`

const queueExitHelp = `Exit codes (sysexits.h):
  0   success; for flush: every due message was sent, or nothing was due
  64  usage error (unknown option, missing ID or --yes)
  65  flush: Gmail rejected a message, which moved to failed/
  74  I/O error on the outbox
  75  flush: messages stay queued after a temporary failure, or another
      gmsync holds the outbox lock (drop, retry)
  77  flush: the send grant is missing or was refused
  78  configuration missing or invalid, or no such account
`

// queueOptions are the flags of the queue commands.
type queueOptions struct {
	account string
	all     bool
	now     bool // flush: also send messages whose next attempt lies ahead
	yes     bool // drop: confirmation
	verbose bool
}

func newQueueCmd(a *app) *cobra.Command {
	opts := &queueOptions{}
	cmd := &cobra.Command{
		Use:   "queue",
		Short: "List, flush, drop or retry messages of the outbox",
		Long:  queueHelp,
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.PersistentFlags().StringVar(&opts.account, "account", "", "work on the account `NAME` only")
	cmd.PersistentFlags().BoolVar(&opts.all, "all", false, "work on every account (the default of list and flush)")
	cmd.SetUsageTemplate(cmd.UsageTemplate() + "\n" + queueExitHelp)

	list := &cobra.Command{
		Use:   "list",
		Short: "List queued and failed messages: ID, age, state, attempts, next attempt, recipients, subject, last error",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return a.runQueueList(opts) },
	}
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Print one message's metadata and then the message itself",
		Args:  cobra.ExactArgs(1),
		RunE:  func(cmd *cobra.Command, args []string) error { return a.runQueueShow(opts, args[0]) },
	}
	flush := &cobra.Command{
		Use:   "flush",
		Short: "Send the due messages in order; quiet but for one summary line",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return a.runQueueFlush(cmd.Context(), opts) },
	}
	flush.Flags().BoolVar(&opts.now, "now", false, "also send messages whose next attempt is still ahead")
	flush.Flags().BoolVarP(&opts.verbose, "verbose", "v", false, "print each message sent and each request")
	drop := &cobra.Command{
		Use:   "drop ID --yes",
		Short: "Delete a queued or failed message unsent",
		Args:  cobra.ExactArgs(1),
		RunE:  func(cmd *cobra.Command, args []string) error { return a.runQueueDrop(cmd.Context(), opts, args[0]) },
	}
	drop.Flags().BoolVar(&opts.yes, "yes", false, "confirm the deletion")
	retry := &cobra.Command{
		Use:   "retry ID",
		Short: "Make a waiting message due now, or move a failed one back to the queue",
		Args:  cobra.ExactArgs(1),
		RunE:  func(cmd *cobra.Command, args []string) error { return a.runQueueRetry(cmd.Context(), opts, args[0]) },
	}
	for _, sub := range []*cobra.Command{list, show, flush, drop, retry} {
		sub.SetUsageTemplate(sub.UsageTemplate() + "\n" + queueExitHelp)
	}
	cmd.AddCommand(list, show, flush, drop, retry)
	return cmd
}

// queueAccounts returns the accounts a queue command works on: the one
// named by --account, every one with --all or when all is the default,
// else the default account.
func (a *app) queueAccounts(opts *queueOptions, allByDefault bool) ([]*config.Account, error) {
	if opts.account != "" && opts.all {
		return nil, &flagError{errors.New("--account and --all exclude each other")}
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	if opts.all || (allByDefault && opts.account == "") {
		return cfg.SortedAccounts(), nil
	}
	acct, err := cfg.Account(opts.account)
	if err != nil {
		return nil, sysexits.Wrap(sysexits.Config, err)
	}
	return []*config.Account{acct}, nil
}

// oneAccount is queueAccounts for the commands that take an ID.
func (a *app) oneAccount(opts *queueOptions) (*config.Account, *outbox.Queue, error) {
	if opts.all {
		return nil, nil, &flagError{errors.New("--all does not fit a command that takes an ID: use --account")}
	}
	accounts, err := a.queueAccounts(opts, false)
	if err != nil {
		return nil, nil, err
	}
	q, err := openOutbox(accounts[0])
	if err != nil {
		return nil, nil, err
	}
	return accounts[0], q, nil
}

func (a *app) runQueueList(opts *queueOptions) error {
	accounts, err := a.queueAccounts(opts, true)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.io.Out, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tID\tAGE\tSTATE\tATTEMPTS\tNEXT ATTEMPT\tRECIPIENTS\tSUBJECT\tLAST ERROR")
	now := time.Now()
	var errs []error
	for _, acct := range accounts {
		q, err := openOutbox(acct)
		if err != nil {
			return err
		}
		queued, err := q.List()
		errs = append(errs, err)
		failed, err := q.ListFailed()
		errs = append(errs, err)
		for _, e := range append(queued, failed...) {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", acct.Name, e.ID, age(now.Sub(e.Queued)), stateText(e),
				e.Attempts, nextText(e, now), shorten(strings.Join(e.Recipients, ","), 40), shorten(e.Subject, 40), shorten(e.LastError, 60))
		}
	}
	if err := tw.Flush(); err != nil {
		return sysexits.Wrap(sysexits.IOErr, err)
	}
	if err := errors.Join(errs...); err != nil {
		return sysexits.Wrap(sysexits.IOErr, err)
	}
	return nil
}

// stateText is an entry's state for list and show, marked when a resend
// may have duplicated it.
func stateText(e *outbox.Entry) string {
	if e.PossibleDuplicate {
		return string(e.State) + " (possible duplicate)"
	}
	return string(e.State)
}

func nextText(e *outbox.Entry, now time.Time) string {
	switch {
	case e.State == outbox.Failed:
		return "-"
	case !e.NextAttempt.After(now):
		return "now"
	}
	return e.NextAttempt.Local().Format(time.DateTime)
}

// age renders d coarsely: 45s, 12m, 5h, 3d.
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// shorten cuts s to n runes with an ellipsis and puts line breaks and tabs
// on one line, so one entry stays one row.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "-"
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func (a *app) runQueueShow(opts *queueOptions, id string) error {
	acct, q, err := a.oneAccount(opts)
	if err != nil {
		return err
	}
	e, raw, err := q.Read(id)
	if errors.Is(err, outbox.ErrNotFound) {
		return sysexits.Wrap(sysexits.Usage, fmt.Errorf("%w: gmsync queue list shows the IDs", err))
	}
	if err != nil {
		return sysexits.Wrap(sysexits.IOErr, err)
	}
	w := a.io.Out
	fmt.Fprintf(w, "Account: %s\nID: %s\nState: %s\nMessage-ID: %s\nRecipients: %s\nSubject: %s\n", acct.Name, e.ID, stateText(e), e.MessageID, strings.Join(e.Recipients, ", "), e.Subject)
	fmt.Fprintf(w, "Queued: %s\nAttempts: %d\nNext attempt: %s\nSize: %d bytes\nLast error: %s\n\n", e.Queued.Local().Format(time.DateTime), e.Attempts, nextText(e, time.Now()), e.Size, e.LastError)
	_, err = w.Write(raw)
	return err
}

func (a *app) runQueueFlush(ctx context.Context, opts *queueOptions) error {
	accounts, err := a.queueAccounts(opts, true)
	if err != nil {
		return err
	}
	logger := a.logger(opts.verbose)
	var worst error
	for _, acct := range accounts {
		if err := a.flushAccount(ctx, acct, opts, logger); err != nil {
			fmt.Fprintf(a.io.Err, "gmsync: %v\n", err)
			worst = worseExit(worst, err)
		}
	}
	if worst != nil {
		// Each account's error is printed already; this only sets the code.
		return sysexits.Wrap(sysexits.Code(worst), errReported)
	}
	return nil
}

// errReported stands for errors already printed, for the exit code.
var errReported = errors.New("see the messages above")

// worseExit keeps the error whose exit code matters most: a rejected
// message first, then auth, then anything else.
func worseExit(current, next error) error {
	rank := map[int]int{sysexits.DataErr: 3, sysexits.NoPerm: 2}
	if current == nil || rank[sysexits.Code(next)] > rank[sysexits.Code(current)] {
		return next
	}
	return current
}

// flushAccount flushes one account's outbox and prints its summary line.
func (a *app) flushAccount(ctx context.Context, acct *config.Account, opts *queueOptions, logger *slog.Logger) error {
	q, err := openOutbox(acct)
	if err != nil {
		return err
	}
	entries, err := q.List()
	if err == nil && len(entries) == 0 {
		return nil
	}
	l, err := q.Lock(ctx, flushLockWait)
	if errors.Is(err, outbox.ErrBusy) {
		// The other process sends the queue; this run has nothing to add.
		logger.Info("outbox busy, not flushed", "account", acct.Name, "err", err)
		return nil
	}
	if err != nil {
		return sysexits.Wrap(sysexits.IOErr, err)
	}
	defer l.Unlock()
	sum, flushErr := a.runFlush(ctx, acct, l, opts, logger)
	a.printFlushSummary(acct, sum)
	return flushErr
}

// runFlush flushes one locked outbox and turns its outcome into an error
// with the exit code queue flush documents.
func (a *app) runFlush(ctx context.Context, acct *config.Account, l *outbox.Locked, opts *queueOptions, logger *slog.Logger) (outbox.Summary, error) {
	res, err := a.flushOutbox(ctx, acct, l, flushRequest{verbose: opts.verbose, ignoreSchedule: opts.now}, logger)
	sum := res.sum
	switch {
	case err != nil:
		return sum, err
	case sum.Failed > 0:
		return sum, sysexits.Wrap(sysexits.DataErr, fmt.Errorf("account %s: Gmail rejected %d messages; they are in the failed/ folder of the outbox", acct.Name, sum.Failed))
	case sum.Deferred == outbox.ReasonAuth:
		return sum, sysexits.Wrap(sysexits.NoPerm, fmt.Errorf("account %s: %d messages wait for the send grant", acct.Name, sum.Remaining))
	case sum.Deferred != 0:
		return sum, sysexits.Wrap(sysexits.TempFail, fmt.Errorf("account %s: %d messages stay queued", acct.Name, sum.Remaining))
	}
	return sum, nil
}

// printFlushSummary prints the one line a flush that changed the outbox
// leaves, so a timer's log shows each delivery without a line per message.
func (a *app) printFlushSummary(acct *config.Account, sum outbox.Summary) {
	if sum.Sent+sum.AlreadySent+sum.Failed+sum.Expired == 0 {
		return
	}
	parts := []string{fmt.Sprintf("sent %d", sum.Sent)}
	if sum.AlreadySent > 0 {
		parts = append(parts, fmt.Sprintf("%d found sent already", sum.AlreadySent))
	}
	if sum.Failed > 0 {
		parts = append(parts, fmt.Sprintf("%d rejected", sum.Failed))
	}
	if sum.Expired > 0 {
		parts = append(parts, fmt.Sprintf("%d expired", sum.Expired))
	}
	if sum.Remaining > 0 {
		parts = append(parts, fmt.Sprintf("%d still queued", sum.Remaining))
	}
	fmt.Fprintf(a.io.Err, "gmsync: account %s: outbox flushed: %s\n", acct.Name, strings.Join(parts, ", "))
}

func (a *app) runQueueDrop(ctx context.Context, opts *queueOptions, id string) error {
	if !opts.yes {
		return &flagError{fmt.Errorf("gmsync queue drop deletes message %s unsent: add --yes to confirm", id)}
	}
	acct, q, err := a.oneAccount(opts)
	if err != nil {
		return err
	}
	return a.withLock(ctx, q, func(l *outbox.Locked) error {
		e, err := l.Drop(id)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.io.Err, "gmsync: account %s: dropped message %s (outbox ID %s) unsent\n", acct.Name, e.MessageID, e.ID)
		return nil
	})
}

func (a *app) runQueueRetry(ctx context.Context, opts *queueOptions, id string) error {
	acct, q, err := a.oneAccount(opts)
	if err != nil {
		return err
	}
	return a.withLock(ctx, q, func(l *outbox.Locked) error {
		e, err := l.Retry(id)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.io.Err, "gmsync: account %s: message %s (outbox ID %s) is due now: gmsync queue flush sends it\n", acct.Name, e.MessageID, e.ID)
		return nil
	})
}

// withLock runs change with the outbox lock held and attaches exit codes.
func (a *app) withLock(ctx context.Context, q *outbox.Queue, change func(*outbox.Locked) error) error {
	l, err := q.Lock(ctx, flushLockWait)
	if errors.Is(err, outbox.ErrBusy) {
		return sysexits.Wrap(sysexits.TempFail, fmt.Errorf("%w: try again when it is done", err))
	}
	if err != nil {
		return sysexits.Wrap(sysexits.IOErr, err)
	}
	defer l.Unlock()
	err = change(l)
	switch {
	case errors.Is(err, outbox.ErrNotFound):
		return sysexits.Wrap(sysexits.Usage, fmt.Errorf("%w: gmsync queue list shows the IDs", err))
	case err != nil && sysexits.Code(err) == sysexits.Software:
		return sysexits.Wrap(sysexits.IOErr, err)
	}
	return err
}

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime"
	"net/mail"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gmsync/gmsync/config"
	"github.com/gmsync/gmsync/internal/sysexits"
	"github.com/gmsync/gmsync/outbox"
	"github.com/gmsync/gmsync/sendmail"
)

const sendHelp = `Send one RFC 5322 message, read from standard input to end of file, through
the Gmail API. It accepts the sendmail command line that mail clients pass:

  gmsync send [options] [--] [recipient ...]

  -t            also take recipients from the To, Cc and Bcc headers
  -i, -oi       accepted; input is always read to end of file, and a line
                holding only "." is message content
  -f ADDR, -r ADDR
                envelope sender; picks the account whose address or alias it is
  -F NAME       full name (accepted; Gmail sets From from the account)
  -v            print the Gmail message and thread ids
  -bm           deliver mail (the default mode)
  -odb, -odi    deliver now (the default)
  -odq          only queue the message; gmsync queue flush sends it
  -oem, -oep, -oeq, -oew, -oA..., -o...
                accepted
  -B TYPE, -N DSN, -R RET, -V ENVID
                accepted and ignored (listed under -v)
  --account NAME
                send from this account of the configuration
  --no-queue    do not keep the message when Gmail cannot take it now:
                exit 75 and leave it to the mail client
  --no-reencode keep plain-text lines over 76 characters as they are
                (also: reencode_long_lines = false in the account)
  --            ends options

Recipients given as arguments but missing from To, Cc and Bcc are added as
Bcc, because Gmail sends to the header recipients only. A Message-ID and a
Date are added where missing. Plain-text parts with lines over 76
characters are re-encoded as quoted-printable, with the same decoded text,
because Gmail is reported to re-wrap long lines of mail sent through its
API, which breaks patches. No other byte of the message changes.
Messages up to 35 MiB are accepted. Replies join their Gmail thread when the
mirror or an earlier send recorded the parent's thread, or when a sync
grant can search for it.

Every message is written to the account's outbox (fsynced) before gmsync
contacts Gmail, then sent at once, after any older queued messages. When
Gmail is unreachable, answers with a temporary error or rate limit, the
keyring does not answer, or the send grant needs a new login, the message
stays queued, a one-line notice goes to standard error, and the exit code
is 0: gmsync owns the message and gmsync queue flush sends it later. A
message Gmail rejects moves to the outbox's failed/ folder and the exit
code is 65.

A program named sendmail that links to gmsync behaves as "gmsync send".

Exit codes (sysexits.h):
  0   sent, or durably queued
  64  usage error (unknown option, no recipient)
  65  malformed message, or Gmail rejected it (a copy stays in failed/)
  74  I/O error on a local file: the message was not queued
  75  temporary failure with --no-queue: the message was not queued
  77  authorization missing or refused, with --no-queue
  78  configuration missing or invalid
`

func newSendCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:                "send [options] [--] [recipient ...]",
		Short:              "Send a message read from standard input (a sendmail replacement)",
		Long:               sendHelp,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runSend(cmd.Context(), args)
		},
	}
}

// extractConfigFlag removes gmsync's global --config option from the
// sendmail arguments, which cobra hands over unparsed, wherever it appears
// before "--".
func extractConfigFlag(args []string) (path string, rest []string, err error) {
	rest = make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case arg == "--":
			return path, append(rest, args[i:]...), nil
		case arg == "--config":
			if i+1 >= len(args) {
				return "", nil, errors.New("option --config needs a file name")
			}
			path = args[i+1]
			i++
		case strings.HasPrefix(arg, "--config="):
			path = strings.TrimPrefix(arg, "--config=")
		default:
			rest = append(rest, arg)
		}
	}
	return path, rest, nil
}

// runSend reads the whole message before it looks at the arguments, so a
// client never sees a broken pipe, whatever the outcome.
func (a *app) runSend(ctx context.Context, args []string) error {
	raw, err := io.ReadAll(a.io.In)
	if err != nil {
		return sysexits.Wrap(sysexits.IOErr, fmt.Errorf("reading the message from standard input: %w", err))
	}
	path, args, err := extractConfigFlag(args)
	if err != nil {
		return sysexits.Wrap(sysexits.Usage, err)
	}
	if path != "" {
		a.configPath = path
	}
	opts, err := sendmail.Parse(args)
	if errors.Is(err, sendmail.ErrHelp) {
		fmt.Fprint(a.io.Out, sendHelp)
		return nil
	}
	if err != nil {
		return sysexits.Wrap(sysexits.Usage, err)
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	acct, err := a.sendAccount(cfg, opts, raw)
	if err != nil {
		return err
	}
	if acct.ReencodeLongLines != nil && !*acct.ReencodeLongLines {
		opts.NoReencode = true
	}
	prepared, err := sendmail.Prepare(raw, opts, sendmail.Env{Now: time.Now(), Domain: domainOf(acct.Address), Address: acct.Address})
	if err != nil {
		return sysexits.Wrap(prepareExit(err), err)
	}
	for _, warning := range prepared.Warnings {
		fmt.Fprintf(a.io.Err, "gmsync: warning: %s\n", warning)
	}
	return a.deliver(ctx, acct, opts, prepared)
}

func (a *app) sendAccount(cfg *config.Config, opts *sendmail.Options, raw []byte) (*config.Account, error) {
	names := slices.Sorted(maps.Keys(cfg.Accounts))
	infos := make([]sendmail.AccountInfo, 0, len(names))
	for _, name := range names {
		acct := cfg.Accounts[name]
		infos = append(infos, sendmail.AccountInfo{Name: acct.Name, Address: acct.Address, Aliases: acct.Aliases, Default: acct.Default})
	}
	name, warning, err := sendmail.SelectAccount(infos, opts.Account, opts.Sender, fromHeader(raw))
	if err != nil {
		return nil, sysexits.Wrap(prepareExit(err), err)
	}
	if warning != "" {
		fmt.Fprintf(a.io.Err, "gmsync: warning: %s\n", warning)
	}
	acct, err := cfg.Account(name)
	if err != nil {
		return nil, sysexits.Wrap(sysexits.Config, err)
	}
	return acct, nil
}

// deliver puts the prepared message in the outbox, durably, and then
// (unless -odq) flushes the account's outbox so it leaves at once. Exit 0
// means gmsync owns the message: sent, or queued.
func (a *app) deliver(ctx context.Context, acct *config.Account, opts *sendmail.Options, p *sendmail.Prepared) error {
	logger := a.logger(opts.Verbose)
	for _, ignored := range opts.Ignored {
		logger.Info("ignored sendmail option", "option", ignored)
	}
	q, err := openOutbox(acct)
	if err != nil {
		return err
	}
	meta := outbox.Meta{
		Recipients: p.Recipients,
		MessageID:  p.MessageID,
		Subject:    subjectOf(p.Raw),
		Parents:    parentIDs(p),
	}
	if opts.NoQueue {
		return a.sendNoQueue(ctx, acct, q, meta, p.Raw, logger)
	}

	e, err := q.Add(p.Raw, meta)
	if err != nil {
		return sysexits.Wrap(sysexits.IOErr, fmt.Errorf("account %s: %w", acct.Name, err))
	}
	if opts.DeliveryMode == "q" {
		if opts.Verbose {
			fmt.Fprintf(a.io.Err, "gmsync: queued message %s as outbox ID %s of account %s (-odq)\n", e.MessageID, e.ID, acct.Name)
		}
		return nil
	}
	l, err := q.Lock(ctx, sendLockWait)
	if err != nil {
		fmt.Fprintf(a.io.Err, "gmsync: account %s: message %s queued as outbox ID %s, not sent now: %v; gmsync queue flush sends it\n", acct.Name, e.MessageID, e.ID, err)
		return nil
	}
	defer l.Unlock()
	res, err := a.flushOutbox(ctx, acct, l, flushRequest{own: e.ID, verbose: opts.Verbose}, logger)
	switch {
	case err != nil:
		// The message is durable in the outbox, so gmsync owns it even
		// though the flush could not finish.
		fmt.Fprintf(a.io.Err, "gmsync: account %s: message %s queued as outbox ID %s, not sent: %v\n", acct.Name, e.MessageID, e.ID, err)
	case res.own != nil && res.own.Kind == outbox.EventSent:
	case res.own != nil && res.own.Kind == outbox.EventFailed:
		return rejectedError(acct, q, e, res.own)
	default:
		fmt.Fprintf(a.io.Err, "gmsync: account %s: message %s queued as outbox ID %s, not sent: %s\n", acct.Name, e.MessageID, e.ID, stopText(acct, e, res.stop))
	}
	return nil
}

// sendNoQueue is deliver under --no-queue: the message is queued only for
// the attempt, and taken out again unless Gmail accepted or rejected it.
// The lock is taken before the message is added, so no other flush can
// send it.
func (a *app) sendNoQueue(ctx context.Context, acct *config.Account, q *outbox.Queue, meta outbox.Meta, raw []byte, logger *slog.Logger) error {
	l, err := q.Lock(ctx, sendLockWait)
	if err != nil {
		return sysexits.Wrap(sysexits.TempFail, fmt.Errorf("account %s: %w; with --no-queue the message is not queued: send it again later", acct.Name, err))
	}
	defer l.Unlock()
	e, err := q.Add(raw, meta)
	if err != nil {
		return sysexits.Wrap(sysexits.IOErr, fmt.Errorf("account %s: %w", acct.Name, err))
	}
	res, flushErr := a.flushOutbox(ctx, acct, l, flushRequest{own: e.ID}, logger)
	if res.own != nil && res.own.Kind == outbox.EventSent {
		return nil
	}
	if res.own != nil && res.own.Kind == outbox.EventFailed {
		return rejectedError(acct, q, e, res.own)
	}
	if err := l.Remove(e); err != nil {
		return sysexits.Wrap(sysexits.IOErr, err)
	}
	return noQueueError(acct, e, res.stop, flushErr)
}

// noQueueError explains why a --no-queue send did not go out.
func noQueueError(acct *config.Account, e *outbox.Entry, stop *outbox.Event, flushErr error) error {
	const tail = "with --no-queue the message is not queued: send it again later"
	switch {
	case flushErr != nil:
		return sysexits.Wrap(sysexits.TempFail, fmt.Errorf("account %s: %w; %s", acct.Name, flushErr, tail))
	case stop != nil && stop.Entry.ID == e.ID && stop.Reason == outbox.ReasonInDoubt:
		return sysexits.Wrap(sysexits.TempFail, fmt.Errorf("account %s: the connection broke after the message was written, so Gmail may have sent it (%w); check the Sent folder before sending it again", acct.Name, stop.Err))
	case stop != nil && stop.Kind == outbox.EventDeferred:
		code := sysexits.Code(stop.Err)
		if code == sysexits.Software || stop.Reason != outbox.ReasonAuth && stop.Reason != outbox.ReasonLocal {
			code = sysexits.TempFail
		}
		return sysexits.Wrap(code, fmt.Errorf("account %s: %s; %s", acct.Name, stopText(acct, e, stop), tail))
	}
	return sysexits.Wrap(sysexits.TempFail, fmt.Errorf("account %s: %s; %s", acct.Name, stopText(acct, e, stop), tail))
}

// stopText explains why the flush did not send e: its own deferral, or what
// stopped the flush at an earlier message.
func stopText(acct *config.Account, e *outbox.Entry, stop *outbox.Event) string {
	switch {
	case stop == nil:
		return "the flush stopped before it"
	case stop.Kind == outbox.EventWaiting:
		return fmt.Sprintf("earlier messages wait for their next attempt at %s; gmsync queue flush sends them in order", stop.Entry.NextAttempt.Local().Format(time.DateTime))
	case stop.Entry.ID == e.ID:
		return deferralText(acct, *stop)
	}
	return fmt.Sprintf("the earlier message %s (outbox ID %s) was not sent: %s", stop.Entry.MessageID, stop.Entry.ID, deferralText(acct, *stop))
}

// rejectedError is the exit-65 error of a message Gmail rejected.
func rejectedError(acct *config.Account, q *outbox.Queue, e *outbox.Entry, own *outbox.Event) error {
	return sysexits.Wrap(sysexits.DataErr, fmt.Errorf("account %s: Gmail rejected the message: %w; a copy is kept in %s as outbox ID %s: correct the message and send it again, then remove the copy with gmsync queue drop %s --yes --account %s",
		acct.Name, own.Err, filepath.Join(q.Dir(), "failed"), e.ID, e.ID, acct.Name))
}

// parentIDs returns the Message-IDs that select a reply's thread, the
// parent first, then References from the newest.
func parentIDs(p *sendmail.Prepared) []string {
	parents := make([]string, 0, len(p.References)+1)
	if p.InReplyTo != "" {
		parents = append(parents, p.InReplyTo)
	}
	for i := len(p.References) - 1; i >= 0; i-- {
		parents = append(parents, p.References[i])
	}
	return parents
}

// subjectOf returns the decoded Subject of raw for queue list, or "" when
// the header does not parse.
func subjectOf(raw []byte) string {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return ""
	}
	subject := m.Header.Get("Subject")
	if decoded, err := new(mime.WordDecoder).DecodeHeader(subject); err == nil {
		return decoded
	}
	return subject
}

// prepareExit returns the exit code for an error of the sendmail package.
func prepareExit(err error) int {
	var usage *sendmail.UsageError
	switch {
	case errors.As(err, &usage):
		return sysexits.Usage
	case errors.Is(err, sendmail.ErrNoAccount):
		return sysexits.Config
	default:
		return sysexits.DataErr
	}
}

// fromHeader returns the raw From field of the message, or "" when its
// header block cannot be read. Account selection then falls back to the
// default account.
func fromHeader(raw []byte) string {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return ""
	}
	return m.Header.Get("From")
}

func domainOf(address string) string {
	if i := strings.LastIndexByte(address, '@'); i >= 0 {
		return address[i+1:]
	}
	return "gmsync.invalid"
}

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/api/googleapi"

	"github.com/gmsync/gmsync/auth"
	"github.com/gmsync/gmsync/config"
	"github.com/gmsync/gmsync/internal/sysexits"
	"github.com/gmsync/gmsync/sendmail"
	"github.com/gmsync/gmsync/threadindex"
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
  -odb, -odi, -odq, -oem, -oep, -oeq, -oew, -oA..., -o...
                accepted
  -B TYPE, -N DSN, -R RET, -V ENVID
                accepted and ignored (listed under -v)
  --account NAME
                send from this account of the configuration
  --            ends options

Recipients given as arguments but missing from To, Cc and Bcc are added as
Bcc, because Gmail sends to the header recipients only. A Message-ID and a
Date are added where missing; no other byte of the message changes.
Messages up to 35 MiB are accepted. Replies join their Gmail thread when the
mirror or an earlier send recorded the parent's thread.

A program named sendmail that links to gmsync behaves as "gmsync send".

` + exitCodesHelp

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

// deliver sends the prepared message and records its Message-ID and
// thread, so a later reply joins the thread before any sync has run.
func (a *app) deliver(ctx context.Context, acct *config.Account, opts *sendmail.Options, p *sendmail.Prepared) error {
	logger := a.logger(opts.Verbose)
	for _, ignored := range opts.Ignored {
		logger.Info("ignored sendmail option", "option", ignored)
	}
	stateDir, err := config.StateDir(acct.Name)
	if err != nil {
		return sysexits.Wrap(sysexits.IOErr, err)
	}
	threadID := a.findThread(stateDir, p)

	client, err := a.gmailClient(ctx, acct, auth.Send, nil, logger)
	if err != nil {
		return err
	}
	sent, err := client.Send(ctx, p.Raw, threadID)
	if threadID != "" && isInvalidThread(err) {
		// Gmail refused the thread before sending anything, so the message
		// goes out again as the start of a new thread: threading is best
		// effort and never fails a send.
		logger.Warn("Gmail rejected the recorded thread; sending as a new thread", "threadId", threadID)
		sent, err = client.Send(ctx, p.Raw, "")
	}
	if err != nil {
		return apiExit(fmt.Errorf("account %s: %w", acct.Name, err), acct, auth.Send)
	}
	if p.MessageID != "" {
		if err := threadindex.Put(stateDir, map[string]string{p.MessageID: sent.ThreadId}); err != nil {
			logger.Warn("recording the sent message's thread failed", "err", err)
		}
	}
	if opts.Verbose {
		fmt.Fprintf(a.io.Err, "gmsync: sent message %s in thread %s to %s\n", sent.Id, sent.ThreadId, strings.Join(p.Recipients, ", "))
	}
	return nil
}

// findThread returns the Gmail thread of the message p replies to, from
// the thread index, or "" when it is unknown.
func (a *app) findThread(stateDir string, p *sendmail.Prepared) string {
	parents := make([]string, 0, len(p.References)+1)
	if p.InReplyTo != "" {
		parents = append(parents, p.InReplyTo)
	}
	for i := len(p.References) - 1; i >= 0; i-- {
		parents = append(parents, p.References[i])
	}
	if len(parents) == 0 {
		return ""
	}
	threadID, err := threadindex.Lookup(stateDir, parents...)
	if err != nil {
		fmt.Fprintf(a.io.Err, "gmsync: warning: %v; sending without a thread\n", err)
		return ""
	}
	return threadID
}

func isInvalidThread(err error) bool {
	var apiErr *googleapi.Error
	return errors.As(err, &apiErr) && apiErr.Code == 400 && strings.Contains(strings.ToLower(apiErr.Message), "thread")
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
// header block cannot be read; account selection then falls back to the
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

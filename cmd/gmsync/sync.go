package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/gmsync/gmsync/auth"
	"github.com/gmsync/gmsync/config"
	"github.com/gmsync/gmsync/gmailapi"
	"github.com/gmsync/gmsync/historysync"
	"github.com/gmsync/gmsync/internal/sysexits"
	"github.com/gmsync/gmsync/maildir"
)

type syncOptions struct {
	account string
	workers int
	verbose bool
	quiet   bool
	json    bool
	dryRun  bool
	full    bool
	force   bool
	wait    bool
}

func newSyncCmd(a *app) *cobra.Command {
	opts := &syncOptions{}
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Mirror the Gmail account into the Maildir, one folder per label",
		Long: `Mirror the Gmail account into its Maildir: one folder per label, All Mail,
each message stored once and hard-linked into each of its label folders.

The first run downloads everything, INBOX first. Later runs read the changes
since the last one from Gmail's history: a run with no changes costs one API
call, and label changes cost no download. When Gmail no longer keeps the
history (after about a week), the run reconciles label membership instead and
downloads only what is missing.

Tokens come from the account's "sync" grant (gmail.readonly). One sync per
account runs at a time: a second one exits 0 at once, or waits with --wait.
A run that would delete more than max_delete_percent of the mirror stops with
exit 65 until it is run with --force.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runSync(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.account, "account", "", "account `name` from the configuration (default: the default account)")
	f.IntVar(&opts.workers, "workers", 0, "concurrent message downloads (default: fetch_concurrency, else 8)")
	f.BoolVarP(&opts.verbose, "verbose", "v", false, "log retries and print API usage by method")
	f.BoolVarP(&opts.quiet, "quiet", "q", false, "print nothing but errors")
	f.BoolVar(&opts.json, "json", false, "print the summary as one JSON object on stdout")
	f.BoolVarP(&opts.dryRun, "dry-run", "n", false, "print what would change, write nothing")
	f.BoolVar(&opts.full, "full", false, "rebuild the sync state from the Maildir and Gmail, downloading only what is missing")
	f.BoolVar(&opts.force, "force", false, "apply deletions even beyond max_delete_percent")
	f.BoolVar(&opts.wait, "wait", false, "wait for a running sync of the account to finish instead of exiting")
	return cmd
}

func (a *app) runSync(ctx context.Context, opts *syncOptions) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	acct, err := cfg.Account(opts.account)
	if err != nil {
		return sysexits.Wrap(sysexits.Config, err)
	}
	stateDir, err := config.StateDir(acct.Name)
	if err != nil {
		return sysexits.Wrap(sysexits.IOErr, err)
	}

	unlock, locked, err := lockSync(ctx, stateDir, opts.wait)
	if err != nil {
		return err
	}
	if !locked {
		if !opts.quiet {
			fmt.Fprintf(a.io.Err, "gmsync: another sync of account %s is running; not starting a second one (use --wait to wait for it)\n", acct.Name)
		}
		return nil
	}
	defer unlock()

	logger := a.logger(opts.verbose)
	regime, err := gmailapi.ParseRegime(acct.QuotaRegime)
	if err != nil {
		return sysexits.Wrap(sysexits.Config, err)
	}
	client, err := a.gmailClient(ctx, acct, auth.Sync, clientOptions{meter: gmailapi.NewMeter(regime, acct.QuotaUnitsPerMinute)}, logger)
	if err != nil {
		return err
	}

	engine, closeEngine, err := newEngine(acct, stateDir, opts, logger)
	if err != nil {
		return err
	}
	defer closeEngine()
	engine.Client = client
	var plan []string
	if opts.dryRun {
		engine.Plan = func(line string) {
			if opts.json {
				plan = append(plan, line)
				return
			}
			fmt.Fprintln(a.io.Out, line)
		}
	}
	bar := a.progress(opts)
	if bar != nil {
		engine.Progress = func(done, total int) {
			bar.ChangeMax(total)
			bar.Set(done)
		}
	}

	sum, err := engine.Run(ctx)
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return syncExit(fmt.Errorf("syncing account %s: %w", acct.Name, err), acct)
	}
	return a.printSummary(acct, sum, plan, opts)
}

// lockSync takes the account's sync lock: at once, or with wait until the
// running sync ends or ctx is done. It returns whether it got the lock.
func lockSync(ctx context.Context, stateDir string, wait bool) (unlock func(), locked bool, err error) {
	lock := flock.New(filepath.Join(stateDir, "sync.lock"))
	if wait {
		locked, err = lock.TryLockContext(ctx, 250*time.Millisecond)
	} else {
		locked, err = lock.TryLock()
	}
	if err != nil {
		return nil, false, sysexits.Wrap(sysexits.IOErr, fmt.Errorf("locking %s: %w", lock.Path(), err))
	}
	return func() { lock.Unlock() }, locked, nil
}

// syncExit attaches the exit code of a failed sync.
func syncExit(err error, acct *config.Account) error {
	if errors.Is(err, historysync.ErrTooManyDeletions) {
		return sysexits.Wrap(sysexits.DataErr, err)
	}
	return apiExit(err, acct, auth.Sync)
}

// printSummary prints the run's summary line, or with --json one object
// that also carries a dry run's plan.
func (a *app) printSummary(acct *config.Account, sum *historysync.Summary, plan []string, opts *syncOptions) error {
	switch {
	case opts.json:
		out := struct {
			Account string `json:"account"`
			*historysync.Summary
			Plan []string `json:"plan,omitempty"`
		}{acct.Name, sum, plan}
		enc := json.NewEncoder(a.io.Out)
		if err := enc.Encode(out); err != nil {
			return sysexits.Wrap(sysexits.IOErr, err)
		}
	case !opts.quiet:
		fmt.Fprintf(a.io.Out, "gmsync: %s: %s\n", acct.Name, sum)
	}
	if opts.verbose {
		fmt.Fprintf(a.io.Err, "gmsync: API calls: %s\n", sum.Usage)
	}
	return nil
}

// progress returns a progress bar on stderr when stderr is a terminal and
// the output is for a person, else nil.
func (a *app) progress(opts *syncOptions) *progressbar.ProgressBar {
	f, ok := a.io.Err.(*os.File)
	if !ok || opts.quiet || opts.json || opts.dryRun || !term.IsTerminal(int(f.Fd())) || os.Getenv("TERM") == "dumb" {
		return nil
	}
	return progressbar.NewOptions(-1,
		progressbar.OptionSetWriter(f),
		progressbar.OptionSetDescription("downloading"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("msg"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}

func newEngine(acct *config.Account, stateDir string, opts *syncOptions, logger *slog.Logger) (*historysync.Engine, func(), error) {
	layout, err := maildir.ParseLayout(acct.Layout)
	if err != nil {
		return nil, nil, sysexits.Wrap(sysexits.Config, fmt.Errorf("account %s: %w", acct.Name, err))
	}
	store, err := maildir.Open(acct.Maildir)
	if err != nil {
		return nil, nil, sysexits.Wrap(sysexits.IOErr, err)
	}
	state, err := historysync.OpenState(stateDir)
	if errors.Is(err, historysync.ErrStateDamaged) && opts.full {
		aside, aerr := historysync.SetAside(stateDir, time.Now())
		if aerr != nil {
			return nil, nil, sysexits.Wrap(sysexits.IOErr, aerr)
		}
		logger.Warn("set the damaged sync state aside; rebuilding it", "kept", aside)
		state, err = historysync.OpenState(stateDir)
	}
	if err != nil {
		return nil, nil, sysexits.Wrap(sysexits.IOErr, err)
	}
	workers := opts.workers
	if workers <= 0 {
		workers = acct.Concurrency
	}
	engine := &historysync.Engine{
		Store:    store,
		State:    state,
		StateDir: stateDir,
		Mapping: maildir.MapperOptions{
			Layout:      layout,
			FolderNames: acct.FolderNames,
			Ignore:      acct.IgnoreLabels,
		},
		Workers:            max(workers, 1),
		Logger:             logger,
		Full:               opts.full,
		DryRun:             opts.dryRun,
		Force:              opts.force,
		Deletion:           historysync.DeletionPolicy{KeepFolder: acct.KeepDeleted},
		MaxDeletePercent:   acct.MaxDeletePercent,
		LabelCheckInterval: acct.LabelCheckInterval.Duration,
	}
	return engine, func() { state.Close() }, nil
}

// logger returns a text logger on stderr: errors only by default, so a
// timer's run stays quiet while it succeeds, and everything with verbose.
func (a *app) logger(verbose bool) *slog.Logger {
	level := slog.LevelError
	if verbose {
		level = slog.LevelDebug
	}
	var w io.Writer = a.io.Err
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

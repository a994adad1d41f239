package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"

	"github.com/gofrs/flock"
	"github.com/spf13/cobra"

	"github.com/gmsync/gmsync/auth"
	"github.com/gmsync/gmsync/config"
	"github.com/gmsync/gmsync/historysync"
	"github.com/gmsync/gmsync/internal/sysexits"
	"github.com/gmsync/gmsync/maildir"
)

type syncOptions struct {
	account string
	workers int
	verbose bool
	quiet   bool
}

func newSyncCmd(a *app) *cobra.Command {
	opts := &syncOptions{}
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Mirror the Gmail account into the Maildir, one folder per label",
		Long: `Mirror the Gmail account into its Maildir: one folder per label, All Mail,
each message stored once and hard-linked into each of its label folders.
The first run downloads everything; later runs fetch only what is missing.
Tokens come from the account's "sync" grant (gmail.readonly).
One sync per account runs at a time: a second one exits 0 at once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runSync(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.account, "account", "", "account `name` from the configuration (default: the default account)")
	cmd.Flags().IntVar(&opts.workers, "workers", 0, "concurrent message downloads (default: fetch_concurrency, else 8)")
	cmd.Flags().BoolVarP(&opts.verbose, "verbose", "v", false, "log each retry and print API usage by method")
	cmd.Flags().BoolVarP(&opts.quiet, "quiet", "q", false, "print nothing but errors")
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

	lock := flock.New(filepath.Join(stateDir, "sync.lock"))
	locked, err := lock.TryLock()
	if err != nil {
		return sysexits.Wrap(sysexits.IOErr, fmt.Errorf("locking %s: %w", lock.Path(), err))
	}
	if !locked {
		if !opts.quiet {
			fmt.Fprintf(a.io.Err, "gmsync: another sync of account %s is running; not starting a second one\n", acct.Name)
		}
		return nil
	}
	defer lock.Unlock()

	logger := a.logger(opts.verbose)
	client, err := a.gmailClient(ctx, acct, auth.Sync, logger)
	if err != nil {
		return err
	}
	engine, closeEngine, err := newEngine(acct, stateDir, opts, logger)
	if err != nil {
		return err
	}
	defer closeEngine()
	engine.Client = client

	sum, err := engine.Run(ctx)
	if err != nil {
		return apiExit(fmt.Errorf("syncing account %s: %w", acct.Name, err), acct, auth.Sync)
	}
	if !opts.quiet {
		fmt.Fprintf(a.io.Out, "gmsync: %s: %s\n", acct.Name, sum)
	}
	if opts.verbose {
		fmt.Fprintf(a.io.Err, "gmsync: API calls: %s\n", sum.Usage)
	}
	return nil
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
		Workers: max(workers, 1),
		Logger:  logger,
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

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gmsync/gmsync/auth"
	"github.com/gmsync/gmsync/config"
	"github.com/gmsync/gmsync/internal/sysexits"
)

// streams are the standard streams of one invocation, injected so that tests
// run the command in-process.
type streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

func newStreams(in io.Reader, out, errOut io.Writer) *streams {
	return &streams{In: in, Out: out, Err: errOut}
}

// app holds what every command needs: the streams, the configuration file
// and the keyring. Commands load the configuration lazily, so `--help` works
// without one.
type app struct {
	io         *streams
	configPath string

	// newStore opens the token store for an account; tests replace it.
	newStore func(acct *config.Account) (auth.Store, error)
}

// loadConfig reads the configuration file named by --config, GMSYNC_CONFIG or
// the XDG default, in that order.
func (a *app) loadConfig() (*config.Config, error) {
	path := a.configPath
	if path == "" {
		path = config.DefaultPath()
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, sysexits.Wrap(sysexits.Config, err)
	}
	return cfg, nil
}

// run executes gmsync with args (args[0] is the program name) and returns the
// process exit code. A program named sendmail, or with a name ending in
// "-sendmail" (such as gmsync-sendmail), behaves as `gmsync send`, because
// clients such as Emacs put their own options before any argument.
func run(ctx context.Context, args []string, io *streams) int {
	a := &app{io: io, newStore: auth.StoreFor}
	rest := args[1:]
	if name := filepath.Base(args[0]); name == "sendmail" || strings.HasSuffix(name, "-sendmail") {
		rest = append([]string{"send"}, rest...)
	}

	root := newRootCmd(a)
	root.SetArgs(rest)
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.Err)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return sysexits.OK
	}
	fmt.Fprintf(io.Err, "gmsync: %v\n", err)
	var flagErr *flagError
	if errors.As(err, &flagErr) {
		return sysexits.Usage
	}
	return sysexits.Code(err)
}

// flagError marks errors from cobra's own flag and argument parsing.
type flagError struct{ err error }

func (e *flagError) Error() string { return e.err.Error() }
func (e *flagError) Unwrap() error { return e.err }

const exitCodesHelp = `Exit codes (sysexits.h):
  0   success
  64  usage error (unknown option, missing argument)
  65  malformed message or input
  69  a needed service is unavailable
  74  I/O error on a local file
  75  temporary failure (network, Gmail 5xx or rate limit): try again later
  77  authorization missing, revoked or refused
  78  configuration missing or invalid
`

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:           "gmsync",
		Short:         "Gmail for offline mail clients, through the Gmail API",
		Long:          "gmsync sends mail as a sendmail replacement and mirrors Gmail into a Maildir,\nthrough the Gmail REST API with OAuth2 tokens kept in the system keyring.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&a.configPath, "config", os.Getenv("GMSYNC_CONFIG"), "configuration `file` (default $XDG_CONFIG_HOME/gmsync/config.toml)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &flagError{err} })
	root.Args = func(_ *cobra.Command, args []string) error {
		if len(args) > 0 {
			return &flagError{fmt.Errorf("unknown command %q: run gmsync --help for the list", args[0])}
		}
		return nil
	}
	root.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	root.SetUsageTemplate(root.UsageTemplate() + "\n" + exitCodesHelp)

	root.AddCommand(
		newAuthCmd(a),
		newSendCmd(a),
		newQueueCmd(a),
		newSyncCmd(a),
		newTimerCmd(a),
	)
	return root
}

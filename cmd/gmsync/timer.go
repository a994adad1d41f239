package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/gmsync/gmsync/internal/sysexits"
	"github.com/gmsync/gmsync/timer"
)

type timerOptions struct {
	kind     string
	interval time.Duration
	dir      string
	print    bool
}

func newTimerCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "timer",
		Short: "Install the service that runs gmsync sync periodically",
	}
	cmd.AddCommand(newTimerInstallCmd(a))
	return cmd
}

func newTimerInstallCmd(a *app) *cobra.Command {
	opts := &timerOptions{}
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Write a systemd user timer (Linux) or a launchd agent (macOS) for gmsync sync",
		Long: `Write the units that run "gmsync sync --quiet" for every configured account:
~/.config/systemd/user/gmsync-sync.service and gmsync-sync.timer with systemd,
~/Library/LaunchAgents/` + timer.LaunchdLabel + `.plist with launchd. It then prints the
command that enables them; it does not run it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runTimerInstall(opts) },
	}
	f := cmd.Flags()
	f.StringVar(&opts.kind, "manager", defaultManager(), "service manager: systemd or launchd")
	f.DurationVar(&opts.interval, "interval", 5*time.Minute, "time between syncs")
	f.StringVar(&opts.dir, "dir", "", "directory to write the units into (default: the manager's user unit directory)")
	f.BoolVar(&opts.print, "print", false, "print the units instead of writing them")
	return cmd
}

func defaultManager() string {
	if runtime.GOOS == "darwin" {
		return string(timer.Launchd)
	}
	return string(timer.Systemd)
}

func (a *app) runTimerInstall(opts *timerOptions) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	binary, err := os.Executable()
	if err != nil {
		return sysexits.Wrap(sysexits.Software, fmt.Errorf("finding the gmsync binary: %w", err))
	}
	if resolved, err := filepath.EvalSymlinks(binary); err == nil {
		binary = resolved
	}
	spec := timer.Spec{Binary: binary, Interval: opts.interval, Config: a.configPath}
	for _, acct := range cfg.SortedAccounts() {
		spec.Accounts = append(spec.Accounts, acct.Name)
	}

	kind := timer.Kind(opts.kind)
	dir := opts.dir
	if dir == "" {
		if dir, err = unitDir(kind); err != nil {
			return sysexits.Wrap(sysexits.Config, err)
		}
	}
	files, err := timer.Render(kind, spec, dir)
	if err != nil {
		return sysexits.Wrap(sysexits.Usage, err)
	}
	if opts.print {
		for _, f := range files {
			fmt.Fprintf(a.io.Out, "# %s\n%s\n", f.Path, f.Content)
		}
		return nil
	}
	if err := timer.Write(files); err != nil {
		return sysexits.Wrap(sysexits.IOErr, err)
	}
	for _, f := range files {
		fmt.Fprintf(a.io.Err, "wrote %s\n", f.Path)
	}
	switch kind {
	case timer.Systemd:
		fmt.Fprintln(a.io.Err, "Enable it with: systemctl --user daemon-reload && systemctl --user enable --now gmsync-sync.timer")
	case timer.Launchd:
		fmt.Fprintf(a.io.Err, "Enable it with: launchctl load -w %s\n", files[0].Path)
	}
	return nil
}

// unitDir returns the user unit directory of a service manager.
func unitDir(kind timer.Kind) (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the home directory: %w", err)
	}
	if kind == timer.Launchd {
		return filepath.Join(home, "Library", "LaunchAgents"), nil
	}
	base := os.Getenv("XDG_CONFIG_HOME")
	if base == "" {
		base = filepath.Join(home, ".config")
	}
	return filepath.Join(base, "systemd", "user"), nil
}

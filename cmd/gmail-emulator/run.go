package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/gmsync/gmsync/e2e/emulator"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

type options struct {
	addr             string
	users            []string
	clientID         string
	clientSecret     string
	clientSecretFile string
	seedDir          string
	seedLabels       string
	demo             bool
	generate         int
	generateSeed     int64
	urlFile          string
	historyRetention int
	quotaRegime      string
	quotaUnits       int
	maxConcurrent    int
	rateLimitStatus  int
	faults           emulator.Faults
	verbose          bool
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("gmail-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:0", "loopback `address` to listen on; port 0 picks a free port")
	fs.Var((*stringList)(&o.users), "user", "mailbox `address`, repeatable; the first is the default user (default alice@example.com)")
	fs.StringVar(&o.clientID, "client-id", emulator.DefaultClientID, "OAuth client `ID` the server accepts")
	fs.StringVar(&o.clientSecret, "client-secret", emulator.DefaultClientSecret, "OAuth client `secret` the server accepts")
	fs.StringVar(&o.clientSecretFile, "write-client-secret", "", "write a client_secret.json pointing at this server to `file`")
	fs.StringVar(&o.seedDir, "seed-dir", "", "add every *.eml in `dir` to the default user's mailbox")
	fs.StringVar(&o.seedLabels, "seed-labels", "", "JSON `file` mapping .eml names to label names for --seed-dir")
	fs.BoolVar(&o.demo, "demo", false, "add the generated demo mailbox to the default user")
	fs.IntVar(&o.generate, "generate", 0, "add `N` generated messages of 2 to 20 KiB to the default user, for benchmarks")
	fs.Int64Var(&o.generateSeed, "generate-seed", 1, "`seed` of the messages --generate makes")
	fs.StringVar(&o.urlFile, "url-file", "", "write the base URL to `file` once listening")
	fs.IntVar(&o.historyRetention, "history-retention", 0, "history records kept per user, 0 for all")
	fs.StringVar(&o.quotaRegime, "quota-regime", emulator.Regime2024, "quota unit costs: 2024 or 2026")
	fs.IntVar(&o.quotaUnits, "quota-units-per-minute", 0,
		fmt.Sprintf("per-user quota in `units` per minute, 0 for none (Gmail: %d in the 2024 regime, %d in 2026)",
			emulator.UnitsPerMinute2024, emulator.UnitsPerMinute2026))
	fs.IntVar(&o.maxConcurrent, "max-concurrent", 0, "Gmail API requests one user may have in flight, 0 for no limit; more get 429")
	fs.IntVar(&o.rateLimitStatus, "rate-limit-status", 403, "HTTP `status` of quota rejections: 403 or 429")
	fs.DurationVar(&o.faults.Latency, "latency", 0, "delay added to every Gmail API response")
	fs.DurationVar(&o.faults.LatencyJitter, "latency-jitter", 0, "random extra delay, from 0 up to this `duration`")
	fs.Float64Var(&o.faults.ErrorRate, "error-rate", 0, "`fraction` of Gmail API requests that get a 500 or 503 response")
	fs.Float64Var(&o.faults.DropRate, "drop-rate", 0, "`fraction` of Gmail API requests whose connection is closed without a response")
	fs.Int64Var(&o.faults.Seed, "fault-seed", 1, "`seed` of the random fault sequence")
	fs.BoolVar(&o.verbose, "v", false, "log every request to stderr")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: gmail-emulator [flags]\n\nRuns a local Gmail API and Google OAuth server until SIGINT or SIGTERM.\nExit codes: 0 stopped cleanly, 1 failure, 2 invalid flags.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.quotaRegime != emulator.Regime2024 && o.quotaRegime != emulator.Regime2026 {
		return o, fmt.Errorf("invalid --quota-regime %q: use 2024 or 2026", o.quotaRegime)
	}
	if err := validateLimits(o); err != nil {
		return o, err
	}
	if o.historyRetention < 0 {
		return o, fmt.Errorf("invalid --history-retention %d: use 0 or more", o.historyRetention)
	}
	if o.generate < 0 {
		return o, fmt.Errorf("invalid --generate %d: use 0 or more", o.generate)
	}
	if o.seedLabels != "" && o.seedDir == "" {
		return o, errors.New("--seed-labels needs --seed-dir")
	}
	return o, nil
}

func validateLimits(o options) error {
	if o.quotaUnits < 0 {
		return fmt.Errorf("invalid --quota-units-per-minute %d: use 0 (no limit) or more", o.quotaUnits)
	}
	if o.maxConcurrent < 0 {
		return fmt.Errorf("invalid --max-concurrent %d: use 0 (no limit) or more", o.maxConcurrent)
	}
	if o.rateLimitStatus != 403 && o.rateLimitStatus != 429 {
		return fmt.Errorf("invalid --rate-limit-status %d: use 403 or 429", o.rateLimitStatus)
	}
	f := o.faults
	if f.Latency < 0 || f.LatencyJitter < 0 {
		return fmt.Errorf("invalid --latency %v or --latency-jitter %v: use 0 or more", f.Latency, f.LatencyJitter)
	}
	for name, rate := range map[string]float64{"--error-rate": f.ErrorRate, "--drop-rate": f.DropRate} {
		if rate < 0 || rate > 1 {
			return fmt.Errorf("invalid %s %v: use a fraction from 0 to 1", name, rate)
		}
	}
	if f.ErrorRate+f.DropRate > 1 {
		return fmt.Errorf("--error-rate %v and --drop-rate %v add up to more than 1", f.ErrorRate, f.DropRate)
	}
	return nil
}

// run starts the emulator and serves until SIGINT or SIGTERM.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runContext(ctx, args, stdout, stderr)
}

// runContext serves until ctx is done and returns the exit code.
func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "gmail-emulator:", err)
		return exitUsage
	}
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	srv := emulator.New(emulator.Options{
		Users:                o.users,
		ClientID:             o.clientID,
		ClientSecret:         o.clientSecret,
		HistoryRetention:     o.historyRetention,
		QuotaRegime:          o.quotaRegime,
		QuotaUnitsPerMinute:  o.quotaUnits,
		RateLimitStatus:      o.rateLimitStatus,
		MaxConcurrentPerUser: o.maxConcurrent,
		Faults:               o.faults,
		Logger:               logger,
	})
	if err := serve(ctx, srv, o, stdout); err != nil {
		fmt.Fprintln(stderr, "gmail-emulator:", err)
		return exitFailure
	}
	return exitOK
}

func serve(ctx context.Context, srv *emulator.Server, o options, stdout io.Writer) (err error) {
	user := emulator.DefaultUser
	if len(o.users) > 0 {
		user = o.users[0]
	}

	if o.seedDir != "" {
		if _, err := srv.SeedDir(user, o.seedDir, o.seedLabels); err != nil {
			return err
		}
	}
	if o.demo {
		if _, err := srv.SeedDemo(user); err != nil {
			return err
		}
	}
	if err := srv.Generate(user, o.generate, o.generateSeed); err != nil {
		return err
	}

	base, err := srv.Start(o.addr)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := srv.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("stopping server: %w", cerr)
		}
	}()

	if o.clientSecretFile != "" {
		if err := srv.WriteClientSecret(o.clientSecretFile); err != nil {
			return err
		}
	}
	// The line comes first, so a reader that sees the URL file also sees it.
	fmt.Fprintf(stdout, "gmail-emulator listening on %s\n", base)
	if o.urlFile != "" {
		if err := emulator.WriteFileAtomic(o.urlFile, []byte(base+"\n")); err != nil {
			return fmt.Errorf("writing url file %s: %w", o.urlFile, err)
		}
	}

	<-ctx.Done()
	return nil
}

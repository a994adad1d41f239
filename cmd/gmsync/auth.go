package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/gmsync/gmsync/auth"
	"github.com/gmsync/gmsync/config"
	"github.com/gmsync/gmsync/internal/sysexits"
)

// maxRefreshTokenInput bounds what auth import reads from standard input.
// Google documents refresh tokens of up to 512 bytes, and JSON adds a little.
const maxRefreshTokenInput = 64 << 10

func newAuthCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "auth",
		Short: "Manage the OAuth grants that gmsync keeps in the system keyring",
		Long: "Each account has one grant per purpose: \"send\" (scope gmail.send) for gmsync send,\n" +
			"and \"sync\" (scope gmail.readonly) for gmsync sync. Grants live in the system keyring.",
		Args: authNoArgs,
	}
	cmd.AddCommand(newAuthLoginCmd(a), newAuthImportCmd(a), newAuthStatusCmd(a))
	return cmd
}

// authNoArgs rejects positional arguments with exit code 64.
func authNoArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return sysexits.Wrap(sysexits.Usage, fmt.Errorf("unexpected argument %q", args[0]))
	}
	return nil
}

type authLoginOptions struct {
	account   string
	purpose   string
	noBrowser bool
}

func newAuthLoginCmd(a *app) *cobra.Command {
	opts := &authLoginOptions{}
	cmd := &cobra.Command{
		Use:   "login --for send|sync [--account NAME] [--no-browser]",
		Short: "Authorize gmsync in a browser and store the grant",
		Long: "Open Google's consent page for one purpose, receive the answer on a loopback\n" +
			"address (127.0.0.1, a random port) and store the grant in the system keyring.\n" +
			"With --no-browser, the URL is printed on a line of its own; open it on any machine,\n" +
			"and if that browser cannot reach this host, paste the address it ends on here.",
		Args: authNoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runAuthLogin(cmd.Context(), opts) },
	}
	cmd.Flags().StringVar(&opts.account, "account", "", "account `name` (default: the default or only account)")
	cmd.Flags().StringVar(&opts.purpose, "for", "", "purpose of the grant: send or sync (required)")
	cmd.Flags().BoolVar(&opts.noBrowser, "no-browser", false, "print the authorization URL instead of opening a browser")
	return cmd
}

func (a *app) runAuthLogin(ctx context.Context, opts *authLoginOptions) error {
	acct, p, err := a.authTarget(opts.account, opts.purpose)
	if err != nil {
		return err
	}
	oauthCfg, err := auth.OAuthConfig(acct, p)
	if err != nil {
		return err
	}
	store, err := a.newStore(acct)
	if err != nil {
		return err
	}
	// Find an unusable keyring before the user goes through the browser.
	if _, err := store.Load(acct.Name, p); err != nil && !errors.Is(err, auth.ErrNotFound) {
		return err
	}

	tok, err := auth.Login(ctx, oauthCfg, auth.LoginOptions{
		NoBrowser: opts.noBrowser,
		Stderr:    a.io.Err,
		Stdin:     a.io.In,
		LoginHint: acct.Address,
	})
	if err != nil {
		return fmt.Errorf("logging in account %s for %s: %w", acct.Name, p, err)
	}
	if err := store.Save(acct.Name, p, auth.NewGrant(oauthCfg, tok)); err != nil {
		return err
	}
	fmt.Fprintf(a.io.Err, "stored the %s grant for account %s in the system keyring\n", p, acct.Name)
	return nil
}

type authImportOptions struct {
	account string
	purpose string
}

func newAuthImportCmd(a *app) *cobra.Command {
	opts := &authImportOptions{}
	cmd := &cobra.Command{
		Use:   "import --for send|sync [--account NAME] < TOKEN",
		Short: "Store an existing refresh token, read from standard input",
		Long: "Read a refresh token from standard input (never from the command line), prove it\n" +
			"with one refresh and store it in the system keyring. The input may also be a JSON\n" +
			"object with a \"refresh_token\" field. The token's scopes must match the purpose.\n\n" +
			"Example: pass show mail/gmail-refresh-token | gmsync auth import --for send",
		Args: authNoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runAuthImport(cmd.Context(), opts) },
	}
	cmd.Flags().StringVar(&opts.account, "account", "", "account `name` (default: the default or only account)")
	cmd.Flags().StringVar(&opts.purpose, "for", "", "purpose of the grant: send or sync (required)")
	return cmd
}

func (a *app) runAuthImport(ctx context.Context, opts *authImportOptions) error {
	acct, p, err := a.authTarget(opts.account, opts.purpose)
	if err != nil {
		return err
	}
	refreshToken, err := readRefreshToken(a.io.In)
	if err != nil {
		return err
	}
	oauthCfg, err := auth.OAuthConfig(acct, p)
	if err != nil {
		return err
	}
	store, err := a.newStore(acct)
	if err != nil {
		return err
	}

	tok, err := auth.Import(ctx, oauthCfg, refreshToken)
	if err != nil {
		return fmt.Errorf("importing the %s grant of account %s: %w", p, acct.Name, err)
	}
	if err := store.Save(acct.Name, p, auth.NewGrant(oauthCfg, tok)); err != nil {
		return err
	}
	fmt.Fprintf(a.io.Err, "stored the %s grant for account %s in the system keyring\n", p, acct.Name)
	fmt.Fprintln(a.io.Err, "Now delete the plaintext copy you imported from (for example an msmtp, mbsync or offlineimap token file): anyone who can read it can use the grant.")
	return nil
}

// readRefreshToken reads one refresh token, bare or as the refresh_token
// field of a JSON object, from in. A terminal is refused, so the token never
// appears on screen or in the shell history.
func readRefreshToken(in io.Reader) (string, error) {
	if f, ok := in.(*os.File); ok {
		if term.IsTerminal(int(f.Fd())) {
			return "", sysexits.Wrap(sysexits.Usage, errors.New("standard input is a terminal: pipe the refresh token in, for example: pass show mail/gmail-refresh-token | gmsync auth import --for send"))
		}
	}
	data, err := io.ReadAll(io.LimitReader(in, maxRefreshTokenInput+1))
	if err != nil {
		return "", sysexits.Wrap(sysexits.IOErr, fmt.Errorf("reading the refresh token from standard input: %w", err))
	}
	if len(data) > maxRefreshTokenInput {
		return "", sysexits.Wrap(sysexits.DataErr, fmt.Errorf("standard input holds more than %d bytes, too much for a refresh token", maxRefreshTokenInput))
	}

	text := strings.TrimSpace(string(data))
	if strings.HasPrefix(text, "{") {
		var obj struct {
			RefreshToken string `json:"refresh_token"`
		}
		if err := json.Unmarshal([]byte(text), &obj); err != nil {
			return "", sysexits.Wrap(sysexits.DataErr, fmt.Errorf("parsing the JSON on standard input: %w", err))
		}
		text = obj.RefreshToken
	}
	switch {
	case text == "":
		return "", sysexits.Wrap(sysexits.Usage, errors.New("no refresh token on standard input: pipe one in"))
	case strings.ContainsAny(text, " \t\r\n"):
		return "", sysexits.Wrap(sysexits.DataErr, errors.New("standard input holds more than one word: expected a single refresh token"))
	}
	return text, nil
}

type authStatusOptions struct {
	account string
}

func newAuthStatusCmd(a *app) *cobra.Command {
	opts := &authStatusOptions{}
	cmd := &cobra.Command{
		Use:   "status [--account NAME]",
		Short: "Show the stored grants, without secrets",
		Long: "For each account and purpose, show whether a grant is stored, its scopes, when it\n" +
			"was obtained and whether the cached access token is still valid. It makes no\n" +
			"network request, so a stored grant may still have been revoked at Google.",
		Args: authNoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runAuthStatus(cmd.Context(), opts) },
	}
	cmd.Flags().StringVar(&opts.account, "account", "", "show only this account `name` (default: all)")
	return cmd
}

func (a *app) runAuthStatus(_ context.Context, opts *authStatusOptions) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	accounts := cfg.SortedAccounts()
	if opts.account != "" {
		acct, err := cfg.Account(opts.account)
		if err != nil {
			return sysexits.Wrap(sysexits.Config, err)
		}
		accounts = []*config.Account{acct}
	}

	tw := tabwriter.NewWriter(a.io.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tPURPOSE\tGRANT\tSCOPES\tOBTAINED\tACCESS TOKEN")
	var missing []string
	for _, acct := range accounts {
		store, err := a.newStore(acct)
		if err != nil {
			return err
		}
		for _, p := range auth.Purposes {
			g, err := store.Load(acct.Name, p)
			if errors.Is(err, auth.ErrNotFound) {
				fmt.Fprintf(tw, "%s\t%s\tnone\t-\t-\t-\n", acct.Name, p)
				missing = append(missing, fmt.Sprintf("gmsync auth login --account %s --for %s", acct.Name, p))
				continue
			}
			if err != nil {
				return err // the table stays unwritten, so stdout holds no partial answer
			}
			fmt.Fprintf(tw, "%s\t%s\tstored\t%s\t%s\t%s\n", acct.Name, p, shortScopes(g.Scopes), formatTime(g.Obtained), accessTokenState(g, time.Now()))
		}
	}
	if err := tw.Flush(); err != nil {
		return sysexits.Wrap(sysexits.IOErr, fmt.Errorf("writing status: %w", err))
	}
	for _, cmd := range missing {
		fmt.Fprintf(a.io.Err, "to store a missing grant, run: %s\n", cmd)
	}
	return nil
}

// authTarget resolves --account and --for.
func (a *app) authTarget(account, purpose string) (*config.Account, auth.Purpose, error) {
	if purpose == "" {
		return nil, "", sysexits.Wrap(sysexits.Usage, errors.New("missing --for: use --for send or --for sync"))
	}
	p, err := auth.ParsePurpose(purpose)
	if err != nil {
		return nil, "", sysexits.Wrap(sysexits.Usage, fmt.Errorf("--for: %w", err))
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, "", err
	}
	acct, err := cfg.Account(account)
	if err != nil {
		return nil, "", sysexits.Wrap(sysexits.Config, err)
	}
	return acct, p, nil
}

// shortScopes drops the common prefix of Google's scope URLs.
func shortScopes(scopes []string) string {
	if len(scopes) == 0 {
		return "-"
	}
	short := make([]string, len(scopes))
	for i, s := range scopes {
		short[i] = strings.TrimPrefix(s, "https://www.googleapis.com/auth/")
	}
	return strings.Join(short, ",")
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04")
}

func accessTokenState(g *auth.Grant, now time.Time) string {
	switch {
	case g.AccessToken == "":
		return "none cached"
	case g.Expiry.After(now):
		return "valid until " + g.Expiry.Local().Format("15:04")
	default:
		return "expired, refreshed on next use"
	}
}

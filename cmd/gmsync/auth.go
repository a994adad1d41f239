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
		Short: "Manage the OAuth grants that gmsync keeps in the keyring",
		Long: "Each account has one grant per purpose, each in its own keyring entry: \"send\"\n" +
			"(scope gmail.send) for gmsync send, and \"sync\" (scope gmail.readonly, or gmail.modify\n" +
			"when the account sets push = true) for gmsync sync. Grants live in the system keyring,\n" +
			"or in a password manager with keyring = \"command\"; never in a plaintext file.",
		Args: authNoArgs,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			return auth.DisableCoreDumps()
		},
	}
	cmd.AddCommand(newAuthLoginCmd(a), newAuthImportCmd(a), newAuthStatusCmd(a), newAuthLogoutCmd(a), newAuthTokenCmd(a))
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
	purposes  string
	noBrowser bool
	timeout   time.Duration
}

func newAuthLoginCmd(a *app) *cobra.Command {
	opts := &authLoginOptions{}
	cmd := &cobra.Command{
		Use:   "login --for send|sync|send,sync [--account NAME] [--no-browser]",
		Short: "Authorize gmsync in a browser and store each grant",
		Long: "Open Google's consent page once per purpose, receive the answer on a loopback\n" +
			"address (127.0.0.1, a random port) and store each grant in its own keyring entry.\n" +
			"With --no-browser, the URL is printed on a line of its own; open it on any machine,\n" +
			"and if that browser cannot reach this host, paste the address it ends on here.\n" +
			"A grant with fewer or more scopes than the purpose needs is not stored.",
		Args: authNoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runAuthLogin(cmd.Context(), opts) },
	}
	cmd.Flags().StringVar(&opts.account, "account", "", "account `name` (default: the default or only account)")
	cmd.Flags().StringVar(&opts.purposes, "for", "", "purposes of the grants: send, sync, or send,sync (required)")
	cmd.Flags().BoolVar(&opts.noBrowser, "no-browser", false, "print the authorization URL instead of opening a browser")
	cmd.Flags().DurationVar(&opts.timeout, "timeout", auth.DefaultLoginTimeout, "how long to wait for the browser to return, per purpose")
	return cmd
}

func (a *app) runAuthLogin(ctx context.Context, opts *authLoginOptions) error {
	acct, purposes, err := a.authTargets(opts.account, opts.purposes)
	if err != nil {
		return err
	}
	store, err := a.newStore(acct)
	if err != nil {
		return err
	}
	// Find an unusable keyring before the user goes through the browser.
	if _, err := store.Load(acct.Name, purposes[0]); err != nil && !errors.Is(err, auth.ErrNotFound) {
		return err
	}

	for _, p := range purposes {
		oauthCfg, err := auth.OAuthConfig(acct, p)
		if err != nil {
			return err
		}
		if len(purposes) > 1 {
			fmt.Fprintf(a.io.Err, "Authorizing %s for account %s (scope %s).\n", p, acct.Name, auth.ShortScopes(oauthCfg.Scopes))
		}
		tok, err := auth.Login(ctx, oauthCfg, auth.LoginOptions{
			NoBrowser: opts.noBrowser,
			Stderr:    a.io.Err,
			Stdin:     a.io.In,
			LoginHint: acct.Address,
			Timeout:   opts.timeout,
		})
		if err != nil {
			return fmt.Errorf("logging in account %s for %s: %w", acct.Name, p, err)
		}
		if err := store.Save(acct.Name, p, auth.NewGrant(oauthCfg, tok)); err != nil {
			return err
		}
		fmt.Fprintf(a.io.Err, "stored the %s grant for account %s %s\n", p, acct.Name, storeDescription(acct))
	}
	return nil
}

// storeDescription returns where an account's grants are kept, for messages.
func storeDescription(acct *config.Account) string {
	if acct.Keyring == config.KeyringCommand {
		return "with the keyring_set command " + acct.KeyringSet[0]
	}
	return "in the system keyring"
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
	fmt.Fprintf(a.io.Err, "stored the %s grant for account %s %s\n", p, acct.Name, storeDescription(acct))
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
		Long: "For each account and purpose, show the keyring backend, whether a grant is stored,\n" +
			"its scopes, when it was obtained and last refreshed, and whether the cached access\n" +
			"token is still valid. It makes no network request, so a stored grant may still\n" +
			"have been revoked at Google.",
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
	fmt.Fprintln(tw, "ACCOUNT\tPURPOSE\tBACKEND\tGRANT\tSCOPES\tOBTAINED\tLAST REFRESH\tACCESS TOKEN")
	var missing []string
	for _, acct := range accounts {
		store, err := a.newStore(acct)
		if err != nil {
			return err
		}
		for _, p := range auth.Purposes {
			g, err := store.Load(acct.Name, p)
			if errors.Is(err, auth.ErrNotFound) {
				fmt.Fprintf(tw, "%s\t%s\t%s\tnone\t-\t-\t-\t-\n", acct.Name, p, acct.Keyring)
				missing = append(missing, fmt.Sprintf("gmsync auth login --account %s --for %s", acct.Name, p))
				continue
			}
			if err != nil {
				return err // the table stays unwritten, so stdout gets no partial output
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\tstored\t%s\t%s\t%s\t%s\n", acct.Name, p, acct.Keyring,
				auth.ShortScopes(g.Scopes), formatTime(g.Obtained), formatTime(g.LastUsed), accessTokenState(g, time.Now()))
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

type authLogoutOptions struct {
	account  string
	purposes string
}

func newAuthLogoutCmd(a *app) *cobra.Command {
	opts := &authLogoutOptions{}
	cmd := &cobra.Command{
		Use:   "logout [--account NAME] [--for send|sync|send,sync]",
		Short: "Revoke the grants at Google and delete them from the keyring",
		Long: "For each purpose (default: both), revoke the grant at the revoke endpoint, then\n" +
			"delete its keyring entry. The entry is deleted even when the revocation fails;\n" +
			"gmsync then says so and exits 69, and the grant may still be live until you remove\n" +
			"gmsync's access at " + auth.PermissionsURL + ".\n" +
			"Google may end every grant of the OAuth client for the account when one is revoked,\n" +
			"so after logging out one purpose the other may need a new login.",
		Args: authNoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runAuthLogout(cmd.Context(), opts) },
	}
	cmd.Flags().StringVar(&opts.account, "account", "", "account `name` (default: the default or only account)")
	cmd.Flags().StringVar(&opts.purposes, "for", "send,sync", "purposes to log out: send, sync, or send,sync")
	return cmd
}

func (a *app) runAuthLogout(ctx context.Context, opts *authLogoutOptions) error {
	acct, purposes, err := a.authTargets(opts.account, opts.purposes)
	if err != nil {
		return err
	}
	store, err := a.newStore(acct)
	if err != nil {
		return err
	}
	endpoints, err := acct.Endpoints()
	if err != nil {
		return sysexits.Wrap(sysexits.Config, err)
	}

	var revokeFailed []string
	for _, p := range purposes {
		g, err := store.Load(acct.Name, p)
		if errors.Is(err, auth.ErrNotFound) {
			fmt.Fprintf(a.io.Err, "no %s grant for account %s in the keyring\n", p, acct.Name)
			continue
		}
		if err != nil {
			return err
		}

		err = auth.Revoke(ctx, endpoints.Revoke, g.RefreshToken)
		switch {
		case err == nil:
			fmt.Fprintf(a.io.Err, "revoked the %s grant of account %s\n", p, acct.Name)
		case errors.Is(err, auth.ErrAlreadyRevoked):
			fmt.Fprintf(a.io.Err, "the %s grant of account %s was already revoked or expired\n", p, acct.Name)
		default:
			fmt.Fprintf(a.io.Err, "gmsync: warning: revoking the %s grant of account %s failed: %v\n", p, acct.Name, err)
			revokeFailed = append(revokeFailed, string(p))
		}

		if err := store.Delete(acct.Name, p); err != nil && !errors.Is(err, auth.ErrNotFound) {
			return err
		}
		fmt.Fprintf(a.io.Err, "deleted the %s grant of account %s from the keyring\n", p, acct.Name)
	}

	if len(revokeFailed) > 0 {
		return sysexits.Wrap(sysexits.Unavailable, fmt.Errorf(
			"the %s grant of account %s is deleted here but may still be live at Google: remove gmsync's access at %s",
			strings.Join(revokeFailed, " and "), acct.Name, auth.PermissionsURL))
	}
	return nil
}

type authTokenOptions struct {
	account string
	purpose string
}

func newAuthTokenCmd(a *app) *cobra.Command {
	opts := &authTokenOptions{}
	cmd := &cobra.Command{
		Use:   "token --for send|sync [--account NAME]",
		Short: "Print a valid access token on standard output",
		Long: "Print an access token of the grant for one purpose, refreshed when it has less than\n" +
			"a minute left, followed by a newline, for programs that call the Gmail API with a\n" +
			"Bearer token. The token carries only the purpose's scope (gmail.send for send), so\n" +
			"it does not work for Gmail's IMAP or SMTP, which accept only the full-access scope.\n\n" +
			"Example: curl -H \"Authorization: Bearer $(gmsync auth token --for sync)\" \\\n" +
			"  https://gmail.googleapis.com/gmail/v1/users/me/labels",
		Args: authNoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runAuthToken(cmd.Context(), opts) },
	}
	cmd.Flags().StringVar(&opts.account, "account", "", "account `name` (default: the default or only account)")
	cmd.Flags().StringVar(&opts.purpose, "for", "", "purpose of the grant: send or sync (required)")
	return cmd
}

func (a *app) runAuthToken(ctx context.Context, opts *authTokenOptions) error {
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
	tok, err := auth.TokenSource(ctx, store, acct.Name, p, oauthCfg).Token()
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(a.io.Out, tok.AccessToken); err != nil {
		return sysexits.Wrap(sysexits.IOErr, fmt.Errorf("writing the access token: %w", err))
	}
	return nil
}

// authTargets resolves --account and a comma-separated --for.
func (a *app) authTargets(account, purposes string) (*config.Account, []auth.Purpose, error) {
	if purposes == "" {
		return nil, nil, sysexits.Wrap(sysexits.Usage, errors.New("missing --for: use --for send, --for sync or --for send,sync"))
	}
	ps, err := auth.ParsePurposes(purposes)
	if err != nil {
		return nil, nil, sysexits.Wrap(sysexits.Usage, fmt.Errorf("--for: %w", err))
	}
	acct, err := a.account(account)
	if err != nil {
		return nil, nil, err
	}
	return acct, ps, nil
}

// account loads the configuration and picks --account.
func (a *app) account(name string) (*config.Account, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	acct, err := cfg.Account(name)
	if err != nil {
		return nil, sysexits.Wrap(sysexits.Config, err)
	}
	return acct, nil
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
	acct, err := a.account(account)
	if err != nil {
		return nil, "", err
	}
	return acct, p, nil
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

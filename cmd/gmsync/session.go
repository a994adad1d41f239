package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/gmsync/gmsync/auth"
	"github.com/gmsync/gmsync/config"
	"github.com/gmsync/gmsync/gmailapi"
	"github.com/gmsync/gmsync/internal/sysexits"
)

// clientOptions tune gmailClient.
type clientOptions struct {
	meter *gmailapi.Meter // nil: the default regime's
	// tokenWait, when set, fetches the access token before returning and
	// gives up after this long, for callers a slow keyring must not hold.
	tokenWait time.Duration
}

// gmailClient builds an API client for acct whose token comes from the
// keyring grant of purpose.
func (a *app) gmailClient(ctx context.Context, acct *config.Account, purpose auth.Purpose, opts clientOptions, logger *slog.Logger) (*gmailapi.Client, error) {
	// The process is about to hold tokens in memory.
	if err := auth.DisableCoreDumps(); err != nil {
		logger.Warn("core dumps stay enabled", "err", err)
	}
	oauthCfg, err := auth.OAuthConfig(acct, purpose)
	if err != nil {
		return nil, sysexits.Wrap(sysexits.Config, err)
	}
	store, err := a.newStore(acct)
	if err != nil {
		return nil, err
	}
	endpoints, err := acct.Endpoints()
	if err != nil {
		return nil, sysexits.Wrap(sysexits.Config, err)
	}
	ts := auth.TokenSource(ctx, store, acct.Name, purpose, oauthCfg)
	if opts.tokenWait > 0 {
		if err := warmToken(ts, opts.tokenWait); err != nil {
			return nil, err
		}
	}
	svc, err := gmailapi.NewService(ctx, endpoints.API, ts)
	if err != nil {
		return nil, sysexits.Wrap(sysexits.Config, err)
	}
	client := gmailapi.NewClient(svc, opts.meter, logger)
	client.SetTokenInvalidator(ts)
	return client, nil
}

// apiExit attaches the exit code that fits a failed Gmail call, unless a
// lower layer already attached one (the auth package does for revoked
// grants).
func apiExit(err error, acct *config.Account, purpose auth.Purpose) error {
	if err == nil || sysexits.Code(err) != sysexits.Software {
		return err
	}
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return sysexits.Wrap(sysexits.IOErr, err)
	}
	switch gmailapi.Classify(err) {
	case gmailapi.Auth:
		return sysexits.Wrap(sysexits.NoPerm, fmt.Errorf("the %s grant of account %s was rejected by Gmail even after a token refresh: run gmsync auth login --account %s --for %s (%w)", purpose, acct.Name, acct.Name, purpose, err))
	case gmailapi.Temporary, gmailapi.RateLimited:
		return sysexits.Wrap(sysexits.TempFail, err)
	default:
		return sysexits.Wrap(sysexits.Unavailable, err)
	}
}

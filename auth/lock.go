package auth

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"

	"github.com/gmsync/gmsync/config"
	"github.com/gmsync/gmsync/internal/sysexits"
)

// lockWait bounds how long a refresh waits for another process's refresh of
// the same grant, which takes one token request and one keyring write.
const lockWait = time.Minute

// lockGrant takes the file lock that serializes refresh-and-store of one
// grant between processes, so two processes that find an expired access
// token refresh once and the second reuses the first's token. The lock file
// lives in the account's state directory and holds nothing.
func lockGrant(ctx context.Context, account string, p Purpose) (unlock func(), err error) {
	dir, err := config.StateDir(account)
	if err != nil {
		return nil, sysexits.Wrap(sysexits.IOErr, fmt.Errorf("locking the %s grant of account %s: %w", p, account, err))
	}
	path := filepath.Join(dir, "grant-"+string(p)+".lock")
	lock := flock.New(path, flock.SetPermissions(0o600))

	ctx, cancel := context.WithTimeout(ctx, lockWait)
	defer cancel()
	locked, err := lock.TryLockContext(ctx, 50*time.Millisecond)
	if err != nil && !locked {
		return nil, sysexits.Wrap(sysexits.TempFail, fmt.Errorf("waiting for lock %s, held by another gmsync refreshing the same grant: %w", path, err))
	}
	return func() { _ = lock.Unlock() }, nil
}

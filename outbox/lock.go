package outbox

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
)

// ErrBusy is returned by Lock when another process holds the outbox lock
// for longer than the wait.
var ErrBusy = errors.New("another gmsync process is flushing this outbox")

// lockName is the lock file in the outbox directory. It holds nothing.
const lockName = "flush.lock"

// Locked is a queue whose file lock this process holds. Entries change only
// through it, so two flushes never send the same message.
type Locked struct {
	*Queue
	lock *flock.Flock
}

// Lock takes the outbox's file lock, waiting up to wait for another
// process to release it, and returns ErrBusy when it does not. The lock is
// released by Unlock, or by the kernel when the process dies.
func (q *Queue) Lock(ctx context.Context, wait time.Duration) (*Locked, error) {
	path := filepath.Join(q.dir, lockName)
	l := flock.New(path, flock.SetPermissions(0o600))
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	locked, err := l.TryLockContext(ctx, 20*time.Millisecond)
	if locked {
		return &Locked{Queue: q, lock: l}, nil
	}
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		return nil, fmt.Errorf("locking %s: %w", path, ErrBusy)
	}
	return nil, fmt.Errorf("locking %s: %w", path, err)
}

// Unlock releases the lock. The Locked value must not be used afterwards.
func (l *Locked) Unlock() error {
	if err := l.lock.Unlock(); err != nil {
		return fmt.Errorf("unlocking %s: %w", l.lock.Path(), err)
	}
	return nil
}

//go:build !((dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd)

package auth

import (
	"fmt"

	"github.com/gmsync/gmsync/internal/sysexits"
)

// explainKeyringError gives a failed Keychain or Credential Manager call
// exit code 69. Those keyrings come with the desktop, so there is no
// repair to try.
func explainKeyringError(opErr error, _ func() error) error {
	return sysexits.Wrap(sysexits.Unavailable, fmt.Errorf("using the system keyring: %w", opErr))
}

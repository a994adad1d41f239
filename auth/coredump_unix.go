//go:build unix

package auth

import (
	"fmt"
	"syscall"
)

// DisableCoreDumps sets the process's core file size limit to zero, so a
// crash of a process that holds tokens in memory leaves no core file with
// them. Call it at the start of every command that loads a grant. It does
// not stop a debugger or another process of the same user from reading
// memory.
func DisableCoreDumps() error {
	if err := syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{Cur: 0, Max: 0}); err != nil {
		return fmt.Errorf("disabling core dumps: %w", err)
	}
	return nil
}

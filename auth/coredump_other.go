//go:build !unix

package auth

// DisableCoreDumps does nothing on systems without setrlimit, such as
// Windows, whose crash dumps are configured system-wide.
func DisableCoreDumps() error { return nil }

// Package sysexits maps gmsync's errors to the exit codes of sysexits.h,
// which mail clients such as mutt, aerc and git send-email understand.
//
// Packages wrap an error with a code once, where the cause is known
// (a usage error, an unreadable message, a revoked grant); the command layer
// turns the outermost code into the process exit status with Code.
package sysexits

import "errors"

// Exit codes from sysexits.h.
const (
	OK          = 0
	Usage       = 64 // EX_USAGE: the command was used incorrectly
	DataErr     = 65 // EX_DATAERR: the input message is malformed
	NoInput     = 66 // EX_NOINPUT: an input file did not exist or was unreadable
	Unavailable = 69 // EX_UNAVAILABLE: a service is unavailable
	Software    = 70 // EX_SOFTWARE: an internal error
	IOErr       = 74 // EX_IOERR: an error while doing I/O on a file
	TempFail    = 75 // EX_TEMPFAIL: a temporary failure; the caller may retry later
	NoPerm      = 77 // EX_NOPERM: missing or refused authorization
	Config      = 78 // EX_CONFIG: the configuration is missing or invalid
)

// Error carries an exit code together with the error that caused it.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Wrap returns err annotated with code, or nil when err is nil.
func Wrap(code int, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Err: err}
}

// Code returns the exit code for err: 0 for nil, the code of the outermost
// *Error in its chain, and Software when no code was attached.
func Code(err error) int {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Software
}

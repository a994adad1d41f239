package sendmail

import "errors"

// ErrHelp is returned by Parse for --help, so that the caller prints the
// usage text and exits 0.
var ErrHelp = errors.New("help requested")

// ErrNoAccount is wrapped by the SelectAccount errors that come from the
// configuration rather than the command line: no accounts at all, or
// several accounts and none of them chosen by the sender or marked default.
var ErrNoAccount = errors.New("no account to send from")

// UsageError reports a command line or recipient set that cannot be used,
// such as an unknown option or a message without recipients. The command
// exits with EX_USAGE (64).
type UsageError struct {
	// Option is the option at fault as written ("-bs", "--account"), or
	// empty when no single option is at fault.
	Option string
	// Message is the complete error text, including what to do.
	Message string
}

func (e *UsageError) Error() string { return e.Message }

// DataError reports a message that cannot be sent as it is: empty input, an
// invalid recipient address, a NUL byte in a header field, or a size over
// MaxMessageSize. The command exits with EX_DATAERR (65).
type DataError struct {
	// Message is the error text; it names the offending value.
	Message string
	// Err is the underlying cause, such as a net/mail parse error, or nil.
	Err error
}

func (e *DataError) Error() string {
	if e.Err == nil {
		return e.Message
	}
	return e.Message + ": " + e.Err.Error()
}

func (e *DataError) Unwrap() error { return e.Err }

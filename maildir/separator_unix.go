//go:build !windows

package maildir

// infoSeparator separates a Maildir key from its info part. It matches the
// separator of github.com/emersion/go-maildir.
const infoSeparator = ':'

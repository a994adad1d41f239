//go:build windows

package maildir

// infoSeparator separates a Maildir key from its info part. Windows forbids
// ':' in file names, so this matches go-maildir's choice there.
const infoSeparator = ';'

package maildir

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// keySuffix ends every key that gmsync writes, so its files are recognisable
// among those a mail client adds.
const keySuffix = ".gmsync"

// maxGmailIDLen bounds the Gmail id inside a key; Gmail's ids are 16 hex
// digits.
const maxGmailIDLen = 128

// FormatKey returns the Maildir key of a Gmail message:
// "<internalDate in Unix seconds>.<gmail id>.gmsync".
func FormatKey(internalDate time.Time, gmailID string) string {
	return strconv.FormatInt(internalDate.Unix(), 10) + "." + gmailID + keySuffix
}

// ParseKey returns the Gmail id inside a file name that FormatKey made, with
// or without the ":2,FLAGS" info part, and false for any other name.
func ParseKey(name string) (gmailID string, ok bool) {
	key, _, _ := strings.Cut(name, string(infoSeparator))
	rest, ok := strings.CutSuffix(key, keySuffix)
	if !ok {
		return "", false
	}
	seconds, id, ok := strings.Cut(rest, ".")
	if !ok || checkGmailID(id) != nil {
		return "", false
	}
	if _, err := strconv.ParseInt(seconds, 10, 64); err != nil {
		return "", false
	}
	return id, true
}

// checkGmailID rejects an id that cannot sit safely inside a file name. Gmail
// ids are hex; the check also admits letters, '_' and '-'.
func checkGmailID(id string) error {
	if id == "" || len(id) > maxGmailIDLen {
		return fmt.Errorf("invalid gmail message id %q: want 1 to %d characters", id, maxGmailIDLen)
	}
	for _, r := range id {
		ok := r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' || r == '-'
		if !ok {
			return fmt.Errorf("invalid gmail message id %q: want letters, digits, '_' or '-'", id)
		}
	}
	return nil
}

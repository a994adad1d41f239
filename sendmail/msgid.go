package sendmail

import (
	"encoding/base32"
	"fmt"
	"io"
	"strings"
)

// fallbackDomain is the Message-ID domain when Env names none. The .invalid
// top-level domain is reserved (RFC 2606), so the id cannot clash with a
// real host's.
const fallbackDomain = "gmsync.invalid"

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newMessageID returns a Message-ID value without angle brackets: 128
// random bits, base32 in lower case, at domain.
func newMessageID(random io.Reader, domain string) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return "", fmt.Errorf("reading random bytes for the Message-ID: %w", err)
	}
	return strings.ToLower(idEncoding.EncodeToString(b[:])) + "@" + domain, nil
}

// messageIDDomain returns the domain for new Message-IDs: env.Domain, else
// the domain of env.Address, else fallbackDomain.
func messageIDDomain(env Env) string {
	if d := strings.TrimSpace(env.Domain); d != "" {
		return d
	}
	if at := strings.LastIndexByte(env.Address, '@'); at >= 0 {
		if d := strings.Trim(env.Address[at+1:], " \t>"); d != "" {
			return d
		}
	}
	return fallbackDomain
}

// messageIDs returns the message ids in a Message-ID, In-Reply-To or
// References value, without angle brackets and blanks. It is lenient, like
// the threading it feeds: whatever is outside angle brackets (phrases from
// old mailers, comments) is skipped, and so are empty brackets.
func messageIDs(value string) []string {
	var ids []string
	for {
		open := strings.IndexByte(value, '<')
		if open < 0 {
			return ids
		}
		end := strings.IndexByte(value[open:], '>')
		if end < 0 {
			return ids
		}
		id := strings.Join(strings.Fields(value[open+1:open+end]), "")
		if id != "" {
			ids = append(ids, id)
		}
		value = value[open+end+1:]
	}
}

package sendmail

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"strings"
	"unicode/utf8"
)

// addressParser parses address lists without decoding display names into
// UTF-8: an encoded word in an unknown charset keeps its raw bytes instead of
// failing the parse, because only the addr-spec matters here.
var addressParser = mail.AddressParser{
	WordDecoder: &mime.WordDecoder{
		CharsetReader: func(_ string, input io.Reader) (io.Reader, error) {
			return input, nil
		},
	},
}

// errBadUTF8 reports an address whose addr-spec contains bytes that are not
// UTF-8, such as a Latin-1 local part.
var errBadUTF8 = errors.New("address contains bytes that are not UTF-8")

// parseAddressList returns the addr-specs of an address list as written in a
// header field or a command-line argument. It accepts groups
// ("undisclosed-recipients:;"), empty list items and blank input, which
// yield no addresses. Display names with raw 8-bit bytes that are not UTF-8
// (common in old mail) are tolerated, and so are comments anywhere, source
// routes ("<@relay:a@example.com>") and blanks around the dots of an
// addr-spec (RFC 5322 section 4.4). An addr-spec with bytes that are not
// UTF-8 is an error.
func parseAddressList(list string) ([]string, error) {
	if strings.Trim(list, " \t\r\n") == "" {
		return nil, nil
	}
	addrs, err := addressParser.ParseList(list)
	if err != nil {
		// Retry with the invalid bytes replaced, so that a Latin-1 display
		// name parses, and without the comments, routes and blanks around
		// dots that RFC 5322 allows but net/mail rejects. An address that
		// held invalid bytes now contains U+FFFD and is rejected below.
		if lenient := normalizeObsolete(strings.ToValidUTF8(list, "\uFFFD")); lenient != list {
			addrs, err = addressParser.ParseList(lenient)
		}
	}
	if err != nil {
		return nil, err
	}
	specs := make([]string, 0, len(addrs))
	for _, a := range addrs {
		if strings.ContainsRune(a.Address, utf8.RuneError) {
			return nil, fmt.Errorf("%w: %q", errBadUTF8, a.Address)
		}
		specs = append(specs, a.Address)
	}
	return specs, nil
}

// parseAddress returns the addr-spec of a single address such as a From
// field or an -f argument, with or without angle brackets and display name.
// It returns "" for blank input and for the null sender "<>".
func parseAddress(s string) (string, error) {
	s = strings.Trim(s, " \t\r\n")
	if s == "" || s == "<>" {
		return "", nil
	}
	specs, err := parseAddressList(s)
	if err != nil {
		return "", err
	}
	if len(specs) == 0 {
		return "", nil
	}
	return specs[0], nil
}

// formatAddrSpec returns addr as it must be written in a header field:
// net/mail returns local parts unquoted (`john doe@example.com`), so a local
// part that needs quotes gets them back (`"john doe"@example.com`).
func formatAddrSpec(addr string) string {
	s := (&mail.Address{Address: addr}).String()
	return strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
}

// addressKey returns the form under which two addr-specs compare equal.
// Addresses compare case-insensitively as a whole, as Gmail treats them,
// although RFC 5321 leaves the case of the local part to the receiving host.
func addressKey(addr string) string {
	return strings.ToLower(addr)
}

// normalizeObsolete rewrites an address list into the syntax net/mail
// parses: comments become a blank, the route of a route-addr is dropped, and
// blanks next to "." or "@" outside quoted strings are removed. Display
// names may change; addr-specs keep their meaning.
func normalizeObsolete(list string) string {
	out := make([]byte, 0, len(list))
	var quoted, escaped, afterAngle bool
	depth := 0
	for i := 0; i < len(list); i++ {
		c := list[i]
		switch {
		case escaped:
			escaped = false
		case c == '\\' && (quoted || depth > 0):
			escaped = true
		case quoted:
			quoted = c != '"'
		case c == '(':
			depth++
			continue
		case depth > 0:
			if c == ')' {
				depth--
				if depth == 0 {
					out = append(out, ' ')
				}
			}
			continue
		case c == '"':
			quoted = true
		case c == '@' && afterAngle:
			// A route "@relay,@relay2:" ends at the first colon.
			if colon := strings.IndexByte(list[i:], ':'); colon >= 0 {
				i += colon
				afterAngle = false
				continue
			}
		case c == '.' || c == '@':
			out = append(bytes.TrimRight(out, " \t"), c)
			for i+1 < len(list) && (list[i+1] == ' ' || list[i+1] == '\t') {
				i++
			}
			afterAngle = false
			continue
		}
		if depth == 0 {
			out = append(out, c)
		}
		if c != ' ' && c != '\t' {
			afterAngle = c == '<' && !quoted
		}
	}
	return string(out)
}

package maildir

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// NameMax is the maximum length in bytes of one directory name that the
// package writes. Filesystems allow 255 (NAME_MAX on Linux, the BSDs and
// macOS), but Xapian, under notmuch and mu, rejects terms over 245 bytes and
// notmuch indexes each directory name as a term with a prefix of its own
// ("XDDIRENTRY<id>:"), so a 230-byte name already stops `notmuch new`.
const NameMax = 200

// maxSuffixID is the longest escaped label id that a collision suffix spells
// out; a longer id is replaced by its hash.
const maxSuffixID = 64

// finishName appends suffix to an escaped directory name and shortens the
// result to NameMax bytes: it keeps a prefix of name and adds "~~" and 16 hex
// digits of the SHA-256 of the whole name, then the suffix.
func finishName(name, suffix string) string {
	if len(name)+len(suffix) <= NameMax {
		return name + suffix
	}
	mark := string(suffixMark) + string(suffixMark) + shortHash(name)
	keep := NameMax - len(mark) - len(suffix)
	return cutEscaped(name, keep) + mark + suffix
}

// collisionSuffix returns the suffix of a folder that lost a collision: '~'
// and the escaped label id.
func collisionSuffix(layout Layout, labelID string) string {
	id := escapeComponent(layout, labelID)
	if len(id) > maxSuffixID {
		id = shortHash(labelID)
	}
	return string(suffixMark) + id
}

// shortHash returns 16 hex digits of the SHA-256 of s.
func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

// cutEscaped returns the longest prefix of the escaped name s of at most n
// bytes that splits neither a %XX escape nor a UTF-8 sequence.
func cutEscaped(s string, n int) string {
	i := 0
	for i < len(s) {
		step := 3
		if s[i] != '%' {
			_, step = utf8.DecodeRuneInString(s[i:])
		}
		step = min(step, len(s)-i)
		if i+step > n {
			break
		}
		i += step
	}
	return s[:i]
}

// foldKey returns the form of an on-disk name under which case-insensitive
// and normalization-insensitive filesystems (APFS and HFS+ on macOS, NTFS)
// may treat two names as the same: NFD, then Unicode simple case folding.
// It errs towards reporting more collisions than a given filesystem has.
func foldKey(s string) string {
	return strings.Map(foldRune, norm.NFD.String(s))
}

// foldRune returns the smallest rune of r's simple case folding orbit, so
// that 'K', 'k' and KELVIN SIGN all map to the same rune.
func foldRune(r rune) rune {
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < least {
			least = f
		}
	}
	return least
}

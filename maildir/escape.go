package maildir

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-maildir/maildirpp"
)

const (
	// emptyComponent is the on-disk form of an empty label name. A lone '%'
	// cannot come from escaping, which always writes '%' with two hex digits.
	emptyComponent = "%"

	// suffixMark starts the collision suffix and the shortening mark. Escaping
	// encodes every '~' of a label name, so a raw '~' on disk is always ours.
	suffixMark = '~'

	// maxDepth and maxNestedPath bound the directories of one nested folder.
	maxDepth      = 32
	maxNestedPath = 1024
)

// ErrShortened reports a folder name that was shortened to fit NameMax.
// Such a name cannot be decoded back to its label name: look the label up by
// its id with Mapper.Dir instead.
var ErrShortened = errors.New("folder name was shortened and cannot be decoded")

// EscapeLabel returns the relative directory that holds a label named name in
// layout, before any collision suffix: components joined by the OS path
// separator for Nested, one ".A.B" directory name for MaildirPlusPlus.
// Components longer than NameMax bytes are shortened (see the package
// comment). The result is never empty, absolute or outside the root.
func EscapeLabel(layout Layout, name string) string {
	comps := escapeComponents(layout, name)
	if layout == MaildirPlusPlus {
		return finishName(flatName(comps), "")
	}
	for i, c := range comps {
		comps[i] = finishName(c, "")
	}
	return filepath.Join(comps...)
}

// UnescapeLabel decodes a directory written by EscapeLabel or by a Mapper
// back to the label name, dropping any collision suffix. It returns
// ErrShortened for a shortened name and an error for a directory that
// escaping cannot produce.
func UnescapeLabel(layout Layout, dir string) (string, error) {
	var comps []string
	if layout == MaildirPlusPlus {
		parts, err := maildirpp.Split(dir)
		if err != nil || dir == "." {
			return "", fmt.Errorf("decoding folder %q: not a Maildir++ folder name", dir)
		}
		comps = parts
	} else {
		comps = strings.Split(filepath.ToSlash(dir), "/")
	}

	names := make([]string, len(comps))
	for i, c := range comps {
		name, err := unescapeComponent(c)
		if err != nil {
			return "", fmt.Errorf("decoding folder %q: %w", dir, err)
		}
		names[i] = name
	}
	return strings.Join(names, "/"), nil
}

// escapeComponents splits a label name at its hierarchy separators and
// escapes each component for layout.
func escapeComponents(layout Layout, name string) []string {
	parts := splitHierarchy(name)
	if layout == Nested {
		parts = boundNesting(parts)
	}
	for i, p := range parts {
		parts[i] = escapeComponent(layout, p)
	}
	return parts
}

// flatName joins escaped components into one Maildir++ directory name.
// Escaping removed every '.' from the components, so maildirpp.Join accepts
// them.
func flatName(comps []string) string {
	name, err := maildirpp.Join(comps)
	if err != nil {
		panic(fmt.Sprintf("maildir: escaped component contains a dot: %v", err))
	}
	return name
}

// splitHierarchy splits name at each '/' that has text on both sides. Any
// other '/' (leading, trailing or doubled) stays inside a component, where
// escaping encodes it, so a component is empty only when the whole name is.
func splitHierarchy(name string) []string {
	var out []string
	start := 0
	for i := 0; i < len(name); i++ {
		if name[i] == '/' && i > start && i+1 < len(name) && name[i+1] != '/' {
			out = append(out, name[start:i])
			start = i + 1
		}
	}
	return append(out, name[start:])
}

// boundNesting merges the components from the maxDepth-th on, or from the
// one that would take the escaped path over maxNestedPath bytes, into one
// component in which escaping keeps the '/' characters. So a nested folder's
// path stays well under PATH_MAX (4096 bytes on Linux), and it stays
// reversible unless the merged component needs shortening.
func boundNesting(parts []string) []string {
	total := 0
	for i, p := range parts {
		n := min(len(escapeComponent(Nested, p)), NameMax) + 1
		if i == maxDepth-1 || total+n > maxNestedPath {
			return append(parts[:i:i], strings.Join(parts[i:], "/"))
		}
		total += n
	}
	return parts
}

// escapeComponent percent-encodes the bytes of one hierarchy component that
// are unsafe or special on disk.
func escapeComponent(layout Layout, c string) string {
	if c == "" {
		return emptyComponent
	}

	var b strings.Builder
	for i := 0; i < len(c); {
		r, size := utf8.DecodeRuneInString(c[i:])
		if mustEscape(layout, r, size, i == 0) {
			for j := i; j < i+size; j++ {
				writeEscaped(&b, c[j])
			}
		} else {
			b.WriteString(c[i : i+size])
		}
		i += size
	}

	s := b.String()
	if isMaildirSubdir(s) {
		var first strings.Builder
		writeEscaped(&first, s[0])
		s = first.String() + s[1:]
	}
	return s
}

// writeEscaped writes c as '%' and two upper-case hex digits.
func writeEscaped(b *strings.Builder, c byte) {
	const hexDigits = "0123456789ABCDEF"
	b.WriteByte('%')
	b.WriteByte(hexDigits[c>>4])
	b.WriteByte(hexDigits[c&0xF])
}

// mustEscape reports whether the rune r, size bytes long, is escaped.
func mustEscape(layout Layout, r rune, size int, first bool) bool {
	switch {
	case r == utf8.RuneError && size == 1:
		return true // not UTF-8; APFS rejects such names
	case unicode.IsControl(r):
		return true // C0, DEL and C1 controls
	case isBidiControl(r):
		return true // would reorder how the whole path displays
	case r == '.':
		return first || layout == MaildirPlusPlus
	}
	return strings.ContainsRune(`%/\:~`, r)
}

// isBidiControl reports the explicit embedding, override and isolate
// characters of Unicode's bidirectional algorithm (UAX #9).
func isBidiControl(r rune) bool {
	return (r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069')
}

// isMaildirSubdir reports whether s names a Maildir subdirectory in any
// letter case, which a folder name must not do because a nested folder holds
// its children beside its own cur, new and tmp.
func isMaildirSubdir(s string) bool {
	return strings.EqualFold(s, "cur") || strings.EqualFold(s, "new") || strings.EqualFold(s, "tmp")
}

// unescapeComponent decodes one on-disk component, dropping a collision
// suffix.
func unescapeComponent(c string) (string, error) {
	if i := strings.IndexRune(c, suffixMark); i >= 0 {
		if strings.HasPrefix(c[i+1:], string(suffixMark)) {
			return "", ErrShortened
		}
		c = c[:i]
	}
	if c == emptyComponent {
		return "", nil
	}
	if c == "" {
		return "", errors.New("empty component")
	}

	var b strings.Builder
	for i := 0; i < len(c); i++ {
		if c[i] != '%' {
			b.WriteByte(c[i])
			continue
		}
		v, ok := decodeHexByte(c[i+1:])
		if !ok {
			return "", fmt.Errorf("invalid escape at byte %d of %q", i, c)
		}
		b.WriteByte(v)
		i += 2
	}
	return b.String(), nil
}

// decodeHexByte decodes the two upper-case hex digits at the start of s.
func decodeHexByte(s string) (byte, bool) {
	if len(s) < 2 {
		return 0, false
	}
	hi, ok1 := hexDigit(s[0])
	lo, ok2 := hexDigit(s[1])
	return hi<<4 | lo, ok1 && ok2
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

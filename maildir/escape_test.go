package maildir

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// trickyLabels are label names that exercise every escaping rule, beyond
// those of the shared corpus.
var trickyLabels = []string{
	"",
	"/",
	"//",
	"a/",
	"/a",
	"a//b",
	"a/./b",
	"a/../b",
	".",
	"..",
	"...",
	"../../../../etc/passwd",
	"x/../../etc",
	".hidden/.x",
	"cur",
	"NEW",
	"Tmp/cur/new",
	"cur.tmp",
	"%",
	"%25",
	"%2F",
	"100%",
	"~",
	"a~Label_1",
	"a~~0123456789abcdef",
	"nul\x00byte",
	"bell\x07and\x7fdel",
	"c1\u0085control",
	"\u202eevil\u2066iso\u2069",
	"bad\xffutf8\xc3",
	"back\\slash\\",
	"C:\\Windows",
	"Invoices: Q1",
	"dots.in.name",
	"a/b.c/d",
	"tab\t/\nnewline",
	"Café/Cafe\u0301",
	"日本語/メール",
	"👨‍👩‍👧 Family",
	strings.Repeat("x", 255),
	strings.Repeat("x", 256),
	strings.Repeat("%", 100),
	strings.Repeat("é", 200),
	strings.Repeat("a/", 40) + strings.Repeat(".", 300),
	strings.Repeat("日本語", 29),
}

func TestEscapeLabelNested(t *testing.T) {
	tests := []struct{ name, want string }{
		{"Work/Projects/2024", "Work/Projects/2024"},
		{"Work/", "Work%2F"},
		{"/Leading", "%2FLeading"},
		{"a//b", "a%2F/b"},
		{".", "%2E"},
		{"..", "%2E."},
		{"../x", "%2E./x"},
		{"x/../../etc", "x/%2E./%2E./etc"},
		{".hidden", "%2Ehidden"},
		{"Ends with dot.", "Ends with dot."},
		{"Receipts.2024", "Receipts.2024"},
		{"Tab\there", "Tab%09here"},
		{"50% off", "50%25 off"},
		{"back\\slash", "back%5Cslash"},
		{"Invoices: Q1", "Invoices%3A Q1"},
		{"a~b", "a%7Eb"},
		{"tmp", "%74mp"},
		{"Work/CUR", "Work/%43UR"},
		{"curious", "curious"},
		{"", "%"},
		{"\u202etxt.exe", "%E2%80%AEtxt.exe"},
		{"bad\xff", "bad%FF"},
		{"Café", "Café"},
		{"[Gmail]/All Mail", "[Gmail]/All Mail"},
	}
	for _, tt := range tests {
		want := filepath.FromSlash(tt.want)
		if got := EscapeLabel(Nested, tt.name); got != want {
			t.Errorf("EscapeLabel(Nested, %q) = %q, want %q", tt.name, got, want)
		}
	}
}

func TestEscapeLabelMaildirPlusPlus(t *testing.T) {
	tests := []struct{ name, want string }{
		{"Work/Projects", ".Work.Projects"},
		{"Receipts.2024", ".Receipts%2E2024"},
		{"Receipts/2024", ".Receipts.2024"},
		{".hidden", ".%2Ehidden"},
		{"..", ".%2E%2E"},
		{"INBOX", ".INBOX"},
		{"a//b", ".a%2F.b"},
		{"tmp", ".%74mp"},
		{"", ".%"},
	}
	for _, tt := range tests {
		if got := EscapeLabel(MaildirPlusPlus, tt.name); got != tt.want {
			t.Errorf("EscapeLabel(MaildirPlusPlus, %q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestEscapeLabelShortensLongNames(t *testing.T) {
	long := strings.Repeat("日本語", 29) // 261 bytes in one component
	for _, layout := range []Layout{Nested, MaildirPlusPlus} {
		dir := EscapeLabel(layout, long)
		if len(dir) > NameMax {
			t.Errorf("len(EscapeLabel(%v, 261-byte name)) = %d, want at most %d", layout, len(dir), NameMax)
		}
		if !utf8.ValidString(dir) {
			t.Errorf("EscapeLabel(%v, 261-byte name) = %q, want valid UTF-8", layout, dir)
		}
		if _, err := UnescapeLabel(layout, dir); !errors.Is(err, ErrShortened) {
			t.Errorf("UnescapeLabel(%v, %q) error = %v, want ErrShortened", layout, dir, err)
		}
	}

	other := strings.Repeat("日本語", 28) + "日本本"
	if EscapeLabel(Nested, long) == EscapeLabel(Nested, other) {
		t.Errorf("EscapeLabel(Nested, …) gave two long names sharing a prefix the same directory %q", EscapeLabel(Nested, long))
	}
}

func TestEscapeLabelBoundsNesting(t *testing.T) {
	tests := []struct {
		name      string
		wantDepth int
	}{
		{strings.Repeat("L/", 40) + "end", maxDepth},
		{strings.Repeat(strings.Repeat("x", 200)+"/", 10) + "end", 6},
		{strings.Repeat("L/", 10) + "end", 11},
	}
	for _, tt := range tests {
		dir := EscapeLabel(Nested, tt.name)
		if got := len(strings.Split(filepath.ToSlash(dir), "/")); got != tt.wantDepth {
			t.Errorf("depth of EscapeLabel(Nested, %.20q…) = %d, want %d", tt.name, got, tt.wantDepth)
		}
		if len(dir) > maxNestedPath+NameMax {
			t.Errorf("len(EscapeLabel(Nested, %.20q…)) = %d, want at most %d", tt.name, len(dir), maxNestedPath+NameMax)
		}
		checkEscape(t, Nested, tt.name)
	}
}

func TestEscapeLabelMaildirPlusPlusFlattenedLength(t *testing.T) {
	name := "Archive/Year 2024/" + strings.Repeat("Quarterly-report-", 14) + "x"
	dir := EscapeLabel(MaildirPlusPlus, name)
	if len(dir) > NameMax {
		t.Errorf("len(EscapeLabel(MaildirPlusPlus, %q)) = %d, want at most %d", name, len(dir), NameMax)
	}
	if !strings.HasPrefix(dir, ".Archive.Year 2024.Quarterly-report-") {
		t.Errorf("EscapeLabel(MaildirPlusPlus, %q) = %q, want the readable prefix kept", name, dir)
	}
}

func TestUnescapeLabelRoundTrip(t *testing.T) {
	for _, layout := range []Layout{Nested, MaildirPlusPlus} {
		for _, name := range trickyLabels {
			checkEscape(t, layout, name)
		}
	}
}

func TestUnescapeLabelDropsSuffix(t *testing.T) {
	tests := []struct {
		layout Layout
		dir    string
		want   string
	}{
		{Nested, "INBOX~Label_7", "INBOX"},
		{Nested, filepath.FromSlash("Projects~Label_3/A"), "Projects/A"},
		{MaildirPlusPlus, ".Work.Projects~Label_9", "Work/Projects"},
		{Nested, "%~Label_1", ""},
	}
	for _, tt := range tests {
		got, err := UnescapeLabel(tt.layout, tt.dir)
		if err != nil || got != tt.want {
			t.Errorf("UnescapeLabel(%v, %q) = %q, %v, want %q, nil", tt.layout, tt.dir, got, err, tt.want)
		}
	}
}

func TestUnescapeLabelRejectsInvalid(t *testing.T) {
	tests := []struct {
		layout Layout
		dir    string
	}{
		{Nested, "bad%2"},
		{Nested, "bad%zz"},
		{Nested, "lower%2e"},
		{Nested, filepath.FromSlash("a//b")},
		{MaildirPlusPlus, "."},
		{MaildirPlusPlus, "Work"},
	}
	for _, tt := range tests {
		if got, err := UnescapeLabel(tt.layout, tt.dir); err == nil {
			t.Errorf("UnescapeLabel(%v, %q) = %q, nil, want an error", tt.layout, tt.dir, got)
		}
	}
}

// checkEscape checks that the escaped form of name is a safe directory inside
// the root and decodes back to name unless it was shortened.
func checkEscape(t testing.TB, layout Layout, name string) {
	t.Helper()
	dir := EscapeLabel(layout, name)
	checkSafeDir(t, layout, dir)

	got, err := UnescapeLabel(layout, dir)
	if errors.Is(err, ErrShortened) {
		if !strings.Contains(dir, "~~") {
			t.Errorf("UnescapeLabel(%v, %q) = ErrShortened for a name that was not shortened", layout, dir)
		}
		return
	}
	if err != nil || got != name {
		t.Errorf("UnescapeLabel(%v, EscapeLabel(%q) = %q) = %q, %v, want %q, nil", layout, name, dir, got, err, name)
	}
}

// checkSafeDir checks that dir stays inside a root after filepath.Clean and
// that every component is a harmless directory name.
func checkSafeDir(t testing.TB, layout Layout, dir string) {
	t.Helper()
	if layout == MaildirPlusPlus && dir == "." {
		return // the INBOX is the root itself
	}
	root := filepath.FromSlash("/srv/mail/root")
	joined := filepath.Clean(filepath.Join(root, dir))
	if !strings.HasPrefix(joined, root+string(filepath.Separator)) {
		t.Errorf("directory %q resolves to %q, outside root %q", dir, joined, root)
	}
	if filepath.Clean(dir) != dir {
		t.Errorf("directory %q is not clean: filepath.Clean gives %q", dir, filepath.Clean(dir))
	}

	comps := strings.Split(filepath.ToSlash(dir), "/")
	if layout == MaildirPlusPlus && (len(comps) != 1 || !strings.HasPrefix(dir, ".")) {
		t.Errorf("Maildir++ directory %q is not one name starting with '.'", dir)
	}
	for _, c := range comps {
		checkSafeComponent(t, layout, dir, c)
	}
}

func checkSafeComponent(t testing.TB, layout Layout, dir, c string) {
	t.Helper()
	switch {
	case len(c) > NameMax:
		t.Errorf("directory %q has a %d-byte component, over NameMax", dir, len(c))
	case c == "" || c == "." || c == "..":
		t.Errorf("directory %q has the component %q", dir, c)
	case isMaildirSubdir(c):
		t.Errorf("directory %q has the Maildir subdirectory name %q", dir, c)
	case layout == Nested && strings.HasPrefix(c, "."):
		t.Errorf("directory %q has the hidden component %q", dir, c)
	case !utf8.ValidString(c):
		t.Errorf("directory %q has a component that is not UTF-8", dir)
	case strings.ContainsAny(c, "\\:\x00"):
		t.Errorf("directory %q has a component with '\\', ':' or NUL", dir)
	}
	for _, r := range c {
		if r < 0x20 || r == 0x7f {
			t.Errorf("directory %q has the control character %U", dir, r)
		}
	}
}

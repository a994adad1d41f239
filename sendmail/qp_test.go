package sendmail

import (
	"bytes"
	"io"
	"mime/quotedprintable"
	"strings"
	"testing"
)

func TestEncodeQuotedPrintable(t *testing.T) {
	seventySix := strings.Repeat("0123456789", 7) + "abcdef"
	tests := []struct {
		name string
		body string
		eol  string
		want string
	}{
		{"empty", "", "\n", ""},
		{"plain line", "hello, world\n", "\n", "hello, world\n"},
		{"equals sign", "a=b\n", "\n", "a=3Db\n"},
		{"trailing space", "end \n", "\n", "end=20\n"},
		{"trailing tab CRLF", "end\t\r\n", "\r\n", "end=09\r\n"},
		{"inner blanks", "a \tb\n", "\n", "a \tb\n"},
		{"blank line kept", "a\n\nb\n", "\n", "a\n\nb\n"},
		{"8-bit bytes", "caf\xc3\xa9\n", "\n", "caf=C3=A9\n"},
		{"bare CR", "a\rb\n", "\n", "a=0Db\n"},
		{"CR before CRLF", "a\r\r\n", "\r\n", "a=0D\r\n"},
		{"mixed endings", "a\r\nb\nc", "\r\n", "a\r\nb\nc"},
		{"mbox From line", "From here\nFrom\n", "\n", "=46rom here\nFrom\n"},
		{"dashes at line start", "-- \n--boundary\na-b\n", "\n", "=2D-=20\n=2D-boundary\na-b\n"},
		{"76 bytes", seventySix + "\n", "\n", seventySix + "\n"},
		{"77 bytes", seventySix + "g\n", "\n", seventySix[:75] + "=\n" + "fg\n"},
		{"77 bytes CRLF", seventySix + "g\r\n", "\n", seventySix[:75] + "=\r\n" + "fg\r\n"},
		{"last line soft break uses eol", seventySix + "g", "\r\n", seventySix[:75] + "=\r\n" + "fg"},
		{"escape not split", strings.Repeat("a", 74) + "=b\n", "\n", strings.Repeat("a", 74) + "=\n=3Db\n"},
		{"trailing blank at 76", strings.Repeat("a", 74) + "b \n", "\n", strings.Repeat("a", 74) + "b=\n=20\n"},
		{"dash after soft break", strings.Repeat("a", 75) + "--b\n", "\n", strings.Repeat("a", 75) + "=\n=2D-b\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(encodeQuotedPrintable([]byte(tt.body), tt.eol))
			if got != tt.want {
				t.Errorf("encodeQuotedPrintable(%q, %q) = %q, want %q", tt.body, tt.eol, got, tt.want)
			}
		})
	}
}

func TestHasLongLine(t *testing.T) {
	tests := []struct {
		body string
		want bool
	}{
		{"", false},
		{strings.Repeat("x", 76) + "\r\n", false},
		{strings.Repeat("x", 76), false},
		{"short\n" + strings.Repeat("x", 77) + "\nshort\n", true},
		{strings.Repeat("x", 77), true},
		{strings.Repeat("\xc3\xa9", 39) + "\n", true},
	}
	for _, tt := range tests {
		if got := hasLongLine([]byte(tt.body)); got != tt.want {
			t.Errorf("hasLongLine(%q) = %v, want %v", tt.body, got, tt.want)
		}
	}
}

// FuzzEncodeQuotedPrintable checks that the standard library's decoder
// returns the input, and that every encoded line is short, printable, and
// neither a boundary delimiter nor an mbox "From " line.
func FuzzEncodeQuotedPrintable(f *testing.F) {
	f.Add([]byte("From me\n-- \r\n"+strings.Repeat("a=\xff ", 40)), true)
	f.Add([]byte("line \t\n\r\n\r\r\n"), false)
	f.Fuzz(func(t *testing.T, body []byte, crlf bool) {
		eol := "\n"
		if crlf {
			eol = "\r\n"
		}
		encoded := encodeQuotedPrintable(body, eol)
		decoded, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(encoded)))
		if err != nil {
			t.Fatalf("decoding encodeQuotedPrintable(%q) = %q: %v", body, encoded, err)
		}
		if !bytes.Equal(decoded, body) {
			t.Fatalf("decode(encodeQuotedPrintable(%q)) = %q, want the input; encoded %q", body, decoded, encoded)
		}
		for pos := 0; pos < len(encoded); {
			line := nextLine(encoded, pos)
			pos += len(line)
			content, _ := splitLineEnding(line)
			if len(content) > maxEncodedLine {
				t.Errorf("encodeQuotedPrintable(%q) has a line of %d bytes: %q", body, len(content), content)
			}
			if bytes.HasPrefix(content, []byte("-")) || bytes.HasPrefix(content, []byte("From ")) {
				t.Errorf("encodeQuotedPrintable(%q) has the line %q, want its first byte encoded", body, content)
			}
			for _, c := range content {
				if (c < ' ' || c > '~') && c != '\t' {
					t.Errorf("encodeQuotedPrintable(%q) has the byte %#x in %q", body, c, content)
					break
				}
			}
		}
	})
}

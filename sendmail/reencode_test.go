package sendmail

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// long is a line of 80 bytes, over the 76 that trigger re-encoding.
var long = strings.Repeat("0123456789", 8)

// longEncoded is long as quoted-printable, with a soft line break.
var longEncoded = long[:75] + "=\n" + long[75:]

// TestPrepareReencodes checks the message that Prepare sends, after the
// added Date and Message-ID, for messages whose parts it re-encodes.
func TestPrepareReencodes(t *testing.T) {
	tests := []struct {
		name  string
		args  []string // -t when nil
		input string
		want  string
		parts int
	}{
		{
			name:  "no header fields",
			args:  []string{"a@example.com"},
			input: long + "\n",
			want:  "Bcc: a@example.com\nMIME-Version: 1.0\nContent-Transfer-Encoding: quoted-printable\n\n" + longEncoded + "\n",
			parts: 1,
		},
		{
			name:  "blank first line",
			args:  []string{"a@example.com"},
			input: "\r\n" + long + "\r\n",
			want: "Bcc: a@example.com\r\nMIME-Version: 1.0\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
				long[:75] + "=\r\n" + long[75:] + "\r\n",
			parts: 1,
		},
		{
			name:  "non-MIME message",
			input: "To: a@example.com\nSubject: patch\n\n" + long + "\nend \n",
			want: "To: a@example.com\nSubject: patch\nMIME-Version: 1.0\nContent-Transfer-Encoding: quoted-printable\n\n" +
				longEncoded + "\nend=20\n",
			parts: 1,
		},
		{
			name: "8bit CRLF with encoding field",
			input: "To: a@example.com\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n" +
				"Content-transfer-encoding: 8bit\r\n\r\ncaf\xc3\xa9 " + long + "\r\n",
			want: "To: a@example.com\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n" +
				"Content-transfer-encoding: quoted-printable\r\n\r\ncaf=C3=A9 " + long[:65] + "=\r\n" + long[65:] + "\r\n",
			parts: 1,
		},
		{
			name: "7bit field folded",
			input: "To: a@example.com\nMIME-Version: 1.0\nContent-Transfer-Encoding:\n  7bit\n\n" +
				long + "\n",
			want: "To: a@example.com\nMIME-Version: 1.0\nContent-Transfer-Encoding: quoted-printable\n\n" +
				longEncoded + "\n",
			parts: 1,
		},
		{
			name: "multipart text parts only",
			input: "To: a@example.com\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n" +
				"preamble " + long + "\n--b1\n\n" + long + "\n--b1\nContent-Type: text/html\n\n" + long + "\n" +
				"--b1\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\naGk=\n" +
				"--b1\nContent-Type: text/plain; charset=iso-8859-1\n\nshort\n--b1--\nepilogue " + long + "\n",
			want: "To: a@example.com\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n" +
				"preamble " + long + "\n--b1\nContent-Transfer-Encoding: quoted-printable\n\n" + longEncoded + "\n--b1\nContent-Type: text/html\n\n" + long + "\n" +
				"--b1\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\naGk=\n" +
				"--b1\nContent-Type: text/plain; charset=iso-8859-1\n\nshort\n--b1--\nepilogue " + long + "\n",
			parts: 1,
		},
		{
			name: "nested multipart",
			input: "To: a@example.com\nContent-Type: multipart/mixed; boundary=outer\n\n--outer\n" +
				"Content-Type: multipart/alternative; boundary=inner\n\n--inner\nContent-Type: text/plain\n\n" +
				long + "\n--inner--\n\n--outer\nContent-Type: text/plain; name=\"fix.patch\"\nContent-Disposition: attachment\n\n" +
				long + "\n--outer--\n",
			want: "To: a@example.com\nContent-Type: multipart/mixed; boundary=outer\nMIME-Version: 1.0\n\n--outer\n" +
				"Content-Type: multipart/alternative; boundary=inner\n\n--inner\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n" +
				longEncoded + "\n--inner--\n\n--outer\nContent-Type: text/plain; name=\"fix.patch\"\nContent-Disposition: attachment\n" +
				"Content-Transfer-Encoding: quoted-printable\n\n" + longEncoded + "\n--outer--\n",
			parts: 2,
		},
		{
			name: "last line of part without its ending",
			input: "To: a@example.com\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\n" +
				long + " \n--b--\n",
			want: "To: a@example.com\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\n" +
				"Content-Transfer-Encoding: quoted-printable\n\n" + long[:75] + "=\n" + long[75:] + "=20\n--b--\n",
			parts: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if args == nil {
				args = []string{"-t"}
			}
			got, err := Prepare([]byte(tt.input), mustParse(t, args...), testEnv())
			if err != nil {
				t.Fatalf("Prepare(%q) error = %v", tt.input, err)
			}
			want := testDate + lineEnding([]byte(tt.input)) + testMID + lineEnding([]byte(tt.input)) + tt.want
			if diff := cmp.Diff(want, string(got.Raw)); diff != "" {
				t.Errorf("Prepare(%q).Raw mismatch (-want +got):\n%s", tt.input, diff)
			}
			if got.Reencoded != tt.parts {
				t.Errorf("Prepare(%q).Reencoded = %d, want %d", tt.input, got.Reencoded, tt.parts)
			}
			plain, err := Prepare([]byte(tt.input), mustParse(t, append([]string{"--no-reencode"}, args...)...), testEnv())
			if err != nil {
				t.Fatalf("Prepare(%q) with --no-reencode error = %v", tt.input, err)
			}
			if diff := cmp.Diff(decodedParts(plain.Raw), decodedParts(got.Raw)); diff != "" {
				t.Errorf("Prepare(%q) decoded parts mismatch (-not re-encoded +re-encoded):\n%s", tt.input, diff)
			}
		})
	}
}

// TestPrepareLeavesAlone checks messages with long lines that Prepare
// must send unchanged apart from the added Date and Message-ID.
func TestPrepareLeavesAlone(t *testing.T) {
	tests := []struct {
		name  string
		input string
	}{
		{"short lines", "To: a@example.com\n\n" + strings.Repeat("x", 76) + "\n"},
		{"HTML", "To: a@example.com\nContent-Type: text/html\n\n" + long + "\n"},
		{"quoted-printable", "To: a@example.com\nContent-Transfer-Encoding: quoted-printable\n\n" + long + "\n"},
		{"base64", "To: a@example.com\nContent-Transfer-Encoding: BASE64\n\n" + long + "\n"},
		{"binary", "To: a@example.com\nContent-Transfer-Encoding: binary\n\n" + long + "\n"},
		{"unknown encoding", "To: a@example.com\nContent-Transfer-Encoding: x-uuencode\n\n" + long + "\n"},
		{"two encoding fields", "To: a@example.com\nContent-Transfer-Encoding: 8bit\nContent-Transfer-Encoding: base64\n\n" + long + "\n"},
		{"two content types", "To: a@example.com\nContent-Type: text/plain\nContent-Type: text/html\n\n" + long + "\n"},
		{"unparsable content type", "To: a@example.com\nContent-Type: text/plain/x\n\n" + long + "\n"},
		{"no blank line after header", "To: a@example.com\n" + long + "\n"},
		{"missing closing boundary", "To: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\n" + long + "\n"},
		{"boundary missing", "To: a@example.com\nContent-Type: multipart/mixed\n\n--b\n\n" + long + "\n--b--\n"},
		{"part without header end", "To: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n--b\n" + long + "\n--b--\n"},
		{"digest part", "To: a@example.com\nContent-Type: multipart/digest; boundary=b\n\n--b\n\nSubject: x\n\n" + long + "\n--b--\n"},
		{"attached message", "To: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822\n\nSubject: x\n\n" + long + "\n--b--\n"},
		{"encrypted", "To: a@example.com\nContent-Type: multipart/encrypted; boundary=b\n\n--b\n\n" + long + "\n--b--\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Prepare([]byte(tt.input), mustParse(t, "-t"), testEnv())
			if err != nil {
				t.Fatalf("Prepare(%q) error = %v", tt.input, err)
			}
			if want := testDate + "\n" + testMID + "\n" + tt.input; string(got.Raw) != want {
				t.Errorf("Prepare(%q).Raw = %q, want the input unchanged", tt.input, got.Raw)
			}
			if got.Reencoded != 0 {
				t.Errorf("Prepare(%q).Reencoded = %d, want 0", tt.input, got.Reencoded)
			}
			if len(got.Warnings) != 0 {
				t.Errorf("Prepare(%q).Warnings = %q, want none", tt.input, got.Warnings)
			}
		})
	}
}

func TestPrepareSignedWarns(t *testing.T) {
	input := "To: a@example.com\nMIME-Version: 1.0\n" +
		"Content-Type: multipart/signed; boundary=s; protocol=\"application/pgp-signature\"; micalg=pgp-sha256\n\n" +
		"--s\nContent-Type: text/plain\n\n" + long + "\n--s\nContent-Type: application/pgp-signature\n\nsig\n--s--\n"
	got, err := Prepare([]byte(input), mustParse(t, "-t"), testEnv())
	if err != nil {
		t.Fatalf("Prepare(signed) error = %v", err)
	}
	if want := testDate + "\n" + testMID + "\n" + input; string(got.Raw) != want {
		t.Errorf("Prepare(signed).Raw = %q, want the input unchanged", got.Raw)
	}
	if diff := cmp.Diff([]string{signedWarning}, got.Warnings); diff != "" {
		t.Errorf("Prepare(signed).Warnings mismatch (-want +got):\n%s", diff)
	}

	short := strings.Replace(input, long, "short", 1)
	got, err = Prepare([]byte(short), mustParse(t, "-t"), testEnv())
	if err != nil {
		t.Fatalf("Prepare(signed, short lines) error = %v", err)
	}
	if len(got.Warnings) != 0 {
		t.Errorf("Prepare(signed, short lines).Warnings = %q, want none", got.Warnings)
	}
}

func TestPrepareNoReencode(t *testing.T) {
	input := "To: a@example.com\n\n" + long + "\n"
	got, err := Prepare([]byte(input), mustParse(t, "--no-reencode", "-t"), testEnv())
	if err != nil {
		t.Fatalf("Prepare(--no-reencode) error = %v", err)
	}
	if want := testDate + "\n" + testMID + "\n" + input; string(got.Raw) != want {
		t.Errorf("Prepare(--no-reencode).Raw = %q, want the input unchanged", got.Raw)
	}
	if got.Reencoded != 0 {
		t.Errorf("Prepare(--no-reencode).Reencoded = %d, want 0", got.Reencoded)
	}
}

// TestPrepareReencodesWithBcc checks that a Bcc addition and a re-encoded
// top-level part combine.
func TestPrepareReencodesWithBcc(t *testing.T) {
	input := "To: a@example.com\nBcc: b@example.com\n\n" + long + "\n"
	got, err := Prepare([]byte(input), mustParse(t, "-t", "c@example.com"), testEnv())
	if err != nil {
		t.Fatalf("Prepare(%q) error = %v", input, err)
	}
	want := testDate + "\n" + testMID + "\nTo: a@example.com\nBcc: b@example.com,\n c@example.com\n" +
		"MIME-Version: 1.0\nContent-Transfer-Encoding: quoted-printable\n\n" + longEncoded + "\n"
	if diff := cmp.Diff(want, string(got.Raw)); diff != "" {
		t.Errorf("Prepare(%q).Raw mismatch (-want +got):\n%s", input, diff)
	}
}

func TestPrepareRecipientLimit(t *testing.T) {
	recipients := func(n int) []string {
		var addrs []string
		for i := range n {
			addrs = append(addrs, fmt.Sprintf("user%d@example.com", i))
		}
		return addrs
	}
	input := "To: " + strings.Join(recipients(60), ", ") + "\n\nhi\n"

	atLimit := append(recipients(MaxRecipients), "USER0@example.com")
	got, err := Prepare([]byte(input), mustParse(t, append([]string{"-t", "--"}, atLimit...)...), testEnv())
	if err != nil {
		t.Fatalf("Prepare with %d distinct recipients error = %v, want nil", MaxRecipients, err)
	}
	if len(got.Recipients) != MaxRecipients {
		t.Errorf("Prepare with %d distinct recipients: len(Recipients) = %d", MaxRecipients, len(got.Recipients))
	}

	over := recipients(MaxRecipients + 1)
	_, err = Prepare([]byte(input), mustParse(t, append([]string{"-t", "--"}, over...)...), testEnv())
	var data *DataError
	if !errors.As(err, &data) {
		t.Fatalf("Prepare with %d recipients error = %v, want a *DataError", len(over), err)
	}
	for _, want := range []string{"101 recipients", "limit of 100"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Prepare with %d recipients error = %q, want it to contain %q", len(over), err, want)
		}
	}
}

package sendmail

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// testEnv makes Prepare's output reproducible: a fixed clock and all-zero
// randomness, which gives the Message-ID testID.
func testEnv() Env {
	return Env{
		Now:    time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("", 3600)),
		Domain: "example.com",
		Random: bytes.NewReader(make([]byte, 16)),
	}
}

const (
	testID   = "aaaaaaaaaaaaaaaaaaaaaaaaaa@example.com"
	testDate = "Date: Fri, 02 Jan 2026 03:04:05 +0100"
	testMID  = "Message-ID: <" + testID + ">"
)

func mustParse(t *testing.T, args ...string) *Options {
	t.Helper()
	opts, err := Parse(args)
	if err != nil {
		t.Fatalf("Parse(%q) error = %v", args, err)
	}
	return opts
}

// TestPrepareAddsHeaders checks that Prepare adds only header lines at the
// top and leaves every input byte after them unchanged.
func TestPrepareAddsHeaders(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		input     string
		wantAdded string
	}{
		{
			name:      "LF",
			args:      []string{"a@example.com"},
			input:     "To: a@example.com\nSubject: hi\n\nbody\n",
			wantAdded: testDate + "\n" + testMID + "\n",
		},
		{
			name:      "CRLF",
			args:      []string{"a@example.com"},
			input:     "To: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n",
			wantAdded: testDate + "\r\n" + testMID + "\r\n",
		},
		{
			name:      "mixed first line CRLF",
			args:      []string{"a@example.com"},
			input:     "To: a@example.com\r\nSubject: hi\n\nbody\r\nmore\n",
			wantAdded: testDate + "\r\n" + testMID + "\r\n",
		},
		{
			name:      "mixed first line LF",
			args:      []string{"a@example.com"},
			input:     "To: a@example.com\nSubject: hi\r\n\r\nbody\nmore\r\n",
			wantAdded: testDate + "\n" + testMID + "\n",
		},
		{
			name:      "existing Date and Message-ID",
			args:      []string{"a@example.com"},
			input:     "Date: Thu, 1 Jan 2026 00:00:00 +0000\nMessage-Id: <x@y>\nTo: a@example.com\n\nbody\n",
			wantAdded: "",
		},
		{
			name:      "existing Date only",
			args:      []string{"-t"},
			input:     "date: whenever\nTo: a@example.com\n\nbody\n",
			wantAdded: testMID + "\n",
		},
		{
			name:      "lone dot line",
			args:      []string{"a@example.com"},
			input:     "To: a@example.com\n\nfirst\n.\nafter the dot\n",
			wantAdded: testDate + "\n" + testMID + "\n",
		},
		{
			name:      "8-bit and binary body",
			args:      []string{"a@example.com"},
			input:     "To: a@example.com\nContent-Transfer-Encoding: binary\n\n\x00\x01\xff\xfe caf\xe9 \r\r\n\x80",
			wantAdded: testDate + "\n" + testMID + "\n",
		},
		{
			name:      "8-bit header values",
			args:      []string{"-t"},
			input:     "To: Jos\xe9 <j@example.com>\nSubject: caf\xc3\xa9\n\nbody\n",
			wantAdded: testDate + "\n" + testMID + "\n",
		},
		{
			name:      "header only",
			args:      []string{"-t"},
			input:     "To: a@example.com\nSubject: nothing else\n",
			wantAdded: testDate + "\n" + testMID + "\n",
		},
		{
			name:      "header only without final newline",
			args:      []string{"-t"},
			input:     "To: a@example.com\r\nSubject: nothing else",
			wantAdded: testDate + "\r\n" + testMID + "\r\n",
		},
		{
			name:      "single line without newline",
			args:      []string{"-t"},
			input:     "To: a@example.com",
			wantAdded: testDate + "\n" + testMID + "\n",
		},
		{
			name:      "no header fields",
			args:      []string{"a@example.com"},
			input:     "just some text\n\nmore text\n",
			wantAdded: testDate + "\n" + testMID + "\n" + "Bcc: a@example.com\n\n",
		},
		{
			name:      "leading blank line",
			args:      []string{"a@example.com"},
			input:     "\r\nbody only\r\n",
			wantAdded: testDate + "\r\n" + testMID + "\r\n" + "Bcc: a@example.com\r\n",
		},
		{
			name:      "body without blank line",
			args:      []string{"-t"},
			input:     "To: a@example.com\nthis line is not a header field\n",
			wantAdded: testDate + "\n" + testMID + "\n",
		},
		{
			name:      "folded To",
			args:      []string{"-t"},
			input:     "To: a@example.com,\n\tb@example.com\nSubject: x\n\nbody\n",
			wantAdded: testDate + "\n" + testMID + "\n",
		},
		{
			name:      "blank before colon",
			args:      []string{"-t"},
			input:     "To : a@example.com\n\nbody\n",
			wantAdded: testDate + "\n" + testMID + "\n",
		},
		{
			name:      "Bcc added at top",
			args:      []string{"a@example.com", "hidden@example.net"},
			input:     "To: a@example.com\n\nbody\n",
			wantAdded: testDate + "\n" + testMID + "\n" + "Bcc: hidden@example.net\n",
		},
		{
			name:      "Bcc for every argument without To",
			args:      []string{"a@example.com", "b@example.com"},
			input:     "Subject: x\r\n\r\nbody\r\n",
			wantAdded: testDate + "\r\n" + testMID + "\r\n" + "Bcc: a@example.com, b@example.com\r\n",
		},
		{
			name:      "argument matches To ignoring case",
			args:      []string{"A@Example.COM"},
			input:     "To: Al <a@example.com>\n\nbody\n",
			wantAdded: testDate + "\n" + testMID + "\n",
		},
		{
			name:      "argument matches Cc",
			args:      []string{"a@example.com", "c@example.com"},
			input:     "To: a@example.com\nCC: c@example.com\n\nbody\n",
			wantAdded: testDate + "\n" + testMID + "\n",
		},
		{
			name:      "undisclosed recipients group",
			args:      []string{"a@example.com"},
			input:     "To: undisclosed-recipients:;\n\nbody\n",
			wantAdded: testDate + "\n" + testMID + "\n" + "Bcc: a@example.com\n",
		},
		{
			name:      "quoted local part",
			args:      []string{"\"john doe\"@example.com"},
			input:     "Subject: x\n\nbody\n",
			wantAdded: testDate + "\n" + testMID + "\n" + "Bcc: \"john doe\"@example.com\n",
		},
		{
			name:      "duplicate arguments",
			args:      []string{"b@example.com", "B@example.com", "b@example.com, a@example.com"},
			input:     "To: a@example.com\n\nbody\n",
			wantAdded: testDate + "\n" + testMID + "\n" + "Bcc: b@example.com\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Prepare([]byte(tt.input), mustParse(t, tt.args...), testEnv())
			if err != nil {
				t.Fatalf("Prepare(%q) error = %v", tt.input, err)
			}
			added, rest, found := bytes.Cut(got.Raw, []byte(tt.wantAdded))
			if !found || len(added) != 0 {
				t.Fatalf("Prepare(%q).Raw = %q, want it to start with %q", tt.input, got.Raw, tt.wantAdded)
			}
			if !bytes.Equal(rest, []byte(tt.input)) {
				t.Errorf("Prepare(%q).Raw after the added lines = %q, want the input unchanged", tt.input, rest)
			}
		})
	}
}

// TestPrepareAppendsToBcc checks additions to an existing Bcc field, which
// is the one place where Prepare writes inside the input.
func TestPrepareAppendsToBcc(t *testing.T) {
	const top = testDate + "\n" + testMID + "\n"
	tests := []struct {
		name  string
		args  []string
		input string
		want  string
	}{
		{
			name:  "one address",
			args:  []string{"hidden@example.net"},
			input: "To: a@example.com\nBcc: old@example.org\nSubject: x\n\nbody\n",
			want:  top + "To: a@example.com\nBcc: old@example.org,\n hidden@example.net\nSubject: x\n\nbody\n",
		},
		{
			name:  "two addresses",
			args:  []string{"h1@example.net", "h2@example.net"},
			input: "bcc: old@example.org\n\nbody\n",
			want:  top + "bcc: old@example.org,\n h1@example.net,\n h2@example.net\n\nbody\n",
		},
		{
			name:  "empty field",
			args:  []string{"h1@example.net", "h2@example.net"},
			input: "To: a@example.com\nBcc:\nSubject: x\n\nbody\n",
			want:  top + "To: a@example.com\nBcc: h1@example.net,\n h2@example.net\nSubject: x\n\nbody\n",
		},
		{
			name:  "CRLF field after LF first line",
			args:  []string{"hidden@example.net"},
			input: "To: a@example.com\nBcc: old@example.org\r\n\r\nbody\n",
			want:  top + "To: a@example.com\nBcc: old@example.org,\r\n hidden@example.net\r\n\r\nbody\n",
		},
		{
			name:  "folded field",
			args:  []string{"hidden@example.net"},
			input: "Bcc: old@example.org,\n second@example.org\n\nbody\n",
			want:  top + "Bcc: old@example.org,\n second@example.org,\n hidden@example.net\n\nbody\n",
		},
		{
			name:  "last line without newline",
			args:  []string{"hidden@example.net"},
			input: "Subject: x\nBcc: old@example.org",
			want:  top + "Subject: x\nBcc: old@example.org,\n hidden@example.net",
		},
		{
			name:  "first of two Bcc fields",
			args:  []string{"hidden@example.net"},
			input: "Bcc: one@example.org\nBcc: two@example.org\n\nbody\n",
			want:  top + "Bcc: one@example.org,\n hidden@example.net\nBcc: two@example.org\n\nbody\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Prepare([]byte(tt.input), mustParse(t, tt.args...), testEnv())
			if err != nil {
				t.Fatalf("Prepare(%q) error = %v", tt.input, err)
			}
			if diff := cmp.Diff(tt.want, string(got.Raw)); diff != "" {
				t.Errorf("Prepare(%q).Raw mismatch (-want +got):\n%s", tt.input, diff)
			}
			if _, err := Prepare(got.Raw, mustParse(t, tt.args...), testEnv()); err != nil {
				t.Errorf("Prepare of the prepared message error = %v, want nil", err)
			}
		})
	}
}

func TestPrepareFoldsLongBcc(t *testing.T) {
	var args []string
	for _, name := range []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"} {
		args = append(args, name+"@a-rather-long-domain.example.com")
	}
	got, err := Prepare([]byte("Subject: x\n\nbody\n"), mustParse(t, args...), testEnv())
	if err != nil {
		t.Fatalf("Prepare error = %v", err)
	}
	header, _, _ := bytes.Cut(got.Raw, []byte("\n\n"))
	for _, line := range strings.Split(string(header), "\n") {
		if len(line) > maxLineLength {
			t.Errorf("Prepare header line %q is %d bytes, want at most %d", line, len(line), maxLineLength)
		}
	}
	if diff := cmp.Diff(args, got.Recipients); diff != "" {
		t.Errorf("Prepare Recipients mismatch (-want +got):\n%s", diff)
	}
}

func TestPrepareStripsMboxFromLines(t *testing.T) {
	tests := []struct {
		name, input, wantRest string
	}{
		{"From line", "From me@example.com Fri Jan  2 03:04:05 2026\nTo: a@example.com\n\nbody\nFrom here on\n", "To: a@example.com\n\nbody\nFrom here on\n"},
		{"quoted From lines", "From x\r\n>From y\r\nTo: a@example.com\r\n\r\nbody\r\n", "To: a@example.com\r\n\r\nbody\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Prepare([]byte(tt.input), mustParse(t, "-t"), testEnv())
			if err != nil {
				t.Fatalf("Prepare(%q) error = %v", tt.input, err)
			}
			if !bytes.HasSuffix(got.Raw, []byte(tt.wantRest)) {
				t.Errorf("Prepare(%q).Raw = %q, want it to end with %q", tt.input, got.Raw, tt.wantRest)
			}
			if bytes.Contains(got.Raw[:bytes.Index(got.Raw, []byte("To:"))], []byte("From ")) {
				t.Errorf("Prepare(%q).Raw = %q, want no From line before the header", tt.input, got.Raw)
			}
		})
	}
}

func TestPrepareFields(t *testing.T) {
	input := "From: Me <ME@example.com>\n" +
		"To: a@example.com, Bee <b@example.com>\n" +
		"Cc: c@example.com\n" +
		"Bcc: d@example.com\n" +
		"Message-ID: <orig@example.com>\n" +
		"In-Reply-To: <parent@example.com> (Bee's message)\n" +
		"References: <root@example.com>\n <parent@example.com> <>\n" +
		"\nbody\n"
	got, err := Prepare([]byte(input), mustParse(t, "-t", "e@example.com", "C@example.com"), testEnv())
	if err != nil {
		t.Fatalf("Prepare error = %v", err)
	}
	want := &Prepared{
		Recipients: []string{"a@example.com", "b@example.com", "c@example.com", "d@example.com", "e@example.com"},
		MessageID:  "orig@example.com",
		From:       "ME@example.com",
		InReplyTo:  "parent@example.com",
		References: []string{"root@example.com", "parent@example.com"},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Prepared{}, "Raw"), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Prepare mismatch (-want +got):\n%s", diff)
	}
}

func TestPrepareNewMessageID(t *testing.T) {
	env := testEnv()
	env.Domain = ""
	env.Address = "me@mail.example.org"
	got, err := Prepare([]byte("To: a@example.com\n\nbody\n"), mustParse(t, "-t"), env)
	if err != nil {
		t.Fatalf("Prepare error = %v", err)
	}
	if want := "aaaaaaaaaaaaaaaaaaaaaaaaaa@mail.example.org"; got.MessageID != want {
		t.Errorf("Prepare MessageID = %q, want %q", got.MessageID, want)
	}
	if !bytes.Contains(got.Raw, []byte("Message-ID: <"+got.MessageID+">\n")) {
		t.Errorf("Prepare Raw = %q, want a Message-ID field with %q", got.Raw, got.MessageID)
	}
}

func TestPrepareRandomMessageIDs(t *testing.T) {
	env := Env{Domain: "example.com"}
	first, err := Prepare([]byte("To: a@example.com\n\nx\n"), mustParse(t, "-t"), env)
	if err != nil {
		t.Fatalf("Prepare error = %v", err)
	}
	second, err := Prepare([]byte("To: a@example.com\n\nx\n"), mustParse(t, "-t"), env)
	if err != nil {
		t.Fatalf("Prepare error = %v", err)
	}
	if first.MessageID == second.MessageID {
		t.Errorf("Prepare gave the Message-ID %q twice, want random ids", first.MessageID)
	}
}

func TestPrepareHeaderRecipientsNotInArguments(t *testing.T) {
	got, err := Prepare([]byte("To: a@example.com, other@example.com\n\nbody\n"), mustParse(t, "a@example.com"), testEnv())
	if err != nil {
		t.Fatalf("Prepare error = %v", err)
	}
	if len(got.Warnings) != 1 || !strings.Contains(got.Warnings[0], "other@example.com") {
		t.Errorf("Prepare Warnings = %q, want one naming other@example.com", got.Warnings)
	}
	if diff := cmp.Diff([]string{"a@example.com", "other@example.com"}, got.Recipients); diff != "" {
		t.Errorf("Prepare Recipients mismatch (-want +got):\n%s", diff)
	}
}

func TestPrepareErrors(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		input     string
		wantUsage bool   // a *UsageError, else a *DataError
		wantText  string // part of the error message
	}{
		{name: "empty input", args: []string{"a@example.com"}, input: "", wantText: "empty message"},
		{name: "blank lines only", args: []string{"a@example.com"}, input: "\r\n\n \n", wantText: "empty message"},
		{name: "From line only", args: []string{"a@example.com"}, input: "From me Fri Jan  2 03:04:05 2026\n", wantText: "empty message"},
		{name: "NUL in field", args: []string{"-t"}, input: "To: a@example.com\nSubject: a\x00b\n\nbody\n", wantText: "header line 2 contains a NUL byte"},
		{name: "NUL in continuation", args: []string{"-t"}, input: "To: a@example.com,\n \x00\n\nbody\n", wantText: "NUL byte"},
		{name: "invalid To", args: []string{"-t"}, input: "To: a@example.com b@example.com\n\nbody\n", wantText: "invalid address in the To field"},
		{name: "invalid Cc without t", args: []string{"a@example.com"}, input: "Cc: <broken\n\nbody\n", wantText: "Cc field"},
		{name: "local name", args: []string{"root"}, input: "Subject: cron\n\nbody\n", wantText: "full address, such as user@example.com"},
		{name: "Latin-1 address", args: []string{"-t"}, input: "To: caf\xe9@example.com\n\nbody\n", wantText: "To field"},
		{name: "t without addresses", args: []string{"-t"}, input: "Subject: x\n\nbody\n", wantUsage: true, wantText: "no recipients"},
		{name: "t with empty group", args: []string{"-t"}, input: "To: undisclosed-recipients:;\n\nbody\n", wantUsage: true, wantText: "no recipients"},
		{
			name:     "bounce to new recipient",
			args:     []string{"new@example.com"},
			input:    "Resent-From: me@example.com\nResent-To: new@example.com\nFrom: x@example.org\nTo: me@example.com, list@example.org\n\nbody\n",
			wantText: "list@example.org",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Prepare([]byte(tt.input), mustParse(t, tt.args...), testEnv())
			var usage *UsageError
			var data *DataError
			switch {
			case tt.wantUsage && !errors.As(err, &usage):
				t.Fatalf("Prepare(%q) = %v, %v, want a *UsageError", tt.input, got, err)
			case !tt.wantUsage && !errors.As(err, &data):
				t.Fatalf("Prepare(%q) = %v, %v, want a *DataError", tt.input, got, err)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("Prepare(%q) error = %q, want it to contain %q", tt.input, err, tt.wantText)
			}
		})
	}
}

// TestPrepareNoRecipientOptions covers Options built without Parse, which
// rejects a command line without recipients before the message is read.
func TestPrepareNoRecipientOptions(t *testing.T) {
	_, err := Prepare([]byte("To: a@example.com\n\nbody\n"), &Options{}, testEnv())
	var usage *UsageError
	if !errors.As(err, &usage) {
		t.Errorf("Prepare with empty Options error = %v, want a *UsageError", err)
	}
}

func TestPrepareTooLarge(t *testing.T) {
	input := make([]byte, MaxMessageSize)
	copy(input, "To: a@example.com\nMessage-ID: <x@y>\nDate: now\n\n")
	for i := 60; i < len(input); i++ {
		input[i] = 'x'
		if i%72 == 71 {
			input[i] = '\n' // no line for re-encoding to lengthen
		}
	}
	if _, err := Prepare(input, mustParse(t, "-t"), testEnv()); err != nil {
		t.Fatalf("Prepare of %d bytes with nothing to add error = %v, want nil", len(input), err)
	}

	input = append(input, 'x')
	_, err := Prepare(input, mustParse(t, "-t"), testEnv())
	var data *DataError
	if !errors.As(err, &data) {
		t.Fatalf("Prepare of %d bytes error = %v, want a *DataError", len(input), err)
	}
	for _, want := range []string{"36700161", "36700160"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Prepare of %d bytes error = %q, want it to contain %q", len(input), err, want)
		}
	}
}

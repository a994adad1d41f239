package sendmail

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// canonicalArgs renders opts as a command line that Parse turns back into
// the same Options.
func canonicalArgs(opts *Options) []string {
	var args []string
	if opts.ExtractRecipients {
		args = append(args, "-t")
	}
	if opts.IgnoreDots {
		args = append(args, "-i")
	}
	if opts.Verbose {
		args = append(args, "-v")
	}

	if opts.Sender != "" {
		args = append(args, "-f", opts.Sender)
	}
	if opts.FullName != "" {
		args = append(args, "-F", opts.FullName)
	}
	if opts.DeliveryMode != "" {
		args = append(args, "-od"+opts.DeliveryMode)
	}
	if opts.Account != "" {
		args = append(args, "--account="+opts.Account)
	}
	if opts.NoQueue {
		args = append(args, "--no-queue")
	}
	if opts.NoReencode {
		args = append(args, "--no-reencode")
	}

	for _, ignored := range opts.Ignored {
		switch option, value, hasValue := strings.Cut(ignored, " "); {
		case strings.HasPrefix(ignored, "-o"):
			args = append(args, "-o", ignored[2:])
		case hasValue:
			args = append(args, option, value)
		default:
			args = append(args, ignored)
		}
	}

	args = append(args, "--")
	return append(args, opts.Recipients...)
}

func FuzzParse(f *testing.F) {
	seeds := []string{
		"-oem\n-oi\n-B8BITMIME\n-f\nme@example.com\n--\na@example.com\nc@example.org",
		"-oi\n-f\nme@example.com\n-oem\n-odb\n-t",
		"-i\n-f\nme@example.com\na@example.com\nc@example.org",
		"-FCronDaemon\n-i\n-B8BITMIME\n-oem\nroot",
		"-tivfme@example.com\n--account=work\n--no-queue\n--no-reencode\n-N\nnever\n-R\nhdrs\n-V\nid",
		"a@example.com, \"Doe, J\" <j@example.com>,\nundisclosed-recipients:;",
		"-bs", "-q1h", "-o", "--account", "-",
	}
	for _, seed := range seeds {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\n")
		opts, err := Parse(args)
		if err != nil {
			var usage *UsageError
			if !errors.As(err, &usage) && !errors.Is(err, ErrHelp) {
				t.Fatalf("Parse(%q) error = %v (%T), want a *UsageError", args, err, err)
			}
			return
		}
		again, err := Parse(canonicalArgs(opts))
		if err != nil {
			t.Fatalf("Parse(%q) error = %v, want the options of Parse(%q)", canonicalArgs(opts), err, args)
		}
		if diff := cmp.Diff(opts, again, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("Parse(canonicalArgs(Parse(%q))) mismatch (-first +second):\n%s", args, diff)
		}
	})
}

// FuzzPrepare checks that Prepare keeps the input's bytes without
// re-encoding, and that with re-encoding it accepts the same inputs, keeps
// the decoded parts and changes nothing on a second run.
func FuzzPrepare(f *testing.F) {
	f.Add([]byte("To: a@example.com\n\nbody\n.\n"), "-t")
	f.Add([]byte("From x\r\nTo: a@example.com\r\nBcc: b@example.com\r\n\r\n\x00\xff"), "-i\nc@example.com")
	f.Add([]byte("Subject: x\nBcc:\n"), "a@example.com\nb@example.com")
	f.Add([]byte("no header\n"), "a@example.com")
	f.Add([]byte(" continuation first\n\nbody"), "-t\na@example.com")
	f.Add([]byte("To: undisclosed-recipients:;\nCc: J\xe9 <j@example.com>\n\n"), "-t")
	f.Add([]byte("To: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\n"+strings.Repeat("x= ", 30)+"\n--b--\n"), "-t")
	f.Fuzz(func(t *testing.T, input []byte, joinedArgs string) {
		opts, err := Parse(strings.Split(joinedArgs, "\n"))
		if err != nil {
			return
		}
		reencode := !opts.NoReencode
		opts.NoReencode = true
		got, err := Prepare(input, opts, testEnv())
		if err != nil {
			var usage *UsageError
			var data *DataError
			if !errors.As(err, &usage) && !errors.As(err, &data) {
				t.Fatalf("Prepare(%q) error = %v (%T), want a *UsageError or *DataError", input, err, err)
			}
			return
		}
		checkPreserved(t, input, got.Raw)
		checkIdempotent(t, input, got.Raw, opts)
		if !reencode {
			return
		}

		opts.NoReencode = false
		encoded, err := Prepare(input, opts, testEnv())
		if err != nil {
			t.Fatalf("Prepare(%q) with re-encoding error = %v, want nil as without it", input, err)
		}
		if diff := cmp.Diff(decodedParts(got.Raw), decodedParts(encoded.Raw)); diff != "" {
			t.Errorf("Prepare(%q) re-encoding changed the decoded parts (-before +after):\n%s", input, diff)
		}
		checkIdempotent(t, input, encoded.Raw, opts)
	})
}

// checkIdempotent checks that preparing raw, the output of Prepare for
// input, again changes nothing.
func checkIdempotent(t *testing.T, input, raw []byte, opts *Options) {
	t.Helper()
	again, err := Prepare(raw, opts, testEnv())
	if err != nil {
		t.Fatalf("Prepare(Prepare(%q).Raw) error = %v, want nil", input, err)
	}
	if !bytes.Equal(again.Raw, raw) {
		t.Errorf("Prepare(Prepare(%q).Raw).Raw = %q, want it unchanged %q", input, again.Raw, raw)
	}
}

// checkPreserved checks that raw, the output of Prepare for input, keeps the
// input's bytes: the body always, and without an existing Bcc field to
// append to, the whole input after the added lines.
func checkPreserved(t *testing.T, input, raw []byte) {
	t.Helper()
	msg := stripFromLines(input)
	block, err := scanHeader(msg)
	if err != nil {
		t.Fatalf("scanHeader(%q) error = %v after Prepare accepted it", msg, err)
	}
	if body := msg[block.end:]; !bytes.HasSuffix(raw, body) {
		t.Errorf("Prepare(%q).Raw = %q, want it to end with the body %q", input, raw, body)
	}
	for _, field := range block.fields {
		if field.is("Bcc") {
			return
		}
	}
	if !bytes.HasSuffix(raw, msg) {
		t.Errorf("Prepare(%q).Raw = %q, want it to end with the input %q", input, raw, msg)
	}
}

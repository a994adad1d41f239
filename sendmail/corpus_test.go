package sendmail

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// corpusDir returns the directory of sample messages: GMSYNC_CORPUS, or the
// corpus kept next to the repository.
func corpusDir() string {
	if dir := os.Getenv("GMSYNC_CORPUS"); dir != "" {
		return dir
	}
	return filepath.Join("..", "..", "shared", "corpus")
}

// TestPrepareCorpus runs Prepare with -t over every sample message, once
// alone and once with an envelope-only recipient to add as Bcc. Each message
// must either be accepted, or be rejected with a *DataError or *UsageError
// whose message names the problem. Without re-encoding, an accepted message
// keeps its bytes after the added lines. With it, the parts decode to the
// same content, and a second Prepare changes nothing. The test logs every
// rejected and every re-encoded message.
func TestPrepareCorpus(t *testing.T) {
	dir := corpusDir()
	paths, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil {
		t.Fatalf("listing %s: %v", dir, err)
	}
	if len(paths) == 0 {
		t.Skipf("no .eml files in %s; set GMSYNC_CORPUS to a directory of sample messages", dir)
	}
	var rejected, reencoded int
	for _, path := range paths {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("reading %s: %v", path, err)
		}
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			got, err := Prepare(raw, &Options{ExtractRecipients: true, NoReencode: true}, testEnv())
			if err != nil {
				rejected++
				checkCorpusError(t, name, err)
				return
			}
			checkAddedOnly(t, raw, got.Raw)
			if checkReencoded(t, name, raw, got.Raw) {
				reencoded++
			}

			withBcc, err := Prepare(raw, &Options{ExtractRecipients: true, NoReencode: true, Recipients: []string{"envelope-only@example.net"}}, testEnv())
			if err != nil {
				t.Fatalf("Prepare(%s) with an argument recipient error = %v, want nil as without it", name, err)
			}
			checkPreserved(t, raw, withBcc.Raw)
			if !bytes.Contains(withBcc.Raw, []byte("envelope-only@example.net")) {
				t.Errorf("Prepare(%s) with an argument recipient did not add it as Bcc", name)
			}
		})
	}
	t.Logf("%d of %d messages rejected, %d re-encoded", rejected, len(paths), reencoded)
}

// checkReencoded prepares raw again with re-encoding on and checks the
// result against plain, the message prepared without. It reports whether
// Prepare re-encoded a part.
func checkReencoded(t *testing.T, name string, raw, plain []byte) bool {
	t.Helper()
	got, err := Prepare(raw, &Options{ExtractRecipients: true}, testEnv())
	if err != nil {
		t.Fatalf("Prepare(%s) with re-encoding error = %v, want nil as without it", name, err)
	}
	if got.Reencoded == 0 {
		if !bytes.Equal(got.Raw, plain) {
			t.Errorf("Prepare(%s) re-encoded no part but changed the message", name)
		}
		return false
	}
	if diff := cmp.Diff(decodedParts(plain), decodedParts(got.Raw)); diff != "" {
		t.Errorf("Prepare(%s) re-encoded %d parts, decoded parts differ (-before +after):\n%s", name, got.Reencoded, diff)
	}
	again, err := Prepare(got.Raw, &Options{ExtractRecipients: true}, testEnv())
	if err != nil {
		t.Fatalf("Prepare(Prepare(%s).Raw) error = %v, want nil", name, err)
	}
	if again.Reencoded != 0 || !bytes.Equal(again.Raw, got.Raw) {
		t.Errorf("Prepare(Prepare(%s).Raw) re-encoded %d parts, want none and the message unchanged", name, again.Reencoded)
	}
	t.Logf("re-encoded %d parts of %s", got.Reencoded, name)
	return true
}

func checkCorpusError(t *testing.T, name string, err error) {
	t.Helper()
	var usage *UsageError
	var data *DataError
	if !errors.As(err, &usage) && !errors.As(err, &data) {
		t.Fatalf("Prepare(%s) error = %v (%T), want a *DataError or *UsageError", name, err, err)
	}
	if err.Error() == "" {
		t.Fatalf("Prepare(%s) returned an error without a message", name)
	}
	t.Logf("rejected %s: %v", name, err)
}

// checkAddedOnly checks that raw is input without its mbox "From " lines,
// preceded only by added Date, Message-ID and blank lines.
func checkAddedOnly(t *testing.T, input, raw []byte) {
	t.Helper()
	msg := stripFromLines(input)
	added, found := bytes.CutSuffix(raw, msg)
	if !found {
		t.Fatalf("Prepare.Raw does not end with the input bytes")
	}
	for _, line := range bytes.SplitAfter(added, []byte("\n")) {
		trimmed := bytes.TrimRight(line, "\r\n")
		if len(trimmed) > 0 && !bytes.HasPrefix(trimmed, []byte("Date: ")) && !bytes.HasPrefix(trimmed, []byte("Message-ID: ")) {
			t.Errorf("Prepare added the line %q, want only Date and Message-ID", line)
		}
	}
}

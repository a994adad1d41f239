package sendmail

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
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
// must either be accepted with its bytes preserved after the added lines, or
// be rejected with a *DataError or *UsageError whose message names the
// problem. The test logs every rejected message.
func TestPrepareCorpus(t *testing.T) {
	dir := corpusDir()
	paths, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil {
		t.Fatalf("listing %s: %v", dir, err)
	}
	if len(paths) == 0 {
		t.Skipf("no .eml files in %s; set GMSYNC_CORPUS to a directory of sample messages", dir)
	}
	var rejected int
	for _, path := range paths {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("reading %s: %v", path, err)
		}
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			got, err := Prepare(raw, &Options{ExtractRecipients: true}, testEnv())
			if err != nil {
				rejected++
				checkCorpusError(t, name, err)
				return
			}
			checkAddedOnly(t, raw, got.Raw)

			withBcc, err := Prepare(raw, &Options{ExtractRecipients: true, Recipients: []string{"envelope-only@example.net"}}, testEnv())
			if err != nil {
				t.Fatalf("Prepare(%s) with an argument recipient error = %v, want nil as without it", name, err)
			}
			checkPreserved(t, raw, withBcc.Raw)
			if !bytes.Contains(withBcc.Raw, []byte("envelope-only@example.net")) {
				t.Errorf("Prepare(%s) with an argument recipient did not add it as Bcc", name)
			}
		})
	}
	t.Logf("%d of %d messages rejected", rejected, len(paths))
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

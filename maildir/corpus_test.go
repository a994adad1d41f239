package maildir

import (
	"bufio"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// corpusDir returns the directory of the shared test corpus: $GMSYNC_CORPUS,
// or the corpus directory two levels above the package.
func corpusDir() string {
	if dir := os.Getenv("GMSYNC_CORPUS"); dir != "" {
		return dir
	}
	return filepath.Join("..", "..", "shared", "corpus")
}

// readCorpusLabels returns the label names of LABELS.md: each line that
// starts with '"' holds a JSON string, then a tab and a note.
func readCorpusLabels(t *testing.T) []string {
	t.Helper()
	path := filepath.Join(corpusDir(), "LABELS.md")
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("label corpus %s not found; set GMSYNC_CORPUS to the corpus directory to run this test", path)
	}
	if err != nil {
		t.Fatalf("opening label corpus: %v", err)
	}
	defer f.Close()

	var names []string
	scanner := bufio.NewScanner(f)
	for line := 1; scanner.Scan(); line++ {
		text := scanner.Text()
		if !strings.HasPrefix(text, `"`) {
			continue
		}
		literal, _, _ := strings.Cut(text, "\t")
		var name string
		if err := json.Unmarshal([]byte(literal), &name); err != nil {
			t.Fatalf("%s:%d: decoding label name %s: %v", path, line, literal, err)
		}
		names = append(names, name)
	}
	if err := scanner.Err(); err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	if len(names) == 0 {
		t.Fatalf("%s holds no label names", path)
	}
	return names
}

func TestCorpusLabelsEscape(t *testing.T) {
	names := readCorpusLabels(t)
	for _, layout := range []Layout{Nested, MaildirPlusPlus} {
		for _, name := range names {
			checkEscape(t, layout, name)
		}
	}
}

func TestCorpusLabelsMapTogether(t *testing.T) {
	names := readCorpusLabels(t)
	labels := defaultSystemLabels()
	for i, name := range names {
		labels = append(labels, Label{ID: "Label_" + strconv.Itoa(i+1), Name: name, Type: "user"})
	}

	for _, layout := range []Layout{Nested, MaildirPlusPlus} {
		m := NewMapper(labels, MapperOptions{Layout: layout})
		checkMapperDirs(t, m, len(names)+7)
		for _, l := range labels[len(defaultSystemLabels()):] {
			if _, ok := m.Dir(l.ID); !ok {
				t.Errorf("%v: Dir(%q) for label %q = false, want a folder", layout, l.ID, l.Name)
			}
		}
	}
}

package threadindex

import (
	"testing"
)

func TestPutLookup(t *testing.T) {
	dir := t.TempDir()
	if got, err := Lookup(dir, "<none@example.org>"); err != nil || got != "" {
		t.Fatalf("Lookup before any Put = %q, %v, want \"\", nil", got, err)
	}
	pairs := map[string]string{"<a@example.org>": "t1", " b@example.org ": "t2", "": "t3", "<c@example.org>": ""}
	if err := Put(dir, pairs); err != nil {
		t.Fatalf("Put() = %v", err)
	}
	tests := []struct {
		ids  []string
		want string
	}{
		{[]string{"a@example.org"}, "t1"},
		{[]string{"<b@example.org>"}, "t2"},
		{[]string{"<unknown@example.org>", "<b@example.org>", "<a@example.org>"}, "t2"},
		{[]string{"<c@example.org>"}, ""},
		{[]string{"<A@example.org>"}, ""},
		{nil, ""},
	}
	for _, tt := range tests {
		got, err := Lookup(dir, tt.ids...)
		if err != nil || got != tt.want {
			t.Errorf("Lookup(%q) = %q, %v, want %q", tt.ids, got, err, tt.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	tests := map[string]string{
		"<a@b>":    "a@b",
		" <a@b> ":  "a@b",
		"a@b":      "a@b",
		"< a@b >":  "a@b",
		"":         "",
		"<Case@B>": "Case@B",
	}
	for in, want := range tests {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

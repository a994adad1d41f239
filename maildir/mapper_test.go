package maildir

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// defaultSystemLabels is what labels.list returns for the system labels of
// an ordinary account.
func defaultSystemLabels() []Label {
	var labels []Label
	for _, id := range []string{"INBOX", "SENT", "DRAFT", "STARRED", "IMPORTANT", "SPAM", "TRASH", "UNREAD", "CHAT",
		"CATEGORY_PERSONAL", "CATEGORY_SOCIAL", "CATEGORY_PROMOTIONS", "CATEGORY_UPDATES", "CATEGORY_FORUMS", "YELLOW_STAR"} {
		labels = append(labels, Label{ID: id, Name: id, Type: "system"})
	}
	return labels
}

func withUserLabels(pairs ...string) []Label {
	labels := defaultSystemLabels()
	for i := 0; i+1 < len(pairs); i += 2 {
		labels = append(labels, Label{ID: pairs[i], Name: pairs[i+1], Type: "user"})
	}
	return labels
}

func slash(dirs []string) []string {
	out := make([]string, len(dirs))
	for i, d := range dirs {
		out[i] = filepath.ToSlash(d)
	}
	return out
}

// checkMapperDirs checks that m has want folders, each safe and inside the
// root, and that no two directories (or parents of directories) differ only
// in case or Unicode normalization, which macOS would merge.
func checkMapperDirs(t testing.TB, m *Mapper, want int) {
	t.Helper()
	dirs := m.AllDirs()
	if len(dirs) != want {
		t.Errorf("%v: len(AllDirs()) = %d, want %d", m.Layout(), len(dirs), want)
	}

	folders := make(map[string]string)
	prefixes := make(map[string]string)
	for _, dir := range dirs {
		checkSafeDir(t, m.Layout(), dir)
		key := foldKey(dir)
		if other, dup := folders[key]; dup {
			t.Errorf("%v: folders %q and %q collide on a case-insensitive filesystem", m.Layout(), other, dir)
		}
		folders[key] = dir

		comps := strings.Split(filepath.ToSlash(dir), "/")
		for i := range comps {
			prefix := strings.Join(comps[:i+1], "/")
			if other, ok := prefixes[foldKey(prefix)]; ok && other != prefix {
				t.Errorf("%v: directories %q and %q collide on a case-insensitive filesystem", m.Layout(), other, prefix)
			}
			prefixes[foldKey(prefix)] = prefix
		}
	}
}

func TestNewMapperDefaults(t *testing.T) {
	labels := withUserLabels("Label_1", "Work", "Label_2", "Work/Projects")
	tests := []struct {
		layout Layout
		want   []string
	}{
		{Nested, []string{"INBOX", "Sent", "Drafts", "Starred", "Spam", "Trash", "All Mail", "Work", "Work/Projects"}},
		{MaildirPlusPlus, []string{".", ".Sent", ".Drafts", ".Starred", ".Spam", ".Trash", ".All Mail", ".Work", ".Work.Projects"}},
	}
	for _, tt := range tests {
		m := NewMapper(labels, MapperOptions{Layout: tt.layout})
		if diff := cmp.Diff(tt.want, slash(m.AllDirs())); diff != "" {
			t.Errorf("NewMapper(%v).AllDirs() mismatch (-want +got):\n%s", tt.layout, diff)
		}
	}
}

func TestNewMapperIgnoredByDefault(t *testing.T) {
	m := NewMapper(defaultSystemLabels(), MapperOptions{})
	for _, id := range []string{"UNREAD", "CHAT", "CATEGORY_SOCIAL", "CATEGORY_PERSONAL", "YELLOW_STAR", "IMPORTANT"} {
		if dir, ok := m.Dir(id); ok {
			t.Errorf("Dir(%q) = %q, true, want no folder", id, dir)
		}
	}
}

func TestNewMapperOptions(t *testing.T) {
	labels := withUserLabels("Label_1", "Work", "Label_2", "Newsletters", "Label_3", "Receipts")
	opts := MapperOptions{
		FolderNames: map[string]string{
			AllMail:             "[Gmail]/All Mail",
			"SENT":              "Sent Items",
			"CATEGORY_PERSONAL": "Personal",
			"Label_3":           "Paperwork/Receipts",
			"DRAFT":             "",
		},
		Ignore:           []string{"Newsletters", "SPAM", "CHAT"},
		IncludeImportant: true,
	}
	m := NewMapper(labels, opts)
	want := []string{"INBOX", "Sent Items", "Drafts", "Starred", "Important", "Trash", "[Gmail]/All Mail", "Personal", "Work", "Paperwork/Receipts"}
	if diff := cmp.Diff(want, slash(m.AllDirs())); diff != "" {
		t.Errorf("NewMapper(…).AllDirs() mismatch (-want +got):\n%s", diff)
	}
}

func TestNewMapperIgnoreAllMail(t *testing.T) {
	m := NewMapper(defaultSystemLabels(), MapperOptions{Ignore: []string{AllMail}})
	if dir, ok := m.Dir(AllMail); ok {
		t.Errorf("Dir(AllMail) = %q, true, want no folder", dir)
	}
	if got := m.Folders([]string{"INBOX"}); !slices.Equal(got, []string{"INBOX"}) {
		t.Errorf("Folders([INBOX]) = %q, want [INBOX]", got)
	}
}

func TestNewMapperCollisions(t *testing.T) {
	tests := []struct {
		name   string
		layout Layout
		labels []Label
		want   map[string]string // label id → dir
	}{
		{
			name:   "user INBOX and Trash",
			labels: withUserLabels("Label_5", "INBOX", "Label_6", "Trash", "Label_7", "inbox"),
			want:   map[string]string{"INBOX": "INBOX", "TRASH": "Trash", "Label_5": "INBOX~Label_5", "Label_6": "Trash~Label_6", "Label_7": "inbox~Label_7"},
		},
		{
			name:   "case pair lower id wins",
			labels: withUserLabels("Label_10", "Projects", "Label_9", "projects"),
			want:   map[string]string{"Label_9": "projects", "Label_10": "Projects~Label_10"},
		},
		{
			name:   "case pair numeric id order",
			labels: withUserLabels("Label_9", "Projects", "Label_10", "projects"),
			want:   map[string]string{"Label_9": "Projects", "Label_10": "projects~Label_10"},
		},
		{
			name:   "implicit parent",
			labels: withUserLabels("Label_3", "Projects/A", "Label_4", "projects", "Label_5", "projects/B"),
			want:   map[string]string{"Label_3": "Projects/A", "Label_4": "projects~Label_4", "Label_5": "projects~Label_4/B"},
		},
		{
			name:   "NFC and NFD",
			labels: withUserLabels("Label_1", "Café", "Label_2", "Cafe\u0301"),
			want:   map[string]string{"Label_1": "Café", "Label_2": "Cafe\u0301~Label_2"},
		},
		{
			name:   "same name twice",
			labels: withUserLabels("Label_1", "Dup", "Label_2", "Dup"),
			want:   map[string]string{"Label_1": "Dup", "Label_2": "Dup~Label_2"},
		},
		{
			name:   "ids differing in case",
			labels: withUserLabels("a", "Dup", "lab", "dup", "LAB", "DUP"),
			want:   map[string]string{"a": "Dup", "LAB": "DUP~LAB", "lab": "dup~lab~" + shortHash("lab")},
		},
		{
			name:   "system folder renamed onto another",
			labels: withUserLabels(),
			want:   map[string]string{"INBOX": "INBOX", "SENT": "inbox~SENT"},
		},
		{
			name:   "dotted names stay apart in Maildir++",
			layout: MaildirPlusPlus,
			labels: withUserLabels("Label_1", "Receipts.2024", "Label_2", "Receipts/2024"),
			want:   map[string]string{"Label_1": ".Receipts%2E2024", "Label_2": ".Receipts.2024"},
		},
		{
			name:   "user INBOX in Maildir++",
			layout: MaildirPlusPlus,
			labels: withUserLabels("Label_5", "INBOX", "Label_6", "inbox/Sub"),
			want:   map[string]string{"INBOX": ".", "Label_5": ".INBOX~Label_5", "Label_6": ".inbox.Sub"},
		},
		{
			name:   "case pair in Maildir++",
			layout: MaildirPlusPlus,
			labels: withUserLabels("Label_1", "Projects", "Label_2", "projects"),
			want:   map[string]string{"Label_1": ".Projects", "Label_2": ".projects~Label_2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := MapperOptions{Layout: tt.layout}
			if tt.name == "system folder renamed onto another" {
				opts.FolderNames = map[string]string{"SENT": "inbox"}
			}
			m := NewMapper(tt.labels, opts)
			got := make(map[string]string)
			for id := range tt.want {
				dir, _ := m.Dir(id)
				got[id] = filepath.ToSlash(dir)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("NewMapper(…).Dir mismatch (-want +got):\n%s", diff)
			}
			checkMapperDirs(t, m, len(m.AllDirs()))
		})
	}
}

func TestNewMapperShortenedCollision(t *testing.T) {
	long := strings.Repeat("Quarterly-report-", 20)
	m := NewMapper(withUserLabels("Label_1", long, "Label_2", strings.ToLower(long)), MapperOptions{})
	first, _ := m.Dir("Label_1")
	second, _ := m.Dir("Label_2")
	if len(first) > NameMax || len(second) > NameMax {
		t.Errorf("Dir lengths = %d, %d, want at most %d", len(first), len(second), NameMax)
	}
	if !strings.HasSuffix(second, "~Label_2") {
		t.Errorf("Dir(Label_2) = %q, want the collision suffix kept after shortening", second)
	}
	checkMapperDirs(t, m, 9)
}

func TestMapperFolders(t *testing.T) {
	m := NewMapper(withUserLabels("Label_1", "Work", "Label_2", "Alpha"), MapperOptions{})
	tests := []struct {
		labelIDs []string
		want     []string
	}{
		{[]string{"INBOX", "UNREAD", "CATEGORY_SOCIAL"}, []string{"INBOX", "All Mail"}},
		{[]string{"Label_1", "INBOX", "Label_2", "INBOX"}, []string{"INBOX", "All Mail", "Work", "Alpha"}},
		{[]string{"SPAM", "Label_1"}, []string{"Spam"}},
		{[]string{"TRASH", "STARRED"}, []string{"Trash"}},
		{[]string{"SPAM", "TRASH", "INBOX"}, []string{"Trash"}},
		{[]string{"SENT", "DRAFT", "Label_unknown"}, []string{"Sent", "Drafts", "All Mail"}},
		{nil, []string{"All Mail"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, slash(m.Folders(tt.labelIDs))); diff != "" {
			t.Errorf("Folders(%q) mismatch (-want +got):\n%s", tt.labelIDs, diff)
		}
	}
}

func TestMapperTargetsTrashOnly(t *testing.T) {
	m := NewMapper(withUserLabels("Label_1", "Work"), MapperOptions{})
	got := m.Targets([]string{"TRASH", "STARRED", "Label_1"})
	want := []Target{
		{Dir: "Trash", Flags: Flags{Seen: true, Flagged: true, Trashed: true}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Targets([TRASH STARRED Label_1]) mismatch (-want +got):\n%s", diff)
	}
}

func TestMapperDir(t *testing.T) {
	m := NewMapper(withUserLabels("Label_1", "Work/Deep"), MapperOptions{})
	tests := []struct {
		id   string
		want string
		ok   bool
	}{
		{"INBOX", "INBOX", true},
		{AllMail, "All Mail", true},
		{"Label_1", filepath.Join("Work", "Deep"), true},
		{"CHAT", "", false},
		{"Label_404", "", false},
	}
	for _, tt := range tests {
		got, ok := m.Dir(tt.id)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Dir(%q) = %q, %v, want %q, %v", tt.id, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseLayout(t *testing.T) {
	tests := []struct {
		in      string
		want    Layout
		wantErr bool
	}{
		{"nested", Nested, false},
		{"maildir++", MaildirPlusPlus, false},
		{"Maildir++", Nested, true},
		{"", Nested, true},
	}
	for _, tt := range tests {
		got, err := ParseLayout(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseLayout(%q) = %v, %v, want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err == nil && got.String() != tt.in {
			t.Errorf("ParseLayout(%q).String() = %q, want %q", tt.in, got.String(), tt.in)
		}
	}
}

package maildir

import (
	"testing"
	"time"
)

func TestFlagsFor(t *testing.T) {
	tests := []struct {
		labelIDs []string
		want     Flags
	}{
		{nil, Flags{Seen: true}},
		{[]string{"INBOX", "UNREAD"}, Flags{}},
		{[]string{"STARRED"}, Flags{Seen: true, Flagged: true}},
		{[]string{"DRAFT", "UNREAD"}, Flags{Draft: true}},
		{[]string{"TRASH", "STARRED", "DRAFT"}, Flags{Seen: true, Flagged: true, Draft: true, Trashed: true}},
		{[]string{"Label_1", "CATEGORY_SOCIAL", "IMPORTANT"}, Flags{Seen: true}},
	}
	for _, tt := range tests {
		if got := FlagsFor(tt.labelIDs); got != tt.want {
			t.Errorf("FlagsFor(%q) = %+v, want %+v", tt.labelIDs, got, tt.want)
		}
	}
}

func TestFlagsFilename(t *testing.T) {
	sep := string(infoSeparator)
	tests := []struct {
		flags   Flags
		want    string
		wantSub string
	}{
		{Flags{}, "k", "new"},
		{Flags{Flagged: true, Trashed: true}, "k", "new"},
		{Flags{Seen: true}, "k" + sep + "2,S", "cur"},
		{Flags{Seen: true, Trashed: true, Flagged: true, Draft: true}, "k" + sep + "2,DFST", "cur"},
		{Flags{Seen: true, Trashed: true}, "k" + sep + "2,ST", "cur"},
	}
	for _, tt := range tests {
		if got := tt.flags.filename("k"); got != tt.want {
			t.Errorf("%+v.filename(k) = %q, want %q", tt.flags, got, tt.want)
		}
		if got := tt.flags.subdir(); got != tt.wantSub {
			t.Errorf("%+v.subdir() = %q, want %q", tt.flags, got, tt.wantSub)
		}
	}
}

func TestFormatKey(t *testing.T) {
	date := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	if got, want := FormatKey(date, "18e0c2f4a1b2c3d4"), "1709294400.18e0c2f4a1b2c3d4.gmsync"; got != want {
		t.Errorf("FormatKey(%v, 18e0c2f4a1b2c3d4) = %q, want %q", date, got, want)
	}
}

func TestParseKey(t *testing.T) {
	sep := string(infoSeparator)
	tests := []struct {
		name   string
		wantID string
		wantOK bool
	}{
		{"1709294400.18e0c2f4a1b2c3d4.gmsync", "18e0c2f4a1b2c3d4", true},
		{"1709294400.18e0c2f4a1b2c3d4.gmsync" + sep + "2,FS", "18e0c2f4a1b2c3d4", true},
		{"-5.abc.gmsync", "abc", true},
		{"1709294400.M1P2.host" + sep + "2,S", "", false},
		{"1709294400.a.b.gmsync", "", false},
		{"x.abc.gmsync", "", false},
		{"1709294400..gmsync", "", false},
		{"1709294400.abc.gmsync.old", "", false},
		{".gmsync", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		id, ok := ParseKey(tt.name)
		if id != tt.wantID || ok != tt.wantOK {
			t.Errorf("ParseKey(%q) = %q, %v, want %q, %v", tt.name, id, ok, tt.wantID, tt.wantOK)
		}
	}
}

func TestParseKeyRoundTrip(t *testing.T) {
	date := time.Unix(1700000000, 0)
	for _, id := range []string{"0", "18e0c2f4a1b2c3d4", "Msg_1-x"} {
		key := FormatKey(date, id)
		if got, ok := ParseKey(key); !ok || got != id {
			t.Errorf("ParseKey(FormatKey(%v, %q)) = %q, %v, want %q, true", date, id, got, ok, id)
		}
	}
}

package timer

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRenderSystemd(t *testing.T) {
	spec := Spec{Binary: "/home/al ice/.local/bin/gmsync", Accounts: []string{"personal", "work"}, Interval: 5 * time.Minute}
	files, err := Render(Systemd, spec, "/units")
	if err != nil {
		t.Fatalf("Render() = %v", err)
	}
	if len(files) != 2 || files[0].Path != "/units/gmsync-sync.service" || files[1].Path != "/units/gmsync-sync.timer" {
		t.Fatalf("Render() paths = %v, want the service and the timer", files)
	}
	service := string(files[0].Content)
	for _, want := range []string{
		`ExecStart=-"/home/al ice/.local/bin/gmsync" sync --quiet --account personal`,
		`ExecStart=-"/home/al ice/.local/bin/gmsync" sync --quiet --account work`,
		`ExecStart=-"/home/al ice/.local/bin/gmsync" queue flush --all`,
		"Type=oneshot",
	} {
		if !strings.Contains(service, want) {
			t.Errorf("service lacks %q:\n%s", want, service)
		}
	}
	if timerUnit := string(files[1].Content); !strings.Contains(timerUnit, "OnUnitActiveSec=5m0s") || !strings.Contains(timerUnit, "WantedBy=timers.target") {
		t.Errorf("timer unit lacks the interval or the install section:\n%s", timerUnit)
	}
}

func TestRenderSystemdEscapesPercent(t *testing.T) {
	files, err := Render(Systemd, Spec{Binary: "/opt/100%/gmsync", Interval: time.Hour}, "/u")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(files[0].Content), "ExecStart=-/opt/100%%/gmsync sync --quiet\n") {
		t.Errorf("service = %s, want %% escaped and no --account", files[0].Content)
	}
}

func TestRenderLaunchdIsValidXML(t *testing.T) {
	files, err := Render(Launchd, Spec{Binary: "/usr/local/bin/gmsync", Accounts: []string{"a&b"}, Interval: 10 * time.Minute, Config: "/Users/al/gm sync.toml"}, "/agents")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].Path != "/agents/"+LaunchdLabel+".plist" {
		t.Fatalf("Render() = %v, want one plist", files)
	}
	var doc struct{}
	if err := xml.Unmarshal(files[0].Content, &doc); err != nil {
		t.Errorf("plist is not valid XML: %v\n%s", err, files[0].Content)
	}
	content := string(files[0].Content)
	for _, want := range []string{"<integer>600</integer>", "'--account' 'a&amp;b'", "'/Users/al/gm sync.toml'"} {
		if !strings.Contains(content, want) {
			t.Errorf("plist lacks %q:\n%s", want, content)
		}
	}
}

func TestRenderRejectsBadSpecs(t *testing.T) {
	tests := []struct {
		name string
		kind Kind
		spec Spec
	}{
		{"relative binary", Systemd, Spec{Binary: "gmsync", Interval: time.Hour}},
		{"short interval", Systemd, Spec{Binary: "/bin/gmsync", Interval: 10 * time.Second}},
		{"unknown manager", "cron", Spec{Binary: "/bin/gmsync", Interval: time.Hour}},
	}
	for _, tt := range tests {
		if _, err := Render(tt.kind, tt.spec, "/x"); err == nil {
			t.Errorf("Render(%s) succeeded, want an error", tt.name)
		}
	}
}

func TestWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "systemd", "user")
	files, err := Render(Systemd, Spec{Binary: "/bin/gmsync", Interval: time.Hour}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(files); err != nil {
		t.Fatalf("Write() = %v", err)
	}
	for _, f := range files {
		info, err := os.Stat(f.Path)
		if err != nil || info.Mode().Perm() != 0o644 {
			t.Errorf("%s: %v, mode %v, want a 0644 file", f.Path, err, info.Mode().Perm())
		}
	}
}

// Package timer writes the units that run `gmsync sync` periodically: a
// systemd user service and timer on Linux and the BSDs, a launchd agent on
// macOS. It only renders and writes files; enabling them is the user's
// command (systemctl --user, launchctl), which the caller prints.
package timer

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/template"
	"time"
)

// Kind is a service manager.
type Kind string

const (
	Systemd Kind = "systemd"
	Launchd Kind = "launchd"
)

// Spec describes what the timer runs.
type Spec struct {
	Binary   string        // absolute path of gmsync
	Accounts []string      // accounts to sync, in order; empty means the default account
	Interval time.Duration // time between runs
	Config   string        // --config file, or empty for the default
}

// File is one unit file to write.
type File struct {
	Path    string
	Content []byte
}

// Render returns the files of kind for spec, with paths under dir (for
// systemd the user unit directory, for launchd ~/Library/LaunchAgents).
func Render(kind Kind, spec Spec, dir string) ([]File, error) {
	if !filepath.IsAbs(spec.Binary) {
		return nil, fmt.Errorf("invalid gmsync path %q: the timer needs an absolute path", spec.Binary)
	}
	if spec.Interval < time.Minute {
		return nil, fmt.Errorf("invalid interval %s: use one minute or more, because each run costs Gmail quota", spec.Interval)
	}
	switch kind {
	case Systemd:
		return renderSystemd(spec, dir)
	case Launchd:
		return renderLaunchd(spec, dir)
	}
	return nil, fmt.Errorf("unknown service manager %q: use systemd or launchd", kind)
}

// commands returns the argv of each run: one sync per account, then one
// flush of every account's outbox, so mail queued while offline goes out
// once the network is back.
func (s Spec) commands() [][]string {
	accounts := s.Accounts
	if len(accounts) == 0 {
		accounts = []string{""}
	}
	base := []string{s.Binary}
	if s.Config != "" {
		base = append(base, "--config", s.Config)
	}
	var out [][]string
	for _, acct := range accounts {
		argv := append(slices.Clone(base), "sync", "--quiet")
		if acct != "" {
			argv = append(argv, "--account", acct)
		}
		out = append(out, argv)
	}
	return append(out, append(slices.Clone(base), "queue", "flush", "--all"))
}

// systemdService runs each command in turn; the '-' prefix of ExecStart
// lets the other accounts and the flush run when one account's sync fails.
var systemdService = template.Must(template.New("service").Parse(`[Unit]
Description=gmsync: mirror Gmail into the local Maildir
After=network-online.target
Wants=network-online.target

[Service]
Type=oneshot
{{range .}}ExecStart=-{{.}}
{{end}}`))

var systemdTimer = template.Must(template.New("timer").Parse(`[Unit]
Description=Run gmsync sync every {{.}}

[Timer]
OnBootSec=2min
OnUnitActiveSec={{.}}
RandomizedDelaySec=30s
Persistent=true

[Install]
WantedBy=timers.target
`))

func renderSystemd(spec Spec, dir string) ([]File, error) {
	var lines []string
	for _, argv := range spec.commands() {
		lines = append(lines, systemdQuote(argv))
	}
	var service, timerUnit bytes.Buffer
	if err := systemdService.Execute(&service, lines); err != nil {
		return nil, err
	}
	if err := systemdTimer.Execute(&timerUnit, spec.Interval.String()); err != nil {
		return nil, err
	}
	return []File{
		{Path: filepath.Join(dir, "gmsync-sync.service"), Content: service.Bytes()},
		{Path: filepath.Join(dir, "gmsync-sync.timer"), Content: timerUnit.Bytes()},
	}, nil
}

// systemdQuote joins argv for an ExecStart line, quoting words with spaces
// and escaping '%', which systemd expands as a specifier.
func systemdQuote(argv []string) string {
	words := make([]string, len(argv))
	for i, w := range argv {
		w = strings.ReplaceAll(w, "%", "%%")
		if strings.ContainsAny(w, " \t\"'\\") {
			w = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(w) + `"`
		}
		words[i] = w
	}
	return strings.Join(words, " ")
}

var launchdPlist = template.Must(template.New("plist").Parse(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>{{.Label}}</string>
	<key>ProgramArguments</key>
	<array>
		<string>/bin/sh</string>
		<string>-c</string>
		<string>{{.Script}}</string>
	</array>
	<key>StartInterval</key>
	<integer>{{.Seconds}}</integer>
	<key>RunAtLoad</key>
	<true/>
	<key>StandardErrorPath</key>
	<string>{{.Log}}</string>
</dict>
</plist>
`))

// LaunchdLabel is the launchd job label, also the plist's file name.
const LaunchdLabel = "io.github.gmsync.sync"

func renderLaunchd(spec Spec, dir string) ([]File, error) {
	var runs []string
	for _, argv := range spec.commands() {
		quoted := make([]string, len(argv))
		for i, w := range argv {
			quoted[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
		}
		runs = append(runs, strings.Join(quoted, " "))
	}
	home, _ := os.UserHomeDir()
	data := struct {
		Label, Script, Log string
		Seconds            int
	}{
		Label:   LaunchdLabel,
		Script:  xmlEscape(strings.Join(runs, "; ")),
		Log:     xmlEscape(filepath.Join(home, "Library", "Logs", "gmsync.log")),
		Seconds: int(spec.Interval.Seconds()),
	}
	var plist bytes.Buffer
	if err := launchdPlist.Execute(&plist, data); err != nil {
		return nil, err
	}
	return []File{{Path: filepath.Join(dir, LaunchdLabel+".plist"), Content: plist.Bytes()}}, nil
}

func xmlEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Write writes files, each through a temporary file and a rename, with
// mode 0644 as unit files are (they hold no secret).
func Write(files []File) error {
	for _, f := range files {
		dir := filepath.Dir(f.Path)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("creating %s: %w", dir, err)
		}
		tmp, err := os.CreateTemp(dir, ".gmsync-unit-*")
		if err != nil {
			return fmt.Errorf("writing %s: %w", f.Path, err)
		}
		_, werr := tmp.Write(f.Content)
		serr := tmp.Sync()
		cerr := tmp.Close()
		if err := firstErr(werr, serr, cerr, os.Chmod(tmp.Name(), 0o644)); err != nil {
			os.Remove(tmp.Name())
			return fmt.Errorf("writing %s: %w", f.Path, err)
		}
		if err := os.Rename(tmp.Name(), f.Path); err != nil {
			os.Remove(tmp.Name())
			return fmt.Errorf("writing %s: %w", f.Path, err)
		}
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

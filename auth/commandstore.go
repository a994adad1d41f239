package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/gmsync/gmsync/config"
	"github.com/gmsync/gmsync/internal/sysexits"
)

// CommandStore keeps each grant in a password manager through three
// user-configured commands, such as pass show, pass insert and pass rm. The
// grant travels as one line of JSON on the get command's standard output and
// the set command's standard input, never in an argument.
//
// The get command exits 0 with the entry on standard output, or exits 1
// with nothing on standard output when there is no entry (pass and
// secret-tool behave so). Any other outcome is a refusal and wraps
// ErrKeyringDenied. A command that cannot be started wraps ErrNoKeyring.
// The commands run with the caller's environment, standard input closed
// unless a secret is written, and standard error captured.
type CommandStore struct {
	get, set, del []string
	timeout       time.Duration
}

var _ Store = (*CommandStore)(nil)

// NewCommandStore returns a store that runs get, set and del, each an argv
// whose "{account}" and "{purpose}" are replaced in every argument. Each
// command is killed after timeout.
func NewCommandStore(get, set, del []string, timeout time.Duration) *CommandStore {
	return &CommandStore{get: get, set: set, del: del, timeout: timeout}
}

// commandResult is the outcome of one command of the backend.
type commandResult struct {
	argv   []string
	stdout []byte
	stderr []byte
	status int // exit status, or -1 when it did not exit normally
}

// expandArgv replaces the placeholders in each argument. Account names are
// limited to letters, digits, '.', '_' and '-' by config, and purposes are
// fixed words, so the result stays one argument each.
func expandArgv(argv []string, account string, p Purpose) []string {
	out := make([]string, len(argv))
	r := strings.NewReplacer(config.PlaceholderAccount, account, config.PlaceholderPurpose, string(p))
	for i, a := range argv {
		out[i] = r.Replace(a)
	}
	return out
}

// run starts argv with stdin (nil for none) and waits at most s.timeout. It
// returns an error only when the command could not run to an exit status.
func (s *CommandStore) run(key string, argv []string, stdin []byte) (commandResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.WaitDelay = time.Second
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()

	res := commandResult{argv: argv, stdout: stdout.Bytes(), stderr: stderr.Bytes(), status: cmd.ProcessState.ExitCode()}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		reason := fmt.Sprintf("%s command %s did not finish within %v, perhaps because it waits for a passphrase", key, argv[0], s.timeout)
		return res, sysexits.Wrap(sysexits.TempFail, &keyringError{reason: reason})
	case err == nil, errors.As(err, &exitErr):
		return res, nil
	}
	return res, noKeyring(fmt.Sprintf("running the %s command %s", key, argv[0]), err)
}

// deniedByCommand explains a command that exited with an unexpected status.
func deniedByCommand(key string, res commandResult) error {
	reason := fmt.Sprintf("the %s command %s exited with status %d%s", key, strings.Join(res.argv, " "), res.status, stderrDetail(res.stderr))
	return keyringDenied(reason, "the entry may exist but could not be read or written; unlock the password manager "+
		"(for pass, the GPG key through gpg-agent) and try again, or run the command yourself to see why", nil)
}

// stderrDetail returns the last line of a command's standard error for an
// error message, or nothing when that line might contain a token.
func stderrDetail(stderr []byte) string {
	lines := strings.Split(strings.TrimSpace(string(stderr)), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if last == "" || mayHoldToken(last) {
		return ""
	}
	if len(last) > 200 {
		last = last[:200] + "..."
	}
	return ": " + last
}

// mayHoldToken reports whether s looks like it contains a Google token or a
// stored grant: refresh tokens start "1//", access tokens "ya29.".
func mayHoldToken(s string) bool {
	return strings.Contains(s, "1//") || strings.Contains(s, "ya29.") || strings.Contains(s, "_token")
}

// Load runs the get command and decodes its output.
func (s *CommandStore) Load(account string, p Purpose) (*Grant, error) {
	res, err := s.run("keyring_get", expandArgv(s.get, account, p), nil)
	if err != nil {
		return nil, fmt.Errorf("loading the %s grant of account %s: %w", p, account, err)
	}
	out := bytes.TrimSpace(res.stdout)
	switch {
	case res.status == 1 && len(out) == 0:
		return nil, fmt.Errorf("loading the %s grant of account %s: %w", p, account, ErrNotFound)
	case res.status != 0:
		return nil, fmt.Errorf("loading the %s grant of account %s: %w", p, account, deniedByCommand("keyring_get", res))
	}
	var g Grant
	if err := json.Unmarshal(out, &g); err != nil {
		// The JSON error could quote the output, so it is left out.
		return nil, sysexits.Wrap(sysexits.NoPerm, fmt.Errorf("decoding the %s grant of account %s: the keyring_get command's output is not a gmsync grant: run %s", p, account, loginCommand(account, p)))
	}
	return &g, nil
}

// Save runs the set command with the grant on standard input, then reads the
// entry back with the get command and compares.
func (s *CommandStore) Save(account string, p Purpose, g *Grant) error {
	data, err := json.Marshal(g)
	if err != nil {
		return fmt.Errorf("encoding the %s grant of account %s: %w", p, account, err)
	}
	res, err := s.run("keyring_set", expandArgv(s.set, account, p), data)
	if err != nil {
		return fmt.Errorf("saving the %s grant of account %s: %w", p, account, err)
	}
	if res.status != 0 {
		return fmt.Errorf("saving the %s grant of account %s: %w", p, account, deniedByCommand("keyring_set", res))
	}

	back, err := s.run("keyring_get", expandArgv(s.get, account, p), nil)
	if err != nil {
		return fmt.Errorf("reading back the %s grant of account %s: %w", p, account, err)
	}
	if back.status != 0 || !bytes.Equal(bytes.TrimSpace(back.stdout), data) {
		return sysexits.Wrap(sysexits.Unavailable, fmt.Errorf("saving the %s grant of account %s: the keyring_get command did not return what keyring_set stored (exit status %d): check that both name the same entry", p, account, back.status))
	}
	return nil
}

// Delete runs the delete command. Exit status 1 means there was no entry.
func (s *CommandStore) Delete(account string, p Purpose) error {
	res, err := s.run("keyring_delete", expandArgv(s.del, account, p), nil)
	if err != nil {
		return fmt.Errorf("deleting the %s grant of account %s: %w", p, account, err)
	}
	switch res.status {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("deleting the %s grant of account %s: %w", p, account, ErrNotFound)
	}
	return fmt.Errorf("deleting the %s grant of account %s: %w", p, account, deniedByCommand("keyring_delete", res))
}

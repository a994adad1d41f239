package sendmail

import (
	"errors"
	"strings"
	"testing"
)

func TestSelectAccount(t *testing.T) {
	accounts := []AccountInfo{
		{Name: "personal", Address: "alice@example.com", Aliases: []string{"alice@alias.example"}, Default: true},
		{Name: "work", Address: "alice@work.example", Aliases: []string{"team@work.example", "alice@example.com"}},
	}
	tests := []struct {
		name                   string
		accounts               []AccountInfo
		explicit, sender, from string
		wantName               string
		wantWarning            string // part of the warning, or "" for none
	}{
		{name: "explicit wins", accounts: accounts, explicit: "work", sender: "alice@example.com", from: "alice@example.com", wantName: "work"},
		{name: "sender address", accounts: accounts, sender: "alice@work.example", from: "alice@alias.example", wantName: "work", wantWarning: "alice@alias.example"},
		{name: "From alias of chosen account", accounts: accounts, sender: "alice@work.example", from: "alice@example.com", wantName: "work"},
		{name: "sender alias ignoring case", accounts: accounts, sender: "TEAM@Work.Example", wantName: "work"},
		{name: "sender in angle brackets", accounts: accounts, sender: "<alice@work.example>", wantName: "work"},
		{name: "own address before alias", accounts: accounts, sender: "alice@example.com", wantName: "personal"},
		{name: "unmatched sender falls to From", accounts: accounts, sender: "root@host.example", from: "Team <team@work.example>", wantName: "work"},
		{name: "null sender falls to From", accounts: accounts, sender: "<>", from: "alice@work.example", wantName: "work"},
		{name: "From address", accounts: accounts, from: "Alice <alice@work.example>", wantName: "work"},
		{name: "default", accounts: accounts, wantName: "personal"},
		{name: "default with foreign From", accounts: accounts, from: "bob@elsewhere.example", wantName: "personal", wantWarning: "replace it with alice@example.com"},
		{name: "alias From on default", accounts: accounts, from: "alice@alias.example", wantName: "personal"},
		{name: "explicit with foreign From", accounts: accounts, explicit: "work", from: "alice@alias.example", wantName: "work", wantWarning: "account work"},
		{name: "only account", accounts: accounts[1:], from: "x@y.example", wantName: "work", wantWarning: "x@y.example"},
		{name: "unparsable From compared as written", accounts: accounts, from: "not an address", wantName: "personal", wantWarning: "not an address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, warning, err := SelectAccount(tt.accounts, tt.explicit, tt.sender, tt.from)
			if err != nil {
				t.Fatalf("SelectAccount(%q, %q, %q) error = %v", tt.explicit, tt.sender, tt.from, err)
			}
			if name != tt.wantName {
				t.Errorf("SelectAccount(%q, %q, %q) = %q, want %q", tt.explicit, tt.sender, tt.from, name, tt.wantName)
			}
			switch {
			case tt.wantWarning == "" && warning != "":
				t.Errorf("SelectAccount(%q, %q, %q) warning = %q, want none", tt.explicit, tt.sender, tt.from, warning)
			case !strings.Contains(warning, tt.wantWarning):
				t.Errorf("SelectAccount(%q, %q, %q) warning = %q, want it to contain %q", tt.explicit, tt.sender, tt.from, warning, tt.wantWarning)
			}
		})
	}
}

func TestSelectAccountUnknownExplicit(t *testing.T) {
	accounts := []AccountInfo{{Name: "work", Address: "a@work.example"}, {Name: "home", Address: "a@home.example"}}
	_, _, err := SelectAccount(accounts, "play", "", "")
	var usage *UsageError
	if !errors.As(err, &usage) || usage.Option != "--account" {
		t.Fatalf("SelectAccount(play) error = %v, want a *UsageError for --account", err)
	}
	if !strings.Contains(err.Error(), "home, work") {
		t.Errorf("SelectAccount(play) error = %q, want it to list home, work", err)
	}
}

func TestSelectAccountNoDefault(t *testing.T) {
	tests := []struct {
		name     string
		accounts []AccountInfo
		wantText string
	}{
		{"no accounts", nil, "no [accounts.NAME] table"},
		{"none default", []AccountInfo{{Name: "a"}, {Name: "b"}}, "--account with one of a, b"},
		{"two defaults", []AccountInfo{{Name: "a", Default: true}, {Name: "b", Default: true}}, "a, b are all marked default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := SelectAccount(tt.accounts, "", "x@example.com", "")
			if !errors.Is(err, ErrNoAccount) {
				t.Fatalf("SelectAccount error = %v, want ErrNoAccount", err)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("SelectAccount error = %q, want it to contain %q", err, tt.wantText)
			}
		})
	}
}

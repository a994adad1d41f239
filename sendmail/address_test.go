package sendmail

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseAddressList(t *testing.T) {
	tests := []struct {
		list string
		want []string
	}{
		{"", nil},
		{"undisclosed-recipients:;", nil},
		{"a@example.com,, B <b@example.com>,", []string{"a@example.com", "b@example.com"}},
		{"Jos\xe9 <j@example.com>", []string{"j@example.com"}},
		{"=?koi8-r?B?9MXT1A==?= <k@example.com>", []string{"k@example.com"}},
		{"A Group(Some people) :Chris Jones <c@(Chris's host.)public.example>, joe@example.org, John <jdoe@one.test> (my dear friend); (the end)",
			[]string{"c@public.example", "joe@example.org", "jdoe@one.test"}},
		{"Mary Smith <@machine.tld:mary@example.net>, , jdoe@test   . example", []string{"mary@example.net", "jdoe@test.example"}},
		{"\"Smith (home)\" <s@example.com>", []string{"s@example.com"}},
		{"\"john doe\"@example.com", []string{"john doe@example.com"}},
	}
	for _, tt := range tests {
		got, err := parseAddressList(tt.list)
		if err != nil {
			t.Errorf("parseAddressList(%q) error = %v", tt.list, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("parseAddressList(%q) mismatch (-want +got):\n%s", tt.list, diff)
		}
	}
}

func TestParseAddressListErrors(t *testing.T) {
	for _, list := range []string{"root", "a@example.com b@example.com", "caf\xe9@example.com", "<broken", "Mikel@Lindsaar <jan@example.com>"} {
		if got, err := parseAddressList(list); err == nil {
			t.Errorf("parseAddressList(%q) = %q, want an error", list, got)
		}
	}
}

func TestFormatAddrSpec(t *testing.T) {
	tests := map[string]string{
		"a@example.com":        "a@example.com",
		"john doe@example.com": "\"john doe\"@example.com",
	}
	for addr, want := range tests {
		if got := formatAddrSpec(addr); got != want {
			t.Errorf("formatAddrSpec(%q) = %q, want %q", addr, got, want)
		}
	}
}

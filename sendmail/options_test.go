package sendmail

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want *Options
	}{
		{
			name: "mutt",
			args: []string{"-oem", "-oi", "-B8BITMIME", "-f", "me@example.com", "--", "a@example.com", "c@example.org"},
			want: &Options{
				Recipients: []string{"a@example.com", "c@example.org"},
				IgnoreDots: true, Sender: "me@example.com",
				Ignored: []string{"-oem", "-B 8BITMIME"},
			},
		},
		{
			name: "neomutt with DSN options",
			args: []string{"-oem", "-oi", "-N", "failure,delay", "-R", "hdrs", "-f", "me@example.com", "--", "a@example.com"},
			want: &Options{
				Recipients: []string{"a@example.com"},
				IgnoreDots: true, Sender: "me@example.com",
				Ignored: []string{"-oem", "-N failure,delay", "-R hdrs"},
			},
		},
		{
			name: "emacs",
			args: []string{"-oi", "-f", "me@example.com", "-oem", "-odb", "-t"},
			want: &Options{
				ExtractRecipients: true, IgnoreDots: true, Sender: "me@example.com",
				DeliveryMode: "b", Ignored: []string{"-oem"},
			},
		},
		{
			name: "git send-email",
			args: []string{"-i", "-f", "me@example.com", "a@example.com", "c@example.org"},
			want: &Options{
				Recipients: []string{"a@example.com", "c@example.org"},
				IgnoreDots: true, Sender: "me@example.com",
			},
		},
		{
			name: "aerc with options",
			args: []string{"-oi", "a@example.com"},
			want: &Options{Recipients: []string{"a@example.com"}, IgnoreDots: true},
		},
		{
			name: "aerc bare addresses",
			args: []string{"a@example.com", "b@example.com"},
			want: &Options{Recipients: []string{"a@example.com", "b@example.com"}},
		},
		{
			name: "mailx",
			args: []string{"-i", "--", "a@example.com"},
			want: &Options{Recipients: []string{"a@example.com"}, IgnoreDots: true},
		},
		{
			name: "cron",
			args: []string{"-FCronDaemon", "-i", "-B8BITMIME", "-oem", "root@example.com"},
			want: &Options{
				Recipients: []string{"root@example.com"}, IgnoreDots: true, FullName: "CronDaemon",
				Ignored: []string{"-B 8BITMIME", "-oem"},
			},
		},
		{
			name: "attached sender",
			args: []string{"-fme@example.com", "a@example.com"},
			want: &Options{Recipients: []string{"a@example.com"}, Sender: "me@example.com"},
		},
		{
			name: "r sets the sender and the last wins",
			args: []string{"-f", "one@example.com", "-rtwo@example.com", "a@example.com"},
			want: &Options{Recipients: []string{"a@example.com"}, Sender: "two@example.com"},
		},
		{
			name: "full name with spaces",
			args: []string{"-F", "Jane Q. Doe", "-t"},
			want: &Options{ExtractRecipients: true, FullName: "Jane Q. Doe"},
		},
		{
			name: "grouped flags",
			args: []string{"-ti"},
			want: &Options{ExtractRecipients: true, IgnoreDots: true},
		},
		{
			name: "group ending in a value option",
			args: []string{"-tivf", "me@example.com"},
			want: &Options{ExtractRecipients: true, IgnoreDots: true, Verbose: true, Sender: "me@example.com"},
		},
		{
			name: "group with attached value",
			args: []string{"-itfme@example.com"},
			want: &Options{ExtractRecipients: true, IgnoreDots: true, Sender: "me@example.com"},
		},
		{
			name: "o with separate value",
			args: []string{"-o", "i", "-o", "dq", "-t"},
			want: &Options{ExtractRecipients: true, IgnoreDots: true, DeliveryMode: "q"},
		},
		{
			name: "delivery modes last wins",
			args: []string{"-odq", "-odi", "-t"},
			want: &Options{ExtractRecipients: true, DeliveryMode: "i"},
		},
		{
			name: "other o options ignored",
			args: []string{"-oep", "-oeq", "-oew", "-oA/etc/aliases", "-o8", "-odd", "-t"},
			want: &Options{ExtractRecipients: true, Ignored: []string{"-oep", "-oeq", "-oew", "-oA/etc/aliases", "-o8", "-odd"}},
		},
		{
			name: "mail mode",
			args: []string{"-bm", "-t"},
			want: &Options{ExtractRecipients: true},
		},
		{
			name: "envelope id and ignored Postfix options",
			args: []string{"-V", "id123", "-m", "-U", "-h", "17", "-Lsendmail", "-Cmain.cf", "-t"},
			want: &Options{ExtractRecipients: true, Ignored: []string{"-V id123", "-m", "-U", "-h 17", "-L sendmail", "-C main.cf"}},
		},
		{
			name: "verbose",
			args: []string{"-v", "-t"},
			want: &Options{ExtractRecipients: true, Verbose: true},
		},
		{
			name: "account long forms",
			args: []string{"--account", "work", "--no-queue", "--account=home", "-t"},
			want: &Options{ExtractRecipients: true, Account: "home", NoQueue: true},
		},
		{
			name: "no re-encoding",
			args: []string{"--no-reencode", "-oi", "a@example.com"},
			want: &Options{Recipients: []string{"a@example.com"}, IgnoreDots: true, NoReencode: true},
		},
		{
			name: "comma separated list in one argument",
			args: []string{"a@example.com, Bo <b@example.com>,", "\"Doe, Jo\" <j@example.com>"},
			want: &Options{Recipients: []string{"a@example.com", "b@example.com", "j@example.com"}},
		},
		{
			name: "group with no members",
			args: []string{"-t", "undisclosed-recipients:;"},
			want: &Options{ExtractRecipients: true},
		},
		{
			name: "quoted local part keeps its quotes",
			args: []string{"\"john doe\"@example.com"},
			want: &Options{Recipients: []string{"\"john doe\"@example.com"}},
		},
		{
			name: "unparsable recipient kept for Prepare",
			args: []string{"root"},
			want: &Options{Recipients: []string{"root"}},
		},
		{
			name: "dash address after double dash",
			args: []string{"--", "-list@example.com"},
			want: &Options{Recipients: []string{"-list@example.com"}},
		},
		{
			name: "value may start with a dash",
			args: []string{"-f", "-odd@example.com", "-t"},
			want: &Options{ExtractRecipients: true, Sender: "-odd@example.com"},
		},
		{
			name: "empty sender",
			args: []string{"-f", "", "-t"},
			want: &Options{ExtractRecipients: true},
		},
		{
			name: "t with recipients",
			args: []string{"-t", "extra@example.com"},
			want: &Options{ExtractRecipients: true, Recipients: []string{"extra@example.com"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.args)
			if err != nil {
				t.Fatalf("Parse(%q) error = %v, want nil", tt.args, err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tt.args, diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantOption string
	}{
		{"no recipients", nil, ""},
		{"only options", []string{"-oi", "-f", "me@example.com"}, ""},
		{"unknown option", []string{"-z", "a@example.com"}, "-z"},
		{"unknown option in group", []string{"-tz"}, "-z"},
		{"unknown long option", []string{"--bcc", "a@example.com"}, "--bcc"},
		{"smtp mode", []string{"-bs"}, "-bs"},
		{"queue listing mode", []string{"-bp"}, "-bp"},
		{"verify mode", []string{"-bv", "a@example.com"}, "-bv"},
		{"unknown mode", []string{"-bz", "a@example.com"}, "-bz"},
		{"queue run", []string{"-q"}, "-q"},
		{"queue run with interval", []string{"-q30m"}, "-q30m"},
		{"newaliases", []string{"-I"}, "-I"},
		{"no aliasing", []string{"-n", "a@example.com"}, "-n"},
		{"missing sender value", []string{"-f"}, "-f"},
		{"missing o value", []string{"-t", "-o"}, "-o"},
		{"missing account value", []string{"-t", "--account"}, "--account"},
		{"empty account value", []string{"-t", "--account="}, "--account"},
		{"no-queue with value", []string{"-t", "--no-queue=yes"}, "--no-queue"},
		{"no-reencode with value", []string{"-t", "--no-reencode=no"}, "--no-reencode"},
		{"option after recipient", []string{"a@example.com", "-oi"}, "-oi"},
		{"lone dash", []string{"-"}, "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.args)
			var usage *UsageError
			if !errors.As(err, &usage) {
				t.Fatalf("Parse(%q) = %+v, %v, want a *UsageError", tt.args, got, err)
			}
			if usage.Option != tt.wantOption {
				t.Errorf("Parse(%q) error option = %q, want %q (error: %v)", tt.args, usage.Option, tt.wantOption, err)
			}
			if usage.Message == "" {
				t.Errorf("Parse(%q) error has an empty message", tt.args)
			}
		})
	}
}

func TestParseHelp(t *testing.T) {
	_, err := Parse([]string{"--help"})
	if !errors.Is(err, ErrHelp) {
		t.Errorf("Parse([--help]) error = %v, want ErrHelp", err)
	}
}

func TestParseModeErrorNamesMode(t *testing.T) {
	_, err := Parse([]string{"-bs"})
	if err == nil || !strings.Contains(err.Error(), "-bs") || !strings.Contains(err.Error(), "SMTP") {
		t.Errorf("Parse([-bs]) error = %v, want it to name -bs and SMTP", err)
	}
}

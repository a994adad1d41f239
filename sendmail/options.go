package sendmail

import (
	"fmt"
	"strings"
)

// Options is a parsed sendmail command line.
type Options struct {
	// Recipients are the envelope recipients from the arguments, one
	// addr-spec each: an argument holding an address list ("a@x, B <b@y>")
	// is split, as Postfix does. An argument that does not parse is kept as
	// written, and Prepare reports it.
	Recipients []string
	// ExtractRecipients is set by -t: the To, Cc and Bcc header fields name
	// recipients too, in addition to the arguments. This is the behaviour of
	// Postfix 2.1 and later. Classic Sendmail instead removes the argument
	// recipients.
	ExtractRecipients bool
	// IgnoreDots is set by -i and -oi. It changes nothing, because the
	// input is always read to end of file: a line holding only "." is
	// content, which protects clients such as aerc that do not pass -i.
	IgnoreDots bool
	// Sender is the envelope sender from -f or -r, the last one given. Gmail
	// has no envelope sender, so it only helps to choose the account.
	Sender string
	// FullName is the sender's full name from -F. No From field is made from
	// it, because Gmail fills a missing From with the account's address and
	// display name.
	FullName string
	// Verbose is set by -v.
	Verbose bool
	// DeliveryMode is "b", "i" or "q" from -odb, -odi or -odq, or "". Modes
	// b and i deliver at once, q only queues.
	DeliveryMode string
	// Account is the account name from --account.
	Account string
	// NoQueue is set by --no-queue: a temporary failure is reported with
	// EX_TEMPFAIL instead of queueing the message.
	NoQueue bool
	// NoReencode is set by --no-reencode: Prepare leaves plain-text parts
	// with lines over 76 characters as they are instead of re-encoding them
	// as quoted-printable.
	NoReencode bool
	// Ignored lists the options that were accepted but have no effect on
	// Gmail, as written ("-oem", "-B 8BITMIME", "-N never"), for -v output.
	Ignored []string
}

// optionKind is the class of a single-letter option, which decides how
// Parse reads it.
type optionKind int

const (
	flagOption     optionKind = iota + 1 // no value
	valueOption                          // takes a value, attached or as the next argument
	ignoredFlag                          // no value, no effect
	ignoredValue                         // takes a value, no effect
	rejectedOption                       // known to sendmail, not supported; any value is not read
)

// shortOptions lists the single-letter options, following Postfix's
// sendmail(1) option string "A:B:C:F:GIL:N:O:R:UV:X:b:ce:f:h:imno:p:r:q:tvx".
// Postfix ignores -A, -C, -c, -e, -G, -h, -L, -m, -O, -p, -U and -x, and
// so does gmsync. -B, -N, -R and -V ask for 8BITMIME and DSN features that
// the Gmail API does not offer.
var shortOptions = map[byte]optionKind{
	't': flagOption, 'i': flagOption, 'v': flagOption,
	'f': valueOption, 'r': valueOption, 'F': valueOption, 'o': valueOption, 'b': valueOption,
	'c': ignoredFlag, 'G': ignoredFlag, 'm': ignoredFlag, 'U': ignoredFlag, 'x': ignoredFlag,
	'A': ignoredValue, 'B': ignoredValue, 'C': ignoredValue, 'e': ignoredValue, 'h': ignoredValue,
	'L': ignoredValue, 'N': ignoredValue, 'O': ignoredValue, 'p': ignoredValue, 'R': ignoredValue,
	'V': ignoredValue,
	'I': rejectedOption, 'n': rejectedOption, 'q': rejectedOption, 'X': rejectedOption,
}

// Parse parses the arguments of `gmsync send` (without the program name) the
// way Postfix's sendmail does:
//
//   - Single-letter options follow getopt(3): they may be grouped ("-ti"),
//     and a value is attached ("-fme@x") or the next argument ("-f me@x").
//     So -oi is -o with the value "i", and -odb is -o with "db".
//   - The first argument that is not an option, or "--", ends the options.
//     The rest are recipients. An argument starting with "-" after a
//     recipient is a usage error, because Postfix would take it for an
//     address and reject it, and a client that passes one has a bug.
//   - Each recipient argument is an address list and is split into
//     addresses, as Postfix does ("a@x, b@y" is two recipients).
//   - -bm is the only mode accepted; -bs, -bp and the other -b modes are
//     usage errors, and so are -I, -n, -q and -X.
//   - The long options are --account NAME (or --account=NAME), --no-queue,
//     --no-reencode and --help, which returns ErrHelp.
//
// Without -t and without recipients, Parse returns a *UsageError before the
// message is read. Every other error is a *UsageError naming the option.
func Parse(args []string) (*Options, error) {
	opts := &Options{}
	i := 0
	for i < len(args) {
		arg := args[i]
		if arg == "--" {
			i++
			break
		}
		if len(arg) < 2 || arg[0] != '-' {
			break
		}
		var used int
		var err error
		if strings.HasPrefix(arg, "--") {
			used, err = opts.parseLong(args[i:])
		} else {
			used, err = opts.parseGroup(args[i:])
		}
		if err != nil {
			return nil, err
		}
		i += used
	}
	if err := opts.parseRecipients(args[i:], i > 0 && args[i-1] == "--"); err != nil {
		return nil, err
	}
	if !opts.ExtractRecipients && len(opts.Recipients) == 0 {
		return nil, &UsageError{Message: "no recipients: give the recipient addresses as arguments, " +
			"or pass -t to take them from the To, Cc and Bcc header fields"}
	}
	return opts, nil
}

// parseLong parses the long option at args[0] and returns how many arguments
// it used.
func (o *Options) parseLong(args []string) (int, error) {
	name, value, hasValue := strings.Cut(args[0], "=")
	switch name {
	case "--help":
		return 1, ErrHelp
	case "--no-queue", "--no-reencode":
		if hasValue {
			return 0, &UsageError{Option: name, Message: fmt.Sprintf("option %s takes no value, got %q", name, args[0])}
		}
		if name == "--no-queue" {
			o.NoQueue = true
		} else {
			o.NoReencode = true
		}
		return 1, nil
	case "--account":
		used := 1
		if !hasValue {
			if len(args) < 2 {
				return 0, &UsageError{Option: name, Message: "option --account requires an account name"}
			}
			value = args[1]
			used = 2
		}
		if value == "" {
			return 0, &UsageError{Option: name, Message: "option --account requires an account name, got an empty one"}
		}
		o.Account = value
		return used, nil
	}
	return 0, &UsageError{Option: name, Message: fmt.Sprintf("unknown option %s; the long options are --account NAME, --no-queue, --no-reencode and --help", name)}
}

// parseGroup parses a group of single-letter options such as "-ti" or
// "-fme@x" at args[0] and returns how many arguments it used: 2 when the
// last option of the group took the next argument as its value.
func (o *Options) parseGroup(args []string) (int, error) {
	group := args[0]
	for j := 1; j < len(group); j++ {
		letter := group[j]
		kind := shortOptions[letter]
		switch kind {
		case flagOption, ignoredFlag:
			o.setFlag(letter, kind)
			continue
		case rejectedOption:
			return 0, rejectedOptionError(letter, group[j+1:])
		case 0:
			return 0, unknownOption(letter, group)
		}

		// The option takes a value: the rest of the group, or else the
		// next argument, even when that argument starts with "-".
		value, used := group[j+1:], 1
		if value == "" {
			if len(args) < 2 {
				return 0, &UsageError{Option: "-" + string(letter), Message: fmt.Sprintf("option -%c requires a value", letter)}
			}
			value, used = args[1], 2
		}
		if err := o.setValue(letter, kind, value); err != nil {
			return 0, err
		}
		return used, nil
	}
	return 1, nil
}

func unknownOption(letter byte, group string) error {
	option := "-" + string(letter)
	msg := fmt.Sprintf("unknown option %s", option)
	if group != option {
		msg = fmt.Sprintf("unknown option %s in %s", option, group)
	}
	return &UsageError{Option: option, Message: msg + "; run gmsync send --help for the options"}
}

func (o *Options) setFlag(letter byte, kind optionKind) {
	switch letter {
	case 't':
		o.ExtractRecipients = true
	case 'i':
		o.IgnoreDots = true
	case 'v':
		o.Verbose = true
	}
	if kind == ignoredFlag {
		o.Ignored = append(o.Ignored, "-"+string(letter))
	}
}

func (o *Options) setValue(letter byte, kind optionKind, value string) error {
	switch {
	case kind == ignoredValue:
		o.Ignored = append(o.Ignored, "-"+string(letter)+" "+value)
	case letter == 'f', letter == 'r':
		o.Sender = value
	case letter == 'F':
		o.FullName = value
	case letter == 'o':
		o.setSendmailOption(value)
	case letter == 'b':
		return checkMode(value)
	}
	return nil
}

// setSendmailOption applies "-oVALUE". Like Postfix, it looks only at the
// first letter for -oi, and accepts and ignores every option it does not
// know, such as -oem (report errors by mail) or -oA (alias file).
func (o *Options) setSendmailOption(value string) {
	switch {
	case strings.HasPrefix(value, "i"):
		o.IgnoreDots = true
	case value == "db", value == "di", value == "dq":
		o.DeliveryMode = value[1:]
	default:
		o.Ignored = append(o.Ignored, "-o"+value)
	}
}

// sendmailModes describes the -b modes that gmsync rejects, for the error.
var sendmailModes = map[string]string{
	"d": "run as a daemon",
	"D": "run as a daemon in the foreground",
	"h": "print the host status",
	"H": "purge the host status",
	"i": "rebuild the aliases database",
	"p": "list the mail queue; gmsync sends at once and keeps no queue",
	"P": "print the queue counts",
	"s": "speak SMTP on standard input",
	"t": "test address rewriting",
	"v": "verify the recipients",
}

// checkMode accepts -bm, the default mode that delivers the message on
// standard input, and rejects every other -b mode by name.
func checkMode(mode string) error {
	if mode == "m" {
		return nil
	}
	option := "-b" + mode
	description, known := sendmailModes[mode]
	if !known {
		return &UsageError{Option: option, Message: fmt.Sprintf("unknown mode %s; gmsync send supports only -bm, which sends the message on standard input", option)}
	}
	return &UsageError{Option: option, Message: fmt.Sprintf("mode %s (%s) is not supported; gmsync send supports only -bm, which sends the message on standard input", option, description)}
}

func rejectedOptionError(letter byte, value string) error {
	option := "-" + string(letter) + value
	var msg string
	switch letter {
	case 'I':
		msg = "option -I (rebuild the aliases database) is not supported"
	case 'n':
		msg = "option -n (no alias expansion) is not supported"
	case 'q':
		msg = fmt.Sprintf("option %s (process the queue) is not supported: gmsync sends at once and keeps no queue", option)
	default:
		msg = fmt.Sprintf("option %s is not supported", option)
	}
	return &UsageError{Option: option, Message: msg}
}

// parseRecipients splits the recipient arguments into addresses.
// afterDashes is true when "--" ended the options, so that an argument
// starting with "-" is an address.
func (o *Options) parseRecipients(args []string, afterDashes bool) error {
	for k, arg := range args {
		if !afterDashes && strings.HasPrefix(arg, "-") {
			return misplacedOption(arg, args[:k])
		}
		o.Recipients = append(o.Recipients, splitRecipients(arg)...)
	}
	return nil
}

func misplacedOption(arg string, before []string) error {
	if len(before) == 0 {
		return &UsageError{Option: arg, Message: fmt.Sprintf("%q is neither an option nor an address", arg)}
	}
	return &UsageError{Option: arg, Message: fmt.Sprintf(
		"option %s follows the recipient %s: options must come before the recipients", arg, before[len(before)-1])}
}

// splitRecipients returns the addresses of one recipient argument, each
// written as an addr-spec. An argument that does not parse is returned as
// written, so that Prepare can report it.
func splitRecipients(arg string) []string {
	specs, err := parseAddressList(arg)
	if err != nil {
		return []string{arg}
	}
	for k, spec := range specs {
		specs[k] = formatAddrSpec(spec)
	}
	return specs
}

package sendmail

import (
	"fmt"
	"strings"
)

// messageFields holds what Prepare reads from the header fields.
type messageFields struct {
	addrs        []string     // To, Cc and Bcc addr-specs in message order
	bcc          *headerField // the first Bcc field, or nil
	hasDate      bool
	hasMessageID bool
	messageID    string
	from         string
	inReplyTo    string
	references   []string
	resent       bool // a Resent- field exists: the message is a bounce
}

// MaxRecipients is the largest number of distinct To, Cc and Bcc
// recipients that Prepare accepts for one message. Google's "Gmail sending
// limits in Google Workspace" page (support.google.com/a/answer/166852)
// gives 100 recipients per message sent through SMTP or the Gmail API; an
// older Gmail API usage limits page gave 500. The lower value is used.
const MaxRecipients = 100

// maxQuotedValue is how many bytes of a field value an error quotes.
const maxQuotedValue = 200

// readFields reads the header fields that Prepare uses. An address in To,
// Cc or Bcc that does not parse is a *DataError: Gmail sends to these
// fields, and rejects a message whose recipients it cannot read.
func readFields(msg []byte, block headerBlock) (*messageFields, error) {
	fields := &messageFields{}
	for k := range block.fields {
		field := block.fields[k]
		value := field.value(msg)
		switch {
		case field.is("To"), field.is("Cc"), field.is("Bcc"):
			specs, err := parseAddressList(value)
			if err != nil {
				return nil, &DataError{
					Message: fmt.Sprintf("invalid address in the %s field %q", field.name, truncate(value, maxQuotedValue)),
					Err:     err,
				}
			}
			fields.addrs = append(fields.addrs, specs...)
			if field.is("Bcc") && fields.bcc == nil {
				fields.bcc = &block.fields[k]
			}
		case field.is("Date"):
			fields.hasDate = true
		case field.is("Message-ID") && !fields.hasMessageID:
			fields.hasMessageID = true
			fields.messageID = firstOr(messageIDs(value), value)
		case field.is("From") && fields.from == "":
			from, err := parseAddress(value)
			if err != nil {
				from = value
			}
			fields.from = from
		case field.is("In-Reply-To") && fields.inReplyTo == "":
			fields.inReplyTo = firstOr(messageIDs(value), "")
		case field.is("References") && fields.references == nil:
			fields.references = messageIDs(value)
		case len(field.name) > len("Resent-") && strings.EqualFold(field.name[:len("Resent-")], "Resent-"):
			fields.resent = true
		}
	}
	return fields, nil
}

func firstOr(values []string, fallback string) string {
	if len(values) == 0 {
		return fallback
	}
	return values[0]
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// recipientPlan is the mapping of the envelope recipients onto the header.
type recipientPlan struct {
	bccAdditions []string // envelope recipients to add as Bcc, formatted
	all          []string // every recipient Gmail will send to
	warnings     []string
	newMessageID string // set by addedFields
}

// planRecipients compares the envelope recipients with the To, Cc and Bcc
// addresses, case-insensitively on the addr-spec.
func planRecipients(fields *messageFields, opts *Options) (*recipientPlan, error) {
	envelope, err := envelopeRecipients(opts.Recipients)
	if err != nil {
		return nil, err
	}
	if !opts.ExtractRecipients && len(envelope) == 0 {
		return nil, noRecipientsError(opts)
	}
	plan := &recipientPlan{}
	seen := map[string]bool{}
	for _, addr := range fields.addrs {
		if !seen[addressKey(addr)] {
			seen[addressKey(addr)] = true
			plan.all = append(plan.all, addr)
		}
	}
	for _, addr := range envelope {
		if !seen[addressKey(addr)] {
			seen[addressKey(addr)] = true
			plan.all = append(plan.all, addr)
			plan.bccAdditions = append(plan.bccAdditions, formatAddrSpec(addr))
		}
	}
	if len(plan.all) == 0 {
		return nil, noRecipientsError(opts)
	}
	if len(plan.all) > MaxRecipients {
		return nil, &DataError{Message: fmt.Sprintf(
			"message has %d recipients in To, Cc, Bcc and the arguments, over Gmail's limit of %d per message; "+
				"send it as several messages", len(plan.all), MaxRecipients)}
	}
	if opts.ExtractRecipients {
		return plan, nil
	}

	extra := headerOnly(fields.addrs, envelope)
	if len(extra) == 0 {
		return plan, nil
	}
	list := strings.Join(extra, ", ")
	if fields.resent {
		return nil, &DataError{Message: fmt.Sprintf(
			"cannot bounce this message: it has Resent- fields, and its To, Cc or Bcc field names %s, "+
				"who are not recipients on the command line; Gmail sends to every To, Cc and Bcc address, "+
				"so they would receive it again. Forward the message instead", list)}
	}
	plan.warnings = append(plan.warnings, fmt.Sprintf(
		"the To, Cc or Bcc field names %s, not given as a recipient argument; "+
			"Gmail sends to every To, Cc and Bcc address, so they receive the message too", list))
	return plan, nil
}

// envelopeRecipients parses the recipient arguments. Parse has already split
// address lists, so an entry that does not parse is reported as written.
func envelopeRecipients(recipients []string) ([]string, error) {
	var addrs []string
	for _, r := range recipients {
		specs, err := parseAddressList(r)
		if err != nil {
			msg := fmt.Sprintf("invalid recipient %q", truncate(r, maxQuotedValue))
			if !strings.Contains(r, "@") {
				msg += " (Gmail needs a full address, such as user@example.com)"
			}
			return nil, &DataError{Message: msg, Err: err}
		}
		addrs = append(addrs, specs...)
	}
	return addrs, nil
}

// headerOnly returns the header addresses missing from envelope.
func headerOnly(header, envelope []string) []string {
	inEnvelope := map[string]bool{}
	for _, addr := range envelope {
		inEnvelope[addressKey(addr)] = true
	}
	var extra []string
	for _, addr := range header {
		if !inEnvelope[addressKey(addr)] {
			inEnvelope[addressKey(addr)] = true
			extra = append(extra, addr)
		}
	}
	return extra
}

func noRecipientsError(opts *Options) error {
	if opts.ExtractRecipients {
		return &UsageError{Message: "no recipients: the To, Cc and Bcc fields name no address and no recipient " +
			"was given as an argument; add a To field or give the addresses as arguments"}
	}
	return &UsageError{Message: "no recipients: the recipient arguments hold no address; give the addresses " +
		"as arguments, or pass -t to take them from the To, Cc and Bcc fields"}
}

package maildir

import "fmt"

// Layout is the way label folders are arranged under the Maildir root.
type Layout int

const (
	// Nested keeps each folder in its own directory and nests label
	// hierarchies as directories: root/INBOX/{cur,new,tmp} and
	// root/Work/Projects/{cur,new,tmp}. The root itself is not a Maildir.
	Nested Layout = iota

	// MaildirPlusPlus is the Courier and Dovecot layout: the root is the
	// INBOX Maildir, and every other folder is a flat directory root/.Name.Sub
	// with '.' as the hierarchy separator.
	MaildirPlusPlus
)

// ParseLayout returns the layout named by s, which is "nested" or "maildir++".
func ParseLayout(s string) (Layout, error) {
	switch s {
	case "nested":
		return Nested, nil
	case "maildir++":
		return MaildirPlusPlus, nil
	}
	return Nested, fmt.Errorf("invalid maildir layout %q: use \"nested\" or \"maildir++\"", s)
}

// String returns the name that ParseLayout accepts.
func (l Layout) String() string {
	switch l {
	case Nested:
		return "nested"
	case MaildirPlusPlus:
		return "maildir++"
	}
	return fmt.Sprintf("Layout(%d)", int(l))
}

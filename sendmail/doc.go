// Package sendmail is the network-free core of `gmsync send`: it parses a
// sendmail/Postfix command line, prepares the message that a mail client
// pipes in for Gmail's users.messages.send, and picks the account to send
// from.
//
// Gmail takes the recipients from the To, Cc and Bcc header fields, not from
// an SMTP envelope, so preparation turns envelope recipients into header
// fields: every command-line recipient that the headers do not already name
// is added as Bcc. Everything else in the message reaches Gmail byte for
// byte, except for the Date and Message-ID fields added where missing,
// leading mbox "From " lines, which are removed as Postfix does, and
// plain-text parts with lines over 76 characters, which are re-encoded as
// quoted-printable with the same decoded content.
//
// The package keeps no state and starts no goroutines, so its functions are
// safe for concurrent use. Errors that the command maps to sysexits.h codes
// have their own types: *UsageError (EX_USAGE, 64) and *DataError
// (EX_DATAERR, 65).
package sendmail

// Package e2e holds the end-to-end tests of the built gmsync and
// gmail-emulator binaries: real mail programs (neomutt, git send-email,
// notmuch) against the emulator, with tokens in a real Secret Service
// (gnome-keyring in a private D-Bus session that the tests start).
//
// The corpus of real-world messages is read from GMSYNC_CORPUS, by
// default ../../shared/corpus from this directory; tests that need it skip
// with a message when it is absent.
package e2e

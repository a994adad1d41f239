// Command gmail-emulator runs a local Gmail API and Google OAuth server on a
// loopback address for tests and demos. See package
// github.com/gmsync/gmsync/e2e/emulator for what it emulates.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

#!/bin/sh
# Installs the Debian packages that the demo and the tests need, only when
# one is missing: gnome-keyring and dbus for a private Secret Service, the
# mail programs the end-to-end tests drive (git send-email needs the
# Mail::Address module of libmailtools-perl), and curl for the demo's browser.
set -eu

packages="gnome-keyring dbus libsecret-tools neomutt notmuch git-email libmailtools-perl bsd-mailx curl ca-certificates pass gnupg emacs-nox"
missing=""
for pkg in $packages; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $pkg"
	fi
done
[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
	echo "deps: missing packages:$missing; install them with your package manager" >&2
	exit 1
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
	sudo="sudo"
fi
echo "deps: installing$missing" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null

#!/bin/sh
# The gmsync demo: the local Gmail emulator with a generated mailbox, a
# throwaway Secret Service, a browser-less login for each purpose, a full
# sync into a Maildir, and one message sent. Nothing touches your own
# keyring, configuration or mail: everything lives under ./demo.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
demo="$top/demo"

# Re-run inside a private D-Bus session with its own gnome-keyring, so the
# tokens go to a real Secret Service that disappears with the demo.
if [ -z "${GMSYNC_DEMO_KEYRING:-}" ]; then
	rm -rf "$demo"
	mkdir -p "$demo/home"
	chmod 700 "$demo"
	export GMSYNC_DEMO_KEYRING=1 HOME="$demo/home"
	# dbus-daemon reports each service activation on stderr; keep that in a
	# log and give the demo's own messages the terminal through fd 3.
	exec 3>&2
	exec dbus-run-session -- "$0" "$@" 2>"$demo/dbus.log"
fi
exec 2>&3 3>&-
# The keyring password is a throwaway: the keyring lives in $HOME/.local/share/keyrings under ./demo.
printf 'demo-keyring-password' | gnome-keyring-daemon --unlock --components=secrets >/dev/null

export XDG_CONFIG_HOME="$demo/config" XDG_STATE_HOME="$demo/state" XDG_DATA_HOME="$demo/home/.local/share"
unset GMSYNC_CONFIG GMSYNC_API_URL GMSYNC_AUTH_URL GMSYNC_TOKEN_URL GMSYNC_REVOKE_URL
gmsync="$top/bin/gmsync"
mkdir -p "$XDG_CONFIG_HOME/gmsync"

say() { printf '\n== %s\n' "$*"; }

say "Starting the Gmail emulator with the demo mailbox"
"$top/bin/gmail-emulator" --demo --user alice@example.com \
	--write-client-secret "$XDG_CONFIG_HOME/gmsync/client_secret.json" \
	--url-file "$demo/emulator.url" >"$demo/emulator.log" 2>&1 &
emulator=$!
trap 'kill $emulator 2>/dev/null || true' EXIT INT TERM
tries=0
while [ ! -s "$demo/emulator.url" ]; do
	tries=$((tries + 1))
	if [ $tries -gt 100 ] || ! kill -0 $emulator 2>/dev/null; then
		echo "demo: the emulator did not start; its log:" >&2
		cat "$demo/emulator.log" >&2
		exit 1
	fi
	sleep 0.1
done
url=$(cat "$demo/emulator.url")
echo "emulator at $url"

cat >"$XDG_CONFIG_HOME/gmsync/config.toml" <<TOML
[accounts.demo]
address = "alice@example.com"
maildir = "$demo/Mail"
client_secret_file = "$XDG_CONFIG_HOME/gmsync/client_secret.json"
api_url = "$url"
revoke_url = "${url}revoke"
TOML
chmod 600 "$XDG_CONFIG_HOME/gmsync/config.toml"

# login PURPOSE: runs `gmsync auth login --no-browser` and plays the browser:
# it opens the printed authorization URL, whose redirect reaches gmsync's
# loopback listener.
login() {
	"$gmsync" auth login --account demo --for "$1" --no-browser 2>"$demo/login-$1.err" &
	pid=$!
	tries=0
	auth_url=""
	while [ -z "$auth_url" ]; do
		auth_url=$(grep -m1 '^http' "$demo/login-$1.err" || true)
		tries=$((tries + 1))
		if [ $tries -gt 100 ]; then
			cat "$demo/login-$1.err" >&2
			exit 1
		fi
		[ -n "$auth_url" ] || sleep 0.1
	done
	curl -fsS -L -o /dev/null "$auth_url"
	wait $pid
	sed 's/^/  /' "$demo/login-$1.err"
}

say "Logging in for syncing (gmail.readonly) and for sending (gmail.send)"
login sync
login send
"$gmsync" auth status

say "Syncing the mailbox into $demo/Mail"
"$gmsync" sync

say "Sending a message with gmsync send, as a mail client would"
cat <<MAIL | "$gmsync" send -oi -t -v
From: Alice <alice@example.com>
To: Bob <bob@example.org>
Subject: Hello from gmsync

This message went out through the Gmail API, sent by gmsync send.
MAIL
curl -fsS "${url}admin/users/alice@example.com/sent" | grep -o '"recipients":\[[^]]*\]' | sed 's/^/  emulator received it for /'

say "Syncing again: only the change since the last run, through the history API"
"$gmsync" sync -v 2>&1 | sed 's/^/  /'

say "The Maildir: $demo/Mail"
cd "$demo/Mail"
echo "  messages  unread  folder"
find . -type d -name cur | sed 's|^\./||; s|/cur$||' | sort | while read -r folder; do
	count=$(find "$folder/cur" "$folder/new" -type f | wc -l)
	unread=$(find "$folder/new" -type f | wc -l)
	printf '  %8d  %6d  %s\n' "$count" "$unread" "$folder"
done
echo
echo "Open it with: neomutt -f '$demo/Mail/INBOX'   (or notmuch, aerc, mu4e)"

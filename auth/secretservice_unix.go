//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package auth

import (
	"errors"
	"fmt"
	"slices"

	dbus "github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"

	"github.com/gmsync/gmsync/internal/sysexits"
)

// Secret Service names from the freedesktop.org Secret Service API.
const (
	secretsName      = "org.freedesktop.secrets"
	secretsPath      = dbus.ObjectPath("/org/freedesktop/secrets")
	secretsInterface = "org.freedesktop.Secret.Service"
	loginCollection  = dbus.ObjectPath("/org/freedesktop/secrets/collection/login")
	promptInterface  = "org.freedesktop.Secret.Prompt"
)

// explainKeyringError finds out why a go-keyring call failed. go-keyring
// stores into the "login" collection or the one aliased "default", and a
// gnome-keyring-daemon started without --unlock has neither. In that case it
// asks the Secret Service to create a default collection, which shows a
// password prompt on a desktop, and on success runs op again. Every other
// cause becomes an error that says how to start or unlock a keyring.
func explainKeyringError(opErr error, op func() error) error {
	conn, err := dbus.SessionBus()
	if err != nil {
		return noKeyring("no D-Bus session bus", err)
	}

	var hasOwner bool
	if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, secretsName).Store(&hasOwner); err != nil {
		return noKeyring("querying the D-Bus session bus", err)
	}
	if !hasOwner {
		return noKeyring("no Secret Service (nothing provides "+secretsName+" on the session bus)", opErr)
	}

	service := conn.Object(secretsName, secretsPath)
	collection, err := storeCollection(service)
	if err != nil {
		return noKeyring("listing Secret Service collections", err)
	}
	if collection == "/" {
		if err := createDefaultCollection(conn, service); err != nil {
			return noKeyring("the Secret Service has no default collection and creating one failed", err)
		}
		return wrapUnexplained(op())
	}

	prop, err := conn.Object(secretsName, collection).GetProperty("org.freedesktop.Secret.Collection.Locked")
	if err == nil {
		if isLocked, _ := prop.Value().(bool); isLocked {
			return keyringDenied(fmt.Sprintf("the keyring collection %s is locked and was not unlocked", collection),
				"unlock it (the desktop's prompt, or seahorse), or on a headless host: echo PASSWORD | gnome-keyring-daemon --unlock --components=secrets; the stored grants are kept", opErr)
		}
	}
	return wrapUnexplained(opErr)
}

// storeCollection returns the collection go-keyring uses, or "/" when there
// is none.
func storeCollection(service dbus.BusObject) (dbus.ObjectPath, error) {
	prop, err := service.GetProperty(secretsInterface + ".Collections")
	if err != nil {
		return "", err
	}
	if paths, _ := prop.Value().([]dbus.ObjectPath); slices.Contains(paths, loginCollection) {
		return loginCollection, nil
	}
	var alias dbus.ObjectPath
	if err := service.Call(secretsInterface+".ReadAlias", 0, "default").Store(&alias); err != nil {
		return "", err
	}
	return alias, nil
}

// createDefaultCollection requests from the Secret Service a collection with the
// alias "default", answering its prompt. Without a desktop the prompt is
// dismissed at once (gnome-keyring's gcr-prompter needs a display).
func createDefaultCollection(conn *dbus.Conn, service dbus.BusObject) error {
	props := map[string]dbus.Variant{"org.freedesktop.Secret.Collection.Label": dbus.MakeVariant("Login")}
	var collection, prompt dbus.ObjectPath
	if err := service.Call(secretsInterface+".CreateCollection", 0, props, "default").Store(&collection, &prompt); err != nil {
		return err
	}
	if prompt == "/" {
		return nil
	}

	match := []dbus.MatchOption{dbus.WithMatchObjectPath(prompt), dbus.WithMatchInterface(promptInterface)}
	if err := conn.AddMatchSignal(match...); err != nil {
		return err
	}
	defer conn.RemoveMatchSignal(match...)
	signals := make(chan *dbus.Signal, 4)
	conn.Signal(signals)
	defer conn.RemoveSignal(signals)

	if err := conn.Object(secretsName, prompt).Call(promptInterface+".Prompt", 0, "").Err; err != nil {
		return err
	}
	for sig := range signals {
		if sig.Path != prompt || sig.Name != promptInterface+".Completed" {
			continue
		}
		if dismissed, _ := sig.Body[0].(bool); dismissed {
			return errors.New("the password prompt for a new keyring was dismissed, as happens on a host without a display")
		}
		return nil
	}
	return errors.New("the D-Bus connection closed while waiting for the keyring prompt")
}

// wrapUnexplained gives a keyring failure without a known cause exit code
// 69, since the keyring is a service gmsync needs.
func wrapUnexplained(err error) error {
	if err == nil || errors.Is(err, keyring.ErrNotFound) {
		return err
	}
	return sysexits.Wrap(sysexits.Unavailable, fmt.Errorf("using the Secret Service: %w", err))
}

package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/zalando/go-keyring"
	"golang.org/x/oauth2"

	"github.com/gmsync/gmsync/config"
	"github.com/gmsync/gmsync/internal/sysexits"
)

// Grant is the keyring entry of one account and purpose: the refresh token
// and the access token cached from its last refresh.
//
// The grant records its OAuth client, because a refresh token works only
// with the client that obtained it: refreshes use the recorded client even
// after the configuration names another one.
type Grant struct {
	ClientID     string    `json:"client_id"` // the OAuth client the refresh token belongs to
	ClientSecret string    `json:"client_secret,omitempty"`
	RefreshToken string    `json:"refresh_token"`
	Scopes       []string  `json:"scopes"`   // scopes granted, as the token endpoint reported them
	Obtained     time.Time `json:"obtained"` // when the refresh token was obtained or imported
	// LastUsed is when the refresh token was last used for a refresh. Google
	// ends a grant whose refresh token goes unused for six months.
	LastUsed    time.Time `json:"last_used,omitzero"`
	AccessToken string    `json:"access_token,omitempty"`
	Expiry      time.Time `json:"expiry,omitzero"` // of AccessToken
}

// NewGrant returns the grant to store for tok, just obtained from Login or
// Import with cfg.
func NewGrant(cfg *oauth2.Config, tok *oauth2.Token) *Grant {
	return &Grant{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		RefreshToken: tok.RefreshToken,
		Scopes:       grantedScopes(tok, cfg.Scopes),
		Obtained:     time.Now().UTC(),
		AccessToken:  tok.AccessToken,
		Expiry:       tok.Expiry,
	}
}

// Store keeps grants by account and purpose. Save replaces any earlier grant
// and is durable when it returns. Delete of a missing grant returns an error
// wrapping ErrNotFound.
type Store interface {
	Load(account string, p Purpose) (*Grant, error)
	Save(account string, p Purpose, g *Grant) error
	Delete(account string, p Purpose) error
}

// ErrNotFound reports that the store has no grant for an account and purpose.
var ErrNotFound = errors.New("no grant stored")

// ErrNoKeyring reports that no keyring responded: no D-Bus session, no Secret
// Service, no default collection, a locked collection, or a keyring call
// that timed out. Errors that wrap it carry exit code 69 (EX_UNAVAILABLE),
// or 75 (EX_TEMPFAIL) for a timeout, and say how to start a keyring.
var ErrNoKeyring = errors.New("no keyring available")

// ErrKeyringDenied reports that a keyring exists but denied access. Causes
// are a locked collection whose unlock prompt was dismissed, a denied macOS
// Keychain prompt, or a command backend whose get command failed for a
// reason other than a missing entry, such as a pass store whose GPG key
// could not be unlocked. Unlike ErrNotFound it does not mean that a login is needed.
// Errors that wrap it carry exit code 77 (EX_NOPERM).
var ErrKeyringDenied = errors.New("keyring access denied")

// KeyringService is the service name of gmsync's keyring entries. Each
// entry's user name is "ACCOUNT:PURPOSE".
const KeyringService = "gmsync"

// DefaultKeyringTimeout bounds each keyring call, so that an unresponsive
// Secret Service cannot freeze the mail client that runs gmsync.
const DefaultKeyringTimeout = 10 * time.Second

// DefaultCommandTimeout bounds each command of the command backend. It is
// longer than DefaultKeyringTimeout because the command may wait for the user
// to type a GPG passphrase or unlock a KeePassXC database.
const DefaultCommandTimeout = 2 * time.Minute

// StoreFor returns the store that acct's keyring setting names.
func StoreFor(acct *config.Account) (Store, error) {
	switch acct.Keyring {
	case "", config.KeyringSystem:
		return NewKeyringStore(DefaultKeyringTimeout), nil
	case config.KeyringCommand:
		return NewCommandStore(acct.KeyringGet, acct.KeyringSet, acct.KeyringDelete, DefaultCommandTimeout), nil
	}
	return nil, sysexits.Wrap(sysexits.Config, fmt.Errorf("account %s: unsupported keyring %q", acct.Name, acct.Keyring))
}

// KeyringStore keeps each grant as JSON in one entry of the system keyring
// through go-keyring, so keyring.MockInit replaces it in tests.
type KeyringStore struct {
	timeout time.Duration
	// explain turns a failed keyring call into an error that names the fix,
	// and may run op again after a repair. With nil, errors stay as
	// go-keyring returns them.
	explain func(err error, op func() error) error
}

var _ Store = (*KeyringStore)(nil)

// NewKeyringStore returns a store whose keyring calls each give up after
// timeout.
func NewKeyringStore(timeout time.Duration) *KeyringStore {
	return &KeyringStore{timeout: timeout, explain: explainKeyringError}
}

func keyringUser(account string, p Purpose) string { return account + ":" + string(p) }

// Load returns the stored grant, or an error wrapping ErrNotFound.
func (s *KeyringStore) Load(account string, p Purpose) (*Grant, error) {
	var value string
	err := s.call(func() (err error) {
		value, err = keyring.Get(KeyringService, keyringUser(account, p))
		return err
	})
	if errors.Is(err, keyring.ErrNotFound) {
		return nil, fmt.Errorf("loading the %s grant of account %s: %w", p, account, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("loading the %s grant of account %s: %w", p, account, err)
	}

	var g Grant
	if err := json.Unmarshal([]byte(value), &g); err != nil {
		return nil, sysexits.Wrap(sysexits.NoPerm, fmt.Errorf("decoding the %s grant of account %s from the keyring: %w: run gmsync auth login --account %s --for %s", p, account, err, account, p))
	}
	return &g, nil
}

// Save writes g, then reads it back and compares, because some keyrings
// accept a write that they do not keep.
func (s *KeyringStore) Save(account string, p Purpose, g *Grant) error {
	data, err := json.Marshal(g)
	if err != nil {
		return fmt.Errorf("encoding the %s grant of account %s: %w", p, account, err)
	}
	user := keyringUser(account, p)
	var readBack string
	err = s.call(func() error {
		if err := keyring.Set(KeyringService, user, string(data)); err != nil {
			return err
		}
		var err error
		readBack, err = keyring.Get(KeyringService, user)
		return err
	})
	if err != nil {
		return fmt.Errorf("saving the %s grant of account %s: %w", p, account, err)
	}
	if readBack != string(data) {
		return sysexits.Wrap(sysexits.Unavailable, fmt.Errorf("saving the %s grant of account %s: the keyring returned a different value when read back", p, account))
	}
	return nil
}

// Delete removes the grant, or returns an error wrapping ErrNotFound.
func (s *KeyringStore) Delete(account string, p Purpose) error {
	err := s.call(func() error { return keyring.Delete(KeyringService, keyringUser(account, p)) })
	if errors.Is(err, keyring.ErrNotFound) {
		return fmt.Errorf("deleting the %s grant of account %s: %w", p, account, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("deleting the %s grant of account %s: %w", p, account, err)
	}
	return nil
}

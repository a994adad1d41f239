package sendmail

import (
	"fmt"
	"sort"
	"strings"
)

// AccountInfo is the part of one configured account that SelectAccount
// uses.
type AccountInfo struct {
	Name    string
	Address string
	// Aliases are the account's Gmail send-as addresses.
	Aliases []string
	// Default marks the account used when nothing else chooses one.
	Default bool
}

// SelectAccount returns the name of the account to send from. The first rule
// that matches wins:
//
//  1. explicit, the --account name;
//  2. the account whose address or alias is the envelope sender (-f);
//  3. the account whose address or alias is the From address;
//  4. the account marked default, or the only account.
//
// Addresses compare case-insensitively, and an account's own address before
// aliases. Among equal matches the first account in the slice wins, so
// callers should pass the accounts in a stable order.
//
// envelopeSender and fromHeader may be bare addresses or "Name <addr>".
// When the From address is neither the address nor an alias of the chosen
// account, the returned warning explains that Gmail will replace it.
// Gmail replaces a From that is not one of the account's send-as addresses
// with the account's address and still sends.
//
// An unknown explicit name is a *UsageError listing the account names. No
// accounts, or several with none chosen and none or more than one marked
// default, is an error wrapping ErrNoAccount.
func SelectAccount(accounts []AccountInfo, explicit string, envelopeSender string, fromHeader string) (name string, warning string, err error) {
	if len(accounts) == 0 {
		return "", "", fmt.Errorf("%w: the configuration has no [accounts.NAME] table", ErrNoAccount)
	}
	chosen, err := chooseAccount(accounts, explicit, envelopeSender, fromHeader)
	if err != nil {
		return "", "", err
	}
	return chosen.Name, fromWarning(chosen, fromHeader), nil
}

func chooseAccount(accounts []AccountInfo, explicit, envelopeSender, fromHeader string) (*AccountInfo, error) {
	if explicit != "" {
		for k := range accounts {
			if accounts[k].Name == explicit {
				return &accounts[k], nil
			}
		}
		return nil, &UsageError{Option: "--account", Message: fmt.Sprintf(
			"unknown account %q for --account; the configured accounts are %s", explicit, accountNames(accounts))}
	}
	for _, candidate := range []string{envelopeSender, fromHeader} {
		if account := accountFor(accounts, candidate); account != nil {
			return account, nil
		}
	}
	return defaultAccount(accounts)
}

// accountFor returns the account whose address, or else alias, is the
// address in s, or nil.
func accountFor(accounts []AccountInfo, s string) *AccountInfo {
	addr := lenientAddress(s)
	if addr == "" {
		return nil
	}
	for k := range accounts {
		if strings.EqualFold(accounts[k].Address, addr) {
			return &accounts[k]
		}
	}
	for k := range accounts {
		if hasAlias(accounts[k], addr) {
			return &accounts[k]
		}
	}
	return nil
}

func hasAlias(account AccountInfo, addr string) bool {
	for _, alias := range account.Aliases {
		if strings.EqualFold(alias, addr) {
			return true
		}
	}
	return false
}

// lenientAddress returns the addr-spec in s, or s trimmed when it does not
// parse, so that an odd value still compares with the configured ones.
func lenientAddress(s string) string {
	addr, err := parseAddress(s)
	if err != nil {
		return strings.Trim(s, " \t<>")
	}
	return addr
}

func defaultAccount(accounts []AccountInfo) (*AccountInfo, error) {
	if len(accounts) == 1 {
		return &accounts[0], nil
	}
	var defaults []string
	var first *AccountInfo
	for k := range accounts {
		if accounts[k].Default {
			defaults = append(defaults, accounts[k].Name)
			if first == nil {
				first = &accounts[k]
			}
		}
	}
	switch len(defaults) {
	case 1:
		return first, nil
	case 0:
		return nil, fmt.Errorf("%w: neither the sender nor the From address belongs to an account, "+
			"and no account is marked default; pass --account with one of %s, or set default = true for one of them",
			ErrNoAccount, accountNames(accounts))
	}
	return nil, fmt.Errorf("%w: the accounts %s are all marked default; set default = true for only one of them",
		ErrNoAccount, strings.Join(defaults, ", "))
}

func accountNames(accounts []AccountInfo) string {
	names := make([]string, len(accounts))
	for k, account := range accounts {
		names[k] = account.Name
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func fromWarning(account *AccountInfo, fromHeader string) string {
	from := lenientAddress(fromHeader)
	if from == "" || strings.EqualFold(from, account.Address) || hasAlias(*account, from) {
		return ""
	}
	replacement := account.Address
	if replacement == "" {
		replacement = "the account's address"
	}
	return fmt.Sprintf("the From address %s is neither the address nor an alias of account %s, "+
		"so Gmail will replace it with %s", from, account.Name, replacement)
}

package config

import (
	"fmt"
	"time"
)

// DefaultOutboxMaxAge is the outbox_max_age of an account that does not set
// it: five days, as Postfix's maximal_queue_lifetime.
const DefaultOutboxMaxAge = 5 * 24 * time.Hour

// minOutboxMaxAge keeps a typo such as "5m" from failing every message
// that meets a short outage.
const minOutboxMaxAge = time.Hour

// finishOutbox validates the outbox keys and fills in their defaults.
func (a *Account) finishOutbox() []error {
	switch {
	case a.OutboxMaxAge.Duration == 0:
		a.OutboxMaxAge.Duration = DefaultOutboxMaxAge
	case a.OutboxMaxAge.Duration < minOutboxMaxAge:
		return []error{fmt.Errorf("invalid outbox_max_age %s: use at least 1h, such as \"120h\" for five days", a.OutboxMaxAge.Duration)}
	}
	return nil
}

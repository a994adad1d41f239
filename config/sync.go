package config

import (
	"fmt"
	"time"
)

// Defaults of the sync keys.
const (
	DefaultMaxDeletePercent   = 25
	DefaultLabelCheckInterval = time.Hour
)

// Duration is a TOML string such as "30m" or "1h", parsed by
// time.ParseDuration.
type Duration struct{ time.Duration }

// UnmarshalText parses a duration string.
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := time.ParseDuration(string(text))
	if err != nil {
		return fmt.Errorf("invalid duration %q: use a form such as \"30m\" or \"2h\"", text)
	}
	d.Duration = v
	return nil
}

// finishSync validates the sync keys and fills in their defaults. The send
// key reencode_long_lines needs no check: unset means true.
func (a *Account) finishSync() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	switch {
	case a.MaxDeletePercent == 0:
		a.MaxDeletePercent = DefaultMaxDeletePercent
	case a.MaxDeletePercent < 0 || a.MaxDeletePercent > 100:
		add("invalid max_delete_percent %d: use a share between 1 and 100", a.MaxDeletePercent)
	}
	switch a.QuotaRegime {
	case "":
		a.QuotaRegime = "2024"
	case "2024", "2026":
	default:
		add("invalid quota_regime %q: use \"2024\" for Cloud projects that used Gmail before May 2026, \"2026\" for newer ones", a.QuotaRegime)
	}
	if a.QuotaUnitsPerMinute < 0 {
		add("invalid quota_units_per_minute %d: it must be positive", a.QuotaUnitsPerMinute)
	}
	switch {
	case a.LabelCheckInterval.Duration == 0:
		a.LabelCheckInterval.Duration = DefaultLabelCheckInterval
	case a.LabelCheckInterval.Duration < 0:
		add("invalid label_check_interval %s: it must be positive", a.LabelCheckInterval.Duration)
	}
	return errs
}

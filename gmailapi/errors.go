package gmailapi

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/googleapi"

	"github.com/gmsync/gmsync/internal/sysexits"
)

// Class is the category of a failed Gmail call, which decides whether the
// caller retries, waits, or tells the user to act.
type Class int

const (
	// Permanent failures will fail again unchanged: a bad request, a missing
	// message, a scope the token lacks.
	Permanent Class = iota
	// Temporary failures may succeed later: network errors, timeouts, 5xx.
	Temporary
	// RateLimited failures are Gmail's per-user quota or concurrency limits
	// (403 or 429 with a rate reason); wait, then retry.
	RateLimited
	// Auth failures need the user: a revoked grant or a rejected token.
	Auth
)

func (c Class) String() string {
	switch c {
	case Temporary:
		return "temporary"
	case RateLimited:
		return "rate limited"
	case Auth:
		return "auth"
	default:
		return "permanent"
	}
}

// Reasons Gmail puts in errors[].reason for quota and rate limits
// ("Resolve errors", developers.google.com/workspace/gmail/api/guides/handle-errors).
var rateReasons = map[string]bool{
	"rateLimitExceeded":     true,
	"userRateLimitExceeded": true,
}

// Classify decides once what a Gmail client error means. Nil is Permanent;
// callers check for nil first.
func Classify(err error) Class {
	// An exit code attached below (by the token source: a missing grant, an
	// unreachable keyring) means the cause is local and already explained.
	switch sysexits.Code(err) {
	case sysexits.NoPerm:
		return Auth
	case sysexits.TempFail:
		return Temporary
	case sysexits.Software:
	default:
		return Permanent
	}
	var retrieve *oauth2.RetrieveError
	if errors.As(err, &retrieve) {
		return classifyTokenError(retrieve)
	}
	var apiErr *googleapi.Error
	if errors.As(err, &apiErr) {
		return classifyAPIError(apiErr)
	}
	if errors.Is(err, context.Canceled) {
		return Permanent
	}
	if isNetworkError(err) {
		return Temporary
	}
	return Permanent
}

func classifyTokenError(e *oauth2.RetrieveError) Class {
	switch {
	case e.ErrorCode == "invalid_grant" || e.ErrorCode == "invalid_client" || e.ErrorCode == "unauthorized_client":
		return Auth
	case e.Response != nil && e.Response.StatusCode >= 500:
		return Temporary
	default:
		return Permanent
	}
}

func classifyAPIError(e *googleapi.Error) Class {
	for _, item := range e.Errors {
		if rateReasons[item.Reason] {
			return RateLimited
		}
	}
	switch {
	case e.Code == http.StatusTooManyRequests:
		return RateLimited
	case e.Code == http.StatusUnauthorized:
		return Auth
	case e.Code == http.StatusRequestTimeout || e.Code >= 500:
		return Temporary
	default:
		return Permanent
	}
}

func isNetworkError(err error) bool {
	var netErr net.Error
	switch {
	case errors.As(err, &netErr):
		return true
	case errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, io.EOF),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE):
		return true
	}
	return false
}

// localCause returns the error of the token source when err is the HTTP
// client's wrapping of it ("Get URL: no sync grant ..."), because the URL
// means nothing to the user. Otherwise it returns err.
func localCause(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) && sysexits.Code(urlErr.Err) != sysexits.Software {
		return urlErr.Err
	}
	return err
}

func isUnauthorized(err error) bool {
	var apiErr *googleapi.Error
	return errors.As(err, &apiErr) && apiErr.Code == http.StatusUnauthorized
}

// IsNotFound reports whether err is Gmail's 404 notFound, returned for an
// unknown message id and for a startHistoryId too old to list.
func IsNotFound(err error) bool {
	var apiErr *googleapi.Error
	return errors.As(err, &apiErr) && apiErr.Code == http.StatusNotFound
}

// Gmail states the retry time inside error.message, for example
// "User-rate limit exceeded.  Retry after 2026-09-11T20:00:00.000Z", and
// usually sets no Retry-After header (reported by third-party clients; Google
// documents neither form).
var retryAfterText = regexp.MustCompile(`Retry after (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z)`)

// RetryAfter returns how long Gmail asked the caller to wait, from a
// Retry-After header or the "Retry after <time>" text of the message, and
// false when it named no time.
func RetryAfter(err error, now time.Time) (time.Duration, bool) {
	var apiErr *googleapi.Error
	if !errors.As(err, &apiErr) {
		return 0, false
	}
	if h := apiErr.Header.Get("Retry-After"); h != "" {
		if secs, err := strconv.Atoi(h); err == nil && secs >= 0 {
			return time.Duration(secs) * time.Second, true
		}
		if at, err := http.ParseTime(h); err == nil {
			return max(at.Sub(now), 0), true
		}
	}
	texts := []string{apiErr.Message}
	for _, item := range apiErr.Errors {
		texts = append(texts, item.Message)
	}
	for _, text := range texts {
		if m := retryAfterText.FindStringSubmatch(text); m != nil {
			if at, err := time.Parse(time.RFC3339Nano, m[1]); err == nil {
				return max(at.Sub(now), 0), true
			}
		}
	}
	return 0, false
}

// IsConcurrencyLimit reports whether err is Gmail's per-user concurrency
// limit, a 429 "Too many concurrent requests for user". Its reason is the
// same rateLimitExceeded as a quota error's, so only the message
// distinguishes them.
func IsConcurrencyLimit(err error) bool {
	var apiErr *googleapi.Error
	if !errors.As(err, &apiErr) {
		return false
	}
	if strings.Contains(apiErr.Message, concurrencyText) {
		return true
	}
	for _, item := range apiErr.Errors {
		if strings.Contains(item.Message, concurrencyText) {
			return true
		}
	}
	return false
}

const concurrencyText = "Too many concurrent requests"

// costsUnits reports whether Gmail charged quota for a call that ended
// with err. Gmail publishes no rule, so this counts the requests it
// certainly processed: successes and 4xx responses other than rate limits
// and 401. Server errors and lost connections are not counted.
func costsUnits(err error) bool {
	if err == nil {
		return true
	}
	var apiErr *googleapi.Error
	if !errors.As(err, &apiErr) || apiErr.Code >= 500 {
		return false
	}
	class := Classify(err)
	return class != RateLimited && class != Auth
}

// isLocalFailure reports whether err arose before a request left, such as
// a token that could not be refreshed.
func isLocalFailure(err error) bool {
	if err == nil {
		return false
	}
	var retrieve *oauth2.RetrieveError
	return sysexits.Code(err) != sysexits.Software || errors.As(err, &retrieve)
}

// OneLine returns err's text up to its first line break. The text of a
// *googleapi.Error goes on with "More details:" lines that repeat the
// reason, and a notice to a mail client must stay on one line.
func OneLine(err error) string {
	if err == nil {
		return ""
	}
	text, _, _ := strings.Cut(err.Error(), "\n")
	return strings.TrimSpace(text)
}

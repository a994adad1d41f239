package emulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Default values for Options fields left empty.
const (
	DefaultUser         = "alice@example.com"
	DefaultClientID     = "gmsync-emulator.apps.googleusercontent.com"
	DefaultClientSecret = "GOCSPX-emulator-secret"
)

// Options configures a Server. The zero value is usable.
type Options struct {
	// Users are the mailbox addresses. The first one is the default user,
	// picked by the authorization endpoint when no login_hint names another.
	// Empty means [DefaultUser].
	Users []string
	// ClientID and ClientSecret identify the one registered OAuth client.
	// Empty means DefaultClientID and DefaultClientSecret.
	ClientID, ClientSecret string
	// HistoryRetention is the number of history records kept per user; a
	// startHistoryId older than the oldest kept record gets 404. 0 keeps all.
	HistoryRetention int
	// SendAs lists verified send-as aliases per user address. A From header
	// naming the user or one of these is kept on send; any other is replaced.
	SendAs map[string][]string
	// QuotaRegime picks the per-method unit costs that the counters use:
	// "2024" (the default, messages.get costs 5 units) or "2026" (20 units).
	QuotaRegime string
	// QuotaUnitsPerMinute is the per-user quota in units per minute
	// (UnitsPerMinute2024 or UnitsPerMinute2026 at Google). 0 turns
	// enforcement off, but units are still counted.
	QuotaUnitsPerMinute int
	// RateLimitStatus is the HTTP status of quota rejections: 403 (the
	// default, as Gmail usually sends) or 429 (as Gmail sometimes sends).
	RateLimitStatus int
	// MaxConcurrentPerUser is the number of one user's Gmail API requests
	// that may be in flight at once. More get 429, and 0 is unlimited.
	// Gmail's own limit is unpublished.
	MaxConcurrentPerUser int
	// Faults are injected into Gmail API requests; see Faults.
	Faults Faults
	// Logger receives one debug record per request. Nil discards logs.
	Logger *slog.Logger
}

// Server is an in-memory Gmail and Google OAuth server. Create it with New.
type Server struct {
	opts   Options
	logger *slog.Logger

	mu        sync.Mutex
	mailboxes map[string]*mailbox // by lowercased address
	oauth     oauthState
	quota     quotaCounter
	faults    faultState
	uploads   map[string]*resumableUpload
	nextMsgID uint64
	pageKey   []byte
	now       func() time.Time

	handler  http.Handler
	httpSrv  *http.Server
	listener net.Listener
	serveErr chan error
}

// New returns a Server with one empty mailbox per configured user.
func New(opts Options) *Server {
	if len(opts.Users) == 0 {
		opts.Users = []string{DefaultUser}
	}
	if opts.ClientID == "" {
		opts.ClientID = DefaultClientID
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = DefaultClientSecret
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{
		opts:      opts,
		logger:    logger,
		mailboxes: make(map[string]*mailbox),
		oauth:     newOAuthState(),
		quota:     newQuotaCounter(opts),
		faults:    newFaultState(opts.Faults),
		uploads:   make(map[string]*resumableUpload),
		nextMsgID: initialMessageID(),
		pageKey:   []byte(randomString(32)),
		now:       time.Now,
	}
	for _, u := range opts.Users {
		addr := strings.ToLower(strings.TrimSpace(u))
		s.mailboxes[addr] = newMailbox(addr)
	}
	s.handler = s.logRequests(s.guardAPI(s.routes()))
	return s
}

// Handler returns the HTTP handler that serves OAuth, Gmail and admin
// endpoints at the root path, for use with httptest.Server.
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on addr, which must be a loopback address such as
// "127.0.0.1:0", and serves in the background. It returns the base URL with
// a trailing slash, the form the Go client's option.WithEndpoint expects.
func (s *Server) Start(addr string) (string, error) {
	if err := checkLoopback(addr); err != nil {
		return "", err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("listening on %s: %w", addr, err)
	}
	s.listener = ln
	s.httpSrv = &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	s.serveErr = make(chan error, 1)
	go func() { s.serveErr <- s.httpSrv.Serve(ln) }()
	return s.BaseURL(), nil
}

// BaseURL returns "http://HOST:PORT/" once Start has succeeded, else "".
func (s *Server) BaseURL() string {
	if s.listener == nil {
		return ""
	}
	return "http://" + s.listener.Addr().String() + "/"
}

// Close stops a server started with Start, waiting up to five seconds for
// requests in flight. It is a no-op for a server that was never started.
func (s *Server) Close() error {
	if s.httpSrv == nil {
		return nil
	}
	// A client connection that never sent a request counts as busy for five
	// seconds in net/http's Shutdown; a test instrument closes it sooner.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err := s.httpSrv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = s.httpSrv.Close()
	}
	if serveErr := <-s.serveErr; serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	s.httpSrv = nil
	return err
}

// checkLoopback rejects listen addresses outside 127.0.0.0/8 and ::1, because
// the emulator hands out tokens and mail to anyone who can reach it.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("invalid listen address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("listen address %q is not a loopback address: use 127.0.0.1 or [::1]", addr)
	}
	return nil
}

// mailboxFor returns the mailbox for address, case-insensitively, or nil.
// The caller holds s.mu.
func (s *Server) mailboxFor(address string) *mailbox {
	return s.mailboxes[strings.ToLower(strings.TrimSpace(address))]
}

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		next.ServeHTTP(rec, r)
		// The query may carry access_token or token, so only the path is logged.
		s.logger.Debug("request", "method", r.Method, "path", r.URL.Path,
			"status", rec.status, "duration", time.Since(start))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection, so injected
// faults can hijack it.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

package parleytest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/auth"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/cmd/parleyd/node"
	"github.com/parleyhq/parley/crypt"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/wire"
	"github.com/pquerna/otp/totp"
)

// Clock is a settable clock for tests: expiry, idle timeouts and TOTP steps
// move when the test says so, never by sleeping.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at t (UTC).
func NewClock(t time.Time) *Clock { return &Clock{t: t.UTC()} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Server is a whole Parley node running in-process on 127.0.0.1 with a
// fresh data directory, driven through the public client SDK.
type Server struct {
	t          testing.TB
	Node       *node.Node
	URL        string // https://127.0.0.1:port
	CAFile     string // the server certificate, to pin
	Dir        string
	Clock      *Clock
	SetupToken string
	// DBName says which database the server runs on ("sqlite" or "postgres").
	DBName string
	// ManagementURL is https://127.0.0.1:port of the management listener
	// (WithManagementListener), "" without one.
	ManagementURL string
}

// ServerOption adjusts a test server before it starts.
type ServerOption func(*node.Options)

// WithDSN runs the server on the given database.
func WithDSN(dsn string) ServerOption { return func(o *node.Options) { o.DSN = dsn } }

// WithLogger sends the server's logs to log (by default they are dropped).
func WithLogger(log *slog.Logger) ServerOption { return func(o *node.Options) { o.Log = log } }

// WithTrustedProxies believes X-Forwarded-For from these networks, so a
// test can speak from several source addresses.
func WithTrustedProxies(p ...netip.Prefix) ServerOption {
	return func(o *node.Options) { o.TrustedProxies = p }
}

// WithHTTPConfig overrides transport settings (queue sizes, revalidation).
func WithHTTPConfig(c httpapi.Config) ServerOption { return func(o *node.Options) { o.HTTP = &c } }

// WithManagementListener starts a management listener on 127.0.0.1 (I6):
// administrative operations are served there only (ManagementClient), to
// peers in allow (loopback when empty) and, with clientCAs, only to clients
// holding a certificate from them.
func WithManagementListener(allow []netip.Prefix, clientCAs *x509.CertPool) ServerOption {
	if len(allow) == 0 {
		allow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}
	return func(o *node.Options) {
		o.Management = &node.Management{Listen: "127.0.0.1:0", Allow: allow, ClientCAs: clientCAs}
	}
}

// WithAuthConfig overrides session rules.
func WithAuthConfig(c auth.Config) ServerOption { return func(o *node.Options) { o.Auth = &c } }

// testArgon2 keeps the argon2id algorithm but with a cost that lets a test
// create dozens of users quickly. Production always uses the default.
var testArgon2 = crypt.Argon2Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// NewServer starts a server on SQLite in a temp dir and stops it at cleanup.
func NewServer(t testing.TB, opts ...ServerOption) *Server {
	t.Helper()
	dir := t.TempDir()
	clock := NewClock(time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC))
	certPEM, keyPEM, err := httpapi.GenerateSelfSigned([]string{"localhost", "127.0.0.1", "::1"}, time.Now(), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	certFile := filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	o := node.Options{
		DSN: "sqlite:" + filepath.Join(dir, "parley.db"), KeyringFile: filepath.Join(dir, "keyring.json"),
		SetupTokenFile: filepath.Join(dir, "setup-token"), Certificate: cert, Listen: "127.0.0.1:0",
		Clock: clock.Now, Argon2: &testArgon2,
	}
	for _, opt := range opts {
		opt(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, err := node.Start(ctx, o)
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := n.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	token, err := os.ReadFile(o.SetupTokenFile)
	if err != nil {
		t.Fatalf("setup token: %v", err)
	}
	s := &Server{t: t, Node: n, URL: "https://" + n.Addr(), CAFile: certFile, Dir: dir, Clock: clock,
		SetupToken: string(trimNL(token)), DBName: n.Store.Dialect()}
	if addr := n.ManagementAddr(); addr != "" {
		s.ManagementURL = "https://" + addr
	}
	return s
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// Client returns an unauthenticated SDK client that pins the server's CA.
func (s *Server) Client() *client.Client {
	s.t.Helper()
	c, err := client.New(s.URL, client.WithCAFile(s.CAFile))
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// TOTPCode returns a valid code for secret at the server's time, then moves
// the clock to the next 30-second step so the next code is fresh (replay
// protection refuses a step twice).
func (s *Server) TOTPCode(secret string) string {
	s.t.Helper()
	code, err := totp.GenerateCode(secret, s.Clock.Now())
	if err != nil {
		s.t.Fatal(err)
	}
	s.Clock.Advance(30 * time.Second)
	return code
}

// Password is a policy-compliant password for tests.
const Password = "Correct-Horse-9-Battery"

// Admin is the setup administrator after MFA enrolment.
type Admin struct {
	*client.Client
	UserID     string
	TOTPSecret string
}

// SetupAdmin runs first-start setup, logs in and enrols TOTP, returning a
// fully privileged system_admin client.
func (s *Server) SetupAdmin(ctx context.Context) *Admin {
	s.t.Helper()
	c := s.Client()
	id, err := c.Setup(ctx, wire.SetupRequest{SetupToken: s.SetupToken, Username: "admin", Password: Password, DisplayName: "Setup Admin"})
	if err != nil {
		s.t.Fatalf("setup: %v", err)
	}
	if _, err := c.Login(ctx, "admin", Password); err != nil {
		s.t.Fatalf("login: %v", err)
	}
	enr, err := c.EnrollTOTP(ctx)
	if err != nil {
		s.t.Fatalf("enroll: %v", err)
	}
	if _, err := c.ConfirmTOTP(ctx, s.TOTPCode(enr.Secret)); err != nil {
		s.t.Fatalf("confirm: %v", err)
	}
	return &Admin{Client: c, UserID: id, TOTPSecret: enr.Secret}
}

// User is an ordinary user's logged-in client.
type User struct {
	*client.Client
	UserID   string
	Username string
}

// NewUser creates a user through admin and logs it in on a new client.
func (s *Server) NewUser(ctx context.Context, admin *Admin, username string) *User {
	s.t.Helper()
	id, err := admin.CreateUser(ctx, wire.CreateUserRequest{Username: username, DisplayName: "User " + username, Password: Password})
	if err != nil {
		s.t.Fatalf("create user %s: %v", username, err)
	}
	return &User{Client: s.Login(ctx, username), UserID: id, Username: username}
}

// Login logs username in on a new client (a new device).
func (s *Server) Login(ctx context.Context, username string) *client.Client {
	s.t.Helper()
	c := s.Client()
	res, err := c.Login(ctx, username, Password)
	if err != nil {
		s.t.Fatalf("login %s: %v", username, err)
	}
	if res.MFARequired {
		s.t.Fatalf("login %s: unexpected MFA challenge", username)
	}
	return c
}

// ManagementClient returns an SDK client for the management listener with
// the session token (logins and step-up happen on the user listener) and,
// if cert is not nil, that client certificate. It pins the server's CA.
func (s *Server) ManagementClient(token string, cert *tls.Certificate) *client.Client {
	s.t.Helper()
	if s.ManagementURL == "" {
		s.t.Fatal("ManagementClient: the server has no management listener (WithManagementListener)")
	}
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		s.t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	tc := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots}
	if cert != nil {
		tc.Certificates = []tls.Certificate{*cert}
	}
	hc := &http.Client{
		Transport:     &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}
	c, err := client.New(s.ManagementURL, client.WithHTTPClient(hc), client.WithToken(token))
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

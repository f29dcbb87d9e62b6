package notify

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// testCert makes a self-signed certificate for 127.0.0.1 and a pool that
// trusts it.
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtp test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// received is what the in-test SMTP server saw.
type received struct {
	From, To string
	Data     []byte
	TLS      bool
	User     string
	Password string
}

// backend is a go-smtp backend that records messages and checks
// credentials (user "mailer", password "s3cret-pw").
type backend struct {
	mu   sync.Mutex
	msgs []received
	auth []string // usernames that authenticated
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &session{b: b, conn: c, cur: received{TLS: isTLS}}, nil
}

func (b *backend) messages() []received {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]received(nil), b.msgs...)
}

type session struct {
	b    *backend
	conn *smtp.Conn
	cur  received
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != "mailer" || password != "s3cret-pw" {
			return smtp.ErrAuthFailed
		}
		s.cur.User, s.cur.Password = username, password
		s.b.mu.Lock()
		s.b.auth = append(s.b.auth, username)
		s.b.mu.Unlock()
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	_, s.cur.TLS = s.conn.TLSConnectionState()
	s.cur.From = from
	return nil
}
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error { s.cur.To = to; return nil }
func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.Data = data
	s.b.mu.Lock()
	s.b.msgs = append(s.b.msgs, s.cur)
	s.b.mu.Unlock()
	return nil
}
func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

// startServer runs a go-smtp server on 127.0.0.1. mode: "starttls" (TLS
// offered through STARTTLS), "implicit" (TLS from the first byte) or
// "plain" (no TLS at all).
func startServer(t *testing.T, mode string, cert tls.Certificate) (*backend, int) {
	t.Helper()
	be := &backend{}
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.ErrorLog = nopLogger{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tlsConf := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	switch mode {
	case "starttls":
		srv.TLSConfig = tlsConf
	case "implicit":
		ln = tls.NewListener(ln, tlsConf)
	case "plain":
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return be, ln.Addr().(*net.TCPAddr).Port
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}
func (nopLogger) Println(...any)        {}

func testMessage() Message {
	return Message{Channel: ChannelEmail, To: "alice@example.com", Subject: "Your Parley code — sign-in",
		Body: "Your code is 123456.\nIt expires in 5 minutes."}
}

func newSMTP(t *testing.T, cfg SMTPConfig) *SMTP {
	t.Helper()
	s, err := NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// checkDelivered verifies the one message the server received.
func checkDelivered(t *testing.T, be *backend, wantTLS bool, wantUser string) {
	t.Helper()
	msgs := be.messages()
	if len(msgs) != 1 {
		t.Fatalf("server received %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.From != "parley@example.com" || m.To != "alice@example.com" {
		t.Errorf("envelope %s → %s", m.From, m.To)
	}
	if m.TLS != wantTLS {
		t.Errorf("TLS = %v, want %v", m.TLS, wantTLS)
	}
	if m.User != wantUser {
		t.Errorf("authenticated as %q, want %q", m.User, wantUser)
	}
	parsed, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatal(err)
	}
	dec := new(mime.WordDecoder)
	subj, err := dec.DecodeHeader(parsed.Header.Get("Subject"))
	if err != nil || subj != testMessage().Subject {
		t.Errorf("subject %q (%v)", subj, err)
	}
	if parsed.Header.Get("Auto-Submitted") != "auto-generated" || parsed.Header.Get("To") != "alice@example.com" {
		t.Errorf("headers %v", parsed.Header)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(parsed.Body))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), "Your code is 123456.\r\nIt expires in 5 minutes.") {
		t.Errorf("body %q", body)
	}
}

func TestSMTPStartTLSWithAuth(t *testing.T) {
	cert, pool := testCert(t)
	be, port := startServer(t, "starttls", cert)
	s := newSMTP(t, SMTPConfig{Host: "127.0.0.1", Port: port, From: "parley@example.com",
		Username: "mailer", Password: "s3cret-pw", RootCAs: pool})
	if err := s.Send(ctx(t), testMessage()); err != nil {
		t.Fatal(err)
	}
	checkDelivered(t, be, true, "mailer")
}

func TestSMTPImplicitTLS(t *testing.T) {
	cert, pool := testCert(t)
	be, port := startServer(t, "implicit", cert)
	s := newSMTP(t, SMTPConfig{Host: "127.0.0.1", Port: port, From: "parley@example.com", TLS: TLSImplicit,
		Username: "mailer", Password: "s3cret-pw", RootCAs: pool})
	if err := s.Send(ctx(t), testMessage()); err != nil {
		t.Fatal(err)
	}
	checkDelivered(t, be, true, "mailer")
}

// TestSMTPRequiresTLSByDefault: a server without STARTTLS (or an attacker
// who stripped it) gets neither the message nor the credentials.
func TestSMTPRequiresTLSByDefault(t *testing.T) {
	cert, pool := testCert(t)
	be, port := startServer(t, "plain", cert)
	for _, withAuth := range []bool{false, true} {
		cfg := SMTPConfig{Host: "127.0.0.1", Port: port, From: "parley@example.com", RootCAs: pool}
		if withAuth {
			cfg.Username, cfg.Password = "mailer", "s3cret-pw"
		}
		err := newSMTP(t, cfg).Send(ctx(t), testMessage())
		if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
			t.Fatalf("auth=%v: got %v, want a refusal naming STARTTLS", withAuth, err)
		}
	}
	if n := len(be.messages()); n != 0 || len(be.auth) != 0 {
		t.Fatalf("plain server received %d messages, %d logins", n, len(be.auth))
	}
}

// TestSMTPPlainOnlyWhenAskedFor: tls "none" is an explicit choice, and even
// then credentials are never sent in the clear.
func TestSMTPPlainOnlyWhenAskedFor(t *testing.T) {
	cert, _ := testCert(t)
	be, port := startServer(t, "plain", cert)
	s := newSMTP(t, SMTPConfig{Host: "127.0.0.1", Port: port, From: "parley@example.com", TLS: TLSNone})
	if err := s.Send(ctx(t), testMessage()); err != nil {
		t.Fatal(err)
	}
	checkDelivered(t, be, false, "")
	if _, err := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: port, From: "parley@example.com", TLS: TLSNone,
		Username: "mailer", Password: "s3cret-pw"}); err == nil {
		t.Fatal("credentials without TLS accepted")
	}
}

// TestSMTPVerifiesCertificate: a server whose certificate the configured
// roots do not trust gets nothing (a man in the middle with his own cert).
func TestSMTPVerifiesCertificate(t *testing.T) {
	cert, _ := testCert(t)
	_, otherPool := testCert(t)
	for _, mode := range []string{"starttls", "implicit"} {
		be, port := startServer(t, mode, cert)
		s := newSMTP(t, SMTPConfig{Host: "127.0.0.1", Port: port, From: "parley@example.com", TLS: TLSMode(mode),
			Username: "mailer", Password: "s3cret-pw", RootCAs: otherPool})
		err := s.Send(ctx(t), testMessage())
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("%s: got %v, want a certificate error", mode, err)
		}
		if len(be.messages()) != 0 || len(be.auth) != 0 {
			t.Fatalf("%s: untrusted server received mail or credentials", mode)
		}
	}
}

func TestSMTPRefusesBadMessages(t *testing.T) {
	cert, pool := testCert(t)
	be, port := startServer(t, "starttls", cert)
	s := newSMTP(t, SMTPConfig{Host: "127.0.0.1", Port: port, From: "parley@example.com", RootCAs: pool})
	bad := []Message{
		{Channel: ChannelSMS, To: "+15551234567", Body: "x"},
		{Channel: ChannelEmail, To: "alice@example.com\r\nBcc: eve@example.com", Body: "x"},
		{Channel: ChannelEmail, To: "Alice <alice@example.com>", Body: "x"},
		{Channel: ChannelEmail, To: "alice@example.com", Subject: "hi\r\nBcc: eve@example.com", Body: "x"},
		{Channel: ChannelEmail, To: "not-an-address", Body: "x"},
	}
	for _, m := range bad {
		if err := s.Send(ctx(t), m); err == nil {
			t.Errorf("sent %+v", m)
		}
	}
	if len(be.messages()) != 0 {
		t.Fatal("a bad message reached the server")
	}
	if s.Supports(ChannelSMS) || !s.Supports(ChannelEmail) {
		t.Fatal("SMTP reaches e-mail only")
	}
}

func TestNewSMTPValidates(t *testing.T) {
	ok := SMTPConfig{Host: "smtp.example.com", Port: 587, From: "parley@example.com"}
	if _, err := NewSMTP(ok); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*SMTPConfig){
		"no host":       func(c *SMTPConfig) { c.Host = "" },
		"bad port":      func(c *SMTPConfig) { c.Port = 0 },
		"bad from":      func(c *SMTPConfig) { c.From = "Parley <p@example.com>" },
		"bad tls":       func(c *SMTPConfig) { c.TLS = "ssl3" },
		"user, no pass": func(c *SMTPConfig) { c.Username = "u" },
	} {
		c := ok
		mut(&c)
		if _, err := NewSMTP(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestSMTPNeverPrintsPassword: the configuration and the provider print
// without the password under every verb and in slog (D6).
func TestSMTPNeverPrintsPassword(t *testing.T) {
	cfg := SMTPConfig{Host: "smtp.example.com", Port: 587, From: "parley@example.com", Username: "mailer", Password: "s3cret-pw"}
	s := newSMTP(t, cfg)
	// The provider keeps the password where reflection cannot print it,
	// even from an unexported field of someone else's struct. (A bare
	// SMTPConfig there would print: it is a value to hand to NewSMTP, not
	// to keep.)
	holder := struct {
		s *SMTP
		v SMTP
	}{s, *s}
	var out []string
	for _, v := range []any{cfg, &cfg, s, *s, holder} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			out = append(out, fmt.Sprintf(verb, v))
		}
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "smtp", cfg)
	out = append(out, logged.String())
	for _, o := range out {
		if strings.Contains(o, "s3cret-pw") {
			t.Fatalf("password printed: %s", o)
		}
	}
}

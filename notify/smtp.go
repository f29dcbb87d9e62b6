package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"strconv"
	"strings"
	"time"
)

// TLSMode is how the SMTP provider protects the connection.
type TLSMode string

const (
	// TLSStartTLS (the default) upgrades with STARTTLS and refuses a
	// server that does not offer it: a man in the middle stripping the
	// STARTTLS capability gets nothing (port 587).
	TLSStartTLS TLSMode = "starttls"
	// TLSImplicit speaks TLS from the first byte (port 465).
	TLSImplicit TLSMode = "implicit"
	// TLSNone sends in the clear. Only for a relay on the same host or a
	// trusted segment, and only when asked for by name; credentials are
	// never sent this way.
	TLSNone TLSMode = "none"
)

// SMTPConfig configures the SMTP provider. Password is a secret: the
// config prints it as REDACTED under fmt and slog (D6).
type SMTPConfig struct {
	Host     string // server name; also the name its certificate must carry
	Port     int    // 587 for STARTTLS, 465 for implicit TLS
	From     string // envelope and header sender, a bare address
	Username string // empty: no authentication
	Password string
	TLS      TLSMode // "" means TLSStartTLS
	// RootCAs verifies the server certificate; nil means the system roots.
	RootCAs *x509.CertPool
	// LocalName is sent in EHLO; default "localhost".
	LocalName string
	// Timeout bounds one delivery when the context has no earlier deadline;
	// default 30 s.
	Timeout time.Duration
}

// String prints the configuration without the password.
func (c SMTPConfig) String() string {
	pw := ""
	if c.Password != "" {
		pw = " password=REDACTED"
	}
	return fmt.Sprintf("smtp{host=%s port=%d from=%s user=%s%s tls=%s}", c.Host, c.Port, c.From, c.Username, pw, c.tlsMode())
}

// GoString is String, so that %#v cannot print the password either.
func (c SMTPConfig) GoString() string { return c.String() }

// LogValue is String, for log/slog.
func (c SMTPConfig) LogValue() slog.Value { return slog.StringValue(c.String()) }

func (c SMTPConfig) tlsMode() TLSMode {
	if c.TLS == "" {
		return TLSStartTLS
	}
	return c.TLS
}

// SMTP sends e-mail through a submission server (net/smtp). It reaches the
// e-mail channel only.
type SMTP struct {
	cfg SMTPConfig // Password cleared
	// password is reached through a function value, which reflection
	// prints as an address: printing an *SMTP or a struct holding one
	// cannot reveal it (the trick of crypt.Key).
	password func() string
}

// NewSMTP checks cfg and returns the provider. It does not connect.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if cfg.Host == "" || hasControl(cfg.Host) || strings.ContainsAny(cfg.Host, " /") {
		return nil, errors.New("notify: smtp: invalid host")
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, errors.New("notify: smtp: port must be 1–65535")
	}
	if err := checkAddress(cfg.From); err != nil {
		return nil, fmt.Errorf("notify: smtp: from: %w", err)
	}
	switch cfg.tlsMode() {
	case TLSStartTLS, TLSImplicit:
	case TLSNone:
		if cfg.Username != "" || cfg.Password != "" {
			return nil, errors.New("notify: smtp: refusing to send credentials without TLS")
		}
	default:
		return nil, fmt.Errorf("notify: smtp: tls must be starttls, implicit or none, not %q", cfg.TLS)
	}
	if (cfg.Username == "") != (cfg.Password == "") {
		return nil, errors.New("notify: smtp: give both username and password, or neither")
	}
	if hasControl(cfg.Username) {
		return nil, errors.New("notify: smtp: invalid username")
	}
	if cfg.LocalName == "" {
		cfg.LocalName = "localhost"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	pw := cfg.Password
	cfg.Password = ""
	return &SMTP{cfg: cfg, password: func() string { return pw }}, nil
}

// String describes the provider without secrets.
func (s *SMTP) String() string {
	c := s.cfg
	if s.password() != "" {
		c.Password = "set"
	}
	return c.String()
}

// Supports reports true for e-mail only.
func (s *SMTP) Supports(channel string) bool { return channel == ChannelEmail }

// checkAddress accepts a bare address ("a@example.com"), nothing with a
// display name, comment or control character.
func checkAddress(addr string) error {
	if addr == "" || len(addr) > 254 || hasControl(addr) {
		return errors.New("invalid e-mail address")
	}
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Address != addr || a.Name != "" {
		return errors.New("invalid e-mail address")
	}
	return nil
}

func (s *SMTP) tlsConfig() *tls.Config {
	return &tls.Config{ServerName: s.cfg.Host, RootCAs: s.cfg.RootCAs, MinVersion: tls.VersionTLS12}
}

// Send delivers one e-mail. Errors name the step that failed, never the
// message body (which holds a code) or the password.
func (s *SMTP) Send(ctx context.Context, m Message) (err error) {
	if m.Channel != ChannelEmail {
		return ErrUnsupportedChannel
	}
	if err := check(m); err != nil {
		return err
	}
	if err := checkAddress(m.To); err != nil {
		return fmt.Errorf("notify: smtp: to: %w", err)
	}
	msg, err := s.compose(m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	addr := net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("notify: smtp: dial %s: %w", addr, err)
	}
	// net/smtp takes no context: a deadline on the connection bounds every
	// step, and cancellation cuts it short.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if s.cfg.tlsMode() == TLSImplicit {
		tc := tls.Client(conn, s.tlsConfig())
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return fmt.Errorf("notify: smtp: TLS handshake: %w", err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("notify: smtp: greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello(s.cfg.LocalName); err != nil {
		return fmt.Errorf("notify: smtp: EHLO: %w", err)
	}
	if s.cfg.tlsMode() == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("notify: smtp: server does not offer STARTTLS; refusing to send in the clear (set tls to \"implicit\" for port 465)")
		}
		if err := c.StartTLS(s.tlsConfig()); err != nil {
			return fmt.Errorf("notify: smtp: STARTTLS: %w", err)
		}
	}
	if s.cfg.Username != "" {
		if _, isTLS := c.TLSConnectionState(); !isTLS {
			return errors.New("notify: smtp: refusing to authenticate without TLS")
		}
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("notify: smtp: server offers no AUTH")
		}
		if err := c.Auth(smtp.PlainAuth("", s.cfg.Username, s.password(), s.cfg.Host)); err != nil {
			return fmt.Errorf("notify: smtp: AUTH: %w", err)
		}
	}
	if err := c.Mail(s.cfg.From); err != nil {
		return fmt.Errorf("notify: smtp: MAIL FROM: %w", err)
	}
	if err := c.Rcpt(m.To); err != nil {
		return fmt.Errorf("notify: smtp: RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("notify: smtp: DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("notify: smtp: writing message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("notify: smtp: message refused: %w", err)
	}
	_ = c.Quit() // the message is accepted; a failed QUIT changes nothing
	return nil
}

// compose builds the message: plain text, UTF-8, quoted-printable, the
// subject encoded as an RFC 2047 word. Values were checked for control
// characters, so no header can be injected (I3).
func (s *SMTP) compose(m Message) ([]byte, error) {
	var id [12]byte
	_, _ = rand.Read(id[:])
	var b bytes.Buffer
	h := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	h("From", s.cfg.From)
	h("To", m.To)
	h("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	h("Date", time.Now().UTC().Format(time.RFC1123Z))
	h("Message-ID", "<"+hex.EncodeToString(id[:])+"@"+domainOf(s.cfg.From)+">")
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	h("Auto-Submitted", "auto-generated") // RFC 3834: no auto-replies
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	body := strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n", "\r\n")
	if _, err := qp.Write([]byte(body)); err != nil {
		return nil, fmt.Errorf("notify: smtp: encoding body: %w", err)
	}
	if err := qp.Close(); err != nil {
		return nil, fmt.Errorf("notify: smtp: encoding body: %w", err)
	}
	b.WriteString("\r\n")
	return b.Bytes(), nil
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return "localhost"
}

var _ Sender = (*SMTP)(nil)

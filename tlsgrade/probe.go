package tlsgrade

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Options tune a probe.
type Options struct {
	// Roots verify the certificate chain; nil means the system's roots.
	// tlscheck --ca pins a self-signed certificate this way.
	Roots *x509.CertPool
	// Now is the time certificates are checked at; nil means time.Now.
	Now func() time.Time
	// Timeout bounds each connection; zero means 5 seconds.
	Timeout time.Duration
}

// Target is where to probe, from a URL or host:port.
type Target struct {
	Addr       string // host:port to dial
	ServerName string // SNI and certificate name (host without port)
	URL        string // https URL of the HSTS request
}

// ParseTarget accepts https://host[:port][/path] or host[:port]; the port
// defaults to 443.
func ParseTarget(s string) (Target, error) {
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return Target{}, fmt.Errorf("tlsgrade: %w", err)
	}
	if u.Scheme != "https" {
		return Target{}, fmt.Errorf("tlsgrade: %q is not an https URL", s)
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		return Target{}, fmt.Errorf("tlsgrade: %q has no host", s)
	}
	if port == "" {
		port = "443"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return Target{}, fmt.Errorf("tlsgrade: %q has a bad port", s)
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	addr := net.JoinHostPort(host, port)
	return Target{Addr: addr, ServerName: host, URL: "https://" + u.Host + path}, nil
}

// Probe connects to t many times, one question per handshake, and reports
// what the server accepts. It fails only when no connection can be made at
// all; a server that refuses every handshake gets a report (and an F).
func Probe(ctx context.Context, t Target, opt Options) (*Report, error) {
	p := &prober{t: t, opt: opt}
	if p.opt.Timeout <= 0 {
		p.opt.Timeout = 5 * time.Second
	}
	if p.opt.Now == nil {
		p.opt.Now = time.Now
	}
	r := &Report{Target: t.Addr, ServerName: t.ServerName, Protocols: map[uint16]bool{}}

	// Protocol versions, each offered alone with every suite Go knows.
	var best *tls.ConnectionState
	for _, v := range []uint16{tls.VersionTLS13, tls.VersionTLS12, tls.VersionTLS11, tls.VersionTLS10} {
		cfg := p.config(v)
		if v < tls.VersionTLS13 {
			cfg.CipherSuites = suitesFor(v, nil)
		}
		st, err := p.handshake(ctx, cfg)
		var de *dialError
		if errors.As(err, &de) {
			return nil, fmt.Errorf("tlsgrade: cannot connect to %s: %w", t.Addr, de.err)
		}
		r.Protocols[v] = err == nil
		if err == nil && best == nil {
			best = st
		}
		if err == nil && v == tls.VersionTLS13 {
			r.Suites = append(r.Suites, Suite{Version: v, ID: st.CipherSuite, Name: tls.CipherSuiteName(st.CipherSuite)})
		}
	}
	r.Protocols[VersionSSL30] = p.ssl3(ctx)

	// Cipher suites of TLS 1.0–1.2, one per handshake.
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS11, tls.VersionTLS10} {
		if !r.Protocols[v] {
			continue
		}
		for _, cs := range suitesFor(v, nil) {
			cfg := p.config(v)
			cfg.CipherSuites = []uint16{cs}
			if st, err := p.handshake(ctx, cfg); err == nil && st.CipherSuite == cs {
				r.Suites = append(r.Suites, Suite{Version: v, ID: cs, Name: tls.CipherSuiteName(cs)})
			}
		}
	}

	// Key exchange groups, one per handshake.
	for _, g := range []tls.CurveID{tls.X25519MLKEM768, tls.SecP256r1MLKEM768, tls.SecP384r1MLKEM1024,
		tls.X25519, tls.CurveP256, tls.CurveP384, tls.CurveP521} {
		var vs []uint16
		for _, v := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
			if !r.Protocols[v] || (v < tls.VersionTLS13 && isHybrid(g)) {
				continue
			}
			cfg := p.config(v)
			cfg.CurvePreferences = []tls.CurveID{g}
			if v < tls.VersionTLS13 {
				cfg.CipherSuites = suitesFor(v, func(name string) bool { return strings.HasPrefix(name, "TLS_ECDHE_") })
			}
			if st, err := p.handshake(ctx, cfg); err == nil && st.CurveID == g {
				vs = append(vs, v)
			}
		}
		if len(vs) > 0 {
			r.Groups = append(r.Groups, Group{ID: g, Versions: vs})
		}
	}

	if best != nil {
		r.Cert = p.certificate(best.PeerCertificates)
		r.HSTS = p.hsts(ctx)
	}
	r.Notes = []string{
		"SSL 2.0 and finite-field DHE suites are not tested (Go's TLS client speaks neither)",
		"TLS 1.3 suites: only the one negotiated is seen (Go's client always offers all three)",
		"TLS_FALLBACK_SCSV is not tested; TLS 1.3's downgrade sentinel covers servers with 1.3",
	}
	return r, nil
}

type prober struct {
	t   Target
	opt Options
}

type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }

// config is the base of every probe handshake: one protocol version, and no
// verification, because the point is to see what an untrusted or badly
// configured server does; trust is judged separately (certificate).
func (p *prober) config(v uint16) *tls.Config {
	return &tls.Config{
		ServerName:         p.serverNameForSNI(),
		InsecureSkipVerify: true, // #nosec G402 -- a grader must handshake with weak and untrusted servers; the chain is verified separately in certificate()
		MinVersion:         v,
		MaxVersion:         v,
	}
}

// serverNameForSNI is the host name to send as SNI; none for an IP.
func (p *prober) serverNameForSNI() string {
	if net.ParseIP(p.t.ServerName) != nil {
		return ""
	}
	return p.t.ServerName
}

func (p *prober) dial(ctx context.Context) (net.Conn, error) {
	d := net.Dialer{Timeout: p.opt.Timeout}
	c, err := d.DialContext(ctx, "tcp", p.t.Addr)
	if err != nil {
		return nil, &dialError{err}
	}
	return c, nil
}

func (p *prober) handshake(ctx context.Context, cfg *tls.Config) (*tls.ConnectionState, error) {
	ctx, cancel := context.WithTimeout(ctx, p.opt.Timeout)
	defer cancel()
	raw, err := p.dial(ctx)
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	c := tls.Client(raw, cfg)
	if err := c.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	st := c.ConnectionState()
	return &st, nil
}

// suitesFor lists the IDs of every suite Go implements for version v,
// secure and insecure, optionally filtered by name.
func suitesFor(v uint16, keep func(name string) bool) []uint16 {
	var ids []uint16
	for _, list := range [][]*tls.CipherSuite{tls.CipherSuites(), tls.InsecureCipherSuites()} {
		for _, cs := range list {
			if slices.Contains(cs.SupportedVersions, v) && (keep == nil || keep(cs.Name)) {
				ids = append(ids, cs.ID)
			}
		}
	}
	return ids
}

func isHybrid(g tls.CurveID) bool {
	return g == tls.X25519MLKEM768 || g == tls.SecP256r1MLKEM768 || g == tls.SecP384r1MLKEM1024
}

// ssl3 sends a raw SSL 3.0 ClientHello (crypto/tls cannot) offering the
// common SSL 3.0 suites, and reports whether the server answers with an
// SSL 3.0 ServerHello.
func (p *prober) ssl3(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, p.opt.Timeout)
	defer cancel()
	c, err := p.dial(ctx)
	if err != nil {
		return false
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	var random [32]byte
	_, _ = rand.Read(random[:])
	rec := []byte{
		0x16, 0x03, 0x00, 0x00, 0x3d, // record: handshake, SSL 3.0, 61 bytes
		0x01, 0x00, 0x00, 0x39, // ClientHello, 57 bytes
		0x03, 0x00, // client_version SSL 3.0
	}
	rec = append(rec, random[:]...)
	rec = append(rec,
		0x00,       // no session ID
		0x00, 0x12, // 9 suites: AES256-SHA, AES128-SHA, DES-CBC3-SHA, RC4-SHA, RC4-MD5, DES-CBC-SHA, DHE-RSA-AES256/128-SHA, EDH-RSA-DES-CBC3-SHA
		0x00, 0x35, 0x00, 0x2f, 0x00, 0x0a, 0x00, 0x05, 0x00, 0x04, 0x00, 0x09, 0x00, 0x39, 0x00, 0x33, 0x00, 0x16,
		0x01, 0x00, // one compression method: null
	)
	if _, err := c.Write(rec); err != nil {
		return false
	}
	var hdr [11]byte // record header, handshake type, length, server_version
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return false
	}
	return hdr[0] == 0x16 && hdr[1] == 0x03 && hdr[2] == 0x00 && hdr[5] == 0x02 && hdr[9] == 0x03 && hdr[10] == 0x00
}

// certificate describes the leaf and verifies the chain for the server
// name at the probe's time.
func (p *prober) certificate(chain []*x509.Certificate) *Cert {
	if len(chain) == 0 {
		return nil
	}
	leaf := chain[0]
	c := &Cert{Subject: leaf.Subject.String(), Issuer: leaf.Issuer.String(), NotBefore: leaf.NotBefore,
		NotAfter: leaf.NotAfter, SignatureAlgorithm: leaf.SignatureAlgorithm.String(), DNSNames: leaf.DNSNames,
		ChainLen: len(chain)}
	for _, ip := range leaf.IPAddresses {
		c.IPAddresses = append(c.IPAddresses, ip.String())
	}
	switch k := leaf.PublicKey.(type) {
	case *rsa.PublicKey:
		c.KeyType, c.KeyBits = "RSA", k.N.BitLen()
	case *ecdsa.PublicKey:
		c.KeyType, c.KeyBits = "ECDSA", k.Curve.Params().BitSize
	case ed25519.PublicKey:
		c.KeyType, c.KeyBits = "Ed25519", 256
	default:
		c.KeyType = fmt.Sprintf("%T", k)
	}
	c.SelfSigned = leaf.Subject.String() == leaf.Issuer.String() && leaf.CheckSignatureFrom(leaf) == nil
	inter := x509.NewCertPool()
	for _, ic := range chain[1:] {
		inter.AddCert(ic)
	}
	_, c.TrustError = leaf.Verify(x509.VerifyOptions{Roots: p.opt.Roots, Intermediates: inter,
		DNSName: p.t.ServerName, CurrentTime: p.opt.Now()})
	return c
}

// hsts asks for the target URL over TLS 1.2+ and reads the
// Strict-Transport-Security header of the answer (redirects not followed:
// the header must be on the first answer over TLS).
func (p *prober) hsts(ctx context.Context) *HSTS {
	cfg := p.config(tls.VersionTLS12)
	cfg.MaxVersion = tls.VersionTLS13
	tr := &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return p.dial(ctx) }}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: p.opt.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.t.URL, nil)
	if err != nil {
		return nil
	}
	resp, err := cl.Do(req)
	if err != nil {
		return nil
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	h := ParseHSTS(resp.Header.Get("Strict-Transport-Security"))
	h.Status = resp.StatusCode
	return h
}

// ParseHSTS reads a Strict-Transport-Security value (RFC 6797 §6.1). A
// header without a valid max-age counts as absent.
func ParseHSTS(v string) *HSTS {
	h := &HSTS{Raw: v}
	if strings.TrimSpace(v) == "" {
		return h
	}
	for _, d := range strings.Split(v, ";") {
		name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "max-age":
			n, err := strconv.ParseInt(strings.Trim(strings.TrimSpace(val), `"`), 10, 64)
			if err != nil || n < 0 {
				return &HSTS{Raw: v}
			}
			h.MaxAge, h.Present = n, true
		case "includesubdomains":
			h.IncludeSubDomains = true
		case "preload":
			h.Preload = true
		}
	}
	return h
}

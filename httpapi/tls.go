package httpapi

// TLS policy of every Parley listener (T1–T4) and the self-signed certificate
// that a fresh deployment starts with (API-CORE "Server process").
//
// Why these values:
//   - T2: TLS 1.2 and 1.3 only. MinVersion is explicit so that neither a
//     future default nor GODEBUG=tls10server=1 can re-enable TLS 1.0/1.1.
//   - T3: in TLS 1.2 only ECDHE key exchange (forward secrecy) with an AEAD
//     (AES-GCM, ChaCha20-Poly1305). No RSA key exchange, no CBC, RC4, 3DES,
//     export or NULL suites. TLS 1.3 suites are not configurable in Go and
//     are all forward-secret AEADs already.
//   - T4: the same set that testssl.sh/SSL Labs grade A; with HSTS
//     (SecureHeaders) A+.
//   - Key exchange: the hybrid post-quantum groups of Go 1.24/1.26
//     (X25519MLKEM768, SecP256r1MLKEM768) first, then X25519, P-256, P-384.
//     P-521 is left out: slow and no client needs it. Hybrid groups are
//     TLS 1.3 only; crypto/tls drops them from TLS 1.2 handshakes itself.
//   - ALPN: "h2" and "http/1.1". net/http would add both itself when this
//     config is set as http.Server.TLSConfig (ServeTLS calls
//     adjustNextProtos, Serve configures HTTP/2 when NextProtos holds "h2"),
//     but a tls.NewListener built from this config by hand would otherwise
//     negotiate no ALPN at all and lose HTTP/2, so the list is explicit.
//     WebSocket (/api/v1/ws) still runs over HTTP/1.1: the Go HTTP/2 server
//     does not advertise RFC 8441 extended CONNECT by default, so browsers
//     open a separate HTTP/1.1 connection for it.
//   - Session tickets stay on: Go rotates the ticket keys automatically
//     (every 24 h, accepted for 7 days), which bounds the forward-secrecy
//     cost of resumption; TLS 1.3 resumption uses (EC)DHE as well.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"time"
)

// tlsCipherSuites12 are the only TLS 1.2 suites offered (T3). Go ignores the
// order of this list (it applies its own, hardware-aware preference).
var tlsCipherSuites12 = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// tlsCurvePreferences lists the key exchanges offered. Go ignores the order
// here as well and prefers the hybrid post-quantum groups when both sides
// support them.
var tlsCurvePreferences = []tls.CurveID{
	tls.X25519MLKEM768,
	tls.SecP256r1MLKEM768,
	tls.X25519,
	tls.CurveP256,
	tls.CurveP384,
}

// TLSConfig returns the server TLS configuration of Parley (T2, T3, T4) with
// the given certificates. With none, the caller sets GetCertificate.
// Every call returns a fresh config, safe to modify.
func TLSConfig(certs ...tls.Certificate) *tls.Config {
	return &tls.Config{
		MinVersion:       tls.VersionTLS12,
		MaxVersion:       tls.VersionTLS13,
		CipherSuites:     append([]uint16(nil), tlsCipherSuites12...),
		CurvePreferences: append([]tls.CurveID(nil), tlsCurvePreferences...),
		NextProtos:       []string{"h2", "http/1.1"},
		Certificates:     append([]tls.Certificate(nil), certs...),
	}
}

// LoadCertificate reads a PEM certificate chain and its private key and
// checks that they belong together. The returned certificate has Leaf set,
// so that callers can look at its expiry without parsing again.
// Errors name the files but never carry key material (D6).
func LoadCertificate(certFile, keyFile string) (tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("httpapi: load TLS certificate %s / key %s: %w", certFile, keyFile, err)
	}
	if cert.Leaf == nil { // nil only with GODEBUG=x509keypairleaf=0
		leaf, err := x509.ParseCertificate(cert.Certificate[0])
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("httpapi: parse TLS certificate %s: %w", certFile, err)
		}
		cert.Leaf = leaf
	}
	return cert, nil
}

// GenerateSelfSigned makes the certificate a fresh deployment serves until
// the operator installs a real one (API-CORE: DIR/tls/cert.pem + key.pem):
// ECDSA P-256, a random 128-bit serial, the given DNS names and IP addresses
// as SANs, valid from now (minus five minutes of clock-skew allowance) for
// validity.
//
// The certificate is its own CA (IsCA, KeyUsageCertSign, path length 0) so
// that clients can pin DIR/tls/cert.pem as their only root: most TLS stacks,
// Go's and OpenSSL's included, accept a self-signed CA certificate as both
// trust anchor and leaf. Its key is the server's TLS key, whose theft would
// allow impersonation anyway, so CertSign adds no new risk; path length 0
// keeps it from certifying intermediates.
//
// keyPEM is a PKCS#8 "PRIVATE KEY" block; the caller writes it with mode
// 0600 and should clear the slice afterwards (D6).
func GenerateSelfSigned(hosts []string, now time.Time, validity time.Duration) (certPEM, keyPEM []byte, err error) {
	if len(hosts) == 0 {
		return nil, nil, errors.New("httpapi: self-signed certificate needs at least one host")
	}
	if validity <= 0 {
		return nil, nil, errors.New("httpapi: self-signed certificate validity must be positive")
	}
	var dnsNames []string
	var ips []net.IP
	for _, h := range hosts {
		h = strings.TrimSpace(h)
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
			continue
		}
		if h == "" || strings.ContainsAny(h, " /:@[]") {
			return nil, nil, fmt.Errorf("httpapi: self-signed certificate: invalid host %q", h)
		}
		dnsNames = append(dnsNames, strings.ToLower(h))
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("httpapi: generate TLS key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, nil, fmt.Errorf("httpapi: certificate serial: %w", err)
	}
	serial.SetBit(serial, 127, 1) // fixed length, never zero; 127 random bits remain

	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			CommonName:   strings.TrimSpace(hosts[0]),
			Organization: []string{"Parley self-signed"},
		},
		NotBefore:             now.Add(-5 * time.Minute).UTC(),
		NotAfter:              now.Add(validity).UTC(),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		DNSNames:              dnsNames,
		IPAddresses:           ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("httpapi: create self-signed certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("httpapi: encode TLS key: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	clear(keyDER) // D6: leave one copy of the key bytes, the one returned
	return certPEM, keyPEM, nil
}

// Package tlsgrade grades a TLS endpoint the way SSL Labs' SSL Server
// Rating Guide does (T4): a score from protocol support, key exchange and
// cipher strength, then caps for known weaknesses, T for a certificate the
// client cannot trust, and A+ for a flawless server that sends HSTS.
//
// Probe (probe.go) gathers the facts with Go's own TLS client; Grade (this
// file) is pure logic over them, so the rules are tested without a network.
// The rules, and what Go's client cannot test, are in
// docs/security-testing.md.
//
// Standard library only.
package tlsgrade

import (
	"crypto/tls"
	"fmt"
	"strings"
	"time"
)

// Report is what a probe found out about one endpoint.
type Report struct {
	Target     string // host:port probed
	ServerName string // SNI and the name the certificate must match

	// Protocols maps each version tried to whether the server accepted it:
	// VersionSSL30 (raw hello), TLS 1.0 to 1.3 (Go's client).
	Protocols map[uint16]bool
	// Suites lists every TLS 1.0–1.2 suite the server accepted, each in
	// its own handshake, plus the suite negotiated in TLS 1.3.
	Suites []Suite
	// Groups lists the key exchange groups the server accepted.
	Groups []Group

	Cert *Cert
	HSTS *HSTS // nil: no HTTP answer could be read

	Notes []string // limitations of this probe, for the reader
}

// Suite is one accepted cipher suite in one protocol version.
type Suite struct {
	Version uint16
	ID      uint16
	Name    string
}

// Group is one accepted key exchange group (named curve or hybrid KEM) and
// the protocol versions it was accepted in.
type Group struct {
	ID       tls.CurveID
	Versions []uint16
}

// Cert describes the leaf certificate and whether it can be trusted.
type Cert struct {
	Subject, Issuer     string
	NotBefore, NotAfter time.Time
	KeyType             string // "RSA", "ECDSA", "Ed25519"
	KeyBits             int    // RSA modulus size or curve size
	SignatureAlgorithm  string
	DNSNames            []string
	IPAddresses         []string
	ChainLen            int
	// TrustError is why the chain does not verify against the roots
	// (--ca or the system's) for ServerName at the probe's time; nil when
	// it does. It covers expiry and a name mismatch too.
	TrustError error
	// SelfSigned leaf, trusted only because it was pinned with --ca.
	SelfSigned bool
}

// HSTS is the Strict-Transport-Security header of the HTTP answer.
type HSTS struct {
	Present           bool
	MaxAge            int64 // seconds
	IncludeSubDomains bool
	Preload           bool
	Raw               string
	Status            int // HTTP status of the answer that carried it
}

// Result is a grade with its reasons.
type Result struct {
	Grade string // A+, A, A-, B, C, D, E, F or T
	// TrustIgnored is the grade the server would get if its certificate
	// were trusted; equal to Grade unless Grade is T.
	TrustIgnored                                 string
	Score                                        int // 0–100 before caps
	ProtocolScore, KeyExchangeScore, CipherScore int
	Reasons                                      []string // why the grade is not higher (caps, T, no A+)
	Warnings                                     []string // weaknesses that only cost the +
	Notices                                      []string // worth knowing, not graded
}

// VersionSSL30 is SSL 3.0's version number. crypto/tls deprecates its
// constant and cannot speak it; the probe sends a raw SSL 3.0 hello.
const VersionSSL30 uint16 = 0x0300

// MinHSTSAge is the HSTS max-age SSL Labs requires for A+: 180 days.
const MinHSTSAge = 180 * 24 * 3600

// grades from best to worst; T is separate.
var grades = []string{"A+", "A", "A-", "B", "C", "D", "E", "F"}

func rank(g string) int {
	for i, x := range grades {
		if x == g {
			return i
		}
	}
	return len(grades)
}

// Better reports whether grade a is better than b (T is worst).
func Better(a, b string) bool { return rank(a) < rank(b) }

// AtLeast reports whether grade g is min or better. T never is.
func AtLeast(g, min string) bool { return g != "T" && rank(g) <= rank(min) }

// Grade applies the rating rules to a report at time now.
func Grade(r *Report, now time.Time) *Result {
	res := &Result{}
	capTo := func(g, why string) {
		res.Reasons = append(res.Reasons, fmt.Sprintf("capped at %s: %s", g, why))
		if Better(res.Grade, g) {
			res.Grade = g
		}
	}

	supported := func(v uint16) bool { return r.Protocols[v] }
	handshakes := false
	for _, ok := range r.Protocols {
		handshakes = handshakes || ok
	}
	if !handshakes || len(r.Suites) == 0 {
		res.Grade, res.TrustIgnored = "F", "F"
		res.Reasons = append(res.Reasons, "no TLS handshake succeeded")
		return res
	}

	// Protocol support: the average of the best and the worst version.
	best, worst := -1, 101
	for _, v := range []uint16{VersionSSL30, tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13} {
		if supported(v) {
			s := protocolScore(v)
			best, worst = max(best, s), min(worst, s)
		}
	}
	res.ProtocolScore = (best + worst) / 2

	// Key exchange: the weakest of the certificate key and the groups.
	kexBits := 1 << 30
	if r.Cert != nil {
		kexBits = min(kexBits, rsaEquivalent(r.Cert.KeyType, r.Cert.KeyBits))
	}
	for _, g := range r.Groups {
		kexBits = min(kexBits, groupStrength(g.ID))
	}
	if kexBits == 1<<30 {
		kexBits = 0
	}
	res.KeyExchangeScore = kexScore(kexBits)

	// Cipher strength: the average of the strongest and weakest suite.
	strong, weak := -1, 1<<30
	var fs, nonFS, aead, cbc12, rc4, des3, null int
	for _, s := range r.Suites {
		p := suiteProps(s)
		strong, weak = max(strong, p.bits), min(weak, p.bits)
		if p.fs {
			fs++
		} else {
			nonFS++
		}
		if p.aead {
			aead++
		} else if s.Version == tls.VersionTLS12 {
			cbc12++
		}
		switch {
		case p.rc4:
			rc4++
		case p.des3:
			des3++
		case p.bits == 0:
			null++
		}
	}
	res.CipherScore = (cipherScore(strong) + cipherScore(weak)) / 2

	res.Score = (30*res.ProtocolScore + 30*res.KeyExchangeScore + 40*res.CipherScore + 50) / 100
	res.Grade = letter(res.Score)
	if res.Grade != "A" {
		res.Reasons = append(res.Reasons, fmt.Sprintf("score %d (protocol %d, key exchange %d, cipher %d)",
			res.Score, res.ProtocolScore, res.KeyExchangeScore, res.CipherScore))
	}

	// Caps, worst first (SSL Labs' guide, 2009–2020 revisions).
	if null > 0 {
		capTo("F", "NULL, anonymous or export cipher suites accepted")
	}
	if r.Cert != nil && r.Cert.KeyType == "RSA" && r.Cert.KeyBits < 1024 {
		capTo("F", fmt.Sprintf("RSA key of %d bits", r.Cert.KeyBits))
	}
	if supported(VersionSSL30) {
		capTo("C", "SSL 3.0 accepted (POODLE)")
	}
	if !supported(tls.VersionTLS12) && !supported(tls.VersionTLS13) {
		capTo("C", "neither TLS 1.2 nor TLS 1.3 accepted")
	}
	if rc4 > 0 {
		capTo("C", "RC4 cipher suites accepted")
	}
	if des3 > 0 {
		capTo("C", "3DES (64-bit block, SWEET32) cipher suites accepted")
	}
	if supported(tls.VersionTLS10) || supported(tls.VersionTLS11) {
		capTo("B", "TLS 1.0 or 1.1 accepted (T2 allows 1.2 and 1.3 only)")
	}
	if fs == 0 {
		capTo("B", "no forward secrecy: no ECDHE suite and no TLS 1.3")
	}
	if aead == 0 {
		capTo("B", "no AEAD cipher suite (only CBC or stream ciphers)")
	}
	if r.Cert != nil {
		switch {
		case r.Cert.KeyType == "RSA" && r.Cert.KeyBits < 2048:
			capTo("B", fmt.Sprintf("RSA key of %d bits (needs 2048)", r.Cert.KeyBits))
		case r.Cert.KeyType == "ECDSA" && r.Cert.KeyBits < 256:
			capTo("B", fmt.Sprintf("ECDSA key of %d bits (needs 256)", r.Cert.KeyBits))
		}
	}
	if nonFS > 0 {
		capTo("A-", fmt.Sprintf("%d suite(s) without forward secrecy (RSA key exchange, T3)", nonFS))
	}
	if cbc12 > 0 {
		capTo("A-", fmt.Sprintf("%d CBC suite(s) in TLS 1.2 (padding-oracle class, T3)", cbc12))
	}

	// Warnings cost only the +.
	if !supported(tls.VersionTLS13) {
		res.Warnings = append(res.Warnings, "TLS 1.3 not accepted")
	}
	// SSL Labs does not grade on a near expiry; it is a notice here too
	// (a test server's certificate lives a day).
	if r.Cert != nil && r.Cert.TrustError == nil && r.Cert.NotAfter.Sub(now) < 30*24*time.Hour {
		res.Notices = append(res.Notices, fmt.Sprintf("certificate expires in less than 30 days (%s)", r.Cert.NotAfter.UTC().Format(time.RFC3339)))
	}
	switch {
	case r.HSTS == nil:
		res.Warnings = append(res.Warnings, "no HTTP answer, HSTS unknown")
	case !r.HSTS.Present:
		res.Warnings = append(res.Warnings, "no Strict-Transport-Security header")
	case r.HSTS.MaxAge < MinHSTSAge:
		res.Warnings = append(res.Warnings, fmt.Sprintf("HSTS max-age %d is below 180 days (%d)", r.HSTS.MaxAge, MinHSTSAge))
	}
	if res.Grade == "A" {
		if len(res.Warnings) == 0 {
			res.Grade = "A+"
		} else {
			res.Reasons = append(res.Reasons, fmt.Sprintf("not A+: %d warning(s)", len(res.Warnings)))
		}
	}

	res.TrustIgnored = res.Grade
	switch {
	case r.Cert == nil:
		res.Grade = "T"
		res.Reasons = append(res.Reasons, "T: no certificate seen")
	case r.Cert.TrustError != nil:
		res.Grade = "T"
		res.Reasons = append(res.Reasons, "T: certificate not trusted: "+r.Cert.TrustError.Error())
	}
	return res
}

func letter(score int) string {
	switch {
	case score >= 80:
		return "A"
	case score >= 65:
		return "B"
	case score >= 50:
		return "C"
	case score >= 35:
		return "D"
	case score >= 20:
		return "E"
	}
	return "F"
}

func protocolScore(v uint16) int {
	switch v {
	case VersionSSL30:
		return 80
	case tls.VersionTLS10:
		return 90
	case tls.VersionTLS11:
		return 95
	}
	return 100
}

// rsaEquivalent is a key's strength in RSA-modulus bits (NIST SP 800-57).
func rsaEquivalent(keyType string, bits int) int {
	switch keyType {
	case "RSA":
		return bits
	case "ECDSA", "Ed25519":
		switch {
		case bits >= 512:
			return 15360
		case bits >= 384:
			return 7680
		case bits >= 256:
			return 3072
		case bits >= 224:
			return 2048
		}
		return 1024
	}
	return 0
}

// groupStrength is a key exchange group's strength in RSA-modulus bits; a
// hybrid counts as its classical half (its ML-KEM half only adds).
func groupStrength(id tls.CurveID) int {
	switch id {
	case tls.CurveP384, tls.SecP384r1MLKEM1024:
		return 7680
	case tls.CurveP521:
		return 15360
	}
	return 3072 // X25519, P-256 and their hybrids
}

func kexScore(bits int) int {
	switch {
	case bits == 0:
		return 0
	case bits < 512:
		return 20
	case bits < 1024:
		return 40
	case bits < 2048:
		return 80
	case bits < 4096:
		return 90
	}
	return 100
}

func cipherScore(bits int) int {
	switch {
	case bits <= 0:
		return 0
	case bits < 128:
		return 20
	case bits < 256:
		return 80
	}
	return 100
}

type props struct {
	fs, aead, rc4, des3 bool
	bits                int
}

// suiteProps reads a suite's properties from its IANA name, which encodes
// them: key exchange before WITH, cipher and mode after.
func suiteProps(s Suite) props {
	n := tls.CipherSuiteName(s.ID)
	if s.Name != "" {
		n = s.Name
	}
	var p props
	kex, cipher, ok := strings.Cut(n, "_WITH_")
	if !ok { // TLS 1.3: TLS_AES_128_GCM_SHA256, always (EC)DHE and AEAD
		p.fs, cipher = true, n
	} else {
		p.fs = strings.Contains(kex, "DHE")
	}
	p.aead = strings.Contains(cipher, "GCM") || strings.Contains(cipher, "CHACHA20") || strings.Contains(cipher, "CCM")
	switch {
	case strings.Contains(cipher, "NULL") || strings.Contains(kex, "anon") || strings.Contains(kex, "EXPORT"):
		p.bits = 0
	case strings.Contains(cipher, "3DES"):
		p.des3, p.bits = true, 112
	case strings.Contains(cipher, "RC4"):
		p.rc4, p.bits = true, 128
	case strings.Contains(cipher, "AES_256") || strings.Contains(cipher, "CHACHA20"):
		p.bits = 256
	case strings.Contains(cipher, "AES_128"):
		p.bits = 128
	default:
		p.bits = 56 // DES and other legacy ciphers
	}
	return p
}

// VersionName is "TLS 1.2" and the like.
func VersionName(v uint16) string {
	if v == VersionSSL30 {
		return "SSL 3.0"
	}
	return tls.VersionName(v)
}

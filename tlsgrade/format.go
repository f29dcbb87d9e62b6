package tlsgrade

import (
	"crypto/tls"
	"fmt"
	"io"
	"strings"
	"time"
)

// Write prints the report and its grade for people; the last line is
// exactly "grade: X".
func Write(w io.Writer, r *Report, res *Result, now time.Time) {
	fmt.Fprintf(w, "target: %s (name %s)\n", r.Target, r.ServerName)

	var protos []string
	for _, v := range []uint16{tls.VersionTLS13, tls.VersionTLS12, tls.VersionTLS11, tls.VersionTLS10, VersionSSL30} {
		state := "no"
		if r.Protocols[v] {
			state = "yes"
		}
		protos = append(protos, VersionName(v)+" "+state)
	}
	fmt.Fprintf(w, "protocols: %s\n", strings.Join(protos, ", "))

	fmt.Fprintln(w, "cipher suites:")
	for _, s := range r.Suites {
		p := suiteProps(s)
		var tags []string
		if p.fs {
			tags = append(tags, "FS")
		} else {
			tags = append(tags, "no-FS")
		}
		if p.aead {
			tags = append(tags, "AEAD")
		} else {
			tags = append(tags, "CBC/stream")
		}
		tags = append(tags, fmt.Sprintf("%d bits", p.bits))
		fmt.Fprintf(w, "  %-8s %-48s %s\n", VersionName(s.Version), s.Name, strings.Join(tags, ", "))
	}

	var groups []string
	for _, g := range r.Groups {
		var vs []string
		for _, v := range g.Versions {
			vs = append(vs, strings.TrimPrefix(VersionName(v), "TLS "))
		}
		groups = append(groups, fmt.Sprintf("%s (%s)", g.ID, strings.Join(vs, ", ")))
	}
	if len(groups) == 0 {
		groups = []string{"none"}
	}
	fmt.Fprintf(w, "key exchange groups: %s\n", strings.Join(groups, ", "))

	if c := r.Cert; c != nil {
		fmt.Fprintf(w, "certificate: %s, issuer %s\n", c.Subject, c.Issuer)
		fmt.Fprintf(w, "  key %s %d bits, signature %s, chain of %d\n", c.KeyType, c.KeyBits, c.SignatureAlgorithm, c.ChainLen)
		fmt.Fprintf(w, "  valid %s to %s (%d days left)\n", c.NotBefore.UTC().Format(time.DateOnly),
			c.NotAfter.UTC().Format(time.DateOnly), int(c.NotAfter.Sub(now).Hours()/24))
		fmt.Fprintf(w, "  names: %s\n", strings.Join(append(append([]string{}, c.DNSNames...), c.IPAddresses...), ", "))
		switch {
		case c.TrustError != nil:
			fmt.Fprintf(w, "  trusted: NO: %v\n", c.TrustError)
		case c.SelfSigned:
			fmt.Fprintln(w, "  trusted: yes (self-signed, pinned as a root)")
		default:
			fmt.Fprintln(w, "  trusted: yes")
		}
	} else {
		fmt.Fprintln(w, "certificate: none seen")
	}

	switch h := r.HSTS; {
	case h == nil:
		fmt.Fprintln(w, "HSTS: unknown (no HTTP answer)")
	case !h.Present:
		fmt.Fprintf(w, "HSTS: absent (HTTP %d)\n", h.Status)
	default:
		fmt.Fprintf(w, "HSTS: max-age=%d (%d days)%s%s\n", h.MaxAge, h.MaxAge/86400,
			map[bool]string{true: ", includeSubDomains"}[h.IncludeSubDomains], map[bool]string{true: ", preload"}[h.Preload])
	}

	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	fmt.Fprintf(w, "score: %d (protocol %d, key exchange %d, cipher %d)\n", res.Score, res.ProtocolScore, res.KeyExchangeScore, res.CipherScore)
	for _, why := range res.Reasons {
		fmt.Fprintf(w, "reason: %s\n", why)
	}
	for _, warn := range res.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	for _, n := range res.Notices {
		fmt.Fprintf(w, "notice: %s\n", n)
	}
	if res.Grade == "T" {
		fmt.Fprintf(w, "grade if the certificate were trusted: %s\n", res.TrustIgnored)
	}
	fmt.Fprintf(w, "grade: %s\n", res.Grade)
}

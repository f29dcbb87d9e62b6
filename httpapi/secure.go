package httpapi

// Security headers on every response (I4, T4) and the only thing the optional
// plain-HTTP listener may do: redirect to HTTPS (T1).

import (
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// secureHeaderValues are set on every response, errors and 404s included,
// before the wrapped handler runs (which may still override one on purpose).
//
//   - HSTS for two years with subdomains: what SSL Labs/testssl.sh want for
//     A+ (T4). Not "preload": joining the preload list is the operator's call.
//   - CSP without 'unsafe-inline' or 'unsafe-eval' (I4): the web client ships
//     only same-origin script and style files. data: images for avatars and
//     icons; connect-src 'self' covers same-origin wss: in current browsers.
//     frame-ancestors 'none' (clickjacking), base-uri 'none', object-src
//     'none' close the usual CSP bypasses.
//   - nosniff, no-referrer, DENY framing (for browsers without CSP level 2),
//     a Permissions-Policy that turns off powerful features the client never
//     uses, and COOP/CORP same-origin to keep other origins from getting a
//     window handle or embedding our responses (Spectre-class leaks).
var secureHeaderValues = [][2]string{
	{"Strict-Transport-Security", "max-age=63072000; includeSubDomains"},
	{"Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"},
	{"X-Content-Type-Options", "nosniff"},
	{"Referrer-Policy", "no-referrer"},
	{"X-Frame-Options", "DENY"},
	{"Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()"},
	{"Cross-Origin-Opener-Policy", "same-origin"},
	{"Cross-Origin-Resource-Policy", "same-origin"},
}

// SecureHeaders sets the security headers of I4 on every response that
// passes through next, and "Cache-Control: no-store" under /api/ so that
// tokens, messages and personal data are never kept by browsers or proxies.
//
// Responses that net/http writes before any handler runs (400 for a
// malformed request line, 431 for oversized headers) cannot carry them;
// they have no content worth protecting.
func SecureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for _, kv := range secureHeaderValues {
			h.Set(kv[0], kv[1])
		}
		if p := r.URL.Path; p == "/api" || strings.HasPrefix(p, "/api/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// secureRedirectBody is the whole body of a redirect: nothing from the
// request is echoed back (no reflected content on plain HTTP).
const secureRedirectBody = "Use HTTPS.\n"

// RedirectToHTTPS answers every request on the optional plain-HTTP listener
// with 308 Permanent Redirect to the same host, path and query over HTTPS
// (T1). It serves nothing else: no API, no files, no health checks.
//
// httpsPort is the port clients use for HTTPS ("" or "443" for the default,
// which is then left out of the URL). It must come from validated
// configuration; anything but a port number panics at construction.
//
// The Host header is attacker-controlled (I3): only hostnames (letters,
// digits, '-', '.') and IP literals are accepted, anything else gets 400, so
// nothing can be smuggled into the Location header or after the authority.
// The port a client sent is dropped. 308 keeps the method and body, but the
// request has already crossed the network in clear by then; HSTS
// (SecureHeaders) keeps browsers from making that mistake twice.
func RedirectToHTTPS(httpsPort string) http.Handler {
	portSuffix := ""
	if httpsPort != "" && httpsPort != "443" {
		n, err := strconv.Atoi(httpsPort)
		if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != httpsPort {
			panic("httpapi: RedirectToHTTPS: invalid HTTPS port " + strconv.Quote(httpsPort))
		}
		portSuffix = ":" + httpsPort
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Connection", "close")
		host, ok := secureRedirectHost(r.Host)
		if !ok {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte("Bad Host header.\n"))
			return
		}
		path := r.URL.EscapedPath()
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		target := "https://" + host + portSuffix + path
		if q := secureRedirectQuery(r.URL.RawQuery); q != "" {
			target += "?" + q
		}
		h.Set("Location", target)
		w.WriteHeader(http.StatusPermanentRedirect)
		_, _ = w.Write([]byte(secureRedirectBody))
	})
}

// secureRedirectHost validates a Host header value and returns the host part
// ready for a URL (IPv6 in brackets, names lower-cased), without the port.
func secureRedirectHost(hostport string) (string, bool) {
	if hostport == "" || len(hostport) > 260 {
		return "", false
	}
	host := hostport
	if strings.HasPrefix(hostport, "[") || strings.Count(hostport, ":") == 1 {
		h, port, err := net.SplitHostPort(hostport)
		switch {
		case err == nil:
			if !secureIsPort(port) {
				return "", false
			}
			host = h
		case strings.HasPrefix(hostport, "[") && strings.HasSuffix(hostport, "]"):
			host = hostport[1 : len(hostport)-1]
		default:
			return "", false
		}
		if strings.HasPrefix(hostport, "[") {
			// Only IPv6 literals go in brackets.
			a, err := netip.ParseAddr(host)
			if err != nil || !a.Is6() || a.Zone() != "" {
				return "", false
			}
			return "[" + a.String() + "]", true
		}
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if !a.Is4() { // bare IPv6 without brackets is not a valid Host
			return "", false
		}
		return a.String(), true
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "" || len(host) > 253 {
		return "", false
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return "", false
			}
		}
	}
	return host, true
}

func secureIsPort(p string) bool {
	if p == "" || len(p) > 5 {
		return p == "" // "host:" is allowed by RFC 3986 (empty port)
	}
	n, err := strconv.Atoi(p)
	return err == nil && n >= 0 && n <= 65535 && strings.Trim(p, "0123456789") == ""
}

// secureRedirectQuery percent-encodes any byte of a raw query that is not a
// printable, URL-safe ASCII character, so the Location header carries only
// what a URL may carry (net/http already refuses control characters in the
// request line; this also covers spaces and non-ASCII bytes).
func secureRedirectQuery(q string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		c := q[i]
		if c > 0x20 && c < 0x7f && c != '"' && c != '<' && c != '>' && c != '\\' && c != '^' && c != '`' && c != '{' && c != '|' && c != '}' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

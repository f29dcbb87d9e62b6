package httpapi

// The management plane (I6). With a management listener configured, the
// route table is split in two by the permission each route names
// (authz.Administrative): the user listener serves everything else and
// answers an administrative operation exactly as an unknown path (404
// not_found), auditing the attempt; the management listener serves only the
// administrative operations plus /healthz and /readyz, to peers inside its
// allow-list (checked on the TCP peer address, never X-Forwarded-For) and,
// optionally, only to clients with a certificate from the configured CA.
//
// The peer check happens twice: the listener closes a connection from
// outside the allow-list before the TLS handshake (no certificate, no
// parser, nothing for the peer to probe), and the handler refuses such a
// peer again with 403, in case the handler is ever served on another
// listener.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
)

// ManagementConfig moves administrative operations to a separate listener.
type ManagementConfig struct {
	// Allow lists the networks whose TCP peers may connect. Empty admits
	// nobody (deny by default); the caller supplies any default.
	Allow []netip.Prefix
	// ClientCAs, when set, makes the listener demand a client certificate
	// that chains to one of them (mutual TLS).
	ClientCAs *x509.CertPool
	// Now is the clock of the audit throttle; parley.SystemClock if nil.
	Now parley.Clock
}

// plane is which listener a mux serves.
type plane int

const (
	planeAll        plane = iota // no management listener: one listener serves everything
	planeUser                    // the user listener beside a management listener
	planeManagement              // the management listener
)

// onPlane reports whether pl serves rt.
func onPlane(pl plane, rt *route) bool {
	switch pl {
	case planeUser:
		return !authz.Administrative(rt.Perm)
	case planeManagement:
		return authz.Administrative(rt.Perm) || rt.Path == "/healthz" || rt.Path == "/readyz" || rt.Path == openapiPath
	}
	return true
}

// Reasons recorded with api.denied (L1).
const (
	reasonManagementPlane = "management plane"
	reasonPeerNotAllowed  = "management plane: source address not allowed"
	reasonNoClientCert    = "management plane: no verified client certificate"
)

// Audit throttle: one record per source network and window, at most
// throttleKeys sources remembered. Anonymous peers could otherwise write
// to the audit trail as fast as they can send (L3 keeps every record).
const (
	throttleWindow = time.Minute
	throttleKeys   = 4096
)

// errNoEndpoint is the answer for a path or operation this listener does
// not serve.
func errNoEndpoint() error { return parley.Errorf(parley.CodeNotFound, "no such endpoint") }

// offPlane answers an operation that lives on the other listener exactly
// as an unknown path. On the user listener the attempt is audited: a
// session trying administrative operations from the user network is worth
// knowing about. Anonymous attempts are throttled per source.
func (a *API) offPlane(pl plane, rt *route, w http.ResponseWriter, r *http.Request) {
	if pl == planeUser && a.svc.Auditor != nil {
		meta := parley.RequestMeta{SourceIP: a.clientIP(r), UserAgent: cleanHeader(r.UserAgent())}
		rec := parley.AuditRecord{Action: "api.denied", Target: rt.Method + " " + rt.Path, SourceIP: meta.SourceIP,
			Result: parley.ResultDenied, Reason: reasonManagementPlane}
		var actor *parley.Actor
		if token, ok := bearer(r); ok && a.svc.Auth != nil {
			// Not a user action: a refused request does not keep a
			// session alive (A5).
			actor, _ = a.svc.Auth.Authenticate(r.Context(), token, meta, false)
		}
		if actor != nil {
			rec.ActorID, rec.ActorName = actor.UserID, actor.Username
		}
		if actor != nil || a.throttle.allow(meta.SourceIP) {
			_ = a.svc.Auditor.Record(r.Context(), rec)
		}
	}
	a.writeError(w, r, errNoEndpoint())
}

// ManagementHandler returns the handler of the management listener, security
// headers included; nil when no management listener is configured.
func (a *API) ManagementHandler() http.Handler {
	if a.mgmtMux == nil {
		return nil
	}
	return SecureHeaders(a.guardManagement(a.cleanPaths(a.mgmtMux)))
}

// guardManagement refuses a request whose TCP peer is outside the
// allow-list, or that came without a verified client certificate when one
// is required: 403 and an audit record.
func (a *API) guardManagement(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer := peerAddr(r.RemoteAddr)
		reason := ""
		switch {
		case !a.peerAllowed(peer):
			reason = reasonPeerNotAllowed
		case a.cfg.Management.ClientCAs != nil && (r.TLS == nil || len(r.TLS.VerifiedChains) == 0):
			reason = reasonNoClientCert
		}
		if reason == "" {
			next.ServeHTTP(w, r)
			return
		}
		a.record(r.Context(), a.refusal(r.Context(), peer, r.Method+" "+r.URL.Path, reason))
		a.writeError(w, r, parley.Errorf(parley.CodeForbidden, "%s", reason))
	})
}

// peerAddr parses the address part of a RemoteAddr; the zero Addr (which
// no prefix contains) if it is not an IP.
func peerAddr(remote string) netip.Addr {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

func (a *API) peerAllowed(ip netip.Addr) bool {
	for _, p := range a.cfg.Management.Allow {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// refusal logs a refused management peer and returns the audit record to
// write, or nil when the throttle holds it back.
func (a *API) refusal(ctx context.Context, peer netip.Addr, target, reason string) *parley.AuditRecord {
	src := ""
	if peer.IsValid() {
		src = peer.String()
	}
	if !a.throttle.allow(src) {
		a.log.DebugContext(ctx, "management listener refused a peer (audit throttled)", "peer", src, "reason", reason)
		return nil
	}
	a.log.WarnContext(ctx, "management listener refused a peer", "peer", src, "reason", reason)
	return &parley.AuditRecord{Action: "api.denied", Target: target, SourceIP: src, Result: parley.ResultDenied, Reason: reason}
}

func (a *API) record(ctx context.Context, rec *parley.AuditRecord) {
	if rec != nil && a.svc.Auditor != nil {
		_ = a.svc.Auditor.Record(ctx, *rec)
	}
}

// ManagementTLSConfig returns the TLS configuration of the management
// listener: the policy of TLSConfig unchanged (T2, T3) plus, when client
// CAs are configured, a client certificate that chains to one of them.
func (a *API) ManagementTLSConfig(certs ...tls.Certificate) *tls.Config {
	cfg := TLSConfig(certs...)
	if m := a.cfg.Management; m != nil && m.ClientCAs != nil {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
		cfg.ClientCAs = m.ClientCAs
	}
	return cfg
}

// ManagementListener wraps ln, the management listener's TCP listener
// (before TLS), so that a connection from outside the allow-list is closed
// at once and audited. Serve the result with ServeTLS.
func (a *API) ManagementListener(ln net.Listener) net.Listener {
	return &mgmtListener{Listener: ln, api: a}
}

type mgmtListener struct {
	net.Listener
	api *API

	mu      sync.Mutex
	closed  bool
	pending sync.WaitGroup // audit records being written
}

// Accept returns the next connection from an allowed peer. A refused one
// is closed before any byte is read, and audited in the background, so that
// a slow database cannot stall the listener.
func (l *mgmtListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		peer := netip.Addr{}
		if tcp, ok := c.RemoteAddr().(*net.TCPAddr); ok {
			peer = tcp.AddrPort().Addr().Unmap()
		}
		if l.api.peerAllowed(peer) {
			return c, nil
		}
		_ = c.Close()
		rec := l.api.refusal(context.Background(), peer, "management listener "+l.Addr().String(), reasonPeerNotAllowed)
		if rec == nil {
			continue
		}
		l.mu.Lock()
		if !l.closed {
			l.pending.Add(1)
			go func() {
				defer l.pending.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				l.api.record(ctx, rec)
			}()
		}
		l.mu.Unlock()
	}
}

// Close stops accepting and waits for the audit records of refused peers,
// so that shutdown does not close the database under them.
func (l *mgmtListener) Close() error {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	err := l.Listener.Close()
	l.pending.Wait()
	return err
}

// NewManagementServer returns the HTTPS server of the management listener:
// the limits of NewHTTPServer, but failed TLS handshakes are logged at warn
// level, not debug. Only allowed peers get as far as a handshake there, so
// a failure (a missing or foreign client certificate) is worth seeing.
func NewManagementServer(addr string, h http.Handler, tlsCfg *tls.Config, l *slog.Logger) *http.Server {
	srv := NewHTTPServer(addr, h, tlsCfg, l)
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	srv.ErrorLog = log.New(&serverLogWriter{log: l.With("listener", "management"), keepNoise: true}, "", 0)
	return srv
}

// auditThrottle lets one record per source network through per window.
// IPv6 sources count per /64, which one client usually holds whole.
type auditThrottle struct {
	now  parley.Clock
	mu   sync.Mutex
	last map[string]time.Time
}

func newAuditThrottle(now parley.Clock) *auditThrottle {
	if now == nil {
		now = parley.SystemClock
	}
	return &auditThrottle{now: now, last: map[string]time.Time{}}
}

func (t *auditThrottle) allow(src string) bool {
	key := src
	if ip, err := netip.ParseAddr(src); err == nil && ip.Is6() && !ip.Is4In6() {
		key = netip.PrefixFrom(ip, 64).Masked().String()
	}
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if at, ok := t.last[key]; ok && now.Sub(at) < throttleWindow && !now.Before(at) {
		return false
	}
	if len(t.last) >= throttleKeys {
		for k, at := range t.last {
			if now.Sub(at) >= throttleWindow {
				delete(t.last, k)
			}
		}
		if len(t.last) >= throttleKeys {
			return false // a flood from many sources: the log still shows it
		}
	}
	t.last[key] = now
	return true
}

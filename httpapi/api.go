// Package httpapi is Parley's REST and WebSocket transport: one route table
// in which every operation names its permission (Z1, deny by default), one
// error→status table, strict decoding of every body and frame (I2), the
// secure-by-default HTTP server (TLS policy T2/T3, security headers I4,
// slowloris timeouts) and the WebSocket hub that fans one pre-encoded frame
// out to every connection of every member (M2).
//
// It sees the services only through the interfaces of package parley.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"path"
	"sync"
	"time"

	"github.com/parleyhq/parley"
)

// Services are the operations the API exposes.
type Services struct {
	Auth      parley.AuthService
	Chat      parley.ChatService
	Directory parley.DirectoryService
	Audit     parley.AuditService
	Auditor   parley.Auditor // records transport-level denials
	Passwords parley.PasswordService
	WebAuthn  parley.WebAuthnService
	OTP       parley.OTPService
	MFAPolicy parley.MFAPolicyService
	Access    parley.AccessService
	Isolation parley.IsolationPolicyService // department isolation (Z7)
	// Supervision is supervised access (Z3, D3).
	Supervision parley.SupervisionService
	// Lifecycle is offboarding, reactivation, end dates and service
	// tokens (Z8, Z11).
	Lifecycle parley.LifecycleService
	// Ready reports whether the database and broker answer (/readyz).
	Ready func(ctx context.Context) error
}

// Config holds transport settings.
type Config struct {
	// TrustedProxies may set X-Forwarded-For; from anyone else it is
	// ignored, so a client cannot pick its own rate-limit bucket.
	TrustedProxies []netip.Prefix
	// PublicOrigin, e.g. "https://chat.example.com", is accepted as a
	// WebSocket Origin besides the request's own host.
	PublicOrigin string
	// WSRevalidate is how often an open WebSocket re-checks its session
	// (expiry, idle timeout) and pings the peer.
	WSRevalidate time.Duration
	// WSQueue bounds a connection's outgoing frames: a consumer that falls
	// this far behind is disconnected, never waited on.
	WSQueue int
	// WSFrameRate and WSFrameBurst bound incoming frames; a flood closes
	// the connection with 1008.
	WSFrameRate  float64
	WSFrameBurst int
	// Management, when set, moves administrative operations to a separate
	// management listener (I6, mgmt.go): the user listener then answers
	// them as unknown paths. nil serves everything on one listener.
	Management *ManagementConfig
}

// DefaultConfig returns production defaults.
func DefaultConfig() Config {
	return Config{WSRevalidate: 30 * time.Second, WSQueue: 1024, WSFrameRate: 100, WSFrameBurst: 200}
}

// API is the HTTP handler of the user listener and, if configured, of the
// management listener.
type API struct {
	svc     Services
	cfg     Config
	log     *slog.Logger
	hub     *hub
	routes  []*route
	mux     *http.ServeMux // the user listener's
	mgmtMux *http.ServeMux // the management listener's; nil without one
	// throttle bounds anonymous audit records of refused management-plane
	// attempts (mgmt.go).
	throttle *auditThrottle

	// openapiJSON is the served document per plane, built once each: a
	// listener describes only the operations it serves (I6).
	openapiOnce [3]sync.Once
	openapiJSON [3][]byte
}

// New builds the API. Call Subscribe to connect the hub to the broker.
func New(svc Services, cfg Config, log *slog.Logger) *API {
	a := &API{svc: svc, cfg: cfg, log: log, hub: newHub()}
	a.routes = a.routeTable()
	if m := cfg.Management; m != nil {
		a.throttle = newAuditThrottle(m.Now)
		a.mux = a.buildMux(planeUser)
		a.mgmtMux = a.buildMux(planeManagement)
	} else {
		a.throttle = newAuditThrottle(nil)
		a.mux = a.buildMux(planeAll)
	}
	return a
}

// Handler returns the user listener's handler, security headers included.
// Without a management listener it serves every operation.
func (a *API) Handler() http.Handler { return SecureHeaders(a.cleanPaths(a.mux)) }

// cleanPaths answers a path that is not in clean form ("/./", "/../", "//")
// with the API's JSON not_found: net/http's ServeMux would otherwise answer
// it with a 307 redirect and an HTML body, outside the error contract, and
// a client following it would reach another object than the one it named.
func (a *API) cleanPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p != "" && r.Method != http.MethodConnect && path.Clean(p) != p && path.Clean(p)+"/" != p {
			a.writeError(w, r, parley.Errorf(parley.CodeNotFound, "no such endpoint"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Deliver hands a broker event to the local WebSocket connections; pass it
// to Broker.Subscribe.
func (a *API) Deliver(ev parley.Event) { a.hub.deliver(ev) }

// EndSessions closes the WebSockets of ended sessions at once (logout,
// revocation, session rotation; A5).
func (a *API) EndSessions(ids []string) { a.hub.closeSessions(ids, "session ended") }

// CloseAll closes every WebSocket with "going away" (shutdown).
func (a *API) CloseAll() { a.hub.closeAll() }

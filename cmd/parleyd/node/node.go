// Package node assembles one Parley server node from its parts. It is the
// only package that knows every other one: `parleyd serve` calls it after
// preparing the data directory, and end-to-end tests start it in-process
// (parleytest), so what the tests run is exactly what production runs.
package node

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/parleyhq/parley/access"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/audit"
	"github.com/parleyhq/parley/auth"
	"github.com/parleyhq/parley/chat"
	"github.com/parleyhq/parley/crypt"
	"github.com/parleyhq/parley/directory"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/inmem"
	"github.com/parleyhq/parley/kms/keyring"
	"github.com/parleyhq/parley/lifecycle"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/sqldb"
	"github.com/parleyhq/parley/supervision"
)

// Options are a node's process settings, already resolved by the caller.
type Options struct {
	DSN            string // database
	KeyringFile    string // KEKs (D2); created 0600 if absent
	SetupTokenFile string // written 0600 when a setup token is made (A4)
	Certificate    tls.Certificate
	Listen         string // host:port; port 0 picks a free one
	TrustedProxies []netip.Prefix
	PublicOrigin   string
	Log            *slog.Logger
	Clock          parley.Clock // parley.SystemClock if nil
	// Argon2 overrides the password-hashing cost (tests only; production
	// uses crypt.DefaultArgon2Params).
	Argon2 *crypt.Argon2Params
	// Stderr receives the one-time setup token at first start.
	Stderr io.Writer
	// Auth and Chat override service settings (tests shorten timeouts).
	Auth *auth.Config
	Chat *chat.Config
	HTTP *httpapi.Config
	// WebAuthnRPID and WebAuthnOrigins configure passkeys (A1): the host
	// name credentials are bound to and the https origins browsers may
	// report. Empty: RP ID "localhost" and origin https://<RP ID>:<the
	// port this node listens on>.
	WebAuthnRPID    string
	WebAuthnOrigins []string
	// Notify delivers one-time codes by e-mail or SMS (A1): notify.SMTP,
	// or a notify.FileSink in development. nil means no provider: codes
	// are not offered and nothing is sent anywhere (P3).
	Notify notify.Sender
	// Management, when set, starts the management listener (I6):
	// administrative operations are served there only.
	Management *Management
}

// Management configures the management listener (I6).
type Management struct {
	Listen string // host:port; port 0 picks a free one
	// Allow lists the networks whose TCP peers may connect; empty admits
	// nobody (parleyd's configuration defaults to loopback).
	Allow []netip.Prefix
	// ClientCAs, when set, requires a client certificate issued by one
	// of them (mutual TLS).
	ClientCAs *x509.CertPool
}

// Node is a running server.
type Node struct {
	Store *sqldb.DB
	Auth  *auth.Service
	Chat  *chat.Service
	API   *httpapi.API
	// Lifecycle is offboarding and account hygiene (Z8, Z11); its sweep
	// runs with the session sweep.
	Lifecycle *lifecycle.Service
	// WebAuthn is the passkey service, with the RP ID and origins in use.
	WebAuthn *auth.WebAuthn
	// OTP is one-time codes and push approval.
	OTP *auth.OTP

	log      *slog.Logger
	srv      *http.Server
	ln       net.Listener
	mgmtSrv  *http.Server // nil without a management listener
	mgmtLn   net.Listener
	unsub    func()
	stop     context.CancelFunc
	bg       sync.WaitGroup
	serveErr chan error
	closed   sync.Once
}

// Start builds the node, migrates the database, makes a setup token if the
// deployment has no users, and starts serving HTTPS.
func Start(ctx context.Context, o Options) (n *Node, err error) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := o.Clock
	if now == nil {
		now = parley.SystemClock
	}
	kr, created, err := keyring.OpenOrCreate(o.KeyringFile)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	if created {
		log.Info("created keyring", "path", o.KeyringFile)
	}
	db, err := sqldb.Open(ctx, o.DSN, log)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = db.Close()
		}
	}()
	rec := audit.NewRecorder(db, now, log)
	params := crypt.DefaultArgon2Params
	if o.Argon2 != nil {
		params = *o.Argon2
	}
	hasher := crypt.NewPasswordHasher(params, 0)
	broker := inmem.NewBroker()

	// Listen before the services are built: the default passkey origin
	// names the port, which is known only now when Listen asks for port 0.
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = ln.Close()
		}
	}()
	var mgmtLn net.Listener
	if o.Management != nil {
		if mgmtLn, err = net.Listen("tcp", o.Management.Listen); err != nil {
			return nil, fmt.Errorf("management listener: %w", err)
		}
		defer func() {
			if err != nil {
				_ = mgmtLn.Close()
			}
		}()
	}

	acfg := auth.DefaultConfig()
	if o.Auth != nil {
		acfg = *o.Auth
	}
	webauthnRP(&acfg, o, ln.Addr())
	tokenFile := o.SetupTokenFile
	acfg.AfterSetup = func() {
		if tokenFile != "" {
			if err := os.Remove(tokenFile); err != nil && !errors.Is(err, os.ErrNotExist) {
				log.Warn("could not remove used setup token file", "err", err)
			}
		}
	}
	authSvc := auth.New(db, kr, hasher, rec, now, log, acfg)
	otpSvc := auth.NewOTP(authSvc, o.Notify, broker) // e-mail/SMS codes, push approval (A1)
	webauthnSvc, err := auth.NewWebAuthn(authSvc)
	if err != nil {
		return nil, err
	}
	ccfg := chat.DefaultConfig()
	if o.Chat != nil {
		ccfg = *o.Chat
	}
	dirSvc := directory.New(db, rec, now)
	accessSvc := access.New(db, rec, authSvc, now, log)
	ccfg.Isolation = dirSvc // department isolation on create and send (Z7)
	chatSvc := chat.New(db, crypt.NewEnvelope(kr, db), broker, rec, now, log, ccfg)
	lifeSvc := lifecycle.New(db, rec, now, log, lifecycle.Deps{ // offboarding, account hygiene (Z8, Z11)
		EndUserSessions: authSvc.EndUserSessions, PasswordHash: authSvc.AdminPasswordHash, ConversationChanged: chatSvc.Invalidate, MemberRemoved: chatSvc.MemberRemoved,
		EndSessions: func(ids []string) { authSvc.SessionEnded(ids) }, // revoked tokens' WebSockets close like sessions'
	})
	accessSvc.SetHolderCheck(lifeSvc.CheckHolder) // Z11: no administrator role for a service account
	hcfg := httpapi.DefaultConfig()
	if o.HTTP != nil {
		hcfg = *o.HTTP
	}
	hcfg.TrustedProxies, hcfg.PublicOrigin = o.TrustedProxies, o.PublicOrigin
	hcfg.Management = nil // only o.Management starts a listener to serve it
	if m := o.Management; m != nil {
		hcfg.Management = &httpapi.ManagementConfig{Allow: m.Allow, ClientCAs: m.ClientCAs, Now: now}
	}
	api := httpapi.New(httpapi.Services{
		Auth: authSvc, MFAPolicy: authSvc, Passwords: authSvc, WebAuthn: webauthnSvc, OTP: otpSvc, Chat: chatSvc, Directory: dirSvc, Isolation: dirSvc, Access: accessSvc, Audit: rec, Auditor: rec,
		Lifecycle:   lifeSvc,
		Supervision: supervision.New(db, chatSvc, rec, now, log), // Z3: the only holder of chat's supervised access
		Ready: func(ctx context.Context) error {
			if err := db.Ping(ctx); err != nil {
				return err
			}
			return broker.Ping(ctx)
		},
	}, hcfg, log)
	authSvc.SessionEnded = api.EndSessions

	if err := announceSetupToken(ctx, authSvc, db, o, log); err != nil {
		chatSvc.Close()
		return nil, err
	}

	n = &Node{Store: db, Auth: authSvc, OTP: otpSvc, Chat: chatSvc, Lifecycle: lifeSvc, API: api, WebAuthn: webauthnSvc, log: log, ln: ln, serveErr: make(chan error, 2)}
	n.unsub = broker.Subscribe(api.Deliver)
	n.srv = httpapi.NewHTTPServer(o.Listen, api.Handler(), httpapi.TLSConfig(o.Certificate), log)
	go func() { n.serveErr <- n.srv.ServeTLS(ln, "", "") }()
	if mgmtLn != nil {
		// The peer check wraps the TCP listener, so a refused peer is cut
		// off before the TLS handshake.
		n.mgmtLn = mgmtLn
		n.mgmtSrv = httpapi.NewManagementServer(o.Management.Listen, api.ManagementHandler(), api.ManagementTLSConfig(o.Certificate), log)
		go func() { n.serveErr <- n.mgmtSrv.ServeTLS(api.ManagementListener(mgmtLn), "", "") }()
		log.Info("management listener: administrative operations are served here only", "addr", n.ManagementAddr(),
			"allow", o.Management.Allow, "client_certificates", o.Management.ClientCAs != nil)
	}

	bgctx, stop := context.WithCancel(context.Background())
	n.stop = stop
	n.bg.Add(1)
	go n.sweepSessions(bgctx)
	log.Info("listening", "addr", n.Addr())
	return n, nil
}

// webauthnRP fills the passkey settings of cfg (A1): the node's options
// win, then what cfg already holds, then RP ID "localhost" and the origin
// https://<RP ID>:<listening port> (the port left out when it is 443, as
// browsers do).
func webauthnRP(cfg *auth.Config, o Options, addr net.Addr) {
	if o.WebAuthnRPID != "" {
		cfg.WebAuthnRPID = o.WebAuthnRPID
	}
	if len(o.WebAuthnOrigins) > 0 {
		cfg.WebAuthnOrigins = o.WebAuthnOrigins
	}
	if cfg.WebAuthnRPID == "" {
		cfg.WebAuthnRPID = "localhost"
	}
	if len(cfg.WebAuthnOrigins) == 0 {
		origin := "https://" + cfg.WebAuthnRPID
		if _, port, err := net.SplitHostPort(addr.String()); err == nil && port != "443" {
			origin += ":" + port
		}
		cfg.WebAuthnOrigins = []string{origin}
	}
}

// Addr is the address the node listens on.
func (n *Node) Addr() string { return n.ln.Addr().String() }

// ManagementAddr is the address of the management listener, "" without one.
func (n *Node) ManagementAddr() string {
	if n.mgmtLn == nil {
		return ""
	}
	return n.mgmtLn.Addr().String()
}

// Err reports a listener failure of either listener (after Start succeeded).
func (n *Node) Err() <-chan error { return n.serveErr }

// Shutdown stops the node gracefully: WebSockets are closed with "going
// away", in-flight requests finish, every accepted message is committed,
// then the database closes. SIGTERM ends here.
func (n *Node) Shutdown(ctx context.Context) error {
	var err error
	n.closed.Do(func() {
		n.stop()
		n.API.CloseAll()
		err = n.srv.Shutdown(ctx)
		if n.mgmtSrv != nil {
			if merr := n.mgmtSrv.Shutdown(ctx); err == nil {
				err = merr
			}
		}
		n.unsub()
		n.Chat.Close() // flushes the group-commit writer
		n.bg.Wait()
		if cerr := n.Store.Close(); err == nil {
			err = cerr
		}
	})
	return err
}

func (n *Node) sweepSessions(ctx context.Context) {
	defer n.bg.Done()
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if k, err := n.Auth.ExpireSessions(ctx); err != nil {
				n.log.Warn("session sweep failed", "err", err)
			} else if k > 0 {
				n.log.Debug("expired sessions removed", "count", k)
			}
			if err := n.OTP.Sweep(ctx); err != nil {
				n.log.Warn("one-time code sweep failed", "err", err)
			}
			if err := n.Lifecycle.Tick(ctx); err != nil { // hourly: inactivity, end dates (Z11)
				n.log.Warn("account sweep failed", "err", err)
			}
		}
	}
}

// announceSetupToken makes the one-time setup token of an uninitialised
// deployment (A4), writes it 0600 and prints it once.
func announceSetupToken(ctx context.Context, a *auth.Service, db *sqldb.DB, o Options, log *slog.Logger) error {
	token, err := a.EnsureSetupToken(ctx)
	if err != nil {
		return fmt.Errorf("setup token: %w", err)
	}
	if token == "" {
		if n, err := db.CountUsers(ctx); err == nil && n == 0 {
			log.Info("setup pending: use the token in the setup-token file", "path", o.SetupTokenFile)
		}
		return nil
	}
	if o.SetupTokenFile != "" {
		if err := writeSecretFile(o.SetupTokenFile, []byte(token+"\n")); err != nil {
			return fmt.Errorf("write setup token: %w", err)
		}
	}
	if o.Stderr != nil {
		fmt.Fprintf(o.Stderr, "\nParley is not set up yet. One-time setup token (also in %s):\n\n    %s\n\n"+
			"POST it to /api/v1/setup with the first administrator's username, password and display name.\n\n",
			o.SetupTokenFile, token)
	}
	return nil
}

// writeSecretFile writes data to path with mode 0600, replacing any file.
func writeSecretFile(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600) // #nosec G304 -- a file inside the operator's data directory (setup token), not a request path
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/cmd/parleyd/node"
	"github.com/parleyhq/parley/httpapi"
)

// shutdownGrace bounds a graceful stop: in-flight requests get this long,
// then connections are cut. Accepted messages are committed regardless.
const shutdownGrace = 20 * time.Second

// runServe prepares the data directory, starts the node and, on ctx's end
// (SIGTERM), shuts it down cleanly.
func runServe(ctx context.Context, cfg *Config, log *slog.Logger) error {
	dd, err := prepareDataDir(cfg, parley.SystemClock(), log)
	if err != nil {
		return err
	}
	proxies, err := cfg.TrustedProxyPrefixes()
	if err != nil {
		return err
	}
	dsn := cfg.DB
	if dsn == "" {
		dsn = "sqlite:" + dd.DBFile
	}
	// Passkeys are bound to the host name users browse to (A1): the public
	// URL's, when one is set and is a name (WebAuthn refuses IP addresses);
	// otherwise node's default, localhost on the listening port.
	var rpID string
	var rpOrigins []string
	if u, err := url.Parse(cfg.PublicURL); err == nil && cfg.PublicURL != "" && net.ParseIP(u.Hostname()) == nil {
		rpID, rpOrigins = strings.ToLower(u.Hostname()), []string{strings.TrimSuffix(cfg.PublicURL, "/")}
	}
	notifier, err := cfg.Notifier(log) // one-time codes (A1); nil unless configured (P3)
	if err != nil {
		return err
	}
	mgmt, err := managementOptions(cfg)
	if err != nil {
		return err
	}
	n, err := node.Start(ctx, node.Options{
		DSN: dsn, KeyringFile: dd.KeyringFile, SetupTokenFile: dd.SetupTokenFile,
		Certificate: dd.Certificate, Listen: cfg.Listen, TrustedProxies: proxies,
		PublicOrigin: strings.TrimSuffix(cfg.PublicURL, "/"), Log: log, Stderr: os.Stderr,
		WebAuthnRPID: rpID, WebAuthnOrigins: rpOrigins, Notify: notifier, Management: mgmt,
	})
	if err != nil {
		return err
	}

	var redirect *http.Server
	redirectErr := make(chan error, 1)
	if cfg.HTTPRedirectListen != "" {
		// T1: plain HTTP, if enabled at all, only redirects.
		redirect = httpapi.NewRedirectServer(cfg.HTTPRedirectListen, cfg.HTTPSPort(), log)
		go func() { redirectErr <- redirect.ListenAndServe() }()
		log.Info("plain-HTTP redirect listener", "addr", cfg.HTTPRedirectListen)
	}

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-n.Err():
		runErr = err
	case err := <-redirectErr:
		if !errors.Is(err, http.ErrServerClosed) {
			runErr = err
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if redirect != nil {
		_ = redirect.Shutdown(sctx)
	}
	if err := n.Shutdown(sctx); err != nil && runErr == nil && !errors.Is(err, context.DeadlineExceeded) {
		runErr = err
	}
	return runErr
}

// managementOptions returns the management listener's settings (I6), nil
// when admin_listen is not set. node.Shutdown closes it with the user
// listener.
func managementOptions(cfg *Config) (*node.Management, error) {
	if cfg.AdminListen == "" {
		return nil, nil
	}
	allow, err := cfg.AdminAllowPrefixes()
	if err != nil {
		return nil, err
	}
	cas, err := cfg.AdminClientCAPool()
	if err != nil {
		return nil, err
	}
	return &node.Management{Listen: cfg.AdminListen, Allow: allow, ClientCAs: cas}, nil
}

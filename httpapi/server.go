package httpapi

// The http.Server values Parley listens with: HTTPS with the TLS policy of
// tls.go (T1–T4) and, optionally, a plain-HTTP listener that only redirects
// (T1). Both carry the timeouts and limits that keep slow or oversized
// clients (slowloris, header floods) from tying up connections and memory.

import (
	"bytes"
	"context"
	"crypto/tls"
	"log"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Limits of the HTTPS server.
//
// WriteTimeout and ReadTimeout bound one request/response exchange. A
// WebSocket connection (/api/v1/ws) is hijacked from net/http, which clears
// both deadlines on hijack, so they do not cut long-lived WebSocket
// connections short: the WebSocket code must apply its own read limits,
// ping/pong idle timeout and per-write deadlines. Over HTTP/2 the timeouts
// apply per stream.
const (
	serverReadHeaderTimeout = 10 * time.Second
	serverReadTimeout       = 30 * time.Second
	serverWriteTimeout      = 30 * time.Second
	serverIdleTimeout       = 120 * time.Second
	serverMaxHeaderBytes    = 16 << 10
)

// Limits of the redirect server: it reads nothing but a request line and
// headers, so everything is tighter.
const (
	serverRedirectReadTimeout = 5 * time.Second
	serverRedirectIdleTimeout = 30 * time.Second
	serverRedirectHeaderBytes = 8 << 10
)

// NewHTTPServer returns the HTTPS server for h. The handler is wrapped in
// SecureHeaders, so that no route can forget them (I4); wrapping h again
// elsewhere is harmless. tlsCfg is normally TLSConfig(cert); nil is meant
// only for tests that terminate TLS themselves.
//
// Serve it with srv.ListenAndServeTLS("", "") or
// srv.Serve(tls.NewListener(ln, srv.TLSConfig)); both speak HTTP/2 and
// HTTP/1.1 (srv.Protocols says so explicitly). Unencrypted HTTP/2 is off.
//
// Error messages of net/http go to log at warn level, except TLS handshake
// failures, which port scanners and old clients produce all day: those are
// logged at debug so that they neither flood the log nor hide real problems.
// The handler escapes them, so client-chosen bytes in those messages (ALPN
// names, for instance) cannot forge log lines (I3).
func NewHTTPServer(addr string, h http.Handler, tlsCfg *tls.Config, log *slog.Logger) *http.Server {
	var protos http.Protocols
	protos.SetHTTP1(true)
	protos.SetHTTP2(true)
	return &http.Server{
		Addr:              addr,
		Handler:           SecureHeaders(h),
		TLSConfig:         tlsCfg,
		Protocols:         &protos,
		ReadHeaderTimeout: serverReadHeaderTimeout,
		ReadTimeout:       serverReadTimeout,
		WriteTimeout:      serverWriteTimeout,
		IdleTimeout:       serverIdleTimeout,
		MaxHeaderBytes:    serverMaxHeaderBytes,
		ErrorLog:          serverErrorLog(log, "https"),
		// "OPTIONS *" goes to the handler too, so it gets the security
		// headers and the router's answer instead of net/http's blank 200.
		DisableGeneralOptionsHandler: true,
	}
}

// NewRedirectServer returns the optional plain-HTTP server (T1): it answers
// everything with RedirectToHTTPS(httpsPort) and serves nothing else. It
// speaks HTTP/1.1 only (no h2c).
func NewRedirectServer(addr, httpsPort string, log *slog.Logger) *http.Server {
	var protos http.Protocols
	protos.SetHTTP1(true)
	return &http.Server{
		Addr:                         addr,
		Handler:                      RedirectToHTTPS(httpsPort),
		Protocols:                    &protos,
		ReadHeaderTimeout:            serverRedirectReadTimeout,
		ReadTimeout:                  serverRedirectReadTimeout,
		WriteTimeout:                 serverRedirectReadTimeout,
		IdleTimeout:                  serverRedirectIdleTimeout,
		MaxHeaderBytes:               serverRedirectHeaderBytes,
		ErrorLog:                     serverErrorLog(log, "http-redirect"),
		DisableGeneralOptionsHandler: true,
	}
}

// serverErrorLog adapts net/http's *log.Logger to slog (logger injected,
// never global: DESIGN §7).
func serverErrorLog(l *slog.Logger, listener string) *log.Logger {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return log.New(&serverLogWriter{log: l.With("listener", listener)}, "", 0)
}

// serverLogWriter receives one message per Write from log.Logger.
// keepNoise logs serverNoise at warn level like everything else (the
// management listener, where only allowed peers get to a handshake).
type serverLogWriter struct {
	log       *slog.Logger
	keepNoise bool
}

// serverNoise are net/http messages caused by clients, not by the server:
// failed TLS handshakes (scanners, clients without TLS 1.2, plain HTTP sent
// to the HTTPS port) and HTTP/2 clients that go away before their preface.
var serverNoise = []string{
	"TLS handshake error",
	"http2: server: error reading preface",
}

func (w *serverLogWriter) Write(p []byte) (int, error) {
	msg := string(bytes.TrimRight(p, "\r\n"))
	level := slog.LevelWarn
	for _, n := range serverNoise {
		if !w.keepNoise && strings.Contains(msg, n) {
			level = slog.LevelDebug
			break
		}
	}
	w.log.Log(context.Background(), level, msg, "component", "net/http")
	return len(p), nil
}

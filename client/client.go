// Package client is the public Go SDK of Parley: typed calls for the REST API
// (/api/v1) and a WebSocket connection for live messages, built on the wire
// types that the server uses too.
//
// The client is secure by default because it is the piece most often copied
// into scripts: it speaks HTTPS only (T1), can pin the server's CA so that no
// other certificate authority is trusted, never follows redirects (a redirect
// could downgrade the scheme or carry the bearer token elsewhere), bounds
// every response it reads (I2), and refuses path identifiers that would
// change the meaning of a URL ("", ".", "..").
//
// A *Client is safe for concurrent use; its token can be replaced at any time
// with SetToken (login, MFA and TOTP confirmation do that themselves).
package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// Limits and timeouts of the default transport. Timeouts cover the phases
// that a context cannot bound well on its own (a stuck dial or handshake);
// whole calls are bounded by the caller's context.
const (
	dialTimeout           = 10 * time.Second
	tlsHandshakeTimeout   = 10 * time.Second
	responseHeaderTimeout = 30 * time.Second
	idleConnTimeout       = 90 * time.Second

	// maxResponseBytes bounds a successful response body: a server (or
	// whatever answers in its place) cannot make the client buffer without
	// limit.
	maxResponseBytes = 4 << 20
	// maxErrorBytes bounds an error body; error bodies are small objects.
	maxErrorBytes = 64 << 10

	defaultUserAgent = "parley-go-client/1"
	apiPrefix        = "/api/v1"
)

// Client calls one Parley server.
type Client struct {
	base      string // scheme://host[:port][/prefix], no trailing slash
	http      *http.Client
	wsHTTP    *http.Client // HTTP/1.1-only twin of http, for the WebSocket upgrade
	userAgent string

	mu    sync.RWMutex
	token string
}

// Option configures New.
type Option func(*options) error

type options struct {
	roots      *x509.CertPool
	httpClient *http.Client
	token      string
	userAgent  string
}

// WithCAFile pins the server's CA to the PEM certificates in path (for
// example DIR/tls/cert.pem of a server with a self-signed certificate): only
// they are trusted, not the system roots.
func WithCAFile(path string) Option {
	return func(o *options) error {
		pem, err := os.ReadFile(path) // #nosec G304 -- the caller names the CA file to pin; reading it is the point
		if err != nil {
			return fmt.Errorf("client: reading CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("client: no PEM certificate found in CA file %s", path)
		}
		o.roots = pool
		return nil
	}
}

// WithRootCAs pins the server's CA to pool: only it is trusted.
func WithRootCAs(pool *x509.CertPool) Option {
	return func(o *options) error {
		if pool == nil {
			return errors.New("client: WithRootCAs: nil pool")
		}
		o.roots = pool
		return nil
	}
}

// WithToken sets the bearer token of an existing session.
func WithToken(token string) Option {
	return func(o *options) error { o.token = token; return nil }
}

// WithHTTPClient uses hc as it is, for REST and for the WebSocket upgrade.
// Its transport then owns TLS policy, so it cannot be combined with
// WithCAFile or WithRootCAs (which would otherwise be silently ignored).
// The WebSocket upgrade needs HTTP/1.1: a transport that negotiates HTTP/2
// with the server cannot Dial.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) error {
		if hc == nil {
			return errors.New("client: WithHTTPClient: nil client")
		}
		o.httpClient = hc
		return nil
	}
}

// WithUserAgent sets the User-Agent header; servers show it in session lists.
func WithUserAgent(ua string) Option {
	return func(o *options) error { o.userAgent = ua; return nil }
}

// New returns a client for the server at baseURL, which must be an https://
// URL (T1), optionally with a path prefix under which /api/v1 lives.
func New(baseURL string, opts ...Option) (*Client, error) {
	base, err := parseBase(baseURL)
	if err != nil {
		return nil, err
	}
	var o options
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if o.httpClient != nil && o.roots != nil {
		return nil, errors.New("client: WithHTTPClient cannot be combined with WithCAFile/WithRootCAs; configure the CA in the HTTP client's transport")
	}
	c := &Client{base: base, token: o.token, userAgent: o.userAgent}
	if c.userAgent == "" {
		c.userAgent = defaultUserAgent
	}
	if o.httpClient != nil {
		c.http, c.wsHTTP = o.httpClient, o.httpClient
	} else {
		c.http = &http.Client{Transport: newTransport(o.roots, true), CheckRedirect: refuseRedirect}
		c.wsHTTP = &http.Client{Transport: newTransport(o.roots, false), CheckRedirect: refuseRedirect}
	}
	return c, nil
}

// parseBase checks baseURL and returns it without a trailing slash.
func parseBase(baseURL string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil {
		return "", fmt.Errorf("client: invalid server URL: %w", err)
	}
	switch {
	case u.Scheme == "http":
		return "", errors.New("client: refusing http:// server URL: Parley is served over TLS only; use https://")
	case u.Scheme != "https":
		return "", fmt.Errorf("client: server URL must start with https:// (got %q)", baseURL)
	case u.Host == "":
		return "", errors.New("client: server URL has no host")
	case u.User != nil:
		// Credentials in URLs end up in logs and shell history.
		return "", errors.New("client: server URL must not contain user credentials")
	case u.RawQuery != "" || u.Fragment != "":
		return "", errors.New("client: server URL must not contain a query or fragment")
	}
	return strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"), nil
}

// newTransport builds the default transport: TLS 1.2 or later, the pinned
// roots if any (nil means the system roots), and bounded dial, handshake and
// header phases. http2 false gives the HTTP/1.1-only transport that the
// WebSocket upgrade needs.
func newTransport(roots *x509.CertPool, http2 bool) *http.Transport {
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots}
	if !http2 {
		tlsConf.NextProtos = []string{"http/1.1"}
	}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsConf,
		TLSHandshakeTimeout:   tlsHandshakeTimeout,
		ResponseHeaderTimeout: responseHeaderTimeout,
		IdleConnTimeout:       idleConnTimeout,
		MaxIdleConns:          16,
		ForceAttemptHTTP2:     http2,
	}
}

// refuseRedirect stops at the first redirect: the API never redirects, and
// following one could downgrade to http:// or hand the token to another host.
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Token returns the current bearer token ("" when logged out).
func (c *Client) Token() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.token
}

// SetToken replaces the bearer token.
func (c *Client) SetToken(token string) {
	c.mu.Lock()
	c.token = token
	c.mu.Unlock()
}

// BaseURL returns the server URL the client was made for.
func (c *Client) BaseURL() string { return c.base }

// escapeID escapes one path segment. IDs are opaque, but "", "." and ".."
// would address another resource once a server or proxy cleans the path, so
// they are refused rather than sent.
func escapeID(id string) (string, error) {
	switch id {
	case "", ".", "..":
		return "", fmt.Errorf("client: invalid identifier %q", id)
	}
	return url.PathEscape(id), nil
}

// call is one REST request. path is already escaped and starts with "/"
// (below /api/v1); in, when non-nil, is sent as JSON; out, when non-nil,
// receives the decoded body. auth false leaves the bearer token out: login
// and setup must not present a stale session.
type call struct {
	method string
	path   string
	query  url.Values
	in     any
	out    any
	auth   bool
	// raw, if set, receives the response body as is (non-JSON downloads
	// such as CSV), bounded like any response.
	raw *[]byte
}

func (c *Client) do(ctx context.Context, r call) error {
	u := c.base + apiPrefix + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var body io.Reader
	if r.in != nil {
		data, err := json.Marshal(r.in)
		if err != nil {
			return fmt.Errorf("client: encoding request: %w", err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	if r.in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if tok := c.Token(); r.auth && tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("client: %s %s: %w", r.method, r.path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return decodeAPIError(resp)
	}
	if r.raw != nil {
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
		if err != nil {
			return fmt.Errorf("client: reading response: %w", err)
		}
		if int64(len(data)) > maxResponseBytes {
			return fmt.Errorf("client: response larger than %d bytes", maxResponseBytes)
		}
		*r.raw = data
		return nil
	}
	if r.out == nil {
		// Drain a little so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBytes))
		return nil
	}
	return decodeBody(resp.Body, maxResponseBytes, r.out)
}

// decodeBody decodes one JSON value of at most limit bytes. Unknown fields
// are accepted on purpose: API-CORE.md allows the server to add fields
// without a version bump, and an SDK must not break when it does.
func decodeBody(r io.Reader, limit int64, v any) error {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return fmt.Errorf("client: reading response: %w", err)
	}
	if int64(len(data)) > limit {
		return fmt.Errorf("client: response larger than %d bytes", limit)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return errors.New("client: empty response body")
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("client: malformed response: %w", err)
	}
	return nil
}

package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Raw sends one request to path, taken from the server root (for example
// "/api/v1/me" or "/healthz", already escaped, optionally with a query),
// with body encoded as JSON when it is not nil and the client's token when
// it has one. It is for tools and tests that walk the whole API, such as
// the authorization matrix: it returns the HTTP status and, for an answer
// outside 2xx, the error code of the body (or the one its status implies).
// A success body is decoded into out when out is not nil, else dropped;
// err reports a request that got no answer or a success body that does
// not decode.
//
// A path with a "." or ".." segment, encoded or not, is refused like an
// identifier of the typed calls: a server or proxy that cleans the path
// would send the request elsewhere.
func (c *Client) Raw(ctx context.Context, method, path string, body, out any) (status int, code string, err error) {
	if err := checkRawPath(path); err != nil {
		return 0, "", err
	}
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return 0, "", fmt.Errorf("client: encoding request: %w", err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, "", fmt.Errorf("client: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if tok := c.Token(); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("client: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, decodeAPIError(resp).Code, nil
	}
	if out != nil {
		return resp.StatusCode, "", decodeBody(resp.Body, maxResponseBytes, out)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBytes))
	return resp.StatusCode, "", nil
}

func checkRawPath(path string) error {
	p, _, _ := strings.Cut(path, "?")
	if !strings.HasPrefix(p, "/") || strings.Contains(path, "#") {
		return fmt.Errorf("client: raw path must start with / and carry no fragment (got %q)", path)
	}
	for _, seg := range strings.Split(p, "/") {
		dec, err := url.PathUnescape(seg)
		if err != nil {
			return fmt.Errorf("client: raw path %q: %w", path, err)
		}
		if dec == "." || dec == ".." {
			return fmt.Errorf("client: raw path %q has a dot segment", path)
		}
	}
	return nil
}

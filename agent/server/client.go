package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Client calls the control API, for `kab-agent backup-now` and `kab-agent status`.
type Client struct {
	base string
	http *http.Client
}

// NewClient talks to the agent listening on addr (":9780" means this host).
func NewClient(addr string) (*Client, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("control address %q: %w", addr, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return &Client{base: "http://" + net.JoinHostPort(host, port), http: &http.Client{Timeout: 10 * time.Second}}, nil
}

// BackupNow asks for a run; code is the HTTP status (202, 409 or 503).
func (c *Client) BackupNow(ctx context.Context) (code int, body []byte, err error) {
	return c.do(ctx, http.MethodPost, "/backup")
}

// StatusRaw fetches GET /status as sent.
func (c *Client) StatusRaw(ctx context.Context) (code int, body []byte, err error) {
	return c.do(ctx, http.MethodGet, "/status")
}

// Status fetches and decodes GET /status into v.
func (c *Client) Status(ctx context.Context, v any) error {
	code, body, err := c.StatusRaw(ctx)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("status: HTTP %d: %s", code, body)
	}
	return json.Unmarshal(body, v)
}

func (c *Client) do(ctx context.Context, method, path string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("the agent's control API at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, body, err
}

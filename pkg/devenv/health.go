package devenv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// newHTTPClient returns the client used for the agents' APIs: no proxy
// (everything is on 127.0.0.1), bounded per request.
func newHTTPClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 2},
		Timeout:   10 * time.Second,
	}
}

// getJSON GETs url and decodes a 200 answer into out (when non-nil).
func getJSON(ctx context.Context, c *http.Client, url string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d: %.200s", url, resp.StatusCode, body)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	return nil
}

// healthCheck returns the check that says agent name is ready to use.
// full adds the checks that only matter while bringing the stack up (a
// ready Nomad node, Nomad's JWKS), beyond the agent's own health endpoint.
func healthCheck(c *http.Client, name string, p Ports, full bool) func(context.Context) error {
	switch name {
	case Vault:
		// 200 = initialized, unsealed, active (standby, sealed and
		// uninitialized servers answer other codes).
		return func(ctx context.Context) error {
			return getJSON(ctx, c, httpAddr(p.VaultHTTP)+"/v1/sys/health", nil)
		}
	case Consul:
		return func(ctx context.Context) error {
			var leader string
			if err := getJSON(ctx, c, httpAddr(p.ConsulHTTP)+"/v1/status/leader", &leader); err != nil {
				return err
			}
			if leader == "" {
				return errors.New("no Consul leader yet")
			}
			return nil
		}
	case Nomad:
		return func(ctx context.Context) error {
			base := httpAddr(p.NomadHTTP)
			if err := getJSON(ctx, c, base+"/v1/agent/health", nil); err != nil {
				return err
			}
			if !full {
				return nil
			}
			var nodes []struct{ ID, Name, Status string }
			if err := getJSON(ctx, c, base+"/v1/nodes", &nodes); err != nil {
				return err
			}
			ready := false
			for _, n := range nodes {
				ready = ready || n.Status == "ready"
			}
			if !ready {
				return fmt.Errorf("no ready Nomad node yet (%d node(s))", len(nodes))
			}
			// Vault fetches these keys when the JWT auth method is configured.
			var jwks struct {
				Keys []json.RawMessage `json:"keys"`
			}
			if err := getJSON(ctx, c, base+"/.well-known/jwks.json", &jwks); err != nil {
				return err
			}
			if len(jwks.Keys) == 0 {
				return errors.New("nomad serves no workload identity keys yet")
			}
			return nil
		}
	}
	return func(context.Context) error { return fmt.Errorf("unknown agent %q", name) }
}

// errTimeout marks a health wait that ran out of time.
var errTimeout = errors.New("timed out")

// poll runs check until it passes, with capped exponential backoff, for at
// most timeout. It stops early when ctx is done or gone reports that the
// process has exited; the error then carries the last check's failure.
func poll(ctx context.Context, timeout time.Duration, check func(context.Context) error, gone func() error) error {
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, errTimeout)
	defer cancel()
	const (
		first   = 100 * time.Millisecond
		ceiling = 2 * time.Second
	)
	delay := first
	var last error
	for {
		if err := gone(); err != nil {
			if last != nil {
				return fmt.Errorf("%w (last check: %v)", err, last)
			}
			return err
		}
		if last = check(ctx); last == nil {
			return nil
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			if errors.Is(context.Cause(ctx), errTimeout) {
				return fmt.Errorf("not healthy after %s: %w (last check: %v)", timeout, errTimeout, last)
			}
			return fmt.Errorf("%w (last check: %v)", ctx.Err(), last)
		case <-t.C:
		}
		delay = min(delay*2, ceiling)
	}
}

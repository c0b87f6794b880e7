package nomadx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/pkg/apierr"
	"github.com/drover-io/drover/pkg/config"
	"github.com/drover-io/drover/pkg/retry"
)

// Client talks to one Nomad region.
type Client struct {
	api     *nomadapi.Client
	ns      string
	policy  retry.Policy
	log     *slog.Logger
	address string
	source  string
}

// Options tune a Client.
type Options struct {
	// Retry bounds retries of transient failures; retry.Default when zero.
	Retry  retry.Policy
	Logger *slog.Logger
	// Source says where the address came from ("NOMAD_ADDR"), for the
	// message when Nomad cannot be reached.
	Source string
}

// MaxBlockingWait is the longest a blocking query waits. Nomad caps waits
// at 5 minutes plus up to 1/16 jitter, so the HTTP timeout sits above that.
const MaxBlockingWait = 5 * time.Minute

// New builds a client for ep. It does not contact Nomad.
func New(ep config.Endpoint, opts Options) (*Client, error) {
	cfg := &nomadapi.Config{
		Address:   ep.Address,
		Region:    ep.Region,
		Namespace: ep.Namespace,
		SecretID:  ep.Token.Reveal(),
		WaitTime:  MaxBlockingWait,
		TLSConfig: &nomadapi.TLSConfig{
			CACert:        ep.TLS.CACert,
			CAPath:        ep.TLS.CAPath,
			ClientCert:    ep.TLS.ClientCert,
			ClientKey:     ep.TLS.ClientKey,
			TLSServerName: ep.TLS.ServerName,
			Insecure:      ep.TLS.SkipVerify,
		},
	}
	c, err := nomadapi.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("nomad client for %s: %w", ep.Address, err)
	}
	// The client sets no overall HTTP timeout (blocking queries wait up to
	// MaxBlockingWait); every call's context bounds it instead.
	p := opts.Retry.OrDefault()
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ns := ep.Namespace
	if ns == "" {
		ns = nomadapi.DefaultNamespace
	}
	return &Client{api: c, ns: ns, policy: p, log: log.With("system", apierr.Nomad), address: ep.Address, source: opts.Source}, nil
}

// Namespace is the namespace the client works in ("*" lists across all).
func (c *Client) Namespace() string { return c.ns }

// InNamespace returns a client for the same Nomad that works in ns (the
// connection is shared); ns "" keeps the client's own.
func (c *Client) InNamespace(ns string) *Client {
	if ns == "" || ns == c.ns {
		return c
	}
	cp := *c
	cp.ns = ns
	return &cp
}

// Probe checks that Nomad answers at the client's address, once and
// quickly: a missing agent is one clear line, not a series of retries.
func (c *Client) Probe(ctx context.Context) error {
	return apierr.Probe(ctx, apierr.Nomad, c.address, c.source, func(ctx context.Context) error {
		// The region list needs no ACL token and only Nomad serves it.
		var regions []string
		_, err := c.api.Raw().Query("/v1/regions", &regions, (&nomadapi.QueryOptions{}).WithContext(ctx))
		return WrapError("list regions", "", err)
	})
}

func (c *Client) q(ctx context.Context) *nomadapi.QueryOptions {
	return (&nomadapi.QueryOptions{Namespace: c.ns}).WithContext(ctx)
}

func (c *Client) w(ctx context.Context) *nomadapi.WriteOptions {
	return (&nomadapi.WriteOptions{Namespace: c.ns}).WithContext(ctx)
}

// read runs a read-only call with retries of transient failures.
func (c *Client) read(ctx context.Context, op, object string, fn func() error) error {
	return c.calls().Read(ctx, op, object, fn)
}

// write runs a write, retrying only failures where Nomad cannot have acted
// (connection refused, 429, 503).
func (c *Client) write(ctx context.Context, op, object string, fn func() error) error {
	return c.calls().Write(ctx, op, object, fn)
}

func (c *Client) calls() apierr.Calls {
	return apierr.Calls{Policy: c.policy, Log: c.log, Wrap: WrapError}
}

// WrapError turns a nomad/api error into an *apierr.Error of Nomad: the
// status and body of an unexpected response, the call and its object.
func WrapError(op, object string, err error) error {
	if err == nil {
		return nil
	}
	e := &apierr.Error{System: apierr.Nomad, Op: op, Object: object, Err: err}
	var ure nomadapi.UnexpectedResponseError
	var urep *nomadapi.UnexpectedResponseError
	switch {
	case errors.As(err, &urep):
		e.Status, e.Message = urep.StatusCode(), strings.TrimSpace(urep.Body())
	case errors.As(err, &ure):
		e.Status, e.Message = ure.StatusCode(), strings.TrimSpace(ure.Body())
	}
	return e
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

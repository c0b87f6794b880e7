package consulx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	consulapi "github.com/hashicorp/consul/api"

	"github.com/drover-io/drover/pkg/apierr"
	"github.com/drover-io/drover/pkg/config"
	"github.com/drover-io/drover/pkg/retry"
)

// Client talks to one Consul datacenter.
type Client struct {
	api     *consulapi.Client
	policy  retry.Policy
	log     *slog.Logger
	address string
	source  string
}

// Options tune a Client.
type Options struct {
	Retry  retry.Policy
	Logger *slog.Logger
	// Source says where the address came from ("CONSUL_HTTP_ADDR").
	Source string
}

// New builds a client for ep. It does not contact Consul.
func New(ep config.Endpoint, opts Options) (*Client, error) {
	u, err := url.Parse(ep.Address)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("consul address %q: want scheme://host:port", ep.Address)
	}
	cfg := &consulapi.Config{
		Address:    u.Host,
		Scheme:     u.Scheme,
		Token:      ep.Token.Reveal(),
		Namespace:  ep.Namespace,
		Datacenter: ep.Datacenter,
		TLSConfig: consulapi.TLSConfig{
			Address:            ep.TLS.ServerName,
			CAFile:             ep.TLS.CACert,
			CAPath:             ep.TLS.CAPath,
			CertFile:           ep.TLS.ClientCert,
			KeyFile:            ep.TLS.ClientKey,
			InsecureSkipVerify: ep.TLS.SkipVerify,
		},
	}
	c, err := consulapi.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("consul client for %s: %w", ep.Address, err)
	}
	p := opts.Retry.OrDefault()
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{api: c, policy: p, log: log.With("system", apierr.Consul), address: ep.Address, source: opts.Source}, nil
}

func (c *Client) q(ctx context.Context) *consulapi.QueryOptions {
	return (&consulapi.QueryOptions{}).WithContext(ctx)
}

func (c *Client) w(ctx context.Context) *consulapi.WriteOptions {
	return (&consulapi.WriteOptions{}).WithContext(ctx)
}

// Probe checks that Consul answers at the client's address, once and
// quickly.
func (c *Client) Probe(ctx context.Context) error {
	return apierr.Probe(ctx, apierr.Consul, c.address, c.source, func(ctx context.Context) error {
		// The datacenter list needs no ACL token and only Consul serves it.
		var dcs []string
		_, err := c.api.Raw().Query("/v1/catalog/datacenters", &dcs, c.q(ctx))
		return wrap("list datacenters", "", err)
	})
}

// do runs a read with retries of transient failures.
func (c *Client) do(ctx context.Context, op, object string, fn func() error) error {
	return c.calls().Read(ctx, op, object, fn)
}

// write runs a write, retrying only where Consul cannot have acted: it
// answers 500 to an entry it refuses, and repeating that helps no one.
func (c *Client) write(ctx context.Context, op, object string, fn func() error) error {
	return c.calls().Write(ctx, op, object, fn)
}

func (c *Client) calls() apierr.Calls { return apierr.Calls{Policy: c.policy, Log: c.log, Wrap: wrap} }

func wrap(op, object string, err error) error {
	if err == nil {
		return nil
	}
	e := &apierr.Error{System: apierr.Consul, Op: op, Object: object, Err: err}
	var se consulapi.StatusError
	var sep *consulapi.StatusError
	switch {
	case errors.As(err, &se):
		e.Status, e.Message = se.Code, strings.TrimSpace(se.Body)
	case errors.As(err, &sep):
		e.Status, e.Message = sep.Code, strings.TrimSpace(sep.Body)
	default:
		// Some client paths format the status into the message only.
		var code int
		var body string
		if n, _ := fmt.Sscanf(err.Error(), "Unexpected response code: %d", &code); n == 1 {
			if i := strings.Index(err.Error(), "("); i >= 0 {
				body = strings.TrimSuffix(err.Error()[i+1:], ")")
			}
			e.Status, e.Message = code, strings.TrimSpace(body)
		}
	}
	return e
}

func entryName(kind, name string) string { return fmt.Sprintf("%s %q", kind, name) }

// ConfigEntry reads a config entry; apierr.ErrNotFound when absent.
func (c *Client) ConfigEntry(ctx context.Context, kind, name string) (consulapi.ConfigEntry, error) {
	var entry consulapi.ConfigEntry
	err := c.do(ctx, "read config entry", entryName(kind, name), func() error {
		var err error
		entry, _, err = c.api.ConfigEntries().Get(kind, name, c.q(ctx))
		return err
	})
	return entry, err
}

// ConfigEntries lists every config entry of a kind.
func (c *Client) ConfigEntries(ctx context.Context, kind string) ([]consulapi.ConfigEntry, error) {
	var entries []consulapi.ConfigEntry
	err := c.do(ctx, "list config entries", kind, func() error {
		var err error
		entries, _, err = c.api.ConfigEntries().List(kind, c.q(ctx))
		return err
	})
	return entries, err
}

// SetConfigEntry writes a config entry with check-and-set on modifyIndex:
// 0 means "must not exist yet". A concurrent writer makes it fail with
// apierr.ErrConflict instead of being overwritten.
func (c *Client) SetConfigEntry(ctx context.Context, entry consulapi.ConfigEntry, modifyIndex uint64) error {
	object := entryName(entry.GetKind(), entry.GetName())
	var ok bool
	err := c.write(ctx, "write config entry", object, func() error {
		var err error
		ok, _, err = c.api.ConfigEntries().CAS(entry, modifyIndex, c.w(ctx))
		return err
	})
	if err == nil && !ok {
		return &apierr.Error{System: apierr.Consul, Op: "write config entry", Object: object, Status: 409,
			Message: "it changed since drover read it (check-and-set failed)"}
	}
	return err
}

// DeleteConfigEntry deletes a config entry if it is still at modifyIndex
// (any index when modifyIndex is 0). Deleting an absent entry succeeds.
func (c *Client) DeleteConfigEntry(ctx context.Context, kind, name string, modifyIndex uint64) error {
	object := entryName(kind, name)
	ok := true
	err := c.write(ctx, "delete config entry", object, func() error {
		var err error
		if modifyIndex == 0 {
			_, err = c.api.ConfigEntries().Delete(kind, name, c.w(ctx))
			return err
		}
		ok, _, err = c.api.ConfigEntries().DeleteCAS(kind, name, modifyIndex, c.w(ctx))
		return err
	})
	if err == nil && !ok {
		return &apierr.Error{System: apierr.Consul, Op: "delete config entry", Object: object, Status: 409,
			Message: "it changed since drover read it (check-and-set failed)"}
	}
	return err
}

// Register writes a catalog registration.
func (c *Client) Register(ctx context.Context, reg *consulapi.CatalogRegistration) error {
	return c.write(ctx, "register in catalog", fmt.Sprintf("node %q", reg.Node), func() error {
		_, err := c.api.Catalog().Register(reg, c.w(ctx))
		return err
	})
}

// Deregister removes a node (and its services) from the catalog.
func (c *Client) Deregister(ctx context.Context, node string) error {
	return c.write(ctx, "deregister from catalog", fmt.Sprintf("node %q", node), func() error {
		_, err := c.api.Catalog().Deregister(&consulapi.CatalogDeregistration{Node: node}, c.w(ctx))
		return err
	})
}

// Node returns a catalog node with its services; apierr.ErrNotFound when
// it is not registered.
func (c *Client) Node(ctx context.Context, node string) (*consulapi.CatalogNode, error) {
	var n *consulapi.CatalogNode
	err := c.do(ctx, "read catalog node", fmt.Sprintf("%q", node), func() error {
		var err error
		n, _, err = c.api.Catalog().Node(node, c.q(ctx))
		return err
	})
	if err == nil && n == nil {
		return nil, &apierr.Error{System: apierr.Consul, Op: "read catalog node", Object: fmt.Sprintf("%q", node), Status: 404, Message: "not registered"}
	}
	return n, err
}

// NodesWithMeta lists catalog nodes whose meta has key = value.
func (c *Client) NodesWithMeta(ctx context.Context, key, value string) ([]*consulapi.Node, error) {
	var nodes []*consulapi.Node
	q := c.q(ctx)
	q.NodeMeta = map[string]string{key: value}
	err := c.do(ctx, "list catalog nodes", fmt.Sprintf("with meta %s=%s", key, value), func() error {
		var err error
		nodes, _, err = c.api.Catalog().Nodes(q)
		return err
	})
	return nodes, err
}

// Health returns every instance of a service with its checks.
func (c *Client) Health(ctx context.Context, service string) ([]*consulapi.ServiceEntry, error) {
	var entries []*consulapi.ServiceEntry
	err := c.do(ctx, "read health of service", fmt.Sprintf("%q", service), func() error {
		var err error
		entries, _, err = c.api.Health().Service(service, "", false, c.q(ctx))
		return err
	})
	return entries, err
}

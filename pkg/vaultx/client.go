package vaultx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/drover-io/drover/pkg/apierr"
	"github.com/drover-io/drover/pkg/config"
	"github.com/drover-io/drover/pkg/retry"
)

// Client talks to one Vault (or OpenBao) cluster.
type Client struct {
	api     *vaultapi.Client
	policy  retry.Policy
	log     *slog.Logger
	address string
	source  string
}

// Options tune a Client.
type Options struct {
	Retry  retry.Policy
	Logger *slog.Logger
	// Source says where the address came from ("VAULT_ADDR").
	Source string
}

// New builds a client for ep. It does not contact Vault.
func New(ep config.Endpoint, opts Options) (*Client, error) {
	cfg := vaultapi.DefaultConfig()
	if cfg.Error != nil {
		return nil, fmt.Errorf("vault client: %w", cfg.Error)
	}
	cfg.Address = ep.Address
	// drover retries itself, with its own classification and context.
	cfg.MaxRetries = 0
	cfg.Timeout = 60 * time.Second
	if err := cfg.ConfigureTLS(&vaultapi.TLSConfig{
		CACert:        ep.TLS.CACert,
		CAPath:        ep.TLS.CAPath,
		ClientCert:    ep.TLS.ClientCert,
		ClientKey:     ep.TLS.ClientKey,
		TLSServerName: ep.TLS.ServerName,
		Insecure:      ep.TLS.SkipVerify,
	}); err != nil {
		return nil, fmt.Errorf("vault TLS settings: %w", err)
	}
	c, err := vaultapi.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("vault client for %s: %w", ep.Address, err)
	}
	c.SetToken(ep.Token.Reveal())
	if ep.Namespace != "" {
		c.SetNamespace(ep.Namespace)
	}
	p := opts.Retry.OrDefault()
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{api: c, policy: p, log: log.With("system", apierr.Vault), address: ep.Address, source: opts.Source}, nil
}

// Probe checks that Vault answers at the client's address, once and
// quickly. The health endpoint needs no token.
func (c *Client) Probe(ctx context.Context) error {
	return apierr.Probe(ctx, apierr.Vault, c.address, c.source, func(ctx context.Context) error {
		_, err := c.api.Sys().HealthWithContext(ctx)
		return wrap("read", "health", err)
	})
}

// do runs a read with retries of transient failures.
func (c *Client) do(ctx context.Context, op, object string, fn func() error) error {
	return c.calls().Read(ctx, op, object, fn)
}

// write runs a write, retrying only where Vault cannot have acted.
func (c *Client) write(ctx context.Context, op, object string, fn func() error) error {
	return c.calls().Write(ctx, op, object, fn)
}

func (c *Client) calls() apierr.Calls { return apierr.Calls{Policy: c.policy, Log: c.log, Wrap: wrap} }

func wrap(op, object string, err error) error {
	if err == nil {
		return nil
	}
	e := &apierr.Error{System: apierr.Vault, Op: op, Object: object, Err: err}
	var re *vaultapi.ResponseError
	if errors.As(err, &re) {
		e.Status = re.StatusCode
		e.Message = strings.Join(re.Errors, "; ")
	}
	return e
}

func notFound(op, object string) error {
	return &apierr.Error{System: apierr.Vault, Op: op, Object: object, Status: 404, Message: "not found"}
}

// Policy returns an ACL policy's text; apierr.ErrNotFound when absent.
func (c *Client) Policy(ctx context.Context, name string) (string, error) {
	var text string
	object := fmt.Sprintf("policy %q", name)
	err := c.do(ctx, "read", object, func() error {
		var err error
		text, err = c.api.Sys().GetPolicyWithContext(ctx, name)
		return err
	})
	if err == nil && text == "" {
		return "", notFound("read", object)
	}
	return text, err
}

// PutPolicy creates or replaces an ACL policy.
func (c *Client) PutPolicy(ctx context.Context, name, text string) error {
	return c.write(ctx, "write", fmt.Sprintf("policy %q", name), func() error {
		return c.api.Sys().PutPolicyWithContext(ctx, name, text)
	})
}

// DeletePolicy deletes an ACL policy; deleting an absent one succeeds.
func (c *Client) DeletePolicy(ctx context.Context, name string) error {
	return c.write(ctx, "delete", fmt.Sprintf("policy %q", name), func() error {
		return c.api.Sys().DeletePolicyWithContext(ctx, name)
	})
}

// Policies lists ACL policy names, sorted.
func (c *Client) Policies(ctx context.Context) ([]string, error) {
	var names []string
	err := c.do(ctx, "list", "policies", func() error {
		var err error
		names, err = c.api.Sys().ListPoliciesWithContext(ctx)
		return err
	})
	sort.Strings(names)
	return names, err
}

// Read reads a logical path; apierr.ErrNotFound when nothing is there.
func (c *Client) Read(ctx context.Context, path string) (map[string]any, error) {
	var s *vaultapi.Secret
	err := c.do(ctx, "read", path, func() error {
		var err error
		s, err = c.api.Logical().ReadWithContext(ctx, path)
		return err
	})
	if err != nil {
		return nil, err
	}
	if s == nil || s.Data == nil {
		return nil, notFound("read", path)
	}
	return s.Data, nil
}

// Write writes data to a logical path.
func (c *Client) Write(ctx context.Context, path string, data map[string]any) error {
	return c.write(ctx, "write", path, func() error {
		_, err := c.api.Logical().WriteWithContext(ctx, path, data)
		return err
	})
}

// Delete deletes a logical path.
func (c *Client) Delete(ctx context.Context, path string) error {
	return c.write(ctx, "delete", path, func() error {
		_, err := c.api.Logical().DeleteWithContext(ctx, path)
		return err
	})
}

// List lists the keys under a logical path, sorted; empty when none.
func (c *Client) List(ctx context.Context, path string) ([]string, error) {
	var s *vaultapi.Secret
	err := c.do(ctx, "list", path, func() error {
		var err error
		s, err = c.api.Logical().ListWithContext(ctx, path)
		return err
	})
	if err != nil || s == nil || s.Data == nil {
		return nil, err
	}
	raw, _ := s.Data["keys"].([]any)
	keys := make([]string, 0, len(raw))
	for _, k := range raw {
		if ks, ok := k.(string); ok {
			keys = append(keys, ks)
		}
	}
	sort.Strings(keys)
	return keys, nil
}

// KVVersion returns the version (1 or 2) of the KV secrets engine at mount;
// apierr.ErrNotFound when nothing is mounted there.
func (c *Client) KVVersion(ctx context.Context, mount string) (int, error) {
	var mounts map[string]*vaultapi.MountOutput
	err := c.do(ctx, "list", "secrets engines", func() error {
		var err error
		mounts, err = c.api.Sys().ListMountsWithContext(ctx)
		return err
	})
	if err != nil {
		return 0, err
	}
	m, ok := mounts[strings.TrimSuffix(mount, "/")+"/"]
	if !ok || (m.Type != "kv" && m.Type != "generic") {
		return 0, notFound("find", fmt.Sprintf("KV secrets engine at %q", mount))
	}
	if m.Options["version"] == "2" {
		return 2, nil
	}
	return 1, nil
}

// AuthMethod returns the type of the auth method mounted at path ("jwt");
// apierr.ErrNotFound when none is.
func (c *Client) AuthMethod(ctx context.Context, path string) (string, error) {
	var auths map[string]*vaultapi.AuthMount
	err := c.do(ctx, "list", "auth methods", func() error {
		var err error
		auths, err = c.api.Sys().ListAuthWithContext(ctx)
		return err
	})
	if err != nil {
		return "", err
	}
	a, ok := auths[strings.TrimSuffix(path, "/")+"/"]
	if !ok {
		return "", notFound("find", fmt.Sprintf("auth method at %q", path))
	}
	return a.Type, nil
}

// SecretKeys returns the key names of the latest version of a KV v2
// secret, sorted; apierr.ErrNotFound when the secret does not exist (or its
// latest version is deleted). The values are read, because Vault has no
// way to list a secret's keys without them, and dropped here.
func (c *Client) SecretKeys(ctx context.Context, mount, path string) ([]string, error) {
	data, err := c.Read(ctx, mount+"/data/"+path)
	if err != nil {
		return nil, err
	}
	inner, _ := data["data"].(map[string]any)
	if inner == nil {
		return nil, notFound("read", mount+"/data/"+path)
	}
	keys := make([]string, 0, len(inner))
	for k := range inner {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys, nil
}

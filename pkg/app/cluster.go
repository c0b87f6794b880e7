package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	consulapi "github.com/hashicorp/consul/api"
	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/internal/parallel"
	"github.com/drover-io/drover/pkg/apierr"
	"github.com/drover-io/drover/pkg/config"
	"github.com/drover-io/drover/pkg/consulx"
	"github.com/drover-io/drover/pkg/nomadx"
	"github.com/drover-io/drover/pkg/render"
	"github.com/drover-io/drover/pkg/spec"
	"github.com/drover-io/drover/pkg/vaultx"
)

// Nomad is what the use cases need from Nomad (implemented by
// *nomadx.Client).
type Nomad interface {
	Probe(ctx context.Context) error
	Namespace() string
	NamespaceInfo(ctx context.Context, name string) (*nomadapi.Namespace, error)
	PutNamespace(ctx context.Context, ns *nomadapi.Namespace) error
	Job(ctx context.Context, id string) (*nomadapi.Job, error)
	Plan(ctx context.Context, job *nomadapi.Job) (*nomadapi.JobPlanResponse, error)
	Register(ctx context.Context, job *nomadapi.Job, opts nomadx.RegisterOptions) (*nomadapi.JobRegisterResponse, error)
	Deregister(ctx context.Context, id string, purge bool) (string, error)
	JobsWithMeta(ctx context.Context, key, value string) ([]*nomadapi.JobListStub, error)
	Allocations(ctx context.Context, jobID string) ([]*nomadapi.AllocationListStub, error)
	Evaluation(ctx context.Context, id string, waitIndex uint64) (*nomadapi.Evaluation, uint64, error)
	LatestDeployment(ctx context.Context, jobID string, waitIndex uint64) (*nomadapi.Deployment, uint64, error)
	Deployment(ctx context.Context, id string, waitIndex uint64) (*nomadapi.Deployment, uint64, error)
	DeploymentAllocations(ctx context.Context, id string) ([]*nomadapi.AllocationListStub, error)
	Promote(ctx context.Context, id string) error
	ScaleStatus(ctx context.Context, jobID string) (*nomadapi.JobScaleStatusResponse, error)
	Scale(ctx context.Context, jobID string, r nomadx.ScaleRequest) (*nomadapi.JobRegisterResponse, error)
}

// Consul is what the use cases need from Consul (*consulx.Client).
type Consul interface {
	Probe(ctx context.Context) error
	ConfigEntry(ctx context.Context, kind, name string) (consulapi.ConfigEntry, error)
	ConfigEntries(ctx context.Context, kind string) ([]consulapi.ConfigEntry, error)
	SetConfigEntry(ctx context.Context, entry consulapi.ConfigEntry, modifyIndex uint64) error
	DeleteConfigEntry(ctx context.Context, kind, name string, modifyIndex uint64) error
	Register(ctx context.Context, reg *consulapi.CatalogRegistration) error
	Deregister(ctx context.Context, node string) error
	Node(ctx context.Context, node string) (*consulapi.CatalogNode, error)
	NodesWithMeta(ctx context.Context, key, value string) ([]*consulapi.Node, error)
	Health(ctx context.Context, service string) ([]*consulapi.ServiceEntry, error)
}

// Vault is what the use cases need from Vault (*vaultx.Client).
type Vault interface {
	Probe(ctx context.Context) error
	Policy(ctx context.Context, name string) (string, error)
	PutPolicy(ctx context.Context, name, text string) error
	DeletePolicy(ctx context.Context, name string) error
	Policies(ctx context.Context) ([]string, error)
	Read(ctx context.Context, path string) (map[string]any, error)
	Write(ctx context.Context, path string, data map[string]any) error
	Delete(ctx context.Context, path string) error
	List(ctx context.Context, path string) ([]string, error)
	KVVersion(ctx context.Context, mount string) (int, error)
	AuthMethod(ctx context.Context, path string) (string, error)
	SecretKeys(ctx context.Context, mount, path string) ([]string, error)
}

// ClusterOptions are what every use case that talks to the clusters needs.
type ClusterOptions struct {
	Load spec.LoadOptions
	// Config says how to reach the systems; Clients, when set (tests),
	// replaces connecting with it.
	Config  config.Config
	Clients *Clients
	// Version is drover's version, recorded in ownership metadata.
	Version string
	Logger  *slog.Logger
	// Progress receives progress lines (stderr); TTY allows redrawing them.
	Progress io.Writer
	TTY      bool
	// Timeout bounds the whole use case (0: no bound but the caller's).
	Timeout time.Duration
}

func (o *ClusterOptions) clients() (*Clients, error) {
	if o.Clients != nil {
		return o.Clients, nil
	}
	return Connect(o.Config, o.logger())
}

func (o *ClusterOptions) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

func (o *ClusterOptions) progress() io.Writer {
	if o.Progress == nil {
		return io.Discard
	}
	return o.Progress
}

// loaded is a validated, rendered project.
type loaded struct {
	set    *spec.Set
	bundle *render.Bundle
}

// load validates and renders the specs; an *InputError when they are wrong.
func (o *ClusterOptions) load() (*loaded, Diagnostics, error) {
	set, diags := spec.Load(o.Load)
	d := Diagnostics{Diags: diags}
	if set != nil {
		d.Files = set.Files
	}
	if err := inputError(diags, d.Files); err != nil {
		return nil, d, err
	}
	// NOMAD_NAMESPACE is the namespace of projects that name none; the
	// rendered jobs, their Vault roles and every request then agree on it.
	if ns := o.Config.Nomad.Namespace; !set.Project.Namespace.Set && ns != "" && ns != "*" {
		set.Project.Namespace.V = ns
	}
	b, err := render.Render(set, render.Options{Version: o.Version})
	if err != nil {
		return nil, d, renderError(err, &d)
	}
	return &loaded{set: set, bundle: b}, d, nil
}

// namespace is the Nomad namespace of a loaded project.
func (l *loaded) namespace() string {
	if ns := l.set.Project.Namespace.V; ns != "" {
		return ns
	}
	return nomadapi.DefaultNamespace
}

// connect returns the clients for a project (nil: no specs, the
// configured namespace) and checks that every system in need answers.
func (o *ClusterOptions) connect(ctx context.Context, l *loaded, need systems) (*Clients, error) {
	c, err := o.clients()
	if err != nil {
		return nil, err
	}
	cp := *c // the probe notes what it found on the copy
	c = &cp
	if l != nil {
		c = c.inNamespace(l.namespace())
	}
	if err := c.probe(ctx, need); err != nil {
		return nil, err
	}
	return c, nil
}

// TimeoutError reports a use case that ran out of its --timeout.
type TimeoutError struct {
	After time.Duration
	// Doing says what was still going on.
	Doing string
	Err   error
}

func (e *TimeoutError) Error() string {
	if e.Doing != "" {
		return fmt.Sprintf("gave up after %s (--timeout) while %s: %v", e.After, e.Doing, e.Err)
	}
	return fmt.Sprintf("gave up after %s (--timeout): %v", e.After, e.Err)
}

func (e *TimeoutError) Unwrap() error { return e.Err }

// deadline bounds ctx by the use case's timeout. done turns an error that
// the deadline caused into a *TimeoutError saying what was going on.
func (o *ClusterOptions) deadline(ctx context.Context) (context.Context, func(err error, doing string) error, context.CancelFunc) {
	if o.Timeout <= 0 {
		return ctx, func(err error, _ string) error { return err }, func() {}
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	done := func(err error, doing string) error {
		if err != nil && ctx.Err() == context.DeadlineExceeded && parent.Err() == nil {
			return &TimeoutError{After: o.Timeout, Doing: doing, Err: err}
		}
		return err
	}
	return ctx, done, cancel
}

var (
	_ Nomad  = (*nomadx.Client)(nil)
	_ Consul = (*consulx.Client)(nil)
	_ Vault  = (*vaultx.Client)(nil)
)

// Clients are the three systems' adapters.
type Clients struct {
	Nomad  Nomad
	Consul Consul
	Vault  Vault
	// VaultAbsent is why Vault was left out of a use case that uses it
	// only when it is there (a prune of a project without secrets).
	VaultAbsent error
}

// Connect builds the adapters for cfg. Nothing is contacted yet.
func Connect(cfg config.Config, log *slog.Logger) (*Clients, error) {
	n, err := nomadx.New(cfg.Nomad, nomadx.Options{Logger: log, Source: cfg.Sources["nomad.address"]})
	if err != nil {
		return nil, fmt.Errorf("nomad: %w", err)
	}
	c, err := consulx.New(cfg.Consul, consulx.Options{Logger: log, Source: cfg.Sources["consul.address"]})
	if err != nil {
		return nil, fmt.Errorf("consul: %w", err)
	}
	v, err := vaultx.New(cfg.Vault, vaultx.Options{Logger: log, Source: cfg.Sources["vault.address"]})
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	return &Clients{Nomad: n, Consul: c, Vault: v}, nil
}

// systems is the set of systems a use case needs. vaultIfThere: Vault is
// used when it answers, and left out (Clients.VaultAbsent) when not.
type systems struct{ nomad, consul, vault, vaultIfThere bool }

// probe checks, in parallel and once, that each needed system answers: a
// missing or wrong agent is one clear line before any work starts, and a
// command never waits on a system it does not need.
func (c *Clients) probe(ctx context.Context, need systems) error {
	var probes []func(context.Context) error
	if need.nomad {
		probes = append(probes, c.Nomad.Probe)
	}
	if need.consul {
		probes = append(probes, c.Consul.Probe)
	}
	if need.vault {
		probes = append(probes, c.Vault.Probe)
	}
	if need.vaultIfThere && !need.vault {
		probes = append(probes, func(ctx context.Context) error {
			if err := c.Vault.Probe(ctx); apierr.Unreachable(err) {
				c.VaultAbsent = err
			}
			return nil
		})
	}
	errs := make([]error, len(probes))
	parallel.ForEachLimit(len(probes), len(probes), func(i int) { errs[i] = probes[i](ctx) })
	return errors.Join(errs...)
}

// inNamespace returns clients whose Nomad adapter addresses namespace ns:
// each project's objects live in its own namespace, whatever
// NOMAD_NAMESPACE says.
func (c *Clients) inNamespace(ns string) *Clients {
	if ns == "" || c.Nomad.Namespace() == ns {
		return c
	}
	n, ok := c.Nomad.(interface{ InNamespace(string) *nomadx.Client })
	if !ok {
		return c
	}
	cp := *c
	cp.Nomad = n.InNamespace(ns)
	return &cp
}

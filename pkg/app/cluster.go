package app

import (
	"context"
	"fmt"
	"log/slog"

	consulapi "github.com/hashicorp/consul/api"
	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/pkg/config"
	"github.com/drover-io/drover/pkg/consulx"
	"github.com/drover-io/drover/pkg/nomadx"
	"github.com/drover-io/drover/pkg/vaultx"
)

// Nomad is what the use cases need from Nomad (implemented by
// *nomadx.Client).
type Nomad interface {
	Namespace() string
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
}

// Connect builds the adapters for cfg. Nothing is contacted yet.
func Connect(cfg config.Config, log *slog.Logger) (*Clients, error) {
	n, err := nomadx.New(cfg.Nomad, nomadx.Options{Logger: log})
	if err != nil {
		return nil, fmt.Errorf("nomad: %w", err)
	}
	c, err := consulx.New(cfg.Consul, consulx.Options{Logger: log})
	if err != nil {
		return nil, fmt.Errorf("consul: %w", err)
	}
	v, err := vaultx.New(cfg.Vault, vaultx.Options{Logger: log})
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	return &Clients{Nomad: n, Consul: c, Vault: v}, nil
}

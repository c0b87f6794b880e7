package app_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/internal/fakes/consulfake"
	"github.com/drover-io/drover/internal/fakes/nomadfake"
	"github.com/drover-io/drover/internal/fakes/vaultfake"
	"github.com/drover-io/drover/internal/testutil"
	"github.com/drover-io/drover/pkg/app"
	"github.com/drover-io/drover/pkg/config"
	"github.com/drover-io/drover/pkg/consulx"
	"github.com/drover-io/drover/pkg/nomadx"
	"github.com/drover-io/drover/pkg/retry"
	"github.com/drover-io/drover/pkg/spec"
	"github.com/drover-io/drover/pkg/vaultx"
)

// fastRetry keeps retries real (three attempts) but the waits tiny.
var fastRetry = retry.Policy{Attempts: 3, Base: time.Millisecond, Max: 2 * time.Millisecond}

const projectHCL = `project "p" {
  datacenters = ["dc1"]
}
`

// Spec files of the "shop" project, which renders every kind of artifact:
// two public apps (an ingress gateway job and entry), an external (a
// catalog registration, a terminating gateway job and entry), apps with
// secrets (Vault policies and JWT roles), an autoscaled app, and mesh
// intentions between them.
const (
	apiHCL = `app "api" {
  image = "r/api:1"

  port "http" {
    to = 8080
  }

  secret "DB_PASSWORD" {
    path = "p/db"
    key  = "password"
  }

  service {
    port = "http"

    upstream "db" {
      local_port = 5432
    }
  }

  update {
    max_parallel = 1
  }

  scaling {
    min = 1
    max = 5

    policy {
      check "cpu" {
        source = "nomad-apm"
        query  = "avg_cpu-allocated"

        strategy "target-value" {
          target = 70
        }
      }
    }
  }
}
`
	webHCL = `app "web" {
  image = "r/web:1"
  count = 2

  port "http" {
    to = 3000
  }

  service {
    port = "http"

    upstream "api" {
      local_port = 9090
    }
  }

  expose {
    hosts = ["web.example.com"]
  }

  update {
    max_parallel = 1
  }
}
`
	docsHCL = `app "docs" {
  image = "r/docs:1"

  port "http" {
    to = 3000
  }

  service {
    port = "http"

    upstream "api" {
      local_port = 9090
    }
  }

  expose {
    hosts = ["docs.example.com"]
  }

  update {
    max_parallel = 1
  }
}
`
	workerHCL = `app "worker" {
  image = "r/worker:1"

  secret "TOKEN" {
    path = "p/worker"
    key  = "token"
  }

  service {
    upstream "api" {
      local_port = 9090
    }
  }

  update {
    max_parallel = 1
  }
}
`
	dbHCL = `external "db" {
  address = "db.example.com"
  port    = 5432
}
`
)

func shopFiles() map[string]string {
	return map[string]string{
		"drover.hcl": projectHCL,
		"api.hcl":    apiHCL,
		"web.hcl":    webHCL,
		"docs.hcl":   docsHCL,
		"worker.hcl": workerHCL,
		"db.hcl":     dbHCL,
	}
}

// cluster is a project directory and the three fakes, with drover's real
// adapters pointed at them.
type cluster struct {
	t        *testing.T
	dir      string
	nomad    *nomadfake.Server
	consul   *consulfake.Server
	vault    *vaultfake.Server
	nomadc   *nomadx.Client
	consulc  *consulx.Client
	vaultc   *vaultx.Client
	clients  *app.Clients
	progress *testutil.SyncBuffer
}

// newCluster writes files into a fresh project directory and starts empty
// fakes. setup, when given, runs on the Nomad fake before any request (for
// AutoSucceed).
func newCluster(t *testing.T, files map[string]string, setup ...func(*nomadfake.Server)) *cluster {
	t.Helper()
	c := &cluster{
		t:        t,
		dir:      t.TempDir(),
		nomad:    nomadfake.New(t),
		consul:   consulfake.New(t),
		vault:    vaultfake.New(t),
		progress: &testutil.SyncBuffer{},
	}
	for _, f := range setup {
		f(c.nomad)
	}
	for name, data := range files {
		c.write(name, data)
	}
	var err error
	if c.nomadc, err = nomadx.New(config.Endpoint{Address: c.nomad.URL()}, nomadx.Options{Retry: fastRetry}); err != nil {
		t.Fatal(err)
	}
	if c.consulc, err = consulx.New(config.Endpoint{Address: c.consul.URL()}, consulx.Options{Retry: fastRetry}); err != nil {
		t.Fatal(err)
	}
	c.vaultc = newVaultClient(t, c.vault, vaultfake.RootToken)
	c.clients = &app.Clients{Nomad: c.nomadc, Consul: c.consulc, Vault: c.vaultc}
	return c
}

func autoSucceed(s *nomadfake.Server) { s.AutoSucceed = true }

func newVaultClient(t *testing.T, v *vaultfake.Server, token string) *vaultx.Client {
	t.Helper()
	c, err := vaultx.New(config.Endpoint{Address: v.URL(), Token: config.Secret(token)}, vaultx.Options{Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *cluster) write(name, data string) {
	c.t.Helper()
	if err := os.WriteFile(filepath.Join(c.dir, name), []byte(data), 0o644); err != nil {
		c.t.Fatal(err)
	}
}

func (c *cluster) remove(name string) {
	c.t.Helper()
	if err := os.Remove(filepath.Join(c.dir, name)); err != nil {
		c.t.Fatal(err)
	}
}

// opts are the cluster options for the given spec files (the whole project
// when none are named).
func (c *cluster) opts(files ...string) app.ClusterOptions {
	paths := []string{c.dir}
	if len(files) > 0 {
		paths = nil
		for _, f := range files {
			paths = append(paths, filepath.Join(c.dir, f))
		}
	}
	return app.ClusterOptions{
		Load:     spec.LoadOptions{Paths: paths},
		Clients:  c.clients,
		Version:  "test",
		Progress: c.progress,
	}
}

func (c *cluster) plan(opts app.PlanOptions) *app.Plan {
	c.t.Helper()
	if opts.Load.Paths == nil {
		opts.ClusterOptions = c.opts()
	}
	res, err := app.RunPlan(testContext(c.t), opts)
	if err != nil {
		c.t.Fatalf("plan: %v %v", err, res.Diags)
	}
	return res.Plan
}

// deploy deploys the whole project and fails the test on any error.
func (c *cluster) deploy(opts app.DeployOptions) *app.DeployResult {
	c.t.Helper()
	if opts.Load.Paths == nil {
		opts.ClusterOptions = c.opts()
	}
	res, err := app.Deploy(testContext(c.t), opts)
	if err != nil {
		c.t.Fatalf("deploy: %v %v\nprogress:\n%s", err, res.Diags, c.progress.String())
	}
	return res
}

// testContext bounds a use case, so that a watch that never ends fails
// the test instead of hanging it for Nomad's five-minute blocking queries.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// writeCounts counts the state-changing requests each fake has received.
type writeCounts struct{ Nomad, Consul, Vault int }

func (c *cluster) writes() writeCounts {
	return writeCounts{len(c.nomad.Writes()), len(c.consul.Writes()), len(c.vault.Writes())}
}

func (c *cluster) resetRequests() {
	c.nomad.ResetRequests()
	c.consul.ResetRequests()
	c.vault.ResetRequests()
}

// changes lists a plan's changes as "action system kind name", hiding the
// unchanged ones.
func changes(p *app.Plan) []string {
	var out []string
	for _, ch := range p.Changes {
		if ch.Action != app.ActionNone {
			out = append(out, string(ch.Action)+" "+ch.Key())
		}
	}
	return out
}

// findChange returns the change of the object with key, or nil.
func findChange(p *app.Plan, key string) *app.Change {
	for _, ch := range p.Changes {
		if ch.Key() == key {
			return ch
		}
	}
	return nil
}

// hookedNomad is the real Nomad adapter with test hooks around the calls
// where a concurrent writer or the scheduler acts: a register, and a
// blocking read of a deployment (the watcher waiting for news).
type hookedNomad struct {
	*nomadx.Client
	beforeRegister func(job *nomadapi.Job)
	afterRegister  func(job *nomadapi.Job, resp *nomadapi.JobRegisterResponse)
	// onBlock runs before the n-th (from 1) blocking deployment read.
	onBlock func(n int, deploymentID string)
	// beforeScale runs before a scale request is sent.
	beforeScale func(jobID string)

	mu     sync.Mutex
	blocks int
}

func (h *hookedNomad) Register(ctx context.Context, job *nomadapi.Job, opts nomadx.RegisterOptions) (*nomadapi.JobRegisterResponse, error) {
	if h.beforeRegister != nil {
		h.beforeRegister(job)
	}
	resp, err := h.Client.Register(ctx, job, opts)
	if err == nil && h.afterRegister != nil {
		h.afterRegister(job, resp)
	}
	return resp, err
}

func (h *hookedNomad) Deployment(ctx context.Context, id string, waitIndex uint64) (*nomadapi.Deployment, uint64, error) {
	if waitIndex > 0 && h.onBlock != nil {
		h.mu.Lock()
		h.blocks++
		n := h.blocks
		h.mu.Unlock()
		h.onBlock(n, id)
	}
	return h.Client.Deployment(ctx, id, waitIndex)
}

func (h *hookedNomad) Scale(ctx context.Context, jobID string, r nomadx.ScaleRequest) (*nomadapi.JobRegisterResponse, error) {
	if h.beforeScale != nil {
		h.beforeScale(jobID)
	}
	return h.Client.Scale(ctx, jobID, r)
}

// hook replaces the cluster's Nomad client with a hooked one.
func (c *cluster) hook(h *hookedNomad) *hookedNomad {
	h.Client = c.nomadc
	c.clients = &app.Clients{Nomad: h, Consul: c.consulc, Vault: c.vaultc}
	return h
}

//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"

	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drover-io/drover/pkg/cli"
)

// The project every deploy test works on. Its apps are named it-* so that
// they cannot clash with anything else on a shared test cluster.
const itProject = `
project "drover-it" {
  datacenters = ["*"]

  ingress_gateway {
    port = 18480
  }
}

variable "image" {
  type    = string
  default = "testapp:local"
}

variable "release" {
  type    = string
  default = "1"
}

variable "listen" {
  type    = string
  default = ":8080"
}
`

// it-worker runs for real (no sidecar, a local image) and reads a Vault
// secret through its workload identity.
const itWorker = `
app "it-worker" {
  image = var.image
  count = 1
  env = {
    LISTEN_ADDR = var.listen
    RELEASE     = var.release
  }
  secret "APP_PASSWORD" {
    path = "drover-it/worker"
    key  = "password"
  }
  update {
    min_healthy_time  = "2s"
    healthy_deadline  = "25s"
    progress_deadline = "50s"
    auto_revert       = true
  }
}
`

// it-api exercises the control plane: mesh service, intentions, ingress,
// an external through the terminating gateway, an autoscaling policy. Its
// Envoy sidecar cannot start where no Envoy image exists, so its
// deployment never finishes; tests deploy it with --detach.
const itAPI = `
app "it-api" {
  image = var.image
  port "http" {
    to = 8080
  }
  env = {
    LISTEN_ADDR = ":8080"
  }
  service {
    check "health" {
      path = "/health"
    }
    upstream "it-db" {
      local_port = 15432
    }
  }
  expose {
    hosts = ["it-api.example.com"]
  }
  scaling {
    min = 1
    max = 3
    policy {
      cooldown = "1m"
      check "cpu" {
        query = "avg_cpu-allocated"
        strategy "target-value" {
          target = 70
        }
      }
    }
  }
}

external "it-db" {
  address = "db.drover-it.example.com"
  port    = 5432
}
`

type itResult struct {
	code           cli.ExitCode
	stdout, stderr string
}

// drover runs the real entry point in-process with this process's
// environment (NOMAD_ADDR and friends).
func drover(t *testing.T, args ...string) itResult {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	code := cli.Main(ctx, append([]string{"drover"}, args...), cli.IO{
		In: strings.NewReader(""), Out: &out, Err: &errOut, Getenv: os.Getenv, Environ: os.Environ,
	})
	t.Logf("drover %s -> %d\n%s%s", strings.Join(args, " "), code, out.String(), errOut.String())
	return itResult{code, out.String(), errOut.String()}
}

func requireAll(t *testing.T) (nomad, consul, vault string) {
	t.Helper()
	nomad = requireAgent(t, "NOMAD_ADDR", "/v1/agent/health")
	consul = requireAgent(t, "CONSUL_HTTP_ADDR", "/v1/status/leader")
	vault = requireAgent(t, "VAULT_ADDR", "/v1/sys/health")
	if os.Getenv("VAULT_TOKEN") == "" {
		t.Skip("VAULT_TOKEN is not set: export a token that may write policies and JWT roles")
	}
	return
}

// api makes a raw HTTP call to an agent; returns status and body.
func api(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("X-Vault-Token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

func writeProject(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func imageArgs() []string {
	if img := os.Getenv("DROVER_IT_IMAGE"); img != "" {
		return []string{"--var", "image=" + img}
	}
	return nil
}

// TestDeployLifecycle: validate, plan, deploy (control plane and a watched
// rollout), plan again (no changes), redeploy (zero writes), secrets check,
// scale, destroy - against real agents.
func TestDeployLifecycle(t *testing.T) {
	nomad, consul, vault := requireAll(t)
	token := os.Getenv("VAULT_TOKEN")
	dir := writeProject(t, map[string]string{"drover.hcl": itProject, "worker.hcl": itWorker, "api.hcl": itAPI})
	t.Cleanup(func() { drover(t, append([]string{"destroy", dir, "--yes", "--purge"}, imageArgs()...)...) })

	if code, body := api(t, "PUT", vault+"/v1/secret/data/drover-it/worker", token, `{"data":{"password":"it-only-not-a-secret"}}`); code >= 300 {
		t.Fatalf("seed the secret: %d %s", code, body)
	}
	if r := drover(t, "validate", dir); r.code != cli.ExitOK {
		t.Fatalf("validate: %d", r.code)
	}
	if r := drover(t, append([]string{"plan", dir}, imageArgs()...)...); r.code != cli.ExitChanges {
		t.Fatalf("plan before deploy: exit %d, want %d (changes)", r.code, cli.ExitChanges)
	}

	// The control plane, without watching (it-api's sidecar cannot run here).
	if r := drover(t, append([]string{"deploy", dir, "--detach"}, imageArgs()...)...); r.code != cli.ExitOK {
		t.Fatalf("deploy --detach: exit %d", r.code)
	}
	code, body := api(t, "GET", consul+"/v1/config/service-intentions/it-db", "", "")
	if code != 200 || !strings.Contains(body, `"it-api"`) || !strings.Contains(body, `"deny"`) {
		t.Errorf("intentions of it-db: %d %s", code, body)
	}
	if code, body := api(t, "GET", consul+"/v1/config/ingress-gateway/drover-it-ingress", "", ""); code != 200 || !strings.Contains(body, "it-api.example.com") {
		t.Errorf("ingress gateway entry: %d %s", code, body)
	}
	if code, body := api(t, "GET", consul+"/v1/catalog/node/external-it-db", "", ""); code != 200 || !strings.Contains(body, "db.drover-it.example.com") {
		t.Errorf("catalog registration of it-db: %d %s", code, body)
	}
	if code, body := api(t, "GET", vault+"/v1/sys/policies/acl/drover-it-worker", token, ""); code != 200 || !strings.Contains(body, "secret/data/drover-it/worker") {
		t.Errorf("vault policy: %d %s", code, body)
	}
	if code, body := api(t, "GET", nomad+"/v1/job/it-api", "", ""); code != 200 || !strings.Contains(body, `"drover-managed":"true"`) {
		t.Errorf("nomad job it-api: %d", code)
	}

	// Deployed means no drift: plan finds nothing, deploy writes nothing.
	if r := drover(t, append([]string{"plan", dir}, imageArgs()...)...); r.code != cli.ExitOK || !strings.Contains(r.stdout, "No changes") {
		t.Errorf("plan after deploy: exit %d, want 0 and no changes", r.code)
	}
	before := jobVersion(t, nomad, "it-worker")
	if r := drover(t, append([]string{"deploy", dir, "--detach"}, imageArgs()...)...); r.code != cli.ExitOK || !strings.Contains(r.stderr, "Nothing to apply") {
		t.Errorf("redeploy: exit %d, want 0 with nothing to apply", r.code)
	}
	if after := jobVersion(t, nomad, "it-worker"); after != before {
		t.Errorf("a redeploy without changes made a new job version: %d -> %d", before, after)
	}

	// A watched rollout of one spec, for real: a new release of it-worker.
	r := drover(t, append([]string{"deploy", filepath.Join(dir, "worker.hcl"), "--var", "release=2"}, imageArgs()...)...)
	if r.code != cli.ExitOK || !strings.Contains(r.stdout, "it-worker: successful") {
		t.Fatalf("watched deploy of it-worker: exit %d", r.code)
	}

	if r := drover(t, "secrets", "check", dir); r.code != cli.ExitOK || !strings.Contains(r.stdout, "ok") || strings.Contains(r.stdout+r.stderr, "it-only-not-a-secret") {
		t.Errorf("secrets check: exit %d (and the value must never be printed)", r.code)
	}

	if r := drover(t, "scale", "it-worker", "2"); r.code != cli.ExitOK {
		t.Errorf("scale it-worker 2: exit %d", r.code)
	}
	if r := drover(t, "scale", "it-api", "7"); r.code != cli.ExitError || !strings.Contains(r.stderr, "outside the group's scaling bounds [1, 3]") {
		t.Errorf("scale outside bounds: exit %d", r.code)
	}
	// it-api's deployment never finishes here (no Envoy), so Nomad refuses
	// to scale it: drover must say why.
	if r := drover(t, "scale", "it-api", "2"); r.code != cli.ExitError || !strings.Contains(r.stderr, "deployment is in progress") {
		t.Errorf("scale during a deployment: exit %d", r.code)
	}

	if r := drover(t, append([]string{"destroy", dir, "--yes"}, imageArgs()...)...); r.code != cli.ExitOK {
		t.Fatalf("destroy: exit %d", r.code)
	}
	for _, u := range []string{consul + "/v1/config/service-intentions/it-db", consul + "/v1/config/ingress-gateway/drover-it-ingress", consul + "/v1/config/service-defaults/it-api"} {
		if code, _ := api(t, "GET", u, "", ""); code != 404 {
			t.Errorf("after destroy %s: %d, want 404", u, code)
		}
	}
	if code, body := api(t, "GET", consul+"/v1/catalog/node/external-it-db", "", ""); code == 200 && strings.TrimSpace(body) != "null" {
		t.Errorf("after destroy the external is still registered: %s", body)
	}
	if code, _ := api(t, "GET", vault+"/v1/sys/policies/acl/drover-it-worker", token, ""); code != 404 {
		t.Errorf("after destroy the vault policy: %d, want 404", code)
	}
	if _, body := api(t, "GET", nomad+"/v1/job/it-worker", "", ""); !strings.Contains(body, `"Stop":true`) {
		t.Errorf("after destroy it-worker is not stopped")
	}
}

func jobVersion(t *testing.T, nomad, id string) int {
	t.Helper()
	code, body := api(t, "GET", nomad+"/v1/job/"+id, "", "")
	if code != 200 {
		t.Fatalf("read job %s: %d", id, code)
	}
	var j struct{ Version int }
	if err := json.Unmarshal([]byte(body), &j); err != nil {
		t.Fatal(err)
	}
	return j.Version
}

// TestFailedDeploymentIsExplained: a release that cannot start (it cannot
// listen: the image is local, nothing is pulled) fails the deployment,
// auto-revert rolls it back, and drover exits 1 saying why.
func TestFailedDeploymentIsExplained(t *testing.T) {
	_, _, vault := requireAll(t)
	token := os.Getenv("VAULT_TOKEN")
	dir := writeProject(t, map[string]string{"drover.hcl": itProject, "worker.hcl": itWorker})
	t.Cleanup(func() { drover(t, "destroy", dir, "--yes", "--purge") })
	if code, body := api(t, "PUT", vault+"/v1/secret/data/drover-it/worker", token, `{"data":{"password":"it-only-not-a-secret"}}`); code >= 300 {
		t.Fatalf("seed the secret: %d %s", code, body)
	}
	if r := drover(t, append([]string{"deploy", dir}, imageArgs()...)...); r.code != cli.ExitOK {
		t.Fatalf("first deploy: exit %d", r.code)
	}
	r := drover(t, append([]string{"deploy", dir, "--var", "listen=no-such-address"}, imageArgs()...)...)
	if r.code != cli.ExitError {
		t.Fatalf("deploy of a release that cannot start: exit %d, want 1", r.code)
	}
	for _, want := range []string{"rolled-back", "rolled the job back to version", "Terminated"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the outcome should say %q:\n%s", want, r.stdout)
		}
	}
}

//go:build integration

package integration

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/drover-io/drover/pkg/cli"
)

// itProd carries what production jobs use, on the test bed for real: a port
// published on the host (loopback host network), a service outside the mesh
// with its check, files rendered from Consul KV, a Nomad variable and Vault,
// restart and kill settings, a constraint, a raw_exec helper with a restart
// policy of its own, an artifact fetched into the task, one service name on
// two ports (a dashed port label) with a check probing the other port, and
// Nomad's own vocabulary for the long tail. Local images only.
const itProd = `
app "it-prod" {
  image = var.image
  env = {
    LISTEN_ADDR = ":8080"
  }

  port "http" {
    static       = 18090
    to           = 8080
    host_network = "loopback"
  }

  port "admin-ui" {
    static       = 18091
    to           = 9090
    host_network = "loopback"
  }

  service {
    mesh = false
    name = "it-prod"
    port = "http"
    check "health" {
      path           = "/health"
      interval       = "2s"
      initial_status = "passing"
    }
  }

  service {
    mesh = false
    name = "it-prod"
    port = "admin-ui"
    check "admin-health" {
      path     = "/health"
      port     = "http"
      interval = "2s"
    }
  }

  service {
    mesh = false
    name = "it-prod-raw"
    port = 18090
    check "raw" {
      type     = "tcp"
      interval = "3s"
    }
  }

  service {
    mesh = false
    name = "it-prod-addr"
    check "addr" {
      type     = "tcp"
      port     = "http"
      interval = "3s"
    }
  }

  artifact {
    source      = "ARTIFACT_URL"
    destination = "local/fetched.txt"
    mode        = "file"
  }

  constraint {
    attribute = "$${attr.kernel.name}"
    value     = "linux"
  }

  restart {
    attempts = 1
    mode     = "fail"
  }

  kill_timeout = "5s"
  kill_signal  = "SIGINT"

  file "local/kv.txt" {
    content = "{{ key \"drover-it/greeting\" }}"
  }

  file "local/delim.txt" {
    content              = "(( key \"drover-it/greeting\" )) {{ not a template }}"
    left_delimiter       = "(("
    right_delimiter      = "))"
    splay                = "1s"
    error_on_missing_key = true
  }

  file "local/var.txt" {
    content = "{{ with nomadVar \"nomad/jobs/it-prod\" }}{{ .rate }}{{ end }}"
  }

  file "secrets/tls.pem" {
    content = "{{ with secret \"secret/data/drover-it/tls\" }}{{ .Data.data.cert }}{{ end }}"
    secrets = ["drover-it/tls"]
    perms   = "0600"
  }

  task "keeper" {
    driver  = "raw_exec"
    command = "/bin/sh"
    args    = ["-c", "while true; do sleep 30; done"]
    lifecycle {
      hook    = "poststart"
      sidecar = true
    }
    restart {
      attempts = 7
      delay    = "3s"
    }
  }

  update {
    min_healthy_time  = "2s"
    healthy_deadline  = "40s"
    progress_deadline = "60s"
  }

  nomad {
    task "it-prod" {
      logs {
        max_files     = 2
        max_file_size = 5
      }
    }
  }
}

app "it-node" {
  type    = "system"
  driver  = "raw_exec"
  command = "/bin/sh"
  args    = ["-c", "while true; do sleep 30; done"]
}
`

func TestProductionShapesRunForReal(t *testing.T) {
	nomad, consul, vault := requireAll(t)
	token := os.Getenv("VAULT_TOKEN")
	// The artifact comes from a server on the host's loopback, which the
	// Nomad client fetches from before the task starts.
	artifacts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("fetched by nomad"))
	}))
	t.Cleanup(artifacts.Close)
	spec := strings.Replace(itProd, "ARTIFACT_URL", artifacts.URL+"/fetched.txt", 1)
	dir := writeProject(t, map[string]string{"drover.hcl": itProject, "prod.hcl": spec})
	t.Cleanup(func() {
		drover(t, append([]string{"destroy", dir, "--yes", "--purge"}, imageArgs()...)...)
		api(t, "DELETE", nomad+"/v1/var/nomad/jobs/it-prod", "", "")
	})
	if code, body := api(t, "PUT", consul+"/v1/kv/drover-it/greeting", "", "hello from consul kv"); code != 200 {
		t.Fatalf("seed consul kv: %d %s", code, body)
	}
	if code, body := api(t, "PUT", nomad+"/v1/var/nomad/jobs/it-prod", "", `{"Items":{"rate":"42"}}`); code != 200 {
		t.Fatalf("seed nomad variable: %d %s", code, body)
	}
	if code, body := api(t, "PUT", vault+"/v1/secret/data/drover-it/tls", token, `{"data":{"cert":"it-only-cert"}}`); code >= 300 {
		t.Fatalf("seed vault: %d %s", code, body)
	}
	if r := drover(t, "validate", dir); r.code != cli.ExitOK {
		t.Fatalf("validate: exit %d", r.code)
	}
	r := drover(t, append([]string{"deploy", dir}, imageArgs()...)...)
	if r.code != cli.ExitOK || !strings.Contains(r.stdout, "it-prod: successful") {
		t.Fatalf("deploy: exit %d", r.code)
	}

	// The published port answers on the host's loopback network.
	client := &http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get("http://127.0.0.1:18090/health")
	if err != nil {
		t.Fatalf("the published port: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("the published port answered %d", resp.StatusCode)
	}

	// The service outside the mesh is in Consul at both its ports, and
	// both checks pass: the admin port's probes the http port.
	passing, health := false, ""
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && !passing; time.Sleep(time.Second) {
		_, health = api(t, "GET", consul+"/v1/health/service/it-prod?passing=true", "", "")
		var entries []struct {
			Service struct{ Port int }
			Checks  []struct{ Name, Status string }
		}
		_ = json.Unmarshal([]byte(health), &entries)
		ports := map[int]bool{}
		for _, e := range entries {
			for _, c := range e.Checks {
				if c.Name == "health" || c.Name == "admin-health" {
					ports[e.Service.Port] = true
				}
			}
		}
		passing = len(entries) == 2 && ports[18090] && ports[18091]
	}
	if !passing {
		_, all := api(t, "GET", consul+"/v1/health/service/it-prod", "", "")
		t.Errorf("it-prod is not registered in Consul with passing checks at ports 18090 and 18091:\n%s", all)
	}

	// A service at a port number, and one with no port whose check probes
	// the published port: both registered, both passing.
	for name, port := range map[string]int{"it-prod-raw": 18090, "it-prod-addr": 0} {
		ok, body := false, ""
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && !ok; time.Sleep(time.Second) {
			_, body = api(t, "GET", consul+"/v1/health/service/"+name+"?passing=true", "", "")
			var entries []struct{ Service struct{ Port int } }
			_ = json.Unmarshal([]byte(body), &entries)
			ok = len(entries) == 1 && entries[0].Service.Port == port
		}
		if !ok {
			_, all := api(t, "GET", consul+"/v1/health/service/"+name, "", "")
			t.Errorf("%s is not registered in Consul at port %d with a passing check:\n%s", name, port, all)
		}
	}

	// Files rendered from Consul KV, the Nomad variable and Vault.
	alloc := runningAlloc(t, nomad, "it-prod")
	for path, want := range map[string]string{
		"it-prod/local/kv.txt":  "hello from consul kv",
		"it-prod/local/var.txt": "42",
		// other delimiters: {{ }} is the file's own
		"it-prod/local/delim.txt": "hello from consul kv {{ not a template }}",
		// the artifact
		"it-prod/local/fetched.txt": "fetched by nomad",
	} {
		code, body := api(t, "GET", nomad+"/v1/client/fs/cat/"+alloc+"?path="+path, "", "")
		if code != 200 || strings.TrimSpace(body) != want {
			t.Errorf("%s: %d %q, want %q", path, code, body, want)
		}
	}
	// Nomad refuses to show the secrets directory, which is the point of
	// it; its size says the secret was rendered (the task starts only once
	// its templates have).
	code, body := api(t, "GET", nomad+"/v1/client/fs/stat/"+alloc+"?path=it-prod/secrets/tls.pem", "", "")
	var st struct{ Size int64 }
	if err := json.Unmarshal([]byte(body), &st); code != 200 || err != nil || st.Size != int64(len("it-only-cert")) {
		t.Errorf("secrets/tls.pem: %d %s, want a file of %d bytes", code, body, len("it-only-cert"))
	}
	if strings.Contains(r.stdout+r.stderr, "it-only-cert") {
		t.Error("the secret value appears in drover's output")
	}

	// The system job runs on the client; the raw_exec helper runs.
	if a := runningAlloc(t, nomad, "it-node"); a == "" {
		t.Error("the system job has no running allocation")
	}
	_, body = api(t, "GET", nomad+"/v1/allocation/"+alloc, "", "")
	if !strings.Contains(body, `"keeper":{`) || !strings.Contains(body, `"KillTimeout":5000000000`) {
		t.Errorf("the allocation lacks the raw_exec helper or the kill settings")
	}
	// The helper runs with its own restart policy, the app's task with the
	// app's.
	_, body = api(t, "GET", nomad+"/v1/job/it-prod", "", "")
	var job struct {
		TaskGroups []struct {
			Tasks []struct {
				Name          string
				RestartPolicy struct{ Attempts int }
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &job); err != nil || len(job.TaskGroups) != 1 {
		t.Fatalf("job it-prod: %v", err)
	}
	for _, task := range job.TaskGroups[0].Tasks {
		want := map[string]int{"keeper": 7, "it-prod": 1}[task.Name]
		if task.RestartPolicy.Attempts != want {
			t.Errorf("task %s restarts %d times, want %d", task.Name, task.RestartPolicy.Attempts, want)
		}
	}
	if r := drover(t, append([]string{"plan", dir}, imageArgs()...)...); r.code != cli.ExitOK {
		t.Errorf("plan after deploy: exit %d, want no changes", r.code)
	}
}

// runningAlloc returns the ID of a running allocation of a job.
func runningAlloc(t *testing.T, nomad, job string) string {
	t.Helper()
	code, body := api(t, "GET", nomad+"/v1/job/"+job+"/allocations", "", "")
	if code != 200 {
		t.Fatalf("allocations of %s: %d", job, code)
	}
	var allocs []struct{ ID, ClientStatus string }
	if err := json.Unmarshal([]byte(body), &allocs); err != nil {
		t.Fatal(err)
	}
	for _, a := range allocs {
		if a.ClientStatus == "running" {
			return a.ID
		}
	}
	t.Fatalf("%s has no running allocation", job)
	return ""
}

// itVolume mounts a dynamic host volume, which the test creates with
// Nomad's built-in mkdir plugin, into the app's container, and names the
// group's network namespace (hostname).
const itVolume = `
app "it-vol" {
  image    = var.image
  hostname = "it-vol-host"
  env = {
    LISTEN_ADDR = ":8080"
  }

  volume "data" {
    source          = "drover-it-data"
    access_mode     = "single-node-writer"
    attachment_mode = "file-system"
  }

  mount "data" {
    path = "/data"
  }

  update {
    min_healthy_time  = "2s"
    healthy_deadline  = "40s"
    progress_deadline = "60s"
  }
}
`

func TestHostVolumeForReal(t *testing.T) {
	nomad, _, _ := requireAll(t)
	code, body := api(t, "PUT", nomad+"/v1/volume/host/create", "",
		`{"Volume":{"Name":"drover-it-data","Namespace":"default","PluginID":"mkdir","RequestedCapabilities":[{"AccessMode":"single-node-writer","AttachmentMode":"file-system"}]}}`)
	if code != 200 {
		t.Skipf("this Nomad creates no dynamic host volumes (%d %s)", code, strings.TrimSpace(body))
	}
	var created struct{ Volume struct{ ID, HostPath string } }
	if err := json.Unmarshal([]byte(body), &created); err != nil || created.Volume.ID == "" {
		t.Fatalf("create the host volume: %v %s", err, body)
	}
	// The client makes the directory; until then the volume is pending.
	ready := ""
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && !strings.Contains(ready, `"State":"ready"`); time.Sleep(200 * time.Millisecond) {
		_, ready = api(t, "GET", nomad+"/v1/volume/host/"+created.Volume.ID, "", "")
	}
	dir := writeProject(t, map[string]string{"drover.hcl": itProject, "vol.hcl": itVolume})
	t.Cleanup(func() {
		drover(t, append([]string{"destroy", dir, "--yes", "--purge"}, imageArgs()...)...)
		api(t, "DELETE", nomad+"/v1/volume/host/"+created.Volume.ID, "", "")
	})
	r := drover(t, append([]string{"deploy", dir}, imageArgs()...)...)
	if r.code != cli.ExitOK || !strings.Contains(r.stdout, "it-vol: successful") {
		t.Fatalf("deploy: exit %d", r.code)
	}
	alloc := runningAlloc(t, nomad, "it-vol")
	// Nomad counts the allocation's claim on the volume ...
	_, body = api(t, "GET", nomad+"/v1/volume/host/"+created.Volume.ID, "", "")
	if !strings.Contains(body, alloc) {
		t.Errorf("the host volume has no claim by allocation %s: %s", alloc, body)
	}
	// ... and the container has the volume's directory at the mount path.
	out, err := exec.Command("docker", "inspect", "--format", "{{.Config.Hostname}} {{range .Mounts}}{{.Source}}={{.Destination}} {{end}}", "it-vol-"+alloc).CombinedOutput()
	if err != nil {
		t.Fatalf("docker inspect: %v %s", err, out)
	}
	if want := created.Volume.HostPath + "=/data"; !strings.Contains(string(out), want) {
		t.Errorf("the container's mounts are %q, want %s among them", strings.TrimSpace(string(out)), want)
	}
	// The group's network namespace has the spec's hostname.
	if !strings.HasPrefix(string(out), "it-vol-host ") {
		t.Errorf("the container's hostname is %q, want it-vol-host", strings.Fields(string(out))[0])
	}
}

package render

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	consulapi "github.com/hashicorp/consul/api"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/drover-io/drover/pkg/spec"
)

func renderFiles(t *testing.T, files map[string]string) *Bundle {
	t.Helper()
	in := map[string][]byte{}
	for k, v := range files {
		in[k] = []byte(v)
	}
	set, diags := spec.LoadFiles(in, "", spec.VarInputs{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	b, err := Render(set, Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func entry(b *Bundle, kind, name string) consulapi.ConfigEntry {
	for _, ce := range b.ConfigEntries {
		if ce.Kind() == kind && ce.Name() == name {
			return ce.Entry
		}
	}
	return nil
}

func job(b *Bundle, id string) *Job {
	for _, j := range b.Jobs {
		if j.ID() == id {
			return j
		}
	}
	return nil
}

// TestIntentionsFollowUpstreams: each service allows exactly its declared
// callers (and the ingress gateway when public), then denies everyone.
func TestIntentionsFollowUpstreams(t *testing.T) {
	b := renderFiles(t, map[string]string{"a.hcl": `
app "web" {
  image = "r/web:1"
  port "http" { to = 80 }
  service {
    upstream "api" { local_port = 9000 }
  }
  expose { hosts = ["example.com"] }
}
app "api" {
  image = "r/api:1"
  port "http" { to = 80 }
  service {
    upstream "db" { local_port = 5432 }
  }
}
app "cron" {
  image = "r/cron:1"
  service {
    upstream "api" { local_port = 9000 }
  }
}
external "db" {
  address = "db.example.com"
  port    = 5432
}`})
	sources := func(name string) []string {
		e, ok := entry(b, consulapi.ServiceIntentions, name).(*consulapi.ServiceIntentionsConfigEntry)
		if !ok {
			t.Fatalf("no intentions for %s", name)
		}
		var out []string
		for _, s := range e.Sources {
			out = append(out, s.Name+":"+string(s.Action))
		}
		return out
	}
	for name, want := range map[string][]string{
		"web":  {"drover-ingress:allow", "*:deny"},
		"api":  {"cron:allow", "web:allow", "*:deny"},
		"cron": {"*:deny"},
		"db":   {"api:allow", "*:deny"},
	} {
		if diff := cmp.Diff(want, sources(name)); diff != "" {
			t.Errorf("intentions of %s (-want +got):\n%s", name, diff)
		}
	}
	sd := entry(b, consulapi.ServiceDefaults, "db").(*consulapi.ServiceConfigEntry)
	if sd.Protocol != "tcp" {
		t.Errorf("external protocol = %q, want tcp", sd.Protocol)
	}
}

// TestPolicyMapShape pins the map Nomad stores for a jobspec policy block,
// as recorded from a real agent in the Autoscaler's test fixtures
// (policy/nomad/test-fixtures/full-scaling.json.golden): blocks are
// one-element lists, labeled blocks add a level keyed by label.
func TestPolicyMapShape(t *testing.T) {
	b := renderFiles(t, map[string]string{"a.hcl": `
app "api" {
  image = "r/api:1"
  scaling {
    min = 1
    max = 20
    policy {
      cooldown = "2m"
      check "cpu" {
        source = "nomad-apm"
        query  = "avg_cpu"
        strategy "target-value" {
          target       = 70
          max_scale_up = 1000000
        }
      }
    }
  }
}`})
	got, err := json.Marshal(job(b, "api").Job.TaskGroups[0].Scaling.Policy)
	if err != nil {
		t.Fatal(err)
	}
	// Strategy values are strings: the Autoscaler formats numbers with %v,
	// and 1000000 as a float would become "1e+06", which ParseInt rejects.
	want := `{"check":[{"cpu":[{"query":"avg_cpu","source":"nomad-apm","strategy":[{"target-value":[{"max_scale_up":"1000000","target":"70"}]}]}]}],"cooldown":"2m"}`
	if string(got) != want {
		t.Errorf("policy map\n got %s\nwant %s", got, want)
	}
	if j := job(b, "api"); !j.PreserveCounts {
		t.Error("an enabled policy must make deploys preserve counts")
	}
}

func TestVaultArtifacts(t *testing.T) {
	b := renderFiles(t, map[string]string{
		"drover.hcl": `project "p" {
  namespace = "shop"
  vault {
    kv_mount  = "kv"
    auth_path = "jwt"
  }
}`,
		"a.hcl": `
app "api" {
  image = "r/api:1"
  secret "A" {
    path = "api/db"
    key  = "password"
  }
  secret "B" {
    path = "api/db"
    key  = "user"
  }
  task "helper" {
    image = "r/h:1"
    secret "C" {
      path = "shared/token"
      key  = "value"
    }
  }
}
app "plain" {
  image = "r/plain:1"
}`})
	if len(b.VaultPolicies) != 1 || len(b.VaultRoles) != 1 {
		t.Fatalf("want one policy and one role (apps without secrets get none), got %d and %d", len(b.VaultPolicies), len(b.VaultRoles))
	}
	p := b.VaultPolicies[0]
	if diff := cmp.Diff([]string{"kv/data/api/db", "kv/data/shared/token"}, p.Paths); diff != "" {
		t.Errorf("policy paths (-want +got):\n%s", diff)
	}
	if strings.Count(p.Policy, "path ") != 2 || strings.Contains(p.Policy, "list") || strings.Contains(p.Policy, "\"*\"") {
		t.Errorf("policy must grant read on exactly its paths:\n%s", p.Policy)
	}
	r := b.VaultRoles[0]
	if r.Path() != "auth/jwt/role/drover-api" {
		t.Errorf("role path = %s", r.Path())
	}
	if diff := cmp.Diff(map[string]any{"nomad_namespace": "shop", "nomad_job_id": "api"}, r.Data["bound_claims"]); diff != "" {
		t.Errorf("bound claims (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"drover-api"}, r.Data["token_policies"]); diff != "" {
		t.Errorf("token policies (-want +got):\n%s", diff)
	}
	// Secret values never reach the job: only paths and keys do.
	data, _ := json.Marshal(job(b, "api").Job)
	if !strings.Contains(string(data), `{{ with secret \"kv/data/api/db\" }}`) {
		t.Errorf("the job must read secrets through a template")
	}
	for _, task := range job(b, "api").Job.TaskGroups[0].Tasks {
		if task.Vault == nil || task.Vault.Role != "drover-api" || len(task.Identities) != 1 {
			t.Errorf("task %s: want the app's Vault role and a vault_default identity", task.Name)
		}
	}
	if plain := job(b, "plain").Job.TaskGroups[0].Tasks[0]; plain.Vault != nil || plain.Templates != nil {
		t.Error("an app without secrets must not get a vault block")
	}
}

func TestSelectionKeepsGatewaysWhole(t *testing.T) {
	files := map[string][]byte{
		"web.hcl": []byte(`app "web" {
  image = "r/web:1"
  port "http" { to = 80 }
  service {}
  expose { hosts = ["web.example.com"] }
}`),
		"api.hcl": []byte(`app "api" {
  image = "r/api:1"
  port "http" { to = 80 }
  service {}
  expose { hosts = ["api.example.com"] }
}`),
	}
	set, diags := spec.LoadFiles(files, "", spec.VarInputs{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	set.Selected = map[string]bool{"api": true}
	b, err := Render(set, Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if job(b, "web") != nil || job(b, "api") == nil {
		t.Error("only the selected app's job may be rendered")
	}
	in := entry(b, consulapi.IngressGateway, "drover-ingress").(*consulapi.IngressGatewayConfigEntry)
	if got := len(in.Listeners[0].Services); got != 2 {
		t.Errorf("the ingress gateway serves the whole project, got %d services", got)
	}
}

// TestHCLOutputParses: the readable rendering is valid HCL syntax.
func TestHCLOutputParses(t *testing.T) {
	for _, c := range goldenCases {
		b, err := Render(loadCase(t, c.path, c.env), Options{Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range b.Jobs {
			src := JobHCL(j.Readable())
			if _, diags := hclsyntax.ParseConfig([]byte(src), j.ID()+".nomad.hcl", hcl.InitialPos); diags.HasErrors() {
				t.Errorf("%s/%s: %s\n%s", c.name, j.ID(), diags.Error(), src)
			}
		}
	}
}

func TestRoutersSplitSharedHosts(t *testing.T) {
	set := loadCase(t, "../spec/testdata/valid/routing.hcl", "")
	b, err := Render(set, Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	r, ok := entry(b, consulapi.ServiceRouter, "web").(*consulapi.ServiceRouterConfigEntry)
	if !ok {
		t.Fatal("want a service-router on the host's default app")
	}
	var routes []string
	for _, rt := range r.Routes {
		routes = append(routes, rt.Match.HTTP.PathPrefix+"->"+rt.Destination.Service)
	}
	if diff := cmp.Diff([]string{"/docs->docs", "/api->api"}, routes); diff != "" {
		t.Errorf("routes, longest prefix first (-want +got):\n%s", diff)
	}
	in := entry(b, consulapi.IngressGateway, "drover-ingress").(*consulapi.IngressGatewayConfigEntry)
	var services []string
	for _, s := range in.Listeners[0].Services {
		services = append(services, s.Name+"="+strings.Join(s.Hosts, ","))
	}
	if diff := cmp.Diff([]string{"api=api.example.com", "web=example.com"}, services); diff != "" {
		t.Errorf("ingress services (-want +got):\n%s", diff)
	}
}

// TestServiceSharedAcrossProjects: a project's app may be called from
// another project. The callee's project names the callers (allow_from)
// and owns the intentions, still ending in deny; the caller names the
// service with its project, gets the sidecar upstream, and writes no
// intentions of the callee's.
func TestServiceSharedAcrossProjects(t *testing.T) {
	callee := renderFiles(t, map[string]string{
		"drover.hcl": "project \"platform\" {\n  datacenters = [\"dc1\"]\n}\n",
		"redis.hcl": `app "redis" {
  image = "r/redis:7"
  port "redis" {
    to = 6379
  }
  service {
    protocol   = "tcp"
    allow_from = ["team-b/api", "team-c/worker"]
  }
}
`})
	ixn := entry(callee, consulapi.ServiceIntentions, "redis").(*consulapi.ServiceIntentionsConfigEntry)
	var sources []string
	for _, s := range ixn.Sources {
		sources = append(sources, s.Name+" "+string(s.Action))
	}
	if diff := cmp.Diff([]string{"api allow", "worker allow", "* deny"}, sources); diff != "" {
		t.Errorf("redis intentions (-want +got):\n%s", diff)
	}
	if ixn.Meta[MetaProject] != "platform" {
		t.Errorf("redis intentions are owned by %q, want the callee's project", ixn.Meta[MetaProject])
	}

	caller := renderFiles(t, map[string]string{
		"drover.hcl": "project \"team-b\" {\n  datacenters = [\"dc1\"]\n}\n",
		"api.hcl": `app "api" {
  image = "r/api:1"
  port "http" {
    to = 8080
  }
  service {
    upstream "platform/redis" {
      local_port = 6379
    }
  }
}
`})
	if entry(caller, consulapi.ServiceIntentions, "redis") != nil || entry(caller, consulapi.ServiceDefaults, "redis") != nil {
		t.Error("the caller's project renders entries of the callee's service")
	}
	up := job(caller, "api").Job.TaskGroups[0].Services[0].Connect.SidecarService.Proxy.Upstreams
	if len(up) != 1 || up[0].DestinationName != "redis" || up[0].LocalBindPort != 6379 {
		t.Errorf("upstreams = %+v, want redis on 6379", up)
	}
}

// TestHostNetworkAndMounts: on the host network only the app's own docker
// task publishes the group's ports (two would collide on the host), and a
// file's bind mount survives the docker block's own mounts.
func TestHostNetworkAndMounts(t *testing.T) {
	b := renderFiles(t, map[string]string{"web.hcl": `app "web" {
  image   = "r/web:1"
  network = "host"
  port "http" {
    static = 8080
  }
  file "local/nginx.conf" {
    content = "x"
    mount   = "/etc/nginx/nginx.conf"
  }
  docker {
    mount {
      type   = "bind"
      source = "/var/log"
      target = "/host/log"
    }
  }
  task "shipper" {
    image = "r/shipper:1"
    lifecycle {
      hook    = "poststart"
      sidecar = true
    }
  }
}
`})
	tasks := job(b, "web").Job.TaskGroups[0].Tasks
	if got := tasks[0].Config["ports"]; !cmp.Equal(got, []any{"http"}) {
		t.Errorf("web's ports = %v, want [http]", got)
	}
	if _, ok := tasks[1].Config["ports"]; ok {
		t.Errorf("the helper publishes the app's ports too: %v", tasks[1].Config["ports"])
	}
	mounts, _ := tasks[0].Config["mount"].([]any)
	var targets []string
	for _, m := range mounts {
		targets = append(targets, m.(map[string]any)["target"].(string))
	}
	if !cmp.Equal(targets, []string{"/etc/nginx/nginx.conf", "/host/log"}) {
		t.Errorf("mount targets = %v, want the file's and the docker block's", targets)
	}
}

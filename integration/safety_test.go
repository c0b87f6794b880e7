//go:build integration

package integration

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/drover-io/drover/pkg/cli"
)

// seedWorkerSecret writes the secret it-worker reads.
func seedWorkerSecret(t *testing.T, vault string) {
	t.Helper()
	if code, body := api(t, "PUT", vault+"/v1/secret/data/drover-it/worker", os.Getenv("VAULT_TOKEN"), `{"data":{"password":"it-only-not-a-secret"}}`); code >= 300 {
		t.Fatalf("seed the secret: %d %s", code, body)
	}
}

// TestNamespacedProjectLifecycle: a project in its own namespace lands
// there (real Nomad lets ?namespace= win over the job's Namespace), the
// namespace is created, owned and described, the workload identity of its
// task is accepted by the Vault role bound to that namespace (the secret
// reaches the task), and status, scale and destroy find it there.
func TestNamespacedProjectLifecycle(t *testing.T) {
	nomad, _, vault := requireAll(t)
	const ns = "drover-it-team"
	project := strings.Replace(itProject, `datacenters = ["*"]`, `datacenters = ["*"]
  namespace   = "`+ns+`"`, 1)
	dir := writeProject(t, map[string]string{"drover.hcl": project, "worker.hcl": itWorker})
	t.Cleanup(func() {
		drover(t, append([]string{"destroy", dir, "--yes", "--purge"}, imageArgs()...)...)
		api(t, "DELETE", nomad+"/v1/namespace/"+ns, "", "")
	})
	seedWorkerSecret(t, vault)
	api(t, "DELETE", nomad+"/v1/namespace/"+ns, "", "")

	r := drover(t, append([]string{"plan", dir}, imageArgs()...)...)
	if r.code != cli.ExitChanges || !strings.Contains(r.stdout, "namespace "+ns) {
		t.Fatalf("plan should create namespace %s: exit %d", ns, r.code)
	}
	if r := drover(t, append([]string{"deploy", dir}, imageArgs()...)...); r.code != cli.ExitOK || !strings.Contains(r.stdout, "it-worker: successful") {
		t.Fatalf("deploy: exit %d", r.code)
	}
	code, body := api(t, "GET", nomad+"/v1/namespace/"+ns, "", "")
	if code != 200 || !strings.Contains(body, `"drover-project":"drover-it"`) || !strings.Contains(body, "Managed by drover") {
		t.Errorf("namespace %s: %d %s", ns, code, body)
	}
	if code, _ := api(t, "GET", nomad+"/v1/job/it-worker?namespace="+ns, "", ""); code != 200 {
		t.Errorf("it-worker is not in namespace %s: %d", ns, code)
	}
	if code, _ := api(t, "GET", nomad+"/v1/job/it-worker?namespace=default", "", ""); code != 404 {
		t.Errorf("it-worker is in namespace default too: %d", code)
	}
	if r := drover(t, append([]string{"plan", dir}, imageArgs()...)...); r.code != cli.ExitOK {
		t.Errorf("plan after deploy: exit %d, want 0", r.code)
	}
	r = drover(t, "status", dir, "--json")
	var st struct {
		Apps []struct{ App, Job string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &st); r.code != cli.ExitOK || err != nil || len(st.Apps) != 1 || st.Apps[0].Job != "running" {
		t.Errorf("status: exit %d (%v): it-worker should be running in %s", r.code, err, ns)
	}
	if r := drover(t, "scale", "it-worker", "2", dir); r.code != cli.ExitOK {
		t.Errorf("scale in the project's namespace: exit %d", r.code)
	}
	if r := drover(t, append([]string{"destroy", dir, "--yes", "--purge"}, imageArgs()...)...); r.code != cli.ExitOK {
		t.Fatalf("destroy: exit %d", r.code)
	}
	if code, _ := api(t, "GET", nomad+"/v1/job/it-worker?namespace="+ns, "", ""); code != 404 {
		t.Errorf("destroy --purge left it-worker in %s: %d", ns, code)
	}
}

// The example-shaped project: two public apps, one more behind a path of
// the first one's host, an internal API that the public apps and a worker
// call, and an external the API calls.
func shopProject() map[string]string {
	app := func(name, body string) string {
		return "app \"" + name + "\" {\n  image = var.image\n  port \"http\" {\n    to = 8080\n  }\n  env = {\n    LISTEN_ADDR = \":8080\"\n  }\n" + body + "}\n"
	}
	callsAPI := "  service {\n    upstream \"it-api\" {\n      local_port = 19090\n    }\n  }\n"
	return map[string]string{
		"drover.hcl": itProject,
		"web.hcl":    app("it-web", callsAPI+"  expose {\n    hosts = [\"it-web.example.com\"]\n  }\n"),
		"blog.hcl":   app("it-blog", "  service {}\n  expose {\n    hosts = [\"it-web.example.com\"]\n    path  = \"/blog\"\n  }\n"),
		"docs.hcl":   app("it-docs", callsAPI+"  expose {\n    hosts = [\"it-docs.example.com\"]\n  }\n"),
		"worker.hcl": app("it-work", callsAPI),
		"api.hcl":    app("it-api", "  service {\n    upstream \"it-db\" {\n      local_port = 15432\n    }\n  }\n") + "\nexternal \"it-db\" {\n  address = \"db.drover-it.example.com\"\n  port    = 5432\n}\n",
	}
}

func configEntry(t *testing.T, consul, kind, name string) map[string]any {
	t.Helper()
	code, body := api(t, "GET", consul+"/v1/config/"+kind+"/"+url.PathEscape(name), "", "")
	if code == 404 {
		return nil
	}
	if code != 200 {
		t.Fatalf("read %s %s: %d %s", kind, name, code, body)
	}
	var e map[string]any
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatal(err)
	}
	return e
}

// listenerServices lists the services of the ingress gateway's listeners.
func listenerServices(e map[string]any) []string {
	var out []string
	ls, _ := e["Listeners"].([]any)
	for _, l := range ls {
		svcs, _ := l.(map[string]any)["Services"].([]any)
		for _, s := range svcs {
			out = append(out, s.(map[string]any)["Name"].(string))
		}
	}
	slices.Sort(out)
	return out
}

func sourceNames(e map[string]any) []string {
	var out []string
	srcs, _ := e["Sources"].([]any)
	for _, s := range srcs {
		m := s.(map[string]any)
		out = append(out, m["Name"].(string)+" "+m["Action"].(string))
	}
	return out
}

// TestDestroyOneAppAtATime destroys the example-shaped project one spec at
// a time, every spec file left in place, in several orders, against real
// agents: after each step what remains is consistent (no destroyed app
// comes back into the gateway or the intentions, Consul accepts every
// change), and nothing of the project is left at the end.
func TestDestroyOneAppAtATime(t *testing.T) {
	nomad, consul, _ := requireAll(t)
	orders := [][]string{
		{"blog", "docs", "web", "worker", "api"},
		{"web", "worker", "blog", "docs", "api"},
	}
	names := map[string]string{"web": "it-web", "blog": "it-blog", "docs": "it-docs", "worker": "it-work", "api": "it-api"}
	for _, order := range orders {
		t.Run(strings.Join(order, ","), func(t *testing.T) {
			dir := writeProject(t, shopProject())
			t.Cleanup(func() { drover(t, append([]string{"destroy", dir, "--yes", "--purge"}, imageArgs()...)...) })
			// Sidecars cannot run without Envoy: the control plane only.
			if r := drover(t, append([]string{"deploy", dir, "--detach"}, imageArgs()...)...); r.code != cli.ExitOK {
				t.Fatalf("deploy: exit %d", r.code)
			}
			live := map[string]bool{"web": true, "blog": true, "docs": true, "worker": true, "api": true}
			for _, spec := range order {
				r := drover(t, append([]string{"destroy", filepath.Join(dir, spec+".hcl"), "--yes"}, imageArgs()...)...)
				if r.code != cli.ExitOK {
					t.Fatalf("destroy %s: exit %d", spec, r.code)
				}
				delete(live, spec)
				var wantListeners []string
				for _, s := range []string{"web", "docs", "blog"} {
					if live[s] && !(s == "blog" && live["web"]) {
						wantListeners = append(wantListeners, names[s])
					}
				}
				slices.Sort(wantListeners)
				ig := configEntry(t, consul, "ingress-gateway", "drover-it-ingress")
				if got := listenerServices(ig); !slices.Equal(got, wantListeners) {
					t.Errorf("after %s: ingress listeners %v, want %v", spec, got, wantListeners)
				}
				if live["api"] {
					var want []string
					for _, s := range []string{"docs", "web", "worker"} {
						if live[s] {
							want = append(want, names[s]+" allow")
						}
					}
					slices.Sort(want)
					want = append(want, "* deny")
					if got := sourceNames(configEntry(t, consul, "service-intentions", "it-api")); !slices.Equal(got, want) {
						t.Errorf("after %s: it-api intentions %v, want %v", spec, got, want)
					}
				}
				for s := range live {
					if _, body := api(t, "GET", nomad+"/v1/job/"+names[s], "", ""); strings.Contains(body, `"Stop":true`) {
						t.Errorf("after %s: %s was stopped", spec, s)
					}
				}
			}
			for _, kind := range []string{"service-defaults", "service-intentions", "service-router", "ingress-gateway", "terminating-gateway"} {
				_, body := api(t, "GET", consul+"/v1/config/"+kind, "", "")
				var entries []struct {
					Name string
					Meta map[string]string
				}
				if err := json.Unmarshal([]byte(body), &entries); err != nil {
					t.Fatalf("list %s: %v", kind, err)
				}
				for _, e := range entries {
					if e.Meta["drover-project"] == "drover-it" || e.Name == "drover-it-ingress" || e.Name == "drover-it-egress" {
						t.Errorf("left behind: %s %s", kind, e.Name)
					}
				}
			}
			if code, body := api(t, "GET", consul+"/v1/catalog/node/external-it-db", "", ""); code == 200 && strings.TrimSpace(body) != "null" {
				t.Errorf("the external is still registered: %s", body)
			}
		})
	}
}

// itCanary runs for real (no service, no sidecar) and keeps canaries for
// a manual promotion.
const itCanary = `
app "it-canary" {
  image = var.image
  count = 1
  env = {
    LISTEN_ADDR = var.listen
    RELEASE     = var.release
  }
  update {
    canary            = 1
    auto_promote      = false
    auto_revert       = false
    min_healthy_time  = "2s"
    healthy_deadline  = "20s"
    progress_deadline = "40s"
  }
}
`

// TestPromoteWaitingCanaries: a rollout that waits for promotion is
// promoted by `deploy --promote`, as its hint says, although nothing needs
// writing any more.
func TestPromoteWaitingCanaries(t *testing.T) {
	requireAll(t)
	dir := writeProject(t, map[string]string{"drover.hcl": itProject, "canary.hcl": itCanary})
	t.Cleanup(func() { drover(t, append([]string{"destroy", dir, "--yes", "--purge"}, imageArgs()...)...) })
	if r := drover(t, append([]string{"deploy", dir}, imageArgs()...)...); r.code != cli.ExitOK {
		t.Fatalf("first deploy: exit %d", r.code)
	}
	r := drover(t, append([]string{"deploy", dir, "--var", "release=2"}, imageArgs()...)...)
	if r.code != cli.ExitOK || !strings.Contains(r.stdout+r.stderr, "awaiting-promotion") || !strings.Contains(r.stderr, "--promote") {
		t.Fatalf("release 2 should wait for promotion: exit %d", r.code)
	}
	r = drover(t, append([]string{"deploy", dir, "--var", "release=2", "--promote"}, imageArgs()...)...)
	if r.code != cli.ExitOK || !strings.Contains(r.stdout, "it-canary: successful") {
		t.Errorf("deploy --promote with nothing to apply: exit %d, want the waiting canaries promoted", r.code)
	}
}

// TestRedeployAfterAFailedDeploymentFails: with nothing to write, a deploy
// still fails while the last deployment is failed, so a CI retry does not
// go green on a broken release.
func TestRedeployAfterAFailedDeploymentFails(t *testing.T) {
	requireAll(t)
	dir := writeProject(t, map[string]string{"drover.hcl": itProject, "canary.hcl": strings.Replace(itCanary, "canary            = 1", "canary            = 0", 1)})
	t.Cleanup(func() { drover(t, append([]string{"destroy", dir, "--yes", "--purge"}, imageArgs()...)...) })
	if r := drover(t, append([]string{"deploy", dir}, imageArgs()...)...); r.code != cli.ExitOK {
		t.Fatalf("first deploy: exit %d", r.code)
	}
	bad := append([]string{"deploy", dir, "--var", "listen=no-such-address"}, imageArgs()...)
	if r := drover(t, bad...); r.code != cli.ExitError {
		t.Fatalf("a release that cannot start: exit %d, want 1", r.code)
	}
	r := drover(t, bad...)
	if r.code != cli.ExitError || !strings.Contains(r.stdout, "it-canary: failed") {
		t.Errorf("the retry: exit %d, want 1 naming the failed deployment", r.code)
	}
	if !strings.Contains(r.stderr, "Nothing to apply") {
		t.Errorf("the retry should have had nothing to apply")
	}
}

package app_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	consulapi "github.com/hashicorp/consul/api"

	"github.com/drover-io/drover/pkg/app"
)

// blogHCL shares web's host by path, so web owns a service-router to it.
const blogHCL = `app "blog" {
  image = "r/blog:1"

  port "http" {
    to = 3000
  }

  service {
    port = "http"
  }

  expose {
    hosts = ["web.example.com"]
    path  = "/blog"
  }
}
`

// TestDestroyOneAppAtATimeInAnyOrder destroys the apps of a project with
// public apps, a path route and an external one spec at a time, with every
// spec file left in place: what remains must stay consistent after each
// step (the destroyed apps must not come back into the gateway and the
// intentions), and nothing of the project may be left at the end.
func TestDestroyOneAppAtATimeInAnyOrder(t *testing.T) {
	t.Parallel()
	orders := [][]string{
		{"blog", "docs", "web", "worker", "api", "db"},
		{"web", "blog", "worker", "docs", "api", "db"},
		{"worker", "docs", "blog", "web", "api", "db"},
	}
	public := map[string]bool{"web": true, "docs": true, "blog": true}
	callsAPI := map[string]bool{"web": true, "docs": true, "worker": true}
	for _, order := range orders {
		t.Run(strings.Join(order, ","), func(t *testing.T) {
			t.Parallel()
			files := shopFiles()
			files["blog.hcl"] = blogHCL
			c := newCluster(t, files, autoSucceed)
			c.deploy(app.DeployOptions{})
			live := map[string]bool{"web": true, "docs": true, "blog": true, "worker": true, "api": true}
			for _, name := range order {
				_, err := app.Destroy(testContext(t), app.DestroyOptions{ClusterOptions: c.opts(name + ".hcl")})
				if err != nil {
					t.Fatalf("destroy %s: %v\nprogress:\n%s", name, err, c.progress.String())
				}
				delete(live, name)
				for a := range live {
					if j := c.nomad.Job(a); j == nil || *j.Stop {
						t.Errorf("after destroying %s, %s no longer runs", name, a)
					}
				}
				if j := c.nomad.Job(name); name != "db" && (j == nil || !*j.Stop) {
					t.Errorf("%s is not stopped", name)
				}
				var wantPublic []string
				for a := range live {
					// blog is reached through web's router while web runs.
					if public[a] && !(a == "blog" && live["web"]) {
						wantPublic = append(wantPublic, a)
					}
				}
				slices.Sort(wantPublic)
				if len(wantPublic) == 0 {
					if c.consul.ConfigEntry(consulapi.IngressGateway, "p-ingress") != nil {
						t.Errorf("after %s: the ingress gateway entry outlives the last public app", name)
					}
					if j := c.nomad.Job("p-ingress"); j != nil && !*j.Stop {
						t.Errorf("after %s: the ingress gateway job outlives the last public app", name)
					}
				} else {
					got := ingressServices(t, c)
					slices.Sort(got)
					if diff := cmp.Diff(wantPublic, got); diff != "" {
						t.Errorf("after %s: ingress services (-want +got):\n%s", name, diff)
					}
				}
				if live["api"] {
					var want []string
					for a := range live {
						if callsAPI[a] {
							want = append(want, a+" allow")
						}
					}
					slices.Sort(want)
					want = append(want, "* deny")
					if diff := cmp.Diff(want, intentionSources(t, c, "api")); diff != "" {
						t.Errorf("after %s: api intentions (-want +got):\n%s", name, diff)
					}
				}
				if !live["blog"] || !live["web"] {
					if c.consul.ConfigEntry(consulapi.ServiceRouter, "web") != nil {
						t.Errorf("after %s: web's router outlives its route", name)
					}
				}
			}
			for _, kind := range []string{consulapi.ServiceDefaults, consulapi.ServiceIntentions, consulapi.ServiceRouter, consulapi.IngressGateway, consulapi.TerminatingGateway} {
				if names := c.consul.ConfigEntryNames(kind); len(names) != 0 {
					t.Errorf("left behind: %s %v", kind, names)
				}
			}
			if n := c.consul.Node("external-db"); n != nil {
				t.Error("left behind: the catalog registration of db")
			}
			for _, p := range []string{"drover-api", "drover-worker"} {
				if _, ok := c.vault.Policy(p); ok {
					t.Errorf("left behind: vault policy %s", p)
				}
			}
		})
	}
}

// TestDestroyPurgeAfterStop: a destroy --purge of what an earlier destroy
// stopped removes the stopped jobs, and says so.
func TestDestroyPurgeAfterStop(t *testing.T) {
	t.Parallel()
	c := newCluster(t, webFiles(watchedWebHCL), autoSucceed)
	c.deploy(app.DeployOptions{})
	if _, err := app.Destroy(testContext(t), app.DestroyOptions{ClusterOptions: c.opts()}); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if j := c.nomad.Job("web"); j == nil || !*j.Stop {
		t.Fatal("web is not stopped")
	}
	c.progress.Reset()
	res, err := app.Destroy(testContext(t), app.DestroyOptions{ClusterOptions: c.opts(), Purge: true})
	if err != nil {
		t.Fatalf("destroy --purge: %v", err)
	}
	if diff := cmp.Diff([]string{"delete nomad nomad-job web"}, changes(res.Plan)); diff != "" {
		t.Errorf("purge plan (-want +got):\n%s", diff)
	}
	if c.nomad.Job("web") != nil {
		t.Error("web is still in Nomad's state")
	}
	if out := c.progress.String(); !strings.Contains(out, "nomad job web purged") || strings.Contains(out, "stopped") {
		t.Errorf("progress does not say purged:\n%s", out)
	}
}

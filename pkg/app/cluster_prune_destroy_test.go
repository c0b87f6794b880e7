package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	consulapi "github.com/hashicorp/consul/api"
	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/pkg/app"
	"github.com/drover-io/drover/pkg/render"
)

func deletions(p *app.Plan) []string {
	var out []string
	for _, c := range changes(p) {
		if strings.HasPrefix(c, "delete ") {
			out = append(out, c)
		}
	}
	return out
}

// intentionSources lists the sources of a service-intentions entry as
// "name action".
func intentionSources(t *testing.T, c *cluster, name string) []string {
	t.Helper()
	e, ok := c.consul.ConfigEntry(consulapi.ServiceIntentions, name).(*consulapi.ServiceIntentionsConfigEntry)
	if !ok {
		t.Fatalf("no service-intentions %q", name)
	}
	var out []string
	for _, s := range e.Sources {
		out = append(out, s.Name+" "+string(s.Action))
	}
	return out
}

func ingressServices(t *testing.T, c *cluster) []string {
	t.Helper()
	e, ok := c.consul.ConfigEntry(consulapi.IngressGateway, "p-ingress").(*consulapi.IngressGatewayConfigEntry)
	if !ok {
		t.Fatal("no ingress-gateway entry")
	}
	var out []string
	for _, l := range e.Listeners {
		for _, s := range l.Services {
			out = append(out, s.Name)
		}
	}
	return out
}

func ingressJobServices(t *testing.T, c *cluster) []string {
	t.Helper()
	job := c.nomad.Job("p-ingress")
	var out []string
	for _, l := range job.TaskGroups[0].Services[0].Connect.Gateway.Ingress.Listeners {
		for _, s := range l.Services {
			out = append(out, s.Name)
		}
	}
	return out
}

func TestPruneRemovedSpecs(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name          string
		remove        []string
		edit          map[string]string
		wantDeletions []string
		wantUpdates   []string
		gone          func(t *testing.T, c *cluster)
	}{
		{
			name:   "an app with secrets",
			remove: []string{"worker.hcl"},
			wantDeletions: []string{
				"delete nomad nomad-job worker",
				"delete consul service-intentions worker",
				"delete consul service-defaults worker",
				"delete vault vault-jwt-role drover-worker",
				"delete vault vault-policy drover-worker",
			},
			wantUpdates: []string{"update consul service-intentions api"},
			gone: func(t *testing.T, c *cluster) {
				if j := c.nomad.Job("worker"); j == nil || !*j.Stop {
					t.Errorf("job worker should be stopped: %+v", j)
				}
				for _, kind := range []string{consulapi.ServiceDefaults, consulapi.ServiceIntentions} {
					if e := c.consul.ConfigEntry(kind, "worker"); e != nil {
						t.Errorf("%s worker still exists", kind)
					}
				}
				if _, ok := c.vault.Policy("drover-worker"); ok {
					t.Error("policy drover-worker still exists")
				}
				if r := c.vault.Role("jwt-nomad", "drover-worker"); r != nil {
					t.Error("role drover-worker still exists")
				}
				if _, ok := c.vault.Policy("drover-api"); !ok {
					t.Error("policy drover-api was deleted with worker's")
				}
				if diff := cmp.Diff([]string{"docs allow", "web allow", "* deny"}, intentionSources(t, c, "api")); diff != "" {
					t.Errorf("api intentions (-want +got):\n%s", diff)
				}
			},
		},
		{
			name:   "the last public apps",
			remove: []string{"web.hcl", "docs.hcl"},
			wantDeletions: []string{
				"delete nomad nomad-job docs",
				"delete nomad nomad-job web",
				"delete nomad nomad-job p-ingress",
				"delete consul ingress-gateway p-ingress",
				"delete consul service-intentions docs",
				"delete consul service-intentions web",
				"delete consul service-defaults docs",
				"delete consul service-defaults web",
			},
			wantUpdates: []string{"update consul service-intentions api"},
			gone: func(t *testing.T, c *cluster) {
				for _, id := range []string{"web", "docs", "p-ingress"} {
					if j := c.nomad.Job(id); j == nil || !*j.Stop {
						t.Errorf("job %s should be stopped", id)
					}
				}
				if e := c.consul.ConfigEntry(consulapi.IngressGateway, "p-ingress"); e != nil {
					t.Error("the ingress-gateway entry is left behind (Nomad never deletes it)")
				}
				if diff := cmp.Diff([]string{"worker allow", "* deny"}, intentionSources(t, c, "api")); diff != "" {
					t.Errorf("api intentions (-want +got):\n%s", diff)
				}
			},
		},
		{
			name:   "the last external",
			remove: []string{"db.hcl"},
			edit:   map[string]string{"api.hcl": strings.Replace(apiHCL, "\n    upstream \"db\" {\n      local_port = 5432\n    }\n", "", 1)},
			wantDeletions: []string{
				"delete nomad nomad-job p-egress",
				"delete consul terminating-gateway p-egress",
				"delete consul consul-catalog db",
				"delete consul service-intentions db",
				"delete consul service-defaults db",
			},
			wantUpdates: []string{"update nomad nomad-job api"},
			gone: func(t *testing.T, c *cluster) {
				if j := c.nomad.Job("p-egress"); j == nil || !*j.Stop {
					t.Error("job p-egress should be stopped")
				}
				if c.consul.ConfigEntry(consulapi.TerminatingGateway, "p-egress") != nil {
					t.Error("the terminating-gateway entry is left behind")
				}
				if c.consul.Node(render.ExternalNodeName("db")) != nil {
					t.Error("the catalog node of db is left behind")
				}
				for _, kind := range []string{consulapi.ServiceDefaults, consulapi.ServiceIntentions} {
					if c.consul.ConfigEntry(kind, "db") != nil {
						t.Errorf("%s db is left behind", kind)
					}
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCluster(t, shopFiles(), autoSucceed)
			c.deploy(app.DeployOptions{})
			for _, f := range tc.remove {
				c.remove(f)
			}
			for f, data := range tc.edit {
				c.write(f, data)
			}

			// Without Prune, what the specs no longer have is left alone.
			if got := deletions(c.plan(app.PlanOptions{})); len(got) != 0 {
				t.Errorf("plan without prune deletes %v", got)
			}

			c.resetRequests()
			p := c.plan(app.PlanOptions{Prune: true})
			if diff := cmp.Diff(tc.wantDeletions, deletions(p)); diff != "" {
				t.Errorf("deletions (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(append(append([]string(nil), tc.wantUpdates...), tc.wantDeletions...), changes(p)); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
			if got := c.writes(); got != (writeCounts{}) {
				t.Errorf("plan --prune wrote %+v", got)
			}

			c.deploy(app.DeployOptions{PlanOptions: app.PlanOptions{ClusterOptions: c.opts(), Prune: true}})
			tc.gone(t, c)
			if got := changes(c.plan(app.PlanOptions{Prune: true})); len(got) != 0 {
				t.Errorf("plan --prune after pruning: %v", got)
			}
		})
	}
}

func TestPruneRefusesASingleSpec(t *testing.T) {
	t.Parallel()
	c := newCluster(t, shopFiles(), autoSucceed)
	for _, run := range []struct {
		name string
		fn   func() error
	}{
		{"plan", func() error {
			_, err := app.RunPlan(testContext(t), app.PlanOptions{ClusterOptions: c.opts("web.hcl"), Prune: true})
			return err
		}},
		{"deploy", func() error {
			_, err := app.Deploy(testContext(t), app.DeployOptions{PlanOptions: app.PlanOptions{ClusterOptions: c.opts("web.hcl"), Prune: true}})
			return err
		}},
	} {
		err := run.fn()
		if err == nil || !strings.Contains(err.Error(), "--prune needs the whole project") {
			t.Errorf("%s --prune of one spec: got %v", run.name, err)
		}
	}
	if got := c.writes(); got != (writeCounts{}) {
		t.Errorf("a refused prune wrote %+v", got)
	}
}

func TestDestroyOneApp(t *testing.T) {
	t.Parallel()
	c := newCluster(t, shopFiles(), autoSucceed)
	c.deploy(app.DeployOptions{})
	// A pending change of an app that stays is not destroy's business.
	c.write("web.hcl", strings.Replace(webHCL, "r/web:1", "r/web:2", 1))

	var shown *app.Plan
	res, err := app.Destroy(testContext(t), app.DestroyOptions{
		ClusterOptions: c.opts("docs.hcl"),
		Confirm:        func(p *app.Plan) bool { shown = p; return true },
	})
	if err != nil {
		t.Fatalf("destroy: %v", err)
	}
	want := []string{
		"update consul service-intentions api",
		"update consul ingress-gateway p-ingress",
		"update nomad nomad-job p-ingress",
		"delete nomad nomad-job docs",
		"delete consul service-intentions docs",
		"delete consul service-defaults docs",
	}
	if diff := cmp.Diff(want, changes(shown)); diff != "" {
		t.Errorf("plan shown for confirmation (-want +got):\n%s", diff)
	}
	if len(res.Applied) != len(want) || res.Cancelled {
		t.Errorf("applied %d changes (cancelled %v), want %d", len(res.Applied), res.Cancelled, len(want))
	}

	if j := c.nomad.Job("docs"); j == nil || !*j.Stop {
		t.Error("job docs is not stopped")
	}
	for _, kind := range []string{consulapi.ServiceDefaults, consulapi.ServiceIntentions} {
		if c.consul.ConfigEntry(kind, "docs") != nil {
			t.Errorf("%s docs still exists", kind)
		}
	}
	if diff := cmp.Diff([]string{"web"}, ingressServices(t, c)); diff != "" {
		t.Errorf("ingress-gateway entry services (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"web"}, ingressJobServices(t, c)); diff != "" {
		t.Errorf("ingress gateway job services (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"web allow", "worker allow", "* deny"}, intentionSources(t, c, "api")); diff != "" {
		t.Errorf("api intentions (-want +got):\n%s", diff)
	}
	if img := c.nomad.Job("web").TaskGroups[0].Tasks[0].Config["image"]; img != "r/web:1" {
		t.Errorf("destroy deployed web's pending change: image %v", img)
	}

	// What remains matches the specs without docs.
	c.write("web.hcl", webHCL)
	c.remove("docs.hcl")
	if got := changes(c.plan(app.PlanOptions{Prune: true})); len(got) != 0 {
		t.Errorf("plan after destroy: %v", got)
	}
}

func TestDestroyWholeProject(t *testing.T) {
	t.Parallel()
	c := newCluster(t, shopFiles(), autoSucceed)
	c.deploy(app.DeployOptions{})
	res, err := app.Destroy(testContext(t), app.DestroyOptions{ClusterOptions: c.opts(), Purge: true})
	if err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if len(res.Applied) != len(shopCreates) {
		t.Errorf("destroy applied %d changes, want %d (everything deploy made)", len(res.Applied), len(shopCreates))
	}
	for _, id := range []string{"api", "docs", "web", "worker", "p-ingress", "p-egress"} {
		if c.nomad.Job(id) != nil {
			t.Errorf("job %s was not purged", id)
		}
	}
	for _, kind := range []string{consulapi.ServiceDefaults, consulapi.ServiceIntentions, consulapi.IngressGateway, consulapi.TerminatingGateway} {
		entries, _, err := c.consul.Client().ConfigEntries().List(kind, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			t.Errorf("%s %s is left behind", kind, e.GetName())
		}
	}
	if c.consul.Node(render.ExternalNodeName("db")) != nil {
		t.Error("the catalog node of db is left behind")
	}
	for _, p := range []string{"drover-api", "drover-worker"} {
		if _, ok := c.vault.Policy(p); ok {
			t.Errorf("policy %s is left behind", p)
		}
	}
	if roles := c.vault.Roles("jwt-nomad"); len(roles) != 0 {
		t.Errorf("roles left behind: %v", roles)
	}
}

func TestDestroyRefusals(t *testing.T) {
	t.Parallel()
	t.Run("an app others call", func(t *testing.T) {
		t.Parallel()
		c := newCluster(t, shopFiles(), autoSucceed)
		c.deploy(app.DeployOptions{})
		c.resetRequests()
		_, err := app.Destroy(testContext(t), app.DestroyOptions{ClusterOptions: c.opts("api.hcl")})
		if err == nil || !strings.Contains(err.Error(), "api is still called by docs, web, worker") {
			t.Fatalf("want a refusal naming api's callers, got %v", err)
		}
		if w := c.writes(); w != (writeCounts{}) {
			t.Errorf("a refused destroy wrote: %+v", w)
		}
	})

	t.Run("confirmation declined", func(t *testing.T) {
		t.Parallel()
		c := newCluster(t, shopFiles(), autoSucceed)
		c.deploy(app.DeployOptions{})
		c.resetRequests()
		asked := 0
		res, err := app.Destroy(context.Background(), app.DestroyOptions{
			ClusterOptions: c.opts("worker.hcl"),
			Confirm:        func(p *app.Plan) bool { asked++; return false },
		})
		if err != nil {
			t.Fatalf("destroy: %v", err)
		}
		if asked != 1 || !res.Cancelled || len(res.Applied) != 0 {
			t.Errorf("asked %d times, cancelled %v, applied %d", asked, res.Cancelled, len(res.Applied))
		}
		if got := c.writes(); got != (writeCounts{}) {
			t.Errorf("a cancelled destroy wrote %+v", got)
		}
		if n := nomadRequests(c.nomad, http.MethodDelete, "/v1/job/worker"); n != 0 {
			t.Errorf("%d deregisters of worker", n)
		}
	})
}

// A spec file may declare only externals (db.hcl); destroying it must
// destroy them, or refuse while an app still calls them.
func TestDestroyExternalSpec(t *testing.T) {
	t.Parallel()
	const cacheHCL = "external \"cache\" {\n  address = \"cache.example.com\"\n  port    = 6379\n}\n"

	t.Run("called by an app", func(t *testing.T) {
		t.Parallel()
		c := newCluster(t, shopFiles(), autoSucceed)
		c.deploy(app.DeployOptions{})
		_, err := app.Destroy(testContext(t), app.DestroyOptions{ClusterOptions: c.opts("db.hcl")})
		if err == nil || !strings.Contains(err.Error(), "db is still called by api") {
			t.Errorf("want a refusal naming api, got %v", err)
		}
	})

	t.Run("called by no one", func(t *testing.T) {
		t.Parallel()
		files := shopFiles()
		files["cache.hcl"] = cacheHCL
		c := newCluster(t, files, autoSucceed)
		c.deploy(app.DeployOptions{})
		res, err := app.Destroy(testContext(t), app.DestroyOptions{ClusterOptions: c.opts("cache.hcl")})
		if err != nil {
			t.Fatalf("destroy: %v", err)
		}
		want := []string{
			"update consul terminating-gateway p-egress",
			"update nomad nomad-job p-egress",
			"delete consul consul-catalog cache",
			"delete consul service-intentions cache",
			"delete consul service-defaults cache",
		}
		if diff := cmp.Diff(want, changes(res.Plan)); diff != "" {
			t.Errorf("plan (-want +got):\n%s", diff)
		}
		if c.consul.Node(render.ExternalNodeName("cache")) != nil {
			t.Error("the catalog node of cache is left behind")
		}
	})
}

// TestPruneLeavesWhatIsNotThisProjects: prune deletes only what this
// project owns. Objects of another drover project and objects drover never
// made survive, however they are named.
func TestPruneLeavesWhatIsNotThisProjects(t *testing.T) {
	t.Parallel()
	c := newCluster(t, shopFiles(), autoSucceed)
	c.deploy(app.DeployOptions{})
	other := map[string]string{render.MetaManaged: "true", render.MetaProject: "other", render.MetaApp: "x"}
	c.consul.SeedConfigEntry(&consulapi.ServiceConfigEntry{Kind: consulapi.ServiceDefaults, Name: "other-svc", Protocol: "http", Meta: other})
	c.consul.SeedConfigEntry(&consulapi.ServiceConfigEntry{Kind: consulapi.ServiceDefaults, Name: "hand-made", Protocol: "http"})
	c.consul.SeedConfigEntry(&consulapi.ServiceIntentionsConfigEntry{Kind: consulapi.ServiceIntentions, Name: "other-svc", Meta: other,
		Sources: []*consulapi.SourceIntention{{Name: "*", Action: consulapi.IntentionActionDeny}}})
	c.vault.PutPolicy("drover-other", `# Managed by drover 1: project "other", app "x", spec "x.hcl".`+"\npath \"secret/data/x\" {\n  capabilities = [\"read\"]\n}\n")
	c.vault.PutPolicy("drover-hand", "path \"secret/data/y\" {\n  capabilities = [\"read\"]\n}\n")
	if err := c.consulc.Register(testContext(t), &consulapi.CatalogRegistration{Node: "external-legacy", Address: "10.0.0.9",
		NodeMeta: map[string]string{render.MetaManaged: "true", render.MetaProject: "other"}}); err != nil {
		t.Fatal(err)
	}
	c.nomad.SeedJob(&nomadapi.Job{ID: new("other-job"), Name: new("other-job"), Type: new("service"), Datacenters: []string{"dc1"},
		Meta: other, TaskGroups: []*nomadapi.TaskGroup{{Name: new("g"), Tasks: []*nomadapi.Task{{Name: "t", Driver: "docker", Config: map[string]any{"image": "x:1"}}}}}})

	c.remove("docs.hcl") // something of this project to prune, to be sure prune ran
	res := c.deploy(app.DeployOptions{PlanOptions: app.PlanOptions{Prune: true}})
	if !contains(changes(res.Plan), "delete nomad nomad-job docs") {
		t.Fatalf("prune did not run: %v", changes(res.Plan))
	}
	for _, kind := range []string{consulapi.ServiceDefaults, consulapi.ServiceIntentions} {
		if c.consul.ConfigEntry(kind, "other-svc") == nil {
			t.Errorf("prune deleted %s other-svc of project other", kind)
		}
	}
	if c.consul.ConfigEntry(consulapi.ServiceDefaults, "hand-made") == nil {
		t.Error("prune deleted an unmanaged service-defaults")
	}
	for _, p := range []string{"drover-other", "drover-hand"} {
		if _, ok := c.vault.Policy(p); !ok {
			t.Errorf("prune deleted vault policy %s, which is not this project's", p)
		}
	}
	if c.consul.Node("external-legacy") == nil {
		t.Error("prune deregistered a catalog node of project other")
	}
	if j := c.nomad.Job("other-job"); j == nil || *j.Stop {
		t.Error("prune stopped a job of project other")
	}
}

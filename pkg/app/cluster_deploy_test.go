package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	consulapi "github.com/hashicorp/consul/api"
	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/internal/fakes/consulfake"
	"github.com/drover-io/drover/internal/fakes/nomadfake"
	"github.com/drover-io/drover/internal/fakes/vaultfake"
	"github.com/drover-io/drover/pkg/apierr"
	"github.com/drover-io/drover/pkg/app"
	"github.com/drover-io/drover/pkg/render"
)

// shopCreates is the plan of the shop project on empty clusters: every
// artifact kind, in dependency order (Vault policies, JWT roles,
// service-defaults, intentions, catalog registrations, gateway entries,
// gateway jobs, app jobs), by name within a kind.
var shopCreates = []string{
	"create vault vault-policy drover-api",
	"create vault vault-policy drover-worker",
	"create vault vault-jwt-role drover-api",
	"create vault vault-jwt-role drover-worker",
	"create consul service-defaults api",
	"create consul service-defaults db",
	"create consul service-defaults docs",
	"create consul service-defaults web",
	"create consul service-defaults worker",
	"create consul service-intentions api",
	"create consul service-intentions db",
	"create consul service-intentions docs",
	"create consul service-intentions web",
	"create consul service-intentions worker",
	"create consul consul-catalog db",
	"create consul ingress-gateway p-ingress",
	"create consul terminating-gateway p-egress",
	"create nomad nomad-job p-egress",
	"create nomad nomad-job p-ingress",
	"create nomad nomad-job api",
	"create nomad nomad-job docs",
	"create nomad nomad-job web",
	"create nomad nomad-job worker",
}

var shopAppJobs = []string{"nomad nomad-job api", "nomad nomad-job docs", "nomad nomad-job web", "nomad nomad-job worker"}

func TestPlanOnEmptyClusterCreatesEverythingInOrderAndWritesNothing(t *testing.T) {
	t.Parallel()
	c := newCluster(t, shopFiles())
	p := c.plan(app.PlanOptions{})
	if diff := cmp.Diff(shopCreates, changes(p)); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	if want := (app.Summary{Create: len(shopCreates)}); p.Summary != want {
		t.Errorf("summary = %+v, want %+v", p.Summary, want)
	}
	if got := c.writes(); got != (writeCounts{}) {
		t.Errorf("a plan wrote: %+v\nnomad: %v\nconsul: %v\nvault: %v", got, c.nomad.Writes(), c.consul.Writes(), c.vault.Writes())
	}
	// Jobs are planned with Nomad's own plan endpoint, which writes nothing.
	var plans int
	for _, r := range c.nomad.Requests() {
		if strings.HasSuffix(r.Path, "/plan") {
			plans++
		}
	}
	if plans != 6 {
		t.Errorf("%d job plans sent to Nomad, want 6 (one per job)", plans)
	}
}

func TestDeployThenRedeployMakesZeroWrites(t *testing.T) {
	t.Parallel()
	c := newCluster(t, shopFiles(), autoSucceed)
	res := c.deploy(app.DeployOptions{})

	var applied []string
	for _, ch := range res.Applied {
		applied = append(applied, "create "+ch.Key())
	}
	sort.Strings(applied)
	want := append([]string(nil), shopCreates...)
	sort.Strings(want)
	if diff := cmp.Diff(want, applied); diff != "" {
		t.Errorf("applied (-want +got):\n%s", diff)
	}
	var outcomes []string
	for _, o := range res.Deployments {
		outcomes = append(outcomes, o.Job+" "+o.Status)
	}
	wantOutcomes := []string{"api successful", "docs successful", "p-egress successful", "p-ingress successful", "web successful", "worker successful"}
	if diff := cmp.Diff(wantOutcomes, outcomes); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}

	c.resetRequests()
	p := c.plan(app.PlanOptions{})
	if got := changes(p); len(got) != 0 {
		t.Errorf("plan after deploy has changes: %v", got)
	}
	if p.Summary.Unchanged != len(shopCreates) {
		t.Errorf("unchanged = %d, want %d", p.Summary.Unchanged, len(shopCreates))
	}

	// A newer drover alone changes nothing worth writing.
	newer := c.opts()
	newer.Version = "test-next"
	again := c.deploy(app.DeployOptions{PlanOptions: app.PlanOptions{ClusterOptions: newer}})
	if got := c.writes(); got != (writeCounts{}) {
		t.Errorf("redeploy of an unchanged project wrote %+v:\nnomad: %v\nconsul: %v\nvault: %v", got, c.nomad.Writes(), c.consul.Writes(), c.vault.Writes())
	}
	if len(again.Applied) != 0 {
		t.Errorf("redeploy applied %d changes, want none", len(again.Applied))
	}
	// Writing nothing, it still checked that what runs is healthy.
	for _, o := range again.Deployments {
		if o.Status != app.StatusSuccessful && o.Status != app.StatusNoDeployment {
			t.Errorf("redeploy found %s %s", o.Job, o.Status)
		}
	}
	if len(again.Deployments) != len(res.Deployments) {
		t.Errorf("redeploy checked %d jobs, want %d", len(again.Deployments), len(res.Deployments))
	}
}

func TestDeployedObjectsCarryOwnershipAndSource(t *testing.T) {
	t.Parallel()
	files := shopFiles()
	c := newCluster(t, files, autoSucceed)
	c.deploy(app.DeployOptions{VariableFlags: map[string]string{"release": "42"}})

	jobs := []struct{ id, app, spec string }{
		{"api", "api", "api.hcl"},
		{"docs", "docs", "docs.hcl"},
		{"web", "web", "web.hcl"},
		{"worker", "worker", "worker.hcl"},
		{"p-ingress", "", "drover.hcl"},
		{"p-egress", "", "drover.hcl"},
	}
	for _, j := range jobs {
		t.Run(j.id, func(t *testing.T) {
			job := c.nomad.Job(j.id)
			if job == nil {
				t.Fatal("not registered")
			}
			want := map[string]string{
				render.MetaManaged: "true", render.MetaProject: "p", render.MetaSpec: j.spec, render.MetaVersion: "test",
			}
			if j.app != "" {
				want[render.MetaApp] = j.app
			}
			if diff := cmp.Diff(want, job.Meta); diff != "" {
				t.Errorf("meta (-want +got):\n%s", diff)
			}
			sub := c.nomad.Submission(j.id, *job.Version)
			if sub == nil {
				t.Fatal("no submission: Nomad's UI would not show the spec")
			}
			wantSub := &nomadapi.JobSubmission{Source: files[j.spec], Format: "hcl2", VariableFlags: map[string]string{"release": "42"}}
			if diff := cmp.Diff(wantSub, sub); diff != "" {
				t.Errorf("submission (-want +got):\n%s", diff)
			}
		})
	}

	if e := c.consul.ConfigEntry(consulapi.ServiceDefaults, "api"); e == nil || e.GetMeta()[render.MetaManaged] != "true" || e.GetMeta()[render.MetaProject] != "p" {
		t.Errorf("service-defaults api lacks ownership meta: %#v", e)
	}
	if n := c.consul.Node(render.ExternalNodeName("db")); n == nil || n.Node.Meta[render.MetaManaged] != "true" {
		t.Errorf("catalog node of db lacks ownership meta: %#v", n)
	}
	if text, ok := c.vault.Policy("drover-api"); !ok || !strings.HasPrefix(text, "# Managed by drover test") {
		t.Errorf("policy drover-api lacks the ownership header:\n%s", text)
	}
}

// registerRequests decodes the registers of job id from the Nomad fake's log.
func registerRequests(t *testing.T, s *nomadfake.Server, id string) []nomadapi.JobRegisterRequest {
	t.Helper()
	var out []nomadapi.JobRegisterRequest
	for _, r := range s.Requests() {
		if r.Method != http.MethodPut || r.Path != "/v1/jobs" {
			continue
		}
		var req nomadapi.JobRegisterRequest
		if err := json.Unmarshal([]byte(r.Body), &req); err != nil {
			t.Fatal(err)
		}
		if *req.Job.ID == id {
			out = append(out, req)
		}
	}
	return out
}

func groupCount(t *testing.T, s *nomadfake.Server, id string) int {
	t.Helper()
	job := s.Job(id)
	if job == nil {
		t.Fatalf("no job %q", id)
	}
	return *job.TaskGroups[0].Count
}

// An autoscaler owns the counts of an app whose scaling block has a
// policy: a count changed behind drover's back is not drift, and a redeploy
// of a changed spec keeps it. Other apps' counts are drover's.
func TestDeployPreservesAutoscaledCounts(t *testing.T) {
	t.Parallel()
	c := newCluster(t, shopFiles(), autoSucceed)
	c.deploy(app.DeployOptions{})
	if reqs := registerRequests(t, c.nomad, "api"); len(reqs) != 1 || reqs[0].PreserveCounts {
		t.Errorf("first register of api: %d requests, want 1 without PreserveCounts (there is nothing to preserve)", len(reqs))
	}

	// The autoscaler scales api; an operator scales web.
	nc := c.nomad.Client()
	for id, n := range map[string]int{"api": 4, "web": 3} {
		if _, _, err := nc.Jobs().Scale(id, id, &n, "scaled outside drover", false, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	p := c.plan(app.PlanOptions{})
	if diff := cmp.Diff([]string{"update nomad nomad-job web"}, changes(p)); diff != "" {
		t.Errorf("plan after scaling (-want +got):\n%s", diff)
	}

	c.write("api.hcl", strings.Replace(apiHCL, "r/api:1", "r/api:2", 1))
	p = c.plan(app.PlanOptions{})
	api := findChange(p, "nomad nomad-job api")
	if api == nil || api.Action != app.ActionUpdate {
		t.Fatalf("api should be updated for its new image: %+v", api)
	}
	for _, d := range api.Details {
		if strings.Contains(d, "Count") {
			t.Errorf("api's plan resets the autoscaler's count: %q", d)
		}
	}

	c.nomad.ResetRequests()
	c.deploy(app.DeployOptions{})
	if got := groupCount(t, c.nomad, "api"); got != 4 {
		t.Errorf("api count after redeploy = %d, want the autoscaler's 4", got)
	}
	if img := c.nomad.Job("api").TaskGroups[0].Tasks[0].Config["image"]; img != "r/api:2" {
		t.Errorf("api image = %v, want r/api:2", img)
	}
	if reqs := registerRequests(t, c.nomad, "api"); len(reqs) != 1 || !reqs[0].PreserveCounts {
		t.Errorf("redeploy of api must register with PreserveCounts; requests: %+v", reqs)
	}
	if got := groupCount(t, c.nomad, "web"); got != 2 {
		t.Errorf("web count after redeploy = %d, want the spec's 2", got)
	}
}

func TestPlanRefusesObjectsNotManagedByDrover(t *testing.T) {
	t.Parallel()
	foreignJob := func(meta map[string]string) *nomadapi.Job {
		return &nomadapi.Job{
			ID: new("web"), Name: new("web"), Type: new("service"), Datacenters: []string{"dc1"}, Meta: meta,
			TaskGroups: []*nomadapi.TaskGroup{{
				Name: new("web"), Count: new(1),
				Tasks: []*nomadapi.Task{{Name: "web", Driver: "docker", Config: map[string]any{"image": "someone/else:1"}}},
			}},
		}
	}
	cases := []struct {
		name   string
		seed   func(t *testing.T, c *cluster)
		object string // as the OwnershipError lists it
		key    string // the change that adopts it
	}{
		{
			name:   "nomad job",
			seed:   func(t *testing.T, c *cluster) { c.nomad.SeedJob(foreignJob(nil)) },
			object: `nomad job "web"`,
			key:    "nomad nomad-job web",
		},
		{
			name: "nomad job of another drover project",
			seed: func(t *testing.T, c *cluster) {
				c.nomad.SeedJob(foreignJob(map[string]string{render.MetaManaged: "true", render.MetaProject: "other"}))
			},
			object: `nomad job "web" (owned by drover project "other")`,
			key:    "nomad nomad-job web",
		},
		{
			name: "consul config entry",
			seed: func(t *testing.T, c *cluster) {
				c.consul.SeedConfigEntry(&consulapi.ServiceConfigEntry{Kind: consulapi.ServiceDefaults, Name: "api", Protocol: "tcp"})
			},
			object: `consul service-defaults "api"`,
			key:    "consul service-defaults api",
		},
		{
			name: "consul catalog node",
			seed: func(t *testing.T, c *cluster) {
				_, err := c.consul.Client().Catalog().Register(&consulapi.CatalogRegistration{
					Node: render.ExternalNodeName("db"), Address: "10.1.1.1",
					Service: &consulapi.AgentService{ID: "db", Service: "db", Address: "10.1.1.1", Port: 5432},
				}, nil)
				if err != nil {
					t.Fatal(err)
				}
			},
			object: `consul catalog node "external-db"`,
			key:    "consul consul-catalog db",
		},
		{
			name: "vault policy",
			seed: func(t *testing.T, c *cluster) {
				c.vault.PutPolicy("drover-api", "path \"secret/data/ops/*\" {\n  capabilities = [\"read\"]\n}\n")
			},
			object: `vault policy "drover-api"`,
			key:    "vault vault-policy drover-api",
		},
		{
			name: "vault jwt role",
			seed: func(t *testing.T, c *cluster) {
				err := c.vaultc.Write(context.Background(), "auth/jwt-nomad/role/drover-api", map[string]any{
					"role_type": "jwt", "user_claim": "sub", "bound_audiences": []string{"ops"}, "token_policies": []string{"ops"},
				})
				if err != nil {
					t.Fatal(err)
				}
			},
			object: `vault role "auth/jwt-nomad/role/drover-api"`,
			key:    "vault vault-jwt-role drover-api",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// The part of the shop that has every kind of object.
			files := shopFiles()
			delete(files, "docs.hcl")
			delete(files, "worker.hcl")
			c := newCluster(t, files)
			tc.seed(t, c)
			c.resetRequests()

			_, err := app.RunPlan(context.Background(), app.PlanOptions{ClusterOptions: c.opts()})
			var own *app.OwnershipError
			if !errors.As(err, &own) {
				t.Fatalf("want *app.OwnershipError, got %v", err)
			}
			if diff := cmp.Diff([]string{tc.object}, own.Objects); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}

			p := c.plan(app.PlanOptions{Adopt: true})
			if ch := findChange(p, tc.key); ch == nil || ch.Action != app.ActionUpdate {
				t.Errorf("with Adopt, %s should be an update: %+v", tc.key, ch)
			}
			if got := c.writes(); got != (writeCounts{}) {
				t.Errorf("planning wrote %+v", got)
			}
		})
	}
}

// Objects owned by another drover project are not this project's to
// overwrite, whatever their kind: jobs are refused (above); so must be the
// config entries, catalog nodes and policies of the same names, or two
// projects declaring the same external take each other's entries over, and
// one's destroy deletes what the other uses.
func TestPlanRefusesObjectsOfAnotherDroverProject(t *testing.T) {
	t.Parallel()
	otherMeta := map[string]string{render.MetaManaged: "true", render.MetaProject: "other", render.MetaVersion: "test"}
	cases := []struct {
		name   string
		seed   func(t *testing.T, c *cluster)
		object string
	}{
		{
			name: "consul config entry",
			seed: func(t *testing.T, c *cluster) {
				c.consul.SeedConfigEntry(&consulapi.ServiceConfigEntry{Kind: consulapi.ServiceDefaults, Name: "db", Protocol: "tcp", Meta: otherMeta})
			},
			object: `consul service-defaults "db"`,
		},
		{
			name: "consul catalog node",
			seed: func(t *testing.T, c *cluster) {
				_, err := c.consul.Client().Catalog().Register(&consulapi.CatalogRegistration{
					Node: render.ExternalNodeName("db"), Address: "db.example.com", NodeMeta: otherMeta,
					Service: &consulapi.AgentService{ID: "db", Service: "db", Address: "db.example.com", Port: 5432},
				}, nil)
				if err != nil {
					t.Fatal(err)
				}
			},
			object: `consul catalog node "external-db"`,
		},
		{
			name: "vault policy",
			seed: func(t *testing.T, c *cluster) {
				c.vault.PutPolicy("drover-api", "# Managed by drover test: project \"other\", app \"api\", spec \"api.hcl\".\n\npath \"secret/data/other/db\" {\n  capabilities = [\"read\"]\n}\n")
			},
			object: `vault policy "drover-api"`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCluster(t, shopFiles())
			tc.seed(t, c)
			_, err := app.RunPlan(context.Background(), app.PlanOptions{ClusterOptions: c.opts()})
			var own *app.OwnershipError
			if !errors.As(err, &own) {
				t.Fatalf("want *app.OwnershipError for the other project's %s, got %v", tc.name, err)
			}
			if len(own.Objects) != 1 || !strings.HasPrefix(own.Objects[0], tc.object) {
				t.Errorf("objects = %q, want one starting with %q", own.Objects, tc.object)
			}
		})
	}
}

func TestDeployRegisterConflictsWithConcurrentWriter(t *testing.T) {
	t.Parallel()
	t.Run("job created between plan and register", func(t *testing.T) {
		t.Parallel()
		c := newCluster(t, shopFiles(), autoSucceed)
		c.hook(&hookedNomad{beforeRegister: func(job *nomadapi.Job) {
			if *job.ID == "p-ingress" {
				c.nomad.SeedJob(&nomadapi.Job{
					ID: new("p-ingress"), Name: new("p-ingress"), Type: new("service"),
					TaskGroups: []*nomadapi.TaskGroup{{Name: new("ingress"), Count: new(1),
						Tasks: []*nomadapi.Task{{Name: "envoy", Driver: "docker", Config: map[string]any{"image": "envoy"}}}}},
				})
			}
		}})
		res, err := app.Deploy(testContext(t), app.DeployOptions{PlanOptions: app.PlanOptions{ClusterOptions: c.opts()}})
		ae := applyError(t, err)
		if !errors.Is(err, apierr.ErrConflict) {
			t.Errorf("want apierr.ErrConflict, got %v", err)
		}
		if diff := cmp.Diff([]string{"nomad nomad-job p-ingress"}, ae.Failed); diff != "" {
			t.Errorf("failed (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(shopAppJobs, sorted(ae.Pending)); diff != "" {
			t.Errorf("pending (-want +got):\n%s", diff)
		}
		if len(ae.Applied) != len(shopCreates)-5 || !contains(ae.Applied, "nomad nomad-job p-egress") || contains(ae.Applied, "nomad nomad-job p-ingress") {
			t.Errorf("applied = %v", ae.Applied)
		}
		if len(res.Applied) != len(ae.Applied) {
			t.Errorf("result lists %d applied changes, the error %d", len(res.Applied), len(ae.Applied))
		}
		if meta := c.nomad.Job("p-ingress").Meta; meta[render.MetaManaged] != "" {
			t.Errorf("the other writer's job was overwritten: meta %v", meta)
		}
		if c.nomad.Job("web") != nil {
			t.Error("app jobs were registered after the gateway step failed")
		}
	})

	t.Run("job changed between plan and register", func(t *testing.T) {
		t.Parallel()
		c := newCluster(t, shopFiles(), autoSucceed)
		c.deploy(app.DeployOptions{})
		c.write("web.hcl", strings.NewReplacer(
			"r/web:1", "r/web:2",
			`hosts = ["web.example.com"]`, `hosts = ["web.example.com", "www.example.com"]`,
		).Replace(webHCL))
		var edited uint64
		c.hook(&hookedNomad{beforeRegister: func(job *nomadapi.Job) {
			if *job.ID == "p-ingress" && edited == 0 {
				live := c.nomad.Job("p-ingress")
				live.Meta["note"] = "edited by hand"
				edited = c.nomad.SeedJob(live)
			}
		}})
		res, err := app.Deploy(testContext(t), app.DeployOptions{PlanOptions: app.PlanOptions{ClusterOptions: c.opts()}})
		ae := applyError(t, err)
		if !errors.Is(err, apierr.ErrConflict) {
			t.Errorf("want apierr.ErrConflict, got %v", err)
		}
		if diff := cmp.Diff([]string{"nomad nomad-job p-ingress"}, ae.Failed); diff != "" {
			t.Errorf("failed (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"nomad nomad-job web"}, ae.Pending); diff != "" {
			t.Errorf("pending (-want +got):\n%s", diff)
		}
		if job := c.nomad.Job("p-ingress"); *job.JobModifyIndex != edited || job.Meta["note"] == "" {
			t.Errorf("the concurrent edit was overwritten")
		}
		if img := c.nomad.Job("web").TaskGroups[0].Tasks[0].Config["image"]; img != "r/web:1" {
			t.Errorf("web was registered (%v) after its gateway failed", img)
		}
		if len(res.Deployments) != 0 {
			t.Errorf("watched %d deployments after a failed apply", len(res.Deployments))
		}

		// Deploy is idempotent: running it again finishes the job.
		c.deploy(app.DeployOptions{})
		if got := changes(c.plan(app.PlanOptions{})); len(got) != 0 {
			t.Errorf("plan after the repairing deploy: %v", got)
		}
	})
}

// Deploying one spec of a project is documented (drover deploy
// jobs/shop/api.hcl); on clusters where another public app of the project
// was never deployed, it must still work.
func TestDeployOneSpecOnAFreshCluster(t *testing.T) {
	t.Parallel()
	c := newCluster(t, shopFiles(), autoSucceed)
	_, err := app.Deploy(testContext(t), app.DeployOptions{PlanOptions: app.PlanOptions{ClusterOptions: c.opts("web.hcl")}})
	if err != nil {
		t.Fatalf("deploy web.hcl: %v", err)
	}
	if j := c.nomad.Job("web"); j == nil {
		t.Error("web was not registered")
	}
	if got := changes(c.plan(app.PlanOptions{ClusterOptions: c.opts("web.hcl")})); len(got) != 0 {
		t.Errorf("plan of web.hcl after deploying it: %v", got)
	}
}

func applyError(t *testing.T, err error) *app.ApplyError {
	t.Helper()
	var ae *app.ApplyError
	if !errors.As(err, &ae) {
		t.Fatalf("want *app.ApplyError, got %v", err)
	}
	return ae
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// requestCount counts the requests with method and path in a fake's log.
func requestCount(n int, at func(i int) (method, path string), method, path string) int {
	count := 0
	for i := 0; i < n; i++ {
		if m, p := at(i); m == method && p == path {
			count++
		}
	}
	return count
}

func nomadRequests(s *nomadfake.Server, method, path string) int {
	reqs := s.Requests()
	return requestCount(len(reqs), func(i int) (string, string) { return reqs[i].Method, reqs[i].Path }, method, path)
}

func consulRequests(s *consulfake.Server, method, path string) int {
	reqs := s.Requests()
	return requestCount(len(reqs), func(i int) (string, string) { return reqs[i].Method, reqs[i].Path }, method, path)
}

func vaultRequests(s *vaultfake.Server, method, path string) int {
	reqs := s.Requests()
	return requestCount(len(reqs), func(i int) (string, string) { return reqs[i].Method, reqs[i].Path }, method, path)
}

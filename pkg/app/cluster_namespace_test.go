package app_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drover-io/drover/pkg/apierr"
	"github.com/drover-io/drover/pkg/app"
	"github.com/drover-io/drover/pkg/render"
)

const teamProjectHCL = `project "p" {
  datacenters = ["dc1"]
  namespace   = "team-a"
}
`

// namespacedShop is the shop project in namespace team-a.
func namespacedShop() map[string]string {
	files := shopFiles()
	files["drover.hcl"] = teamProjectHCL
	return files
}

// TestNamespacedProjectLifecycle: every object of a namespaced project is
// addressed in its namespace (real Nomad lets ?namespace= win over the
// job's own Namespace), the namespace is created when missing, and plan,
// status, scale and destroy look there, not in default.
func TestNamespacedProjectLifecycle(t *testing.T) {
	t.Parallel()
	c := newCluster(t, namespacedShop(), autoSucceed)

	p := c.plan(app.PlanOptions{})
	if ch := findChange(p, "nomad namespace team-a"); ch == nil || ch.Action != app.ActionCreate {
		t.Fatalf("plan does not create the missing namespace: %v", changes(p))
	}
	if got := changes(p)[0]; got != "create nomad namespace team-a" {
		t.Errorf("first change is %q: the namespace must exist before anything else is written", got)
	}

	c.deploy(app.DeployOptions{})
	ns := c.nomad.Namespace("team-a")
	if ns == nil {
		t.Fatal("deploy did not create namespace team-a")
	}
	if ns.Meta[render.MetaProject] != "p" || ns.Meta[render.MetaManaged] != "true" || !strings.Contains(ns.Description, "drover") {
		t.Errorf("namespace carries no ownership: %+v", ns)
	}
	for _, job := range []string{"api", "web", "docs", "worker", "p-ingress", "p-egress"} {
		if c.nomad.JobIn("team-a", job) == nil {
			t.Errorf("job %s is not in namespace team-a", job)
		}
		if c.nomad.JobIn("default", job) != nil {
			t.Errorf("job %s landed in namespace default", job)
		}
	}
	if got := changes(c.plan(app.PlanOptions{})); len(got) != 0 {
		t.Errorf("plan after deploy: %v", got)
	}

	st, err := app.Status(testContext(t), app.StatusOptions{ClusterOptions: c.opts()})
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	for _, a := range st.Apps {
		if a.Job != "running" {
			t.Errorf("status of %s = %q, want running (looked in the wrong namespace?)", a.App, a.Job)
		}
	}

	if _, err := app.Scale(testContext(t), app.ScaleOptions{ClusterOptions: c.opts(), App: "api", Count: 3}); err != nil {
		t.Fatalf("scale: %v", err)
	}
	if n := *c.nomad.JobIn("team-a", "api").TaskGroups[0].Count; n != 3 {
		t.Errorf("api count = %d after scale, want 3", n)
	}

	if _, err := app.Destroy(testContext(t), app.DestroyOptions{ClusterOptions: c.opts(), Purge: true}); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	for _, job := range []string{"api", "web", "p-ingress"} {
		if c.nomad.JobIn("team-a", job) != nil {
			t.Errorf("destroy --purge left job %s in team-a", job)
		}
	}
	if c.nomad.Namespace("team-a") == nil {
		t.Error("destroy deleted the namespace, which may hold what others run")
	}
}

// TestNomadNamespaceDefaultsProjectsWithout: NOMAD_NAMESPACE places a
// project that names no namespace, and its Vault roles are bound to it.
func TestNomadNamespaceDefaultsProjectsWithout(t *testing.T) {
	t.Parallel()
	c := newCluster(t, shopFiles(), autoSucceed)
	c.nomad.AddNamespace("ops")
	opts := c.opts()
	opts.Config.Nomad.Namespace = "ops"
	c.deploy(app.DeployOptions{PlanOptions: app.PlanOptions{ClusterOptions: opts}})
	if c.nomad.JobIn("ops", "api") == nil || c.nomad.JobIn("default", "api") != nil {
		t.Fatal("api is not in namespace ops")
	}
	role := c.vault.Role("jwt-nomad", "drover-api")
	if claims, _ := role["bound_claims"].(map[string]any); claims["nomad_namespace"] != "ops" {
		t.Errorf("role bound to %v, want namespace ops", role["bound_claims"])
	}
}

// TestNamespaceCreateRefusedStopsBeforeAnyWrite: a token that may not
// create the namespace stops the deploy before anything is written, and
// says what to do.
func TestNamespaceCreateRefusedStopsBeforeAnyWrite(t *testing.T) {
	t.Parallel()
	c := newCluster(t, namespacedShop(), autoSucceed)
	c.nomad.FailNext(http.MethodPut, "/v1/namespace", http.StatusForbidden, "Permission denied", 1)
	_, err := app.Deploy(testContext(t), app.DeployOptions{PlanOptions: app.PlanOptions{ClusterOptions: c.opts()}})
	if !errors.Is(err, apierr.ErrPermission) || !strings.Contains(err.Error(), "nomad namespace apply team-a") {
		t.Fatalf("want a permission error that says how to create the namespace, got %v", err)
	}
	w := c.writes()
	if w.Consul != 0 || w.Vault != 0 || w.Nomad != 1 {
		t.Errorf("writes after the refusal: %+v, want only the refused namespace write", w)
	}
}

// TestPlanInMissingNamespacePlansNoJobs: Nomad cannot plan a job in a
// namespace that does not exist; plan says the namespace comes first.
func TestPlanInMissingNamespacePlansNoJobs(t *testing.T) {
	t.Parallel()
	c := newCluster(t, namespacedShop())
	p := c.plan(app.PlanOptions{})
	ch := findChange(p, "nomad nomad-job api")
	if ch == nil || ch.Action != app.ActionCreate || !strings.Contains(ch.Note, `namespace "team-a"`) {
		t.Fatalf("api change = %+v", ch)
	}
	if got := nomadRequests(c.nomad, http.MethodPut, "/v1/job/api/plan"); got != 0 {
		t.Errorf("%d Nomad plans of api in a missing namespace", got)
	}
	var kinds []string
	for _, ch := range p.Changes {
		if ch.System == apierr.Nomad && ch.Kind != app.KindJob {
			kinds = append(kinds, ch.Kind)
		}
	}
	if diff := cmp.Diff([]string{app.KindNamespace}, kinds); diff != "" {
		t.Errorf("nomad changes other than jobs (-want +got):\n%s", diff)
	}
}

package nomadfake_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/internal/fakes/nomadfake"
)

// webJob is a service job with one group "web" of count, one docker task
// and a scaling block from 1 to 10.
func webJob(id string, count int, image string) *api.Job {
	job := api.NewServiceJob(id, id, "global", 50)
	job.Meta = map[string]string{"drover.app": id}
	tg := api.NewTaskGroup("web", count)
	tg.Scaling = &api.ScalingPolicy{
		Min:    new(int64(1)),
		Max:    new(int64(10)),
		Policy: map[string]any{"cooldown": "1m"},
	}
	tg.AddTask(api.NewTask("app", "docker").SetConfig("image", image))
	job.AddTaskGroup(tg)
	return job
}

// statusOf returns the HTTP status and body of a Nomad API error.
func statusOf(t *testing.T, err error) (int, string) {
	t.Helper()
	var ue api.UnexpectedResponseError
	if !errors.As(err, &ue) {
		t.Fatalf("error %v is not an api.UnexpectedResponseError", err)
	}
	return ue.StatusCode(), ue.Body()
}

func register(t *testing.T, c *api.Client, job *api.Job, opts *api.RegisterOptions) *api.JobRegisterResponse {
	t.Helper()
	resp, _, err := c.Jobs().RegisterOpts(job, opts, nil)
	if err != nil {
		t.Fatalf("register %s: %v", *job.ID, err)
	}
	return resp
}

func TestRegisterAndRead(t *testing.T) {
	srv := nomadfake.New(t)
	c := srv.Client()

	resp := register(t, c, webJob("api", 2, "nginx:1"), nil)
	if resp.EvalID == "" || resp.JobModifyIndex == 0 || resp.EvalCreateIndex != resp.JobModifyIndex {
		t.Fatalf("register response = %+v", resp)
	}
	job, meta, err := c.Jobs().Info("api", nil)
	if err != nil {
		t.Fatal(err)
	}
	got := []any{*job.Version, *job.Status, *job.Stable, *job.JobModifyIndex, *job.CreateIndex, meta.LastIndex, meta.KnownLeader, job.Datacenters}
	want := []any{uint64(0), "running", false, resp.JobModifyIndex, resp.JobModifyIndex, *job.ModifyIndex, true, []string{"*"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("job fields (-want +got):\n%s", diff)
	}
	ev, _, err := c.Evaluations().Info(resp.EvalID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Status != "complete" || ev.JobID != "api" || ev.TriggeredBy != "job-register" || ev.DeploymentID == "" {
		t.Errorf("evaluation = %+v", ev)
	}

	// Unchanged: a new evaluation, no new version.
	again := register(t, c, webJob("api", 2, "nginx:1"), nil)
	if again.JobModifyIndex != *job.ModifyIndex || again.EvalID == resp.EvalID {
		t.Errorf("re-register of the same spec = %+v, want JobModifyIndex %d and a new eval", again, *job.ModifyIndex)
	}
	if v := *srv.Job("api").Version; v != 0 {
		t.Errorf("version after an unchanged register = %d, want 0", v)
	}
	// Changed: version 1.
	changed := register(t, c, webJob("api", 2, "nginx:2"), nil)
	job2 := srv.Job("api")
	if *job2.Version != 1 || *job2.JobModifyIndex != changed.JobModifyIndex || *job2.CreateIndex != *job.CreateIndex {
		t.Errorf("after a change: version %d, JobModifyIndex %d (register said %d), CreateIndex %d",
			*job2.Version, *job2.JobModifyIndex, changed.JobModifyIndex, *job2.CreateIndex)
	}
	if n := len(srv.JobVersions("api")); n != 2 {
		t.Errorf("%d versions, want 2", n)
	}
}

func TestJobNotFound(t *testing.T) {
	c := nomadfake.New(t).Client()
	_, _, err := c.Jobs().Info("nope", nil)
	status, body := statusOf(t, err)
	if status != http.StatusNotFound || body != "job not found" {
		t.Errorf("got %d %q, want 404 %q", status, body, "job not found")
	}
}

func TestEnforceIndex(t *testing.T) {
	c := nomadfake.New(t).Client()
	first := register(t, c, webJob("api", 1, "nginx:1"), &api.RegisterOptions{EnforceIndex: true, ModifyIndex: 0})

	tests := []struct {
		name  string
		job   string
		index uint64
		want  string
	}{
		{"exists", "api", 0, "Enforcing job modify index 0: job already exists"},
		{"stale", "api", first.JobModifyIndex + 7, "Enforcing job modify index " + itoa(first.JobModifyIndex+7) + ": job exists with conflicting job modify index: " + itoa(first.JobModifyIndex)},
		{"missing", "other", 5, "Enforcing job modify index 5: job does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := c.Jobs().EnforceRegister(webJob(tt.job, 1, "nginx:2"), tt.index, nil)
			status, body := statusOf(t, err)
			if status != http.StatusInternalServerError || body != tt.want {
				t.Errorf("got %d %q, want 500 %q", status, body, tt.want)
			}
			if !strings.HasPrefix(body, api.RegisterEnforceIndexErrPrefix) {
				t.Errorf("body %q lacks %q", body, api.RegisterEnforceIndexErrPrefix)
			}
		})
	}
	if _, _, err := c.Jobs().EnforceRegister(webJob("api", 1, "nginx:2"), first.JobModifyIndex, nil); err != nil {
		t.Errorf("register with the current index: %v", err)
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

func TestPreserveCountsAndSubmission(t *testing.T) {
	srv := nomadfake.New(t)
	c := srv.Client()
	register(t, c, webJob("api", 3, "nginx:1"), nil)
	sub := &api.JobSubmission{Source: "job \"api\" {}", Format: "hcl2", VariableFlags: map[string]string{"a": "b c"}}
	resp := register(t, c, webJob("api", 1, "nginx:2"), &api.RegisterOptions{PreserveCounts: true, Submission: sub})

	job := srv.Job("api")
	if got := *job.TaskGroups[0].Count; got != 3 {
		t.Errorf("count with PreserveCounts = %d, want 3", got)
	}
	got, _, err := c.Jobs().Submission("api", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sub, got); diff != "" {
		t.Errorf("submission (-want +got):\n%s", diff)
	}
	_, _, err = c.Jobs().Submission("api", 0, nil)
	if status, body := statusOf(t, err); status != 404 || body != "job source not found" {
		t.Errorf("missing submission: %d %q", status, body)
	}
	_ = resp
}

func TestValidationErrors(t *testing.T) {
	c := nomadfake.New(t).Client()
	job := webJob("api", 12, "nginx:1") // above the scaling max of 10
	_, _, err := c.Jobs().Register(job, nil)
	status, body := statusOf(t, err)
	want := "1 error occurred:\n\t* Task group web validation failed: 1 error occurred:\n\t* Task group scaling policy validation failed: 1 error occurred:\n\t* Scaling policy invalid: task group count must not be greater than maximum count in scaling policy"
	if status != 500 || body != want { // the client trims the body
		t.Errorf("got %d %q\nwant 500 %q", status, body, want)
	}

	batch := webJob("api", 1, "nginx:1")
	register(t, c, batch, nil)
	batch.Type = new("batch")
	batch.TaskGroups[0].Scaling = nil
	_, _, err = c.Jobs().Register(batch, nil)
	if status, body := statusOf(t, err); status != 500 || body != `cannot update job from type "service" to "batch"` {
		t.Errorf("type change: %d %q", status, body)
	}
}

func TestPlan(t *testing.T) {
	srv := nomadfake.New(t)
	c := srv.Client()

	plan, _, err := c.Jobs().Plan(webJob("api", 2, "nginx:1"), true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Diff.Type != "Added" || plan.JobModifyIndex != 0 || plan.Annotations.DesiredTGUpdates["web"].Place != 2 {
		t.Errorf("plan of a new job: diff %s, index %d, updates %+v", plan.Diff.Type, plan.JobModifyIndex, plan.Annotations.DesiredTGUpdates["web"])
	}

	reg := register(t, c, webJob("api", 2, "nginx:1"), nil)
	plan, _, err = c.Jobs().Plan(webJob("api", 2, "nginx:1"), true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Diff.Type != "None" || plan.JobModifyIndex != reg.JobModifyIndex {
		t.Errorf("plan of the same job: diff %s (%+v), index %d want %d", plan.Diff.Type, plan.Diff, plan.JobModifyIndex, reg.JobModifyIndex)
	}
	if u := plan.Annotations.DesiredTGUpdates["web"]; u.Ignore != 2 {
		t.Errorf("unchanged group updates = %+v", u)
	}

	plan, _, err = c.Jobs().Plan(webJob("api", 4, "nginx:2"), true, nil)
	if err != nil {
		t.Fatal(err)
	}
	tg := plan.Diff.TaskGroups[0]
	if plan.Diff.Type != "Edited" || tg.Type != "Edited" || tg.Name != "web" {
		t.Fatalf("plan of a change: diff %s, group %s %s", plan.Diff.Type, tg.Name, tg.Type)
	}
	wantCount := &api.FieldDiff{Type: "Edited", Name: "Count", Old: "2", New: "4", Annotations: []string{"forces create"}}
	if diff := cmp.Diff([]*api.FieldDiff{wantCount}, tg.Fields); diff != "" {
		t.Errorf("group fields (-want +got):\n%s", diff)
	}
	task := tg.Tasks[0]
	if task.Type != "Edited" || len(task.Objects) != 1 || task.Objects[0].Name != "Config" ||
		!cmp.Equal(task.Annotations, []string{"forces create/destroy update"}) {
		t.Errorf("task diff = %+v", task)
	}
	if u := plan.Annotations.DesiredTGUpdates["web"]; u.Place != 2 || u.DestructiveUpdate != 2 {
		t.Errorf("changed group updates = %+v", u)
	}
	if tg.Updates["create"] != 2 || tg.Updates["create/destroy update"] != 2 {
		t.Errorf("group Updates = %v", tg.Updates)
	}

	noDiff, _, err := c.Jobs().Plan(webJob("api", 4, "nginx:2"), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if noDiff.Diff != nil {
		t.Errorf("plan without diff returned a diff")
	}
	if w := srv.Writes(); len(w) != 1 {
		t.Errorf("writes = %d, want only the register: %+v", len(w), w)
	}
}

func TestPlanNewGroupAndMeta(t *testing.T) {
	c := nomadfake.New(t).Client()
	register(t, c, webJob("api", 2, "nginx:1"), nil)
	job := webJob("api", 2, "nginx:1")
	job.Meta["owner"] = "team-a"
	worker := api.NewTaskGroup("worker", 1)
	worker.AddTask(api.NewTask("w", "docker").SetConfig("image", "busybox"))
	job.AddTaskGroup(worker)
	plan, _, err := c.Jobs().Plan(job, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]*api.FieldDiff{{Type: "Added", Name: "Meta[owner]", New: "team-a"}}, plan.Diff.Fields); diff != "" {
		t.Errorf("job fields (-want +got):\n%s", diff)
	}
	types := map[string]string{}
	for _, tg := range plan.Diff.TaskGroups {
		types[tg.Name] = tg.Type
	}
	if diff := cmp.Diff(map[string]string{"web": "None", "worker": "Added"}, types); diff != "" {
		t.Errorf("group diff types (-want +got):\n%s", diff)
	}
}

func TestDeregister(t *testing.T) {
	srv := nomadfake.New(t)
	c := srv.Client()
	register(t, c, webJob("api", 2, "nginx:1"), nil)
	evalID, _, err := c.Jobs().Deregister("api", false, nil)
	if err != nil || evalID == "" {
		t.Fatalf("stop: %q, %v", evalID, err)
	}
	job := srv.Job("api")
	if !*job.Stop || *job.Status != "dead" || *job.Version != 1 || *job.TaskGroups[0].Scaling.Enabled {
		t.Errorf("stopped job: stop %v status %s version %d scaling enabled %v", *job.Stop, *job.Status, *job.Version, *job.TaskGroups[0].Scaling.Enabled)
	}
	if d := srv.LatestDeployment("api"); d.Status != "cancelled" || d.StatusDescription != nomadfake.DescStoppedJob {
		t.Errorf("deployment after stop: %s %q", d.Status, d.StatusDescription)
	}
	policies, _, err := c.Scaling().ListPolicies(nil)
	if err != nil || len(policies) != 1 || policies[0].Enabled {
		t.Errorf("policies after stop: %+v, %v", policies, err)
	}

	if _, _, err := c.Jobs().Deregister("api", true, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Jobs().Info("api", nil); err == nil {
		t.Errorf("purged job still readable")
	}
	policies, _, _ = c.Scaling().ListPolicies(nil)
	if len(policies) != 0 {
		t.Errorf("policies after purge: %+v", policies)
	}
	// Nomad answers a deregister of a missing job with success and no eval.
	evalID, _, err = c.Jobs().Deregister("never", false, nil)
	if err != nil || evalID != "" {
		t.Errorf("deregister of a missing job = %q, %v; want \"\", nil", evalID, err)
	}
}

func TestListWithMetaFilter(t *testing.T) {
	c := nomadfake.New(t).Client()
	register(t, c, webJob("a", 1, "x"), nil)
	register(t, c, webJob("b", 1, "x"), nil)
	other := webJob("c", 1, "x")
	other.Meta = map[string]string{"drover.app": "zzz", "team": "t"}
	register(t, c, other, nil)

	q := &api.QueryOptions{Filter: `Meta["drover.app"] == "b"`, Params: map[string]string{"meta": "true"}}
	stubs, _, err := c.Jobs().List(q)
	if err != nil {
		t.Fatal(err)
	}
	if len(stubs) != 1 || stubs[0].ID != "b" || stubs[0].Meta["drover.app"] != "b" || stubs[0].JobSummary == nil {
		t.Fatalf("filtered list = %+v", stubs)
	}
	q = &api.QueryOptions{Filter: `Meta.team == "t" and Meta["drover.app"] != "b"`}
	stubs, _, err = c.Jobs().List(q)
	if err != nil || len(stubs) != 1 || stubs[0].ID != "c" || stubs[0].Meta != nil {
		t.Fatalf("filtered list without meta = %+v, %v", stubs, err)
	}
	_, _, err = c.Jobs().List(&api.QueryOptions{Filter: `Name matches "a.*"`})
	status, body := statusOf(t, err)
	if status != 400 || !strings.HasPrefix(body, "failed to create result paginator: failed to read filter expression: ") {
		t.Errorf("unsupported filter: %d %q", status, body)
	}
}

func TestLatestDeploymentBlocking(t *testing.T) {
	srv := nomadfake.New(t)
	c := srv.Client()

	d, meta, err := c.Jobs().LatestDeployment("api", nil)
	if err != nil || d != nil {
		t.Fatalf("deployment of a missing job = %v, %v; want nil (null), nil", d, err)
	}

	register(t, c, webJob("api", 2, "nginx:1"), nil)
	d, meta, err = c.Jobs().LatestDeployment("api", nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != "running" || d.TaskGroups["web"].DesiredTotal != 2 || d.JobVersion != 0 {
		t.Fatalf("new deployment = %+v", d)
	}

	// A query at the current index blocks until a write.
	done := make(chan *api.Deployment, 1)
	go func() {
		d, _, err := c.Jobs().LatestDeployment("api", &api.QueryOptions{WaitIndex: meta.LastIndex, WaitTime: time.Minute})
		if err != nil {
			t.Error(err)
		}
		done <- d
	}()
	select {
	case <-done:
		t.Fatal("blocking query returned before any write")
	case <-time.After(20 * time.Millisecond):
	}
	srv.SetDeployment("api", func(d *api.Deployment) {
		d.TaskGroups["web"].HealthyAllocs = 1
	})
	select {
	case d := <-done:
		if d.TaskGroups["web"].HealthyAllocs != 1 {
			t.Errorf("woken query saw %+v", d.TaskGroups["web"])
		}
	case <-time.After(5 * time.Second):
		t.Fatal("blocking query did not return after a write")
	}

	// Nothing changes: it returns after wait with the same index.
	start := time.Now()
	_, m2, err := c.Jobs().LatestDeployment("api", &api.QueryOptions{WaitIndex: srv.Index(), WaitTime: 30 * time.Millisecond})
	if err != nil || m2.LastIndex != srv.Index() || time.Since(start) < 30*time.Millisecond {
		t.Errorf("timed-out query: index %d (want %d), err %v, after %v", m2.LastIndex, srv.Index(), err, time.Since(start))
	}

	// A cancelled context ends the wait.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, _, err = c.Jobs().LatestDeployment("api", (&api.QueryOptions{WaitIndex: srv.Index(), WaitTime: time.Minute}).WithContext(ctx))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled query err = %v", err)
	}
}

func TestDeploymentLifecycle(t *testing.T) {
	srv := nomadfake.New(t)
	c := srv.Client()
	register(t, c, webJob("api", 2, "nginx:1"), nil)
	srv.CompleteDeployment("api")
	d := srv.LatestDeployment("api")
	if d.Status != "successful" || d.StatusDescription != "Deployment completed successfully" || d.TaskGroups["web"].HealthyAllocs != 2 {
		t.Fatalf("completed deployment = %+v", d)
	}
	if !*srv.Job("api").Stable {
		t.Errorf("job version 0 not stable after a successful deployment")
	}

	register(t, c, webJob("api", 2, "nginx:2"), nil)
	v0 := uint64(0)
	srv.FailDeployment("api", "", &v0)
	failed, _, err := c.Deployments().Info(d.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = failed
	versions := srv.JobVersions("api")
	if len(versions) != 3 {
		t.Fatalf("%d versions after the revert, want 3", len(versions))
	}
	deps, _, err := c.Jobs().Deployments("api", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	var fail *api.Deployment
	for _, dep := range deps {
		if dep.JobVersion == 1 {
			fail = dep
		}
	}
	if fail == nil || fail.Status != "failed" || fail.StatusDescription != "Failed due to unhealthy allocations - rolling back to job version 0" {
		t.Errorf("failed deployment = %+v", fail)
	}
	cur := srv.Job("api")
	if *cur.Version != 2 || cur.TaskGroups[0].Tasks[0].Config["image"] != "nginx:1" {
		t.Errorf("reverted job: version %d image %v", *cur.Version, cur.TaskGroups[0].Tasks[0].Config["image"])
	}
	if latest := srv.LatestDeployment("api"); latest.JobVersion != 2 || latest.Status != "running" {
		t.Errorf("deployment of the reverted version = %+v", latest)
	}

	_, _, err = c.Deployments().Info("nope", nil)
	if status, body := statusOf(t, err); status != 404 || body != "deployment not found" {
		t.Errorf("missing deployment: %d %q", status, body)
	}
}

func TestCanaryPromotion(t *testing.T) {
	srv := nomadfake.New(t)
	c := srv.Client()
	job := webJob("api", 2, "nginx:1")
	job.Update = &api.UpdateStrategy{Canary: new(1), AutoRevert: new(true)}
	register(t, c, job, nil)
	first := srv.LatestDeployment("api")
	if first.TaskGroups["web"].DesiredCanaries != 0 {
		t.Errorf("a new job got canaries: %+v", first.TaskGroups["web"])
	}
	srv.CompleteDeployment("api")

	job = webJob("api", 2, "nginx:2")
	job.Update = &api.UpdateStrategy{Canary: new(1), AutoRevert: new(true)}
	register(t, c, job, nil)
	d := srv.LatestDeployment("api")
	if d.StatusDescription != "Deployment is running but requires manual promotion" || d.TaskGroups["web"].DesiredCanaries != 1 || !d.TaskGroups["web"].AutoRevert {
		t.Fatalf("canary deployment = %+v %+v", d, d.TaskGroups["web"])
	}
	_, _, err := c.Deployments().PromoteAll(d.ID, nil)
	status, body := statusOf(t, err)
	if status != 500 || body != "1 error occurred:\n\t* Task group \"web\" has 0/1 healthy allocations" {
		t.Errorf("promotion without healthy canaries: %d %q", status, body)
	}

	srv.SetAllocations("api", []*api.AllocationListStub{{
		TaskGroup: "web", JobVersion: 1, ClientStatus: "running",
		DeploymentStatus: &api.AllocDeploymentStatus{Healthy: new(true), Canary: true},
	}})
	resp, _, err := c.Deployments().PromoteAll(d.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.EvalID == "" || resp.DeploymentModifyIndex == 0 {
		t.Errorf("promote response = %+v", resp)
	}
	d = srv.LatestDeployment("api")
	if !d.TaskGroups["web"].Promoted || d.StatusDescription != "Deployment is running" {
		t.Errorf("promoted deployment = %+v", d)
	}
	allocs, _, err := c.Deployments().Allocations(d.ID, nil)
	if err != nil || len(allocs) != 1 {
		t.Errorf("deployment allocations = %v, %v", allocs, err)
	}

	srv.CompleteDeployment("api")
	_, _, err = c.Deployments().PromoteAll(d.ID, nil)
	if status, body := statusOf(t, err); status != 500 || body != "can't promote terminal deployment" {
		t.Errorf("promoting a terminal deployment: %d %q", status, body)
	}
}

func TestAutoSucceed(t *testing.T) {
	srv := nomadfake.New(t)
	srv.AutoSucceed = true
	c := srv.Client()
	register(t, c, webJob("api", 2, "nginx:1"), nil)
	d, _, err := c.Jobs().LatestDeployment("api", nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != "successful" || !*srv.Job("api").Stable {
		t.Errorf("AutoSucceed deployment = %s, stable %v", d.Status, *srv.Job("api").Stable)
	}
}

func TestFailEndpointAutoReverts(t *testing.T) {
	srv := nomadfake.New(t)
	c := srv.Client()
	job := webJob("api", 2, "nginx:1")
	job.Update = &api.UpdateStrategy{AutoRevert: new(true)}
	register(t, c, job, nil)
	srv.CompleteDeployment("api")
	job = webJob("api", 2, "nginx:2")
	job.Update = &api.UpdateStrategy{AutoRevert: new(true)}
	register(t, c, job, nil)
	d := srv.LatestDeployment("api")
	resp, _, err := c.Deployments().Fail(d.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.RevertedJobVersion == nil || *resp.RevertedJobVersion != 0 {
		t.Errorf("RevertedJobVersion = %v", resp.RevertedJobVersion)
	}
	if got := srv.Deployment(d.ID).StatusDescription; got != "Deployment marked as failed - rolling back to job version 0" {
		t.Errorf("description = %q", got)
	}
	_, _, err = c.Deployments().Fail(d.ID, nil)
	if status, body := statusOf(t, err); status != 500 || body != "can't fail terminal deployment" {
		t.Errorf("failing a failed deployment: %d %q", status, body)
	}
}

func TestScale(t *testing.T) {
	srv := nomadfake.New(t)
	c := srv.Client()
	reg := register(t, c, webJob("api", 2, "nginx:1"), nil)

	tests := []struct {
		name   string
		job    string
		req    *api.ScalingRequest
		status int
		body   string
	}{
		{"missing job", "nope", &api.ScalingRequest{Count: new(int64(3)), Target: map[string]string{"Group": "web"}}, 404, `job "nope" not found`},
		{"missing group", "api", &api.ScalingRequest{Count: new(int64(3))}, 400, "missing task group name for scaling action"},
		{"unknown group", "api", &api.ScalingRequest{Count: new(int64(3)), Target: map[string]string{"Group": "db"}}, 400, `task group "db" specified for scaling does not exist in job`},
		{"below min", "api", &api.ScalingRequest{Count: new(int64(0)), Target: map[string]string{"Group": "web"}}, 400, "group count was less than scaling policy minimum: 0 < 1"},
		{"above max", "api", &api.ScalingRequest{Count: new(int64(11)), Target: map[string]string{"Group": "web"}}, 400, "group count was greater than scaling policy maximum: 11 > 10"},
		{"active deployment", "api", &api.ScalingRequest{Count: new(int64(3)), Target: map[string]string{"Group": "web"}}, 400, "job scaling blocked due to active deployment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := c.Jobs().ScaleWithRequest(tt.job, tt.req, nil)
			status, body := statusOf(t, err)
			if status != tt.status || body != tt.body {
				t.Errorf("got %d %q, want %d %q", status, body, tt.status, tt.body)
			}
		})
	}

	srv.CompleteDeployment("api")
	_, _, err := c.Jobs().ScaleWithRequest("api", &api.ScalingRequest{
		Count: new(int64(3)), Target: map[string]string{"Group": "web"}, JobModifyIndex: reg.JobModifyIndex + 100,
	}, nil)
	if status, body := statusOf(t, err); status != 500 || !strings.HasPrefix(body, "Enforcing job modify index") {
		t.Errorf("stale JobModifyIndex: %d %q", status, body)
	}

	resp, _, err := c.Jobs().Scale("api", "web", new(5), "autoscaler", false, map[string]any{"reason": "cpu"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	job := srv.Job("api")
	if *job.TaskGroups[0].Count != 5 || *job.JobModifyIndex != resp.JobModifyIndex || *job.Version != 1 {
		t.Errorf("scaled job: count %d, JobModifyIndex %d (response %d), version %d",
			*job.TaskGroups[0].Count, *job.JobModifyIndex, resp.JobModifyIndex, *job.Version)
	}
	if _, _, err := c.Jobs().Scale("api", "web", nil, "just a note", false, nil, nil); err != nil {
		t.Fatal(err)
	}
	status, _, err := c.Jobs().ScaleStatus("api", nil)
	if err != nil {
		t.Fatal(err)
	}
	events := status.TaskGroups["web"].Events
	if len(events) != 2 || events[0].Message != "just a note" || events[0].Count != nil ||
		events[1].Count == nil || *events[1].Count != 5 || events[1].PreviousCount != 2 ||
		events[1].EvalID == nil || *events[1].EvalID != resp.EvalID || events[1].Meta["reason"] != "cpu" || events[1].Time == 0 {
		t.Errorf("scaling events = %+v", events)
	}
	if status.TaskGroups["web"].Desired != 5 || status.JobModifyIndex != *job.ModifyIndex {
		t.Errorf("scale status = %+v", status)
	}
	if d := srv.LatestDeployment("api"); d.JobVersion != 1 || d.Status != "running" {
		t.Errorf("scaling did not start a deployment for version 1: %+v", d)
	}
}

func TestScaleStatusCounts(t *testing.T) {
	srv := nomadfake.New(t)
	c := srv.Client()
	register(t, c, webJob("api", 3, "nginx:1"), nil)
	srv.SetAllocations("api", []*api.AllocationListStub{
		{TaskGroup: "web", ClientStatus: "running", DeploymentStatus: &api.AllocDeploymentStatus{Healthy: new(true)}},
		{TaskGroup: "web", ClientStatus: "running", DeploymentStatus: &api.AllocDeploymentStatus{Healthy: new(false)}},
		{TaskGroup: "web", ClientStatus: "pending"},
		{TaskGroup: "web", ClientStatus: "failed", TaskStates: map[string]*api.TaskState{
			"app": {State: "dead", Failed: true, Events: []*api.TaskEvent{{Type: "Driver Failure", DisplayMessage: "image not found"}}},
		}},
	})
	st, _, err := c.Jobs().ScaleStatus("api", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := api.TaskGroupScaleStatus{Desired: 3, Placed: 3, Running: 2, Healthy: 1, Unhealthy: 1}
	if diff := cmp.Diff(want, st.TaskGroups["web"]); diff != "" {
		t.Errorf("scale status (-want +got):\n%s", diff)
	}
	allocs, _, err := c.Jobs().Allocations("api", false, nil)
	if err != nil || len(allocs) != 4 {
		t.Fatalf("allocations = %d, %v", len(allocs), err)
	}
	var msg string
	for _, a := range allocs {
		if a.ClientStatus == "failed" {
			msg = a.TaskStates["app"].Events[0].DisplayMessage
		}
	}
	if msg != "image not found" {
		t.Errorf("event message = %q", msg)
	}

	srv.SetGroupStatus("api", "web", 3, 3)
	st, _, _ = c.Jobs().ScaleStatus("api", nil)
	if g := st.TaskGroups["web"]; g.Running != 3 || g.Healthy != 3 {
		t.Errorf("scale status after SetGroupStatus = %+v", g)
	}
}

func TestEvalFailedAllocs(t *testing.T) {
	srv := nomadfake.New(t)
	c := srv.Client()
	resp := register(t, c, webJob("api", 2, "nginx:1"), nil)
	srv.SetEvalFailedAllocs(resp.EvalID, map[string]*api.AllocationMetric{"web": {NodesEvaluated: 3, DimensionExhausted: map[string]int{"memory": 3}}})
	ev, _, err := c.Evaluations().Info(resp.EvalID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ev.FailedTGAllocs["web"].DimensionExhausted["memory"] != 3 {
		t.Errorf("FailedTGAllocs = %+v", ev.FailedTGAllocs)
	}
	_, _, err = c.Evaluations().Info("nope", nil)
	if status, body := statusOf(t, err); status != 404 || body != "eval not found" {
		t.Errorf("missing eval: %d %q", status, body)
	}
}

func TestScalingPolicies(t *testing.T) {
	srv := nomadfake.New(t)
	c := srv.Client()
	register(t, c, webJob("api", 2, "nginx:1"), nil)

	stubs, meta, err := c.Scaling().ListPolicies(&api.QueryOptions{Params: map[string]string{"job": "api"}})
	if err != nil || len(stubs) != 1 {
		t.Fatalf("policies = %+v, %v", stubs, err)
	}
	want := map[string]string{"Namespace": "default", "Job": "api", "Group": "web"}
	if diff := cmp.Diff(want, stubs[0].Target); diff != "" || stubs[0].Type != "horizontal" || !stubs[0].Enabled {
		t.Errorf("policy stub = %+v %s", stubs[0], diff)
	}
	p, _, err := c.Scaling().GetPolicy(stubs[0].ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *p.Min != 1 || *p.Max != 10 || p.Policy["cooldown"] != "1m" {
		t.Errorf("policy = %+v", p)
	}

	// An unrelated change keeps the ID and does not wake a policy watcher.
	done := make(chan []*api.ScalingPolicyListStub, 1)
	go func() {
		stubs, _, err := c.Scaling().ListPolicies(&api.QueryOptions{WaitIndex: meta.LastIndex, WaitTime: time.Minute})
		if err != nil {
			t.Error(err)
		}
		done <- stubs
	}()
	register(t, c, webJob("api", 2, "nginx:2"), nil)
	select {
	case <-done:
		t.Fatal("a change outside the scaling block woke the policy list")
	case <-time.After(30 * time.Millisecond):
	}
	job := webJob("api", 2, "nginx:2")
	job.TaskGroups[0].Scaling.Max = new(int64(20))
	register(t, c, job, nil)
	select {
	case got := <-done:
		if len(got) != 1 || got[0].ID != stubs[0].ID || got[0].ModifyIndex <= stubs[0].ModifyIndex {
			t.Errorf("policies after a change = %+v", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("changing the policy did not wake the list")
	}

	job.TaskGroups[0].Scaling = nil
	register(t, c, job, nil)
	_, _, err = c.Scaling().GetPolicy(stubs[0].ID, nil)
	if status, body := statusOf(t, err); status != 404 || body != "policy not found" {
		t.Errorf("removed policy: %d %q", status, body)
	}
}

func TestVariableLocks(t *testing.T) {
	srv := nomadfake.New(t)
	c := srv.Client()
	ctx := context.Background()
	v := api.Variable{Path: "drover/leader", Lock: &api.VariableLock{TTL: "10s", LockDelay: "5s"}}

	a, err := c.Locks(api.WriteOptions{}, v)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Locks(api.WriteOptions{}, v, api.LocksOptionWithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Acquire(ctx); err != nil {
		t.Fatalf("first acquire: %v", err)
	}
	if _, err := b.Acquire(ctx); !errors.Is(err, api.ErrLockConflict) {
		t.Fatalf("second acquire err = %v, want ErrLockConflict", err)
	}
	if err := a.Renew(ctx); err != nil {
		t.Fatalf("renew: %v", err)
	}
	holder := srv.LockHolder("drover/leader")
	if holder == nil || holder.TTL != 10*time.Second || holder.LockDelay != 5*time.Second {
		t.Errorf("holder = %+v", holder)
	}
	got, _, err := c.Variables().Read("drover/leader", nil)
	if err != nil || got.Lock == nil || got.Lock.ID != holder.ID || got.Lock.TTL != "10s" {
		t.Errorf("read locked variable = %+v, %v", got, err)
	}

	srv.ExpireLockTTL("drover/leader")
	if err := a.Renew(ctx); !errors.Is(err, api.ErrLockConflict) {
		t.Errorf("renew after the TTL err = %v, want ErrLockConflict", err)
	}
	if _, err := b.Acquire(ctx); !errors.Is(err, api.ErrLockConflict) {
		t.Errorf("acquire during the lock delay err = %v, want ErrLockConflict", err)
	}
	srv.ExpireLock("drover/leader")
	if _, err := b.Acquire(ctx); err != nil {
		t.Fatalf("acquire after expiry: %v", err)
	}
	if err := a.Release(ctx); !errors.Is(err, api.ErrLockConflict) {
		t.Errorf("release by the old holder err = %v, want ErrLockConflict", err)
	}
	if err := b.Release(ctx); err != nil {
		t.Errorf("release: %v", err)
	}
	if srv.LockHolder("drover/leader") != nil {
		t.Errorf("lock still held after release")
	}

	bad, err := c.Locks(api.WriteOptions{}, api.Variable{Path: "x", Lock: &api.VariableLock{TTL: "1s"}}, api.LocksOptionWithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Acquire(ctx)
	if status, body := statusOf(t, err); status != 400 || body != "RPC Error:: 400,1 error occurred:\n\t* TTL must be between 10 seconds and 24 hours" {
		t.Errorf("short TTL: %d %q", status, body)
	}
}

func TestVariablesCAS(t *testing.T) {
	c := nomadfake.New(t).Client()
	v, _, err := c.Variables().CheckedCreate(&api.Variable{Path: "app/cfg", Items: api.VariableItems{"a": "1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Variables().CheckedCreate(&api.Variable{Path: "app/cfg", Items: api.VariableItems{"a": "2"}}, nil)
	var conflict api.ErrCASConflict
	if !errors.As(err, &conflict) || conflict.Conflict.ModifyIndex != v.ModifyIndex {
		t.Errorf("second create err = %v", err)
	}
	if _, err := c.Variables().CheckedDelete("app/cfg", v.ModifyIndex, nil); err != nil {
		t.Errorf("checked delete: %v", err)
	}
	if _, _, err := c.Variables().Read("app/cfg", nil); !errors.Is(err, api.ErrVariablePathNotFound) {
		t.Errorf("read after delete err = %v", err)
	}
}

func TestFaultInjection(t *testing.T) {
	srv := nomadfake.New(t)
	c := srv.Client()

	srv.FailNext("PUT", "/v1/jobs", 503, "no leader", 1)
	_, _, err := c.Jobs().Register(webJob("api", 1, "x"), nil)
	if status, body := statusOf(t, err); status != 503 || body != "no leader" {
		t.Errorf("injected failure: %d %q", status, body)
	}
	if srv.Job("api") != nil {
		t.Errorf("a failed register stored the job")
	}
	register(t, c, webJob("api", 1, "x"), nil)

	srv.Hangup("/v1/jobs", 1)
	if _, _, err := c.Jobs().Register(webJob("api", 1, "y"), nil); err == nil {
		t.Errorf("register through a hangup succeeded")
	} else if _, ok := errors.AsType[api.UnexpectedResponseError](err); ok {
		t.Errorf("hangup produced an HTTP response: %v", err)
	}

	srv.Delay("/v1/job/api", time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, _, err := c.Jobs().Info("api", (&api.QueryOptions{}).WithContext(ctx)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("delayed read err = %v", err)
	}
	srv.Delay("/v1/job/api", 0)
	if _, _, err := c.Jobs().Info("api", nil); err != nil {
		t.Errorf("read after removing the delay: %v", err)
	}

	reqs := srv.Requests()
	var puts int
	for _, r := range reqs {
		if r.Method == "PUT" && r.Path == "/v1/jobs" {
			puts++
		}
	}
	if puts != 3 {
		t.Errorf("logged %d registers, want 3 (failed, ok, hung up)", puts)
	}
}

func TestAgentEndpoints(t *testing.T) {
	c := nomadfake.New(t).Client()
	h, err := c.Agent().Health()
	if err != nil || !h.Server.Ok || !h.Client.Ok {
		t.Errorf("health = %+v, %v", h, err)
	}
	leader, err := c.Status().Leader()
	if err != nil || leader != "127.0.0.1:4647" {
		t.Errorf("leader = %q, %v", leader, err)
	}
}

func TestConcurrentRegisters(t *testing.T) {
	srv := nomadfake.New(t)
	c := srv.Client()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := "job" + strconv.Itoa(i)
			if _, _, err := c.Jobs().Register(webJob(id, 1, "x"), nil); err != nil {
				t.Error(err)
			}
			if _, _, err := c.Jobs().Info(id, nil); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	stubs, _, err := c.Jobs().List(nil)
	if err != nil || len(stubs) != 8 {
		t.Errorf("list = %d jobs, %v", len(stubs), err)
	}
}

func TestLockLeaser(t *testing.T) {
	srv := nomadfake.New(t)
	c := srv.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v := api.Variable{Path: "drover/leader", Lock: &api.VariableLock{TTL: "10s"}}

	leader, err := c.Locks(api.WriteOptions{}, v)
	if err != nil {
		t.Fatal(err)
	}
	follower, err := c.Locks(api.WriteOptions{}, v, api.LocksOptionWithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	var ranFollower bool
	err = c.NewLockLeaser(leader).Start(ctx, func(ctx context.Context) error {
		if srv.LockHolder("drover/leader") == nil {
			t.Error("protected function runs without the lock held")
		}
		// While the leader holds the lock, another instance gives up.
		early := c.NewLockLeaser(follower, api.LockLeaserOptionWithEarlyReturn(true))
		if err := early.Start(ctx, func(context.Context) error { ranFollower = true; return nil }); err != nil {
			t.Errorf("follower: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("leader: %v", err)
	}
	if ranFollower {
		t.Error("the follower ran while the leader held the lock")
	}
	if h := srv.LockHolder("drover/leader"); h != nil {
		t.Errorf("lock still held after Start returned: %+v", h)
	}
}

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

// Fake-only cases: what a test sets up through the fake's own helpers
// (deployments driven by hand, seeded allocations and evaluation
// failures, expired locks, injected faults, the request log). They cannot
// run against a real agent; contract_test.go holds the cases that do.

// webJob is a service job with one group "web" of count, one docker task
// and a scaling block from 1 to 10. (Only the fake sees it: nothing runs.)
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

func register(t *testing.T, c *api.Client, job *api.Job, opts *api.RegisterOptions) *api.JobRegisterResponse {
	t.Helper()
	resp, _, err := c.Jobs().RegisterOpts(job, opts, nil)
	if err != nil {
		t.Fatalf("register %s: %v", *job.ID, err)
	}
	return resp
}

func TestLatestDeploymentBlocking(t *testing.T) {
	srv := nomadfake.New(t)
	c := srv.Client()

	register(t, c, webJob("api", 2, "nginx:1"), nil)
	d, meta, err := c.Jobs().LatestDeployment("api", nil)
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
}

func TestDeploymentLifecycle(t *testing.T) {
	srv := nomadfake.New(t)
	c := srv.Client()
	resp := register(t, c, webJob("api", 2, "nginx:1"), nil)
	d := srv.LatestDeployment("api")
	if ev, _, err := c.Evaluations().Info(resp.EvalID, nil); err != nil || ev.Status != "complete" || ev.DeploymentID != d.ID {
		t.Errorf("evaluation = %+v, %v; want complete, of deployment %s", ev, err, d.ID)
	}
	srv.CompleteDeployment("api")
	d = srv.LatestDeployment("api")
	if d.Status != "successful" || d.StatusDescription != "Deployment completed successfully" || d.TaskGroups["web"].HealthyAllocs != 2 {
		t.Fatalf("completed deployment = %+v", d)
	}
	if !*srv.Job("api").Stable {
		t.Errorf("job version 0 not stable after a successful deployment")
	}

	register(t, c, webJob("api", 2, "nginx:2"), nil)
	failing := srv.LatestDeployment("api")
	v0 := uint64(0)
	srv.FailDeployment("api", "", &v0)
	failed, _, err := c.Deployments().Info(failing.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if failed.Status != "failed" || failed.StatusDescription != "Failed due to unhealthy allocations - rolling back to job version 0" {
		t.Errorf("failed deployment = %+v", failed)
	}
	cur := srv.Job("api")
	if *cur.Version != 2 || cur.TaskGroups[0].Tasks[0].Config["image"] != "nginx:1" {
		t.Errorf("reverted job: version %d image %v", *cur.Version, cur.TaskGroups[0].Tasks[0].Config["image"])
	}
	if latest := srv.LatestDeployment("api"); latest.JobVersion != 2 || latest.Status != "running" {
		t.Errorf("deployment of the reverted version = %+v", latest)
	}

	// Stopping the job cancels its deployment.
	if _, _, err := c.Jobs().Deregister("api", false, nil); err != nil {
		t.Fatal(err)
	}
	if d := srv.LatestDeployment("api"); d.Status != "cancelled" || d.StatusDescription != "Cancelled because job is stopped" {
		t.Errorf("deployment after stop: %s %q", d.Status, d.StatusDescription)
	}
}

// A scale during a running deployment is refused; one after it starts a
// deployment of the new version.
func TestScaleAndDeployments(t *testing.T) {
	srv := nomadfake.New(t)
	c := srv.Client()
	register(t, c, webJob("api", 2, "nginx:1"), nil)
	_, _, err := c.Jobs().Scale("api", "web", new(3), "", false, nil, nil)
	if status, body := statusOf(t, err); status != 400 || body != "job scaling blocked due to active deployment" {
		t.Errorf("scale during a deployment: %d %q", status, body)
	}
	srv.CompleteDeployment("api")
	resp, _, err := c.Jobs().Scale("api", "web", new(3), "", false, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := srv.LatestDeployment("api"); d.JobVersion != 1 || d.Status != "running" {
		t.Errorf("scaling did not start a deployment for version 1: %+v", d)
	}
	if ev := srv.ScalingEvents("api", "web"); len(ev) != 1 || ev[0].EvalID == nil || *ev[0].EvalID != resp.EvalID {
		t.Errorf("scaling events = %+v, want one with eval %s", ev, resp.EvalID)
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

// A lock whose holder stopped renewing long ago is free again.
func TestLockExpiry(t *testing.T) {
	srv := nomadfake.New(t)
	c := srv.Client()
	ctx := context.Background()
	v := api.Variable{Path: "drover/leader", Lock: &api.VariableLock{TTL: "10s"}}
	a, _ := c.Locks(api.WriteOptions{}, v)
	b, _ := c.Locks(api.WriteOptions{}, v, api.LocksOptionWithMaxRetries(0))
	if _, err := a.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	holder := srv.LockHolder("drover/leader")
	if holder == nil || holder.TTL != 10*time.Second || holder.LockDelay != 15*time.Second {
		t.Errorf("holder = %+v, want TTL 10s and the default lock delay of 15s", holder)
	}
	srv.ExpireLock("drover/leader")
	if err := a.Renew(ctx); !errors.Is(err, api.ErrLockConflict) {
		t.Errorf("renew of an expired lock err = %v, want ErrLockConflict", err)
	}
	if _, err := b.Acquire(ctx); err != nil {
		t.Fatalf("acquire after expiry: %v", err)
	}
	if h := srv.LockHolder("drover/leader"); h == nil || h.ID == holder.ID {
		t.Errorf("holder after expiry = %+v", h)
	}
}

// Plans write nothing; what the fake does not model answers so that a
// test notices.
func TestWritesAndUnmodelled(t *testing.T) {
	srv := nomadfake.New(t)
	c := srv.Client()
	register(t, c, webJob("api", 1, "x"), nil)
	if _, _, err := c.Jobs().Plan(webJob("api", 2, "x"), true, nil); err != nil {
		t.Fatal(err)
	}
	if w := srv.Writes(); len(w) != 1 || w[0].Path != "/v1/jobs" {
		t.Errorf("writes = %+v, want only the register", w)
	}
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/v1/job/api/versions", 404},
		{"GET", "/v1/deployments", 404},
		{"GET", "/v1/agent/health", 404},
		{"PUT", "/v1/job/api", 405},
		{"PUT", "/v1/var/app/cfg", 501},
		{"GET", "/v1/var/app/cfg", 501},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL()+tc.path, strings.NewReader(`{"Items":{"a":"1"}}`))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, resp.StatusCode, tc.status)
		}
	}
}

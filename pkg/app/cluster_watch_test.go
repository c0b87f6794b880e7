package app_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/internal/fakes/nomadfake"
	"github.com/drover-io/drover/pkg/app"
)

// A project of one app in the mesh, no gateways, so that each watch test
// follows exactly one deployment.
const watchedWebHCL = `app "web" {
  image = "r/web:1"
  count = 2

  port "http" {
    to = 3000
  }

  service {
    port = "http"
  }

  update {
    max_parallel = 1
    auto_revert  = true
  }
}
`

const canaryWebHCL = `app "web" {
  image = "r/web:1"
  count = 2

  port "http" {
    to = 3000
  }

  service {
    port = "http"
  }

  update {
    max_parallel = 1
    canary       = 1
    auto_promote = false
  }
}
`

func webFiles(web string) map[string]string {
	return map[string]string{"drover.hcl": projectHCL, "web.hcl": web}
}

// deployV0 deploys version 0 of web and marks it stable, as a successful
// first rollout does.
func deployV0(c *cluster) {
	c.t.Helper()
	c.deploy(app.DeployOptions{Detach: true})
	c.nomad.CompleteDeployment("web")
	if j := c.nomad.Job("web"); *j.Version != 0 {
		c.t.Fatalf("web is at version %d, want 0", *j.Version)
	}
}

func deployErr(t *testing.T, c *cluster, opts app.DeployOptions) (*app.DeployResult, error) {
	t.Helper()
	opts.ClusterOptions = c.opts()
	res, err := app.Deploy(testContext(t), opts)
	if len(res.Deployments) != 1 {
		t.Fatalf("watched %d deployments, want 1 (err %v)", len(res.Deployments), err)
	}
	return res, err
}

func TestWatchRolledBackDeploymentIsExplained(t *testing.T) {
	t.Parallel()
	c := newCluster(t, webFiles(watchedWebHCL))
	deployV0(c)
	c.write("web.hcl", strings.Replace(watchedWebHCL, "r/web:1", "r/web:2", 1))

	const allocID = "0a1b2c3d-aaaa-4bbb-8ccc-123456789abc"
	var watched string
	c.hook(&hookedNomad{onBlock: func(n int, id string) {
		if n != 1 {
			return
		}
		watched = id
		// The new version's allocation fails to start; Nomad fails the
		// deployment and auto-reverts to version 0.
		c.nomad.SetAllocations("web", []*nomadapi.AllocationListStub{{
			ID: allocID, TaskGroup: "web", JobVersion: 1, ClientStatus: "failed", DesiredStatus: "run",
			DeploymentStatus: &nomadapi.AllocDeploymentStatus{Healthy: new(false)},
			TaskStates: map[string]*nomadapi.TaskState{"web": {State: "dead", Failed: true, Events: []*nomadapi.TaskEvent{
				{Type: "Received", DisplayMessage: "Task received by client"},
				{Type: "Driver Failure", DisplayMessage: "Failed to pull `r/web:2`: manifest unknown"},
				{Type: "Killing", DisplayMessage: "Sent interrupt"},
			}}},
		}})
		c.nomad.FailDeployment("web", "", new(uint64(0)))
	}})

	res, err := deployErr(t, c, app.DeployOptions{})
	var de *app.DeploymentError
	if !errors.As(err, &de) || len(de.Failed) != 1 || de.Failed[0].Job != "web" {
		t.Fatalf("want *app.DeploymentError for web, got %v", err)
	}
	desc := nomadfake.DescRollback(nomadfake.DescFailedAllocations, 0)
	want := &app.DeploymentOutcome{
		Job:          "web",
		DeploymentID: watched,
		Status:       app.StatusRolledBack,
		Description:  desc,
		RevertedTo:   new(uint64(0)),
		Explanation: []string{
			desc,
			"alloc 0a1b2c3d task web: Driver Failure: Failed to pull `r/web:2`: manifest unknown",
		},
	}
	if diff := cmp.Diff(want, res.Deployments[0]); diff != "" {
		t.Errorf("outcome (-want +got):\n%s", diff)
	}
	if !res.Deployments[0].Failed() {
		t.Error("a rollback must count as a failure")
	}
	// The new version is not running: the next plan wants it again.
	if got := changes(c.plan(app.PlanOptions{})); !cmp.Equal(got, []string{"update nomad nomad-job web"}) {
		t.Errorf("plan after the rollback = %v, want web updated again", got)
	}
}

func TestWatchPlacementFailure(t *testing.T) {
	t.Parallel()
	c := newCluster(t, webFiles(watchedWebHCL))
	c.hook(&hookedNomad{afterRegister: func(job *nomadapi.Job, resp *nomadapi.JobRegisterResponse) {
		c.nomad.SetEvalFailedAllocs(resp.EvalID, map[string]*nomadapi.AllocationMetric{
			"web": {NodesEvaluated: 3, NodesExhausted: 3, DimensionExhausted: map[string]int{"memory": 3}},
		})
	}})
	res, err := deployErr(t, c, app.DeployOptions{})
	var de *app.DeploymentError
	if !errors.As(err, &de) {
		t.Fatalf("want *app.DeploymentError, got %v", err)
	}
	got := res.Deployments[0]
	if got.Status != app.StatusPlacementFailed {
		t.Errorf("status = %q, want %q", got.Status, app.StatusPlacementFailed)
	}
	if diff := cmp.Diff([]string{`group "web": 0 placed, 1 could not be placed: memory exhausted on 3 node(s)`}, got.Explanation); diff != "" {
		t.Errorf("explanation (-want +got):\n%s", diff)
	}
}

func TestWatchCanariesWithoutAutoPromote(t *testing.T) {
	t.Parallel()
	cases := []struct {
		promote      bool
		wantStatus   string
		wantPromotes int
		wantErr      bool
	}{
		{promote: false, wantStatus: app.StatusAwaitingPromotion, wantPromotes: 0},
		{promote: true, wantStatus: app.StatusSuccessful, wantPromotes: 1},
	}
	for _, tc := range cases {
		name := "without promote"
		if tc.promote {
			name = "with promote"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := newCluster(t, webFiles(canaryWebHCL), autoSucceed)
			c.deploy(app.DeployOptions{}) // a new job has no canaries
			c.write("web.hcl", strings.Replace(canaryWebHCL, "r/web:1", "r/web:2", 1))

			var watched string
			c.hook(&hookedNomad{onBlock: func(n int, id string) {
				if n == 1 {
					watched = id
					// The canary comes up healthy.
					c.nomad.SetDeployment("web", func(d *nomadapi.Deployment) {
						st := d.TaskGroups["web"]
						st.PlacedCanaries, st.PlacedAllocs, st.HealthyAllocs = []string{"canary-1"}, 1, 1
					})
				}
			}})
			res, err := deployErr(t, c, app.DeployOptions{Promote: tc.promote})
			if err != nil {
				t.Fatalf("deploy: %v", err)
			}
			if got := res.Deployments[0].Status; got != tc.wantStatus {
				t.Errorf("status = %q, want %q", got, tc.wantStatus)
			}
			if got := nomadRequests(c.nomad, http.MethodPut, "/v1/deployment/promote/"+watched); got != tc.wantPromotes {
				t.Errorf("%d promote requests, want %d", got, tc.wantPromotes)
			}
			d := c.nomad.Deployment(watched)
			if want := map[bool]string{false: nomadfake.StatusRunning, true: nomadfake.StatusSuccessful}[tc.promote]; d.Status != want {
				t.Errorf("deployment status in Nomad = %q, want %q", d.Status, want)
			}
			if d.TaskGroups["web"].DesiredCanaries != 1 {
				t.Errorf("the deployment had no canary: %+v", d.TaskGroups["web"])
			}
		})
	}
}

func TestWatchSupersededByANewerRegistration(t *testing.T) {
	t.Parallel()
	c := newCluster(t, webFiles(watchedWebHCL))
	c.hook(&hookedNomad{onBlock: func(n int, id string) {
		if n == 1 {
			// Someone registers a newer version while drover watches.
			job := c.nomad.Job("web")
			job.TaskGroups[0].Tasks[0].Config["image"] = "r/web:other"
			if _, _, err := c.nomad.Client().Jobs().Register(job, nil); err != nil {
				t.Error(err)
			}
		}
	}})
	res, err := deployErr(t, c, app.DeployOptions{})
	var de *app.DeploymentError
	if !errors.As(err, &de) {
		t.Fatalf("want *app.DeploymentError, got %v", err)
	}
	if got := res.Deployments[0]; got.Status != app.StatusSuperseded || got.Description != nomadfake.DescNewerJob {
		t.Errorf("outcome = %+v", got)
	}
}

func TestWatchInterruptedByCancel(t *testing.T) {
	t.Parallel()
	c := newCluster(t, webFiles(watchedWebHCL))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var watched string
	c.hook(&hookedNomad{onBlock: func(n int, id string) {
		if n == 1 {
			watched = id
			// Ctrl-C while drover waits on a blocking query, which
			// would otherwise wait for Nomad's five minutes.
			time.AfterFunc(20*time.Millisecond, cancel)
		}
	}})

	type result struct {
		res *app.DeployResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := app.Deploy(ctx, app.DeployOptions{PlanOptions: app.PlanOptions{ClusterOptions: c.opts()}})
		done <- result{res, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Deploy did not return after its context was cancelled")
	}
	if !errors.Is(r.err, context.Canceled) {
		t.Errorf("want context.Canceled, got %v", r.err)
	}
	if len(r.res.Deployments) != 1 || r.res.Deployments[0].Status != app.StatusInterrupted {
		t.Fatalf("outcomes = %+v, want one interrupted", r.res.Deployments)
	}
	if e := r.res.Deployments[0].Explanation; len(e) != 0 {
		t.Errorf("a cancel needs no explanation, got %q", e)
	}
	var blocking bool
	for _, req := range c.nomad.Requests() {
		if req.Path == "/v1/deployment/"+watched && req.Query.Get("index") != "" {
			blocking = true
		}
	}
	if !blocking {
		t.Error("no blocking query on the deployment was sent")
	}
	if d := c.nomad.Deployment(watched); d.Status != nomadfake.StatusRunning {
		t.Errorf("the deployment goes on in Nomad; got status %q", d.Status)
	}
}

func TestDeployDetachedDoesNotWatch(t *testing.T) {
	t.Parallel()
	c := newCluster(t, webFiles(watchedWebHCL))
	res := c.deploy(app.DeployOptions{Detach: true})
	want := []*app.DeploymentOutcome{{Job: "web", Status: app.StatusDetached}}
	if diff := cmp.Diff(want, res.Deployments); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	for _, r := range c.nomad.Requests() {
		if strings.HasPrefix(r.Path, "/v1/deployment") || strings.HasPrefix(r.Path, "/v1/evaluation") {
			t.Errorf("a detached deploy read %s", r.Path)
		}
	}
}

// TestPromoteWaitingCanariesWithNothingToApply: `deploy --promote`, as the
// hint of an awaiting deployment says, promotes its canaries even when the
// specs have not changed since.
func TestPromoteWaitingCanariesWithNothingToApply(t *testing.T) {
	t.Parallel()
	c := newCluster(t, webFiles(canaryWebHCL), autoSucceed)
	c.deploy(app.DeployOptions{}) // a new job has no canaries
	c.write("web.hcl", strings.Replace(canaryWebHCL, "r/web:1", "r/web:2", 1))
	h := c.hook(&hookedNomad{onBlock: func(n int, id string) {
		if n == 1 {
			c.nomad.SetDeployment("web", func(d *nomadapi.Deployment) {
				st := d.TaskGroups["web"]
				st.PlacedCanaries, st.PlacedAllocs, st.HealthyAllocs = []string{"canary-1"}, 1, 1
			})
		}
	}})
	res, err := deployErr(t, c, app.DeployOptions{})
	if err != nil || res.Deployments[0].Status != app.StatusAwaitingPromotion {
		t.Fatalf("first deploy: %v, %+v", err, res.Deployments)
	}
	waiting := res.Deployments[0].DeploymentID
	h.onBlock = nil

	c.resetRequests()
	res, err = deployErr(t, c, app.DeployOptions{Promote: true})
	if err != nil {
		t.Fatalf("deploy --promote: %v", err)
	}
	if len(res.Applied) != 0 {
		t.Errorf("applied %d changes, want none", len(res.Applied))
	}
	if got := res.Deployments[0].Status; got != app.StatusSuccessful {
		t.Errorf("status = %q, want successful", got)
	}
	if got := nomadRequests(c.nomad, http.MethodPut, "/v1/deployment/promote/"+waiting); got != 1 {
		t.Errorf("%d promote requests, want 1", got)
	}
}

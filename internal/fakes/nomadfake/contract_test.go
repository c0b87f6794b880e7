package nomadfake_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/internal/fakes/nomadfake"
	"github.com/drover-io/drover/internal/testutil"
)

// The contract: what drover relies on from Nomad, stated as cases that run
// against the fake (TestContract) and, under the integration build tag,
// against a real agent (TestContractAgainstAgent in
// contract_integration_test.go), so that the fake is shown to answer as
// the agent does. A case talks HTTP through the official client only; it
// sets up state through the API, names what it creates with a unique
// fake-contract- prefix and removes it again. Nothing a case registers
// runs: groups have count 0, or the job is periodic and never due during
// the test, and the only image named is the local test image. What only
// the fake can set up (deployments driven by hand, seeded allocations,
// injected faults) is tested in nomadfake_test.go.

// testImage is the only image a contract case names: it exists on the test
// bed, so even a placement would pull nothing.
const testImage = "testapp:local"

// target is what a contract case talks to.
type target struct {
	c *api.Client
	// fake is the fake behind c; nil against a real agent.
	fake *nomadfake.Server
	// prefix makes the names of what a case creates unique.
	prefix string
}

// name is a unique name for an object a case creates.
func (tg *target) name(s string) string { return tg.prefix + s }

// newTarget returns a target for the agent at cfg.Address (fake is the
// fake behind it, or nil).
func newTarget(t *testing.T, cfg *api.Config, fake *nomadfake.Server) *target {
	t.Helper()
	c, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &target{c: c, fake: fake, prefix: "fake-contract-" + hex.EncodeToString(b[:]) + "-"}
}

var contract = []testutil.ContractCase[*target]{
	{Name: "regions", Run: contractRegions},
	{Name: "missing objects", Run: contractMissing},
	{Name: "register and read", Run: contractRegisterAndRead},
	{Name: "enforce index", Run: contractEnforceIndex},
	{Name: "list with a meta filter", Run: contractListWithMeta},
	{Name: "validation errors", Run: contractValidation},
	{Name: "plan", Run: contractPlan},
	{Name: "plan of a new group and meta", Run: contractPlanNewGroup},
	{Name: "deregister and purge", Run: contractDeregister},
	{Name: "scale", Run: contractScale},
	{Name: "scaling policies", Run: contractScalingPolicies},
	{Name: "namespaces", Run: contractNamespaces},
	{Name: "variable locks", Run: contractVariableLocks},
	{Name: "blocking queries", Run: contractBlocking},
}

// runContract runs every contract case against a target from newTarget.
func runContract(t *testing.T, newTarget func(t *testing.T) *target) {
	testutil.RunContract(t, contract, newTarget)
}

func TestContract(t *testing.T) {
	runContract(t, func(t *testing.T) *target {
		srv := nomadfake.New(t)
		return newTarget(t, &api.Config{Address: srv.URL()}, srv)
	})
}

// ---- jobs ----

// serviceJob is a service job that places nothing: one group "web" of
// count 0, a scaling block from 0 to 3 and one docker task.
func serviceJob(id string) *api.Job {
	job := api.NewServiceJob(id, id, "global", 50)
	job.Meta = map[string]string{"drover.app": id}
	tg := api.NewTaskGroup("web", 0)
	tg.Scaling = &api.ScalingPolicy{
		Min:    new(int64(0)),
		Max:    new(int64(3)),
		Policy: map[string]any{"cooldown": "1m"},
	}
	tg.AddTask(api.NewTask("app", "docker").SetConfig("image", testImage))
	job.AddTaskGroup(tg)
	return job
}

// plainJob is serviceJob without its scaling block. (Nomad compares a
// stored scaling policy, raft indexes and all, with the submitted one, so
// a job with a scaling block never reads as unchanged.)
func plainJob(id string) *api.Job {
	job := serviceJob(id)
	job.TaskGroups[0].Scaling = nil
	return job
}

// periodicJob is a batch job that is never due during a test (at midnight
// on New Year's Day): one group "work" of count 1 with a scaling block
// from 1 to 3. A periodic job is not evaluated on register or scale.
func periodicJob(id string) *api.Job {
	job := api.NewBatchJob(id, id, "global", 50)
	job.Periodic = &api.PeriodicConfig{Spec: new("0 0 1 1 *"), SpecType: new("cron"), ProhibitOverlap: new(true)}
	tg := api.NewTaskGroup("work", 1)
	tg.Scaling = &api.ScalingPolicy{Min: new(int64(1)), Max: new(int64(3))}
	tg.AddTask(api.NewTask("app", "docker").SetConfig("image", testImage))
	job.AddTaskGroup(tg)
	return job
}

// register registers a job and purges it when the test ends.
func (tg *target) register(t *testing.T, job *api.Job, opts *api.RegisterOptions) *api.JobRegisterResponse {
	t.Helper()
	tg.purgeAtEnd(t, *job.ID, job.Namespace)
	resp, _, err := tg.c.Jobs().RegisterOpts(job, opts, nil)
	if err != nil {
		t.Fatalf("register %s: %v", *job.ID, err)
	}
	return resp
}

func (tg *target) purgeAtEnd(t *testing.T, id string, ns *string) {
	t.Cleanup(func() {
		q := &api.WriteOptions{}
		if ns != nil {
			q.Namespace = *ns
		}
		if _, _, err := tg.c.Jobs().Deregister(id, true, q); err != nil {
			t.Logf("cleanup: purge %s: %v", id, err)
		}
	})
}

func (tg *target) info(t *testing.T, id string) (*api.Job, *api.QueryMeta) {
	t.Helper()
	job, meta, err := tg.c.Jobs().Info(id, nil)
	if err != nil {
		t.Fatalf("read %s: %v", id, err)
	}
	return job, meta
}

// waitEval reads an evaluation until it is terminal, with blocking
// queries, as drover's watcher does.
func (tg *target) waitEval(t *testing.T, id string) *api.Evaluation {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var index uint64
	for {
		ev, meta, err := tg.c.Evaluations().Info(id, (&api.QueryOptions{WaitIndex: index, WaitTime: 5 * time.Second}).WithContext(ctx))
		if err != nil {
			t.Fatalf("evaluation %s: %v", id, err)
		}
		switch ev.Status {
		case "complete", "failed", "canceled":
			return ev
		}
		index = meta.LastIndex
	}
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

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

func randomUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// ---- cases ----

func contractRegions(t *testing.T, tg *target) {
	var regions []string
	if _, err := tg.c.Raw().Query("/v1/regions", &regions, nil); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(regions, "global") {
		t.Errorf("regions = %v, want them to include global", regions)
	}
}

func contractMissing(t *testing.T, tg *target) {
	id := tg.name("nope")
	for _, tc := range []struct {
		what   string
		call   func() error
		status int
		body   string
	}{
		{"job", func() error { _, _, err := tg.c.Jobs().Info(id, nil); return err }, 404, "job not found"},
		{"scale status", func() error { _, _, err := tg.c.Jobs().ScaleStatus(id, nil); return err }, 404, "job not found"},
		{"evaluation", func() error { _, _, err := tg.c.Evaluations().Info(randomUUID(), nil); return err }, 404, "eval not found"},
		{"deployment", func() error { _, _, err := tg.c.Deployments().Info(randomUUID(), nil); return err }, 404, "deployment not found"},
		{"scaling policy", func() error { _, _, err := tg.c.Scaling().GetPolicy(randomUUID(), nil); return err }, 404, "policy not found"},
		{"namespace", func() error { _, _, err := tg.c.Namespaces().Info(id, nil); return err }, 404, "Namespace not found"},
	} {
		status, body := statusOf(t, tc.call())
		if status != tc.status || body != tc.body {
			t.Errorf("%s: got %d %q, want %d %q", tc.what, status, body, tc.status, tc.body)
		}
	}

	// What is not there reads as nothing, without an error.
	if d, _, err := tg.c.Jobs().LatestDeployment(id, nil); err != nil || d != nil {
		t.Errorf("latest deployment of a missing job = %v, %v; want nil (null), nil", d, err)
	}
	if allocs, _, err := tg.c.Jobs().Allocations(id, false, nil); err != nil || len(allocs) != 0 {
		t.Errorf("allocations of a missing job = %v, %v; want none", allocs, err)
	}
	if allocs, _, err := tg.c.Deployments().Allocations(randomUUID(), nil); err != nil || len(allocs) != 0 {
		t.Errorf("allocations of a missing deployment = %v, %v; want none", allocs, err)
	}
	// Nomad answers a deregister of a missing job with success and no eval.
	if evalID, _, err := tg.c.Jobs().Deregister(id, false, nil); err != nil || evalID != "" {
		t.Errorf("deregister of a missing job = %q, %v; want \"\", nil", evalID, err)
	}
}

func contractRegisterAndRead(t *testing.T, tg *target) {
	id := tg.name("api")
	sub := &api.JobSubmission{Source: "job \"" + id + "\" {}", Format: "hcl2"}
	resp := tg.register(t, serviceJob(id), &api.RegisterOptions{Submission: sub})
	if resp.EvalID == "" || resp.JobModifyIndex == 0 || resp.EvalCreateIndex != resp.JobModifyIndex {
		t.Fatalf("register response = %+v; want an eval created at the job's modify index", resp)
	}
	job, meta := tg.info(t, id)
	got := []any{*job.Version, *job.Stable, *job.JobModifyIndex, *job.CreateIndex, meta.LastIndex, meta.KnownLeader,
		job.Datacenters, *job.NodePool, *job.Namespace, *job.Stop}
	want := []any{uint64(0), false, resp.JobModifyIndex, resp.JobModifyIndex, *job.ModifyIndex, true,
		[]string{"*"}, "default", "default", false}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("job fields [version stable jobModifyIndex createIndex lastIndex knownLeader datacenters nodePool namespace stop] (-want +got):\n%s", diff)
	}
	// Drover only shows the status. (The fake reports any job that is not
	// stopped as running; Nomad derives it from allocations and evals.)
	if s := *job.Status; s != "pending" && s != "running" && s != "dead" {
		t.Errorf("status = %q", s)
	}

	ev := tg.waitEval(t, resp.EvalID)
	if ev.Status != "complete" || ev.JobID != id || ev.TriggeredBy != "job-register" || ev.Type != "service" ||
		ev.Namespace != "default" || ev.JobModifyIndex != resp.JobModifyIndex {
		t.Errorf("evaluation = %+v", ev)
	}
	// Nothing to place, so no deployment.
	if ev.DeploymentID != "" {
		t.Errorf("evaluation of a count-0 job has deployment %q", ev.DeploymentID)
	}
	if d, _, err := tg.c.Jobs().LatestDeployment(id, nil); err != nil || d != nil {
		t.Errorf("latest deployment of a count-0 job = %+v, %v; want none", d, err)
	}

	// With a scaling block, the same spec is a new version (see plainJob)
	// whose policy stays as it was.
	policy := policyOf(t, tg, id)
	again := tg.register(t, serviceJob(id), nil)
	after, _ := tg.info(t, id)
	if again.JobModifyIndex == resp.JobModifyIndex || *after.Version != 1 || *after.CreateIndex != *job.CreateIndex {
		t.Errorf("re-register of a scaled job = %+v, version %d; want a new version", again, *after.Version)
	}
	if p := policyOf(t, tg, id); p == nil || policy == nil || p.ID != policy.ID || p.ModifyIndex != policy.ModifyIndex {
		t.Errorf("policy after the re-register = %+v, want %+v", p, policy)
	}

	// Changed: a new version of the same job; PreserveCounts keeps the count.
	changed := serviceJob(id)
	changed.Meta["owner"] = "team-a"
	changed.TaskGroups[0].Count = new(2)
	resp2 := tg.register(t, changed, &api.RegisterOptions{PreserveCounts: true})
	job2, _ := tg.info(t, id)
	if *job2.Version != 2 || *job2.JobModifyIndex != resp2.JobModifyIndex || *job2.CreateIndex != *job.CreateIndex ||
		*job2.TaskGroups[0].Count != 0 || job2.Meta["owner"] != "team-a" {
		t.Errorf("after a change: version %d, JobModifyIndex %d (register said %d), CreateIndex %d (was %d), count %d, meta %v",
			*job2.Version, *job2.JobModifyIndex, resp2.JobModifyIndex, *job2.CreateIndex, *job.CreateIndex, *job2.TaskGroups[0].Count, job2.Meta)
	}

	// Without one, the same spec only forces an evaluation.
	// (The reply's JobModifyIndex is then the job's ModifyIndex, which
	// moves with its status as the first evaluation completes.)
	plain := tg.name("plain")
	first := tg.register(t, plainJob(plain), nil)
	tg.waitEval(t, first.EvalID)
	before, _ := tg.info(t, plain)
	same := tg.register(t, plainJob(plain), nil)
	if pj, _ := tg.info(t, plain); same.EvalID == "" || same.EvalID == first.EvalID || same.JobModifyIndex != *before.ModifyIndex ||
		*pj.Version != 0 || *pj.JobModifyIndex != first.JobModifyIndex {
		t.Errorf("re-register of the same spec = %+v, version %d, JobModifyIndex %d; want a new eval, reply JobModifyIndex %d, version 0 and JobModifyIndex %d",
			same, *pj.Version, *pj.JobModifyIndex, *before.ModifyIndex, first.JobModifyIndex)
	}
	if tg.fake != nil {
		if got := tg.fake.Submission(id, 0); got == nil || got.Source != sub.Source {
			t.Errorf("submission of version 0 = %+v", got)
		}
	}
}

func contractEnforceIndex(t *testing.T, tg *target) {
	id, other := tg.name("api"), tg.name("other")
	first := tg.register(t, serviceJob(id), &api.RegisterOptions{EnforceIndex: true, ModifyIndex: 0})
	tg.purgeAtEnd(t, other, nil)
	for _, tc := range []struct {
		name  string
		job   string
		index uint64
		want  string
	}{
		{"exists", id, 0, "Enforcing job modify index 0: job already exists"},
		{"stale", id, first.JobModifyIndex + 7, "Enforcing job modify index " + itoa(first.JobModifyIndex+7) + ": job exists with conflicting job modify index: " + itoa(first.JobModifyIndex)},
		{"missing", other, 5, "Enforcing job modify index 5: job does not exist"},
	} {
		job := serviceJob(tc.job)
		job.Meta["v"] = "2"
		_, _, err := tg.c.Jobs().EnforceRegister(job, tc.index, nil)
		if status, body := statusOf(t, err); status != http.StatusInternalServerError || body != tc.want {
			t.Errorf("%s: got %d %q, want 500 %q", tc.name, status, body, tc.want)
		}
	}
	job := serviceJob(id)
	job.Meta["v"] = "2"
	if _, _, err := tg.c.Jobs().EnforceRegister(job, first.JobModifyIndex, nil); err != nil {
		t.Errorf("register with the current index: %v", err)
	}
}

func contractListWithMeta(t *testing.T, tg *target) {
	a, b, c := tg.name("a"), tg.name("b"), tg.name("c")
	tg.register(t, serviceJob(a), nil)
	rb := tg.register(t, serviceJob(b), nil)
	other := serviceJob(c)
	other.Meta = map[string]string{"drover.app": tg.name("zzz")}
	tg.register(t, other, nil)

	q := &api.QueryOptions{Filter: `Meta["drover.app"] == "` + b + `"`, Params: map[string]string{"meta": "true"}}
	stubs, meta, err := tg.c.Jobs().List(q)
	if err != nil {
		t.Fatal(err)
	}
	if len(stubs) != 1 || stubs[0].ID != b || stubs[0].Meta["drover.app"] != b || stubs[0].JobModifyIndex != rb.JobModifyIndex ||
		stubs[0].Namespace != "default" || stubs[0].Type != "service" || meta.LastIndex == 0 {
		t.Fatalf("filtered list = %+v (index %d)", stubs, meta.LastIndex)
	}
	// Without ?meta the stubs carry none; a prefix selects by ID.
	stubs, _, err = tg.c.Jobs().List(&api.QueryOptions{Prefix: tg.prefix})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range stubs {
		ids = append(ids, s.ID)
		if s.Meta != nil {
			t.Errorf("stub %s carries meta without ?meta=true: %v", s.ID, s.Meta)
		}
	}
	if diff := cmp.Diff([]string{a, b, c}, ids); diff != "" {
		t.Errorf("list by prefix (-want +got):\n%s", diff)
	}
}

func contractValidation(t *testing.T, tg *target) {
	id := tg.name("api")
	tg.purgeAtEnd(t, id, nil)
	job := serviceJob(id)
	job.TaskGroups[0].Count = new(4) // above the scaling max of 3
	_, _, err := tg.c.Jobs().Register(job, nil)
	want := "1 error occurred:\n\t* Task group web validation failed: 1 error occurred:\n\t* Task group scaling policy validation failed: 1 error occurred:\n\t* Scaling policy invalid: task group count must not be greater than maximum count in scaling policy"
	if status, body := statusOf(t, err); status != 500 || body != want { // the client trims the body
		t.Errorf("count above the scaling max: got %d %q\nwant 500 %q", status, body, want)
	}

	tg.register(t, serviceJob(id), nil)
	batch := serviceJob(id)
	batch.Type = new("batch")
	batch.TaskGroups[0].Scaling = nil
	_, _, err = tg.c.Jobs().Register(batch, nil)
	if status, body := statusOf(t, err); status != 500 || body != `cannot update job from type "service" to "batch"` {
		t.Errorf("type change: %d %q", status, body)
	}
}

func contractPlan(t *testing.T, tg *target) {
	id := tg.name("api")
	tg.purgeAtEnd(t, id, nil)

	job := serviceJob(id)
	job.TaskGroups[0].Count = new(2)
	plan, _, err := tg.c.Jobs().Plan(job, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Diff.Type != "Added" || plan.JobModifyIndex != 0 || plan.Annotations.DesiredTGUpdates["web"].Place != 2 {
		t.Errorf("plan of a new job: diff %s, index %d, updates %+v", plan.Diff.Type, plan.JobModifyIndex, plan.Annotations.DesiredTGUpdates["web"])
	}
	if _, _, err := tg.c.Jobs().Info(id, nil); err == nil {
		t.Errorf("a plan registered the job")
	}

	reg := tg.register(t, plainJob(id), nil)
	plan, _, err = tg.c.Jobs().Plan(plainJob(id), true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Diff.Type != "None" || plan.JobModifyIndex != reg.JobModifyIndex {
		t.Errorf("plan of the same job: diff %s (%+v), index %d want %d", plan.Diff.Type, plan.Diff, plan.JobModifyIndex, reg.JobModifyIndex)
	}
	if u := plan.Annotations.DesiredTGUpdates["web"]; u == nil || *u != (api.DesiredUpdates{}) {
		t.Errorf("unchanged count-0 group updates = %+v, want all zero", u)
	}

	// A scaling block reads as edited, with no field changed: drover
	// looks for changed fields, not at the diff's type.
	scaled := tg.register(t, serviceJob(id), nil)
	plan, _, err = tg.c.Jobs().Plan(serviceJob(id), true, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantScaling := []*api.ObjectDiff{{Type: "Edited", Name: "Scaling"}}
	if g := plan.Diff.TaskGroups[0]; plan.Diff.Type != "Edited" || len(plan.Diff.Fields) != 0 || len(plan.Diff.Objects) != 0 ||
		g.Type != "Edited" || len(g.Fields) != 0 || !cmp.Equal(g.Objects, wantScaling) || g.Tasks[0].Type != "None" || plan.JobModifyIndex != scaled.JobModifyIndex {
		t.Errorf("plan of the same scaled job: %s, fields %v objects %v, group %s fields %v objects %+v tasks %s",
			plan.Diff.Type, plan.Diff.Fields, plan.Diff.Objects, g.Type, g.Fields, g.Objects, g.Tasks[0].Type)
	}
	tg.register(t, plainJob(id), nil) // back to no scaling block

	// A count and a task change: the diff drover prints and counts.
	job = plainJob(id)
	job.TaskGroups[0].Count = new(2)
	job.TaskGroups[0].Tasks[0].Env = map[string]string{"MODE": "blue"}
	plan, _, err = tg.c.Jobs().Plan(job, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Diff.Type != "Edited" || len(plan.Diff.TaskGroups) != 1 {
		t.Fatalf("plan of a change: diff %s, %d groups", plan.Diff.Type, len(plan.Diff.TaskGroups))
	}
	g := plan.Diff.TaskGroups[0]
	if g.Type != "Edited" || g.Name != "web" {
		t.Fatalf("group diff %s %s", g.Name, g.Type)
	}
	wantCount := &api.FieldDiff{Type: "Edited", Name: "Count", Old: "0", New: "2", Annotations: []string{"forces create"}}
	if diff := cmp.Diff([]*api.FieldDiff{wantCount}, g.Fields); diff != "" {
		t.Errorf("group fields (-want +got):\n%s", diff)
	}
	if len(g.Tasks) != 1 {
		t.Fatalf("task diffs = %+v", g.Tasks)
	}
	task := g.Tasks[0]
	wantEnv := []*api.FieldDiff{{Type: "Added", Name: "Env[MODE]", New: "blue"}}
	if task.Type != "Edited" || !cmp.Equal(task.Annotations, []string{"forces create/destroy update"}) {
		t.Errorf("task diff = %s %v", task.Type, task.Annotations)
	}
	if diff := cmp.Diff(wantEnv, task.Fields); diff != "" {
		t.Errorf("task fields (-want +got):\n%s", diff)
	}
	if u := plan.Annotations.DesiredTGUpdates["web"]; u.Place != 2 || u.DestructiveUpdate != 0 {
		t.Errorf("changed group updates = %+v", u)
	}
	if g.Updates["create"] != 2 {
		t.Errorf("group Updates = %v", g.Updates)
	}

	noDiff, _, err := tg.c.Jobs().Plan(job, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if noDiff.Diff != nil {
		t.Errorf("plan without diff returned a diff")
	}
	if after, _ := tg.info(t, id); *after.Version != 2 || *after.TaskGroups[0].Count != 0 {
		t.Errorf("plans changed the job: version %d (want the 2 registers made), count %d", *after.Version, *after.TaskGroups[0].Count)
	}
}

func contractPlanNewGroup(t *testing.T, tg *target) {
	id := tg.name("api")
	tg.register(t, plainJob(id), nil)
	job := plainJob(id)
	job.Meta["owner"] = "team-a"
	worker := api.NewTaskGroup("worker", 1)
	worker.AddTask(api.NewTask("w", "docker").SetConfig("image", testImage))
	job.AddTaskGroup(worker)
	plan, _, err := tg.c.Jobs().Plan(job, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]*api.FieldDiff{{Type: "Added", Name: "Meta[owner]", New: "team-a"}}, plan.Diff.Fields); diff != "" {
		t.Errorf("job fields (-want +got):\n%s", diff)
	}
	types := map[string]string{}
	for _, g := range plan.Diff.TaskGroups {
		types[g.Name] = g.Type
	}
	if diff := cmp.Diff(map[string]string{"web": "None", "worker": "Added"}, types); diff != "" {
		t.Errorf("group diff types (-want +got):\n%s", diff)
	}
	if u := plan.Annotations.DesiredTGUpdates["worker"]; u == nil || u.Place != 1 {
		t.Errorf("new group updates = %+v", u)
	}
}

func contractDeregister(t *testing.T, tg *target) {
	id := tg.name("api")
	tg.register(t, serviceJob(id), nil)
	evalID, _, err := tg.c.Jobs().Deregister(id, false, nil)
	if err != nil || evalID == "" {
		t.Fatalf("stop: %q, %v", evalID, err)
	}
	// The job is dead once its deregister evaluation completes.
	if ev := tg.waitEval(t, evalID); ev.TriggeredBy != "job-deregister" || ev.JobID != id || ev.Type != "service" {
		t.Errorf("deregister evaluation = %+v", ev)
	}
	job, _ := tg.info(t, id)
	if !*job.Stop || *job.Status != "dead" || *job.Version != 1 || *job.TaskGroups[0].Scaling.Enabled {
		t.Errorf("stopped job: stop %v status %s version %d scaling enabled %v", *job.Stop, *job.Status, *job.Version, *job.TaskGroups[0].Scaling.Enabled)
	}
	stubs, _, err := tg.c.Jobs().List(&api.QueryOptions{Prefix: id})
	if err != nil || len(stubs) != 1 || !stubs[0].Stop || stubs[0].Status != "dead" {
		t.Errorf("list after stop = %+v, %v", stubs, err)
	}
	if p := policyOf(t, tg, id); p == nil || p.Enabled {
		t.Errorf("policy after stop = %+v, want it disabled", p)
	}

	if _, _, err := tg.c.Jobs().Deregister(id, true, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := tg.c.Jobs().Info(id, nil); err == nil {
		t.Errorf("purged job still readable")
	}
	if p := policyOf(t, tg, id); p != nil {
		t.Errorf("policy after purge = %+v", p)
	}
}

// policyOf is the policy stub of a job's group from the list of all
// policies, or nil.
func policyOf(t *testing.T, tg *target, jobID string) *api.ScalingPolicyListStub {
	t.Helper()
	stubs, _, err := tg.c.Scaling().ListPolicies(nil)
	if err != nil {
		t.Fatal(err)
	}
	var found *api.ScalingPolicyListStub
	for _, s := range stubs {
		if s.Target["Job"] == jobID {
			if found != nil {
				t.Fatalf("two policies for %s: %+v and %+v", jobID, found, s)
			}
			found = s
		}
	}
	return found
}

func contractScale(t *testing.T, tg *target) {
	id := tg.name("batch")
	reg := tg.register(t, periodicJob(id), nil)
	if reg.EvalID != "" {
		t.Errorf("register of a periodic job created eval %q", reg.EvalID)
	}
	group := map[string]string{"Group": "work"}
	for _, tc := range []struct {
		name   string
		job    string
		req    *api.ScalingRequest
		status int
		body   string
	}{
		{"missing job", tg.name("nope"), &api.ScalingRequest{Count: new(int64(2)), Target: group}, 404, `job "` + tg.name("nope") + `" not found`},
		{"missing group", id, &api.ScalingRequest{Count: new(int64(2))}, 400, "missing task group name for scaling action"},
		{"unknown group", id, &api.ScalingRequest{Count: new(int64(2)), Target: map[string]string{"Group": "db"}}, 400, `task group "db" specified for scaling does not exist in job`},
		{"negative", id, &api.ScalingRequest{Count: new(int64(-1)), Target: group}, 400, "scaling action count can't be negative"},
		{"below min", id, &api.ScalingRequest{Count: new(int64(0)), Target: group}, 400, "group count was less than scaling policy minimum: 0 < 1"},
		{"above max", id, &api.ScalingRequest{Count: new(int64(4)), Target: group}, 400, "group count was greater than scaling policy maximum: 4 > 3"},
		{"stale index", id, &api.ScalingRequest{Count: new(int64(2)), Target: group, JobModifyIndex: reg.JobModifyIndex + 100}, 500,
			"Enforcing job modify index " + itoa(reg.JobModifyIndex+100) + ": job exists with conflicting job modify index: " + itoa(reg.JobModifyIndex)},
	} {
		_, _, err := tg.c.Jobs().ScaleWithRequest(tc.job, tc.req, nil)
		if status, body := statusOf(t, err); status != tc.status || body != tc.body {
			t.Errorf("%s: got %d %q, want %d %q", tc.name, status, body, tc.status, tc.body)
		}
	}

	resp, _, err := tg.c.Jobs().ScaleWithRequest(id, &api.ScalingRequest{
		Count: new(int64(2)), Target: group, Message: "autoscaler", Meta: map[string]any{"reason": "cpu"},
		JobModifyIndex: reg.JobModifyIndex,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	job, _ := tg.info(t, id)
	if *job.TaskGroups[0].Count != 2 || *job.JobModifyIndex != resp.JobModifyIndex || *job.Version != 1 || resp.EvalID != "" {
		t.Errorf("scaled job: count %d, JobModifyIndex %d (response %d), version %d, eval %q",
			*job.TaskGroups[0].Count, *job.JobModifyIndex, resp.JobModifyIndex, *job.Version, resp.EvalID)
	}
	// A scaling event without a count changes nothing but the events.
	if _, _, err := tg.c.Jobs().Scale(id, "work", nil, "just a note", false, nil, nil); err != nil {
		t.Fatal(err)
	}
	st, _, err := tg.c.Jobs().ScaleStatus(id, nil)
	if err != nil {
		t.Fatal(err)
	}
	job, _ = tg.info(t, id)
	events := st.TaskGroups["work"].Events
	if len(events) != 2 || events[0].Message != "just a note" || events[0].Count != nil ||
		events[1].Count == nil || *events[1].Count != 2 || events[1].PreviousCount != 1 || events[1].Message != "autoscaler" ||
		events[1].EvalID != nil || events[1].Meta["reason"] != "cpu" || events[1].Time == 0 {
		t.Errorf("scaling events = %+v", events)
	}
	if g := st.TaskGroups["work"]; g.Desired != 2 || g.Placed != 0 || g.Running != 0 || st.JobModifyIndex != *job.ModifyIndex ||
		st.JobStopped || st.Namespace != "default" || st.JobID != id {
		t.Errorf("scale status = %+v, group %+v (job ModifyIndex %d)", st, g, *job.ModifyIndex)
	}
}

func contractScalingPolicies(t *testing.T, tg *target) {
	id := tg.name("api")
	tg.register(t, serviceJob(id), nil)
	stub := policyOf(t, tg, id)
	if stub == nil {
		t.Fatal("no policy for the job's scaling block")
	}
	want := map[string]string{"Namespace": "default", "Job": id, "Group": "web"}
	if diff := cmp.Diff(want, stub.Target); diff != "" || stub.Type != "horizontal" || !stub.Enabled {
		t.Errorf("policy stub = %+v %s", stub, diff)
	}
	p, meta, err := tg.c.Scaling().GetPolicy(stub.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *p.Min != 0 || *p.Max != 3 || p.Policy["cooldown"] != "1m" || !*p.Enabled || p.Type != "horizontal" ||
		p.ModifyIndex != stub.ModifyIndex || meta.LastIndex != p.ModifyIndex || !cmp.Equal(p.Target, want) {
		t.Errorf("policy = %+v (index %d)", p, meta.LastIndex)
	}

	// A change outside the scaling block keeps the policy as it was.
	job := serviceJob(id)
	job.Meta["owner"] = "team-a"
	tg.register(t, job, nil)
	if again := policyOf(t, tg, id); again == nil || again.ID != stub.ID || again.ModifyIndex != stub.ModifyIndex {
		t.Errorf("policy after an unrelated change = %+v, want %+v", again, stub)
	}
	// A change to it keeps the ID and moves the index.
	job.TaskGroups[0].Scaling.Max = new(int64(5))
	tg.register(t, job, nil)
	changed := policyOf(t, tg, id)
	if changed == nil || changed.ID != stub.ID || changed.ModifyIndex <= stub.ModifyIndex || changed.CreateIndex != stub.CreateIndex {
		t.Errorf("policy after a change = %+v (was %+v)", changed, stub)
	}
	// Without the block the policy is gone.
	job.TaskGroups[0].Scaling = nil
	tg.register(t, job, nil)
	_, _, err = tg.c.Scaling().GetPolicy(stub.ID, nil)
	if status, body := statusOf(t, err); status != 404 || body != "policy not found" {
		t.Errorf("removed policy: %d %q", status, body)
	}
}

func contractNamespaces(t *testing.T, tg *target) {
	ns := tg.name("ns")
	id := tg.name("api")
	job := serviceJob(id)
	job.Namespace = &ns
	tg.purgeAtEnd(t, id, &ns)
	_, _, err := tg.c.Jobs().Register(job, nil)
	want := "1 error occurred:\n\t* job \"" + id + "\" is in nonexistent namespace \"" + ns + "\""
	if status, body := statusOf(t, err); status != 500 || body != want {
		t.Errorf("register into a missing namespace: %d %q, want 500 %q", status, body, want)
	}

	t.Cleanup(func() { _, _ = tg.c.Namespaces().Delete(ns, nil) }) // gone already when the case passes
	if _, err := tg.c.Namespaces().Register(&api.Namespace{Name: ns, Description: "fake contract", Meta: map[string]string{"drover.project": "p"}}, nil); err != nil {
		t.Fatal(err)
	}
	got, meta, err := tg.c.Namespaces().Info(ns, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != ns || got.Description != "fake contract" || got.Meta["drover.project"] != "p" || got.CreateIndex == 0 || meta.LastIndex == 0 {
		t.Errorf("namespace = %+v (index %d)", got, meta.LastIndex)
	}
	list, _, err := tg.c.Namespaces().List(nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range list {
		names = append(names, n.Name)
	}
	if !slices.Contains(names, "default") || !slices.Contains(names, ns) {
		t.Errorf("namespaces = %v", names)
	}
	// Register again: an update keeps CreateIndex.
	if _, err := tg.c.Namespaces().Register(&api.Namespace{Name: ns, Description: "updated"}, nil); err != nil {
		t.Fatal(err)
	}
	if again, _, err := tg.c.Namespaces().Info(ns, nil); err != nil || again.Description != "updated" || again.CreateIndex != got.CreateIndex {
		t.Errorf("updated namespace = %+v, %v", again, err)
	}

	resp := tg.register(t, job, nil)
	if ev := tg.waitEval(t, resp.EvalID); ev.Namespace != ns {
		t.Errorf("evaluation namespace = %q", ev.Namespace)
	}
	q := &api.QueryOptions{Namespace: ns}
	if j, _, err := tg.c.Jobs().Info(id, q); err != nil || *j.Namespace != ns {
		t.Errorf("job in %s = %v, %v", ns, j, err)
	}
	if _, _, err := tg.c.Jobs().Info(id, nil); err == nil {
		t.Errorf("job in %s readable from default", ns)
	}
	stubs, _, err := tg.c.Jobs().List(&api.QueryOptions{Namespace: "*", Prefix: id})
	if err != nil || len(stubs) != 1 || stubs[0].Namespace != ns {
		t.Errorf("list across namespaces = %+v, %v", stubs, err)
	}
	if _, err := tg.c.Namespaces().Delete(api.DefaultNamespace, nil); err == nil {
		t.Errorf("deleted the default namespace")
	}
	// A job that is dead (evaluated, nothing to run) does not keep the
	// namespace; one that runs (periodic) does.
	if j, _, _ := tg.c.Jobs().Info(id, q); j != nil && *j.Status != "dead" {
		t.Errorf("evaluated count-0 job status = %q, want dead", *j.Status)
	}
	periodic := periodicJob(tg.name("cron"))
	periodic.Namespace = &ns
	tg.register(t, periodic, nil)
	_, err = tg.c.Namespaces().Delete(ns, nil)
	wantDel := "1 error occurred:\n\t* namespace \"" + ns + "\" has non-terminal jobs in regions: [global]"
	if status, body := statusOf(t, err); status != 500 || body != wantDel {
		t.Errorf("delete of a namespace with a running job: %d %q, want 500 %q", status, body, wantDel)
	}
	if _, _, err := tg.c.Jobs().Deregister(*periodic.ID, true, &api.WriteOptions{Namespace: ns}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := tg.c.Jobs().Deregister(id, true, &api.WriteOptions{Namespace: ns}); err != nil {
		t.Fatal(err)
	}
	if _, err := tg.c.Namespaces().Delete(ns, nil); err != nil {
		t.Fatalf("delete an empty namespace: %v", err)
	}
	if _, _, err := tg.c.Namespaces().Info(ns, nil); err == nil {
		t.Errorf("deleted namespace still readable")
	}
	_, err = tg.c.Namespaces().Delete(ns, nil)
	if status, body := statusOf(t, err); status != 500 || body != "namespace not found" {
		t.Errorf("delete of a missing namespace: %d %q", status, body)
	}
}

func contractVariableLocks(t *testing.T, tg *target) {
	ctx := context.Background()
	path := "fake-contract/" + strings.TrimSuffix(tg.prefix, "-") + "/leader"
	t.Cleanup(func() {
		if _, err := tg.c.Variables().Delete(path, nil); err != nil {
			t.Logf("cleanup: delete variable %s: %v", path, err)
		}
	})
	v := api.Variable{Path: path, Lock: &api.VariableLock{TTL: "10s", LockDelay: "5s"}}
	a, err := tg.c.Locks(api.WriteOptions{}, v)
	if err != nil {
		t.Fatal(err)
	}
	b, err := tg.c.Locks(api.WriteOptions{}, v, api.LocksOptionWithMaxRetries(0))
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
	if tg.fake != nil {
		if h := tg.fake.LockHolder(path); h == nil || h.TTL != 10*time.Second || h.LockDelay != 5*time.Second {
			t.Errorf("holder = %+v", h)
		}
	}
	if err := a.Release(ctx); err != nil {
		t.Fatalf("release: %v", err)
	}
	// Released, not expired: another takes it at once, without the delay,
	// and the old holder's renew and release are refused.
	if _, err := b.Acquire(ctx); err != nil {
		t.Fatalf("acquire after a release: %v", err)
	}
	if err := a.Renew(ctx); !errors.Is(err, api.ErrLockConflict) {
		t.Errorf("renew by the old holder err = %v, want ErrLockConflict", err)
	}
	if err := a.Release(ctx); !errors.Is(err, api.ErrLockConflict) {
		t.Errorf("release by the old holder err = %v, want ErrLockConflict", err)
	}
	if err := b.Release(ctx); err != nil {
		t.Errorf("release: %v", err)
	}
	// Releasing a free lock is the state store's uncoded error.
	if status, body := statusOf(t, b.Release(ctx)); status != 500 || body != "variable doesn't hold a lock" {
		t.Errorf("release of a free lock: %d %q", status, body)
	}

	bad, err := tg.c.Locks(api.WriteOptions{}, api.Variable{Path: path + "-short", Lock: &api.VariableLock{TTL: "1s"}}, api.LocksOptionWithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Acquire(ctx)
	if status, body := statusOf(t, err); status != 400 || body != "RPC Error:: 400,1 error occurred:\n\t* TTL must be between 10 seconds and 24 hours" {
		t.Errorf("short TTL: %d %q", status, body)
	}
}

func contractBlocking(t *testing.T, tg *target) {
	id := tg.name("api")
	// Once evaluated, the job's status (and ModifyIndex) stays put.
	tg.waitEval(t, tg.register(t, plainJob(id), nil).EvalID)
	job, meta := tg.info(t, id)
	if meta.LastIndex != *job.ModifyIndex {
		t.Fatalf("read index %d, want the job's ModifyIndex %d", meta.LastIndex, *job.ModifyIndex)
	}

	// Nothing changes: the query returns after its wait, at the same index.
	start := time.Now()
	_, m2, err := tg.c.Jobs().Info(id, &api.QueryOptions{WaitIndex: meta.LastIndex, WaitTime: 300 * time.Millisecond})
	if err != nil || m2.LastIndex != meta.LastIndex || time.Since(start) < 300*time.Millisecond {
		t.Errorf("timed-out query: index %d (want %d), err %v, after %v", m2.LastIndex, meta.LastIndex, err, time.Since(start))
	}

	// A write to the job wakes a waiting query.
	done := make(chan uint64, 1)
	go func() {
		_, m, err := tg.c.Jobs().Info(id, &api.QueryOptions{WaitIndex: meta.LastIndex, WaitTime: time.Minute})
		if err != nil {
			t.Error(err)
			done <- 0
			return
		}
		done <- m.LastIndex
	}()
	select {
	case <-done:
		t.Fatal("blocking query returned before any write")
	case <-time.After(100 * time.Millisecond):
	}
	changed := plainJob(id)
	changed.Meta["owner"] = "team-a"
	resp := tg.register(t, changed, nil)
	select {
	case idx := <-done:
		if idx < resp.JobModifyIndex {
			t.Errorf("woken query at index %d, want at least %d", idx, resp.JobModifyIndex)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("blocking query did not return after a write")
	}

	// A cancelled context ends the wait.
	tg.waitEval(t, resp.EvalID)
	_, meta = tg.info(t, id)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, _, err = tg.c.Jobs().Info(id, (&api.QueryOptions{WaitIndex: meta.LastIndex, WaitTime: time.Minute}).WithContext(ctx))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled query err = %v", err)
	}
}

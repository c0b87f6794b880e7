package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/internal/fakes/nomadfake"
	"github.com/drover-io/drover/internal/testutil"
	"github.com/drover-io/drover/pkg/config"
	"github.com/drover-io/drover/pkg/nomadx"
	"github.com/drover-io/drover/pkg/retry"
	"github.com/drover-io/drover/pkg/scaling"
	"github.com/drover-io/drover/pkg/spec"
)

// scalableJob is a one-group job whose scaling policy asks for a fixed
// count every interval; fixed-value needs no metrics, so the whole loop
// (discover, status, decide, scale) runs against the fake alone.
func scalableJob(id string, count, fixed int64, interval string) *nomadapi.Job {
	group := nomadapi.NewTaskGroup(id, int(count))
	group.Tasks = []*nomadapi.Task{{Name: id, Driver: "docker", Config: map[string]any{"image": "r/" + id + ":1"}}}
	group.Scaling = &nomadapi.ScalingPolicy{
		Type: "horizontal", Min: new(int64(1)), Max: new(int64(10)), Enabled: new(true),
		Policy: map[string]any{
			"evaluation_interval": interval,
			"cooldown":            "1m",
			"check": []any{map[string]any{"fixed": []any{map[string]any{
				"strategy": []any{map[string]any{"fixed-value": []any{map[string]any{"value": float64(fixed)}}}},
			}}}},
		},
	}
	job := nomadapi.NewServiceJob(id, id, "global", 50)
	job.Datacenters = []string{"dc1"}
	job.TaskGroups = []*nomadapi.TaskGroup{group}
	return job
}

func withCooldown(job *nomadapi.Job, cooldown string) *nomadapi.Job {
	job.TaskGroups[0].Scaling.Policy["cooldown"] = cooldown
	return job
}

// registerWithDeployment registers job through the HTTP API, as drover
// deploy does, so that Nomad starts a deployment for it.
func registerWithDeployment(t *testing.T, nf *nomadfake.Server, job *nomadapi.Job) {
	t.Helper()
	job.Update = nomadapi.DefaultUpdateStrategy()
	n, err := nomadx.New(config.Endpoint{Address: nf.URL()}, nomadx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Register(context.Background(), job, nomadx.RegisterOptions{}); err != nil {
		t.Fatal(err)
	}
}

func autoscaleOptions(nf *nomadfake.Server) AutoscaleOptions {
	return AutoscaleOptions{
		ClusterOptions: ClusterOptions{Config: config.Config{Nomad: config.Endpoint{Address: nf.URL()}}},
		NomadPolicies:  true,
	}
}

// runAutoscale runs the reconciler until until() holds or the deadline
// passes, then stops it and returns its error.
func runAutoscale(t *testing.T, opts AutoscaleOptions, until func() bool) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Autoscale(ctx, opts) }()
	deadline := time.Now().Add(10 * time.Second)
	for !until() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("the reconciler did not stop after its context ended")
		return nil
	}
}

func groupCount(nf *nomadfake.Server, job string) int {
	j := nf.Job(job)
	if j == nil || len(j.TaskGroups) == 0 {
		return -1
	}
	return *j.TaskGroups[0].Count
}

func TestAutoscaleDiscoversNomadPoliciesAndScales(t *testing.T) {
	nf := nomadfake.New(t)
	nf.AutoSucceed = true
	nf.SeedJob(scalableJob("api", 1, 3, "20ms"))
	nf.SetGroupStatus("api", "api", 1, 1)

	err := runAutoscale(t, autoscaleOptions(nf), func() bool { return groupCount(nf, "api") == 3 })
	if err != nil {
		t.Fatal(err)
	}
	if got := groupCount(nf, "api"); got != 3 {
		t.Fatalf("count = %d, want the fixed value 3", got)
	}
	events := nf.ScalingEvents("api", "api")
	if len(events) == 0 || events[0].Count == nil || *events[0].Count != 3 || events[0].PreviousCount != 1 {
		t.Fatalf("scaling events %+v", events)
	}
	if !strings.Contains(events[0].Message, "fixed") {
		t.Errorf("the event should say which check decided, got %q", events[0].Message)
	}
	// The event records which policy and check decided, for `nomad job
	// scaling-events` readers.
	policies := nf.ScalingPolicies("api")
	if len(policies) != 1 || events[0].Meta["drover.policy"] != policies[0].ID || events[0].Meta["drover.winner"] != "fixed" {
		t.Errorf("event meta %v", events[0].Meta)
	}
}

// TestAutoscaleServesMetrics: with Listen, the running reconciler serves
// /healthz and /metrics, and /metrics counts the scale it made.
func TestAutoscaleServesMetrics(t *testing.T) {
	nf := nomadfake.New(t)
	nf.AutoSucceed = true
	nf.SeedJob(scalableJob("api", 1, 3, "20ms"))
	nf.SetGroupStatus("api", "api", 1, 1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	opts := autoscaleOptions(nf)
	opts.Listen = addr
	get := func(path string) string {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	var metrics, health string
	err = runAutoscale(t, opts, func() bool {
		metrics, health = get("/metrics"), get("/healthz")
		return strings.Contains(metrics, `drover_autoscale_scale_actions_total{direction="up",result="ok"} 1`)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# TYPE drover_autoscale_scale_actions_total counter",
		`drover_autoscale_scale_actions_total{direction="up",result="ok"} 1`,
		`drover_autoscale_policies{state="running"} 1`,
		"drover_autoscale_leader 1",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, metrics)
		}
	}
	if health != "ok (active)\n" {
		t.Errorf("/healthz = %q", health)
	}
}

// TestAutoscaleAfterADeploymentMarkedTheJobStable: a finished deployment
// moves the job's ModifyIndex but not its JobModifyIndex, and the scale
// endpoint's check-and-set compares with the latter (found against a real
// Nomad: every scale failed with "conflicting job modify index").
func TestAutoscaleAfterADeploymentMarkedTheJobStable(t *testing.T) {
	nf := nomadfake.New(t)
	nf.AutoSucceed = true
	registerWithDeployment(t, nf, scalableJob("api", 1, 3, "20ms"))
	if j := nf.Job("api"); *j.ModifyIndex == *j.JobModifyIndex || !*j.Stable {
		t.Fatalf("precondition: the deployment should have marked the job stable (modify %d, job modify %d)", *j.ModifyIndex, *j.JobModifyIndex)
	}
	nf.SetGroupStatus("api", "api", 1, 1)

	if err := runAutoscale(t, autoscaleOptions(nf), func() bool { return groupCount(nf, "api") == 3 }); err != nil {
		t.Fatal(err)
	}
	if got := groupCount(nf, "api"); got != 3 {
		t.Fatalf("count = %d, want 3", got)
	}
}

// TestAutoscaleAcrossNamespaces: with NOMAD_NAMESPACE=* the policies of
// every namespace run, and each reads and scales its job in its own.
func TestAutoscaleAcrossNamespaces(t *testing.T) {
	nf := nomadfake.New(t)
	nf.AutoSucceed = true
	job := scalableJob("api", 1, 3, "20ms")
	job.Namespace = new("prod")
	nf.SeedJob(job)
	nf.SetGroupStatus("api", "api", 1, 1)
	opts := autoscaleOptions(nf)
	opts.Config.Nomad.Namespace = "*"

	if err := runAutoscale(t, opts, func() bool { return groupCount(nf, "api") == 3 }); err != nil {
		t.Fatal(err)
	}
	if got := groupCount(nf, "api"); got != 3 {
		t.Fatalf("prod's api count = %d, want 3", got)
	}
	for _, r := range nf.Writes() {
		if r.Query.Get("namespace") != "prod" {
			t.Errorf("write outside prod: %s %s?%s", r.Method, r.Path, r.Query.Encode())
		}
	}
}

func TestAutoscaleDryRunNeverScales(t *testing.T) {
	nf := nomadfake.New(t)
	nf.SeedJob(scalableJob("api", 1, 3, "20ms"))
	nf.SetGroupStatus("api", "api", 1, 1)
	opts := autoscaleOptions(nf)
	opts.DryRun = true
	var evaluations atomic.Int64
	opts.OnEvaluation = func(*scaling.Evaluation) { evaluations.Add(1) }

	// Several evaluations, each of which would scale without --dry-run.
	if err := runAutoscale(t, opts, func() bool { return evaluations.Load() >= 3 }); err != nil {
		t.Fatal(err)
	}
	if n := evaluations.Load(); n < 3 {
		t.Fatalf("only %d evaluations ran", n)
	}
	for _, w := range nf.Writes() {
		t.Errorf("dry run wrote %s %s", w.Method, w.Path)
	}
	if got := groupCount(nf, "api"); got != 1 {
		t.Errorf("count = %d after a dry run", got)
	}
}

// TestAutoscaleFollowsPolicyChanges: a redeploy that changes the policy is
// picked up through the blocking query on the policy list, and a job
// whose policy is removed stops being scaled.
func TestAutoscaleFollowsPolicyChanges(t *testing.T) {
	nf := nomadfake.New(t)
	nf.AutoSucceed = true
	nf.SeedJob(withCooldown(scalableJob("api", 1, 2, "20ms"), "20ms"))
	nf.SetGroupStatus("api", "api", 1, 1)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Autoscale(ctx, autoscaleOptions(nf)) }()
	testutil.Eventually(t, 10*time.Second, "scale to 2", func() bool { return groupCount(nf, "api") == 2 })

	// A new version with a different fixed value: 2 → 4 (the count in the
	// job follows what is live, as drover deploy keeps it).
	nf.SetGroupStatus("api", "api", 2, 2)
	nf.SeedJob(withCooldown(scalableJob("api", 2, 4, "20ms"), "20ms"))
	testutil.Eventually(t, 10*time.Second, "scale to 4 after the policy changed", func() bool { return groupCount(nf, "api") == 4 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestAutoscaleHAReleasesLockOnShutdown: in HA mode the reconciler works
// only while it holds the lock, and gives the lock back when it stops so
// a standby takes over at once rather than after TTL plus lock delay.
func TestAutoscaleHAReleasesLockOnShutdown(t *testing.T) {
	nf := nomadfake.New(t)
	nf.AutoSucceed = true
	nf.SeedJob(scalableJob("api", 1, 3, "20ms"))
	nf.SetGroupStatus("api", "api", 1, 1)
	opts := autoscaleOptions(nf)
	opts.HA = true
	opts.LockTTL = 10 * time.Second

	var heldWhileScaling bool
	err := runAutoscale(t, opts, func() bool {
		if groupCount(nf, "api") != 3 {
			return false
		}
		heldWhileScaling = nf.LockHolder(DefaultLockPath) != nil
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if groupCount(nf, "api") != 3 || !heldWhileScaling {
		t.Fatalf("count %d, lock held while scaling: %v", groupCount(nf, "api"), heldWhileScaling)
	}
	if l := nf.LockHolder(DefaultLockPath); l != nil {
		t.Errorf("lock %+v still held after shutdown", l)
	}
}

func TestAutoscaleRejectsBadOptions(t *testing.T) {
	nf := nomadfake.New(t)
	opts := autoscaleOptions(nf)
	opts.Semantics = "kubernetes"
	if err := Autoscale(context.Background(), opts); err == nil || !strings.Contains(err.Error(), "semantics") {
		t.Errorf("bad semantics: %v", err)
	}
	opts = autoscaleOptions(nf)
	opts.NomadPolicies = false
	if err := Autoscale(context.Background(), opts); err == nil || !strings.Contains(err.Error(), "no policies") {
		t.Errorf("no policy source: %v", err)
	}
}

func TestExplainLivePolicy(t *testing.T) {
	nf := nomadfake.New(t)
	nf.SeedJob(scalableJob("api", 1, 3, "10s"))
	nf.SetGroupStatus("api", "api", 1, 1)
	opts := ExplainOptions{AutoscaleOptions: autoscaleOptions(nf), Policy: "api/api"}

	x, err := Explain(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	e := x.Evaluation
	if !e.Scales() || e.Final.Count != 3 || e.Current != 1 || e.Winner != "fixed" {
		t.Fatalf("evaluation %+v", e)
	}
	if len(nf.Writes()) != 0 {
		t.Errorf("explain must not write: %v", nf.Writes())
	}
	var out strings.Builder
	if err := WriteExplanation(&out, x); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`job "api" group "api"`, "fixed-value", "up from 1 to 3"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("explanation lacks %q:\n%s", want, out.String())
		}
	}

	// By job name alone, and by policy ID, the same policy.
	for _, ref := range []string{"api", x.PolicyID} {
		opts.Policy = ref
		if y, err := Explain(context.Background(), opts); err != nil || y.PolicyID != x.PolicyID {
			t.Errorf("explain %q: %v", ref, err)
		}
	}
	opts.Policy = "nope"
	if _, err := Explain(context.Background(), opts); err == nil || !strings.Contains(err.Error(), "no scaling policy matches") {
		t.Errorf("unknown policy: %v", err)
	}
}

func TestExplainShowsCooldownAfterAScale(t *testing.T) {
	nf := nomadfake.New(t)
	nf.AutoSucceed = true
	nf.SeedJob(scalableJob("api", 1, 3, "20ms"))
	nf.SetGroupStatus("api", "api", 1, 1)
	if err := runAutoscale(t, autoscaleOptions(nf), func() bool { return groupCount(nf, "api") == 3 }); err != nil {
		t.Fatal(err)
	}
	nf.SetGroupStatus("api", "api", 3, 3)
	x, err := Explain(context.Background(), ExplainOptions{AutoscaleOptions: autoscaleOptions(nf), Policy: "api"})
	if err != nil {
		t.Fatal(err)
	}
	// The policy's cooldown is 1m and the scale just happened.
	if x.Cooldown <= 50*time.Second || x.Cooldown > time.Minute {
		t.Errorf("cooldown remaining %v, want just under 1m", x.Cooldown)
	}
	if x.Evaluation.Scales() {
		t.Errorf("at the fixed value there is nothing to do, got %+v", x.Evaluation.Final)
	}
}

func TestSimulateExampleSpecAgainstBuiltinTraces(t *testing.T) {
	for _, trace := range []string{"step", "ramp", "spike", "noisy"} {
		t.Run(trace, func(t *testing.T) {
			res, err := Simulate(SimulateOptions{Policy: "../../jobs/shop/api.hcl", Trace: trace, Startup: 30 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			for name, r := range map[string]*scaling.SimResult{"drover": res.Drover, "autoscaler": res.Autoscaler} {
				if len(r.Samples) == 0 || r.Summary.Actions != len(r.Actions) {
					t.Fatalf("%s: %d samples, %d actions, summary %+v", name, len(r.Samples), len(r.Actions), r.Summary)
				}
				for _, s := range r.Samples {
					if s.Desired < 2 || s.Desired > 10 {
						t.Fatalf("%s: count %d at %v is outside the policy's 2..10", name, s.Desired, s.At)
					}
				}
			}
			if d, a := res.Drover.Summary.Actions, res.Autoscaler.Summary.Actions; trace == "noisy" && d >= a {
				// Stabilization and tolerance exist to stop flapping on noise.
				t.Errorf("noisy: drover %d actions, autoscaler %d", d, a)
			}
		})
	}
	if _, err := Simulate(SimulateOptions{Policy: "../../jobs/shop/api.hcl", Trace: "sawtooth"}); err == nil ||
		!strings.Contains(err.Error(), "step") {
		t.Errorf("an unknown trace should list the built-in ones, got %v", err)
	}
}

func TestLintPoliciesReportsEveryProblemWithPositions(t *testing.T) {
	dir := t.TempDir()
	bad := `scaling "api" {
  enabled = true
  min     = 1
  max     = 5
  policy {
    check "cpu" {
      source = "nomad-apm"
      query  = "avg_cpu-allocated"
      strategy "target-value" {
        targett = 70
      }
    }
    check "mem" {
      query = "avg_memory"
      strategy "threshold" {
        lower_bound = 80
        upper_bound = 20
        delta       = 1
      }
    }
  }
  target "nomad" {
    Job   = "api"
    Group = "api"
  }
}
`
	path := filepath.Join(dir, "api.hcl")
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	diags, err := LintPolicies(LintOptions{PolicyDir: dir})
	var inputErr *InputError
	if !errors.As(err, &inputErr) {
		t.Fatalf("want an InputError, got %v", err)
	}
	// Both problems, each at its line: the misspelt key and the inverted band.
	lines := map[int]string{}
	for _, d := range diags.Diags {
		if d.Subject == nil || d.Subject.Filename != path {
			t.Errorf("diagnostic without a position in the file: %s", d.Error())
			continue
		}
		lines[d.Subject.Start.Line] = d.Summary + " " + d.Detail
	}
	if !strings.Contains(lines[10], "targett") {
		t.Errorf("want the unknown key at line 10, got %v", lines)
	}
	if len(lines) < 2 {
		t.Errorf("want every problem reported, got %v", lines)
	}

	// The example specs lint clean.
	if _, err := LintPolicies(LintOptions{Load: spec.LoadOptions{Paths: []string{"../../jobs"}}}); err != nil {
		t.Errorf("example specs: %v", err)
	}
}

// TestAutoscaleHALostLockStopsScalingUntilRegained: when its renew is
// refused because another instance took the lock, the instance stops acting
// at once, waits, and acts again once it has acquired the lock anew.
func TestAutoscaleHALostLockStopsScalingUntilRegained(t *testing.T) {
	t.Parallel()
	nf := nomadfake.New(t)
	nf.AutoSucceed = true
	nf.SeedJob(withCooldown(scalableJob("api", 1, 2, "50ms"), "50ms"))
	nf.SetGroupStatus("api", "api", 1, 1)
	var logs testutil.SyncBuffer
	opts := autoscaleOptions(nf)
	opts.HA, opts.LockTTL = true, 10*time.Second // the shortest TTL Nomad accepts
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Autoscale(ctx, opts) }()
	testutil.Eventually(t, 10*time.Second, "scale to 2 while holding the lock", func() bool { return groupCount(nf, "api") == 2 })

	// The lock expires (a long GC pause, a partition) and another instance
	// takes it before this one renews.
	nf.ExpireLock(DefaultLockPath)
	other, err := nf.Client().Locks(nomadapi.WriteOptions{}, nomadapi.Variable{
		Path: DefaultLockPath, Lock: &nomadapi.VariableLock{TTL: "10s"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Acquire(ctx); err != nil {
		t.Fatalf("the other instance could not take the expired lock: %v", err)
	}
	testutil.Eventually(t, 10*time.Second, "notice the lost lock", func() bool { return strings.Contains(logs.String(), "lost the lock") })

	// No evaluation runs without the lock, even with work to do.
	nf.SetGroupStatus("api", "api", 2, 2)
	nf.SeedJob(withCooldown(scalableJob("api", 2, 3, "50ms"), "50ms"))
	nf.ResetRequests()
	time.Sleep(300 * time.Millisecond)
	for _, r := range nf.Requests() {
		if strings.HasPrefix(r.Path, "/v1/job/") {
			t.Fatalf("acted without the lock: %s %s\n%s", r.Method, r.Path, logs.String())
		}
	}
	// The other instance goes away; this one takes the lock and goes on.
	if err := other.Release(ctx); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 15*time.Second, "regain the lock and scale to 3", func() bool { return groupCount(nf, "api") == 3 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if nf.LockHolder(DefaultLockPath) != nil {
		t.Error("lock still held after shutdown")
	}
}

// TestAutoscaleRidesOutNomadErrors: 500s on the reads a handler makes fail
// those evaluations only; the next ones scale.
func TestAutoscaleRidesOutNomadErrors(t *testing.T) {
	t.Parallel()
	nf := nomadfake.New(t)
	nf.AutoSucceed = true
	nf.SeedJob(scalableJob("api", 1, 3, "20ms"))
	nf.SetGroupStatus("api", "api", 1, 1)
	opts := autoscaleOptions(nf)
	// As many attempts as the default, with millisecond waits in place of
	// its seconds of backoff.
	opts.Retry = retry.Policy{Attempts: retry.Default.Attempts, Base: time.Millisecond, Max: 2 * time.Millisecond}
	// More failures than the adapter's retries: the first evaluation fails.
	nf.FailNext("GET", "/v1/job/api/scale", http.StatusInternalServerError, "rpc error: No cluster leader", opts.Retry.Attempts+1)
	nf.FailNext("POST", "/v1/job/api/scale", http.StatusInternalServerError, "rpc error: No cluster leader", 1)
	var logs testutil.SyncBuffer
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))

	if err := runAutoscale(t, opts, func() bool { return groupCount(nf, "api") == 3 }); err != nil {
		t.Fatal(err)
	}
	if got := groupCount(nf, "api"); got != 3 {
		t.Fatalf("count = %d after the errors passed, want 3", got)
	}
	if !strings.Contains(logs.String(), "No cluster leader") {
		t.Errorf("the failures should be logged with Nomad's reason:\n%s", logs.String())
	}
}

// TestAutoscaleScaleRefusedDuringDeployment: under plain Autoscaler
// semantics drover scales during a deployment and Nomad refuses (400); that
// is a no-op without a cooldown, so the scale happens right after the
// deployment ends. drover's own semantics do not even try.
func TestAutoscaleScaleRefusedDuringDeployment(t *testing.T) {
	for _, semantics := range []string{scaling.SemanticsAutoscaler, scaling.SemanticsDrover} {
		t.Run(semantics, func(t *testing.T) {
			nf := nomadfake.New(t)
			registerWithDeployment(t, nf, scalableJob("api", 1, 3, "20ms"))
			if d := nf.LatestDeployment("api"); d == nil || d.Status != nomadapi.DeploymentStatusRunning {
				t.Fatalf("precondition: a running deployment, got %+v", d)
			}
			nf.SetGroupStatus("api", "api", 1, 1)
			opts := autoscaleOptions(nf)
			opts.Semantics = semantics
			var evaluations atomic.Int64
			opts.OnEvaluation = func(*scaling.Evaluation) { evaluations.Add(1) }

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- Autoscale(ctx, opts) }()
			testutil.Eventually(t, 10*time.Second, "several evaluations during the deployment", func() bool { return evaluations.Load() >= 5 })
			attempts := 0
			for _, w := range nf.Writes() {
				if w.Path == "/v1/job/api/scale" {
					attempts++
				}
			}
			if semantics == scaling.SemanticsDrover && attempts != 0 {
				t.Errorf("drover semantics tried %d scales during a deployment", attempts)
			}
			if semantics == scaling.SemanticsAutoscaler && attempts < 2 {
				t.Errorf("autoscaler semantics: %d refused scales; a refusal must not start a cooldown", attempts)
			}
			if groupCount(nf, "api") != 1 {
				t.Fatal("scaled during a deployment")
			}
			nf.CompleteDeployment("api")
			testutil.Eventually(t, 10*time.Second, "scale to 3 after the deployment", func() bool { return groupCount(nf, "api") == 3 })
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestAutoscaleRefusesBadPrometheusAddr: a bad --prometheus-addr used to be
// logged and leave a nil evaluator that the first metric evaluation
// dereferenced; now it is refused before anything runs.
func TestAutoscaleRefusesBadPrometheusAddr(t *testing.T) {
	nf := nomadfake.New(t)
	opts := autoscaleOptions(nf)
	opts.PrometheusAddr = "://no-scheme"
	if err := Autoscale(context.Background(), opts); err == nil || !strings.Contains(err.Error(), "--prometheus-addr") {
		t.Errorf("bad Prometheus address: %v", err)
	}
	if _, err := Explain(context.Background(), ExplainOptions{AutoscaleOptions: opts, Policy: "api"}); err == nil {
		t.Error("explain with a bad Prometheus address should fail")
	}
}

// TestExplainShowsProblems: a check that cannot run is shown by explain,
// and the rest of the policy is evaluated; a policy that cannot run at all
// says so.
func TestExplainShowsProblems(t *testing.T) {
	nf := nomadfake.New(t)
	job := scalableJob("api", 1, 3, "10s")
	job.TaskGroups[0].Scaling.Policy["check"] = append(job.TaskGroups[0].Scaling.Policy["check"].([]any),
		map[string]any{"typo": []any{map[string]any{"query": "avg_cpu", "strategy": []any{map[string]any{"target-value": []any{map[string]any{"targett": "70"}}}}}}})
	nf.SeedJob(job)
	nf.SetGroupStatus("api", "api", 1, 1)
	opts := ExplainOptions{AutoscaleOptions: autoscaleOptions(nf), Policy: "api"}
	x, err := Explain(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := WriteExplanation(&out, x); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Check cannot run: Unknown strategy key") || !x.Evaluation.Scales() {
		t.Errorf("want the broken check shown and the fixed check to scale:\n%s", out.String())
	}
	// Under the Autoscaler's semantics the unknown key is ignored, and the
	// missing target fails the check at run time (on_error).
	opts.Semantics = scaling.SemanticsAutoscaler
	if x, err = Explain(context.Background(), opts); err != nil || len(x.Problems) != 1 || x.Problems[0].Summary != "Missing strategy key" {
		t.Errorf("autoscaler semantics: problems %v, %v", x.Problems, err)
	}

	job.TaskGroups[0].Scaling.Policy["on_check_error"] = "Fail"
	nf.SeedJob(job)
	x, err = Explain(context.Background(), opts)
	if err != nil || !strings.Contains(x.Evaluation.Err, "cannot run") {
		t.Errorf("a refused policy: %v, %+v", err, x.Evaluation)
	}
}

// TestExplainFindsThePolicyInItsNamespace: a project's job lives in its own
// namespace; explain finds its policy there whatever NOMAD_NAMESPACE says,
// and reads the group in that namespace.
func TestExplainFindsThePolicyInItsNamespace(t *testing.T) {
	nf := nomadfake.New(t)
	nf.AddNamespace("team-a")
	job := scalableJob("api", 1, 3, "10s")
	job.Namespace = new("team-a")
	nf.SeedJob(job)
	nf.SetGroupStatus("api", "api", 1, 1)
	x, err := Explain(context.Background(), ExplainOptions{AutoscaleOptions: autoscaleOptions(nf), Policy: "api/api"})
	if err != nil {
		t.Fatalf("explain of a policy in namespace team-a from the default one: %v", err)
	}
	if x.Target.Namespace != "team-a" || x.Evaluation.Current != 1 {
		t.Errorf("target %+v, current %d: want team-a's group", x.Target, x.Evaluation.Current)
	}
}

package scaling

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// fakeSource answers every query with the value its function gives at the
// query's end time, or with err.
type fakeSource struct {
	mu      sync.Mutex
	value   func(at time.Time) float64
	err     error
	points  int
	queries int
}

func (f *fakeSource) Query(_ context.Context, _ string, r TimeRange) ([]DataPoint, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries++
	if f.err != nil {
		return nil, f.err
	}
	n := max(f.points, 1)
	out := make([]DataPoint, n)
	for i := range out {
		at := r.To.Add(-time.Duration(n-1-i) * time.Second)
		out[i] = DataPoint{Time: at, Value: f.value(at)}
	}
	return out, nil
}

func constant(v float64) func(time.Time) float64 { return func(time.Time) float64 { return v } }

func cpuPolicy(b Behavior) *Policy {
	return &Policy{
		ID: "api/api", Enabled: true, Min: 1, Max: 20,
		Target:             Target{Namespace: "default", Job: "api", Group: "api"},
		EvaluationInterval: 10 * time.Second, Cooldown: time.Minute,
		Checks: []*Check{{Name: "cpu", Source: SourceNomadAPM, Query: "avg_cpu", QueryWindow: time.Minute,
			Strategy: &StrategySpec{Name: StrategyTargetValue, Config: map[string]string{"target": "50"}}}},
		Behavior: b,
	}
}

func ready(desired, running int64) *TargetStatus {
	return &TargetStatus{Desired: desired, Running: running, Ready: true}
}

func TestEvaluateRolloutAwareness(t *testing.T) {
	src := &fakeSource{value: constant(100)}
	ev := &Evaluator{Sources: map[string]MetricSource{SourceNomadAPM: src}}
	now := time.Unix(1_700_000_000, 0)

	// drover: a deployment or a converging group is left alone.
	e := ev.Evaluate(context.Background(), cpuPolicy(DefaultBehavior()), &State{}, &TargetStatus{Desired: 4, Running: 4, Ready: true, DeploymentActive: true}, now)
	if e.Skipped == "" || e.Scales() {
		t.Errorf("deployment active: want skipped, got %+v", e)
	}
	e = ev.Evaluate(context.Background(), cpuPolicy(DefaultBehavior()), &State{}, ready(4, 2), now)
	if !strings.Contains(e.Skipped, "4 desired, 2 running") {
		t.Errorf("converging: got %q", e.Skipped)
	}
	// The Autoscaler scales from the running count even mid-rollout
	// (nomad-autoscaler #540): 2 running at twice the target -> 4, though 4
	// are already desired.
	e = ev.Evaluate(context.Background(), cpuPolicy(AutoscalerBehavior()), &State{}, ready(4, 2), now)
	if e.Current != 2 || e.Final.Count != 4 || e.Final.Direction != Up {
		t.Errorf("autoscaler semantics: current %d final %+v", e.Current, e.Final)
	}
}

func TestEvaluateStabilizationAndRates(t *testing.T) {
	load := 400.0 // total demand; the metric is the per-instance average
	count := int64(8)
	src := &fakeSource{value: func(time.Time) float64 { return load / float64(count) }}
	ev := &Evaluator{Sources: map[string]MetricSource{SourceNomadAPM: src}}
	p := cpuPolicy(DefaultBehavior())
	st := &State{}
	now := time.Unix(1_700_000_000, 0)

	// Steady at 50% on 8: no change.
	if e := ev.Evaluate(context.Background(), p, st, ready(8, 8), now); e.Scales() {
		t.Fatalf("steady: %+v", e.Final)
	}
	// Load halves: target-value says 4, but the 5m scale-down window holds
	// the count at the highest recommendation seen (8).
	load = 200
	for i := 1; i <= 29; i++ {
		e := ev.Evaluate(context.Background(), p, st, ready(8, 8), now.Add(time.Duration(i)*10*time.Second))
		if e.Scales() {
			t.Fatalf("scaled down within the stabilization window at +%ds: %+v", i*10, e.Final)
		}
	}
	// Once the window has only low recommendations, it scales down.
	e := ev.Evaluate(context.Background(), p, st, ready(8, 8), now.Add(301*time.Second))
	if !e.Scales() || e.Final.Count != 4 {
		t.Fatalf("after the window: %+v (trace %v)", e.Final, e.Trace)
	}

	// Scale-up is immediate but rate-limited: from 2, at most max(200%, +4)
	// = 6 in 15s, however high the demand.
	count = 2
	load = 2000
	st = &State{}
	e = ev.Evaluate(context.Background(), p, st, ready(2, 2), now)
	if e.Final.Count != 6 {
		t.Fatalf("rate-limited scale-up: %+v (trace %v)", e.Final, e.Trace)
	}
	st.Scaled(p, e, now)
	// Within the same period only what is left of the rate.
	e = ev.Evaluate(context.Background(), p, st, ready(6, 6), now.Add(5*time.Second))
	if e.Final.Count != 6 && e.Scales() {
		t.Fatalf("the second scale-up of a period exceeds the rate: %+v", e.Final)
	}
}

func TestEvaluateMetricFailures(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	down := &fakeSource{value: constant(10)} // wants to scale down
	broken := &fakeSource{err: errors.New("connection refused")}
	p := cpuPolicy(DefaultBehavior())
	p.Behavior.ScaleDown.StabilizationWindow = 0
	p.Checks = append(p.Checks, &Check{Name: "queue", Source: SourcePrometheus, Query: "q", QueryWindow: time.Minute,
		Strategy: &StrategySpec{Name: StrategyTargetValue, Config: map[string]string{"target": "5"}}})
	ev := &Evaluator{Sources: map[string]MetricSource{SourceNomadAPM: down, SourcePrometheus: broken}}

	// drover: the failing check is ignored (default), but a failure never
	// scales down.
	e := ev.Evaluate(context.Background(), p, &State{}, ready(8, 8), now)
	if e.Err != "" || e.Scales() {
		t.Errorf("ignore: want no action, got err %q final %+v", e.Err, e.Final)
	}
	// on_check_error = "fail" stops the evaluation.
	p.OnCheckError = OnErrorFail
	if e := ev.Evaluate(context.Background(), p, &State{}, ready(8, 8), now); e.Err == "" {
		t.Error("on_check_error fail: want an error")
	}
	// The Autoscaler aborts on any query failure, whatever on_error says.
	p.OnCheckError = ""
	p.Behavior = AutoscalerBehavior()
	if e := ev.Evaluate(context.Background(), p, &State{}, ready(8, 8), now); e.Err == "" {
		t.Error("autoscaler semantics: a query failure must abort the evaluation")
	}
	// An empty result is a failure too.
	empty := &fakeSource{value: constant(1), points: 0}
	empty.err = nil
	ev2 := &Evaluator{Sources: map[string]MetricSource{SourceNomadAPM: emptySource{}}}
	if e := ev2.Evaluate(context.Background(), cpuPolicy(AutoscalerBehavior()), &State{}, ready(2, 2), now); !strings.Contains(e.Err, "no data") {
		t.Errorf("empty result: %q", e.Err)
	}
}

type emptySource struct{}

func (emptySource) Query(context.Context, string, TimeRange) ([]DataPoint, error) { return nil, nil }

func TestPerDirectionTolerance(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	src := &fakeSource{value: constant(56)} // factor 1.12 against 50
	ev := &Evaluator{Sources: map[string]MetricSource{SourceNomadAPM: src}}
	b := DefaultBehavior()
	up := 0.15
	b.ScaleUp.Tolerance = &up
	if e := ev.Evaluate(context.Background(), cpuPolicy(b), &State{}, ready(4, 4), now); e.Scales() {
		t.Errorf("factor 1.12 is within a 15%% scale-up tolerance: %+v", e.Final)
	}
	src.value = constant(60) // 1.2
	if e := ev.Evaluate(context.Background(), cpuPolicy(b), &State{}, ready(4, 4), now); !e.Scales() || e.Final.Count != 5 {
		t.Errorf("factor 1.2 exceeds it: %+v", e.Final)
	}
}

func TestQueryCacheSharesIdenticalQueries(t *testing.T) {
	src := &fakeSource{value: constant(50)}
	p := cpuPolicy(DefaultBehavior())
	c2 := *p.Checks[0]
	c2.Name = "cpu-again"
	p.Checks = append(p.Checks, &c2)
	ev := &Evaluator{Sources: map[string]MetricSource{SourceNomadAPM: src}}
	ev.Evaluate(context.Background(), p, &State{}, ready(2, 2), time.Unix(1, 0))
	if src.queries != 1 {
		t.Errorf("identical queries should be made once per evaluation, made %d", src.queries)
	}
}

// fakeScaler is a task group whose count Scale sets.
type fakeScaler struct {
	mu        sync.Mutex
	status    TargetStatus
	scales    []Action
	refuse    error
	statusErr error
}

func (f *fakeScaler) Status(context.Context, Target) (*TargetStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.statusErr != nil {
		return nil, f.statusErr
	}
	s := f.status
	return &s, nil
}

func (f *fakeScaler) Scale(_ context.Context, _ Target, a Action) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refuse != nil {
		return f.refuse
	}
	f.scales = append(f.scales, a)
	f.status.Desired, f.status.Running = a.Count, a.Count
	f.status.LastEvent = &LastEvent{Time: time.Now(), Direction: a.Direction}
	return nil
}

func (f *fakeScaler) counts() []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []int64
	for _, a := range f.scales {
		out = append(out, a.Count)
	}
	return out
}

func TestHandlerCooldownAndNoOp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &fakeSource{value: constant(100)} // always twice the target
		scaler := &fakeScaler{status: *ready(2, 2)}
		p := cpuPolicy(DefaultBehavior())
		p.Cooldown, p.CooldownOnScaleUp = 2*time.Minute, time.Minute
		h := NewHandler(p, HandlerOptions{Evaluator: &Evaluator{Sources: map[string]MetricSource{SourceNomadAPM: src}}, Scaler: scaler})
		ctx, cancel := context.WithCancel(context.Background())
		go h.Run(ctx)

		time.Sleep(10*time.Second + time.Millisecond) // first tick
		synctest.Wait()
		if got := scaler.counts(); len(got) != 1 || got[0] != 4 {
			t.Fatalf("first tick: scales %v, want [4]", got)
		}
		// Every 10s it still wants more, but the scale-up cooldown is 1m.
		time.Sleep(50 * time.Second)
		synctest.Wait()
		if got := scaler.counts(); len(got) != 1 {
			t.Fatalf("scaled during cooldown: %v", got)
		}
		time.Sleep(20 * time.Second)
		synctest.Wait()
		if got := scaler.counts(); len(got) != 2 || got[1] != 8 {
			t.Fatalf("after cooldown: %v, want [4 8]", got)
		}
		// Nomad refusing during a deployment is a no-op: no cooldown, so the
		// next tick tries again.
		scaler.mu.Lock()
		scaler.refuse = &NoOpError{Reason: "job scaling blocked due to active deployment"}
		scaler.mu.Unlock()
		time.Sleep(61 * time.Second)
		synctest.Wait()
		scaler.mu.Lock()
		scaler.refuse = nil
		scaler.mu.Unlock()
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if got := scaler.counts(); len(got) != 3 || got[2] != 16 {
			t.Fatalf("after a no-op: %v, want a scale on the next tick", got)
		}
		cancel()
		synctest.Wait()
	})
}

// TestHandlerCooldownSurvivesRestart: a new handler reads the last scaling
// event from the target and waits out its cooldown, in the event's
// direction.
func TestHandlerCooldownSurvivesRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &fakeSource{value: constant(100)}
		scaler := &fakeScaler{status: *ready(2, 2)}
		scaler.status.LastEvent = &LastEvent{Time: time.Now().Add(-30 * time.Second), Direction: Down}
		p := cpuPolicy(DefaultBehavior())
		p.Cooldown, p.CooldownOnScaleUp = 2*time.Minute, 10*time.Second
		h := NewHandler(p, HandlerOptions{Evaluator: &Evaluator{Sources: map[string]MetricSource{SourceNomadAPM: src}}, Scaler: scaler})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go h.Run(ctx)
		// The last event was a scale-down 30s ago: 90s of its 2m cooldown
		// remain, although a scale-up cooldown would have expired.
		time.Sleep(80 * time.Second)
		synctest.Wait()
		if got := scaler.counts(); len(got) != 0 {
			t.Fatalf("scaled within the remaining cooldown: %v", got)
		}
		time.Sleep(15 * time.Second) // the tick at 90s is the first out of cooldown
		synctest.Wait()
		if got := scaler.counts(); len(got) != 1 {
			t.Fatalf("after the remaining cooldown: %v", got)
		}
	})
}

func TestHandlerDryRunNeverScales(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		scaler := &fakeScaler{status: *ready(2, 2)}
		var evals int
		h := NewHandler(cpuPolicy(DefaultBehavior()), HandlerOptions{
			Evaluator: &Evaluator{Sources: map[string]MetricSource{SourceNomadAPM: &fakeSource{value: constant(100)}}},
			Scaler:    scaler, DryRun: true, OnEvaluation: func(*Evaluation) { evals++ },
		})
		ctx, cancel := context.WithCancel(context.Background())
		go h.Run(ctx)
		time.Sleep(time.Minute)
		synctest.Wait()
		cancel()
		if len(scaler.counts()) != 0 || evals < 5 {
			t.Errorf("dry run: %d scales, %d evaluations", len(scaler.counts()), evals)
		}
	})
}

type staticSource struct {
	name string
	sets chan []*Policy
}

func (s *staticSource) Name() string { return s.name }

func (s *staticSource) Watch(ctx context.Context, out chan<- []*Policy) {
	for {
		select {
		case <-ctx.Done():
			return
		case ps := <-s.sets:
			select {
			case out <- ps:
			case <-ctx.Done():
				return
			}
		}
	}
}

func TestManagerFollowsSources(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &staticSource{name: "test", sets: make(chan []*Policy)}
		m := &Manager{Sources: []PolicySource{src}, NewHandler: func(p *Policy) *Handler {
			return NewHandler(p, HandlerOptions{Evaluator: &Evaluator{}, Scaler: &fakeScaler{}})
		}}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { m.Run(ctx); close(done) }()
		a, b := cpuPolicy(DefaultBehavior()), cpuPolicy(DefaultBehavior())
		b.ID = "web/web"
		src.sets <- []*Policy{a, b}
		synctest.Wait()
		if got := m.Running(); len(got) != 2 {
			t.Fatalf("running %v", got)
		}
		disabled := *b
		disabled.Enabled = false
		src.sets <- []*Policy{a, &disabled}
		synctest.Wait()
		if got := m.Running(); len(got) != 1 || got[0] != "api/api" {
			t.Fatalf("after removal: %v", got)
		}
		cancel()
		<-done
	})
}

func TestParseNomadPolicy(t *testing.T) {
	// The shape of policy/nomad/test-fixtures/full-scaling.json.golden.
	np := NomadPolicy{ID: "id-1", Enabled: true, Min: 2, Max: 10, Target: map[string]string{"Job": "api", "Group": "api"},
		Policy: map[string]any{
			"cooldown":            "2m",
			"evaluation_interval": "10s",
			"check": []any{
				map[string]any{"cpu": []any{map[string]any{
					"source": "nomad-apm", "query": "avg_cpu-allocated",
					"strategy": []any{map[string]any{"target-value": []any{map[string]any{"target": 70.0}}}},
				}}},
				map[string]any{"mem": []any{map[string]any{
					"query": "avg_memory", "query_window": "instant",
					"strategy": []any{map[string]any{"threshold": []any{map[string]any{"upper_bound": 10.0, "delta": -1.0, "within_bounds_trigger": 1.0}}}},
				}}},
			},
			"target": []any{map[string]any{"nomad": []any{map[string]any{}}}},
			"drover": []any{map[string]any{
				"scale_down": []any{map[string]any{"stabilization_window": "10m", "tolerance": 0.2}},
			}},
			"unknown_key": "ignored like the Autoscaler does",
		}}
	p, err := ParseNomadPolicy(np)
	if err != nil {
		t.Fatal(err)
	}
	if p.Cooldown != 2*time.Minute || p.Target.Namespace != "default" || len(p.Checks) != 2 {
		t.Fatalf("parsed %+v", p)
	}
	cpu := p.Checks[0]
	if cpu.Strategy.Config["target"] != "70" || cpu.QueryWindow != DefaultQueryWindow {
		t.Errorf("cpu check %+v %v", cpu, cpu.Strategy.Config)
	}
	if !p.Checks[1].Instant || p.Checks[1].Source != DefaultSource {
		t.Errorf("mem check %+v", p.Checks[1])
	}
	if p.Behavior.ScaleDown.StabilizationWindow != 10*time.Minute || *p.Behavior.ScaleDown.Tolerance != 0.2 || !p.Behavior.RespectDeployments {
		t.Errorf("behavior %+v", p.Behavior)
	}
	// A float the Autoscaler formats as 1e+06 fails its integer parsing, and
	// ours: same policy, same (non-)decision.
	np.Policy["check"] = []any{map[string]any{"cpu": []any{map[string]any{"query": "avg_cpu",
		"strategy": []any{map[string]any{"target-value": []any{map[string]any{"target": 70.0, "max_scale_up": 1000000.0}}}}}}}}
	p, err = ParseNomadPolicy(np)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewStrategy(p.Checks[0].Strategy); err == nil {
		t.Error("max_scale_up of 1e+06 must be rejected, as the Autoscaler rejects it")
	}
	if _, err := ParseNomadPolicy(NomadPolicy{ID: "x", Policy: map[string]any{"cooldown": 120.0, "check": []any{}}}); err == nil {
		t.Error("a numeric duration is an error, as in the Autoscaler")
	}
}

func TestRateLimit(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	up := DefaultBehavior().ScaleUp
	if l, _ := up.rateLimit(Up, 10, nil, now); l != 20 {
		t.Errorf("up from 10: %d, want 20 (100%% beats 4 pods)", l)
	}
	if l, _ := up.rateLimit(Up, 1, nil, now); l != 5 {
		t.Errorf("up from 1: %d, want 5 (4 pods beat 100%%)", l)
	}
	up.Select = SelectMin
	if l, _ := up.rateLimit(Up, 10, nil, now); l != 14 {
		t.Errorf("min policy from 10: %d, want 14", l)
	}
	down := DirectionBehavior{Rates: []Rate{{RatePods, 2, time.Minute}}, Select: SelectMax}
	events := []scaleEvent{{at: now.Add(-30 * time.Second), delta: -2}}
	if l, _ := down.rateLimit(Down, 8, events, now); l != 8 {
		t.Errorf("down after using the period's 2 pods: %d, want 8", l)
	}
}

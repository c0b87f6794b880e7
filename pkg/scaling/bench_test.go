package scaling

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"
)

// benchPolicies builds n policies like a real fleet's: a target-value CPU
// check, every third with a second (threshold) check on another metric.
func benchPolicies(n int) []*Policy {
	out := make([]*Policy, n)
	for i := range out {
		p := cpuPolicy(DefaultBehavior())
		p.ID = fmt.Sprintf("job-%05d/web", i)
		p.Target.Job = fmt.Sprintf("job-%05d", i)
		if i%3 == 0 {
			p.Checks = append(p.Checks, &Check{Name: "queue", Source: SourcePrometheus, Query: fmt.Sprintf("queue{job=%q}", p.Target.Job), QueryWindow: time.Minute,
				Strategy: &StrategySpec{Name: StrategyThreshold, Config: map[string]string{"lower_bound": "100", "delta": "1", "within_bounds_trigger": "1"}}})
		}
		out[i] = p
	}
	return out
}

// BenchmarkEvaluate10k evaluates 10,000 policies (one tick each) against
// in-memory metric sources, reporting evaluations per second and the memory
// each policy's state keeps after an hour of ticks.
func BenchmarkEvaluate10k(b *testing.B) {
	const n = 10_000
	policies := benchPolicies(n)
	src := &fakeSource{value: func(at time.Time) float64 { return 40 + float64(at.Unix()%30) }}
	ev := &Evaluator{Sources: map[string]MetricSource{SourceNomadAPM: src, SourcePrometheus: src}}
	states := make([]State, n)
	status := ready(4, 4)
	now := time.Unix(1_700_000_000, 0)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tick := now.Add(time.Duration(i) * 10 * time.Second)
		for j, p := range policies {
			ev.Evaluate(ctx, p, &states[j], status, tick)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "evals/s")

	// Memory held per policy once its stabilization window is full (30 ticks
	// of 10s cover the default 5m window).
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	held := benchPolicies(n)
	heldStates := make([]State, n)
	for t := 0; t < 40; t++ {
		for j, p := range held {
			ev.Evaluate(ctx, p, &heldStates[j], status, now.Add(time.Duration(t)*10*time.Second))
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/policy")
	runtime.KeepAlive(held)
	runtime.KeepAlive(heldStates)
}

package autoscale

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/drover-io/drover/pkg/scaling"
)

// constSource answers every query with one data point.
type constSource float64

func (c constSource) Query(_ context.Context, _ string, r scaling.TimeRange) ([]scaling.DataPoint, error) {
	return []scaling.DataPoint{{Time: r.To, Value: float64(c)}}, nil
}

// BenchmarkHandlerPath runs the whole handler path of one evaluation,
// status (from the event-fed cache), decide (a target-value check on an
// in-memory metric) and, every 100th evaluation, scale, for 1,000
// policies, reporting requests to Nomad per evaluation.
func BenchmarkHandlerPath(b *testing.B) {
	for _, semantics := range []string{scaling.SemanticsDrover, scaling.SemanticsAutoscaler} {
		b.Run(semantics, func(b *testing.B) {
			f := newFakeNomad(4)
			tg := NewTarget(f, TargetOptions{})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go tg.Run(ctx)
			for tg.mode.Load() != modeEvents {
				time.Sleep(time.Millisecond)
			}
			ev := &scaling.Evaluator{Sources: map[string]scaling.MetricSource{scaling.SourceNomadAPM: constSource(50)}}
			const n = 1000
			handlers := make([]*scaling.Handler, n)
			for i := range handlers {
				np := scaling.NomadPolicy{ID: fmt.Sprintf("p%d", i), Enabled: true, Min: 1, Max: 100,
					Target: map[string]string{"Namespace": "default", "Job": "api", "Group": "api"},
					Policy: map[string]any{"cooldown": "1ms", "check": []any{map[string]any{"cpu": []any{map[string]any{
						"query": "taskgroup_avg_cpu/api/api@default", "strategy": []any{map[string]any{"target-value": []any{map[string]any{"target": "50"}}}},
					}}}}}}
				p, err := scaling.ParseNomadPolicy(np)
				if err != nil {
					b.Fatal(err)
				}
				p.ApplySemantics(semantics)
				handlers[i] = scaling.NewHandler(p, scaling.HandlerOptions{Evaluator: ev, Scaler: tg, Limiter: scaling.NewLimiter(10)})
			}
			base := f.requests()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if i%100 == 99 {
					// A change someone else made: the next status is read
					// again, and the metric now asks for one more.
					f.change(func() { f.running, f.desired = 3, 3 })
				}
				if err := handlers[i%n].Tick(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(f.requests()-base)/float64(b.N), "requests/eval")
		})
	}
}

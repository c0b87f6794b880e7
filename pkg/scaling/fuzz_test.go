package scaling

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// FuzzParseNomadPolicy feeds arbitrary policies in Nomad's map form (as
// JSON) to the one parser, under both semantics, then evaluates and ticks
// whatever it accepts. Nothing may panic, and an accepted policy must be
// runnable: a positive evaluation interval (time.NewTicker panics
// otherwise), a strategy or a reason for every check.
func FuzzParseNomadPolicy(f *testing.F) {
	for _, seed := range []string{
		`{"evaluation_interval":"0s","check":[{"cpu":[{"query":"avg_cpu","strategy":[{"target-value":[{"target":"50"}]}]}]}]}`,
		`{"evaluation_interval":"-1s","cooldown":"0s","check":[{"pin":[{"strategy":[{"fixed-value":[{"value":-1}]}]}]}]}`,
		`{"check":[{"t":[{"query":"q","source":"prometheus","query_window":"instant","strategy":[{"threshold":[{"upper_bound":"+Inf","lower_bound":"NaN","percentage":"1e309"}]}]}]}]}`,
		`{"on_check_error":"Fail","schedule":[{"start":"* * * * *","duration":"0s"}],"check":[{"a":[{"on_error":"foo","strategy":[{"pass-through":[{"max_scale_up":"-3"}]}]}]}]}`,
		`{"drover":[{"semantics":"autoscaler","scale_up":[{"tolerance":2,"rate":[{"type":"pods","value":0,"period":"x"}]}]}],"check":[]}`,
		`{"check":[{"x":[{"strategy":[{"threshold":[{"delta":"9223372036854775807","lower_bound":"0","within_bounds_trigger":"-9"}]}]}]}],"target":[{"nomad":[{"Job":"j","Group":"g"}]}]}`,
		`{"check":"nope","cooldown":5,"drover":"x"}`,
	} {
		f.Add([]byte(seed), int64(1), int64(10), 50.0, int64(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, minCount, maxCount int64, metric float64, count int64) {
		var m map[string]any
		if json.Unmarshal(data, &m) != nil {
			return
		}
		np := NomadPolicy{ID: "fuzz", Enabled: true, Min: minCount, Max: maxCount, Policy: m,
			Target: map[string]string{"Job": "j", "Group": "g"}}
		p, _ := ParseNomadPolicy(np)
		if p == nil {
			t.Fatal("no policy returned")
		}
		for _, sem := range []string{SemanticsAutoscaler, SemanticsDrover} {
			p.ApplySemantics(sem)
			for _, pr := range p.Problems {
				_ = pr.Error()
			}
			if len(p.Problems.Fatal()) > 0 {
				continue
			}
			if p.EvaluationInterval <= 0 {
				t.Fatalf("%s: accepted a policy with interval %s", sem, p.EvaluationInterval)
			}
			for _, c := range p.Checks {
				if _, err := c.strategyFor(sem); err == nil && c.compiled == nil {
					t.Fatalf("%s: check %q has neither a strategy nor a reason", sem, c.Name)
				}
			}
			src := &fakeSource{value: constant(metric), points: 3}
			ev := &Evaluator{Sources: map[string]MetricSource{SourceNomadAPM: src, SourcePrometheus: src}}
			status := ready(count, count)
			e := ev.Evaluate(context.Background(), p, &State{}, status, time.Unix(1_700_000_000, 0))
			_ = e.Scales()
			scaler := &fakeScaler{status: *status}
			h := NewHandler(p, HandlerOptions{Evaluator: ev, Scaler: scaler})
			_ = h.Tick(context.Background())
			_ = Lint(p)
		}
	})
}

// FuzzStrategyConfig runs any strategy configuration, as drover reads it
// and as the Autoscaler's plugins do, over a few data points.
func FuzzStrategyConfig(f *testing.F) {
	for _, s := range StrategyNames() {
		for _, k := range StrategyKeys(s) {
			f.Add(s, k, "1", "threshold", " 50", 3.5, int64(2))
			f.Add(s, k, "NaN", "upper_bound", "+Inf", -1.0, int64(0))
		}
	}
	f.Fuzz(func(t *testing.T, name, k1, v1, k2, v2 string, metric float64, count int64) {
		spec := &StrategySpec{Name: name, Config: map[string]string{k1: v1, k2: v2}}
		pts := []DataPoint{{Time: time.Unix(1, 0), Value: metric}, {Time: time.Unix(2, 0), Value: metric / 2}}
		for _, build := range []func(*StrategySpec) (Strategy, error){NewStrategy, newAutoscalerStrategy} {
			s, err := build(spec)
			if err != nil {
				_ = err.Error()
				continue
			}
			d := s.Run(count, pts)
			_ = Cap(d, 0, 10)
			_ = capAutoscaler(d, 0, 10)
		}
	})
}

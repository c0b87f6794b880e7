package scaling

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// Each case below is a place where the Nomad Autoscaler and drover's own
// semantics differ, or where drover used to differ from the Autoscaler.
// Under --semantics autoscaler the expectation is the Autoscaler's, read
// from its source at the function each case cites (hashicorp/
// nomad-autoscaler ede4e617); under drover's semantics it is drover's,
// which the README documents.

// nomadPolicy builds a policy in Nomad's map form with one check.
func nomadPolicy(policy map[string]any, checks ...map[string]any) NomadPolicy {
	m := map[string]any{}
	for k, v := range policy {
		m[k] = v
	}
	var list []any
	for _, c := range checks {
		list = append(list, c)
	}
	if len(list) > 0 {
		m["check"] = list
	}
	return NomadPolicy{ID: "p1", Enabled: true, Min: 1, Max: 20, Type: "horizontal",
		Target: map[string]string{"Namespace": "default", "Job": "api", "Group": "api"}, Policy: m}
}

// check builds one check "name" with a strategy and its config.
func check(name, strategy string, cfg map[string]any, attrs map[string]any) map[string]any {
	body := map[string]any{"source": SourceNomadAPM, "query": "avg_cpu"}
	for k, v := range attrs {
		if v == nil {
			delete(body, k)
			continue
		}
		body[k] = v
	}
	body["strategy"] = []any{map[string]any{strategy: []any{cfg}}}
	return map[string]any{name: []any{body}}
}

// parseAs parses and resolves a policy for a semantics.
func parseAs(t *testing.T, np NomadPolicy, semantics string) *Policy {
	t.Helper()
	p, _ := ParseNomadPolicy(np)
	if p == nil {
		t.Fatal("ParseNomadPolicy returned no policy")
	}
	p.ApplySemantics(semantics)
	return p
}

func evaluate(p *Policy, src MetricSource, status *TargetStatus) *Evaluation {
	ev := &Evaluator{Sources: map[string]MetricSource{SourceNomadAPM: src, SourcePrometheus: src}}
	return ev.Evaluate(context.Background(), p, &State{}, status, time.Unix(1_700_000_000, 0))
}

// outcome is what an evaluation did, compactly: "up 4", "down 1", "none",
// "error", "refused".
func outcome(p *Policy, e *Evaluation) string {
	switch {
	case len(p.Problems.Fatal()) > 0:
		return "refused"
	case e.Err != "":
		return "error"
	case e.Skipped != "" || !e.Scales():
		return "none"
	}
	return e.Final.Direction.String() + " " + itoa(e.Final.Count)
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestSemanticsTable(t *testing.T) {
	tv := func(cfg map[string]any) map[string]any { return check("cpu", StrategyTargetValue, cfg, nil) }
	th := func(cfg map[string]any, attrs map[string]any) map[string]any {
		return check("cpu", StrategyThreshold, cfg, attrs)
	}
	fixed := func(v any) map[string]any {
		return check("pin", StrategyFixedValue, map[string]any{"value": v}, map[string]any{"source": nil, "query": nil})
	}
	cases := []struct {
		name string
		// cite is where the Autoscaler's behaviour comes from.
		cite       string
		policy     NomadPolicy
		metric     float64
		count      int64
		autoscaler string
		drover     string
	}{
		// A. Values the plugins accept and drover used to reject.
		{"A unknown strategy key is ignored",
			"plugins/builtin/strategy/target-value/plugin/plugin.go Run reads only target, threshold, max_scale_up/down",
			nomadPolicy(nil, tv(map[string]any{"target": "50", "targett": "70"})), 100, 2, "up 4", "none"},
		{`A "" is unset`,
			`target-value plugin.go Run: th == "" takes defaultThreshold`,
			nomadPolicy(nil, tv(map[string]any{"target": "50", "threshold": ""})), 100, 2, "up 4", "none"},
		{`A "+Inf" bound is a number`,
			"threshold plugin.go parseBound: strconv.ParseFloat accepts +Inf",
			nomadPolicy(nil, th(map[string]any{"lower_bound": "50", "upper_bound": "+Inf", "delta": "1", "within_bounds_trigger": "1"}, nil)), 100, 2, "up 3", "none"},
		{`A "NaN" target makes no decision`,
			"target-value plugin.go Run: ParseFloat(\"NaN\"), factor NaN, calculateDirection none",
			nomadPolicy(nil, tv(map[string]any{"target": "NaN"})), 100, 2, "none", "none"},
		{"A negative threshold widens the band into an inverted one",
			"target-value plugin.go calculateDirection: factor 1.2 < 1-(-0.5) is down, ceil(2*1.2) = 3",
			nomadPolicy(nil, tv(map[string]any{"target": "50", "threshold": "-0.5"})), 60, 2, "down 3", "none"},
		{"A negative max_scale_up turns a scale-up into fewer",
			"target-value plugin.go Run: newCount > count+maxScaleUp sets count+maxScaleUp",
			nomadPolicy(nil, tv(map[string]any{"target": "50", "max_scale_up": "-1"})), 100, 3, "up 2", "none"},
		{"A negative max_scale_down",
			"target-value plugin.go Run: newCount < count-maxScaleDown sets count-maxScaleDown",
			nomadPolicy(nil, tv(map[string]any{"target": "50", "max_scale_down": "-2"})), 10, 4, "down 6", "none"},
		{"A negative within_bounds_trigger always fires",
			"threshold plugin.go withinBounds: 0 data points >= -1",
			nomadPolicy(nil, th(map[string]any{"lower_bound": "0", "upper_bound": "10", "delta": "1", "within_bounds_trigger": "-1"}, nil)), 100, 2, "up 3", "none"},
		{"A negative fixed value is capped to min",
			"fixed-value plugin.go Run: ParseInt(\"-3\"); policy/check.go runCheckAndCapCount CapCount",
			nomadPolicy(nil, fixed("-3")), 0, 4, "down 1", "none"},
		{`A " 50" is refused by the plugin (drover no longer trims it)`,
			"target-value plugin.go Run: strconv.ParseFloat(\" 50\") fails; policy/check.go getNewCountFromStrategy ignores it",
			nomadPolicy(nil, tv(map[string]any{"target": " 50"})), 100, 2, "none", "none"},

		// C. The query comes before the strategy; its failure aborts.
		{"C a strategy error after a failed query aborts, whatever on_error says",
			"policy/check.go runCheckAndCapCount: queryMetrics error returns before getNewCountFromStrategy",
			nomadPolicy(nil, check("cpu", StrategyTargetValue, map[string]any{"target": "abc"}, map[string]any{"on_error": "ignore", "query": "broken"})), -1, 2, "error", "none"},

		// D. -1 is the dry-run marker, never capped.
		{"D a computed -1 is the dry-run count",
			"sdk/strategy.go CapCount leaves StrategyActionMetaValueDryRunCount alone",
			nomadPolicy(nil, fixed("-1")), 0, 3, "down -1", "none"},
		{"D a target-value count of -1 is not capped either; drover caps it to min",
			"target-value plugin.go Run: ceil(2 * -25/50) = -1; sdk/strategy.go CapCount skips it",
			nomadPolicy(nil, tv(map[string]any{"target": "50"})), -25, 2, "down -1", "down 1"},

		// E/F. Strategy errors.
		{"E an unknown strategy name stops the policy",
			"policy/handler.go loadCheckRunners: GetStrategyRunner fails, NewPolicyHandler returns the error",
			nomadPolicy(nil, check("cpu", "target-valu", map[string]any{"target": "50"}, nil)), 100, 2, "refused", "none"},
		{"F any other strategy error is handled per check: on_error fail",
			"policy/check.go getNewCountFromStrategy: on_error fail returns the error",
			nomadPolicy(nil, check("cpu", StrategyThreshold, map[string]any{"delta": "1"}, map[string]any{"on_error": "fail"})), 100, 2, "error", "error"},

		// Configuration the Autoscaler refuses.
		{`on_error = "foo" is refused`,
			"sdk/policy.go Validate: on_error must be fail or ignore",
			nomadPolicy(nil, check("cpu", StrategyTargetValue, map[string]any{"target": "50"}, map[string]any{"on_error": "foo"})), 100, 2, "refused", "refused"},
		{`on_check_error = "Fail" is refused (case-sensitive)`,
			"sdk/policy.go Validate: on_check_error must be fail or ignore",
			nomadPolicy(map[string]any{"on_check_error": "Fail"}, tv(map[string]any{"target": "50"})), 100, 2, "refused", "refused"},
		{"an instant threshold needs within_bounds_trigger = 1",
			"policy/nomad/validate.go validateInstantThresholdTrigger",
			nomadPolicy(nil, th(map[string]any{"lower_bound": "50", "delta": "1"}, map[string]any{"query_window": "instant"})), 100, 2, "refused", "none"},
		{"a negative evaluation_interval is refused (it would panic NewTicker)",
			"policy/handler.go Run: time.NewTicker(h.policy.EvaluationInterval)",
			nomadPolicy(map[string]any{"evaluation_interval": "-5s"}, tv(map[string]any{"target": "50"})), 100, 2, "refused", "refused"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, sem := range []string{SemanticsAutoscaler, SemanticsDrover} {
				want := tc.autoscaler
				if sem == SemanticsDrover {
					want = tc.drover
				}
				p := parseAs(t, tc.policy, sem)
				src := &fakeSource{value: constant(tc.metric)}
				if tc.metric == -1 {
					src.err = errors.New("connection refused")
				}
				status := ready(tc.count, tc.count)
				if sem == SemanticsDrover {
					p.Behavior.ScaleDown.StabilizationWindow = 0 // compare one evaluation
					p.Behavior.ScaleUp.Rates, p.Behavior.ScaleDown.Rates = nil, nil
				}
				e := evaluate(p, src, status)
				if got := outcome(p, e); got != want {
					t.Errorf("%s semantics: got %q, want %q (%s)\nproblems: %v\nevaluation: err %q final %+v checks %+v",
						sem, got, want, tc.cite, p.Problems, e.Err, e.Final, e.Checks)
				}
			}
		})
	}
}

// TestIgnoredFailureVotesNone (B): an ignored failing check still votes
// "none" in the Autoscaler, and none beats down, so it blocks a scale-down
// (policy/check.go getNewCountFromStrategy returns an empty action with a
// nil error, and policy/handler.go calculateNewCount appends it). drover's
// check does not vote, and drover holds the scale-down for the failure.
func TestIgnoredFailureVotesNone(t *testing.T) {
	np := nomadPolicy(nil,
		check("pin", StrategyFixedValue, map[string]any{"value": "1"}, map[string]any{"source": nil, "query": nil}),
		check("broken", StrategyTargetValue, map[string]any{"target": "abc"}, map[string]any{"on_error": "ignore"}))
	src := &fakeSource{value: constant(10)}

	p := parseAs(t, np, SemanticsAutoscaler)
	e := evaluate(p, src, ready(4, 4))
	if e.Scales() || e.Winner != "broken" || e.Final.Direction != None {
		t.Errorf("autoscaler: the ignored failure should win with none, got winner %q final %+v", e.Winner, e.Final)
	}
	p = parseAs(t, np, SemanticsDrover)
	e = evaluate(p, src, ready(4, 4))
	if e.Scales() || e.Winner != "pin" || !strings.Contains(e.Final.Reason, "check failed") {
		t.Errorf("drover: the failure should not vote but hold the scale-down, got winner %q final %+v", e.Winner, e.Final)
	}
}

// TestEmptyQueryAborts (C): an empty result is errNoMetrics, which aborts
// the evaluation (policy/check.go queryMetrics) even with on_error ignore;
// drover skips the check.
func TestEmptyQueryAborts(t *testing.T) {
	np := nomadPolicy(nil, check("cpu", StrategyTargetValue, map[string]any{"target": "50"}, map[string]any{"on_error": "ignore"}))
	ev := &Evaluator{Sources: map[string]MetricSource{SourceNomadAPM: emptySource{}}}
	now := time.Unix(1_700_000_000, 0)
	if e := ev.Evaluate(context.Background(), parseAs(t, np, SemanticsAutoscaler), &State{}, ready(2, 2), now); !strings.Contains(e.Err, "no data") {
		t.Errorf("autoscaler: an empty query must abort, got %q", e.Err)
	}
	if e := ev.Evaluate(context.Background(), parseAs(t, np, SemanticsDrover), &State{}, ready(2, 2), now); e.Err != "" || e.Checks[0].Skipped == "" {
		t.Errorf("drover: want the check skipped, got err %q checks %+v", e.Err, e.Checks)
	}
}

// TestQueryCacheIgnoresInstant (G): the Autoscaler's cache key is source,
// query, window and offset (policy/check.go queryMetricsCacheKey), so an
// instant check and a 1m check of the same query share one answer.
func TestQueryCacheIgnoresInstant(t *testing.T) {
	np := nomadPolicy(nil,
		check("now", StrategyTargetValue, map[string]any{"target": "50"}, map[string]any{"query_window": "instant"}),
		check("window", StrategyTargetValue, map[string]any{"target": "50"}, map[string]any{"query_window": "0s"}))
	for sem, want := range map[string]int{SemanticsAutoscaler: 1, SemanticsDrover: 2} {
		src := &fakeSource{value: constant(50)}
		p := parseAs(t, np, sem)
		evaluate(p, src, ready(2, 2))
		if src.queries != want {
			t.Errorf("%s: %d queries, want %d", sem, src.queries, want)
		}
	}
}

// TestCooldownSemantics: "0s" means the 5m default to the Autoscaler
// (policy/policy.go ApplyPolicyDefaults: Cooldown == 0 takes
// DefaultCooldown, CooldownOnScaleUp == 0 takes Cooldown) and none to
// drover. Scaling events made outside the reconciler hold drover in
// cooldown but not the Autoscaler, whose startup cooldown
// (policy/handler.go NewPolicyHandler) is left at the first tick because
// outOfCooldownOn was never set (Run).
func TestCooldownSemantics(t *testing.T) {
	np := nomadPolicy(map[string]any{"cooldown": "0s", "evaluation_interval": "20ms"},
		check("cpu", StrategyTargetValue, map[string]any{"target": "50"}, nil))
	for sem, want := range map[string]time.Duration{SemanticsAutoscaler: DefaultCooldown, SemanticsDrover: 0} {
		p := parseAs(t, np, sem)
		if p.Cooldown != want || cooldownFor(p, Up) != want {
			t.Errorf("%s: cooldown %s, scale-up cooldown %s, want %s", sem, p.Cooldown, cooldownFor(p, Up), want)
		}
	}
	np.Policy["cooldown"] = "1m"
	np.Policy["cooldown_on_scale_up"] = "0s"
	if p := parseAs(t, np, SemanticsAutoscaler); cooldownFor(p, Up) != time.Minute {
		t.Errorf("autoscaler: a 0s scale-up cooldown is the cooldown, got %s", cooldownFor(p, Up))
	}
	if p := parseAs(t, np, SemanticsDrover); cooldownFor(p, Up) != 0 || cooldownFor(p, Down) != time.Minute {
		t.Errorf("drover: a 0s scale-up cooldown is none, got %s", cooldownFor(p, Up))
	}

	// Through the handler: 300ms of 20ms ticks, always wanting more.
	delete(np.Policy, "cooldown_on_scale_up")
	np.Policy["cooldown"] = "0s"
	np.Max = 1 << 40
	for sem, want := range map[string]int{SemanticsAutoscaler: 1, SemanticsDrover: 15} {
		synctest.Test(t, func(t *testing.T) {
			p := parseAs(t, np, sem)
			if sem == SemanticsDrover {
				p.Behavior = DefaultBehavior()
				p.Behavior.ScaleUp.Rates = nil
			}
			scaler := &fakeScaler{status: *ready(2, 2)}
			h := NewHandler(p, HandlerOptions{Evaluator: &Evaluator{Sources: map[string]MetricSource{SourceNomadAPM: &fakeSource{value: constant(100)}}}, Scaler: scaler})
			ctx, cancel := context.WithCancel(context.Background())
			go h.Run(ctx)
			time.Sleep(300*time.Millisecond + time.Millisecond)
			synctest.Wait()
			cancel()
			synctest.Wait()
			if got := len(scaler.counts()); got != want {
				t.Errorf("%s: %d scales in 300ms, want %d", sem, got, want)
			}
		})
	}

	// An out-of-band scale 10s ago, with a 1m cooldown.
	np.Policy["cooldown"] = "1m"
	for sem, want := range map[string]int{SemanticsAutoscaler: 1, SemanticsDrover: 0} {
		p := parseAs(t, np, sem)
		scaler := &fakeScaler{status: *ready(2, 2)}
		scaler.status.LastEvent = &LastEvent{Time: time.Now().Add(-10 * time.Second), Direction: Up}
		h := NewHandler(p, HandlerOptions{Evaluator: &Evaluator{Sources: map[string]MetricSource{SourceNomadAPM: &fakeSource{value: constant(100)}}}, Scaler: scaler})
		if err := h.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := len(scaler.counts()); got != want {
			t.Errorf("%s: %d scales after an out-of-band event, want %d", sem, got, want)
		}
	}
}

// TestDryRunCountScalesAndCoolsDown (D): a winning count of -1 is sent to
// the target, which sends no count (plugins/builtin/target/nomad/plugin
// plugin.go Scale: a nil count for StrategyActionMetaValueDryRunCount), and
// the cooldown starts (policy/handler.go waitAndScale).
func TestDryRunCountScalesAndCoolsDown(t *testing.T) {
	np := nomadPolicy(map[string]any{"cooldown": "1m"}, check("pin", StrategyFixedValue, map[string]any{"value": "-1"}, map[string]any{"source": nil, "query": nil}))
	p := parseAs(t, np, SemanticsAutoscaler)
	scaler := &fakeScaler{status: *ready(3, 3)}
	h := NewHandler(p, HandlerOptions{Evaluator: &Evaluator{}, Scaler: scaler})
	for range 3 {
		if err := h.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		scaler.mu.Lock()
		scaler.status = *ready(3, 3) // a nil count changes nothing
		scaler.mu.Unlock()
	}
	if got := scaler.counts(); len(got) != 1 || got[0] != DryRunCount {
		t.Errorf("scales %v, want one of -1 and then the cooldown", got)
	}
}

// TestZeroIntervalUsesDefault: evaluation_interval = "0s" panicked a
// handler (time.NewTicker(0)); the Autoscaler uses its 10s default
// (policy/policy.go ApplyPolicyDefaults).
func TestZeroIntervalUsesDefault(t *testing.T) {
	np := nomadPolicy(map[string]any{"evaluation_interval": "0s"}, check("pin", StrategyFixedValue, map[string]any{"value": "3"}, map[string]any{"source": nil, "query": nil}))
	for _, sem := range []string{SemanticsAutoscaler, SemanticsDrover} {
		p := parseAs(t, np, sem)
		if p.EvaluationInterval != DefaultEvaluationInterval || len(p.Problems.Fatal()) > 0 {
			t.Fatalf("%s: interval %s, problems %v", sem, p.EvaluationInterval, p.Problems)
		}
		synctest.Test(t, func(t *testing.T) {
			scaler := &fakeScaler{status: *ready(1, 1)}
			h := NewHandler(p, HandlerOptions{Evaluator: &Evaluator{}, Scaler: scaler})
			ctx, cancel := context.WithCancel(context.Background())
			go h.Run(ctx)
			time.Sleep(DefaultEvaluationInterval + time.Millisecond)
			synctest.Wait()
			cancel()
			synctest.Wait()
			if got := scaler.counts(); len(got) != 1 || got[0] != 3 {
				t.Errorf("%s: scales %v after one default interval", sem, got)
			}
		})
	}
	// A hand-built policy with no interval does not panic either.
	synctest.Test(t, func(t *testing.T) {
		p := cpuPolicy(DefaultBehavior())
		p.EvaluationInterval = 0
		h := NewHandler(p, HandlerOptions{Evaluator: &Evaluator{}, Scaler: &fakeScaler{}})
		ctx, cancel := context.WithCancel(context.Background())
		go h.Run(ctx)
		h.Update(p)
		time.Sleep(time.Second)
		cancel()
		synctest.Wait()
	})
}

// TestProblemsHavePaths: problems name their key path, which diagnostics
// use to find the source range.
func TestProblemsHavePaths(t *testing.T) {
	np := nomadPolicy(map[string]any{"evaluation_interval": "soon", "drover": []any{map[string]any{"scale_up": []any{map[string]any{"tolerance": 1.5}}}}},
		check("cpu", StrategyTargetValue, map[string]any{"target": "50", "higher_bound": "90"}, nil),
		check("typo", "target-valu", map[string]any{}, nil))
	p, err := ParseNomadPolicy(np)
	var fatal Problems
	if !errors.As(err, &fatal) || len(fatal) == 0 {
		t.Fatalf("want fatal problems, got %v", err)
	}
	got := map[string]string{}
	for _, pr := range p.Problems {
		got[pr.PathString()] = pr.Summary
	}
	for path, summary := range map[string]string{
		"evaluation_interval":                            "Invalid duration",
		"drover.scale_up.tolerance":                      "Invalid drover block",
		"check[cpu].strategy[target-value].higher_bound": "Unknown strategy key",
		"check[typo].strategy[target-valu]":              summaryUnknownStrategy,
	} {
		if got[path] != summary {
			t.Errorf("%s: got %q, want %q (all: %v)", path, got[path], summary, got)
		}
	}
}

// TestManagerRefusesLoudly: a policy that cannot run gets no handler, but
// is reported (and logged once), never dropped silently.
func TestManagerRefusesLoudly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bad := parseAs(t, nomadPolicy(map[string]any{"on_check_error": "Fail"}, check("cpu", StrategyTargetValue, map[string]any{"target": "50"}, nil)), "")
		bad.ID = "bad"
		good := cpuPolicy(DefaultBehavior())
		var refused []*Policy
		src := &staticSource{name: "s", sets: make(chan []*Policy, 1)}
		src.sets <- []*Policy{bad, good}
		m := &Manager{Sources: []PolicySource{src}, NewHandler: func(p *Policy) *Handler {
			return NewHandler(p, HandlerOptions{Evaluator: &Evaluator{}, Scaler: &fakeScaler{}})
		}, Problems: func(_, ref []*Policy) { refused = ref }}
		ctx, cancel := context.WithCancel(context.Background())
		go m.Run(ctx)
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if got := m.Running(); len(got) != 1 || got[0] != good.ID {
			t.Errorf("running %v", got)
		}
		if len(refused) != 1 || refused[0].ID != "bad" || len(m.Refused()) != 1 {
			t.Errorf("refused %v", refused)
		}
		cancel()
		synctest.Wait()
	})
}

// TestUnknownSource: a check on a source that is not configured stops the
// policy in the Autoscaler (policy/handler.go loadCheckRunners,
// GetAPMLooker) and only the check in drover.
func TestUnknownSource(t *testing.T) {
	np := nomadPolicy(nil, check("q", StrategyTargetValue, map[string]any{"target": "5"}, map[string]any{"source": SourcePrometheus}))
	for sem, fatal := range map[string]bool{SemanticsAutoscaler: true, SemanticsDrover: false} {
		p := parseAs(t, np, sem)
		p.RequireSources(map[string]bool{SourceNomadAPM: true})
		if got := len(p.Problems.Fatal()) > 0; got != fatal || p.Checks[0].Broken(p) == nil {
			t.Errorf("%s: fatal %v, want %v; problems %v", sem, got, fatal, p.Problems)
		}
	}
}

// TestAutoscalerThresholdAction: the Autoscaler reads a threshold's action
// as drover does, except that a "" value is unset (plugin Run reads
// config[k] != ""): none or several is refused, naming the second key.
func TestAutoscalerThresholdAction(t *testing.T) {
	for _, c := range []struct {
		name   string
		config map[string]string
		want   string // the action, or the error's key and summary
	}{
		{"percentage, delta empty", map[string]string{"lower_bound": "1", "delta": "", "percentage": "5"}, ActionPercentage},
		{"value", map[string]string{"upper_bound": "9", "value": "3"}, ActionValue},
		{"none", map[string]string{"lower_bound": "1", "value": ""}, ": Missing threshold action"},
		{"two", map[string]string{"lower_bound": "1", "delta": "1", "value": "3"}, "value: Conflicting threshold actions"},
		{"negative value", map[string]string{"lower_bound": "1", "value": "-2"}, "value: Invalid strategy value"},
	} {
		s, err := newAutoscalerStrategy(&StrategySpec{Name: StrategyThreshold, Config: c.config})
		var got string
		if errs, ok := err.(ConfigErrors); ok && len(errs) > 0 {
			got = errs[0].Key + ": " + errs[0].Summary
		} else if th, ok := s.(*Threshold); ok && err == nil {
			got = th.Action
		}
		if got != c.want {
			t.Errorf("%s: got %q (%v), want %q", c.name, got, err, c.want)
		}
	}
}

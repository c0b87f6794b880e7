package scaling

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func points(values ...float64) []DataPoint {
	out := make([]DataPoint, len(values))
	for i, v := range values {
		out[i] = DataPoint{Time: time.Unix(1600000000+int64(i), 0), Value: v}
	}
	return out
}

// strategyCases run through every strategy with the Autoscaler's expected
// results. "AS:" names the Autoscaler test or code each case pins
// (hashicorp/nomad-autoscaler @ ede4e617).
var strategyCases = []struct {
	name     string
	pins     string
	strategy string
	config   map[string]string
	count    int64
	metrics  []float64
	want     Direction
	wantN    int64 // checked when want != None
}{
	// target-value: plugins/builtin/strategy/target-value/plugin/plugin_test.go
	{"tv factor 1", "AS: factor equals 1 with non-zero count", StrategyTargetValue, map[string]string{"target": "13"}, 2, []float64{13}, None, 0},
	{"tv factor 2", "AS: factor greater than 1 with non-zero count", StrategyTargetValue, map[string]string{"target": "13"}, 2, []float64{26}, Up, 4},
	{"tv from 0", "AS: scale from 0 with non-zero target", StrategyTargetValue, map[string]string{"target": "10"}, 0, []float64{20}, Up, 2},
	{"tv small diff", "AS: no scaling based on small target/metric difference (ceil(1*0.9) = 1)", StrategyTargetValue, map[string]string{"target": "10"}, 1, []float64{9}, None, 0},
	{"tv queue from 0", "AS: scale from 0 with 0 target eg. build queue", StrategyTargetValue, map[string]string{"target": "0"}, 0, []float64{1}, Up, 1},
	{"tv queue to 0", "AS: scale to 0 with 0 target eg. idle build agents", StrategyTargetValue, map[string]string{"target": "0"}, 5, []float64{0}, Down, 0},
	{"tv dead band", "AS: don't scale when the factor change is small", StrategyTargetValue, map[string]string{"target": "5"}, 8, []float64{5.00001}, None, 0},
	{"tv tiny threshold", "AS: scale up on small changes if threshold is small", StrategyTargetValue, map[string]string{"target": "5", "threshold": "0.000001"}, 8, []float64{5.00001}, Up, 9},
	{"tv latest point", "AS: uses the latest of several data points", StrategyTargetValue, map[string]string{"target": "16"}, 2, []float64{13, 14, 15, 16}, None, 0},
	{"tv band edge inclusive", "AS: calculateDirection, dead band [1-e, 1+e] inclusive", StrategyTargetValue, map[string]string{"target": "100", "threshold": "0.25"}, 4, []float64{75}, None, 0},
	{"tv ceil on scale-down", "AS: new = ceil(count * factor)", StrategyTargetValue, map[string]string{"target": "70"}, 10, []float64{35.1}, Down, 6},
	{"tv max_scale_up", "AS: max_scale_up limits increase", StrategyTargetValue, map[string]string{"target": "10", "max_scale_up": "2"}, 4, []float64{40}, Up, 6},
	{"tv max_scale_down", "AS: max_scale_down limits decrease", StrategyTargetValue, map[string]string{"target": "10", "max_scale_down": "1"}, 8, []float64{1}, Down, 7},
	{"tv max_scale_up 0", "AS: max_scale_up = 0 pins the count, giving no action", StrategyTargetValue, map[string]string{"target": "10", "max_scale_up": "0"}, 4, []float64{40}, None, 0},
	{"tv count 0 zero metric", "AS: calculateDirection count 0 and factor 0 is none", StrategyTargetValue, map[string]string{"target": "10"}, 0, []float64{0}, None, 0},

	// threshold: plugins/builtin/strategy/threshold/plugin/plugin_test.go
	{"th lower inclusive", "AS: lower_bound is inclusive", StrategyThreshold, map[string]string{"lower_bound": "10", "delta": "-1"}, 1, []float64{10, 10, 10, 10, 10}, Down, 0},
	{"th upper exclusive", "AS: upper_bound is exclusive", StrategyThreshold, map[string]string{"upper_bound": "10", "delta": "-1"}, 1, []float64{10, 10, 10, 10, 10}, None, 0},
	{"th trigger not met", "AS: lower_bound is inclusive and upper_bound is exclusive/no action", StrategyThreshold, map[string]string{"lower_bound": "10", "upper_bound": "20", "delta": "1"}, 1, []float64{10, 10, 20, 20, 20}, None, 0},
	{"th trigger met", "AS: lower_bound is inclusive and upper_bound is exclusive/scale", StrategyThreshold, map[string]string{"lower_bound": "10", "upper_bound": "20", "delta": "1", "within_bounds_trigger": "2"}, 1, []float64{10, 10, 20, 20, 20}, Up, 2},
	{"th delta up", "AS: delta scale up", StrategyThreshold, map[string]string{"lower_bound": "5", "delta": "1"}, 1, []float64{10, 10, 10, 10, 10, 10}, Up, 2},
	{"th delta floor 0", "AS: delta scale down, no negative", StrategyThreshold, map[string]string{"lower_bound": "5", "delta": "-1"}, 0, []float64{10, 10, 10, 10, 10, 10}, None, 0},
	{"th percentage up", "AS: percentage scale up (ceil)", StrategyThreshold, map[string]string{"lower_bound": "5", "percentage": "25"}, 10, []float64{10, 10, 10, 10, 10, 10}, Up, 13},
	{"th percentage down", "AS: percentage scale down (ceil)", StrategyThreshold, map[string]string{"lower_bound": "5", "percentage": "-25"}, 10, []float64{10, 10, 10, 10, 10, 10}, Down, 8},
	{"th value", "AS: value scale up", StrategyThreshold, map[string]string{"lower_bound": "5", "value": "10"}, 1, []float64{10, 10, 10, 10, 10, 10}, Up, 10},
	{"th one nomad-apm point", "AS: default trigger 5 never fires on nomad-apm's single point", StrategyThreshold, map[string]string{"lower_bound": "5", "delta": "1"}, 1, []float64{10}, None, 0},

	// fixed-value: plugins/builtin/strategy/fixed-value/plugin
	{"fv up", "AS: fixed-value direction from comparison", StrategyFixedValue, map[string]string{"value": "5"}, 2, nil, Up, 5},
	{"fv none", "AS: fixed-value equal count is none", StrategyFixedValue, map[string]string{"value": "2"}, 2, nil, None, 0},
	{"fv down", "AS: fixed-value scale down", StrategyFixedValue, map[string]string{"value": "1"}, 3, nil, Down, 1},

	// pass-through: plugins/builtin/strategy/pass-through/plugin
	{"pt up", "AS: pass-through uses the metric", StrategyPassThrough, map[string]string{}, 2, []float64{7}, Up, 7},
	{"pt truncates", "AS: direction compares the float, count truncates (3.7 -> 3 votes up)", StrategyPassThrough, map[string]string{}, 3, []float64{3.7}, Up, 3},
	{"pt max_scale_down", "AS: max_scale_down applies on the way down", StrategyPassThrough, map[string]string{"max_scale_down": "2"}, 10, []float64{1}, Down, 8},
	{"pt max_scale_up", "AS: max_scale_up applies on the way up", StrategyPassThrough, map[string]string{"max_scale_up": "3"}, 1, []float64{10}, Up, 4},
}

func TestStrategies(t *testing.T) {
	for _, c := range strategyCases {
		t.Run(c.name, func(t *testing.T) {
			s, err := NewStrategy(&StrategySpec{Name: c.strategy, Config: c.config})
			if err != nil {
				t.Fatalf("config: %v", err)
			}
			d := s.Run(c.count, points(c.metrics...))
			if d.Direction != c.want {
				t.Fatalf("%s: direction = %s (%s), want %s", c.pins, d.Direction, d.Reason, c.want)
			}
			if c.want != None && d.Count != c.wantN {
				t.Errorf("%s: count = %d, want %d (trace %v)", c.pins, d.Count, c.wantN, d.Trace)
			}
			if c.want == None && d.Count != c.count {
				t.Errorf("a none decision must keep the count: got %d", d.Count)
			}
		})
	}
}

func TestNoDataPointsNoAction(t *testing.T) {
	for _, name := range []string{StrategyTargetValue, StrategyThreshold, StrategyPassThrough} {
		cfg := map[string]string{StrategyTargetValue: "target", StrategyThreshold: "lower_bound", StrategyPassThrough: ""}
		config := map[string]string{}
		if k := cfg[name]; k != "" {
			config[k] = "1"
		}
		if name == StrategyThreshold {
			config["delta"] = "1"
		}
		s, err := NewStrategy(&StrategySpec{Name: name, Config: config})
		if err != nil {
			t.Fatal(err)
		}
		if d := s.Run(3, nil); d.Direction != None || d.Count != 3 {
			t.Errorf("%s with no data: %+v, want none (AS: empty metrics return nil)", name, d)
		}
	}
}

func TestStrategyConfigErrors(t *testing.T) {
	cases := []struct {
		name   string
		spec   StrategySpec
		keys   []string // keys of the errors, "" for block-level
		detail string
	}{
		{"unknown key (AS issue #1213)", StrategySpec{StrategyThreshold, map[string]string{"higher_bound": "90", "lower_bound": "1", "delta": "1"}}, []string{"higher_bound"}, "would silently ignore it"},
		{"missing target", StrategySpec{StrategyTargetValue, map[string]string{}}, []string{""}, `needs "target"`},
		{"bad float", StrategySpec{StrategyTargetValue, map[string]string{"target": "seventy"}}, []string{"target"}, "must be a number"},
		{"negative limit", StrategySpec{StrategyPassThrough, map[string]string{"max_scale_up": "-1"}}, []string{"max_scale_up"}, "0 or more"},
		{"float limit (the 1e+06 trap)", StrategySpec{StrategyTargetValue, map[string]string{"target": "1", "max_scale_up": "1e+06"}}, []string{"max_scale_up"}, "whole number"},
		{"no bound", StrategySpec{StrategyThreshold, map[string]string{"delta": "1"}}, []string{""}, "lower_bound, upper_bound or both"},
		{"no action", StrategySpec{StrategyThreshold, map[string]string{"lower_bound": "1"}}, []string{""}, "exactly one of"},
		{"two actions", StrategySpec{StrategyThreshold, map[string]string{"lower_bound": "1", "delta": "1", "value": "3"}}, []string{"value"}, "delta and value"},
		{"negative value", StrategySpec{StrategyFixedValue, map[string]string{"value": "-2"}}, []string{"value"}, "0 or more"},
		{"unknown strategy", StrategySpec{"target-valeu", nil}, []string{""}, `did you mean "target-value"?`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewStrategy(&c.spec)
			var errs ConfigErrors
			if !errors.As(err, &errs) {
				t.Fatalf("want ConfigErrors, got %v", err)
			}
			var keys []string
			found := false
			for _, e := range errs {
				keys = append(keys, e.Key)
				found = found || strings.Contains(e.Detail, c.detail)
			}
			if diff := cmp.Diff(c.keys, keys); diff != "" {
				t.Errorf("error keys (-want +got):\n%s", diff)
			}
			if !found {
				t.Errorf("no error detail mentions %q: %v", c.detail, err)
			}
		})
	}
}

// TestPick pins policy/handler_test.go Test_pickWinnerActionFromGroups and
// sdk PreemptScalingAction.
func TestPick(t *testing.T) {
	none := Decision{Direction: None}
	up := Decision{Direction: Up, Count: 5}
	up7 := Decision{Direction: Up, Count: 7}
	down := Decision{Direction: Down, Count: 1}
	down3 := Decision{Direction: Down, Count: 3}
	cases := []struct {
		name  string
		votes []Vote
		want  string
	}{
		{"AS all_none_in_group", []Vote{{"A", "g1", none}, {"B", "g1", none}}, "A"},
		{"AS up_beats_none", []Vote{{"A", "g1", none}, {"B", "g1", up}}, "B"},
		{"AS down_beats_none (none ignored in a group)", []Vote{{"A", "g1", none}, {"B", "g1", down}}, "B"},
		{"AS up_beats_down", []Vote{{"A", "g1", down}, {"B", "g1", up}}, "B"},
		{"AS multiple_groups_up_wins", []Vote{{"A", "g1", none}, {"B", "g2", up}, {"C", "g2", down}}, "B"},
		{"ungrouped none beats down", []Vote{{"A", "", down}, {"B", "", none}}, "B"},
		{"higher up wins", []Vote{{"A", "", up}, {"B", "", up7}}, "B"},
		{"higher down wins (safest)", []Vote{{"A", "", down}, {"B", "", down3}}, "B"},
		{"tie keeps first", []Vote{{"A", "", up}, {"B", "", up}}, "A"},
		{"all-none group meets down group", []Vote{{"A", "g1", none}, {"B", "g2", down}}, "A"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, ok := Pick(c.votes)
			if !ok || w.Check != c.want {
				t.Errorf("winner = %q (ok %v), want %q", w.Check, ok, c.want)
			}
		})
	}
	if _, ok := Pick(nil); ok {
		t.Error("AS empty_input: no votes, no winner")
	}
}

func TestCapKeepsDirection(t *testing.T) {
	// AS sdk CapCount: direction is not recomputed after capping.
	d := Cap(Decision{Direction: Down, Count: 1}, 2, 10)
	if d.Direction != Down || d.Count != 2 {
		t.Errorf("got %+v, want down to 2", d)
	}
	if ScalingNeeded(d, 2) {
		t.Error("capped to the current count: no scaling needed")
	}
	if d := Cap(Decision{Direction: Up, Count: 40}, 2, 10); d.Count != 10 {
		t.Errorf("cap up: %d", d.Count)
	}
}

func TestAPMQuery(t *testing.T) {
	q, err := ParseNomadAPMQuery("avg_cpu-allocated", Target{Job: "api", Group: "web"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(APMQuery{Op: "avg", Metric: "cpu-allocated", Namespace: "default", Job: "api", Group: "web"}, q); diff != "" {
		t.Error(diff)
	}
	q, err = ParseNomadAPMQuery("taskgroup_max_memory/cache/redis@ops", Target{})
	if err != nil || q.Job != "redis" || q.Group != "cache" || q.Namespace != "ops" || q.Op != "max" {
		t.Errorf("full form: %+v %v", q, err)
	}
	for _, bad := range []string{"average_cpu", "avg_disk", "avg", "taskgroup_avg_cpu/g/job", "node_avg_cpu/g/j@ns"} {
		if err := ValidateNomadAPMQuery(bad); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

func TestLint(t *testing.T) {
	p := &Policy{Checks: []*Check{
		{Name: "band", Source: SourceNomadAPM, Query: "avg_cpu", Strategy: &StrategySpec{StrategyThreshold, map[string]string{"lower_bound": "5", "upper_bound": "5", "delta": "1", "within_bounds_trigger": "1"}}},
		{Name: "apm-trigger", Source: SourceNomadAPM, Query: "avg_cpu", Strategy: &StrategySpec{StrategyThreshold, map[string]string{"lower_bound": "80", "delta": "1"}}},
		{Name: "prom-ok", Source: SourcePrometheus, Query: "up", QueryWindow: time.Minute, Strategy: &StrategySpec{StrategyThreshold, map[string]string{"lower_bound": "80", "delta": "1", "within_bounds_trigger": "60"}}},
		{Name: "prom-too-many", Source: SourcePrometheus, Query: "up", QueryWindow: 30 * time.Second, Strategy: &StrategySpec{StrategyThreshold, map[string]string{"upper_bound": "90", "delta": "-1", "within_bounds_trigger": "40"}}},
	}}
	var got []string
	for _, f := range Lint(p) {
		got = append(got, f.Check+": "+f.Summary)
	}
	want := []string{
		"band: Threshold band can never fire",
		"apm-trigger: Threshold trigger can never be reached",
		"prom-too-many: Threshold trigger can never be reached",
		"prom-too-many: Threshold bands overlap",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if MaxPoints(&Check{Source: SourcePrometheus, QueryWindow: time.Minute}) != 61 || MaxPoints(&Check{Instant: true}) != 1 {
		t.Error("MaxPoints")
	}
}

package autoscale

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/drover-io/drover/pkg/scaling"
)

// series counts the sample lines of /metrics.
func series(t *testing.T, m *Metrics) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	n := 0
	for _, line := range strings.Split(string(body), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			n++
		}
	}
	return n, string(body)
}

func TestMetricsCardinalityIndependentOfPolicies(t *testing.T) {
	count := func(perPolicy bool, policies int) int {
		m := NewMetrics(perPolicy)
		for i := range policies {
			e := &scaling.Evaluation{Policy: fmt.Sprintf("p%d", i), Current: 2, Final: scaling.Decision{Count: 2}}
			m.Evaluated(e, time.Millisecond)
			m.Scaled(e.Policy, 2, 3, nil)
		}
		n, _ := series(t, m)
		return n
	}
	if a, b := count(false, 1), count(false, 500); a != b {
		t.Errorf("default metrics: %d series for 1 policy, %d for 500", a, b)
	}
	if a, b := count(true, 1), count(true, 500); b <= a {
		t.Errorf("per-policy metrics should grow: %d, %d", a, b)
	}
}

// TestMetricsCountProblems: a policy that cannot run is counted, as are
// the checks that cannot run.
func TestMetricsCountProblems(t *testing.T) {
	m := NewMetrics(false)
	bad, _ := scaling.ParseNomadPolicy(scaling.NomadPolicy{ID: "bad", Enabled: true, Max: 3, Policy: map[string]any{"on_check_error": "Fail"}})
	half, _ := scaling.ParseNomadPolicy(scaling.NomadPolicy{ID: "half", Enabled: true, Max: 3, Policy: map[string]any{"check": []any{
		map[string]any{"x": []any{map[string]any{"query": "q", "strategy": []any{map[string]any{"target-value": []any{map[string]any{"targett": "1"}}}}}}},
	}}})
	m.Policies([]*scaling.Policy{half}, []*scaling.Policy{bad})
	_, body := series(t, m)
	for _, want := range []string{`drover_autoscale_policies{state="refused"} 1`, `drover_autoscale_policies{state="running"} 1`, `drover_autoscale_policy_problems{level="check"}`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, body)
		}
	}
}

// TestMetricsExposition: /metrics parses as the Prometheus text format,
// each family with its HELP, its TYPE and its values, histograms with
// cumulative buckets, and label values escaped (a policy name may hold
// quotes, backslashes and line feeds).
func TestMetricsExposition(t *testing.T) {
	m := NewMetrics(true)
	odd := "a\"b\\c\nd"
	m.SetActive(true)
	m.Evaluated(&scaling.Evaluation{Policy: odd, Current: 2, Final: scaling.Decision{Direction: scaling.Up, Count: 3}}, 3*time.Millisecond)
	m.Evaluated(&scaling.Evaluation{Policy: "web", Current: 2, Final: scaling.Decision{Count: 2}}, 50*time.Microsecond)
	m.Evaluated(&scaling.Evaluation{Policy: "web", Err: "no data"}, time.Second)
	m.Scaled(odd, 2, 3, nil)
	m.Scaled("web", 3, 1, fmt.Errorf("refused"))
	m.Policies([]*scaling.Policy{{ID: "web"}}, nil)

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type = %q", ct)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("/metrics is not the Prometheus text format: %v", err)
	}
	kinds := map[string]dto.MetricType{
		"drover_autoscale_evaluations_total":          dto.MetricType_COUNTER,
		"drover_autoscale_evaluation_seconds":         dto.MetricType_HISTOGRAM,
		"drover_autoscale_scale_actions_total":        dto.MetricType_COUNTER,
		"drover_autoscale_policies":                   dto.MetricType_GAUGE,
		"drover_autoscale_policy_problems":            dto.MetricType_GAUGE,
		"drover_autoscale_leader":                     dto.MetricType_GAUGE,
		"drover_autoscale_policy_evaluations_total":   dto.MetricType_COUNTER,
		"drover_autoscale_policy_evaluation_seconds":  dto.MetricType_HISTOGRAM,
		"drover_autoscale_policy_scale_actions_total": dto.MetricType_COUNTER,
		"drover_autoscale_current_count":              dto.MetricType_GAUGE,
		"drover_autoscale_recommended_count":          dto.MetricType_GAUGE,
	}
	for name, kind := range kinds {
		f := fams[name]
		if f == nil {
			t.Errorf("no family %s", name)
			continue
		}
		if f.GetType() != kind || f.GetHelp() == "" {
			t.Errorf("%s: type %v, help %q; want type %v and a help text", name, f.GetType(), f.GetHelp(), kind)
		}
	}
	if len(fams) != len(kinds) {
		t.Errorf("%d families, want %d", len(fams), len(kinds))
	}
	value := func(name string, labels map[string]string) float64 {
		t.Helper()
		for _, s := range fams[name].GetMetric() {
			got := map[string]string{}
			for _, l := range s.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			if fmt.Sprint(got) != fmt.Sprint(labels) {
				continue
			}
			switch {
			case s.Counter != nil:
				return s.Counter.GetValue()
			case s.Gauge != nil:
				return s.Gauge.GetValue()
			case s.Histogram != nil:
				return float64(s.Histogram.GetSampleCount())
			}
		}
		t.Errorf("%s%v: no such series", name, labels)
		return -1
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"drover_autoscale_evaluations_total", map[string]string{"result": "scale"}, 1},
		{"drover_autoscale_evaluations_total", map[string]string{"result": "none"}, 1},
		{"drover_autoscale_evaluations_total", map[string]string{"result": "error"}, 1},
		{"drover_autoscale_evaluation_seconds", map[string]string{}, 3},
		{"drover_autoscale_scale_actions_total", map[string]string{"direction": "up", "result": "ok"}, 1},
		{"drover_autoscale_scale_actions_total", map[string]string{"direction": "down", "result": "error"}, 1},
		{"drover_autoscale_policies", map[string]string{"state": "running"}, 1},
		{"drover_autoscale_policies", map[string]string{"state": "refused"}, 0},
		{"drover_autoscale_leader", map[string]string{}, 1},
		{"drover_autoscale_policy_evaluations_total", map[string]string{"policy": odd, "result": "scale"}, 1},
		{"drover_autoscale_policy_evaluation_seconds", map[string]string{"policy": "web"}, 2},
		{"drover_autoscale_policy_scale_actions_total", map[string]string{"policy": odd, "direction": "up", "result": "ok"}, 1},
		{"drover_autoscale_current_count", map[string]string{"policy": odd}, 2},
		{"drover_autoscale_recommended_count", map[string]string{"policy": odd}, 3},
	} {
		if got := value(c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// Buckets are cumulative: 50µs falls in the first, 3 ms in the fourth
	// (0.0064), 1 s in the eighth (1.6384); +Inf holds all three.
	var h *dto.Histogram
	for _, s := range fams["drover_autoscale_evaluation_seconds"].GetMetric() {
		h = s.Histogram
	}
	var counts []uint64
	for _, b := range h.GetBucket() {
		counts = append(counts, b.GetCumulativeCount())
	}
	if want := []uint64{1, 1, 1, 2, 2, 2, 2, 3, 3, 3}; fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("buckets %v, want %v", counts, want)
	}
	if h.GetSampleSum() < 1.003 || h.GetSampleSum() > 1.0031 {
		t.Errorf("sum = %v, want 1.00305", h.GetSampleSum())
	}
}

// TestMetricsConcurrentUse: the reconciler records from every policy's
// goroutine while /metrics is scraped; no update is lost (and, under
// -race, none races).
func TestMetricsConcurrentUse(t *testing.T) {
	m := NewMetrics(true)
	const workers, each = 8, 200
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 20 {
			series(t, m)
		}
	}()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				e := &scaling.Evaluation{Policy: fmt.Sprintf("p%d", (w+i)%5), Current: 1, Final: scaling.Decision{Direction: scaling.Up, Count: 2}}
				m.Evaluated(e, time.Millisecond)
				m.Scaled(e.Policy, 1, 2, nil)
			}
		}()
	}
	wg.Wait()
	<-done
	_, body := series(t, m)
	for _, want := range []string{
		fmt.Sprintf(`drover_autoscale_evaluations_total{result="scale"} %d`, workers*each),
		fmt.Sprintf(`drover_autoscale_scale_actions_total{direction="up",result="ok"} %d`, workers*each),
		fmt.Sprintf("drover_autoscale_evaluation_seconds_count %d", workers*each),
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

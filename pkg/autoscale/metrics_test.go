package autoscale

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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

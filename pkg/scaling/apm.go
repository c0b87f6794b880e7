package scaling

import (
	"fmt"
	"strings"
)

// Nomad APM operations and metrics (plugins/builtin/apm/nomad/plugin).
const (
	APMOpAvg = "avg"
	APMOpSum = "sum"
	APMOpMax = "max"
	APMOpMin = "min"

	APMMetricCPU             = "cpu"
	APMMetricCPUAllocated    = "cpu-allocated"
	APMMetricMemory          = "memory"
	APMMetricMemoryAllocated = "memory-allocated"
)

var (
	apmOps     = []string{APMOpAvg, APMOpSum, APMOpMax, APMOpMin}
	apmMetrics = []string{APMMetricCPU, APMMetricCPUAllocated, APMMetricMemory, APMMetricMemoryAllocated}
)

// APMQuery is a parsed nomad-apm task-group query.
type APMQuery struct {
	Op, Metric            string
	Namespace, Job, Group string
}

// ParseNomadAPMQuery parses a nomad-apm query in its short form
// ("avg_cpu-allocated", expanded with the policy's target, as the
// Autoscaler's CanonicalizeAPMQuery does) or its full form
// ("taskgroup_avg_cpu/<group>/<job>@<namespace>").
func ParseNomadAPMQuery(q string, t Target) (APMQuery, error) {
	if !strings.Contains(q, "/") {
		op, metric, err := splitOpMetric(q)
		if err != nil {
			return APMQuery{}, err
		}
		ns := t.Namespace
		if ns == "" {
			ns = "default"
		}
		return APMQuery{Op: op, Metric: metric, Namespace: ns, Job: t.Job, Group: t.Group}, nil
	}
	parts := strings.SplitN(q, "/", 3)
	if len(parts) != 3 {
		return APMQuery{}, fmt.Errorf("expected taskgroup_<op>_<metric>/<group>/<job>@<namespace>, got %q", q)
	}
	at := strings.LastIndex(parts[2], "@")
	if at <= 0 || at == len(parts[2])-1 {
		return APMQuery{}, fmt.Errorf("query %q must end in <job>@<namespace>", q)
	}
	kind, rest, ok := strings.Cut(parts[0], "_")
	if !ok || kind != "taskgroup" {
		return APMQuery{}, fmt.Errorf("expected taskgroup_<op>_<metric> at the start of %q", q)
	}
	op, metric, err := splitOpMetric(rest)
	if err != nil {
		return APMQuery{}, err
	}
	return APMQuery{Op: op, Metric: metric, Group: parts[1], Job: parts[2][:at], Namespace: parts[2][at+1:]}, nil
}

// ValidateNomadAPMQuery reports whether q is a nomad-apm task-group query.
func ValidateNomadAPMQuery(q string) error {
	_, err := ParseNomadAPMQuery(q, Target{Job: "job", Group: "group"})
	return err
}

func splitOpMetric(s string) (op, metric string, err error) {
	op, metric, ok := strings.Cut(s, "_")
	if !ok {
		return "", "", fmt.Errorf("expected <op>_<metric> such as avg_cpu-allocated, got %q", s)
	}
	if !contains(apmOps, op) {
		return "", "", fmt.Errorf("unknown operation %q in %q; use one of %s", op, s, strings.Join(apmOps, ", "))
	}
	if !contains(apmMetrics, metric) {
		return "", "", fmt.Errorf("unknown metric %q in %q; use one of %s", metric, s, strings.Join(apmMetrics, ", "))
	}
	return op, metric, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// CanonicalizeAPMQueries expands the short nomad-apm queries of p
// ("avg_cpu") to the full form with p's target, as the Autoscaler's
// CanonicalizeAPMQuery does at load time.
func CanonicalizeAPMQueries(p *Policy) {
	for _, c := range p.Checks {
		if c.Source != SourceNomadAPM || c.Query == "" || strings.Contains(c.Query, "/") {
			continue
		}
		ns := p.Target.Namespace
		if ns == "" {
			ns = "default"
		}
		c.Query = fmt.Sprintf("taskgroup_%s/%s/%s@%s", c.Query, p.Target.Group, p.Target.Job, ns)
	}
}

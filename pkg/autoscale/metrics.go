package autoscale

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/drover-io/drover/pkg/scaling"
)

// Metrics are the reconciler's Prometheus metrics. By default their number
// of series does not grow with the number of policies; PerPolicy adds the
// per-policy series (about ten a policy).
//
// They are kept by VictoriaMetrics/metrics rather than client_golang:
// both write the Prometheus text format, but client_golang's package
// initialisation (its default registry's Go and process collectors,
// procfs, protobuf) costs every drover command about 1.5 ms at start-up,
// a fifth of `drover version` (bench/). Each family has its own Set, so
// that /metrics can carry the family's HELP and TYPE lines.
type Metrics struct {
	perPolicy   bool
	families    []*family
	evaluations *family
	duration    *family
	scales      *family
	policies    *family
	problems    *family
	leader      *metrics.Gauge
	active      atomic.Bool

	// Per-policy series, nil unless PerPolicy.
	policyEvaluations *family
	policyDuration    *family
	policyScales      *family
	current           *family
	desired           *family
}

var _ scaling.Recorder = (*Metrics)(nil)

// NewMetrics builds the metrics; perPolicy adds per-policy series.
func NewMetrics(perPolicy bool) *Metrics {
	m := &Metrics{perPolicy: perPolicy}
	m.evaluations = m.family("drover_autoscale_evaluations_total", "counter", "Policy evaluations by result: scale, none, skipped or error.", nil)
	m.duration = m.family("drover_autoscale_evaluation_seconds", "histogram", "Time to read a target's status and evaluate its policy.", exponentialBuckets(0.0001, 4, 9))
	m.scales = m.family("drover_autoscale_scale_actions_total", "counter", "Scaling actions by direction and result (ok or error).", nil)
	m.policies = m.family("drover_autoscale_policies", "gauge", "Policies by state: running, or refused (a problem stops the whole policy; see the log, lint or explain).", nil)
	m.problems = m.family("drover_autoscale_policy_problems", "gauge", "Problems of the loaded policies by level: policy (it cannot run), check (that check cannot run), warning.", nil)
	leader := m.family("drover_autoscale_leader", "gauge", "1 while this instance runs the policies (holds the lock in HA mode).", nil)
	m.leader = leader.gauge()
	if perPolicy {
		m.policyEvaluations = m.family("drover_autoscale_policy_evaluations_total", "counter", "Evaluations of each policy by result.", nil)
		m.policyDuration = m.family("drover_autoscale_policy_evaluation_seconds", "histogram", "Evaluation time of each policy.", exponentialBuckets(0.001, 4, 5))
		m.policyScales = m.family("drover_autoscale_policy_scale_actions_total", "counter", "Scaling actions of each policy by direction and result.", nil)
		m.current = m.family("drover_autoscale_current_count", "gauge", "The count each policy last scaled from.", nil)
		m.desired = m.family("drover_autoscale_recommended_count", "gauge", "The count each policy's last evaluation recommended.", nil)
	}
	return m
}

// SetActive records whether this instance runs the policies.
func (m *Metrics) SetActive(on bool) {
	m.active.Store(on)
	if on {
		m.leader.Set(1)
	} else {
		m.leader.Set(0)
	}
}

// Evaluated implements scaling.Recorder.
func (m *Metrics) Evaluated(e *scaling.Evaluation, took time.Duration) {
	result := "none"
	switch {
	case e.Err != "":
		result = "error"
	case e.Skipped != "":
		result = "skipped"
	case e.Scales():
		result = "scale"
	}
	m.evaluations.counter("result", result).Inc()
	m.duration.histogram().Update(took.Seconds())
	if !m.perPolicy {
		return
	}
	m.policyEvaluations.counter("policy", e.Policy, "result", result).Inc()
	m.policyDuration.histogram("policy", e.Policy).Update(took.Seconds())
	if e.Skipped == "" && e.Err == "" {
		m.current.gauge("policy", e.Policy).Set(float64(e.Current))
		m.desired.gauge("policy", e.Policy).Set(float64(e.Final.Count))
	}
}

// Scaled implements scaling.Recorder.
func (m *Metrics) Scaled(policy string, from, to int64, err error) {
	dir, result := "up", "ok"
	if to < from {
		dir = "down"
	}
	if err != nil {
		result = "error"
	}
	m.scales.counter("direction", dir, "result", result).Inc()
	if m.perPolicy {
		m.policyScales.counter("policy", policy, "direction", dir, "result", result).Inc()
	}
}

// Policies records the running and refused policies and their problems
// (scaling.Manager.Problems).
func (m *Metrics) Policies(running, refused []*scaling.Policy) {
	m.policies.gauge("state", "running").Set(float64(len(running)))
	m.policies.gauge("state", "refused").Set(float64(len(refused)))
	counts := map[scaling.Level]int{}
	for _, set := range [][]*scaling.Policy{running, refused} {
		for _, p := range set {
			for _, pr := range p.Problems {
				counts[pr.Level]++
			}
		}
	}
	for _, l := range []scaling.Level{scaling.LevelWarning, scaling.LevelCheck, scaling.LevelPolicy} {
		m.problems.gauge("level", l.String()).Set(float64(counts[l]))
	}
}

// Handler serves /metrics and /healthz.
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		var buf bytes.Buffer
		m.write(&buf)
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Write(buf.Bytes())
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		role := "standby"
		if m.active.Load() {
			role = "active"
		}
		fmt.Fprintf(w, "ok (%s)\n", role)
	})
	return mux
}

// write writes every family that has a series, in the Prometheus text
// format: HELP and TYPE, then its series.
func (m *Metrics) write(buf *bytes.Buffer) {
	for _, f := range m.families {
		if len(f.set.ListMetricNames()) == 0 {
			continue
		}
		fmt.Fprintf(buf, "# HELP %s %s\n# TYPE %s %s\n", f.name, escapeHelp(f.help), f.name, f.kind)
		f.set.WritePrometheus(buf)
	}
}

// family is one metric family and its series, each named by its labels.
type family struct {
	name, kind, help string
	buckets          []float64 // histograms' upper bounds
	set              *metrics.Set
}

func (m *Metrics) family(name, kind, help string, buckets []float64) *family {
	f := &family{name: name, kind: kind, help: help, buckets: buckets, set: metrics.NewSet()}
	m.families = append(m.families, f)
	return f
}

func (f *family) counter(labels ...string) *metrics.Counter {
	return f.set.GetOrCreateCounter(f.series(labels))
}

func (f *family) gauge(labels ...string) *metrics.Gauge {
	return f.set.GetOrCreateGauge(f.series(labels), nil)
}

func (f *family) histogram(labels ...string) *metrics.PrometheusHistogram {
	return f.set.GetOrCreatePrometheusHistogramExt(f.series(labels), f.buckets)
}

// series names the family's series with these label names and values
// (alternating): name{k="v",...}.
func (f *family) series(labels []string) string {
	if len(labels) == 0 {
		return f.name
	}
	var b strings.Builder
	b.WriteString(f.name)
	b.WriteByte('{')
	for i := 0; i+1 < len(labels); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(labels[i])
		b.WriteString(`="`)
		labelEscaper.WriteString(&b, labels[i+1])
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

// The text format's escapes: in label values a backslash, a double quote
// and a line feed; in HELP a backslash and a line feed.
var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

func escapeHelp(s string) string { return helpEscaper.Replace(s) }

// exponentialBuckets returns n upper bounds from start, each factor times
// the one before (client_golang's ExponentialBuckets).
func exponentialBuckets(start, factor float64, n int) []float64 {
	b := make([]float64, n)
	for i := range b {
		b[i] = start
		start *= factor
	}
	return b
}

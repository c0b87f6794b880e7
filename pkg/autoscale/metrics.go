package autoscale

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/drover-io/drover/pkg/scaling"
)

// Metrics are the reconciler's Prometheus metrics. By default their number
// of series does not grow with the number of policies; PerPolicy adds the
// per-policy series (about ten a policy).
type Metrics struct {
	registry    *prometheus.Registry
	perPolicy   bool
	evaluations *prometheus.CounterVec
	duration    prometheus.Histogram
	scales      *prometheus.CounterVec
	policies    *prometheus.GaugeVec
	problems    *prometheus.GaugeVec
	leader      prometheus.Gauge
	active      atomic.Bool

	// Per-policy series, nil unless PerPolicy.
	policyEvaluations *prometheus.CounterVec
	policyDuration    *prometheus.HistogramVec
	policyScales      *prometheus.CounterVec
	current           *prometheus.GaugeVec
	desired           *prometheus.GaugeVec
}

var _ scaling.Recorder = (*Metrics)(nil)

// NewMetrics builds the metrics; perPolicy adds per-policy series.
func NewMetrics(perPolicy bool) *Metrics {
	m := &Metrics{
		registry:  prometheus.NewRegistry(),
		perPolicy: perPolicy,
		evaluations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drover_autoscale_evaluations_total", Help: "Policy evaluations by result: scale, none, skipped or error.",
		}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "drover_autoscale_evaluation_seconds", Help: "Time to read a target's status and evaluate its policy.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 9),
		}),
		scales: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drover_autoscale_scale_actions_total", Help: "Scaling actions by direction and result (ok or error).",
		}, []string{"direction", "result"}),
		policies: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "drover_autoscale_policies", Help: "Policies by state: running, or refused (a problem stops the whole policy; see the log, lint or explain).",
		}, []string{"state"}),
		problems: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "drover_autoscale_policy_problems", Help: "Problems of the loaded policies by level: policy (it cannot run), check (that check cannot run), warning.",
		}, []string{"level"}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "drover_autoscale_leader", Help: "1 while this instance runs the policies (holds the lock in HA mode).",
		}),
	}
	m.registry.MustRegister(m.evaluations, m.duration, m.scales, m.policies, m.problems, m.leader)
	if perPolicy {
		m.policyEvaluations = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drover_autoscale_policy_evaluations_total", Help: "Evaluations of each policy by result.",
		}, []string{"policy", "result"})
		m.policyDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "drover_autoscale_policy_evaluation_seconds", Help: "Evaluation time of each policy.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 5),
		}, []string{"policy"})
		m.policyScales = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drover_autoscale_policy_scale_actions_total", Help: "Scaling actions of each policy by direction and result.",
		}, []string{"policy", "direction", "result"})
		m.current = prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "drover_autoscale_current_count", Help: "The count each policy last scaled from.",
		}, []string{"policy"})
		m.desired = prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "drover_autoscale_recommended_count", Help: "The count each policy's last evaluation recommended.",
		}, []string{"policy"})
		m.registry.MustRegister(m.policyEvaluations, m.policyDuration, m.policyScales, m.current, m.desired)
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
	m.evaluations.WithLabelValues(result).Inc()
	m.duration.Observe(took.Seconds())
	if !m.perPolicy {
		return
	}
	m.policyEvaluations.WithLabelValues(e.Policy, result).Inc()
	m.policyDuration.WithLabelValues(e.Policy).Observe(took.Seconds())
	if e.Skipped == "" && e.Err == "" {
		m.current.WithLabelValues(e.Policy).Set(float64(e.Current))
		m.desired.WithLabelValues(e.Policy).Set(float64(e.Final.Count))
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
	m.scales.WithLabelValues(dir, result).Inc()
	if m.perPolicy {
		m.policyScales.WithLabelValues(policy, dir, result).Inc()
	}
}

// Policies records the running and refused policies and their problems
// (scaling.Manager.Problems).
func (m *Metrics) Policies(running, refused []*scaling.Policy) {
	m.policies.WithLabelValues("running").Set(float64(len(running)))
	m.policies.WithLabelValues("refused").Set(float64(len(refused)))
	counts := map[scaling.Level]int{}
	for _, set := range [][]*scaling.Policy{running, refused} {
		for _, p := range set {
			for _, pr := range p.Problems {
				counts[pr.Level]++
			}
		}
	}
	for _, l := range []scaling.Level{scaling.LevelWarning, scaling.LevelCheck, scaling.LevelPolicy} {
		m.problems.WithLabelValues(l.String()).Set(float64(counts[l]))
	}
}

// Handler serves /metrics and /healthz.
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		role := "standby"
		if m.active.Load() {
			role = "active"
		}
		fmt.Fprintf(w, "ok (%s)\n", role)
	})
	return mux
}

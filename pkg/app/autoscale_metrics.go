package app

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/drover-io/drover/pkg/scaling"
)

// autoscaleMetrics are the reconciler's Prometheus metrics.
type autoscaleMetrics struct {
	registry    *prometheus.Registry
	evaluations *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	scales      *prometheus.CounterVec
	current     *prometheus.GaugeVec
	desired     *prometheus.GaugeVec
	leader      prometheus.Gauge
	active      atomic.Bool
}

// setActive records whether this instance runs the policies.
func (m *autoscaleMetrics) setActive(on bool) {
	m.active.Store(on)
	if on {
		m.leader.Set(1)
	} else {
		m.leader.Set(0)
	}
}

var _ scaling.Recorder = (*autoscaleMetrics)(nil)

func newAutoscaleMetrics() *autoscaleMetrics {
	m := &autoscaleMetrics{
		registry: prometheus.NewRegistry(),
		evaluations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drover_autoscale_evaluations_total", Help: "Policy evaluations by result: scale, none, skipped or error.",
		}, []string{"policy", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "drover_autoscale_evaluation_seconds", Help: "Time to read a target's status and evaluate its policy.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8),
		}, []string{"policy"}),
		scales: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drover_autoscale_scale_actions_total", Help: "Scaling actions by direction and result (ok or error).",
		}, []string{"policy", "direction", "result"}),
		current: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "drover_autoscale_current_count", Help: "The count each policy last scaled from.",
		}, []string{"policy"}),
		desired: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "drover_autoscale_recommended_count", Help: "The count each policy's last evaluation recommended.",
		}, []string{"policy"}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "drover_autoscale_leader", Help: "1 while this instance runs the policies (holds the lock in HA mode).",
		}),
	}
	m.registry.MustRegister(m.evaluations, m.duration, m.scales, m.current, m.desired, m.leader)
	return m
}

// Evaluated implements scaling.Recorder.
func (m *autoscaleMetrics) Evaluated(e *scaling.Evaluation, took time.Duration) {
	result := "none"
	switch {
	case e.Err != "":
		result = "error"
	case e.Skipped != "":
		result = "skipped"
	case e.Scales():
		result = "scale"
	}
	m.evaluations.WithLabelValues(e.Policy, result).Inc()
	m.duration.WithLabelValues(e.Policy).Observe(took.Seconds())
	if e.Skipped == "" && e.Err == "" {
		m.current.WithLabelValues(e.Policy).Set(float64(e.Current))
		m.desired.WithLabelValues(e.Policy).Set(float64(e.Final.Count))
	}
}

// Scaled implements scaling.Recorder.
func (m *autoscaleMetrics) Scaled(policy string, from, to int64, err error) {
	dir, result := "up", "ok"
	if to < from {
		dir = "down"
	}
	if err != nil {
		result = "error"
	}
	m.scales.WithLabelValues(policy, dir, result).Inc()
}

// handler serves /metrics and /healthz.
func (m *autoscaleMetrics) handler() http.Handler {
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

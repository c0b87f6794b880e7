package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/drover-io/drover/pkg/apm"
	"github.com/drover-io/drover/pkg/autoscale"
	"github.com/drover-io/drover/pkg/nomadx"
	"github.com/drover-io/drover/pkg/retry"
	"github.com/drover-io/drover/pkg/scaling"
	"github.com/hashicorp/cronexpr"
)

// AutoscaleOptions configure the reconciler.
type AutoscaleOptions struct {
	ClusterOptions
	// PolicyDir holds Autoscaler policy files (reloaded on Reload).
	PolicyDir string
	// Reload asks for the policy files to be read again (SIGHUP).
	Reload <-chan struct{}
	// NomadPolicies reads the scaling policies of Nomad's jobs.
	NomadPolicies bool
	// PrometheusAddr is the Prometheus server for source "prometheus".
	PrometheusAddr string
	// DryRun decides and logs but never scales.
	DryRun bool
	// Semantics overrides every policy's: "drover" or "autoscaler";
	// empty keeps each policy's own (drover by default).
	Semantics string
	// Concurrency bounds evaluations running at once.
	Concurrency int
	// Listen serves /metrics and /healthz (empty: no HTTP server).
	Listen string
	// HA runs only while holding the Nomad variable lock at LockPath.
	HA       bool
	LockPath string
	LockTTL  time.Duration
	// MetricsPerPolicy adds per-policy series to /metrics (about ten a
	// policy); by default their number does not grow with the policies.
	MetricsPerPolicy bool
	// Retry bounds retries of Nomad calls; retry.Default when zero.
	Retry retry.Policy
	// OnEvaluation sees every evaluation (tests).
	OnEvaluation func(*scaling.Evaluation)
}

// Defaults of the reconciler.
const (
	DefaultLockPath    = "drover/autoscale/lock"
	DefaultLockTTL     = time.Minute
	DefaultConcurrency = 10
)

// autoscaler is the wired reconciler.
type autoscaler struct {
	opts    AutoscaleOptions
	nomad   *autoscale.Nomad
	log     *slog.Logger
	metrics *autoscale.Metrics
}

// Autoscale runs the reconciler until ctx ends.
func Autoscale(ctx context.Context, opts AutoscaleOptions) error {
	a, err := newAutoscaler(opts)
	if err != nil {
		return err
	}
	if opts.Listen != "" {
		ln, err := net.Listen("tcp", opts.Listen)
		if err != nil {
			return fmt.Errorf("listen on %s for /metrics and /healthz: %w", opts.Listen, err)
		}
		srv := &http.Server{Handler: a.metrics.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		a.log.Info("serving /metrics and /healthz", "address", ln.Addr().String())
	}
	r := a.reconciler()
	if opts.HA {
		r.Locker, r.LockPath, r.LockTTL = a.nomad, a.opts.LockPath, a.opts.LockTTL
	}
	return r.Run(ctx)
}

func newAutoscaler(opts AutoscaleOptions) (*autoscaler, error) {
	if opts.LockPath == "" {
		opts.LockPath = DefaultLockPath
	}
	if opts.LockTTL == 0 {
		opts.LockTTL = DefaultLockTTL
	}
	if opts.Concurrency == 0 {
		opts.Concurrency = DefaultConcurrency
	}
	switch opts.Semantics {
	case "", scaling.SemanticsDrover, scaling.SemanticsAutoscaler:
	default:
		return nil, fmt.Errorf("semantics must be %q or %q", scaling.SemanticsDrover, scaling.SemanticsAutoscaler)
	}
	if !opts.NomadPolicies && opts.PolicyDir == "" {
		return nil, errors.New("no policies to run: read Nomad's (the default) or give a policy directory")
	}
	x, err := nomadx.New(opts.Config.Nomad, nomadx.Options{Logger: opts.logger(), Retry: opts.Retry})
	if err != nil {
		return nil, err
	}
	n, err := autoscale.NewNomad(opts.Config.Nomad, x, opts.Retry, opts.logger())
	if err != nil {
		return nil, err
	}
	a := &autoscaler{opts: opts, nomad: n, log: opts.logger(), metrics: autoscale.NewMetrics(opts.MetricsPerPolicy)}
	// A bad --prometheus-addr is refused here, before anything runs: an
	// evaluator without its sources would fail every evaluation.
	if _, err := a.evaluator(); err != nil {
		return nil, fmt.Errorf("--prometheus-addr: %w", err)
	}
	return a, nil
}

func (a *autoscaler) evaluator() (*scaling.Evaluator, error) {
	sources := map[string]scaling.MetricSource{scaling.SourceNomadAPM: &apm.NomadAPM{
		Nomad: func(ns string) apm.NomadReader { return a.nomad.X.InNamespace(ns) },
	}}
	if a.opts.PrometheusAddr != "" {
		p, err := apm.NewPrometheus(a.opts.PrometheusAddr)
		if err != nil {
			return nil, err
		}
		sources[scaling.SourcePrometheus] = p
	}
	return &scaling.Evaluator{Sources: sources, Schedule: cronSchedule}, nil
}

func (a *autoscaler) reconciler() *autoscale.Reconciler {
	ev, _ := a.evaluator() // checked by newAutoscaler
	var sources []scaling.PolicySource
	if a.opts.NomadPolicies {
		sources = append(sources, &autoscale.NomadSource{API: a.nomad, Log: a.log, Retry: a.opts.Retry, Prepare: a.prepare})
	}
	if a.opts.PolicyDir != "" {
		sources = append(sources, &autoscale.FileSource{Dir: a.opts.PolicyDir, Reload: a.opts.Reload, Log: a.log, Prepare: a.prepare})
	}
	return &autoscale.Reconciler{
		Sources: sources, Evaluator: ev, Metrics: a.metrics, Log: a.log,
		Target:      autoscale.NewTarget(a.nomad, autoscale.TargetOptions{Logger: a.log, Retry: a.opts.Retry}),
		Concurrency: a.opts.Concurrency, DryRun: a.opts.DryRun, OnEvaluation: a.opts.OnEvaluation,
	}
}

// prepare completes a loaded policy: full nomad-apm queries, and the
// semantics override.
func (a *autoscaler) prepare(p *scaling.Policy) {
	scaling.CanonicalizeAPMQueries(p)
	if a.opts.Semantics != "" {
		p.ApplySemantics(a.opts.Semantics)
	}
	p.RequireSources(map[string]bool{scaling.SourceNomadAPM: true, scaling.SourcePrometheus: a.opts.PrometheusAddr != ""})
}

// cronSchedule is the Autoscaler's schedule window (policy/schedule.go):
// open from each start until the next end, or for duration after a start.
func cronSchedule(s *scaling.Schedule, at time.Time) (bool, error) {
	start, err := cronexpr.Parse(s.Start)
	if err != nil {
		return false, fmt.Errorf("start: %w", err)
	}
	at = at.UTC()
	if s.End == "" {
		next := start.Next(at.Add(-s.Duration).Add(time.Nanosecond))
		return !next.After(at), nil
	}
	end, err := cronexpr.Parse(s.End)
	if err != nil {
		return false, fmt.Errorf("end: %w", err)
	}
	lastStart, ok := lastAtOrBefore(start, at)
	if !ok {
		return false, nil
	}
	lastEnd, ok := lastAtOrBefore(end, at)
	if !ok {
		return true, nil
	}
	return lastStart.After(lastEnd), nil
}

// lastAtOrBefore finds a cron expression's last occurrence at or before
// at, by bisection (cronexpr only looks forward).
func lastAtOrBefore(expr *cronexpr.Expression, at time.Time) (time.Time, bool) {
	from := at.AddDate(-1, 0, 0)
	first := expr.Next(from.Add(-time.Nanosecond))
	if first.IsZero() || first.After(at) {
		return time.Time{}, false
	}
	lo, hi := from.UnixNano()-1, at.UnixNano()
	last := first
	for lo <= hi {
		mid := lo + (hi-lo)/2
		next := expr.Next(time.Unix(0, mid).UTC())
		if !next.After(at) {
			last = next
			lo = mid + 1
		} else {
			hi = mid - 1
		}
	}
	return last, true
}

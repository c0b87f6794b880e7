package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"time"

	"github.com/hashicorp/cronexpr"
	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/pkg/apierr"
	"github.com/drover-io/drover/pkg/apm"
	"github.com/drover-io/drover/pkg/nomadx"
	"github.com/drover-io/drover/pkg/retry"
	"github.com/drover-io/drover/pkg/scaling"
	"github.com/drover-io/drover/pkg/spec"
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
	nomad   *nomadx.Client
	log     *slog.Logger
	metrics *autoscaleMetrics
}

// Autoscale runs the reconciler until ctx ends.
func Autoscale(ctx context.Context, opts AutoscaleOptions) error {
	a, err := newAutoscaler(opts)
	if err != nil {
		return err
	}
	var srv *http.Server
	if opts.Listen != "" {
		ln, err := net.Listen("tcp", opts.Listen)
		if err != nil {
			return fmt.Errorf("listen on %s for /metrics and /healthz: %w", opts.Listen, err)
		}
		srv = &http.Server{Handler: a.metrics.handler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		a.log.Info("serving /metrics and /healthz", "address", ln.Addr().String())
	}
	run := func(ctx context.Context) error {
		a.metrics.setActive(true)
		defer a.metrics.setActive(false)
		a.log.Info("reconciler active")
		a.manager().Run(ctx)
		return nil
	}
	if !opts.HA {
		return run(ctx)
	}
	a.log.Info("waiting for the leadership lock", "path", a.opts.LockPath, "ttl", a.opts.LockTTL)
	return a.nomad.WithLock(ctx, a.opts.LockPath, a.opts.LockTTL, run)
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
	n, err := nomadx.New(opts.Config.Nomad, nomadx.Options{Logger: opts.logger()})
	if err != nil {
		return nil, err
	}
	return &autoscaler{opts: opts, nomad: n, log: opts.logger(), metrics: newAutoscaleMetrics()}, nil
}

func (a *autoscaler) evaluator() (*scaling.Evaluator, error) {
	sources := map[string]scaling.MetricSource{scaling.SourceNomadAPM: &apm.NomadAPM{
		Nomad: func(ns string) apm.NomadReader { return a.nomad.InNamespace(ns) },
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

func (a *autoscaler) manager() *scaling.Manager {
	ev, err := a.evaluator()
	if err != nil {
		a.log.Error("metric sources", "error", err)
	}
	limiter := scaling.NewLimiter(a.opts.Concurrency)
	scaler := &nomadScaler{nomad: a.nomad}
	var sources []scaling.PolicySource
	if a.opts.NomadPolicies {
		sources = append(sources, &nomadPolicySource{nomad: a.nomad, log: a.log, prepare: a.prepare})
	}
	if a.opts.PolicyDir != "" {
		sources = append(sources, &filePolicySource{dir: a.opts.PolicyDir, reload: a.opts.Reload, log: a.log, prepare: a.prepare})
	}
	return &scaling.Manager{Sources: sources, Logger: a.log, NewHandler: func(p *scaling.Policy) *scaling.Handler {
		return scaling.NewHandler(p, scaling.HandlerOptions{
			Evaluator: ev, Scaler: scaler, Limiter: limiter, DryRun: a.opts.DryRun, Logger: a.log, Recorder: a.metrics,
		})
	}}
}

// prepare completes a loaded policy: full nomad-apm queries, and the
// semantics override.
func (a *autoscaler) prepare(p *scaling.Policy) {
	scaling.CanonicalizeAPMQueries(p)
	switch a.opts.Semantics {
	case scaling.SemanticsAutoscaler:
		p.Behavior = scaling.AutoscalerBehavior()
	case scaling.SemanticsDrover:
		if !p.Behavior.Drover() {
			p.Behavior = scaling.DefaultBehavior()
		}
	}
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

// nomadScaler is the Nomad task-group target.
type nomadScaler struct {
	nomad *nomadx.Client
}

var _ scaling.Scaler = (*nomadScaler)(nil)

// Status reads the group's counts and last scaling event from
// /v1/job/:id/scale and whether a deployment is active.
func (s *nomadScaler) Status(ctx context.Context, t scaling.Target) (*scaling.TargetStatus, error) {
	nomad := s.nomad.InNamespace(t.Namespace)
	ss, err := nomad.ScaleStatus(ctx, t.Job)
	if errors.Is(err, apierr.ErrNotFound) {
		return &scaling.TargetStatus{}, nil
	} else if err != nil {
		return nil, err
	}
	g, ok := ss.TaskGroups[t.Group]
	if !ok {
		return &scaling.TargetStatus{}, nil
	}
	// The scale status reports the job's ModifyIndex, which also moves when
	// a deployment marks the job stable; the scale's check-and-set compares
	// with JobModifyIndex, so read that.
	jobIndex, err := nomad.JobModifyIndex(ctx, t.Job)
	if errors.Is(err, apierr.ErrNotFound) {
		return &scaling.TargetStatus{}, nil
	} else if err != nil {
		return nil, err
	}
	st := &scaling.TargetStatus{
		Desired: int64(g.Desired), Running: int64(g.Running),
		Ready: !ss.JobStopped, JobModifyIndex: jobIndex,
		LastEvent: lastScalingEvent(g.Events),
	}
	d, _, err := nomad.LatestDeployment(ctx, t.Job, 0)
	if err != nil {
		return nil, err
	}
	st.DeploymentActive = d != nil && deploymentActive(d.Status)
	return st, nil
}

func deploymentActive(status string) bool {
	switch status {
	case nomadapi.DeploymentStatusRunning, nomadapi.DeploymentStatusPending, nomadapi.DeploymentStatusPaused,
		nomadapi.DeploymentStatusBlocked, nomadapi.DeploymentStatusUnblocking:
		return true
	}
	return false
}

// lastScalingEvent is the newest event that changed the count.
func lastScalingEvent(events []nomadapi.ScalingEvent) *scaling.LastEvent {
	var last *scaling.LastEvent
	for _, ev := range events {
		if ev.Count == nil || ev.Error {
			continue
		}
		at := time.Unix(0, int64(ev.Time))
		if last != nil && !at.After(last.Time) {
			continue
		}
		dir := scaling.Down
		if *ev.Count > ev.PreviousCount {
			dir = scaling.Up
		}
		last = &scaling.LastEvent{Time: at, Direction: dir}
	}
	return last
}

// Scale sets the count, check-and-set on the job's modify index; Nomad's
// refusal during a deployment is a no-op, not a failure.
func (s *nomadScaler) Scale(ctx context.Context, t scaling.Target, a scaling.Action) error {
	_, err := s.nomad.InNamespace(t.Namespace).Scale(ctx, t.Job, nomadx.ScaleRequest{
		Group: t.Group, Count: a.Count, Message: a.Reason, Meta: a.Meta, JobModifyIndex: a.JobModifyIndex,
	})
	switch {
	case nomadx.IsDeploymentActive(err):
		return &scaling.NoOpError{Reason: "job scaling blocked due to active deployment"}
	case errors.Is(err, apierr.ErrConflict):
		// The job changed since it was read: decide again next time.
		return &scaling.NoOpError{Reason: "the job changed since it was evaluated"}
	}
	return err
}

// nomadPolicySource watches Nomad's scaling policies with blocking queries.
type nomadPolicySource struct {
	nomad   *nomadx.Client
	log     *slog.Logger
	prepare func(*scaling.Policy)
}

func (s *nomadPolicySource) Name() string { return "nomad" }

// Watch follows the policies list with blocking queries (same index: no
// change; index went backwards: start over), reading each policy again only
// when its ModifyIndex changes, and backs off on errors.
func (s *nomadPolicySource) Watch(ctx context.Context, out chan<- []*scaling.Policy) {
	type cached struct {
		modify uint64
		policy *scaling.Policy
	}
	cache := map[string]cached{}
	var index uint64
	failures := 0
	for ctx.Err() == nil {
		stubs, idx, err := s.nomad.ScalingPolicies(ctx, index)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			wait := retry.Default.Backoff(min(failures, 6))
			s.log.Warn("reading scaling policies failed", "error", err, "retry_in", wait)
			sleep(ctx, wait)
			continue
		}
		failures = 0
		switch {
		case idx < index:
			index = 0 // the index went backwards (a new leader, a restore)
			continue
		case idx == index:
			continue // the wait timed out with no change
		}
		index = idx
		next := map[string]cached{}
		for _, st := range stubs {
			if !st.Enabled || (st.Type != "" && st.Type != "horizontal") {
				continue
			}
			if c, ok := cache[st.ID]; ok && c.modify == st.ModifyIndex {
				next[st.ID] = c
				continue
			}
			np, err := s.nomad.ScalingPolicy(ctx, st.ID)
			if err != nil {
				s.log.Warn("reading a scaling policy failed", "policy_id", st.ID, "error", err)
				continue
			}
			p, err := fromNomad(np)
			if err != nil {
				s.log.Warn("ignoring an invalid scaling policy", "policy_id", st.ID, "error", err)
				continue
			}
			s.prepare(p)
			next[st.ID] = cached{modify: st.ModifyIndex, policy: p}
		}
		cache = next
		policies := make([]*scaling.Policy, 0, len(cache))
		for _, c := range cache {
			policies = append(policies, c.policy)
		}
		sort.Slice(policies, func(i, j int) bool { return policies[i].ID < policies[j].ID })
		select {
		case out <- policies:
		case <-ctx.Done():
			return
		}
	}
}

// fromNomad converts and validates a policy read from Nomad.
func fromNomad(np *nomadapi.ScalingPolicy) (*scaling.Policy, error) {
	in := scaling.NomadPolicy{ID: np.ID, Type: np.Type, Target: np.Target, Policy: np.Policy}
	if np.Enabled != nil {
		in.Enabled = *np.Enabled
	}
	if np.Min != nil {
		in.Min = *np.Min
	}
	if np.Max != nil {
		in.Max = *np.Max
	}
	p, err := scaling.ParseNomadPolicy(in)
	if err != nil {
		return nil, err
	}
	for _, c := range p.Checks {
		if _, err := scaling.NewStrategy(c.Strategy); err != nil {
			return nil, fmt.Errorf("check %q: %w", c.Name, err)
		}
	}
	return p, nil
}

// filePolicySource reads a directory of Autoscaler policy files, again on
// every reload signal.
type filePolicySource struct {
	dir     string
	reload  <-chan struct{}
	log     *slog.Logger
	prepare func(*scaling.Policy)
}

func (s *filePolicySource) Name() string { return "files" }

func (s *filePolicySource) Watch(ctx context.Context, out chan<- []*scaling.Policy) {
	for {
		pf, diags := spec.LoadPolicyFiles(s.dir)
		for _, d := range diags {
			s.log.Warn("policy file problem", "diagnostic", d.Error())
		}
		var policies []*scaling.Policy
		if pf != nil {
			for _, p := range pf.Policies {
				s.prepare(p)
				policies = append(policies, p)
			}
		}
		s.log.Info("policy files loaded", "dir", s.dir, "policies", len(policies))
		select {
		case out <- policies:
		case <-ctx.Done():
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-s.reload:
			s.log.Info("reloading policy files")
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

package autoscale

import (
	"context"
	"log/slog"
	"time"

	"github.com/drover-io/drover/pkg/scaling"
)

// Reconciler wires sources, the evaluator and the target into pkg/scaling's
// manager and runs it, under a lock when Locker is set.
type Reconciler struct {
	Sources   []scaling.PolicySource
	Evaluator *scaling.Evaluator
	Target    *Target
	Metrics   *Metrics
	Log       *slog.Logger
	// Concurrency bounds evaluations running at once.
	Concurrency int
	DryRun      bool
	Clock       scaling.Clock
	// Locker, when set, makes the reconciler act only while it holds the
	// lock at LockPath, which expires LockTTL after its last renewal.
	Locker   Locker
	LockPath string
	LockTTL  time.Duration
	// OnEvaluation sees every evaluation (tests, benchmarks).
	OnEvaluation func(*scaling.Evaluation)
}

// Run runs until ctx ends.
func (r *Reconciler) Run(ctx context.Context) error {
	log := r.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	run := func(ctx context.Context) error {
		r.Metrics.SetActive(true)
		defer r.Metrics.SetActive(false)
		log.Info("reconciler active")
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		done := make(chan struct{})
		go func() {
			defer close(done)
			r.Target.Run(ctx)
		}()
		r.Manager(ctx, log).Run(ctx)
		cancel()
		<-done
		return nil
	}
	if r.Locker == nil {
		return run(ctx)
	}
	log.Info("waiting for the leadership lock", "path", r.LockPath, "ttl", r.LockTTL)
	return r.Locker.WithLock(ctx, r.LockPath, r.LockTTL, run)
}

// Manager builds the manager of the reconciler's policies; its handlers'
// ticks run on a pool of Concurrency goroutines until ctx ends.
func (r *Reconciler) Manager(ctx context.Context, log *slog.Logger) *scaling.Manager {
	limiter := scaling.NewLimiter(r.Concurrency)
	pool := scaling.NewPool(ctx, max(r.Concurrency, 1))
	return &scaling.Manager{Sources: r.Sources, Logger: log, Problems: r.Metrics.Policies, NewHandler: func(p *scaling.Policy) *scaling.Handler {
		return scaling.NewHandler(p, scaling.HandlerOptions{
			Evaluator: r.Evaluator, Scaler: r.Target, Limiter: limiter, DryRun: r.DryRun, Logger: log, Recorder: r.Metrics,
			Clock: r.Clock, OnEvaluation: r.OnEvaluation, Pool: pool,
		})
	}}
}

package scaling

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Recorder observes a handler's work, for metrics. Implementations must
// be safe for concurrent use.
type Recorder interface {
	Evaluated(e *Evaluation, took time.Duration)
	Scaled(policy string, from, to int64, err error)
}

// Limiter bounds how many handlers evaluate or scale at once.
type Limiter chan struct{}

// NewLimiter allows n at once.
func NewLimiter(n int) Limiter { return make(Limiter, max(n, 1)) }

func (l Limiter) acquire(ctx context.Context) error {
	select {
	case l <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l Limiter) release() { <-l }

// Handler runs one policy until its context ends:
//
//	       ┌──────────── every evaluation_interval ─────────────┐
//	       v                                                    │
//	[idle] ─ slot ─> status ─> evaluate ─> no change ───────────┤
//	                             │                              │
//	                             ├─> change, in cooldown ─ log ─┤
//	                             └─> change ─> scale ─> [cooldown until now+cooldown]
//	                                             └─> no-op (deployment active): no cooldown
//
// A newer policy (Update) replaces the current one between ticks.
type Handler struct {
	policy  *Policy
	eval    *Evaluator
	scaler  Scaler
	limiter Limiter
	dryRun  bool
	log     *slog.Logger
	rec     Recorder
	updates chan *Policy
	state   State
	// onEvaluation, when set, sees every evaluation (tests, explain).
	onEvaluation func(*Evaluation)
	clock        Clock
	pool         *Pool
}

// HandlerOptions configure a Handler.
type HandlerOptions struct {
	Evaluator *Evaluator
	Scaler    Scaler
	Limiter   Limiter
	// DryRun decides and logs but never scales.
	DryRun   bool
	Logger   *slog.Logger
	Recorder Recorder
	// OnEvaluation sees every evaluation.
	OnEvaluation func(*Evaluation)
	// Clock is the real one when nil.
	Clock Clock
	// Pool, when set, runs the ticks (see Pool); nil runs them on the
	// handler's own goroutine.
	Pool *Pool
}

// NewHandler returns a handler for p.
func NewHandler(p *Policy, o HandlerOptions) *Handler {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	lim := o.Limiter
	if lim == nil {
		lim = NewLimiter(1)
	}
	clock := o.Clock
	if clock == nil {
		clock = RealClock{}
	}
	return &Handler{
		clock:  clock,
		pool:   o.Pool,
		policy: p, eval: o.Evaluator, scaler: o.Scaler, limiter: lim, dryRun: o.DryRun,
		log: log.With("policy_id", p.ID, "job", p.Target.Job, "group", p.Target.Group),
		rec: o.Recorder, updates: make(chan *Policy, 1), onEvaluation: o.OnEvaluation,
	}
}

// Update hands the handler a newer version of its policy.
func (h *Handler) Update(p *Policy) {
	select {
	case <-h.updates: // drop an update not yet taken: the newest wins
	default:
	}
	h.updates <- p
}

// Run evaluates the policy every evaluation interval until ctx ends.
func (h *Handler) Run(ctx context.Context) {
	interval := safeInterval(h.policy.EvaluationInterval)
	ticker := h.clock.NewTicker(interval)
	defer ticker.Stop()
	h.log.Info("policy handler started", "evaluation_interval", interval)
	for {
		select {
		case <-ctx.Done():
			h.log.Info("policy handler stopped")
			return
		case p := <-h.updates:
			h.policy = p
			if next := safeInterval(p.EvaluationInterval); next != interval {
				interval = next
				ticker.Reset(interval)
			}
			h.log.Info("policy updated")
		case <-ticker.C():
			var err error
			if h.pool != nil {
				h.pool.Do(ctx, func() { err = h.Tick(ctx) })
			} else {
				err = h.Tick(ctx)
			}
			if err != nil && ctx.Err() == nil {
				h.log.Warn("evaluation failed", "error", err)
			}
		}
	}
}

// Tick runs one evaluation, and the scale it calls for.
func (h *Handler) Tick(ctx context.Context) error {
	if err := h.limiter.acquire(ctx); err != nil {
		return err
	}
	defer h.limiter.release()
	p := h.policy
	start := h.clock.Now()
	status, err := h.scaler.Status(ctx, p.Target)
	if err != nil {
		return fmt.Errorf("read the status of %s/%s: %w", p.Target.Job, p.Target.Group, err)
	}
	if status != nil && p.Behavior.Drover() {
		// Scaling events made outside the reconciler (a manual scale, an
		// earlier instance) hold it in cooldown. The Autoscaler reads them
		// only when its handler starts, and then its tick leaves the
		// cooldown at once, since no cooldown end was ever set
		// (policy/handler.go NewPolicyHandler and Run): they never hold it.
		h.state.ObserveEvent(p, status.LastEvent)
	}
	now := h.clock.Now()
	e := h.eval.Evaluate(ctx, p, &h.state, status, now)
	if h.rec != nil {
		h.rec.Evaluated(e, h.clock.Now().Sub(start))
	}
	if h.onEvaluation != nil {
		h.onEvaluation(e)
	}
	switch {
	case e.Err != "":
		return errors.New(e.Err)
	case e.Skipped != "":
		h.log.Debug("evaluation skipped", "reason", e.Skipped)
		return nil
	case !e.Scales():
		h.log.Debug("no scaling needed", "count", e.Current, "reason", e.Final.Reason)
		return nil
	}
	if now.Before(h.state.CooldownUntil) {
		h.log.Info("skipping scaling, policy still on cooldown", "remaining", h.state.CooldownUntil.Sub(now).Round(time.Second),
			"from", e.Current, "to", e.Final.Count)
		return nil
	}
	a := Action{
		Count: e.Final.Count, Direction: e.Final.Direction, Reason: e.Final.Reason,
		Meta: actionMeta(e), JobModifyIndex: status.JobModifyIndex,
	}
	if h.dryRun {
		h.log.Info("dry run: would scale", "from", e.Current, "to", a.Count, "reason", a.Reason)
		return nil
	}
	err = h.scaler.Scale(ctx, p.Target, a)
	if h.rec != nil {
		h.rec.Scaled(p.ID, e.Current, a.Count, err)
	}
	var noop *NoOpError
	switch {
	case errors.As(err, &noop):
		h.log.Info("scaling was a no-op, no cooldown", "reason", noop.Reason)
		return nil
	case err != nil:
		return fmt.Errorf("scale %s/%s to %d: %w", p.Target.Job, p.Target.Group, a.Count, err)
	}
	h.state.Scaled(p, e, now)
	h.log.Info("scaled", "from", e.Current, "to", a.Count, "reason", a.Reason, "cooldown", cooldownFor(p, a.Direction))
	return nil
}

// actionMeta records why a scale happened with the scaling event, so
// Nomad's history of the group says what drover saw.
func actionMeta(e *Evaluation) map[string]any {
	m := map[string]any{
		"drover.policy":  e.Policy,
		"drover.reason":  e.Final.Reason,
		"drover.current": e.Current,
		"drover.winner":  e.Winner,
	}
	for _, c := range e.Checks {
		if c.Check == e.Winner && len(c.Points) > 0 {
			m["drover.metric"] = c.Points[len(c.Points)-1].Value
			m["drover.points"] = len(c.Points)
		}
	}
	if len(e.Trace) > 0 {
		m["drover.trace"] = e.Trace
	}
	return m
}

package scaling

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"
)

// TimeRange is the window a metric query covers.
type TimeRange struct {
	From, To time.Time
}

// MetricSource answers metric queries (prometheus, nomad-apm, ...).
type MetricSource interface {
	// Query returns the data points of the window, in any order. An empty
	// result with a nil error means "no data".
	Query(ctx context.Context, query string, r TimeRange) ([]DataPoint, error)
}

// LastEvent is the most recent scaling event of a group, whoever made it.
type LastEvent struct {
	Time      time.Time `json:"time"`
	Direction Direction `json:"direction"`
}

// TargetStatus is the state of a policy's task group.
type TargetStatus struct {
	// Desired is the group's count; Running counts running allocations.
	Desired int64 `json:"desired"`
	Running int64 `json:"running"`
	// Ready is false when the job is missing or stopped.
	Ready bool `json:"ready"`
	// DeploymentActive is true while a deployment of the job runs.
	DeploymentActive bool `json:"deployment_active"`
	// LastEvent is the latest scaling event, if any: cooldown continues
	// from it after a restart or a manual scale.
	LastEvent *LastEvent `json:"last_event,omitempty"`
	// JobModifyIndex makes the scale check-and-set.
	JobModifyIndex uint64 `json:"job_modify_index"`
}

// Action is a scale to perform.
type Action struct {
	Count     int64
	Direction Direction
	Reason    string
	// Meta is recorded with Nomad's scaling event: the reason and inputs.
	Meta           map[string]any
	JobModifyIndex uint64
}

// Scaler reads and sets a task group's count (the Nomad target).
type Scaler interface {
	// Status returns the group's state; ok is false when the target does
	// not exist.
	Status(ctx context.Context, t Target) (*TargetStatus, error)
	// Scale sets the count. A refusal that is not an error (Nomad's
	// "scaling blocked due to active deployment") is a *NoOpError.
	Scale(ctx context.Context, t Target, a Action) error
}

// NoOpError is a scale the target declined without failing: no cooldown
// follows it.
type NoOpError struct{ Reason string }

func (e *NoOpError) Error() string { return "scaling was a no-op: " + e.Reason }

// ScheduleFunc tells whether a schedule's window is open at a time.
type ScheduleFunc func(s *Schedule, at time.Time) (bool, error)

// State is what a policy's evaluations remember between ticks.
type State struct {
	// CooldownUntil: no scaling before it.
	CooldownUntil time.Time
	// recommendations feed stabilization windows; events feed rate limits.
	recommendations []recommendation
	events          []scaleEvent
}

type recommendation struct {
	at    time.Time
	count int64
}

// CheckResult is one check's part of an evaluation.
type CheckResult struct {
	Check    string `json:"check"`
	Group    string `json:"group,omitempty"`
	Strategy string `json:"strategy"`
	// Source and Query are empty for a strategy that reads no metric.
	Source string `json:"source,omitempty"`
	Query  string `json:"query,omitempty"`
	// Points are the data points the strategy saw (oldest first).
	Points   []DataPoint `json:"points,omitempty"`
	Decision Decision    `json:"decision"`
	// Skipped says why the check did not vote (outside schedule, metric
	// failure ignored); Err is a failure that stopped the evaluation.
	Skipped string `json:"skipped,omitempty"`
	Err     string `json:"error,omitempty"`
}

// Evaluation is everything one evaluation saw and decided, for logs,
// `drover autoscale explain` and the simulator.
type Evaluation struct {
	Policy string    `json:"policy"`
	Time   time.Time `json:"time"`
	// Current is the count the strategies scaled from: the desired count
	// (drover) or the running count (Autoscaler semantics).
	Current int64         `json:"current"`
	Status  *TargetStatus `json:"status,omitempty"`
	// Skipped says why no decision was made at all.
	Skipped string        `json:"skipped,omitempty"`
	Checks  []CheckResult `json:"checks,omitempty"`
	// Winner is the check whose vote won; empty when none voted.
	Winner string `json:"winner,omitempty"`
	// Final is the decision after stabilization and rate limits.
	Final Decision `json:"final"`
	// Trace explains the policy-level steps: winner rule, stabilization,
	// rate limits.
	Trace []string `json:"trace,omitempty"`
	// RateLimited is true when a rate limit cut the change short: the rest
	// may follow once the rate's period allows, before the full cooldown.
	RateLimited bool `json:"rate_limited,omitempty"`
	// Err is a failure that aborted the evaluation (metric source down with
	// on_check_error = "fail", or any failure in Autoscaler semantics).
	Err string `json:"error,omitempty"`
}

// Scales reports whether the evaluation asks for a new count.
func (e *Evaluation) Scales() bool {
	return e.Skipped == "" && e.Err == "" && ScalingNeeded(e.Final, e.Current)
}

// Evaluator evaluates policies. It holds no per-policy state (that is
// State) and never scales: the Handler and the simulator do.
type Evaluator struct {
	Sources  map[string]MetricSource
	Schedule ScheduleFunc
}

// errNoData is an empty query result.
var errNoData = errors.New("the query returned no data points")

// Evaluate runs one evaluation of p at now against status.
//
//	schedule closed / target not ready / rollout in progress -> Skipped
//	for each check: query (cached per tick) -> strategy -> cap to [min, max]
//	pick the winner (Autoscaler rules) -> [drover] no scale-down after a
//	metric failure -> [drover] stabilize -> [drover] rate-limit -> Final
func (ev *Evaluator) Evaluate(ctx context.Context, p *Policy, st *State, status *TargetStatus, now time.Time) *Evaluation {
	e := &Evaluation{Policy: p.ID, Time: now, Status: status}
	b := p.Behavior
	if fatal := p.Problems.Fatal(); len(fatal) > 0 {
		e.Err = "the policy cannot run: " + fatal.Error()
		return e
	}
	if p.Schedule != nil && ev.Schedule != nil {
		if open, err := ev.Schedule(p.Schedule, now); err != nil {
			e.Err = "schedule: " + err.Error()
			return e
		} else if !open {
			e.Skipped = "outside the policy's schedule"
			return e
		}
	}
	if status == nil || !status.Ready {
		e.Skipped = "the target job is missing or stopped"
		return e
	}
	e.Current = status.Desired
	if !b.Drover() {
		// The Autoscaler scales from the running count (target/nomad state.go).
		e.Current = status.Running
	} else if b.RespectDeployments {
		switch {
		case status.DeploymentActive:
			e.Skipped = "a deployment is in progress"
			return e
		case status.Running != status.Desired:
			e.Skipped = fmt.Sprintf("the group is converging: %d desired, %d running", status.Desired, status.Running)
			return e
		}
	}

	cache := map[queryKey]queryResult{}
	var votes []Vote
	failed := false
	auto := !b.Drover()
	for _, c := range p.Checks {
		res := CheckResult{Check: c.Name, Group: c.Group, Source: c.Source, Query: c.Query}
		if c.Strategy != nil {
			res.Strategy = c.Strategy.Name
		}
		if c.Schedule != nil && ev.Schedule != nil {
			if open, err := ev.Schedule(c.Schedule, now); err == nil && !open {
				res.Skipped = "outside the check's schedule"
				e.Checks = append(e.Checks, res)
				continue
			}
		}
		strat, serr := c.strategyFor(b.Semantics)
		if auto {
			// The Autoscaler queries the metric before it runs the
			// strategy, and a failed or empty query aborts the whole
			// evaluation whatever on_error says (policy/check.go
			// runCheckAndCapCount); only fixed-value makes no query.
			if c.Strategy == nil || c.Strategy.Name != StrategyFixedValue {
				points, err := ev.query(ctx, c, now, cache, false)
				if err != nil {
					res.Err = err.Error()
					e.Checks = append(e.Checks, res)
					e.Err = fmt.Sprintf("check %q: %v", c.Name, err)
					return e
				}
				res.Points = points
			} else {
				res.Source, res.Query = "", ""
			}
			if serr != nil {
				if ev.checkFailed(p, c, &res, serr) {
					e.Checks = append(e.Checks, res)
					e.Err = fmt.Sprintf("check %q: %v", c.Name, serr)
					return e
				}
				// An ignored failure still votes "none" (getNewCountFromStrategy
				// returns an empty action, which calculateNewCount counts).
				res.Decision = none(e.Current, "the check failed and on_error ignores it: it votes none", nil)
				votes = append(votes, Vote{Check: c.Name, Group: c.Group, Decision: res.Decision})
				e.Checks = append(e.Checks, res)
				continue
			}
			res.Decision = capAutoscaler(strat.Run(e.Current, res.Points), p.Min, p.Max)
			votes = append(votes, Vote{Check: c.Name, Group: c.Group, Decision: res.Decision})
			e.Checks = append(e.Checks, res)
			continue
		}
		if serr != nil {
			failed = true
			if ev.checkFailed(p, c, &res, serr) {
				e.Checks = append(e.Checks, res)
				e.Err = res.Err
				return e
			}
			e.Checks = append(e.Checks, res)
			continue
		}
		if tv, ok := strat.(*TargetValue); ok {
			strat = withTolerance(tv, b)
		}
		if !strat.NeedsMetrics() {
			res.Source, res.Query = "", ""
		} else {
			points, err := ev.query(ctx, c, now, cache, true)
			if err != nil {
				failed = true
				if ev.checkFailed(p, c, &res, err) {
					e.Checks = append(e.Checks, res)
					e.Err = fmt.Sprintf("check %q: %v", c.Name, err)
					return e
				}
				e.Checks = append(e.Checks, res)
				continue
			}
			res.Points = points
		}
		res.Decision = Cap(strat.Run(e.Current, res.Points), p.Min, p.Max)
		votes = append(votes, Vote{Check: c.Name, Group: c.Group, Decision: res.Decision})
		e.Checks = append(e.Checks, res)
	}

	winner, ok := Pick(votes)
	if !ok {
		e.Final = none(e.Current, "no check voted", nil)
		return e
	}
	e.Winner = winner.Check
	final := winner.Decision
	e.Trace = append(e.Trace, fmt.Sprintf("check %q wins: %s to %d (up beats none beats down; the higher count wins a tie)", winner.Check, final.Direction, final.Count))
	if auto && final.Count == DryRunCount && final.Direction != None {
		e.Trace = append(e.Trace, "a count of -1 is the Autoscaler's dry-run marker: the scale records an event without changing the count, and the cooldown starts")
	}
	if b.Drover() {
		if failed && final.Direction == Down {
			e.Trace = append(e.Trace, "a check failed, and a failure never scales down: holding")
			final = none(e.Current, "a check failed; not scaling down on partial data", final.Trace)
		}
		final = ev.stabilize(p, st, e, final, now)
	}
	e.Final = final
	return e
}

// checkFailed applies on_error / on_check_error to a failing check and
// reports whether the evaluation must stop.
func (ev *Evaluator) checkFailed(p *Policy, c *Check, res *CheckResult, err error) bool {
	mode := c.OnError
	if mode == "" {
		mode = p.OnCheckError
	}
	if mode == OnErrorFail {
		res.Err = err.Error()
		return true
	}
	res.Skipped = "failed and ignored: " + err.Error()
	return false
}

type queryResult struct {
	points []DataPoint
	err    error
}

// queryKey identifies identical queries of one evaluation.
type queryKey struct {
	source, query  string
	window, offset time.Duration
	instant        bool
}

// query runs a check's query once per evaluation (identical queries share a
// result, as in the Autoscaler since GH-1252) and sorts the points. The
// Autoscaler's cache key leaves out instant (policy/check.go
// queryMetricsCacheKey), so an instant check and a windowed one of the same
// query share the first one's answer; withInstant keeps them apart, as
// drover's semantics do.
func (ev *Evaluator) query(ctx context.Context, c *Check, now time.Time, cache map[queryKey]queryResult, withInstant bool) ([]DataPoint, error) {
	key := queryKey{source: c.Source, query: c.Query, window: c.QueryWindow, offset: c.QueryWindowOffset, instant: c.Instant && withInstant}
	if r, ok := cache[key]; ok {
		return r.points, r.err
	}
	src, ok := ev.Sources[c.Source]
	if !ok {
		err := fmt.Errorf("no metric source named %q", c.Source)
		cache[key] = queryResult{err: err}
		return nil, err
	}
	to := now.Add(-c.QueryWindowOffset)
	from := to.Add(-c.QueryWindow)
	if c.Instant {
		from = to
	}
	points, err := src.Query(ctx, c.Query, TimeRange{From: from, To: to})
	if err == nil && len(points) == 0 {
		err = errNoData
	}
	sort.Slice(points, func(i, j int) bool { return points[i].Time.Before(points[j].Time) })
	cache[key] = queryResult{points: points, err: err}
	return points, err
}

// withTolerance gives a target-value strategy the per-direction dead band
// of the policy's behavior.
func withTolerance(tv *TargetValue, b Behavior) Strategy {
	out := *tv
	out.UpTolerance, out.DownTolerance = b.ScaleUp.Tolerance, b.ScaleDown.Tolerance
	return &out
}

// stabilize applies the stabilization windows and rate limits of the
// policy's behavior, the Kubernetes HPA's way
// (stabilizeRecommendationWithBehaviors, normalizeDesiredReplicasWithBehaviors).
func (ev *Evaluator) stabilize(p *Policy, st *State, e *Evaluation, d Decision, now time.Time) Decision {
	b := p.Behavior
	current := e.Current
	rec := d.Count
	if d.Direction == None {
		rec = current
	}
	upRec, downRec := rec, rec
	for _, r := range st.recommendations {
		if b.ScaleUp.StabilizationWindow > 0 && r.at.After(now.Add(-b.ScaleUp.StabilizationWindow)) {
			upRec = min(upRec, r.count)
		}
		if b.ScaleDown.StabilizationWindow > 0 && r.at.After(now.Add(-b.ScaleDown.StabilizationWindow)) {
			downRec = max(downRec, r.count)
		}
	}
	st.remember(now, rec, max(b.ScaleUp.StabilizationWindow, b.ScaleDown.StabilizationWindow))
	stable := current
	if stable < upRec {
		stable = upRec
	}
	if stable > downRec {
		stable = downRec
	}
	if stable != rec {
		e.Trace = append(e.Trace, fmt.Sprintf("stabilization holds the count at %d instead of %d (highest recommendation of the last %s before scaling down, lowest of the last %s before scaling up)",
			stable, rec, b.ScaleDown.StabilizationWindow, b.ScaleUp.StabilizationWindow))
	}
	dir := directionOf(current, stable)
	limited := stable
	switch dir {
	case Up:
		if limit, ok := b.ScaleUp.rateLimit(Up, current, st.events, now); ok && limited > limit {
			limited = max(limit, current)
		}
	case Down:
		if limit, ok := b.ScaleDown.rateLimit(Down, current, st.events, now); ok && limited < limit {
			limited = min(limit, current)
		}
	}
	if limited != stable {
		e.RateLimited = true
		e.Trace = append(e.Trace, fmt.Sprintf("rate limits allow %d instead of %d this period", limited, stable))
	}
	limited = min(max(limited, p.Min), p.Max)
	if limited == current {
		if d.Direction != None {
			return none(current, "held by stabilization or rate limits", d.Trace)
		}
		return d
	}
	out := d
	out.Direction, out.Count = directionOf(current, limited), limited
	switch {
	case limited == d.Count:
	case e.RateLimited:
		out.Reason = fmt.Sprintf("%s (rate-limited to %d)", d.Reason, limited)
	default:
		out.Reason = fmt.Sprintf("%s (stabilized to %d)", d.Reason, limited)
	}
	return out
}

// remember records a recommendation and forgets those older than keep.
func (st *State) remember(now time.Time, count int64, keep time.Duration) {
	// A run of equal recommendations counts as its newest: the windows only
	// ask whether a count was recommended within them. In the steady state
	// that keeps one entry instead of a window's worth.
	if n := len(st.recommendations); n > 0 && st.recommendations[n-1].count == count {
		st.recommendations[n-1].at = now
	} else {
		st.recommendations = append(st.recommendations, recommendation{at: now, count: count})
	}
	cut := 0
	for cut < len(st.recommendations) && !st.recommendations[cut].at.After(now.Add(-keep)) {
		cut++
	}
	st.recommendations = st.recommendations[cut:]
}

// Scaled records the scale an evaluation asked for: the cooldown it starts
// and the change, for rate limits. A scale cut short by a rate limit is a
// step of a larger one, so its cooldown is the rate's period, not the
// policy's: rate limits already bound how fast the count moves.
func (st *State) Scaled(p *Policy, e *Evaluation, now time.Time) {
	d, from := e.Final, e.Current
	cd := cooldownFor(p, d.Direction)
	if e.RateLimited {
		rates := p.Behavior.ScaleUp.Rates
		if d.Direction == Down {
			rates = p.Behavior.ScaleDown.Rates
		}
		for _, r := range rates {
			cd = min(cd, r.Period)
		}
	}
	st.CooldownUntil = now.Add(cd)
	st.events = append(st.events, scaleEvent{at: now, delta: d.Count - from})
	var keep time.Duration
	for _, r := range append(append([]Rate{}, p.Behavior.ScaleUp.Rates...), p.Behavior.ScaleDown.Rates...) {
		keep = max(keep, r.Period)
	}
	cut := 0
	for cut < len(st.events) && !st.events[cut].at.After(now.Add(-keep)) {
		cut++
	}
	st.events = st.events[cut:]
}

// ObserveEvent extends the cooldown from a scaling event someone else made
// (a manual scale, another autoscaler before a restart). Unlike the
// Autoscaler, which assumes the scale-up cooldown, drover knows the event's
// direction from its counts.
func (st *State) ObserveEvent(p *Policy, ev *LastEvent) {
	if ev == nil {
		return
	}
	if until := ev.Time.Add(cooldownFor(p, ev.Direction)); until.After(st.CooldownUntil) {
		st.CooldownUntil = until
	}
}

// cooldownFor is the cooldown after a scale in direction d
// (policy/handler.go calculateCooldown).
func cooldownFor(p *Policy, d Direction) time.Duration {
	if d == Up && p.CooldownOnScaleUp != 0 {
		return max(p.CooldownOnScaleUp, 0)
	}
	return max(p.Cooldown, 0)
}

package scaling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"
)

// TracePoint is the total demand at a moment of a load trace, in metric
// units summed over instances: at a load of 300 and a target of 70 per
// instance, about five instances are right.
type TracePoint struct {
	At   time.Duration
	Load float64
}

// Trace is a load recording, sorted by time.
type Trace []TracePoint

// LoadAt interpolates the trace linearly.
func (t Trace) LoadAt(at time.Duration) float64 {
	if len(t) == 0 {
		return 0
	}
	i := sort.Search(len(t), func(i int) bool { return t[i].At >= at })
	switch {
	case i == 0:
		return t[0].Load
	case i == len(t):
		return t[len(t)-1].Load
	}
	a, b := t[i-1], t[i]
	f := float64(at-a.At) / float64(b.At-a.At)
	return a.Load + f*(b.Load-a.Load)
}

// Duration is the trace's length.
func (t Trace) Duration() time.Duration {
	if len(t) == 0 {
		return 0
	}
	return t[len(t)-1].At
}

// SimOptions shape a simulation.
type SimOptions struct {
	// Initial is the count at the start; the policy's min when zero.
	Initial int64
	// Startup is how long a new instance takes to start running: desired
	// and running differ meanwhile.
	Startup time.Duration
	// Sample is the resolution of the reported series and totals.
	Sample time.Duration
}

// SimSample is the state at one moment of a simulation.
type SimSample struct {
	At      time.Duration `json:"at_seconds"`
	Load    float64       `json:"load"`
	Metric  float64       `json:"metric"`
	Desired int64         `json:"desired"`
	Running int64         `json:"running"`
}

// SimAction is a scaling action a simulation took.
type SimAction struct {
	At     time.Duration `json:"at_seconds"`
	From   int64         `json:"from"`
	To     int64         `json:"to"`
	Reason string        `json:"reason"`
}

// MarshalJSON writes At in seconds, as its name says.
func (a SimAction) MarshalJSON() ([]byte, error) {
	type plain SimAction
	return json.Marshal(struct {
		plain
		At float64 `json:"at_seconds"`
	}{plain(a), a.At.Seconds()})
}

// MarshalJSON writes At in seconds, as its name says.
func (s SimSample) MarshalJSON() ([]byte, error) {
	type plain SimSample
	return json.Marshal(struct {
		plain
		At float64 `json:"at_seconds"`
	}{plain(s), s.At.Seconds()})
}

// SimResult is a simulation's series and totals.
type SimResult struct {
	Semantics string       `json:"semantics"`
	Samples   []SimSample  `json:"samples"`
	Actions   []SimAction  `json:"actions"`
	Target    float64      `json:"target"`
	Summary   SimSummary   `json:"summary"`
	Evals     []Evaluation `json:"-"`
}

// SimSummary are the numbers a policy is judged by.
type SimSummary struct {
	// SecondsAboveTarget: time the per-instance metric exceeded the target.
	SecondsAboveTarget float64 `json:"seconds_above_target"`
	// InstanceSeconds: the integral of the desired count (what it costs).
	InstanceSeconds float64 `json:"instance_seconds"`
	Actions         int     `json:"scaling_actions"`
	PeakCount       int64   `json:"peak_count"`
}

// Simulate replays a trace through the reconciler in virtual time: every
// evaluation interval it evaluates p against a simulated group whose
// per-instance metric is load / running, with the same cooldowns,
// stabilization windows and rate limits as a live run. Every check's query
// is answered with that metric, so it suits utilization policies.
func Simulate(p *Policy, trace Trace, o SimOptions) (*SimResult, error) {
	if len(trace) < 2 {
		return nil, errors.New("a trace needs at least two points")
	}
	if p.EvaluationInterval <= 0 {
		return nil, errors.New("the policy needs an evaluation interval")
	}
	if o.Sample <= 0 {
		o.Sample = time.Second
	}
	start := time.Unix(0, 0).UTC()
	g := &simGroup{desired: max(o.Initial, p.Min), startup: o.Startup}
	g.running = g.desired
	src := &simSource{trace: trace, group: g, start: start}
	sources := map[string]MetricSource{}
	for _, c := range p.Checks {
		sources[c.Source] = src
	}
	ev := &Evaluator{Sources: sources}
	res := &SimResult{Semantics: p.Behavior.Semantics, Target: simTarget(p)}
	st := &State{}
	nextEval := p.EvaluationInterval
	for at := time.Duration(0); at <= trace.Duration(); at += o.Sample {
		g.advance(at)
		if at >= nextEval {
			nextEval += p.EvaluationInterval
			now := start.Add(at)
			src.now = at
			status := &TargetStatus{Desired: g.desired, Running: g.running, Ready: true}
			e := ev.Evaluate(context.Background(), p, st, status, now)
			res.Evals = append(res.Evals, *e)
			if e.Scales() && !now.Before(st.CooldownUntil) {
				res.Actions = append(res.Actions, SimAction{At: at, From: e.Current, To: e.Final.Count, Reason: e.Final.Reason})
				st.Scaled(p, e, now)
				g.scale(e.Final.Count, at)
			}
		}
		load := trace.LoadAt(at)
		metric := load / float64(max(g.running, 1))
		res.Samples = append(res.Samples, SimSample{At: at, Load: load, Metric: metric, Desired: g.desired, Running: g.running})
		sec := o.Sample.Seconds()
		res.Summary.InstanceSeconds += float64(g.desired) * sec
		if res.Target > 0 && metric > res.Target {
			res.Summary.SecondsAboveTarget += sec
		}
		res.Summary.PeakCount = max(res.Summary.PeakCount, g.desired)
	}
	res.Summary.Actions = len(res.Actions)
	return res, nil
}

// simTarget is the target of the policy's first target-value check, the
// line the metric is judged against.
func simTarget(p *Policy) float64 {
	for _, c := range p.Checks {
		if s, err := NewStrategy(c.Strategy); err == nil {
			if tv, ok := s.(*TargetValue); ok {
				return tv.Target
			}
		}
	}
	return math.NaN()
}

// simGroup is a task group whose new instances start after a delay.
type simGroup struct {
	desired, running int64
	startup          time.Duration
	starting         []time.Duration // when each starting instance runs
}

func (g *simGroup) scale(to int64, at time.Duration) {
	if to > g.desired {
		for i := g.desired; i < to; i++ {
			g.starting = append(g.starting, at+g.startup)
		}
	} else {
		// Stopping is immediate; starting instances go first.
		drop := g.desired - to
		for drop > 0 && len(g.starting) > 0 {
			g.starting = g.starting[:len(g.starting)-1]
			drop--
		}
		g.running -= drop
	}
	g.desired = to
	g.advance(at)
}

func (g *simGroup) advance(at time.Duration) {
	kept := g.starting[:0]
	for _, ready := range g.starting {
		if ready <= at {
			g.running++
		} else {
			kept = append(kept, ready)
		}
	}
	g.starting = kept
}

// simSource answers every query with the per-instance metric at the
// simulation's current time, one point per second over the window.
type simSource struct {
	trace Trace
	group *simGroup
	start time.Time
	now   time.Duration
}

func (s *simSource) Query(_ context.Context, _ string, r TimeRange) ([]DataPoint, error) {
	running := float64(max(s.group.running, 1))
	var out []DataPoint
	for t := r.From; !t.After(r.To); t = t.Add(time.Second) {
		at := t.Sub(s.start)
		if at < 0 {
			continue
		}
		out = append(out, DataPoint{Time: t, Value: s.trace.LoadAt(at) / running})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no trace data at %s", r.To.Sub(s.start))
	}
	return out, nil
}

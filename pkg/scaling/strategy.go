package scaling

import (
	"fmt"
	"math"
	"time"
)

// Direction of a scaling decision. The order matters: when checks disagree,
// the higher direction wins (Up beats None beats Down), as in the
// Autoscaler's sdk/strategy.go PreemptScalingAction.
type Direction int8

// Directions.
const (
	Down Direction = -1
	None Direction = 0
	Up   Direction = 1
)

func (d Direction) String() string {
	switch d {
	case Up:
		return "up"
	case Down:
		return "down"
	default:
		return "none"
	}
}

// MarshalText writes up, down or none (JSON output of explain, simulate).
func (d Direction) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// DataPoint is one metric sample.
type DataPoint struct {
	Time  time.Time `json:"time"`
	Value float64   `json:"value"`
}

// Decision is what one strategy (or a whole policy) concluded.
type Decision struct {
	Direction Direction `json:"direction"`
	// Count is the new count; equal to the current count when Direction is None.
	Count int64 `json:"count"`
	// Reason says why, in the Autoscaler's words where it has them.
	Reason string `json:"reason"`
	// Trace holds the steps of the arithmetic, for `drover autoscale explain`.
	Trace []string `json:"trace,omitempty"`
}

// Strategy turns a current count and a metric series into a decision.
// Implementations are pure: same input, same decision.
type Strategy interface {
	// Name is the strategy's name in policies.
	Name() string
	// NeedsMetrics is false for strategies that never look at a metric, whose
	// checks therefore make no query (the Autoscaler's fixed-value skip).
	NeedsMetrics() bool
	// Run decides. metrics are sorted oldest first.
	Run(count int64, metrics []DataPoint) Decision
}

var (
	_ Strategy = (*TargetValue)(nil)
	_ Strategy = (*Threshold)(nil)
	_ Strategy = (*FixedValue)(nil)
	_ Strategy = (*PassThrough)(nil)
)

func none(count int64, reason string, trace []string) Decision {
	return Decision{Direction: None, Count: count, Reason: reason, Trace: trace}
}

func directionOf(count, n int64) Direction {
	switch {
	case n > count:
		return Up
	case n < count:
		return Down
	default:
		return None
	}
}

// TargetValue keeps metric/target at 1 by scaling the count in proportion
// (plugins/builtin/strategy/target-value).
type TargetValue struct {
	Target float64
	// Threshold is the dead band around a factor of 1: no action while the
	// factor lies within [1-Threshold, 1+Threshold].
	Threshold float64
	// UpTolerance and DownTolerance, when set (drover's per-direction
	// tolerance), replace Threshold on their side of the band.
	UpTolerance, DownTolerance *float64
	// MaxScaleUp and MaxScaleDown limit one action's change; nil means no
	// limit and 0 forbids that direction, as in the Autoscaler.
	MaxScaleUp, MaxScaleDown *int64
}

// Name implements Strategy.
func (*TargetValue) Name() string { return StrategyTargetValue }

// NeedsMetrics implements Strategy.
func (*TargetValue) NeedsMetrics() bool { return true }

// Run implements Strategy. It uses the latest data point only.
func (s *TargetValue) Run(count int64, metrics []DataPoint) Decision {
	if len(metrics) == 0 {
		return none(count, "no data points", nil)
	}
	m := metrics[len(metrics)-1].Value
	factor := m
	trace := []string{fmt.Sprintf("metric = %g (latest of %d data points)", m, len(metrics))}
	if s.Target == 0 {
		// A target of 0 (say, an empty CI queue) uses the metric itself.
		trace = append(trace, fmt.Sprintf("target = 0, so factor = metric = %g", factor))
	} else {
		factor = m / s.Target
		trace = append(trace, fmt.Sprintf("factor = metric / target = %g / %g = %.4f", m, s.Target, factor))
	}
	lo, hi := 1-s.Threshold, 1+s.Threshold
	if s.DownTolerance != nil {
		lo = 1 - *s.DownTolerance
	}
	if s.UpTolerance != nil {
		hi = 1 + *s.UpTolerance
	}
	dir := None
	switch {
	case count == 0:
		if factor > 0 {
			dir = Up
		}
		trace = append(trace, "count is 0: scale up if factor > 0")
	case factor < lo:
		dir = Down
	case factor > hi:
		dir = Up
	}
	if count != 0 {
		trace = append(trace, fmt.Sprintf("dead band = [%.4f, %.4f]", lo, hi))
	}
	if dir == None {
		return none(count, fmt.Sprintf("factor %.4f is within the dead band", factor), trace)
	}
	var n int64
	if count == 0 {
		n = int64(math.Ceil(factor))
		trace = append(trace, fmt.Sprintf("new = ceil(factor) = %d", n))
	} else {
		n = int64(math.Ceil(float64(count) * factor))
		trace = append(trace, fmt.Sprintf("new = ceil(count * factor) = ceil(%d * %.4f) = %d", count, factor, n))
	}
	n = limitStep(count, n, s.MaxScaleUp, s.MaxScaleDown, &trace)
	if n == count {
		return none(count, fmt.Sprintf("factor %.4f gives the current count", factor), trace)
	}
	return Decision{Direction: dir, Count: n, Reason: fmt.Sprintf("scaling %s because factor is %f", dir, factor), Trace: trace}
}

// limitStep applies max_scale_up / max_scale_down (nil = unlimited).
func limitStep(count, n int64, maxUp, maxDown *int64, trace *[]string) int64 {
	if maxDown != nil && n < count-*maxDown {
		n = count - *maxDown
		*trace = append(*trace, fmt.Sprintf("max_scale_down %d limits new to %d", *maxDown, n))
	}
	if maxUp != nil && n > count+*maxUp {
		n = count + *maxUp
		*trace = append(*trace, fmt.Sprintf("max_scale_up %d limits new to %d", *maxUp, n))
	}
	return n
}

// Threshold actions.
const (
	ActionDelta      = "delta"
	ActionPercentage = "percentage"
	ActionValue      = "value"
)

// Threshold acts when enough data points fall inside a band
// (plugins/builtin/strategy/threshold).
type Threshold struct {
	// Lower and Upper bound the band [Lower, Upper); ±Inf when unset.
	Lower, Upper float64
	// Trigger is how many data points must lie within the band.
	Trigger int64
	// Action is delta, percentage or value; Amount is its number.
	Action string
	Amount float64
}

// Name implements Strategy.
func (*Threshold) Name() string { return StrategyThreshold }

// NeedsMetrics implements Strategy.
func (*Threshold) NeedsMetrics() bool { return true }

// Within reports whether v lies in the half-open band [Lower, Upper).
func (s *Threshold) Within(v float64) bool { return v >= s.Lower && v < s.Upper }

// Run implements Strategy. It counts data points over the whole window.
func (s *Threshold) Run(count int64, metrics []DataPoint) Decision {
	if len(metrics) == 0 {
		return none(count, "no data points", nil)
	}
	var within int64
	for _, p := range metrics {
		if s.Within(p.Value) {
			within++
		}
	}
	trace := []string{fmt.Sprintf("%d of %d data points within [%g, %g); trigger = %d", within, len(metrics), s.Lower, s.Upper, s.Trigger)}
	if within < s.Trigger {
		return none(count, fmt.Sprintf("%d data points within bounds, %d needed", within, s.Trigger), trace)
	}
	var n int64
	switch s.Action {
	case ActionDelta:
		n = count + int64(s.Amount)
		trace = append(trace, fmt.Sprintf("new = count + delta = %d + %d = %d", count, int64(s.Amount), n))
	case ActionPercentage:
		n = int64(math.Ceil(float64(count) * (1 + s.Amount/100)))
		trace = append(trace, fmt.Sprintf("new = ceil(count * (1 + %g/100)) = %d", s.Amount, n))
	case ActionValue:
		n = int64(s.Amount)
		trace = append(trace, fmt.Sprintf("new = value = %d", n))
	}
	if n < 0 {
		n = 0
		trace = append(trace, "new is floored at 0")
	}
	dir := directionOf(count, n)
	if dir == None {
		return none(count, "the action gives the current count", trace)
	}
	return Decision{Direction: dir, Count: n, Reason: fmt.Sprintf("scaling %s because metric is within bounds", dir), Trace: trace}
}

// FixedValue always asks for the same count (plugins/builtin/strategy/fixed-value).
type FixedValue struct {
	Value int64
}

// Name implements Strategy.
func (*FixedValue) Name() string { return StrategyFixedValue }

// NeedsMetrics implements Strategy: fixed-value checks make no query.
func (*FixedValue) NeedsMetrics() bool { return false }

// Run implements Strategy.
func (s *FixedValue) Run(count int64, _ []DataPoint) Decision {
	trace := []string{fmt.Sprintf("new = value = %d", s.Value)}
	dir := directionOf(count, s.Value)
	if dir == None {
		return none(count, "count already equals the fixed value", trace)
	}
	return Decision{Direction: dir, Count: s.Value, Reason: fmt.Sprintf("scaling %s because fixed value is %d", dir, s.Value), Trace: trace}
}

// PassThrough uses the metric as the count (plugins/builtin/strategy/pass-through).
type PassThrough struct {
	MaxScaleUp, MaxScaleDown *int64
}

// Name implements Strategy.
func (*PassThrough) Name() string { return StrategyPassThrough }

// NeedsMetrics implements Strategy.
func (*PassThrough) NeedsMetrics() bool { return true }

// Run implements Strategy. As in the Autoscaler, the direction compares the
// metric as a float while the count truncates it: a metric of 3.7 with a
// count of 3 votes up for 3. That vote changes nothing on its own (the
// count is unchanged), but it still outranks a scale-down when checks are
// combined, exactly as the Autoscaler's does.
func (s *PassThrough) Run(count int64, metrics []DataPoint) Decision {
	if len(metrics) == 0 {
		return none(count, "no data points", nil)
	}
	m := metrics[len(metrics)-1].Value
	dir := None
	switch {
	case m > float64(count):
		dir = Up
	case m < float64(count):
		dir = Down
	}
	if dir == None {
		return none(count, "the metric equals the current count", []string{fmt.Sprintf("metric = %g", m)})
	}
	n := int64(m)
	trace := []string{fmt.Sprintf("metric = %g, new = int(metric) = %d", m, n)}
	if dir == Up {
		n = limitStep(count, n, s.MaxScaleUp, nil, &trace)
	} else {
		n = limitStep(count, n, nil, s.MaxScaleDown, &trace)
	}
	return Decision{Direction: dir, Count: n, Reason: fmt.Sprintf("scaling %s because metric is %d", dir, int64(m)), Trace: trace}
}

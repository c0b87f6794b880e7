package scaling

import (
	"fmt"
	"math"
	"time"
)

// Semantics say which rules a reconciler follows.
const (
	// SemanticsDrover adds, to the Autoscaler's rules, the safeguards of the
	// Kubernetes HPA: no scaling during rollouts, stabilization windows,
	// rate limits, and metric failures that never scale down.
	SemanticsDrover = "drover"
	// SemanticsAutoscaler follows the Nomad Autoscaler exactly: the
	// current count is the running count, cooldown is the only damper, and
	// a failed metric query aborts the evaluation.
	SemanticsAutoscaler = "autoscaler"
)

// Rate limit types.
const (
	RatePods    = "pods"
	RatePercent = "percent"
)

// Rate limits how much one direction may change the count per period.
type Rate struct {
	Type   string
	Value  float64
	Period time.Duration
}

// Rate selection, as the HPA's selectPolicy.
const (
	SelectMax      = "max"      // the rate allowing the biggest change wins
	SelectMin      = "min"      // the most restrictive rate wins
	SelectDisabled = "disabled" // this direction never scales
)

// DirectionBehavior tunes one direction.
type DirectionBehavior struct {
	// StabilizationWindow: a scale-down only goes as low as the highest
	// recommendation of the window (a scale-up only as high as the lowest),
	// so a brief dip or spike does not move the count.
	StabilizationWindow time.Duration
	// Tolerance replaces a target-value check's dead band on this side of
	// the target: no scaling while the factor is within it. Nil keeps the
	// strategy's own threshold.
	Tolerance *float64
	Rates     []Rate
	Select    string
}

// Behavior is drover's extension of a policy, written in the policy's
// `drover` block, which the official Autoscaler ignores.
type Behavior struct {
	Semantics string
	// RespectDeployments skips evaluation while a deployment is active or
	// desired and running counts differ.
	RespectDeployments bool
	ScaleUp            DirectionBehavior
	ScaleDown          DirectionBehavior
}

// DefaultBehavior is the HPA's defaults: scale up at once by up to 100% or
// 4 instances per 15s; scale down after a 5 minute stabilization window by
// up to 100% per 15s.
func DefaultBehavior() Behavior {
	return Behavior{
		Semantics:          SemanticsDrover,
		RespectDeployments: true,
		ScaleUp: DirectionBehavior{
			Rates:  []Rate{{RatePercent, 100, 15 * time.Second}, {RatePods, 4, 15 * time.Second}},
			Select: SelectMax,
		},
		ScaleDown: DirectionBehavior{
			StabilizationWindow: 5 * time.Minute,
			Rates:               []Rate{{RatePercent, 100, 15 * time.Second}},
			Select:              SelectMax,
		},
	}
}

// AutoscalerBehavior disables every drover extension.
func AutoscalerBehavior() Behavior {
	return Behavior{Semantics: SemanticsAutoscaler, ScaleUp: DirectionBehavior{Select: SelectMax}, ScaleDown: DirectionBehavior{Select: SelectMax}}
}

// Drover reports whether drover's extensions apply.
func (b Behavior) Drover() bool { return b.Semantics != SemanticsAutoscaler }

// scaleEvent is a past change of the count, for rate limits.
type scaleEvent struct {
	at    time.Time
	delta int64
}

// rateLimit bounds a new count by the direction's rates, counting the
// changes already made within each rate's period (the HPA's
// calculateScaleUpLimitWithScalingRules and its scale-down twin).
func (d DirectionBehavior) rateLimit(dir Direction, current int64, events []scaleEvent, now time.Time) (limit int64, limited bool) {
	if len(d.Rates) == 0 {
		return 0, false
	}
	if d.Select == SelectDisabled {
		return current, true
	}
	// For scale-up the biggest change is the highest count, for scale-down
	// the lowest; "max" picks the biggest change, "min" the smallest.
	highest := (dir == Up) == (d.Select != SelectMin)
	for i, r := range d.Rates {
		var changed int64
		for _, e := range events {
			if e.at.After(now.Add(-r.Period)) && (dir == Up) == (e.delta > 0) {
				changed += e.delta
			}
		}
		start := current - changed // the count at the start of the period
		var proposed int64
		switch {
		case dir == Up && r.Type == RatePods:
			proposed = start + int64(r.Value)
		case dir == Up:
			proposed = int64(math.Ceil(float64(start) * (1 + r.Value/100)))
		case r.Type == RatePods:
			proposed = start - int64(r.Value)
		default:
			proposed = int64(math.Ceil(float64(start) * (1 - r.Value/100)))
		}
		if i == 0 || highest && proposed > limit || !highest && proposed < limit {
			limit = proposed
		}
	}
	return limit, true
}

// Validate reports settings that cannot work.
func (b Behavior) Validate() error {
	for name, d := range map[string]DirectionBehavior{"scale_up": b.ScaleUp, "scale_down": b.ScaleDown} {
		if d.StabilizationWindow < 0 || d.StabilizationWindow > time.Hour {
			return fmt.Errorf("%s: stabilization_window must be between 0 and 1h", name)
		}
		if d.Tolerance != nil && (*d.Tolerance < 0 || *d.Tolerance >= 1) {
			return fmt.Errorf("%s: tolerance must be at least 0 and below 1", name)
		}
		switch d.Select {
		case SelectMax, SelectMin, SelectDisabled, "":
		default:
			return fmt.Errorf("%s: select must be max, min or disabled", name)
		}
		for _, r := range d.Rates {
			if r.Type != RatePods && r.Type != RatePercent {
				return fmt.Errorf("%s: rate type must be pods or percent", name)
			}
			if r.Value <= 0 || r.Period <= 0 {
				return fmt.Errorf("%s: a rate needs a value and a period above zero", name)
			}
		}
	}
	return nil
}

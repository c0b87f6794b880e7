package scaling

import (
	"fmt"
	"math"
	"time"
)

// Finding is a lint result: a policy that is valid but will not behave as
// its author probably meant.
type Finding struct {
	// Check is the check's name; empty for a finding about the whole policy.
	Check string
	// Key is the policy, check or strategy key the finding is about, if any.
	Key string
	// Error is true for findings that make the policy useless (it can never
	// act); false for warnings.
	Error   bool
	Summary string
	Detail  string
}

// nomadAPMPoints is how many data points a nomad-apm query returns: one
// aggregate over the group's allocations (plugins/builtin/apm/nomad/plugin/job.go).
const nomadAPMPoints = 1

// prometheusStep is the resolution of the Autoscaler's Prometheus range
// queries (plugins/builtin/apm/prometheus/plugin/plugin.go).
const prometheusStep = time.Second

// MaxPoints estimates the most data points a check's query can return, or
// -1 when unknown (a source drover does not know).
func MaxPoints(c *Check) int64 {
	if c.Instant {
		return 1
	}
	switch c.Source {
	case SourceNomadAPM, "":
		return nomadAPMPoints
	case SourcePrometheus:
		window := c.QueryWindow
		if window == 0 {
			window = DefaultQueryWindow
		}
		return int64(window/prometheusStep) + 1
	default:
		return -1
	}
}

// Lint reports checks that can never fire and threshold checks on the same
// metric that fight each other.
// Checks whose strategy configuration does not parse are skipped: NewStrategy
// reports those.
func Lint(p *Policy) []Finding {
	var out []Finding
	type band struct {
		check string
		query string // source and query: bands of different metrics never clash
		t     *Threshold
		dir   Direction
	}
	var bands []band
	for _, c := range p.Checks {
		if c.Strategy == nil {
			continue
		}
		s, err := NewStrategy(c.Strategy)
		if err != nil {
			continue
		}
		t, ok := s.(*Threshold)
		if !ok {
			continue
		}
		if !(t.Lower < t.Upper) {
			out = append(out, Finding{Check: c.Name, Key: keyUpperBound, Summary: "Threshold band can never fire",
				Detail: fmt.Sprintf("A data point counts when lower_bound <= value < upper_bound, and no value satisfies %g <= value < %g.", t.Lower, t.Upper)})
			continue
		}
		if max := MaxPoints(c); max >= 0 && t.Trigger > max && !(c.Instant && !p.Behavior.Drover()) {
			// (Under the Autoscaler's semantics an instant check with another
			// trigger is a problem that stops the policy: see compile.)
			// The Autoscaler rejects an instant query with a trigger other
			// than 1 (policy/policy.go ValidatePolicy); other cases load but
			// never act.
			out = append(out, Finding{Check: c.Name, Key: keyWithinBoundsTrigger, Error: c.Instant, Summary: "Threshold trigger can never be reached",
				Detail: fmt.Sprintf("within_bounds_trigger is %d, but a %s query%s returns at most %d data point(s), so this check never acts. Set within_bounds_trigger to %d or less.",
					t.Trigger, sourceName(c.Source), windowNote(c), max, max)})
		}
		bands = append(bands, band{check: c.Name, query: sourceName(c.Source) + "\x00" + c.Query, t: t, dir: thresholdDirection(t)})
	}
	for i := range bands {
		for j := i + 1; j < len(bands); j++ {
			a, b := bands[i], bands[j]
			if a.query != b.query || a.dir == None || b.dir == None || a.dir == b.dir {
				continue
			}
			lo, hi := math.Max(a.t.Lower, b.t.Lower), math.Min(a.t.Upper, b.t.Upper)
			if lo < hi {
				out = append(out, Finding{Check: b.check, Key: keyLowerBound, Summary: "Threshold bands overlap",
					Detail: fmt.Sprintf("Checks %q and %q act in opposite directions, and both count values in [%g, %g). While the metric stays there both fire and scale-up always wins, so the count only grows.", a.check, b.check, lo, hi)})
			}
		}
	}
	return out
}

// thresholdDirection is the direction a threshold check always pushes, or
// None when it depends on the current count (action "value").
func thresholdDirection(t *Threshold) Direction {
	switch {
	case t.Action == ActionValue:
		return None
	case t.Amount > 0:
		return Up
	case t.Amount < 0:
		return Down
	}
	return None
}

func sourceName(s string) string {
	if s == "" {
		return DefaultSource
	}
	return s
}

func windowNote(c *Check) string {
	switch {
	case c.Instant:
		return " with query_window = \"instant\""
	case c.Source == SourcePrometheus:
		w := c.QueryWindow
		if w == 0 {
			w = DefaultQueryWindow
		}
		return fmt.Sprintf(" over a %s window at 1s resolution", w)
	}
	return ""
}

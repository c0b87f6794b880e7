package scaling

import "fmt"

// Vote is one check's decision within a policy evaluation.
type Vote struct {
	Check string
	// Group makes votes count together (see Pick); "" for ungrouped.
	Group    string
	Decision Decision
}

// Cap clamps a check's decision to [min, max], as the Autoscaler's
// sdk.ScalingAction.CapCount does after every strategy run: the direction
// is not recomputed, so a scale-down capped at min still votes down.
func Cap(d Decision, min, max int64) Decision {
	if d.Direction == None {
		return d
	}
	n := d.Count
	if n < min {
		n = min
	} else if n > max {
		n = max
	}
	if n != d.Count {
		d.Trace = append(append([]string(nil), d.Trace...), fmt.Sprintf("capped count from %d to %d to stay within [%d, %d]", d.Count, n, min, max))
		d.Reason += fmt.Sprintf(" (capped from %d to %d to stay within limits)", d.Count, n)
		d.Count = n
	}
	return d
}

// DryRunCount is the count the Autoscaler reserves for dry runs
// (sdk/strategy.go StrategyActionMetaValueDryRunCount): a strategy that
// computes it is never capped, and the Nomad target sends no count, which
// records a scaling event without changing the group.
const DryRunCount = -1

// capAutoscaler is the Autoscaler's CapCount: like Cap, except that the
// dry-run count is left alone.
func capAutoscaler(d Decision, min, max int64) Decision {
	if d.Count == DryRunCount {
		return d
	}
	return Cap(d, min, max)
}

// Preempt returns the safer of two votes: the higher direction (up beats
// none beats down), and within up or down the higher count; on a tie the
// first (sdk/strategy.go PreemptScalingAction).
func Preempt(a, b Vote) Vote {
	if b.Decision.Direction > a.Decision.Direction {
		return b
	}
	if a.Decision.Direction == b.Decision.Direction && a.Decision.Direction != None && b.Decision.Count > a.Decision.Count {
		return b
	}
	return a
}

// Pick combines a policy's check votes into the winner, with the
// Autoscaler's rules (policy/handler.go pickWinnerActionFromGroups):
// ungrouped votes all compete; within a named group, "none" votes are
// ignored unless the whole group votes none; group winners then compete.
// ok is false when there were no votes.
func Pick(votes []Vote) (winner Vote, ok bool) {
	var order []string
	groups := map[string][]Vote{}
	for _, v := range votes {
		if _, seen := groups[v.Group]; !seen {
			order = append(order, v.Group)
		}
		groups[v.Group] = append(groups[v.Group], v)
	}
	for _, g := range order {
		results := groups[g]
		var groupWinner Vote
		have := false
		nones := 0
		for _, r := range results {
			if g != "" && r.Decision.Direction == None {
				nones++
				continue
			}
			if !have {
				groupWinner, have = r, true
				continue
			}
			groupWinner = Preempt(groupWinner, r)
		}
		if nones > 0 && nones == len(results) {
			groupWinner, have = results[0], true
		}
		if !have {
			continue
		}
		if !ok {
			winner, ok = groupWinner, true
			continue
		}
		winner = Preempt(winner, groupWinner)
	}
	return winner, ok
}

// ScalingNeeded reports whether a winning decision changes the count.
func ScalingNeeded(d Decision, current int64) bool {
	return d.Direction != None && d.Count != current
}

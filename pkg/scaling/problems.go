package scaling

import (
	"strings"
)

// Level says how much of a policy a problem stops.
type Level int8

// Levels, from least to most severe.
const (
	// LevelWarning: the policy runs as written; lint warns.
	LevelWarning Level = iota
	// LevelCheck: the check cannot run. Every evaluation treats it as a
	// failing check, which its on_error (or the policy's on_check_error)
	// handles; the rest of the policy runs.
	LevelCheck
	// LevelPolicy: the policy cannot run at all. It is logged once,
	// counted in /metrics and shown by `autoscale lint` and `explain`,
	// never dropped silently.
	LevelPolicy
)

func (l Level) String() string {
	switch l {
	case LevelCheck:
		return "check"
	case LevelPolicy:
		return "policy"
	default:
		return "warning"
	}
}

// MarshalText writes warning, check or policy.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// Problem is one thing wrong with a policy, at a key path in the policy's
// Nomad form: ["check", "cpu", "strategy", "target-value", "target"] is the
// target key of check "cpu"'s target-value strategy; ["drover", "scale_up",
// "tolerance"] a key of the drover block; an empty path the policy itself.
// Diagnostics find their source range from the path, never from the text.
type Problem struct {
	Path []string `json:"path"`
	// Label is true when the problem is about the last block's label (an
	// unknown strategy name), not its body.
	Label   bool   `json:"label,omitempty"`
	Level   Level  `json:"level"`
	Summary string `json:"summary"`
	Detail  string `json:"detail"`
	// Only names the semantics the problem holds in; "" for both.
	Only string `json:"-"`
}

func (p *Problem) Error() string {
	if len(p.Path) == 0 {
		return p.Detail
	}
	return p.PathString() + ": " + p.Detail
}

// PathString is the path the way the Autoscaler writes it:
// check[cpu].strategy[target-value].target.
func (p *Problem) PathString() string {
	var b strings.Builder
	for i := 0; i < len(p.Path); i++ {
		seg := p.Path[i]
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(seg)
		if labeledKey(seg) && i+1 < len(p.Path) {
			b.WriteString("[" + p.Path[i+1] + "]")
			i++
		}
	}
	return b.String()
}

// Check is the name of the check the problem is in, or "".
func (p *Problem) Check() string {
	if len(p.Path) >= 2 && p.Path[0] == keyCheck {
		return p.Path[1]
	}
	return ""
}

// Key is the last segment of the path, or "".
func (p *Problem) Key() string {
	if len(p.Path) == 0 {
		return ""
	}
	return p.Path[len(p.Path)-1]
}

func labeledKey(seg string) bool {
	return seg == keyCheck || seg == keyStrategy || seg == keyTargetBlock
}

// Problems is every problem of a policy; as an error, the fatal ones.
type Problems []*Problem

func (ps Problems) Error() string {
	parts := make([]string, 0, len(ps))
	for _, p := range ps {
		parts = append(parts, p.Error())
	}
	return strings.Join(parts, "; ")
}

// Fatal returns the problems that stop the whole policy.
func (ps Problems) Fatal() Problems { return ps.AtLeast(LevelPolicy) }

// AtLeast returns the problems of level l or worse.
func (ps Problems) AtLeast(l Level) Problems {
	var out Problems
	for _, p := range ps {
		if p.Level >= l {
			out = append(out, p)
		}
	}
	return out
}

// OfCheck returns the problems of one check that stop it.
func (ps Problems) OfCheck(name string) Problems {
	var out Problems
	for _, p := range ps {
		if p.Level == LevelCheck && p.Check() == name {
			out = append(out, p)
		}
	}
	return out
}

// problems collects problems while parsing.
type problems struct{ list Problems }

func (c *problems) add(level Level, summary, detail string, path ...string) *Problem {
	p := &Problem{Path: path, Level: level, Summary: summary, Detail: detail}
	c.list = append(c.list, p)
	return p
}

func pathOf(prefix []string, more ...string) []string {
	out := make([]string, 0, len(prefix)+len(more))
	return append(append(out, prefix...), more...)
}

package scaling

import (
	"time"
)

// Defaults the Nomad Autoscaler applies to a policy (policy/policy.go
// ApplyPolicyDefaults, agent/config/config.go, policy/source.go).
const (
	DefaultEvaluationInterval = 10 * time.Second
	DefaultCooldown           = 5 * time.Minute
	DefaultQueryWindow        = time.Minute
	DefaultSource             = SourceNomadAPM
)

// Metric sources drover understands.
const (
	SourceNomadAPM   = "nomad-apm"
	SourcePrometheus = "prometheus"
)

// Values of on_error and on_check_error.
const (
	OnErrorIgnore = "ignore"
	OnErrorFail   = "fail"
)

// Policy is one horizontal scaling policy for a task group, in the Nomad
// Autoscaler's model.
type Policy struct {
	// ID is Nomad's policy ID, or "<job>/<group>" for a policy not yet
	// registered.
	ID string
	// Enabled is false when the policy is switched off; a disabled policy is
	// never evaluated.
	Enabled bool
	// Min and Max bound every count the policy may set.
	Min, Max int64
	// Target names the task group the policy scales.
	Target Target
	// EvaluationInterval is how often the policy is evaluated.
	EvaluationInterval time.Duration
	// Cooldown is how long after a scaling action no other action is taken.
	Cooldown time.Duration
	// CooldownOnScaleUp replaces Cooldown after a scale-up; zero means Cooldown.
	CooldownOnScaleUp time.Duration
	// OnCheckError is "fail" (any failing check fails the evaluation) or
	// "ignore"/"" (failing checks are skipped).
	OnCheckError string
	// Checks are evaluated independently and then combined (see Pick).
	Checks []*Check
	// Schedule limits the policy to a time window; nil means always.
	Schedule *Schedule
	// Behavior is drover's extension: rollout awareness, stabilization
	// windows, rate limits, per-direction tolerance.
	Behavior Behavior
	// Written is what the policy said, before ApplySemantics resolved the
	// fields above for one semantics.
	Written Written
	// Problems are what ApplySemantics found wrong for the policy's
	// semantics: Problems.Fatal() stop the policy, LevelCheck ones their
	// check.
	Problems Problems
}

// Written keeps the values whose meaning depends on the semantics: nil is
// unset, which differs from "0s" in drover's semantics.
type Written struct {
	EvaluationInterval *time.Duration
	Cooldown           *time.Duration
	CooldownOnScaleUp  *time.Duration
	// Behavior is the drover block's (nil when there is none), and
	// BehaviorProblems what was wrong with it.
	Behavior         *Behavior
	BehaviorProblems Problems
	// Problems are the parser's findings that hold in either semantics.
	Problems Problems
}

// Schedule is a recurring window: it opens at each Start (a cron
// expression) and closes at the next End, or Duration after it opened.
type Schedule struct {
	Start    string
	End      string
	Duration time.Duration
}

// Target identifies a Nomad task group.
type Target struct {
	Namespace string `json:"namespace"`
	Job       string `json:"job"`
	Group     string `json:"group"`
}

// Check is one metric query plus the strategy that turns it into a count.
type Check struct {
	Name   string
	Source string
	Query  string
	// QueryWindow is how far back the query looks; Instant asks for a
	// single current value instead.
	QueryWindow       time.Duration
	Instant           bool
	QueryWindowOffset time.Duration
	// OnError overrides the policy's OnCheckError for this check.
	OnError string
	// Group makes checks vote together: see Pick.
	Group    string
	Strategy *StrategySpec
	// Schedule limits the check to a time window; nil means always.
	Schedule *Schedule

	// compiled is the strategy ApplySemantics built for the policy's
	// semantics, or broken why the check cannot run.
	compiled Strategy
	broken   error
	// compiledFor is the semantics compiled and broken are for.
	compiledFor string
	// hasQuery and hasSource record whether the keys were written at all
	// (the Autoscaler's validateCheck looks at that).
	hasQuery, hasSource bool
}

// StrategySpec is a strategy as written in a policy: its name and its
// string-valued configuration, exactly what the Autoscaler passes to its
// strategy plugins.
type StrategySpec struct {
	Name   string
	Config map[string]string
}

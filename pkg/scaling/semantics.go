package scaling

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ApplySemantics resolves what a parsed policy means under one semantics,
// "drover" or "autoscaler" ("" keeps the policy's own, from its drover
// block; drover when it has none). It sets Behavior, the durations, every
// check's compiled strategy, and Problems. It may be called again with
// another semantics (the --semantics override).
//
// Where the two differ (every case has a test in semantics_test.go):
//
//	                          autoscaler (policy/policy.go, sdk/, plugins/)   drover
//	cooldown = "0s"           the 5m default (ApplyPolicyDefaults)            no cooldown
//	cooldown_on_scale_up "0s" the cooldown                                    no cooldown after a scale-up
//	evaluation_interval "0s"  the 10s default                                 the 10s default, with a warning
//	negative interval         refused (the agent would panic)                 refused
//	strategy config           exactly the plugins' parsing: unknown keys      strict: unknown keys, "", NaN/Inf,
//	                          ignored, "" unset, NaN/Inf accepted, no trim    negative limits and " 50" refused
//	unknown strategy name     the policy does not run                         the check does not run (on_error)
//	missing query/strategy    the policy does not run                         the check does not run (on_error)
//	instant threshold with    the policy does not run                         lint error; the check never fires
//	within_bounds_trigger ≠ 1
//	drover block problems     warnings (the Autoscaler ignores the block)     the policy does not run
func (p *Policy) ApplySemantics(semantics string) {
	w := p.Written
	if semantics == "" {
		semantics = SemanticsDrover
		if w.Behavior != nil && w.Behavior.Semantics != "" {
			semantics = w.Behavior.Semantics
		}
	}
	auto := semantics == SemanticsAutoscaler
	var c problems
	for _, pr := range w.Problems {
		if pr.Only == "" || pr.Only == semantics {
			c.list = append(c.list, pr)
		}
	}
	switch {
	case auto:
		p.Behavior = AutoscalerBehavior()
		for _, pr := range w.BehaviorProblems {
			cp := *pr
			cp.Level = LevelWarning
			cp.Detail += " The Nomad Autoscaler ignores the drover block."
			c.list = append(c.list, &cp)
		}
	case w.Behavior != nil && w.Behavior.Drover():
		p.Behavior = *w.Behavior
		c.list = append(c.list, w.BehaviorProblems...)
	default:
		p.Behavior = DefaultBehavior()
		c.list = append(c.list, w.BehaviorProblems...)
	}
	p.Behavior.Semantics = semantics

	p.EvaluationInterval = DefaultEvaluationInterval
	if d := w.EvaluationInterval; d != nil {
		switch {
		case *d < 0:
			c.add(LevelPolicy, "Invalid duration", fmt.Sprintf("evaluation_interval must not be negative, not %s.", *d), keyEvaluationInterval)
		case *d == 0 && !auto:
			c.add(LevelWarning, "Zero evaluation interval", fmt.Sprintf("evaluation_interval = \"0s\" means the %s default, as in the Nomad Autoscaler.", DefaultEvaluationInterval), keyEvaluationInterval)
		case *d > 0:
			p.EvaluationInterval = *d
		}
	}
	// Cooldown: zero here means none. The Autoscaler replaces a zero
	// cooldown with its default and a zero scale-up cooldown with the
	// cooldown (ApplyPolicyDefaults); a negative one it keeps, and it
	// never holds.
	p.Cooldown = DefaultCooldown
	if d := w.Cooldown; d != nil && (*d != 0 || !auto) {
		p.Cooldown = *d
	}
	p.CooldownOnScaleUp = 0 // the cooldown
	if d := w.CooldownOnScaleUp; d != nil {
		switch {
		case *d != 0:
			p.CooldownOnScaleUp = *d
		case !auto:
			p.CooldownOnScaleUp = noCooldown
		}
	}
	if !auto {
		for key, d := range map[string]*time.Duration{keyCooldown: w.Cooldown, keyCooldownOnScaleUp: w.CooldownOnScaleUp} {
			if d != nil && *d < 0 {
				c.add(LevelPolicy, "Invalid duration", fmt.Sprintf("%s must not be negative, not %s.", key, *d), key)
			}
		}
	}
	for _, ch := range p.Checks {
		ch.compile(semantics, &c)
	}
	p.Problems = c.list
}

// noCooldown is a scale-up cooldown written as "0s" in drover's semantics:
// CooldownOnScaleUp = 0 means "the cooldown", so none is negative.
const noCooldown = -1

// compile builds the check's strategy for a semantics and records why the
// check cannot run, if it cannot.
func (ch *Check) compile(semantics string, c *problems) {
	ch.compiled, ch.broken, ch.compiledFor = nil, nil, semantics
	at := []string{keyCheck, ch.Name}
	before := len(c.list)
	if ch.Strategy == nil || ch.Strategy.Name == "" {
		if ch.Strategy != nil {
			c.add(LevelPolicy, "Missing strategy", fmt.Sprintf("Check %q has a strategy block without a name.", ch.Name), pathOf(at, keyStrategy)...)
		}
		ch.broken = fmt.Errorf("check %q has no strategy", ch.Name)
		return
	}
	sat := pathOf(at, keyStrategy, ch.Strategy.Name)
	auto := semantics == SemanticsAutoscaler
	var s Strategy
	var err error
	if auto {
		s, err = newAutoscalerStrategy(ch.Strategy)
	} else {
		s, err = NewStrategy(ch.Strategy)
	}
	var cerrs ConfigErrors
	if errors.As(err, &cerrs) {
		for _, e := range cerrs {
			level := LevelCheck
			if auto && e.Summary == summaryUnknownStrategy {
				// The handler cannot load the plugin and stops the policy
				// (policy/handler.go loadCheckRunners).
				level = LevelPolicy
			}
			path := sat
			if e.Key != "" {
				path = pathOf(sat, e.Key)
			}
			pr := c.add(level, e.Summary, e.Detail, path...)
			pr.Label = e.Summary == summaryUnknownStrategy
		}
	}
	needsMetrics := ch.Strategy.Name != StrategyFixedValue
	switch {
	case auto && needsMetrics && !ch.hasQuery && !ch.hasSource:
		// policy/nomad/validate.go validateStrategyWithoutMetric.
		c.add(LevelPolicy, "Missing check query", fmt.Sprintf("Check %q uses the %s strategy, which reads a metric, so it needs a query; the Nomad Autoscaler refuses the policy.", ch.Name, ch.Strategy.Name), at...)
	case !auto && needsMetrics && ch.Query == "":
		c.add(LevelCheck, "Missing check query", fmt.Sprintf("Check %q uses the %s strategy, which reads a metric, so it needs a query.", ch.Name, ch.Strategy.Name), at...)
	case !auto && needsMetrics && ch.Source == SourceNomadAPM:
		if qerr := ValidateNomadAPMQuery(ch.Query); qerr != nil {
			c.add(LevelCheck, "Invalid nomad-apm query", qerr.Error(), pathOf(at, keyQuery)...)
		}
	}
	if auto && ch.Instant && ch.Strategy.Name == StrategyThreshold && ch.Strategy.Config[keyWithinBoundsTrigger] != "1" {
		// policy/nomad/validate.go validateInstantThresholdTrigger.
		c.add(LevelPolicy, "Threshold trigger can never be reached", fmt.Sprintf(
			"Check %q queries an instant value, so within_bounds_trigger must be 1; the Nomad Autoscaler refuses the policy.", ch.Name), pathOf(sat, keyWithinBoundsTrigger)...)
	}
	for _, pr := range c.list[before:] {
		if pr.Level == LevelCheck && ch.broken == nil {
			ch.broken = pr
		}
	}
	if err != nil && ch.broken == nil {
		ch.broken = err
	}
	ch.compiled = s
}

// strategyFor returns the check's strategy for a semantics, compiling it
// when the check was built by hand rather than parsed.
func (ch *Check) strategyFor(semantics string) (Strategy, error) {
	if ch.compiledFor != semantics {
		var c problems
		ch.compile(semantics, &c)
	}
	if ch.broken != nil {
		return nil, ch.broken
	}
	return ch.compiled, nil
}

// Broken reports why the check cannot run under the policy's semantics, or
// nil.
func (ch *Check) Broken(p *Policy) error {
	_, err := ch.strategyFor(p.Behavior.Semantics)
	return err
}

const summaryUnknownStrategy = "Unknown scaling strategy"

// newAutoscalerStrategy reads a strategy configuration exactly as the
// Autoscaler's built-in plugins do (plugins/builtin/strategy/*/plugin
// Run): a missing or "" value is unset, values parse with strconv as
// written (no trimming; "NaN", "+Inf" are numbers), keys a plugin does not
// read are ignored, and only what a plugin refuses is an error.
func newAutoscalerStrategy(spec *StrategySpec) (Strategy, error) {
	p := lenient{strategyConfig{strategy: spec.Name, config: spec.Config}}
	switch spec.Name {
	case StrategyTargetValue:
		s := &TargetValue{}
		if p.config[keyTarget] == "" {
			p.fail(keyTarget, "Missing strategy key", "The target-value strategy needs \"target\".")
		} else {
			s.Target = p.float(keyTarget, 0)
		}
		s.Threshold = p.float(keyThreshold, DefaultTargetValueThreshold)
		s.MaxScaleUp, s.MaxScaleDown = p.optionalInt(keyMaxScaleUp), p.optionalInt(keyMaxScaleDown)
		return p.done(s)
	case StrategyThreshold:
		s := &Threshold{Lower: math.Inf(-1), Upper: math.Inf(1), Trigger: DefaultWithinBoundsTrigger}
		if p.config[keyLowerBound] == "" && p.config[keyUpperBound] == "" {
			p.fail("", "Missing threshold bound", "The threshold strategy needs lower_bound, upper_bound or both.")
			return p.done(s)
		}
		s.Upper = p.float(keyUpperBound, s.Upper)
		s.Lower = p.float(keyLowerBound, s.Lower)
		if v := p.optionalInt(keyWithinBoundsTrigger); v != nil {
			s.Trigger = *v
		}
		// A "" value is unset, as the plugin reads it.
		switch thresholdAction(func(k string) bool { return p.config[k] != "" }, p.fail) {
		case keyDelta:
			s.Action, s.Amount = ActionDelta, float64(*p.optionalInt(keyDelta))
		case keyPercentage:
			s.Action, s.Amount = ActionPercentage, p.float(keyPercentage, 0)
		case keyValue:
			v := *p.optionalInt(keyValue)
			if v < 0 {
				p.fail(keyValue, "Invalid strategy value", fmt.Sprintf("\"value\" must not be negative, not %d.", v))
			}
			s.Action, s.Amount = ActionValue, float64(v)
		}
		return p.done(s)
	case StrategyFixedValue:
		s := &FixedValue{}
		if p.config[keyValue] == "" {
			p.fail("", "Missing strategy key", "The fixed-value strategy needs \"value\".")
		} else {
			s.Value = *p.optionalInt(keyValue)
		}
		return p.done(s)
	case StrategyPassThrough:
		return p.done(&PassThrough{MaxScaleUp: p.optionalInt(keyMaxScaleUp), MaxScaleDown: p.optionalInt(keyMaxScaleDown)})
	}
	return nil, ConfigErrors{{Strategy: spec.Name, Summary: summaryUnknownStrategy, Detail: fmt.Sprintf(
		"There is no strategy named %q%s. The built-in strategies are %s.", spec.Name, suggest(spec.Name, StrategyNames()), strings.Join(StrategyNames(), ", "))}}
}

// lenient parses values the way the plugins do, collecting errors.
type lenient struct{ strategyConfig }

func (p *lenient) done(s Strategy) (Strategy, error) {
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return s, nil
}

func (p *lenient) float(key string, def float64) float64 {
	raw := p.config[key]
	if raw == "" {
		return def
	}
	v, err := strconv.ParseFloat(raw, 64)
	if err != nil {
		p.fail(key, "Invalid strategy value", fmt.Sprintf("%q must be a number, not %q.", key, raw))
		return def
	}
	return v
}

func (p *lenient) optionalInt(key string) *int64 {
	raw := p.config[key]
	if raw == "" {
		return nil
	}
	v, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		p.fail(key, "Invalid strategy value", fmt.Sprintf("%q must be a whole number, not %q.", key, raw))
		var zero int64
		return &zero
	}
	return &v
}

// RequireSources records the checks whose metric source is not
// configured. The Autoscaler cannot load such a policy at all
// (policy/handler.go loadCheckRunners: GetAPMLooker fails); drover stops
// only the check. Call it after ApplySemantics.
func (p *Policy) RequireSources(available map[string]bool) {
	auto := !p.Behavior.Drover()
	for _, ch := range p.Checks {
		if available[ch.Source] || (ch.Strategy != nil && ch.Strategy.Name == StrategyFixedValue) {
			continue
		}
		level := LevelCheck
		if auto {
			level = LevelPolicy
		}
		pr := &Problem{Path: []string{keyCheck, ch.Name, keySource}, Level: level, Summary: "Unknown metric source",
			Detail: fmt.Sprintf("Check %q reads source %q, which is not configured (for prometheus, give --prometheus-addr).", ch.Name, ch.Source)}
		p.Problems = append(p.Problems, pr)
		if ch.broken == nil {
			ch.broken = pr
		}
	}
}

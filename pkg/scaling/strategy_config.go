package scaling

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Strategy names, as the Autoscaler's built-in plugins call themselves.
const (
	StrategyTargetValue = "target-value"
	StrategyThreshold   = "threshold"
	StrategyFixedValue  = "fixed-value"
	StrategyPassThrough = "pass-through"
)

// Strategy configuration keys (plugins/builtin/strategy/*/plugin/plugin.go).
const (
	keyTarget              = "target"
	keyThreshold           = "threshold"
	keyMaxScaleUp          = "max_scale_up"
	keyMaxScaleDown        = "max_scale_down"
	keyLowerBound          = "lower_bound"
	keyUpperBound          = "upper_bound"
	keyDelta               = "delta"
	keyPercentage          = "percentage"
	keyValue               = "value"
	keyWithinBoundsTrigger = "within_bounds_trigger"
)

// Defaults of strategy keys.
const (
	DefaultTargetValueThreshold = 0.01
	DefaultWithinBoundsTrigger  = 5
)

type keyKind int

const (
	kindFloat       keyKind = iota // any number
	kindNonNegFloat                // a number >= 0
	kindInt                        // any whole number
	kindNonNegInt                  // a whole number >= 0
	kindPosInt                     // a whole number >= 1
)

func (k keyKind) String() string {
	switch k {
	case kindInt:
		return "a whole number"
	case kindNonNegInt:
		return "a whole number of 0 or more"
	case kindPosInt:
		return "a whole number of 1 or more"
	case kindNonNegFloat:
		return "a number of 0 or more"
	default:
		return "a number"
	}
}

type keySpec struct {
	kind     keyKind
	required bool
}

// strategyKeys is every key each built-in strategy reads. A key missing here
// is one the Autoscaler would silently ignore, which is why drover rejects it.
var strategyKeys = map[string]map[string]keySpec{
	StrategyTargetValue: {
		keyTarget:       {kind: kindFloat, required: true},
		keyThreshold:    {kind: kindNonNegFloat},
		keyMaxScaleUp:   {kind: kindNonNegInt},
		keyMaxScaleDown: {kind: kindNonNegInt},
	},
	StrategyThreshold: {
		keyLowerBound:          {kind: kindFloat},
		keyUpperBound:          {kind: kindFloat},
		keyDelta:               {kind: kindInt},
		keyPercentage:          {kind: kindFloat},
		keyValue:               {kind: kindNonNegInt},
		keyWithinBoundsTrigger: {kind: kindNonNegInt},
	},
	StrategyFixedValue: {
		keyValue: {kind: kindNonNegInt, required: true},
	},
	StrategyPassThrough: {
		keyMaxScaleUp:   {kind: kindNonNegInt},
		keyMaxScaleDown: {kind: kindNonNegInt},
	},
}

// StrategyNames lists the built-in strategies, sorted.
func StrategyNames() []string {
	names := make([]string, 0, len(strategyKeys))
	for n := range strategyKeys {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// StrategyKeys lists the keys a strategy accepts, sorted; nil for an unknown
// strategy.
func StrategyKeys(strategy string) []string {
	keys := strategyKeys[strategy]
	if keys == nil {
		return nil
	}
	out := make([]string, 0, len(keys))
	for k := range keys {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ConfigError is one problem with a strategy's configuration. Key is empty
// when the problem concerns the block as a whole (say, a missing choice).
type ConfigError struct {
	Strategy string
	Key      string
	// Summary is a short phrase; Detail is one or more sentences.
	Summary string
	Detail  string
}

func (e *ConfigError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("strategy %q: %s", e.Strategy, e.Detail)
	}
	return fmt.Sprintf("strategy %q key %q: %s", e.Strategy, e.Key, e.Detail)
}

// ConfigErrors collects every problem of one strategy configuration.
type ConfigErrors []*ConfigError

func (e ConfigErrors) Error() string {
	parts := make([]string, len(e))
	for i, one := range e {
		parts[i] = one.Error()
	}
	return strings.Join(parts, "; ")
}

// NewStrategy checks a strategy configuration against the keys and types the
// Autoscaler's plugin reads and returns the ready-to-run strategy. The error,
// when not nil, is a ConfigErrors listing every problem found.
func NewStrategy(spec *StrategySpec) (Strategy, error) {
	keys, ok := strategyKeys[spec.Name]
	if !ok {
		return nil, ConfigErrors{{
			Strategy: spec.Name,
			Summary:  summaryUnknownStrategy,
			Detail: fmt.Sprintf("There is no strategy named %q%s. The built-in strategies are %s.",
				spec.Name, suggest(spec.Name, StrategyNames()), strings.Join(StrategyNames(), ", ")),
		}}
	}
	p := configParser{strategyConfig{strategy: spec.Name, config: spec.Config}}
	for _, k := range sortedKeys(spec.Config) {
		if _, known := keys[k]; !known {
			p.fail(k, "Unknown strategy key", fmt.Sprintf(
				"The %s strategy has no key %q%s; the Nomad Autoscaler would silently ignore it. Its keys are %s.",
				spec.Name, k, suggest(k, StrategyKeys(spec.Name)), strings.Join(StrategyKeys(spec.Name), ", ")))
		}
	}
	for _, k := range StrategyKeys(spec.Name) {
		if keys[k].required {
			if _, set := spec.Config[k]; !set {
				p.fail("", "Missing strategy key", fmt.Sprintf("The %s strategy needs %q (%s).", spec.Name, k, keys[k].kind))
			}
		}
	}
	var s Strategy
	switch spec.Name {
	case StrategyTargetValue:
		s = p.targetValue()
	case StrategyThreshold:
		s = p.threshold()
	case StrategyFixedValue:
		s = &FixedValue{Value: p.int(keyValue, keys[keyValue].kind, 0)}
	case StrategyPassThrough:
		s = &PassThrough{MaxScaleUp: p.optionalInt(keyMaxScaleUp), MaxScaleDown: p.optionalInt(keyMaxScaleDown)}
	}
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return s, nil
}

func (p *configParser) targetValue() Strategy {
	return &TargetValue{
		Target:       p.float(keyTarget, kindFloat, 0),
		Threshold:    p.float(keyThreshold, kindNonNegFloat, DefaultTargetValueThreshold),
		MaxScaleUp:   p.optionalInt(keyMaxScaleUp),
		MaxScaleDown: p.optionalInt(keyMaxScaleDown),
	}
}

func (p *configParser) threshold() Strategy {
	t := &Threshold{
		Lower:   p.float(keyLowerBound, kindFloat, math.Inf(-1)),
		Upper:   p.float(keyUpperBound, kindFloat, math.Inf(1)),
		Trigger: p.int(keyWithinBoundsTrigger, kindNonNegInt, DefaultWithinBoundsTrigger),
	}
	_, hasLower := p.config[keyLowerBound]
	_, hasUpper := p.config[keyUpperBound]
	if !hasLower && !hasUpper {
		p.fail("", "Missing threshold bound", "The threshold strategy needs lower_bound, upper_bound or both.")
	}
	switch thresholdAction(func(k string) bool { _, set := p.config[k]; return set }, p.fail) {
	case keyDelta:
		t.Action, t.Amount = ActionDelta, float64(p.int(keyDelta, kindInt, 0))
	case keyPercentage:
		t.Action, t.Amount = ActionPercentage, p.float(keyPercentage, kindFloat, 0)
	case keyValue:
		t.Action, t.Amount = ActionValue, float64(p.int(keyValue, kindNonNegInt, 0))
	}
	return t
}

// thresholdAction returns the one action key (delta, percentage or value)
// of a threshold strategy's config, as set tells which keys are set, or ""
// after reporting through fail that none or several are. drover's parser
// and the Autoscaler's lenient one differ only in what "set" means.
func thresholdAction(set func(key string) bool, fail func(key, summary, detail string)) string {
	var actions []string
	for _, k := range []string{keyDelta, keyPercentage, keyValue} {
		if set(k) {
			actions = append(actions, k)
		}
	}
	switch len(actions) {
	case 0:
		fail("", "Missing threshold action", "The threshold strategy needs exactly one of delta, percentage or value.")
		return ""
	case 1:
		return actions[0]
	}
	fail(actions[1], "Conflicting threshold actions", fmt.Sprintf(
		"The threshold strategy takes exactly one of delta, percentage or value, but %s are all set.", strings.Join(actions, " and ")))
	return ""
}

// strategyConfig is one strategy's configuration being read, and the
// errors found in it so far: what drover's parser (configParser) and the
// Autoscaler's (lenient) share.
type strategyConfig struct {
	strategy string
	config   map[string]string
	errs     ConfigErrors
}

func (p *strategyConfig) fail(key, summary, detail string) {
	p.errs = append(p.errs, &ConfigError{Strategy: p.strategy, Key: key, Summary: summary, Detail: detail})
}

// configParser reads typed values out of a string map, collecting errors.
type configParser struct{ strategyConfig }

func (p *configParser) float(key string, kind keyKind, def float64) float64 {
	raw, ok := p.config[key]
	if !ok {
		return def
	}
	v, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		p.fail(key, "Invalid strategy value", fmt.Sprintf("%q must be %s, not %q.%s", key, kind, raw, spaceNote(raw)))
		return def
	}
	if kind == kindNonNegFloat && v < 0 {
		p.fail(key, "Invalid strategy value", fmt.Sprintf("%q must be %s, not %s.", key, kind, raw))
		return def
	}
	return v
}

func (p *configParser) int(key string, kind keyKind, def int64) int64 {
	raw, ok := p.config[key]
	if !ok {
		return def
	}
	v, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		p.fail(key, "Invalid strategy value", fmt.Sprintf("%q must be %s, not %q.%s", key, kind, raw, spaceNote(raw)))
		return def
	}
	if (kind == kindNonNegInt && v < 0) || (kind == kindPosInt && v < 1) {
		p.fail(key, "Invalid strategy value", fmt.Sprintf("%q must be %s, not %d.", key, kind, v))
		return def
	}
	return v
}

// spaceNote explains a value with spaces around it, which the Autoscaler's
// plugins refuse too (strconv does not trim).
func spaceNote(raw string) string {
	if raw != "" && strings.TrimSpace(raw) != raw {
		return " Remove the spaces around it: the Nomad Autoscaler refuses them too."
	}
	return ""
}

// optionalInt reads a limit that is unlimited (nil) when absent.
func (p *configParser) optionalInt(key string) *int64 {
	if _, ok := p.config[key]; !ok {
		return nil
	}
	v := p.int(key, kindNonNegInt, 0)
	return &v
}

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

// suggest returns ` (did you mean "x"?)` for the closest candidate within
// edit distance 2, or "".
func suggest(given string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := editDistance(given, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

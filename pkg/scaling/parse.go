package scaling

import (
	"fmt"
	"sort"
	"strconv"
	"time"
)

// NomadPolicy is a horizontal scaling policy as Nomad's API returns it
// (GET /v1/scaling/policy/:id): the jobspec's `policy` block is Policy, in
// the shape Nomad stores HCL blocks in (see ParseNomadPolicy).
type NomadPolicy struct {
	ID      string
	Enabled bool
	Min     int64
	Max     int64
	Type    string
	// Target has the keys Namespace, Job and Group.
	Target map[string]string
	Policy map[string]any
}

// Keys of a policy in Nomad's map (the Autoscaler's policy/nomad/source.go
// constants, plus drover's own block).
const (
	keyEvaluationInterval = "evaluation_interval"
	keyCooldown           = "cooldown"
	keyCooldownOnScaleUp  = "cooldown_on_scale_up"
	keyOnCheckError       = "on_check_error"
	keySchedule           = "schedule"
	keyCheck              = "check"
	keySource             = "source"
	keyQuery              = "query"
	keyQueryWindow        = "query_window"
	keyQueryWindowOffset  = "query_window_offset"
	keyOnError            = "on_error"
	keyGroup              = "group"
	keyStrategy           = "strategy"
	keyDrover             = "drover"
	keyTargetBlock        = "target"
	instantWindow         = "instant"
)

// ParseNomadPolicy is the policy language's one parser: every policy, from
// Nomad's API, from a policy file or from an app spec, is brought to Nomad's
// form and read here. In Nomad's map every HCL block is a one-element list
// of maps, and a labeled block adds a level keyed by the label:
//
//	"check": [{"cpu": [{"query": "...", "strategy": [{"target-value": [{"target": "70"}]}]}]}]
//
// Strategy values become strings with %v, as the Autoscaler's parser does,
// so the same policy gives the same decision. Keys the Autoscaler does not
// know are ignored, as it ignores them, except drover's own block.
//
// It returns the policy resolved for the semantics its drover block names
// (see ApplySemantics) and, as the error, the Problems that stop the whole
// policy. The policy is returned even then, so that lint and explain can
// show it; policy.Problems holds every problem, with its key path.
func ParseNomadPolicy(np NomadPolicy) (*Policy, error) {
	p := &Policy{
		ID:      np.ID,
		Enabled: np.Enabled,
		Min:     np.Min,
		Max:     np.Max,
		Target:  Target{Namespace: np.Target["Namespace"], Job: np.Target["Job"], Group: np.Target["Group"]},
	}
	var c problems
	m := np.Policy
	if np.Min < 0 {
		c.add(LevelPolicy, "Invalid scaling bounds", "min must be 0 or more.", "min")
	}
	if np.Max < 0 || np.Max < np.Min {
		c.add(LevelPolicy, "Invalid scaling bounds", fmt.Sprintf("max (%d) must not be less than min (%d) or 0.", np.Max, np.Min), "max")
	}
	for _, d := range []struct {
		key string
		dst **time.Duration
	}{{keyEvaluationInterval, &p.Written.EvaluationInterval}, {keyCooldown, &p.Written.Cooldown}, {keyCooldownOnScaleUp, &p.Written.CooldownOnScaleUp}} {
		if v, ok := m[d.key]; ok {
			if dur, err := parseDuration(v); err != nil {
				c.add(LevelPolicy, "Invalid duration", fmt.Sprintf("%s must be a duration such as \"30s\": %v.", d.key, err), d.key)
			} else {
				*d.dst = &dur
			}
		}
	}
	p.OnCheckError = onError(&c, m, keyOnCheckError, nil)
	if body, ok, err := block(m[keySchedule]); err != nil {
		c.add(LevelPolicy, "Invalid schedule", err.Error(), keySchedule)
	} else if ok {
		p.Schedule = parseSchedule(&c, body, []string{keySchedule})
	}
	checks, err := labeled(m[keyCheck])
	if err != nil {
		c.add(LevelPolicy, "Invalid check block", err.Error(), keyCheck)
	}
	for _, lc := range checks {
		p.Checks = append(p.Checks, parseCheck(&c, lc.label, lc.body))
	}
	if len(p.Checks) == 0 && err == nil {
		c.add(LevelPolicy, "Missing policy check", "A scaling policy needs at least one check block; without one the autoscaler has nothing to evaluate.")
	}
	if v, ok := m[keyTargetBlock]; ok {
		targets, err := labeled(v)
		if err != nil {
			c.add(LevelPolicy, "Invalid target block", err.Error(), keyTargetBlock)
		}
		for _, t := range targets {
			// Values in the target block win over Nomad's Target, as in
			// the Autoscaler's parseTarget.
			for k, v := range t.body {
				s := fmt.Sprintf("%v", v)
				switch k {
				case "Job":
					p.Target.Job = s
				case "Group":
					p.Target.Group = s
				case "Namespace":
					p.Target.Namespace = s
				}
			}
		}
	}
	if p.Target.Namespace == "" {
		p.Target.Namespace = "default"
	}
	if body, ok, err := block(m[keyDrover]); err != nil {
		p.Written.BehaviorProblems = Problems{{Path: []string{keyDrover}, Level: LevelPolicy, Summary: "Invalid drover block", Detail: err.Error()}}
	} else if ok {
		b, probs := parseBehaviorAt(body, []string{keyDrover})
		p.Written.Behavior, p.Written.BehaviorProblems = &b, probs
	}
	p.Written.Problems = c.list
	p.ApplySemantics("")
	if fatal := p.Problems.Fatal(); len(fatal) > 0 {
		return p, fatal
	}
	return p, nil
}

// onError reads on_error or on_check_error: "", "ignore" or "fail". The
// Autoscaler refuses any other string (sdk/policy.go Validate, which is
// case-sensitive: "Fail" is refused) and ignores a value of another type.
func onError(c *problems, m map[string]any, key string, prefix []string) string {
	v, ok := m[key]
	if !ok {
		return ""
	}
	s, isString := v.(string)
	switch {
	case !isString:
		pr := c.add(LevelPolicy, "Invalid "+key, fmt.Sprintf("%s must be %q or %q, not a %T.", key, OnErrorIgnore, OnErrorFail, v), pathOf(prefix, key)...)
		pr.Only = SemanticsDrover
		return ""
	case s != "" && s != OnErrorIgnore && s != OnErrorFail:
		c.add(LevelPolicy, "Invalid "+key, fmt.Sprintf("%s must be %q or %q, not %q; the Nomad Autoscaler refuses the policy.", key, OnErrorIgnore, OnErrorFail, s), pathOf(prefix, key)...)
	}
	return s
}

func parseCheck(c *problems, name string, m map[string]any) *Check {
	at := []string{keyCheck, name}
	ch := &Check{Name: name, Source: DefaultSource, QueryWindow: DefaultQueryWindow}
	for _, k := range []struct {
		key string
		dst *string
	}{{keySource, &ch.Source}, {keyQuery, &ch.Query}, {keyGroup, &ch.Group}} {
		v, ok := m[k.key]
		if !ok {
			continue
		}
		s, isString := v.(string)
		if !isString {
			if k.key == keyGroup {
				// The Autoscaler ignores a group of another type.
				pr := c.add(LevelPolicy, "Invalid "+k.key, fmt.Sprintf("%s must be a string, not a %T.", k.key, v), pathOf(at, k.key)...)
				pr.Only = SemanticsDrover
				continue
			}
			c.add(LevelPolicy, "Invalid "+k.key, fmt.Sprintf("%s must be a string, not a %T.", k.key, v), pathOf(at, k.key)...)
			continue
		}
		if k.key == keyQuery && s == "" {
			c.add(LevelPolicy, "Missing check query", "query must not be empty.", pathOf(at, k.key)...)
		}
		if k.key == keySource && s == "" {
			continue // the default source
		}
		*k.dst = s
	}
	_, ch.hasQuery = m[keyQuery]
	_, ch.hasSource = m[keySource]
	ch.OnError = onError(c, m, keyOnError, at)
	if w, ok := m[keyQueryWindow]; ok {
		if str(w) == instantWindow {
			// The window stays the default, as in the Autoscaler (whose
			// query cache key then matches a 1m check's).
			ch.Instant = true
		} else if d, err := parseDuration(w); err != nil {
			c.add(LevelPolicy, "Invalid duration", fmt.Sprintf("query_window must be a duration such as \"5m\" or \"instant\": %v.", err), pathOf(at, keyQueryWindow)...)
		} else if d != 0 {
			// 0 means the default window, as in ApplyPolicyDefaults.
			ch.QueryWindow = d
		}
	}
	if w, ok := m[keyQueryWindowOffset]; ok {
		if d, err := parseDuration(w); err != nil {
			// The Autoscaler does not validate it and uses no offset.
			pr := c.add(LevelPolicy, "Invalid duration", fmt.Sprintf("query_window_offset must be a duration such as \"1m\": %v.", err), pathOf(at, keyQueryWindowOffset)...)
			pr.Only = SemanticsDrover
		} else {
			ch.QueryWindowOffset = d
		}
	}
	if body, ok, err := block(m[keySchedule]); err != nil {
		c.add(LevelPolicy, "Invalid schedule", err.Error(), pathOf(at, keySchedule)...)
	} else if ok {
		ch.Schedule = parseSchedule(c, body, pathOf(at, keySchedule))
	}
	strategies, err := labeled(m[keyStrategy])
	if err != nil {
		c.add(LevelPolicy, "Invalid strategy block", err.Error(), pathOf(at, keyStrategy)...)
		return ch
	}
	switch len(strategies) {
	case 0:
		c.missingStrategy(at, "Missing strategy", fmt.Sprintf("Check %q needs one strategy block, such as strategy \"target-value\" { target = 70 }.", name))
		return ch
	case 1:
	default:
		c.missingStrategy(at, "Multiple strategies", fmt.Sprintf("Check %q has %d strategy blocks; it takes exactly one.", name, len(strategies)))
	}
	cfg := make(map[string]string, len(strategies[0].body))
	for k, v := range strategies[0].body {
		cfg[k] = fmt.Sprintf("%v", v)
	}
	ch.Strategy = &StrategySpec{Name: strategies[0].label, Config: cfg}
	return ch
}

// missingStrategy: the Autoscaler refuses the whole policy
// (policy/nomad/validate.go validateCheck); drover stops only the check.
func (c *problems) missingStrategy(at []string, summary, detail string) {
	c.add(LevelPolicy, summary, detail, at...).Only = SemanticsAutoscaler
	c.add(LevelCheck, summary, detail, at...).Only = SemanticsDrover
}

// parseSchedule reads a schedule: a start and exactly one of end or a
// duration above zero (sdk/schedule.go ValidateScalingPolicySchedule). The
// cron expressions are checked where a cron parser is at hand.
func parseSchedule(c *problems, m map[string]any, at []string) *Schedule {
	s := &Schedule{Start: str(m["start"]), End: str(m["end"])}
	_, hasDuration := m["duration"]
	if hasDuration {
		d, err := parseDuration(m["duration"])
		switch {
		case err != nil:
			c.add(LevelPolicy, "Invalid duration", fmt.Sprintf("duration must be a duration such as \"2h\": %v.", err), pathOf(at, "duration")...)
		case d <= 0:
			c.add(LevelPolicy, "Invalid duration", "duration must be longer than zero.", pathOf(at, "duration")...)
		default:
			s.Duration = d
		}
	}
	switch {
	case s.Start == "":
		c.add(LevelPolicy, "Missing schedule start", "A schedule needs a start cron expression.", pathOf(at, "start")...)
	case s.End != "" && hasDuration:
		c.add(LevelPolicy, "Conflicting schedule end", "A schedule ends either at an end cron expression or after a duration, not both.", pathOf(at, "duration")...)
	case s.End == "" && !hasDuration:
		c.add(LevelPolicy, "Missing schedule end", "A schedule needs an end cron expression or a duration.", at...)
	}
	return s
}

// ParseBehavior reads the body of a policy's `drover` block (in Nomad's
// map form) over DefaultBehavior; the error is a Problems.
func ParseBehavior(m map[string]any) (Behavior, error) {
	b, probs := parseBehaviorAt(m, nil)
	if len(probs) > 0 {
		return b, probs
	}
	return b, nil
}

func parseBehaviorAt(m map[string]any, at []string) (Behavior, Problems) {
	var c problems
	b := DefaultBehavior()
	bad := func(detail string, path ...string) {
		c.add(LevelPolicy, "Invalid drover block", detail, pathOf(at, path...)...)
	}
	if v := str(m["semantics"]); v != "" {
		if v != SemanticsDrover && v != SemanticsAutoscaler {
			bad(fmt.Sprintf("semantics must be %q or %q, not %q.", SemanticsDrover, SemanticsAutoscaler, v), "semantics")
		} else if v == SemanticsAutoscaler {
			b = AutoscalerBehavior()
		}
		b.Semantics = v
	}
	if v, ok := m["respect_deployments"]; ok {
		if x, isBool := v.(bool); isBool {
			b.RespectDeployments = x
		} else {
			bad(fmt.Sprintf("respect_deployments must be true or false, not a %T.", v), "respect_deployments")
		}
	}
	for _, dir := range []struct {
		key string
		d   *DirectionBehavior
	}{{"scale_up", &b.ScaleUp}, {"scale_down", &b.ScaleDown}} {
		key, d := dir.key, dir.d
		body, ok, err := block(m[key])
		if err != nil {
			bad(err.Error(), key)
			continue
		}
		if !ok {
			continue
		}
		if v, ok := body["stabilization_window"]; ok {
			w, err := parseDuration(v)
			switch {
			case err != nil:
				bad(fmt.Sprintf("stabilization_window: %v.", err), key, "stabilization_window")
			case w < 0 || w > time.Hour:
				bad("stabilization_window must be between 0 and 1h.", key, "stabilization_window")
			default:
				d.StabilizationWindow = w
			}
		}
		if v, ok := body["tolerance"]; ok {
			t, err := number(v)
			switch {
			case err != nil:
				bad(fmt.Sprintf("tolerance: %v.", err), key, "tolerance")
			case !(t >= 0 && t < 1):
				bad("tolerance must be at least 0 and below 1.", key, "tolerance")
			default:
				d.Tolerance = &t
			}
		}
		if v, ok := body["select"]; ok {
			switch s := str(v); s {
			case SelectMax, SelectMin, SelectDisabled:
				d.Select = s
			default:
				bad(fmt.Sprintf("select must be max, min or disabled, not %v.", v), key, "select")
			}
		}
		if raw, ok := body["rate"]; ok {
			list, _ := raw.([]any)
			d.Rates = nil
			for _, el := range list {
				r, _ := el.(map[string]any)
				value, verr := number(r["value"])
				period, perr := parseDuration(r["period"])
				typ := str(r["type"])
				switch {
				case typ != RatePods && typ != RatePercent:
					bad(fmt.Sprintf("a rate's type must be pods or percent, not %q.", typ), key, "rate")
				case verr != nil || !(value > 0):
					bad("a rate needs a value above zero.", key, "rate")
				case perr != nil || period <= 0:
					bad("a rate needs a period above zero, such as \"1m\".", key, "rate")
				default:
					d.Rates = append(d.Rates, Rate{Type: typ, Value: value, Period: period})
				}
			}
		}
	}
	return b, c.list
}

// labeledBlock is one labeled block: its label and body.
type labeledBlock struct {
	label string
	body  map[string]any
}

// labeled reads a list of labeled blocks, sorted by label for a stable
// order (Nomad's maps do not keep the source order).
func labeled(v any) ([]labeledBlock, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("want a list of blocks, got %T", v)
	}
	var out []labeledBlock
	for _, el := range list {
		m, ok := el.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("want a block, got %T", el)
		}
		for label, inner := range m {
			body, ok, err := block(inner)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", label, err)
			}
			if !ok {
				body = map[string]any{}
			}
			out = append(out, labeledBlock{label: label, body: body})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].label < out[j].label })
	return out, nil
}

// block reads an unlabeled block: a one-element list of a map (or a bare
// map, which the Autoscaler's validator also accepts).
func block(v any) (map[string]any, bool, error) {
	switch x := v.(type) {
	case nil:
		return nil, false, nil
	case map[string]any:
		return x, true, nil
	case []any:
		if len(x) != 1 {
			return nil, false, fmt.Errorf("want one block, got %d", len(x))
		}
		m, ok := x[0].(map[string]any)
		if !ok {
			return nil, false, fmt.Errorf("want a block, got %T", x[0])
		}
		return m, true, nil
	}
	return nil, false, fmt.Errorf("want a block, got %T", v)
}

func str(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}

// parseDuration reads a duration; like the Autoscaler, only strings are
// accepted.
func parseDuration(v any) (time.Duration, error) {
	s, ok := v.(string)
	if !ok {
		return 0, fmt.Errorf("must be a duration string such as \"30s\", found %T", v)
	}
	return time.ParseDuration(s)
}

func number(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case int64:
		return float64(x), nil
	case int:
		return float64(x), nil
	case string:
		return strconv.ParseFloat(x, 64)
	}
	return 0, fmt.Errorf("must be a number, found %T", v)
}

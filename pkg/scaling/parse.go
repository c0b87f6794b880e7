package scaling

import (
	"errors"
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
	instantWindow         = "instant"
)

// ParseNomadPolicy turns a policy from Nomad's API into the model, with the
// Autoscaler's defaults. In Nomad's map every HCL block is a one-element
// list of maps, and a labeled block adds a level keyed by the label:
//
//	"check": [{"cpu": [{"query": "...", "strategy": [{"target-value": [{"target": "70"}]}]}]}]
//
// Strategy values become strings with %v, as the Autoscaler's parser does,
// so the same policy gives the same decision. Keys the Autoscaler does not
// know are ignored, as it ignores them, except drover's own block.
func ParseNomadPolicy(np NomadPolicy) (*Policy, error) {
	p := &Policy{
		ID:                 np.ID,
		Enabled:            np.Enabled,
		Min:                np.Min,
		Max:                np.Max,
		Target:             Target{Namespace: np.Target["Namespace"], Job: np.Target["Job"], Group: np.Target["Group"]},
		EvaluationInterval: DefaultEvaluationInterval,
		Cooldown:           DefaultCooldown,
		Behavior:           DefaultBehavior(),
	}
	if p.Target.Namespace == "" {
		p.Target.Namespace = "default"
	}
	m := np.Policy
	var errs []error
	dur := func(key string, dst *time.Duration) {
		if v, ok := m[key]; ok {
			d, err := parseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", key, err))
				return
			}
			*dst = d
		}
	}
	dur(keyEvaluationInterval, &p.EvaluationInterval)
	dur(keyCooldown, &p.Cooldown)
	dur(keyCooldownOnScaleUp, &p.CooldownOnScaleUp)
	p.OnCheckError = str(m[keyOnCheckError])
	if body, ok, err := block(m[keySchedule]); err != nil {
		errs = append(errs, fmt.Errorf("schedule: %w", err))
	} else if ok {
		p.Schedule, err = parseSchedule(body)
		if err != nil {
			errs = append(errs, fmt.Errorf("schedule: %w", err))
		}
	}
	checks, err := labeled(m[keyCheck])
	if err != nil {
		errs = append(errs, fmt.Errorf("check: %w", err))
	}
	for _, lc := range checks {
		c, err := parseCheck(lc.label, lc.body)
		if err != nil {
			errs = append(errs, fmt.Errorf("check %q: %w", lc.label, err))
			continue
		}
		p.Checks = append(p.Checks, c)
	}
	if len(p.Checks) == 0 && len(errs) == 0 {
		errs = append(errs, errors.New("the policy has no checks"))
	}
	if body, ok, err := block(m[keyDrover]); err != nil {
		errs = append(errs, fmt.Errorf("drover: %w", err))
	} else if ok {
		if p.Behavior, err = ParseBehavior(body); err != nil {
			errs = append(errs, fmt.Errorf("drover: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("policy %s: %w", np.ID, err)
	}
	return p, nil
}

func parseCheck(name string, m map[string]any) (*Check, error) {
	c := &Check{
		Name:        name,
		Source:      str(m[keySource]),
		Query:       str(m[keyQuery]),
		OnError:     str(m[keyOnError]),
		Group:       str(m[keyGroup]),
		QueryWindow: DefaultQueryWindow,
	}
	if c.Source == "" {
		c.Source = DefaultSource
	}
	if w, ok := m[keyQueryWindow]; ok {
		if str(w) == instantWindow {
			c.Instant, c.QueryWindow = true, 0
		} else {
			d, err := parseDuration(w)
			if err != nil {
				return nil, fmt.Errorf("query_window: %w", err)
			}
			c.QueryWindow = d
		}
	}
	if w, ok := m[keyQueryWindowOffset]; ok {
		d, err := parseDuration(w)
		if err != nil {
			return nil, fmt.Errorf("query_window_offset: %w", err)
		}
		c.QueryWindowOffset = d
	}
	if body, ok, err := block(m[keySchedule]); err != nil {
		return nil, fmt.Errorf("schedule: %w", err)
	} else if ok {
		if c.Schedule, err = parseSchedule(body); err != nil {
			return nil, fmt.Errorf("schedule: %w", err)
		}
	}
	strategies, err := labeled(m[keyStrategy])
	if err != nil {
		return nil, fmt.Errorf("strategy: %w", err)
	}
	if len(strategies) != 1 {
		return nil, fmt.Errorf("needs exactly one strategy, has %d", len(strategies))
	}
	cfg := make(map[string]string, len(strategies[0].body))
	for k, v := range strategies[0].body {
		cfg[k] = fmt.Sprintf("%v", v)
	}
	c.Strategy = &StrategySpec{Name: strategies[0].label, Config: cfg}
	return c, nil
}

func parseSchedule(m map[string]any) (*Schedule, error) {
	s := &Schedule{Start: str(m["start"]), End: str(m["end"])}
	if v, ok := m["duration"]; ok {
		d, err := parseDuration(v)
		if err != nil {
			return nil, err
		}
		s.Duration = d
	}
	if s.Start == "" || (s.End == "") == (s.Duration == 0) {
		return nil, errors.New("needs start and exactly one of end or duration")
	}
	return s, nil
}

// ParseBehavior reads the body of a policy's `drover` block (in Nomad's
// map form) over DefaultBehavior.
func ParseBehavior(m map[string]any) (Behavior, error) {
	b := DefaultBehavior()
	err := parseBehavior(m, &b)
	return b, err
}

func parseBehavior(m map[string]any, b *Behavior) error {
	if v := str(m["semantics"]); v != "" {
		if v != SemanticsDrover && v != SemanticsAutoscaler {
			return fmt.Errorf("semantics must be %q or %q", SemanticsDrover, SemanticsAutoscaler)
		}
		if v == SemanticsAutoscaler {
			*b = AutoscalerBehavior()
		}
		b.Semantics = v
	}
	if v, ok := m["respect_deployments"].(bool); ok {
		b.RespectDeployments = v
	}
	for key, d := range map[string]*DirectionBehavior{"scale_up": &b.ScaleUp, "scale_down": &b.ScaleDown} {
		body, ok, err := block(m[key])
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		if !ok {
			continue
		}
		if v, ok := body["stabilization_window"]; ok {
			w, err := parseDuration(v)
			if err != nil {
				return fmt.Errorf("%s.stabilization_window: %w", key, err)
			}
			d.StabilizationWindow = w
		}
		if v, ok := body["tolerance"]; ok {
			t, err := number(v)
			if err != nil {
				return fmt.Errorf("%s.tolerance: %w", key, err)
			}
			d.Tolerance = &t
		}
		if v := str(body["select"]); v != "" {
			d.Select = v
		}
		if raw, ok := body["rate"]; ok {
			list, _ := raw.([]any)
			d.Rates = nil
			for _, el := range list {
				r, _ := el.(map[string]any)
				value, err := number(r["value"])
				if err != nil {
					return fmt.Errorf("%s.rate.value: %w", key, err)
				}
				period, err := parseDuration(r["period"])
				if err != nil {
					return fmt.Errorf("%s.rate.period: %w", key, err)
				}
				d.Rates = append(d.Rates, Rate{Type: str(r["type"]), Value: value, Period: period})
			}
		}
	}
	return b.Validate()
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

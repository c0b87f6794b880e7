package spec

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/drover-io/drover/pkg/scaling"
)

// The scaling policy block is the Nomad Autoscaler's own format, so a policy
// written for the official agent works here unchanged and vice versa.
var policySchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "evaluation_interval"},
		{Name: "cooldown"},
		{Name: "cooldown_on_scale_up"},
		{Name: "on_check_error"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "check", LabelNames: []string{"name"}},
		{Type: "schedule"},
		{Type: "drover"},
	},
}

// The drover block extends a policy with what the official Autoscaler
// lacks; the Autoscaler ignores it.
var droverSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "semantics"},
		{Name: "respect_deployments"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "scale_up"},
		{Type: "scale_down"},
	},
}

var droverDirectionSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "stabilization_window"},
		{Name: "tolerance"},
		{Name: "select"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "rate"},
	},
}

var droverRateSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type", Required: true},
		{Name: "value", Required: true},
		{Name: "period", Required: true},
	},
}

// scheduleSchema limits a policy or check to a cron window (Autoscaler 0.5).
var scheduleSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "start", Required: true},
		{Name: "end"},
		{Name: "duration"},
	},
}

var policyCheckSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "source"},
		{Name: "query"},
		{Name: "query_window"},
		{Name: "query_window_offset"},
		{Name: "on_error"},
		{Name: "group"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "strategy", LabelNames: []string{"name"}},
		{Type: "schedule"},
	},
}

// decodePolicy decodes a `policy` block into both its raw form (for render)
// and pkg/scaling's model (for checks and the reconciler).
func decodePolicy(block *hcl.Block, e *evaluator) *Policy {
	return decodePolicyWith(block, e, policySchema)
}

func decodePolicyWith(block *hcl.Block, e *evaluator, schema *hcl.BodySchema) *Policy {
	content, d := block.Body.Content(schema)
	e.add(d)
	p := &Policy{DeclRange: block.DefRange, Model: &scaling.Policy{Enabled: true}}
	m := p.Model
	p.Attrs = e.policyAttrs(content.Attributes)
	a := content.Attributes
	m.EvaluationInterval = e.duration(a, "evaluation_interval", scaling.DefaultEvaluationInterval, block.DefRange).V
	m.Cooldown = e.duration(a, "cooldown", scaling.DefaultCooldown, block.DefRange).V
	m.CooldownOnScaleUp = e.duration(a, "cooldown_on_scale_up", 0, block.DefRange).V
	m.OnCheckError = e.onError(a, "on_check_error", block.DefRange)
	if b := e.onlyOne(content.Blocks.OfType("schedule"), "a scaling policy"); b != nil {
		p.Schedule, m.Schedule = decodeSchedule(b, e)
	}
	m.Behavior = scaling.DefaultBehavior()
	if b := e.onlyOne(content.Blocks.OfType("drover"), "a scaling policy"); b != nil {
		p.Drover = decodeRawBlock(b, droverSchema, e)
		beh, err := scaling.ParseBehavior(p.Drover.Map())
		if err != nil {
			e.errorf(locateBehaviorError(p.Drover, err.Error()), "Invalid drover block", "%s.", err.Error())
		} else {
			m.Behavior = beh
		}
	}
	if m.EvaluationInterval == 0 {
		e.errorf(a["evaluation_interval"].Expr.Range(), "Invalid duration", "evaluation_interval must be longer than zero.")
	}

	for _, b := range e.uniqueLabels(content.Blocks.OfType("check"), "a scaling policy") {
		pc, mc := decodePolicyCheck(b, e)
		p.Checks = append(p.Checks, pc)
		m.Checks = append(m.Checks, mc)
	}
	if b := e.onlyOne(content.Blocks.OfType("target"), "a scaling policy"); b != nil {
		attrs, d := b.Body.JustAttributes()
		e.add(d)
		p.Target = e.policyAttrs(attrs)
		for _, a := range p.Target {
			v := PolicyValueString(a.Value)
			switch a.Name {
			case "Job":
				m.Target.Job = v
			case "Group":
				m.Target.Group = v
			case "Namespace":
				m.Target.Namespace = v
			}
		}
	}
	if len(p.Checks) == 0 {
		e.errorf(block.DefRange, "Missing policy check", "A scaling policy needs at least one check block; without one the autoscaler has nothing to evaluate.")
	}
	return p
}

func decodePolicyCheck(block *hcl.Block, e *evaluator) (*PolicyCheck, *scaling.Check) {
	content, d := block.Body.Content(policyCheckSchema)
	e.add(d)
	a := content.Attributes
	pc := &PolicyCheck{Name: block.Labels[0], DeclRange: block.DefRange, Attrs: e.policyAttrs(a)}
	mc := &scaling.Check{
		Name:    pc.Name,
		Source:  e.str(a, "source", scaling.DefaultSource, block.DefRange).V,
		Query:   e.str(a, "query", "", block.DefRange).V,
		OnError: e.onError(a, "on_error", block.DefRange),
		Group:   e.str(a, "group", "", block.DefRange).V,
	}
	if w := e.str(a, "query_window", "", block.DefRange); w.Set && w.V == "instant" {
		mc.Instant = true
	} else {
		mc.QueryWindow = e.duration(a, "query_window", scaling.DefaultQueryWindow, block.DefRange).V
	}
	mc.QueryWindowOffset = e.duration(a, "query_window_offset", 0, block.DefRange).V

	if b := e.onlyOne(content.Blocks.OfType("schedule"), "a policy check"); b != nil {
		pc.Schedule, mc.Schedule = decodeSchedule(b, e)
	}
	strategies := content.Blocks.OfType("strategy")
	if sb := e.onlyOne(strategies, "a policy check"); sb != nil {
		pc.Strategy = decodeStrategy(sb, e)
		cfg := make(map[string]string, len(pc.Strategy.Attrs))
		for _, at := range pc.Strategy.Attrs {
			cfg[at.Name] = PolicyValueString(at.Value)
		}
		mc.Strategy = &scaling.StrategySpec{Name: pc.Strategy.Name, Config: cfg}
		strategy, err := scaling.NewStrategy(mc.Strategy)
		reportStrategyErrors(err, pc.Strategy, e)
		needsQuery := strategy == nil || strategy.NeedsMetrics()
		if needsQuery && mc.Query == "" {
			e.errorf(block.DefRange, "Missing check query", "Check %q uses the %s strategy, which reads a metric, so it needs a query.", pc.Name, pc.Strategy.Name)
		}
	} else {
		e.errorf(block.DefRange, "Missing strategy", "Check %q needs one strategy block, such as strategy \"target-value\" { target = 70 }.", pc.Name)
	}
	if mc.Source == scaling.SourceNomadAPM && mc.Query != "" {
		if err := scaling.ValidateNomadAPMQuery(mc.Query); err != nil {
			e.errorf(a["query"].Expr.Range(), "Invalid nomad-apm query", "%s", err.Error())
		}
	}
	return pc, mc
}

// decodeRawBlock decodes a block (and its nested blocks, by schema) into
// raw values, to pass to Nomad as written.
func decodeRawBlock(block *hcl.Block, schema *hcl.BodySchema, e *evaluator) *PolicyBlock {
	content, d := block.Body.Content(schema)
	e.add(d)
	pb := &PolicyBlock{Type: block.Type, DeclRange: block.DefRange, Attrs: e.policyAttrs(content.Attributes)}
	nested := map[string]*hcl.BodySchema{"scale_up": droverDirectionSchema, "scale_down": droverDirectionSchema, "rate": droverRateSchema}
	for _, b := range content.Blocks {
		if s, ok := nested[b.Type]; ok {
			pb.Blocks = append(pb.Blocks, decodeRawBlock(b, s, e))
		}
	}
	return pb
}

// decodeSchedule decodes a schedule block: a start cron expression and
// either an end cron expression or a duration.
func decodeSchedule(block *hcl.Block, e *evaluator) (*PolicySchedule, *scaling.Schedule) {
	content, d := block.Body.Content(scheduleSchema)
	e.add(d)
	a := content.Attributes
	ps := &PolicySchedule{DeclRange: block.DefRange, Attrs: e.policyAttrs(a)}
	s := &scaling.Schedule{
		Start: e.cron(a, "start", block.DefRange),
		End:   e.cron(a, "end", block.DefRange),
	}
	dur := e.duration(a, "duration", 0, block.DefRange)
	if dur.Set {
		s.Duration = dur.V
	}
	switch {
	case s.End != "" && dur.Set:
		e.errorf(dur.Range, "Conflicting schedule end", "A schedule ends either at an end cron expression or after a duration, not both.")
	case s.End == "" && !dur.Set:
		e.errorf(block.DefRange, "Missing schedule end", "A schedule needs an end cron expression or a duration.")
	}
	return ps, s
}

func decodeStrategy(block *hcl.Block, e *evaluator) *PolicyStrategy {
	attrs, d := block.Body.JustAttributes()
	e.add(d)
	return &PolicyStrategy{
		Name:      block.Labels[0],
		NameRange: block.LabelRanges[0],
		DeclRange: block.DefRange,
		Attrs:     e.policyAttrs(attrs),
	}
}

// reportStrategyErrors turns pkg/scaling's configuration errors into
// diagnostics at the key they are about.
func reportStrategyErrors(err error, s *PolicyStrategy, e *evaluator) {
	if err == nil {
		return
	}
	var problems scaling.ConfigErrors
	if !errors.As(err, &problems) {
		e.errorf(s.DeclRange, "Invalid strategy", "%s", err.Error())
		return
	}
	for _, p := range problems {
		rng := s.DeclRange
		switch {
		case p.Key != "":
			for _, at := range s.Attrs {
				if at.Name == p.Key {
					rng = at.Range
				}
			}
		case p.Summary == "Unknown scaling strategy":
			rng = s.NameRange
		}
		e.errorf(rng, p.Summary, "%s", p.Detail)
	}
}

// policyAttrs evaluates a policy-level attribute set into raw values, in
// source order. Policy values are strings, numbers or bools, as in the
// Autoscaler's format.
func (e *evaluator) policyAttrs(attrs hcl.Attributes) []*PolicyAttr {
	out := make([]*PolicyAttr, 0, len(attrs))
	for _, attr := range attrs {
		v, d := attr.Expr.Value(e.ctx)
		e.add(d)
		if d.HasErrors() {
			continue
		}
		var value any
		switch {
		case v.IsNull() || !v.IsWhollyKnown():
			e.errorf(attr.Expr.Range(), "Invalid value", "The value of %q must be a known string, number or bool.", attr.Name)
			continue
		case v.Type() == cty.String:
			if r := controlChar(v.AsString()); r >= 0 {
				e.controlError(attr.Expr.Range(), fmt.Sprintf("The value of %q", attr.Name), r)
				continue
			}
			value = v.AsString()
		case v.Type() == cty.Number:
			f, _ := v.AsBigFloat().Float64()
			if i, acc := v.AsBigFloat().Int64(); acc == big.Exact {
				value = i
			} else {
				value = f
			}
		case v.Type() == cty.Bool:
			value = v.True()
		default:
			e.errorf(attr.Expr.Range(), "Incorrect attribute value type", "The value of %q must be a string, number or bool, as the Autoscaler's policy format requires.", attr.Name)
			continue
		}
		out = append(out, &PolicyAttr{Name: attr.Name, Value: value, Range: attr.Expr.Range()})
	}
	sortAttrsBySource(out)
	return out
}

func sortAttrsBySource(attrs []*PolicyAttr) {
	for i := 1; i < len(attrs); i++ {
		for j := i; j > 0 && attrs[j].Range.Start.Byte < attrs[j-1].Range.Start.Byte; j-- {
			attrs[j], attrs[j-1] = attrs[j-1], attrs[j]
		}
	}
}

// PolicyValueString renders a policy value the way strategy plugins receive
// it: as a string.
func PolicyValueString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

func (e *evaluator) onError(attrs hcl.Attributes, name string, fallback hcl.Range) string {
	v := e.str(attrs, name, "", fallback)
	if v.Set && v.V != scaling.OnErrorIgnore && v.V != scaling.OnErrorFail {
		e.errorf(v.Range, "Invalid "+name, "%s must be %q or %q, not %q.", name, scaling.OnErrorIgnore, scaling.OnErrorFail, v.V)
		return ""
	}
	return v.V
}

// locateBehaviorError finds the attribute or block of a drover block that a
// scaling.ParseBehavior error names ("scale_down.tolerance: ...",
// "scale_up: select must be ..."), so the diagnostic points at it.
func locateBehaviorError(pb *PolicyBlock, msg string) hcl.Range {
	cur, at := pb, pb.DeclRange
	head, rest, found := strings.Cut(msg, ":")
	if !found {
		head, rest = "", msg
	}
	attrNamed := func(b *PolicyBlock, text string) *PolicyAttr {
		for _, a := range b.Attrs {
			if strings.HasPrefix(strings.TrimSpace(text), a.Name) {
				return a
			}
		}
		return nil
	}
	for _, seg := range strings.Split(head, ".") {
		var next *PolicyBlock
		for _, child := range cur.Blocks {
			if child.Type == seg {
				next = child
				break
			}
		}
		if next == nil {
			if a := attrNamed(cur, seg); a != nil && seg != "" {
				return a.Range
			}
			break
		}
		cur, at = next, next.DeclRange
	}
	if a := attrNamed(cur, rest); a != nil {
		return a.Range
	}
	for _, child := range cur.Blocks {
		if strings.Contains(rest, child.Type) {
			return child.DeclRange
		}
	}
	return at
}

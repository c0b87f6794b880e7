package spec

import (
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/drover-io/drover/internal/hclbody"
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

// decodePolicyWith decodes the HCL of a policy into its raw form, keeping
// every range, then builds the form Nomad stores (NomadMap) and reads it
// with the policy language's one parser, scaling.ParseNomadPolicy: what the
// spec accepts is exactly what `drover autoscale` runs. The parser's
// problems come back with key paths, which find their ranges here.
func decodePolicyWith(block *hcl.Block, e *evaluator, schema *hcl.BodySchema) *Policy {
	content, d := hclbody.Content(block.Body, schema)
	e.add(d)
	p := &Policy{DeclRange: block.DefRange}
	p.Attrs = e.policyAttrs(content.Attributes)
	if b := e.onlyOne(content.Blocks.OfType("schedule"), "a scaling policy"); b != nil {
		p.Schedule = decodeSchedule(b, e)
	}
	if b := e.onlyOne(content.Blocks.OfType("drover"), "a scaling policy"); b != nil {
		p.Drover = decodeRawBlock(b, droverSchema, e)
	}
	for _, b := range e.uniqueLabels(content.Blocks.OfType("check"), "a scaling policy") {
		p.Checks = append(p.Checks, decodePolicyCheck(b, e))
	}
	if b := e.onlyOne(content.Blocks.OfType("target"), "a scaling policy"); b != nil {
		attrs, d := b.Body.JustAttributes()
		e.add(d)
		p.Target = e.policyAttrs(attrs)
	}
	// The bounds live outside the policy block; the spec checks them
	// where they are written.
	model, _ := scaling.ParseNomadPolicy(scaling.NomadPolicy{ID: "spec", Enabled: true, Min: 0, Max: math.MaxInt64, Policy: p.NomadMap()})
	for _, pr := range model.Problems {
		if pr.Summary == "Missing schedule start" {
			continue // the schema requires start and says so
		}
		rng := p.problemRange(pr)
		if pr.Level == scaling.LevelWarning {
			e.warnf(rng, pr.Summary, "%s", sentence(pr.Detail))
		} else {
			e.errorf(rng, pr.Summary, "%s", sentence(pr.Detail))
		}
	}
	// Nomad's maps keep no order and the parser sorts checks by name; the
	// spec knows the order they were written in.
	order := make(map[string]int, len(p.Checks))
	for i, c := range p.Checks {
		order[c.Name] = i
	}
	sort.SliceStable(model.Checks, func(i, j int) bool { return order[model.Checks[i].Name] < order[model.Checks[j].Name] })
	model.Enabled = true
	p.Model = model
	return p
}

func sentence(s string) string {
	if s == "" || strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}

// NomadMap is the policy in the form Nomad stores a jobspec `policy` block
// in: every block a one-element list, a labeled block one more level keyed
// by its label (jobspec2 parse_map.go; the Autoscaler's policy/nomad test
// fixtures). Strategy values are strings: the Autoscaler formats them with
// %v, which would turn a large float into "1e+06" and break its integer
// parsing.
func (p *Policy) NomadMap() map[string]any {
	m := attrMap(p.Attrs, false)
	if p.Schedule != nil {
		m["schedule"] = []any{attrMap(p.Schedule.Attrs, false)}
	}
	if p.Drover != nil {
		m["drover"] = []any{p.Drover.Map()}
	}
	var checks []any
	for _, c := range p.Checks {
		body := attrMap(c.Attrs, false)
		if c.Strategy != nil {
			body["strategy"] = []any{map[string]any{c.Strategy.Name: []any{attrMap(c.Strategy.Attrs, true)}}}
		}
		if c.Schedule != nil {
			body["schedule"] = []any{attrMap(c.Schedule.Attrs, false)}
		}
		checks = append(checks, map[string]any{c.Name: []any{body}})
	}
	if len(checks) > 0 {
		m["check"] = checks
	}
	if p.Target != nil {
		// drover scales task groups: the target is always Nomad's.
		m["target"] = []any{map[string]any{"nomad": []any{attrMap(p.Target, false)}}}
	}
	return m
}

func attrMap(attrs []*PolicyAttr, asStrings bool) map[string]any {
	m := make(map[string]any, len(attrs))
	for _, a := range attrs {
		if asStrings {
			m[a.Name] = PolicyValueString(a.Value)
		} else {
			m[a.Name] = a.Value
		}
	}
	return m
}

// problemRange finds the tightest range for a parser problem from its key
// path: the attribute, else the innermost block the path reaches (its
// label for a problem about the label).
func (p *Policy) problemRange(pr *scaling.Problem) hcl.Range {
	path := pr.Path
	attrIn := func(attrs []*PolicyAttr, name string, fallback hcl.Range) hcl.Range {
		for _, a := range attrs {
			if a.Name == name {
				return a.Range
			}
		}
		return fallback
	}
	if len(path) == 0 {
		return p.DeclRange
	}
	switch path[0] {
	case "check":
		if len(path) < 2 {
			return p.DeclRange
		}
		for _, c := range p.Checks {
			if c.Name != path[1] {
				continue
			}
			rest := path[2:]
			switch {
			case len(rest) == 0:
				return c.DeclRange
			case rest[0] == "strategy" && c.Strategy != nil:
				if len(rest) <= 2 {
					if pr.Label {
						return c.Strategy.NameRange
					}
					return c.Strategy.DeclRange
				}
				return attrIn(c.Strategy.Attrs, rest[2], c.Strategy.DeclRange)
			case rest[0] == "schedule" && c.Schedule != nil:
				if len(rest) == 1 {
					return c.Schedule.DeclRange
				}
				return attrIn(c.Schedule.Attrs, rest[1], c.Schedule.DeclRange)
			}
			return attrIn(c.Attrs, rest[0], c.DeclRange)
		}
	case "drover":
		if p.Drover == nil {
			return p.DeclRange
		}
		cur := p.Drover
		for _, seg := range path[1:] {
			var next *PolicyBlock
			for _, b := range cur.Blocks {
				if b.Type == seg {
					next = b
					break
				}
			}
			if next == nil {
				return attrIn(cur.Attrs, seg, cur.DeclRange)
			}
			cur = next
		}
		return cur.DeclRange
	case "schedule":
		if p.Schedule == nil {
			return p.DeclRange
		}
		if len(path) == 1 {
			return p.Schedule.DeclRange
		}
		return attrIn(p.Schedule.Attrs, path[1], p.Schedule.DeclRange)
	}
	return attrIn(p.Attrs, path[0], p.DeclRange)
}

func decodePolicyCheck(block *hcl.Block, e *evaluator) *PolicyCheck {
	content, d := hclbody.Content(block.Body, policyCheckSchema)
	e.add(d)
	pc := &PolicyCheck{Name: block.Labels[0], DeclRange: block.DefRange, Attrs: e.policyAttrs(content.Attributes)}
	if b := e.onlyOne(content.Blocks.OfType("schedule"), "a policy check"); b != nil {
		pc.Schedule = decodeSchedule(b, e)
	}
	if sb := e.onlyOne(content.Blocks.OfType("strategy"), "a policy check"); sb != nil {
		pc.Strategy = decodeStrategy(sb, e)
	}
	return pc
}

// decodeRawBlock decodes a block (and its nested blocks, by schema) into
// raw values, to pass to Nomad as written.
func decodeRawBlock(block *hcl.Block, schema *hcl.BodySchema, e *evaluator) *PolicyBlock {
	content, d := hclbody.Content(block.Body, schema)
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
// either an end cron expression or a duration (the parser checks which).
func decodeSchedule(block *hcl.Block, e *evaluator) *PolicySchedule {
	content, d := hclbody.Content(block.Body, scheduleSchema)
	e.add(d)
	a := content.Attributes
	e.cron(a, "start", block.DefRange)
	e.cron(a, "end", block.DefRange)
	return &PolicySchedule{DeclRange: block.DefRange, Attrs: e.policyAttrs(a)}
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

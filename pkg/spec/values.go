package spec

import (
	"fmt"
	"math"
	"sort"
	"time"
	"unicode"

	"github.com/hashicorp/cronexpr"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// evaluator evaluates attribute expressions in one eval context and
// collects the diagnostics of every failure, so decoding goes on after an
// error and reports them all.
type evaluator struct {
	ctx   *hcl.EvalContext
	diags hcl.Diagnostics
}

func (e *evaluator) add(d hcl.Diagnostics) { e.diags = append(e.diags, d...) }

func (e *evaluator) errorf(rng hcl.Range, summary, format string, args ...any) {
	e.diags = append(e.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: rng.Ptr(),
	})
}

func (e *evaluator) warnf(rng hcl.Range, summary, format string, args ...any) {
	e.diags = append(e.diags, &hcl.Diagnostic{
		Severity: hcl.DiagWarning, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: rng.Ptr(),
	})
}

// eval evaluates an attribute and converts it to ty. ok is false (and a
// diagnostic recorded) when the value is missing, null or of the wrong type.
func (e *evaluator) eval(attr *hcl.Attribute, ty cty.Type, what string) (cty.Value, bool) {
	v, d := attr.Expr.Value(e.ctx)
	e.add(d)
	if d.HasErrors() {
		return cty.NilVal, false
	}
	if v.IsNull() {
		e.errorf(attr.Expr.Range(), "Invalid value", "The value of %q must not be null.", attr.Name)
		return cty.NilVal, false
	}
	if !v.IsWhollyKnown() {
		// Only a variable without a value is unknown, and that is
		// reported once where the variable is declared.
		return cty.NilVal, false
	}
	cv, err := convert.Convert(v, ty)
	if err != nil {
		e.errorf(attr.Expr.Range(), "Incorrect attribute value type",
			"The value of %q must be %s: %s.", attr.Name, what, err.Error())
		return cty.NilVal, false
	}
	if r := controlIn(cv); r >= 0 {
		e.controlError(attr.Expr.Range(), fmt.Sprintf("The value of %q", attr.Name), r)
		return cty.NilVal, false
	}
	return cv, true
}

// controlIn returns the first control character in any string of v (see
// controlChar), or -1.
func controlIn(v cty.Value) rune {
	bad := rune(-1)
	_ = cty.Walk(v, func(_ cty.Path, v cty.Value) (bool, error) {
		if bad < 0 && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
			bad = controlChar(v.AsString())
		}
		return bad < 0, nil
	})
	return bad
}

// controlError reports control character r in what ("The value of ...").
func (e *evaluator) controlError(rng hcl.Range, what string, r rune) {
	e.errorf(rng, "Control character in string",
		"%s contains the control character %U. Text may hold tabs and line breaks but no other control characters, which would reach the job, its logs and terminals.", what, r)
}

// controlChar returns the first control character of s other than tab,
// newline and carriage return, which text may hold (heredocs do), or -1.
func controlChar(s string) rune {
	for _, r := range s {
		if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
			return r
		}
	}
	return -1
}

// str decodes a string attribute; a missing attribute yields def with Set
// false and the given fallback range.
func (e *evaluator) str(attrs hcl.Attributes, name, def string, fallback hcl.Range) Val[string] {
	attr, ok := attrs[name]
	if !ok {
		return Val[string]{V: def, Range: fallback}
	}
	v, ok := e.eval(attr, cty.String, "a string")
	if !ok {
		return Val[string]{V: def, Range: attr.Expr.Range()}
	}
	return Val[string]{V: v.AsString(), Set: true, Range: attr.Expr.Range()}
}

// integer decodes a whole-number attribute.
func (e *evaluator) integer(attrs hcl.Attributes, name string, def int, fallback hcl.Range) Val[int] {
	attr, ok := attrs[name]
	if !ok {
		return Val[int]{V: def, Range: fallback}
	}
	v, ok := e.eval(attr, cty.Number, "a whole number")
	if !ok {
		return Val[int]{V: def, Range: attr.Expr.Range()}
	}
	bf := v.AsBigFloat()
	i, _ := bf.Int64() // clamped to the int64 range, outside ours anyway
	switch {
	case !bf.IsInt():
		e.errorf(attr.Expr.Range(), "Incorrect attribute value type", "The value of %q must be a whole number, not %s.", name, bf.Text('g', -1))
	case i > math.MaxInt32:
		e.errorf(attr.Expr.Range(), "Number too large", "The value of %q is %s; the largest whole number allowed is %d.", name, bf.Text('g', -1), math.MaxInt32)
	case i < math.MinInt32:
		e.errorf(attr.Expr.Range(), "Number too small", "The value of %q is %s; the smallest whole number allowed is %d.", name, bf.Text('g', -1), math.MinInt32)
	default:
		return Val[int]{V: int(i), Set: true, Range: attr.Expr.Range()}
	}
	return Val[int]{V: def, Range: attr.Expr.Range()}
}

// boolean decodes a bool attribute.
func (e *evaluator) boolean(attrs hcl.Attributes, name string, def bool, fallback hcl.Range) Val[bool] {
	attr, ok := attrs[name]
	if !ok {
		return Val[bool]{V: def, Range: fallback}
	}
	v, ok := e.eval(attr, cty.Bool, "true or false")
	if !ok {
		return Val[bool]{V: def, Range: attr.Expr.Range()}
	}
	return Val[bool]{V: v.True(), Set: true, Range: attr.Expr.Range()}
}

// strings decodes a list-of-strings attribute.
func (e *evaluator) strings(attrs hcl.Attributes, name string, fallback hcl.Range) Val[[]string] {
	attr, ok := attrs[name]
	if !ok {
		return Val[[]string]{Range: fallback}
	}
	v, ok := e.eval(attr, cty.List(cty.String), "a list of strings")
	if !ok {
		return Val[[]string]{Range: attr.Expr.Range()}
	}
	out := make([]string, 0, v.LengthInt())
	for it := v.ElementIterator(); it.Next(); {
		_, el := it.Element()
		if el.IsNull() {
			e.errorf(attr.Expr.Range(), "Invalid value", "The list %q must not contain null.", name)
			continue
		}
		out = append(out, el.AsString())
	}
	return Val[[]string]{V: out, Set: true, Range: attr.Expr.Range()}
}

// duration decodes a Go duration string such as "10s" or "2m".
func (e *evaluator) duration(attrs hcl.Attributes, name string, def time.Duration, fallback hcl.Range) Val[time.Duration] {
	s := e.str(attrs, name, "", fallback)
	if !s.Set {
		return Val[time.Duration]{V: def, Range: s.Range}
	}
	d, err := time.ParseDuration(s.V)
	if err != nil {
		e.errorf(s.Range, "Invalid duration", "The value of %q must be a duration such as \"30s\", \"5m\" or \"1h30m\", not %q.", name, s.V)
		return Val[time.Duration]{V: def, Range: s.Range}
	}
	if d < 0 {
		e.errorf(s.Range, "Invalid duration", "The value of %q must not be negative.", name)
		return Val[time.Duration]{V: def, Range: s.Range}
	}
	return Val[time.Duration]{V: d, Set: true, Range: s.Range}
}

// keyValue is one entry of a string map with the ranges of its key and value.
type keyValue struct {
	Key, Value           string
	KeyRange, ValueRange hcl.Range
}

// stringMap decodes a map(string) attribute, keeping per-entry ranges when
// the value is written as an object literal so that a diagnostic about one
// entry points at that entry. Entries come back sorted by key.
func (e *evaluator) stringMap(attr *hcl.Attribute) []keyValue {
	if attr == nil {
		return nil
	}
	var out []keyValue
	if obj, ok := attr.Expr.(*hclsyntax.ObjectConsExpr); ok {
		seen := map[string]hcl.Range{}
		for _, item := range obj.Items {
			kv, d := item.KeyExpr.Value(e.ctx)
			e.add(d)
			if d.HasErrors() {
				continue
			}
			kv, err := convert.Convert(kv, cty.String)
			if err != nil || kv.IsNull() || !kv.IsKnown() {
				e.errorf(item.KeyExpr.Range(), "Invalid map key", "A key in %q must be a string.", attr.Name)
				continue
			}
			key := kv.AsString()
			if prev, dup := seen[key]; dup {
				e.errorf(item.KeyExpr.Range(), "Duplicate map key", "The key %q is already set in %q at line %d.", key, attr.Name, prev.Start.Line)
				continue
			}
			seen[key] = item.KeyExpr.Range()
			vv, d := item.ValueExpr.Value(e.ctx)
			e.add(d)
			if d.HasErrors() {
				continue
			}
			vs, err := convert.Convert(vv, cty.String)
			if err != nil || vs.IsNull() || !vs.IsKnown() {
				e.errorf(item.ValueExpr.Range(), "Incorrect attribute value type", "The value of %q in %q must be a string, number or bool.", key, attr.Name)
				continue
			}
			if r := controlChar(key); r >= 0 {
				e.controlError(item.KeyExpr.Range(), fmt.Sprintf("A key in %q", attr.Name), r)
				continue
			}
			if r := controlChar(vs.AsString()); r >= 0 {
				e.controlError(item.ValueExpr.Range(), fmt.Sprintf("The value of %q in %q", key, attr.Name), r)
				continue
			}
			out = append(out, keyValue{Key: key, Value: vs.AsString(), KeyRange: item.KeyExpr.Range(), ValueRange: item.ValueExpr.Range()})
		}
	} else {
		v, ok := e.eval(attr, cty.Map(cty.String), "a map of strings")
		if !ok {
			return nil
		}
		for it := v.ElementIterator(); it.Next(); {
			k, el := it.Element()
			if el.IsNull() {
				e.errorf(attr.Expr.Range(), "Invalid value", "The value of %q in %q must not be null.", k.AsString(), attr.Name)
				continue
			}
			out = append(out, keyValue{Key: k.AsString(), Value: el.AsString(), KeyRange: attr.Expr.Range(), ValueRange: attr.Expr.Range()})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// onlyOne reports every block after the first of a type that may appear once.
func (e *evaluator) onlyOne(blocks hcl.Blocks, what string) *hcl.Block {
	if len(blocks) == 0 {
		return nil
	}
	for _, b := range blocks[1:] {
		e.errorf(b.DefRange, "Duplicate "+b.Type+" block",
			"Only one %s block is allowed in %s; the first is at line %d.", b.Type, what, blocks[0].DefRange.Start.Line)
	}
	return blocks[0]
}

// uniqueLabels reports blocks whose first label repeats an earlier block's.
// It returns the blocks to decode: the first of each label.
func (e *evaluator) uniqueLabels(blocks hcl.Blocks, what string) hcl.Blocks {
	seen := make(map[string]*hcl.Block, len(blocks))
	out := blocks[:0:0]
	for _, b := range blocks {
		if first, dup := seen[b.Labels[0]]; dup {
			e.errorf(b.LabelRanges[0], "Duplicate "+b.Type+" block",
				"A %s block named %q is already defined in %s at line %d.", b.Type, b.Labels[0], what, first.DefRange.Start.Line)
			continue
		}
		seen[b.Labels[0]] = b
		out = append(out, b)
	}
	return out
}

// cron decodes a cron expression attribute, checked with the same parser
// Nomad and the Autoscaler use. It returns "" when the attribute is absent.
func (e *evaluator) cron(attrs hcl.Attributes, name string, fallback hcl.Range) string {
	v := e.str(attrs, name, "", fallback)
	if !v.Set {
		return ""
	}
	if _, err := cronexpr.Parse(v.V); err != nil {
		e.errorf(v.Range, "Invalid cron expression", "The value of %q must be a cron expression such as \"0 9 * * 1-5\": %s.", name, err.Error())
	}
	return v.V
}

package spec

import (
	"fmt"
	"github.com/agext/levenshtein"
	"os"
	"sort"
	"strings"

	"github.com/drover-io/drover/internal/hclbody"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// EnvVarPrefix starts the environment variables that set spec variables:
// DROVER_VAR_version=1.4.3 sets var.version.
const EnvVarPrefix = "DROVER_VAR_"

// Variable is a `variable` block: a named input of the specs.
type Variable struct {
	Name        string
	Description string
	Type        cty.Type
	// Default is cty.NilVal when the variable is required.
	Default   cty.Value
	DeclRange hcl.Range
	// File is the display name of the declaring file; project variables are
	// visible to every spec file, others only to their own file.
	File string
}

func decodeVariable(block *hcl.Block, e *evaluator, file string) *Variable {
	v := &Variable{Name: block.Labels[0], DeclRange: block.DefRange, Type: cty.DynamicPseudoType, File: file}
	if !hclsyntax.ValidIdentifier(v.Name) {
		e.errorf(block.LabelRanges[0], "Invalid variable name", "A variable name must start with a letter and contain only letters, digits, underscores and dashes.")
	}
	content, d := hclbody.Content(block.Body, variableSchema)
	e.add(d)
	a := content.Attributes
	if attr, ok := a["type"]; ok {
		ty, d := typeexpr.TypeConstraint(attr.Expr)
		e.add(d)
		if !d.HasErrors() {
			v.Type = ty
		}
	}
	v.Description = e.str(a, "description", "", block.DefRange).V
	if attr, ok := a["default"]; ok {
		// Defaults are constants: they cannot refer to other variables.
		val, d := attr.Expr.Value(nil)
		e.add(d)
		if !d.HasErrors() {
			cv, err := convert.Convert(val, v.Type)
			if err != nil {
				e.errorf(attr.Expr.Range(), "Invalid default value", "The default of variable %q does not match its type: %s.", v.Name, err.Error())
				v.Default = cty.UnknownVal(v.Type) // reported; not "required" as well
			} else {
				v.Default = cv
			}
		}
	}
	return v
}

// varValue is a variable's value with where it came from, for diagnostics.
type varValue struct {
	Value  cty.Value
	Source string
}

// VarInputs are the ways a user sets variables, from weakest to strongest:
// DROVER_VAR_* in Environ, then VarFiles in order, then Vars in order.
type VarInputs struct {
	// Vars are "name=value" pairs from -var flags.
	Vars []string
	// VarFiles are paths of HCL files of name = value lines.
	VarFiles []string
	// Environ is the process environment, as os.Environ returns it.
	Environ []string
}

// resolveVariables assigns every declared variable a value from inputs or
// its default, reporting undeclared -var names and missing required values.
func resolveVariables(decls map[string][]*Variable, in VarInputs, p *parseCache) (map[*Variable]cty.Value, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	raw := map[string]varValue{}
	typeOf := func(name string) cty.Type {
		if vs := decls[name]; len(vs) > 0 {
			return vs[0].Type
		}
		return cty.DynamicPseudoType
	}

	for _, kv := range in.Environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvVarPrefix) {
			continue
		}
		name = strings.TrimPrefix(name, EnvVarPrefix)
		if _, declared := decls[name]; !declared {
			continue // like TF_VAR_*, an undeclared one is not an error
		}
		v, d := parseRawVar(name, value, typeOf(name), "environment variable "+EnvVarPrefix+name)
		diags = append(diags, d...)
		raw[name] = varValue{Value: v, Source: EnvVarPrefix + name}
	}

	for _, path := range in.VarFiles {
		src, err := os.ReadFile(path)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read variables file", Detail: err.Error() + "."})
			continue
		}
		f, d := p.parse(src, path)
		diags = append(diags, d...)
		if f == nil {
			continue
		}
		attrs, d := f.Body.JustAttributes()
		diags = append(diags, d...)
		for _, attr := range sortedAttrs(attrs) {
			if _, declared := decls[attr.Name]; !declared {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagWarning, Summary: "Value for undeclared variable",
					Detail:  fmt.Sprintf("No spec declares a variable named %q, so this value is not used.", attr.Name),
					Subject: attr.NameRange.Ptr(),
				})
				continue
			}
			val, d := attr.Expr.Value(nil)
			diags = append(diags, d...)
			if d.HasErrors() {
				continue
			}
			cv, err := convert.Convert(val, typeOf(attr.Name))
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
					Detail: fmt.Sprintf("The value of %q does not match its type: %s.", attr.Name, err.Error()), Subject: attr.Expr.Range().Ptr()})
				continue
			}
			raw[attr.Name] = varValue{Value: cv, Source: path}
		}
	}

	for _, kv := range in.Vars {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid -var option",
				Detail: fmt.Sprintf("The option -var %q must have the form name=value.", kv)})
			continue
		}
		if _, declared := decls[name]; !declared {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Value for undeclared variable",
				Detail: fmt.Sprintf("-var sets %q, but no spec declares a variable of that name%s.", name, suggestFrom(name, keysOf(decls)))})
			continue
		}
		v, d := parseRawVar(name, value, typeOf(name), "-var "+name)
		diags = append(diags, d...)
		raw[name] = varValue{Value: v, Source: "-var"}
	}

	// Each declaration gets its own value: the given one converted to its
	// type, or its default. Two files may declare the same name with
	// different defaults; -var sets both.
	values := map[*Variable]cty.Value{}
	for name, vs := range decls {
		for _, v := range vs {
			got, given := raw[name]
			switch {
			case given && got.Value != cty.NilVal:
				cv, err := convert.Convert(got.Value, v.Type)
				if err != nil {
					diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
						Detail:  fmt.Sprintf("The value of %q from %s does not match the type declared here: %s.", name, got.Source, err.Error()),
						Subject: v.DeclRange.Ptr()})
					cv = cty.UnknownVal(v.Type)
				}
				values[v] = cv
			case v.Default != cty.NilVal:
				values[v] = v.Default
			default:
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "No value for required variable",
					Detail:  fmt.Sprintf("Variable %q has no default, so it needs a value: -var %s=..., a -var-file, or %s%s.", name, name, EnvVarPrefix, name),
					Subject: v.DeclRange.Ptr()})
				values[v] = cty.UnknownVal(v.Type)
			}
		}
	}
	return values, diags
}

// parseRawVar turns a command-line or environment string into a value of ty:
// strings are taken as they are, other types are parsed as HCL expressions
// (so -var 'hosts=["a","b"]' works), as Terraform does.
func parseRawVar(name, raw string, ty cty.Type, source string) (cty.Value, hcl.Diagnostics) {
	if ty == cty.String || ty == cty.DynamicPseudoType {
		return cty.StringVal(raw), nil
	}
	expr, d := hclsyntax.ParseExpression([]byte(raw), source, hcl.InitialPos)
	if d.HasErrors() {
		return cty.NilVal, d
	}
	v, d := expr.Value(nil)
	if d.HasErrors() {
		return cty.NilVal, d
	}
	cv, err := convert.Convert(v, ty)
	if err != nil {
		return cty.NilVal, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid value for variable",
			Detail: fmt.Sprintf("The value of %q from %s does not match its type: %s.", name, source, err.Error())}}
	}
	return cv, nil
}

// functions are the functions spec expressions may call: a small, pure set.
var functions = map[string]function.Function{
	"coalesce":   stdlib.CoalesceFunc,
	"concat":     stdlib.ConcatFunc,
	"format":     stdlib.FormatFunc,
	"join":       stdlib.JoinFunc,
	"jsonencode": stdlib.JSONEncodeFunc,
	"length":     stdlib.LengthFunc,
	"lower":      stdlib.LowerFunc,
	"max":        stdlib.MaxFunc,
	"merge":      stdlib.MergeFunc,
	"min":        stdlib.MinFunc,
	"replace":    stdlib.ReplaceFunc,
	"split":      stdlib.SplitFunc,
	"trimspace":  stdlib.TrimSpaceFunc,
	"upper":      stdlib.UpperFunc,
}

// evalContext builds the context a file's expressions see: var.* (the
// project's variables and the file's own), drover.environment,
// drover.project, and the functions above.
func evalContext(values map[*Variable]cty.Value, visible []*Variable, env, project string) *hcl.EvalContext {
	vars := make(map[string]cty.Value, len(visible))
	for _, v := range visible {
		vars[v.Name] = values[v]
	}
	return &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"var": cty.ObjectVal(vars),
			"drover": cty.ObjectVal(map[string]cty.Value{
				"environment": cty.StringVal(env),
				"project":     cty.StringVal(project),
			}),
		},
		Functions: functions,
	}
}

func sortedAttrs(attrs hcl.Attributes) []*hcl.Attribute {
	out := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Range.Start.Byte < out[j].Range.Start.Byte })
	return out
}

func keysOf[V any](m map[string]V) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

// suggestFrom returns ` (did you mean "x"?)` for a close known name, or "".
func suggestFrom(given string, known map[string]bool) string {
	names := make([]string, 0, len(known))
	for k := range known {
		names = append(names, k)
	}
	sort.Strings(names)
	if s := nameSuggestion(given, names); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

func nameSuggestion(given string, names []string) string {
	for _, n := range names {
		if levenshtein.Distance(given, n, nil) <= 2 {
			return n
		}
	}
	return ""
}

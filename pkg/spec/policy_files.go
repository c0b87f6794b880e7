package spec

import (
	"os"
	"path/filepath"
	"sort"

	"github.com/drover-io/drover/internal/hclbody"
	"github.com/hashicorp/hcl/v2"

	"github.com/drover-io/drover/pkg/scaling"
)

// Policy files are the Nomad Autoscaler's own format (its policy_dir):
//
//	scaling "api-cpu" {
//	  enabled = true
//	  min     = 1
//	  max     = 10
//	  policy {
//	    check "cpu" { ... }
//	    target "nomad" {
//	      Job   = "api"
//	      Group = "api"
//	    }
//	  }
//	}
var policyFileSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{{Type: "scaling", LabelNames: []string{"name"}}},
}

var filePolicyScalingSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "enabled"},
		{Name: "min"},
		{Name: "max", Required: true},
		{Name: "type"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "policy"}},
}

// filePolicySchema is a jobspec policy plus the target block.
var filePolicySchema = &hcl.BodySchema{
	Attributes: policySchema.Attributes,
	Blocks:     append(append([]hcl.BlockHeaderSchema{}, policySchema.Blocks...), hcl.BlockHeaderSchema{Type: "target", LabelNames: []string{"plugin"}}),
}

// PolicyFiles are the policies of a policy directory with their parsed
// files, for diagnostics.
type PolicyFiles struct {
	Policies []*scaling.Policy
	Files    map[string]*hcl.File
}

// LoadPolicyFiles reads every *.hcl file in dir as Autoscaler policy files,
// checks them with the same rules as spec policies, and returns the
// policies that are valid with every diagnostic. A policy's ID is
// "file:<name>".
func LoadPolicyFiles(dir string) (*PolicyFiles, hcl.Diagnostics) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.hcl"))
	if err != nil {
		return &PolicyFiles{Files: map[string]*hcl.File{}}, errorDiag("Cannot read policy directory", err.Error())
	}
	sort.Strings(paths)
	return LoadPolicyFilesFrom(paths)
}

// LoadPolicyFilesFrom reads the given policy files.
func LoadPolicyFilesFrom(paths []string) (*PolicyFiles, hcl.Diagnostics) {
	out := &PolicyFiles{Files: map[string]*hcl.File{}}
	var diags hcl.Diagnostics
	seen := map[string]hcl.Range{}
	for _, path := range paths {
		src, err := os.ReadFile(path)
		if err != nil {
			diags = append(diags, errorDiag("Cannot read policy file", err.Error())...)
			continue
		}
		f, d := parseHCL(src, path)
		diags = append(diags, d...)
		if f == nil {
			continue
		}
		out.Files[path] = f
		content, d := hclbody.Content(f.Body, policyFileSchema)
		diags = append(diags, d...)
		for _, b := range content.Blocks {
			e := &evaluator{ctx: evalContext(nil, nil, "", "")}
			p := decodeFilePolicy(b, e)
			if prev, dup := seen[b.Labels[0]]; dup {
				e.errorf(b.LabelRanges[0], "Duplicate policy", "A policy named %q is already defined at %s:%d.", b.Labels[0], prev.Filename, prev.Start.Line)
			}
			seen[b.Labels[0]] = b.DefRange
			diags = append(diags, e.diags...)
			if p != nil && !e.diags.HasErrors() {
				out.Policies = append(out.Policies, p)
			}
		}
	}
	return out, diags
}

func decodeFilePolicy(block *hcl.Block, e *evaluator) *scaling.Policy {
	content, d := hclbody.Content(block.Body, filePolicyScalingSchema)
	e.add(d)
	a := content.Attributes
	if typ := e.str(a, "type", "horizontal", block.DefRange); typ.V != "horizontal" {
		e.errorf(typ.Range, "Unsupported policy type", "drover autoscale scales task groups (type \"horizontal\"), not %q.", typ.V)
	}
	min := e.integer(a, "min", 0, block.DefRange)
	max := e.integer(a, "max", 0, block.DefRange)
	if max.V < min.V {
		e.errorf(max.Range, "Invalid scaling bounds", "max (%d) must not be less than min (%d).", max.V, min.V)
	}
	pb := e.onlyOne(content.Blocks.OfType("policy"), "a scaling block")
	if pb == nil {
		e.errorf(block.DefRange, "Missing policy", "A scaling block needs a policy block.")
		return nil
	}
	p := decodePolicyWith(pb, e, filePolicySchema)
	m := p.Model
	m.ID = "file:" + block.Labels[0]
	m.Enabled = e.boolean(a, "enabled", true, block.DefRange).V
	m.Min, m.Max = int64(min.V), int64(max.V)
	if m.Target.Job == "" || m.Target.Group == "" {
		e.errorf(pb.DefRange, "Missing policy target", "A policy file needs target \"nomad\" { Job = \"...\"  Group = \"...\" } to say which task group it scales.")
	}
	if m.Target.Namespace == "" {
		m.Target.Namespace = "default"
	}
	for _, f := range scaling.Lint(m) {
		rng := policyFindingRange(p, f)
		if f.Error {
			e.errorf(rng, f.Summary, "%s", f.Detail)
		} else {
			e.warnf(rng, f.Summary, "%s", f.Detail)
		}
	}
	return m
}

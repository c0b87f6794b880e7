package render

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/pkg/jobspec"
	"github.com/drover-io/drover/pkg/spec"
)

// DiagnosticsError reports problems found while rendering, at their source
// ranges: a spec's `nomad { }` block is checked against Nomad's vocabulary
// here, where Nomad's types are known.
type DiagnosticsError struct {
	Diags hcl.Diagnostics
}

func (e *DiagnosticsError) Error() string { return e.Diags.Error() }

// What drover renders itself, and so a nomad block may not set, with where
// to say it instead.
var (
	groupOwned = map[string]string{
		"count":   "set count (or scaling { min max }) in the app",
		"scaling": "use the app's scaling block",
		"update":  "use the app's update block",
	}
	taskOwned = map[string]string{
		"driver":    "set driver on the task (docker, exec or raw_exec)",
		"lifecycle": "use the task's lifecycle block",
		"resources": "use the task's resources block",
		"env":       "use the task's env",
		"vault":     "secrets come only from secret blocks, read through the app's own least-privilege role",
		"identity":  "drover gives the task the workload identities its secrets and nomad_api need",
	}
)

// nomadTaskSchema picks the `task "name"` blocks out of a nomad block.
var nomadTaskSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "task", LabelNames: []string{"name"}}}}

// applyNomadBlock merges an app's nomad block onto its rendered group: the
// group's vocabulary onto the group, each `task "name"` onto the task of
// that name. It refuses what would break drover's invariants: a mesh app's
// network is bridge, and drover owns counts, updates, drivers, resources,
// env and Vault access.
func applyNomadBlock(app *spec.App, group *nomadapi.TaskGroup, mesh bool) hcl.Diagnostics {
	nb := app.Nomad
	if nb == nil {
		return nil
	}
	tasks, rest, diags := nb.Body.PartialContent(nomadTaskSchema)
	var extra nomadapi.TaskGroup
	diags = append(diags, jobspec.Decode(rest, nb.Ctx, &extra, groupOwned)...)
	if len(extra.Networks) > 1 {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "More than one network block",
			Detail: "A group has one network; put every port in it.", Subject: nb.DeclRange.Ptr()})
	}
	if len(extra.Networks) == 1 {
		n := extra.Networks[0]
		if mesh && n.Mode != "" && n.Mode != "bridge" {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "A mesh app's network is bridge",
				Detail:  fmt.Sprintf("App %q is in the service mesh: its Connect sidecar needs the group's bridge network namespace, so network mode %q would cut it off. Remove mode, or take the app out of the mesh.", app.Name, n.Mode),
				Subject: blockRange(nb, "network").Ptr()})
		}
		if len(group.Networks) == 0 {
			group.Networks = extra.Networks
		} else {
			jobspec.Merge(group.Networks[0], n)
		}
		extra.Networks = nil
	}
	jobspec.Merge(group, &extra)
	byName := map[string]*nomadapi.Task{}
	for _, t := range group.Tasks {
		byName[t.Name] = t
	}
	for _, b := range tasks.Blocks {
		t := byName[b.Labels[0]]
		if t == nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown task",
				Detail:  fmt.Sprintf("App %q has no task %q: its own task is named after the app, helpers after their task blocks.", app.Name, b.Labels[0]),
				Subject: b.LabelRanges[0].Ptr()})
			continue
		}
		var extraTask nomadapi.Task
		diags = append(diags, jobspec.Decode(b.Body, nb.Ctx, &extraTask, taskOwned)...)
		jobspec.Merge(t, &extraTask)
	}
	return diags
}

// blockRange is where the nomad block's first block of a type starts, for
// diagnostics about what was decoded from it.
func blockRange(nb *spec.NomadBlock, typ string) hcl.Range {
	if body, ok := nb.Body.(*hclsyntax.Body); ok {
		for _, b := range body.Blocks {
			if b.Type == typ {
				return b.DefRange()
			}
		}
	}
	return nb.DeclRange
}

package render

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/internal/jsonx"
	"github.com/drover-io/drover/pkg/jobspec"
)

// WriteHCL prints the bundle for people: each Nomad job as a jobspec that
// `nomad job run` accepts, each config entry and catalog registration in
// the HCL form `consul config write` reads, each Vault policy as is and
// each role as the attributes of its write body.
func (b *Bundle) WriteHCL(w io.Writer) error {
	var sections []string
	for _, j := range b.Jobs {
		sections = append(sections, fmt.Sprintf("# Nomad job %q (%s)\n%s", j.ID(), describeOwner(j.Owner), JobHCL(j.Readable())))
	}
	for _, ce := range b.ConfigEntries {
		note := ""
		if ce.WrittenByNomad {
			note = "; written by Nomad from the gateway job"
		}
		body, err := jsonToHCL(ce.Entry)
		if err != nil {
			return fmt.Errorf("consul %s %q: %w", ce.Kind(), ce.Name(), err)
		}
		sections = append(sections, fmt.Sprintf("# Consul %s %q (%s%s)\n%s", ce.Kind(), ce.Name(), describeOwner(ce.Owner), note, body))
	}
	for _, r := range b.Registrations {
		body, err := jsonToHCL(r.Registration)
		if err != nil {
			return fmt.Errorf("catalog registration %q: %w", r.Registration.Node, err)
		}
		sections = append(sections, fmt.Sprintf("# Consul catalog registration %q (%s)\n%s", r.Registration.Service.Service, describeOwner(r.Owner), body))
	}
	for _, p := range b.VaultPolicies {
		sections = append(sections, fmt.Sprintf("# Vault policy %q\n%s", p.Name, p.Policy))
	}
	for _, r := range b.VaultRoles {
		body, err := jsonToHCL(r.Data)
		if err != nil {
			return fmt.Errorf("vault role %q: %w", r.Name, err)
		}
		sections = append(sections, fmt.Sprintf("# Vault JWT role %q, written to %s\n%s", r.Name, r.Path(), body))
	}
	_, err := io.WriteString(w, strings.Join(sections, "\n"))
	return err
}

func describeOwner(o Owner) string {
	switch {
	case o.App != "":
		return fmt.Sprintf("app %q, %s", o.App, o.Spec)
	case o.Spec != "":
		return "project " + o.Project + ", " + o.Spec
	default:
		return "project " + o.Project
	}
}

// jsonToHCL prints a value's JSON encoding as HCL attributes, the form
// Consul's CLI reads for config entries. Zero values (the server-set
// indexes, empty strings, nulls) are left out, and Kind and Name come first.
func jsonToHCL(v any) (string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	var generic map[string]any
	if err := json.Unmarshal(data, &generic); err != nil {
		return "", err
	}
	keys := sortedKeys(generic)
	sort.SliceStable(keys, func(i, j int) bool { return headRank(keys[i]) < headRank(keys[j]) })
	body := &jobspec.Body{}
	for _, k := range keys {
		if pruned, keep := jsonx.Prune(generic[k]); keep {
			body.Attr(k, pruned)
		}
	}
	return body.String(), nil
}

func headRank(k string) int {
	switch k {
	case "Kind":
		return 0
	case "Name":
		return 1
	}
	return 2
}

// JobHCL prints a job as a Nomad jobspec, every field it sets, from
// nomad/api's tags (the job's ID is its label).
func JobHCL(job *nomadapi.Job) string {
	root := &jobspec.Body{}
	jb := root.Block("job", *job.ID)
	jobspec.Encode(jb, job, "id", "name", "group")
	for _, g := range job.TaskGroups {
		writeGroup(jb, g)
	}
	return root.String()
}

// writeGroup prints a group in Nomad's job file vocabulary, generically
// from nomad/api's tags (so every field drover or a spec's nomad block sets
// is printed), but for the scaling policy, which Nomad keeps as a map.
func writeGroup(parent *jobspec.Body, g *nomadapi.TaskGroup) {
	gb := parent.Block("group", *g.Name)
	jobspec.Encode(gb, g, "scaling", "task")
	if s := g.Scaling; s != nil {
		sb := gb.Block("scaling")
		setBool(sb, "enabled", s.Enabled)
		sb.Attr("min", *s.Min)
		sb.Attr("max", *s.Max)
		if s.Policy != nil {
			writePolicyBody(sb.Block("policy"), s.Policy)
		}
	}
	for _, t := range g.Tasks {
		jobspec.Encode(gb.Block("task", t.Name), t)
	}
}

// writePolicyBody prints a policy map back as blocks: a list of one map is
// a block, and a map whose single value is such a list is a labeled block.
// Attributes come first, then blocks, as people write them.
func writePolicyBody(b *jobspec.Body, m map[string]any) {
	keys := sortedKeys(m)
	sort.SliceStable(keys, func(i, j int) bool {
		_, bi := m[keys[i]].([]any)
		_, bj := m[keys[j]].([]any)
		return !bi && bj
	})
	for _, k := range keys {
		list, isBlock := m[k].([]any)
		if !isBlock {
			b.Attr(k, m[k])
			continue
		}
		for _, el := range list {
			inner, ok := el.(map[string]any)
			if !ok {
				continue
			}
			if label, body, ok := labeledBlock(inner); ok && labeledPolicyBlocks[k] {
				writePolicyBody(b.Block(k, label), body)
			} else {
				writePolicyBody(b.Block(k), inner)
			}
		}
	}
}

// labeledPolicyBlocks are the policy blocks that carry a label; any other
// block (schedule, drover, its scale_up and rate) is unlabeled, even when
// its body has a single nested block.
var labeledPolicyBlocks = map[string]bool{"check": true, "strategy": true, "target": true}

func labeledBlock(m map[string]any) (string, map[string]any, bool) {
	if len(m) != 1 {
		return "", nil, false
	}
	for label, v := range m {
		list, ok := v.([]any)
		if !ok || len(list) != 1 {
			return "", nil, false
		}
		body, ok := list[0].(map[string]any)
		return label, body, ok
	}
	return "", nil, false
}

func setBool(b *jobspec.Body, name string, v *bool) {
	if v != nil {
		b.Attr(name, *v)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

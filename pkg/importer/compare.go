package importer

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/pkg/render"
	"github.com/drover-io/drover/pkg/spec"
)

// secretsTemplateDest is where render puts a task's secrets template
// (pkg/render's secretsTemplatePath); vaultIdentity is the identity it
// adds for Vault.
const (
	secretsTemplateDest = "secrets/drover.env"
	vaultIdentity       = "vault_default"
)

// normalize brings a canonicalized job to the form both sides of a
// comparison share: without the state Nomad keeps about a job, drover's
// ownership metadata and the secrets plumbing render adds for secret
// blocks (the transformation of a literal secret), with job-level update,
// reschedule and migrate left to the groups that inherit them, equivalent
// spellings made one ("" and "host" network modes, a lone host network and
// none, nil and ["*"] datacenters, scaling strategy values as strings),
// and lists whose order Nomad does not heed sorted. It returns a copy.
func normalize(in *nomadapi.Job, rendered bool) *nomadapi.Job {
	j := deepCopy(in)
	j.Stop, j.ParentID, j.Dispatched, j.DispatchIdempotencyToken, j.Payload = nil, nil, false, nil, nil
	j.ConsulNamespace, j.VaultNamespace, j.NomadTokenID = nil, nil, nil
	j.Status, j.StatusDescription, j.Stable, j.Version, j.SubmitTime = nil, nil, nil, nil, nil
	j.CreateIndex, j.ModifyIndex, j.JobModifyIndex, j.VersionTag = nil, nil, nil, nil
	j.Update, j.Reschedule, j.Migrate = nil, nil, nil
	j.Meta = withoutDroverMeta(j.Meta)
	if j.NodePool != nil && *j.NodePool == nomadapi.NodePoolDefault {
		j.NodePool = new("") // where Nomad puts a job that names none
	}
	if len(j.Datacenters) == 0 {
		j.Datacenters = []string{"*"}
	}
	for _, g := range j.TaskGroups {
		normalizeGroup(g, rendered)
	}
	return j
}

func withoutDroverMeta(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if !strings.HasPrefix(k, "drover-") {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func normalizeGroup(g *nomadapi.TaskGroup, rendered bool) {
	if s := g.Scaling; s != nil {
		s.ID, s.Namespace, s.Target, s.CreateIndex, s.ModifyIndex = "", "", nil, 0, 0
		if s.Policy != nil {
			s.Policy = stringStrategies(s.Policy).(map[string]any)
		}
	}
	var nets []*nomadapi.NetworkResource
	for _, n := range g.Networks {
		if n.Mode == "" {
			n.Mode = "host"
		}
		sortPorts(n.ReservedPorts)
		sortPorts(n.DynamicPorts)
		if sameJSON(n, &nomadapi.NetworkResource{Mode: "host"}) {
			continue
		}
		nets = append(nets, n)
	}
	g.Networks = nets
	sortByJSON(g.Constraints)
	sortByJSON(g.Affinities)
	sortByJSON(g.Spreads)
	normalizeServices(g.Services)
	sort.Slice(g.Tasks, func(a, b int) bool { return g.Tasks[a].Name < g.Tasks[b].Name })
	for _, t := range g.Tasks {
		if rendered {
			stripSecretsPlumbing(t)
		}
		if t.Resources != nil && t.Resources.MemoryMaxMB != nil && *t.Resources.MemoryMaxMB == 0 {
			t.Resources.MemoryMaxMB = nil
		}
		if len(t.Env) == 0 {
			t.Env = nil
		}
		for k, v := range t.Config {
			if l, ok := v.([]any); v == nil || ok && len(l) == 0 {
				delete(t.Config, k) // args = [] is no args
			}
		}
		sortByJSON(t.Constraints)
		sortByJSON(t.Affinities)
		sortByJSON(t.Templates)
		sortByJSON(t.Artifacts)
		sortByJSON(t.VolumeMounts)
		normalizeServices(t.Services)
	}
}

// stripSecretsPlumbing removes what render adds to a task for its secret
// blocks: the template, the vault block and the Vault identity.
func stripSecretsPlumbing(t *nomadapi.Task) {
	var tmpls []*nomadapi.Template
	for _, tp := range t.Templates {
		if tp.DestPath != nil && *tp.DestPath == secretsTemplateDest {
			t.Vault = nil
			continue
		}
		tmpls = append(tmpls, tp)
	}
	t.Templates = tmpls
	var ids []*nomadapi.WorkloadIdentity
	for _, id := range t.Identities {
		if id.Name != vaultIdentity {
			ids = append(ids, id)
		}
	}
	t.Identities = ids
}

func normalizeServices(svcs []*nomadapi.Service) {
	for _, s := range svcs {
		sortByJSON(s.Checks)
		if s.Connect != nil && s.Connect.SidecarService != nil && s.Connect.SidecarService.Proxy != nil {
			sortByJSON(s.Connect.SidecarService.Proxy.Upstreams)
		}
	}
	sortByJSON(svcs)
}

func sortPorts(ps []nomadapi.Port) {
	sort.Slice(ps, func(a, b int) bool { return ps[a].Label < ps[b].Label })
}

func sortByJSON[T any](list []T) {
	keys := make([]string, len(list))
	for i, v := range list {
		b, _ := json.Marshal(v)
		keys[i] = string(b)
	}
	idx := make([]int, len(list))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return keys[idx[a]] < keys[idx[b]] })
	out := make([]T, len(list))
	for i, k := range idx {
		out[i] = list[k]
	}
	copy(list, out)
}

// stringStrategies turns the values of every strategy block in a scaling
// policy into strings, as render sends them.
func stringStrategies(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			if k == "strategy" {
				out[k] = stringValues(val)
			} else {
				out[k] = stringStrategies(val)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = stringStrategies(e)
		}
		return out
	}
	return v
}

// stringValues: strategy [{name: [{k: v}]}] with every v a string.
func stringValues(v any) any {
	list, ok := v.([]any)
	if !ok {
		return v
	}
	out := make([]any, len(list))
	for i, e := range list {
		byName, ok := e.(map[string]any)
		if !ok {
			out[i] = e
			continue
		}
		nm := map[string]any{}
		for name, bodies := range byName {
			bl, ok := bodies.([]any)
			if !ok {
				nm[name] = bodies
				continue
			}
			var nb []any
			for _, body := range bl {
				attrs, ok := body.(map[string]any)
				if !ok {
					nb = append(nb, body)
					continue
				}
				sv := map[string]any{}
				for k, val := range attrs {
					sv[k] = spec.PolicyValueString(val)
				}
				nb = append(nb, sv)
			}
			nm[name] = nb
		}
		out[i] = nm
	}
	return out
}

// diffJobs compares the expected job with the rendered one, both
// normalized, and returns go-cmp's report ("" when equal).
func diffJobs(expected *nomadapi.Job, rendered *render.Job) string {
	e := normalize(expected, false)
	r := normalize(rendered.Job, true)
	// go-cmp varies its indentation (spaces or no-break spaces) from run to
	// run so that nobody parses it; people read it, and a stable text is
	// kinder to them and to a CI log.
	return strings.ReplaceAll(cmp.Diff(e, r, cmpopts.EquateEmpty()), "\u00a0", " ")
}

package importer

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/internal/jsonx"
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
// none, nil and ["*"] datacenters, an empty sidecar proxy and none, scaling
// strategy values as strings),
// and lists whose order Nomad does not heed sorted. It returns a copy.
func normalize(in *nomadapi.Job, rendered bool) *nomadapi.Job {
	j, _ := normalizeOrder(in, rendered)
	return j
}

// order maps a list normalize sorted (by its backing array) to the index
// each of its elements had: the index of the field's path in the report.
type order map[uintptr][]int

// normalizeOrder is normalize, with the order of the lists it sorted.
func normalizeOrder(in *nomadapi.Job, rendered bool) (*nomadapi.Job, order) {
	rec := order{}
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
		normalizeGroup(g, rendered, rec)
	}
	return j, rec
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

func normalizeGroup(g *nomadapi.TaskGroup, rendered bool, rec order) {
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
		sortPorts(n.ReservedPorts, rec)
		sortPorts(n.DynamicPorts, rec)
		if sameJSON(n, &nomadapi.NetworkResource{Mode: "host"}) {
			continue
		}
		nets = append(nets, n)
	}
	g.Networks = nets
	sortByJSON(g.Constraints, rec)
	sortByJSON(g.Affinities, rec)
	sortByJSON(g.Spreads, rec)
	normalizeServices(g.Services, rec)
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
		sortByJSON(t.Constraints, rec)
		sortByJSON(t.Affinities, rec)
		sortByJSON(t.Templates, rec)
		sortByJSON(t.Artifacts, rec)
		sortByJSON(t.VolumeMounts, rec)
		normalizeServices(t.Services, rec)
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

func normalizeServices(svcs []*nomadapi.Service, rec order) {
	for _, s := range svcs {
		if c := s.Connect; c != nil && c.SidecarService != nil && c.SidecarService.Proxy != nil && sameJSON(c.SidecarService.Proxy, &nomadapi.ConsulProxy{}) {
			c.SidecarService.Proxy = nil // an empty proxy block is none
		}
		sortByJSON(s.Checks, rec)
		if s.Connect != nil && s.Connect.SidecarService != nil && s.Connect.SidecarService.Proxy != nil {
			sortByJSON(s.Connect.SidecarService.Proxy.Upstreams, rec)
		}
	}
	sortByJSON(svcs, rec)
}

func sortPorts(ps []nomadapi.Port, rec order) {
	sortBy(ps, rec, func(p nomadapi.Port) string { return p.Label })
}

func sortByJSON[T any](list []T, rec order) {
	sortBy(list, rec, func(v T) string {
		b, _ := json.Marshal(v)
		return string(b)
	})
}

// sortBy sorts list stably by key, recording in rec where each element
// was.
func sortBy[T any](list []T, rec order, key func(T) string) {
	if len(list) == 0 {
		return
	}
	keys := make([]string, len(list))
	for i, v := range list {
		keys[i] = key(v)
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
	if prev, ok := rec[reflect.ValueOf(list).Pointer()]; ok {
		// Sorted before (services, after their checks): compose.
		for i, k := range idx {
			idx[i] = prev[k]
		}
	}
	rec[reflect.ValueOf(list).Pointer()] = idx
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
// normalized, and returns their differences ("" when equal): one line per
// field that differs, "path: input -> rendered", with list elements named
// by their Name where they have one. An empty list or map and none are
// the same.
func diffJobs(expected *nomadapi.Job, rendered *render.Job) string {
	var lines []string
	diffJSON("", genericJSON(normalize(expected, false)), genericJSON(normalize(rendered.Job, true)), &lines)
	return strings.Join(lines, "\n")
}

// genericJSON is v as encoding/json decodes it into any.
func genericJSON(v any) any {
	out, err := jsonx.Generic(v)
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return out
}

func diffJSON(path string, e, r any, out *[]string) {
	if isEmptyJSON(e) && isEmptyJSON(r) {
		return
	}
	em, eok := e.(map[string]any)
	rm, rok := r.(map[string]any)
	if eok && rok {
		keys := map[string]bool{}
		for k := range em {
			keys[k] = true
		}
		for k := range rm {
			keys[k] = true
		}
		for _, k := range slices.Sorted(maps.Keys(keys)) {
			diffJSON(joinPath(path, k), em[k], rm[k], out)
		}
		return
	}
	el, eok := e.([]any)
	rl, rok := r.([]any)
	if eok && rok {
		for i := range max(len(el), len(rl)) {
			var ev, rv any
			if i < len(el) {
				ev = el[i]
			}
			if i < len(rl) {
				rv = rl[i]
			}
			diffJSON(fmt.Sprintf("%s[%s]", path, elementName(i, ev, rv)), ev, rv, out)
		}
		return
	}
	if !reflect.DeepEqual(e, r) {
		*out = append(*out, fmt.Sprintf("  %s: %s -> %s", path, shortJSON(e), shortJSON(r)))
	}
}

// elementName names a list element by its Name, else by its index.
func elementName(i int, vs ...any) string {
	for _, v := range vs {
		if m, ok := v.(map[string]any); ok {
			if name, ok := m["Name"].(string); ok && name != "" {
				return name
			}
		}
	}
	return strconv.Itoa(i)
}

func isEmptyJSON(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case []any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	}
	return false
}

// shortJSON is v in JSON, cut to a line's length.
func shortJSON(v any) string {
	if isEmptyJSON(v) {
		return "none"
	}
	b, _ := json.Marshal(v)
	if s := string(b); len(s) <= 160 {
		return s
	}
	return string(b[:157]) + "..."
}

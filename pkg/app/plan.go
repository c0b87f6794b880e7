package app

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/internal/parallel"
	"github.com/drover-io/drover/pkg/apierr"
	"github.com/drover-io/drover/pkg/render"
	"github.com/drover-io/drover/pkg/spec"
)

// Action is what a plan does to one object.
type Action string

// Actions.
const (
	ActionNone   Action = "none"
	ActionCreate Action = "create"
	ActionUpdate Action = "update"
	ActionDelete Action = "delete"
)

// Object kinds that are not Consul config entry kinds.
const (
	KindJob        = render.KindNomadJob
	KindCatalog    = render.KindCatalog
	KindPolicy     = render.KindVaultPolicy
	KindVaultRole  = render.KindVaultJWTRole
	KindNamespace  = "namespace"
	defaultWorkers = 8
)

// Change is one object's planned change.
type Change struct {
	System string `json:"system"`
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	App    string `json:"app,omitempty"`
	Action Action `json:"action"`
	// Details are field-level differences ("~ path: old -> new").
	Details []string `json:"details,omitempty"`
	// Warnings are things the change will not fix (placement failures).
	Warnings []string `json:"warnings,omitempty"`
	// Note explains unusual handling ("written by Nomad from the gateway job").
	Note string `json:"note,omitempty"`
	// ModifyIndex is the index the change was planned against; the write
	// is check-and-set on it (Nomad's JobModifyIndex, Consul's ModifyIndex).
	ModifyIndex uint64 `json:"modify_index,omitempty"`

	step step
	kind artifactKind
	// object is what the kind writes: *render.Job, *render.ConfigEntry,
	// ...; deletions of leftovers may carry only what removing needs.
	object any
	// existing: the object exists (for jobs: register with preserved
	// counts; for deleted jobs: not stopped yet).
	existing bool
}

// diffed sets the change to an update with details d, or to no change
// when d is empty.
func (c *Change) diffed(d []string) *Change {
	if len(d) == 0 {
		c.Action = ActionNone
	} else {
		c.Action, c.Details = ActionUpdate, d
	}
	return c
}

// label is how the change's kind reads in progress lines: "job".
func (c *Change) label() string {
	if c.kind == nil {
		return c.Kind
	}
	return c.kind.label(c)
}

// Key identifies the object, for messages: "nomad job api".
func (c *Change) Key() string { return fmt.Sprintf("%s %s %s", c.System, c.Kind, c.Name) }

// Plan is every change a deploy would make, in apply order.
type Plan struct {
	Project     string    `json:"project"`
	Environment string    `json:"environment,omitempty"`
	Changes     []*Change `json:"changes"`
	// Unchanged counts objects already as specified (their Changes have
	// ActionNone and are kept for apply bookkeeping but not shown).
	Summary Summary `json:"summary"`
}

// Summary counts a plan's changes by action.
type Summary struct {
	Create    int `json:"create"`
	Update    int `json:"update"`
	Delete    int `json:"delete"`
	Unchanged int `json:"unchanged"`
}

// HasChanges reports whether applying the plan would write anything.
func (p *Plan) HasChanges() bool { return p.Summary.Create+p.Summary.Update+p.Summary.Delete > 0 }

func (p *Plan) summarize() {
	p.Summary = Summary{}
	for _, c := range p.Changes {
		switch c.Action {
		case ActionCreate:
			p.Summary.Create++
		case ActionUpdate:
			p.Summary.Update++
		case ActionDelete:
			p.Summary.Delete++
		default:
			p.Summary.Unchanged++
		}
	}
}

// OwnershipError lists objects that exist but drover does not own; they are
// left alone unless the user adopts them.
type OwnershipError struct {
	Objects []string
}

func (e *OwnershipError) Error() string {
	return fmt.Sprintf("%d object(s) exist but are not managed by drover: %s; rerun with --adopt to take them over",
		len(e.Objects), strings.Join(e.Objects, ", "))
}

// planOptions tune planning.
type planOptions struct {
	// Adopt takes over objects drover does not own.
	Adopt bool
	// Prune deletes owned objects the specs no longer produce.
	Prune bool
	// Workers bounds concurrent reads.
	Workers int
	// PurgeStopped plans the deletion of stopped leftover jobs too
	// (destroy --purge), which otherwise count as gone.
	PurgeStopped bool
}

// planner reads live state and compares it with a bundle.
type planner struct {
	c       *Clients
	set     *spec.Set
	bundle  *render.Bundle
	opts    planOptions
	version string
	mu      sync.Mutex
	foreign []string

	// namespaceMissing: the project's Nomad namespace does not exist yet
	// (found by preflight), so nothing of the project is in Nomad.
	namespaceMissing bool

	ownedJobsOnce sync.Once
	ownedJobsList []*nomadapi.JobListStub
	ownedJobsErr  error

	removedPoliciesOnce sync.Once
	removedPoliciesMap  map[string]string
	removedPoliciesErr  error
}

// checkOwner records a conflict unless drover manages the object for this
// project: an object of another drover project is as much not ours as one
// drover never made.
func (p *planner) checkOwner(what string, managed bool, project string) {
	switch {
	case !managed:
		p.conflict(what)
	case project != p.bundle.Project:
		p.conflict(fmt.Sprintf("%s (owned by drover project %q)", what, project))
	}
}

func (p *planner) conflict(what string) {
	p.mu.Lock()
	p.foreign = append(p.foreign, what)
	p.mu.Unlock()
}

// computePlan compares every artifact of bundle with the live systems.
func computePlan(ctx context.Context, c *Clients, set *spec.Set, bundle *render.Bundle, opts planOptions) (*Plan, error) {
	if opts.Workers == 0 {
		opts.Workers = defaultWorkers
	}
	p := &planner{c: c, set: set, bundle: bundle, opts: opts, version: bundleVersion(bundle)}
	if err := p.preflight(ctx); err != nil {
		return nil, err
	}
	if opts.Prune && len(set.Selected) != len(set.Apps) {
		return nil, errors.New("--prune needs the whole project: name the project's directory (or no path), not single specs")
	}
	found := make([][]*Change, len(artifactKinds))
	errs := make([]error, len(artifactKinds))
	parallel.ForEachLimit(len(artifactKinds), len(artifactKinds), func(i int) {
		k := artifactKinds[i]
		found[i], errs[i] = k.plan(ctx, p)
		if errs[i] == nil && opts.Prune {
			var gone []*Change
			gone, errs[i] = k.leftovers(ctx, p)
			found[i] = append(found[i], gone...)
		}
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var changes []*Change
	for _, f := range found {
		changes = append(changes, f...)
	}
	if len(p.foreign) > 0 && !opts.Adopt {
		sort.Strings(p.foreign)
		return nil, &OwnershipError{Objects: p.foreign}
	}
	sortChanges(changes)
	plan := &Plan{Project: bundle.Project, Environment: set.Environment, Changes: changes}
	plan.summarize()
	return plan, nil
}

// planEach plans items concurrently, keeping their order.
func planEach[T any](p *planner, items []T, planOne func(T) (*Change, error)) ([]*Change, error) {
	out := make([]*Change, len(items))
	errs := make([]error, len(items))
	parallel.ForEachLimit(len(items), p.opts.Workers, func(i int) { out[i], errs[i] = planOne(items[i]) })
	return out, errors.Join(errs...)
}

// bundleVersion is the drover version the bundle's ownership meta records.
func bundleVersion(b *render.Bundle) string {
	for _, j := range b.Jobs {
		return j.Job.Meta[render.MetaVersion]
	}
	return ""
}

// sortChanges puts creates and updates in step order, then deletions in
// reverse step order, each by name.
func sortChanges(changes []*Change) {
	rank := func(c *Change) int {
		if c.Action == ActionDelete {
			return 100 - int(c.step)
		}
		return int(c.step)
	}
	sort.SliceStable(changes, func(i, j int) bool {
		a, b := changes[i], changes[j]
		if rank(a) != rank(b) {
			return rank(a) < rank(b)
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Name < b.Name
	})
}

// preflight checks what every later step relies on: the project's Nomad
// namespace, and the JWT auth method the roles live under.
func (p *planner) preflight(ctx context.Context) error {
	if ns := p.c.Nomad.Namespace(); ns != nomadapi.DefaultNamespace {
		_, err := p.c.Nomad.NamespaceInfo(ctx, ns)
		switch {
		case errors.Is(err, apierr.ErrNotFound):
			p.namespaceMissing = true
		case err != nil:
			return err
		}
	}
	if len(p.bundle.VaultRoles) == 0 {
		return nil
	}
	mount := p.bundle.VaultRoles[0].Mount
	typ, err := p.c.Vault.AuthMethod(ctx, mount)
	switch {
	case errors.Is(err, apierr.ErrNotFound):
		return fmt.Errorf("vault has no auth method at auth/%s, which the workload identities of apps with secrets log in with; run `nomad setup vault` or set project { vault { auth_path } } to where it is", mount)
	case err != nil:
		return err
	case typ != "jwt":
		return fmt.Errorf("vault's auth method at auth/%s is %q, not jwt", mount, typ)
	}
	return nil
}

// placementSummary condenses Nomad's desired updates ("2 to place").
func placementSummary(resp *nomadapi.JobPlanResponse) string {
	if resp.Annotations == nil {
		return ""
	}
	var place, inplace, destructive, stop, canary uint64
	for _, u := range resp.Annotations.DesiredTGUpdates {
		place += u.Place
		inplace += u.InPlaceUpdate
		destructive += u.DestructiveUpdate
		stop += u.Stop
		canary += u.Canary
	}
	var parts []string
	for _, p := range []struct {
		n    uint64
		what string
	}{{place, "to place"}, {canary, "canary"}, {inplace, "in-place update"}, {destructive, "to replace"}, {stop, "to stop"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	return strings.Join(parts, ", ")
}

// explainMetric summarises why Nomad could not place allocations.
func explainMetric(m *nomadapi.AllocationMetric) string {
	if m == nil {
		return "no reason given"
	}
	var parts []string
	if m.NodesEvaluated == 0 && m.NodesAvailable != nil {
		parts = append(parts, "no nodes in the job's datacenters or node pool")
	}
	for _, reason := range sortedKeys(m.DimensionExhausted) {
		parts = append(parts, fmt.Sprintf("%s exhausted on %d node(s)", reason, m.DimensionExhausted[reason]))
	}
	for _, c := range sortedKeys(m.ConstraintFiltered) {
		parts = append(parts, fmt.Sprintf("constraint %s filtered %d node(s)", c, m.ConstraintFiltered[c]))
	}
	for _, c := range sortedKeys(m.ClassFiltered) {
		parts = append(parts, fmt.Sprintf("class %s filtered %d node(s)", c, m.ClassFiltered[c]))
	}
	if m.NodesExhausted > 0 && len(m.DimensionExhausted) == 0 {
		parts = append(parts, fmt.Sprintf("%d node(s) exhausted", m.NodesExhausted))
	}
	if len(parts) == 0 {
		return fmt.Sprintf("%d of %d node(s) evaluated could not run it", m.NodesFiltered+m.NodesExhausted, m.NodesEvaluated)
	}
	return strings.Join(parts, "; ")
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// diffChangesAnything reports whether a job diff has any field that
// changed, or any group, task or object added or removed.
func diffChangesAnything(d *nomadapi.JobDiff) bool {
	var objects func([]*nomadapi.ObjectDiff) bool
	fields := func(fs []*nomadapi.FieldDiff) bool {
		for _, f := range fs {
			if f.Type != "None" && f.Type != "" {
				return true
			}
		}
		return false
	}
	objects = func(os []*nomadapi.ObjectDiff) bool {
		for _, o := range os {
			if o.Type == "Added" || o.Type == "Deleted" || fields(o.Fields) || objects(o.Objects) {
				return true
			}
		}
		return false
	}
	if fields(d.Fields) || objects(d.Objects) {
		return true
	}
	for _, g := range d.TaskGroups {
		if g.Type == "Added" || g.Type == "Deleted" || fields(g.Fields) || objects(g.Objects) {
			return true
		}
		for _, t := range g.Tasks {
			if t.Type == "Added" || t.Type == "Deleted" || fields(t.Fields) || objects(t.Objects) {
				return true
			}
		}
	}
	return false
}

// jobDiffLines flattens Nomad's job diff into "~ path: old -> new" lines.
func jobDiffLines(d *nomadapi.JobDiff) []string {
	var out []string
	fields := func(prefix string, fs []*nomadapi.FieldDiff) {
		for _, f := range fs {
			// Nomad sends unchanged fields too, as context of an edited
			// object; they are no change to show.
			if f.Type == "None" || f.Type == "" || f.Old == f.New && f.Type == "Edited" {
				continue
			}
			out = append(out, fieldLine(prefix, f))
		}
	}
	var objects func(prefix string, os []*nomadapi.ObjectDiff)
	objects = func(prefix string, os []*nomadapi.ObjectDiff) {
		for _, o := range os {
			p := join(prefix, o.Name)
			fields(p, o.Fields)
			objects(p, o.Objects)
		}
	}
	fields("", d.Fields)
	objects("", d.Objects)
	for _, g := range d.TaskGroups {
		gp := "group " + g.Name
		if g.Type == "Added" || g.Type == "Deleted" {
			out = append(out, fmt.Sprintf("%s %s", sign(g.Type), gp))
		}
		fields(gp, g.Fields)
		objects(gp, g.Objects)
		for _, t := range g.Tasks {
			tp := gp + " task " + t.Name
			if t.Type == "Added" || t.Type == "Deleted" {
				out = append(out, fmt.Sprintf("%s %s", sign(t.Type), tp))
			}
			fields(tp, t.Fields)
			objects(tp, t.Objects)
		}
	}
	return out
}

func fieldLine(prefix string, f *nomadapi.FieldDiff) string {
	name := join(prefix, f.Name)
	switch f.Type {
	case "Added":
		return fmt.Sprintf("+ %s = %q", name, f.New)
	case "Deleted":
		return fmt.Sprintf("- %s = %q", name, f.Old)
	default:
		return fmt.Sprintf("~ %s: %q -> %q", name, f.Old, f.New)
	}
}

func sign(typ string) string {
	switch typ {
	case "Added":
		return "+"
	case "Deleted":
		return "-"
	}
	return "~"
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + ": " + name
}

// lineDiff lists lines only in old ("-") or only in new ("+").
func lineDiff(old, new string) []string {
	count := func(s string) map[string]int {
		m := map[string]int{}
		for _, l := range strings.Split(s, "\n") {
			if l = strings.TrimSpace(l); l != "" && l != "}" {
				m[l]++
			}
		}
		return m
	}
	o, n := count(old), count(new)
	var out []string
	for _, l := range sortedKeys(o) {
		if o[l] > n[l] {
			out = append(out, "- "+l)
		}
	}
	for _, l := range sortedKeys(n) {
		if n[l] > o[l] {
			out = append(out, "+ "+l)
		}
	}
	return out
}

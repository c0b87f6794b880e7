package app

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	consulapi "github.com/hashicorp/consul/api"
	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/internal/jsonx"
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

// step orders changes: an object's dependencies are applied in an earlier
// step. Deletions run the steps backwards.
type step int

const (
	stepVaultPolicy step = iota
	stepVaultRole
	stepServiceDefaults
	stepIntentions
	stepCatalog
	stepRouters
	stepGatewayEntries
	stepGatewayJobs
	stepAppJobs
)

// Object kinds that are not Consul config entry kinds.
const (
	KindJob        = render.KindNomadJob
	KindCatalog    = render.KindCatalog
	KindPolicy     = render.KindVaultPolicy
	KindVaultRole  = render.KindVaultJWTRole
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

	step     step
	job      *render.Job
	entry    *render.ConfigEntry
	reg      *render.Registration
	policy   *render.VaultPolicy
	role     *render.VaultRole
	existing bool // the object exists (for jobs: register with preserved counts)
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
}

// planner reads live state and compares it with a bundle.
type planner struct {
	c       *Clients
	set     *spec.Set
	bundle  *render.Bundle
	opts    planOptions
	mu      sync.Mutex
	foreign []string
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
	p := &planner{c: c, set: set, bundle: bundle, opts: opts}
	if err := p.preflight(ctx); err != nil {
		return nil, err
	}
	var tasks []func() (*Change, error)
	for _, pol := range bundle.VaultPolicies {
		tasks = append(tasks, func() (*Change, error) { return p.planPolicy(ctx, pol) })
	}
	for _, r := range bundle.VaultRoles {
		tasks = append(tasks, func() (*Change, error) { return p.planRole(ctx, r) })
	}
	for _, ce := range bundle.ConfigEntries {
		tasks = append(tasks, func() (*Change, error) { return p.planEntry(ctx, ce) })
	}
	for _, reg := range bundle.Registrations {
		tasks = append(tasks, func() (*Change, error) { return p.planRegistration(ctx, reg) })
	}
	for _, j := range bundle.Jobs {
		tasks = append(tasks, func() (*Change, error) { return p.planJob(ctx, j) })
	}
	changes := make([]*Change, len(tasks))
	errs := make([]error, len(tasks))
	parallel.ForEachLimit(len(tasks), opts.Workers, func(i int) { changes[i], errs[i] = tasks[i]() })
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if opts.Prune {
		deletions, err := p.planPrune(ctx)
		if err != nil {
			return nil, err
		}
		changes = append(changes, deletions...)
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

// preflight checks what every later step relies on: the JWT auth method
// the roles live under.
func (p *planner) preflight(ctx context.Context) error {
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

// --- Vault -----------------------------------------------------------------

var (
	managedHeader    = "# Managed by drover"
	headerProjectRe  = regexp.MustCompile(`project "([^"]*)"`)
	nonPolicyComment = regexp.MustCompile(`(?m)^#.*\n`)
)

// policyBody drops comment lines: the header changes with each drover
// version and is not part of what the policy grants.
func policyBody(text string) string {
	return strings.TrimSpace(nonPolicyComment.ReplaceAllString(text+"\n", ""))
}

func (p *planner) planPolicy(ctx context.Context, pol *render.VaultPolicy) (*Change, error) {
	ch := &Change{System: apierr.Vault, Kind: KindPolicy, Name: pol.Name, App: pol.Owner.App, step: stepVaultPolicy, policy: pol}
	live, err := p.c.Vault.Policy(ctx, pol.Name)
	switch {
	case errors.Is(err, apierr.ErrNotFound):
		ch.Action = ActionCreate
		return ch, nil
	case err != nil:
		return nil, err
	}
	ch.existing = true
	p.checkOwner(fmt.Sprintf("vault policy %q", pol.Name), strings.Contains(live, managedHeader), policyProject(live))
	if policyBody(live) == policyBody(pol.Policy) {
		ch.Action = ActionNone
		return ch, nil
	}
	ch.Action = ActionUpdate
	ch.Details = lineDiff(policyBody(live), policyBody(pol.Policy))
	return ch, nil
}

func (p *planner) planRole(ctx context.Context, r *render.VaultRole) (*Change, error) {
	ch := &Change{System: apierr.Vault, Kind: KindVaultRole, Name: r.Name, App: r.Owner.App, step: stepVaultRole, role: r}
	live, err := p.c.Vault.Read(ctx, r.Path())
	switch {
	case errors.Is(err, apierr.ErrNotFound):
		ch.Action = ActionCreate
		return ch, nil
	case err != nil:
		return nil, err
	}
	ch.existing = true
	if !containsString(live["token_policies"], r.Name) {
		p.conflict(fmt.Sprintf("vault role %q", r.Path()))
	}
	// Compare only what drover sets: Vault adds defaults for the rest.
	want, got := normalizeRole(r.Data), normalizeRole(pick(live, r.Data))
	if d := jsonx.Diff(jsonx.Flatten(got), jsonx.Flatten(want)); len(d) > 0 {
		ch.Action, ch.Details = ActionUpdate, d
	} else {
		ch.Action = ActionNone
	}
	return ch, nil
}

// --- Consul ----------------------------------------------------------------

func (p *planner) planEntry(ctx context.Context, ce *render.ConfigEntry) (*Change, error) {
	ch := &Change{System: apierr.Consul, Kind: ce.Kind(), Name: ce.Name(), App: ce.Owner.App, step: entryStep(ce), entry: ce}
	if ce.WrittenByNomad {
		ch.Note = "Nomad also writes this entry from the gateway job"
	}
	live, err := p.c.Consul.ConfigEntry(ctx, ce.Kind(), ce.Name())
	switch {
	case errors.Is(err, apierr.ErrNotFound):
		ch.Action = ActionCreate
		return ch, nil
	case err != nil:
		return nil, err
	}
	ch.existing = true
	ch.ModifyIndex = live.GetModifyIndex()
	// Nomad writes gateway entries without meta; their owner is the
	// gateway job, checked with it.
	if meta := live.GetMeta(); !ce.WrittenByNomad {
		p.checkOwner(fmt.Sprintf("consul %s %q", ce.Kind(), ce.Name()), meta[render.MetaManaged] == "true", meta[render.MetaProject])
	}
	d, err := entryDiff(live, ce.Entry)
	if err != nil {
		return nil, err
	}
	if len(d) == 0 {
		ch.Action = ActionNone
	} else {
		ch.Action, ch.Details = ActionUpdate, d
	}
	return ch, nil
}

func entryStep(ce *render.ConfigEntry) step {
	switch ce.Kind() {
	case consulapi.ServiceDefaults:
		return stepServiceDefaults
	case consulapi.ServiceIntentions:
		return stepIntentions
	case consulapi.ServiceRouter:
		return stepRouters
	default:
		return stepGatewayEntries
	}
}

// entryDiff compares a live and a desired config entry on what drover sets:
// indexes, the drover version, and what Consul computes (intention
// precedence and type) are ignored, and list order of named items is not a
// change.
func entryDiff(live, desired consulapi.ConfigEntry) ([]string, error) {
	l, err := normalizeEntry(live)
	if err != nil {
		return nil, err
	}
	d, err := normalizeEntry(desired)
	if err != nil {
		return nil, err
	}
	return jsonx.Diff(jsonx.Flatten(l), jsonx.Flatten(d)), nil
}

func normalizeEntry(e consulapi.ConfigEntry) (any, error) {
	g, err := jsonx.Generic(e)
	if err != nil {
		return nil, err
	}
	m, _ := g.(map[string]any)
	delete(m, "CreateIndex")
	delete(m, "ModifyIndex")
	if meta, ok := m["Meta"].(map[string]any); ok {
		delete(meta, render.MetaVersion)
	}
	if sources, ok := m["Sources"].([]any); ok {
		for _, s := range sources {
			if src, ok := s.(map[string]any); ok {
				delete(src, "Precedence")
				for _, k := range []string{"LegacyID", "LegacyMeta", "LegacyCreateTime", "LegacyUpdateTime"} {
					delete(src, k)
				}
				if src["Type"] == "consul" {
					delete(src, "Type")
				}
			}
		}
	}
	out, _ := jsonx.Prune(m)
	return out, nil
}

func (p *planner) planRegistration(ctx context.Context, reg *render.Registration) (*Change, error) {
	r := reg.Registration
	ch := &Change{System: apierr.Consul, Kind: KindCatalog, Name: r.Service.Service, step: stepCatalog, reg: reg}
	live, err := p.c.Consul.Node(ctx, r.Node)
	switch {
	case errors.Is(err, apierr.ErrNotFound):
		ch.Action = ActionCreate
		return ch, nil
	case err != nil:
		return nil, err
	}
	ch.existing = true
	meta := live.Node.Meta
	p.checkOwner(fmt.Sprintf("consul catalog node %q", r.Node), meta[render.MetaManaged] == "true", meta[render.MetaProject])
	type view struct {
		Address  string
		NodeMeta map[string]string
		Service  *consulapi.AgentService
	}
	liveView := view{Address: live.Node.Address, NodeMeta: withoutVersion(live.Node.Meta)}
	if s := live.Services[r.Service.ID]; s != nil {
		liveView.Service = &consulapi.AgentService{ID: s.ID, Service: s.Service, Address: s.Address, Port: s.Port, Meta: withoutVersion(s.Meta)}
	}
	want := view{Address: r.Address, NodeMeta: withoutVersion(r.NodeMeta),
		Service: &consulapi.AgentService{ID: r.Service.ID, Service: r.Service.Service, Address: r.Service.Address, Port: r.Service.Port, Meta: withoutVersion(r.Service.Meta)}}
	lg, _ := jsonx.Generic(liveView)
	wg, _ := jsonx.Generic(want)
	lp, _ := jsonx.Prune(lg)
	wp, _ := jsonx.Prune(wg)
	if d := jsonx.Diff(jsonx.Flatten(lp), jsonx.Flatten(wp)); len(d) > 0 {
		ch.Action, ch.Details = ActionUpdate, d
	} else {
		ch.Action = ActionNone
	}
	return ch, nil
}

func withoutVersion(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		if k != render.MetaVersion {
			out[k] = v
		}
	}
	return out
}

// --- Nomad -----------------------------------------------------------------

func (p *planner) planJob(ctx context.Context, j *render.Job) (*Change, error) {
	st := stepAppJobs
	if j.Gateway != "" {
		st = stepGatewayJobs
	}
	ch := &Change{System: apierr.Nomad, Kind: KindJob, Name: j.ID(), App: j.Owner.App, step: st, job: j}
	live, err := p.c.Nomad.Job(ctx, j.ID())
	if err != nil && !errors.Is(err, apierr.ErrNotFound) {
		return nil, err
	}
	desired := cloneJob(j.Job)
	if live != nil {
		ch.existing = true
		p.checkOwner(fmt.Sprintf("nomad job %q", j.ID()), live.Meta[render.MetaManaged] == "true", live.Meta[render.MetaProject])
		// A new drover version alone is not a change worth a deployment,
		// and an autoscaler's counts are not drift.
		if v, ok := live.Meta[render.MetaVersion]; ok {
			desired.Meta[render.MetaVersion] = v
		}
		if j.PreserveCounts {
			preserveCounts(desired, live)
		}
	}
	resp, err := p.c.Nomad.Plan(ctx, desired)
	if err != nil {
		return nil, err
	}
	ch.ModifyIndex = resp.JobModifyIndex
	switch {
	case live == nil:
		ch.Action = ActionCreate
	case resp.Diff == nil || resp.Diff.Type == "None" || !diffChangesAnything(resp.Diff):
		// Nomad marks a group's scaling policy "Edited" on every plan (its
		// server-side ID differs) even when no field changed.
		ch.Action = ActionNone
	default:
		ch.Action = ActionUpdate
		ch.Details = jobDiffLines(resp.Diff)
	}
	ch.Warnings = planWarnings(resp)
	if ch.Action != ActionNone {
		if s := placementSummary(resp); s != "" {
			ch.Note = s
		}
	}
	return ch, nil
}

// preserveCounts copies the live groups' counts into job.
func preserveCounts(job, live *nomadapi.Job) {
	counts := map[string]*int{}
	for _, g := range live.TaskGroups {
		counts[*g.Name] = g.Count
	}
	for _, g := range job.TaskGroups {
		if c, ok := counts[*g.Name]; ok && c != nil {
			n := *c
			g.Count = &n
		}
	}
}

func cloneJob(j *nomadapi.Job) *nomadapi.Job {
	var out nomadapi.Job
	g, _ := jsonx.Generic(j)
	if err := reencode(g, &out); err != nil {
		panic(fmt.Sprintf("clone job: %v", err)) // a job always survives its own JSON round trip
	}
	return &out
}

// planWarnings explains what the scheduler could not place.
func planWarnings(resp *nomadapi.JobPlanResponse) []string {
	var out []string
	groups := make([]string, 0, len(resp.FailedTGAllocs))
	for g := range resp.FailedTGAllocs {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	for _, g := range groups {
		out = append(out, fmt.Sprintf("group %q cannot be placed: %s", g, explainMetric(resp.FailedTGAllocs[g])))
	}
	if w := strings.TrimSpace(resp.Warnings); w != "" {
		out = append(out, w)
	}
	return out
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
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
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

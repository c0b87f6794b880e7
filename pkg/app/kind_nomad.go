package app

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/pkg/apierr"
	"github.com/drover-io/drover/pkg/nomadx"
	"github.com/drover-io/drover/pkg/render"
)

// jobKind is a Nomad job: an app's, or a gateway's.
type jobKind struct{}

// namespaceKind is the project's Nomad namespace, created when missing.
// It is never pruned or destroyed: it may hold what others run there.
type namespaceKind struct{}

func (jobKind) label(*Change) string { return "job" }

func (k jobKind) plan(ctx context.Context, p *planner) ([]*Change, error) {
	return planEach(p, p.bundle.Jobs, func(j *render.Job) (*Change, error) {
		st := stepAppJobs
		if j.Gateway != "" {
			st = stepGatewayJobs
		}
		ch := &Change{System: apierr.Nomad, Kind: KindJob, Name: j.ID(), App: j.Owner.App, step: st, kind: k, object: j}
		if p.namespaceMissing {
			// Nomad cannot plan a job in a namespace that does not exist.
			ch.Action = ActionCreate
			ch.Note = fmt.Sprintf("in namespace %q, which deploy creates first", p.c.Nomad.Namespace())
			return ch, nil
		}
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
	})
}

func (k jobKind) leftovers(ctx context.Context, p *planner) ([]*Change, error) {
	stubs, err := p.ownedJobs(ctx)
	if err != nil {
		return nil, err
	}
	wanted := p.bundleJobs()
	var out []*Change
	for _, s := range stubs {
		// A stopped job is gone for Nomad's scheduler; only a purge removes
		// it from Nomad's state.
		if wanted[s.ID] || (s.Stop && !p.opts.PurgeStopped) {
			continue
		}
		st := stepAppJobs
		if s.Meta[render.MetaApp] == "" {
			st = stepGatewayJobs
		}
		out = append(out, &Change{System: apierr.Nomad, Kind: KindJob, Name: s.ID, App: s.Meta[render.MetaApp], Action: ActionDelete,
			step: st, ModifyIndex: s.JobModifyIndex, kind: k, existing: !s.Stop})
	}
	return out, nil
}

func (jobKind) write(ctx context.Context, a *applier, ch *Change) error {
	j := ch.object.(*render.Job)
	// Check-and-set on the index the plan saw, so that a job changed by
	// someone in between is not overwritten.
	resp, err := a.c.Nomad.Register(ctx, j.Job, nomadx.RegisterOptions{
		EnforceIndex:   true,
		ModifyIndex:    ch.ModifyIndex,
		PreserveCounts: j.PreserveCounts && ch.existing,
		Submission:     a.submission(j),
	})
	if err != nil {
		return err
	}
	a.registered(registeredJob{job: ch.Name, evalID: resp.EvalID, autoPromote: autoPromotes(j.Job)})
	return nil
}

func (jobKind) remove(ctx context.Context, a *applier, ch *Change) error {
	_, err := a.c.Nomad.Deregister(ctx, ch.Name, a.purge)
	return err
}

// done is how an applied job change reads: Nomad registers and stops jobs.
func (jobKind) done(ch *Change, purge bool) string {
	switch {
	case ch.Action != ActionDelete:
		return "registered"
	case purge && ch.existing:
		return "stopped and purged"
	case purge:
		return "purged"
	}
	return "stopped"
}

// ownedJobs lists, once per plan, the jobs of this project in its
// namespace, stopped ones included.
func (p *planner) ownedJobs(ctx context.Context) ([]*nomadapi.JobListStub, error) {
	p.ownedJobsOnce.Do(func() {
		if p.namespaceMissing {
			return
		}
		var stubs []*nomadapi.JobListStub
		stubs, p.ownedJobsErr = p.c.Nomad.JobsWithMeta(ctx, render.MetaProject, p.bundle.Project)
		for _, s := range stubs {
			if s.Meta[render.MetaManaged] == "true" {
				p.ownedJobsList = append(p.ownedJobsList, s)
			}
		}
	})
	return p.ownedJobsList, p.ownedJobsErr
}

func (p *planner) bundleJobs() map[string]bool {
	out := map[string]bool{}
	for _, j := range p.bundle.Jobs {
		out[j.ID()] = true
	}
	return out
}

// removedGatewayJobs names this project's gateway jobs that the bundle no
// longer has, stopped ones included: their config entries go with them.
func (p *planner) removedGatewayJobs(ctx context.Context) ([]string, error) {
	stubs, err := p.ownedJobs(ctx)
	if err != nil {
		return nil, err
	}
	wanted := p.bundleJobs()
	var out []string
	for _, s := range stubs {
		if s.Meta[render.MetaApp] == "" && !wanted[s.ID] {
			out = append(out, s.ID)
		}
	}
	return out, nil
}

func (namespaceKind) label(*Change) string { return "namespace" }

func (k namespaceKind) plan(ctx context.Context, p *planner) ([]*Change, error) {
	if !p.namespaceMissing {
		return nil, nil
	}
	ns := p.c.Nomad.Namespace()
	return []*Change{{System: apierr.Nomad, Kind: KindNamespace, Name: ns, Action: ActionCreate, step: stepNamespace, kind: k,
		Note: "the project's jobs live there",
		object: &nomadapi.Namespace{Name: ns, Description: fmt.Sprintf("Managed by drover: project %q", p.bundle.Project),
			Meta: render.Owner{Project: p.bundle.Project}.Meta(p.version)}}}, nil
}

// leftovers is empty: a namespace outlives the project's apps, since
// others may run jobs or keep variables in it.
func (namespaceKind) leftovers(context.Context, *planner) ([]*Change, error) { return nil, nil }

func (namespaceKind) write(ctx context.Context, a *applier, ch *Change) error {
	err := a.c.Nomad.PutNamespace(ctx, ch.object.(*nomadapi.Namespace))
	if errors.Is(err, apierr.ErrPermission) {
		return fmt.Errorf("nomad namespace %q does not exist and this token may not create it; ask an operator to run `nomad namespace apply %s`, or deploy with a management token: %w", ch.Name, ch.Name, err)
	}
	return err
}

func (namespaceKind) remove(ctx context.Context, a *applier, ch *Change) error {
	return fmt.Errorf("drover never deletes nomad namespace %q", ch.Name)
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
	if err := reencode(j, &out); err != nil {
		panic(fmt.Sprintf("clone job: %v", err)) // a job always survives its own JSON round trip
	}
	return &out
}

// autoPromotes reports whether Nomad promotes the job's canaries itself.
func autoPromotes(j *nomadapi.Job) bool {
	for _, g := range j.TaskGroups {
		u := g.Update
		if u == nil {
			u = j.Update
		}
		if u != nil && u.Canary != nil && *u.Canary > 0 && (u.AutoPromote == nil || !*u.AutoPromote) {
			return false
		}
	}
	return true
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

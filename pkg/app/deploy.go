package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/internal/parallel"
	"github.com/drover-io/drover/pkg/render"
)

// PlanOptions select what to plan.
type PlanOptions struct {
	ClusterOptions
	// Adopt takes over existing objects drover does not own.
	Adopt bool
	// Prune plans the deletion of owned objects the specs no longer have.
	Prune bool
}

// PlanResult is a computed plan.
type PlanResult struct {
	Diagnostics
	Plan *Plan
}

// RunPlan compares the specs with Nomad, Consul and Vault and returns every
// change a deploy would make, writing nothing.
func RunPlan(ctx context.Context, opts PlanOptions) (res *PlanResult, err error) {
	ctx, timedOut, cancel := opts.deadline(ctx)
	defer cancel()
	defer func() { err = timedOut(err, "planning") }()
	l, d, err := opts.load()
	res = &PlanResult{Diagnostics: d}
	if err != nil {
		return res, err
	}
	c, err := opts.connect(ctx, l, l.needs(opts.Prune))
	if err != nil {
		return res, err
	}
	res.Plan, err = computePlan(ctx, c, l.set, l.bundle, planOptions{Adopt: opts.Adopt, Prune: opts.Prune})
	return res, err
}

// DeployOptions select what to deploy and how to watch it.
type DeployOptions struct {
	PlanOptions
	// Detach returns once everything is registered, without watching
	// deployments.
	Detach bool
	// Promote promotes canaries once they are healthy when auto_promote is
	// off.
	Promote bool
	// Concurrency bounds how many app jobs are registered and watched at
	// once.
	Concurrency int
	// VariableFlags are the --var values, recorded with the job submission.
	VariableFlags map[string]string
}

// DeployResult is what a deploy did.
type DeployResult struct {
	Diagnostics
	Plan *Plan
	// Applied lists the changes written, in order.
	Applied     []*Change
	Deployments []*DeploymentOutcome
}

// ApplyError reports a deploy that stopped part-way: what was applied, what
// failed and what was not attempted. Everything drover writes is
// idempotent, so running deploy again finishes the job.
type ApplyError struct {
	// Op is the use case that stopped: "deploy" or "destroy".
	Op      string
	Applied []string
	Failed  []string
	Pending []string
	// Registered counts the jobs registered before the stop: their
	// deployments go on in Nomad.
	Registered int
	Err        error
}

func (e *ApplyError) Error() string {
	op := e.Op
	if op == "" {
		op = "deploy"
	}
	return fmt.Sprintf("%s stopped after applying %d change(s); %d failed and %d not attempted: %v",
		op, len(e.Applied), len(e.Failed), len(e.Pending), e.Err)
}

func (e *ApplyError) Unwrap() error { return e.Err }

// DeploymentError reports deployments that failed (or were rolled back).
type DeploymentError struct {
	Failed []*DeploymentOutcome
}

func (e *DeploymentError) Error() string {
	names := make([]string, len(e.Failed))
	for i, f := range e.Failed {
		names[i] = f.Job
	}
	return fmt.Sprintf("deployment of %s did not succeed", strings.Join(names, ", "))
}

// Deploy plans, applies the plan in dependency order, and watches the app
// deployments. Nothing is written when nothing changed, but what runs is
// still checked: a project whose last deployment failed, or whose canaries
// wait for promotion, is not "up to date".
func Deploy(ctx context.Context, opts DeployOptions) (res *DeployResult, err error) {
	ctx, timedOut, cancel := opts.deadline(ctx)
	defer cancel()
	doing := "planning"
	defer func() { err = timedOut(err, doing) }()
	l, d, err := opts.load()
	res = &DeployResult{Diagnostics: d}
	if err != nil {
		return res, err
	}
	c, err := opts.connect(ctx, l, l.needs(opts.Prune))
	if err != nil {
		return res, err
	}
	plan, err := computePlan(ctx, c, l.set, l.bundle, planOptions{Adopt: opts.Adopt, Prune: opts.Prune})
	if err != nil {
		return res, err
	}
	res.Plan = plan
	var registered []registeredJob
	if plan.HasChanges() {
		doing = "applying the plan"
		a := &applier{c: c, l: l, opts: opts, out: opts.progress(), log: opts.logger()}
		registered, err = a.apply(ctx, plan)
		res.Applied = a.applied
		if err != nil {
			return res, err
		}
	} else {
		fmt.Fprintln(opts.progress(), "Nothing to apply; checking that what runs is healthy.")
	}
	if opts.Detach {
		for _, r := range registered {
			res.Deployments = append(res.Deployments, &DeploymentOutcome{Job: r.job, Status: StatusDetached})
		}
		return res, nil
	}
	doing = "watching the deployments"
	unchanged := unchangedJobs(plan)
	w := &watcher{nomad: c.Nomad, promote: opts.Promote, progress: newProgress(opts.progress(), opts.TTY), log: opts.logger()}
	stop := w.progress.heartbeat(heartbeatEvery)
	outcomes := make([]*DeploymentOutcome, len(registered)+len(unchanged))
	workers := opts.Concurrency
	if workers == 0 {
		workers = len(outcomes)
	}
	if len(outcomes) > workers {
		for _, r := range registered {
			w.progress.update(r.job, fmt.Sprintf("queued: waiting for one of the %d watch slots (--concurrency)", workers))
		}
	}
	parallel.ForEachLimit(len(outcomes), workers, func(i int) {
		if i < len(registered) {
			r := registered[i]
			outcomes[i] = w.watch(ctx, r.job, r.evalID, r.autoPromote)
		} else {
			outcomes[i] = w.checkLive(ctx, unchanged[i-len(registered)])
		}
		w.progress.finish(outcomes[i].Job)
	})
	stop()
	res.Deployments = outcomes
	var failed []*DeploymentOutcome
	for _, o := range outcomes {
		if o.Failed() {
			failed = append(failed, o)
		}
	}
	if ctx.Err() != nil {
		jobs := make([]string, len(registered))
		for i, r := range registered {
			jobs[i] = r.job
		}
		return res, &WatchStoppedError{Jobs: jobs, Err: ctx.Err()}
	}
	if len(failed) > 0 {
		return res, &DeploymentError{Failed: failed}
	}
	return res, nil
}

// WatchStoppedError reports a deploy stopped while it watched: the
// deployments of the jobs it registered go on in Nomad.
type WatchStoppedError struct {
	Jobs []string
	Err  error
}

func (e *WatchStoppedError) Error() string {
	return fmt.Sprintf("stopped watching the deployments of %d registered job(s): %v", len(e.Jobs), e.Err)
}

func (e *WatchStoppedError) Unwrap() error { return e.Err }

// unchangedJobs are the plan's jobs that need no write: deploy checks
// that they run as they should.
func unchangedJobs(plan *Plan) []liveJob {
	var out []liveJob
	for _, ch := range plan.Changes {
		if ch.Kind != KindJob || ch.Action != ActionNone {
			continue
		}
		if j, ok := ch.object.(*render.Job); ok {
			out = append(out, liveJob{id: ch.Name, typ: *j.Job.Type, autoPromote: autoPromotes(j.Job), periodic: j.Job.IsPeriodic() || j.Job.IsParameterized()})
		}
	}
	return out
}

// needs says which systems a plan of the project reads: Vault only when an
// app has secrets; a prune without them looks for leftover policies when
// Vault answers, and does without it when it does not.
func (l *loaded) needs(prune bool) systems {
	secrets := len(l.bundle.VaultPolicies) > 0
	return systems{nomad: true, consul: true, vault: secrets, vaultIfThere: prune && !secrets}
}

// registeredJob is a job the apply registered, to watch.
type registeredJob struct {
	job, evalID string
	autoPromote bool
}

// applier writes a plan's changes.
type applier struct {
	c    *Clients
	l    *loaded
	opts DeployOptions
	out  io.Writer
	log  *slog.Logger
	// destroying: the plan is a destroy's; purge also removes stopped
	// jobs from Nomad's state (destroy --purge).
	destroying, purge bool
	mu                sync.Mutex
	applied           []*Change
	jobs              []registeredJob
}

// apply runs the changes step by step: creates and updates in dependency
// order, then deletions in reverse. Within a step, changes run
// concurrently. The first failing step stops the apply; the error says what
// was and was not applied. It returns the jobs it registered, by name.
func (a *applier) apply(ctx context.Context, plan *Plan) ([]registeredJob, error) {
	var batches [][]*Change
	var last *Change
	for _, ch := range plan.Changes {
		if ch.Action == ActionNone {
			continue
		}
		if last == nil || ch.step != last.step || (ch.Action == ActionDelete) != (last.Action == ActionDelete) {
			batches = append(batches, nil)
		}
		batches[len(batches)-1] = append(batches[len(batches)-1], ch)
		last = ch
	}
	for bi, batch := range batches {
		errs := make([]error, len(batch))
		skipped := make([]bool, len(batch)) // not sent: the context ended first
		workers := a.opts.Concurrency
		if workers == 0 {
			workers = defaultWorkers
		}
		parallel.ForEachLimit(len(batch), workers, func(i int) {
			if err := ctx.Err(); err != nil {
				errs[i], skipped[i] = err, true
				return
			}
			ch := batch[i]
			if ch.Action == ActionDelete {
				errs[i] = ch.kind.remove(ctx, a, ch)
			} else {
				errs[i] = ch.kind.write(ctx, a, ch)
			}
			if errs[i] == nil {
				a.record(ch)
			}
		})
		if err := errors.Join(errs...); err != nil {
			ae := &ApplyError{Op: "deploy", Err: err}
			if a.destroying {
				ae.Op = "destroy"
			}
			for _, ch := range a.applied {
				ae.Applied = append(ae.Applied, ch.Key())
			}
			for i, ch := range batch {
				switch {
				case skipped[i]:
					ae.Pending = append(ae.Pending, ch.Key())
				case errs[i] != nil:
					ae.Failed = append(ae.Failed, ch.Key())
				}
			}
			for _, later := range batches[bi+1:] {
				for _, ch := range later {
					ae.Pending = append(ae.Pending, ch.Key())
				}
			}
			ae.Registered = len(a.jobs)
			return a.jobs, ae
		}
	}
	sort.Slice(a.jobs, func(i, j int) bool { return a.jobs[i].job < a.jobs[j].job })
	return a.jobs, nil
}

// registered notes a job the apply registered, for the watch.
func (a *applier) registered(j registeredJob) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.jobs = append(a.jobs, j)
}

// doner is a kind with its own words for what was done ("stopped").
type doner interface {
	done(ch *Change, purge bool) string
}

func (a *applier) record(ch *Change) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.applied = append(a.applied, ch)
	verb := map[Action]string{ActionCreate: "created", ActionUpdate: "updated", ActionDelete: "deleted"}[ch.Action]
	if d, ok := ch.kind.(doner); ok {
		verb = d.done(ch, a.purge)
	}
	fmt.Fprintf(a.out, "%s %s %s %s\n", ch.System, ch.label(), ch.Name, verb)
	a.log.Info("applied", "system", ch.System, "kind", ch.Kind, "name", ch.Name, "action", string(ch.Action))
}

// submission attaches the spec source, so Nomad's UI shows what the job
// was rendered from.
func (a *applier) submission(j *render.Job) *nomadapi.JobSubmission {
	var source string
	if app := a.l.set.App(j.Owner.App); app != nil {
		if f := a.l.set.Files[app.Source]; f != nil {
			source = string(f.Bytes)
		}
	} else if pf := a.l.set.Project.File; pf != "" {
		if f := a.l.set.Files[pf]; f != nil {
			source = string(f.Bytes)
		}
	}
	if source == "" {
		return nil
	}
	return &nomadapi.JobSubmission{Source: source, Format: "hcl2", VariableFlags: a.opts.VariableFlags}
}

package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/internal/parallel"
	"github.com/drover-io/drover/pkg/config"
	"github.com/drover-io/drover/pkg/nomadx"
	"github.com/drover-io/drover/pkg/render"
	"github.com/drover-io/drover/pkg/spec"
)

// ClusterOptions are what every use case that talks to the clusters needs.
type ClusterOptions struct {
	Load spec.LoadOptions
	// Config says how to reach the systems; Clients, when set (tests),
	// replaces connecting with it.
	Config  config.Config
	Clients *Clients
	// Version is drover's version, recorded in ownership metadata.
	Version string
	Logger  *slog.Logger
	// Progress receives progress lines (stderr); TTY allows redrawing them.
	Progress io.Writer
	TTY      bool
}

func (o *ClusterOptions) clients() (*Clients, error) {
	if o.Clients != nil {
		return o.Clients, nil
	}
	return Connect(o.Config, o.logger())
}

func (o *ClusterOptions) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

func (o *ClusterOptions) progress() io.Writer {
	if o.Progress == nil {
		return io.Discard
	}
	return o.Progress
}

// loaded is a validated, rendered project.
type loaded struct {
	set    *spec.Set
	bundle *render.Bundle
}

// load validates and renders the specs; an *InputError when they are wrong.
func (o *ClusterOptions) load() (*loaded, Diagnostics, error) {
	set, diags := spec.Load(o.Load)
	d := Diagnostics{Diags: diags}
	if set != nil {
		d.Files = set.Files
	}
	if err := inputError(diags, d.Files); err != nil {
		return nil, d, err
	}
	b, err := render.Render(set, render.Options{Version: o.Version})
	if err != nil {
		return nil, d, err
	}
	return &loaded{set: set, bundle: b}, d, nil
}

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
func RunPlan(ctx context.Context, opts PlanOptions) (*PlanResult, error) {
	l, d, err := opts.load()
	res := &PlanResult{Diagnostics: d}
	if err != nil {
		return res, err
	}
	c, err := opts.clients()
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
	Applied []string
	Failed  []string
	Pending []string
	Err     error
}

func (e *ApplyError) Error() string {
	return fmt.Sprintf("deploy stopped after applying %d change(s); %d failed and %d not attempted: %v",
		len(e.Applied), len(e.Failed), len(e.Pending), e.Err)
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
// deployments. Nothing is written when nothing changed.
func Deploy(ctx context.Context, opts DeployOptions) (*DeployResult, error) {
	l, d, err := opts.load()
	res := &DeployResult{Diagnostics: d}
	if err != nil {
		return res, err
	}
	c, err := opts.clients()
	if err != nil {
		return res, err
	}
	plan, err := computePlan(ctx, c, l.set, l.bundle, planOptions{Adopt: opts.Adopt, Prune: opts.Prune})
	if err != nil {
		return res, err
	}
	res.Plan = plan
	if !plan.HasChanges() {
		fmt.Fprintln(opts.progress(), "Everything is up to date: nothing to apply.")
		return res, nil
	}
	a := &applier{c: c, l: l, opts: opts, out: opts.progress(), log: opts.logger()}
	registered, err := a.apply(ctx, plan)
	res.Applied = a.applied
	if err != nil {
		return res, err
	}
	if opts.Detach || len(registered) == 0 {
		for _, r := range registered {
			res.Deployments = append(res.Deployments, &DeploymentOutcome{Job: r.job, Status: StatusDetached})
		}
		return res, nil
	}
	w := &watcher{nomad: c.Nomad, promote: opts.Promote, progress: newProgress(opts.progress(), opts.TTY), log: opts.logger()}
	outcomes := make([]*DeploymentOutcome, len(registered))
	workers := opts.Concurrency
	if workers == 0 {
		workers = len(registered)
	}
	parallel.ForEachLimit(len(registered), workers, func(i int) {
		outcomes[i] = w.watch(ctx, registered[i].job, registered[i].evalID, registered[i].autoPromote)
	})
	w.progress.finish()
	res.Deployments = outcomes
	var failed []*DeploymentOutcome
	for _, o := range outcomes {
		if o.Failed() {
			failed = append(failed, o)
		}
	}
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if len(failed) > 0 {
		return res, &DeploymentError{Failed: failed}
	}
	return res, nil
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
	// purge removes stopped jobs from Nomad's state (destroy --purge).
	purge   bool
	mu      sync.Mutex
	applied []*Change
}

// apply runs the changes step by step: creates and updates in dependency
// order, then deletions in reverse. Within a step, changes run
// concurrently. The first failing step stops the apply; the error says what
// was and was not applied.
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
	var registered []registeredJob
	var regMu sync.Mutex
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
			evalID, err := a.applyOne(ctx, batch[i])
			errs[i] = err
			if err == nil {
				a.record(batch[i])
				if batch[i].Kind == KindJob && batch[i].Action != ActionDelete && batch[i].job != nil {
					regMu.Lock()
					registered = append(registered, registeredJob{job: batch[i].Name, evalID: evalID, autoPromote: autoPromotes(batch[i].job.Job)})
					regMu.Unlock()
				}
			}
		})
		if err := errors.Join(errs...); err != nil {
			ae := &ApplyError{Err: err}
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
			return registered, ae
		}
	}
	sortRegistered(registered)
	return registered, nil
}

func sortRegistered(r []registeredJob) {
	for i := 1; i < len(r); i++ {
		for j := i; j > 0 && r[j].job < r[j-1].job; j-- {
			r[j], r[j-1] = r[j-1], r[j]
		}
	}
}

func (a *applier) record(ch *Change) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.applied = append(a.applied, ch)
	verb := map[Action]string{ActionCreate: "created", ActionUpdate: "updated", ActionDelete: "deleted"}[ch.Action]
	if ch.Kind == KindJob {
		verb = map[Action]string{ActionCreate: "registered", ActionUpdate: "registered", ActionDelete: "stopped"}[ch.Action]
	}
	fmt.Fprintf(a.out, "%s %s %s %s\n", ch.System, kindLabel(ch.Kind), ch.Name, verb)
	a.log.Info("applied", "system", ch.System, "kind", ch.Kind, "name", ch.Name, "action", string(ch.Action))
}

// applyOne writes one change and returns the evaluation a job register
// created.
func (a *applier) applyOne(ctx context.Context, ch *Change) (string, error) {
	c := a.c
	switch {
	case ch.Kind == KindPolicy && ch.Action == ActionDelete:
		return "", c.Vault.DeletePolicy(ctx, ch.Name)
	case ch.Kind == KindPolicy:
		return "", c.Vault.PutPolicy(ctx, ch.policy.Name, ch.policy.Policy)
	case ch.Kind == KindVaultRole && ch.Action == ActionDelete:
		return "", c.Vault.Delete(ctx, ch.role.Path())
	case ch.Kind == KindVaultRole:
		return "", c.Vault.Write(ctx, ch.role.Path(), ch.role.Data)
	case ch.Kind == KindCatalog && ch.Action == ActionDelete:
		return "", c.Consul.Deregister(ctx, ch.reg.Registration.Node)
	case ch.Kind == KindCatalog:
		return "", c.Consul.Register(ctx, ch.reg.Registration)
	case ch.Kind == KindJob && ch.Action == ActionDelete:
		return c.Nomad.Deregister(ctx, ch.Name, a.purge)
	case ch.Kind == KindJob:
		return a.register(ctx, ch)
	case ch.Action == ActionDelete:
		return "", c.Consul.DeleteConfigEntry(ctx, ch.Kind, ch.Name, ch.ModifyIndex)
	default:
		return "", c.Consul.SetConfigEntry(ctx, ch.entry.Entry, ch.ModifyIndex)
	}
}

// register registers a job with check-and-set on the index the plan saw,
// so a job changed by someone in between is not overwritten.
func (a *applier) register(ctx context.Context, ch *Change) (string, error) {
	resp, err := a.c.Nomad.Register(ctx, ch.job.Job, nomadx.RegisterOptions{
		EnforceIndex:   true,
		ModifyIndex:    ch.ModifyIndex,
		PreserveCounts: ch.job.PreserveCounts && ch.existing,
		Submission:     a.submission(ch.job),
	})
	if err != nil {
		return "", err
	}
	return resp.EvalID, nil
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

// kindLabel is how a kind reads in progress lines.
func kindLabel(kind string) string {
	switch kind {
	case KindJob:
		return "job"
	case KindPolicy:
		return "policy"
	case KindVaultRole:
		return "jwt role"
	case KindCatalog:
		return "catalog registration"
	}
	return kind
}

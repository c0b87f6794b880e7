package app

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	consulapi "github.com/hashicorp/consul/api"

	"github.com/drover-io/drover/pkg/render"
)

// DestroyOptions select what to destroy.
type DestroyOptions struct {
	ClusterOptions
	// Purge removes the jobs from Nomad's state instead of stopping them.
	Purge bool
	// Confirm is shown the plan before anything is written; returning
	// false cancels. Nil means yes.
	Confirm func(*Plan) bool
}

// DestroyResult is what a destroy did.
type DestroyResult struct {
	Diagnostics
	Plan    *Plan
	Applied []*Change
	// Cancelled is true when Confirm said no.
	Cancelled bool
}

// Destroy removes the apps and externals of the selected specs and
// everything drover made for them: it first takes them out of the gateways
// and intentions of what remains, then stops their jobs, then deletes their
// config entries, catalog registrations and Vault policies and roles. An
// app that another app still calls cannot be destroyed.
func Destroy(ctx context.Context, opts DestroyOptions) (*DestroyResult, error) {
	l, d, err := opts.load()
	res := &DestroyResult{Diagnostics: d}
	if err != nil {
		return res, err
	}
	c, err := opts.clients()
	if err != nil {
		return res, err
	}
	targets, externals := map[string]bool{}, map[string]bool{}
	selectedFiles := map[string]bool{}
	for _, a := range l.set.Apps {
		if l.set.Selected[a.Name] {
			targets[a.Name] = true
			selectedFiles[a.File] = true
		}
	}
	whole := len(targets) == len(l.set.Apps)
	for _, e := range l.set.Externals {
		if whole || selectedFiles[e.File] || l.set.SelectedExternals[e.Name] {
			externals[e.Name] = true
		}
	}
	remaining := l.set.Without(targets, externals)
	if err := checkNoCallers(remaining, targets, externals); err != nil {
		return res, err
	}
	bundle, err := render.Render(remaining, render.Options{Version: opts.Version})
	if err != nil {
		return res, err
	}
	full, err := computePlan(ctx, c, remaining, bundle, planOptions{Prune: true, Adopt: true})
	if err != nil {
		return res, err
	}
	plan := &Plan{Project: full.Project, Environment: full.Environment}
	for _, ch := range full.Changes {
		if keepForDestroy(ch, targets, externals) {
			plan.Changes = append(plan.Changes, ch)
		}
	}
	plan.summarize()
	res.Plan = plan
	if !plan.HasChanges() {
		fmt.Fprintln(opts.progress(), "Nothing to destroy: none of it exists.")
		return res, nil
	}
	if opts.Confirm != nil && !opts.Confirm(plan) {
		res.Cancelled = true
		return res, nil
	}
	a := &applier{c: c, l: &loaded{set: remaining, bundle: bundle}, opts: DeployOptions{}, out: opts.progress(), log: opts.logger(), purge: opts.Purge}
	_, err = a.apply(ctx, plan)
	res.Applied = a.applied
	return res, err
}

// keepForDestroy keeps the deletions of what is destroyed and the updates
// that take it out of what remains (gateways, intentions, routers); other
// pending changes of the remaining apps are not destroy's business.
func keepForDestroy(ch *Change, apps, externals map[string]bool) bool {
	gateway := ch.step == stepGatewayJobs || ch.step == stepGatewayEntries
	switch ch.Action {
	case ActionDelete:
		return apps[ch.App] || apps[ch.Name] || externals[ch.Name] || gateway
	case ActionUpdate:
		return gateway || ch.Kind == consulapi.ServiceIntentions || ch.Kind == consulapi.ServiceRouter
	}
	return false
}

// checkNoCallers refuses to destroy what a remaining app still calls.
func checkNoCallers(remaining interface {
	Callers(string) []string
}, apps, externals map[string]bool) error {
	var problems []string
	for _, names := range []map[string]bool{apps, externals} {
		for name := range names {
			if callers := remaining.Callers(name); len(callers) > 0 {
				problems = append(problems, fmt.Sprintf("%s is still called by %s", name, strings.Join(callers, ", ")))
			}
		}
	}
	if len(problems) == 0 {
		return nil
	}
	sort.Strings(problems)
	return errors.New("cannot destroy: " + strings.Join(problems, "; ") + "; remove those upstreams from the callers' specs first")
}

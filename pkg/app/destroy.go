package app

import (
	"context"
	"errors"
	"fmt"
	"maps"
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
func Destroy(ctx context.Context, opts DestroyOptions) (res *DestroyResult, err error) {
	ctx, timedOut, cancel := opts.deadline(ctx)
	defer cancel()
	defer func() { err = timedOut(err, "destroying") }()
	l, d, err := opts.load()
	res = &DestroyResult{Diagnostics: d}
	if err != nil {
		return res, err
	}
	secrets := false
	for _, a := range l.set.Apps {
		secrets = secrets || len(a.Secrets()) > 0
	}
	c, err := opts.connect(ctx, l, systems{nomad: true, consul: true, vault: secrets, vaultIfThere: !secrets})
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
	// What remains is what runs now, less what goes. The spec files still
	// hold apps destroyed earlier; they must not come back into the
	// gateways and intentions of what remains.
	liveApps, liveExternals, err := deployed(ctx, c, l.bundle.Project)
	if err != nil {
		return res, err
	}
	goneApps, goneExternals := maps.Clone(targets), maps.Clone(externals)
	for _, a := range l.set.Apps {
		if !liveApps[a.Name] {
			goneApps[a.Name] = true
		}
	}
	for _, e := range l.set.Externals {
		if !liveExternals[e.Name] {
			goneExternals[e.Name] = true
		}
	}
	remaining := l.set.Without(goneApps, goneExternals)
	if err := checkNoCallers(remaining, targets, externals); err != nil {
		return res, err
	}
	bundle, err := render.Render(remaining, render.Options{Version: opts.Version})
	if err != nil {
		return res, err
	}
	full, err := computePlan(ctx, c, remaining, bundle, planOptions{Prune: true, Adopt: true, PurgeStopped: opts.Purge})
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
	a := &applier{c: c, l: &loaded{set: remaining, bundle: bundle}, opts: DeployOptions{}, out: opts.progress(), log: opts.logger(), destroying: true, purge: opts.Purge}
	_, err = a.apply(ctx, plan)
	res.Applied = a.applied
	return res, err
}

// deployed finds the apps of a project that run now (an owned job that is
// not stopped) and its externals that are registered.
func deployed(ctx context.Context, c *Clients, project string) (apps, externals map[string]bool, err error) {
	stubs, err := c.Nomad.JobsWithMeta(ctx, render.MetaProject, project)
	if err != nil {
		return nil, nil, err
	}
	apps = map[string]bool{}
	for _, s := range stubs {
		if s.Meta[render.MetaManaged] == "true" && !s.Stop && s.Meta[render.MetaApp] != "" {
			apps[s.Meta[render.MetaApp]] = true
		}
	}
	nodes, err := c.Consul.NodesWithMeta(ctx, render.MetaProject, project)
	if err != nil {
		return nil, nil, err
	}
	externals = map[string]bool{}
	for _, n := range nodes {
		if n.Meta[render.MetaManaged] == "true" {
			externals[strings.TrimPrefix(n.Node, render.ExternalNodeName(""))] = true
		}
	}
	return apps, externals, nil
}

// keepForDestroy keeps the deletions of what is destroyed and the updates
// that take it out of what remains (gateways, intentions, routers); other
// pending changes of the remaining apps are not destroy's business.
func keepForDestroy(ch *Change, apps, externals map[string]bool) bool {
	gateway := ch.step == stepGatewayJobs || ch.step == stepGatewayEntries
	switch ch.Action {
	case ActionDelete:
		// A router is named after the app that owns the host, not the one
		// it routes to: when what remains needs it no more, it goes first,
		// or Consul refuses the deletions of what it routes to.
		return apps[ch.App] || apps[ch.Name] || externals[ch.Name] || gateway || ch.Kind == consulapi.ServiceRouter
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

package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	consulapi "github.com/hashicorp/consul/api"

	"github.com/drover-io/drover/internal/parallel"
	"github.com/drover-io/drover/pkg/apierr"
	"github.com/drover-io/drover/pkg/spec"
)

// StatusOptions select the apps to report on.
type StatusOptions struct {
	ClusterOptions
}

// AppStatus is one app as the clusters see it.
type AppStatus struct {
	App string `json:"app"`
	// Job is the Nomad job's status: running, pending, dead, or
	// "not deployed".
	Job        string        `json:"job"`
	Version    uint64        `json:"version"`
	Deployment string        `json:"deployment,omitempty"`
	Groups     []GroupStatus `json:"groups,omitempty"`
	// Consul is the health of the app's service instances (nil for apps
	// without a service).
	Consul *ServiceHealth `json:"consul,omitempty"`
	// Public lists the hosts that reach the app from outside; empty for
	// mesh-internal apps.
	Public []string `json:"public"`
	// Error is set when the app's state could not be read.
	Error string `json:"error,omitempty"`
}

// GroupStatus is one task group's counts.
type GroupStatus struct {
	Name      string `json:"name"`
	Desired   int    `json:"desired"`
	Placed    int    `json:"placed"`
	Running   int    `json:"running"`
	Healthy   int    `json:"healthy"`
	Unhealthy int    `json:"unhealthy"`
}

// ServiceHealth counts a service's instances by aggregated check status.
type ServiceHealth struct {
	Instances int `json:"instances"`
	Passing   int `json:"passing"`
	Warning   int `json:"warning"`
	Critical  int `json:"critical"`
}

// StatusResult is the status of every selected app. Its JSON form, the
// document of `drover status --json`, is {"apps": [AppStatus...]}; the
// diagnostics (and the parsed specs they point into) are not part of it.
type StatusResult struct {
	Diagnostics `json:"-"`
	Apps        []AppStatus `json:"apps"`
}

// Status reports, per app: the job, its latest deployment, desired,
// running and healthy counts per group, health in Consul, and whether it is
// public.
func Status(ctx context.Context, opts StatusOptions) (res *StatusResult, err error) {
	ctx, timedOut, cancel := opts.deadline(ctx)
	defer cancel()
	defer func() { err = timedOut(err, "reading the status") }()
	l, d, err := opts.load()
	res = &StatusResult{Diagnostics: d}
	if err != nil {
		return res, err
	}
	c, err := opts.connect(ctx, l, systems{nomad: true, consul: true})
	if err != nil {
		return res, err
	}
	var apps []*spec.App
	for _, a := range l.set.Apps {
		if l.set.Selected[a.Name] {
			apps = append(apps, a)
		}
	}
	res.Apps = make([]AppStatus, len(apps))
	parallel.ForEachLimit(len(apps), defaultWorkers, func(i int) {
		res.Apps[i] = appStatus(ctx, c, l.set, apps[i])
	})
	return res, ctx.Err()
}

func appStatus(ctx context.Context, c *Clients, set *spec.Set, app *spec.App) AppStatus {
	s := AppStatus{App: app.Name, Public: []string{}}
	for _, h := range set.PublicHosts() {
		if h.Default == app {
			s.Public = append(s.Public, h.Host)
		}
		for _, p := range h.Paths {
			if p.App == app {
				s.Public = append(s.Public, h.Host+p.Prefix)
			}
		}
	}
	job, err := c.Nomad.Job(ctx, app.Name)
	switch {
	case errors.Is(err, apierr.ErrNotFound):
		s.Job = "not deployed"
		return s
	case err != nil:
		s.Error = err.Error()
		return s
	}
	s.Job = *job.Status
	if job.Stop != nil && *job.Stop {
		s.Job = "stopped"
	}
	s.Version = *job.Version
	if dep, _, err := c.Nomad.LatestDeployment(ctx, app.Name, 0); err == nil && dep != nil {
		s.Deployment = dep.Status
	}
	if scale, err := c.Nomad.ScaleStatus(ctx, app.Name); err == nil {
		for _, name := range sortedKeys(scale.TaskGroups) {
			g := scale.TaskGroups[name]
			s.Groups = append(s.Groups, GroupStatus{Name: name, Desired: g.Desired, Placed: g.Placed, Running: g.Running, Healthy: g.Healthy, Unhealthy: g.Unhealthy})
		}
	} else {
		s.Error = err.Error()
	}
	if app.Service != nil {
		entries, err := c.Consul.Health(ctx, app.Name)
		if err != nil {
			s.Error = err.Error()
			return s
		}
		h := &ServiceHealth{Instances: len(entries)}
		for _, e := range entries {
			switch e.Checks.AggregatedStatus() {
			case consulapi.HealthPassing:
				h.Passing++
			case consulapi.HealthWarning:
				h.Warning++
			default:
				h.Critical++
			}
		}
		s.Consul = h
	}
	return s
}

// WriteStatus prints the status as a table.
func WriteStatus(w io.Writer, apps []AppStatus) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "APP\tJOB\tVERSION\tDEPLOYMENT\tDESIRED\tRUNNING\tHEALTHY\tCONSUL\tPUBLIC")
	for _, a := range apps {
		var desired, running, healthy int
		for _, g := range a.Groups {
			desired += g.Desired
			running += g.Running
			healthy += g.Healthy
		}
		consul := "-"
		if a.Consul != nil {
			consul = fmt.Sprintf("%d/%d passing", a.Consul.Passing, a.Consul.Instances)
		}
		public := "-"
		if len(a.Public) > 0 {
			sort.Strings(a.Public)
			public = strings.Join(a.Public, ",")
		}
		dep := a.Deployment
		if dep == "" {
			dep = "-"
		}
		version := fmt.Sprint(a.Version)
		if a.Job == "not deployed" {
			version = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n", a.App, a.Job, version, dep, desired, running, healthy, consul, public)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, a := range apps {
		if a.Error != "" {
			fmt.Fprintf(w, "%s: %s\n", a.App, a.Error)
		}
	}
	return nil
}

package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/drover-io/drover/pkg/apierr"
	"github.com/drover-io/drover/pkg/nomadx"
	"github.com/drover-io/drover/pkg/render"
)

// ScaleOptions say which app to scale to what.
type ScaleOptions struct {
	ClusterOptions
	App string
	// Group defaults to the job's only group.
	Group string
	Count int
	// Message is recorded with the scaling event.
	Message string
}

// ScaleResult is what a scale did.
type ScaleResult struct {
	App      string `json:"app"`
	Group    string `json:"group"`
	Previous int    `json:"previous"`
	Count    int    `json:"count"`
	EvalID   string `json:"eval_id,omitempty"`
}

// ScaleError is a scale Nomad would refuse or did; Reason is for people.
type ScaleError struct {
	App, Reason string
	Err         error
}

func (e *ScaleError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("cannot scale %s: %s (%v)", e.App, e.Reason, e.Err)
	}
	return fmt.Sprintf("cannot scale %s: %s", e.App, e.Reason)
}

func (e *ScaleError) Unwrap() error { return e.Err }

// Scale sets an app's instance count within its scaling bounds. The change
// is check-and-set on the job's modify index, and it is recorded as a
// scaling event, so an autoscaler sees it and its cooldown starts.
//
// With spec paths (opts.Load.Paths), the app must be one of theirs, and the
// job is found in its project's namespace; without, in the configured one.
// Only Nomad is contacted.
func Scale(ctx context.Context, opts ScaleOptions) (res *ScaleResult, err error) {
	ctx, timedOut, cancel := opts.deadline(ctx)
	defer cancel()
	defer func() { err = timedOut(err, "scaling") }()
	var l *loaded
	if len(opts.Load.Paths) > 0 {
		if l, _, err = opts.load(); err != nil {
			return nil, err
		}
		if l.set.App(opts.App) == nil {
			return nil, &ScaleError{App: opts.App, Reason: fmt.Sprintf("the specs have no app %q", opts.App)}
		}
	}
	c, err := opts.connect(ctx, l, systems{nomad: true})
	if err != nil {
		return nil, err
	}
	job, err := c.Nomad.Job(ctx, opts.App)
	if errors.Is(err, apierr.ErrNotFound) {
		return nil, &ScaleError{App: opts.App, Reason: fmt.Sprintf("no Nomad job %q: deploy it first", opts.App)}
	} else if err != nil {
		return nil, err
	}
	if job.Meta[render.MetaManaged] != "true" {
		return nil, &ScaleError{App: opts.App, Reason: "the job is not managed by drover; use nomad job scale"}
	}
	if opts.Count < 0 {
		return nil, &ScaleError{App: opts.App, Reason: "a count cannot be negative"}
	}
	group := opts.Group
	if group == "" {
		if len(job.TaskGroups) != 1 {
			return nil, &ScaleError{App: opts.App, Reason: "the job has several groups; name one with --group"}
		}
		group = *job.TaskGroups[0].Name
	}
	tg := job.LookupTaskGroup(group)
	if tg == nil {
		return nil, &ScaleError{App: opts.App, Reason: fmt.Sprintf("the job has no group %q", group)}
	}
	res = &ScaleResult{App: opts.App, Group: group, Count: opts.Count}
	if tg.Count != nil {
		res.Previous = *tg.Count
	}
	if s := tg.Scaling; s != nil && s.Min != nil && s.Max != nil && (int64(opts.Count) < *s.Min || int64(opts.Count) > *s.Max) {
		return nil, &ScaleError{App: opts.App, Reason: fmt.Sprintf("%d is outside the group's scaling bounds [%d, %d]; change scaling { min max } in the spec to go further", opts.Count, *s.Min, *s.Max)}
	}
	msg := opts.Message
	if msg == "" {
		msg = fmt.Sprintf("drover scale %s %d", opts.App, opts.Count)
	}
	resp, err := c.Nomad.Scale(ctx, opts.App, nomadx.ScaleRequest{
		Group: group, Count: int64(opts.Count), Message: msg, JobModifyIndex: *job.JobModifyIndex,
		Meta: map[string]any{"drover.source": "drover scale", "drover.previous_count": res.Previous},
	})
	switch {
	case nomadx.IsDeploymentActive(err):
		return nil, &ScaleError{App: opts.App, Reason: "a deployment is in progress; scale again when it finishes (drover status shows it)", Err: err}
	case errors.Is(err, apierr.ErrConflict):
		return nil, &ScaleError{App: opts.App, Reason: "the job changed while scaling; run the command again", Err: err}
	case err != nil:
		return nil, err
	}
	res.EvalID = resp.EvalID
	return res, nil
}

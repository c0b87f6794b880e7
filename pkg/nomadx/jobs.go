package nomadx

import (
	"context"
	"fmt"
	"sort"
	"strings"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/pkg/apierr"
)

// Job returns a job and the index it was read at; apierr.ErrNotFound when
// it does not exist.
func (c *Client) Job(ctx context.Context, id string) (*nomadapi.Job, error) {
	var job *nomadapi.Job
	err := c.read(ctx, "read job", quote(id), func() error {
		var err error
		job, _, err = c.api.Jobs().Info(id, c.q(ctx))
		return err
	})
	return job, err
}

// Plan dry-runs a job with Nomad's scheduler and returns its diff.
func (c *Client) Plan(ctx context.Context, job *nomadapi.Job) (*nomadapi.JobPlanResponse, error) {
	var resp *nomadapi.JobPlanResponse
	// A plan changes nothing, but Nomad answers 500 to a job it refuses
	// (validation): retry only where Nomad did not answer.
	err := c.write(ctx, "plan job", quote(*job.ID), func() error {
		var err error
		resp, _, err = c.api.Jobs().PlanOpts(job, &nomadapi.PlanOptions{Diff: true}, c.w(ctx))
		return err
	})
	return resp, err
}

// RegisterOptions control a register.
type RegisterOptions struct {
	// EnforceIndex makes the register fail with apierr.ErrConflict unless
	// the job's modify index is still ModifyIndex (0: the job must not exist).
	EnforceIndex bool
	ModifyIndex  uint64
	// PreserveCounts keeps the running groups' counts (an autoscaler owns them).
	PreserveCounts bool
	// Submission is the source shown in Nomad's UI.
	Submission *nomadapi.JobSubmission
}

// Register registers a job.
func (c *Client) Register(ctx context.Context, job *nomadapi.Job, opts RegisterOptions) (*nomadapi.JobRegisterResponse, error) {
	var resp *nomadapi.JobRegisterResponse
	err := c.write(ctx, "register job", quote(*job.ID), func() error {
		var err error
		resp, _, err = c.api.Jobs().RegisterOpts(job, &nomadapi.RegisterOptions{
			EnforceIndex:   opts.EnforceIndex,
			ModifyIndex:    opts.ModifyIndex,
			PreserveCounts: opts.PreserveCounts,
			Submission:     opts.Submission,
		}, c.w(ctx))
		return err
	})
	return resp, err
}

// Deregister stops a job (and removes it from Nomad's state with purge).
// It returns the evaluation ID.
func (c *Client) Deregister(ctx context.Context, id string, purge bool) (string, error) {
	var evalID string
	err := c.write(ctx, "stop job", quote(id), func() error {
		var err error
		evalID, _, err = c.api.Jobs().Deregister(id, purge, c.w(ctx))
		return err
	})
	return evalID, err
}

// JobsWithMeta lists the jobs whose meta has key = value, using Nomad's
// server-side filter, sorted by ID.
func (c *Client) JobsWithMeta(ctx context.Context, key, value string) ([]*nomadapi.JobListStub, error) {
	var stubs []*nomadapi.JobListStub
	q := c.q(ctx)
	q.Filter = fmt.Sprintf("Meta[%q] == %q", key, value)
	q.Params = map[string]string{"meta": "true"}
	err := c.read(ctx, "list jobs", fmt.Sprintf("with meta %s=%s", key, value), func() error {
		var err error
		stubs, _, err = c.api.Jobs().List(q)
		return err
	})
	sort.Slice(stubs, func(i, j int) bool { return stubs[i].ID < stubs[j].ID })
	return stubs, err
}

// JobModifyIndex returns the index of a job's last spec change, which is
// what check-and-set writes compare against (not the ModifyIndex that
// /v1/job/:id/scale reports, which also moves on status changes). It reads
// the light job list, not the whole job; apierr.ErrNotFound if none.
func (c *Client) JobModifyIndex(ctx context.Context, jobID string) (uint64, error) {
	var stubs []*nomadapi.JobListStub
	q := c.q(ctx)
	q.Prefix = jobID
	err := c.read(ctx, "read modify index of job", quote(jobID), func() error {
		var err error
		stubs, _, err = c.api.Jobs().List(q)
		return err
	})
	if err != nil {
		return 0, err
	}
	for _, st := range stubs {
		if st.ID == jobID {
			return st.JobModifyIndex, nil
		}
	}
	return 0, &apierr.Error{System: apierr.Nomad, Op: "read modify index of job", Object: quote(jobID), Status: 404, Message: "job not found"}
}

// Allocations lists a job's allocations.
func (c *Client) Allocations(ctx context.Context, jobID string) ([]*nomadapi.AllocationListStub, error) {
	var allocs []*nomadapi.AllocationListStub
	err := c.read(ctx, "list allocations of job", quote(jobID), func() error {
		var err error
		allocs, _, err = c.api.Jobs().Allocations(jobID, false, c.q(ctx))
		return err
	})
	return allocs, err
}

// Evaluation reads an evaluation, blocking until its index passes
// waitIndex when that is non-zero.
func (c *Client) Evaluation(ctx context.Context, id string, waitIndex uint64) (*nomadapi.Evaluation, uint64, error) {
	var eval *nomadapi.Evaluation
	var meta *nomadapi.QueryMeta
	q := c.q(ctx)
	q.WaitIndex = waitIndex
	err := c.read(ctx, "read evaluation", quote(id), func() error {
		var err error
		eval, meta, err = c.api.Evaluations().Info(id, q)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return eval, meta.LastIndex, nil
}

// LatestDeployment returns a job's most recent deployment (nil when it has
// none), blocking until the deployments index passes waitIndex when that
// is non-zero.
func (c *Client) LatestDeployment(ctx context.Context, jobID string, waitIndex uint64) (*nomadapi.Deployment, uint64, error) {
	var d *nomadapi.Deployment
	var meta *nomadapi.QueryMeta
	q := c.q(ctx)
	q.WaitIndex = waitIndex
	err := c.read(ctx, "read latest deployment of job", quote(jobID), func() error {
		var err error
		d, meta, err = c.api.Jobs().LatestDeployment(jobID, q)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return d, meta.LastIndex, nil
}

// Deployment reads a deployment, blocking until its index passes waitIndex
// when that is non-zero.
func (c *Client) Deployment(ctx context.Context, id string, waitIndex uint64) (*nomadapi.Deployment, uint64, error) {
	var d *nomadapi.Deployment
	var meta *nomadapi.QueryMeta
	q := c.q(ctx)
	q.WaitIndex = waitIndex
	err := c.read(ctx, "read deployment", quote(shortID(id)), func() error {
		var err error
		d, meta, err = c.api.Deployments().Info(id, q)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return d, meta.LastIndex, nil
}

// DeploymentAllocations lists the allocations a deployment placed.
func (c *Client) DeploymentAllocations(ctx context.Context, id string) ([]*nomadapi.AllocationListStub, error) {
	var allocs []*nomadapi.AllocationListStub
	err := c.read(ctx, "list allocations of deployment", quote(shortID(id)), func() error {
		var err error
		allocs, _, err = c.api.Deployments().Allocations(id, c.q(ctx))
		return err
	})
	return allocs, err
}

// Promote promotes every canary of a deployment.
func (c *Client) Promote(ctx context.Context, id string) error {
	return c.write(ctx, "promote deployment", quote(shortID(id)), func() error {
		_, _, err := c.api.Deployments().PromoteAll(id, c.w(ctx))
		return err
	})
}

// ScaleStatus returns a job's per-group counts and recent scaling events.
func (c *Client) ScaleStatus(ctx context.Context, jobID string) (*nomadapi.JobScaleStatusResponse, error) {
	var s *nomadapi.JobScaleStatusResponse
	err := c.read(ctx, "read scale status of job", quote(jobID), func() error {
		var err error
		s, _, err = c.api.Jobs().ScaleStatus(jobID, c.q(ctx))
		return err
	})
	return s, err
}

// ScaleRequest is one scaling action.
type ScaleRequest struct {
	Group   string
	Count   int64
	Message string
	Meta    map[string]any
	// JobModifyIndex, when non-zero, makes the scale fail with
	// apierr.ErrConflict if the job changed since it was read.
	JobModifyIndex uint64
}

// Scale sets a group's count. Nomad refuses (400) a count outside the
// group's scaling bounds and any scaling while a deployment is active.
func (c *Client) Scale(ctx context.Context, jobID string, r ScaleRequest) (*nomadapi.JobRegisterResponse, error) {
	var resp *nomadapi.JobRegisterResponse
	count := r.Count
	err := c.write(ctx, "scale job", fmt.Sprintf("%q group %q to %d", jobID, r.Group, r.Count), func() error {
		var err error
		resp, _, err = c.api.Jobs().ScaleWithRequest(jobID, &nomadapi.ScalingRequest{
			Count:          &count,
			Target:         map[string]string{"Group": r.Group},
			Message:        r.Message,
			Meta:           r.Meta,
			JobModifyIndex: r.JobModifyIndex,
		}, c.w(ctx))
		return err
	})
	return resp, err
}

// IsDeploymentActive reports the 400 Nomad returns for a scale during an
// active deployment.
func IsDeploymentActive(err error) bool {
	return err != nil && strings.Contains(err.Error(), "scaling blocked due to active deployment")
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// NamespaceInfo reads a namespace; apierr.ErrNotFound when it does not
// exist.
func (c *Client) NamespaceInfo(ctx context.Context, name string) (*nomadapi.Namespace, error) {
	var ns *nomadapi.Namespace
	err := c.read(ctx, "read namespace", quote(name), func() error {
		var err error
		ns, _, err = c.api.Namespaces().Info(name, c.q(ctx))
		return err
	})
	return ns, err
}

// PutNamespace creates or updates a namespace.
func (c *Client) PutNamespace(ctx context.Context, ns *nomadapi.Namespace) error {
	return c.write(ctx, "write namespace", quote(ns.Name), func() error {
		_, err := c.api.Namespaces().Register(ns, c.w(ctx))
		return err
	})
}

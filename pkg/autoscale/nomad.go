package autoscale

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/pkg/apierr"
	"github.com/drover-io/drover/pkg/config"
	"github.com/drover-io/drover/pkg/nomadx"
	"github.com/drover-io/drover/pkg/retry"
)

// NomadAPI is what the scaling target needs from Nomad. Namespaces are
// explicit: one reconciler serves policies of every namespace.
type NomadAPI interface {
	// ScaleStatus reads GET /v1/job/:id/scale, blocking until the index
	// passes waitIndex when that is non-zero; apierr.ErrNotFound when the
	// job does not exist.
	ScaleStatus(ctx context.Context, ns, job string, waitIndex uint64) (*nomadapi.JobScaleStatusResponse, uint64, error)
	// LatestDeployment is the job's newest deployment, nil when none.
	LatestDeployment(ctx context.Context, ns, job string) (*nomadapi.Deployment, error)
	// JobIndexes are the job's ModifyIndex (any change, which the scale
	// status reports) and JobModifyIndex (spec changes, which a scale's
	// check-and-set compares).
	JobIndexes(ctx context.Context, ns, job string) (modify, jobModify uint64, err error)
	// Scale sets a group's count; a nil Count records an event only (the
	// Autoscaler's dry-run). A refusal during a deployment satisfies
	// nomadx.IsDeploymentActive, a lost check-and-set apierr.ErrConflict.
	Scale(ctx context.Context, ns, job string, r ScaleRequest) error
	// Events streams the Job, Allocation and Deployment topics of every
	// namespace from index; ErrNoEventStream when the agent will not
	// serve it (404, 403), so that the caller falls back to blocking
	// queries.
	Events(ctx context.Context, index uint64) (<-chan *nomadapi.Events, error)
}

// PolicyAPI is what the Nomad policy source needs.
type PolicyAPI interface {
	ScalingPolicies(ctx context.Context, waitIndex uint64) ([]*nomadapi.ScalingPolicyListStub, uint64, error)
	ScalingPolicy(ctx context.Context, id string) (*nomadapi.ScalingPolicy, error)
}

// Locker runs fn only while holding a lock (nomadx.Client.WithLock).
type Locker interface {
	WithLock(ctx context.Context, path string, ttl time.Duration, fn func(context.Context) error) error
}

// ScaleRequest is one scaling action.
type ScaleRequest struct {
	Group string
	// Count nil records a scaling event without changing the count.
	Count   *int64
	Message string
	Meta    map[string]any
	// JobModifyIndex, when non-zero, makes the scale check-and-set.
	JobModifyIndex uint64
}

// ErrNoEventStream: the agent does not serve the event stream.
var ErrNoEventStream = errors.New("nomad: the event stream is not available")

// Nomad adapts pkg/nomadx (typed errors, retries) and, for the calls
// nomadx has no method for yet (a blocking scale status, a scale without a
// count, the event stream), the official client built from the same
// endpoint.
type Nomad struct {
	X     *nomadx.Client
	api   *nomadapi.Client
	retry retry.Policy
	log   *slog.Logger
}

var (
	_ NomadAPI  = (*Nomad)(nil)
	_ PolicyAPI = (*Nomad)(nil)
	_ Locker    = (*Nomad)(nil)
)

// NewNomad connects to ep the way x does; log receives retries.
func NewNomad(ep config.Endpoint, x *nomadx.Client, rp retry.Policy, log *slog.Logger) (*Nomad, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c, err := nomadapi.NewClient(&nomadapi.Config{
		Address: ep.Address, Region: ep.Region, Namespace: ep.Namespace, SecretID: ep.Token.Reveal(),
		WaitTime: nomadx.MaxBlockingWait,
		TLSConfig: &nomadapi.TLSConfig{
			CACert: ep.TLS.CACert, CAPath: ep.TLS.CAPath, ClientCert: ep.TLS.ClientCert, ClientKey: ep.TLS.ClientKey,
			TLSServerName: ep.TLS.ServerName, Insecure: ep.TLS.SkipVerify,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("nomad client for %s: %w", ep.Address, err)
	}
	return &Nomad{X: x, api: c, retry: rp.OrDefault(), log: log.With("system", apierr.Nomad)}, nil
}

func (n *Nomad) q(ctx context.Context, ns string) *nomadapi.QueryOptions {
	return (&nomadapi.QueryOptions{Namespace: ns}).WithContext(ctx)
}

// read retries transient failures of a read.
func (n *Nomad) read(ctx context.Context, op, object string, fn func() error) error {
	return apierr.Calls{Policy: n.retry, Log: n.log, Wrap: nomadx.WrapError}.Read(ctx, op, object, fn)
}

// ScaleStatus implements NomadAPI.
func (n *Nomad) ScaleStatus(ctx context.Context, ns, job string, waitIndex uint64) (*nomadapi.JobScaleStatusResponse, uint64, error) {
	var s *nomadapi.JobScaleStatusResponse
	var meta *nomadapi.QueryMeta
	q := n.q(ctx, ns)
	q.WaitIndex = waitIndex
	err := n.read(ctx, "read scale status of job", fmt.Sprintf("%q", job), func() error {
		var err error
		s, meta, err = n.api.Jobs().ScaleStatus(job, q)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return s, meta.LastIndex, nil
}

// LatestDeployment implements NomadAPI.
func (n *Nomad) LatestDeployment(ctx context.Context, ns, job string) (*nomadapi.Deployment, error) {
	d, _, err := n.X.InNamespace(ns).LatestDeployment(ctx, job, 0)
	return d, err
}

// JobIndexes implements NomadAPI: it reads the light job list, not the job.
func (n *Nomad) JobIndexes(ctx context.Context, ns, job string) (uint64, uint64, error) {
	var stubs []*nomadapi.JobListStub
	q := n.q(ctx, ns)
	q.Prefix = job
	err := n.read(ctx, "read modify index of job", fmt.Sprintf("%q", job), func() error {
		var err error
		stubs, _, err = n.api.Jobs().List(q)
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	for _, st := range stubs {
		if st.ID == job {
			return st.ModifyIndex, st.JobModifyIndex, nil
		}
	}
	return 0, 0, &apierr.Error{System: apierr.Nomad, Op: "read modify index of job", Object: fmt.Sprintf("%q", job), Status: http.StatusNotFound, Message: "job not found"}
}

// Scale implements NomadAPI.
func (n *Nomad) Scale(ctx context.Context, ns, job string, r ScaleRequest) error {
	if r.Count != nil {
		_, err := n.X.InNamespace(ns).Scale(ctx, job, nomadx.ScaleRequest{
			Group: r.Group, Count: *r.Count, Message: r.Message, Meta: r.Meta, JobModifyIndex: r.JobModifyIndex,
		})
		return err
	}
	// No count: the Nomad target's dry-run, an event only
	// (plugins/builtin/target/nomad/plugin/plugin.go Scale).
	_, _, err := n.api.Jobs().ScaleWithRequest(job, &nomadapi.ScalingRequest{
		Target: map[string]string{"Job": job, "Group": r.Group}, Message: r.Message, Meta: r.Meta,
	}, (&nomadapi.WriteOptions{Namespace: ns}).WithContext(ctx))
	return nomadx.WrapError("record scaling event of job", fmt.Sprintf("%q group %q", job, r.Group), err)
}

// Events implements NomadAPI.
func (n *Nomad) Events(ctx context.Context, index uint64) (<-chan *nomadapi.Events, error) {
	topics := map[nomadapi.Topic][]string{nomadapi.TopicJob: {"*"}, nomadapi.TopicAllocation: {"*"}, nomadapi.TopicDeployment: {"*"}}
	ch, err := n.api.EventStream().Stream(ctx, topics, index, &nomadapi.QueryOptions{Namespace: "*"})
	if err != nil {
		var ure nomadapi.UnexpectedResponseError
		var urep *nomadapi.UnexpectedResponseError
		status := 0
		if errors.As(err, &urep) {
			status = urep.StatusCode()
		} else if errors.As(err, &ure) {
			status = ure.StatusCode()
		}
		if status == http.StatusNotFound || status == http.StatusForbidden || status == http.StatusMethodNotAllowed {
			return nil, fmt.Errorf("%w: %v", ErrNoEventStream, err)
		}
		return nil, nomadx.WrapError("subscribe to the event stream", "", err)
	}
	return ch, nil
}

// ScalingPolicies implements PolicyAPI.
func (n *Nomad) ScalingPolicies(ctx context.Context, waitIndex uint64) ([]*nomadapi.ScalingPolicyListStub, uint64, error) {
	return n.X.ScalingPolicies(ctx, waitIndex)
}

// ScalingPolicy implements PolicyAPI.
func (n *Nomad) ScalingPolicy(ctx context.Context, id string) (*nomadapi.ScalingPolicy, error) {
	return n.X.ScalingPolicy(ctx, id)
}

// WithLock implements Locker.
func (n *Nomad) WithLock(ctx context.Context, path string, ttl time.Duration, fn func(context.Context) error) error {
	return n.X.WithLock(ctx, path, ttl, fn)
}

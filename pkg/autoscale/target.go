package autoscale

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/pkg/apierr"
	"github.com/drover-io/drover/pkg/nomadx"
	"github.com/drover-io/drover/pkg/retry"
	"github.com/drover-io/drover/pkg/scaling"
)

// Target is the Nomad task-group target. It answers Status from a cache,
// so that a steady-state evaluation makes no request to Nomad:
//
//	           subscribe ok                      stream ends
//	[polling] ─────────────> [events] ─────────────────────> [polling] ─ resubscribe ─> [events]
//	    │                      every Job, Allocation or Deployment event invalidates its job;
//	    │                      the next Status of that job reads it again (scale status and
//	    │                      latest deployment), and a cached status is read again after
//	    │                      MaxAge at the latest
//	    └─ 404/403 ─> [blocking]  one blocking query per job on its scale status (the
//	                              Autoscaler's way), refreshing the cache when the index moves
//
// While polling (before the stream is up) every Status reads Nomad.
// JobModifyIndex is read only when scaling.
type Target struct {
	api   NomadAPI
	log   *slog.Logger
	clock scaling.Clock
	retry retry.Policy
	// maxAge bounds how long a cached status is trusted without an event.
	maxAge time.Duration

	mode  atomic.Int32
	epoch atomic.Uint64 // bumped when the stream reconnects: older reads are not cached
	// lost is when the stream was lost (UnixNano): cached statuses serve
	// for ReconnectGrace while it reconnects, then every Status reads Nomad.
	lost atomic.Int64
	mu   sync.Mutex
	jobs map[jobKey]*jobState
	ctx  context.Context
}

// Target modes.
const (
	modePolling int32 = iota
	modeEvents
	modeBlocking
)

// ReconnectGrace is how long cached statuses still serve after the event
// stream was lost; the reconnect invalidates them all.
const ReconnectGrace = 30 * time.Second

// DefaultMaxAge is how long a status is cached without an event saying
// it changed: a safety net for a lost event, jittered by up to a fifth.
const DefaultMaxAge = 30 * time.Minute

type jobKey struct{ ns, job string }

// jobState is one job's cached status.
type jobState struct {
	mu         sync.Mutex
	status     *nomadapi.JobScaleStatusResponse // nil: the job does not exist
	deployment bool                             // a deployment is active
	valid      bool
	fetched    time.Time
	gen        uint64 // bumped by every invalidation
	watching   bool
	used       time.Time
}

// TargetOptions tune a Target.
type TargetOptions struct {
	Logger *slog.Logger
	Clock  scaling.Clock
	Retry  retry.Policy
	// MaxAge is DefaultMaxAge when zero.
	MaxAge time.Duration
}

var _ scaling.Scaler = (*Target)(nil)

// NewTarget returns a target; Run keeps its cache fresh.
func NewTarget(api NomadAPI, o TargetOptions) *Target {
	t := &Target{api: api, log: o.Logger, clock: o.Clock, retry: o.Retry.OrDefault(), maxAge: o.MaxAge, jobs: map[jobKey]*jobState{}, ctx: context.Background()}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	if t.clock == nil {
		t.clock = scaling.RealClock{}
	}
	if t.maxAge == 0 {
		t.maxAge = DefaultMaxAge
	}
	return t
}

// Run follows Nomad's event stream until ctx ends, falling back to
// blocking queries when the agent does not serve it.
func (t *Target) Run(ctx context.Context) {
	t.mu.Lock()
	t.ctx = ctx
	t.mu.Unlock()
	var index uint64
	failures := 0
	for ctx.Err() == nil {
		ch, err := t.api.Events(ctx, index)
		if errors.Is(err, ErrNoEventStream) {
			t.log.Info("the event stream is not available; following each job with a blocking query", "error", err)
			t.mode.Store(modeBlocking)
			t.mu.Lock()
			for k, js := range t.jobs {
				t.watch(k, js)
			}
			t.mu.Unlock()
			return
		}
		if err != nil {
			failures++
			wait := t.retry.Backoff(min(failures, 6))
			t.log.Warn("subscribing to Nomad's event stream failed", "error", err, "retry_in", wait)
			sleep(ctx, wait)
			continue
		}
		failures = 0
		// Events may have been missed since the last subscription.
		t.epoch.Add(1)
		t.invalidateAll()
		t.mode.Store(modeEvents)
		t.log.Debug("following Nomad's event stream", "index", index)
	stream:
		for {
			select {
			case <-ctx.Done():
				break stream
			case batch, ok := <-ch:
				if !ok {
					break stream
				}
				if batch.Err != nil {
					t.log.Warn("Nomad's event stream ended", "error", batch.Err)
					break stream
				}
				for i := range batch.Events {
					t.event(&batch.Events[i])
				}
				index = max(index, batch.Index)
			}
		}
		t.lost.Store(t.clock.Now().UnixNano())
		t.mode.Store(modePolling)
		if ctx.Err() == nil {
			sleep(ctx, t.retry.Backoff(1))
		}
	}
}

// event invalidates the job an event is about.
func (t *Target) event(e *nomadapi.Event) {
	var job, object string
	switch e.Topic {
	case nomadapi.TopicJob:
		job, object = e.Key, "Job"
	case nomadapi.TopicAllocation, nomadapi.TopicDeployment:
		if len(e.FilterKeys) > 0 {
			job = e.FilterKeys[0]
		}
		object = string(e.Topic)
	}
	// The client's Event has no namespace; the payload's object has.
	ns := "default"
	if o, ok := e.Payload[object].(map[string]any); ok {
		if s, ok := o["Namespace"].(string); ok && s != "" {
			ns = s
		}
	}
	t.mu.Lock()
	js := t.jobs[jobKey{ns, job}]
	t.mu.Unlock()
	if js != nil {
		js.invalidate()
	}
}

func (js *jobState) invalidate() {
	js.mu.Lock()
	js.valid = false
	js.gen++
	js.mu.Unlock()
}

func (t *Target) invalidateAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, js := range t.jobs {
		js.invalidate()
	}
}

func (t *Target) job(k jobKey) *jobState {
	t.mu.Lock()
	defer t.mu.Unlock()
	js := t.jobs[k]
	if js == nil {
		js = &jobState{}
		t.jobs[k] = js
		if t.mode.Load() == modeBlocking {
			t.watch(k, js)
		}
	}
	return js
}

// Status implements scaling.Scaler: the group's counts, last scaling event
// and whether a deployment is active.
func (t *Target) Status(ctx context.Context, tg scaling.Target) (*scaling.TargetStatus, error) {
	k := jobKey{tg.Namespace, tg.Job}
	js := t.job(k)
	now := t.clock.Now()
	js.mu.Lock()
	js.used = now
	fresh := false
	switch t.mode.Load() {
	case modeBlocking:
		fresh = true
	case modeEvents:
		fresh = now.Sub(js.fetched) < t.maxAge
	default:
		fresh = now.Sub(js.fetched) < t.maxAge && now.Sub(time.Unix(0, t.lost.Load())) < ReconnectGrace
	}
	if js.valid && fresh {
		st := statusOf(js.status, js.deployment, tg.Group)
		js.mu.Unlock()
		return st, nil
	}
	gen, epoch, mode := js.gen, t.epoch.Load(), t.mode.Load()
	js.mu.Unlock()

	ss, _, err := t.api.ScaleStatus(ctx, k.ns, k.job, 0)
	if errors.Is(err, apierr.ErrNotFound) {
		ss, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	active := false
	if ss != nil && !ss.JobStopped {
		if active, err = t.deploymentActive(ctx, k); err != nil {
			return nil, err
		}
	}
	js.mu.Lock()
	defer js.mu.Unlock()
	js.status, js.deployment = ss, active
	if mode == modeEvents && js.gen == gen && t.epoch.Load() == epoch && t.mode.Load() == modeEvents {
		js.valid = true
		// Jitter the refresh so that policies loaded together do not all
		// read Nomad again at once.
		js.fetched = now.Add(-time.Duration(rand.Int64N(int64(t.maxAge/5) + 1)))
	}
	return statusOf(ss, active, tg.Group), nil
}

func (t *Target) deploymentActive(ctx context.Context, k jobKey) (bool, error) {
	d, err := t.api.LatestDeployment(ctx, k.ns, k.job)
	if err != nil {
		return false, err
	}
	return d != nil && deploymentActive(d.Status), nil
}

// statusOf reads a group's status out of its job's scale status. A
// missing job or group is a target that is not ready.
func statusOf(ss *nomadapi.JobScaleStatusResponse, deployment bool, group string) *scaling.TargetStatus {
	if ss == nil {
		return &scaling.TargetStatus{}
	}
	g, ok := ss.TaskGroups[group]
	if !ok {
		return &scaling.TargetStatus{}
	}
	return &scaling.TargetStatus{
		Desired: int64(g.Desired), Running: int64(g.Running), Ready: !ss.JobStopped,
		DeploymentActive: deployment, LastEvent: lastScalingEvent(g.Events),
		// The scale status reports the job's ModifyIndex: Scale compares
		// it with a fresh read before its check-and-set.
		JobModifyIndex: ss.JobModifyIndex,
	}
}

// watch follows one job with blocking queries on its scale status, as the
// Autoscaler's Nomad target does (plugins/builtin/target/nomad/plugin
// state.go start), until the job has not been asked about for a while.
// The caller holds t.mu.
func (t *Target) watch(k jobKey, js *jobState) {
	js.mu.Lock()
	if js.watching {
		js.mu.Unlock()
		return
	}
	js.watching = true
	js.mu.Unlock()
	ctx := t.ctx
	go func() {
		defer func() {
			js.mu.Lock()
			js.watching, js.valid = false, false
			js.mu.Unlock()
		}()
		var index uint64
		failures := 0
		for ctx.Err() == nil {
			js.mu.Lock()
			idle := !js.used.IsZero() && t.clock.Now().Sub(js.used) > 10*time.Minute
			js.mu.Unlock()
			if idle {
				t.mu.Lock()
				delete(t.jobs, k)
				t.mu.Unlock()
				return
			}
			ss, idx, err := t.api.ScaleStatus(ctx, k.ns, k.job, index)
			missing := errors.Is(err, apierr.ErrNotFound)
			if err != nil && !missing {
				if ctx.Err() != nil {
					return
				}
				failures++
				js.invalidate()
				wait := t.retry.Backoff(min(failures, 6))
				t.log.Warn("reading the scale status failed", "namespace", k.ns, "job", k.job, "error", err, "retry_in", wait)
				sleep(ctx, wait)
				index = 0
				continue
			}
			failures = 0
			if !missing && idx == index {
				continue // the wait timed out: no change
			}
			active := false
			if !missing && !ss.JobStopped {
				if active, err = t.deploymentActive(ctx, k); err != nil {
					js.invalidate()
					sleep(ctx, t.retry.Backoff(1))
					continue
				}
			}
			js.mu.Lock()
			js.status, js.deployment, js.valid, js.fetched = ss, active, true, t.clock.Now()
			js.mu.Unlock()
			if missing {
				// Nothing to block on: look again later.
				index = 0
				sleep(ctx, 10*time.Second)
				continue
			}
			if idx < index {
				idx = 0 // the index went backwards: start over
			}
			index = idx
		}
	}()
}

// Scale implements scaling.Scaler. It reads the job's indexes first: if
// the job changed since the status the evaluation saw, the scale is a no-op
// (the next evaluation decides again); otherwise it scales check-and-set on
// JobModifyIndex. Nomad's refusal during a deployment is a no-op too.
func (t *Target) Scale(ctx context.Context, tg scaling.Target, a scaling.Action) error {
	k := jobKey{tg.Namespace, tg.Job}
	defer t.job(k).invalidate()
	req := ScaleRequest{Group: tg.Group, Message: a.Reason, Meta: a.Meta}
	if a.Count != scaling.DryRunCount {
		modify, jobModify, err := t.api.JobIndexes(ctx, k.ns, k.job)
		if err != nil {
			return err
		}
		if a.JobModifyIndex != 0 && modify != a.JobModifyIndex {
			return &scaling.NoOpError{Reason: "the job changed since it was evaluated"}
		}
		count := a.Count
		req.Count, req.JobModifyIndex = &count, jobModify
	}
	err := t.api.Scale(ctx, k.ns, k.job, req)
	switch {
	case nomadx.IsDeploymentActive(err):
		return &scaling.NoOpError{Reason: "job scaling blocked due to active deployment"}
	case errors.Is(err, apierr.ErrConflict):
		return &scaling.NoOpError{Reason: "the job changed since it was evaluated"}
	}
	return err
}

func deploymentActive(status string) bool {
	switch status {
	case nomadapi.DeploymentStatusRunning, nomadapi.DeploymentStatusPending, nomadapi.DeploymentStatusPaused,
		nomadapi.DeploymentStatusBlocked, nomadapi.DeploymentStatusUnblocking:
		return true
	}
	return false
}

// lastScalingEvent is the newest event that changed the count.
func lastScalingEvent(events []nomadapi.ScalingEvent) *scaling.LastEvent {
	var last *scaling.LastEvent
	for _, ev := range events {
		if ev.Count == nil || ev.Error {
			continue
		}
		at := time.Unix(0, int64(ev.Time))
		if last != nil && !at.After(last.Time) {
			continue
		}
		dir := scaling.Down
		if *ev.Count > ev.PreviousCount {
			dir = scaling.Up
		}
		last = &scaling.LastEvent{Time: at, Direction: dir}
	}
	return last
}

func sleep(ctx context.Context, d time.Duration) {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
	case <-tm.C:
	}
}

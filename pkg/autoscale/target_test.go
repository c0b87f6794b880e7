package autoscale

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/pkg/apierr"
	"github.com/drover-io/drover/pkg/retry"
	"github.com/drover-io/drover/pkg/scaling"
)

// fakeNomad is one job "api" with one group "api", in memory, counting
// every call as a request to Nomad.
type fakeNomad struct {
	mu         sync.Mutex
	desired    int
	running    int
	index      uint64
	modify     uint64
	jobModify  uint64
	deployment string
	noEvents   bool
	events     chan *nomadapi.Events
	changed    chan struct{} // closed and replaced on every change (blocking queries)
	calls      map[string]int
	scales     []ScaleRequest
	scaleErr   error
}

func newFakeNomad(count int) *fakeNomad {
	return &fakeNomad{desired: count, running: count, index: 10, modify: 10, jobModify: 5,
		events: make(chan *nomadapi.Events, 16), changed: make(chan struct{}), calls: map[string]int{}}
}

func (f *fakeNomad) call(op string) {
	f.mu.Lock()
	f.calls[op]++
	f.mu.Unlock()
}

func (f *fakeNomad) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

func (f *fakeNomad) requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for op, c := range f.calls {
		if op != "events" {
			n += c
		}
	}
	return n
}

func (f *fakeNomad) ScaleStatus(ctx context.Context, ns, job string, wait uint64) (*nomadapi.JobScaleStatusResponse, uint64, error) {
	f.call("status")
	if job != "api" {
		return nil, 0, &apierr.Error{System: apierr.Nomad, Status: 404, Message: "job not found"}
	}
	for {
		f.mu.Lock()
		if wait == 0 || f.index > wait {
			s := &nomadapi.JobScaleStatusResponse{JobID: job, Namespace: ns, JobModifyIndex: f.modify, TaskGroups: map[string]nomadapi.TaskGroupScaleStatus{
				"api": {Desired: f.desired, Running: f.running},
			}}
			idx := f.index
			f.mu.Unlock()
			return s, idx, nil
		}
		ch := f.changed
		f.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		case <-ch:
		case <-time.After(5 * time.Minute):
			return nil, wait, nil // the wait timed out with no change
		}
	}
}

func (f *fakeNomad) LatestDeployment(context.Context, string, string) (*nomadapi.Deployment, error) {
	f.call("deployment")
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.deployment == "" {
		return nil, nil
	}
	return &nomadapi.Deployment{Status: f.deployment}, nil
}

func (f *fakeNomad) JobIndexes(context.Context, string, string) (uint64, uint64, error) {
	f.call("indexes")
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.modify, f.jobModify, nil
}

func (f *fakeNomad) Scale(_ context.Context, _, _ string, r ScaleRequest) error {
	f.call("scale")
	f.mu.Lock()
	if f.scaleErr != nil {
		defer f.mu.Unlock()
		return f.scaleErr
	}
	f.scales = append(f.scales, r)
	f.mu.Unlock()
	if r.Count != nil {
		f.change(func() { f.desired, f.running = int(*r.Count), int(*r.Count); f.jobModify = f.index + 1 })
	}
	return nil
}

// change applies a change to the job and tells blocking queries and the
// event stream about it.
func (f *fakeNomad) change(fn func()) {
	f.mu.Lock()
	fn()
	f.index++
	f.modify = f.index
	close(f.changed)
	f.changed = make(chan struct{})
	idx := f.index
	events := f.events
	f.mu.Unlock()
	if !f.noEvents {
		events <- &nomadapi.Events{Index: idx, Events: []nomadapi.Event{{Topic: nomadapi.TopicJob, Key: "api", Index: idx,
			Payload: map[string]any{"Job": map[string]any{"ID": "api", "Namespace": "default"}}}}}
	}
}

func (f *fakeNomad) Events(ctx context.Context, _ uint64) (<-chan *nomadapi.Events, error) {
	f.call("events")
	if f.noEvents {
		return nil, ErrNoEventStream
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.events, nil
}

var target = scaling.Target{Namespace: "default", Job: "api", Group: "api"}

// runTarget starts a Target on f until cancel, and waits (in a synctest
// bubble) until it has subscribed.
func runTarget(f *fakeNomad) (*Target, context.Context, context.CancelFunc) {
	tg := NewTarget(f, TargetOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	go tg.Run(ctx)
	synctest.Wait()
	return tg, ctx, cancel
}

// TestSteadyStateMakesNoRequests: with the event stream, a thousand
// evaluations of an unchanged job read its status once; an event makes
// the next evaluation read it again.
func TestSteadyStateMakesNoRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeNomad(3)
		tg, ctx, cancel := runTarget(f)
		defer cancel()
		for range 1000 {
			st, err := tg.Status(ctx, target)
			if err != nil || st.Desired != 3 || !st.Ready {
				t.Fatalf("status %+v, %v", st, err)
			}
		}
		if got := f.requests(); got != 2 {
			t.Fatalf("%d requests for 1000 evaluations, want 2 (scale status and deployment once)", got)
		}
		f.change(func() { f.running = 2 })
		synctest.Wait()
		if st, _ := tg.Status(ctx, target); st.Running != 2 {
			t.Errorf("after an event: running %d, want 2", st.Running)
		}
		if got := f.count("status"); got != 2 {
			t.Errorf("%d scale status reads, want 2", got)
		}
		// A cached status is read again after MaxAge at the latest.
		time.Sleep(DefaultMaxAge + time.Second)
		tg.Status(ctx, target)
		if got := f.count("status"); got != 3 {
			t.Errorf("%d scale status reads after MaxAge, want 3", got)
		}
		cancel()
		synctest.Wait()
	})
}

// TestBlockingFallback: without the event stream, each job is followed by
// one blocking query on its scale status, as the Autoscaler does.
func TestBlockingFallback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeNomad(3)
		f.noEvents = true
		tg, ctx, cancel := runTarget(f)
		defer cancel()
		tg.Status(ctx, target)
		synctest.Wait()
		for range 100 {
			tg.Status(ctx, target)
		}
		before := f.count("status")
		if before > 3 {
			t.Fatalf("%d scale status reads for 100 evaluations", before)
		}
		f.change(func() { f.running = 1 })
		synctest.Wait()
		if st, _ := tg.Status(ctx, target); st.Running != 1 {
			t.Errorf("the blocking query should have refreshed the status: running %d", st.Running)
		}
		cancel()
		synctest.Wait()
	})
}

// TestScaleReadsIndexesOnlyWhenScaling: JobModifyIndex is read when
// scaling, not per evaluation; a job that changed since the evaluation is a
// no-op; the dry-run count sends no count and reads nothing.
func TestScaleReadsIndexesOnlyWhenScaling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeNomad(3)
		tg := NewTarget(f, TargetOptions{Retry: retry.Policy{Attempts: 1}})
		ctx := context.Background()
		st, _ := tg.Status(ctx, target)
		if f.count("indexes") != 0 {
			t.Fatal("Status read the job's indexes")
		}
		if err := tg.Scale(ctx, target, scaling.Action{Count: 5, JobModifyIndex: st.JobModifyIndex}); err != nil {
			t.Fatal(err)
		}
		if f.count("indexes") != 1 || len(f.scales) != 1 || *f.scales[0].Count != 5 || f.scales[0].JobModifyIndex != 5 {
			t.Fatalf("scale %+v after %d index reads", f.scales, f.count("indexes"))
		}
		// The job changed after this (stale) status was read.
		err := tg.Scale(ctx, target, scaling.Action{Count: 6, JobModifyIndex: st.JobModifyIndex})
		if _, ok := err.(*scaling.NoOpError); !ok {
			t.Errorf("a scale of a changed job: %v, want a no-op", err)
		}
		// -1: an event only, no count (the Autoscaler's Nomad target).
		if err := tg.Scale(ctx, target, scaling.Action{Count: scaling.DryRunCount}); err != nil {
			t.Fatal(err)
		}
		if last := f.scales[len(f.scales)-1]; last.Count != nil {
			t.Errorf("the dry-run count sent count %d", *last.Count)
		}
		// Nomad's refusal during a deployment is a no-op.
		f.scaleErr = &apierr.Error{System: apierr.Nomad, Status: 400, Message: "job scaling blocked due to active deployment"}
		st, _ = tg.Status(ctx, target)
		if err := tg.Scale(ctx, target, scaling.Action{Count: 7, JobModifyIndex: st.JobModifyIndex}); err == nil {
			t.Error("want the refusal")
		} else if _, ok := err.(*scaling.NoOpError); !ok {
			t.Errorf("refusal during a deployment: %v, want a no-op", err)
		}
	})
}

// TestDeploymentActive: a running deployment shows in the status.
func TestDeploymentActive(t *testing.T) {
	f := newFakeNomad(2)
	f.deployment = nomadapi.DeploymentStatusRunning
	st, err := NewTarget(f, TargetOptions{}).Status(context.Background(), target)
	if err != nil || !st.DeploymentActive {
		t.Errorf("status %+v, %v", st, err)
	}
	st, err = NewTarget(f, TargetOptions{}).Status(context.Background(), scaling.Target{Namespace: "default", Job: "gone", Group: "x"})
	if err != nil || st.Ready {
		t.Errorf("a missing job is not ready: %+v, %v", st, err)
	}
}

// TestStreamReconnect: while the event stream reconnects the cache still
// serves (for ReconnectGrace); the new subscription invalidates it, since
// events may have been missed meanwhile.
func TestStreamReconnect(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeNomad(3)
		tg, ctx, cancel := runTarget(f)
		defer cancel()
		tg.Status(ctx, target)
		f.mu.Lock()
		close(f.events)
		f.events = make(chan *nomadapi.Events, 16)
		f.mu.Unlock()
		synctest.Wait()
		tg.Status(ctx, target)
		if got := f.count("status"); got != 1 {
			t.Errorf("%d scale status reads while reconnecting, want the cached one", got)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if f.count("events") != 2 {
			t.Fatalf("%d subscriptions, want a second one", f.count("events"))
		}
		tg.Status(ctx, target)
		if got := f.count("status"); got != 2 {
			t.Errorf("%d scale status reads after the reconnect, want 2", got)
		}
		cancel()
		synctest.Wait()
	})
}

package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/internal/lazyregexp"
)

// Outcomes of watching a job's deployment.
const (
	StatusSuccessful        = "successful"
	StatusFailed            = "failed"
	StatusRolledBack        = "rolled-back"
	StatusPlacementFailed   = "placement-failed"
	StatusAwaitingPromotion = "awaiting-promotion"
	StatusNoDeployment      = "no-deployment"
	StatusSuperseded        = "superseded"
	StatusDetached          = "detached"
	StatusInterrupted       = "interrupted"
	// StatusUnhealthy: an unchanged job whose allocations do not all run.
	StatusUnhealthy = "unhealthy"
)

// DeploymentOutcome is how one job's rollout ended.
type DeploymentOutcome struct {
	Job          string `json:"job"`
	DeploymentID string `json:"deployment_id,omitempty"`
	Status       string `json:"status"`
	// Description is Nomad's status description.
	Description string `json:"description,omitempty"`
	// RevertedTo is the job version auto-revert rolled back to.
	RevertedTo *uint64 `json:"reverted_to,omitempty"`
	// Explanation says why it failed, in a few lines: placement failures,
	// the task events of unhealthy allocations.
	Explanation []string `json:"explanation,omitempty"`
}

// Failed reports outcomes that make deploy exit non-zero. A rollback is a
// failure: the new version is not running.
func (o *DeploymentOutcome) Failed() bool {
	switch o.Status {
	case StatusFailed, StatusRolledBack, StatusPlacementFailed, StatusSuperseded, StatusUnhealthy:
		return true
	}
	return false
}

// watcher follows deployments with blocking queries.
type watcher struct {
	nomad    Nomad
	promote  bool
	progress *progress
	log      *slog.Logger
}

var revertRe = lazyregexp.New(`rolling back to job version (\d+)`)

// watch follows one job from its registration's evaluation to the end of
// its deployment.
//
//	register -> evaluation complete -> deployment running -> successful
//	                 |                         |-> canaries healthy -> promote (--promote) or stop (awaiting promotion)
//	                 |                         '-> failed -> (auto-revert?) rolled-back | failed
//	                 '-> allocations could not be placed -> placement-failed
func (w *watcher) watch(ctx context.Context, jobID, evalID string, autoPromote bool) *DeploymentOutcome {
	out := &DeploymentOutcome{Job: jobID}
	w.progress.update(jobID, "waiting for the scheduler to evaluate the job")
	if evalID == "" { // periodic and parameterized jobs are not evaluated on register
		out.Status = StatusNoDeployment
		w.progress.update(jobID, "registered (runs on its schedule)")
		return out
	}
	eval, err := w.waitEval(ctx, evalID)
	if err != nil {
		return w.interrupted(out, err)
	}
	if len(eval.FailedTGAllocs) > 0 {
		out.Status = StatusPlacementFailed
		out.Explanation = w.explainPlacement(ctx, jobID, eval)
		w.progress.update(jobID, "could not place every allocation")
		return out
	}
	if eval.DeploymentID == "" {
		out.Status = StatusNoDeployment
		w.progress.update(jobID, "scheduled (no deployment needed)")
		return out
	}
	return w.follow(ctx, out, eval.DeploymentID, autoPromote)
}

// follow watches a deployment to its end, promoting canaries on request.
func (w *watcher) follow(ctx context.Context, out *DeploymentOutcome, deploymentID string, autoPromote bool) *DeploymentOutcome {
	jobID := out.Job
	out.DeploymentID = deploymentID
	var index uint64
	promoted := false
	for {
		d, idx, err := w.nomad.Deployment(ctx, deploymentID, index)
		if err != nil {
			return w.interrupted(out, err)
		}
		if idx < index {
			index = 0 // the index went backwards (leader change): start over
		} else {
			index = idx
		}
		out.Description = d.StatusDescription
		w.progress.update(jobID, describeDeployment(d))
		switch d.Status {
		case nomadapi.DeploymentStatusSuccessful:
			out.Status = StatusSuccessful
			return out
		case nomadapi.DeploymentStatusFailed:
			out.Status = StatusFailed
			if m := revertRe().FindStringSubmatch(d.StatusDescription); m != nil {
				v, _ := strconv.ParseUint(m[1], 10, 64)
				out.Status, out.RevertedTo = StatusRolledBack, &v
			}
			out.Explanation = w.explainFailure(ctx, d)
			return out
		case nomadapi.DeploymentStatusCancelled:
			out.Status = StatusSuperseded
			out.Explanation = []string{"a newer registration of the job replaced this deployment"}
			return out
		}
		if !autoPromote && canariesReady(d) && !promoted {
			if !w.promote {
				out.Status = StatusAwaitingPromotion
				w.progress.update(jobID, "canaries healthy; promote with `drover deploy --promote` or `nomad deployment promote "+shortDeployment(d.ID)+"`")
				return out
			}
			if err := w.nomad.Promote(ctx, d.ID); err != nil {
				out.Status = StatusFailed
				out.Explanation = []string{"promoting the canaries failed: " + err.Error()}
				return out
			}
			promoted = true
			w.progress.update(jobID, "canaries promoted")
		}
	}
}

// liveJob is a job deploy did not need to write, to check.
type liveJob struct {
	id, typ     string
	autoPromote bool
	// periodic (or parameterized) jobs run on their schedule: nothing to
	// check between runs.
	periodic bool
}

// checkLive finds out whether an unchanged job runs as it should: its
// latest deployment is followed if it still runs (and promoted with
// --promote), reported if it failed, and otherwise its allocations must be
// running.
func (w *watcher) checkLive(ctx context.Context, j liveJob) *DeploymentOutcome {
	out := &DeploymentOutcome{Job: j.id}
	if j.periodic || j.typ == nomadapi.JobTypeBatch || j.typ == nomadapi.JobTypeSysbatch {
		out.Status = StatusNoDeployment
		return out
	}
	w.progress.update(j.id, "unchanged; checking its deployment and allocations")
	d, _, err := w.nomad.LatestDeployment(ctx, j.id, 0)
	if err != nil {
		return w.interrupted(out, err)
	}
	if d != nil && d.Status != nomadapi.DeploymentStatusSuccessful {
		return w.follow(ctx, out, d.ID, j.autoPromote)
	}
	if d != nil {
		out.DeploymentID, out.Description = d.ID, d.StatusDescription
	}
	allocs, err := w.nomad.Allocations(ctx, j.id)
	if err != nil {
		return w.interrupted(out, err)
	}
	var want, running []*nomadapi.AllocationListStub
	for _, a := range allocs {
		if a.DesiredStatus != nomadapi.AllocDesiredStatusRun {
			continue
		}
		want = append(want, a)
		if a.ClientStatus == nomadapi.AllocClientStatusRunning {
			running = append(running, a)
		}
	}
	if len(running) == len(want) {
		out.Status = StatusSuccessful
		w.progress.update(j.id, fmt.Sprintf("unchanged; %d of %d allocation(s) running", len(running), len(want)))
		return out
	}
	out.Status = StatusUnhealthy
	out.Explanation = append([]string{fmt.Sprintf("%d of %d allocation(s) that should run are running", len(running), len(want))},
		explainAllocs(want, func(a *nomadapi.AllocationListStub) bool { return a.ClientStatus == nomadapi.AllocClientStatusRunning })...)
	w.progress.update(j.id, "unchanged, but not every allocation runs")
	return out
}

// explainPlacement says, per group, how many allocations were placed and
// why the rest could not be.
func (w *watcher) explainPlacement(ctx context.Context, jobID string, eval *nomadapi.Evaluation) []string {
	placed := map[string]int{}
	if allocs, err := w.nomad.Allocations(ctx, jobID); err == nil {
		for _, a := range allocs {
			if a.DesiredStatus == nomadapi.AllocDesiredStatusRun {
				placed[a.TaskGroup]++
			}
		}
	}
	var out []string
	for _, g := range sortedKeys(eval.FailedTGAllocs) {
		m := eval.FailedTGAllocs[g]
		unplaced := eval.QueuedAllocations[g]
		if unplaced == 0 && m != nil {
			unplaced = m.CoalescedFailures + 1
		}
		out = append(out, fmt.Sprintf("group %q: %d placed, %d could not be placed: %s", g, placed[g], unplaced, explainMetric(m)))
	}
	return out
}

func (w *watcher) interrupted(out *DeploymentOutcome, err error) *DeploymentOutcome {
	out.Status = StatusInterrupted
	if !errors.Is(err, context.Canceled) {
		out.Explanation = []string{err.Error()}
	}
	w.progress.update(out.Job, "stopped watching (the deployment goes on in Nomad)")
	return out
}

// waitEval blocks until the evaluation is done.
func (w *watcher) waitEval(ctx context.Context, id string) (*nomadapi.Evaluation, error) {
	var index uint64
	for {
		eval, idx, err := w.nomad.Evaluation(ctx, id, index)
		if err != nil {
			return nil, err
		}
		switch eval.Status {
		case "complete", "failed", "canceled":
			return eval, nil
		}
		index = idx
	}
}

// canariesReady: every group that wants canaries has them all healthy and
// is not promoted yet. (The job's auto_promote says whether Nomad promotes
// them itself; the API's deployment state does not carry it.)
func canariesReady(d *nomadapi.Deployment) bool {
	waiting := false
	for _, g := range d.TaskGroups {
		if g.DesiredCanaries == 0 || g.Promoted {
			continue
		}
		if g.HealthyAllocs < g.DesiredCanaries {
			return false
		}
		waiting = true
	}
	return waiting
}

func describeDeployment(d *nomadapi.Deployment) string {
	var parts []string
	for _, name := range sortedKeys(d.TaskGroups) {
		g := d.TaskGroups[name]
		// PlacedAllocs counts replacements of failed allocations too, so it
		// can pass the desired total: healthy of desired is the progress.
		s := fmt.Sprintf("%s %d/%d healthy", name, g.HealthyAllocs, g.DesiredTotal)
		if extra := g.PlacedAllocs - g.DesiredTotal; extra > 0 {
			s += fmt.Sprintf(", %d placed (%d replacement(s))", g.PlacedAllocs, extra)
		} else if g.PlacedAllocs < g.DesiredTotal {
			s += fmt.Sprintf(", %d placed", g.PlacedAllocs)
		}
		if g.UnhealthyAllocs > 0 {
			s += fmt.Sprintf(", %d unhealthy", g.UnhealthyAllocs)
		}
		if g.DesiredCanaries > 0 {
			s += fmt.Sprintf(", canaries %d/%d", len(g.PlacedCanaries), g.DesiredCanaries)
			if g.Promoted {
				s += " promoted"
			}
		}
		parts = append(parts, s)
	}
	return fmt.Sprintf("deployment %s %s: %s", shortDeployment(d.ID), d.Status, strings.Join(parts, "; "))
}

func shortDeployment(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// failureEvents are the task events that explain a failed allocation.
var failureEvents = map[string]bool{
	"Driver Failure": true, "Failed Validation": true, "Setup Failure": true, "Restarts Exceeded": true,
	"Not Restarting": true, "Failed Artifact Download": true, "Template": true, "Killing": false,
	"Terminated": true, "Alloc Unhealthy": true, "Task hook failed": true,
}

// explainFailure reads the deployment's unhealthy allocations and turns
// their task events into a few lines.
func (w *watcher) explainFailure(ctx context.Context, d *nomadapi.Deployment) []string {
	lines := []string{d.StatusDescription}
	allocs, err := w.nomad.DeploymentAllocations(ctx, d.ID)
	if err != nil {
		return append(lines, "could not read the deployment's allocations: "+err.Error())
	}
	return append(lines, explainAllocs(allocs, func(a *nomadapi.AllocationListStub) bool {
		return a.DeploymentStatus != nil && a.DeploymentStatus.Healthy != nil && *a.DeploymentStatus.Healthy
	})...)
}

// explainAllocs turns the failure events of up to five allocations that
// are not fine into lines; an allocation the client could not even set up
// (a network Nomad cannot build, say) has no task events, only its client
// description.
func explainAllocs(allocs []*nomadapi.AllocationListStub, fine func(*nomadapi.AllocationListStub) bool) []string {
	sort.Slice(allocs, func(i, j int) bool { return allocs[i].ID < allocs[j].ID })
	var lines []string
	shown := 0
	for _, a := range allocs {
		if fine(a) || shown == 5 {
			continue
		}
		before := len(lines)
		for _, task := range sortedKeys(a.TaskStates) {
			var msgs []string
			for _, ev := range a.TaskStates[task].Events {
				if failureEvents[ev.Type] {
					msg := ev.DisplayMessage
					if msg == "" {
						msg = ev.Message
					}
					msgs = append(msgs, ev.Type+": "+msg)
				}
			}
			if len(msgs) > 3 {
				msgs = msgs[len(msgs)-3:]
			}
			for _, m := range msgs {
				lines = append(lines, fmt.Sprintf("alloc %s task %s: %s", shortDeployment(a.ID), task, m))
			}
			if len(msgs) > 0 {
				shown++
			}
		}
		if len(lines) == before && a.ClientStatus == nomadapi.AllocClientStatusFailed && a.ClientDescription != "" {
			lines = append(lines, fmt.Sprintf("alloc %s: %s", shortDeployment(a.ID), a.ClientDescription))
			shown++
		}
	}
	return lines
}

// heartbeatEvery is how long a job's progress line may stay unchanged
// before it is printed again with the time it has waited: a deploy is never
// silent for long.
const heartbeatEvery = 30 * time.Second

// progress shows one line per job: redrawn in place on a terminal, printed
// when it changes otherwise, and again with the time waited when it stays
// the same for a while.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	order []string
	lines map[string]string
	since map[string]time.Time
	// finished jobs are no longer reminded of.
	finished map[string]bool
	drawn    int
	now      func() time.Time
}

func newProgress(w io.Writer, tty bool) *progress {
	return &progress{w: w, tty: tty, lines: map[string]string{}, since: map[string]time.Time{}, finished: map[string]bool{}, now: time.Now}
}

func (p *progress) update(job, line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if prev, ok := p.lines[job]; ok && prev == line {
		return
	}
	if _, ok := p.lines[job]; !ok {
		p.order = append(p.order, job)
	}
	p.lines[job] = line
	p.since[job] = p.now()
	p.draw(job, line)
}

func (p *progress) draw(job, line string) {
	if !p.tty {
		fmt.Fprintf(p.w, "%s: %s\n", job, line)
		return
	}
	if p.drawn > 0 {
		fmt.Fprintf(p.w, "\x1b[%dA", p.drawn)
	}
	for _, j := range p.order {
		fmt.Fprintf(p.w, "\x1b[2K%s: %s\n", j, p.lines[j])
	}
	p.drawn = len(p.order)
}

// remind prints again every line unchanged for at least every, with how
// long it has been so.
func (p *progress) remind(every time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	for _, job := range p.order {
		if waited := now.Sub(p.since[job]); waited >= every && !p.done(job) {
			p.draw(job, fmt.Sprintf("%s (still waiting, %s)", p.lines[job], waited.Round(time.Second)))
		}
	}
}

// done: the job's line reports an end, not a wait.
func (p *progress) done(job string) bool { return p.finished[job] }

// finish marks a job's watch as over.
func (p *progress) finish(job string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finished[job] = true
}

// heartbeat calls remind every period until the returned stop is called.
func (p *progress) heartbeat(every time.Duration) (stop func()) {
	t := time.NewTicker(every)
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-t.C:
				p.remind(every)
			case <-quit:
				return
			}
		}
	}()
	return func() {
		t.Stop()
		close(quit)
		wg.Wait()
	}
}

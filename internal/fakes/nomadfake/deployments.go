package nomadfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/hashicorp/nomad/api"
)

// Deployment statuses and descriptions, from nomad/structs/deployment.go.
const (
	StatusRunning    = "running"
	StatusFailed     = "failed"
	StatusSuccessful = "successful"
	StatusCancelled  = "cancelled"

	DescRunning               = "Deployment is running"
	DescRunningNeedsPromotion = "Deployment is running but requires manual promotion"
	DescRunningAutoPromotion  = "Deployment is running pending automatic promotion"
	DescSuccessful            = "Deployment completed successfully"
	DescStoppedJob            = "Cancelled because job is stopped"
	DescNewerJob              = "Cancelled due to newer version of job"
	DescFailedAllocations     = "Failed due to unhealthy allocations"
	DescProgressDeadline      = "Failed due to progress deadline"
)

// DescRollback is the description of a failed deployment whose job was
// auto-reverted, as structs.DeploymentStatusDescriptionRollback builds it.
func DescRollback(base string, version uint64) string {
	return fmt.Sprintf("%s - rolling back to job version %d", base, version)
}

// deployment is a Nomad deployment. AutoPromote lives beside it because
// api.DeploymentState lacks the field the server sends.
//
// Its life in the fake (the scheduler and deployment watcher are replaced
// by the test, or by AutoSucceed):
//
//	register / scale ─> running ─ CompleteDeployment, AutoSucceed ─────────> successful
//	 (a service job      │  │      (a canary deployment first needs promote)  (job version stable)
//	  with an update     │  ╰─ FailDeployment ─> failed ─ revertToVersion ─> new version,
//	  block, count > 0)  │                                                    new running deployment
//	                     ╰─ newer version or job stop ─> cancelled
type deployment struct {
	d           *api.Deployment
	autoPromote map[string]bool
}

// wireDeployment is the deployment as the agent encodes it.
type wireDeployment struct {
	*api.Deployment
	TaskGroups map[string]wireDeploymentState
}

type wireDeploymentState struct {
	*api.DeploymentState
	AutoPromote bool
}

func (d *deployment) wire() *wireDeployment {
	if d == nil {
		return nil
	}
	w := &wireDeployment{Deployment: d.d, TaskGroups: map[string]wireDeploymentState{}}
	for name, st := range d.d.TaskGroups {
		w.TaskGroups[name] = wireDeploymentState{DeploymentState: st, AutoPromote: d.autoPromote[name]}
	}
	return w
}

// active is structs.Deployment.Active.
func active(status string) bool {
	switch status {
	case StatusRunning, "paused", "blocked", "unblocking", "initializing", "pending":
		return true
	}
	return false
}

func requiresPromotion(d *deployment) bool {
	if d.d.Status != StatusRunning {
		return false
	}
	for _, st := range d.d.TaskGroups {
		if st.DesiredCanaries > 0 && !st.Promoted {
			return true
		}
	}
	return false
}

// autoPromotes reports whether every group with canaries promotes itself.
func autoPromotes(d *deployment) bool {
	for name, st := range d.d.TaskGroups {
		if st.DesiredCanaries > 0 && !d.autoPromote[name] {
			return false
		}
	}
	return true
}

// latestDeployment is the newest deployment of a job; the caller holds s.mu.
func (s *Server) latestDeployment(key jobKey) *deployment {
	var latest *deployment
	for _, d := range s.deployments {
		if d.d.Namespace == key.ns && d.d.JobID == key.id && (latest == nil || d.d.CreateIndex > latest.d.CreateIndex) {
			latest = d
		}
	}
	return latest
}

// cancelActive cancels the running deployments of a job, as the scheduler
// does when a newer version or a stop supersedes them.
func (s *Server) cancelActive(key jobKey, desc string, idx uint64) {
	for _, d := range s.deployments {
		if d.d.Namespace == key.ns && d.d.JobID == key.id && active(d.d.Status) {
			d.d.Status, d.d.StatusDescription = StatusCancelled, desc
			d.d.ModifyIndex, d.d.ModifyTime = idx, s.now().UnixNano()
		}
	}
}

// startDeployment creates the deployment the scheduler would for the
// current version of a job: service jobs whose groups have an update
// strategy and a non-zero count. prev is the version before (nil for a new
// job); groups whose spec changed get the canaries their update block asks
// for. The caller holds s.mu.
func (s *Server) startDeployment(key jobKey, prev *api.Job, ev *api.Evaluation) {
	e := s.jobs[key]
	job := e.job
	if *job.Type != api.JobTypeService || *job.Stop {
		return
	}
	d := &deployment{
		d: &api.Deployment{
			ID:                 uuid(),
			Namespace:          key.ns,
			JobID:              key.id,
			JobVersion:         *job.Version,
			JobModifyIndex:     *job.ModifyIndex,
			JobSpecModifyIndex: *job.JobModifyIndex,
			JobCreateIndex:     *job.CreateIndex,
			TaskGroups:         map[string]*api.DeploymentState{},
			Status:             StatusRunning,
			StatusDescription:  DescRunning,
		},
		autoPromote: map[string]bool{},
	}
	total := 0
	for _, tg := range job.TaskGroups {
		u := tg.Update
		if u == nil || deref(u.MaxParallel) == 0 {
			continue
		}
		name, count := deref(tg.Name), deref(tg.Count)
		st := &api.DeploymentState{
			AutoRevert:       deref(u.AutoRevert),
			ProgressDeadline: deref(u.ProgressDeadline),
			DesiredTotal:     count,
		}
		if c := deref(u.Canary); c > 0 && groupSpecChanged(prev, tg) {
			st.DesiredCanaries = c
		}
		d.d.TaskGroups[name] = st
		d.autoPromote[name] = deref(u.AutoPromote)
		total += count
	}
	if len(d.d.TaskGroups) == 0 || total == 0 {
		return
	}
	idx := s.bump(tableDeployment)
	s.cancelActive(key, DescNewerJob, idx)
	now := s.now().UnixNano()
	d.d.CreateIndex, d.d.ModifyIndex, d.d.CreateTime, d.d.ModifyTime = idx, idx, now, now
	if requiresPromotion(d) {
		d.d.StatusDescription = DescRunningNeedsPromotion
		if autoPromotes(d) {
			d.d.StatusDescription = DescRunningAutoPromotion
		}
	}
	s.deployments[d.d.ID] = d
	if ev != nil {
		ev.DeploymentID = d.d.ID
	}
	if s.AutoSucceed && (!requiresPromotion(d) || autoPromotes(d)) {
		s.succeed(d)
	}
}

// groupSpecChanged reports whether a group changed in more than its count
// since prev, which is when Nomad places canaries.
func groupSpecChanged(prev *api.Job, tg *api.TaskGroup) bool {
	if prev == nil {
		return false
	}
	old := findGroup(prev, deref(tg.Name))
	if old == nil || deref(old.Count) == 0 {
		return false
	}
	a, b := clone(old), clone(tg)
	a.Count, b.Count = nil, nil
	a.Scaling, b.Scaling = nil, nil
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) != string(jb)
}

// succeed marks a deployment successful with every allocation placed and
// healthy, and its job version stable. The caller holds s.mu.
func (s *Server) succeed(d *deployment) {
	idx := s.bump(tableDeployment, tableJobs)
	for _, st := range d.d.TaskGroups {
		st.PlacedAllocs, st.HealthyAllocs, st.UnhealthyAllocs = st.DesiredTotal, st.DesiredTotal, 0
		if st.DesiredCanaries > 0 {
			st.Promoted = true
		}
	}
	d.d.Status, d.d.StatusDescription = StatusSuccessful, DescSuccessful
	d.d.ModifyIndex, d.d.ModifyTime = idx, s.now().UnixNano()
	s.markStable(jobKey{d.d.Namespace, d.d.JobID}, d.d.JobVersion, idx)
}

// markStable flags a job version stable, as the deployment watcher does
// when its deployment succeeds; this changes the job's ModifyIndex but not
// its JobModifyIndex.
func (s *Server) markStable(key jobKey, version, idx uint64) {
	e := s.jobs[key]
	if e == nil {
		return
	}
	for _, v := range e.versions {
		if *v.Version == version {
			v.Stable = new(true)
			v.ModifyIndex = new(idx)
		}
	}
}

// ---- endpoints ----

func (s *Server) jobLatestDeployment(w http.ResponseWriter, r *http.Request, id string) {
	q, ok := s.getQuery(w, r)
	if !ok {
		return
	}
	// Job.LatestDeployment watches the whole deployment table.
	index := func() uint64 { return max(s.tableIndex(tableDeployment), 1) }
	s.block(r.Context(), q, index)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.writeJSON(w, index(), s.latestDeployment(jobKey{namespace(r), id}).wire())
}

func (s *Server) deploymentSpecific(w http.ResponseWriter, r *http.Request, body []byte, path string) {
	switch {
	case strings.HasPrefix(path, "allocations/"):
		s.deploymentAllocations(w, r, strings.TrimPrefix(path, "allocations/"))
	case strings.HasPrefix(path, "promote/"):
		s.deploymentPromote(w, r, body, strings.TrimPrefix(path, "promote/"))
	default:
		s.deploymentQuery(w, r, path)
	}
}

func (s *Server) deploymentQuery(w http.ResponseWriter, r *http.Request, id string) {
	q, ok := s.getQuery(w, r)
	if !ok {
		return
	}
	index := func() uint64 {
		if d := s.deployments[id]; d != nil {
			return d.d.ModifyIndex
		}
		return max(s.tableIndex(tableDeployment), 1)
	}
	s.block(r.Context(), q, index)

	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.deployments[id]
	if d == nil {
		s.writeError(w, http.StatusNotFound, "deployment not found")
		return
	}
	s.writeJSON(w, index(), d.wire())
}

func (s *Server) deploymentAllocations(w http.ResponseWriter, r *http.Request, id string) {
	q, ok := s.getQuery(w, r)
	if !ok {
		return
	}
	index := func() uint64 { return max(s.tableIndex(tableAllocs), 1) }
	s.block(r.Context(), q, index)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.writeJSON(w, index(), s.deploymentAllocs(id))
}

// deploymentAllocs are the seeded allocations of the deployment's job
// version. The caller holds s.mu.
func (s *Server) deploymentAllocs(id string) []*api.AllocationListStub {
	out := []*api.AllocationListStub{}
	d := s.deployments[id]
	if d == nil {
		return out
	}
	for _, a := range s.allocs[jobKey{d.d.Namespace, d.d.JobID}] {
		if a.JobVersion == d.d.JobVersion {
			out = append(out, a)
		}
	}
	return out
}

// updateReply is structs.DeploymentUpdateResponse as the agent encodes it.
func updateReply(evalID string, idx uint64, reverted *uint64) map[string]any {
	return map[string]any{
		"EvalID":                evalID,
		"EvalCreateIndex":       idx,
		"DeploymentModifyIndex": idx,
		"RevertedJobVersion":    reverted,
		"Index":                 idx,
	}
}

func (s *Server) deploymentPromote(w http.ResponseWriter, r *http.Request, body []byte, id string) {
	if r.Method != http.MethodPut && r.Method != http.MethodPost {
		s.methodNotAllowed(w)
		return
	}
	var req api.DeploymentPromoteRequest
	if err := decodeBody(body, &req); err != nil {
		s.writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if req.DeploymentID == "" {
		s.writeError(w, http.StatusBadRequest, "DeploymentID must be specified")
		return
	}
	if req.DeploymentID != id {
		s.writeError(w, http.StatusBadRequest, "Deployment ID does not match")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.deployments[id]
	if d == nil {
		s.writeError(w, http.StatusInternalServerError, "deployment not found")
		return
	}
	if !active(d.d.Status) {
		s.writeError(w, http.StatusInternalServerError, "can't promote terminal deployment")
		return
	}
	inScope := func(g string) bool { return req.All || contains(req.Groups, g) }
	if !s.AutoSucceed {
		// UpdateDeploymentPromotion: every promoted group needs all its
		// canaries healthy.
		healthy := map[string]int{}
		for _, a := range s.deploymentAllocs(id) {
			st := d.d.TaskGroups[a.TaskGroup]
			canary := a.DeploymentStatus != nil && a.DeploymentStatus.Canary || st != nil && contains(st.PlacedCanaries, a.ID)
			if canary && !terminal(a) && a.DeploymentStatus != nil && deref(a.DeploymentStatus.Healthy) {
				healthy[a.TaskGroup]++
			}
		}
		var errs []string
		for _, name := range sortedKeys(d.d.TaskGroups) {
			need := d.d.TaskGroups[name].DesiredCanaries
			if !inScope(name) || need == 0 {
				continue
			}
			if have := healthy[name]; have < need {
				errs = append(errs, fmt.Sprintf("Task group %q has %d/%d healthy allocations", name, have, need))
			}
		}
		if len(errs) > 0 {
			s.writeError(w, http.StatusInternalServerError, multiError(errs))
			return
		}
	}
	idx := s.bump(tableDeployment, tableEvals)
	for name, st := range d.d.TaskGroups {
		if inScope(name) {
			st.Promoted = true
		}
	}
	if !requiresPromotion(d) && d.d.Status == StatusRunning {
		d.d.StatusDescription = DescRunning
	}
	d.d.ModifyIndex, d.d.ModifyTime = idx, s.now().UnixNano()
	ev := s.deploymentEval(d, idx)
	if s.AutoSucceed && d.d.Status == StatusRunning && !requiresPromotion(d) {
		s.succeed(d)
	}
	s.writeJSON(w, idx, updateReply(ev.ID, idx, nil))
}

func (s *Server) deploymentEval(d *deployment, idx uint64) *api.Evaluation {
	key := jobKey{d.d.Namespace, d.d.JobID}
	job := &api.Job{Namespace: &key.ns, ID: &key.id, Priority: new(50), Type: new(api.JobTypeService)}
	if e := s.jobs[key]; e != nil {
		job = e.job
	}
	ev := s.newEval(job, "deployment-watcher", 0, idx)
	ev.DeploymentID = d.d.ID
	return ev
}

// revert registers a copy of an old version of a job as a new version, as
// an auto-revert does, with its evaluation and deployment. The caller holds
// s.mu.
func (s *Server) revert(key jobKey, version uint64) bool {
	e := s.jobs[key]
	if e == nil {
		return false
	}
	var old *api.Job
	for _, v := range e.versions {
		if *v.Version == version {
			old = v
		}
	}
	if old == nil {
		return false
	}
	prev := clone(e.job)
	job := clone(old)
	job.Stable = new(false)
	job.Stop = new(false)
	job.Version = new(*prev.Version)
	idx := s.bump(tableJobs, tableEvals, tableSubmission)
	sub := e.subs[version] // a revert carries the reverted version's source
	s.storeJob(key, job, sub, idx, false)
	ev := s.newEval(job, "job-register", idx, idx)
	s.startDeployment(key, prev, ev)
	return true
}

// ---- test helpers ----

// LatestDeployment returns a copy of the newest deployment of a job, or nil.
func (s *Server) LatestDeployment(jobID string) *api.Deployment {
	s.mu.Lock()
	defer s.mu.Unlock()
	key, _ := s.findJob(jobID)
	if d := s.latestDeployment(key); d != nil {
		return clone(d.d)
	}
	return nil
}

// Deployment returns a copy of a deployment, or nil.
func (s *Server) Deployment(id string) *api.Deployment {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.deployments[id]; d != nil {
		return clone(d.d)
	}
	return nil
}

// SetDeployment changes the latest deployment of a job with mutate (for a
// job without one, a running deployment of its current version is created
// first), advances the index and wakes blocking queries. A deployment set
// to successful marks its job version stable, as Nomad does.
func (s *Server) SetDeployment(jobID string, mutate func(*api.Deployment)) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	key, e := s.findJob(jobID)
	if e == nil {
		s.t.Fatalf("nomadfake: SetDeployment: no job %q", jobID)
		return
	}
	d := s.latestDeployment(key)
	if d == nil {
		idx := s.bump(tableDeployment)
		now := s.now().UnixNano()
		d = &deployment{d: &api.Deployment{
			ID: uuid(), Namespace: key.ns, JobID: key.id,
			JobVersion: *e.job.Version, JobModifyIndex: *e.job.ModifyIndex,
			JobSpecModifyIndex: *e.job.JobModifyIndex, JobCreateIndex: *e.job.CreateIndex,
			TaskGroups: map[string]*api.DeploymentState{},
			Status:     StatusRunning, StatusDescription: DescRunning,
			CreateIndex: idx, ModifyIndex: idx, CreateTime: now, ModifyTime: now,
		}, autoPromote: map[string]bool{}}
		s.deployments[d.d.ID] = d
	}
	was := d.d.Status
	c := clone(d.d)
	mutate(c)
	if c.TaskGroups == nil {
		c.TaskGroups = map[string]*api.DeploymentState{}
	}
	idx := s.bump(tableDeployment)
	c.ID, c.CreateIndex, c.ModifyIndex, c.ModifyTime = d.d.ID, d.d.CreateIndex, idx, s.now().UnixNano()
	d.d = c
	if c.Status == StatusSuccessful && was != StatusSuccessful {
		s.bump(tableJobs)
		s.markStable(key, c.JobVersion, s.raft.Current())
	}
}

// CompleteDeployment marks the latest deployment of a job successful, with
// every allocation placed and healthy and every canary promoted.
func (s *Server) CompleteDeployment(jobID string) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	key, _ := s.findJob(jobID)
	d := s.latestDeployment(key)
	if d == nil {
		s.t.Fatalf("nomadfake: CompleteDeployment: job %q has no deployment", jobID)
		return
	}
	s.succeed(d)
}

// FailDeployment fails the latest deployment of a job with description
// (DescFailedAllocations when empty). With revertToVersion it also rolls
// the job back to that version, as auto_revert does: the description gets
// Nomad's " - rolling back to job version N" suffix and the job a new
// version (and deployment) with the old spec.
func (s *Server) FailDeployment(jobID, description string, revertToVersion *uint64) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	key, _ := s.findJob(jobID)
	d := s.latestDeployment(key)
	if d == nil {
		s.t.Fatalf("nomadfake: FailDeployment: job %q has no deployment", jobID)
		return
	}
	if description == "" {
		description = DescFailedAllocations
	}
	if revertToVersion != nil {
		description = DescRollback(description, *revertToVersion)
	}
	idx := s.bump(tableDeployment)
	for _, st := range d.d.TaskGroups {
		if st.UnhealthyAllocs == 0 && description != DescProgressDeadline {
			st.UnhealthyAllocs = 1
		}
	}
	d.d.Status, d.d.StatusDescription = StatusFailed, description
	d.d.ModifyIndex, d.d.ModifyTime = idx, s.now().UnixNano()
	if revertToVersion != nil && !s.revert(key, *revertToVersion) {
		s.t.Fatalf("nomadfake: FailDeployment: job %q has no version %d", jobID, *revertToVersion)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

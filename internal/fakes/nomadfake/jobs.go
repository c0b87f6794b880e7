package nomadfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/nomad/api"
)

type jobKey struct{ ns, id string }

// jobEntry is a job with everything Nomad keeps about it.
type jobEntry struct {
	job      *api.Job   // the latest version; also the last element of versions
	versions []*api.Job // oldest first
	subs     map[uint64]*api.JobSubmission
	// events are the scaling events per group, newest first.
	events      map[string][]api.ScalingEvent
	eventsIndex uint64
	groupStatus map[string]groupStatus
}

// groupStatus overrides the allocation counts of a group in the scale
// status, for tests that do not want to seed allocations.
type groupStatus struct{ running, healthy int }

// jobTrackedScalingEvents is how many events Nomad keeps per group.
const jobTrackedScalingEvents = 20

func (s *Server) jobSpecific(w http.ResponseWriter, r *http.Request, body []byte, path string) {
	// The same suffix order as command/agent/job_endpoint.go, so that odd
	// IDs route the same way. Suffixes drover does not use (evaluations,
	// summary, versions, deployments, submission, ...) are not served.
	suffix := func(sfx string) (string, bool) {
		if strings.HasSuffix(path, sfx) {
			return strings.TrimSuffix(path, sfx), true
		}
		return "", false
	}
	if id, ok := suffix("/allocations"); ok {
		s.jobAllocations(w, r, id)
	} else if id, ok := suffix("/plan"); ok {
		s.jobPlan(w, r, body, id)
	} else if id, ok := suffix("/deployment"); ok {
		s.jobLatestDeployment(w, r, id)
	} else if id, ok := suffix("/scale"); ok {
		switch r.Method {
		case http.MethodGet:
			s.jobScaleStatus(w, r, id)
		case http.MethodPut, http.MethodPost:
			s.jobScale(w, r, body, id)
		default:
			s.methodNotAllowed(w)
		}
	} else {
		switch r.Method {
		case http.MethodGet:
			s.jobQuery(w, r, path)
		case http.MethodDelete:
			s.jobDelete(w, r, path)
		default:
			// PUT /v1/job/:id registers too; drover registers with PUT /v1/jobs.
			s.methodNotAllowed(w)
		}
	}
}

// ---- reads ----

func (s *Server) jobQuery(w http.ResponseWriter, r *http.Request, id string) {
	q, ok := s.parseQuery(w, r)
	if !ok {
		return
	}
	key := jobKey{namespace(r), id}
	index := func() uint64 {
		if e := s.jobs[key]; e != nil {
			return *e.job.ModifyIndex
		}
		return s.tableIndex(tableJobs)
	}
	s.block(r.Context(), q, index)

	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.jobs[key]
	if e == nil {
		s.writeError(w, http.StatusNotFound, "job not found")
		return
	}
	s.writeJSON(w, index(), e.job)
}

func (s *Server) jobList(w http.ResponseWriter, r *http.Request) {
	q, ok := s.parseQuery(w, r)
	if !ok {
		return
	}
	v := r.URL.Query()
	withMeta := false
	if m := v.Get("meta"); m != "" {
		b, err := strconv.ParseBool(m)
		if err != nil {
			s.writeError(w, http.StatusBadRequest, fmt.Sprintf("Failed to parse value of %q (%v) as a bool: %v", "meta", m, err))
			return
		}
		withMeta = b
	}
	filter, err := parseFilter(v.Get("filter"))
	if err != nil {
		s.writeError(w, http.StatusBadRequest, "failed to create result paginator: failed to read filter expression: "+err.Error())
		return
	}
	index := func() uint64 { return s.tableIndex(tableJobs) }
	s.block(r.Context(), q, index)

	s.mu.Lock()
	defer s.mu.Unlock()
	ns, prefix := namespace(r), v.Get("prefix")
	stubs := []*api.JobListStub{}
	for _, key := range s.sortedJobKeys() {
		if ns != "*" && key.ns != ns || !strings.HasPrefix(key.id, prefix) {
			continue
		}
		job := s.jobs[key].job
		if !filter.match(job) {
			continue
		}
		stubs = append(stubs, s.jobStub(key, job, withMeta))
	}
	s.writeJSON(w, max(index(), 1), stubs)
}

func (s *Server) sortedJobKeys() []jobKey {
	keys := make([]jobKey, 0, len(s.jobs))
	for k := range s.jobs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].ns != keys[j].ns {
			return keys[i].ns < keys[j].ns
		}
		return keys[i].id < keys[j].id
	})
	return keys
}

func (s *Server) jobStub(key jobKey, job *api.Job, withMeta bool) *api.JobListStub {
	stub := &api.JobListStub{
		ID:                key.id,
		ParentID:          deref(job.ParentID),
		Name:              deref(job.Name),
		Namespace:         key.ns,
		Datacenters:       job.Datacenters,
		Type:              deref(job.Type),
		Priority:          deref(job.Priority),
		Periodic:          job.Periodic != nil,
		ParameterizedJob:  job.ParameterizedJob != nil,
		Stop:              deref(job.Stop),
		Status:            deref(job.Status),
		StatusDescription: deref(job.StatusDescription),
		CreateIndex:       deref(job.CreateIndex),
		ModifyIndex:       deref(job.ModifyIndex),
		JobModifyIndex:    deref(job.JobModifyIndex),
		SubmitTime:        deref(job.SubmitTime),
	}
	if withMeta {
		stub.Meta = job.Meta
	}
	return stub
}

func (s *Server) jobAllocations(w http.ResponseWriter, r *http.Request, id string) {
	q, ok := s.getQuery(w, r)
	if !ok {
		return
	}
	index := func() uint64 { return s.tableIndex(tableAllocs) }
	s.block(r.Context(), q, index)

	s.mu.Lock()
	defer s.mu.Unlock()
	allocs := s.allocs[jobKey{namespace(r), id}]
	if allocs == nil {
		allocs = []*api.AllocationListStub{}
	}
	s.writeJSON(w, max(index(), 1), allocs)
}

func (s *Server) evalQuery(w http.ResponseWriter, r *http.Request, id string) {
	q, ok := s.getQuery(w, r)
	if !ok {
		return
	}
	index := func() uint64 {
		if ev := s.evals[id]; ev != nil {
			return ev.ModifyIndex
		}
		return s.tableIndex(tableEvals)
	}
	s.block(r.Context(), q, index)

	s.mu.Lock()
	defer s.mu.Unlock()
	ev := s.evals[id]
	if ev == nil {
		s.writeError(w, http.StatusNotFound, "eval not found")
		return
	}
	s.writeJSON(w, index(), ev)
}

// ---- register ----

func (s *Server) jobRegister(w http.ResponseWriter, r *http.Request, body []byte) {
	var req api.JobRegisterRequest
	if err := decodeBody(body, &req); err != nil {
		s.writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if req.Job == nil {
		s.writeError(w, http.StatusBadRequest, "Job must be specified")
		return
	}
	if req.Job.ID == nil {
		s.writeError(w, http.StatusBadRequest, "Job ID hasn't been provided")
		return
	}
	if req.Job.Type != nil && *req.Job.Type == api.JobTypeSystem {
		for _, tg := range req.Job.TaskGroups {
			if tg.Scaling != nil {
				s.writeError(w, http.StatusBadRequest, "Task groups with job type system do not support scaling blocks")
				return
			}
		}
	}
	job := canonicalJob(req.Job, jobNamespace(r, req.Namespace, req.Job.Namespace))

	s.mu.Lock()
	defer s.mu.Unlock()
	if err := validateJob(job); err != "" {
		s.writeError(w, http.StatusInternalServerError, err)
		return
	}
	if err := s.namespaceMissing(job); err != "" {
		s.writeError(w, http.StatusInternalServerError, err)
		return
	}
	key := jobKey{*job.Namespace, *job.ID}
	e := s.jobs[key]
	var existing *api.Job
	if e != nil {
		existing = e.job
	}
	if req.EnforceIndex {
		if err := enforceIndex(existing, req.JobModifyIndex); err != "" {
			s.writeError(w, http.StatusInternalServerError, err)
			return
		}
	}
	if existing != nil && *existing.Type != *job.Type {
		s.writeError(w, http.StatusInternalServerError,
			fmt.Sprintf("cannot update job from type %q to %q", *existing.Type, *job.Type))
		return
	}
	propagatePolicyIDs(existing, job)

	needsEval := job.Periodic == nil && job.ParameterizedJob == nil
	if existing != nil && !specChanged(existing, job) {
		// Re-registering an unchanged job only forces an evaluation, as
		// `nomad job eval` does.
		reply := api.JobRegisterResponse{JobModifyIndex: *existing.ModifyIndex}
		reply.LastIndex = *existing.ModifyIndex
		if needsEval {
			idx := s.bump(tableEvals)
			ev := s.newEval(existing, "job-register", *existing.JobModifyIndex, idx)
			reply.EvalID, reply.EvalCreateIndex, reply.LastIndex = ev.ID, idx, idx
		}
		s.writeJSON(w, reply.LastIndex, registerReply(reply))
		return
	}

	prev := clone(existing)
	idx := s.bump(tableJobs, tableEvals, tableSubmission)
	s.storeJob(key, job, req.Submission, idx, req.PreserveCounts)
	reply := api.JobRegisterResponse{JobModifyIndex: idx}
	reply.LastIndex = idx
	var ev *api.Evaluation
	if needsEval {
		ev = s.newEval(job, "job-register", idx, idx)
		reply.EvalID, reply.EvalCreateIndex = ev.ID, idx
	}
	s.startDeployment(key, prev, ev)
	s.writeJSON(w, idx, registerReply(reply))
}

// registerReply is JobRegisterResponse as the agent encodes it: the
// embedded QueryMeta's index travels as "Index".
func registerReply(r api.JobRegisterResponse) map[string]any {
	return map[string]any{
		"EvalID":          r.EvalID,
		"EvalCreateIndex": r.EvalCreateIndex,
		"JobModifyIndex":  r.JobModifyIndex,
		"Warnings":        r.Warnings,
		"Index":           r.LastIndex,
		"LastContact":     0,
		"KnownLeader":     true,
		"NextToken":       "",
	}
}

// canonicalJob applies the agent's and server's defaults to a submitted
// job (a copy), as ApiJobToStructJob and structs.Job.Canonicalize do.
func canonicalJob(in *api.Job, ns string) *api.Job {
	job := clone(in)
	job.Namespace = &ns
	job.Canonicalize()
	if len(job.Datacenters) == 0 {
		job.Datacenters = []string{"*"}
	}
	if *job.NodePool == "" {
		job.NodePool = new("default")
	}
	if len(job.Meta) == 0 {
		job.Meta = nil
	}
	for _, tg := range job.TaskGroups {
		if tg.Scaling != nil {
			if tg.Scaling.Max == nil {
				tg.Scaling.Max = new(int64(-1)) // ApiScalingPolicyToStructs
			}
			tg.Scaling.Target = map[string]string{"Namespace": ns, "Job": *job.ID, "Group": *tg.Name}
		}
	}
	return job
}

// jobNamespace picks the namespace like namespaceForJob: query parameter,
// then request body, then the job, then "default".
func jobNamespace(r *http.Request, bodyNS string, jobNS *string) string {
	if ns := r.URL.Query().Get("namespace"); ns != "" {
		return ns
	}
	if bodyNS != "" {
		return bodyNS
	}
	if jobNS != nil && *jobNS != "" {
		return *jobNS
	}
	return "default"
}

// enforceIndex is structs.Job.EnforceIndex; it returns the error text.
func enforceIndex(existing *api.Job, index uint64) string {
	const prefix = api.RegisterEnforceIndexErrPrefix
	switch {
	case existing != nil && index == 0:
		return prefix + " 0: job already exists"
	case existing != nil && index != *existing.JobModifyIndex:
		return fmt.Sprintf("%s %d: job exists with conflicting job modify index: %d", prefix, index, *existing.JobModifyIndex)
	case existing == nil && index != 0:
		return fmt.Sprintf("%s %d: job does not exist", prefix, index)
	}
	return ""
}

// validateJob runs the part of structs.Job.Validate drover can get wrong,
// and formats the result the way Nomad's nested multierrors print.
func validateJob(job *api.Job) string {
	var errs []string
	if *job.ID == "" {
		errs = append(errs, "Missing job ID")
	} else if strings.Contains(*job.ID, " ") {
		errs = append(errs, "Job ID contains a space")
	}
	if *job.Name == "" {
		errs = append(errs, "Missing job name")
	}
	if len(job.TaskGroups) == 0 {
		errs = append(errs, "Missing job task groups")
	}
	seen := map[string]int{}
	for i, tg := range job.TaskGroups {
		name := deref(tg.Name)
		if j, ok := seen[name]; ok {
			errs = append(errs, fmt.Sprintf("Job task group %d redefines '%s' from group %d", i+1, name, j+1))
		} else {
			seen[name] = i
		}
	}
	for _, tg := range job.TaskGroups {
		if err := validateScaling(tg); err != "" {
			group := multiError([]string{"Task group scaling policy validation failed: " + err})
			errs = append(errs, fmt.Sprintf("Task group %s validation failed: %s", deref(tg.Name), group))
		}
	}
	return multiError(errs)
}

// validateScaling is structs.TaskGroup.validateScalingPolicy.
func validateScaling(tg *api.TaskGroup) string {
	p := tg.Scaling
	if p == nil {
		return ""
	}
	var errs []string
	if p.Type == "" {
		errs = append(errs, "Scaling policy invalid: missing scaling policy type")
	}
	minimum, maximum := deref(p.Min), deref(p.Max)
	if maximum < 0 {
		errs = append(errs, "Scaling policy invalid: maximum count must be specified and non-negative")
	} else if maximum < minimum {
		errs = append(errs, "Scaling policy invalid: maximum count must not be less than minimum count")
	}
	if minimum < 0 {
		errs = append(errs, "Scaling policy invalid: minimum count must be specified and non-negative")
	}
	count := int64(deref(tg.Count))
	if maximum < count {
		errs = append(errs, "Scaling policy invalid: task group count must not be greater than maximum count in scaling policy")
	}
	if count < minimum {
		errs = append(errs, "Scaling policy invalid: task group count must not be less than minimum count in scaling policy")
	}
	return multiError(errs)
}

// multiError formats errors like hashicorp/go-multierror's default
// ListFormatFunc, which is what Nomad's validation errors read like.
func multiError(errs []string) string {
	switch len(errs) {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf("1 error occurred:\n\t* %s\n\n", errs[0])
	}
	points := make([]string, len(errs))
	for i, e := range errs {
		points[i] = "* " + e
	}
	return fmt.Sprintf("%d errors occurred:\n\t%s\n\n", len(errs), strings.Join(points, "\n\t"))
}

// propagatePolicyIDs keeps the scaling policy ID of each group across
// versions and gives new policies a fresh one, as Job.Register does.
func propagatePolicyIDs(old, job *api.Job) {
	oldIDs := map[string]string{}
	if old != nil {
		for _, tg := range old.TaskGroups {
			if tg.Scaling != nil {
				oldIDs[deref(tg.Name)] = tg.Scaling.ID
			}
		}
	}
	for _, tg := range job.TaskGroups {
		if tg.Scaling == nil {
			continue
		}
		if id, ok := oldIDs[deref(tg.Name)]; ok {
			tg.Scaling.ID = id
		} else {
			tg.Scaling.ID = uuid()
		}
	}
}

// specChanged is structs.Job.SpecChanged: anything but the fields the
// server sets on the job. Like Nomad it compares scaling policies whole,
// raft indexes included, so a job with a scaling block always reads as
// changed: every register of it makes a new version.
func specChanged(old, job *api.Job) bool {
	a, b := specOnly(old), specOnly(job)
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) != string(jb)
}

// specOnly is a copy of job without the fields the server sets.
func specOnly(job *api.Job) *api.Job {
	c := clone(job)
	c.Status, c.StatusDescription, c.Stable, c.Version = nil, nil, nil, nil
	c.CreateIndex, c.ModifyIndex, c.JobModifyIndex, c.SubmitTime = nil, nil, nil, nil
	c.VersionTag = nil
	return c
}

// storeJob writes a new version of a job at index idx, as upsertJobImpl
// does. The caller holds s.mu.
func (s *Server) storeJob(key jobKey, job *api.Job, sub *api.JobSubmission, idx uint64, preserveCounts bool) {
	e := s.jobs[key]
	if e == nil {
		e = &jobEntry{subs: map[uint64]*api.JobSubmission{}, events: map[string][]api.ScalingEvent{}}
		s.jobs[key] = e
		job.CreateIndex = new(idx)
	} else {
		job.CreateIndex = new(*e.job.CreateIndex)
		if *job.Version <= *e.job.Version {
			job.Version = new(*e.job.Version + 1)
		}
		if preserveCounts {
			counts := map[string]*int{}
			for _, tg := range e.job.TaskGroups {
				counts[deref(tg.Name)] = tg.Count
			}
			for _, tg := range job.TaskGroups {
				if c, ok := counts[deref(tg.Name)]; ok && c != nil {
					tg.Count = new(*c)
				}
			}
		}
	}
	job.ModifyIndex, job.JobModifyIndex = new(idx), new(idx)
	job.SubmitTime = new(s.now().UnixNano())
	job.Status = new(jobStatus(job))
	s.upsertPolicies(key, job, idx)
	e.job = job
	e.versions = append(e.versions, job)
	if sub != nil {
		sub = clone(sub)
		if len(sub.VariableFlags) == 0 {
			sub.VariableFlags = nil
		}
		e.subs[*job.Version] = sub
	}
}

// jobStatus is the status Nomad derives for a job (getJobStatus), as far
// as the fake can tell without a scheduler: a stopped job is dead; a
// system, periodic or parameterized job runs until stopped; any other runs
// while it has something to run (the fake assumes a non-zero count is
// placed) and is dead once evaluated with nothing to run.
func jobStatus(job *api.Job) string {
	switch {
	case *job.Stop:
		return "dead"
	case *job.Type == api.JobTypeSystem || job.Periodic != nil || job.ParameterizedJob != nil:
		return "running"
	}
	for _, tg := range job.TaskGroups {
		if deref(tg.Count) > 0 {
			return "running"
		}
	}
	return "dead"
}

func (s *Server) newEval(job *api.Job, trigger string, jobModifyIndex, idx uint64) *api.Evaluation {
	now := s.now().UnixNano()
	ev := &api.Evaluation{
		ID:             uuid(),
		Namespace:      *job.Namespace,
		Priority:       *job.Priority,
		Type:           *job.Type,
		TriggeredBy:    trigger,
		JobID:          *job.ID,
		JobModifyIndex: jobModifyIndex,
		Status:         "complete",
		CreateIndex:    idx,
		ModifyIndex:    idx,
		CreateTime:     now,
		ModifyTime:     now,
	}
	s.evals[ev.ID] = ev
	return ev
}

// ---- deregister ----

func (s *Server) jobDelete(w http.ResponseWriter, r *http.Request, id string) {
	purge := false
	if p := r.URL.Query().Get("purge"); p != "" {
		b, err := strconv.ParseBool(p)
		if err != nil {
			s.writeError(w, http.StatusInternalServerError, fmt.Sprintf("Failed to parse value of %q (%v) as a bool: %v", "purge", p, err))
			return
		}
		purge = b
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := jobKey{namespace(r), id}
	e := s.jobs[key]
	if e == nil {
		// Job.Deregister returns nothing, and no error, for a missing job.
		s.writeJSON(w, 0, map[string]any{"EvalID": "", "EvalCreateIndex": 0, "JobModifyIndex": 0, "Index": 0})
		return
	}
	job := e.job
	idx := s.bump(tableJobs, tableEvals, tableDeployment, tableEvents)
	var ev *api.Evaluation
	if job.Periodic == nil && job.ParameterizedJob == nil {
		ev = s.newEval(job, "job-deregister", idx, idx)
		ev.Type = api.JobTypeService // Nomad's deregister evals are always of this type
	}
	s.cancelActive(key, DescStoppedJob, idx)
	if purge {
		for pid, p := range s.policies {
			if p.Target["Namespace"] == key.ns && p.Target["Job"] == key.id {
				delete(s.policies, pid)
				s.raft.SetTable(tablePolicies, idx)
			}
		}
		delete(s.jobs, key)
	} else {
		stopped := clone(job)
		stopped.Stop = new(true)
		for _, tg := range stopped.TaskGroups {
			if tg.Scaling != nil {
				tg.Scaling.Enabled = new(false) // Nomad stops monitoring a stopped job
			}
		}
		stopped.Version = new(*job.Version) // storeJob bumps it
		s.storeJob(key, stopped, nil, idx, false)
	}
	reply := map[string]any{"EvalCreateIndex": idx, "JobModifyIndex": idx, "Index": idx, "EvalID": ""}
	if ev != nil {
		reply["EvalID"] = ev.ID
	}
	s.writeJSON(w, idx, reply)
}

// ---- scale ----

func (s *Server) jobScaleStatus(w http.ResponseWriter, r *http.Request, id string) {
	q, ok := s.parseQuery(w, r)
	if !ok {
		return
	}
	key := jobKey{namespace(r), id}
	index := func() uint64 {
		e := s.jobs[key]
		if e == nil {
			return s.raft.Current()
		}
		return max(*e.job.ModifyIndex, e.eventsIndex, s.tableIndex(tableAllocs))
	}
	s.block(r.Context(), q, index)

	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.jobs[key]
	if e == nil {
		s.writeError(w, http.StatusNotFound, "job not found")
		return
	}
	job := e.job
	out := api.JobScaleStatusResponse{
		JobID:          key.id,
		Namespace:      key.ns,
		JobCreateIndex: *job.CreateIndex,
		JobModifyIndex: *job.ModifyIndex, // Nomad reports the ModifyIndex here
		JobStopped:     *job.Stop,
		TaskGroups:     map[string]api.TaskGroupScaleStatus{},
	}
	for _, tg := range job.TaskGroups {
		name := deref(tg.Name)
		st := api.TaskGroupScaleStatus{Desired: deref(tg.Count), Events: e.events[name]}
		if gs, ok := e.groupStatus[name]; ok {
			st.Placed, st.Running, st.Healthy = gs.running, gs.running, gs.healthy
		} else {
			for _, a := range s.allocs[key] {
				if a.TaskGroup != name || a.DeploymentStatus != nil && a.DeploymentStatus.Canary || terminal(a) {
					continue
				}
				st.Placed++
				if a.ClientStatus == "running" {
					st.Running++
				}
				if a.DeploymentStatus != nil && a.DeploymentStatus.Healthy != nil {
					if *a.DeploymentStatus.Healthy {
						st.Healthy++
					} else {
						st.Unhealthy++
					}
				}
			}
		}
		out.TaskGroups[name] = st
	}
	s.writeJSON(w, index(), out)
}

func terminal(a *api.AllocationListStub) bool {
	switch a.DesiredStatus {
	case "stop", "evict":
		return true
	}
	switch a.ClientStatus {
	case "complete", "failed", "lost":
		return true
	}
	return false
}

func (s *Server) jobScale(w http.ResponseWriter, r *http.Request, body []byte, id string) {
	var req api.ScalingRequest
	if err := decodeBody(body, &req); err != nil {
		s.writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if tj := req.Target["Job"]; tj != "" && tj != id {
		s.writeError(w, http.StatusInternalServerError, "job ID in payload did not match URL") // uncoded
		return
	}
	ns := namespace(r)
	// JobScaleRequest.Validate
	if tns := req.Target["Namespace"]; tns != "" && tns != ns {
		s.writeError(w, http.StatusBadRequest, "namespace in payload did not match header")
		return
	}
	group := req.Target["Group"]
	if group == "" {
		s.writeError(w, http.StatusBadRequest, "missing task group name for scaling action")
		return
	}
	if req.Count != nil {
		if *req.Count < 0 {
			s.writeError(w, http.StatusBadRequest, "scaling action count can't be negative")
			return
		}
		if req.Error {
			s.writeError(w, http.StatusBadRequest, "scaling action should not contain count if error is true")
			return
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	key := jobKey{ns, id}
	e := s.jobs[key]
	if e == nil {
		s.writeError(w, http.StatusNotFound, fmt.Sprintf("job %q not found", id))
		return
	}
	if *e.job.Type == api.JobTypeSystem && req.Count != nil && *req.Count > 1 {
		s.writeError(w, http.StatusBadRequest, `jobs of type "system" can only be scaled between 0 and 1`)
		return
	}
	job := clone(e.job)
	tg := findGroup(job, group)
	if tg == nil {
		s.writeError(w, http.StatusBadRequest, fmt.Sprintf("task group %q specified for scaling does not exist in job", group))
		return
	}
	event := api.ScalingEvent{
		Time:          uint64(s.now().UnixNano()),
		PreviousCount: int64(deref(tg.Count)),
		Count:         req.Count,
		Message:       req.Message,
		Error:         req.Error,
		Meta:          req.Meta,
	}
	reply := api.JobRegisterResponse{JobModifyIndex: *e.job.ModifyIndex}
	if req.Count != nil {
		if p := tg.Scaling; p != nil {
			if *req.Count < deref(p.Min) {
				s.writeError(w, http.StatusBadRequest, fmt.Sprintf("group count was less than scaling policy minimum: %d < %d", *req.Count, deref(p.Min)))
				return
			}
			if deref(p.Max) < *req.Count {
				s.writeError(w, http.StatusBadRequest, fmt.Sprintf("group count was greater than scaling policy maximum: %d > %d", *req.Count, deref(p.Max)))
				return
			}
		}
		if d := s.latestDeployment(key); d != nil && active(d.d.Status) && d.d.JobCreateIndex == *job.CreateIndex {
			s.writeError(w, http.StatusBadRequest, "job scaling blocked due to active deployment")
			return
		}
		if req.JobModifyIndex > 0 && req.JobModifyIndex != *job.JobModifyIndex {
			s.writeError(w, http.StatusInternalServerError, fmt.Sprintf("%s %d: job exists with conflicting job modify index: %d",
				api.RegisterEnforceIndexErrPrefix, req.JobModifyIndex, *job.JobModifyIndex))
			return
		}
		tg.Count = new(int(*req.Count))
		prev := e.job
		idx := s.bump(tableJobs)
		s.storeJob(key, job, nil, idx, false)
		reply.JobModifyIndex = idx
		if job.Periodic == nil && job.ParameterizedJob == nil {
			evIdx := s.bump(tableEvals)
			ev := s.newEval(job, "job-scaling", idx, evIdx)
			reply.EvalID, reply.EvalCreateIndex = ev.ID, evIdx
			event.EvalID = new(ev.ID)
			// Job.Scale makes a new job version, and the scheduler a new
			// deployment for it (nomad#8143).
			s.startDeployment(key, prev, ev)
		}
	}
	evIdx := s.bump(tableEvents)
	event.CreateIndex = evIdx
	evs := append([]api.ScalingEvent{event}, e.events[group]...)
	if len(evs) > jobTrackedScalingEvents {
		evs = evs[:jobTrackedScalingEvents]
	}
	e.events[group] = evs
	e.eventsIndex = evIdx
	reply.LastIndex = evIdx
	s.writeJSON(w, evIdx, registerReply(reply))
}

func findGroup(job *api.Job, name string) *api.TaskGroup {
	for _, tg := range job.TaskGroups {
		if deref(tg.Name) == name {
			return tg
		}
	}
	return nil
}

// ---- test helpers ----

// SeedJob registers job as if through PUT /v1/jobs, without an evaluation
// or a deployment, and returns its JobModifyIndex.
func (s *Server) SeedJob(job *api.Job) uint64 {
	s.t.Helper()
	ns := "default"
	if job.Namespace != nil && *job.Namespace != "" {
		ns = *job.Namespace
	}
	j := canonicalJob(job, ns)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := validateJob(j); err != "" {
		s.t.Fatalf("nomadfake: SeedJob: %s", err)
	}
	key := jobKey{ns, *j.ID}
	var existing *api.Job
	if e := s.jobs[key]; e != nil {
		existing = e.job
	}
	propagatePolicyIDs(existing, j)
	idx := s.bump(tableJobs)
	s.storeJob(key, j, nil, idx, false)
	return idx
}

// Job returns a copy of the latest version of a job (in any namespace,
// "default" first), or nil.
func (s *Server) Job(id string) *api.Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, e := s.findJob(id); e != nil {
		return clone(e.job)
	}
	return nil
}

// Submission returns the source stored with a version of a job, or nil.
func (s *Server) Submission(id string, version uint64) *api.JobSubmission {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, e := s.findJob(id); e != nil {
		return clone(e.subs[version])
	}
	return nil
}

// ScalingEvents returns the scaling events of a group, newest first.
func (s *Server) ScalingEvents(jobID, group string) []api.ScalingEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, e := s.findJob(jobID); e != nil {
		return clone(e.events[group])
	}
	return nil
}

// SetAllocations replaces the allocations of a job. JobID, Namespace and
// missing indexes are filled in; an allocation belongs to the deployment
// of its JobVersion.
func (s *Server) SetAllocations(jobID string, allocs []*api.AllocationListStub) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	key, e := s.findJob(jobID)
	if e == nil {
		key = jobKey{"default", jobID}
	}
	idx := s.bump(tableAllocs)
	out := clone(allocs)
	for _, a := range out {
		a.JobID, a.Namespace = key.id, key.ns
		if a.ID == "" {
			a.ID = uuid()
		}
		if a.CreateIndex == 0 {
			a.CreateIndex = idx
		}
		a.ModifyIndex = idx
	}
	s.allocs[key] = out
}

// SetGroupStatus makes the scale status of a group report running placed
// and running allocations, healthy of them healthy, whatever allocations
// are seeded.
func (s *Server) SetGroupStatus(jobID, group string, running, healthy int) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	_, e := s.findJob(jobID)
	if e == nil {
		s.t.Fatalf("nomadfake: SetGroupStatus: no job %q", jobID)
		return
	}
	if e.groupStatus == nil {
		e.groupStatus = map[string]groupStatus{}
	}
	e.groupStatus[group] = groupStatus{running: running, healthy: healthy}
	s.bump(tableAllocs)
}

// SetEvalFailedAllocs records placement failures on an evaluation, as the
// scheduler does when it cannot place a group.
func (s *Server) SetEvalFailedAllocs(evalID string, failed map[string]*api.AllocationMetric) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	ev := s.evals[evalID]
	if ev == nil {
		s.t.Fatalf("nomadfake: SetEvalFailedAllocs: no evaluation %q", evalID)
		return
	}
	ev.FailedTGAllocs = clone(failed)
	ev.ModifyIndex = s.bump(tableEvals)
}

// findJob finds a job by ID, in the default namespace first. The caller
// holds s.mu.
func (s *Server) findJob(id string) (jobKey, *jobEntry) {
	if e := s.jobs[jobKey{"default", id}]; e != nil {
		return jobKey{"default", id}, e
	}
	for _, k := range s.sortedJobKeys() {
		if k.id == id {
			return k, s.jobs[k]
		}
	}
	return jobKey{}, nil
}

func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

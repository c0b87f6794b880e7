package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// fakeNomad serves what both autoscalers read and write, for n jobs of one
// group each with a scaling policy, and counts every request. Blocking
// queries follow Nomad's rules (?index=&wait=, the wait capped at maxWait,
// plus up to 1/16 jitter as Nomad adds); the event stream sends a
// heartbeat every 10 s, as Nomad's does.
type fakeNomad struct {
	n       int
	maxWait time.Duration
	srv     *http.Server
	addr    string

	mu       sync.Mutex
	index    uint64
	jobs     map[string]*fakeJob
	requests map[string]int // by route
	changed  chan struct{}
}

type fakeJob struct {
	id         string
	count      int
	modify     uint64
	jobModify  uint64
	events     []map[string]any
	policyID   string
	policyJSON []byte
}

func newFakeNomad(n int, maxWait time.Duration, interval string) (*fakeNomad, error) {
	f := &fakeNomad{n: n, maxWait: maxWait, index: 100, jobs: map[string]*fakeJob{}, requests: map[string]int{}, changed: make(chan struct{})}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("job-%05d", i)
		j := &fakeJob{id: id, count: 2, modify: 100, jobModify: 100, policyID: fmt.Sprintf("policy-%05d", i)}
		policy := map[string]any{
			"ID": j.policyID, "Type": "horizontal", "Enabled": true, "Min": 1, "Max": 10,
			"Namespace": "default", "CreateIndex": 100, "ModifyIndex": 100,
			"Target": map[string]string{"Namespace": "default", "Job": id, "Group": "web"},
			"Policy": map[string]any{
				"evaluation_interval": interval,
				"cooldown":            "1m",
				// A check that always agrees with the count: every evaluation
				// is "no change", the steady state.
				"check": []any{map[string]any{"pin": []any{map[string]any{
					"strategy": []any{map[string]any{"fixed-value": []any{map[string]any{"value": "2"}}}},
				}}}},
			},
		}
		j.policyJSON, _ = json.Marshal(policy)
		f.jobs[id] = j
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f.addr = "http://" + ln.Addr().String()
	f.srv = &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = f.srv.Serve(ln) }()
	return f, nil
}

func (f *fakeNomad) close() { _ = f.srv.Close() }

// snapshot returns the request counts so far.
func (f *fakeNomad) snapshot() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.requests))
	for k, v := range f.requests {
		out[k] = v
	}
	return out
}

func (f *fakeNomad) count(route string) {
	f.mu.Lock()
	f.requests[route]++
	f.mu.Unlock()
}

func (f *fakeNomad) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/v1/event/stream":
		f.count("GET /v1/event/stream")
		f.stream(w, r)
	case p == "/v1/scaling/policies":
		f.count("GET /v1/scaling/policies")
		f.policies(w, r)
	case strings.HasPrefix(p, "/v1/scaling/policy/"):
		f.count("GET /v1/scaling/policy/:id")
		f.policy(w, strings.TrimPrefix(p, "/v1/scaling/policy/"))
	case p == "/v1/jobs":
		f.count("GET /v1/jobs")
		f.jobList(w, r)
	case strings.HasPrefix(p, "/v1/job/") && strings.HasSuffix(p, "/scale"):
		id := strings.TrimSuffix(strings.TrimPrefix(p, "/v1/job/"), "/scale")
		if r.Method == http.MethodGet {
			f.count("GET /v1/job/:id/scale")
			f.scaleStatus(w, r, id)
		} else {
			f.count(r.Method + " /v1/job/:id/scale")
			f.scale(w, r, id)
		}
	case strings.HasPrefix(p, "/v1/job/") && strings.HasSuffix(p, "/deployment"):
		f.count("GET /v1/job/:id/deployment")
		f.reply(w, f.current(), nil)
	case p == "/v1/agent/self" || p == "/v1/status/leader" || p == "/v1/regions":
		f.count("GET " + p)
		f.reply(w, f.current(), map[string]any{})
	default:
		f.count("other " + r.Method + " " + p)
		http.NotFound(w, r)
	}
}

func (f *fakeNomad) current() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.index
}

func (f *fakeNomad) reply(w http.ResponseWriter, index uint64, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Nomad-Index", strconv.FormatUint(index, 10))
	w.Header().Set("X-Nomad-KnownLeader", "true")
	w.Header().Set("X-Nomad-LastContact", "0")
	_ = json.NewEncoder(w).Encode(v)
}

// block waits, like Nomad's blocking queries, until index() passes the
// request's ?index, or the wait (capped, plus jitter) elapses.
func (f *fakeNomad) block(r *http.Request, index func() uint64) {
	want, _ := strconv.ParseUint(r.URL.Query().Get("index"), 10, 64)
	if want == 0 {
		return
	}
	wait := f.maxWait
	if s := r.URL.Query().Get("wait"); s != "" {
		if d, err := time.ParseDuration(s); err == nil && d > 0 && d < wait {
			wait = d
		}
	}
	wait += time.Duration(time.Now().UnixNano() % int64(wait/16+1))
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		if index() > want {
			f.mu.Unlock()
			return
		}
		ch := f.changed
		f.mu.Unlock()
		select {
		case <-r.Context().Done():
			return
		case <-deadline.C:
			return
		case <-ch:
		}
	}
}

func (f *fakeNomad) policies(w http.ResponseWriter, r *http.Request) {
	f.block(r, func() uint64 { return 100 })
	f.mu.Lock()
	ids := make([]string, 0, len(f.jobs))
	for id := range f.jobs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	stubs := make([]map[string]any, 0, len(ids))
	for _, id := range ids {
		j := f.jobs[id]
		stubs = append(stubs, map[string]any{"ID": j.policyID, "Enabled": true, "Type": "horizontal", "Namespace": "default",
			"Target": map[string]string{"Namespace": "default", "Job": id, "Group": "web"}, "CreateIndex": 100, "ModifyIndex": 100})
	}
	f.mu.Unlock()
	f.reply(w, 100, stubs)
}

func (f *fakeNomad) policy(w http.ResponseWriter, id string) {
	var job *fakeJob
	f.mu.Lock()
	n, _ := strconv.Atoi(strings.TrimPrefix(id, "policy-"))
	job = f.jobs[fmt.Sprintf("job-%05d", n)]
	f.mu.Unlock()
	if job == nil {
		http.Error(w, "policy not found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Nomad-Index", "100")
	w.Header().Set("X-Nomad-KnownLeader", "true")
	_, _ = w.Write(job.policyJSON)
}

func (f *fakeNomad) job(id string) *fakeJob {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.jobs[id]
}

func (f *fakeNomad) scaleStatus(w http.ResponseWriter, r *http.Request, id string) {
	j := f.job(id)
	if j == nil {
		http.Error(w, "job not found", http.StatusNotFound)
		return
	}
	f.block(r, func() uint64 { return j.modify })
	f.mu.Lock()
	out := map[string]any{
		"JobID": id, "Namespace": "default", "JobCreateIndex": 100, "JobModifyIndex": j.modify, "JobStopped": false,
		"TaskGroups": map[string]any{"web": map[string]any{"Desired": j.count, "Placed": j.count, "Running": j.count, "Healthy": j.count, "Unhealthy": 0, "Events": j.events}},
	}
	idx := j.modify
	f.mu.Unlock()
	f.reply(w, idx, out)
}

func (f *fakeNomad) scale(w http.ResponseWriter, r *http.Request, id string) {
	j := f.job(id)
	if j == nil {
		http.Error(w, "job not found", http.StatusNotFound)
		return
	}
	var req struct {
		Count   *int64
		Message string
	}
	_ = json.NewDecoder(r.Body).Decode(&req)
	f.mu.Lock()
	f.index++
	ev := map[string]any{"Time": time.Now().UnixNano(), "Message": req.Message, "PreviousCount": j.count, "Error": false}
	if req.Count != nil {
		ev["Count"] = *req.Count
		j.count = int(*req.Count)
		j.jobModify = f.index
	}
	j.modify = f.index
	j.events = append([]map[string]any{ev}, j.events...)
	close(f.changed)
	f.changed = make(chan struct{})
	idx := f.index
	f.mu.Unlock()
	f.reply(w, idx, map[string]any{"EvalID": "", "JobModifyIndex": idx})
}

func (f *fakeNomad) jobList(w http.ResponseWriter, r *http.Request) {
	prefix := r.URL.Query().Get("prefix")
	f.mu.Lock()
	var out []map[string]any
	for id, j := range f.jobs {
		if strings.HasPrefix(id, prefix) {
			out = append(out, map[string]any{"ID": id, "Namespace": "default", "ModifyIndex": j.modify, "JobModifyIndex": j.jobModify})
		}
	}
	idx := f.index
	f.mu.Unlock()
	f.reply(w, idx, out)
}

// stream is the event stream: nothing changes in the steady state, so it
// sends only heartbeats.
func (f *fakeNomad) stream(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		if _, err := w.Write([]byte("{}\n")); err != nil {
			return
		}
		if fl != nil {
			fl.Flush()
		}
		select {
		case <-r.Context().Done():
			return
		case <-t.C:
		}
	}
}

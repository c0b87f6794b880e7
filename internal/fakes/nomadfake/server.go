package nomadfake

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/internal/fakes/blocking"
	"github.com/drover-io/drover/internal/fakes/faults"
)

// Request is one request the fake received (see faults.Request).
type Request = faults.Request

// Server is a fake Nomad agent (server and client in one, region "global",
// no ACLs). All state is behind one mutex; handlers are safe for concurrent
// requests.
type Server struct {
	// Injector records every request and injects faults: FailNext,
	// Delay, Hangup, Requests, ResetRequests.
	faults.Injector

	// AutoSucceed completes every new deployment as soon as it is created,
	// so that simple deploy tests need no driving. A deployment that waits
	// for a manual canary promotion still waits, and completes when
	// promoted. Set it before the first request.
	AutoSucceed bool

	t   testing.TB
	srv *httptest.Server

	mu   sync.Mutex
	raft *blocking.Index // guarded by mu
	now  func() time.Time

	jobs        map[jobKey]*jobEntry
	allocs      map[jobKey][]*api.AllocationListStub
	deployments map[string]*deployment
	evals       map[string]*api.Evaluation
	policies    map[string]*api.ScalingPolicy
	vars        map[varKey]*variable
	namespaces  map[string]*api.Namespace
}

// Tables whose index blocking queries watch, named as in Nomad's state store.
const (
	tableJobs       = "jobs"
	tableDeployment = "deployment"
	tableAllocs     = "allocs"
	tableEvals      = "evals"
	tablePolicies   = "scaling_policy"
	tableEvents     = "scaling_event"
	tableVariables  = "variables"
	tableSubmission = "job_submission"
)

// Blocking query limits from nomad/structs: the default and the cap are
// both five minutes.
const maxQueryTime = 5 * time.Minute

// New starts a fake Nomad agent that is closed when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		t:           t,
		now:         time.Now,
		jobs:        map[jobKey]*jobEntry{},
		allocs:      map[jobKey][]*api.AllocationListStub{},
		deployments: map[string]*deployment{},
		evals:       map[string]*api.Evaluation{},
		policies:    map[string]*api.ScalingPolicy{},
		vars:        map[varKey]*variable{},
		namespaces:  map[string]*api.Namespace{api.DefaultNamespace: {Name: api.DefaultNamespace, Description: "Default shared namespace"}},
	}
	s.raft = blocking.NewIndex(&s.mu)
	s.srv = httptest.NewServer(s)
	t.Cleanup(s.close)
	return s
}

// URL is the agent address, for api.Config.Address.
func (s *Server) URL() string { return s.srv.URL }

// Client returns an official API client pointed at the fake.
func (s *Server) Client() *api.Client {
	s.t.Helper()
	c, err := api.NewClient(&api.Config{Address: s.URL()})
	if err != nil {
		s.t.Fatalf("nomadfake: new client: %v", err)
	}
	return c
}

func (s *Server) close() {
	s.mu.Lock()
	for _, v := range s.vars {
		if v.lock != nil && v.lock.timer != nil {
			v.lock.timer.Stop()
		}
	}
	s.raft.Close() // release blocked queries so Close does not wait for them
	s.mu.Unlock()
	s.srv.Close()
}

// Writes returns the requests received so far that could change state:
// every method but GET and HEAD, except job plans, which Nomad takes as a
// PUT but which write nothing.
func (s *Server) Writes() []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Method == http.MethodGet || r.Method == http.MethodHead ||
			strings.HasPrefix(r.Path, "/v1/job/") && strings.HasSuffix(r.Path, "/plan") {
			continue
		}
		out = append(out, r)
	}
	return out
}

// Index returns the current raft index.
func (s *Server) Index() uint64 { return s.raft.Latest() }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, ok := s.Intercept(w, r, s.writeError)
	if !ok {
		return
	}
	s.route(w, r, body)
}

func (s *Server) route(w http.ResponseWriter, r *http.Request, body []byte) {
	p := r.URL.Path
	switch {
	case p == "/v1/jobs":
		switch r.Method {
		case http.MethodGet:
			s.jobList(w, r)
		case http.MethodPut, http.MethodPost:
			s.jobRegister(w, r, body)
		default:
			s.methodNotAllowed(w)
		}
	case strings.HasPrefix(p, "/v1/job/"):
		s.jobSpecific(w, r, body, strings.TrimPrefix(p, "/v1/job/"))
	case strings.HasPrefix(p, "/v1/evaluation/"):
		s.evalQuery(w, r, strings.TrimPrefix(p, "/v1/evaluation/"))
	case strings.HasPrefix(p, "/v1/deployment/"):
		s.deploymentSpecific(w, r, body, strings.TrimPrefix(p, "/v1/deployment/"))
	case p == "/v1/scaling/policies":
		s.scalingPolicyList(w, r)
	case strings.HasPrefix(p, "/v1/scaling/policy/"):
		s.scalingPolicyQuery(w, r, strings.TrimPrefix(p, "/v1/scaling/policy/"))
	case strings.HasPrefix(p, "/v1/var/"):
		s.variableSpecific(w, r, body, strings.TrimPrefix(p, "/v1/var/"))
	case p == "/v1/namespaces":
		s.namespaceList(w, r)
	case p == "/v1/namespace":
		s.namespaceSpecific(w, r, body, "")
	case strings.HasPrefix(p, "/v1/namespace/"):
		s.namespaceSpecific(w, r, body, strings.TrimPrefix(p, "/v1/namespace/"))
	case p == "/v1/regions":
		if r.Method != http.MethodGet {
			s.methodNotAllowed(w)
			return
		}
		// Not a blocking query: no index headers.
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `["global"]`)
	default:
		w.WriteHeader(http.StatusNotFound) // Nomad's mux: no body
	}
}

// writeJSON writes a 200 answer with Nomad's query meta headers.
func (s *Server) writeJSON(w http.ResponseWriter, index uint64, v any) {
	s.writeJSONStatus(w, http.StatusOK, index, v)
}

func (s *Server) writeJSONStatus(w http.ResponseWriter, status int, index uint64, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	s.setMeta(w, index)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeError answers like Nomad's HTTP wrapper: the status and a
// text/plain body with the message alone.
func (s *Server) writeError(w http.ResponseWriter, status int, msg string) {
	s.setMeta(w, s.raft.Latest())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg)
}

func (s *Server) methodNotAllowed(w http.ResponseWriter) {
	s.writeError(w, http.StatusMethodNotAllowed, "Invalid method")
}

func (s *Server) setMeta(w http.ResponseWriter, index uint64) {
	h := w.Header()
	h.Set("X-Nomad-Index", strconv.FormatUint(index, 10))
	h.Set("X-Nomad-KnownLeader", "true")
	h.Set("X-Nomad-LastContact", "0")
}

// bump advances the raft index for a write to tables and wakes every
// blocked query. The caller holds s.mu.
func (s *Server) bump(tables ...string) uint64 {
	return s.raft.Bump(tables...)
}

// tableIndex is the index of a table; the caller holds s.mu.
func (s *Server) tableIndex(t string) uint64 { return s.raft.Table(t) }

// queryOptions are the blocking query parameters of a read.
type queryOptions struct {
	index uint64
	wait  time.Duration
}

// parseQuery reads ?index and ?wait like command/agent/http.go:parseWait;
// it answers 400 itself and returns false on a bad value.
// getQuery is parseQuery for an endpoint that only answers GET.
func (s *Server) getQuery(w http.ResponseWriter, r *http.Request) (queryOptions, bool) {
	if r.Method != http.MethodGet {
		s.methodNotAllowed(w)
		return queryOptions{}, false
	}
	return s.parseQuery(w, r)
}

func (s *Server) parseQuery(w http.ResponseWriter, r *http.Request) (queryOptions, bool) {
	q := queryOptions{wait: maxQueryTime}
	v := r.URL.Query()
	if wait := v.Get("wait"); wait != "" {
		d, err := time.ParseDuration(wait)
		if err != nil {
			s.writeError(w, http.StatusBadRequest, "Invalid wait time")
			return q, false
		}
		q.wait = d
	}
	if idx := v.Get("index"); idx != "" {
		i, err := strconv.ParseUint(idx, 10, 64)
		if err != nil {
			s.writeError(w, http.StatusBadRequest, "Invalid index")
			return q, false
		}
		q.index = i
	}
	if q.wait <= 0 || q.wait > maxQueryTime {
		q.wait = maxQueryTime
	}
	return q, true
}

// block waits, like nomad/rpc.go:blockingRPC, until current() (evaluated
// under s.mu) exceeds q.index, the wait elapses or the request is
// cancelled. A zero q.index does not block.
func (s *Server) block(ctx context.Context, q queryOptions, current func() uint64) {
	s.raft.Wait(ctx, q.index, q.wait, current)
}

// namespace is the request's namespace, as the agent's parse() reads it.
func namespace(r *http.Request) string {
	if ns := r.URL.Query().Get("namespace"); ns != "" {
		return ns
	}
	return "default"
}

func decodeBody(body []byte, out any) error {
	if len(body) == 0 {
		return fmt.Errorf("Request body is empty")
	}
	return json.Unmarshal(body, out)
}

// uuid returns a random RFC 4122 version 4 UUID, like Nomad's IDs.
func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// clone deep-copies an API value through JSON, which is also how it
// travels between agent and client.
func clone[T any](v T) T {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("nomadfake: clone %T: %v", v, err)) // API types always marshal
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		panic(fmt.Sprintf("nomadfake: clone %T: %v", v, err))
	}
	return out
}

package consulfake

import (
	"context"
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

	"github.com/hashicorp/consul/api"

	"github.com/drover-io/drover/internal/fakes/blocking"
	"github.com/drover-io/drover/internal/fakes/faults"
)

// Request is one request the fake received (see faults.Request).
type Request = faults.Request

// Server is a fake Consul agent (datacenter "dc1", OSS: no namespaces or
// partitions, no ACLs). All state is behind one mutex; handlers are safe
// for concurrent requests.
type Server struct {
	// Injector records every request and injects faults: FailNext,
	// Delay, Hangup, Requests, ResetRequests.
	faults.Injector

	t   testing.TB
	srv *httptest.Server

	mu   sync.Mutex
	raft *blocking.Index // guarded by mu; the first write is always Consul's own

	entries map[string]map[string]api.ConfigEntry // kind -> name -> entry
	nodes   map[string]*node
	health  map[string][]*api.ServiceEntry // SetHealth overrides, by service name

}

// Tables whose index blocking queries watch.
const (
	tableConfig  = "config-entries"
	tableCatalog = "catalog"
)

// Blocking query limits from agent/agent.go.
const (
	defaultQueryTime = 300 * time.Second
	maxQueryTime     = 600 * time.Second
)

// New starts a fake Consul agent that is closed when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		t:       t,
		entries: map[string]map[string]api.ConfigEntry{},
		nodes:   map[string]*node{},
		health:  map[string][]*api.ServiceEntry{},
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
	c, err := api.NewClient(&api.Config{Address: strings.TrimPrefix(s.URL(), "http://"), Scheme: "http"})
	if err != nil {
		s.t.Fatalf("consulfake: new client: %v", err)
	}
	return c
}

func (s *Server) close() {
	s.mu.Lock()
	s.raft.Close() // release blocked queries so Close does not wait for them
	s.mu.Unlock()
	s.srv.Close()
}

// Writes returns the requests received so far that could change state
// (every method but GET and HEAD).
func (s *Server) Writes() []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			out = append(out, r)
		}
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
	case p == "/v1/config":
		if r.Method != http.MethodPut {
			s.methodNotAllowed(w, r, "PUT")
			return
		}
		s.configApply(w, r, body)
	case strings.HasPrefix(p, "/v1/config/"):
		switch r.Method {
		case http.MethodGet:
			s.configGet(w, r)
		case http.MethodDelete:
			s.configDelete(w, r)
		default:
			s.methodNotAllowed(w, r, "GET", "DELETE")
		}
	case p == "/v1/catalog/register":
		if r.Method != http.MethodPut {
			s.methodNotAllowed(w, r, "PUT")
			return
		}
		s.catalogRegister(w, r, body)
	case p == "/v1/catalog/deregister":
		if r.Method != http.MethodPut {
			s.methodNotAllowed(w, r, "PUT")
			return
		}
		s.catalogDeregister(w, r, body)
	case strings.HasPrefix(p, "/v1/catalog/node/"):
		s.catalogNode(w, r, strings.TrimPrefix(p, "/v1/catalog/node/"))
	case p == "/v1/catalog/nodes":
		s.catalogNodes(w, r)
	case strings.HasPrefix(p, "/v1/health/service/"):
		s.healthService(w, r, strings.TrimPrefix(p, "/v1/health/service/"))
	case p == "/v1/catalog/datacenters":
		// Not a blocking query: no index headers.
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `["dc1"]`)
	default:
		http.NotFound(w, r)
	}
}

// writeJSON writes a 200 answer with Consul's query meta headers. Consul
// never reports an index of 0: clients would busy-loop on it.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, index uint64, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	h := w.Header()
	h.Set("X-Consul-Index", strconv.FormatUint(max(index, 1), 10))
	h.Set("X-Consul-KnownLeader", "true")
	h.Set("X-Consul-LastContact", "0")
	consistency := "leader"
	if _, ok := r.URL.Query()["stale"]; ok {
		consistency = "stale"
	} else if _, ok := r.URL.Query()["consistent"]; ok {
		consistency = "consistent"
	}
	h.Set("X-Consul-Effective-Consistency", consistency)
	h.Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// writeError answers like the agent's HTTP wrapper: the status and the
// message alone as plain text.
func (s *Server) writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg)
}

func (s *Server) methodNotAllowed(w http.ResponseWriter, r *http.Request, allow ...string) {
	w.Header().Set("Allow", strings.Join(append([]string{"OPTIONS"}, allow...), ","))
	s.writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed", r.Method))
}

// bump advances the raft index for a write to tables and wakes every
// blocked query. The caller holds s.mu.
func (s *Server) bump(tables ...string) uint64 {
	return s.raft.Bump(tables...)
}

type queryOptions struct {
	index uint64
	wait  time.Duration
}

// parseQuery reads ?index and ?wait like agent/http.go:parseWait; it
// answers 400 itself and returns false on a bad value.
func (s *Server) parseQuery(w http.ResponseWriter, r *http.Request) (queryOptions, bool) {
	q := queryOptions{wait: defaultQueryTime}
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
	if q.wait <= 0 {
		q.wait = defaultQueryTime
	}
	q.wait = min(q.wait, maxQueryTime)
	return q, true
}

// block waits, like the server's blockingQuery, until current() (evaluated
// under s.mu) exceeds q.index, the wait elapses or the request is
// cancelled. A zero q.index does not block.
func (s *Server) block(ctx context.Context, q queryOptions, current func() uint64) {
	s.raft.Wait(ctx, q.index, q.wait, current)
}

// tableIndex is the index of a table, never 0; the caller holds s.mu.
func (s *Server) tableIndex(t string) uint64 { return max(s.raft.Table(t), 1) }

// clone deep-copies an API value through JSON, which is also how it
// travels between agent and client.
func clone[T any](v T) T {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("consulfake: clone %T: %v", v, err)) // API types always marshal
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		panic(fmt.Sprintf("consulfake: clone %T: %v", v, err))
	}
	return out
}

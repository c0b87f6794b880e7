package consulfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/hashicorp/consul/api"
)

const datacenter = "dc1"

// node is a catalog node with its services and checks.
type node struct {
	n        api.Node
	services map[string]*api.AgentService
	checks   map[string]*api.HealthCheck
}

func (s *Server) catalogRegister(w http.ResponseWriter, r *http.Request, body []byte) {
	var reg api.CatalogRegistration
	if err := json.Unmarshal(body, &reg); err != nil {
		s.writeError(w, http.StatusBadRequest, "Request decode failed: "+err.Error())
		return
	}
	// Catalog.Register's checks, in its order.
	if reg.Node == "" {
		s.writeError(w, http.StatusInternalServerError, "Must provide node")
		return
	}
	if reg.Address == "" && !reg.SkipNodeUpdate {
		s.writeError(w, http.StatusInternalServerError, "Must provide address if SkipNodeUpdate is not set")
		return
	}
	if svc := reg.Service; svc != nil {
		if svc.ID == "" && svc.Service != "" {
			svc.ID = svc.Service
		}
		if svc.ID != "" && svc.Service == "" {
			s.writeError(w, http.StatusInternalServerError, "Must provide service name (Service.Service) when service ID is provided")
			return
		}
	}
	checks := reg.Checks
	if reg.Check != nil {
		c := reg.Check
		checks = append(checks, &api.HealthCheck{
			Node: c.Node, CheckID: c.CheckID, Name: c.Name, Status: c.Status, Notes: c.Notes,
			Output: c.Output, ServiceID: c.ServiceID, ServiceName: c.ServiceName, Type: c.Type,
			Definition: c.Definition,
		})
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	idx := s.bump(tableCatalog)
	n := s.nodes[reg.Node]
	if n == nil {
		n = &node{services: map[string]*api.AgentService{}, checks: map[string]*api.HealthCheck{}}
		n.n = api.Node{Node: reg.Node, CreateIndex: idx}
		s.nodes[reg.Node] = n
	}
	if !reg.SkipNodeUpdate {
		n.n.ID, n.n.Address, n.n.Datacenter = reg.ID, reg.Address, datacenter
		n.n.TaggedAddresses, n.n.Meta = reg.TaggedAddresses, reg.NodeMeta
		n.n.ModifyIndex = idx
	}
	if svc := reg.Service; svc != nil && svc.ID != "" {
		c := clone(svc)
		c.CreateIndex, c.ModifyIndex = idx, idx
		if old := n.services[svc.ID]; old != nil {
			c.CreateIndex = old.CreateIndex
		}
		if c.Tags == nil {
			c.Tags = []string{}
		}
		if c.Weights.Passing == 0 {
			c.Weights = api.AgentWeights{Passing: 1, Warning: 1}
		}
		c.Datacenter = ""
		n.services[c.ID] = c
	}
	for _, ch := range checks {
		c := clone(ch)
		c.Node = reg.Node
		if c.CheckID == "" {
			c.CheckID = c.Name
		}
		if c.Status == "" {
			c.Status = api.HealthCritical // a new check starts critical
		}
		if svc := n.services[c.ServiceID]; svc != nil {
			c.ServiceName, c.ServiceTags = svc.Service, svc.Tags
		}
		c.CreateIndex, c.ModifyIndex = idx, idx
		n.checks[c.CheckID] = c
	}
	s.writeJSON(w, r, idx, true)
}

func (s *Server) catalogDeregister(w http.ResponseWriter, r *http.Request, body []byte) {
	var dereg api.CatalogDeregistration
	if err := json.Unmarshal(body, &dereg); err != nil {
		s.writeError(w, http.StatusBadRequest, "Request decode failed: "+err.Error())
		return
	}
	if dereg.Node == "" {
		s.writeError(w, http.StatusInternalServerError, "Must provide node")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.nodes[dereg.Node]
	if n != nil {
		switch {
		case dereg.ServiceID != "":
			delete(n.services, dereg.ServiceID)
			for id, c := range n.checks {
				if c.ServiceID == dereg.ServiceID {
					delete(n.checks, id)
				}
			}
		case dereg.CheckID != "":
			delete(n.checks, dereg.CheckID)
		default:
			delete(s.nodes, dereg.Node)
		}
		s.bump(tableCatalog)
	}
	s.writeJSON(w, r, s.tableIndex(tableCatalog), true)
}

func (s *Server) catalogNode(w http.ResponseWriter, r *http.Request, name string) {
	if r.Method != http.MethodGet {
		s.methodNotAllowed(w, r, "GET")
		return
	}
	if name == "" {
		s.writeError(w, http.StatusBadRequest, "Missing node name")
		return
	}
	q, ok := s.parseQuery(w, r)
	if !ok {
		return
	}
	index := func() uint64 { return s.tableIndex(tableCatalog) }
	s.block(r.Context(), q, index)
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.nodes[name]
	if n == nil {
		// The agent encodes the missing node as JSON null with a 200.
		s.writeJSON(w, r, index(), (*api.CatalogNode)(nil))
		return
	}
	nn := n.n
	out := &api.CatalogNode{Node: &nn, Services: map[string]*api.AgentService{}}
	for id, svc := range n.services {
		out.Services[id] = svc
	}
	s.writeJSON(w, r, index(), out)
}

// metaFilter parses ?node-meta=k:v (repeatable) like parseMetaFilter.
func metaFilter(r *http.Request) map[string]string {
	out := map[string]string{}
	for _, raw := range r.URL.Query()["node-meta"] {
		k, v, _ := strings.Cut(raw, ":")
		out[k] = v
	}
	return out
}

func matchesMeta(meta, filter map[string]string) bool {
	for k, v := range filter {
		if got, ok := meta[k]; !ok || got != v {
			return false
		}
	}
	return true
}

func (s *Server) catalogNodes(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		s.methodNotAllowed(w, r, "GET")
		return
	}
	q, ok := s.parseQuery(w, r)
	if !ok {
		return
	}
	index := func() uint64 { return s.tableIndex(tableCatalog) }
	s.block(r.Context(), q, index)
	s.mu.Lock()
	defer s.mu.Unlock()
	filter := metaFilter(r)
	out := []*api.Node{}
	for _, name := range sortedKeys(s.nodes) {
		n := s.nodes[name]
		if matchesMeta(n.n.Meta, filter) {
			nn := n.n
			out = append(out, &nn)
		}
	}
	s.writeJSON(w, r, index(), out)
}

func (s *Server) catalogServices(w http.ResponseWriter, r *http.Request) {
	q, ok := s.parseQuery(w, r)
	if !ok {
		return
	}
	index := func() uint64 { return s.tableIndex(tableCatalog) }
	s.block(r.Context(), q, index)
	s.mu.Lock()
	defer s.mu.Unlock()
	filter := metaFilter(r)
	out := map[string][]string{}
	for _, n := range s.nodes {
		if !matchesMeta(n.n.Meta, filter) {
			continue
		}
		for _, svc := range n.services {
			tags := out[svc.Service]
			for _, t := range svc.Tags {
				if !contains(tags, t) {
					tags = append(tags, t)
				}
			}
			if tags == nil {
				tags = []string{}
			}
			sort.Strings(tags)
			out[svc.Service] = tags
		}
	}
	s.writeJSON(w, r, index(), out)
}

func (s *Server) catalogService(w http.ResponseWriter, r *http.Request, name string) {
	if r.Method != http.MethodGet {
		s.methodNotAllowed(w, r, "GET")
		return
	}
	if name == "" {
		s.writeError(w, http.StatusBadRequest, "Missing service name")
		return
	}
	q, ok := s.parseQuery(w, r)
	if !ok {
		return
	}
	index := func() uint64 { return s.tableIndex(tableCatalog) }
	s.block(r.Context(), q, index)
	s.mu.Lock()
	defer s.mu.Unlock()
	filter, tags := metaFilter(r), r.URL.Query()["tag"]
	out := []*api.CatalogService{}
	for _, nodeName := range sortedKeys(s.nodes) {
		n := s.nodes[nodeName]
		if !matchesMeta(n.n.Meta, filter) {
			continue
		}
		for _, id := range sortedKeys(n.services) {
			svc := n.services[id]
			if svc.Service != name || !hasTags(svc.Tags, tags) {
				continue
			}
			out = append(out, &api.CatalogService{
				ID: n.n.ID, Node: n.n.Node, Address: n.n.Address, Datacenter: datacenter,
				TaggedAddresses: n.n.TaggedAddresses, NodeMeta: n.n.Meta,
				ServiceID: svc.ID, ServiceName: svc.Service, ServiceAddress: svc.Address,
				ServiceTaggedAddresses: svc.TaggedAddresses, ServiceTags: svc.Tags, ServiceMeta: svc.Meta,
				ServicePort: svc.Port, ServiceWeights: api.Weights(svc.Weights),
				ServiceEnableTagOverride: svc.EnableTagOverride, ServiceProxy: svc.Proxy,
				CreateIndex: svc.CreateIndex, ModifyIndex: svc.ModifyIndex,
			})
		}
	}
	s.writeJSON(w, r, index(), out)
}

func hasTags(have, want []string) bool {
	for _, t := range want {
		if !contains(have, t) {
			return false
		}
	}
	return true
}

func (s *Server) healthService(w http.ResponseWriter, r *http.Request, name string) {
	if r.Method != http.MethodGet {
		s.methodNotAllowed(w, r, "GET")
		return
	}
	if name == "" {
		s.writeError(w, http.StatusBadRequest, "Missing service name")
		return
	}
	q, ok := s.parseQuery(w, r)
	if !ok {
		return
	}
	passing := false
	if v, ok := r.URL.Query()["passing"]; ok {
		switch strings.ToLower(v[0]) {
		case "", "1", "true":
			passing = true
		case "0", "false":
		default:
			s.writeError(w, http.StatusBadRequest, "Invalid value for ?passing")
			return
		}
	}
	index := func() uint64 { return s.tableIndex(tableCatalog) }
	s.block(r.Context(), q, index)
	s.mu.Lock()
	defer s.mu.Unlock()
	entries, overridden := s.health[name]
	if !overridden {
		entries = s.catalogHealth(name, metaFilter(r), r.URL.Query()["tag"])
	}
	out := []*api.ServiceEntry{}
	for _, e := range entries {
		if passing && !allPassing(e.Checks) {
			continue
		}
		out = append(out, e)
	}
	s.writeJSON(w, r, index(), out)
}

// catalogHealth builds the health view of a service from the catalog: each
// instance with its node's checks and its own. The caller holds s.mu.
func (s *Server) catalogHealth(name string, filter map[string]string, tags []string) []*api.ServiceEntry {
	var out []*api.ServiceEntry
	for _, nodeName := range sortedKeys(s.nodes) {
		n := s.nodes[nodeName]
		if !matchesMeta(n.n.Meta, filter) {
			continue
		}
		for _, id := range sortedKeys(n.services) {
			svc := n.services[id]
			if svc.Service != name || !hasTags(svc.Tags, tags) {
				continue
			}
			nn := n.n
			e := &api.ServiceEntry{Node: &nn, Service: svc, Checks: api.HealthChecks{}}
			for _, cid := range sortedKeys(n.checks) {
				if c := n.checks[cid]; c.ServiceID == "" || c.ServiceID == svc.ID {
					e.Checks = append(e.Checks, c)
				}
			}
			out = append(out, e)
		}
	}
	return out
}

func allPassing(checks api.HealthChecks) bool {
	for _, c := range checks {
		if c.Status != api.HealthPassing {
			return false
		}
	}
	return true
}

// ---- test helpers ----

// SetHealth makes /v1/health/service/<service> report passing + warning +
// critical instances of service, each on its own node with one check of
// that status, in place of whatever the catalog holds for it, and wakes
// blocking queries.
func (s *Server) SetHealth(service string, passing, warning, critical int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	idx := s.bump(tableCatalog)
	var entries []*api.ServiceEntry
	add := func(status string, n int) {
		for i := 0; i < n; i++ {
			id := fmt.Sprintf("%s-%d", service, len(entries))
			nodeName := "node-" + id
			entries = append(entries, &api.ServiceEntry{
				Node: &api.Node{
					ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", len(entries)), Node: nodeName,
					Address: "10.0.0.1", Datacenter: datacenter, CreateIndex: idx, ModifyIndex: idx,
				},
				Service: &api.AgentService{
					ID: id, Service: service, Tags: []string{}, Port: 8080, Address: "10.0.0.1",
					Weights: api.AgentWeights{Passing: 1, Warning: 1}, CreateIndex: idx, ModifyIndex: idx,
				},
				Checks: api.HealthChecks{{
					Node: nodeName, CheckID: "service:" + id, Name: "Service '" + service + "' check",
					Status: status, ServiceID: id, ServiceName: service, ServiceTags: []string{},
					Type: "http", CreateIndex: idx, ModifyIndex: idx,
				}},
			})
		}
	}
	add(api.HealthPassing, passing)
	add(api.HealthWarning, warning)
	add(api.HealthCritical, critical)
	if entries == nil {
		entries = []*api.ServiceEntry{}
	}
	s.health[service] = entries
}

// ResetHealth makes the health of service come from the catalog again.
func (s *Server) ResetHealth(service string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.health, service)
	s.bump(tableCatalog)
}

// Node returns a copy of a catalog node with its services, or nil.
func (s *Server) Node(name string) *api.CatalogNode {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.nodes[name]
	if n == nil {
		return nil
	}
	nn := n.n
	return clone(&api.CatalogNode{Node: &nn, Services: n.services})
}

package consulfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/hashicorp/consul/api"
)

const datacenter = "dc1"

// node is a catalog node with its services. Checks are not modelled:
// drover registers none, and SetHealth stands in for the health of
// services.
type node struct {
	n        api.Node
	services map[string]*api.AgentService
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
	if svc := reg.Service; svc != nil {
		if err := validateServiceMeta(svc.Meta); err != "" {
			s.writeError(w, http.StatusInternalServerError,
				fmt.Sprintf("failed inserting service: Invalid Service Meta for node %s and serviceID %s: %s", reg.Node, svc.ID, err))
			return
		}
	}
	if reg.Check != nil || len(reg.Checks) > 0 {
		s.writeError(w, http.StatusNotImplemented, "consulfake: checks are not modelled (drover registers none)")
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	idx := s.bump(tableCatalog)
	n := s.nodes[reg.Node]
	if n == nil {
		n = &node{services: map[string]*api.AgentService{}}
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
	s.writeJSON(w, r, idx, true)
}

// metaKeyRE is structs.metaKeyFormat.
var metaKeyRE = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// validateServiceMeta is structs.ValidateServiceMetadata for a typical
// service; it returns the error text. (Node meta is not checked on a
// catalog register.)
func validateServiceMeta(meta map[string]string) string {
	if len(meta) > 64 {
		return "Node metadata cannot contain more than 64 key/value pairs"
	}
	for _, k := range sortedKeys(meta) {
		v := meta[k]
		var err string
		switch {
		case k == "":
			err = "Key cannot be blank"
		case !metaKeyRE.MatchString(k):
			err = "Key contains invalid characters"
		case len(k) > 128:
			err = "Key is too long (limit: 128 characters)"
		case strings.HasPrefix(k, "consul-"):
			err = "Key prefix 'consul-' is reserved for internal use"
		case len(v) > 512:
			err = "Value is too long (limit: 512 characters)"
		}
		if err != "" {
			return fmt.Sprintf("Couldn't load metadata pair ('%s', '%s'): %s", k, v, err)
		}
	}
	return ""
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
	if dereg.ServiceID != "" || dereg.CheckID != "" {
		s.writeError(w, http.StatusNotImplemented, "consulfake: only whole nodes are deregistered")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.nodes[dereg.Node] != nil {
		delete(s.nodes, dereg.Node)
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
	// ?passing, ?tag and ?node-meta are not modelled: drover sends none.
	index := func() uint64 { return s.tableIndex(tableCatalog) }
	s.block(r.Context(), q, index)
	s.mu.Lock()
	defer s.mu.Unlock()
	entries, overridden := s.health[name]
	if !overridden {
		entries = s.catalogHealth(name)
	}
	s.writeJSON(w, r, index(), entries)
}

// catalogHealth builds the health view of a service from the catalog:
// each instance with its node, and no checks. The caller holds s.mu.
func (s *Server) catalogHealth(name string) []*api.ServiceEntry {
	out := []*api.ServiceEntry{}
	for _, nodeName := range sortedKeys(s.nodes) {
		n := s.nodes[nodeName]
		for _, id := range sortedKeys(n.services) {
			if svc := n.services[id]; svc.Service == name {
				nn := n.n
				out = append(out, &api.ServiceEntry{Node: &nn, Service: svc, Checks: api.HealthChecks{}})
			}
		}
	}
	return out
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

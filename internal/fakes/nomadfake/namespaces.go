package nomadfake

import (
	"fmt"
	"net/http"
	"sort"

	"github.com/hashicorp/nomad/api"
)

// tableNamespaces is the state store's table of namespaces.
const tableNamespaces = "namespaces"

// namespaceList answers GET /v1/namespaces.
func (s *Server) namespaceList(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.getQuery(w, r); !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*api.Namespace, 0, len(s.namespaces))
	for _, ns := range s.namespaces {
		out = append(out, clone(ns))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	s.writeJSON(w, s.tableIndex(tableNamespaces), out)
}

// namespaceSpecific answers /v1/namespace and /v1/namespace/:name like
// command/agent/namespace_endpoint.go: GET reads (404 "Namespace not
// found"), PUT/POST upserts (the name from the path or the body), DELETE
// refuses "default" and a namespace that still has jobs that are not dead.
func (s *Server) namespaceSpecific(w http.ResponseWriter, r *http.Request, body []byte, name string) {
	switch r.Method {
	case http.MethodGet:
		if _, ok := s.getQuery(w, r); !ok {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		ns := s.namespaces[name]
		if ns == nil {
			s.writeError(w, http.StatusNotFound, "Namespace not found")
			return
		}
		s.writeJSON(w, s.tableIndex(tableNamespaces), clone(ns))
	case http.MethodPut, http.MethodPost:
		var ns api.Namespace
		if err := decodeBody(body, &ns); err != nil {
			s.writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		if name != "" && ns.Name != name {
			s.writeError(w, http.StatusBadRequest, "Namespace name does not match request path")
			return
		}
		if ns.Name == "" {
			s.writeError(w, http.StatusBadRequest, "Namespace name must be specified")
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		idx := s.bump(tableNamespaces)
		if old := s.namespaces[ns.Name]; old != nil {
			ns.CreateIndex = old.CreateIndex
		} else {
			ns.CreateIndex = idx
		}
		ns.ModifyIndex = idx
		s.namespaces[ns.Name] = &ns
		s.setMeta(w, idx)
		w.WriteHeader(http.StatusOK)
	case http.MethodDelete:
		s.mu.Lock()
		defer s.mu.Unlock()
		if name == api.DefaultNamespace {
			s.writeError(w, http.StatusInternalServerError, "default namespace can not be deleted")
			return
		}
		if s.namespaces[name] == nil {
			s.writeError(w, http.StatusInternalServerError, "namespace not found")
			return
		}
		for k, e := range s.jobs {
			if k.ns == name && *e.job.Status != "dead" {
				s.writeError(w, http.StatusInternalServerError, multiError([]string{fmt.Sprintf("namespace %q has non-terminal jobs in regions: [global]", name)}))
				return
			}
		}
		delete(s.namespaces, name)
		s.setMeta(w, s.bump(tableNamespaces))
		w.WriteHeader(http.StatusOK)
	default:
		s.methodNotAllowed(w)
	}
}

// namespaceMissing is the error Nomad's Job.Register and Job.Plan give for
// a job in a namespace that does not exist; the caller holds s.mu.
func (s *Server) namespaceMissing(job *api.Job) string {
	if s.namespaces[*job.Namespace] != nil {
		return ""
	}
	// An admission validator's error, so a multierror.
	return multiError([]string{fmt.Sprintf("job %q is in nonexistent namespace %q", *job.ID, *job.Namespace)})
}

// AddNamespace creates a namespace, as an operator would.
func (s *Server) AddNamespace(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	idx := s.bump(tableNamespaces)
	s.namespaces[name] = &api.Namespace{Name: name, CreateIndex: idx, ModifyIndex: idx}
}

// Namespace returns a copy of a namespace, or nil.
func (s *Server) Namespace(name string) *api.Namespace {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ns := s.namespaces[name]; ns != nil {
		return clone(ns)
	}
	return nil
}

// JobIn returns a copy of the latest version of a job in namespace ns, or
// nil.
func (s *Server) JobIn(ns, id string) *api.Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.jobs[jobKey{ns, id}]; e != nil {
		return clone(e.job)
	}
	return nil
}

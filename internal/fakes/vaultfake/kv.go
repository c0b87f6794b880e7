package vaultfake

import (
	"net/http"
	"strings"
	"time"
)

// kvSecret is a secret of a KV engine: one version in v1, many in v2.
type kvSecret struct {
	versions []*kvVersion // versions[i] is version i+1
}

type kvVersion struct {
	data      map[string]any
	created   time.Time
	deleted   time.Time
	destroyed bool
}

func (v *kvVersion) metadata(n int) map[string]any {
	deletion := ""
	if !v.deleted.IsZero() {
		deletion = v.deleted.UTC().Format(time.RFC3339Nano)
	}
	return map[string]any{
		"created_time":    v.created.UTC().Format(time.RFC3339Nano),
		"custom_metadata": nil,
		"deletion_time":   deletion,
		"destroyed":       v.destroyed,
		"version":         n,
	}
}

func (s *Server) secretPath(w http.ResponseWriter, req request) {
	path := strings.TrimSuffix(req.path, "/")
	key := s.mountAt(path + "/")
	if key == "" {
		noHandler(w, req.path)
		return
	}
	m := s.mounts[key]
	rest := strings.TrimPrefix(path+"/", key)
	rest = strings.TrimSuffix(rest, "/")
	if m.kv == nil {
		respondError(w, http.StatusNotImplemented, "vaultfake: only KV secrets engines are modelled")
		return
	}
	if m.options["version"] != "2" {
		s.kvV1(w, req, m, rest)
		return
	}
	switch {
	case rest == "data" || strings.HasPrefix(rest, "data/"):
		s.kvData(w, req, m, strings.TrimPrefix(strings.TrimPrefix(rest, "data"), "/"))
	default:
		// metadata/, destroy/, undelete/, config ...
		respondError(w, http.StatusNotImplemented, "vaultfake: only <kv v2 mount>/data/<path> is modelled")
	}
}

// kvV1 reads a KV version 1 secret; drover only reads, to find out that
// a mount is not KV v2.
func (s *Server) kvV1(w http.ResponseWriter, req request, m *mount, key string) {
	if req.op != opRead {
		respondError(w, http.StatusNotImplemented, "vaultfake: only reads of KV v1 secrets are modelled")
		return
	}
	sec := m.kv[key]
	if sec == nil || key == "" {
		respondError(w, http.StatusNotFound, "")
		return
	}
	respondData(w, http.StatusOK, sec.versions[0].data, nil)
}

func (s *Server) kvData(w http.ResponseWriter, req request, m *mount, key string) {
	if key == "" {
		respondError(w, http.StatusBadRequest, "missing path")
		return
	}
	sec := m.kv[key]
	switch req.op {
	case opRead:
		if sec == nil {
			respondError(w, http.StatusNotFound, "")
			return
		}
		if req.query.Has("version") {
			respondError(w, http.StatusNotImplemented, "vaultfake: reads of older versions are not modelled (drover reads the latest)")
			return
		}
		n := len(sec.versions)
		v := sec.versions[n-1]
		body := map[string]any{"data": v.data, "metadata": v.metadata(n)}
		if !v.deleted.IsZero() || v.destroyed {
			// A deleted version reads as a 404 that still carries its
			// metadata (logical.RespondWithStatusCode).
			body["data"] = nil
			respondData(w, http.StatusNotFound, body, nil)
			return
		}
		respondData(w, http.StatusOK, body, nil)
	case opDelete:
		if sec != nil && len(sec.versions) > 0 {
			sec.versions[len(sec.versions)-1].deleted = time.Now()
		}
		respondNoContent(w)
	default:
		// Writes go through PutSecret: drover never writes secrets.
		respondError(w, http.StatusNotImplemented, "vaultfake: only reads and deletes of KV v2 data are modelled")
	}
}

// putVersion adds a version to a KV v2 secret and returns its metadata.
func (s *Server) putVersion(m *mount, key string, data map[string]any) map[string]any {
	sec := m.kv[key]
	if sec == nil {
		sec = &kvSecret{}
		m.kv[key] = sec
	}
	v := &kvVersion{data: data, created: time.Now()}
	sec.versions = append(sec.versions, v)
	return v.metadata(len(sec.versions))
}

// ---- test helpers ----

// PutSecret writes a secret to the KV engine at mount: a new version in
// KV v2, the value in KV v1. It fails the test when no KV engine is there.
func (s *Server) PutSecret(mount, path string, data map[string]any) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.mounts[strings.Trim(mount, "/")+"/"]
	if m == nil || m.kv == nil {
		s.t.Fatalf("vaultfake: PutSecret: no KV engine at %q", mount)
		return
	}
	key := strings.Trim(path, "/")
	c := deepCopy(data)
	if m.options["version"] != "2" {
		m.kv[key] = &kvSecret{versions: []*kvVersion{{data: c, created: time.Now()}}}
		return
	}
	s.putVersion(m, key, c)
}

// Secret returns the latest (not deleted) data of a secret, or nil.
func (s *Server) Secret(mount, path string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.mounts[strings.Trim(mount, "/")+"/"]
	if m == nil || m.kv == nil {
		return nil
	}
	sec := m.kv[strings.Trim(path, "/")]
	if sec == nil {
		return nil
	}
	last := sec.versions[len(sec.versions)-1]
	if !last.deleted.IsZero() || last.destroyed {
		return nil
	}
	return deepCopy(last.data)
}

func deepCopy(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		switch x := v.(type) {
		case map[string]any:
			out[k] = deepCopy(x)
		case []any:
			c := make([]any, len(x))
			copy(c, x)
			out[k] = c
		default:
			out[k] = v
		}
	}
	return out
}

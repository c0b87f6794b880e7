package vaultfake

import (
	"net/http"
	"strconv"
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
		respondError(w, http.StatusNotFound, "unsupported path")
		return
	}
	if m.options["version"] != "2" {
		s.kvV1(w, req, m, rest)
		return
	}
	switch {
	case rest == "data" || strings.HasPrefix(rest, "data/"):
		s.kvData(w, req, m, strings.TrimPrefix(strings.TrimPrefix(rest, "data"), "/"))
	case rest == "metadata" || strings.HasPrefix(rest, "metadata/"):
		s.kvMetadata(w, req, m, strings.TrimPrefix(strings.TrimPrefix(rest, "metadata"), "/"))
	default:
		respondError(w, http.StatusNotFound, "unsupported path")
	}
}

// listKeys lists the keys right under prefix, with a trailing slash for
// those that have keys under them, as Vault's storage listing does.
func listKeys(secrets map[string]*kvSecret, prefix string) []string {
	if prefix != "" {
		prefix += "/"
	}
	seen := map[string]bool{}
	var keys []string
	for k := range secrets {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok || rest == "" {
			continue
		}
		if i := strings.Index(rest, "/"); i >= 0 {
			rest = rest[:i+1]
		}
		if !seen[rest] {
			seen[rest] = true
			keys = append(keys, rest)
		}
	}
	return keys
}

func (s *Server) kvV1(w http.ResponseWriter, req request, m *mount, key string) {
	switch req.op {
	case opList:
		respondList(w, listKeys(m.kv, key))
	case opRead:
		sec := m.kv[key]
		if sec == nil || key == "" {
			respondError(w, http.StatusNotFound, "")
			return
		}
		respondData(w, http.StatusOK, sec.versions[0].data, nil)
	case opWrite:
		if key == "" {
			respondError(w, http.StatusBadRequest, "missing path")
			return
		}
		m.kv[key] = &kvSecret{versions: []*kvVersion{{data: normalizeNumbers(req.data).(map[string]any), created: time.Now()}}}
		respondNoContent(w)
	case opDelete:
		delete(m.kv, key)
		respondNoContent(w)
	}
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
		n := len(sec.versions)
		if q := req.query.Get("version"); q != "" && q != "0" {
			var err error
			if n, err = strconv.Atoi(q); err != nil || n < 1 || n > len(sec.versions) {
				respondError(w, http.StatusNotFound, "")
				return
			}
		}
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
	case opWrite:
		data, ok := req.data["data"].(map[string]any)
		if !ok {
			respondError(w, http.StatusBadRequest, "no data provided")
			return
		}
		current := 0
		if sec != nil {
			current = len(sec.versions)
		}
		if opts, ok := req.data["options"].(map[string]any); ok && opts["cas"] != nil {
			cas, err := intValue(opts["cas"])
			if err != nil {
				respondError(w, http.StatusBadRequest, "error parsing check-and-set parameter")
				return
			}
			if int(cas) != current {
				respondError(w, http.StatusBadRequest, "check-and-set parameter did not match the current version")
				return
			}
		}
		v := s.putVersion(m, key, normalizeNumbers(data).(map[string]any))
		respondData(w, http.StatusOK, v, nil)
	case opDelete:
		if sec != nil && len(sec.versions) > 0 {
			sec.versions[len(sec.versions)-1].deleted = time.Now()
		}
		respondNoContent(w)
	default:
		respondError(w, http.StatusMethodNotAllowed, "unsupported operation")
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

func (s *Server) kvMetadata(w http.ResponseWriter, req request, m *mount, key string) {
	switch req.op {
	case opList:
		respondList(w, listKeys(m.kv, key))
	case opRead:
		sec := m.kv[key]
		if sec == nil || key == "" {
			respondError(w, http.StatusNotFound, "")
			return
		}
		versions := map[string]any{}
		for i, v := range sec.versions {
			md := v.metadata(i + 1)
			delete(md, "custom_metadata")
			delete(md, "version")
			versions[strconv.Itoa(i+1)] = md
		}
		last := sec.versions[len(sec.versions)-1]
		respondData(w, http.StatusOK, map[string]any{
			"cas_required": false, "created_time": sec.versions[0].created.UTC().Format(time.RFC3339Nano),
			"current_version": len(sec.versions), "custom_metadata": nil, "delete_version_after": "0s",
			"max_versions": 0, "oldest_version": 0, "updated_time": last.created.UTC().Format(time.RFC3339Nano),
			"versions": versions,
		}, nil)
	case opDelete:
		delete(m.kv, key)
		respondNoContent(w)
	default:
		respondError(w, http.StatusMethodNotAllowed, "unsupported operation")
	}
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

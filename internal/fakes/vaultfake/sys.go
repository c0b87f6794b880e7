package vaultfake

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"time"
)

// defaultPolicy is the start of the policy Vault creates as "default".
const defaultPolicy = `# Allow tokens to look up their own properties
path "auth/token/lookup-self" {
    capabilities = ["read"]
}

# Allow tokens to renew themselves
path "auth/token/renew-self" {
    capabilities = ["update"]
}

# Allow tokens to revoke themselves
path "auth/token/revoke-self" {
    capabilities = ["update"]
}
`

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"initialized":                  true,
		"sealed":                       false,
		"standby":                      false,
		"performance_standby":          false,
		"replication_performance_mode": "disabled",
		"replication_dr_mode":          "disabled",
		"server_time_utc":              time.Now().Unix(),
		"version":                      "1.17.0",
		"enterprise":                   false,
		"cluster_name":                 "vault-cluster-fake",
		"cluster_id":                   "00000000-0000-4000-8000-000000000000",
	})
}

// ---- sys/policies/acl ----

func (s *Server) policyList(w http.ResponseWriter, req request) {
	if req.op != opList {
		respondError(w, http.StatusMethodNotAllowed, "unsupported operation")
		return
	}
	keys := make([]string, 0, len(s.policies)+1)
	for name := range s.policies {
		keys = append(keys, name)
	}
	sort.Strings(keys)
	// The policy store lists what it holds; the root policy is added last.
	keys = append(keys, "root")
	respondData(w, http.StatusOK, map[string]any{"keys": keys}, nil)
}

func (s *Server) policy(w http.ResponseWriter, req request, name string) {
	lower := strings.ToLower(name)
	switch req.op {
	case opList:
		s.policyList(w, req)
	case opRead:
		if lower == "root" {
			respondData(w, http.StatusOK, map[string]any{"name": "root", "policy": ""}, nil)
			return
		}
		text, ok := s.policies[lower]
		if !ok {
			respondError(w, http.StatusNotFound, "")
			return
		}
		respondData(w, http.StatusOK, map[string]any{"name": lower, "policy": text}, nil)
	case opWrite:
		var warnings []string
		if name != lower {
			warnings = append(warnings, "policy name was converted to "+lower)
		}
		text, err := stringField(req.data, "policy")
		if err != nil {
			respondError(w, http.StatusBadRequest, err.Error())
			return
		}
		if text == "" {
			respondError(w, http.StatusBadRequest, "'policy' parameter not supplied or empty")
			return
		}
		if lower == "root" {
			respondError(w, http.StatusBadRequest, `cannot update "root" policy`)
			return
		}
		// Vault accepts a policy sent base64-encoded.
		if b, err := base64.StdEncoding.DecodeString(text); err == nil {
			text = string(b)
		}
		s.policies[lower] = text
		if len(warnings) > 0 {
			respondData(w, http.StatusOK, nil, warnings)
			return
		}
		respondNoContent(w)
	case opDelete:
		switch lower {
		case "root":
			respondError(w, http.StatusBadRequest, `cannot delete "root" policy`)
			return
		case "default":
			respondError(w, http.StatusBadRequest, "cannot delete default policy")
			return
		}
		delete(s.policies, lower)
		respondNoContent(w)
	}
}

// ---- sys/auth and sys/mounts ----

func (m *mount) info() map[string]any {
	var options any
	if m.options != nil {
		options = m.options
	}
	config := map[string]any{"default_lease_ttl": 0, "max_lease_ttl": 0, "force_no_cache": false}
	if m.typ == "jwt" || m.typ == "oidc" || m.typ == "token" {
		config["token_type"] = "default-service"
	}
	return map[string]any{
		"type":                    m.typ,
		"description":             m.description,
		"accessor":                m.accessor,
		"config":                  config,
		"local":                   false,
		"seal_wrap":               false,
		"external_entropy_access": false,
		"options":                 options,
		"uuid":                    m.uuid,
		"plugin_version":          "",
		"running_plugin_version":  m.version,
		"running_sha256":          "",
		"deprecation_status":      "supported",
	}
}

func (s *Server) mountList(w http.ResponseWriter, req request, auth bool) {
	if req.op != opRead {
		respondError(w, http.StatusMethodNotAllowed, "unsupported operation")
		return
	}
	table := s.mounts
	if auth {
		table = s.auth
	}
	data := map[string]any{}
	for path, m := range table {
		data[path] = m.info()
	}
	// sys/auth and sys/mounts also put the data at the top level, for
	// clients older than the envelope.
	out := envelope(data, nil)
	for k, v := range data {
		out[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(out)
}

// mountAt returns the secrets engine mount serving path, longest match.
func (s *Server) mountAt(path string) string {
	best := ""
	for prefix := range s.mounts {
		if strings.HasPrefix(path, prefix) && len(prefix) > len(best) {
			best = prefix
		}
	}
	return best
}

// ---- test helpers ----

// Policy returns the text of an ACL policy and whether it exists.
func (s *Server) Policy(name string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	text, ok := s.policies[strings.ToLower(name)]
	return text, ok
}

// PutPolicy stores an ACL policy, as PUT sys/policies/acl/<name> does.
func (s *Server) PutPolicy(name, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.policies[strings.ToLower(name)] = text
}

// AddMount enables a secrets engine of type typ ("kv", ...) at path, with
// options such as {"version": "2"}.
func (s *Server) AddMount(path, typ string, options map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mounts[strings.Trim(path, "/")+"/"] = newMount(typ, "", options)
}

// RemoveMount disables the auth method or secrets engine at path.
func (s *Server) RemoveMount(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.Trim(path, "/") + "/"
	delete(s.auth, key)
	delete(s.mounts, key)
}

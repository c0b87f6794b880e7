package nomadfake

import (
	"encoding/json"
	"net/http"
	"sort"

	"github.com/hashicorp/nomad/api"
)

// upsertPolicies mirrors the scaling blocks of a job version into the
// scaling policy table, as updateJobScalingPolicies does: a policy keeps
// its ID and CreateIndex, and its ModifyIndex only moves when it changes.
// The caller holds s.mu.
func (s *Server) upsertPolicies(key jobKey, job *api.Job, idx uint64) {
	groups := map[string]bool{}
	changed := false
	for _, tg := range job.TaskGroups {
		p := tg.Scaling
		if p == nil {
			continue
		}
		groups[deref(tg.Name)] = true
		existing := s.policies[p.ID]
		if existing != nil {
			if !policyChanged(existing, p) {
				p.CreateIndex, p.ModifyIndex = existing.CreateIndex, existing.ModifyIndex
				continue
			}
			p.CreateIndex = existing.CreateIndex
		} else {
			p.CreateIndex = idx
		}
		p.ModifyIndex = idx
		s.policies[p.ID] = clone(p)
		changed = true
	}
	for id, p := range s.policies {
		if p.Target["Namespace"] == key.ns && p.Target["Job"] == key.id && !groups[p.Target["Group"]] {
			delete(s.policies, id)
			changed = true
		}
	}
	if changed {
		s.raft.SetTable(tablePolicies, idx)
	}
}

// policyChanged is structs.ScalingPolicy.Diff.
func policyChanged(a, b *api.ScalingPolicy) bool {
	x, y := *a, *b
	x.ID, x.CreateIndex, x.ModifyIndex = "", 0, 0
	y.ID, y.CreateIndex, y.ModifyIndex = "", 0, 0
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return string(ja) != string(jb)
}

// policyIndex is the scaling_policy table index, never 0.
func (s *Server) policyIndex() uint64 { return max(s.tableIndex(tablePolicies), 1) }

func (s *Server) scalingPolicyList(w http.ResponseWriter, r *http.Request) {
	q, ok := s.getQuery(w, r)
	if !ok {
		return
	}
	s.block(r.Context(), q, s.policyIndex)

	s.mu.Lock()
	defer s.mu.Unlock()
	// The ?job and ?type filters are not modelled: drover lists them all.
	ns := namespace(r)
	out := []*api.ScalingPolicyListStub{}
	for _, p := range s.policies {
		if ns != "*" && p.Target["Namespace"] != ns {
			continue
		}
		out = append(out, &api.ScalingPolicyListStub{
			ID: p.ID, Enabled: deref(p.Enabled), Type: p.Type, Target: p.Target,
			CreateIndex: p.CreateIndex, ModifyIndex: p.ModifyIndex,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	s.writeJSON(w, s.policyIndex(), out)
}

// wirePolicy is structs.ScalingPolicy as the agent encodes it.
type wirePolicy struct {
	ID          string
	Type        string
	Target      map[string]string
	Policy      map[string]any
	Min         int64
	Max         int64
	Enabled     bool
	CreateIndex uint64
	ModifyIndex uint64
}

func (s *Server) scalingPolicyQuery(w http.ResponseWriter, r *http.Request, id string) {
	q, ok := s.getQuery(w, r)
	if !ok {
		return
	}
	index := func() uint64 {
		if p := s.policies[id]; p != nil {
			return p.ModifyIndex
		}
		return s.policyIndex()
	}
	s.block(r.Context(), q, index)

	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.policies[id]
	if p == nil {
		s.writeError(w, http.StatusNotFound, "policy not found")
		return
	}
	s.writeJSON(w, index(), wirePolicy{
		ID: p.ID, Type: p.Type, Target: p.Target, Policy: p.Policy,
		Min: deref(p.Min), Max: deref(p.Max), Enabled: deref(p.Enabled),
		CreateIndex: p.CreateIndex, ModifyIndex: p.ModifyIndex,
	})
}

// ScalingPolicies returns copies of the scaling policies of a job.
func (s *Server) ScalingPolicies(jobID string) []*api.ScalingPolicy {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*api.ScalingPolicy
	for _, p := range s.policies {
		if p.Target["Job"] == jobID {
			out = append(out, clone(p))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Target["Group"] < out[j].Target["Group"] })
	return out
}

package autoscale

import (
	"context"
	"log/slog"
	"sort"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/pkg/retry"
	"github.com/drover-io/drover/pkg/scaling"
	"github.com/drover-io/drover/pkg/spec"
)

// NomadSource watches Nomad's scaling policies with blocking queries.
type NomadSource struct {
	API   PolicyAPI
	Log   *slog.Logger
	Retry retry.Policy
	// Prepare completes each policy read (query canonicalization, the
	// semantics override).
	Prepare func(*scaling.Policy)
}

var _ scaling.PolicySource = (*NomadSource)(nil)

// Name implements scaling.PolicySource.
func (s *NomadSource) Name() string { return "nomad" }

// Watch follows the policies list with blocking queries (same index: no
// change; index went backwards: start over), reading each policy again only
// when its ModifyIndex changes, and backs off on errors. A policy with
// problems is kept: the manager logs them once, counts them and runs what
// can run.
func (s *NomadSource) Watch(ctx context.Context, out chan<- []*scaling.Policy) {
	type cached struct {
		modify uint64
		policy *scaling.Policy
	}
	log := s.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rp := s.Retry.OrDefault()
	cache := map[string]cached{}
	var index uint64
	failures := 0
	for ctx.Err() == nil {
		stubs, idx, err := s.API.ScalingPolicies(ctx, index)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			wait := rp.Backoff(min(failures, 6))
			log.Warn("reading scaling policies failed", "error", err, "retry_in", wait)
			sleep(ctx, wait)
			continue
		}
		failures = 0
		switch {
		case idx < index:
			index = 0 // the index went backwards (a new leader, a restore)
			continue
		case idx == index:
			continue // the wait timed out with no change
		}
		index = idx
		next := map[string]cached{}
		for _, st := range stubs {
			if !st.Enabled || (st.Type != "" && st.Type != "horizontal") {
				continue
			}
			if c, ok := cache[st.ID]; ok && c.modify == st.ModifyIndex {
				next[st.ID] = c
				continue
			}
			np, err := s.API.ScalingPolicy(ctx, st.ID)
			if err != nil {
				log.Warn("reading a scaling policy failed", "policy_id", st.ID, "error", err)
				continue
			}
			p := FromNomad(np)
			if s.Prepare != nil {
				s.Prepare(p)
			}
			next[st.ID] = cached{modify: st.ModifyIndex, policy: p}
		}
		cache = next
		policies := make([]*scaling.Policy, 0, len(cache))
		for _, c := range cache {
			policies = append(policies, c.policy)
		}
		sort.Slice(policies, func(i, j int) bool { return policies[i].ID < policies[j].ID })
		select {
		case out <- policies:
		case <-ctx.Done():
			return
		}
	}
}

// FromNomad converts a policy read from Nomad with the one parser; its
// problems are in Problems.
func FromNomad(np *nomadapi.ScalingPolicy) *scaling.Policy {
	in := scaling.NomadPolicy{ID: np.ID, Type: np.Type, Target: np.Target, Policy: np.Policy}
	if np.Enabled != nil {
		in.Enabled = *np.Enabled
	}
	if np.Min != nil {
		in.Min = *np.Min
	}
	if np.Max != nil {
		in.Max = *np.Max
	}
	p, _ := scaling.ParseNomadPolicy(in) // the problems are in p.Problems
	return p
}

// FileSource reads a directory of Autoscaler policy files, again on every
// reload signal.
type FileSource struct {
	Dir     string
	Reload  <-chan struct{}
	Log     *slog.Logger
	Prepare func(*scaling.Policy)
}

var _ scaling.PolicySource = (*FileSource)(nil)

// Name implements scaling.PolicySource.
func (s *FileSource) Name() string { return "files" }

// Watch implements scaling.PolicySource.
func (s *FileSource) Watch(ctx context.Context, out chan<- []*scaling.Policy) {
	log := s.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for {
		pf, diags := spec.LoadPolicyFiles(s.Dir)
		for _, d := range diags {
			log.Warn("policy file problem", "diagnostic", d.Error())
		}
		var policies []*scaling.Policy
		if pf != nil {
			for _, p := range pf.Policies {
				if s.Prepare != nil {
					s.Prepare(p)
				}
				policies = append(policies, p)
			}
		}
		log.Info("policy files loaded", "dir", s.Dir, "policies", len(policies))
		select {
		case out <- policies:
		case <-ctx.Done():
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-s.Reload:
			log.Info("reloading policy files")
		}
	}
}

package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	consulapi "github.com/hashicorp/consul/api"

	"github.com/drover-io/drover/internal/jsonx"
	"github.com/drover-io/drover/pkg/apierr"
	"github.com/drover-io/drover/pkg/render"
)

// planPrune finds what drover owns for this project but the specs no
// longer produce, and plans its deletion. Ownership comes from metadata:
// job meta, config-entry meta, catalog node meta, and the header of Vault
// policies.
func (p *planner) planPrune(ctx context.Context) ([]*Change, error) {
	if len(p.set.Selected) != len(p.set.Apps) {
		return nil, errors.New("--prune needs the whole project: name the project's directory (or no path), not single specs")
	}
	project := p.bundle.Project
	var out []*Change

	// Nomad jobs, and the config entries Nomad wrote for removed gateways.
	wantJobs := map[string]bool{}
	for _, j := range p.bundle.Jobs {
		wantJobs[j.ID()] = true
	}
	stubs, err := p.c.Nomad.JobsWithMeta(ctx, render.MetaProject, project)
	if err != nil {
		return nil, err
	}
	removedGateways := map[string]bool{}
	for _, s := range stubs {
		if wantJobs[s.ID] || s.Stop || s.Meta[render.MetaManaged] != "true" {
			continue
		}
		st := stepAppJobs
		if s.Meta[render.MetaApp] == "" {
			st = stepGatewayJobs
			removedGateways[s.ID] = true
		}
		out = append(out, &Change{System: apierr.Nomad, Kind: KindJob, Name: s.ID, App: s.Meta[render.MetaApp], Action: ActionDelete, step: st, ModifyIndex: s.JobModifyIndex})
	}

	// Consul config entries with this project's meta.
	want := map[string]bool{}
	for _, ce := range p.bundle.ConfigEntries {
		want[ce.Kind()+"/"+ce.Name()] = true
	}
	for _, kind := range []string{consulapi.ServiceDefaults, consulapi.ServiceIntentions, consulapi.ServiceRouter} {
		entries, err := p.c.Consul.ConfigEntries(ctx, kind)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			meta := e.GetMeta()
			if meta[render.MetaManaged] != "true" || meta[render.MetaProject] != project || want[kind+"/"+e.GetName()] {
				continue
			}
			out = append(out, &Change{System: apierr.Consul, Kind: kind, Name: e.GetName(), App: meta[render.MetaApp], Action: ActionDelete,
				step: entryStep(&render.ConfigEntry{Entry: e}), ModifyIndex: e.GetModifyIndex()})
		}
	}
	for _, kind := range []string{consulapi.IngressGateway, consulapi.TerminatingGateway} {
		for name := range removedGateways {
			e, err := p.c.Consul.ConfigEntry(ctx, kind, name)
			if errors.Is(err, apierr.ErrNotFound) {
				continue
			} else if err != nil {
				return nil, err
			}
			out = append(out, &Change{System: apierr.Consul, Kind: kind, Name: name, Action: ActionDelete, step: stepGatewayEntries,
				ModifyIndex: e.GetModifyIndex(), Note: "Nomad never deletes gateway entries; drover does"})
		}
	}

	// Catalog nodes of removed externals.
	wantNodes := map[string]bool{}
	for _, r := range p.bundle.Registrations {
		wantNodes[r.Registration.Node] = true
	}
	nodes, err := p.c.Consul.NodesWithMeta(ctx, render.MetaProject, project)
	if err != nil {
		return nil, err
	}
	for _, n := range nodes {
		if wantNodes[n.Node] || n.Meta[render.MetaManaged] != "true" {
			continue
		}
		out = append(out, &Change{System: apierr.Consul, Kind: KindCatalog, Name: strings.TrimPrefix(n.Node, "external-"), Action: ActionDelete, step: stepCatalog,
			reg: &render.Registration{Registration: &consulapi.CatalogRegistration{Node: n.Node}}})
	}

	// Vault policies (and their roles) of removed apps.
	deletions, err := p.pruneVault(ctx)
	if err != nil {
		return nil, err
	}
	return append(out, deletions...), nil
}

func (p *planner) pruneVault(ctx context.Context) ([]*Change, error) {
	v := p.set.Project.Vault
	wantPolicies := map[string]bool{}
	for _, pol := range p.bundle.VaultPolicies {
		wantPolicies[pol.Name] = true
	}
	names, err := p.c.Vault.Policies(ctx)
	if err != nil {
		return nil, err
	}
	var out []*Change
	removed := map[string]string{} // policy name -> app
	for _, name := range names {
		if !strings.HasPrefix(name, v.PolicyPrefix) || wantPolicies[name] {
			continue
		}
		text, err := p.c.Vault.Policy(ctx, name)
		if errors.Is(err, apierr.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		if !strings.Contains(text, managedHeader) || policyProject(text) != p.bundle.Project {
			continue
		}
		removed[name] = policyApp(text)
		out = append(out, &Change{System: apierr.Vault, Kind: KindPolicy, Name: name, App: policyApp(text), Action: ActionDelete, step: stepVaultPolicy,
			policy: &render.VaultPolicy{Name: name}})
	}
	roles, err := p.c.Vault.List(ctx, "auth/"+v.AuthPath+"/role")
	if err != nil && !errors.Is(err, apierr.ErrNotFound) {
		return nil, err
	}
	for _, name := range roles {
		app, ok := removed[name]
		if !ok {
			continue // a role is drover's when its same-named policy was
		}
		out = append(out, &Change{System: apierr.Vault, Kind: KindVaultRole, Name: name, App: app, Action: ActionDelete, step: stepVaultRole,
			role: &render.VaultRole{Name: name, Mount: v.AuthPath}})
	}
	return out, nil
}

// policyProject reads the project from a drover policy's header comment.
func policyProject(text string) string {
	if m := headerProjectRe.FindStringSubmatch(text); m != nil {
		return m[1]
	}
	return ""
}

var headerAppRe = regexp.MustCompile(`app "([^"]*)"`)

// policyApp reads the app from a drover policy's header comment.
func policyApp(text string) string {
	if m := headerAppRe.FindStringSubmatch(text); m != nil {
		return m[1]
	}
	return ""
}

// --- small helpers shared by planning --------------------------------------

// containsString reports whether v (a []any or []string) holds s.
func containsString(v any, s string) bool {
	switch list := v.(type) {
	case []any:
		for _, x := range list {
			if fmt.Sprint(x) == s {
				return true
			}
		}
	case []string:
		for _, x := range list {
			if x == s {
				return true
			}
		}
	}
	return false
}

// pick keeps the keys of live that desired sets.
func pick(live, desired map[string]any) map[string]any {
	out := make(map[string]any, len(desired))
	for k := range desired {
		if v, ok := live[k]; ok {
			out[k] = v
		}
	}
	return out
}

// normalizeRole brings a JWT role's fields to one form: Vault reads
// durations back as seconds, so "30m" becomes 1800.
func normalizeRole(role map[string]any) any {
	g, _ := jsonx.Generic(role)
	m, _ := g.(map[string]any)
	for _, k := range []string{"token_period", "token_ttl", "token_max_ttl"} {
		if s, ok := m[k].(string); ok {
			if d, err := time.ParseDuration(s); err == nil {
				m[k] = d.Seconds()
			}
		}
	}
	out, _ := jsonx.Prune(m)
	return out
}

// reencode decodes a generic JSON value into out.
func reencode(generic any, out any) error {
	data, err := json.Marshal(generic)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, out)
}

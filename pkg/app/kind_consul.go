package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	consulapi "github.com/hashicorp/consul/api"

	"github.com/drover-io/drover/internal/jsonx"
	"github.com/drover-io/drover/pkg/apierr"
	"github.com/drover-io/drover/pkg/render"
)

// entryKind is a Consul config entry: service-defaults, intentions,
// routers, and the gateway entries Nomad also writes.
type entryKind struct{}

// catalogKind is the catalog registration (a node and its service) of an
// external.
type catalogKind struct{}

// prunedEntryKinds are the config-entry kinds drover writes with its
// ownership meta; gateway entries carry none (Nomad rewrites them) and are
// pruned with their gateway job.
var prunedEntryKinds = []string{consulapi.ServiceDefaults, consulapi.ServiceIntentions, consulapi.ServiceRouter}

func (entryKind) label(ch *Change) string { return ch.Kind }

func (k entryKind) plan(ctx context.Context, p *planner) ([]*Change, error) {
	return planEach(p, p.bundle.ConfigEntries, func(ce *render.ConfigEntry) (*Change, error) {
		ch := &Change{System: apierr.Consul, Kind: ce.Kind(), Name: ce.Name(), App: ce.Owner.App, step: entryStep(ce.Kind()), kind: k, object: ce}
		if ce.WrittenByNomad {
			ch.Note = "Nomad also writes this entry from the gateway job"
		}
		live, err := p.c.Consul.ConfigEntry(ctx, ce.Kind(), ce.Name())
		switch {
		case errors.Is(err, apierr.ErrNotFound):
			ch.Action = ActionCreate
			return ch, nil
		case err != nil:
			return nil, err
		}
		ch.existing = true
		ch.ModifyIndex = live.GetModifyIndex()
		// Nomad writes gateway entries without meta; their owner is the
		// gateway job, checked with it.
		if meta := live.GetMeta(); !ce.WrittenByNomad {
			p.checkOwner(fmt.Sprintf("consul %s %q", ce.Kind(), ce.Name()), meta[render.MetaManaged] == "true", meta[render.MetaProject])
		}
		d, err := entryDiff(live, ce.Entry)
		if err != nil {
			return nil, err
		}
		return ch.diffed(d), nil
	})
}

func (k entryKind) leftovers(ctx context.Context, p *planner) ([]*Change, error) {
	want := map[string]bool{}
	for _, ce := range p.bundle.ConfigEntries {
		want[ce.Kind()+"/"+ce.Name()] = true
	}
	var out []*Change
	for _, kind := range prunedEntryKinds {
		entries, err := p.c.Consul.ConfigEntries(ctx, kind)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			meta := e.GetMeta()
			if meta[render.MetaManaged] != "true" || meta[render.MetaProject] != p.bundle.Project || want[kind+"/"+e.GetName()] {
				continue
			}
			out = append(out, &Change{System: apierr.Consul, Kind: kind, Name: e.GetName(), App: meta[render.MetaApp], Action: ActionDelete,
				step: entryStep(kind), ModifyIndex: e.GetModifyIndex(), kind: k})
		}
	}
	// The entries Nomad wrote for this project's gateways that are going.
	gateways, err := p.removedGatewayJobs(ctx)
	if err != nil {
		return nil, err
	}
	for _, kind := range []string{consulapi.IngressGateway, consulapi.TerminatingGateway} {
		for _, name := range gateways {
			if want[kind+"/"+name] {
				continue
			}
			e, err := p.c.Consul.ConfigEntry(ctx, kind, name)
			if errors.Is(err, apierr.ErrNotFound) {
				continue
			} else if err != nil {
				return nil, err
			}
			out = append(out, &Change{System: apierr.Consul, Kind: kind, Name: name, Action: ActionDelete, step: stepGatewayEntries,
				ModifyIndex: e.GetModifyIndex(), Note: "Nomad never deletes gateway entries; drover does", kind: k})
		}
	}
	return out, nil
}

func (entryKind) write(ctx context.Context, a *applier, ch *Change) error {
	return a.c.Consul.SetConfigEntry(ctx, ch.object.(*render.ConfigEntry).Entry, ch.ModifyIndex)
}

func (entryKind) remove(ctx context.Context, a *applier, ch *Change) error {
	return a.c.Consul.DeleteConfigEntry(ctx, ch.Kind, ch.Name, ch.ModifyIndex)
}

func entryStep(kind string) step {
	switch kind {
	case consulapi.ServiceDefaults:
		return stepServiceDefaults
	case consulapi.ServiceIntentions:
		return stepIntentions
	case consulapi.ServiceRouter:
		return stepRouters
	default:
		return stepGatewayEntries
	}
}

// entryDiff compares a live and a desired config entry on what drover sets:
// indexes, the drover version, and what Consul computes (intention
// precedence and type) are ignored, and list order of named items is not a
// change.
func entryDiff(live, desired consulapi.ConfigEntry) ([]string, error) {
	l, err := normalizeEntry(live)
	if err != nil {
		return nil, err
	}
	d, err := normalizeEntry(desired)
	if err != nil {
		return nil, err
	}
	return jsonx.Diff(jsonx.Flatten(l), jsonx.Flatten(d)), nil
}

func normalizeEntry(e consulapi.ConfigEntry) (any, error) {
	g, err := jsonx.Generic(e)
	if err != nil {
		return nil, err
	}
	m, _ := g.(map[string]any)
	delete(m, "CreateIndex")
	delete(m, "ModifyIndex")
	if meta, ok := m["Meta"].(map[string]any); ok {
		delete(meta, render.MetaVersion)
	}
	if sources, ok := m["Sources"].([]any); ok {
		for _, s := range sources {
			if src, ok := s.(map[string]any); ok {
				delete(src, "Precedence")
				for _, k := range []string{"LegacyID", "LegacyMeta", "LegacyCreateTime", "LegacyUpdateTime"} {
					delete(src, k)
				}
				if src["Type"] == "consul" {
					delete(src, "Type")
				}
			}
		}
	}
	out, _ := jsonx.Prune(m)
	return out, nil
}

func (catalogKind) label(*Change) string { return "catalog registration" }

func (k catalogKind) plan(ctx context.Context, p *planner) ([]*Change, error) {
	return planEach(p, p.bundle.Registrations, func(reg *render.Registration) (*Change, error) {
		r := reg.Registration
		ch := &Change{System: apierr.Consul, Kind: KindCatalog, Name: r.Service.Service, step: stepCatalog, kind: k, object: reg}
		live, err := p.c.Consul.Node(ctx, r.Node)
		switch {
		case errors.Is(err, apierr.ErrNotFound):
			ch.Action = ActionCreate
			return ch, nil
		case err != nil:
			return nil, err
		}
		ch.existing = true
		meta := live.Node.Meta
		p.checkOwner(fmt.Sprintf("consul catalog node %q", r.Node), meta[render.MetaManaged] == "true", meta[render.MetaProject])
		type view struct {
			Address  string
			NodeMeta map[string]string
			Service  *consulapi.AgentService
		}
		liveView := view{Address: live.Node.Address, NodeMeta: withoutVersion(live.Node.Meta)}
		if s := live.Services[r.Service.ID]; s != nil {
			liveView.Service = &consulapi.AgentService{ID: s.ID, Service: s.Service, Address: s.Address, Port: s.Port, Meta: withoutVersion(s.Meta)}
		}
		want := view{Address: r.Address, NodeMeta: withoutVersion(r.NodeMeta),
			Service: &consulapi.AgentService{ID: r.Service.ID, Service: r.Service.Service, Address: r.Service.Address, Port: r.Service.Port, Meta: withoutVersion(r.Service.Meta)}}
		lg, _ := jsonx.Generic(liveView)
		wg, _ := jsonx.Generic(want)
		lp, _ := jsonx.Prune(lg)
		wp, _ := jsonx.Prune(wg)
		return ch.diffed(jsonx.Diff(jsonx.Flatten(lp), jsonx.Flatten(wp))), nil
	})
}

func (k catalogKind) leftovers(ctx context.Context, p *planner) ([]*Change, error) {
	want := map[string]bool{}
	for _, r := range p.bundle.Registrations {
		want[r.Registration.Node] = true
	}
	nodes, err := p.c.Consul.NodesWithMeta(ctx, render.MetaProject, p.bundle.Project)
	if err != nil {
		return nil, err
	}
	var out []*Change
	for _, n := range nodes {
		if want[n.Node] || n.Meta[render.MetaManaged] != "true" {
			continue
		}
		out = append(out, &Change{System: apierr.Consul, Kind: KindCatalog, Name: strings.TrimPrefix(n.Node, "external-"), Action: ActionDelete, step: stepCatalog,
			kind: k, object: &render.Registration{Registration: &consulapi.CatalogRegistration{Node: n.Node}}})
	}
	return out, nil
}

func (catalogKind) write(ctx context.Context, a *applier, ch *Change) error {
	return a.c.Consul.Register(ctx, ch.object.(*render.Registration).Registration)
}

func (catalogKind) remove(ctx context.Context, a *applier, ch *Change) error {
	return a.c.Consul.Deregister(ctx, ch.object.(*render.Registration).Registration.Node)
}

func withoutVersion(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		if k != render.MetaVersion {
			out[k] = v
		}
	}
	return out
}

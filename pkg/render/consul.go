package render

import (
	"sort"
	"strconv"
	"strings"

	consulapi "github.com/hashicorp/consul/api"
	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/pkg/spec"
)

// denyAll is the last intention source of every service: whatever no
// explicit allow names is refused, whatever Consul's default ACL policy.
var denyAll = &consulapi.SourceIntention{Name: "*", Action: consulapi.IntentionActionDeny}

// appConfigEntries renders an app's service-defaults (its protocol, which
// Consul needs before any L7 routing or http ingress) and its intentions.
func (r *renderer) appConfigEntries(app *spec.App) []*ConfigEntry {
	if app.Service == nil {
		return nil
	}
	defaults := r.serviceDefaults(app)
	owner, meta := defaults.Owner, defaults.Entry.GetMeta()
	callers := append([]string(nil), r.set.Callers(app.Name)...)
	for _, from := range app.Service.AllowFrom.V {
		// Consul names the caller's service by its app alone.
		_, caller, _ := strings.Cut(from, "/")
		callers = append(callers, caller)
	}
	if r.set.PubliclyReachable(app) {
		callers = append(callers, r.set.Project.Ingress.Name)
	}
	return []*ConfigEntry{defaults, {Owner: owner, Entry: intentions(app.Name, callers, meta)}}
}

// serviceDefaults renders the service-defaults of an app with a service:
// its protocol. The ingress gateway needs those of every public app.
func (r *renderer) serviceDefaults(app *spec.App) *ConfigEntry {
	owner := r.owner(app)
	return &ConfigEntry{Owner: owner, Entry: &consulapi.ServiceConfigEntry{
		Kind: consulapi.ServiceDefaults, Name: app.Name, Protocol: app.Service.Protocol.V, Meta: owner.Meta(r.opts.Version),
	}}
}

// externalConfigEntries renders an external's protocol and intentions.
// Traffic to an external leaves through the terminating gateway, which
// enforces intentions with the calling app as the source.
func (r *renderer) externalConfigEntries(ext *spec.External) []*ConfigEntry {
	owner := Owner{Project: r.set.Project.Name, Spec: ext.File}
	meta := owner.Meta(r.opts.Version)
	return []*ConfigEntry{
		{Owner: owner, Entry: &consulapi.ServiceConfigEntry{
			Kind: consulapi.ServiceDefaults, Name: ext.Name, Protocol: ext.Protocol.V, Meta: meta,
		}},
		{Owner: owner, Entry: intentions(ext.Name, append([]string(nil), r.set.Callers(ext.Name)...), meta)},
	}
}

// intentions allows exactly the given callers and denies everyone else.
func intentions(dest string, callers []string, meta map[string]string) *consulapi.ServiceIntentionsConfigEntry {
	sort.Strings(callers)
	e := &consulapi.ServiceIntentionsConfigEntry{Kind: consulapi.ServiceIntentions, Name: dest, Meta: meta}
	for _, c := range callers {
		e.Sources = append(e.Sources, &consulapi.SourceIntention{Name: c, Action: consulapi.IntentionActionAllow})
	}
	deny := *denyAll
	e.Sources = append(e.Sources, &deny)
	return e
}

// registration renders the catalog entry that makes an external a Consul
// service the terminating gateway can route to: a made-up node with the
// external-node meta, so Consul's anti-entropy leaves it alone.
func (r *renderer) registration(ext *spec.External) *Registration {
	owner := Owner{Project: r.set.Project.Name, Spec: ext.File}
	nodeMeta := owner.Meta(r.opts.Version)
	nodeMeta["external-node"] = "true"
	nodeMeta["external-probe"] = "true"
	return &Registration{Owner: owner, Registration: &consulapi.CatalogRegistration{
		Node:     ExternalNodeName(ext.Name),
		Address:  ext.Address.V,
		NodeMeta: nodeMeta,
		Service: &consulapi.AgentService{
			ID:      ext.Name,
			Service: ext.Name,
			Address: ext.Address.V,
			Port:    ext.Port.V,
			Meta:    owner.Meta(r.opts.Version),
		},
	}}
}

// ExternalNodeName is the catalog node an external is registered on.
func ExternalNodeName(external string) string { return "external-" + external }

// routers renders a service-router for each app that is the default of a
// public host shared with other apps by path.
func (r *renderer) routers() []*ConfigEntry {
	routes := map[*spec.App][]spec.PathRoute{}
	for _, h := range r.set.PublicHosts() {
		if len(h.Paths) > 0 {
			routes[h.Default] = appendUnique(routes[h.Default], h.Paths)
		}
	}
	var out []*ConfigEntry
	for app, paths := range routes {
		if !r.set.Selected[app.Name] {
			continue
		}
		owner := r.owner(app)
		e := &consulapi.ServiceRouterConfigEntry{Kind: consulapi.ServiceRouter, Name: app.Name, Meta: owner.Meta(r.opts.Version)}
		for _, p := range paths {
			e.Routes = append(e.Routes, consulapi.ServiceRoute{
				Match:       &consulapi.ServiceRouteMatch{HTTP: &consulapi.ServiceRouteHTTPMatch{PathPrefix: p.Prefix}},
				Destination: &consulapi.ServiceRouteDestination{Service: p.App.Name},
			})
		}
		out = append(out, &ConfigEntry{Owner: owner, Entry: e})
	}
	return out
}

func appendUnique(list, more []spec.PathRoute) []spec.PathRoute {
	for _, m := range more {
		dup := false
		for _, l := range list {
			dup = dup || (l.Prefix == m.Prefix && l.App == m.App)
		}
		if !dup {
			list = append(list, m)
		}
	}
	sort.SliceStable(list, func(i, j int) bool {
		if len(list[i].Prefix) != len(list[j].Prefix) {
			return len(list[i].Prefix) > len(list[j].Prefix)
		}
		return list[i].Prefix < list[j].Prefix
	})
	return list
}

// ingressGateway renders the ingress gateway job and the config entry Nomad
// writes for it, or nils when nothing is exposed. Only hosts' default apps
// are listener services; path routes go through the default's router.
func (r *renderer) ingressGateway() (*Job, *ConfigEntry) {
	hosts := r.set.PublicHosts()
	if len(hosts) == 0 {
		return nil, nil
	}
	g := r.set.Project.Ingress
	byApp := map[string][]string{}
	for _, h := range hosts {
		byApp[h.Default.Name] = append(byApp[h.Default.Name], h.Host)
	}
	names := make([]string, 0, len(byApp))
	for n := range byApp {
		names = append(names, n)
	}
	sort.Strings(names)

	listener := &nomadapi.ConsulIngressListener{Port: g.Port, Protocol: spec.ProtocolHTTP}
	ce := &consulapi.IngressGatewayConfigEntry{Kind: consulapi.IngressGateway, Name: g.Name}
	ceListener := consulapi.IngressListener{Port: g.Port, Protocol: spec.ProtocolHTTP}
	for _, n := range names {
		listener.Services = append(listener.Services, &nomadapi.ConsulIngressService{Name: n, Hosts: byApp[n]})
		ceListener.Services = append(ceListener.Services, consulapi.IngressService{Name: n, Hosts: byApp[n]})
	}
	ce.Listeners = []consulapi.IngressListener{ceListener}

	owner := r.projectOwner()
	build := func() *nomadapi.Job {
		job := r.baseJob(g.Name, spec.TypeService, owner)
		job.TaskGroups = []*nomadapi.TaskGroup{{
			Name:  ptr("ingress"),
			Count: ptr(g.Count),
			Networks: []*nomadapi.NetworkResource{{
				Mode: "bridge",
				// Envoy binds each listener on its port inside the
				// allocation; the static port publishes it on the host.
				ReservedPorts: []nomadapi.Port{{Label: "http", Value: g.Port, To: g.Port}},
			}},
			Services: []*nomadapi.Service{{
				Name:      g.Name,
				PortLabel: strconv.Itoa(g.Port),
				Provider:  "consul",
				Connect: &nomadapi.ConsulConnect{Gateway: &nomadapi.ConsulGateway{
					Proxy:   &nomadapi.ConsulGatewayProxy{},
					Ingress: &nomadapi.ConsulIngressConfigEntry{Listeners: []*nomadapi.ConsulIngressListener{cloneListener(listener)}},
				}},
			}},
		}}
		return job
	}
	return finishJob(build, owner, "ingress", false), &ConfigEntry{Owner: owner, Entry: ce, WrittenByNomad: true}
}

func cloneListener(l *nomadapi.ConsulIngressListener) *nomadapi.ConsulIngressListener {
	c := *l
	c.Services = nil
	for _, s := range l.Services {
		cs := *s
		cs.Hosts = append([]string(nil), s.Hosts...)
		c.Services = append(c.Services, &cs)
	}
	return &c
}

// terminatingGateway renders the terminating gateway job that links every
// external into the mesh, or nils when there are none.
func (r *renderer) terminatingGateway() (*Job, *ConfigEntry) {
	if len(r.set.Externals) == 0 {
		return nil, nil
	}
	g := r.set.Project.Terminating
	ce := &consulapi.TerminatingGatewayConfigEntry{Kind: consulapi.TerminatingGateway, Name: g.Name}
	var linked []*nomadapi.ConsulLinkedService
	for _, ext := range r.set.Externals {
		ce.Services = append(ce.Services, consulapi.LinkedService{Name: ext.Name})
		linked = append(linked, &nomadapi.ConsulLinkedService{Name: ext.Name})
	}
	owner := r.projectOwner()
	build := func() *nomadapi.Job {
		job := r.baseJob(g.Name, spec.TypeService, owner)
		services := make([]*nomadapi.ConsulLinkedService, len(linked))
		for i, l := range linked {
			c := *l
			services[i] = &c
		}
		job.TaskGroups = []*nomadapi.TaskGroup{{
			Name:     ptr("terminating"),
			Count:    ptr(g.Count),
			Networks: []*nomadapi.NetworkResource{{Mode: "bridge"}},
			Services: []*nomadapi.Service{{
				Name:     g.Name,
				Provider: "consul",
				Connect: &nomadapi.ConsulConnect{Gateway: &nomadapi.ConsulGateway{
					Proxy:       &nomadapi.ConsulGatewayProxy{},
					Terminating: &nomadapi.ConsulTerminatingConfigEntry{Services: services},
				}},
			}},
		}}
		return job
	}
	return finishJob(build, owner, "terminating", false), &ConfigEntry{Owner: owner, Entry: ce, WrittenByNomad: true}
}

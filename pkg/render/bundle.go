package render

import (
	"errors"
	"sort"

	"github.com/hashicorp/hcl/v2"

	consulapi "github.com/hashicorp/consul/api"
	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/pkg/spec"
)

// Ownership metadata keys, written on every Nomad job, Consul config entry,
// catalog registration and (as a comment) Vault policy. Dashes only, so the
// keys are valid everywhere (Consul meta keys, Nomad NOMAD_META_* names).
const (
	MetaManaged = "drover-managed" // always "true"
	MetaProject = "drover-project"
	MetaApp     = "drover-app"  // empty for shared artifacts (gateways)
	MetaSpec    = "drover-spec" // spec file relative to the project root
	MetaVersion = "drover-version"
)

// Owner says which project, app and spec file an artifact belongs to.
type Owner struct {
	Project string
	// App is empty for artifacts derived from the whole project (gateways).
	App string
	// Spec is the spec file relative to the project root; empty for
	// project-wide artifacts.
	Spec string
}

// Meta returns the ownership metadata for an artifact made by the given
// drover version.
func (o Owner) Meta(version string) map[string]string {
	m := map[string]string{MetaManaged: "true", MetaProject: o.Project, MetaVersion: version}
	if o.App != "" {
		m[MetaApp] = o.App
	}
	if o.Spec != "" {
		m[MetaSpec] = o.Spec
	}
	return m
}

// Options tune rendering.
type Options struct {
	// Version is the drover version recorded in ownership metadata.
	Version string
}

// Bundle is every artifact rendered from a Set.
type Bundle struct {
	Project string
	// Jobs holds the app jobs, sorted by ID, then the gateway jobs.
	Jobs []*Job
	// ConfigEntries are sorted by kind order (see kindOrder), then name.
	ConfigEntries []*ConfigEntry
	// Registrations are the catalog entries of externals, sorted by name.
	Registrations []*Registration
	VaultPolicies []*VaultPolicy
	VaultRoles    []*VaultRole
}

// Job is a Nomad job and its owner.
type Job struct {
	Owner Owner
	// Gateway is "ingress" or "terminating" for gateway jobs, "" for apps.
	Gateway string
	// Job is canonicalized: exactly what PUT /v1/jobs receives.
	Job *nomadapi.Job
	// readable builds the same job before canonicalization, holding only
	// what drover set; the HCL rendering prints it.
	readable func() *nomadapi.Job
	// PreserveCounts is true when an autoscaler owns the counts, so a
	// redeploy must not reset them.
	PreserveCounts bool
}

// Readable returns the job as drover wrote it, without Nomad's defaults.
func (j *Job) Readable() *nomadapi.Job { return j.readable() }

// ID returns the job's ID.
func (j *Job) ID() string { return *j.Job.ID }

// ConfigEntry is a Consul config entry and its owner.
type ConfigEntry struct {
	Owner Owner
	Entry consulapi.ConfigEntry
	// WrittenByNomad marks gateway entries: Nomad also writes them itself
	// from the gateway job on every register (overwriting any other writer,
	// meta included). drover writes them first, check-and-set, so that the
	// gateway serves the new routes even before its job is re-registered,
	// and deletes them on teardown (Nomad never does).
	WrittenByNomad bool
}

// Kind returns the entry's kind.
func (c *ConfigEntry) Kind() string { return c.Entry.GetKind() }

// Name returns the entry's name.
func (c *ConfigEntry) Name() string { return c.Entry.GetName() }

// Registration is the catalog registration of an external service.
type Registration struct {
	Owner        Owner
	Registration *consulapi.CatalogRegistration
}

// VaultPolicy is an ACL policy in Vault's HCL policy language.
type VaultPolicy struct {
	Owner  Owner
	Name   string
	Policy string
	// Paths are the KV v2 data paths the policy grants read on, sorted.
	Paths []string
}

// VaultRole is a role of the JWT auth method that Nomad workload identities
// log in with.
type VaultRole struct {
	Owner Owner
	Name  string
	// Mount is the JWT auth method's mount path, such as "jwt-nomad".
	Mount string
	// Data is the role's write body (POST auth/<mount>/role/<name>).
	Data map[string]any
}

// Path returns the role's API path.
func (r *VaultRole) Path() string { return "auth/" + r.Mount + "/role/" + r.Name }

// Render renders every artifact of set. Set must have been loaded without
// errors. Artifacts of apps outside set.Selected are left out, but gateway
// artifacts always reflect the whole project, as the gateways serve all of
// it.
func Render(set *spec.Set, opts Options) (*Bundle, error) {
	r := &renderer{set: set, opts: opts}
	b := &Bundle{Project: set.Project.Name}
	var diags hcl.Diagnostics
	for _, app := range set.Apps {
		if !set.Selected[app.Name] {
			// The ingress gateway serves the whole project, and Consul checks
			// the protocol of every service its listener names: a public app
			// needs its service-defaults even when only another is deployed.
			if app.Service != nil && set.PubliclyReachable(app) {
				b.ConfigEntries = append(b.ConfigEntries, r.serviceDefaults(app))
			}
			continue
		}
		job, err := r.appJob(app)
		var de *DiagnosticsError
		if errors.As(err, &de) {
			// Every app's problems, not the first app's.
			diags = append(diags, de.Diags...)
			continue
		} else if err != nil {
			return nil, err
		}
		b.Jobs = append(b.Jobs, job)
		b.ConfigEntries = append(b.ConfigEntries, r.appConfigEntries(app)...)
		if p, role := r.vault(app); p != nil {
			b.VaultPolicies = append(b.VaultPolicies, p)
			b.VaultRoles = append(b.VaultRoles, role)
		}
	}
	for _, ext := range set.Externals {
		if !r.externalSelected(ext) {
			continue
		}
		b.ConfigEntries = append(b.ConfigEntries, r.externalConfigEntries(ext)...)
		b.Registrations = append(b.Registrations, r.registration(ext))
	}
	b.ConfigEntries = append(b.ConfigEntries, r.routers()...)
	if job, ce := r.ingressGateway(); job != nil {
		b.Jobs = append(b.Jobs, job)
		b.ConfigEntries = append(b.ConfigEntries, ce)
	}
	if job, ce := r.terminatingGateway(); job != nil {
		b.Jobs = append(b.Jobs, job)
		b.ConfigEntries = append(b.ConfigEntries, ce)
	}
	if diags.HasErrors() {
		return nil, &DiagnosticsError{Diags: diags}
	}
	sortBundle(b)
	return b, nil
}

// externalSelected: an external belongs to the selection when the file that
// declares it was selected, or when a selected app calls it.
func (r *renderer) externalSelected(ext *spec.External) bool {
	if r.set.SelectedExternals[ext.Name] {
		return true
	}
	for _, app := range r.set.Apps {
		if !r.set.Selected[app.Name] {
			continue
		}
		if app.File == ext.File {
			return true
		}
		if app.Service != nil {
			for _, u := range app.Service.Upstreams {
				if u.Name == ext.Name && !u.Remote() {
					return true
				}
			}
		}
	}
	return len(r.set.Selected) == len(r.set.Apps)
}

// kindOrder is the order config entries are applied in: protocol first (a
// gateway listener is checked against it), then intentions, routers and
// gateways.
var kindOrder = map[string]int{
	consulapi.ServiceDefaults:    0,
	consulapi.ServiceIntentions:  1,
	consulapi.ServiceRouter:      2,
	consulapi.TerminatingGateway: 3,
	consulapi.IngressGateway:     4,
}

func sortBundle(b *Bundle) {
	sort.SliceStable(b.Jobs, func(i, j int) bool {
		a, c := b.Jobs[i], b.Jobs[j]
		if (a.Gateway == "") != (c.Gateway == "") {
			return a.Gateway == ""
		}
		return a.ID() < c.ID()
	})
	sort.SliceStable(b.ConfigEntries, func(i, j int) bool {
		a, c := b.ConfigEntries[i], b.ConfigEntries[j]
		if kindOrder[a.Kind()] != kindOrder[c.Kind()] {
			return kindOrder[a.Kind()] < kindOrder[c.Kind()]
		}
		return a.Name() < c.Name()
	})
	sort.SliceStable(b.Registrations, func(i, j int) bool {
		return b.Registrations[i].Registration.Service.Service < b.Registrations[j].Registration.Service.Service
	})
	sort.SliceStable(b.VaultPolicies, func(i, j int) bool { return b.VaultPolicies[i].Name < b.VaultPolicies[j].Name })
	sort.SliceStable(b.VaultRoles, func(i, j int) bool { return b.VaultRoles[i].Name < b.VaultRoles[j].Name })
}

// renderer carries the set and options through the per-artifact functions.
type renderer struct {
	set  *spec.Set
	opts Options
}

func (r *renderer) owner(app *spec.App) Owner {
	return Owner{Project: r.set.Project.Name, App: app.Name, Spec: app.File}
}

func (r *renderer) projectOwner() Owner {
	o := Owner{Project: r.set.Project.Name}
	if r.set.Project.File != "" {
		o.Spec = spec.ProjectFileName
	}
	return o
}

func (r *renderer) namespace() string {
	if ns := r.set.Project.Namespace.V; ns != "" {
		return ns
	}
	return "default"
}

package spec

import (
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/drover-io/drover/pkg/scaling"
)

// Val is an attribute value with the range it was written at. Set is false
// when the attribute was absent and V holds the default; Range is then the
// range of the enclosing block, so a diagnostic about a missing or defaulted
// value still points somewhere useful.
type Val[T any] struct {
	V     T
	Set   bool
	Range hcl.Range
}

// Set is a loaded project: every app and external of the spec files, with
// the project settings that apply to them, resolved for one environment.
type Set struct {
	// Root is the project root directory; File fields are relative to it.
	Root string
	// Project holds the settings of drover.hcl, or defaults when there is none.
	Project *Project
	// Environment is the selected environment ("" for the base spec).
	Environment string
	// Apps and Externals are sorted by name.
	Apps      []*App
	Externals []*External
	// Files holds every parsed file by the filename used in diagnostics.
	Files map[string]*hcl.File
	// Selected names the apps the caller asked for (all of them when the
	// caller named a directory). Render uses it to emit only those apps'
	// artifacts while validation still sees the whole project.
	Selected map[string]bool
	// SelectedExternals names the externals declared in the files the
	// caller asked for (a spec file may declare only externals).
	SelectedExternals map[string]bool

	// index holds lookups derived from Apps and Externals, built once on
	// first use: a Set is not changed after Load returns it.
	index     *setIndex
	indexOnce sync.Once
}

type setIndex struct {
	apps        map[string]*App
	externals   map[string]*External
	callers     map[string][]string
	publicHosts []PublicHost
	public      map[*App]bool
}

func (s *Set) idx() *setIndex {
	s.indexOnce.Do(func() {
		ix := &setIndex{apps: make(map[string]*App, len(s.Apps)), externals: map[string]*External{}, callers: map[string][]string{}, public: map[*App]bool{}}
		for _, a := range s.Apps {
			if _, dup := ix.apps[a.Name]; !dup {
				ix.apps[a.Name] = a
			}
			if a.Service != nil {
				seen := map[string]bool{}
				for _, u := range a.Service.Upstreams {
					if u.Remote() {
						continue // the callee's project says who may call it
					}
					if !seen[u.Name] {
						seen[u.Name] = true
						ix.callers[u.Name] = append(ix.callers[u.Name], a.Name)
					}
				}
			}
		}
		for _, e := range s.Externals {
			if _, dup := ix.externals[e.Name]; !dup {
				ix.externals[e.Name] = e
			}
		}
		for _, c := range ix.callers {
			sort.Strings(c)
		}
		ix.publicHosts = s.computePublicHosts()
		for _, h := range ix.publicHosts {
			ix.public[h.Default] = true
			for _, p := range h.Paths {
				ix.public[p.App] = true
			}
		}
		s.index = ix
	})
	return s.index
}

// App returns the app with the given name, or nil.
func (s *Set) App(name string) *App { return s.idx().apps[name] }

// External returns the external with the given name, or nil.
func (s *Set) External(name string) *External { return s.idx().externals[name] }

// Project is the shared configuration of drover.hcl.
type Project struct {
	Name        string
	Region      Val[string]
	Namespace   Val[string]
	Datacenters Val[[]string]
	Vault       VaultSettings
	Ingress     GatewaySettings
	Terminating GatewaySettings
	// Environments declared by the project, by name.
	Environments map[string]*ProjectEnvironment
	// File is empty when the project has no drover.hcl.
	File      string
	DeclRange hcl.Range
}

// VaultSettings says where secrets live and how workloads authenticate.
type VaultSettings struct {
	// KVMount is the mount path of the KV version 2 secrets engine.
	KVMount string
	// AuthPath is the mount path of the JWT auth method that Nomad's workload
	// identities log in with (what `nomad setup vault` creates: jwt-nomad).
	AuthPath string
	// Audience is the aud claim of the workload identity Vault expects.
	Audience []string
	// TokenPeriod is the period of the Vault tokens the role issues.
	TokenPeriod time.Duration
	// PolicyPrefix starts the name of every policy and role drover renders.
	PolicyPrefix string
}

// GatewaySettings configures one of the gateway jobs drover derives.
type GatewaySettings struct {
	// Name is the Consul service name of the gateway and its Nomad job ID.
	Name string
	// Port is the ingress listener port (ingress gateway only).
	Port int
	// Count is the number of gateway instances.
	Count     int
	DeclRange hcl.Range
}

// ProjectEnvironment is an environment declared in drover.hcl, with the
// project settings it overrides.
type ProjectEnvironment struct {
	Name        string
	Region      Val[string]
	Namespace   Val[string]
	Datacenters Val[[]string]
	DeclRange   hcl.Range
}

// App types.
const (
	TypeService  = "service"
	TypeBatch    = "batch"
	TypeSystem   = "system"
	TypeSysbatch = "sysbatch"
)

// App is one service, worker or batch job: it becomes one Nomad job with a
// single task group.
type App struct {
	Name      string
	NameRange hcl.Range
	DeclRange hcl.Range
	// File is the spec file, relative to the project root.
	File string
	// Source is the spec file as the user named it: its key in Set.Files.
	Source string

	Type Val[string]
	// Main is the app's own task; Helpers are extra tasks in the same group.
	Main    *Task
	Helpers []*Task
	Ports   []*Port
	// Service is the app's service in the mesh (nil when it has none);
	// PlainServices are registered outside the mesh, at published ports.
	Service       *Service
	PlainServices []*Service
	Expose        *Expose
	Update        *Update
	Scaling       *Scaling
	// Periodic makes a batch app run on a schedule.
	Periodic *Periodic
	// JobBlocks are Nomad's own job blocks given at the app level
	// (parameterized; see JobBlocks).
	JobBlocks []*NomadBlock
	// Volumes are host and CSI volumes the app's tasks mount.
	Volumes []*Volume
	// GroupBlocks are Nomad's own group blocks given at the app level
	// (constraint, restart, ...; see GroupBlocks), in source order, for
	// render to read in Nomad's vocabulary.
	GroupBlocks []*NomadBlock
	// Nomad is the app's `nomad { }` block: Nomad's own job file
	// vocabulary for the group (and, in `task "name" { }` blocks, for its
	// tasks), merged onto what drover renders. Decoded and checked by
	// render, which knows Nomad's types; nil when absent.
	Nomad *NomadBlock

	// The app's settings, behind a pointer: a summary (what a streamed
	// load keeps of an app for the checks across files, thousands at
	// once) has none, and shares one zero AppSettings.
	*AppSettings
}

// AppSettings are the settings of an app's group and job.
type AppSettings struct {
	// Count is the instance count; when unset it is scaling.min or 1.
	Count Val[int]
	Meta  Val[map[string]string]
	// NomadAPI gives the app's own task a Nomad API token from its workload
	// identity (NOMAD_TOKEN) and the task API socket (NOMAD_ADDR), for apps
	// that call Nomad, such as drover autoscale itself.
	NomadAPI Val[bool]
	// Network is the group's network mode: "bridge" (the default: one
	// network namespace for the group, published ports mapped into it) or
	// "host" (Nomad's own default: ports on the host, each docker task
	// publishing them itself). A mesh app is always bridge.
	Network Val[string]
	// Hostname names the group's network namespace (bridge networking).
	Hostname Val[string]
	// Datacenters, NodePool and Priority place the app's job; the
	// project's datacenters when Datacenters is unset.
	Datacenters Val[[]string]
	NodePool    Val[string]
	Priority    Val[int]
}

// noSettings are the settings of every summary: none set. Never changed.
var noSettings = &AppSettings{}

// NomadBlock is a block in Nomad's job file vocabulary: the escape hatch,
// or one of Nomad's own group blocks (Type says which).
type NomadBlock struct {
	Type      string
	Body      hcl.Body
	Ctx       *hcl.EvalContext
	DeclRange hcl.Range
}

// Volume is a host or CSI volume of the app's group.
type Volume struct {
	Name           string
	NameRange      hcl.Range
	DeclRange      hcl.Range
	Type           Val[string] // host (default) or csi
	Source         Val[string]
	ReadOnly       Val[bool]
	AccessMode     Val[string]
	AttachmentMode Val[string]
	PerAlloc       Val[bool]
}

// File is a file Nomad renders into the task directory at run time from
// a template (consul-template: Consul KV and services, Nomad variables,
// Vault), re-rendered when what it reads changes.
type File struct {
	// Destination is the path in the task directory ("local/app.conf").
	Destination string
	DeclRange   hcl.Range
	// Content is the template; from Source (a file next to the spec) when
	// that is set.
	Content      Val[string]
	Source       Val[string]
	ChangeMode   Val[string]
	ChangeSignal Val[string]
	Perms        Val[string]
	// Splay, LeftDelimiter, RightDelimiter and ErrorOnMissingKey are the
	// template's own options, as in Nomad's template block.
	Splay             Val[time.Duration]
	LeftDelimiter     Val[string]
	RightDelimiter    Val[string]
	ErrorOnMissingKey Val[bool]
	// Mount also bind-mounts the file into a docker container at this path.
	Mount Val[string]
	// Env loads the rendered file (KEY=value lines) into the task's
	// environment.
	Env Val[bool]
	// Secrets are the KV paths the template reads with `secret`: the app's
	// Vault policy grants read on exactly them.
	Secrets Val[[]string]
}

// Mount mounts one of the app's volumes into a task.
type Mount struct {
	Volume    string
	DeclRange hcl.Range
	Path      Val[string]
	ReadOnly  Val[bool]
}

// EffectiveCount is the instance count Nomad gets: count when set, else
// scaling min, else 1.
func (a *App) EffectiveCount() int {
	switch {
	case a.Count.Set:
		return a.Count.V
	case a.Scaling != nil:
		return a.Scaling.Min.V
	default:
		return 1
	}
}

// Exposed reports whether the app is reachable from outside the mesh.
func (a *App) Exposed() bool { return a.Expose != nil }

// Port returns the port with the given label, or nil.
func (a *App) Port(label string) *Port {
	for _, p := range a.Ports {
		if p.Label == label {
			return p
		}
	}
	return nil
}

// Tasks returns the main task followed by the helpers.
func (a *App) Tasks() []*Task {
	return append([]*Task{a.Main}, a.Helpers...)
}

// Secrets returns every secret of every task of the app.
func (a *App) Secrets() []*Secret {
	var out []*Secret
	for _, t := range a.Tasks() {
		out = append(out, t.Secrets...)
	}
	return out
}

// Task is a container: the app's own, or a helper beside it.
type Task struct {
	Name      string
	DeclRange hcl.Range
	// Driver is docker (the default), exec or raw_exec.
	Driver      Val[string]
	Image       Val[string]
	imageAbsent bool // no `image` at all (not one that failed to evaluate)
	Command     Val[string]
	Args        Val[[]string]
	Env         []*EnvVar
	Secrets     []*Secret
	Resources   Resources
	// Lifecycle is nil for the main task and for helpers that run beside it
	// for the whole life of the group.
	Lifecycle *Lifecycle
	Files     []*File
	Mounts    []*Mount
	// User runs the task as this user; KillTimeout, KillSignal and
	// ShutdownDelay shape how it stops.
	User          Val[string]
	KillTimeout   Val[time.Duration]
	KillSignal    Val[string]
	ShutdownDelay Val[time.Duration]
	// Docker holds docker driver options (privileged, cap_add, logging,
	// ...), in the driver's own names, merged into its config; nil if none.
	Docker *NomadBlock
	// Blocks are Nomad's own task blocks the task takes as they are
	// (csi_plugin, restart, artifact; see TaskBlocks), in source order.
	Blocks []*NomadBlock
}

// EnvVar is one plain environment variable.
type EnvVar struct {
	Name       string
	Value      string
	NameRange  hcl.Range
	ValueRange hcl.Range
}

// Secret is an environment variable whose value Nomad reads from Vault at
// run time. drover only ever sees the path and key, never the value.
type Secret struct {
	// EnvName is the environment variable the value is exposed as.
	EnvName   string
	NameRange hcl.Range
	DeclRange hcl.Range
	// Path is the secret's path inside the KV v2 mount (no mount, no "data/").
	Path Val[string]
	// Key is the field within the secret.
	Key Val[string]
}

// Resources are a task's CPU (MHz) and memory (MiB).
type Resources struct {
	CPU       Val[int]
	Memory    Val[int]
	MemoryMax Val[int]
	DeclRange hcl.Range
}

// Lifecycle hooks, as Nomad names them.
const (
	HookPrestart  = "prestart"
	HookPoststart = "poststart"
	HookPoststop  = "poststop"
)

// Lifecycle places a helper task before, after or beside the main task.
type Lifecycle struct {
	Hook      Val[string]
	Sidecar   Val[bool]
	DeclRange hcl.Range
}

// Port is a named container port.
type Port struct {
	Label      string
	LabelRange hcl.Range
	DeclRange  hcl.Range
	// To is the port the container listens on.
	To Val[int]
	// Publish puts the port on the host, outside the mesh: reachable by
	// anything that reaches the node, and named in the task's env as
	// NOMAD_PORT_<label>, NOMAD_ADDR_<label>. Static sets the host port
	// (and implies Publish); HostNetwork picks the client's host network.
	Publish     Val[bool]
	Static      Val[int]
	HostNetwork Val[string]

	toAbsent bool // no `to` at all (not one that failed to evaluate)
}

// Published reports whether the port is on the host.
func (p *Port) Published() bool { return p.Publish.V || p.Static.V > 0 }

// Protocols a service may speak, as Consul's service-defaults names them.
const (
	ProtocolHTTP  = "http"
	ProtocolHTTP2 = "http2"
	ProtocolGRPC  = "grpc"
	ProtocolTCP   = "tcp"
)

// Service registers the app in Consul and puts it in the service mesh.
type Service struct {
	DeclRange hcl.Range
	// Name is the Consul service name: the app's for its mesh service.
	Name Val[string]
	// Mesh is false for a service outside the mesh: registered in Consul
	// at a published host port, without a sidecar, intentions or upstreams.
	Mesh Val[bool]
	// Port is the label of the app port the service serves on; empty for a
	// mesh client that serves nothing (a worker with upstreams).
	Port       Val[string]
	Protocol   Val[string]
	Tags       Val[[]string]
	CanaryTags Val[[]string]
	Meta       Val[map[string]string]
	Checks     []*Check
	Upstreams  []*Upstream
	// Task registers a service outside the mesh from that task (Nomad's
	// task-level service: it follows the task's life) instead of the group.
	Task Val[string]
	// Provider is consul (the default) or nomad (Nomad's own service
	// discovery), for services outside the mesh.
	Provider Val[string]
	// Sidecar sizes the Connect sidecar (and picks its image).
	Sidecar *Sidecar
	// AllowFrom lets apps of other drover projects call this one, as
	// "project/app": they join its intentions, which stay this project's.
	AllowFrom Val[[]string]
}

// Check types.
const (
	CheckHTTP   = "http"
	CheckGRPC   = "grpc"
	CheckTCP    = "tcp"
	CheckScript = "script"
)

// Check is a Consul health check of the app's service.
type Check struct {
	Name      string
	NameRange hcl.Range
	DeclRange hcl.Range
	Type      Val[string]
	Path      Val[string]
	Method    Val[string]
	Headers   Val[map[string]string]
	// Command and Args run a script check inside Task (the app's own task
	// when unset).
	Command  Val[string]
	Args     Val[[]string]
	Task     Val[string]
	Interval Val[time.Duration]
	Timeout  Val[time.Duration]
	// Port is the port the check probes, when not its service's (outside
	// the mesh only: in the mesh, checks go through the sidecar).
	Port Val[string]
	// InitialStatus is the check's status before its first run: passing,
	// warning or critical (Consul's default).
	InitialStatus Val[string]
	// Restart restarts the task after Limit failures in a row.
	Restart *CheckRestart
}

// CheckRestart restarts a task whose check keeps failing.
type CheckRestart struct {
	DeclRange      hcl.Range
	Limit          Val[int]
	Grace          Val[time.Duration]
	IgnoreWarnings Val[bool]
}

// Upstream is a service this app calls through the mesh; it becomes a local
// port that the sidecar forwards to the destination, and an intention that
// allows the call.
type Upstream struct {
	// Name is the service called; Project is set when it belongs to another
	// drover project (the label "project/name"), whose spec must allow
	// this app to call it.
	Name      string
	Project   string
	NameRange hcl.Range
	DeclRange hcl.Range
	LocalPort Val[int]
	// Datacenter and Namespace find the destination in another Consul
	// datacenter or namespace.
	Datacenter Val[string]
	Namespace  Val[string]
}

// Sidecar sets the Connect sidecar task's image and resources.
type Sidecar struct {
	DeclRange hcl.Range
	Image     Val[string]
	CPU       Val[int]
	Memory    Val[int]
}

// Remote reports whether the upstream is an app of another project.
func (u *Upstream) Remote() bool { return u.Project != "" }

// Expose makes the app's service reachable from outside the mesh, through
// the ingress gateway. Without it, an app is reachable only by apps that
// declare it as an upstream.
type Expose struct {
	DeclRange hcl.Range
	Hosts     Val[[]string]
	// Path is the path prefix routed to the app; "/" by default.
	Path Val[string]
}

// Update is the rolling-update strategy.
type Update struct {
	DeclRange        hcl.Range
	MaxParallel      Val[int]
	Canary           Val[int]
	AutoPromote      Val[bool]
	AutoRevert       Val[bool]
	MinHealthyTime   Val[time.Duration]
	HealthyDeadline  Val[time.Duration]
	ProgressDeadline Val[time.Duration]
}

// Scaling bounds the instance count and carries the Nomad Autoscaler policy.
type Scaling struct {
	DeclRange hcl.Range
	Min       Val[int]
	Max       Val[int]
	Enabled   Val[bool]
	// Policy is nil when the block has no policy: manual scaling within
	// [min, max] only.
	Policy *Policy
}

// Policy is a scaling policy in the Nomad Autoscaler's format, kept in the
// shape it was written so that render can pass it to Nomad unchanged.
type Policy struct {
	DeclRange hcl.Range
	// Attrs are the policy's own attributes (cooldown, evaluation_interval,
	// ...) in source order.
	Attrs []*PolicyAttr
	// Checks in source order.
	Checks []*PolicyCheck
	// Schedule limits when the policy acts; nil for always.
	Schedule *PolicySchedule
	// Drover is the policy's drover block (nil when absent).
	Drover *PolicyBlock
	// Target is a file policy's target block (Job, Group, Namespace).
	Target []*PolicyAttr
	// Model is the same policy in pkg/scaling's typed form, for linting and
	// for `drover autoscale`.
	Model *scaling.Policy
}

// PolicyAttr is one attribute of a policy, check or strategy block. Value
// is a string, float64, int64 or bool: the type it was written with.
type PolicyAttr struct {
	Name  string
	Value any
	Range hcl.Range
}

// PolicyCheck is one `check` block of a policy.
type PolicyCheck struct {
	Name      string
	DeclRange hcl.Range
	Attrs     []*PolicyAttr
	// Strategy is the check's single strategy block.
	Strategy *PolicyStrategy
	Schedule *PolicySchedule
}

// PolicyBlock is a block of raw policy values with nested blocks.
type PolicyBlock struct {
	Type      string
	DeclRange hcl.Range
	Attrs     []*PolicyAttr
	Blocks    []*PolicyBlock
}

// Map returns the block's body in the form Nomad stores policies in:
// attributes as values, nested blocks as lists of maps by type.
func (b *PolicyBlock) Map() map[string]any {
	m := make(map[string]any, len(b.Attrs)+len(b.Blocks))
	for _, a := range b.Attrs {
		m[a.Name] = a.Value
	}
	for _, nb := range b.Blocks {
		list, _ := m[nb.Type].([]any)
		m[nb.Type] = append(list, nb.Map())
	}
	return m
}

// PolicySchedule is a `schedule` block of a policy or check.
type PolicySchedule struct {
	DeclRange hcl.Range
	Attrs     []*PolicyAttr
}

// PolicyStrategy is a check's `strategy "<name>"` block.
type PolicyStrategy struct {
	Name      string
	NameRange hcl.Range
	DeclRange hcl.Range
	Attrs     []*PolicyAttr
}

// Periodic runs a batch app on a cron schedule.
type Periodic struct {
	DeclRange       hcl.Range
	Cron            Val[string]
	TimeZone        Val[string]
	ProhibitOverlap Val[bool]
}

// External is a service outside the mesh (a managed database, a partner
// API) that apps reach through the terminating gateway.
type External struct {
	Name      string
	NameRange hcl.Range
	DeclRange hcl.Range
	File      string
	Address   Val[string]
	Port      Val[int]
	Protocol  Val[string]
}

// Without returns a copy of the set without the named apps and externals,
// every remaining app selected: the project as it will be once they are
// destroyed.
func (s *Set) Without(apps, externals map[string]bool) *Set {
	out := &Set{Root: s.Root, Project: s.Project, Environment: s.Environment, Files: s.Files, Selected: map[string]bool{}, SelectedExternals: map[string]bool{}}
	for _, a := range s.Apps {
		if !apps[a.Name] {
			out.Apps = append(out.Apps, a)
			out.Selected[a.Name] = true
		}
	}
	for _, e := range s.Externals {
		if !externals[e.Name] {
			out.Externals = append(out.Externals, e)
			out.SelectedExternals[e.Name] = true
		}
	}
	return out
}

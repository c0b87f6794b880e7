package render

import (
	"fmt"
	"maps"
	"sort"
	"strconv"
	"strings"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/pkg/jobspec"
	"github.com/drover-io/drover/pkg/spec"
)

// Names of what render adds to an app's group.
const (
	// secretsTemplatePath is where Nomad renders the secrets env file: the
	// task's secrets/ directory, which is in-memory and not readable from
	// other tasks.
	secretsTemplatePath = "secrets/drover.env"
	// vaultIdentityName is the workload identity Nomad uses for the default
	// Vault cluster (nomad/structs Vault.IdentityName).
	vaultIdentityName = "vault_default"
	vaultIdentityTTL  = time.Hour
)

// appJob renders one app's Nomad job: a single group with the app's task
// and helpers, in bridge networking with a Connect sidecar when the app is
// in the mesh.
func (r *renderer) appJob(app *spec.App) (*Job, error) {
	first, err := r.buildAppJob(app)
	if err != nil {
		return nil, err
	}
	// The first build becomes the canonical job; only --format hcl builds
	// the readable form again.
	build := func() *nomadapi.Job {
		if j := first; j != nil {
			first = nil
			return j
		}
		j, _ := r.buildAppJob(app)
		return j
	}
	preserve := app.Scaling != nil && app.Scaling.Policy != nil && app.Scaling.Enabled.V
	return finishJob(build, r.owner(app), "", preserve), nil
}

// buildAppJob builds the job as drover writes it, before Nomad's defaults.
func (r *renderer) buildAppJob(app *spec.App) (*nomadapi.Job, error) {
	owner := r.owner(app)
	job := r.baseJob(app.Name, app.Type.V, owner)
	if app.Datacenters.Set {
		job.Datacenters = append([]string(nil), app.Datacenters.V...)
	}
	if app.NodePool.Set {
		job.NodePool = ptr(app.NodePool.V)
	}
	if app.Priority.Set {
		job.Priority = ptr(app.Priority.V)
	}
	for k, v := range app.Meta.V {
		if _, clash := job.Meta[k]; clash {
			return nil, fmt.Errorf("app %q: meta key %q is reserved for drover's ownership metadata", app.Name, k)
		}
		job.Meta[k] = v
	}
	if app.Update != nil {
		u := app.Update
		job.Update = &nomadapi.UpdateStrategy{
			MaxParallel:      ptr(u.MaxParallel.V),
			Canary:           ptr(u.Canary.V),
			AutoPromote:      ptr(u.AutoPromote.V),
			AutoRevert:       ptr(u.AutoRevert.V),
			MinHealthyTime:   ptr(u.MinHealthyTime.V),
			HealthyDeadline:  ptr(u.HealthyDeadline.V),
			ProgressDeadline: ptr(u.ProgressDeadline.V),
		}
	}
	if p := app.Periodic; p != nil {
		job.Periodic = &nomadapi.PeriodicConfig{
			Enabled:         ptr(true),
			Specs:           []string{p.Cron.V},
			ProhibitOverlap: ptr(p.ProhibitOverlap.V),
		}
		if p.TimeZone.Set {
			job.Periodic.TimeZone = ptr(p.TimeZone.V)
		}
	}

	group := &nomadapi.TaskGroup{Name: ptr(app.Name), Count: ptr(app.EffectiveCount())}
	if app.Type.V == spec.TypeSystem || app.Type.V == spec.TypeSysbatch {
		group.Count = nil // one on every eligible client
	}
	// One network namespace for the group: the sidecar's, and the one in
	// which helper tasks reach the app (and each other) on localhost.
	// Published ports are mapped from the host into it.
	if app.Service != nil || len(app.Helpers) > 0 || hasPublished(app) || app.Network.V == spec.NetworkHost || app.Hostname.Set {
		group.Networks = []*nomadapi.NetworkResource{r.network(app)}
	}
	if app.Service != nil {
		group.Services = []*nomadapi.Service{r.service(app)}
	}
	for _, ps := range app.PlainServices {
		if !ps.Task.Set {
			group.Services = append(group.Services, r.plainService(app, ps))
		}
	}
	if s := app.Scaling; s != nil {
		group.Scaling = &nomadapi.ScalingPolicy{
			Min:     ptr(int64(s.Min.V)),
			Max:     ptr(int64(s.Max.V)),
			Enabled: ptr(s.Enabled.V),
		}
		if s.Policy != nil {
			group.Scaling.Policy = s.Policy.NomadMap()
		}
	}
	diags := groupExtras(app, group)
	for _, b := range app.JobBlocks {
		diags = append(diags, jobspec.DecodeBlock(b.Type, b.Body, b.DeclRange, b.Ctx, job)...)
	}
	for _, t := range app.Tasks() {
		task := r.task(app, t)
		diags = append(diags, taskExtras(app, t, task)...)
		// Task-level services register from (and with the life of) a task.
		for _, ps := range app.PlainServices {
			if ps.Task.V == t.Name {
				task.Services = append(task.Services, r.plainService(app, ps))
			}
		}
		group.Tasks = append(group.Tasks, task)
	}
	diags = append(diags, applyNomadBlock(app, group, app.Service != nil)...)
	if diags.HasErrors() {
		return nil, &DiagnosticsError{Diags: diags}
	}
	job.TaskGroups = []*nomadapi.TaskGroup{group}
	return job, nil
}

func hasPublished(app *spec.App) bool {
	for _, p := range app.Ports {
		if p.Published() {
			return true
		}
	}
	return false
}

// network renders the group's bridge network with the published ports:
// a static port is reserved on the host, the others get a dynamic host
// port; each maps to the container port (to) when the spec names one.
func (r *renderer) network(app *spec.App) *nomadapi.NetworkResource {
	n := &nomadapi.NetworkResource{Mode: app.Network.V, Hostname: app.Hostname.V}
	for _, p := range app.Ports {
		if !p.Published() {
			continue
		}
		port := nomadapi.Port{Label: p.Label, Value: p.Static.V, To: p.To.V, HostNetwork: p.HostNetwork.V}
		if p.Static.V > 0 {
			n.ReservedPorts = append(n.ReservedPorts, port)
		} else {
			n.DynamicPorts = append(n.DynamicPorts, port)
		}
	}
	return n
}

// finishJob canonicalizes one build of the job and keeps the builder for
// the readable form, which only `--format hcl` needs.
func finishJob(build func() *nomadapi.Job, owner Owner, gateway string, preserveCounts bool) *Job {
	canonical := build()
	canonical.Canonicalize()
	return &Job{Owner: owner, Gateway: gateway, Job: canonical, readable: build, PreserveCounts: preserveCounts}
}

// baseJob sets what every job drover renders shares.
func (r *renderer) baseJob(id, typ string, owner Owner) *nomadapi.Job {
	p := r.set.Project
	job := &nomadapi.Job{
		ID:          ptr(id),
		Name:        ptr(id),
		Type:        ptr(typ),
		Datacenters: append([]string(nil), p.Datacenters.V...),
		Meta:        owner.Meta(r.opts.Version),
	}
	if p.Region.V != "" {
		job.Region = ptr(p.Region.V)
	}
	if p.Namespace.V != "" {
		job.Namespace = ptr(p.Namespace.V)
	}
	return job
}

// service renders the app's Consul service with its Connect sidecar.
// The port is the container port as a number: with a dynamic port label
// Envoy would forward to the host port (Nomad #9824), and the expose path of
// an http check needs a numeric port.
func (r *renderer) service(app *spec.App) *nomadapi.Service {
	s := app.Service
	svc := &nomadapi.Service{
		Name:     app.Name,
		Tags:     append([]string(nil), s.Tags.V...),
		Provider: "consul",
		Connect:  &nomadapi.ConsulConnect{SidecarService: &nomadapi.ConsulSidecarService{}},
	}
	if port := app.Port(s.Port.V); port != nil {
		svc.PortLabel = strconv.Itoa(port.To.V)
	}
	if s.CanaryTags.Set {
		svc.CanaryTags = append([]string(nil), s.CanaryTags.V...)
	}
	if s.Meta.Set {
		svc.Meta = maps.Clone(s.Meta.V)
	}
	for _, c := range s.Checks {
		svc.Checks = append(svc.Checks, r.check(app, c, true, false))
	}
	if len(s.Upstreams) > 0 {
		proxy := &nomadapi.ConsulProxy{}
		for _, u := range s.Upstreams {
			proxy.Upstreams = append(proxy.Upstreams, &nomadapi.ConsulUpstream{
				DestinationName:      u.Name,
				LocalBindPort:        u.LocalPort.V,
				Datacenter:           u.Datacenter.V,
				DestinationNamespace: u.Namespace.V,
			})
		}
		sort.Slice(proxy.Upstreams, func(i, j int) bool { return proxy.Upstreams[i].DestinationName < proxy.Upstreams[j].DestinationName })
		svc.Connect.SidecarService.Proxy = proxy
	}
	if sc := s.Sidecar; sc != nil {
		// Nomad merges these into its default sidecar task key by key.
		task := &nomadapi.SidecarTask{}
		if sc.Image.Set {
			task.Config = map[string]any{"image": sc.Image.V}
		}
		if sc.CPU.Set || sc.Memory.Set {
			task.Resources = &nomadapi.Resources{}
			if sc.CPU.Set {
				task.Resources.CPU = ptr(sc.CPU.V)
			}
			if sc.Memory.Set {
				task.Resources.MemoryMB = ptr(sc.Memory.V)
			}
		}
		svc.Connect.SidecarTask = task
	}
	return svc
}

// check renders a health check. In the mesh an http check goes through a
// path the sidecar exposes, and a grpc check dials the allocation's bridge
// address; outside it, Consul reaches the published port.
func (r *renderer) check(app *spec.App, c *spec.Check, mesh, inTask bool) nomadapi.ServiceCheck {
	check := nomadapi.ServiceCheck{
		Name:          c.Name,
		Type:          c.Type.V,
		Interval:      c.Interval.V,
		Timeout:       c.Timeout.V,
		InitialStatus: c.InitialStatus.V,
		PortLabel:     c.Port.V,
	}
	switch c.Type.V {
	case spec.CheckHTTP:
		check.Path = c.Path.V
		check.Method = c.Method.V
		check.Expose = mesh
		if c.Headers.Set {
			check.Header = map[string][]string{}
			for k, v := range c.Headers.V {
				check.Header[k] = []string{v}
			}
		}
	case spec.CheckGRPC:
		if mesh {
			check.AddressMode = "alloc"
		}
	case spec.CheckScript:
		check.Command = c.Command.V
		check.Args = append([]string(nil), c.Args.V...)
		check.TaskName = c.Task.V
		if check.TaskName == "" && !inTask {
			// A group service's script check runs in the app's own task; a
			// task's service checks in that task, named by no one.
			check.TaskName = app.Name
		}
	}
	if rs := c.Restart; rs != nil {
		check.CheckRestart = &nomadapi.CheckRestart{Limit: rs.Limit.V, Grace: ptr(rs.Grace.V), IgnoreWarnings: rs.IgnoreWarnings.V}
	}
	return check
}

// plainService renders a service outside the mesh: Consul registers it at
// the host address and port Nomad published for its port label.
func (r *renderer) plainService(app *spec.App, s *spec.Service) *nomadapi.Service {
	svc := &nomadapi.Service{
		Name:       s.Name.V,
		PortLabel:  s.Port.V,
		Provider:   s.Provider.V,
		Tags:       append([]string(nil), s.Tags.V...),
		CanaryTags: append([]string(nil), s.CanaryTags.V...),
	}
	if s.Meta.Set {
		svc.Meta = maps.Clone(s.Meta.V)
	}
	for _, c := range s.Checks {
		svc.Checks = append(svc.Checks, r.check(app, c, false, s.Task.Set))
	}
	return svc
}

// task renders one Docker task. Secrets become a template that Nomad renders
// from Vault into the task's secrets directory and loads as env vars:
// values never pass through drover.
func (r *renderer) task(app *spec.App, t *spec.Task) *nomadapi.Task {
	config := map[string]any{}
	if t.Driver.V == spec.DriverDocker {
		config["image"] = t.Image.V
	}
	if t.Command.V != "" {
		config["command"] = t.Command.V
	}
	if t.Args.Set {
		config["args"] = append([]string(nil), t.Args.V...)
	}
	task := &nomadapi.Task{
		Name:   t.Name,
		Driver: t.Driver.V,
		Config: config,
		Resources: &nomadapi.Resources{
			CPU:      ptr(t.Resources.CPU.V),
			MemoryMB: ptr(t.Resources.Memory.V),
		},
	}
	if t.Resources.MemoryMax.Set {
		task.Resources.MemoryMaxMB = ptr(t.Resources.MemoryMax.V)
	}
	if len(t.Env) > 0 {
		task.Env = make(map[string]string, len(t.Env))
		for _, e := range t.Env {
			task.Env[e.Name] = e.Value
		}
	}
	if lc := t.Lifecycle; lc != nil {
		task.Lifecycle = &nomadapi.TaskLifecycle{Hook: lc.Hook.V, Sidecar: lc.Sidecar.V}
	}
	if app.NomadAPI.V && t == app.Main {
		// The default workload identity doubles as a Nomad ACL token (with
		// the policies attached to the job), and the task API socket needs
		// no network path to a Nomad agent.
		task.Identity = &nomadapi.WorkloadIdentity{Env: true}
		if task.Env == nil {
			task.Env = map[string]string{}
		}
		task.Env["NOMAD_ADDR"] = "unix://${NOMAD_SECRETS_DIR}/api.sock"
	}
	if hasVault(t) {
		v := r.set.Project.Vault
		if len(t.Secrets) > 0 {
			task.Templates = []*nomadapi.Template{{
				EmbeddedTmpl:  ptr(secretsTemplate(v.KVMount, t.Secrets)),
				DestPath:      ptr(secretsTemplatePath),
				Envvars:       ptr(true),
				ChangeMode:    ptr("restart"),
				ErrMissingKey: ptr(true),
			}}
		}
		task.Vault = &nomadapi.Vault{Role: vaultName(v, app), ChangeMode: ptr("restart")}
		task.Identities = []*nomadapi.WorkloadIdentity{{
			Name:     vaultIdentityName,
			Audience: append([]string(nil), v.Audience...),
			TTL:      vaultIdentityTTL,
		}}
	}
	return task
}

// secretsTemplate is the consul-template source that reads every secret of
// a task, one `with secret` block per path. Values go through toJSON, the
// encoding the Nomad docs recommend for env templates: it survives quotes,
// newlines and '#', which Nomad's env-file parser would otherwise mangle.
// Keys that are Go identifiers use field syntax, so that
// error_on_missing_key fails the task when the key is missing instead of
// starting it with an empty value.
func secretsTemplate(mount string, secrets []*spec.Secret) string {
	byPath := map[string][]*spec.Secret{}
	var paths []string
	for _, s := range secrets {
		if _, ok := byPath[s.Path.V]; !ok {
			paths = append(paths, s.Path.V)
		}
		byPath[s.Path.V] = append(byPath[s.Path.V], s)
	}
	sort.Strings(paths)
	var b strings.Builder
	for _, path := range paths {
		fmt.Fprintf(&b, "{{ with secret %q }}\n", kvDataPath(mount, path))
		group := byPath[path]
		sort.Slice(group, func(i, j int) bool { return group[i].EnvName < group[j].EnvName })
		for _, s := range group {
			fmt.Fprintf(&b, "%s={{ %s | toJSON }}\n", s.EnvName, keyExpr(s.Key.V))
		}
		b.WriteString("{{ end }}\n")
	}
	return b.String()
}

// kvDataPath is the API path of a KV v2 secret's data.
func kvDataPath(mount, path string) string { return mount + "/data/" + path }

func keyExpr(key string) string {
	if isGoIdentifier(key) {
		return ".Data.data." + key
	}
	return "index .Data.data " + strconv.Quote(key)
}

func isGoIdentifier(s string) bool {
	for i, c := range s {
		switch {
		case c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		case i > 0 && '0' <= c && c <= '9':
		default:
			return false
		}
	}
	return s != ""
}

func ptr[T any](v T) *T { return &v }

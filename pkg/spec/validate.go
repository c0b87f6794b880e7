package spec

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // validate time_zone the same way on every machine

	"github.com/hashicorp/cronexpr"
	"github.com/hashicorp/hcl/v2"

	"github.com/drover-io/drover/pkg/scaling"
)

// validate runs the semantic checks that need the whole project: names,
// references between apps, ports, scaling bounds, exposure and secrets.
func validate(set *Set) hcl.Diagnostics {
	v := &validator{set: set, e: &evaluator{}}
	v.uniqueNames()
	for _, app := range set.Apps {
		v.app(app)
	}
	for _, ext := range set.Externals {
		v.external(ext)
	}
	v.exposures()
	return v.e.diags
}

type validator struct {
	set *Set
	e   *evaluator
}

func (v *validator) errorf(rng hcl.Range, summary, format string, args ...any) {
	v.e.errorf(rng, summary, format, args...)
}

func (v *validator) warnf(rng hcl.Range, summary, format string, args ...any) {
	v.e.warnf(rng, summary, format, args...)
}

// uniqueNames checks that app, external and gateway names are valid and
// distinct: each becomes a Consul service name.
func (v *validator) uniqueNames() {
	type decl struct {
		kind string
		rng  *hcl.Range
	}
	// One entry per app of a large project: small, and sized at once.
	seen := make(map[string]decl, len(v.set.Apps)+len(v.set.Externals)+2)
	claim := func(name, kind string, rng *hcl.Range) {
		if prev, dup := seen[name]; dup {
			v.errorf(*rng, "Duplicate service name",
				"The name %q is already used by the %s at %s:%d; apps, externals and gateways share one Consul service namespace.",
				name, prev.kind, prev.rng.Filename, prev.rng.Start.Line)
			return
		}
		seen[name] = decl{kind: kind, rng: rng}
	}
	p := v.set.Project
	claim(p.Ingress.Name, "ingress gateway", &p.Ingress.DeclRange)
	claim(p.Terminating.Name, "terminating gateway", &p.Terminating.DeclRange)
	for _, app := range v.set.Apps {
		if !ValidName(app.Name) {
			v.errorf(app.NameRange, "Invalid app name", "%s", NameRule)
		}
		claim(app.Name, "app", &app.NameRange)
	}
	for _, ext := range v.set.Externals {
		if !ValidName(ext.Name) {
			v.errorf(ext.NameRange, "Invalid external name", "%s", NameRule)
		}
		claim(ext.Name, "external", &ext.NameRange)
	}
}

func (v *validator) app(app *App) {
	switch app.Type.V {
	case TypeService, TypeBatch, TypeSystem, TypeSysbatch:
	default:
		v.errorf(app.Type.Range, "Invalid app type", "type must be %q (long-running, the default), %q (runs to completion), %q (one on every client) or %q (runs to completion on every client), not %q.",
			TypeService, TypeBatch, TypeSystem, TypeSysbatch, app.Type.V)
	}
	if perNode := app.Type.V == TypeSystem || app.Type.V == TypeSysbatch; perNode {
		if app.Count.Set {
			v.errorf(app.Count.Range, "No count for a "+app.Type.V+" app", "A %s app runs one instance on every eligible client; Nomad takes no count. Remove it.", app.Type.V)
		}
		if app.Scaling != nil {
			v.errorf(app.Scaling.DeclRange, "No scaling for a "+app.Type.V+" app", "A %s app runs one instance on every eligible client, so it cannot scale. Remove the scaling block.", app.Type.V)
		}
	}
	if app.Count.Set && app.Count.V < 0 {
		v.errorf(app.Count.Range, "Invalid count", "count must be 0 or more.")
	}
	v.ports(app)
	v.volumes(app)
	switch app.Network.V {
	case NetworkBridge:
		if app.Hostname.Set {
			// Nomad builds a named network namespace for docker tasks only:
			// the allocation fails on the client otherwise.
			for _, t := range app.Tasks() {
				if t.Driver.V != DriverDocker {
					v.errorf(app.Hostname.Range, "Hostname with a non-docker task", "Nomad names the network namespace of docker tasks only, and task %q runs with %s: the allocation would fail on the client. Remove hostname, or run the task in docker.", t.Name, t.Driver.V)
					break
				}
			}
		}
	case NetworkHost:
		if app.Hostname.Set {
			v.errorf(app.Hostname.Range, "Hostname on the host network", "hostname names the group's own network namespace; on the host network the app has the client's hostname. Remove hostname, or network.")
		}
		if app.Service != nil {
			v.errorf(app.Network.Range, "A mesh app's network is bridge", "App %q is in the service mesh: its Connect sidecar needs the group's bridge network namespace. Remove network, or take the app out of the mesh (mesh = false on its service).", app.Name)
		}
	default:
		v.errorf(app.Network.Range, "Invalid network", "network must be %q (the default) or %q.", NetworkBridge, NetworkHost)
	}
	if app.Priority.Set && (app.Priority.V < 1 || app.Priority.V > 100) {
		v.errorf(app.Priority.Range, "Invalid priority", "priority must be between 1 and 100 (Nomad's default is 50).")
	}
	if app.Datacenters.Set && len(app.Datacenters.V) == 0 {
		v.errorf(app.Datacenters.Range, "No datacenters", "datacenters must name at least one datacenter (\"*\" for all); leave it out to use the project's.")
	}
	for _, b := range app.JobBlocks {
		if b.Type == "parameterized" && app.Type.V != TypeBatch && app.Type.V != TypeSysbatch {
			v.errorf(b.DeclRange, "Parameterized service", "Only batch (or sysbatch) apps are dispatched with parameters; set type = \"batch\".")
		}
	}
	seenTasks := map[string]bool{}
	for _, t := range app.Tasks() {
		if seenTasks[t.Name] {
			v.errorf(t.DeclRange, "Duplicate task name", "The app's own task is named %q after the app; give this helper another name.", t.Name)
		}
		seenTasks[t.Name] = true
		v.task(app, t)
	}
	if app.Service != nil {
		v.service(app)
	}
	names := map[string]bool{app.Name: app.Service != nil}
	for _, s := range app.PlainServices {
		v.plainService(app, s, names)
		if s.Sidecar != nil {
			v.errorf(s.Sidecar.DeclRange, "Sidecar outside the mesh", "A service outside the mesh has no Connect sidecar; size the sidecar in the app's mesh service.")
		}
	}
	if s := app.Service; s != nil && s.Sidecar != nil {
		if s.Sidecar.CPU.Set && s.Sidecar.CPU.V < 1 {
			v.errorf(s.Sidecar.CPU.Range, "Invalid resources", "cpu is in MHz and must be at least 1.")
		}
		if s.Sidecar.Memory.Set && s.Sidecar.Memory.V < 10 {
			v.errorf(s.Sidecar.Memory.Range, "Invalid resources", "memory is in MiB and must be at least 10, Nomad's minimum.")
		}
	}
	if app.Expose != nil {
		v.expose(app)
	}
	if app.Update != nil {
		v.update(app)
	}
	v.scaling(app)
	v.periodic(app)
	if app.Type.V == TypeBatch {
		notInBatch := func(rng hcl.Range, what string) {
			v.errorf(rng, "Not allowed in a batch app", "A batch app runs to completion, so it has no %s block; remove it or make the app a service.", what)
		}
		if app.Expose != nil {
			notInBatch(app.Expose.DeclRange, "expose")
		}
		if app.Update != nil {
			notInBatch(app.Update.DeclRange, "update")
		}
		if app.Scaling != nil {
			notInBatch(app.Scaling.DeclRange, "scaling")
		}
	}
}

func (v *validator) ports(app *App) {
	byTo := map[int]*Port{}
	for _, p := range app.Ports {
		if !ValidPortLabel(p.Label) {
			v.errorf(p.LabelRange, "Invalid port label", "A port label must be lowercase letters, digits, underscores and dashes, starting with a letter; a port is NOMAD_PORT_<label> in the task's env, a dash written as an underscore.")
		}
		if p.Static.Set && (p.Static.V < 1 || p.Static.V > 65535) {
			v.errorf(p.Static.Range, "Invalid port", "A static host port must be between 1 and 65535.")
		}
		if p.HostNetwork.Set && !p.Published() {
			v.errorf(p.HostNetwork.Range, "Host network of an unpublished port", "host_network picks where a published port listens on the host; set publish = true (or a static port), or remove it.")
		}
		if !p.To.Set {
			if p.toAbsent && !p.Published() {
				v.errorf(p.DeclRange, "Missing port number", "A port needs to = <the port the container listens on>; a published port (publish = true or static) may leave it out when the task listens on the host port itself.")
			}
			continue
		}
		if p.To.V < 1 || p.To.V > 65535 {
			v.errorf(p.To.Range, "Invalid port", "A port must be between 1 and 65535.")
			continue
		}
		if prev, dup := byTo[p.To.V]; dup {
			v.errorf(p.To.Range, "Duplicate container port", "Ports %q and %q both name container port %d.", prev.Label, p.Label, p.To.V)
		}
		byTo[p.To.V] = p
	}
}

// files, mounts and stop settings of a task.
func (v *validator) taskExtras(app *App, t *Task) {
	mount := v.set.Project.Vault.KVMount
	for _, f := range t.Files {
		dest := f.Destination
		switch {
		case strings.HasPrefix(dest, "/") || slices.Contains(strings.Split(dest, "/"), ".."):
			v.errorf(f.DeclRange, "Invalid file destination", "%q must be a path inside the task directory, such as \"local/app.conf\" (or \"secrets/...\" for what holds secrets).", dest)
		case f.Secrets.Set && !strings.HasPrefix(dest, "secrets/"):
			v.warnf(f.DeclRange, "Secret file on disk", "%q reads Vault secrets but is not under secrets/, the task's in-memory directory that other tasks cannot read; put it there.", dest)
		}
		switch f.ChangeMode.V {
		case "restart", "noop", "script":
		case "signal":
			if !f.ChangeSignal.Set {
				v.errorf(f.ChangeMode.Range, "Missing change_signal", "change_mode \"signal\" sends change_signal (such as \"SIGHUP\") when the file changes; set it.")
			}
		default:
			v.errorf(f.ChangeMode.Range, "Invalid change_mode", "change_mode must be \"restart\" (the default), \"signal\", \"noop\" or \"script\".")
		}
		for _, d := range []Val[string]{f.LeftDelimiter, f.RightDelimiter} {
			if d.Set && strings.TrimSpace(d.V) == "" {
				v.errorf(d.Range, "Empty delimiter", "A template delimiter replaces {{ or }}; it cannot be empty.")
			}
		}
		if f.Perms.Set {
			if _, err := strconv.ParseUint(f.Perms.V, 8, 32); err != nil || len(f.Perms.V) < 3 {
				v.errorf(f.Perms.Range, "Invalid perms", "perms is an octal mode such as \"0644\".")
			}
		}
		if f.Mount.Set && (t.Driver.V != DriverDocker || !strings.HasPrefix(f.Mount.V, "/")) {
			v.errorf(f.Mount.Range, "Invalid mount", "mount bind-mounts the file into a docker container at an absolute path such as \"/etc/app/app.conf\".")
		}
		for _, p := range f.Secrets.V {
			if problem := secretPathProblem(p); problem != "" {
				v.errorf(f.Secrets.Range, "Invalid secret path", "path %q %s.", p, problem)
			} else if strings.HasPrefix(p, mount+"/") {
				v.errorf(f.Secrets.Range, "Secret path includes the mount", "path is relative to the KV v2 mount %q; drover adds %q itself.", mount, mount+"/data/")
			}
		}
	}
	for _, m := range t.Mounts {
		if !slices.ContainsFunc(app.Volumes, func(vol *Volume) bool { return vol.Name == m.Volume }) {
			v.errorf(m.DeclRange, "Unknown volume", "App %q declares no volume %q; add a volume block for it.", app.Name, m.Volume)
		}
		if !strings.HasPrefix(m.Path.V, "/") {
			v.errorf(m.Path.Range, "Invalid mount path", "path is where the volume appears in the task, an absolute path such as \"/var/lib/app\".")
		}
	}
	if t.KillSignal.Set && !strings.HasPrefix(t.KillSignal.V, "SIG") {
		v.errorf(t.KillSignal.Range, "Invalid kill_signal", "kill_signal is a signal name such as \"SIGTERM\" or \"SIGQUIT\".")
	}
	if t.Docker != nil && t.Driver.V != DriverDocker {
		v.errorf(t.Docker.DeclRange, "Docker options of a non-docker task", "The docker block configures the docker driver; this task uses %s.", t.Driver.V)
	}
}

func (v *validator) volumes(app *App) {
	for _, vol := range app.Volumes {
		switch vol.Type.V {
		case "host":
			// Dynamic host volumes take access_mode and attachment_mode too.
			if vol.PerAlloc.Set {
				v.errorf(vol.PerAlloc.Range, "CSI setting of a host volume", "per_alloc applies to CSI volumes (type = \"csi\").")
			}
		case "csi":
			if !vol.AccessMode.Set || !vol.AttachmentMode.Set {
				v.errorf(vol.DeclRange, "Incomplete CSI volume", "A CSI volume needs access_mode (such as \"single-node-writer\") and attachment_mode (\"file-system\" or \"block-device\").")
			}
		default:
			v.errorf(vol.Type.Range, "Invalid volume type", "type must be \"host\" (the default) or \"csi\".")
		}
	}
}

func (v *validator) task(app *App, t *Task) {
	v.taskExtras(app, t)
	switch t.Driver.V {
	case DriverDocker:
		if t.imageAbsent {
			v.errorf(t.DeclRange, "Missing image", "A docker task needs image = \"registry.example.com/team/app:1.2.3\".")
		}
	case DriverExec, DriverRawExec:
		if t.Image.Set {
			v.errorf(t.Image.Range, "Image of a non-docker task", "An %s task runs command on the client itself; it has no image. Remove it, or use driver = \"docker\".", t.Driver.V)
		}
		if !t.Command.Set {
			v.errorf(t.DeclRange, "Missing command", "An %s task runs command (with args) on the client; set command.", t.Driver.V)
		}
		if t == app.Main && app.Service != nil {
			v.errorf(t.Driver.Range, "A mesh app runs in a container", "The app's own task sits behind a Connect sidecar in the group's network namespace; give it an image (driver docker). exec and raw_exec suit helper tasks.")
		}
	default:
		v.errorf(t.Driver.Range, "Invalid driver", "driver must be %q (the default), %q or %q, not %q.", DriverDocker, DriverExec, DriverRawExec, t.Driver.V)
	}
	if t.Image.Set {
		image := t.Image.V
		switch {
		case strings.TrimSpace(image) == "":
			v.errorf(t.Image.Range, "Empty image", "image must name a container image such as \"registry.example.com/team/app:1.2.3\".")
		case !strings.Contains(image, "@") && (imageTag(image) == "" || imageTag(image) == "latest"):
			v.warnf(t.Image.Range, "Mutable image tag",
				"Image %q has no fixed tag, so redeploying the same spec can run different code and Nomad pulls it on every start. Pin a version tag or a digest.", image)
		}
	}
	r := t.Resources
	if r.CPU.V < 1 {
		v.errorf(r.CPU.Range, "Invalid resources", "cpu is in MHz and must be at least 1.")
	}
	if r.Memory.V < 10 {
		v.errorf(r.Memory.Range, "Invalid resources", "memory is in MiB and must be at least 10, Nomad's minimum.")
	}
	if r.MemoryMax.Set && r.MemoryMax.V < r.Memory.V {
		v.errorf(r.MemoryMax.Range, "Invalid resources", "memory_max (%d MiB) must not be less than memory (%d MiB).", r.MemoryMax.V, r.Memory.V)
	}

	nomadAPI := app.NomadAPI.V && t == app.Main
	envNames := map[string]bool{}
	for _, ev := range t.Env {
		envNames[ev.Name] = true
		if !validEnvName(ev.Name) {
			v.errorf(ev.NameRange, "Invalid environment variable name", "%q is not a valid name: use letters, digits and underscores, not starting with a digit.", ev.Name)
		} else if why := reservedEnvName(ev.Name, nomadAPI); why != "" {
			v.errorf(ev.NameRange, "Reserved environment variable name", "%s, so a value here would clash with it.", why)
		}
		if why := looksLikeSecret(ev.Name, ev.Value); why != "" {
			v.errorf(ev.ValueRange, "Literal secret in env",
				"%s looks like a secret: %s. Values in env end up in the job, in plans and in logs. Store it in Vault and declare it as\n  secret %q { path = \"<path in %s>\"  key = \"<key>\" }\nso that Nomad injects it at run time.",
				ev.Name, why, ev.Name, v.set.Project.Vault.KVMount)
		}
	}
	mount := v.set.Project.Vault.KVMount
	for _, s := range t.Secrets {
		if !validEnvName(s.EnvName) {
			v.errorf(s.NameRange, "Invalid environment variable name", "%q is not a valid name: use letters, digits and underscores, not starting with a digit.", s.EnvName)
		} else if why := reservedEnvName(s.EnvName, nomadAPI); why != "" {
			v.errorf(s.NameRange, "Reserved environment variable name", "%s, so a secret of that name would clash with it.", why)
		}
		if envNames[s.EnvName] {
			v.errorf(s.NameRange, "Secret shadows env", "%s is set both in env and as a secret; keep only the secret.", s.EnvName)
		}
		path, problem := s.Path.V, secretPathProblem(s.Path.V)
		switch {
		case s.Path.Set && strings.TrimSpace(path) == "":
			v.errorf(s.Path.Range, "Empty secret path", "path is the secret's path inside the %q KV mount, such as \"shop/db\".", mount)
		case !s.Path.Set:
		case problem != "":
			v.errorf(s.Path.Range, "Invalid secret path", "path %q %s.", path, problem)
		case strings.HasPrefix(path, mount+"/") || strings.HasPrefix(path, "data/"):
			v.errorf(s.Path.Range, "Secret path includes the mount",
				"path is relative to the KV v2 mount %q; drover adds %q itself. Write %q.", mount, mount+"/data/", strings.TrimPrefix(strings.TrimPrefix(path, mount+"/"), "data/"))
		}
		if s.Key.Set && strings.TrimSpace(s.Key.V) == "" {
			v.errorf(s.Key.Range, "Empty secret key", "key names the field of the secret to read, such as \"password\".")
		}
	}
	if lc := t.Lifecycle; lc != nil {
		switch lc.Hook.V {
		case HookPrestart, HookPoststart, HookPoststop:
		default:
			v.errorf(lc.Hook.Range, "Invalid lifecycle hook", "hook must be %q, %q or %q.", HookPrestart, HookPoststart, HookPoststop)
		}
		if lc.Sidecar.V && lc.Hook.V == HookPoststop {
			v.errorf(lc.Sidecar.Range, "Invalid lifecycle", "A poststop task runs after the others stop, so it cannot be a sidecar.")
		}
	}
}

// secretPathProblem says what keeps path from naming exactly one KV secret,
// or "". The path becomes both the template's read and the Vault policy
// that allows it, and the task may read exactly the paths it declares: a
// wildcard would widen the policy, a dot segment or a stray slash would
// make the policy and the read name different paths.
func secretPathProblem(path string) string {
	switch {
	case strings.HasPrefix(path, "/") || strings.HasSuffix(path, "/"):
		return "must be relative to the KV mount, without a leading or trailing slash"
	case strings.ContainsAny(path, "\"{}`\n"):
		return "contains characters that cannot appear in a Vault path"
	case strings.Contains(path, "*"):
		return "contains \"*\", a wildcard in Vault policies, so the policy would allow reading every secret the pattern matches; name one exact path"
	}
	for _, seg := range strings.Split(path, "/") {
		switch seg {
		case "":
			return "has an empty segment (\"//\"), so it does not name one secret; write its exact path"
		case "+":
			return "has a \"+\" segment, a wildcard in Vault policies, so the policy would allow reading every secret the pattern matches; name one exact path"
		case ".", "..":
			return fmt.Sprintf("has a %q segment, so the path read and the path the policy allows may name different secrets; write the exact path without \".\" or \"..\" segments", seg)
		}
	}
	return ""
}

// imageTag returns the tag of an image reference, or "".
func imageTag(image string) string {
	name := image[strings.LastIndex(image, "/")+1:]
	if i := strings.LastIndex(name, ":"); i >= 0 {
		return name[i+1:]
	}
	return ""
}

var httpMethods = map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "DELETE": true, "OPTIONS": true, "PATCH": true}

func (v *validator) service(app *App) {
	s := app.Service
	for _, a := range []Val[string]{s.Task, s.Provider} {
		if a.Set {
			v.errorf(a.Range, "Not for a mesh service", "task and provider apply to services outside the mesh (mesh = false); the mesh service is the group's, in Consul.")
		}
	}
	if s.Name.Set && s.Name.V != app.Name {
		v.errorf(s.Name.Range, "A mesh service is named after its app", "Callers name app %q in their upstreams, so its mesh service is %q; remove name, or set mesh = false to register %q outside the mesh.", app.Name, app.Name, s.Name.V)
	}
	switch s.Protocol.V {
	case ProtocolHTTP, ProtocolHTTP2, ProtocolGRPC, ProtocolTCP:
	default:
		v.errorf(s.Protocol.Range, "Invalid protocol", "protocol must be %q, %q, %q or %q.", ProtocolHTTP, ProtocolHTTP2, ProtocolGRPC, ProtocolTCP)
	}
	if s.Port.Set && app.Port(s.Port.V) == nil {
		v.errorf(s.Port.Range, "Unknown port", "The service uses port %q, but app %q declares %s.", s.Port.V, app.Name, portList(app))
	}
	if s.Port.V == "" && len(app.Ports) > 1 {
		v.errorf(s.DeclRange, "Ambiguous service port", "App %q has %s; say which one the service uses with port = \"<label>\".", app.Name, portList(app))
	}
	if s.Port.V == "" && len(s.Checks) > 0 {
		v.errorf(s.Checks[0].DeclRange, "Check without a port", "Health checks need the port the service serves on; declare a port block and set the service's port.")
	}
	for _, c := range s.Checks {
		v.check(app, c, true)
	}
	upstreamPorts := map[int]string{}
	for _, p := range app.Ports {
		if p.To.Set {
			upstreamPorts[p.To.V] = "port " + quote(p.Label)
		}
	}
	for _, u := range s.Upstreams {
		v.upstream(app, u, upstreamPorts)
	}
	for _, from := range s.AllowFrom.V {
		project, caller, ok := strings.Cut(from, "/")
		switch {
		case !ok || !ValidServiceName(project) || !ValidServiceName(caller):
			v.errorf(s.AllowFrom.Range, "Invalid allow_from", "%q should name an app of another drover project as \"<project>/<app>\".", from)
		case project == v.set.Project.Name:
			v.errorf(s.AllowFrom.Range, "allow_from of this project", "%q is in this project: apps of this project are allowed by naming %q as an upstream.", from, app.Name)
		}
	}
}

func portList(app *App) string {
	if len(app.Ports) == 0 {
		return "no ports"
	}
	labels := make([]string, len(app.Ports))
	for i, p := range app.Ports {
		labels[i] = quote(p.Label)
	}
	return "ports " + strings.Join(labels, ", ")
}

// plainService checks a service outside the mesh: registered at a host
// port, so its port must be published, and it calls no one.
//
// One name may be registered on several ports (Nomad's service IDs carry
// the port label), as a database registers its client and admin ports.
func (v *validator) plainService(app *App, s *Service, names map[string]bool) {
	key := s.Name.V + "\x00" + s.Port.V + "\x00" + s.Task.V
	if names[key] || names[s.Name.V] {
		v.errorf(s.Name.Range, "Duplicate service name", "App %q already registers a service %q on port %q; give this one its own name or port.", app.Name, s.Name.V, s.Port.V)
	}
	names[key] = true
	if !ValidServiceName(s.Name.V) {
		v.errorf(s.Name.Range, "Invalid service name", "%q is not a valid Consul service name: use lowercase letters, digits and dashes.", s.Name.V)
	}
	if s.Task.Set && !slices.ContainsFunc(app.Tasks(), func(t *Task) bool { return t.Name == s.Task.V }) {
		v.errorf(s.Task.Range, "Unknown task", "App %q has no task %q to register the service from.", app.Name, s.Task.V)
	}
	switch s.Provider.V {
	case "consul", "nomad":
	default:
		v.errorf(s.Provider.Range, "Invalid provider", "provider must be \"consul\" (the default) or \"nomad\" (Nomad's own service discovery).")
	}
	if s.Protocol.Set {
		v.errorf(s.Protocol.Range, "Protocol outside the mesh", "protocol tells the mesh how to route to a service; a service outside the mesh has none. Remove it.")
	}
	for _, u := range s.Upstreams {
		v.errorf(u.DeclRange, "Upstream outside the mesh", "Only the app's mesh service has upstreams; declare %q in its service block.", u.Name)
	}
	switch p := app.Port(s.Port.V); {
	case s.Port.V == "":
		// The address alone is registered; each check names its port.
		for _, c := range s.Checks {
			if !c.Port.Set && c.Type.V != CheckScript {
				v.errorf(c.DeclRange, "Check without a port", "Service %q registers no port, so its %s check needs port = \"<label>\" (or give the service a port).", s.Name.V, c.Type.V)
			}
		}
	case isPortNumber(s.Port.V):
		// A port number is advertised as it is, as Nomad does: a port the
		// app listens on outside Nomad's port mapping (host networking).
		if n, _ := strconv.Atoi(s.Port.V); n < 1 || n > 65535 {
			v.errorf(s.Port.Range, "Invalid port", "A service's port is a port label or a port number between 1 and 65535.")
		}
	case p == nil:
		v.errorf(s.Port.Range, "Unknown port", "The service uses port %q, but app %q declares %s.", s.Port.V, app.Name, portList(app))
	case !p.Published():
		v.errorf(s.Port.Range, "Service at an unpublished port", "A service outside the mesh is reached at a host port, but port %q is mesh-only; set publish = true (or a static port) on it.", s.Port.V)
	}
	for _, c := range s.Checks {
		v.check(app, c, false)
		if s.Task.Set && c.Task.Set {
			v.errorf(c.Task.Range, "Check task of a task's service", "A service registered from a task runs its script checks in that task; remove task from the check.")
		}
	}
}

// isPortNumber: s is all digits, a port number rather than a label.
func isPortNumber(s string) bool {
	return s != "" && allBytes(s, isDigit)
}

// ValidServiceName is the rule for the name of a service outside the
// mesh: lowercase letters, digits and dashes, not starting with a dash.
func ValidServiceName(s string) bool {
	for i, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' && i > 0) {
			return false
		}
	}
	return s != "" && len(s) <= 63
}

func (v *validator) check(app *App, c *Check, mesh bool) {
	if c.Headers.Set && c.Type.V != CheckHTTP {
		v.errorf(c.Headers.Range, "Unsupported argument", "header applies to http checks only.")
	}
	if (c.Command.Set || c.Args.Set) && c.Type.V != CheckScript {
		v.errorf(c.Command.Range, "Unsupported argument", "command and args belong to script checks (type = \"script\").")
	}
	if c.Task.Set && c.Type.V != CheckScript {
		v.errorf(c.Task.Range, "Unsupported argument", "task names where a script check runs; other checks run from Consul.")
	}
	switch c.Type.V {
	case CheckHTTP:
		if !c.Path.Set || !strings.HasPrefix(c.Path.V, "/") {
			rng := c.Path.Range
			v.errorf(rng, "Invalid check path", "An http check needs a path starting with \"/\", such as \"/healthz\".")
		}
	case CheckGRPC:
		if c.Path.Set {
			v.errorf(c.Path.Range, "Unsupported argument", "A grpc check calls the standard gRPC health service and takes no path.")
		}
	case CheckTCP:
		if mesh {
			v.errorf(c.Type.Range, "Unsupported check type",
				"Nomad does not allow tcp checks on services in the mesh, because Consul cannot reach the app's port directly. Use an http or grpc check.")
		}
	case CheckScript:
		if !c.Command.Set {
			v.errorf(c.DeclRange, "Missing command", "A script check runs command (with args) inside a task; set command.")
		}
		if c.Task.Set {
			found := false
			for _, t := range app.Tasks() {
				found = found || t.Name == c.Task.V
			}
			if !found {
				v.errorf(c.Task.Range, "Unknown task", "App %q has no task %q to run the check in.", app.Name, c.Task.V)
			}
		}
	default:
		v.errorf(c.Type.Range, "Invalid check type", "type must be %q, %q, %q or %q.", CheckHTTP, CheckGRPC, CheckTCP, CheckScript)
	}
	if c.Port.Set {
		switch p := app.Port(c.Port.V); {
		case mesh:
			v.errorf(c.Port.Range, "Check port in the mesh", "A mesh service's checks reach the app through its sidecar, at the service's port; port applies to services outside the mesh.")
		case c.Type.V == CheckScript:
			v.errorf(c.Port.Range, "Unsupported argument", "A script check runs a command and probes no port.")
		case p == nil:
			v.errorf(c.Port.Range, "Unknown port", "App %q declares no port %q (it has %s).", app.Name, c.Port.V, portList(app))
		case !p.Published():
			v.errorf(c.Port.Range, "Check at an unpublished port", "Consul probes a check outside the mesh at the host port; publish port %q (publish = true or a static port).", c.Port.V)
		}
	}
	if s := c.InitialStatus; s.Set && s.V != "passing" && s.V != "warning" && s.V != "critical" {
		v.errorf(s.Range, "Invalid initial_status", "initial_status must be \"passing\", \"warning\" or \"critical\" (Consul's default).")
	}
	if r := c.Restart; r != nil && r.Limit.V < 1 {
		v.errorf(r.Limit.Range, "Invalid check_restart", "limit is how many failures in a row restart the task; at least 1.")
	}
	if c.Method.Set {
		if c.Type.V != CheckHTTP {
			v.errorf(c.Method.Range, "Unsupported argument", "method applies to http checks only.")
		} else if !httpMethods[c.Method.V] {
			v.errorf(c.Method.Range, "Invalid HTTP method", "%q is not an HTTP method; use GET, HEAD, POST, ...", c.Method.V)
		}
	}
	if c.Interval.V < time.Second {
		v.errorf(c.Interval.Range, "Invalid check interval", "interval must be at least 1s, Nomad's minimum.")
	}
	if c.Timeout.V == 0 {
		v.errorf(c.Timeout.Range, "Invalid check timeout", "timeout must be longer than zero.")
	} else if c.Timeout.V >= c.Interval.V && c.Interval.V > 0 {
		v.warnf(c.Timeout.Range, "Check timeout not below interval", "timeout (%s) is not shorter than interval (%s), so a slow check overlaps the next one.", c.Timeout.V, c.Interval.V)
	}
}

func (v *validator) upstream(app *App, u *Upstream, usedPorts map[int]string) {
	switch {
	case u.Project == v.set.Project.Name:
		v.errorf(u.NameRange, "Upstream in this project", "%q is this project's own name; name its app alone: upstream %q.", u.Project, u.Name)
	case u.Remote():
		// Another project's app: its spec is not here. Its allow_from
		// decides, and plan says when it does not allow this app yet.
		if !ValidServiceName(u.Project) || !ValidServiceName(u.Name) {
			v.errorf(u.NameRange, "Invalid upstream", "A service of another project is named \"<project>/<app>\", both lowercase letters, digits and dashes.")
		}
	case u.Name == app.Name:
		v.errorf(u.NameRange, "Upstream to itself", "App %q cannot declare itself as an upstream; it reaches itself directly.", app.Name)
	case v.set.External(u.Name) != nil:
	case v.set.App(u.Name) != nil:
		if target := v.set.App(u.Name); target.Service == nil || target.Service.Port.V == "" && len(target.Ports) != 1 {
			v.errorf(u.NameRange, "Upstream has no service", "App %q serves nothing in the mesh (it has no service with a port), so %q cannot call it.", u.Name, app.Name)
		}
	default:
		names := map[string]bool{}
		for _, a := range v.set.Apps {
			names[a.Name] = true
		}
		for _, e := range v.set.Externals {
			names[e.Name] = true
		}
		v.errorf(u.NameRange, "Unknown upstream", "No app or external named %q is in this project%s. Upstreams must name an app or an external declared in the specs.", u.Name, suggestFrom(u.Name, names))
	}
	if !u.LocalPort.Set {
		return
	}
	if u.LocalPort.V < 1 || u.LocalPort.V > 65535 {
		v.errorf(u.LocalPort.Range, "Invalid port", "local_port must be between 1 and 65535.")
		return
	}
	if prev, clash := usedPorts[u.LocalPort.V]; clash {
		v.errorf(u.LocalPort.Range, "Local port collision",
			"local_port %d is already taken by %s; the app, its sidecar and every upstream share one network namespace, so each needs its own port.", u.LocalPort.V, prev)
		return
	}
	usedPorts[u.LocalPort.V] = "upstream " + quote(u.Name)
}

func (v *validator) expose(app *App) {
	x := app.Expose
	switch {
	case app.Service == nil:
		v.errorf(x.DeclRange, "Expose without a service", "Only a service can be exposed: add a service block that names the port to expose.")
	case app.Service.Port.V == "":
		v.errorf(x.DeclRange, "Expose without a port", "The service has no port for the ingress gateway to route to.")
	case app.Service.Protocol.V != ProtocolHTTP:
		v.errorf(x.DeclRange, "Expose needs an http service",
			"The ingress gateway routes public traffic by host name on an http listener, so an exposed service must speak http, not %q.", app.Service.Protocol.V)
	}
	if x.Hosts.Set && len(x.Hosts.V) == 0 {
		v.errorf(x.Hosts.Range, "No public hosts", "hosts must name at least one host, such as [\"api.example.com\"].")
	}
	seen := map[string]bool{}
	for _, h := range x.Hosts.V {
		if !validHost(h) || h == "*" {
			v.errorf(x.Hosts.Range, "Invalid host", "%q is not a host name; use a DNS name, optionally starting with \"*.\".", h)
		}
		if seen[strings.ToLower(h)] {
			v.errorf(x.Hosts.Range, "Duplicate host", "%q is listed twice.", h)
		}
		seen[strings.ToLower(h)] = true
	}
	if !strings.HasPrefix(x.Path.V, "/") {
		v.errorf(x.Path.Range, "Invalid path", "path is a URL path prefix and must start with \"/\".")
	}
}

func (v *validator) update(app *App) {
	u := app.Update
	for _, n := range []Val[int]{u.MaxParallel, u.Canary} {
		if n.V < 0 {
			v.errorf(n.Range, "Invalid update setting", "Counts in update must be 0 or more.")
		}
	}
	if u.AutoPromote.V && u.Canary.V == 0 {
		v.errorf(u.AutoPromote.Range, "Auto-promote without canaries", "auto_promote promotes canaries, but canary is 0. Set canary = 1 or more, or remove auto_promote.")
	}
	if u.MinHealthyTime.V >= u.HealthyDeadline.V {
		v.errorf(u.MinHealthyTime.Range, "Invalid update timing", "min_healthy_time (%s) must be shorter than healthy_deadline (%s).", u.MinHealthyTime.V, u.HealthyDeadline.V)
	}
	if u.HealthyDeadline.V >= u.ProgressDeadline.V && u.ProgressDeadline.V != 0 {
		v.errorf(u.HealthyDeadline.Range, "Invalid update timing", "healthy_deadline (%s) must be shorter than progress_deadline (%s).", u.HealthyDeadline.V, u.ProgressDeadline.V)
	}
}

func (v *validator) scaling(app *App) {
	s := app.Scaling
	if s == nil {
		return
	}
	if s.Min.V < 0 {
		v.errorf(s.Min.Range, "Invalid scaling bounds", "min must be 0 or more.")
	}
	if s.Max.V < s.Min.V {
		v.errorf(s.Max.Range, "Invalid scaling bounds", "max (%d) must not be less than min (%d).", s.Max.V, s.Min.V)
	} else if app.Count.Set && (app.Count.V < s.Min.V || app.Count.V > s.Max.V) {
		v.errorf(app.Count.Range, "Count outside scaling bounds", "count (%d) must lie within scaling min %d and max %d; Nomad rejects the job otherwise.", app.Count.V, s.Min.V, s.Max.V)
	}
	if s.Policy == nil {
		return
	}
	m := s.Policy.Model
	m.ID = app.Name + "/" + app.Name
	m.Enabled = s.Enabled.V
	m.Min, m.Max = int64(s.Min.V), int64(s.Max.V)
	ns := v.set.Project.Namespace.V
	if ns == "" {
		ns = "default"
	}
	m.Target = scaling.Target{Namespace: ns, Job: app.Name, Group: app.Name}
	for _, f := range scaling.Lint(m) {
		rng := policyFindingRange(s.Policy, f)
		if f.Error {
			v.errorf(rng, f.Summary, "%s", f.Detail)
		} else {
			v.warnf(rng, f.Summary, "%s", f.Detail)
		}
	}
}

// policyFindingRange finds the tightest range for a lint finding: the key's
// value in the check or its strategy, else the check, else the policy.
func policyFindingRange(p *Policy, f scaling.Finding) hcl.Range {
	for _, c := range p.Checks {
		if c.Name != f.Check {
			continue
		}
		attrs := c.Attrs
		if c.Strategy != nil {
			attrs = append(append([]*PolicyAttr{}, attrs...), c.Strategy.Attrs...)
		}
		for _, a := range attrs {
			if a.Name == f.Key {
				return a.Range
			}
		}
		if c.Strategy != nil {
			return c.Strategy.DeclRange
		}
		return c.DeclRange
	}
	return p.DeclRange
}

func (v *validator) periodic(app *App) {
	p := app.Periodic
	if p == nil {
		return
	}
	if app.Type.V != TypeBatch {
		v.errorf(p.DeclRange, "Periodic service", "Only a batch app can run on a schedule; set type = \"batch\".")
	}
	if _, err := cronexpr.Parse(p.Cron.V); err != nil {
		v.errorf(p.Cron.Range, "Invalid cron expression", "cron must be a cron expression such as \"0 3 * * *\": %s.", err.Error())
	}
	if p.TimeZone.Set {
		if _, err := time.LoadLocation(p.TimeZone.V); err != nil {
			v.errorf(p.TimeZone.Range, "Invalid time zone", "%q is not an IANA time zone such as \"Europe/Berlin\" or \"UTC\".", p.TimeZone.V)
		}
	}
}

func (v *validator) external(ext *External) {
	if ext.Address.Set && !validAddress(ext.Address.V) {
		v.errorf(ext.Address.Range, "Invalid address", "%q is neither a DNS name nor an IP address.", ext.Address.V)
	}
	if ext.Port.Set && (ext.Port.V < 1 || ext.Port.V > 65535) {
		v.errorf(ext.Port.Range, "Invalid port", "A port must be between 1 and 65535.")
	}
	switch ext.Protocol.V {
	case ProtocolTCP, ProtocolHTTP, ProtocolHTTP2, ProtocolGRPC:
	default:
		v.errorf(ext.Protocol.Range, "Invalid protocol", "protocol must be %q, %q, %q or %q.", ProtocolTCP, ProtocolHTTP, ProtocolHTTP2, ProtocolGRPC)
	}
}

// exposures checks the public routing table: a host and path reach exactly
// one app, and a host shared by several apps (split by path) has one app
// at "/" to take what no longer prefix matches.
func (v *validator) exposures() {
	type route struct {
		app  *App
		path string
	}
	byHost := map[string][]route{}
	// Declaration order, so a conflict is reported at the later spec.
	apps := append([]*App(nil), v.set.Apps...)
	sort.SliceStable(apps, func(i, j int) bool {
		a, b := apps[i].DeclRange, apps[j].DeclRange
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		return a.Start.Byte < b.Start.Byte
	})
	for _, app := range apps {
		if app.Expose == nil {
			continue
		}
		for _, h := range app.Expose.Hosts.V {
			h = strings.ToLower(h)
			for _, r := range byHost[h] {
				if r.path == app.Expose.Path.V {
					v.errorf(app.Expose.Hosts.Range, "Public route conflict",
						"%s%s is already routed to app %q; a host and path can reach only one app.", h, r.path, r.app.Name)
				}
			}
			byHost[h] = append(byHost[h], route{app: app, path: app.Expose.Path.V})
		}
	}
	hosts := make([]string, 0, len(byHost))
	for h := range byHost {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		routes := byHost[h]
		if len(routes) < 2 {
			continue
		}
		hasRoot := false
		for _, r := range routes {
			hasRoot = hasRoot || r.path == "/"
		}
		if !hasRoot {
			r := routes[len(routes)-1]
			v.errorf(r.app.Expose.Path.Range, "Shared host without a default app",
				"Host %q is split between %d apps by path, but none of them serves \"/\". One app must take path = \"/\" so that every request has a destination.", h, len(routes))
		}
	}
}

// String summarises a set for logs and tests.
func (s *Set) String() string {
	return fmt.Sprintf("project %q: %d apps, %d externals", s.Project.Name, len(s.Apps), len(s.Externals))
}

package importer

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/pkg/spec"
)

// What production jobs carry beyond the mesh, typed: the job's placement
// (datacenters, node pool, priority), host networking, services outside
// the mesh, volumes and their mounts, files from templates, how a task
// stops and its docker options. Nomad's own group blocks (constraint,
// restart, ...) and parameterized are taken from the hatch once it is
// computed (see hatchApp): they are Nomad's vocabulary either way.

// whyRegistryPassword is why a docker auth block with a password is
// dropped.
const whyRegistryPassword = "a registry password in the job is readable by anyone who may read the job, and drover refuses it: let the Nomad client authenticate (the docker plugin's auth { config = \"/etc/docker/config.json\" } or auth { helper = \"...\" } in the client configuration)"

// proposeJob types the job's placement: datacenters other than the
// project's, a node pool, a priority.
func (a *appState) proposeJob(projectDCs []string) {
	e := a.expected
	dcs := e.Datacenters
	if len(dcs) == 0 {
		dcs = []string{"*"}
	}
	pdcs := projectDCs
	if len(pdcs) == 0 {
		pdcs = []string{"*"}
	}
	if !slices.Equal(dcs, pdcs) {
		a.spec.datacenters = append([]string(nil), dcs...)
	}
	if p := e.NodePool; p != nil && *p != "" && *p != nomadapi.NodePoolDefault {
		a.spec.nodePool = *p
		a.typedPaths["node_pool"] = true
	}
	if p := e.Priority; p != nil && *p != nomadapi.JobDefaultPriority && *p >= 1 && *p <= 100 {
		a.spec.priority = new(*p)
		a.typedPaths["priority"] = true
	}
}

// proposeHostname types the hostname of the group's network, when the
// spec renders that network in bridge mode.
func (a *appState) proposeHostname() {
	g := a.expGroup()
	if len(g.Networks) != 1 || g.Networks[0].Hostname == "" || a.spec.network == spec.NetworkHost {
		return
	}
	if mode := g.Networks[0].Mode; mode != "bridge" {
		return // the spec's hostname is the bridge network's
	}
	for _, t := range g.Tasks {
		if t.Driver != spec.DriverDocker {
			return // Nomad names docker tasks' network namespace only
		}
	}
	a.spec.hostname = g.Networks[0].Hostname
	a.typedPaths[a.groupPath()+".network[0].hostname"] = true
}

// proposeNetwork types host networking: the group's network mode is host
// (or it has none) and drover would give it a network (helpers, published
// ports). On the host network render publishes every published port on
// the app's own docker task; when it publishes others (or none) its
// docker block says so, as a helper's says what the helper publishes (see
// proposeTaskExtras).
func (a *appState) proposeNetwork() {
	g := a.expGroup()
	if len(g.Networks) > 1 || a.spec.service != nil {
		return
	}
	if len(g.Networks) == 1 && g.Networks[0].Mode != "" && g.Networks[0].Mode != "host" {
		return
	}
	published := a.publishedLabels()
	if len(published) == 0 && len(g.Tasks) < 2 {
		return // no network either way
	}
	a.spec.network = spec.NetworkHost
	if len(g.Networks) == 1 {
		a.typedPaths[a.groupPath()+".network[0].mode"] = true
	}
	// Render publishes the ports in the order of the port blocks: that of
	// the app's own task, when it publishes them all.
	var main *nomadapi.Task
	for _, t := range g.Tasks {
		if t.Name == a.name {
			main = t
		}
	}
	if main == nil {
		return
	}
	labels, ok := stringList(main.Config["ports"])
	if !ok || len(labels) != len(published) {
		return
	}
	rank := map[string]int{}
	for i, l := range labels {
		rank[l] = i
	}
	for _, l := range published {
		if _, ok := rank[l]; !ok {
			return
		}
	}
	sort.SliceStable(a.spec.ports, func(x, y int) bool {
		px, py := a.spec.ports[x], a.spec.ports[y]
		if px.published() != py.published() {
			return px.published()
		}
		return rank[px.label] < rank[py.label]
	})
}

// publishedLabels are the typed ports published on the host, in order.
func (a *appState) publishedLabels() []string {
	var out []string
	for _, p := range a.spec.ports {
		if p.published() {
			out = append(out, p.label)
		}
	}
	return out
}

// hostPorts makes the docker block of the app's own task say which ports
// it publishes on the host network, where render would publish every
// published port.
func (a *appState) hostPorts(ts *taskSpec) {
	def := make([]any, 0)
	for _, l := range a.publishedLabels() {
		def = append(def, l)
	}
	got, ok := ts.config["ports"]
	switch {
	case ok && sameJSON(got, def):
		ts.skip["ports"] = true // network = "host" renders it
	case !ok && len(def) > 0:
		ts.config["ports"] = []any{} // it publishes none
		ts.noPorts = true
	}
}

// stringList returns v as a list of strings: nil (and true) for none.
func stringList(v any) ([]string, bool) {
	if v == nil {
		return nil, true
	}
	list, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// proposePlain types the services outside the mesh, the group's and its
// tasks': Consul or Nomad services at a published port. Settling checks
// that each renders as the input has it.
func (a *appState) proposePlain() {
	g := a.expGroup()
	published := map[string]bool{}
	for _, p := range a.spec.ports {
		if p.published() && !p.forService {
			published[p.label] = true
		}
	}
	names := map[string]bool{}
	if a.spec.service != nil {
		names[a.name] = true
	}
	// A service's port: a published port's label, a port number
	// (advertised as it is), or none (the address alone, each check naming
	// its own published port).
	portOK := func(svc *nomadapi.Service) bool {
		switch {
		case published[svc.PortLabel]:
			return true
		case svc.PortLabel == "":
			for _, c := range svc.Checks {
				if c.Type != spec.CheckScript && !published[c.PortLabel] {
					return false
				}
			}
			return len(a.spec.ports) != 1 // else the spec's service takes the app's one port
		}
		n, err := strconv.Atoi(svc.PortLabel)
		return err == nil && n >= 1 && n <= 65535 && strconv.Itoa(n) == svc.PortLabel
	}
	add := func(list []*nomadapi.Service, i int, task string) {
		svc := list[i]
		if svc.Connect != nil || svc.Provider != "consul" && svc.Provider != "nomad" || svc.TaskName != "" || !portOK(svc) ||
			!spec.ValidServiceName(svc.Name) || names[svc.Name] || names[plainKey(svc.Name, svc.PortLabel, task)] {
			return
		}
		cp := deepCopy(svc)
		checks, notes, ok := a.typeChecks(cp, a.plainPath(task, i), false, svc.PortLabel)
		if !ok {
			return
		}
		names[plainKey(svc.Name, svc.PortLabel, task)] = true
		a.spec.plain = append(a.spec.plain, &serviceSpec{
			name: svc.Name, port: svc.PortLabel, tags: svc.Tags, canaryTags: svc.CanaryTags, meta: svc.Meta,
			checks: checks, task: task, provider: svc.Provider, index: i, orig: svc, notes: notes,
		})
		list[i] = cp
	}
	for i := range g.Services {
		if a.spec.service == nil || i != a.svcIndex {
			add(g.Services, i, "")
		}
	}
	// Task-level services register from their task, with its life.
	for _, t := range g.Tasks {
		for i := range t.Services {
			add(t.Services, i, t.Name)
		}
	}
}

// plainKey tells services outside the mesh apart, as the spec does: one
// name may be registered on several ports.
func plainKey(name, port, task string) string { return name + "\x00" + port + "\x00" + task }

// plainPath is the report's path of a service outside the mesh: the
// group's (task "") or the task's i-th.
func (a *appState) plainPath(task string, i int) string {
	if task == "" {
		return a.servicePath(i)
	}
	return fmt.Sprintf("%s.service[%d]", a.taskPath(task), i)
}

// plainList is the expected group's (or task's) services that s is one of.
func (a *appState) plainList(s *serviceSpec) []*nomadapi.Service {
	if s.task == "" {
		return a.expGroup().Services
	}
	if t := taskNamed(a.expGroup().Tasks, s.task); t != nil {
		return t.Services
	}
	return nil
}

// dropPlain undoes the typing of a service outside the mesh: the nomad
// block carries it.
func (a *appState) dropPlain(s *serviceSpec, why string) {
	for i, p := range a.spec.plain {
		if p == s {
			a.spec.plain = append(a.spec.plain[:i], a.spec.plain[i+1:]...)
			a.plainList(s)[s.index] = s.orig
			a.job.r.notes(a.plainPath(s.task, s.index), "not typed: "+why)
			return
		}
	}
}

// proposeVolumes types the group's host and CSI volumes that the volume
// block can say.
func (a *appState) proposeVolumes() {
	g := a.expGroup()
	names := make([]string, 0, len(g.Volumes))
	for n := range g.Volumes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v := g.Volumes[n]
		if v == nil || v.Name != n || v.Source == "" || v.Sticky || v.MountOptions != nil {
			continue
		}
		switch v.Type {
		case "host":
			// A dynamic host volume has access and attachment modes too.
			if v.PerAlloc {
				continue
			}
		case "csi":
			if v.AccessMode == "" || v.AttachmentMode == "" {
				continue
			}
		default:
			continue
		}
		a.spec.volumes = append(a.spec.volumes, &volumeSpec{name: n, typ: v.Type, source: v.Source, readOnly: v.ReadOnly,
			perAlloc: v.PerAlloc, accessMode: v.AccessMode, attachmentMode: v.AttachmentMode})
	}
}

func (a *appState) hasVolume(name string) bool {
	return slices.ContainsFunc(a.spec.volumes, func(v *volumeSpec) bool { return v.name == name })
}

// proposeTaskExtras types a task's mounts, files and docker options.
func (a *appState) proposeTaskExtras(ts *taskSpec, t *nomadapi.Task) {
	tpath := a.taskPath(ts.name)
	if ts.user != "" {
		a.typedPaths[tpath+".user"] = true
	}
	if ts.killTimeout != nil {
		a.typedPaths[tpath+".kill_timeout"] = true
	}
	if ts.killSignal != "" {
		a.typedPaths[tpath+".kill_signal"] = true
	}
	if ts.shutdownDelay != nil {
		a.typedPaths[tpath+".shutdown_delay"] = true
	}
	seenVolumes := map[string]bool{}
	for _, vm := range t.VolumeMounts {
		if vm.Volume == nil || vm.Destination == nil || !a.hasVolume(*vm.Volume) || seenVolumes[*vm.Volume] || !strings.HasPrefix(*vm.Destination, "/") {
			continue
		}
		ro := vm.ReadOnly != nil && *vm.ReadOnly
		cand := &nomadapi.VolumeMount{Volume: vm.Volume, Destination: vm.Destination, ReadOnly: &ro}
		cand.Canonicalize()
		if !sameJSON(cand, vm) {
			continue
		}
		seenVolumes[*vm.Volume] = true
		ts.mounts = append(ts.mounts, &mountSpec{volume: *vm.Volume, path: *vm.Destination, readOnly: ro})
	}
	seenDest := map[string]bool{}
	for i, tp := range t.Templates {
		cand, rel := tp, ""
		if tp.DestPath != nil && strings.HasPrefix(*tp.DestPath, "/") {
			// Nomad renders a template under the task directory, its
			// destination absolute or not.
			rel = strings.TrimLeft(*tp.DestPath, "/")
			c := *tp
			c.DestPath = &rel
			cand = &c
		}
		f := proposeFile(cand)
		if f == nil || seenDest[f.dest] {
			continue
		}
		seenDest[f.dest] = true
		ts.files = append(ts.files, f)
		if rel != "" {
			a.transforms = append(a.transforms, note{fmt.Sprintf("%s.template[%d].destination", tpath, i),
				fmt.Sprintf("written as %q: Nomad renders a template in the task directory, its destination absolute or not", rel)})
			tp.DestPath = &rel
		}
	}
	if t.Driver != spec.DriverDocker {
		return
	}
	ts.config = deepCopy(t.Config)
	ts.skip = map[string]bool{"image": true, "command": ts.command != nil, "args": ts.hasArgs}
	if a.spec.network == spec.NetworkHost && ts == a.spec.main {
		a.hostPorts(ts) // a helper's docker block has its own ports
	}
	if a.spec.service != nil {
		if _, ok := ts.config["network_mode"]; ok {
			ts.skip["network_mode"] = true // the nomad block carries it, as ever
		}
	}
	if auths, ok := ts.config["auth"].([]any); ok && slices.ContainsFunc(auths, registryPassword) {
		ts.skip["auth"] = true
		a.dropConfig = append(a.dropConfig, configKey{task: ts.name, key: "auth"})
		a.job.r.addAll(tpath+".config[auth]", ClassDropped, a.name, whyRegistryPassword)
		// The round trip shows the expected job where it differs: not
		// with the password.
		for _, au := range t.Config["auth"].([]any) {
			if m, ok := au.(map[string]any); ok {
				for _, k := range []string{"password", "identity_token"} {
					if _, ok := m[k]; ok {
						m[k] = "(not shown)"
					}
				}
			}
		}
	}
	a.fileMounts(ts)
	ts.setDocker()
}

// registryPassword reports whether a docker auth block has a password.
func registryPassword(auth any) bool {
	m, _ := auth.(map[string]any)
	return m["password"] != nil || m["identity_token"] != nil
}

// proposeFile types a template that a file block can say: inline content
// at a path in the task directory, re-rendered with restart, signal or
// noop, with its perms, splay, delimiters and error_on_missing_key,
// perhaps loaded into the environment; everything else (wait, source,
// uid, ...) as Nomad's defaults.
func proposeFile(tp *nomadapi.Template) *fileSpec {
	if tp.EmbeddedTmpl == nil || tp.DestPath == nil || tp.ChangeMode == nil || tp.SourcePath != nil && *tp.SourcePath != "" {
		return nil
	}
	dest := *tp.DestPath
	if dest == "" || strings.HasPrefix(dest, "/") || slices.Contains(strings.Split(dest, "/"), "..") {
		return nil
	}
	f := &fileSpec{dest: dest, content: *tp.EmbeddedTmpl, changeMode: *tp.ChangeMode}
	cand := &nomadapi.Template{EmbeddedTmpl: tp.EmbeddedTmpl, DestPath: tp.DestPath, ChangeMode: tp.ChangeMode}
	switch f.changeMode {
	case "restart", "noop", "signal":
	default:
		return nil // a script needs change_script
	}
	if tp.ChangeSignal != nil && *tp.ChangeSignal != "" {
		f.changeSignal = *tp.ChangeSignal
		cand.ChangeSignal = tp.ChangeSignal
	} else if f.changeMode == "signal" {
		return nil
	}
	if tp.Perms != nil && *tp.Perms != "0644" {
		if _, err := strconv.ParseUint(*tp.Perms, 8, 32); err != nil || len(*tp.Perms) < 3 {
			return nil
		}
		f.perms = *tp.Perms
		cand.Perms = tp.Perms
	}
	if tp.Envvars != nil && *tp.Envvars {
		f.env = true
		cand.Envvars = tp.Envvars
	}
	if tp.Splay != nil && *tp.Splay != 5*time.Second { // Nomad's default
		f.splay, cand.Splay = tp.Splay, tp.Splay
	}
	if tp.LeftDelim != nil && *tp.LeftDelim != "{{" {
		f.leftDelim, cand.LeftDelim = *tp.LeftDelim, tp.LeftDelim
	}
	if tp.RightDelim != nil && *tp.RightDelim != "}}" {
		f.rightDelim, cand.RightDelim = *tp.RightDelim, tp.RightDelim
	}
	if tp.ErrMissingKey != nil && *tp.ErrMissingKey {
		f.errMissingKey, cand.ErrMissingKey = tp.ErrMissingKey, tp.ErrMissingKey
	}
	cand.Canonicalize()
	if !sameJSON(cand, tp) {
		return nil // splay, delimiters, wait, ...: the nomad block carries it
	}
	return f
}

// fileMounts types the docker mounts that bind a typed file read-only
// into the container, as a file's mount renders them: those first in the
// task's list, since render puts the files' mounts before the docker
// block's own.
func (a *appState) fileMounts(ts *taskSpec) {
	list, ok := ts.config["mount"].([]any)
	if !ok || len(list) == 0 {
		return
	}
	byDest := map[string]*fileSpec{}
	for _, f := range ts.files {
		byDest[f.dest] = f
	}
	var order []*fileSpec
	used := map[*fileSpec]string{}
	for _, el := range list {
		m, ok := el.(map[string]any)
		if !ok || len(m) != 4 || m["type"] != "bind" || m["readonly"] != true {
			break
		}
		src, _ := m["source"].(string)
		target, _ := m["target"].(string)
		f := byDest[src]
		if f == nil || !strings.HasPrefix(target, "/") {
			break
		}
		if _, dup := used[f]; dup {
			break
		}
		used[f] = target
		order = append(order, f)
	}
	if len(order) == 0 {
		return
	}
	// Render appends the mounts in the order of the file blocks.
	var files []*fileSpec
	for _, f := range order {
		f.mount = used[f]
		files = append(files, f)
	}
	for _, f := range ts.files {
		if _, ok := used[f]; !ok {
			files = append(files, f)
		}
	}
	ts.files = files
	ts.fileMounts = len(order)
}

// unmountFiles undoes fileMounts: the docker block carries the mounts.
func (ts *taskSpec) unmountFiles() {
	for _, f := range ts.files {
		f.mount = ""
	}
	ts.fileMounts = 0
	ts.setDocker()
}

// setDocker computes the docker block: the driver config but what typed
// attributes and blocks render.
func (ts *taskSpec) setDocker() {
	ts.docker = nil
	if ts.noDocker {
		return
	}
	for k, v := range ts.config {
		if ts.skip[k] {
			continue
		}
		if list, ok := v.([]any); ok && k == "mount" && ts.fileMounts > 0 {
			// The files' mounts come first; the docker block adds the rest.
			if len(list) == ts.fileMounts {
				continue
			}
			v = list[ts.fileMounts:]
		}
		if ts.docker == nil {
			ts.docker = map[string]any{}
		}
		ts.docker[k] = v
	}
}

// configKey names a driver config key of a task.
type configKey struct{ task, key string }

// dropNetwork undoes host networking: the nomad block's network carries
// the mode, the docker block the ports.
func (a *appState) dropNetwork(why string) {
	if a.spec.network == "" {
		return
	}
	a.spec.network = ""
	delete(a.typedPaths, a.groupPath()+".network[0].mode")
	for _, ts := range a.spec.tasks() {
		if ts.skip != nil {
			delete(ts.skip, "ports")
			if ts.noPorts {
				delete(ts.config, "ports")
				ts.noPorts = false
			}
			ts.setDocker()
		}
	}
	a.job.r.notes(a.groupPath()+".network", "not typed: "+why)
}

// verify checks, in the typed render, that what settling cannot take on
// trust renders as the input has it: services outside the mesh, files,
// mounts, volumes and the ports host networking publishes. It demotes
// what does not, and reports whether it did.
func (a *appState) verify(rendered *nomadapi.Job) bool {
	changed := false
	e := normalize(a.expected, false).TaskGroups[0]
	r := normalize(rendered, true).TaskGroups[0]
	for _, ps := range slices.Clone(a.spec.plain) {
		es, rs := e.Services, r.Services
		if ps.task != "" {
			es, rs = nil, nil
			if t := taskNamed(e.Tasks, ps.task); t != nil {
				es = t.Services
			}
			if t := taskNamed(r.Tasks, ps.task); t != nil {
				rs = t.Services
			}
		}
		if !sameJSON(serviceAt(es, ps.name, ps.port), serviceAt(rs, ps.name, ps.port)) {
			a.dropPlain(ps, "the spec's service block cannot say everything this service sets")
			changed = true
		}
	}
	for _, v := range slices.Clone(a.spec.volumes) {
		if !sameJSON(e.Volumes[v.name], r.Volumes[v.name]) {
			a.dropVolume(v.name)
			a.job.r.notes(a.groupPath()+".volume["+v.name+"]", "not typed: the volume block renders it otherwise")
			changed = true
		}
	}
	for _, ts := range a.spec.tasks() {
		et, rt := taskNamed(e.Tasks, ts.name), taskNamed(r.Tasks, ts.name)
		if et == nil || rt == nil {
			continue
		}
		var files []*fileSpec
		for _, f := range ts.files {
			if sameJSON(templateAt(et.Templates, f.dest), templateAt(rt.Templates, f.dest)) {
				files = append(files, f)
			} else {
				a.job.r.notes(a.templatePath(ts.name, f.dest), "not typed: the file block renders it otherwise")
				changed = true
			}
		}
		ts.files = files
		var mounts []*mountSpec
		for _, m := range ts.mounts {
			if sameJSON(mountOf(et.VolumeMounts, m.volume, m.path), mountOf(rt.VolumeMounts, m.volume, m.path)) {
				mounts = append(mounts, m)
			} else {
				a.job.r.notes(a.taskPath(ts.name)+".volume_mount", "not typed: the mount block renders it otherwise")
				changed = true
			}
		}
		ts.mounts = mounts
		if ts.fileMounts > 0 && !sameJSON(et.Config["mount"], rt.Config["mount"]) {
			ts.unmountFiles()
			changed = true
		}
		if a.spec.network == spec.NetworkHost && ts.driver == spec.DriverDocker && !sameJSON(et.Config["ports"], rt.Config["ports"]) {
			a.dropNetwork("rendered on the host network, the task's ports differ")
			changed = true
		}
	}
	return changed
}

// dropVolume undoes the typing of a volume and its mounts.
func (a *appState) dropVolume(name string) {
	a.spec.volumes = slices.DeleteFunc(a.spec.volumes, func(v *volumeSpec) bool { return v.name == name })
	for _, ts := range a.spec.tasks() {
		ts.mounts = slices.DeleteFunc(ts.mounts, func(m *mountSpec) bool { return m.volume == name })
	}
}

// serviceAt is the service outside the mesh named name on port.
func serviceAt(list []*nomadapi.Service, name, port string) *nomadapi.Service {
	for _, s := range list {
		if s.Name == name && s.PortLabel == port && s.Connect == nil {
			return s
		}
	}
	return nil
}

func taskNamed(list []*nomadapi.Task, name string) *nomadapi.Task {
	for _, t := range list {
		if t.Name == name {
			return t
		}
	}
	return nil
}

func templateAt(list []*nomadapi.Template, dest string) *nomadapi.Template {
	for _, t := range list {
		if t.DestPath != nil && *t.DestPath == dest {
			return t
		}
	}
	return nil
}

func mountOf(list []*nomadapi.VolumeMount, volume, path string) *nomadapi.VolumeMount {
	for _, m := range list {
		if m.Volume != nil && *m.Volume == volume && m.Destination != nil && *m.Destination == path {
			return m
		}
	}
	return nil
}

// renameTaskRefs points what names the app's own task by its input name
// (a service's or a check's task) at its new name.
func renameTaskRefs(g *nomadapi.TaskGroup, from, to string) {
	for _, s := range g.Services {
		if s.TaskName == from {
			s.TaskName = to
		}
		for i := range s.Checks {
			if s.Checks[i].TaskName == from {
				s.Checks[i].TaskName = to
			}
		}
	}
}

package importer

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/pkg/jobspec"
	"github.com/drover-io/drover/pkg/spec"
)

// appSpec is the typed part of one app as the importer writes it.
type appSpec struct {
	name     string
	typ      string
	count    *int
	meta     map[string]string
	main     *taskSpec
	helpers  []*taskSpec
	ports    []*portSpec
	service  *serviceSpec   // the mesh service
	plain    []*serviceSpec // services outside the mesh
	update   []kv
	scaling  *scalingSpec
	periodic []kv
	// network is "host" when the app says so (network = "host"); hostname
	// names the group's network namespace.
	network     string
	hostname    string
	datacenters []string
	nodePool    string
	priority    *int
	volumes     []*volumeSpec
	// groupBlocks (constraint, affinity, spread, restart, reschedule,
	// migrate, ephemeral_disk, disconnect) and parameterized are Nomad's
	// own blocks at the app level: what rendering the rest lacks, as the
	// hatch would have it (nil before the hatch is computed).
	groupBlocks   *nomadapi.TaskGroup
	parameterized *nomadapi.ParameterizedJobConfig
	// hatchGroup and hatchTasks are the nomad block (nil before the hatch
	// is computed).
	hatchGroup *nomadapi.TaskGroup
	hatchTasks []*nomadapi.Task
}

type kv struct {
	name  string
	value any
}

type taskSpec struct {
	name      string
	driver    string
	image     *string
	command   *string
	args      []string
	hasArgs   bool
	env       map[string]string
	secrets   []secretSpec
	cpu       *int
	memory    *int
	memoryMax *int
	lifecycle *nomadapi.TaskLifecycle
	// user, kill_timeout, kill_signal, shutdown_delay.
	user          string
	killTimeout   *time.Duration
	killSignal    string
	shutdownDelay *time.Duration
	files         []*fileSpec
	mounts        []*mountSpec
	// docker is the docker block: the driver config (config) but the keys
	// typed attributes and blocks render (skip), unless noDocker.
	docker   map[string]any
	config   map[string]any
	skip     map[string]bool
	noDocker bool
	// noPorts: config has ports = [] for a task that publishes none on
	// the host network.
	noPorts bool
	// fileMounts is how many of the config's mounts, first in its list,
	// typed files' mounts render; the docker block has the rest.
	fileMounts int
	// nomadBlocks holds the task's own blocks of Nomad's vocabulary
	// (spec.TaskBlocks: csi_plugin, artifact, a helper's restart), as the
	// hatch would have them (nil before the hatch is computed).
	nomadBlocks *nomadapi.Task
}

type secretSpec struct{ env, path, key string }

// fileSpec is a file block, from a template.
type fileSpec struct {
	dest, content, changeMode, changeSignal, perms, mount string
	// env loads the rendered file into the task's environment.
	env bool
	// The template's own options (nil or "": Nomad's default).
	splay                 *time.Duration
	leftDelim, rightDelim string
	errMissingKey         *bool
}

// mountSpec is a mount block, from a volume_mount.
type mountSpec struct {
	volume, path string
	readOnly     bool
}

// volumeSpec is a volume block.
type volumeSpec struct {
	name, typ, source          string
	readOnly, perAlloc         bool
	accessMode, attachmentMode string
}

type portSpec struct {
	label       string
	static, to  int
	publish     bool
	hostNetwork string
	// forService: added for the service's container port, not in the
	// input's network.
	forService bool
}

func (p *portSpec) published() bool { return p.publish || p.static > 0 }

type serviceSpec struct {
	// name is written for a service outside the mesh (the mesh service is
	// the app's).
	name       string
	port       string
	protocol   string
	tags       []string
	canaryTags []string
	meta       map[string]string
	checks     []checkSpec
	upstreams  []upstreamSpec
	sidecar    *sidecarSpec
	// For a service outside the mesh: the task it registers from ("" for
	// the group), its provider (consul or nomad), its index in the input
	// group's (or task's) services, the expected service before typing
	// changed it, and the notes of those changes.
	task     string
	provider string
	index    int
	orig     *nomadapi.Service
	notes    []note
}

type checkSpec struct {
	name, typ, path, method string
	header                  map[string]string
	command, task           string
	args                    []string
	interval, timeout       time.Duration
	initialStatus, port     string
	restart                 *nomadapi.CheckRestart
}

type upstreamSpec struct {
	name                  string
	port                  int
	datacenter, namespace string
}

type sidecarSpec struct {
	image       string
	cpu, memory *int
}

type scalingSpec struct {
	min, max int64
	enabled  *bool
	policy   map[string]any
}

// write prints the app block. A policy is written only once writePolicy
// has accepted it (propose checks). Nomad's own group blocks and the
// nomad block are written with the hatch.
func (a *appSpec) write(b *jobspec.Body, withHatch bool) {
	ab := b.Block("app", a.name)
	if a.typ != spec.TypeService {
		ab.Attr("type", a.typ)
	}
	a.main.writeAttrs(ab)
	nonEmpty(ab, "network", a.network)
	nonEmpty(ab, "hostname", a.hostname)
	if len(a.datacenters) > 0 {
		ab.Attr("datacenters", a.datacenters)
	}
	nonEmpty(ab, "node_pool", a.nodePool)
	optional(ab, "priority", a.priority)
	optional(ab, "count", a.count)
	if len(a.meta) > 0 {
		ab.Attr("meta", stringMap(a.meta))
	}
	if len(a.main.env) > 0 {
		ab.Attr("env", stringMap(a.main.env))
	}
	a.main.writeStop(ab)
	for _, p := range a.ports {
		pb := ab.Block("port", p.label)
		if p.static > 0 {
			pb.Attr("static", p.static)
		} else if p.publish {
			pb.Attr("publish", true)
		}
		if p.to > 0 {
			pb.Attr("to", p.to)
		}
		nonEmpty(pb, "host_network", p.hostNetwork)
	}
	a.main.writeBlocks(ab)
	if s := a.service; s != nil {
		s.write(ab.Block("service"), true)
	}
	for _, s := range a.plain {
		s.write(ab.Block("service"), false)
	}
	if withHatch && a.groupBlocks != nil {
		writeGroupBlocks(ab, a.groupBlocks)
	}
	for _, v := range a.volumes {
		vb := ab.Block("volume", v.name)
		if v.typ != "host" {
			vb.Attr("type", v.typ)
		}
		vb.Attr("source", v.source)
		if v.readOnly {
			vb.Attr("read_only", true)
		}
		nonEmpty(vb, "access_mode", v.accessMode)
		nonEmpty(vb, "attachment_mode", v.attachmentMode)
		if v.perAlloc {
			vb.Attr("per_alloc", true)
		}
	}
	if len(a.update) > 0 {
		ub := ab.Block("update")
		for _, f := range a.update {
			ub.Attr(f.name, f.value)
		}
	}
	if s := a.scaling; s != nil {
		sb := ab.Block("scaling")
		sb.Attr("min", s.min)
		sb.Attr("max", s.max)
		optional(sb, "enabled", s.enabled)
		if len(s.policy) > 0 {
			_ = writePolicy(sb.Block("policy"), s.policy)
		}
	}
	if len(a.periodic) > 0 {
		pb := ab.Block("periodic")
		for _, f := range a.periodic {
			pb.Attr(f.name, f.value)
		}
	}
	if withHatch && a.parameterized != nil {
		jobspec.Encode(ab.Block("parameterized"), a.parameterized)
	}
	for _, h := range a.helpers {
		tb := ab.Block("task", h.name)
		h.writeAttrs(tb)
		if len(h.env) > 0 {
			tb.Attr("env", stringMap(h.env))
		}
		h.writeStop(tb)
		h.writeBlocks(tb)
		if lc := h.lifecycle; lc != nil {
			lb := tb.Block("lifecycle")
			lb.Attr("hook", lc.Hook)
			if lc.Sidecar {
				lb.Attr("sidecar", true)
			}
		}
	}
	if withHatch && (a.hatchGroup != nil || len(a.hatchTasks) > 0) {
		nb := ab.Block("nomad")
		if a.hatchGroup != nil {
			jobspec.Encode(nb, a.hatchGroup)
		}
		for _, t := range a.hatchTasks {
			jobspec.Encode(nb.Block("task", t.Name), t)
		}
	}
}

// groupBlockNames are the group's fields the app takes as Nomad's own
// blocks (spec.GroupBlocks), by vocabulary name.
var groupBlockNames = map[string]bool{}

func init() {
	for _, n := range spec.GroupBlocks {
		groupBlockNames[n] = true
	}
}

// writeGroupBlocks writes Nomad's own group blocks at the app level, in
// Nomad's vocabulary.
func writeGroupBlocks(ab *jobspec.Body, g *nomadapi.TaskGroup) {
	for _, c := range g.Constraints {
		jobspec.Encode(ab.Block("constraint"), c)
	}
	for _, c := range g.Affinities {
		jobspec.Encode(ab.Block("affinity"), c)
	}
	for _, c := range g.Spreads {
		jobspec.Encode(ab.Block("spread"), c)
	}
	if g.RestartPolicy != nil {
		jobspec.Encode(ab.Block("restart"), g.RestartPolicy)
	}
	if g.ReschedulePolicy != nil {
		jobspec.Encode(ab.Block("reschedule"), g.ReschedulePolicy)
	}
	if g.Migrate != nil {
		jobspec.Encode(ab.Block("migrate"), g.Migrate)
	}
	if g.EphemeralDisk != nil {
		jobspec.Encode(ab.Block("ephemeral_disk"), g.EphemeralDisk)
	}
	if g.Disconnect != nil {
		jobspec.Encode(ab.Block("disconnect"), g.Disconnect)
	}
}

// takeTaskBlocks moves the task's own blocks of Nomad's vocabulary out of
// a hatch task into a task of their own (nil when there are none), with
// the report paths they cover under tpath. The main task's restart stays:
// at the app level, restart is the group's.
func takeTaskBlocks(ht *nomadapi.Task, tpath string, main bool) (*nomadapi.Task, []string) {
	out := &nomadapi.Task{CSIPluginConfig: ht.CSIPluginConfig, Artifacts: ht.Artifacts}
	ht.CSIPluginConfig, ht.Artifacts = nil, nil
	paths := []string{tpath + ".csi_plugin", tpath + ".artifact"}
	if !main {
		out.RestartPolicy, ht.RestartPolicy = ht.RestartPolicy, nil
		paths = append(paths, tpath+".restart")
	}
	if reflect.ValueOf(out).Elem().IsZero() {
		return nil, nil
	}
	return out, paths
}

// takeGroupBlocks moves Nomad's own group blocks out of a hatch group
// into a group of their own (nil when there are none).
func takeGroupBlocks(hg *nomadapi.TaskGroup) *nomadapi.TaskGroup {
	out := &nomadapi.TaskGroup{
		Constraints: hg.Constraints, Affinities: hg.Affinities, Spreads: hg.Spreads,
		RestartPolicy: hg.RestartPolicy, ReschedulePolicy: hg.ReschedulePolicy, Migrate: hg.Migrate,
		EphemeralDisk: hg.EphemeralDisk, Disconnect: hg.Disconnect,
	}
	hg.Constraints, hg.Affinities, hg.Spreads = nil, nil, nil
	hg.RestartPolicy, hg.ReschedulePolicy, hg.Migrate, hg.EphemeralDisk, hg.Disconnect = nil, nil, nil, nil, nil
	if reflect.ValueOf(out).Elem().IsZero() {
		return nil
	}
	return out
}

func (s *serviceSpec) write(sb *jobspec.Body, mesh bool) {
	if !mesh {
		sb.Attr("mesh", false)
		sb.Attr("name", s.name)
	}
	if n, err := strconv.Atoi(s.port); err == nil && isNumber(s.port) {
		sb.Attr("port", n) // a port number, advertised as it is
	} else {
		nonEmpty(sb, "port", s.port)
	}
	nonEmpty(sb, "task", s.task)
	if s.provider != "" && s.provider != "consul" {
		sb.Attr("provider", s.provider)
	}
	if mesh {
		sb.Attr("protocol", s.protocol)
	}
	if len(s.tags) > 0 {
		sb.Attr("tags", s.tags)
	}
	if len(s.canaryTags) > 0 {
		sb.Attr("canary_tags", s.canaryTags)
	}
	if len(s.meta) > 0 {
		sb.Attr("meta", stringMap(s.meta))
	}
	for _, c := range s.checks {
		cb := sb.Block("check", c.name)
		cb.Attr("type", c.typ)
		nonEmpty(cb, "path", c.path)
		nonEmpty(cb, "method", c.method)
		if len(c.header) > 0 {
			cb.Attr("header", stringMap(c.header))
		}
		nonEmpty(cb, "command", c.command)
		if len(c.args) > 0 {
			cb.Attr("args", c.args)
		}
		nonEmpty(cb, "task", c.task)
		cb.Attr("interval", jobspec.FormatDuration(c.interval))
		cb.Attr("timeout", jobspec.FormatDuration(c.timeout))
		nonEmpty(cb, "port", c.port)
		nonEmpty(cb, "initial_status", c.initialStatus)
		if r := c.restart; r != nil {
			rb := cb.Block("check_restart")
			rb.Attr("limit", r.Limit)
			optionalDuration(rb, "grace", r.Grace)
			if r.IgnoreWarnings {
				rb.Attr("ignore_warnings", true)
			}
		}
	}
	if sc := s.sidecar; sc != nil {
		scb := sb.Block("sidecar")
		nonEmpty(scb, "image", sc.image)
		optional(scb, "cpu", sc.cpu)
		optional(scb, "memory", sc.memory)
	}
	for _, u := range s.upstreams {
		ub := sb.Block("upstream", u.name)
		ub.Attr("local_port", u.port)
		nonEmpty(ub, "datacenter", u.datacenter)
		nonEmpty(ub, "namespace", u.namespace)
	}
}

func (t *taskSpec) writeAttrs(b *jobspec.Body) {
	if t.driver != spec.DriverDocker {
		b.Attr("driver", t.driver)
	}
	optional(b, "image", t.image)
	optional(b, "command", t.command)
	if t.hasArgs {
		list := make([]any, len(t.args))
		for i, a := range t.args {
			list[i] = a
		}
		b.Attr("args", list)
	}
}

// writeStop writes user and how the task stops.
func (t *taskSpec) writeStop(b *jobspec.Body) {
	nonEmpty(b, "user", t.user)
	optionalDuration(b, "kill_timeout", t.killTimeout)
	nonEmpty(b, "kill_signal", t.killSignal)
	optionalDuration(b, "shutdown_delay", t.shutdownDelay)
}

func (t *taskSpec) writeBlocks(b *jobspec.Body) {
	if t.cpu != nil || t.memory != nil || t.memoryMax != nil {
		rb := b.Block("resources")
		optional(rb, "cpu", t.cpu)
		optional(rb, "memory", t.memory)
		optional(rb, "memory_max", t.memoryMax)
	}
	for _, s := range t.secrets {
		sb := b.Block("secret", s.env)
		sb.Attr("path", s.path)
		sb.Attr("key", s.key)
	}
	for _, f := range t.files {
		fb := b.Block("file", f.dest)
		writeString(fb, "content", f.content)
		if f.changeMode != "restart" {
			fb.Attr("change_mode", f.changeMode)
		}
		nonEmpty(fb, "change_signal", f.changeSignal)
		nonEmpty(fb, "perms", f.perms)
		nonEmpty(fb, "mount", f.mount)
		if f.env {
			fb.Attr("env", true)
		}
		optionalDuration(fb, "splay", f.splay)
		nonEmpty(fb, "left_delimiter", f.leftDelim)
		nonEmpty(fb, "right_delimiter", f.rightDelim)
		optional(fb, "error_on_missing_key", f.errMissingKey)
	}
	for _, m := range t.mounts {
		mb := b.Block("mount", m.volume)
		mb.Attr("path", m.path)
		if m.readOnly {
			mb.Attr("read_only", true)
		}
	}
	if len(t.docker) > 0 {
		writeConfig(b.Block("docker"), t.docker)
	}
	if nb := t.nomadBlocks; nb != nil {
		if nb.CSIPluginConfig != nil {
			jobspec.Encode(b.Block("csi_plugin"), nb.CSIPluginConfig)
		}
		for _, art := range nb.Artifacts {
			jobspec.Encode(b.Block("artifact"), art)
		}
		if nb.RestartPolicy != nil {
			jobspec.Encode(b.Block("restart"), nb.RestartPolicy)
		}
	}
}

// writeString writes a string attribute, a multi-line one that ends with
// a newline as a heredoc (which always ends with one), as jobspec.Encode
// does.
func writeString(b *jobspec.Body, name, s string) {
	if strings.Contains(s, "\n") && strings.HasSuffix(s, "\n") {
		b.RawAttr(name, jobspec.Heredoc(s))
		return
	}
	b.Attr(name, s)
}

// writeConfig writes a driver's config as jobspec.Encode writes a config
// block: lists of maps as nested blocks.
func writeConfig(b *jobspec.Body, m map[string]any) {
	keys := slices.Sorted(maps.Keys(m))
	var nested []string
	for _, k := range keys {
		if isMapList(m[k]) {
			nested = append(nested, k)
			continue
		}
		if s, ok := m[k].(string); ok {
			writeString(b, k, s)
			continue
		}
		b.Attr(k, m[k])
	}
	for _, k := range nested {
		for _, el := range m[k].([]any) {
			writeConfig(b.Block(k), el.(map[string]any))
		}
	}
}

func stringMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// defaultKillTimeout is Nomad's.
const defaultKillTimeout = 5 * time.Second

// Drivers the spec renders.
var typedDrivers = map[string]bool{spec.DriverDocker: true, spec.DriverExec: true, spec.DriverRawExec: true}

// proposeTask reads the typed part of a task; an error when the task
// cannot be an app's task at all.
func proposeTask(t *nomadapi.Task, helper bool) (*taskSpec, error) {
	if !typedDrivers[t.Driver] {
		return nil, fmt.Errorf("task %q uses the %q driver; drover renders docker, exec and raw_exec tasks", t.Name, t.Driver)
	}
	ts := &taskSpec{name: t.Name, driver: t.Driver, env: map[string]string{}}
	if img, ok := t.Config["image"].(string); ok && t.Driver == spec.DriverDocker {
		ts.image = &img
	} else if t.Driver == spec.DriverDocker {
		return nil, fmt.Errorf("docker task %q has no image", t.Name)
	}
	if cmd, ok := t.Config["command"].(string); ok {
		ts.command = &cmd
	} else if t.Driver != spec.DriverDocker {
		return nil, fmt.Errorf("%s task %q has no command", t.Driver, t.Name)
	}
	if args, ok := t.Config["args"].([]any); ok {
		ts.hasArgs = true
		for _, a := range args {
			s, ok := a.(string)
			if !ok {
				ts.hasArgs, ts.args = false, nil // the nomad block carries them
				break
			}
			ts.args = append(ts.args, s)
		}
	}
	for k, v := range t.Env {
		ts.env[k] = v
	}
	if r := t.Resources; r != nil {
		if r.CPU != nil && *r.CPU >= 1 && *r.CPU != spec.DefaultCPU {
			ts.cpu = new(*r.CPU)
		}
		if r.MemoryMB != nil && *r.MemoryMB != spec.DefaultMemory {
			ts.memory = new(*r.MemoryMB)
		}
		if r.MemoryMaxMB != nil && *r.MemoryMaxMB > 0 {
			ts.memoryMax = new(*r.MemoryMaxMB)
		}
	}
	ts.user = t.User
	if t.KillTimeout != nil && *t.KillTimeout != defaultKillTimeout {
		ts.killTimeout = new(*t.KillTimeout)
	}
	if strings.HasPrefix(t.KillSignal, "SIG") {
		ts.killSignal = t.KillSignal // else the nomad block carries it
	}
	if t.ShutdownDelay != 0 {
		ts.shutdownDelay = new(t.ShutdownDelay)
	}
	if helper && t.Lifecycle != nil {
		ts.lifecycle = &nomadapi.TaskLifecycle{Hook: t.Lifecycle.Hook, Sidecar: t.Lifecycle.Sidecar}
	}
	return ts, nil
}

// proposePorts types the group network's ports that the spec's port block
// can say.
func proposePorts(g *nomadapi.TaskGroup) []*portSpec {
	if len(g.Networks) == 0 {
		return nil
	}
	n := g.Networks[0]
	var out []*portSpec
	seenTo := map[int]bool{}
	add := func(p nomadapi.Port, static bool) {
		if !spec.ValidPortLabel(p.Label) || p.IgnoreCollision || p.To < 0 || p.To > 0 && seenTo[p.To] || static && p.Value > 65535 {
			return // the nomad block's network carries it
		}
		if p.To > 0 {
			seenTo[p.To] = true
		}
		ps := &portSpec{label: p.Label, to: p.To, hostNetwork: p.HostNetwork}
		if static {
			ps.static = p.Value
		} else {
			ps.publish = true
		}
		out = append(out, ps)
	}
	for _, p := range n.ReservedPorts {
		add(p, true)
	}
	for _, p := range n.DynamicPorts {
		add(p, false)
	}
	return out
}

// meshService returns the index of the group's one Connect service with
// a sidecar, or -1.
func meshService(g *nomadapi.TaskGroup) int {
	found := -1
	for i, s := range g.Services {
		c := s.Connect
		if c == nil || c.SidecarService == nil || c.Native || c.Gateway != nil {
			continue
		}
		if found >= 0 {
			return -1 // two mesh services: the nomad block carries both
		}
		found = i
	}
	return found
}

// proposeService types the app's mesh service, adjusting the expected
// group for the transformations that typing it brings (a port label
// written as the container port, unnamed checks named as Nomad names
// them). It returns nil when the spec's service block cannot say it.
func (a *appState) proposeService() *serviceSpec {
	g := a.expGroup()
	i := meshService(g)
	if i < 0 || g.Services[i].Name != a.name {
		return nil
	}
	svc := deepCopy(g.Services[i])
	sp := &serviceSpec{protocol: spec.ProtocolTCP, tags: svc.Tags, canaryTags: svc.CanaryTags, meta: svc.Meta}
	var notes []note
	switch label := svc.PortLabel; {
	case label == "":
	case isNumber(label):
		n, _ := strconv.Atoi(label)
		for _, p := range a.spec.ports {
			if p.to == n {
				sp.port = p.label
			}
		}
		if sp.port == "" {
			l := a.freePortLabel(n)
			a.spec.ports = append(a.spec.ports, &portSpec{label: l, to: n, forService: true})
			sp.port = l
		}
	default:
		var port *portSpec
		for _, p := range a.spec.ports {
			if p.label == label {
				port = p
			}
		}
		if port == nil || port.to == 0 {
			return nil
		}
		sp.port = label
		svc.PortLabel = strconv.Itoa(port.to)
		notes = append(notes, note{a.servicePath(i) + ".port", fmt.Sprintf("the service is registered on container port %d, the `to` of port %q, which the sidecar needs (Nomad issue 9824)", port.to, label)})
	}
	checks, cnotes, ok := a.typeChecks(svc, a.servicePath(i), true, g.Services[i].PortLabel)
	if !ok {
		return nil
	}
	sp.checks, notes = checks, append(notes, cnotes...)
	if p := svc.Connect.SidecarService.Proxy; p != nil {
		for _, u := range p.Upstreams {
			sp.upstreams = append(sp.upstreams, upstreamSpec{name: u.DestinationName, port: u.LocalBindPort, datacenter: u.Datacenter, namespace: u.DestinationNamespace})
		}
	}
	sort.Slice(sp.upstreams, func(x, y int) bool { return sp.upstreams[x].name < sp.upstreams[y].name })
	if st := svc.Connect.SidecarTask; st != nil {
		sc := &sidecarSpec{}
		if img, ok := st.Config["image"].(string); ok {
			sc.image = img
		}
		def := nomadapi.DefaultResources()
		if r := st.Resources; r != nil {
			if r.CPU != nil && *r.CPU != *def.CPU {
				sc.cpu = new(*r.CPU)
			}
			if r.MemoryMB != nil && *r.MemoryMB != *def.MemoryMB {
				sc.memory = new(*r.MemoryMB)
			}
		}
		if sc.image != "" || sc.cpu != nil || sc.memory != nil {
			sp.sidecar = sc
		}
	}
	a.svcIndex = i
	a.svcOrig = g.Services[i]
	g.Services[i] = svc
	a.svcNotes = notes
	return sp
}

// typeChecks types a service's checks, changing svc (a copy of the
// expected service) by the transformations typing brings; false when a
// check block cannot say one of them.
//
// port is the service's port label as the input has it: a check on the
// same port is a check that names none.
func (a *appState) typeChecks(svc *nomadapi.Service, spath string, mesh bool, port string) ([]checkSpec, []note, bool) {
	var out []checkSpec
	var notes []note
	if svc.CheckRestart != nil && len(svc.Checks) > 0 {
		// Nomad merges it into each check, which is where render puts it.
		svc.CheckRestart = nil
		notes = append(notes, note{spath + ".check_restart", "the service's check_restart is written in each of its checks, into which Nomad merges it"})
	}
	seenNames := map[string]bool{}
	for ci := range svc.Checks {
		c := &svc.Checks[ci]
		cpath := fmt.Sprintf("%s.check[%d]", spath, ci)
		if c.Name == "" {
			c.Name = fmt.Sprintf("service: %q check", svc.Name)
			if seenNames[c.Name] {
				c.Name = fmt.Sprintf("service: %q check %d", svc.Name, ci+1)
			}
			notes = append(notes, note{cpath + ".name", fmt.Sprintf("the unnamed check is named %q, as Nomad names it", c.Name)})
		}
		if seenNames[c.Name] {
			return nil, nil, false
		}
		seenNames[c.Name] = true
		if c.PortLabel != "" && c.PortLabel == port {
			c.PortLabel = ""
			notes = append(notes, note{cpath + ".port", "the check's port is its service's, which a check uses when it names none"})
		}
		if c.Interval < time.Second || c.Timeout <= 0 {
			return nil, nil, false
		}
		cs := checkSpec{name: c.Name, typ: c.Type, interval: c.Interval, timeout: c.Timeout, initialStatus: c.InitialStatus}
		if !mesh {
			cs.port = c.PortLabel
		}
		switch c.Type {
		case spec.CheckHTTP:
			if !strings.HasPrefix(c.Path, "/") {
				return nil, nil, false
			}
			cs.path, cs.method = c.Path, c.Method
			if mesh && !c.Expose {
				c.Expose = true
				notes = append(notes, note{cpath + ".expose", "the http check reaches the app through a path its sidecar exposes (expose = true), as drover renders a mesh http check"})
			}
			for k, vs := range c.Header {
				if len(vs) != 1 {
					return nil, nil, false
				}
				if cs.header == nil {
					cs.header = map[string]string{}
				}
				cs.header[k] = vs[0]
			}
		case spec.CheckGRPC:
			if mesh && c.AddressMode == "" {
				c.AddressMode = "alloc"
				notes = append(notes, note{cpath + ".address_mode", `the grpc check dials the allocation's address (address_mode = "alloc"), as drover renders a mesh grpc check`})
			}
		case spec.CheckTCP:
			if mesh {
				return nil, nil, false
			}
		case spec.CheckScript:
			if c.Command == "" {
				return nil, nil, false
			}
			cs.command, cs.args = c.Command, c.Args
			if c.TaskName != a.name {
				cs.task = c.TaskName
			}
		default:
			return nil, nil, false
		}
		if r := c.CheckRestart; r != nil {
			if r.Limit < 1 {
				return nil, nil, false
			}
			cs.restart = &nomadapi.CheckRestart{Limit: r.Limit, Grace: r.Grace, IgnoreWarnings: r.IgnoreWarnings}
		}
		out = append(out, cs)
	}
	return out, notes, true
}

type note struct{ path, text string }

func isNumber(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil && !strings.HasPrefix(s, "+") && !strings.HasPrefix(s, "-")
}

func (a *appState) freePortLabel(n int) string {
	taken := map[string]bool{}
	for _, p := range a.spec.ports {
		taken[p.label] = true
	}
	for _, l := range []string{"http", "main", fmt.Sprintf("port_%d", n)} {
		if !taken[l] {
			return l
		}
	}
	return fmt.Sprintf("port_%d_%d", n, len(taken))
}

// dropService undoes proposeService: the nomad block carries the service.
func (a *appState) dropService() {
	if a.spec.service == nil {
		return
	}
	a.spec.service = nil
	var ports []*portSpec
	for _, p := range a.spec.ports {
		if !p.forService {
			ports = append(ports, p)
		}
	}
	a.spec.ports = ports
	a.expGroup().Services[a.svcIndex] = a.svcOrig
	a.svcNotes = nil
}

// proposeUpdate types the group's update strategy: the fields that differ
// from Nomad's defaults (which are the spec's).
func proposeUpdate(u *nomadapi.UpdateStrategy) []kv {
	if u == nil {
		return nil
	}
	d := nomadapi.DefaultUpdateStrategy()
	var out []kv
	addInt := func(name string, v, def *int) {
		if v != nil && *v != *def {
			out = append(out, kv{name, *v})
		}
	}
	addBool := func(name string, v, def *bool) {
		if v != nil && *v != *def {
			out = append(out, kv{name, *v})
		}
	}
	addDur := func(name string, v, def *time.Duration) {
		if v != nil && *v != *def {
			out = append(out, kv{name, jobspec.FormatDuration(*v)})
		}
	}
	addInt("max_parallel", u.MaxParallel, d.MaxParallel)
	addInt("canary", u.Canary, d.Canary)
	addBool("auto_promote", u.AutoPromote, d.AutoPromote)
	addBool("auto_revert", u.AutoRevert, d.AutoRevert)
	addDur("min_healthy_time", u.MinHealthyTime, d.MinHealthyTime)
	addDur("healthy_deadline", u.HealthyDeadline, d.HealthyDeadline)
	addDur("progress_deadline", u.ProgressDeadline, d.ProgressDeadline)
	return out
}

// proposePeriodic types a batch job's schedule.
func proposePeriodic(p *nomadapi.PeriodicConfig) []kv {
	if p == nil || p.Enabled != nil && !*p.Enabled || len(p.Specs) == 0 || p.SpecType != nil && *p.SpecType != nomadapi.PeriodicSpecCron {
		return nil
	}
	out := []kv{{"cron", p.Specs[0]}}
	if p.TimeZone != nil && *p.TimeZone != "" && *p.TimeZone != "UTC" {
		out = append(out, kv{"time_zone", *p.TimeZone})
	}
	if p.ProhibitOverlap == nil || !*p.ProhibitOverlap {
		out = append(out, kv{"prohibit_overlap", false})
	}
	return out
}

func (a *appSpec) tasks() []*taskSpec { return append([]*taskSpec{a.main}, a.helpers...) }

func sortedEnv(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

// optional writes name = *v when v is set.
func optional[T any](b *jobspec.Body, name string, v *T) {
	if v != nil {
		b.Attr(name, *v)
	}
}

// optionalDuration writes name = "<duration>" when d is set.
func optionalDuration(b *jobspec.Body, name string, d *time.Duration) {
	if d != nil {
		b.Attr(name, jobspec.FormatDuration(*d))
	}
}

// nonEmpty writes name = s unless s is empty.
func nonEmpty(b *jobspec.Body, name, s string) {
	if s != "" {
		b.Attr(name, s)
	}
}

package importer

import (
	"fmt"
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
	service  *serviceSpec
	update   []kv
	scaling  *scalingSpec
	periodic []kv
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
}

type secretSpec struct{ env, path, key string }

type portSpec struct {
	label       string
	static, to  int
	publish     bool
	hostNetwork string
	// forService: added for the service's container port, not in the
	// input's network.
	forService bool
}

type serviceSpec struct {
	port      string
	protocol  string
	tags      []string
	checks    []checkSpec
	upstreams []upstreamSpec
}

type checkSpec struct {
	name, typ, path, method string
	interval, timeout       time.Duration
}

type upstreamSpec struct {
	name string
	port int
}

type scalingSpec struct {
	min, max int64
	enabled  *bool
	policy   map[string]any
}

// write prints the app block. A policy is written only once writePolicy
// has accepted it (propose checks).
func (a *appSpec) write(b *jobspec.Body, withHatch bool) {
	ab := b.Block("app", a.name)
	if a.typ != spec.TypeService {
		ab.Attr("type", a.typ)
	}
	a.main.writeAttrs(ab)
	if a.count != nil {
		ab.Attr("count", *a.count)
	}
	if len(a.meta) > 0 {
		ab.Attr("meta", stringMap(a.meta))
	}
	if len(a.main.env) > 0 {
		ab.Attr("env", stringMap(a.main.env))
	}
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
		if p.hostNetwork != "" {
			pb.Attr("host_network", p.hostNetwork)
		}
	}
	a.main.writeBlocks(ab)
	if s := a.service; s != nil {
		sb := ab.Block("service")
		if s.port != "" {
			sb.Attr("port", s.port)
		}
		sb.Attr("protocol", s.protocol)
		if len(s.tags) > 0 {
			sb.Attr("tags", s.tags)
		}
		for _, c := range s.checks {
			cb := sb.Block("check", c.name)
			cb.Attr("type", c.typ)
			if c.path != "" {
				cb.Attr("path", c.path)
			}
			if c.method != "" {
				cb.Attr("method", c.method)
			}
			cb.Attr("interval", jobspec.FormatDuration(c.interval))
			cb.Attr("timeout", jobspec.FormatDuration(c.timeout))
		}
		for _, u := range s.upstreams {
			sb.Block("upstream", u.name).Attr("local_port", u.port)
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
		if s.enabled != nil {
			sb.Attr("enabled", *s.enabled)
		}
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
	for _, h := range a.helpers {
		tb := ab.Block("task", h.name)
		h.writeAttrs(tb)
		if len(h.env) > 0 {
			tb.Attr("env", stringMap(h.env))
		}
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

func (t *taskSpec) writeAttrs(b *jobspec.Body) {
	if t.driver != spec.DriverDocker {
		b.Attr("driver", t.driver)
	}
	if t.image != nil {
		b.Attr("image", *t.image)
	}
	if t.command != nil {
		b.Attr("command", *t.command)
	}
	if t.hasArgs {
		list := make([]any, len(t.args))
		for i, a := range t.args {
			list[i] = a
		}
		b.Attr("args", list)
	}
}

func (t *taskSpec) writeBlocks(b *jobspec.Body) {
	if t.cpu != nil || t.memory != nil || t.memoryMax != nil {
		rb := b.Block("resources")
		if t.cpu != nil {
			rb.Attr("cpu", *t.cpu)
		}
		if t.memory != nil {
			rb.Attr("memory", *t.memory)
		}
		if t.memoryMax != nil {
			rb.Attr("memory_max", *t.memoryMax)
		}
	}
	for _, s := range t.secrets {
		sb := b.Block("secret", s.env)
		sb.Attr("path", s.path)
		sb.Attr("key", s.key)
	}
}

func stringMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

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
		if !validPortLabel(p.Label) || p.IgnoreCollision || p.To < 0 || p.To > 0 && seenTo[p.To] || static && p.Value > 65535 {
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

// validPortLabel is the spec's rule for port labels (they name
// NOMAD_PORT_<label>).
func validPortLabel(s string) bool {
	if s == "" || len(s) > 63 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
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
	sp := &serviceSpec{protocol: spec.ProtocolTCP, tags: svc.Tags}
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
	seenNames := map[string]bool{}
	for ci := range svc.Checks {
		c := &svc.Checks[ci]
		if c.Name == "" {
			c.Name = fmt.Sprintf("service: %q check", svc.Name)
			if seenNames[c.Name] {
				c.Name = fmt.Sprintf("service: %q check %d", svc.Name, ci+1)
			}
			notes = append(notes, note{fmt.Sprintf("%s.check[%d].name", a.servicePath(i), ci), fmt.Sprintf("the unnamed check is named %q, as Nomad names it", c.Name)})
		}
		seenNames[c.Name] = true
		cs := checkSpec{name: c.Name, typ: c.Type, interval: c.Interval, timeout: c.Timeout}
		switch c.Type {
		case spec.CheckHTTP:
			cs.path, cs.method = c.Path, c.Method
		case spec.CheckGRPC:
			if c.AddressMode == "" {
				c.AddressMode = "alloc"
				notes = append(notes, note{fmt.Sprintf("%s.check[%d].address_mode", a.servicePath(i), ci), `the grpc check dials the allocation's address (address_mode = "alloc"), as drover renders a mesh grpc check`})
			}
		default:
			return nil
		}
		sp.checks = append(sp.checks, cs)
	}
	if p := svc.Connect.SidecarService.Proxy; p != nil {
		for _, u := range p.Upstreams {
			sp.upstreams = append(sp.upstreams, upstreamSpec{name: u.DestinationName, port: u.LocalBindPort})
		}
	}
	sort.Slice(sp.upstreams, func(x, y int) bool { return sp.upstreams[x].name < sp.upstreams[y].name })
	a.svcIndex = i
	a.svcOrig = g.Services[i]
	g.Services[i] = svc
	a.svcNotes = notes
	return sp
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
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

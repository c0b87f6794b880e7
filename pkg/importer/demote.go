package importer

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/drover-io/drover/pkg/spec"
)

// location is where in a written spec a diagnostic points: the blocks
// inside the app block, the innermost attribute, and for an object
// attribute (env, meta) the key and whether the value is meant.
type location struct {
	blocks []*hclsyntax.Block
	// index is the first block's among the blocks of its type beside it.
	index   int
	attr    string
	key     string
	inValue bool
}

// demote takes out of the typed specs what validation refuses, each
// diagnostic by its source position: a literal secret in env becomes a
// secret block, a refused env var or meta key is dropped, a refused port
// or service goes to the nomad block, a refused policy, update or
// periodic block is dropped. It reports whether anything changed.
func (im *importer) demote(l *loaded) bool {
	progressed := false
	for _, d := range l.diags {
		if d.Severity != hcl.DiagError || d.Subject == nil {
			continue
		}
		a, loc := im.locate(l, d.Subject)
		if a == nil {
			continue
		}
		if im.demoteAt(a, loc, d) {
			progressed = true
		}
	}
	return progressed
}

func (im *importer) locate(l *loaded, rng *hcl.Range) (*appState, location) {
	name := filepath.ToSlash(rng.Filename)
	var file File
	for p, f := range l.byFile {
		if p == name || strings.HasSuffix(name, "/"+p) {
			file = f
		}
	}
	if file.Path == "" {
		return nil, location{}
	}
	f, diags := hclsyntax.ParseConfig(file.Data, file.Path, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, location{}
	}
	pos := rng.Start.Byte
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		if b.Type != "app" || !contains(b.Range(), pos) {
			continue
		}
		a := im.appNamed(b.Labels[0])
		if a == nil {
			return nil, location{}
		}
		var loc location
		body := b.Body
		for {
			var inner *hclsyntax.Block
			index := 0
			seen := map[string]int{}
			for _, nb := range body.Blocks {
				if contains(nb.Range(), pos) {
					inner, index = nb, seen[nb.Type]
				}
				seen[nb.Type]++
			}
			if inner == nil {
				break
			}
			if len(loc.blocks) == 0 {
				loc.index = index
			}
			loc.blocks = append(loc.blocks, inner)
			body = inner.Body
		}
		for name, at := range body.Attributes {
			if !contains(at.Range(), pos) {
				continue
			}
			loc.attr = name
			if obj, ok := at.Expr.(*hclsyntax.ObjectConsExpr); ok {
				for _, it := range obj.Items {
					k, _ := it.KeyExpr.Value(nil)
					switch {
					case contains(it.KeyExpr.Range(), pos):
						loc.key = k.AsString()
					case contains(it.ValueExpr.Range(), pos):
						loc.key, loc.inValue = k.AsString(), true
					}
				}
			}
		}
		return a, loc
	}
	return nil, location{}
}

func contains(r hcl.Range, pos int) bool { return r.Start.Byte <= pos && pos < r.End.Byte }

func (im *importer) appNamed(name string) *appState {
	for _, a := range im.liveApps() {
		if a.name == name {
			return a
		}
	}
	return nil
}

// demoteAt handles one diagnostic at loc in app a.
func (im *importer) demoteAt(a *appState, loc location, d *hcl.Diagnostic) bool {
	why := d.Summary + ": " + strings.TrimSuffix(d.Detail, ".")
	r := a.job.r
	s := a.spec
	task := s.main
	blocks := loc.blocks
	if len(blocks) > 0 && blocks[0].Type == "task" {
		for _, h := range s.helpers {
			if h.name == blocks[0].Labels[0] {
				task = h
			}
		}
		blocks = blocks[1:]
	}
	tpath := a.taskPath(task.name)
	if len(blocks) > 0 {
		switch b := blocks[0]; b.Type {
		case "service":
			i := loc.index
			if s.service != nil {
				if i == 0 {
					a.dropService()
					r.notes(a.servicePath(a.svcIndex), "not typed: "+why)
					return true
				}
				i--
			}
			if i >= len(s.plain) {
				return false
			}
			a.dropPlain(s.plain[i], why)
			return true
		case "file":
			for i, f := range task.files {
				if f.dest == b.Labels[0] {
					task.files = append(task.files[:i], task.files[i+1:]...)
					if f.mount != "" {
						task.unmountFiles()
					}
					r.notes(a.templatePath(task.name, f.dest), "not typed: "+why)
					return true
				}
			}
		case "mount":
			for i, m := range task.mounts {
				if m.volume == b.Labels[0] {
					task.mounts = append(task.mounts[:i], task.mounts[i+1:]...)
					r.notes(tpath+".volume_mount", "not typed: "+why)
					return true
				}
			}
		case "volume":
			if !a.hasVolume(b.Labels[0]) {
				return false
			}
			a.dropVolume(b.Labels[0])
			r.notes(a.groupPath()+".volume["+b.Labels[0]+"]", "not typed: "+why)
			return true
		case "docker":
			if task.noDocker {
				return false
			}
			task.noDocker = true
			task.setDocker()
			r.notes(tpath+".config", "not typed: "+why)
			return true
		case "port":
			for i, p := range s.ports {
				if p.label == b.Labels[0] {
					if p.forService {
						a.dropService()
						r.notes(a.servicePath(a.svcIndex), "not typed: "+why)
						return true
					}
					s.ports = append(s.ports[:i], s.ports[i+1:]...)
					r.notes(a.groupPath()+".network", "not typed: "+why)
					return true
				}
			}
		case "scaling":
			if s.scaling == nil {
				return false
			}
			if len(blocks) > 1 && blocks[1].Type == "policy" {
				s.scaling.policy = nil
				r.addAll(a.groupPath()+".scaling.policy", ClassDropped, a.name, why)
				return true
			}
			s.scaling = nil
			r.addAll(a.groupPath()+".scaling", ClassDropped, a.name, why)
			return true
		case "update":
			if s.update == nil {
				return false
			}
			s.update = nil
			r.addAll(a.groupPath()+".update", ClassDropped, a.name, why)
			return true
		case "periodic":
			if s.periodic == nil {
				return false
			}
			s.periodic = nil
			r.addAll("periodic", ClassDropped, a.name, why)
			return true
		case "resources":
			switch loc.attr {
			case "cpu":
				task.cpu = nil
			case "memory":
				task.memory = nil
			case "memory_max":
				task.memoryMax = nil
			default:
				return false
			}
			r.addAll(tpath+".resources", ClassDropped, a.name, why)
			return true
		case "lifecycle":
			if task.lifecycle == nil {
				return false
			}
			task.lifecycle = nil
			r.addAll(tpath+".lifecycle", ClassDropped, a.name, why)
			return true
		}
		a.err = fmt.Errorf("%s", why)
		return true
	}
	switch {
	case loc.attr == "env" && loc.key != "":
		if _, ok := task.env[loc.key]; !ok {
			return false
		}
		if loc.inValue {
			why, _, _ := strings.Cut(d.Detail, ". ")
			im.moveSecret(a, task, loc.key, why)
			return true
		}
		delete(task.env, loc.key)
		r.add(tpath+".env["+loc.key+"]", ClassDropped, a.name, why)
		return true
	case loc.attr == "meta" && loc.key != "" && task == s.main:
		if _, ok := s.meta[loc.key]; !ok {
			return false
		}
		delete(s.meta, loc.key)
		r.add("meta["+loc.key+"]", ClassDropped, a.name, why)
		return true
	case loc.attr == "driver" && s.service != nil:
		a.dropService()
		r.notes(a.servicePath(a.svcIndex), "not typed: "+why)
		return true
	case loc.attr == "user" && task.user != "":
		task.user = ""
		delete(a.typedPaths, tpath+".user")
		return true
	case loc.attr == "kill_timeout" && task.killTimeout != nil:
		task.killTimeout = nil
		delete(a.typedPaths, tpath+".kill_timeout")
		return true
	case loc.attr == "kill_signal" && task.killSignal != "":
		task.killSignal = ""
		delete(a.typedPaths, tpath+".kill_signal")
		return true
	case loc.attr == "shutdown_delay" && task.shutdownDelay != nil:
		task.shutdownDelay = nil
		delete(a.typedPaths, tpath+".shutdown_delay")
		return true
	case loc.attr == "network" && s.network != "":
		a.dropNetwork(why)
		return true
	case loc.attr == "datacenters" && s.datacenters != nil:
		s.datacenters = nil
		r.addAll("datacenters", ClassDropped, a.name, why)
		return true
	case loc.attr == "node_pool" && s.nodePool != "":
		s.nodePool = ""
		delete(a.typedPaths, "node_pool")
		r.addAll("node_pool", ClassDropped, a.name, why)
		return true
	case loc.attr == "priority" && s.priority != nil:
		s.priority = nil
		delete(a.typedPaths, "priority")
		r.addAll("priority", ClassDropped, a.name, why)
		return true
	case loc.attr == "count" && s.scaling != nil:
		s.scaling = nil
		r.addAll(a.groupPath()+".scaling", ClassDropped, a.name, why)
		return true
	}
	a.err = fmt.Errorf("%s", why)
	return true
}

// templatePath is the report's path of the task's template at dest.
func (a *appState) templatePath(task, dest string) string {
	for _, t := range a.expGroup().Tasks {
		if t.Name != task {
			continue
		}
		for i, tp := range t.Templates {
			if tp.DestPath != nil && *tp.DestPath == dest {
				return fmt.Sprintf("%s.template[%d]", a.taskPath(task), i)
			}
		}
	}
	return a.taskPath(task) + ".template"
}

func (a *appState) taskPath(name string) string {
	if o, ok := a.taskOrig[name]; ok {
		name = o
	}
	return a.groupPath() + ".task[" + name + "]"
}

// moveSecret turns a literal secret in env into a secret block. The value
// stays where it was, in the input; neither the spec nor the report has it.
func (im *importer) moveSecret(a *appState, t *taskSpec, name, why string) {
	delete(t.env, name)
	path := im.projectName + "/" + a.name
	if t != a.spec.main {
		path += "/" + t.name
	}
	key := strings.ToLower(name)
	t.secrets = append(t.secrets, secretSpec{env: name, path: path, key: key})
	for _, et := range a.expGroup().Tasks {
		if et.Name == t.name {
			delete(et.Env, name)
		}
	}
	mount := spec.DefaultKVMount
	a.job.r.add(a.taskPath(t.name)+".env["+name+"]", ClassTransformed, a.name,
		fmt.Sprintf("a literal secret, moved to secret %q (Vault %s/%s, key %s): store its current value there", name, mount, path, key))
	a.job.rep.Secrets = append(a.job.rep.Secrets, SecretMove{App: a.name, Task: t.name, Env: name, Mount: mount, Path: path, Key: key, Why: why})
}

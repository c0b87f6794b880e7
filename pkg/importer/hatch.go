package importer

import (
	"fmt"
	"maps"
	"reflect"
	"strings"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/internal/lazyregexp"
	"github.com/drover-io/drover/pkg/spec"
)

// Reasons a difference in a typed or untyped field is dropped.
const (
	whyProject   = "the project (drover.hcl) carries region and namespace, one value for every app: this job's differs from the first job's"
	whyUpdate    = "the app's update block has max_parallel, canary, auto_promote, auto_revert, min_healthy_time, healthy_deadline and progress_deadline, and drover owns the update block"
	whyScaling   = "the app's scaling block has min, max, enabled and an Autoscaler policy, and drover owns the scaling block"
	whyCount     = "drover owns the count (count, or scaling min)"
	whyResources = "the task's resources block has cpu, memory and memory_max, and drover owns resources"
	whyDriver    = "drover runs docker, exec and raw_exec tasks"
	whyLifecycle = "the app's own task has no lifecycle; helpers' lifecycle blocks have hook and sidecar"
	whyEnv       = "drover owns env, and the spec refuses this variable"
	whyVault     = "drover gives a task Vault access only through secret blocks, read through the app's own least-privilege role; move what the task reads from Vault to secret blocks"
	whyIdentity  = "drover gives a task the workload identities its secrets and nomad_api need"
	whyJobLevel  = "the spec has no job-level field for it, and a nomad block is per group"
)

var (
	jobRules = rules{
		"region": {mode: modeTyped, reason: whyProject}, "namespace": {mode: modeTyped, reason: whyProject},
		"datacenters": {mode: modeTyped, reason: "the app's datacenters name at least one datacenter"},
		"id":          {skip: true}, "name": {skip: true}, "group": {skip: true},
		"type":       {mode: modeTyped, reason: "the app's type is service, batch, system or sysbatch"},
		"constraint": {skip: true}, "affinity": {skip: true}, "spread": {skip: true},
		"update": {skip: true}, "reschedule": {skip: true}, "migrate": {skip: true},
		"periodic":      {mode: modeTyped, reason: "the app's periodic block has one cron, time_zone and prohibit_overlap, for batch apps, always enabled"},
		"parameterized": {mode: modeDrop, reason: "only a batch or sysbatch app is dispatched with parameters"},
		// Typed when the app sets them (typedPaths), else Nomad's defaults.
		"node_pool": {mode: modeDrop, reason: "the app's node_pool names a node pool"},
		"priority":  {mode: modeDrop, reason: "the app's priority is between 1 and 100"},
		"meta":      {mode: modeTyped, reason: "drover's job meta is the app's meta"},
		"*":         {mode: modeDrop, reason: whyJobLevel},
	}
	groupRules = rules{
		"count": {mode: modeTyped, reason: whyCount}, "scaling": {mode: modeTyped, reason: whyScaling},
		"update": {mode: modeTyped, reason: whyUpdate}, "task": {skip: true}, "network": {skip: true},
	}
	taskRules = rules{
		"driver": {mode: modeTyped, reason: whyDriver}, "lifecycle": {mode: modeTyped, reason: whyLifecycle},
		"resources": {mode: modeTyped, reason: whyResources}, "env": {mode: modeTyped, reason: whyEnv},
		"vault": {mode: modeDrop, reason: whyVault}, "identity": {mode: modeDrop, reason: whyIdentity},
		"Identity": {mode: modeDrop, reason: whyIdentity}, "restart": {skip: true},
	}
)

// vaultRead matches a consul-template function that reads Vault.
var vaultRead = lazyregexp.New("\\b(secret|secrets|pkiCert)\\s+[\"`]")

func init() {
	for name := range serverState {
		jobRules[name] = rule{skip: true}
	}
}

// hatch renders the typed specs and puts in each app's nomad block what
// the render lacks, recording every field on the way.
func (im *importer) hatch() {
	l, err := load(im.files(false))
	if err == nil && l.diags.HasErrors() {
		err = fmt.Errorf("the typed specs do not validate: %s", l.diags.Error())
	}
	if err != nil {
		im.failAll(err)
		return
	}
	for _, a := range im.liveApps() {
		rj := l.job(a.name)
		if rj == nil {
			a.err = fmt.Errorf("drover rendered no job for app %q", a.name)
			continue
		}
		a.hatchApp(rj.Job)
	}
}

func (a *appState) hatchApp(rendered *nomadapi.Job) {
	for _, n := range a.svcNotes {
		a.job.r.add(n.path, ClassTransformed, a.name, n.text)
	}
	for _, n := range a.transforms {
		a.job.r.add(n.path, ClassTransformed, a.name, n.text)
	}
	for _, ps := range a.spec.plain {
		for _, n := range ps.notes {
			a.job.r.add(n.path, ClassTransformed, a.name, n.text)
		}
	}
	for _, t := range a.expGroup().Tasks {
		if t.Vault == nil {
			continue
		}
		for i, tp := range t.Templates {
			if tp.EmbeddedTmpl != nil && vaultRead().MatchString(*tp.EmbeddedTmpl) {
				a.job.r.notes(fmt.Sprintf("%s.template[%d]", a.taskPath(t.Name), i),
					"it reads Vault, which needs the task's vault block, and drover drops that: move what it reads to secret blocks")
			}
		}
	}
	e, ord := normalizeOrder(a.expected, false)
	for _, k := range a.dropConfig {
		if t := taskNamed(e.TaskGroups[0].Tasks, k.task); t != nil {
			delete(t.Config, k.key) // dropped, the report says why
		}
	}
	r := normalize(rendered, true)
	d := &differ{rep: a.job.r, app: a.name, typed: a.typedPaths, order: ord}
	jr := maps.Clone(jobRules)
	if a.spec.typ == spec.TypeBatch || a.spec.typ == spec.TypeSysbatch {
		jr["parameterized"] = rule{mode: modeHatch}
	}
	hj := &nomadapi.Job{}
	d.structFields("", reflect.ValueOf(e).Elem(), reflect.ValueOf(r).Elem(), reflect.ValueOf(hj).Elem(), jr, modeDrop, whyJobLevel)
	a.spec.parameterized = hj.ParameterizedJob
	eg, rg := e.TaskGroups[0], r.TaskGroups[0]
	gpath := a.groupPath()
	hg := &nomadapi.TaskGroup{}
	rgCanon := rendered.TaskGroups[0]
	d.trim = (&trimmer{job: rendered, group: rgCanon}).trim
	d.structFields(gpath, reflect.ValueOf(eg).Elem(), reflect.ValueOf(rg).Elem(), reflect.ValueOf(hg).Elem(), groupRules, modeHatch, "")
	a.hatchNetwork(d, eg, rg, hg)
	var tasks []*nomadapi.Task
	var taskBlockPaths []string
	for _, et := range eg.Tasks {
		var rt *nomadapi.Task
		for _, t := range rg.Tasks {
			if t.Name == et.Name {
				rt = t
			}
		}
		orig := et.Name
		if o, ok := a.taskOrig[et.Name]; ok {
			orig = o
		}
		tpath := gpath + ".task[" + orig + "]"
		if rt == nil {
			d.record(tpath, ClassDropped, "drover rendered no such task")
			continue
		}
		var canonTask *nomadapi.Task
		for _, t := range rgCanon.Tasks {
			if t.Name == et.Name {
				canonTask = t
			}
		}
		d.trim = (&trimmer{job: rendered, group: rgCanon, task: canonTask}).trim
		ht := &nomadapi.Task{}
		d.structFields(tpath, reflect.ValueOf(et).Elem(), reflect.ValueOf(rt).Elem(), reflect.ValueOf(ht).Elem(), taskRules, modeHatch, "")
		// A task inherits the group's restart policy; only its own
		// settings go in its block.
		d.equal(tpath+".config", ClassDefault) // empty lists, normalized away
		d.value(tpath+".restart", reflect.ValueOf(et.RestartPolicy), reflect.ValueOf(eg.RestartPolicy), reflect.ValueOf(ht).Elem().FieldByName("RestartPolicy"), modeHatch, "")
		// A task's own Nomad blocks (csi_plugin, ...) are the task's, in
		// Nomad's vocabulary.
		for _, ts := range a.spec.tasks() {
			if ts.name == et.Name {
				var paths []string
				ts.nomadBlocks, paths = takeTaskBlocks(ht, tpath, ts == a.spec.main)
				taskBlockPaths = append(taskBlockPaths, paths...)
			}
		}
		if !reflect.ValueOf(ht).Elem().IsZero() {
			ht.Name = et.Name
			tasks = append(tasks, ht)
		}
	}
	d.trim = nil
	// Nomad's own group blocks and parameterized are the app's, in
	// Nomad's vocabulary: what the hatch would carry of them, the app's
	// blocks do (as a task's csi_plugin, artifact, ... blocks do).
	a.spec.groupBlocks = takeGroupBlocks(hg)
	a.job.r.reclassify(func(f Field) bool {
		if f.App != a.name || f.Class != ClassHatch {
			return false
		}
		if under(f.Path, "parameterized") {
			return true
		}
		for _, p := range taskBlockPaths {
			if under(f.Path, p) {
				return true
			}
		}
		for name := range groupBlockNames {
			if under(f.Path, gpath+"."+name) {
				return true
			}
		}
		return false
	}, ClassTyped)
	if !reflect.ValueOf(hg).Elem().IsZero() {
		a.spec.hatchGroup = hg
	}
	a.spec.hatchTasks = tasks
}

// under reports whether path is at or below prefix.
func under(path, prefix string) bool {
	return strings.HasPrefix(path, prefix) && (len(path) == len(prefix) || path[len(prefix)] == '.' || path[len(prefix)] == '[')
}

// hatchNetwork puts in the nomad block what the group's network has
// beyond the typed ports, and keeps host networking where drover would
// give the group a bridge network it did not have.
func (a *appState) hatchNetwork(d *differ, eg, rg, hg *nomadapi.TaskGroup) {
	path := a.groupPath() + ".network[0]"
	// A lone host network is normalized away: the same as none.
	defer d.equal(a.groupPath()+".network", ClassDefault)
	switch en, rn := eg.Networks, rg.Networks; {
	case len(en) == 0 && len(rn) == 0:
	case len(en) == 0:
		hg.Networks = []*nomadapi.NetworkResource{{Mode: "host"}}
		d.rep.add(a.groupPath()+".network", ClassTransformed, a.name,
			`drover gives a group with helper tasks, a service or published ports a network block; mode = "host" in the nomad block keeps the job's host networking`)
	case len(rn) == 0:
		hg.Networks = []*nomadapi.NetworkResource{deepCopy(en[0])}
		d.record(path, ClassHatch, "")
	default:
		hv := &nomadapi.NetworkResource{}
		d.structFields(path, reflect.ValueOf(en[0]).Elem(), reflect.ValueOf(rn[0]).Elem(), reflect.ValueOf(hv).Elem(), nil, modeHatch, "")
		if !reflect.ValueOf(hv).Elem().IsZero() {
			hg.Networks = []*nomadapi.NetworkResource{hv}
		}
	}
}

// roundTrip loads and renders the written specs and compares each app's
// job with what it is expected to be.
func (im *importer) roundTrip(files []File) {
	l, err := load(files)
	if err != nil {
		im.failAll(err)
		return
	}
	if l.diags.HasErrors() {
		im.failAll(fmt.Errorf("the written specs do not load: %s", l.diags.Error()))
		return
	}
	for _, j := range im.jobs {
		j.rep.RoundTrip = "equal"
		for _, a := range j.apps {
			if a.err != nil {
				continue
			}
			rj := l.job(a.name)
			if rj == nil {
				a.err = fmt.Errorf("drover rendered no job for app %q", a.name)
				continue
			}
			if diff := diffJobs(a.expected, rj); diff != "" {
				j.rep.Differences = append(j.rep.Differences, fmt.Sprintf("app %q:\n%s", a.name, diff))
				j.rep.RoundTrip = "differs"
			}
		}
	}
}

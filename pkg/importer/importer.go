package importer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/pkg/jobspec"
	"github.com/drover-io/drover/pkg/render"
	"github.com/drover-io/drover/pkg/spec"
)

// Options tune an import.
type Options struct {
	// Project names the project in drover.hcl; by default the jobs'
	// namespace (unless "default"), else the first job's ID.
	Project string
}

// File is one spec file the import writes.
type File struct {
	// Path is relative to the output directory, with forward slashes.
	Path string
	Data []byte
}

// Result is the specs and the report.
type Result struct {
	// Files are drover.hcl and one spec file per job, in that order.
	Files  []File
	Report *Report
}

// renderVersion is the drover version the importer renders its checks
// with; ownership metadata is ignored in every comparison.
const renderVersion = "import"

// jobState is one input job on its way.
type jobState struct {
	in    Input
	canon *nomadapi.Job
	rep   *JobReport
	r     *report
	file  string
	apps  []*appState
}

// appState is one group on its way to an app.
type appState struct {
	job   *jobState
	name  string
	group string // the group's name in the input
	gidx  int
	// expected is the job the app must render to: the input canonicalized,
	// with the transformations applied.
	expected *nomadapi.Job
	spec     *appSpec
	err      error
	// The typed mesh service: its index in the group, the expected
	// service before typing changed it, and the notes of those changes.
	svcIndex int
	svcOrig  *nomadapi.Service
	svcNotes []note
	// taskOrig maps a renamed task (the app's own) to its input name.
	taskOrig map[string]string
	// typedPaths are scalar fields a typed attribute carries (user,
	// kill_timeout, ...): equal to the render, they are typed, not default.
	typedPaths map[string]bool
	// transforms are transformations of the expected job that typing
	// brought, for the report.
	transforms []note
	// dropConfig are driver config keys dropped (the report says why):
	// not carried, by the hatch either.
	dropConfig []configKey
}

func (a *appState) expGroup() *nomadapi.TaskGroup { return a.expected.TaskGroups[0] }

func (a *appState) groupPath() string { return "group[" + a.group + "]" }

func (a *appState) servicePath(i int) string { return fmt.Sprintf("%s.service[%d]", a.groupPath(), i) }

// Import turns jobs into specs. An error means nothing could be written
// (no job, an unusable project name); a job or group that cannot be
// imported is reported in its JobReport.
func Import(inputs []Input, opts Options) (*Result, error) {
	if len(inputs) == 0 {
		return nil, errors.New("no job to import")
	}
	im := &importer{opts: opts}
	for _, in := range inputs {
		im.addJob(in)
	}
	if err := im.project(); err != nil {
		return nil, err
	}
	im.nameApps()
	for _, j := range im.jobs {
		for _, a := range j.apps {
			im.propose(a)
		}
	}
	im.meshFixpoint()
	im.settleTyped()
	im.hatch()
	files := im.files(true)
	im.roundTrip(files)
	rep := &Report{Project: im.projectName}
	for _, f := range files {
		rep.Files = append(rep.Files, f.Path)
	}
	for _, j := range im.jobs {
		im.finishReport(j)
		rep.Jobs = append(rep.Jobs, j.rep)
	}
	rep.summarize()
	return &Result{Files: files, Report: rep}, nil
}

type importer struct {
	opts        Options
	jobs        []*jobState
	projectName string
	namespace   string
	region      string
	datacenters []string
}

func (im *importer) addJob(in Input) {
	raw := deepCopy(in.Job)
	canon := deepCopy(in.Job)
	canon.Canonicalize()
	id := *canon.ID
	j := &jobState{in: in, canon: canon, rep: &JobReport{Source: in.Source, Job: id}, r: newReport(rawPaths(raw))}
	if in.Job.CreateIndex != nil || in.Job.SubmitTime != nil || in.Job.JobModifyIndex != nil {
		unserver(canon, j.r) // a job as Nomad stores it: inspect, or live
	}
	im.jobs = append(im.jobs, j)
}

// project picks the project's name and the settings drover.hcl carries:
// those of the first job.
func (im *importer) project() error {
	first := im.jobs[0].canon
	if ns := *first.Namespace; ns != nomadapi.DefaultNamespace {
		im.namespace = ns
	}
	if r := *first.Region; r != nomadapi.GlobalRegion {
		im.region = r
	}
	im.datacenters = first.Datacenters
	name := im.opts.Project
	if name == "" {
		name = sanitizeName(im.namespace)
		if name == "" {
			name = sanitizeName(*first.ID)
		}
		if name == "" {
			name = spec.DefaultProjectName
		}
	}
	if !spec.ValidName(name) {
		return fmt.Errorf("project name %q: %s", name, spec.NameRule)
	}
	im.projectName = name
	return nil
}

// sanitizeName makes s a valid drover name, or "".
func sanitizeName(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b.WriteRune(c)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	out := strings.Trim(b.String(), "-")
	for out != "" && (out[0] < 'a' || out[0] > 'z') {
		out = strings.TrimLeft(out[1:], "-")
	}
	if len(out) > 63 {
		out = strings.TrimRight(out[:63], "-")
	}
	if !spec.ValidName(out) {
		return ""
	}
	return out
}

// nameApps names one app per group: the group's mesh service when it has
// one (its name is the service's identity in the mesh), else the job's ID
// for a job of one group, else job-group; unique across the import.
func (im *importer) nameApps() {
	taken := map[string]bool{im.projectName + "-ingress": true, im.projectName + "-egress": true}
	usedFiles := map[string]bool{spec.ProjectFileName: true}
	for _, j := range im.jobs {
		base := sanitizeName(*j.canon.ID)
		if base == "" {
			base = "job"
		}
		file := base + ".hcl"
		for n := 2; usedFiles[file]; n++ {
			file = fmt.Sprintf("%s-%d.hcl", base, n)
		}
		usedFiles[file] = true
		j.file = file
		for gi, g := range j.canon.TaskGroups {
			var candidates []string
			if i := meshService(g); i >= 0 {
				candidates = append(candidates, sanitizeName(g.Services[i].Name))
			}
			if len(j.canon.TaskGroups) == 1 {
				candidates = append(candidates, base)
			}
			candidates = append(candidates, sanitizeName(*j.canon.ID+"-"+*g.Name), sanitizeName(*g.Name))
			name := ""
			for _, c := range candidates {
				if c != "" && !taken[c] {
					name = c
					break
				}
			}
			if name == "" {
				name = base + "-" + fmt.Sprint(gi+1)
				for n := 2; taken[name]; n++ {
					name = fmt.Sprintf("%s-%d-%d", base, gi+1, n)
				}
			}
			taken[name] = true
			a := &appState{job: j, name: name, group: *g.Name, gidx: gi, taskOrig: map[string]string{}, typedPaths: map[string]bool{}}
			j.rep.Apps = append(j.rep.Apps, AppReport{App: name, Group: *g.Name, File: file})
			j.apps = append(j.apps, a)
		}
	}
}

// mainRestart carries a restart policy of the app's own task that is not
// the group's: the spec's app-level restart is the group's, which every
// task inherits, so the group takes the app's task's policy and each
// helper that inherited the group's keeps it in a restart block of its
// own. Every task restarts as before. (g is canonical: each task's policy
// is its effective one.)
func (a *appState) mainRestart(g *nomadapi.TaskGroup, main *nomadapi.Task) {
	if main.RestartPolicy == nil || g.RestartPolicy == nil || reflect.DeepEqual(main.RestartPolicy, g.RestartPolicy) {
		return
	}
	g.RestartPolicy = deepCopy(main.RestartPolicy)
	a.job.r.add(a.groupPath()+".restart", ClassTransformed, a.name,
		"the app's restart block is its own task's policy (at the app level restart is the group's, which the task inherits); each helper keeps the group's former policy in a restart block of its own")
	a.job.r.addAll(a.groupPath()+".task["+main.Name+"].restart", ClassTransformed, a.name,
		"the app's own task's restart policy, carried by the app's restart block (the group's)")
}

// propose builds the app's expected job and its typed spec.
func (im *importer) propose(a *appState) {
	j := a.job
	e := deepCopy(j.canon)
	g := e.TaskGroups[a.gidx]
	e.TaskGroups = []*nomadapi.TaskGroup{g}
	r := j.r
	switch {
	case len(j.canon.TaskGroups) > 1:
		r.add("id", ClassTransformed, "", "one app per group: each group is a job of its own, named after its app")
	case *e.ID != a.name:
		r.add("id", ClassTransformed, a.name, fmt.Sprintf("the job is %q: drover names an app's job after the app", a.name))
	default:
		r.add("id", ClassTyped, a.name, "")
	}
	if *e.Name != *j.canon.ID {
		r.add("name", ClassTransformed, "", "drover's job name is its ID")
	} else {
		r.add("name", ClassTyped, "", "")
	}
	e.ID, e.Name = new(a.name), new(a.name)
	if *g.Name != a.name {
		r.add(a.groupPath(), ClassTransformed, a.name, fmt.Sprintf("the group is named %q, after its app", a.name))
		g.Name = new(a.name)
	}
	// Job-level placement moves into the group, which the app's own
	// constraint, affinity and spread blocks are; job-level update,
	// reschedule and migrate are already merged into each group by
	// Nomad's canonicalization.
	for i, c := range e.Constraints {
		g.Constraints = append(g.Constraints, c)
		r.addAll(fmt.Sprintf("constraint[%d]", i), ClassTransformed, a.name, "a job-level constraint, carried by each app's constraint block (the group's)")
	}
	for i, c := range e.Affinities {
		g.Affinities = append(g.Affinities, c)
		r.addAll(fmt.Sprintf("affinity[%d]", i), ClassTransformed, a.name, "a job-level affinity, carried by each app's affinity block (the group's)")
	}
	for i, c := range e.Spreads {
		g.Spreads = append(g.Spreads, c)
		r.addAll(fmt.Sprintf("spread[%d]", i), ClassTransformed, a.name, "a job-level spread, carried by each app's spread block (the group's)")
	}
	e.Constraints, e.Affinities, e.Spreads = nil, nil, nil
	r.addAll("update", ClassTransformed, a.name, "a job-level update block, carried by each group's update (the app's update block)")
	r.addAll("reschedule", ClassTransformed, a.name, "a job-level reschedule block, carried by each group's (the app's reschedule block)")
	r.addAll("migrate", ClassTransformed, a.name, "a job-level migrate block, carried by each group's (the app's migrate block)")
	for k := range e.Meta {
		if strings.HasPrefix(k, "drover-") {
			r.add("meta["+k+"]", ClassIgnored, a.name, "drover's ownership metadata, which render writes itself")
		}
	}
	if p := e.Periodic; p != nil && p.Spec != nil && *p.Spec != "" {
		p.Specs = append([]string{*p.Spec}, p.Specs...)
		p.Spec = new("")
		r.add("periodic.cron", ClassTransformed, a.name, "written as the app's periodic cron (Nomad's crons)")
	}
	a.expected = e

	s := &appSpec{name: a.name, typ: *e.Type}
	a.spec = s
	if len(g.Tasks) == 0 {
		a.err = errors.New("the group has no task (Nomad adds a Connect gateway's proxy task itself), and a drover app runs one; drover renders its own ingress and terminating gateways")
		return
	}
	mainIdx := -1
	for i, t := range g.Tasks {
		if t.Name == a.group || t.Name == a.name || t.Name == *j.canon.ID {
			if t.Lifecycle == nil {
				mainIdx = i
				break
			}
		}
	}
	for i, t := range g.Tasks {
		if mainIdx < 0 && t.Lifecycle == nil {
			mainIdx = i
		}
	}
	if mainIdx < 0 {
		mainIdx = 0
	}
	a.mainRestart(g, g.Tasks[mainIdx])
	for i, t := range g.Tasks {
		ts, err := proposeTask(t, i != mainIdx)
		if err != nil {
			a.err = err
			return
		}
		if i == mainIdx {
			if t.Name != a.name {
				for _, o := range g.Tasks {
					if o != t && o.Name == a.name {
						a.err = fmt.Errorf("the app's own task is named after the app, %q, but a helper task has that name", a.name)
						return
					}
				}
				r.add(a.groupPath()+".task["+t.Name+"]", ClassTransformed, a.name,
					fmt.Sprintf("the app's own task, renamed %q after the app (NOMAD_TASK_NAME and its directory names change)", a.name))
				a.taskOrig[a.name] = t.Name
				renameTaskRefs(g, t.Name, a.name)
				t.Name = a.name
				ts.name = a.name
			}
			s.main = ts
		} else {
			s.helpers = append(s.helpers, ts)
		}
	}
	for _, ts := range s.tasks() {
		for _, k := range sortedEnv(ts.env) {
			if why := localSecret(ts.env[k]); why != "" {
				im.moveSecret(a, ts, k, k+" looks like a secret: "+why)
			}
		}
	}
	if s.typ != spec.TypeSystem && s.typ != spec.TypeSysbatch {
		if sc := g.Scaling; sc != nil && (sc.Type == "" || sc.Type == "horizontal") && sc.Min != nil && sc.Max != nil {
			s.scaling = &scalingSpec{min: *sc.Min, max: *sc.Max, policy: sc.Policy}
			if err := writePolicy(&jobspec.Body{}, sc.Policy); err != nil {
				s.scaling.policy = nil
				r.addAll(a.groupPath()+".scaling.policy", ClassDropped, a.name, "the policy is not in the Autoscaler's format: "+err.Error())
			}
			if sc.Enabled != nil && !*sc.Enabled {
				s.scaling.enabled = new(false)
			}
		}
		def := 1
		if s.scaling != nil {
			def = int(s.scaling.min)
		}
		if g.Count != nil && *g.Count != def {
			s.count = new(*g.Count)
		}
	}
	if s.typ != spec.TypeBatch && s.typ != spec.TypeSysbatch {
		s.update = proposeUpdate(g.Update)
	}
	if s.typ == spec.TypeBatch {
		s.periodic = proposePeriodic(e.Periodic)
	}
	s.meta = withoutDroverMeta(e.Meta)
	s.ports = proposePorts(g)
	s.service = a.proposeService()
	a.proposeJob(im.datacenters)
	a.proposeNetwork()
	a.proposeHostname()
	a.proposePlain()
	a.proposeVolumes()
	for _, ts := range s.tasks() {
		for _, t := range g.Tasks {
			if t.Name == ts.name {
				a.proposeTaskExtras(ts, t)
			}
		}
	}
}

// meshFixpoint keeps typed services whose upstreams all name apps with a
// typed service: the spec's upstream names an app or an external of the
// project.
func (im *importer) meshFixpoint() {
	for changed := true; changed; {
		changed = false
		served := map[string]bool{}
		for _, j := range im.jobs {
			for _, a := range j.apps {
				if a.err == nil && a.spec.service != nil && a.spec.service.port != "" {
					served[a.name] = true
				}
			}
		}
		for _, j := range im.jobs {
			for _, a := range j.apps {
				if a.err != nil || a.spec.service == nil {
					continue
				}
				for _, u := range a.spec.service.upstreams {
					if !served[u.name] {
						a.dropService()
						a.job.r.notes(a.servicePath(a.svcIndex), fmt.Sprintf("not typed: upstream %q is no app of this import with a typed service (import its job too)", u.name))
						changed = true
						break
					}
				}
			}
		}
	}
}

// apps returns the apps that are still on their way.
func (im *importer) liveApps() []*appState {
	var out []*appState
	for _, j := range im.jobs {
		for _, a := range j.apps {
			if a.err == nil {
				out = append(out, a)
			}
		}
	}
	return out
}

// files writes drover.hcl and the spec files of the live apps.
func (im *importer) files(withHatch bool) []File {
	var pb jobspec.Body
	p := pb.Block("project", im.projectName)
	if im.region != "" {
		p.Attr("region", im.region)
	}
	if im.namespace != "" {
		p.Attr("namespace", im.namespace)
	}
	if len(im.datacenters) > 0 && !(len(im.datacenters) == 1 && im.datacenters[0] == "*") {
		p.Attr("datacenters", im.datacenters)
	}
	out := []File{{Path: spec.ProjectFileName, Data: []byte(header("project") + pb.String())}}
	for _, j := range im.jobs {
		var b jobspec.Body
		n := 0
		for _, a := range j.apps {
			if a.err != nil {
				continue
			}
			a.spec.write(&b, withHatch)
			n++
		}
		if n > 0 {
			out = append(out, File{Path: j.file, Data: []byte(header(fmt.Sprintf("job %q (%s)", *j.canon.ID, j.in.Source)) + b.String())})
		}
	}
	return out
}

func header(what string) string {
	return "# Imported by drover import from Nomad " + what + ".\n\n"
}

// loaded is a written spec tree, loaded and rendered.
type loaded struct {
	set    *spec.Set
	bundle *render.Bundle
	diags  hcl.Diagnostics
	// byFile maps the files' names in diagnostics to what was written.
	byFile map[string]File
}

// load writes files to a temporary directory, loads and renders them.
func load(files []File) (*loaded, error) {
	dir, err := os.MkdirTemp("", "drover-import-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	l := &loaded{byFile: map[string]File{}}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return nil, err
		}
	}
	set, diags := spec.Load(spec.LoadOptions{Paths: []string{dir}, WorkDir: dir})
	for _, f := range files {
		l.byFile[f.Path] = f
	}
	l.set, l.diags = set, diags
	if diags.HasErrors() || set == nil {
		return l, nil
	}
	b, err := render.Render(set, render.Options{Version: renderVersion})
	if err != nil {
		var de *render.DiagnosticsError
		if errors.As(err, &de) {
			l.diags = append(l.diags, de.Diags...)
			return l, nil
		}
		return nil, err
	}
	l.bundle = b
	return l, nil
}

func (l *loaded) job(app string) *render.Job {
	if l.bundle == nil {
		return nil
	}
	for _, j := range l.bundle.Jobs {
		if j.Owner.App == app && j.Gateway == "" {
			return j
		}
	}
	return nil
}

// settleTyped loads the typed specs until they validate, demoting what
// validation refuses, and until each typed mesh service renders as the
// input has it.
func (im *importer) settleTyped() {
	for range 64 {
		l, err := load(im.files(false))
		if err != nil {
			im.failAll(err)
			return
		}
		if l.diags.HasErrors() {
			if !im.demote(l) {
				im.failAll(fmt.Errorf("the imported specs do not validate: %s", l.diags.Error()))
				return
			}
			continue
		}
		changed := false
		for _, a := range im.liveApps() {
			if rj := l.job(a.name); rj != nil && a.verify(rj.Job) {
				changed = true
			}
			if a.spec.service == nil {
				continue
			}
			rj := l.job(a.name)
			want := normalize(a.expected, false).TaskGroups[0].Services[0:0]
			eg := normalize(a.expected, false).TaskGroups[0]
			for _, s := range eg.Services {
				if s.Name == a.name && s.Connect != nil && s.Connect.SidecarService != nil {
					want = append(want, s)
				}
			}
			var got []*nomadapi.Service
			if rj != nil {
				got = normalize(rj.Job, true).TaskGroups[0].Services
			}
			if len(want) != 1 || len(got) != 1 || !sameJSON(want[0], got[0]) {
				a.dropService()
				a.job.r.notes(a.servicePath(a.svcIndex), "not typed: the spec's service block cannot say everything this service sets")
				changed = true
			}
		}
		if !changed {
			return
		}
		im.meshFixpoint()
	}
	im.failAll(errors.New("the typed specs did not settle"))
}

func (im *importer) failAll(err error) {
	for _, a := range im.liveApps() {
		a.err = err
	}
}

// finishReport completes a job's report: errors, notes, the fields never
// classified, sorted.
func (im *importer) finishReport(j *jobState) {
	var errs []string
	for _, a := range j.apps {
		if a.err != nil {
			errs = append(errs, fmt.Sprintf("group %q: %v", a.group, a.err))
		}
	}
	if len(errs) > 0 {
		j.rep.Error = strings.Join(errs, "; ")
		j.rep.RoundTrip = ""
	}
	for _, p := range j.r.raw {
		if j.r.seen[p] {
			continue
		}
		top := p
		if i := strings.IndexAny(p, ".["); i >= 0 {
			top = p[:i]
		}
		if serverState[top] {
			j.r.add(p, ClassIgnored, "", "state Nomad keeps about the job, not part of its definition")
		} else if j.rep.Error != "" {
			j.r.add(p, ClassDropped, "", "its group was not imported")
		} else {
			j.r.add(p, ClassDropped, "", "not carried")
		}
	}
	fields := j.r.fields
	for i := range fields {
		if fields[i].Reason == "" {
			fields[i].Reason = j.r.noteFor(fields[i].Path)
		}
	}
	sortFields(fields)
	j.rep.Fields = fields
	sort.SliceStable(j.rep.Secrets, func(x, y int) bool { return j.rep.Secrets[x].Env < j.rep.Secrets[y].Env })
}

// serverState are the job fields Nomad sets, not the job file.
var serverState = map[string]bool{
	"Stop": true, "ParentID": true, "Dispatched": true, "DispatchIdempotencyToken": true, "Payload": true,
	"ConsulNamespace": true, "VaultNamespace": true, "NomadTokenID": true, "Status": true, "StatusDescription": true,
	"Stable": true, "Version": true, "SubmitTime": true, "CreateIndex": true, "ModifyIndex": true,
	"JobModifyIndex": true, "VersionTag": true,
}

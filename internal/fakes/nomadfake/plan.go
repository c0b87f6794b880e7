package nomadfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"time"

	"github.com/hashicorp/nomad/api"
)

// Diff types and plan annotations, from nomad/structs/diff.go and
// scheduler/annotate.go.
const (
	DiffNone    = "None"
	DiffAdded   = "Added"
	DiffDeleted = "Deleted"
	DiffEdited  = "Edited"

	annotationForcesCreate      = "forces create"
	annotationForcesDestroy     = "forces destroy"
	annotationForcesInplace     = "forces in-place update"
	annotationForcesDestructive = "forces create/destroy update"
)

func (s *Server) jobPlan(w http.ResponseWriter, r *http.Request, body []byte, pathID string) {
	if r.Method != http.MethodPut && r.Method != http.MethodPost {
		s.methodNotAllowed(w)
		return
	}
	var req api.JobPlanRequest
	if err := decodeBody(body, &req); err != nil {
		s.writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if req.Job == nil {
		s.writeError(w, http.StatusBadRequest, "Job must be specified")
		return
	}
	if req.Job.ID == nil {
		s.writeError(w, http.StatusBadRequest, "Job must have a valid ID")
		return
	}
	if pathID != "" && *req.Job.ID != pathID {
		s.writeError(w, http.StatusBadRequest, "Job ID does not match")
		return
	}
	job := canonicalJob(req.Job, jobNamespace(r, req.Namespace, req.Job.Namespace))

	s.mu.Lock()
	defer s.mu.Unlock()
	if err := validateJob(job); err != "" {
		s.writeError(w, http.StatusInternalServerError, err)
		return
	}
	if err := s.namespaceMissing(job); err != "" {
		s.writeError(w, http.StatusInternalServerError, err)
		return
	}
	var existing *api.Job
	var index uint64
	if e := s.jobs[jobKey{*job.Namespace, *job.ID}]; e != nil {
		existing = e.job
		index = *existing.JobModifyIndex
	}
	propagatePolicyIDs(existing, job)
	diff := jobDiff(existing, job)
	ann := planAnnotations(existing, job, diff)
	annotate(diff, ann)
	resp := api.JobPlanResponse{JobModifyIndex: index, Annotations: ann}
	if req.Diff {
		resp.Diff = diff
	}
	s.writeJSON(w, index, resp)
}

// jobDiff is structs.Job.Diff (non-contextual) over the API types: the
// job's own primitive fields and blocks, and a diff per task group and
// task. Unchanged fields and blocks are left out, unchanged groups and
// tasks are listed with type None.
func jobDiff(old, job *api.Job) *api.JobDiff {
	d := &api.JobDiff{Type: DiffNone, ID: *job.ID}
	var ov reflect.Value
	if old == nil {
		d.Type = DiffAdded
	} else {
		ov = reflect.ValueOf(*specOnly(old))
	}
	nv := reflect.ValueOf(*specOnly(job))
	d.Fields, d.Objects = diffStruct(ov, nv, jobDiffFilter)
	d.TaskGroups = groupDiffs(old, job)
	if d.Type == DiffNone && (len(d.Fields) > 0 || len(d.Objects) > 0 || anyGroupChanged(d.TaskGroups)) {
		d.Type = DiffEdited
	}
	return d
}

// jobDiffFilter leaves out what Job.Diff filters, and what the server
// moves into the groups (Update, Reschedule, Migrate).
var jobDiffFilter = map[string]bool{
	"ID": true, "Status": true, "StatusDescription": true, "Version": true, "Stable": true,
	"CreateIndex": true, "ModifyIndex": true, "JobModifyIndex": true, "Update": true,
	"SubmitTime": true, "NomadTokenID": true, "VaultToken": true, "TaskGroups": true,
	"Reschedule": true, "Migrate": true, "VersionTag": true, "Payload": true,
}

func anyGroupChanged(tgs []*api.TaskGroupDiff) bool {
	for _, tg := range tgs {
		if tg.Type != DiffNone {
			return true
		}
	}
	return false
}

func groupDiffs(old, job *api.Job) []*api.TaskGroupDiff {
	names := map[string]bool{}
	byName := func(j *api.Job) map[string]*api.TaskGroup {
		m := map[string]*api.TaskGroup{}
		if j == nil {
			return m
		}
		for _, tg := range specOnly(j).TaskGroups {
			m[deref(tg.Name)] = tg
			names[deref(tg.Name)] = true
		}
		return m
	}
	om, nm := byName(old), byName(job)
	var out []*api.TaskGroupDiff
	for _, name := range sortedKeys(names) {
		out = append(out, groupDiff(name, om[name], nm[name]))
	}
	return out
}

func groupDiff(name string, old, tg *api.TaskGroup) *api.TaskGroupDiff {
	d := &api.TaskGroupDiff{Type: DiffNone, Name: name}
	var ov, nv reflect.Value
	if old != nil {
		ov = reflect.ValueOf(*old)
	}
	if tg != nil {
		nv = reflect.ValueOf(*tg)
	}
	d.Fields, d.Objects = diffStruct(ov, nv, map[string]bool{"Name": true, "Tasks": true})

	tasks := map[string][2]*api.Task{}
	for i, g := range []*api.TaskGroup{old, tg} {
		if g == nil {
			continue
		}
		for _, t := range g.Tasks {
			pair := tasks[t.Name]
			pair[i] = t
			tasks[t.Name] = pair
		}
	}
	changed := false
	for _, tn := range sortedKeys(tasks) {
		td := taskDiff(tn, tasks[tn][0], tasks[tn][1])
		changed = changed || td.Type != DiffNone
		d.Tasks = append(d.Tasks, td)
	}
	switch {
	case old == nil:
		d.Type = DiffAdded
	case tg == nil:
		d.Type = DiffDeleted
	case changed || len(d.Fields) > 0 || len(d.Objects) > 0:
		d.Type = DiffEdited
	}
	return d
}

func taskDiff(name string, old, t *api.Task) *api.TaskDiff {
	d := &api.TaskDiff{Type: DiffNone, Name: name}
	var ov, nv reflect.Value
	if old != nil {
		ov = reflect.ValueOf(*old)
	}
	if t != nil {
		nv = reflect.ValueOf(*t)
	}
	d.Fields, d.Objects = diffStruct(ov, nv, map[string]bool{"Name": true})
	switch {
	case old == nil:
		d.Type = DiffAdded
	case t == nil:
		d.Type = DiffDeleted
	case len(d.Fields) > 0 || len(d.Objects) > 0:
		d.Type = DiffEdited
	}
	return d
}

// singular names the object diffs of list fields the way Nomad does.
var singular = map[string]string{
	"Constraints": "Constraint", "Affinities": "Affinity", "Spreads": "Spread",
	"Services": "Service", "Networks": "Network", "Checks": "Check",
	"Templates": "Template", "Artifacts": "Artifact", "Volumes": "Volume",
	"VolumeMounts": "VolumeMount", "Devices": "Device", "Identities": "Identity",
	"Actions": "Action", "DynamicPorts": "Dynamic Port", "ReservedPorts": "Static Port",
	"Upstreams": "ConsulUpstreams",
}

func singularName(field string) string {
	if s, ok := singular[field]; ok {
		return s
	}
	return field
}

// diffStruct diffs two struct values (either may be invalid: absent) into
// the field diffs of their primitive fields and map entries and the object
// diffs of their nested blocks.
func diffStruct(old, cur reflect.Value, filter map[string]bool) ([]*api.FieldDiff, []*api.ObjectDiff) {
	fields := fieldDiffs(flatPrimitives(old, filter), flatPrimitives(cur, filter))
	var t reflect.Type
	switch {
	case old.IsValid():
		t = old.Type()
	case cur.IsValid():
		t = cur.Type()
	default:
		return fields, nil
	}
	var objects []*api.ObjectDiff
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() || filter[f.Name] {
			continue
		}
		of, nf := fieldOf(old, i), fieldOf(cur, i)
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case primitive(ft) || ft.Kind() == reflect.Map && ft.Key().Kind() == reflect.String && primitive(ft.Elem()):
			// flattened into fields above
		case f.Name == "Scaling" && ft == reflect.TypeOf(api.ScalingPolicy{}):
			if od := scalingDiff(of, nf); od != nil {
				objects = append(objects, od)
			}
		case ft.Kind() == reflect.Struct && ft != reflect.TypeOf(time.Time{}):
			if od := diffObject(f.Name, of, nf); od != nil {
				objects = append(objects, od)
			}
		case ft.Kind() == reflect.Slice && primitive(ft.Elem()):
			if od := setDiff(f.Name, of, nf); od != nil {
				objects = append(objects, od)
			}
		case ft.Kind() == reflect.Slice || ft.Kind() == reflect.Map && ft.Elem().Kind() == reflect.Pointer:
			objects = append(objects, elementDiffs(singularName(f.Name), of, nf)...)
		case ft.Kind() == reflect.Map || ft.Kind() == reflect.Interface:
			if od := deepDiff(f.Name, of, nf); od != nil {
				objects = append(objects, od)
			}
		}
	}
	sort.SliceStable(objects, func(i, j int) bool { return objects[i].Name < objects[j].Name })
	return fields, objects
}

func fieldOf(v reflect.Value, i int) reflect.Value {
	if !v.IsValid() {
		return reflect.Value{}
	}
	return v.Field(i)
}

func primitive(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.String, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return true
	case reflect.Pointer:
		return primitive(t.Elem())
	}
	return false
}

// present dereferences v, returning an invalid value for nil.
func present(v reflect.Value) reflect.Value {
	for v.IsValid() && (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) {
		if v.IsNil() {
			return reflect.Value{}
		}
		v = v.Elem()
	}
	return v
}

func primitiveString(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	}
	return fmt.Sprint(v.Interface())
}

// flatPrimitives flattens the primitive fields of a struct, and its maps
// of primitives as Name[key], like flatmap.Flatten(primitiveOnly).
func flatPrimitives(v reflect.Value, filter map[string]bool) map[string]string {
	v = present(v)
	if !v.IsValid() {
		return nil
	}
	out := map[string]string{}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() || filter[f.Name] {
			continue
		}
		fv := present(v.Field(i))
		if !fv.IsValid() {
			continue
		}
		switch {
		case primitive(fv.Type()):
			out[f.Name] = primitiveString(fv)
		case fv.Kind() == reflect.Map && fv.Type().Key().Kind() == reflect.String && primitive(fv.Type().Elem()):
			for _, k := range fv.MapKeys() {
				if e := present(fv.MapIndex(k)); e.IsValid() {
					out[fmt.Sprintf("%s[%s]", f.Name, k.String())] = primitiveString(e)
				}
			}
		}
	}
	return out
}

func fieldDiffs(old, cur map[string]string) []*api.FieldDiff {
	keys := map[string]bool{}
	for k := range old {
		keys[k] = true
	}
	for k := range cur {
		keys[k] = true
	}
	var out []*api.FieldDiff
	for _, k := range sortedKeys(keys) {
		o, oOK := old[k]
		n, nOK := cur[k]
		switch {
		case oOK && !nOK:
			out = append(out, &api.FieldDiff{Type: DiffDeleted, Name: k, Old: o})
		case !oOK && nOK:
			out = append(out, &api.FieldDiff{Type: DiffAdded, Name: k, New: n})
		case o != n:
			out = append(out, &api.FieldDiff{Type: DiffEdited, Name: k, Old: o, New: n})
		}
	}
	return out
}

func diffType(old, cur reflect.Value) string {
	switch {
	case !old.IsValid():
		return DiffAdded
	case !cur.IsValid():
		return DiffDeleted
	}
	return DiffEdited
}

// diffObject diffs a nested block; nil when unchanged or absent on both sides.
func diffObject(name string, old, cur reflect.Value) *api.ObjectDiff {
	old, cur = present(old), present(cur)
	if !old.IsValid() && !cur.IsValid() {
		return nil
	}
	fields, objects := diffStruct(old, cur, nil)
	if old.IsValid() && cur.IsValid() && len(fields) == 0 && len(objects) == 0 {
		return nil
	}
	return &api.ObjectDiff{Type: diffType(old, cur), Name: name, Fields: fields, Objects: objects}
}

// scalingDiff is structs.scalingDiff: the server-set fields of a scaling
// policy are left out of its field diffs, but the policies are compared
// whole, so a stored policy (with its raft indexes) and a submitted one
// (without) differ, and Nomad reports the policy "Edited" with no fields
// on every plan.
func scalingDiff(old, cur reflect.Value) *api.ObjectDiff {
	old, cur = present(old), present(cur)
	switch {
	case !old.IsValid() && !cur.IsValid():
		return nil
	case old.IsValid() && cur.IsValid() && reflect.DeepEqual(old.Interface(), cur.Interface()):
		return nil
	}
	fields, objects := diffStruct(old, cur, map[string]bool{"CreateIndex": true, "ModifyIndex": true, "ID": true, "Type": true, "Target": true})
	return &api.ObjectDiff{Type: diffType(old, cur), Name: "Scaling", Fields: fields, Objects: objects}
}

// setDiff diffs a list of primitives as a set, like stringSetDiff.
func setDiff(name string, old, cur reflect.Value) *api.ObjectDiff {
	set := func(v reflect.Value) map[string]bool {
		m := map[string]bool{}
		if v = present(v); v.IsValid() {
			for i := 0; i < v.Len(); i++ {
				if e := present(v.Index(i)); e.IsValid() {
					m[primitiveString(e)] = true
				}
			}
		}
		return m
	}
	os, ns := set(old), set(cur)
	var fields []*api.FieldDiff
	for _, k := range sortedKeys(os) {
		if !ns[k] {
			fields = append(fields, &api.FieldDiff{Type: DiffDeleted, Name: name, Old: k})
		}
	}
	for _, k := range sortedKeys(ns) {
		if !os[k] {
			fields = append(fields, &api.FieldDiff{Type: DiffAdded, Name: name, New: k})
		}
	}
	if len(fields) == 0 {
		return nil
	}
	t := DiffEdited
	switch {
	case len(os) == 0:
		t = DiffAdded
	case len(ns) == 0:
		t = DiffDeleted
	}
	return &api.ObjectDiff{Type: t, Name: name, Fields: fields}
}

// elementDiffs diffs a list (or map) of blocks: by name when the blocks
// have one, otherwise as a set of values, like primitiveObjectSetDiff.
func elementDiffs(name string, old, cur reflect.Value) []*api.ObjectDiff {
	type elem struct {
		key string
		v   reflect.Value
	}
	elems := func(v reflect.Value) []elem {
		var out []elem
		v = present(v)
		if !v.IsValid() {
			return nil
		}
		if v.Kind() == reflect.Map {
			for _, k := range v.MapKeys() {
				out = append(out, elem{key: "key:" + k.String(), v: v.MapIndex(k)})
			}
			return out
		}
		for i := 0; i < v.Len(); i++ {
			e := v.Index(i)
			key := ""
			if pe := present(e); pe.IsValid() && pe.Kind() == reflect.Struct {
				if n := present(pe.FieldByName("Name")); n.IsValid() && n.Kind() == reflect.String && n.String() != "" {
					key = "name:" + n.String()
				}
			}
			if key == "" {
				b, _ := json.Marshal(e.Interface())
				key = "value:" + string(b)
			}
			out = append(out, elem{key: key, v: e})
		}
		return out
	}
	om, nm := map[string]reflect.Value{}, map[string]reflect.Value{}
	var order []string
	for _, e := range elems(old) {
		if _, ok := om[e.key]; !ok {
			order = append(order, e.key)
		}
		om[e.key] = e.v
	}
	for _, e := range elems(cur) {
		if _, ok := om[e.key]; !ok {
			if _, ok := nm[e.key]; !ok {
				order = append(order, e.key)
			}
		}
		nm[e.key] = e.v
	}
	var out []*api.ObjectDiff
	for _, k := range order {
		o, n := om[k], nm[k]
		pe := present(o)
		if !pe.IsValid() {
			pe = present(n)
		}
		var od *api.ObjectDiff
		if pe.IsValid() && pe.Kind() == reflect.Struct {
			od = diffObject(name, o, n)
		} else {
			od = deepDiff(name, o, n)
		}
		if od != nil {
			out = append(out, od)
		}
	}
	return out
}

// deepDiff diffs free-form values (task config, scaling policy) by
// flattening them completely, as Nomad does for Config.
func deepDiff(name string, old, cur reflect.Value) *api.ObjectDiff {
	flat := func(v reflect.Value) map[string]string {
		if v = present(v); !v.IsValid() {
			return nil
		}
		out := map[string]string{}
		flattenDeep("", v, out)
		return out
	}
	o, n := flat(old), flat(cur)
	if o == nil && n == nil {
		return nil
	}
	fields := fieldDiffs(o, n)
	if len(fields) == 0 {
		return nil
	}
	t := DiffEdited
	switch {
	case o == nil:
		t = DiffAdded
	case n == nil:
		t = DiffDeleted
	}
	return &api.ObjectDiff{Type: t, Name: name, Fields: fields}
}

func flattenDeep(prefix string, v reflect.Value, out map[string]string) {
	v = present(v)
	if !v.IsValid() {
		out[prefix] = "nil"
		return
	}
	sub := func(k string) string {
		if prefix == "" {
			return k
		}
		return fmt.Sprintf("%s[%s]", prefix, k)
	}
	switch v.Kind() {
	case reflect.Map:
		for _, k := range v.MapKeys() {
			flattenDeep(sub(fmt.Sprint(k.Interface())), v.MapIndex(k), out)
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			flattenDeep(fmt.Sprintf("%s[%d]", prefix, i), v.Index(i), out)
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			if t.Field(i).IsExported() {
				name := t.Field(i).Name
				if prefix != "" {
					name = prefix + "." + name
				}
				flattenDeep(name, v.Field(i), out)
			}
		}
	default:
		out[prefix] = primitiveString(v)
	}
}

// planAnnotations approximates what the scheduler reports per group: new
// groups place their count, removed ones stop it, a count change places or
// stops the difference, and when anything in the job changed the existing
// allocations are updated, destructively when a task changed (in place
// otherwise).
func planAnnotations(old, job *api.Job, diff *api.JobDiff) *api.PlanAnnotations {
	ann := &api.PlanAnnotations{DesiredTGUpdates: map[string]*api.DesiredUpdates{}}
	count := func(j *api.Job, name string) uint64 {
		if j == nil || deref(j.Stop) {
			return 0
		}
		if tg := findGroup(j, name); tg != nil {
			return uint64(deref(tg.Count))
		}
		return 0
	}
	for _, tg := range diff.TaskGroups {
		oc, nc := count(old, tg.Name), count(job, tg.Name)
		u := &api.DesiredUpdates{}
		existing := min(oc, nc)
		if nc > oc {
			u.Place = nc - oc
		} else {
			u.Stop = oc - nc
		}
		// Any change to the job gives it a new JobModifyIndex, and the
		// scheduler updates every allocation of an older one: in place
		// unless a task or the group's network, disk or volumes changed.
		switch {
		case diff.Type == DiffNone:
			u.Ignore = existing
		case groupDestructive(tg):
			u.DestructiveUpdate = existing
		default:
			u.InPlaceUpdate = existing
		}
		ann.DesiredTGUpdates[tg.Name] = u
	}
	return ann
}

func groupDestructive(tg *api.TaskGroupDiff) bool {
	for _, t := range tg.Tasks {
		if t.Type != DiffNone && taskDestructive(t) {
			return true
		}
	}
	for _, o := range tg.Objects {
		switch o.Name {
		case "Network", "EphemeralDisk", "Volume":
			return true
		}
	}
	return false
}

// taskDestructive is the rule of scheduler.annotateTask.
func taskDestructive(t *api.TaskDiff) bool {
	for _, f := range t.Fields {
		if f.Name != "KillTimeout" {
			return true
		}
	}
	for _, o := range t.Objects {
		switch o.Name {
		case "Service", "Constraint", "Affinity", "Spread":
		case "LogConfig":
			for _, f := range o.Fields {
				if f.Name == "Disabled" {
					return true
				}
			}
		default:
			return true
		}
	}
	return false
}

// annotate is scheduler.Annotate: update counts per group, and why a count
// or task change forces what it does.
func annotate(diff *api.JobDiff, ann *api.PlanAnnotations) {
	for _, tg := range diff.TaskGroups {
		if u, ok := ann.DesiredTGUpdates[tg.Name]; ok {
			tg.Updates = map[string]uint64{}
			for name, n := range map[string]uint64{
				"ignore": u.Ignore, "create": u.Place, "migrate": u.Migrate, "destroy": u.Stop,
				"canary": u.Canary, "in-place update": u.InPlaceUpdate, "create/destroy update": u.DestructiveUpdate,
			} {
				if n != 0 {
					tg.Updates[name] = n
				}
			}
		}
		for _, f := range tg.Fields {
			if f.Name != "Count" {
				continue
			}
			o, _ := strconv.Atoi(f.Old)
			n, _ := strconv.Atoi(f.New)
			if o < n {
				f.Annotations = append(f.Annotations, annotationForcesCreate)
			} else if n < o {
				f.Annotations = append(f.Annotations, annotationForcesDestroy)
			}
		}
		for _, t := range tg.Tasks {
			switch {
			case t.Type == DiffNone:
			case (tg.Type == DiffAdded || tg.Type == DiffDeleted) && t.Type == DiffAdded:
				t.Annotations = append(t.Annotations, annotationForcesCreate)
			case (tg.Type == DiffAdded || tg.Type == DiffDeleted) && t.Type == DiffDeleted:
				t.Annotations = append(t.Annotations, annotationForcesDestroy)
			case taskDestructive(t):
				t.Annotations = append(t.Annotations, annotationForcesDestructive)
			default:
				t.Annotations = append(t.Annotations, annotationForcesInplace)
			}
		}
	}
}

package importer

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// How a subtree of the input is carried, and so what a difference between
// the input and the typed render means there.
type mode int

const (
	// modeHatch: a difference goes into the nomad block.
	modeHatch mode = iota
	// modeTyped: typed blocks carry it; a difference is dropped (reason).
	modeTyped
	// modeDrop: nothing can carry it; a difference is dropped (reason).
	modeDrop
)

// rule says how one field is carried.
type rule struct {
	mode   mode
	reason string // for dropped differences
	skip   bool   // the caller handles the field
}

// rules are per struct type, by vocabulary name; "*" is the default.
type rules map[string]rule

// differ compares an expected value (the input, canonicalized, with the
// transformations applied) with the typed render of it, field by field:
// it records every field in the report, and fills a hatch value of the
// same type with what the nomad block must add.
type differ struct {
	rep *report
	app string
	// trim makes a hatch element as short as Nomad's defaults allow.
	trim func(v reflect.Value) reflect.Value
	// typed are the scalar fields typed attributes carry: equal to the
	// render, they are typed rather than default.
	typed map[string]bool
	// order is where normalize moved the expected lists' elements from.
	order order
}

// report collects the fields of one job, first record of a path winning.
type report struct {
	fields []Field
	seen   map[string]bool
	// raw are the paths set in the input as given (before Nomad's
	// defaults): fields equal to the render are listed only when set.
	raw []string
	// notesByPath explain fields (why a service is not typed).
	notesByPath map[string]string
}

// addAll records every raw path at or below prefix.
func (r *report) addAll(prefix, class, app, reason string) {
	for _, p := range r.rawUnder(prefix) {
		r.add(p, class, app, reason)
	}
}

// notes attaches an explanation to the fields at or below path.
func (r *report) notes(path, text string) { r.notesByPath[path] = text }

// noteFor is the note of the closest path at or above p.
func (r *report) noteFor(p string) string {
	best, text := -1, ""
	for k, v := range r.notesByPath {
		if strings.HasPrefix(p, k) && (len(p) == len(k) || p[len(k)] == '.' || p[len(k)] == '[') && len(k) > best {
			best, text = len(k), v
		}
	}
	return text
}

func newReport(raw []string) *report {
	sort.Strings(raw)
	return &report{seen: map[string]bool{}, raw: raw, notesByPath: map[string]string{}}
}

// reclassify gives the recorded fields that match class c.
func (r *report) reclassify(match func(Field) bool, c string) {
	for i := range r.fields {
		if match(r.fields[i]) {
			r.fields[i].Class = c
		}
	}
}

func (r *report) add(path, class, app, reason string) {
	if r.seen[path] {
		return
	}
	r.seen[path] = true
	r.fields = append(r.fields, Field{Path: path, Class: class, App: app, Reason: reason})
}

// rawUnder returns the raw paths at or below path.
func (r *report) rawUnder(path string) []string {
	i := sort.SearchStrings(r.raw, path)
	var out []string
	for ; i < len(r.raw) && strings.HasPrefix(r.raw[i], path); i++ {
		rest := r.raw[i][len(path):]
		if rest == "" || rest[0] == '.' || rest[0] == '[' {
			out = append(out, r.raw[i])
		}
	}
	return out
}

// equal records the raw fields under path, carried without a hatch.
func (d *differ) equal(path, class string) {
	for _, p := range d.rep.rawUnder(path) {
		c := class
		if c == ClassDefault && d.typed[p] {
			c = ClassTyped
		}
		d.rep.add(p, c, d.app, "")
	}
}

// record records the raw fields under path (or path itself) as class.
func (d *differ) record(path, class, reason string) {
	under := d.rep.rawUnder(path)
	if len(under) == 0 {
		d.rep.add(path, class, d.app, reason)
		return
	}
	for _, p := range under {
		d.rep.add(p, class, d.app, reason)
	}
}

// structFields compares structs e and r (values of one struct type) and
// fills h (an addressable value of that type) with the hatch.
func (d *differ) structFields(path string, e, r, h reflect.Value, rs rules, m mode, reason string) {
	t := e.Type()
	for _, f := range vocab(t) {
		if f.label {
			continue
		}
		fr, ok := rs[f.name]
		if !ok {
			fr, ok = rs["*"]
			if !ok {
				fr = rule{mode: m, reason: reason}
			}
		}
		if fr.skip {
			continue
		}
		if !f.tagged && fr.mode == modeHatch {
			fr = rule{mode: modeDrop, reason: "Nomad's job file vocabulary has no " + f.name + ", so a nomad block cannot set it"}
		}
		d.value(joinPath(path, f.name), e.Field(f.index), r.Field(f.index), h.Field(f.index), fr.mode, fr.reason)
	}
}

// value compares one field.
func (d *differ) value(path string, e, r, h reflect.Value, m mode, reason string) {
	equalClass := ClassDefault
	if m == modeTyped {
		equalClass = ClassTyped
	}
	t := e.Type()
	if sameJSON(e.Interface(), r.Interface()) {
		// Blocks and map entries the render has came from typed blocks:
		// canonicalization adds none.
		if (t.Kind() == reflect.Slice && structElem(t) != nil || t.Kind() == reflect.Map) && e.Len() > 0 {
			equalClass = ClassTyped
		}
		d.equal(path, equalClass)
		return
	}
	switch {
	case t.Kind() == reflect.Pointer && structElem(t) == t.Elem() || t.Kind() == reflect.Struct && t != durationType:
		d.block(path, e, r, h, m, reason)
	case t.Kind() == reflect.Slice && structElem(t) != nil:
		d.list(path, e, r, h, m, reason)
	case t.Kind() == reflect.Map && structElem(t) != nil:
		d.labeledMap(path, e, r, h, m, reason)
	case t.Kind() == reflect.Map:
		d.plainMap(path, e, r, h, m, reason)
	default:
		d.scalar(path, e, r, h, m, reason)
	}
}

func (d *differ) block(path string, e, r, h reflect.Value, m mode, reason string) {
	ptr := e.Kind() == reflect.Pointer
	if ptr && e.IsNil() {
		d.rep.add(path, ClassTransformed, d.app, "drover's render sets it where the input has none")
		return
	}
	ee, rr := e, r
	if ptr {
		ee = e.Elem()
		if r.IsNil() {
			if m != modeHatch {
				d.record(path, ClassDropped, reason)
				return
			}
			{
				// Nothing of it is rendered: the hatch carries it whole.
				v := reflect.New(ee.Type())
				v.Elem().Set(ee)
				h.Set(d.trimValue(reflect.ValueOf(deepCopyValue(v.Interface()))))
				d.record(path, ClassHatch, "")
				return
			}
		} else {
			rr = r.Elem()
		}
	}
	hv := reflect.New(ee.Type())
	d.structFields(path, ee, rr, hv.Elem(), nil, m, reason)
	if !hv.Elem().IsZero() {
		if ptr {
			h.Set(hv)
		} else {
			h.Set(hv.Elem())
		}
	}
}

// list matches the elements of e with those of r; those r lacks go to
// the hatch (appended, as jobspec.Merge does), those e lacks are noted.
func (d *differ) list(path string, e, r, h reflect.Value, m mode, reason string) {
	used := make([]bool, r.Len())
	var extra []reflect.Value
	perm := d.order[e.Pointer()]
	for i := range e.Len() {
		el := e.Index(i)
		pi := i
		if i < len(perm) {
			pi = perm[i] // the input's index, which its raw paths have
		}
		p := fmt.Sprintf("%s[%d]", path, pi)
		found := false
		for j := range r.Len() {
			if !used[j] && sameJSON(el.Interface(), r.Index(j).Interface()) {
				used[j], found = true, true
				break
			}
		}
		switch {
		case found:
			d.equal(p, ClassTyped)
			if len(d.rep.rawUnder(p)) == 0 {
				d.rep.add(p, ClassTyped, d.app, "")
			}
		case m == modeHatch:
			extra = append(extra, d.trimValue(reflect.ValueOf(deepCopyValue(el.Interface()))))
			d.record(p, ClassHatch, "")
		default:
			d.record(p, ClassDropped, reason)
		}
	}
	for j := range r.Len() {
		if !used[j] {
			d.rep.add(fmt.Sprintf("%s[+%d]", path, j), ClassTransformed, d.app, "drover's render adds it")
		}
	}
	if len(extra) > 0 {
		out := reflect.MakeSlice(e.Type(), 0, len(extra))
		for _, v := range extra {
			out = reflect.Append(out, v)
		}
		h.Set(out)
	}
}

func (d *differ) labeledMap(path string, e, r, h reflect.Value, m mode, reason string) {
	for _, k := range sortedKeys(e) {
		ev := e.MapIndex(reflect.ValueOf(k))
		p := path + "[" + k + "]"
		rv := r.MapIndex(reflect.ValueOf(k))
		switch {
		case rv.IsValid() && sameJSON(ev.Interface(), rv.Interface()):
			d.equal(p, ClassTyped)
		case m == modeHatch:
			if h.IsNil() {
				h.Set(reflect.MakeMap(e.Type()))
			}
			h.SetMapIndex(reflect.ValueOf(k), d.trimValue(reflect.ValueOf(deepCopyValue(ev.Interface()))))
			d.record(p, ClassHatch, "")
		default:
			d.record(p, ClassDropped, reason)
		}
	}
	for _, k := range sortedKeys(r) {
		if !e.MapIndex(reflect.ValueOf(k)).IsValid() {
			d.rep.add(path+"[+"+k+"]", ClassTransformed, d.app, "drover's render adds it")
		}
	}
}

func (d *differ) plainMap(path string, e, r, h reflect.Value, m mode, reason string) {
	for _, k := range sortedKeys(e) {
		ev := e.MapIndex(reflect.ValueOf(k))
		p := path + "[" + k + "]"
		rv := r.MapIndex(reflect.ValueOf(k))
		switch {
		case rv.IsValid() && sameJSON(ev.Interface(), rv.Interface()):
			d.equal(p, ClassTyped)
			d.rep.add(p, ClassTyped, d.app, "")
		case m == modeHatch:
			if h.IsNil() {
				h.Set(reflect.MakeMap(e.Type()))
			}
			h.SetMapIndex(reflect.ValueOf(k), ev)
			d.rep.add(p, ClassHatch, d.app, "")
		default:
			d.rep.add(p, ClassDropped, d.app, reason)
		}
	}
	for _, k := range sortedKeys(r) {
		if !e.MapIndex(reflect.ValueOf(k)).IsValid() {
			d.rep.add(path+"[+"+k+"]", ClassTransformed, d.app, "drover's render adds it")
		}
	}
}

func (d *differ) scalar(path string, e, r, h reflect.Value, m mode, reason string) {
	if m != modeHatch {
		d.rep.add(path, ClassDropped, d.app, reason)
		return
	}
	// A nomad block sets what it writes: nil pointers, zero scalars and
	// empty lists are what it leaves alone, so they cannot replace a
	// value drover renders.
	if !isSet(e) {
		d.rep.add(path, ClassDropped, d.app, "the input leaves it unset, but drover's render sets it, and a nomad block cannot unset a field")
		return
	}
	h.Set(e)
	d.rep.add(path, ClassHatch, d.app, "")
}

func (d *differ) trimValue(v reflect.Value) reflect.Value {
	if d.trim != nil {
		return d.trim(v)
	}
	return v
}

func sortedKeys(m reflect.Value) []string {
	keys := make([]string, 0, m.Len())
	for _, k := range m.MapKeys() {
		keys = append(keys, k.String())
	}
	sort.Strings(keys)
	return keys
}

// deepCopyValue copies v (a pointer or value of a nomad/api type) through
// JSON, keeping its type.
func deepCopyValue(v any) any {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	p := reflect.New(reflect.TypeOf(v))
	if err := json.Unmarshal(data, p.Interface()); err != nil {
		panic(err)
	}
	return p.Elem().Interface()
}

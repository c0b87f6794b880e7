package importer

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
)

// vocabField is one field of a nomad/api struct as Nomad's job file names
// it (its `hcl` tag), or an untagged field, which no job file can set.
type vocabField struct {
	name   string // the tag's name; the Go name for untagged fields
	index  int
	label  bool
	tagged bool
}

var durationType = reflect.TypeFor[time.Duration]()

// vocab lists the exported fields of struct type t.
func vocab(t reflect.Type) []vocabField {
	var out []vocabField
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag, ok := f.Tag.Lookup("hcl")
		name, opt, _ := strings.Cut(tag, ",")
		if !ok || name == "" && opt != "label" || opt == "remain" {
			if ok && (name == "" || opt == "remain") {
				continue // hcl bookkeeping (unused keys, remain)
			}
			out = append(out, vocabField{name: f.Name, index: i})
			continue
		}
		out = append(out, vocabField{name: name, index: i, label: opt == "label", tagged: true})
	}
	return out
}

// structElem is the struct type a field holds (directly, by pointer, in a
// slice or a map), or nil for plain values.
func structElem(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() == reflect.Struct && t != durationType {
		return t
	}
	return nil
}

// deepCopy copies a nomad/api value through JSON, the form both sides of a
// comparison are brought to (config maps then hold float64 numbers
// whatever produced them).
func deepCopy[T any](v T) T {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out T
	if err := json.Unmarshal(data, &out); err != nil {
		panic(err)
	}
	return out
}

// sameJSON reports whether a and b encode to the same JSON, an empty list
// being the same as none (as it is to Nomad).
func sameJSON(a, b any) bool {
	return canonicalJSON(a) == canonicalJSON(b)
}

func canonicalJSON(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return "!" + err.Error()
	}
	var x any
	if err := json.Unmarshal(data, &x); err != nil {
		return "!" + err.Error()
	}
	out, _ := json.Marshal(pruneEmpty(x))
	return string(out)
}

// pruneEmpty removes nulls and empty lists from decoded JSON.
func pruneEmpty(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			e = pruneEmpty(e)
			if l, ok := e.([]any); e == nil || ok && len(l) == 0 {
				delete(x, k)
				continue
			}
			x[k] = e
		}
	case []any:
		for i, e := range x {
			x[i] = pruneEmpty(e)
		}
	}
	return v
}

// isSet reports whether a field value is set: a non-nil pointer (even to a
// zero value), a non-empty slice or map, a non-zero scalar.
func isSet(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		return !v.IsNil()
	case reflect.Slice, reflect.Map:
		return v.Len() > 0
	default:
		return !v.IsZero()
	}
}

// rawPaths lists the leaf paths set in a job as given, in the report's
// path syntax.
func rawPaths(j *nomadapi.Job) []string {
	var out []string
	walkRaw("", reflect.ValueOf(j).Elem(), &out)
	return out
}

func joinPath(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

func walkRaw(path string, v reflect.Value, out *[]string) {
	switch {
	case v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface:
		if v.IsNil() {
			return
		}
		if v.Elem().Kind() != reflect.Struct {
			*out = append(*out, path)
			return
		}
		walkRaw(path, v.Elem(), out)
	case v.Kind() == reflect.Struct && v.Type() != durationType:
		for _, f := range vocab(v.Type()) {
			if f.label {
				continue
			}
			fv := v.Field(f.index)
			switch fv.Type() {
			case reflect.TypeFor[[]*nomadapi.TaskGroup]():
				for i := range fv.Len() {
					g := fv.Index(i).Elem()
					walkRaw(joinPath(path, "group["+derefString(g.FieldByName("Name"))+"]"), g, out)
				}
				continue
			case reflect.TypeFor[[]*nomadapi.Task]():
				for i := range fv.Len() {
					t := fv.Index(i).Elem()
					walkRaw(joinPath(path, "task["+t.FieldByName("Name").String()+"]"), t, out)
				}
				continue
			}
			walkRaw(joinPath(path, f.name), fv, out)
		}
	case v.Kind() == reflect.Slice && structElem(v.Type()) != nil:
		for i := range v.Len() {
			walkRaw(fmt.Sprintf("%s[%d]", path, i), v.Index(i), out)
		}
	case v.Kind() == reflect.Map:
		for _, k := range sortedKeys(v) {
			p := path + "[" + k + "]"
			if structElem(v.Type()) != nil {
				walkRaw(p, v.MapIndex(reflect.ValueOf(k)), out)
			} else {
				*out = append(*out, p)
			}
		}
	default:
		if isSet(v) {
			*out = append(*out, path)
		}
	}
}

func derefString(v reflect.Value) string {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	return v.String()
}

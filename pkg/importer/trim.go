package importer

import (
	"encoding/json"
	"reflect"

	nomadapi "github.com/hashicorp/nomad/api"
)

// trimmer shortens what the hatch carries whole (a service, a template, a
// volume): a field goes when Nomad's canonicalization gives it back
// anyway, so `nomad job inspect` output imports as briefly as the job file
// it came from. The context is the job as drover renders it (its new
// names), since a service's default name comes from them.
type trimmer struct {
	job   *nomadapi.Job
	group *nomadapi.TaskGroup
	task  *nomadapi.Task // nil at group level
}

// canonicalizer returns how Nomad canonicalizes a value of type t (a
// pointer to a struct), or nil when it does not.
func (t *trimmer) canonicalizer(typ reflect.Type) func(any) {
	switch typ {
	case reflect.TypeFor[*nomadapi.Service]():
		return func(v any) { v.(*nomadapi.Service).Canonicalize(t.task, t.group, t.job) }
	case reflect.TypeFor[*nomadapi.Template]():
		return func(v any) { v.(*nomadapi.Template).Canonicalize() }
	case reflect.TypeFor[*nomadapi.TaskArtifact]():
		return func(v any) { v.(*nomadapi.TaskArtifact).Canonicalize() }
	case reflect.TypeFor[*nomadapi.VolumeMount]():
		return func(v any) { v.(*nomadapi.VolumeMount).Canonicalize() }
	case reflect.TypeFor[*nomadapi.Affinity]():
		return func(v any) { v.(*nomadapi.Affinity).Canonicalize() }
	case reflect.TypeFor[*nomadapi.Spread]():
		return func(v any) { v.(*nomadapi.Spread).Canonicalize() }
	case reflect.TypeFor[*nomadapi.Consul]():
		return func(v any) { v.(*nomadapi.Consul).Canonicalize() }
	case reflect.TypeFor[*nomadapi.LogConfig]():
		return func(v any) { v.(*nomadapi.LogConfig).Canonicalize() }
	case reflect.TypeFor[*nomadapi.DisconnectStrategy]():
		return func(v any) { v.(*nomadapi.DisconnectStrategy).Canonicalize() }
	case reflect.TypeFor[*nomadapi.TaskCSIPluginConfig]():
		return func(v any) { v.(*nomadapi.TaskCSIPluginConfig).Canonicalize() }
	case reflect.TypeFor[*nomadapi.EphemeralDisk]():
		return func(v any) { v.(*nomadapi.EphemeralDisk).Canonicalize() }
	case reflect.TypeFor[*nomadapi.MigrateStrategy]():
		return func(v any) { v.(*nomadapi.MigrateStrategy).Canonicalize() }
	}
	return nil
}

// trim returns v (a struct or a pointer to one) without the fields
// canonicalization restores.
func (t *trimmer) trim(v reflect.Value) reflect.Value {
	ptr := v
	if v.Kind() != reflect.Pointer {
		ptr = reflect.New(v.Type())
		ptr.Elem().Set(v)
	}
	canon := t.canonicalizer(ptr.Type())
	if canon == nil || ptr.IsNil() {
		return v
	}
	want := canonJSON(ptr, canon)
	trimStruct(ptr.Elem(), ptr, want, canon)
	if v.Kind() != reflect.Pointer {
		return ptr.Elem()
	}
	return ptr
}

func canonJSON(root reflect.Value, canon func(any)) string {
	c := deepCopyValue(root.Interface())
	canon(c)
	data, _ := json.Marshal(c)
	return string(data)
}

func trimStruct(s, root reflect.Value, want string, canon func(any)) {
	for _, f := range vocab(s.Type()) {
		if f.label || !f.tagged {
			continue
		}
		fv := s.Field(f.index)
		if !isSet(fv) {
			continue
		}
		saved := reflect.New(fv.Type()).Elem()
		saved.Set(fv)
		fv.Set(reflect.Zero(fv.Type()))
		if canonJSON(root, canon) == want {
			continue
		}
		fv.Set(saved)
		switch {
		case fv.Kind() == reflect.Pointer && fv.Elem().Kind() == reflect.Struct:
			trimStruct(fv.Elem(), root, want, canon)
		case fv.Kind() == reflect.Slice && structElem(fv.Type()) != nil:
			for i := range fv.Len() {
				el := fv.Index(i)
				if el.Kind() == reflect.Pointer {
					if !el.IsNil() {
						trimStruct(el.Elem(), root, want, canon)
					}
				} else {
					trimStruct(el, root, want, canon)
				}
			}
		}
	}
}

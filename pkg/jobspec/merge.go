package jobspec

import "reflect"

// Merge overlays what src (a pointer to a nomad/api struct) sets onto dst
// (a pointer to the same type): a set scalar or pointer replaces, a map
// adds and replaces keys, a list of blocks is appended to, a list of plain
// values replaces, and nested structs merge field by field. Unset fields of
// src (zero values, nil pointers) leave dst alone.
func Merge(dst, src any) {
	d, s := reflect.ValueOf(dst), reflect.ValueOf(src)
	if d.Type() != s.Type() || d.Kind() != reflect.Pointer {
		panic("jobspec.Merge: want two pointers of one type")
	}
	mergeValue(d.Elem(), s.Elem())
}

func mergeValue(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		if dst.IsNil() || src.Elem().Kind() != reflect.Struct {
			dst.Set(src)
			return
		}
		mergeValue(dst.Elem(), src.Elem())
	case reflect.Struct:
		for i := range src.NumField() {
			if src.Type().Field(i).IsExported() {
				mergeValue(dst.Field(i), src.Field(i))
			}
		}
	case reflect.Map:
		if src.Len() == 0 {
			return
		}
		if dst.IsNil() {
			dst.Set(reflect.MakeMap(src.Type()))
		}
		for it := src.MapRange(); it.Next(); {
			dst.SetMapIndex(it.Key(), it.Value())
		}
	case reflect.Slice:
		if src.Len() == 0 {
			return
		}
		if structOf(src.Type()) != nil {
			dst.Set(reflect.AppendSlice(dst, src))
		} else {
			dst.Set(src)
		}
	default:
		if !src.IsZero() {
			dst.Set(src)
		}
	}
}

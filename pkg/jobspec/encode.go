package jobspec

import (
	"reflect"
	"sort"
	"strings"
	"time"
)

// Encode writes what struct v (a nomad/api value or a pointer to one) sets
// into b, in Nomad's job file vocabulary: the inverse of Decode, so that
// every field the API client names is printed and none can be forgotten.
// Unset fields (nil pointers, zero scalars, empty lists and maps) are left
// out; a set pointer is printed even when it points to a zero value.
// skip names fields (by vocabulary name) the caller writes itself.
func Encode(b *Body, v any, skip ...string) {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return
		}
		rv = rv.Elem()
	}
	skipped := map[string]bool{}
	for _, s := range skip {
		skipped[s] = true
	}
	encodeStruct(b, rv, skipped)
}

func encodeStruct(b *Body, v reflect.Value, skip map[string]bool) {
	t := v.Type()
	// Attributes first, then blocks, as people write job files.
	var blocks []field
	for _, f := range fields(t) {
		if skip[f.name] {
			continue
		}
		switch f.kind {
		case kindAttr:
			encodeAttr(b, f.name, v.Field(f.index))
		case kindBlock:
			blocks = append(blocks, f)
		}
	}
	if t.Name() == "Task" {
		// The default workload identity has no tag: Nomad's parser reads an
		// unnamed identity block into it.
		if id := v.FieldByName("Identity"); !id.IsNil() {
			encodeStruct(b.Block("identity"), id.Elem(), nil)
		}
	}
	for _, f := range blocks {
		fv := v.Field(f.index)
		if t.Name() == "NetworkResource" && f.name == "reserved_ports" {
			encodePorts(b, fv) // a job file writes static ports as port blocks too
			continue
		}
		encodeBlocks(b, f.name, fv)
	}
}

func encodeAttr(b *Body, name string, v reflect.Value) {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	} else if v.IsZero() {
		return
	}
	if v.Type() == durationType {
		b.Attr(name, FormatDuration(time.Duration(v.Int())))
		return
	}
	if v.Kind() == reflect.String && heredocable(v.String()) {
		b.RawAttr(name, Heredoc(v.String()))
		return
	}
	if (v.Kind() == reflect.Slice || v.Kind() == reflect.Map) && v.Len() == 0 {
		return
	}
	b.Attr(name, plain(v))
}

// plain turns a reflected scalar, list or map into the Go values Body
// prints.
func plain(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return plain(v.Elem())
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if v.Type() == durationType {
			return FormatDuration(time.Duration(v.Int()))
		}
		return v.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int64(v.Uint())
	case reflect.Float32, reflect.Float64:
		return v.Float()
	case reflect.Slice:
		out := make([]any, v.Len())
		for i := range v.Len() {
			out[i] = plain(v.Index(i))
		}
		return out
	case reflect.Map:
		out := make(map[string]any, v.Len())
		for it := v.MapRange(); it.Next(); {
			out[it.Key().String()] = plain(it.Value())
		}
		return out
	}
	return v.Interface()
}

func encodeBlocks(b *Body, name string, v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			encodeBlock(b, name, v.Elem(), nil)
		}
	case reflect.Struct:
		if !v.IsZero() {
			encodeBlock(b, name, v, nil)
		}
	case reflect.Slice:
		for i := range v.Len() {
			e := v.Index(i)
			if e.Kind() == reflect.Pointer {
				if e.IsNil() {
					continue
				}
				e = e.Elem()
			}
			encodeBlock(b, name, e, nil)
		}
	case reflect.Map:
		if v.Len() == 0 {
			return
		}
		keys := make([]string, 0, v.Len())
		for _, k := range v.MapKeys() {
			keys = append(keys, k.String())
		}
		sort.Strings(keys)
		if structOf(v.Type()) == nil {
			encodeMapBlock(b.Block(name), v)
			return
		}
		for _, k := range keys {
			e := v.MapIndex(reflect.ValueOf(k))
			if e.Kind() == reflect.Pointer {
				e = e.Elem()
			}
			encodeBlock(b, name, e, []string{k})
		}
	}
}

// encodeBlock writes one struct as a block, its label fields as labels
// (or the map key a labeled map of blocks gives).
func encodeBlock(b *Body, name string, v reflect.Value, labels []string) {
	if labels == nil {
		for _, f := range fields(v.Type()) {
			if f.kind == kindLabel {
				fv := v.Field(f.index)
				if fv.Kind() == reflect.Pointer {
					fv = fv.Elem()
				}
				if fv.IsValid() {
					labels = append(labels, fv.String())
				}
			}
		}
	}
	encodeStruct(b.Block(name, labels...), v, nil)
}

// encodeMapBlock writes a block of plain attributes (meta, env), or a
// driver's config, whose lists of maps are nested blocks.
func encodeMapBlock(b *Body, v reflect.Value) {
	keys := make([]string, 0, v.Len())
	for _, k := range v.MapKeys() {
		keys = append(keys, k.String())
	}
	sort.Strings(keys)
	var nested []string
	for _, k := range keys {
		val := plain(v.MapIndex(reflect.ValueOf(k)))
		if isListOfMaps(val) {
			nested = append(nested, k)
			continue
		}
		if s, ok := val.(string); ok && heredocable(s) {
			b.RawAttr(k, Heredoc(s))
			continue
		}
		b.Attr(k, val)
	}
	for _, k := range nested {
		for _, m := range plain(v.MapIndex(reflect.ValueOf(k))).([]any) {
			encodeMapBlock(b.Block(k), reflect.ValueOf(m.(map[string]any)))
		}
	}
}

func isListOfMaps(v any) bool {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return false
	}
	for _, e := range list {
		if _, ok := e.(map[string]any); !ok {
			return false
		}
	}
	return true
}

// encodePorts writes static ports as `port "label" { static = N }`.
func encodePorts(b *Body, v reflect.Value) {
	for i := range v.Len() {
		encodeBlock(b, "port", v.Index(i), nil)
	}
}

// FormatDuration prints d the way people write durations: "1h30m", "10s",
// "1m" (not "1m0s").
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// heredocable: a multi-line string that ends with a newline reads best as
// a heredoc, which always ends with one; any other string stays quoted, so
// that it reads back exactly.
func heredocable(s string) bool {
	return strings.Contains(s, "\n") && strings.HasSuffix(s, "\n")
}

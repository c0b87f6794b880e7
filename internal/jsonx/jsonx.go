// Package jsonx works on values in their generic JSON form (maps, slices,
// strings, float64s, bools): turning a struct into that form, dropping zero
// values, and flattening to path = value lines for diffs.
package jsonx

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Generic returns v's JSON encoding decoded into maps and slices.
func Generic(v any) (any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	err = json.Unmarshal(data, &out)
	return out, err
}

// Prune drops zero values (null, "", 0, false, empty maps and lists)
// recursively; keep is false when v itself is zero. Server-side defaults
// and omitted fields then compare equal.
func Prune(v any) (any, bool) {
	switch x := v.(type) {
	case nil:
		return nil, false
	case string:
		return x, x != ""
	case float64:
		return x, x != 0
	case bool:
		return x, x
	case map[string]any:
		out := map[string]any{}
		for k, el := range x {
			if p, keep := Prune(el); keep {
				out[k] = p
			}
		}
		return out, len(out) > 0
	case []any:
		var out []any
		for _, el := range x {
			if p, keep := Prune(el); keep {
				out = append(out, p)
			}
		}
		return out, len(out) > 0
	}
	return v, true
}

// Flatten maps every leaf of a generic value to its path: "Meta.owner",
// "Sources[0].Name". A list of objects that all have a "Name" is keyed by
// name ("Sources[web].Action") so that reordering is not a change.
func Flatten(v any) map[string]string {
	out := map[string]string{}
	flatten("", v, out)
	return out
}

func flatten(prefix string, v any, out map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, el := range x {
			flatten(join(prefix, k), el, out)
		}
	case []any:
		named := len(x) > 0
		for _, el := range x {
			m, ok := el.(map[string]any)
			if _, has := m["Name"]; !ok || !has {
				named = false
			}
		}
		for i, el := range x {
			key := strconv.Itoa(i)
			if named {
				key = fmt.Sprint(el.(map[string]any)["Name"])
			}
			flatten(prefix+"["+key+"]", el, out)
		}
	case string:
		out[prefix] = strconv.Quote(x)
	default:
		out[prefix] = fmt.Sprint(x)
	}
}

func join(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

// Diff lists the differences between two flattened values, sorted by path:
// "+ path = new", "- path = old", "~ path: old -> new".
func Diff(old, new map[string]string) []string {
	paths := map[string]bool{}
	for k := range old {
		paths[k] = true
	}
	for k := range new {
		paths[k] = true
	}
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var lines []string
	for _, k := range keys {
		o, inOld := old[k]
		n, inNew := new[k]
		switch {
		case !inOld:
			lines = append(lines, "+ "+k+" = "+n)
		case !inNew:
			lines = append(lines, "- "+k+" = "+o)
		case o != n:
			lines = append(lines, "~ "+k+": "+o+" -> "+n)
		}
	}
	return lines
}

// Equal reports whether two generic values print the same.
func Equal(a, b any) bool {
	return strings.Join(Diff(Flatten(a), Flatten(b)), "") == ""
}

package render

import (
	"bytes"
	"encoding/json"
)

// encodeManifest encodes m exactly as marshalJSON would
// (TestEncodeManifestMatchesMarshalJSON). A render of 5,000 specs lists
// 25,000 artifacts, and encoding/json spends tens of milliseconds on them,
// reflecting on every entry and indenting in a second pass, while the
// whole render waits: manifest.json is written last, on one core. Its
// shape is fixed, so it is written directly.
func encodeManifest(m Manifest) []byte {
	b := make([]byte, 0, 256+len(m.Artifacts)*300)
	// field appends a key and its value, after a comma unless first,
	// indented as deep as indent; an empty value with omitEmpty is left out.
	field := func(first bool, indent, key, value string, omitEmpty bool) {
		if omitEmpty && value == "" {
			return
		}
		if !first {
			b = append(b, ',')
		}
		b = append(b, '\n')
		b = append(b, indent...)
		b = appendJSONString(b, key)
		b = append(b, ": "...)
		b = appendJSONString(b, value)
	}
	b = append(b, '{')
	field(true, "  ", "project", m.Project, false)
	field(false, "  ", "drover_version", m.DroverVersion, false)
	b = append(b, ",\n  \"artifacts\": "...)
	switch {
	case m.Artifacts == nil:
		b = append(b, "null"...)
	case len(m.Artifacts) == 0:
		b = append(b, "[]"...)
	default:
		b = append(b, '[')
		const in = "      "
		for i, a := range m.Artifacts {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, "\n    {"...)
			field(true, in, "kind", a.Kind, false)
			field(false, in, "name", a.Name, false)
			field(false, in, "path", a.Path, false)
			field(false, in, "app", a.App, true)
			field(false, in, "spec", a.Spec, true)
			field(false, in, "written_by", a.WrittenBy, false)
			field(false, in, "sha256", a.SHA256, false)
			b = append(b, "\n    }"...)
		}
		b = append(b, "\n  ]"...)
	}
	return append(b, "\n}\n"...)
}

// appendJSONString appends s as a JSON string, as a json.Encoder without
// HTML escaping writes it. Printable ASCII other than a quote and a
// backslash (every name, path and checksum drover writes) is copied; any
// other string goes through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(s) // a string always encodes
			return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

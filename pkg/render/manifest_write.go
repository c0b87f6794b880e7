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
	b = append(b, "{\n  \"project\": "...)
	b = appendJSONString(b, m.Project)
	b = append(b, ",\n  \"drover_version\": "...)
	b = appendJSONString(b, m.DroverVersion)
	b = append(b, ",\n  \"artifacts\": "...)
	switch {
	case m.Artifacts == nil:
		b = append(b, "null"...)
	case len(m.Artifacts) == 0:
		b = append(b, "[]"...)
	default:
		b = append(b, '[')
		for i, a := range m.Artifacts {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, "\n    {\n      \"kind\": "...)
			b = appendJSONString(b, a.Kind)
			b = append(b, ",\n      \"name\": "...)
			b = appendJSONString(b, a.Name)
			b = append(b, ",\n      \"path\": "...)
			b = appendJSONString(b, a.Path)
			if a.App != "" {
				b = append(b, ",\n      \"app\": "...)
				b = appendJSONString(b, a.App)
			}
			if a.Spec != "" {
				b = append(b, ",\n      \"spec\": "...)
				b = appendJSONString(b, a.Spec)
			}
			b = append(b, ",\n      \"written_by\": "...)
			b = appendJSONString(b, a.WrittenBy)
			b = append(b, ",\n      \"sha256\": "...)
			b = appendJSONString(b, a.SHA256)
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

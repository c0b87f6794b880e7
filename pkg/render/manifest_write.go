package render

import (
	"bytes"
	"encoding/json"
	"runtime"

	"github.com/drover-io/drover/internal/parallel"
)

// encodeManifest encodes m exactly as marshalJSON would
// (TestEncodeManifestMatchesMarshalJSON). A render of 5,000 specs lists
// 25,000 artifacts, and encoding/json spends tens of milliseconds on them,
// reflecting on every entry and indenting in a second pass, while the
// whole render waits: manifest.json is written last. Its shape is fixed,
// so it is written directly, a share of the artifacts on each core when
// there are many.
func encodeManifest(m Manifest) []byte {
	b := append([]byte(nil), '{')
	b = appendField(b, true, "  ", "project", m.Project, false)
	b = appendField(b, false, "  ", "drover_version", m.DroverVersion, false)
	b = append(b, ",\n  \"artifacts\": "...)
	switch {
	case m.Artifacts == nil:
		b = append(b, "null"...)
	case len(m.Artifacts) == 0:
		b = append(b, "[]"...)
	default:
		const perShare = 4096
		shares := min(runtime.GOMAXPROCS(0), (len(m.Artifacts)+perShare-1)/perShare)
		parts := make([][]byte, shares)
		parallel.ForEach(shares, func(k int) {
			from, to := k*len(m.Artifacts)/shares, (k+1)*len(m.Artifacts)/shares
			part := make([]byte, 0, (to-from)*300)
			for i := from; i < to; i++ {
				part = appendArtifact(part, i == 0, m.Artifacts[i])
			}
			parts[k] = part
		})
		size := len(b) + 8
		for _, p := range parts {
			size += len(p)
		}
		b = append(make([]byte, 0, size), b...)
		b = append(b, '[')
		for _, p := range parts {
			b = append(b, p...)
		}
		b = append(b, "\n  ]"...)
	}
	return append(b, "\n}\n"...)
}

// appendArtifact appends one element of the artifacts list, after a comma
// unless first.
func appendArtifact(b []byte, first bool, a ManifestEntry) []byte {
	const in = "      "
	if !first {
		b = append(b, ',')
	}
	b = append(b, "\n    {"...)
	b = appendField(b, true, in, "kind", a.Kind, false)
	b = appendField(b, false, in, "name", a.Name, false)
	b = appendField(b, false, in, "path", a.Path, false)
	b = appendField(b, false, in, "app", a.App, true)
	b = appendField(b, false, in, "spec", a.Spec, true)
	b = appendField(b, false, in, "written_by", a.WrittenBy, false)
	b = appendField(b, false, in, "sha256", a.SHA256, false)
	return append(b, "\n    }"...)
}

// appendField appends a key and its value, after a comma unless first,
// indented as deep as indent; an empty value with omitEmpty is left out.
func appendField(b []byte, first bool, indent, key, value string, omitEmpty bool) []byte {
	if omitEmpty && value == "" {
		return b
	}
	if !first {
		b = append(b, ',')
	}
	b = append(b, '\n')
	b = append(b, indent...)
	b = appendJSONString(b, key)
	b = append(b, ": "...)
	return appendJSONString(b, value)
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

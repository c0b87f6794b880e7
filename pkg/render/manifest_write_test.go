package render

import (
	"bytes"
	"fmt"
	"testing"
)

// TestEncodeManifestMatchesMarshalJSON: encodeManifest writes the bytes
// encoding/json writes for the manifests of the examples and for entries
// whose strings need escaping or leave out the optional keys.
func TestEncodeManifestMatchesMarshalJSON(t *testing.T) {
	_, examples, err := renderExamples(t, "test").serialize("test")
	if err != nil {
		t.Fatal(err)
	}
	if len(examples.Artifacts) < 10 {
		t.Fatalf("the examples' manifest lists %d artifacts", len(examples.Artifacts))
	}
	tricky := []string{`"quoted"`, `back\slash`, "<html>&amp;", "line\nbreak\ttab\x01", "\u2028\u2029", "caf\u00e9", "\xff\xfe", "del\x7f", ""}
	var odd []ManifestEntry
	for i, s := range tricky {
		e := ManifestEntry{Kind: s, Name: s, Path: s, WrittenBy: s, SHA256: s}
		if i%2 == 0 {
			e.App, e.Spec = s, "spec "+s
		}
		odd = append(odd, e)
	}
	many := Manifest{Project: "p", DroverVersion: "v"} // a share on each core
	for i := range 9000 {
		e := odd[i%len(odd)]
		e.Name = fmt.Sprint(e.Name, i)
		many.Artifacts = append(many.Artifacts, e)
	}
	for name, m := range map[string]Manifest{
		"many":         many,
		"examples":     examples,
		"tricky":       {Project: `p"<\x00`, DroverVersion: "v\u2028", Artifacts: odd},
		"no artifacts": {Project: "p", DroverVersion: "v", Artifacts: []ManifestEntry{}},
		"nil":          {},
		"one, bare":    {Project: "p", Artifacts: []ManifestEntry{{Kind: "k"}}},
	} {
		if got, want := encodeManifest(m), encodingJSON(t, m); !bytes.Equal(got, want) {
			t.Errorf("%s: encodeManifest wrote\n%s\nencoding/json writes\n%s", name, got, want)
		}
	}
}

func BenchmarkEncodeManifest(b *testing.B) {
	m := Manifest{Project: "bench", DroverVersion: "0.1.0-dev"}
	for i := range 25000 {
		name := "svc-" + string(rune('a'+i%26)) + "-" + string(rune('a'+i/26%26)) + string(rune('a'+i/676%26))
		m.Artifacts = append(m.Artifacts, ManifestEntry{Kind: KindNomadJob, Name: name, Path: "nomad/" + name + ".json", App: name, Spec: name + ".hcl", WrittenBy: writtenByDrover, SHA256: "cb48b3810162dd3518344415129a11f68249c2a38064912f8576c603036bfab0"})
	}
	b.Run("encoding-json", func(b *testing.B) {
		for range b.N {
			if _, err := marshalJSON(m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encodeManifest", func(b *testing.B) {
		for range b.N {
			encodeManifest(m)
		}
	})
}

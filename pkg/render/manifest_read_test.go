package render

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

// TestManifestSums: the manifest Finish writes is read line by line and
// gives what encoding/json gives; any other shape goes through
// encoding/json, and a bad one is an error.
func TestManifestSums(t *testing.T) {
	manifest := func(paths ...string) (Manifest, map[string][sha256.Size]byte) {
		m := Manifest{Project: "shop", DroverVersion: "test", Artifacts: []ManifestEntry{}}
		want := map[string][sha256.Size]byte{}
		for i, p := range paths {
			sum := sha256.Sum256([]byte(p))
			m.Artifacts = append(m.Artifacts, ManifestEntry{Kind: KindNomadJob, Name: fmt.Sprint("job", i), Path: p, App: "a", WrittenBy: writtenByDrover, SHA256: hex.EncodeToString(sum[:])})
			want[p] = sum
		}
		return m, want
	}
	plain, want := manifest("nomad/api.json", "consul/service-defaults/web.json", "vault/policy/drover-é <&>.hcl")
	indented, err := marshalJSON(plain)
	if err != nil {
		t.Fatal(err)
	}
	if _, got, ok := manifestSumsByLine(indented); !ok || !maps.Equal(got, want) {
		t.Errorf("Finish's manifest read by line: ok %v, %v", ok, got)
	}
	escaped, wantEscaped := manifest(`nomad/a"b.json`, "nomad/tab\t.json")
	escapedJSON, _ := marshalJSON(escaped)
	compact, _ := json.Marshal(plain)
	empty, _ := marshalJSON(Manifest{Project: "shop", Artifacts: []ManifestEntry{}})
	order := []string{"nomad/api.json", "consul/service-defaults/web.json", "vault/policy/drover-é <&>.hcl"}
	for name, c := range map[string]struct {
		data  []byte
		want  map[string][sha256.Size]byte
		paths []string
	}{
		"finish's":   {indented, want, order},
		"escapes":    {escapedJSON, wantEscaped, []string{`nomad/a"b.json`, "nomad/tab\t.json"}},
		"compact":    {compact, want, order},
		"no entries": {empty, map[string][sha256.Size]byte{}, []string{}},
	} {
		got, err := ManifestSums(c.data)
		if err != nil || !maps.Equal(got, c.want) {
			t.Errorf("%s: %v %v, want %v", name, got, err, c.want)
		}
		// ManifestListing gives the paths too, in the manifest's order.
		paths, _, err := ManifestListing(c.data)
		if err != nil || !slices.Equal(paths, c.paths) {
			t.Errorf("%s: paths %q %v, want %q", name, paths, err, c.paths)
		}
		// So does ManifestListingFrom, a line at a time, for Finish's
		// manifest alone; it reads every other to its end and says so.
		r := bytes.NewReader(c.data)
		paths, sums, ok, err := ManifestListingFrom(r, int64(len(c.data)))
		if byLine := name == "finish's"; err != nil || ok != byLine || r.Len() != 0 || byLine && (!slices.Equal(paths, c.paths) || !maps.Equal(sums, c.want)) {
			t.Errorf("%s, from a reader: %q %v, read by line %t (want %t), %d bytes left, %v", name, paths, sums, ok, byLine, r.Len(), err)
		}
	}
	long, _ := manifest("nomad/" + strings.Repeat("x", 70<<10) + ".json")
	longJSON, _ := marshalJSON(long)
	if _, _, ok, err := ManifestListingFrom(bytes.NewReader(longJSON), int64(len(longJSON))); ok || err != nil {
		t.Errorf("a line longer than the buffer: read by line %t, %v", ok, err)
	}
	if _, _, ok := manifestSumsByLine(escapedJSON); ok {
		t.Errorf("a manifest with escapes was read by line")
	}
	badSum, _ := marshalJSON(Manifest{Artifacts: []ManifestEntry{{Path: "nomad/x.json", SHA256: "abc"}}})
	if got, err := ManifestSums(badSum); err != nil || len(got) != 1 || got["nomad/x.json"] != ([sha256.Size]byte{}) {
		t.Errorf("a short checksum: %v %v, want the path listed with a zero sum", got, err)
	}
	if got, err := ManifestSums([]byte("{\n  \"artifacts\": [\n    {\n")); err == nil {
		t.Errorf("a cut manifest read as %v", got)
	}
}

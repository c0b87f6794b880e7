package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestIsRenderOutputReadsTheManifestsOpening: a directory is render
// output when its manifest.json opens as render writes one, in either key
// order; anything else (another tool's manifest, a drover_version that is
// no string, artifacts that are no list, a file that is no JSON) leaves it
// a directory of specs.
func TestIsRenderOutputReadsTheManifestsOpening(t *testing.T) {
	// What comes after the artifacts' opening is not read: a manifest of
	// 25,000 artifacts is 7 MB.
	unread := `{"kind": "nomad-job"` + strings.Repeat(" ", 1<<20) + "not JSON"
	for _, c := range []struct {
		name, manifest string
		want           bool
	}{
		{"as render writes it", "{\n  \"project\": \"shop\",\n  \"drover_version\": \"1.2.0\",\n  \"artifacts\": [\n    " + unread, true},
		{"artifacts first", `{"artifacts": [{"kind": "nomad-job", "path": "nomad/a.json"}], "project": {"nested": [1, {"a": "}"}]}, "drover_version": "1.2.0"}`, true},
		{"no artifacts", `{"project": "shop", "drover_version": "1.2.0"}`, false},
		{"another tool's", `{"name": "a web app manifest", "icons": []}`, false},
		{"version is no string", `{"drover_version": 1, "artifacts": []}`, false},
		{"artifacts are no list", `{"drover_version": "1.2.0", "artifacts": {}}`, false},
		{"artifacts first, no list", `{"artifacts": "x", "drover_version": "1.2.0"}`, false},
		{"a list", `["drover_version", "artifacts"]`, false},
		{"no JSON", `drover_version = "1.2.0"`, false},
		{"empty", ``, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, renderManifestName), []byte(c.manifest), 0o644); err != nil {
				t.Fatal(err)
			}
			if got := isRenderOutput(dir); got != c.want {
				t.Errorf("isRenderOutput = %v, want %v", got, c.want)
			}
		})
	}
	if isRenderOutput(t.TempDir()) {
		t.Error("a directory without a manifest is render output")
	}
}

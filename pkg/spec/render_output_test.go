package spec_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/drover-io/drover/pkg/render"
	"github.com/drover-io/drover/pkg/spec"
)

// TestRenderOutputIsNotSpecs: `drover render . -o out` inside the spec tree
// writes out/manifest.json and Vault policies as out/vault/policy/*.hcl;
// loading the tree again must not read them as specs. A manifest.json of
// another tool does not hide specs.
func TestRenderOutputIsNotSpecs(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../jobs")); err != nil {
		t.Fatal(err)
	}
	opts := spec.LoadOptions{Paths: []string{dir}, WorkDir: dir}
	set, diags := spec.Load(opts)
	if len(diags) > 0 {
		t.Fatal(diags.Error())
	}
	bundle, err := render.Render(set, render.Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	files, err := bundle.Files("test")
	if err != nil {
		t.Fatal(err)
	}
	write := func(path string, data []byte) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	policies := 0
	for _, f := range files {
		write(filepath.Join(dir, "out", filepath.FromSlash(f.Path)), f.Data)
		if filepath.Ext(f.Path) == ".hcl" {
			policies++
		}
	}
	if policies == 0 {
		t.Fatal("the render wrote no .hcl files, so this test shows nothing")
	}
	write(filepath.Join(dir, "site", "manifest.json"), []byte(`{"name": "a web app manifest", "icons": []}`))
	write(filepath.Join(dir, "site", "site.hcl"), []byte(`app "site" { image = "r/site:1.0.0" }`))

	again, diags := spec.Load(opts)
	if len(diags) > 0 {
		t.Fatalf("loading the tree with its render output: %s", diags.Error())
	}
	if len(again.Apps) != len(set.Apps)+1 || again.App("site") == nil {
		t.Errorf("loaded %d apps, want the %d of jobs/ and site", len(again.Apps), len(set.Apps))
	}
}

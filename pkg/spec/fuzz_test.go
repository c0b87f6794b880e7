package spec

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadFiles feeds arbitrary bytes to the loader as one spec file. It
// must never panic, and every diagnostic with a range must point into that
// file at a real line.
func FuzzLoadFiles(f *testing.F) {
	for _, glob := range []string{"testdata/valid/*.hcl", "testdata/invalid/*.hcl", "../../jobs/shop/*.hcl", "../../templates/*.hcl"} {
		paths, _ := filepath.Glob(glob)
		for _, p := range paths {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
	}
	f.Add([]byte(`app "x" { image = "${`))
	f.Add([]byte("app \"x\" {\n  env = { A = var.nope }\n}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		set, diags := LoadFiles(map[string][]byte{"spec.hcl": data}, "", VarInputs{})
		for _, d := range diags {
			if d.Subject == nil {
				continue
			}
			if d.Subject.Filename != "spec.hcl" || d.Subject.Start.Line < 1 {
				t.Fatalf("diagnostic %q has range %v", d.Summary, d.Subject)
			}
		}
		if set == nil {
			t.Fatal("LoadFiles returned no set")
		}
	})
}

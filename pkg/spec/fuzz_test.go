package spec

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/zclconf/go-cty/cty"
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

// FuzzIndexEntry: a damaged index entry is refused or read, never a
// panic, and whatever is read of it (summaries whole, bare and scanned,
// memos) decodes without one either.
func FuzzIndexEntry(f *testing.F) {
	sets, diags := LoadEnvironments(LoadOptions{Paths: []string{"../../jobs"}})
	if diags.HasErrors() {
		f.Fatal(diags.Error())
	}
	facts := &blobs{}
	for _, set := range sets {
		w := &encoder{}
		encodeFacts(w, set.Apps, set.Externals)
		facts.set(set.Environment, w.b)
	}
	memos := &blobs{}
	memos.set(memoSlot("render v1", ""), encodeMemos([][]byte{[]byte("memo")}))
	w := &encoder{}
	encodeEntry(w, &indexEntry{rel: "shop/api.hcl", facts: facts, memos: memos, refs: []string{"version"}, envNames: []string{"prod"},
		decls: []indexVar{{name: "replicas", typ: cty.Number}}, changed: true})
	f.Add(w.b)
	f.Fuzz(func(t *testing.T, b []byte) {
		rel := entryRel(b) // what replayEdited looks an entry up by
		e := decodeEntry(b, map[string]string{})
		if e == nil {
			return
		}
		if rel != e.rel {
			t.Fatalf("entryRel %q, decoded %q", rel, e.rel)
		}
		for _, nb := range e.facts.all() {
			decodeFacts(nb.b, "f.hcl", "f.hcl")
			decodeBare(nb.b, "f.hcl", "f.hcl", nil, nil)
			(&scanner{names: map[string]string{}}).scanFacts(nb.b, func(scannedApp) {}, func(string) {})
		}
		if ms, ok := e.memosFor("render v1", []string{""}); ok {
			decodeMemos(ms.get(""))
		}
		e.changed = true
		encodeEntry(&encoder{}, e)
	})
}

package app

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drover-io/drover/pkg/spec"
)

// TestRenderReplaysAnUnchangedRenderWhole: render -o of the same specs
// into the same directory, with every file as the last render wrote it,
// replays that render whole (spec.Outcome): the same files, counts and
// list of files written. A file of the project-wide part changed, or the
// manifest gone, makes it render again and repair them. Once the specs'
// stats are old enough to trust, a replay takes them alone (the quick
// key): the same holds then.
func TestRenderReplaysAnUnchangedRenderWhole(t *testing.T) {
	t.Run("specs just written", func(t *testing.T) { testRenderReplays(t, false) })
	t.Run("specs settled", func(t *testing.T) { testRenderReplays(t, true) })
}

func testRenderReplays(t *testing.T, settled bool) {
	specs := t.TempDir()
	for name, data := range map[string]string{
		"drover.hcl": `project "p" {}`,
		"api.hcl": `app "api" {
  image = "r/api:1"
  port "http" {
    to = 8080
  }
  service {
    port = "http"
    upstream "db" {
      local_port = 9001
    }
  }
}`,
		"db.hcl": `app "db" {
  image = "r/db:1"
  port "pg" {
    to = 5432
  }
  service {
    port = "pg"
  }
}`,
	} {
		if err := os.WriteFile(filepath.Join(specs, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	render := func(dir string) *RenderResult { t.Helper(); return renderTo(t, specs, dir) }
	if settled {
		time.Sleep(2100 * time.Millisecond) // past the index's racy window
	}
	t.Setenv(IndexEnv, "off")
	reference := t.TempDir()
	want := render(reference)
	wantFiles := readTree(t, reference)
	t.Setenv(IndexEnv, "")

	out := t.TempDir()
	if first := render(out); first.Replayed {
		t.Fatal("the first render into a directory was replayed")
	}
	check := func(what string, replayed bool) {
		t.Helper()
		res := render(out)
		if res.Replayed != replayed {
			t.Errorf("%s: replayed %t, want %t", what, res.Replayed, replayed)
		}
		rel := func(paths []string, root string) (out []string) {
			for _, p := range paths {
				r, _ := filepath.Rel(root, p)
				out = append(out, filepath.ToSlash(r))
			}
			slices.Sort(out) // Written is in no set order
			return out
		}
		if diff := cmp.Diff(rel(want.Written, reference), rel(res.Written, out)); diff != "" {
			t.Errorf("%s: files written (-without the index +with):\n%s", what, diff)
		}
		if res.Counts != want.Counts {
			t.Errorf("%s: counts %+v, want %+v", what, res.Counts, want.Counts)
		}
		if diff := cmp.Diff(wantFiles, readTree(t, out)); diff != "" {
			t.Errorf("%s: files (-without the index +with):\n%s", what, diff)
		}
	}
	check("unchanged", true)

	// A config entry Finish wrote, changed since: rendered again.
	entry := filepath.Join(out, "consul", "service-intentions", "db.json")
	if err := os.WriteFile(entry, []byte(`{"Sources": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Minute)
	if err := os.Chtimes(entry, future, future); err != nil {
		t.Fatal(err)
	}
	check("a config entry edited", false)
	check("repaired", true)

	// An app's own file, changed since: that app rendered again.
	job := filepath.Join(out, "nomad", "api.json")
	if err := os.WriteFile(job, []byte(`{"Job": {}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(job, future, future); err != nil {
		t.Fatal(err)
	}
	check("an app's job edited", false)
	check("its job repaired", true)

	// The manifest edited where it names no file, of the same size and
	// with its modification time put back: only its checksum tells, and it
	// is rendered again.
	manifest := filepath.Join(out, "manifest.json")
	data, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(manifest)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(data), `"project": "p"`, `"project": "q"`, 1)
	if edited == string(data) {
		t.Fatal("no project in the manifest")
	}
	if err := os.WriteFile(manifest, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(manifest, info.ModTime(), info.ModTime()); err != nil {
		t.Fatal(err)
	}
	check("the manifest edited", false)
	check("the manifest repaired", true)

	if err := os.Remove(manifest); err != nil {
		t.Fatal(err)
	}
	check("the manifest removed", false)
	check("the manifest back", true)
}

// writerIn returns what writes a file of dir.
func writerIn(t *testing.T, dir string) func(name, data string) {
	return func(name, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// renderTo renders path into dir (render -o), as version "test".
func renderTo(t *testing.T, path, dir string) *RenderResult {
	t.Helper()
	res, err := Render(RenderOptions{Load: spec.LoadOptions{Paths: []string{path}}, OutDir: dir, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// readTree reads every file under dir, by slash path relative to it.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		got[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestValidateReplaysAnUnchangedValidation: validating the same specs
// again, when the last validation found nothing, reports what it did
// without checking again; an edit, or a warning, validates in full.
func TestValidateReplaysAnUnchangedValidation(t *testing.T) {
	specs := t.TempDir()
	write := writerIn(t, specs)
	write("drover.hcl", "project \"p\" {\n  environment \"prod\" {}\n}\n")
	write("a.hcl", `app "a" { image = "r/a:1" }`)
	write("b.hcl", `app "b" { image = "r/b:1" }`)
	validate := func(what string, replayed bool, paths ...string) *ValidateResult {
		t.Helper()
		res, err := Validate(ValidateOptions{Load: spec.LoadOptions{Paths: paths}})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if res.Replayed != replayed {
			t.Errorf("%s: replayed %t, want %t", what, res.Replayed, replayed)
		}
		return res
	}
	first := validate("first", false, specs)
	again := validate("unchanged", true, specs)
	if !cmp.Equal(first.Apps, again.Apps) || !cmp.Equal(first.Externals, again.Externals) || !cmp.Equal(first.Environments, again.Environments) || len(again.Diags) != 0 {
		t.Errorf("replayed %+v, validated %+v", again, first)
	}
	validate("one spec", false, filepath.Join(specs, "a.hcl"))
	validate("one spec again", true, filepath.Join(specs, "a.hcl"))

	// An edit that leaves the summaries as they were finds what the last
	// validation found: b.hcl is read and checked on its own, and the
	// checks across files would check the same again.
	write("b.hcl", `app "b" { image = "r/b:2" }`)
	validate("b.hcl's image edited", true, specs)
	write("b.hcl", `app "b" {
  image = "r/b:2"
  port "http" {
    to = 8080
  }
}`)
	validate("a port added to b.hcl", false, specs)
	validate("a port added to b.hcl, again", true, specs)

	write("b.hcl", `app "b" { image = "r/b:latest" }`) // a mutable tag: a warning
	for i := range 2 {
		if res := validate(fmt.Sprint("with a warning ", i), false, specs); len(res.Diags) == 0 {
			t.Fatalf("no warning")
		}
	}
}

// TestRenderReadsATemplateAgain: a spec whose file block reads a template
// next to it is rendered again every time, so that an edit to the
// template alone (which the index does not watch) shows in its job.
func TestRenderReadsATemplateAgain(t *testing.T) {
	specs, out := t.TempDir(), t.TempDir()
	write := func(name, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(specs, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("drover.hcl", `project "p" {}`)
	write("a.hcl", `app "a" {
  image = "r/a:1"
  file "local/a.conf" {
    source = "a.conf.tpl"
  }
}`)
	write("b.hcl", `app "b" { image = "r/b:1" }`)
	for i, content := range []string{"first", "first", "second", "second"} {
		write("a.conf.tpl", "greeting = "+content+"\n")
		for _, paths := range [][]string{{specs}, {filepath.Join(specs, "a.hcl")}} {
			if _, err := Render(RenderOptions{Load: spec.LoadOptions{Paths: paths}, OutDir: out, Version: "test"}); err != nil {
				t.Fatal(err)
			}
			job, err := os.ReadFile(filepath.Join(out, "nomad", "a.json"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(job), "greeting = "+content) {
				t.Fatalf("render %d of %v: the job does not hold the template as it is now (%q)", i+1, paths, content)
			}
		}
	}
}

// TestRenderOfTheSameSetTakesOverWhatDerivesFromIt: after an edit to the
// selected spec that its summaries do not tell (its environment), a render
// takes the config entries and gateway the last one wrote over (see
// render.Stream.TakePrior), and the files are what a render without the
// index writes; after an edit they do tell (its public host), or with a
// file of theirs damaged, they are rendered again. An edit that changes
// nothing rendered (a comment) replays the last render whole. All of it
// holds as well once the other specs are settled, when a render after an
// edit of the selected spec reads no other (spec.replayEdited).
func TestRenderOfTheSameSetTakesOverWhatDerivesFromIt(t *testing.T) {
	for _, settled := range []bool{false, true} {
		t.Run(fmt.Sprintf("settled=%t", settled), func(t *testing.T) { renderOfTheSameSet(t, settled) })
	}
}

func renderOfTheSameSet(t *testing.T, settled bool) {
	specs := t.TempDir()
	write := writerIn(t, specs)
	web := func(level, host string) string {
		return `app "web" {
  image = "r/web:1"
  port "http" {
    to = 8080
  }
  env = {
    LOG_LEVEL = "` + level + `"
  }
  service {
    port = "http"
    upstream "api" {
      local_port = 9001
    }
  }
  expose {
    hosts = ["` + host + `"]
  }
}`
	}
	write("drover.hcl", `project "p" {
  datacenters = ["dc1"]
  ingress_gateway {
    port = 8080
  }
}`)
	write("web.hcl", web("info", "shop.example.com"))
	write("api.hcl", `app "api" {
  image = "r/api:1"
  port "http" {
    to = 8080
  }
  service {
    port = "http"
  }
  expose {
    hosts = ["api.example.com"]
  }
}`)
	selected := filepath.Join(specs, "web.hcl")
	render := func(dir string) *RenderResult { t.Helper(); return renderTo(t, selected, dir) }
	out := t.TempDir()
	render(out)
	if settled {
		time.Sleep(2100 * time.Millisecond) // the index's racy window
		render(out)
	}
	check := func(what string, replayed, setsReplayed bool) {
		t.Helper()
		t.Setenv(IndexEnv, "off")
		reference := filepath.Join(t.TempDir(), "out")
		want := render(reference)
		t.Setenv(IndexEnv, "")
		got := render(out)
		if got.Replayed != replayed || got.SetsReplayed != setsReplayed {
			t.Fatalf("%s: replayed %t, the Sets' artifacts taken over %t; want %t, %t", what, got.Replayed, got.SetsReplayed, replayed, setsReplayed)
		}
		if got.Counts != want.Counts {
			t.Errorf("%s: counts %+v, want %+v", what, got.Counts, want.Counts)
		}
		if diff := cmp.Diff(readTree(t, reference), readTree(t, out)); diff != "" {
			t.Errorf("%s: files (-without the index +with):\n%s", what, diff)
		}
	}
	write("web.hcl", web("debug", "shop.example.com"))
	check("its environment edited", false, true)
	gateway := filepath.Join(out, "consul", "ingress-gateway", "p-ingress.json")
	if data, err := os.ReadFile(gateway); err != nil || !strings.Contains(string(data), "shop.example.com") {
		t.Fatalf("no route to shop.example.com in %s (%v): %s", gateway, err, data)
	}

	// A comment above it all: every range moves, nothing rendered changes.
	write("web.hcl", "# The shop's front.\n"+web("debug", "shop.example.com"))
	check("a comment added", true, false)

	write("web.hcl", web("warn", "www.example.com"))
	check("its public host edited", false, false)

	// Another app's entry, damaged since: rendered again.
	entry := filepath.Join(out, "consul", "service-defaults", "api.json")
	if err := os.WriteFile(entry, []byte(`{}`), 0o644); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Minute)
	if err := os.Chtimes(entry, future, future); err != nil {
		t.Fatal(err)
	}
	write("web.hcl", web("error", "www.example.com"))
	check("another app's entry damaged", false, false)
}

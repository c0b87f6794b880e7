package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/internal/testutil"
	"github.com/drover-io/drover/pkg/render"
	"github.com/drover-io/drover/pkg/spec"
	"github.com/drover-io/drover/templates"
)

// TestInitTemplatesAreValid: every starter, under any name, is a spec that
// validates with no diagnostics at all.
func TestInitTemplatesAreValid(t *testing.T) {
	for _, name := range templates.Names() {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path, err := Init(InitOptions{Name: "checkout", Template: name, Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			data, _ := os.ReadFile(path)
			if strings.Contains(string(data), templates.Placeholder) {
				t.Errorf("placeholder left in %s", path)
			}
			res, err := Validate(ValidateOptions{Load: spec.LoadOptions{Paths: []string{dir}}})
			if err != nil || len(res.Diags) > 0 {
				t.Fatalf("%v %v", err, res.Diags)
			}
			if templates.Describe(name) == "" {
				t.Error("a starter needs a summary comment on its first line")
			}
		})
	}
}

func TestInitRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	if _, err := Init(InitOptions{Name: "api", Template: "web", Dir: dir}); err != nil {
		t.Fatal(err)
	}
	if _, err := Init(InitOptions{Name: "api", Template: "web", Dir: dir}); !errors.Is(err, ErrExists) {
		t.Errorf("want ErrExists, got %v", err)
	}
	if _, err := Init(InitOptions{Name: "api", Template: "web", Dir: dir, Force: true}); err != nil {
		t.Errorf("--force: %v", err)
	}
	if _, err := Init(InitOptions{Name: "Bad_Name", Template: "web", Dir: dir}); err == nil {
		t.Error("want an error for an invalid name")
	}
	if _, err := Init(InitOptions{Name: "x", Template: "nope", Dir: dir}); err == nil || !strings.Contains(err.Error(), "web") {
		t.Errorf("unknown template should list the templates, got %v", err)
	}
}

// TestRenderWritesAndPrunes: a second render after an app is removed
// deletes that app's files (and only files the manifest listed).
func TestRenderWritesAndPrunes(t *testing.T) {
	specs := t.TempDir()
	out := t.TempDir()
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(specs, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.hcl", `app "a" { image = "r/a:1" }`)
	write("b.hcl", `app "b" {
  image = "r/b:1"
  secret "S" {
    path = "b/s"
    key  = "k"
  }
}`)
	if err := os.WriteFile(filepath.Join(out, "keep.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	render := func() *RenderResult {
		res, err := Render(RenderOptions{Load: spec.LoadOptions{Paths: []string{specs}}, OutDir: out, Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := render()
	if len(res.Written) != 5 { // 2 jobs, b's policy and role, manifest
		t.Errorf("wrote %d files: %v", len(res.Written), res.Written)
	}
	if err := os.Remove(filepath.Join(specs, "b.hcl")); err != nil {
		t.Fatal(err)
	}
	render()
	for _, gone := range []string{"nomad/b.json", "vault/policy/drover-b.hcl", "vault/role/drover-b.json"} {
		if _, err := os.Stat(filepath.Join(out, gone)); !os.IsNotExist(err) {
			t.Errorf("%s should be removed with its app", gone)
		}
	}
	for _, kept := range []string{"nomad/a.json", "keep.txt", "manifest.json"} {
		if _, err := os.Stat(filepath.Join(out, kept)); err != nil {
			t.Errorf("%s: %v", kept, err)
		}
	}
}

func TestRenderInvalidSpecsReturnsInputError(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.hcl"), []byte(`app "a" { bogus = 1 }`), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	res, err := Render(RenderOptions{Load: spec.LoadOptions{Paths: []string{dir}}, Stdout: &stdout, Version: "test"})
	var input *InputError
	if !errors.As(err, &input) {
		t.Fatalf("want *InputError, got %v", err)
	}
	if len(res.Diags) == 0 || res.Files == nil || stdout.Len() != 0 {
		t.Errorf("want diagnostics with files and nothing on stdout; got %d diags, %d bytes", len(res.Diags), stdout.Len())
	}
}

func TestGraph(t *testing.T) {
	set, diags := spec.Load(spec.LoadOptions{Paths: []string{"../../jobs"}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	g := BuildGraph(set)
	var edges []string
	for _, e := range g.Edges {
		edges = append(edges, e.From+" -"+e.Kind+"-> "+e.To)
	}
	want := []string{
		"api -egress-> payments",
		"api -egress-> postgres",
		"internet -public-> web",
		"internet -public-> web",
		"reports -egress-> postgres",
		"web -mesh-> api",
		"worker -mesh-> api",
		"worker -egress-> postgres",
	}
	if diff := cmp.Diff(want, edges); diff != "" {
		t.Errorf("edges (-want +got):\n%s", diff)
	}
	for _, f := range []string{GraphMermaid, GraphDOT, GraphJSON} {
		var out bytes.Buffer
		if _, err := RenderGraph(GraphOptions{Load: spec.LoadOptions{Paths: []string{"../../jobs"}}, Format: f, Stdout: &out}); err != nil {
			t.Fatal(err)
		}
		if f == GraphJSON && !json.Valid(out.Bytes()) {
			t.Error("graph json is not valid JSON")
		}
		if !strings.Contains(out.String(), "postgres") {
			t.Errorf("%s output lacks nodes:\n%s", f, out.String())
		}
	}
}

// TestJobDiffLinesShowOnlyChanges: Nomad's plan diff carries the unchanged
// fields of an edited object as context; the plan shows only changes.
func TestJobDiffLinesShowOnlyChanges(t *testing.T) {
	d := &nomadapi.JobDiff{TaskGroups: []*nomadapi.TaskGroupDiff{{Name: "ingress", Type: "Edited", Objects: []*nomadapi.ObjectDiff{{
		Name: "Service", Type: "Edited",
		Fields: []*nomadapi.FieldDiff{
			{Type: "None", Name: "Name", Old: "gw", New: "gw"},
			{Type: "Edited", Name: "PortLabel", Old: "8080", New: "8080"},
			{Type: "Deleted", Name: "Host", Old: "docs.example.com"},
		},
	}}}}}
	got := jobDiffLines(d)
	want := []string{`- group ingress: Service: Host = "docs.example.com"`}
	if len(got) != 1 || got[0] != want[0] {
		t.Errorf("diff lines = %q, want %q", got, want)
	}
}

// TestProgressRemindsOfLongWaits: a job whose line has not changed for the
// heartbeat period is printed again with how long it has waited, so a
// deploy is never silent for minutes; a finished job is not.
func TestProgressRemindsOfLongWaits(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, false)
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return now }
	p.update("web", "deployment 1234 running: web 0/2 healthy")
	p.update("api", "deployment 5678 running: api 0/1 healthy")
	p.finish("api")
	now = now.Add(10 * time.Second)
	p.remind(30 * time.Second)
	if strings.Contains(out.String(), "still waiting") {
		t.Fatalf("reminded after 10s:\n%s", out.String())
	}
	now = now.Add(25 * time.Second)
	p.remind(30 * time.Second)
	want := "web: deployment 1234 running: web 0/2 healthy (still waiting, 35s)\n"
	if !strings.HasSuffix(out.String(), want) {
		t.Errorf("progress:\n%s\nwant it to end with %q", out.String(), want)
	}
	if strings.Count(out.String(), "api:") != 1 {
		t.Errorf("a finished job was reminded of:\n%s", out.String())
	}
}

// TestRenderReplaysOnlyIntactOutputs: a second render into the same
// directory takes unchanged specs from the index, trusting what the first
// wrote as long as it is as written; a file deleted or modified since is
// rendered again; and every render gives the bytes a render without the
// index gives.
func TestRenderReplaysOnlyIntactOutputs(t *testing.T) {
	specs, out := t.TempDir(), t.TempDir()
	for name, data := range map[string]string{
		"drover.hcl": `project "p" {}`,
		"a.hcl":      `app "a" { image = "r/a:1" }`,
		"b.hcl": `app "b" {
  image = "r/b:1"
  secret "S" {
    path = "b/s"
    key  = "k"
  }
}`,
	} {
		if err := os.WriteFile(filepath.Join(specs, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	render := func(dir string) {
		t.Helper()
		if _, err := Render(RenderOptions{Load: spec.LoadOptions{Paths: []string{specs}}, OutDir: dir, Version: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	files := func(dir string) map[string]string { return readTree(t, dir) }
	t.Setenv(IndexEnv, "off")
	reference := t.TempDir()
	render(reference)
	want := files(reference)
	t.Setenv(IndexEnv, "")

	render(out)
	render(out) // now from the index
	if diff := cmp.Diff(want, files(out)); diff != "" {
		t.Fatalf("rendered from the index (-without +with):\n%s", diff)
	}
	job := filepath.Join(out, "nomad", "a.json")
	manifest, err := os.Stat(filepath.Join(out, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	corrupt := func(mtime time.Time) {
		t.Helper()
		data, _ := os.ReadFile(job)
		if err := os.WriteFile(job, bytes.Replace(data, []byte(`"r/a:1"`), []byte(`"r/x:1"`), 1), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(job, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	// The index stands for a.hcl: its job file, of the size and no newer
	// than the manifest, is trusted as written (as an unchanged file is
	// without the index), so a change that hides its time stays.
	corrupt(manifest.ModTime().Add(-time.Minute))
	render(out)
	if data, _ := os.ReadFile(job); !bytes.Contains(data, []byte(`"r/x:1"`)) {
		t.Fatal("a.hcl was rendered again: the index did not stand for it")
	}
	// Modified since: rendered again.
	corrupt(time.Now().Add(time.Minute))
	render(out)
	// Deleted: rendered again.
	if err := os.Remove(filepath.Join(out, "vault", "role", "drover-b.json")); err != nil {
		t.Fatal(err)
	}
	render(out)
	if diff := cmp.Diff(want, files(out)); diff != "" {
		t.Errorf("after modifying and deleting rendered files (-want +got):\n%s", diff)
	}
	// Another directory has none of them: everything is rendered.
	other := t.TempDir()
	render(other)
	if diff := cmp.Diff(want, files(other)); diff != "" {
		t.Errorf("into another directory (-want +got):\n%s", diff)
	}
}

// TestOutDirStagesAMissingDirWhole: a render into a directory that does
// not exist stages it beside where it goes, hidden, and renames it into
// place at the end; a failed one leaves nothing behind; one into a
// directory that appeared meanwhile moves its files in, file by file.
func TestOutDirStagesAMissingDirWhole(t *testing.T) {
	file := render.File{Path: "nomad/a.json", Data: []byte("{}\n")}
	manifest := render.Manifest{Artifacts: []render.ManifestEntry{{Path: file.Path}}}
	entries := func(dir string) []string {
		t.Helper()
		es, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range es {
			names = append(names, e.Name())
		}
		return names
	}

	parent := filepath.Join(t.TempDir(), "build")
	o := newOutDir(filepath.Join(parent, "out"))
	if err := o.write(file); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(o.dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the output directory exists before the render ends (%v)", err)
	}
	if _, err := o.commit(manifest); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(o.dir, file.Path)); err != nil || string(got) != string(file.Data) {
		t.Errorf("rendered file: %q, %v", got, err)
	}
	if got := entries(parent); len(got) != 1 || got[0] != "out" {
		t.Errorf("beside the output: %v, want out alone", got)
	}
	made := filepath.Join(parent, "made")
	if err := os.MkdirAll(made, 0o755); err != nil {
		t.Fatal(err)
	}
	if a, b := testutil.Stat(t, o.dir).Mode(), testutil.Stat(t, made).Mode(); a != b {
		t.Errorf("output directory mode %v, want %v as MkdirAll makes it", a, b)
	}

	failed := newOutDir(filepath.Join(t.TempDir(), "out"))
	if err := failed.write(file); err != nil {
		t.Fatal(err)
	}
	failed.abort()
	if got := entries(filepath.Dir(failed.dir)); len(got) != 0 {
		t.Errorf("a failed render left %v", got)
	}

	late := newOutDir(filepath.Join(t.TempDir(), "out"))
	if err := late.write(file); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(late.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(late.dir, "keep.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := late.commit(manifest); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"keep.txt", file.Path} {
		if _, err := os.Stat(filepath.Join(late.dir, p)); err != nil {
			t.Errorf("into a directory that appeared: %v", err)
		}
	}
	if got := entries(filepath.Dir(late.dir)); len(got) != 1 {
		t.Errorf("beside the output: %v, want out alone", got)
	}
}

// TestRenderRewritesOnlyAChangedManifest: a render that lists what the
// previous one did leaves its manifest.json alone (its modification time
// too), and restores one edited since.
func TestRenderRewritesOnlyAChangedManifest(t *testing.T) {
	specs, out := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(specs, "a.hcl"), []byte(`app "a" { image = "r/a:1" }`), 0o644); err != nil {
		t.Fatal(err)
	}
	render := func() {
		t.Helper()
		if _, err := Render(RenderOptions{Load: spec.LoadOptions{Paths: []string{specs}}, OutDir: out, Version: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	manifest := filepath.Join(out, "manifest.json")
	render()
	want, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(manifest, old, old); err != nil {
		t.Fatal(err)
	}
	render()
	if !testutil.Stat(t, manifest).ModTime().Equal(old) {
		t.Error("an unchanged manifest.json was written again")
	}
	edited := bytes.Replace(want, []byte(`"a"`), []byte(`"b"`), 1) // the same size
	if err := os.WriteFile(manifest, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	render()
	if got, err := os.ReadFile(manifest); err != nil || !bytes.Equal(got, want) {
		t.Errorf("an edited manifest.json was not restored:\n%s", got)
	}
}

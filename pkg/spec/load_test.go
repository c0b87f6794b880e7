package spec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
)

// TestJobsExamples: every spec in jobs/ loads with zero diagnostics, errors
// or warnings, in the base spec and every environment.
func TestJobsExamples(t *testing.T) {
	sets, diags := LoadEnvironments(LoadOptions{Paths: []string{"../../jobs"}})
	for _, d := range diags {
		t.Errorf("jobs/: %s", d.Error())
	}
	if len(sets) < 2 {
		t.Fatalf("want the base spec and its environments, got %d sets", len(sets))
	}
	for _, s := range sets {
		if len(s.Apps) == 0 || len(s.Externals) == 0 {
			t.Errorf("environment %q: want apps and externals, got %s", s.Environment, s)
		}
	}
}

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const apiSpec = `
variable "version" {
  type    = string
  default = "default"
}
app "api" {
  image = "registry.example.com/api:${var.version}"
}
`

func TestVariablePrecedence(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"api.hcl":         apiSpec,
		"one.vars.hcl":    `version = "from-file-1"`,
		"two.vars.hcl":    `version = "from-file-2"`,
		"unused.vars.hcl": `other = "x"`,
	})
	env := []string{"DROVER_VAR_version=from-env", "UNRELATED=1"}
	cases := []struct {
		name   string
		inputs VarInputs
		want   string
	}{
		{"default", VarInputs{}, "default"},
		{"environment", VarInputs{Environ: env}, "from-env"},
		{"file beats environment", VarInputs{Environ: env, VarFiles: []string{filepath.Join(dir, "one.vars.hcl")}}, "from-file-1"},
		{"later file wins", VarInputs{VarFiles: []string{filepath.Join(dir, "one.vars.hcl"), filepath.Join(dir, "two.vars.hcl")}}, "from-file-2"},
		{"flag beats all", VarInputs{Environ: env, VarFiles: []string{filepath.Join(dir, "one.vars.hcl")}, Vars: []string{"version=from-flag"}}, "from-flag"},
		{"last flag wins", VarInputs{Vars: []string{"version=a", "version=b"}}, "b"},
		{"flag value may hold =", VarInputs{Vars: []string{"version=a=b"}}, "a=b"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			set, diags := Load(LoadOptions{Paths: []string{dir}, Inputs: c.inputs})
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			if got := set.App("api").Main.Image.V; got != "registry.example.com/api:"+c.want {
				t.Errorf("image = %q, want tag %q", got, c.want)
			}
		})
	}
}

func TestVariableErrors(t *testing.T) {
	dir := writeTree(t, map[string]string{"api.hcl": apiSpec, "bad.vars.hcl": `other = "x"`})
	cases := []struct {
		name   string
		inputs VarInputs
		want   string
		sev    hcl.DiagnosticSeverity
	}{
		{"undeclared flag", VarInputs{Vars: []string{"versoin=1"}}, `-var sets "versoin", but no spec declares a variable of that name (did you mean "version"?).`, hcl.DiagError},
		{"malformed flag", VarInputs{Vars: []string{"version"}}, `The option -var "version" must have the form name=value.`, hcl.DiagError},
		{"undeclared in file", VarInputs{VarFiles: []string{filepath.Join(dir, "bad.vars.hcl")}}, `No spec declares a variable named "other", so this value is not used.`, hcl.DiagWarning},
		{"missing file", VarInputs{VarFiles: []string{filepath.Join(dir, "nope.vars.hcl")}}, "no such file", hcl.DiagError},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, diags := Load(LoadOptions{Paths: []string{filepath.Join(dir, "api.hcl")}, Inputs: c.inputs})
			var found bool
			for _, d := range diags {
				found = found || (d.Severity == c.sev && strings.Contains(d.Detail, c.want))
			}
			if !found {
				t.Errorf("want a diagnostic containing %q, got %v", c.want, diags)
			}
		})
	}
}

func TestTypedVariableFromFlag(t *testing.T) {
	dir := writeTree(t, map[string]string{"web.hcl": `
variable "hosts" {
  type = list(string)
}
variable "replicas" {
  type = number
}
app "web" {
  image = "registry.example.com/web:1.0.0"
  count = var.replicas
  port "http" {
    to = 80
  }
  service {}
  expose {
    hosts = var.hosts
  }
}`})
	set, diags := Load(LoadOptions{Paths: []string{dir}, Inputs: VarInputs{
		Vars:    []string{`hosts=["a.example.com","b.example.com"]`},
		Environ: []string{"DROVER_VAR_replicas=3"},
	}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	web := set.App("web")
	if diff := cmp.Diff([]string{"a.example.com", "b.example.com"}, web.Expose.Hosts.V); diff != "" {
		t.Errorf("hosts (-want +got):\n%s", diff)
	}
	if web.Count.V != 3 {
		t.Errorf("count = %d, want 3", web.Count.V)
	}

	_, diags = Load(LoadOptions{Paths: []string{dir}, Inputs: VarInputs{Vars: []string{"hosts=[1", "replicas=many"}}})
	if !diags.HasErrors() {
		t.Error("want errors for unparsable typed values")
	}
}

func TestEnvironmentOverlay(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"drover.hcl": `
project "p" {
  datacenters = ["dc1"]
  environment "prod" {
    datacenters = ["dc1", "dc2"]
    namespace   = "prod"
  }
  environment "staging" {}
}`,
		"apps/api.hcl": `
app "api" {
  image = "registry.example.com/api:1.0.0"
  count = 2
  env = {
    A = "base"
    B = "base"
  }
  port "http" {
    to = 80
  }
  resources {
    cpu    = 100
    memory = 128
  }
  service {}
  scaling {
    min = 1
    max = 5
  }
  environment "prod" {
    count = 6
    image = "registry.example.com/api:1.0.0-prod"
    env = {
      B = "prod"
      C = "prod"
    }
    resources {
      memory = 512
    }
    expose {
      hosts = ["api.example.com"]
    }
    scaling {
      max = 10
    }
  }
}`,
	})
	base, diags := Load(LoadOptions{Paths: []string{dir}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	prod, diags := Load(LoadOptions{Paths: []string{dir}, Environment: "prod"})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	b, p := base.App("api"), prod.App("api")
	if b.Count.V != 2 || p.Count.V != 6 {
		t.Errorf("count base=%d prod=%d, want 2 and 6", b.Count.V, p.Count.V)
	}
	if p.Main.Image.V != "registry.example.com/api:1.0.0-prod" {
		t.Errorf("prod image = %q", p.Main.Image.V)
	}
	env := map[string]string{}
	for _, e := range p.Main.Env {
		env[e.Name] = e.Value
	}
	if diff := cmp.Diff(map[string]string{"A": "base", "B": "prod", "C": "prod"}, env); diff != "" {
		t.Errorf("prod env (-want +got):\n%s", diff)
	}
	if p.Main.Resources.CPU.V != 100 || p.Main.Resources.Memory.V != 512 {
		t.Errorf("prod resources = %d MHz %d MiB, want 100 and 512", p.Main.Resources.CPU.V, p.Main.Resources.Memory.V)
	}
	if b.Expose != nil || p.Expose == nil || p.Expose.Path.V != "/" {
		t.Errorf("expose: base %v, prod %v; want only prod exposed at /", b.Expose, p.Expose)
	}
	if p.Scaling.Min.V != 1 || p.Scaling.Max.V != 10 {
		t.Errorf("prod scaling = [%d, %d], want [1, 10]", p.Scaling.Min.V, p.Scaling.Max.V)
	}
	if diff := cmp.Diff([]string{"dc1", "dc2"}, prod.Project.Datacenters.V); diff != "" {
		t.Errorf("prod datacenters (-want +got):\n%s", diff)
	}
	if prod.Project.Namespace.V != "prod" || base.Project.Namespace.V != "" {
		t.Errorf("namespace base=%q prod=%q", base.Project.Namespace.V, prod.Project.Namespace.V)
	}

	_, diags = Load(LoadOptions{Paths: []string{dir}, Environment: "prdo"})
	if !diags.HasErrors() || !strings.Contains(diags.Error(), `did you mean "prod"?`) {
		t.Errorf("unknown environment: want a suggestion, got %v", diags)
	}
}

// TestProjectSelection: naming one spec inside a project loads (and
// validates) the whole project but selects only that spec's apps.
func TestProjectSelection(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"drover.hcl":            `project "p" {}`,
		"web.hcl":               `app "web" { image = "r/web:1" }`,
		"api/api.hcl":           `app "api" { image = "r/api:1" }`,
		"api/ignored.nomad.hcl": `job "x" {}`,
		"api/prod.vars.hcl":     `x = 1`,
		".hidden/bad.hcl":       `this is not hcl`,
	})
	set, diags := Load(LoadOptions{Paths: []string{"api/api.hcl"}, WorkDir: dir})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if len(set.Apps) != 2 {
		t.Errorf("loaded %d apps, want both", len(set.Apps))
	}
	if diff := cmp.Diff(map[string]bool{"api": true}, set.Selected); diff != "" {
		t.Errorf("selected (-want +got):\n%s", diff)
	}
	if got := set.App("api").File; got != "api/api.hcl" {
		t.Errorf("ownership path = %q, want api/api.hcl relative to the root", got)
	}
	if _, ok := set.Files["api/api.hcl"]; !ok {
		t.Errorf("diagnostic file names should be relative to the working directory, got %v", keys(set.Files))
	}
}

func TestNoSpecs(t *testing.T) {
	_, diags := Load(LoadOptions{Paths: []string{t.TempDir()}})
	if !diags.HasErrors() || diags[0].Summary != "No spec files found" {
		t.Errorf("want 'No spec files found', got %v", diags)
	}
	_, diags = Load(LoadOptions{Paths: []string{"does/not/exist"}})
	if !diags.HasErrors() || diags[0].Summary != "Cannot read spec path" {
		t.Errorf("want 'Cannot read spec path', got %v", diags)
	}
}

// TestAllDiagnosticsReported: several independent mistakes in one file are
// all reported, not just the first.
func TestAllDiagnosticsReported(t *testing.T) {
	_, diags := LoadFiles(map[string][]byte{"a.hcl": []byte(`
app "a" {
  image = "r/a:1"
  bogus = 1
  count = "x"
  resources {
    memory = 1
  }
}
app "B" {
  image = "r/b:1"
}`)}, "", VarInputs{})
	var summaries []string
	for _, d := range diags {
		summaries = append(summaries, d.Summary)
	}
	want := []string{"Unsupported argument", "Incorrect attribute value type", "Invalid resources", "Invalid app name"}
	for _, w := range want {
		if !strings.Contains(strings.Join(summaries, "|"), w) {
			t.Errorf("missing %q in %v", w, summaries)
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestFindRoot: the nearest drover.hcl at or above the directory, never
// above a repository root.
func TestFindRoot(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"repo/.git/HEAD":            "ref: refs/heads/main",
		"repo/proj/drover.hcl":      `project "p" {}`,
		"repo/proj/apps/api/a.hcl":  `app "a" { image = "r/a:1" }`,
		"repo/proj/sub/drover.hcl":  `project "inner" {}`,
		"repo/loose/b.hcl":          `app "b" { image = "r/b:1" }`,
		"drover.hcl":                `project "outside-the-repo" {}`,
		"repo/proj/apps/api/readme": "",
	})
	cases := []struct {
		from, want string
	}{
		{"repo/proj", "repo/proj"},
		{"repo/proj/apps/api", "repo/proj"},
		{"repo/proj/apps/api/a.hcl", "repo/proj"},
		{"repo/proj/sub", "repo/proj/sub"},
	}
	for _, c := range cases {
		got, err := FindRoot(filepath.Join(dir, c.from))
		if err != nil || got != filepath.Join(dir, c.want) {
			t.Errorf("FindRoot(%s) = %q, %v; want %s", c.from, got, err, c.want)
		}
	}
	if got, err := FindRoot(filepath.Join(dir, "repo/loose")); !errors.Is(err, ErrNoProject) {
		t.Errorf("FindRoot(repo/loose) = %q, %v; want ErrNoProject, not the drover.hcl above the repository", got, err)
	}
	if _, err := FindRoot(filepath.Join(dir, "nope")); err == nil || errors.Is(err, ErrNoProject) {
		t.Errorf("FindRoot of a missing directory: want the stat error, got %v", err)
	}
}

// TestNotTextFile: a binary or non-UTF-8 file named *.hcl gives one
// diagnostic, whatever its size, and the other specs still load.
func TestNotTextFile(t *testing.T) {
	junk := make([]byte, 64<<10)
	for i := range junk {
		junk[i] = byte(i * 7)
	}
	for name, data := range map[string][]byte{"binary": junk, "utf-16": []byte("\xff\xfea\x00p\x00p\x00 \x00")} {
		t.Run(name, func(t *testing.T) {
			set, diags := LoadFiles(map[string][]byte{"bad.hcl": data, "ok.hcl": []byte(`app "ok" { image = "r/ok:1" }`)}, "", VarInputs{})
			if len(diags) != 1 || diags[0].Summary != "Not a text file" || diags[0].Subject.Filename != "bad.hcl" {
				t.Fatalf("want one 'Not a text file' diagnostic for bad.hcl, got %d: %v", len(diags), diags)
			}
			if set.App("ok") == nil {
				t.Error("the other spec did not load")
			}
		})
	}
}

// TestEmptySpecFile: a zero-byte file warns like a comments-only one.
func TestEmptySpecFile(t *testing.T) {
	dir := writeTree(t, map[string]string{"empty.hcl": "", "blank.hcl": " \n\t\n", "ok.hcl": `app "ok" { image = "r/ok:1" }`})
	_, diags := Load(LoadOptions{Paths: []string{dir}, WorkDir: dir})
	var got []string
	for _, d := range diags {
		got = append(got, d.Subject.Filename+": "+d.Summary)
	}
	sort.Strings(got)
	if diff := cmp.Diff([]string{"blank.hcl: Empty spec file", "empty.hcl: Empty spec file"}, got); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
	if diags.HasErrors() {
		t.Errorf("an empty file is a warning, got errors: %v", diags)
	}
}

// TestSymlinkedDirectories: a symlinked directory is followed, a directory
// reached both ways loads once under its real path, and a link back up the
// tree is reported once and not followed.
func TestSymlinkedDirectories(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"tree/drover.hcl":     `project "p" {}`,
		"tree/apps/api.hcl":   `app "api" { image = "r/api:1" }`,
		"shared/web/web.hcl":  `app "web" { image = "r/web:1" }`,
		"shared/web/note.txt": "",
	})
	for link, target := range map[string]string{
		"tree/shared":     "../shared",      // outside the tree: followed
		"tree/also-apps":  "apps",           // inside: loaded once, as apps/
		"tree/apps/loop":  "..",             // up the tree: a loop
		"shared/web/self": ".",              // a loop inside a followed link
		"tree/z-dangling": "does-not-exist", // ignored
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Skipf("no symlinks here: %v", err)
		}
	}
	set, diags := Load(LoadOptions{Paths: []string{"."}, WorkDir: filepath.Join(dir, "tree")})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	files := map[string]string{}
	for _, a := range set.Apps {
		files[a.Name] = a.File
	}
	if diff := cmp.Diff(map[string]string{"api": "apps/api.hcl", "web": "shared/web/web.hcl"}, files); diff != "" {
		t.Errorf("apps by file (-want +got):\n%s", diff)
	}
	var loops []string
	for _, d := range diags {
		if d.Summary == "Symlink loop" && d.Severity == hcl.DiagWarning {
			loops = append(loops, strings.Fields(d.Detail)[0])
		}
	}
	sort.Strings(loops)
	if diff := cmp.Diff([]string{"apps/loop", "shared/web/self"}, loops); diff != "" {
		t.Errorf("loop warnings, by link (-want +got):\n%s", diff)
	}
}

// relUnder must agree with filepath.Rel wherever it answers, and answer
// only for paths under base.
func TestRelUnderAgreesWithRel(t *testing.T) {
	for _, c := range []struct {
		base, path string
		under      bool
	}{
		{"/p", "/p/a.hcl", true},
		{"/p", "/p/sub/a.hcl", true},
		{"/p", "/p", true},
		{"/", "/a.hcl", true},
		{"/p", "/pq/a.hcl", false},
		{"/p/q", "/p", false},
		{"/p", "/x/a.hcl", false},
	} {
		got, ok := relUnder(c.base, c.path)
		if ok != c.under {
			t.Errorf("relUnder(%q, %q) ok = %v, want %v", c.base, c.path, ok, c.under)
			continue
		}
		if want, _ := filepath.Rel(c.base, c.path); ok && got != want {
			t.Errorf("relUnder(%q, %q) = %q, filepath.Rel says %q", c.base, c.path, got, want)
		}
	}
}

// The stat findLayout takes of each file as it finds it (the walk stats
// relative to each directory, many files a share on each core) is that
// file's: the index compares it to tell a file changed.
func TestLayoutStatsAreEachFilesOwn(t *testing.T) {
	files := map[string]string{
		"drover.hcl": `project "p" {}`,
		"a.hcl":      `app "a" { image = "r/a:1" }`,
		"m/x.hcl":    `app "x" { image = "r/x:12" }`,
		"m/n/y.hcl":  `app "y" { image = "r/y:123" }`,
		"z.hcl":      `app "z" { image = "r/z:1234" }`,
	}
	for i := range 600 { // more than a share
		files[fmt.Sprintf("many/s%03d.hcl", i)] = fmt.Sprintf("app %q { image = %q }", fmt.Sprint("s", i), strings.Repeat("i", i))
	}
	dir := writeTree(t, files)
	l, diags := findLayout(LoadOptions{WorkDir: dir}, nil, true)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if len(l.files) != len(files)-1 || len(l.stats) != len(l.files) {
		t.Fatalf("found %d files and %d stats, want %d", len(l.files), len(l.stats), len(files)-1)
	}
	for i, f := range l.files {
		want, err := statFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if l.stats[i] != want {
			t.Errorf("%s: stat %+v, want %+v", f, l.stats[i], want)
		}
	}
	if l, _ := findLayout(LoadOptions{WorkDir: dir}, nil, false); l.stats != nil {
		t.Error("findLayout stated the files without stat")
	}
}

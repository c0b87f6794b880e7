package spec

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"

	"github.com/drover-io/drover/internal/dirstat"
	"github.com/drover-io/drover/pkg/diag"
)

// diagLines prints diagnostics for comparison: sorted, with everything a
// user sees of them.
func diagLines(d hcl.Diagnostics) []string {
	var out []string
	for _, one := range diag.Sorted(d) {
		where := "(no range)"
		if s := one.Subject; s != nil {
			where = fmt.Sprintf("%s:%d.%d-%d.%d", s.Filename, s.Start.Line, s.Start.Column, s.End.Line, s.End.Column)
		}
		out = append(out, fmt.Sprintf("%s %d %s: %s", where, one.Severity, one.Summary, one.Detail))
	}
	return out
}

// setLines describes what a Set holds across apps: what Stream's
// summaries must keep.
func setLines(s *Set) []string {
	out := []string{fmt.Sprintf("env %q project %q", s.Environment, s.Project.Name)}
	for _, a := range s.Apps {
		line := fmt.Sprintf("app %s file=%s source=%s selected=%v callers=%v public=%v", a.Name, a.File, a.Source, s.Selected[a.Name], s.Callers(a.Name), s.PubliclyReachable(a))
		if a.Service != nil {
			line += fmt.Sprintf(" service port=%q protocol=%q allow=%v", a.Service.Port.V, a.Service.Protocol.V, a.Service.AllowFrom.V)
			for _, u := range a.Service.Upstreams {
				line += fmt.Sprintf(" up=%s/%s:%d", u.Project, u.Name, u.LocalPort.V)
			}
		}
		if a.Expose != nil {
			line += fmt.Sprintf(" expose=%v%s", a.Expose.Hosts.V, a.Expose.Path.V)
		}
		out = append(out, line)
	}
	for _, e := range s.Externals {
		out = append(out, fmt.Sprintf("external %s file=%s %s:%d %s selected=%v callers=%v", e.Name, e.File, e.Address.V, e.Port.V, e.Protocol.V, s.SelectedExternals[e.Name], s.Callers(e.Name)))
	}
	for _, h := range s.PublicHosts() {
		line := fmt.Sprintf("host %s -> %s", h.Host, h.Default.Name)
		for _, p := range h.Paths {
			line += fmt.Sprintf(" %s=%s", p.Prefix, p.App.Name)
		}
		out = append(out, line)
	}
	return out
}

// fixtureDirs copies every fixture project (testdata, jobs/) into its own
// directory and returns them by name.
func fixtureDirs(t *testing.T) map[string]string {
	t.Helper()
	jobs, err := filepath.Abs("../../jobs")
	if err != nil {
		t.Fatal(err)
	}
	dirs := map[string]string{"jobs": jobs}
	for _, kind := range []string{"valid", "invalid"} {
		entries, err := os.ReadDir(filepath.Join("testdata", kind))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			files := readProject(t, filepath.Join("testdata", kind, e.Name()))
			tree := map[string]string{}
			for name, data := range files {
				tree[name] = string(data)
			}
			dirs[kind+"/"+e.Name()] = writeTree(t, tree)
		}
	}
	return dirs
}

// TestStreamMatchesLoad: loading one file at a time finds exactly what
// loading the whole project at once does, every diagnostic and every fact
// across apps, in every fixture, for every environment.
func TestStreamMatchesLoad(t *testing.T) {
	for name, dir := range fixtureDirs(t) {
		t.Run(name, func(t *testing.T) {
			opts := LoadOptions{Paths: []string{dir}, WorkDir: dir}
			wantSets, wantDiags := LoadEnvironments(opts)
			var mu sync.Mutex
			visited := map[string]int{}
			gotSets, gotDiags := Stream(StreamOptions{LoadOptions: opts, AllEnvironments: true, Visit: func(set *Set, app *App) {
				mu.Lock()
				defer mu.Unlock()
				visited[set.Environment+"/"+app.Name]++
			}})
			if diff := cmp.Diff(diagLines(wantDiags), diagLines(gotDiags)); diff != "" {
				t.Errorf("diagnostics (-Load +Stream):\n%s", diff)
			}
			if len(wantSets) != len(gotSets) {
				t.Fatalf("%d sets, want %d", len(gotSets), len(wantSets))
			}
			for i := range wantSets {
				if diff := cmp.Diff(setLines(wantSets[i]), setLines(gotSets[i])); diff != "" {
					t.Errorf("set %d (-Load +Stream):\n%s", i, diff)
				}
				for _, a := range wantSets[i].Apps {
					if n := visited[wantSets[i].Environment+"/"+a.Name]; n < 1 {
						t.Errorf("app %s not visited in %q", a.Name, wantSets[i].Environment)
					}
				}
			}
			for _, env := range append([]string{""}, environmentsOf(wantSets)...) {
				opts.Environment = env
				want, wantDiags := Load(opts)
				got, gotDiags := Stream(StreamOptions{LoadOptions: opts})
				if diff := cmp.Diff(diagLines(wantDiags), diagLines(gotDiags)); diff != "" {
					t.Errorf("env %q: diagnostics (-Load +Stream):\n%s", env, diff)
				}
				if diff := cmp.Diff(setLines(want), setLines(got[0])); diff != "" {
					t.Errorf("env %q: set (-Load +Stream):\n%s", env, diff)
				}
			}
		})
	}
}

func environmentsOf(sets []*Set) []string {
	var out []string
	for _, s := range sets[min(1, len(sets)):] {
		out = append(out, s.Environment)
	}
	return out
}

// TestStreamVariables: spec files' own variables get the values Load gives
// them, however the inputs set them, including the cases that need the
// declarations of earlier files.
func TestStreamVariables(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"drover.hcl": `project "p" {}
variable "version" {
  default = "1"
}`,
		"a.hcl": `variable "hosts" {
  type    = list(string)
  default = ["a.example.com"]
}
app "a" {
  image = "r/a:${var.version}"
  port "http" {
    to = 8080
  }
  service {}
  expose {
    hosts = var.hosts
  }
}`,
		"b.hcl": `variable "hosts" {}
variable "hosts" {}
variable "n" {}
app "b" {
  image = "r/b:${var.version}"
  count = var.n
}`,
	})
	for _, in := range []VarInputs{
		{},
		{Vars: []string{`hosts=["x.example.com"]`, "n=2"}},
		{Environ: []string{"DROVER_VAR_version=latest", "DROVER_VAR_n=3"}, Vars: []string{"unknown=1"}},
	} {
		opts := LoadOptions{Paths: []string{dir}, WorkDir: dir, Inputs: in}
		want, wantDiags := Load(opts)
		got, gotDiags := Stream(StreamOptions{LoadOptions: opts})
		if diff := cmp.Diff(diagLines(wantDiags), diagLines(gotDiags)); diff != "" {
			t.Errorf("%v: diagnostics (-Load +Stream):\n%s", in, diff)
		}
		if diff := cmp.Diff(setLines(want), setLines(got[0])); diff != "" {
			t.Errorf("%v: set (-Load +Stream):\n%s", in, diff)
		}
	}
}

// TestIndexScopedLoad: with the index, naming one spec parses only it and
// drover.hcl; the others' facts come from the index, and a change to any
// of them (content, stat, a variable they use) is seen.
func TestIndexScopedLoad(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"drover.hcl": `project "p" {
  environment "prod" {}
}
variable "domain" {
  default = "example.com"
}`,
		"api.hcl": `app "api" {
  image = "r/api:1"
  port "http" {
    to = 8080
  }
  service {}
  expose {
    hosts = ["api.${var.domain}"]
  }
}`,
		"web.hcl": `app "web" {
  image = "r/web:1"
  port "http" {
    to = 8080
  }
  service {
    upstream "api" {
      local_port = 9000
    }
  }
  environment "prod" {
    count = 2
  }
}`,
		"broken.hcl": `app "broken" {
  image = "r/broken:1"
  bogus = 1
}`,
	})
	load := func(env string, in VarInputs, paths ...string) ([]*Set, hcl.Diagnostics, map[string]int) {
		t.Helper()
		var mu sync.Mutex
		visited := map[string]int{}
		sets, diags := Stream(StreamOptions{LoadOptions: LoadOptions{Paths: paths, WorkDir: dir, Environment: env, Inputs: in}, AllEnvironments: env == "", Index: true,
			Visit: func(set *Set, app *App) {
				mu.Lock()
				defer mu.Unlock()
				visited[app.Name]++
			}})
		return sets, diags, visited
	}
	summaries := func(d hcl.Diagnostics) []string {
		var out []string
		for _, one := range diag.Sorted(d) {
			out = append(out, one.Summary)
		}
		return out
	}
	// First: no index yet; then from the index.
	for round := range 2 {
		sets, diags, visited := load("", VarInputs{}, "web.hcl")
		if diff := cmp.Diff([]string{"Other specs have errors"}, summaries(diags)); diff != "" {
			t.Errorf("round %d: diagnostics (-want +got):\n%s", round, diff)
		}
		if diff := cmp.Diff(map[string]int{"web": 2}, visited); diff != "" {
			t.Errorf("round %d: visited (-want +got):\n%s", round, diff)
		}
		if len(sets) != 2 || sets[0].App("api") == nil || !sets[0].PubliclyReachable(sets[0].App("api")) || fmt.Sprint(sets[0].Callers("api")) != "[web]" {
			t.Errorf("round %d: the other specs' facts are missing: %v", round, sets)
		}
		if _, err := os.Stat(shardPath(dir, shardOf("web.hcl"))); err != nil {
			t.Fatalf("round %d: no index written: %v", round, err)
		}
	}
	// A variable a file uses changes its facts.
	sets, _, _ := load("", VarInputs{Vars: []string{"domain=example.org"}}, "web.hcl")
	if got := sets[0].PublicHosts(); len(got) != 1 || got[0].Host != "api.example.org" {
		t.Errorf("hosts after -var domain: %v", got)
	}
	// So does a changed file, within the same second and size.
	api := filepath.Join(dir, "api.hcl")
	src, _ := os.ReadFile(api)
	if err := os.WriteFile(api, []byte(strings.Replace(string(src), `"api.${var.domain}"`, `"ipa.${var.domain}"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	sets, _, _ = load("", VarInputs{}, "web.hcl")
	if got := sets[0].PublicHosts(); len(got) != 1 || got[0].Host != "ipa.example.com" {
		t.Errorf("hosts after editing api.hcl: %v", got)
	}
	// A file that went away takes its facts with it: web's upstream is
	// unknown now.
	if err := os.Remove(api); err != nil {
		t.Fatal(err)
	}
	_, diags, _ := load("prod", VarInputs{}, "web.hcl")
	if diff := cmp.Diff([]string{"Other specs have errors", "Unknown upstream"}, summaries(diags)); diff != "" {
		t.Errorf("after removing api.hcl (-want +got):\n%s", diff)
	}
	// The whole project reports everything, as without the index.
	_, diags, _ = load("", VarInputs{}, ".")
	if diff := cmp.Diff([]string{"Unsupported argument", "Unknown upstream"}, summaries(diags)); diff != "" {
		t.Errorf("whole project (-want +got):\n%s", diff)
	}
}

// TestIndexRecordsTheProjectFileItRead: drover.hcl edited while a run
// reads the specs leaves an index that records the checksum of the
// drover.hcl the run read, not of the edit, so that the next run does not
// take the summaries for the edited project's.
func TestIndexRecordsTheProjectFileItRead(t *testing.T) {
	before := `project "p" {}`
	dir := writeTree(t, map[string]string{
		"drover.hcl": before,
		"web.hcl": `app "web" {
  image = "r/web:1"
}`,
	})
	_, diags := Stream(StreamOptions{LoadOptions: LoadOptions{Paths: []string{"web.hcl"}, WorkDir: dir}, Index: true,
		Started: func(StreamStart) {
			if err := os.WriteFile(filepath.Join(dir, ProjectFileName), []byte(`project "q" {}`), 0o644); err != nil {
				t.Fatal(err)
			}
		}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	data, err := os.ReadFile(shardPath(dir, shardOf("web.hcl")))
	if err != nil || !bytes.HasPrefix(data, []byte(indexMagic)) {
		t.Fatalf("no index: %v", err)
	}
	d := &decoder{b: data[len(indexMagic):]}
	d.str() // the binary
	if got, want := d.bytes(sha256.Size), sha256.Sum256([]byte(before)); !bytes.Equal(got, want[:]) {
		t.Errorf("the index records drover.hcl as %x, want the checksum of what the run read, %x", got, want)
	}
}

// TestIndexSurvivesGarbage: a damaged index is ignored and rewritten.
func TestIndexSurvivesGarbage(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"drover.hcl": `project "p" {}`,
		"a.hcl":      `app "a" { image = "r/a:1" }`,
		"b.hcl":      `app "b" { image = "r/b:1" }`,
	})
	opts := StreamOptions{LoadOptions: LoadOptions{Paths: []string{"a.hcl"}, WorkDir: dir}, Index: true}
	if _, diags := Stream(opts); diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	path := shardPath(dir, shardOf("b.hcl"))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int{len(indexMagic) + 3, len(data) / 2, len(data) - 1} {
		if err := os.WriteFile(path, data[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		sets, diags := Stream(opts)
		if diags.HasErrors() || len(sets[0].Apps) != 2 {
			t.Errorf("cut at %d: %v, %v", cut, diags, sets)
		}
		if f := readIndexFile(dir, sha256.Sum256([]byte(`project "p" {}`))); f == nil || len(f.shard(shardOf("b.hcl"))) == 0 || !f.read[shardOf("b.hcl")] {
			t.Errorf("cut at %d: the shard was not written again", cut)
		}
	}
	ignore, err := os.ReadFile(filepath.Join(dir, IndexDir, ".gitignore"))
	if err != nil || !strings.Contains(string(ignore), "*") {
		t.Errorf(".gitignore: %q, %v", ignore, err)
	}
}

// TestIndexEntryRoundTrip: summaries read back keep everything the checks
// across files and the artifacts of the whole project read.
func TestIndexEntryRoundTrip(t *testing.T) {
	sets, diags := LoadEnvironments(LoadOptions{Paths: []string{"../../jobs"}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	for _, set := range sets {
		w := &encoder{}
		encodeFacts(w, set.Apps, set.Externals)
		got := decodeFacts(w.b, "", "")
		back := &Set{Project: set.Project, Environment: set.Environment, Apps: got.apps, Externals: got.externals, Selected: set.Selected, SelectedExternals: set.SelectedExternals}
		for i, a := range back.Apps {
			a.File, a.Source = set.Apps[i].File, set.Apps[i].Source
			a.NameRange.Filename, a.DeclRange.Filename = set.Apps[i].NameRange.Filename, set.Apps[i].DeclRange.Filename
		}
		for i, e := range back.Externals {
			e.File = set.Externals[i].File
		}
		if diff := cmp.Diff(setLines(set), setLines(back)); diff != "" {
			t.Errorf("env %q (-encoded +decoded):\n%s", set.Environment, diff)
		}
		if diff := cmp.Diff(diagLines(validateProject(set)), diagLines(validateProject(back))); diff != "" {
			t.Errorf("env %q: checks across files (-encoded +decoded):\n%s", set.Environment, diff)
		}
	}
}

// crossSummaries are the diagnostics of the checks across files.
var crossSummaries = map[string]bool{"Duplicate service name": true, "Unknown upstream": true, "Upstream has no service": true,
	"Public route conflict": true, "Shared host without a default app": true, "Invalid app name": true, "Invalid external name": true}

// TestIndexScopeReportsAcrossFiles: a spec loaded with the index gets its
// own diagnostics and every diagnostic across files that loading the whole
// project does, wherever it is, and nothing the whole project does not.
func TestIndexScopeReportsAcrossFiles(t *testing.T) {
	tree := map[string]string{
		"drover.hcl": `project "p" {
  environment "prod" {}
}`,
		"api.hcl": `app "api" {
  image = "r/api:1"
  port "http" {
    to = 8080
  }
  service {
    upstream "db" {
      local_port = 5432
    }
  }
  expose {
    hosts = ["shop.example.com"]
    path  = "/api"
  }
}`,
		"web.hcl": `app "web" {
  image = "r/web:1"
  port "http" {
    to = 8080
  }
  service {
    upstream "api" {
      local_port = 9000
    }
    upstream "worker" {
      local_port = 9001
    }
    upstream "paymnets" {
      local_port = 9002
    }
  }
  expose {
    hosts = ["shop.example.com"]
    path  = "/api"
  }
}`,
		"worker.hcl": `app "worker" {
  image = "r/worker:1"
  service {
    upstream "api" {
      local_port = 8080
    }
  }
}`,
		"dup.hcl": `app "api" {
  image = "r/api:2"
}
app "Bad_Name" {
  image = "r/bad:1"
}`,
		"payments.hcl": `external "payments" {
  address = "pay.example.net"
  port    = 443
}`,
		"db.hcl": `external "db" {
  address = "db.example.net"
  port    = 5432
}
app "quiet" {
  image = "r/quiet:1"
  bogus = 1
}`,
	}
	dir := writeTree(t, tree)
	var files []string
	for name := range tree {
		if name != ProjectFileName {
			files = append(files, name)
		}
	}
	for _, env := range []string{"", "prod"} {
		whole, wholeDiags := Stream(StreamOptions{LoadOptions: LoadOptions{Paths: []string{dir}, WorkDir: dir, Environment: env}})
		wholeSet := map[string]bool{}
		for _, l := range diagLines(wholeDiags) {
			wholeSet[l] = true
		}
		for _, file := range files {
			for round := range 2 {
				sets, diags := Stream(StreamOptions{LoadOptions: LoadOptions{Paths: []string{file}, WorkDir: dir, Environment: env}, Index: true})
				got := map[string]bool{}
				for _, l := range diagLines(diags) {
					got[l] = true
					if !wholeSet[l] && !strings.Contains(l, "Other specs have errors") {
						t.Errorf("%s env %q round %d: not a diagnostic of the whole project: %s", file, env, round, l)
					}
				}
				for _, d := range wholeDiags {
					line := diagLines(hcl.Diagnostics{d})[0]
					if (d.Subject != nil && d.Subject.Filename == file || crossSummaries[d.Summary]) && !got[line] {
						t.Errorf("%s env %q round %d: missing %s", file, env, round, line)
					}
				}
				if len(sets[0].Apps) != len(whole[0].Apps) || len(sets[0].Externals) != len(whole[0].Externals) {
					t.Errorf("%s: %d apps and %d externals, want %d and %d", file, len(sets[0].Apps), len(sets[0].Externals), len(whole[0].Apps), len(whole[0].Externals))
				}
			}
		}
	}
}

// TestIndexScopedLoadSharesSummaries: an app a scoped load only names is
// one App in the Set of every environment, as its name and ranges are, and
// so is a summary that is the same in two environments; one that differs
// is its own.
func TestIndexScopedLoadSharesSummaries(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"drover.hcl": `project "p" {
  environment "prod" {}
  environment "staging" {}
}`,
		"other.hcl": `app "other" {
  image = "r/other:1"
  environment "prod" {
    count = 3
  }
}`,
		"mine.hcl": `app "mine" {
  image = "r/mine:1"
  port "http" {
    to = 8080
  }
  service {}
  expose {
    hosts = ["mine.example.com"]
  }
  environment "prod" {
    expose {
      hosts = ["mine.prod.example.com"]
    }
  }
}`,
	})
	for round := range 2 { // the first round writes the index
		sets, diags := Stream(StreamOptions{LoadOptions: LoadOptions{Paths: []string{"mine.hcl"}, WorkDir: dir}, AllEnvironments: true, Index: true})
		if diags.HasErrors() || len(sets) != 3 {
			t.Fatalf("round %d: %d sets, %v", round, len(sets), diags)
		}
		if round == 0 {
			continue
		}
		base := sets[0].App("other")
		if base == nil || base.File != "other.hcl" || base.NameRange.Start.Line != 1 || base.Main != nil || base.AppSettings != noSettings {
			t.Fatalf("the other app is not a bare summary: %+v", base)
		}
		if mine := sets[0].App("mine"); mine.AppSettings != noSettings {
			t.Errorf("a whole summary has settings of its own: %p", mine.AppSettings)
		}
		for _, set := range sets[1:] {
			if got := set.App("other"); got != base {
				t.Errorf("environment %q: its own App for the other app (%p, want %p)", set.Environment, got, base)
			}
		}
		mine := map[string]*App{}
		for _, set := range sets {
			mine[set.Environment] = set.App("mine")
		}
		if mine["staging"] != mine[""] {
			t.Errorf("staging's summary of mine is the base's, yet not shared")
		}
		if mine["prod"] == mine[""] || mine["prod"].Expose.Hosts.V[0] != "mine.prod.example.com" || mine[""].Expose.Hosts.V[0] != "mine.example.com" {
			t.Errorf("prod's summary of mine differs from the base's, yet: prod %p %v, base %p %v", mine["prod"], mine["prod"].Expose.Hosts.V, mine[""], mine[""].Expose.Hosts.V)
		}
	}
}

// TestDecoderVarints: the decoder reads back every varint the encoder
// writes, one byte or ten, and marks a cut one damaged.
func TestDecoderVarints(t *testing.T) {
	signed := []int64{0, 1, -1, 63, -64, 64, -65, 1 << 40, -(1 << 40), math.MaxInt64, math.MinInt64}
	unsigned := []uint64{0, 1, 127, 128, 1 << 35, math.MaxUint64}
	w := &encoder{}
	for _, v := range signed {
		w.varint(v)
	}
	for _, v := range unsigned {
		w.uvarint(v)
	}
	d := &decoder{b: w.b}
	for _, want := range signed {
		if got := d.varint(); got != want {
			t.Errorf("varint: got %d, want %d", got, want)
		}
	}
	for _, want := range unsigned {
		if got := d.uvarint(); got != want {
			t.Errorf("uvarint: got %d, want %d", got, want)
		}
	}
	if d.bad || len(d.b) != 0 {
		t.Errorf("after reading everything: bad %v, %d bytes left", d.bad, len(d.b))
	}
	cut := &decoder{b: binary.AppendUvarint(nil, 1<<35)[:2]}
	if got := cut.uvarint(); got != 0 || !cut.bad {
		t.Errorf("a cut varint: got %d, bad %v", got, cut.bad)
	}
}

// TestBlobsWriteRepeatsOnce: blobs the same as an earlier one are written
// as a reference and read back whole; a reference to nothing is damage.
func TestBlobsWriteRepeatsOnce(t *testing.T) {
	same := bytes.Repeat([]byte("summary "), 16)
	bs := &blobs{}
	for _, env := range []string{"", "prod", "staging"} {
		bs.set(env, same)
	}
	bs.set("qa", []byte("other"))
	w := &encoder{}
	w.blobs(bs)
	if len(w.b) > len(same)+40 {
		t.Errorf("three copies of %d bytes took %d", len(same), len(w.b))
	}
	d := &decoder{b: w.b}
	if got := d.blobs(); d.bad || !got.equal(bs) {
		t.Errorf("read back %v (bad %v), want %v", got.all(), d.bad, bs.all())
	}
	bad := &encoder{}
	bad.uvarint(1)
	bad.str("prod")
	bad.uvarint(0)
	bad.uvarint(3) // no blob 3 before
	d = &decoder{b: bad.b}
	if d.blobs(); !d.bad {
		t.Errorf("a reference to nothing was not damage")
	}
	unsorted := &encoder{}
	unsorted.uvarint(2)
	for _, name := range []string{"prod", ""} {
		unsorted.str(name)
		unsorted.uvarint(2)
		unsorted.raw([]byte("x"))
	}
	d = &decoder{b: unsorted.b}
	if d.blobs(); !d.bad {
		t.Errorf("names out of order were not damage")
	}
}

// TestIndexEntryMemosLazily: an entry's memos are decoded when asked for,
// written back as read, and damaged ones are none, not a damaged entry.
func TestIndexEntryMemosLazily(t *testing.T) {
	memos := &blobs{}
	memos.set(memoSlot("render v1", ""), []byte("memo"))
	e := &indexEntry{rel: "api.hcl", facts: &blobs{}, memos: memos, changed: true}
	w := &encoder{}
	encodeEntry(w, e)
	read := decodeEntry(w.b, map[string]string{})
	if read == nil || read.memos != nil || read.memosRaw == nil {
		t.Fatalf("decoded the memos at once: %+v", read)
	}
	if got, ok := read.memosFor("render v1", []string{""}); !ok || string(got.get("")) != "memo" {
		t.Errorf("memos read back: %v %v", got.all(), ok)
	}
	read.changed = true // encoded again from its fields, not as read
	again := &encoder{}
	encodeEntry(again, read)
	if !bytes.Equal(again.b, w.b) {
		t.Errorf("encoded again differently:\n%q\n%q", again.b, w.b)
	}
	damaged := w.b[:len(w.b)-2] // the memo cut short
	if e := decodeEntry(damaged, map[string]string{}); e == nil || e.memoBlobs() != nil {
		t.Errorf("damaged memos: entry %v, memos %v", e, e.memoBlobs())
	}
}

// Started says a load is scoped only when the index stands for the files
// not selected: the caller then expects next to no garbage.
func TestStreamStartSaysWhenScoped(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"drover.hcl": `project "p" {}`,
		"a.hcl":      `app "a" { image = "r/a:1" }`,
		"b.hcl":      `app "b" { image = "r/b:1" }`,
	})
	start := func(paths []string, index bool) StreamStart {
		t.Helper()
		var got StreamStart
		_, diags := Stream(StreamOptions{LoadOptions: LoadOptions{Paths: paths, WorkDir: dir}, Index: index, Started: func(s StreamStart) { got = s }})
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		return got
	}
	for _, c := range []struct {
		what   string
		paths  []string
		index  bool
		scoped bool
	}{
		{"one spec, no index yet", []string{"a.hcl"}, true, false},
		{"one spec, with the index", []string{"a.hcl"}, true, true},
		{"one spec, index off", []string{"a.hcl"}, false, false},
		{"the whole project", nil, true, false},
	} {
		got := start(c.paths, c.index)
		if got.Scoped != c.scoped || got.Files != 2 || got.Environments != 1 {
			t.Errorf("%s: Started with %+v, want 2 files, 1 environment, scoped %v", c.what, got, c.scoped)
		}
	}
}

// TestBuildIDNamesPinnedBuildsOnly: a build from a clean checkout or of a
// module version is named by its build info, every part of it; any other
// (a modified checkout, a build without version control) is not, and
// falls back to its executable.
func TestBuildIDNamesPinnedBuildsOnly(t *testing.T) {
	info := func(version string, settings ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{GoVersion: "go1.26.8", Path: "github.com/drover-io/drover/cmd/drover", Main: debug.Module{Path: "github.com/drover-io/drover", Version: version}}
		for i := 0; i+1 < len(settings); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return bi
	}
	clean := info("(devel)", "vcs.revision", "abc123", "vcs.modified", "false", "-tags", "urfave_cli_no_docs")
	for _, c := range []struct {
		what   string
		info   *debug.BuildInfo
		pinned bool
	}{
		{"a clean checkout", clean, true},
		{"a module version", info("v1.2.3"), true},
		{"a modified checkout", info("(devel)", "vcs.revision", "abc123", "vcs.modified", "true"), false},
		{"a dirty version", info("v1.2.4-0.20261201000000-abc123+dirty"), false},
		{"no version control", info("(devel)", "-tags", "urfave_cli_no_docs"), false},
	} {
		if id := buildID(c.info); (id != "") != c.pinned {
			t.Errorf("%s: id %q, want pinned %t", c.what, id, c.pinned)
		}
	}
	// Anything else the build records tells two builds apart.
	base := buildID(clean)
	for what, other := range map[string]*debug.BuildInfo{
		"another revision":   info("(devel)", "vcs.revision", "def456", "vcs.modified", "false", "-tags", "urfave_cli_no_docs"),
		"other build tags":   info("(devel)", "vcs.revision", "abc123", "vcs.modified", "false", "-tags", ""),
		"other linker flags": info("(devel)", "vcs.revision", "abc123", "vcs.modified", "false", "-tags", "urfave_cli_no_docs", "-ldflags", "-X v=2"),
	} {
		if buildID(other) == base {
			t.Errorf("%s: the same id as the clean checkout", what)
		}
	}
	goVersion := *clean
	goVersion.GoVersion = "go1.26.9"
	if buildID(&goVersion) == base {
		t.Errorf("another Go version: the same id")
	}
}

// TestReadCompare: a file is told the same by its bytes, whatever its
// stat said of its size; when it differs, the bytes read come back whole.
func TestReadCompare(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.hcl")
	content := []byte("app \"a\" {\n  image = \"r/a:1\"\n}\n")
	sum := sha256.Sum256(content)
	for _, c := range []struct {
		what  string
		data  []byte
		size  int64 // as the stat said
		same  bool
		bytes bool // the bytes come back
	}{
		{"the same bytes", content, int64(len(content)), true, false},
		{"the same bytes, of another size by the stat", content, 3, true, false},
		{"other bytes of the same size", bytes.ToUpper(content), int64(len(content)), false, true},
		{"grown since the stat", append(bytes.Clone(content), "# more\n"...), int64(len(content)), false, true},
		{"shrunk since the stat", content[:10], int64(len(content)), false, true},
		{"too large to pool", content, maxPooledSpec + 1, true, false},
	} {
		if err := os.WriteFile(path, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		src, same := readCompare(path, c.size, sum)
		if same != c.same || c.bytes && !bytes.Equal(src, c.data) || !c.bytes && src != nil && !bytes.Equal(src, c.data) {
			t.Errorf("%s: same %t (want %t), read %q", c.what, same, c.same, src)
		}
	}
	if src, same := readCompare(filepath.Join(t.TempDir(), "missing.hcl"), 10, sum); same || src != nil {
		t.Errorf("a missing file: same %t, read %q", same, src)
	}
}

// TestIndexWritesOnlyTheShardsThatChanged: after an edit of one spec, a
// load writes that spec's shard of the index again and leaves the others
// as they were; a spec removed has its shard written again too.
func TestIndexWritesOnlyTheShardsThatChanged(t *testing.T) {
	t.Parallel() // waits out the racy window
	files := map[string]string{"drover.hcl": `project "p" {}`}
	for i := range 64 {
		files[fmt.Sprintf("s%02d.hcl", i)] = fmt.Sprintf("app \"s%02d\" {\n  image = \"r/s:1\"\n}\n", i)
	}
	dir := writeTree(t, files)
	opts := StreamOptions{LoadOptions: LoadOptions{Paths: []string{"s00.hcl"}, WorkDir: dir}, Index: true}
	stream := func() {
		t.Helper()
		if _, diags := Stream(opts); diags.HasErrors() {
			t.Fatal(diags.Error())
		}
	}
	inodes := func() (ino [indexShards]uint64) {
		t.Helper()
		for k := range indexShards {
			s, err := dirstat.File(shardPath(dir, k))
			if err != nil {
				t.Fatalf("shard %d: %v", k, err)
			}
			ino[k] = s.Ino
		}
		return ino
	}
	settle() // else every entry is read again, and written again once settled
	stream()
	settled := inodes()
	stream() // nothing changed: nothing written
	if got := inodes(); got != settled {
		t.Fatalf("a load with nothing changed wrote shards: %v, then %v", settled, got)
	}
	for _, c := range []struct {
		what string
		spec string
		edit func(path string) error
	}{
		{"removed", "s42.hcl", os.Remove},
		// Last: the edited file's new entry is too recent to trust, and
		// the next load reads it, and writes its shard, again.
		{"edited", "s17.hcl", func(p string) error { return os.WriteFile(p, []byte("app \"s17\" {\n  image = \"r/s:2\"\n}\n"), 0o644) }},
	} {
		before := inodes()
		if err := c.edit(filepath.Join(dir, c.spec)); err != nil {
			t.Fatal(err)
		}
		stream()
		after := inodes()
		for k := range indexShards {
			if want := k == shardOf(c.spec); (after[k] != before[k]) != want {
				t.Errorf("%s %s (shard %d): shard %d written again: %t, want %t", c.what, c.spec, shardOf(c.spec), k, after[k] != before[k], want)
			}
		}
	}
	sets, diags := Stream(StreamOptions{LoadOptions: LoadOptions{Paths: []string{"."}, WorkDir: dir}, Index: true})
	if diags.HasErrors() || len(sets[0].Apps) != 63 || sets[0].App("s42") != nil || sets[0].App("s17") == nil {
		t.Fatalf("loaded again: %v, %d apps", diags, len(sets[0].Apps))
	}
}

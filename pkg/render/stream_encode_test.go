package render

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drover-io/drover/pkg/spec"
)

// streamFiles renders like `drover render -o` does: Stream fed by
// spec.Stream.
func streamFiles(t *testing.T, opts spec.StreamOptions) (map[string]string, *Bundle, error) {
	t.Helper()
	var mu sync.Mutex
	files := map[string]string{}
	s := NewStream(Options{Version: "test"}, func(f File) error {
		mu.Lock()
		defer mu.Unlock()
		if _, dup := files[f.Path]; dup {
			t.Errorf("%s written twice", f.Path)
		}
		files[f.Path] = string(f.Data)
		return nil
	})
	opts.Visit = s.App
	sets, diags := spec.Stream(opts)
	if diags.HasErrors() {
		return nil, nil, diags
	}
	b, m, err := s.Finish(sets[0], "test")
	if err == nil && len(m.Artifacts)+1 != len(files) {
		t.Errorf("manifest lists %d artifacts, %d files written", len(m.Artifacts), len(files))
	}
	return files, b, err
}

// bundleFiles renders as Render and Bundle.Files do.
func bundleFiles(t *testing.T, opts spec.LoadOptions) (map[string]string, *Bundle, error) {
	t.Helper()
	set, diags := spec.Load(opts)
	if diags.HasErrors() {
		return nil, nil, diags
	}
	b, err := Render(set, Options{Version: "test"})
	if err != nil {
		return nil, nil, err
	}
	fs, err := b.Files("test")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, f := range fs {
		files[f.Path] = string(f.Data)
	}
	return files, b, nil
}

func counts(b *Bundle) string {
	if b == nil {
		return "no bundle"
	}
	return fmt.Sprint(len(b.Jobs), len(b.ConfigEntries), len(b.Registrations), len(b.VaultPolicies), len(b.VaultRoles))
}

// TestStreamMatchesRender: rendering while the specs load writes the bytes
// Render and Bundle.Files give, for whole projects and for each spec
// selected alone (with and without the index), in every environment.
func TestStreamMatchesRender(t *testing.T) {
	projects := map[string]string{"jobs": "../../jobs", "generated": t.TempDir()}
	if err := writeGenerated(projects["generated"], 30); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir("../spec/testdata/valid")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		projects["valid/"+e.Name()] = filepath.Join("../spec/testdata/valid", e.Name())
	}
	for name, dir := range projects {
		dir, err := filepath.Abs(dir)
		if err != nil {
			t.Fatal(err)
		}
		// A copy of the project alone, where the index may be written.
		work := t.TempDir()
		copyTo := filepath.Join(work, filepath.Base(dir))
		if info, err := os.Stat(dir); err == nil && info.IsDir() {
			err = os.CopyFS(copyTo, os.DirFS(dir))
			if err != nil {
				t.Fatal(err)
			}
		} else if data, err := os.ReadFile(dir); err != nil || os.WriteFile(copyTo, data, 0o644) != nil {
			t.Fatal(err)
		}
		dir = copyTo
		paths := [][]string{{dir}}
		if info, err := os.Stat(dir); err == nil && info.IsDir() {
			var specs []string
			_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() && strings.HasSuffix(p, ".hcl") && filepath.Base(p) != spec.ProjectFileName {
					specs = append(specs, p)
				}
				return nil
			})
			sort.Strings(specs)
			for _, p := range specs[:min(len(specs), 4)] {
				paths = append(paths, []string{p})
			}
		}
		for _, env := range []string{"", "prod"} {
			for _, p := range paths {
				for _, index := range []bool{false, true, true} {
					what := fmt.Sprintf("%s env %q %v index=%v", name, env, p, index)
					load := spec.LoadOptions{Paths: p, Environment: env, WorkDir: work}
					want, wantBundle, wantErr := bundleFiles(t, load)
					got, gotBundle, gotErr := streamFiles(t, spec.StreamOptions{LoadOptions: load, Index: index})
					if (wantErr == nil) != (gotErr == nil) {
						t.Errorf("%s: error %v, want %v", what, gotErr, wantErr)
						continue
					}
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("%s: files (-Render +Stream):\n%s", what, diff)
					}
					if counts(wantBundle) != counts(gotBundle) {
						t.Errorf("%s: bundle counts %s, want %s", what, counts(gotBundle), counts(wantBundle))
					}
				}
			}
		}
	}
}

// TestStreamAppDependsOnTheAppAndProjectOnly: what Stream.App writes for an
// app is the same whatever other apps the project has. The index replays
// an unchanged spec's files on that ground (Stream.Replay): a render that
// read another app here would go stale there.
func TestStreamAppDependsOnTheAppAndProjectOnly(t *testing.T) {
	checked := 0
	for _, path := range []string{"../../jobs", "../spec/testdata/valid/production.hcl", "../spec/testdata/valid/routing.hcl", "../spec/testdata/valid/project"} {
		if _, err := os.Stat(path); err != nil {
			continue
		}
		for _, env := range []string{"", "prod"} {
			set, diags := spec.Load(spec.LoadOptions{Paths: []string{path}, Environment: env})
			if diags.HasErrors() {
				continue // an environment the project does not declare
			}
			files := func(s *spec.Set, app *spec.App) map[string]string {
				got := map[string]string{}
				var mu sync.Mutex
				NewStream(Options{Version: goldenVersion}, func(f File) error {
					mu.Lock()
					defer mu.Unlock()
					got[f.Path] = string(f.Data)
					return nil
				}).App(s, app)
				return got
			}
			for _, app := range set.Apps {
				alone := &spec.Set{Root: set.Root, Project: set.Project, Environment: set.Environment, Apps: []*spec.App{app},
					Files: set.Files, Selected: map[string]bool{app.Name: true}, SelectedExternals: map[string]bool{}}
				if diff := cmp.Diff(files(set, app), files(alone, app)); diff != "" {
					t.Errorf("%s %q: app %s renders otherwise alone (-with the others +alone):\n%s", path, env, app.Name, diff)
				}
				checked++
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d apps checked", checked)
	}
}

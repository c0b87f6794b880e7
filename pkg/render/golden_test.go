package render

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/internal/jsonx"
	"github.com/drover-io/drover/pkg/jobspec"
	"github.com/drover-io/drover/pkg/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenCases are spec projects and the environment to render them for.
var goldenCases = []struct {
	name, path, env string
}{
	{"jobs", "../../jobs", ""},
	{"jobs-prod", "../../jobs", "prod"},
	{"routing", "../spec/testdata/valid/routing.hcl", ""},
	{"grpc", "../spec/testdata/valid/grpc.hcl", ""},
	{"helpers", "../spec/testdata/valid/helpers.hcl", ""},
	{"policies", "../spec/testdata/valid/policies.hcl", ""},
	{"production", "../spec/testdata/valid/production.hcl", ""},
	{"project-staging", "../spec/testdata/valid/project", "staging"},
	{"project-prod", "../spec/testdata/valid/project", "prod"},
}

// goldenVersion stands in for the drover version so goldens do not change
// with every release.
const goldenVersion = "test"

func loadCase(t testing.TB, path, env string) *spec.Set {
	t.Helper()
	set, diags := spec.Load(spec.LoadOptions{Paths: []string{path}, Environment: env})
	if diags.HasErrors() {
		t.Fatalf("load %s: %s", path, diags.Error())
	}
	return set
}

// renderAll renders a set to its files, concatenated with headers, and its
// HCL form: the whole observable output of render.
func renderAll(t testing.TB, set *spec.Set) []byte {
	t.Helper()
	b, err := Render(set, Options{Version: goldenVersion})
	if err != nil {
		t.Fatal(err)
	}
	files, err := b.Files(goldenVersion)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for _, f := range files {
		out.WriteString("=== " + f.Path + " ===\n")
		out.Write(f.Data)
	}
	out.WriteString("=== --format hcl ===\n")
	if err := b.WriteHCL(&out); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestGolden compares the full render of each case with its golden file;
// run `go test ./pkg/render -update` (make golden) after an intended change.
func TestGolden(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			got := renderAll(t, loadCase(t, c.path, c.env))
			golden := filepath.Join("testdata", c.name+".golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("render differs from %s at %s; run 'make golden' if the change is intended", golden, firstDifference(want, got))
			}
		})
	}
}

// TestDeterministic renders the same specs many times: map iteration order
// must never leak into the output.
func TestDeterministic(t *testing.T) {
	for _, c := range goldenCases {
		first := renderAll(t, loadCase(t, c.path, c.env))
		for i := 0; i < 10; i++ {
			if again := renderAll(t, loadCase(t, c.path, c.env)); !bytes.Equal(first, again) {
				t.Fatalf("%s: render %d differs at %s", c.name, i, firstDifference(first, again))
			}
		}
	}
}

func firstDifference(a, b []byte) string {
	line, col := 1, 1
	for i := 0; i < len(a) && i < len(b) && a[i] == b[i]; i++ {
		col++
		if a[i] == '\n' {
			line, col = line+1, 1
		}
	}
	return fmt.Sprintf("line %d, column %d", line, col)
}

// TestHCLFormCarriesEveryField reads the --format hcl rendering of every
// golden case back through Nomad's vocabulary and compares each group with
// the job it was printed from: a field the HCL form forgot (a typed block's
// or a nomad block's) fails here, offline. The integration suite makes the
// same comparison with Nomad's own parser.
func TestHCLFormCarriesEveryField(t *testing.T) {
	for _, c := range goldenCases {
		b, err := Render(loadCase(t, c.path, c.env), Options{Version: goldenVersion})
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range b.Jobs {
			t.Run(c.name+"/"+j.ID(), func(t *testing.T) {
				src := JobHCL(j.Readable())
				f, diags := hclsyntax.ParseConfig([]byte(src), j.ID()+".hcl", hcl.InitialPos)
				if diags.HasErrors() {
					t.Fatalf("the HCL form does not parse: %s\n%s", diags.Error(), src)
				}
				block := f.Body.(*hclsyntax.Body).Blocks[0]
				var got nomadapi.Job
				if diags := jobspec.Decode(block.Body, nil, &got, nil); diags.HasErrors() {
					t.Fatalf("job %s: %s", j.ID(), diags.Error())
				}
				got.ID, got.Name = &block.Labels[0], &block.Labels[0]
				want := *j.Readable()
				want.Name = want.ID
				// The scaling policy is Nomad's free-form map, printed by its
				// own writer; compare the rest.
				for _, g := range append(got.TaskGroups, want.TaskGroups...) {
					g.Scaling = nil
				}
				// As JSON: a driver's config holds []any where the job has
				// []string, and both mean the same job.
				if diff := cmp.Diff(asGeneric(t, &want), asGeneric(t, &got), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("the HCL form differs from the job (-job +hcl):\n%s", diff)
				}
			})
		}
	}
}

func asGeneric(t *testing.T, v any) any {
	t.Helper()
	out, err := jsonx.Generic(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

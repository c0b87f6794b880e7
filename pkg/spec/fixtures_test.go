package spec

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"

	"github.com/drover-io/drover/pkg/diag"
)

// annotationRe finds "ERROR: <Summary>" and "WARNING: <Summary>" markers in
// a line's comment; several markers on one line are separated by " | ".
var annotationRe = regexp.MustCompile(`(ERROR|WARNING): ([^|]+)`)

// readProject reads a fixture: a single .hcl file, or a directory whose
// files (drover.hcl among them) form one project.
func readProject(t *testing.T, path string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !info.IsDir() {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(path)] = data
		return files
	}
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(path, p)
		files[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// wantAnnotations collects "file:line: SEVERITY: Summary" from the markers.
func wantAnnotations(files map[string][]byte) []string {
	var out []string
	for name, data := range files {
		for i, line := range strings.Split(string(data), "\n") {
			_, comment, ok := strings.Cut(line, "#")
			if !ok {
				continue
			}
			for _, m := range annotationRe.FindAllStringSubmatch(comment, -1) {
				out = append(out, fmt.Sprintf("%s:%d: %s: %s", name, i+1, m[1], strings.TrimSpace(m[2])))
			}
		}
	}
	sort.Strings(out)
	return out
}

func gotAnnotations(t *testing.T, diags hcl.Diagnostics) []string {
	t.Helper()
	var out []string
	for _, d := range diags {
		sev := "ERROR"
		if d.Severity == hcl.DiagWarning {
			sev = "WARNING"
		}
		if d.Subject == nil {
			out = append(out, fmt.Sprintf("(no range): %s: %s: %s", sev, d.Summary, d.Detail))
			continue
		}
		out = append(out, fmt.Sprintf("%s:%d: %s: %s", d.Subject.Filename, d.Subject.Start.Line, sev, d.Summary))
	}
	sort.Strings(out)
	return out
}

// TestInvalidFixtures loads every project in testdata/invalid and compares
// the diagnostics, by file and line, with the # ERROR / # WARNING markers
// written on the offending lines (the Terraform parser-test scheme).
func TestInvalidFixtures(t *testing.T) {
	entries, err := os.ReadDir("testdata/invalid")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Run(strings.TrimSuffix(e.Name(), ".hcl"), func(t *testing.T) {
			files := readProject(t, filepath.Join("testdata/invalid", e.Name()))
			want := wantAnnotations(files)
			if len(want) == 0 {
				t.Fatal("fixture has no ERROR or WARNING markers")
			}
			_, diags := loadAllEnvironments(files)
			if diff := cmp.Diff(want, gotAnnotations(t, diags)); diff != "" {
				t.Errorf("diagnostics differ from the markers (-want +got):\n%s", diff)
			}
		})
	}
}

// TestValidFixtures: every project in testdata/valid loads with no
// diagnostics at all, in every environment.
func TestValidFixtures(t *testing.T) {
	entries, err := os.ReadDir("testdata/valid")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Run(strings.TrimSuffix(e.Name(), ".hcl"), func(t *testing.T) {
			files := readProject(t, filepath.Join("testdata/valid", e.Name()))
			_, diags := loadAllEnvironments(files)
			if got := gotAnnotations(t, diags); len(got) != 0 {
				t.Errorf("want no diagnostics, got:\n%s", strings.Join(got, "\n"))
			}
		})
	}
}

// loadAllEnvironments loads files for the base spec and every
// environment, as `drover validate` does.
func loadAllEnvironments(files map[string][]byte) ([]*Set, hcl.Diagnostics) {
	p := openFiles(files, VarInputs{})
	sets, diags := p.resolveAll()
	return sets, diag.Dedupe(append(p.diags, diags...))
}

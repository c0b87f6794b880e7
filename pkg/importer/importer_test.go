package importer

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drover-io/drover/pkg/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// literalSecrets are the secret values in the corpus: none may appear in
// a spec or a report.
var literalSecrets = []string{
	"correct-horse-battery-staple",
	"sk_live_4eC39HqLyjWDarjtT1zdp7dc",
	"s3cr3t-Pa55w0rd",
	"ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
}

// TestCorpusRoundTrip imports every job of the corpus (testdata/*.json,
// made from testdata/src/*.nomad.hcl with `nomad job run -output`) and
// checks the specs and the report against testdata/golden, that every
// field of the input is classified, that no secret value leaks, and that
// every job imported with nothing dropped renders back to itself.
func TestCorpusRoundTrip(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) < 12 {
		t.Fatalf("corpus: %v files, %v", len(files), err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			res := importFile(t, file)
			got := transcript(t, res)
			for _, s := range literalSecrets {
				if strings.Contains(got, s) {
					t.Errorf("secret value %q leaked into the specs or the report", s)
				}
			}
			for _, j := range res.Report.Jobs {
				for _, f := range j.Fields {
					if f.Reason == "not carried" {
						t.Errorf("field %s is not classified", f.Path)
					}
				}
				if j.Imported() && j.Count(ClassDropped) == 0 && j.RoundTrip != "equal" {
					t.Errorf("job %s: nothing dropped, yet the round trip differs:\n%s", j.Job, strings.Join(j.Differences, "\n"))
				}
				if j.Imported() && j.Count(ClassDropped) > 0 && j.RoundTrip == "equal" {
					t.Errorf("job %s: fields dropped, yet the round trip is equal", j.Job)
				}
			}
			golden := filepath.Join("testdata", "golden", name+".txt")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

func importFile(t *testing.T, file string) *Result {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	in, err := DecodeJSON(data, filepath.Base(file))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Import(in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// transcript is what the golden file holds: every spec written, the text
// report, the differences and the JSON report.
func transcript(t *testing.T, res *Result) string {
	var b bytes.Buffer
	for _, f := range res.Files {
		b.WriteString("=== " + f.Path + "\n")
		b.Write(f.Data)
	}
	b.WriteString("=== report\n")
	if err := res.Report.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if err := res.Report.WriteDifferences(&b); err != nil {
		t.Fatal(err)
	}
	b.WriteString("=== report.json\n")
	data, err := json.MarshalIndent(res.Report, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b.Write(data)
	b.WriteString("\n")
	return b.String()
}

// TestImportedSpecsValidate loads what the import of the whole corpus wrote
// as one project, as drover validate would.
func TestImportedSpecsValidate(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.json")
	var inputs []Input
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		in, err := DecodeJSON(data, filepath.Base(f))
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, in...)
	}
	res, err := Import(inputs, Options{Project: "corpus"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range res.Files {
		if err := os.WriteFile(filepath.Join(dir, f.Path), f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	set, diags := spec.Load(spec.LoadOptions{Paths: []string{dir}, WorkDir: dir})
	if diags.HasErrors() {
		t.Fatalf("the imported corpus does not validate:\n%s", diags.Error())
	}
	if len(set.Apps) < 15 {
		t.Errorf("%d apps imported from the corpus", len(set.Apps))
	}
	// Jobs of other datacenters than the first one's keep the project's.
	if s := res.Report.Summary; s.Imported < s.Jobs-2 {
		t.Errorf("summary: %+v", s)
	}
}

func TestDecodeJSONForms(t *testing.T) {
	job := `{"ID": "x", "TaskGroups": [{"Name": "g", "Tasks": [{"Name": "t", "Driver": "docker", "Config": {"image": "nginx:1.27"}}]}]}`
	for name, doc := range map[string]string{
		"wrapped":  `{"Job": ` + job + `}`,
		"bare":     job,
		"list":     `[` + job + `, {"Job": ` + job + `}]`,
		"sequence": job + "\n" + `{"Job": ` + job + `}`,
	} {
		in, err := DecodeJSON([]byte(doc), name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		want := 1
		if name == "list" || name == "sequence" {
			want = 2
		}
		if len(in) != want || *in[0].Job.ID != "x" {
			t.Errorf("%s: %d jobs", name, len(in))
		}
	}
	for _, bad := range []string{``, `{}`, `{"Job": {"ID": "x"}}`, `nope`} {
		if _, err := DecodeJSON([]byte(bad), "bad"); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

package diag

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

func TestWriterCompilerStyle(t *testing.T) {
	src := "app \"api\" {\n  colour = \"blue\"\n}\n"
	f, _ := hclsyntax.ParseConfig([]byte(src), "jobs/api.hcl", hcl.InitialPos)
	rng := hcl.Range{Filename: "jobs/api.hcl", Start: hcl.Pos{Line: 2, Column: 3, Byte: 14}, End: hcl.Pos{Line: 2, Column: 9, Byte: 20}}
	diags := hcl.Diagnostics{
		{Severity: hcl.DiagWarning, Summary: "Later", Detail: "Second.", Subject: &hcl.Range{Filename: "jobs/api.hcl", Start: hcl.Pos{Line: 3, Column: 1}, End: hcl.Pos{Line: 3, Column: 2}}},
		{Severity: hcl.DiagError, Summary: "Unsupported argument", Detail: "An argument named \"colour\" is not expected here.", Subject: &rng},
		{Severity: hcl.DiagError, Summary: "No range", Detail: "From a flag."},
	}
	var out bytes.Buffer
	if err := (Writer{Files: map[string]*hcl.File{"jobs/api.hcl": f}}).Write(&out, diags); err != nil {
		t.Fatal(err)
	}
	want := `error: No range
   From a flag.
jobs/api.hcl:2:3: error: Unsupported argument
   2 |   colour = "blue"
     |   ^^^^^^
   An argument named "colour" is not expected here.
jobs/api.hcl:3:1: warning: Later
   3 | }
     | ^
   Second.
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

func TestDedupeAndCounts(t *testing.T) {
	rng := &hcl.Range{Filename: "a.hcl", Start: hcl.Pos{Line: 1, Column: 1}}
	d := hcl.Diagnostics{
		{Severity: hcl.DiagError, Summary: "A", Subject: rng},
		{Severity: hcl.DiagError, Summary: "A", Subject: rng},
		{Severity: hcl.DiagWarning, Summary: "B"},
	}
	d = Dedupe(d)
	errs, warns := Counts(d)
	if len(d) != 2 || errs != 1 || warns != 1 {
		t.Errorf("got %d diagnostics, %d errors, %d warnings", len(d), errs, warns)
	}
}

func TestToJSON(t *testing.T) {
	out := ToJSON(hcl.Diagnostics{{Severity: hcl.DiagWarning, Summary: "S", Detail: "D",
		Subject: &hcl.Range{Filename: "f.hcl", Start: hcl.Pos{Line: 2, Column: 3, Byte: 10}, End: hcl.Pos{Line: 2, Column: 5, Byte: 12}}}})
	got, _ := json.Marshal(out)
	want := `[{"severity":"warning","summary":"S","detail":"D","range":{"filename":"f.hcl","start":{"line":2,"column":3,"byte":10},"end":{"line":2,"column":5,"byte":12}}}]`
	if string(got) != want {
		t.Errorf("got %s", got)
	}
	if got, _ := json.Marshal(ToJSON(nil)); string(got) != "[]" {
		t.Errorf("empty diagnostics must encode as [], got %s", got)
	}
}

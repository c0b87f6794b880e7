package diag

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

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

// TestWriterEscapesControlBytes: a raw ESC, BEL or NUL in a source line, a
// summary or a detail is printed escaped, so the output cannot drive the
// terminal.
func TestWriterEscapesControlBytes(t *testing.T) {
	src := "app \"x\" {\n  \x1b[2J\x07 = \"\xff\"\n}\n"
	f, _ := hclsyntax.ParseConfig([]byte(src), "a.hcl", hcl.InitialPos)
	rng := hcl.Range{Filename: "a.hcl", Start: hcl.Pos{Line: 2, Column: 3}, End: hcl.Pos{Line: 2, Column: 4}}
	diags := hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid character \x1b", Detail: "Bad \x00 byte.", Subject: &rng}}
	var out bytes.Buffer
	if err := (Writer{Files: map[string]*hcl.File{"a.hcl": f}}).Write(&out, diags); err != nil {
		t.Fatal(err)
	}
	want := `a.hcl:2:3: error: Invalid character \x1b
   2 |   \x1b[2J\x07 = "\xff"
     |   ^^^^
   Bad \x00 byte.
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

// TestExcerptCutsLongLines: a line wider than maxExcerptWidth is cut to a
// window that keeps the highlighted text, with ellipses where it was cut.
func TestExcerptCutsLongLines(t *testing.T) {
	long := strings.Repeat("a", 500) + "TARGET" + strings.Repeat("b", 500)
	cases := []struct {
		name       string
		line       string
		start, end int
		want       string // the highlighted text
		cutL, cutR bool
	}{
		{"middle", long, 501, 507, "TARGET", true, true},
		{"start", "TARGET" + long, 1, 7, "TARGET", false, true},
		{"end", long + "TARGET", 1007, 1013, "TARGET", true, false},
		{"short line untouched", "x = TARGET", 5, 11, "TARGET", false, false},
		{"highlight wider than the window", long, 1, 1007, strings.Repeat("a", 194), false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text, from, to := excerpt([]byte(c.line), c.start, c.end)
			if n := utf8.RuneCountInString(text); n > maxExcerptWidth {
				t.Errorf("excerpt is %d columns wide, want at most %d", n, maxExcerptWidth)
			}
			if got := text[from:to]; got != c.want {
				t.Errorf("highlight = %q, want %q", got, c.want)
			}
			if strings.HasPrefix(text, ellipsis) != c.cutL || strings.HasSuffix(text, ellipsis) != c.cutR {
				t.Errorf("ellipses: got %.10q...%.10q, want cut left %v, right %v", text, text[len(text)-10:], c.cutL, c.cutR)
			}
		})
	}
}

// TestWriterLimit: past the limit, the rest is one count line.
func TestWriterLimit(t *testing.T) {
	var diags hcl.Diagnostics
	for i := range 60 {
		sev := hcl.DiagError
		if i >= 58 {
			sev = hcl.DiagWarning
		}
		diags = append(diags, &hcl.Diagnostic{Severity: sev, Summary: "S", Subject: &hcl.Range{Filename: "a.hcl", Start: hcl.Pos{Line: i + 1, Column: 1}}})
	}
	cases := []struct {
		limit    int
		printed  int
		lastLine string
	}{
		{0, DefaultLimit, "... and 8 more errors and 2 more warnings"},
		{57, 57, "... and 1 more error and 2 more warnings"},
		{-1, 60, "a.hcl:60:1: warning: S"},
	}
	for _, c := range cases {
		var out bytes.Buffer
		if err := (Writer{Limit: c.limit}).Write(&out, diags); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if got := strings.Count(out.String(), ": S\n"); got != c.printed {
			t.Errorf("limit %d: printed %d diagnostics, want %d", c.limit, got, c.printed)
		}
		if got := lines[len(lines)-1]; got != c.lastLine {
			t.Errorf("limit %d: last line %q, want %q", c.limit, got, c.lastLine)
		}
	}
}

package scaling

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the trace copies in traces/")

// TestTraceFilesMatchBuiltins: traces/ holds CSV copies of the built-in
// traces, as starting points for users' own; they must stay what the
// built-ins are (-update rewrites them).
func TestTraceFilesMatchBuiltins(t *testing.T) {
	for _, name := range BuiltinTraces() {
		builtin, _ := BuiltinTrace(name)
		path := filepath.Join("..", "..", "traces", name+".csv")
		if *update {
			var b bytes.Buffer
			b.WriteString("# The built-in \"" + name + "\" trace of drover autoscale simulate (30 minutes,\n# load in metric units: 140 is two instances at a target of 70).\n")
			if err := WriteTrace(&b, builtin); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatalf("%v (go test ./pkg/scaling -run TraceFiles -update writes it)", err)
		}
		got, err := ParseTrace(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(builtin) {
			t.Fatalf("%s: %d rows, built-in has %d", name, len(got), len(builtin))
		}
		for i := range got {
			if got[i].At != builtin[i].At || math.Abs(got[i].Load-builtin[i].Load) > 0.005 {
				t.Fatalf("%s row %d: %v, built-in %v", name, i, got[i], builtin[i])
			}
		}
	}
}

func TestParseTraceErrors(t *testing.T) {
	for in, want := range map[string]string{
		"seconds,load\n0,1\n":           "at least two rows",
		"seconds,load\n0,1\n10,x\n":     `line 3: "10,x"`,
		"seconds,load\n0,1\n10\n":       "line 3: want seconds,load",
		"seconds,load\n0,1\n-5,2\n":     "must not be negative",
		"# c\nseconds,load\n0,1\n5,2\n": "",
	} {
		_, err := ParseTrace(strings.NewReader(in))
		if want == "" {
			if err != nil {
				t.Errorf("%q: %v", in, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", in, err, want)
		}
	}
	// Rows out of order are sorted.
	tr, err := ParseTrace(strings.NewReader("s,l\n10,2\n0,1\n"))
	if err != nil || tr[0].At != 0 || tr[1].At != 10*time.Second {
		t.Errorf("%v %v", tr, err)
	}
}

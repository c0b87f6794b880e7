package render

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var markerRe = regexp.MustCompile(`# ERROR: (.+)$`)

// TestNomadBlockDiagnostics: every problem in a nomad block is reported at
// its line, all of them, not the first: names outside Nomad's vocabulary,
// values of the wrong type, what drover owns, and a mesh app's network.
func TestNomadBlockDiagnostics(t *testing.T) {
	const path = "testdata/invalid/nomad.hcl"
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i, line := range strings.Split(string(src), "\n") {
		if m := markerRe.FindStringSubmatch(line); m != nil {
			for _, summary := range strings.Split(m[1], " | ERROR: ") {
				want = append(want, fmt.Sprintf("%d: %s", i+1, strings.TrimSpace(summary)))
			}
		}
	}
	_, err = Render(loadCase(t, path, ""), Options{})
	var de *DiagnosticsError
	if !errors.As(err, &de) {
		t.Fatalf("want a *DiagnosticsError, got %v", err)
	}
	var got []string
	for _, d := range de.Diags {
		got = append(got, fmt.Sprintf("%d: %s", d.Subject.Start.Line, d.Summary))
	}
	sort.Strings(want)
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diagnostics (-markers +got):\n%s", diff)
	}
}

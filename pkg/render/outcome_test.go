package render

import (
	"crypto/sha256"
	"slices"
	"sync"
	"testing"

	"github.com/drover-io/drover/pkg/spec"
)

// TestOutcomeMemoNamesWhatFinishWrote: the outcome memo of a render of
// the examples names every file Finish wrote, with its checksum and size,
// and none of the apps' own; ReplayOutcome asks for each, and gives the
// bundle's counts back. Cut or changed, a memo replays nothing.
func TestOutcomeMemoNamesWhatFinishWrote(t *testing.T) {
	var mu sync.Mutex
	written := map[string][sha256.Size]byte{}
	s := NewStream(Options{Version: "test"}, func(f File) error {
		mu.Lock()
		defer mu.Unlock()
		written[f.Path] = sha256.Sum256(f.Data)
		return nil
	})
	appFiles := map[string]bool{}
	var visitMu sync.Mutex
	sets, diags := spec.Stream(spec.StreamOptions{LoadOptions: spec.LoadOptions{Paths: []string{"../../jobs"}}, Visit: func(set *spec.Set, app *spec.App) {
		out := s.app(set, app)
		visitMu.Lock()
		defer visitMu.Unlock()
		for _, f := range []streamedFile{out.jobFile, out.policyFile, out.roleFile} {
			appFiles[f.path] = f.path != ""
		}
	}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	b, _, err := s.Finish(sets[0], "test")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for p := range written {
		if !appFiles[p] {
			want = append(want, p)
		}
	}
	slices.Sort(want)

	memo := s.OutcomeMemo()
	var asked []string
	s.SetIntact(func(p string, sum [sha256.Size]byte, size int) bool {
		asked = append(asked, p)
		return sum == written[p]
	})
	counts, ok := s.ReplayOutcome(memo)
	slices.Sort(asked)
	if !ok || counts != b.Counts() || !slices.Equal(asked, want) {
		t.Fatalf("replay: ok %t, counts %+v (bundle %+v), asked for %q, want %q", ok, counts, b.Counts(), asked, want)
	}
	for n := range len(memo) {
		if _, ok := s.ReplayOutcome(memo[:n]); ok {
			t.Fatalf("a memo cut to %d of %d bytes replayed", n, len(memo))
		}
	}
	s.SetIntact(func(p string, _ [sha256.Size]byte, _ int) bool { return p != want[len(want)/2] })
	if _, ok := s.ReplayOutcome(memo); ok {
		t.Fatalf("replayed with %s not intact", want[len(want)/2])
	}
}

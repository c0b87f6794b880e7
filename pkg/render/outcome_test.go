package render

import (
	"crypto/sha256"
	"slices"
	"sync"
	"testing"

	"github.com/drover-io/drover/pkg/spec"
)

// TestOutcomeMemoNamesWhatFinishWrote: the outcome memo of a render of
// the examples names every file Finish wrote and every file of the apps,
// with its checksum and size; ReplayOutcome asks for each of Finish's, and
// for the apps' only when their memos were not replayed, and gives the
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
	var finishes, all []string
	for p := range written {
		if !appFiles[p] {
			finishes = append(finishes, p)
		}
		all = append(all, p)
	}
	slices.Sort(finishes)
	slices.Sort(all)
	if len(finishes) == len(all) {
		t.Fatal("the apps wrote no files, so this test shows nothing")
	}

	memo := s.OutcomeMemo()
	var asked []string
	s.SetIntact(func(p string, sum [sha256.Size]byte, size int) bool {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, p)
		return sum == written[p]
	})
	for _, c := range []struct {
		apps bool
		want []string
	}{{false, finishes}, {true, all}} {
		asked = nil
		counts, ok := s.ReplayOutcome(memo, c.apps)
		slices.Sort(asked)
		if !ok || counts != b.Counts() || !slices.Equal(asked, c.want) {
			t.Fatalf("replay, apps %t: ok %t, counts %+v (bundle %+v), asked for %q, want %q", c.apps, ok, counts, b.Counts(), asked, c.want)
		}
	}
	for n := range len(memo) {
		if _, ok := s.ReplayOutcome(memo[:n], true); ok {
			t.Fatalf("a memo cut to %d of %d bytes replayed", n, len(memo))
		}
	}
	s.SetIntact(func(p string, _ [sha256.Size]byte, _ int) bool { return p != finishes[len(finishes)/2] })
	if _, ok := s.ReplayOutcome(memo, false); ok {
		t.Fatalf("replayed with %s not intact", finishes[len(finishes)/2])
	}
	var appFile string
	for p, ok := range appFiles {
		if ok {
			appFile = p
			break
		}
	}
	s.SetIntact(func(p string, _ [sha256.Size]byte, _ int) bool { return p != appFile })
	if _, ok := s.ReplayOutcome(memo, false); !ok {
		t.Fatalf("with the apps' memos replayed, %s (an app's) was asked for", appFile)
	}
	if _, ok := s.ReplayOutcome(memo, true); ok {
		t.Fatalf("replayed with %s (an app's) not intact, the apps' memos not replayed", appFile)
	}
}

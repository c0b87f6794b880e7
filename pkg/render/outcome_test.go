package render

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

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
		counts, paths, ok := s.ReplayOutcome(memo, c.apps)
		slices.Sort(asked)
		slices.Sort(paths)
		if !ok || counts != b.Counts() || !slices.Equal(asked, c.want) || !slices.Equal(paths, all) {
			t.Fatalf("replay, apps %t: ok %t, counts %+v (bundle %+v), asked for %q, want %q; paths %q, want %q", c.apps, ok, counts, b.Counts(), asked, c.want, paths, all)
		}
	}
	for n := range len(memo) {
		if _, _, ok := s.ReplayOutcome(memo[:n], true); ok {
			t.Fatalf("a memo cut to %d of %d bytes replayed", n, len(memo))
		}
	}
	s.SetIntact(func(p string, _ [sha256.Size]byte, _ int) bool { return p != finishes[len(finishes)/2] })
	if _, _, ok := s.ReplayOutcome(memo, false); ok {
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
	if _, _, ok := s.ReplayOutcome(memo, false); !ok {
		t.Fatalf("with the apps' memos replayed, %s (an app's) was asked for", appFile)
	}
	if _, _, ok := s.ReplayOutcome(memo, true); ok {
		t.Fatalf("replayed with %s (an app's) not intact, the apps' memos not replayed", appFile)
	}

	// With SetUnchanged, the manifest is checked against the memo's, and
	// then the other files by path and size alone, never by intact.
	s.SetIntact(func(p string, _ [sha256.Size]byte, _ int) bool {
		t.Errorf("intact asked for %s", p)
		return false
	})
	manifestStands, broken := true, ""
	s.SetUnchanged(func(sum [sha256.Size]byte, size int) bool {
		return manifestStands && sum == written[ManifestFileName]
	}, func(p string, size int) bool {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, p)
		return p != broken
	})
	asked = nil
	counts, paths, ok := s.ReplayOutcome(memo, true)
	slices.Sort(asked)
	slices.Sort(paths)
	others := slices.DeleteFunc(slices.Clone(all), func(p string) bool { return p == ManifestFileName })
	if !ok || counts != b.Counts() || !slices.Equal(asked, others) || !slices.Equal(paths, all) {
		t.Fatalf("replay by the manifest: ok %t, counts %+v, asked for %q, want %q; paths %q", ok, counts, asked, others, paths)
	}
	broken = others[len(others)/2]
	if _, _, ok := s.ReplayOutcome(memo, true); ok {
		t.Fatalf("replayed by the manifest with %s changed", broken)
	}
	broken, manifestStands = "", false
	if _, _, ok := s.ReplayOutcome(memo, true); ok {
		t.Fatal("replayed by a manifest that is not the memo's")
	}
}

// TestFinishTakesOverTheSetsArtifacts: a Stream offered the outcome memo
// of a Finish of the same Set (TakePrior) takes it when all that derives
// from the Set is intact: its Finish then writes none of it, needs of the
// Set the project alone, and gives the same bundle and manifest. With one
// of those files not intact, or a memo cut short, it does not take it,
// and Finish renders them all again.
func TestFinishTakesOverTheSetsArtifacts(t *testing.T) {
	sets, diags := spec.Stream(spec.StreamOptions{LoadOptions: spec.LoadOptions{Paths: []string{"../../jobs"}}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	set := sets[0]
	var full []*spec.App
	var fullMu sync.Mutex
	if _, diags := spec.Stream(spec.StreamOptions{LoadOptions: spec.LoadOptions{Paths: []string{"../../jobs"}}, Visit: func(_ *spec.Set, app *spec.App) {
		fullMu.Lock()
		defer fullMu.Unlock()
		full = append(full, app)
	}}); diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	type run struct {
		written  map[string][sha256.Size]byte
		bundle   *Bundle
		manifest Manifest
		stream   *Stream
	}
	finish := func(prior []byte, intact func(string) bool, taken bool) run {
		t.Helper()
		var mu sync.Mutex
		r := run{written: map[string][sha256.Size]byte{}}
		r.stream = NewStream(Options{Version: "test"}, func(f File) error {
			mu.Lock()
			defer mu.Unlock()
			r.written[f.Path] = sha256.Sum256(f.Data)
			return nil
		})
		r.stream.SetIntact(func(p string, _ [sha256.Size]byte, _ int) bool { return intact(p) })
		if got := r.stream.TakePrior(prior); got != taken {
			t.Fatalf("TakePrior: %t, want %t", got, taken)
		}
		for _, app := range full {
			r.stream.App(set, app)
		}
		finishing := set
		if taken {
			finishing = &spec.Set{Project: set.Project}
		}
		var err error
		if r.bundle, r.manifest, err = r.stream.Finish(finishing, "test"); err != nil {
			t.Fatal(err)
		}
		return r
	}
	first := finish(nil, func(string) bool { return false }, false)
	memo := first.stream.OutcomeMemo()
	var fromSet []string // the Set's artifacts' files
	for _, a := range first.stream.finished.set {
		fromSet = append(fromSet, a.file.path)
	}
	kinds := map[byte]bool{}
	for _, a := range first.stream.finished.set {
		switch {
		case a.job != nil:
			kinds[setJob] = true
		case a.entry != nil:
			kinds[setEntry] = true
		default:
			kinds[setRegistration] = true
		}
	}
	if len(kinds) != 3 {
		t.Fatalf("the examples' Set gives artifacts of %d kinds, not all three, so this test shows less than it should", len(kinds))
	}
	same := func(what string, r run) {
		t.Helper()
		if diff := cmp.Diff(first.manifest, r.manifest); diff != "" {
			t.Errorf("%s: manifest (-first +this):\n%s", what, diff)
		}
		if diff := cmp.Diff(bundleNames(first.bundle), bundleNames(r.bundle)); diff != "" {
			t.Errorf("%s: bundle (-first +this):\n%s", what, diff)
		}
	}

	taken := finish(memo, func(string) bool { return true }, true)
	same("taken over", taken)
	for _, p := range fromSet {
		if _, ok := taken.written[p]; ok {
			t.Errorf("taken over, yet %s was written", p)
		}
	}
	if diff := cmp.Diff(memo, taken.stream.OutcomeMemo()); diff != "" {
		t.Errorf("taken over, the outcome memo differs (-first +this):\n%s", diff)
	}

	damaged := fromSet[len(fromSet)/2]
	again := finish(memo, func(p string) bool { return p != damaged }, false)
	same("one not intact", again)
	for _, p := range fromSet {
		if again.written[p] != first.written[p] {
			t.Errorf("with %s not intact, %s was not rendered again", damaged, p)
		}
	}
	for n := 0; n < len(memo); n += max(1, len(memo)/150) {
		if cut := finish(memo[:n], func(string) bool { return true }, false); len(cut.written) != len(first.written) {
			t.Fatalf("a memo cut to %d of %d bytes was taken over", n, len(memo))
		}
	}
}

// bundleNames names every artifact of b, with its owner, in b's order.
func bundleNames(b *Bundle) []string {
	var names []string
	for _, j := range b.Jobs {
		names = append(names, fmt.Sprintf("job %s gateway %q preserve %t %+v", j.ID(), j.Gateway, j.PreserveCounts, j.Owner))
	}
	for _, ce := range b.ConfigEntries {
		names = append(names, fmt.Sprintf("%s %s nomad %t %+v", ce.Kind(), ce.Name(), ce.WrittenByNomad, ce.Owner))
	}
	for _, r := range b.Registrations {
		names = append(names, fmt.Sprintf("registration %s node %s %+v", r.Registration.Service.Service, r.Registration.Node, r.Owner))
	}
	for _, p := range b.VaultPolicies {
		names = append(names, fmt.Sprintf("policy %s %+v", p.Name, p.Owner))
	}
	for _, r := range b.VaultRoles {
		names = append(names, fmt.Sprintf("role %s %s %+v", r.Name, r.Mount, r.Owner))
	}
	return names
}

package spec

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/drover-io/drover/internal/testutil"
)

// outcomeRun is one Stream with Memo, Replay and an Outcome whose memo is
// "outcome": whether the outcome was offered and replayed.
type outcomeRun struct {
	offered, replayed bool
	// offers counts the offers, and apps holds the apps argument of
	// each; quick: replayed by the quick key.
	offers int
	apps   []bool
	quick  bool
	sets   []*Set
	// setsOffered: ReplaySets was offered a memo.
	setsOffered bool
	// edited: replayed without reading the files not selected; memos
	// counts the Memo calls (the visits) by app.
	edited bool
	memos  map[string]int
	images map[string]string // the image of each app visited
}

// streamOutcome streams opts (Index on, and key as MemoKey unless set)
// with memos that always replay, then keeps the outcome when there was
// none to replay; stands says whether a kept outcome still stands.
func streamOutcome(t *testing.T, opts StreamOptions, stands bool) outcomeRun {
	t.Helper()
	var run outcomeRun
	opts.Index = true
	if opts.MemoKey == "" {
		opts.MemoKey = "k"
	}
	var mu sync.Mutex
	run.memos, run.images = map[string]int{}, map[string]string{}
	opts.Memo = func(set *Set, app *App) ([]byte, bool) {
		mu.Lock()
		defer mu.Unlock()
		run.memos[app.Name]++
		run.images[app.Name] = app.Main.Image.V
		return []byte(app.Name), true
	}
	opts.Replay = func(set *Set, app *App, memo []byte) (func(), bool) { return func() {}, string(memo) == app.Name }
	opts.Outcome = &Outcome{ReplaySets: func([]byte) bool {
		run.setsOffered = true
		return false
	}, Replay: func(memo []byte, apps bool) bool {
		if string(memo) != "outcome" {
			t.Errorf("outcome offered: %q, want %q", memo, "outcome")
		}
		run.offered = true
		run.offers++
		run.apps = append(run.apps, apps)
		return stands
	}}
	var diags []*hcl.Diagnostic
	run.sets, diags = Stream(opts)
	run.replayed, run.quick, run.edited = opts.Outcome.Replayed(), opts.Outcome.quickReplayed, opts.Outcome.editReplayed
	if run.replayed && (run.sets != nil || diags != nil) {
		t.Errorf("replayed, yet Stream returned %d Sets and diagnostics %v", len(run.sets), diags)
	}
	if !run.replayed {
		opts.Outcome.Keep([]byte("outcome"))
	}
	return run
}

func outcomeProject(t *testing.T) string {
	return writeTree(t, map[string]string{
		// The apps do not read var.dc: only the project does.
		"drover.hcl": `project "p" {
  datacenters = [var.dc]
  environment "prod" {}
}
variable "dc" {
  default = "dc1"
}`,
		"a.hcl": `variable "tag" {
  default = "1"
}
app "a" {
  image = "r/a:${var.tag}"
}`,
		"b.hcl": `app "b" {
  image = "r/b:1"
}`,
		"c.hcl": `app "c" {
  image = "r/c:1"
}`,
	})
}

// TestOutcomeReplaysTheSameLoad: a load of the same inputs as one kept is
// offered its outcome, and returns no Set when it stands; the first load,
// and one whose outcome no longer stands, load as usual.
func TestOutcomeReplaysTheSameLoad(t *testing.T) {
	dir := outcomeProject(t)
	opts := StreamOptions{LoadOptions: LoadOptions{Paths: []string{"."}, WorkDir: dir}}
	if r := streamOutcome(t, opts, true); r.offered || r.replayed || len(r.sets) != 1 {
		t.Fatalf("first load: offered %t, replayed %t, %d sets", r.offered, r.replayed, len(r.sets))
	}
	if r := streamOutcome(t, opts, true); !r.offered || !r.replayed {
		t.Fatalf("the same load again: offered %t, replayed %t", r.offered, r.replayed)
	}
	r := streamOutcome(t, opts, false)
	if !r.offered || r.replayed || len(r.sets) != 1 || r.sets[0].App("a") == nil {
		t.Fatalf("an outcome that no longer stands: offered %t, replayed %t, sets %v", r.offered, r.replayed, r.sets)
	}
	// Without the index, nothing is offered nor kept.
	offered := false
	o := &Outcome{Replay: func([]byte, bool) bool { offered = true; return true }}
	if sets, _ := Stream(StreamOptions{LoadOptions: opts.LoadOptions, MemoKey: "k", Outcome: o}); offered || o.Replayed() || len(sets) != 1 {
		t.Fatalf("without Index: offered %t, replayed %t", offered, o.Replayed())
	}
}

// TestOutcomeKeyCoversEveryInput: a load whose files all come from the
// index, but which differs from the kept one in anything its Sets are
// made of, is not offered that outcome. Each case starts from a project
// whose load was kept, and is replayed as it is: by its key, then by its
// quick key (from the stats alone), which the change must tell as well.
func TestOutcomeKeyCoversEveryInput(t *testing.T) {
	// The kept load sets dc as well, so that the variable case differs in
	// the value only.
	all := func(dir string) StreamOptions {
		return StreamOptions{LoadOptions: LoadOptions{Paths: []string{"."}, WorkDir: dir, Inputs: VarInputs{Vars: []string{"dc=dc1"}}}, AllEnvironments: true}
	}
	t.Parallel() // waits out the racy window
	cases := []struct {
		what   string
		change func(t *testing.T, dir string) StreamOptions
	}{
		{"a project variable only drover.hcl reads", func(t *testing.T, dir string) StreamOptions {
			o := all(dir)
			o.Inputs = VarInputs{Vars: []string{"dc=dc2"}}
			return o
		}},
		{"a variable only a spec declares", func(t *testing.T, dir string) StreamOptions {
			o := all(dir)
			o.Inputs = VarInputs{Vars: []string{"dc=dc1", "tag=2"}}
			return o
		}},
		{"another selection", func(t *testing.T, dir string) StreamOptions {
			o := all(dir)
			o.Paths = []string{"a.hcl"}
			return o
		}},
		{"one environment of those loaded", func(t *testing.T, dir string) StreamOptions {
			o := all(dir)
			o.AllEnvironments, o.Environment = false, "prod"
			return o
		}},
		{"a spec removed", func(t *testing.T, dir string) StreamOptions {
			if err := os.Remove(filepath.Join(dir, "c.hcl")); err != nil {
				t.Fatal(err)
			}
			return all(dir)
		}},
		// (The memos and the index tell these two as well.)
		{"another caller", func(t *testing.T, dir string) StreamOptions {
			o := all(dir)
			o.MemoKey = "another"
			return o
		}},
		{"drover.hcl edited", func(t *testing.T, dir string) StreamOptions {
			f, err := os.OpenFile(filepath.Join(dir, ProjectFileName), os.O_APPEND|os.O_WRONLY, 0)
			if err == nil {
				_, err = f.WriteString("\n# edited\n")
				f.Close()
			}
			if err != nil {
				t.Fatal(err)
			}
			return all(dir)
		}},
	}
	// Every case's project is kept at once, then settles in the one wait.
	dirs := make([]string, len(cases))
	for i := range cases {
		dirs[i] = outcomeProject(t)
		streamOutcome(t, all(dirs[i]), true)
	}
	settle()
	for i, c := range cases {
		t.Run(c.what, func(t *testing.T) {
			dir := dirs[i]
			if r := streamOutcome(t, all(dir), true); !r.replayed {
				t.Fatal("the kept load itself was not replayed")
			}
			// ... and now from the stats alone: the change must tell
			// the quick key too.
			if r := streamOutcome(t, all(dir), true); !r.quick {
				t.Fatal("the kept load itself was not replayed by its quick key")
			}
			r := streamOutcome(t, c.change(t, dir), true)
			if r.offered {
				t.Errorf("offered the outcome of another load")
			}
			if r.setsOffered {
				t.Errorf("offered the memo of a load of other Sets")
			}
		})
	}
}

// settle waits until stats taken now are trusted (see indexEntry.racy).
func settle() { time.Sleep(indexRacyWindow + 100*time.Millisecond) }

// TestOutcomeReplaysFromTheStats: once a load whose files are all settled
// replays an outcome, the same load replays it from the stats alone; not
// while a file's stat is too recent to pin its bytes, and not once a file
// changed. An outcome that no longer stands is offered once.
func TestOutcomeReplaysFromTheStats(t *testing.T) {
	t.Parallel() // waits out the racy window
	dir := outcomeProject(t)
	opts := StreamOptions{LoadOptions: LoadOptions{Paths: []string{"a.hcl"}, WorkDir: dir}}
	streamOutcome(t, opts, true)
	if r := streamOutcome(t, opts, true); !r.replayed || r.quick {
		t.Fatalf("second load, its files just written: replayed %t, by the quick key %t; want replayed by its full key", r.replayed, r.quick)
	}
	quickKeys := func() int {
		n := 0
		for _, k := range readOutcomes(dir, sha256.Sum256(testutil.ReadFile(t, filepath.Join(dir, ProjectFileName)))) {
			if k.quick != ([sha256.Size]byte{}) {
				n++
			}
		}
		return n
	}
	if n := quickKeys(); n != 0 {
		t.Fatalf("%d quick keys recorded for files whose stats are too recent to trust", n)
	}
	settle()
	if r := streamOutcome(t, opts, true); !r.replayed || r.quick || !slices.Equal(r.apps, []bool{false}) {
		t.Fatalf("settled: replayed %t, by the quick key %t, offered with apps %v; want replayed by its full key, the apps' memos replayed", r.replayed, r.quick, r.apps)
	}
	if n := quickKeys(); n != 1 {
		t.Fatalf("%d quick keys recorded, want 1", n)
	}
	if r := streamOutcome(t, opts, true); !r.quick || !slices.Equal(r.apps, []bool{true}) {
		t.Fatalf("the same load again: by the quick key %t, offered with apps %v; want once, the apps' memos not replayed", r.quick, r.apps)
	}
	if r := streamOutcome(t, opts, false); r.replayed || r.offers != 1 || len(r.sets) != 1 {
		t.Fatalf("an outcome that no longer stands: replayed %t, offered %d times (want once), %d sets", r.replayed, r.offers, len(r.sets))
	}
	// Kept again, by a load whose files all came from the index: its quick
	// key goes with it.
	if r := streamOutcome(t, opts, true); !r.quick {
		t.Fatal("the outcome kept again was not replayed by the quick key")
	}
	other := StreamOptions{LoadOptions: LoadOptions{Paths: []string{"b.hcl"}, WorkDir: dir}}
	if r := streamOutcome(t, other, true); r.offered {
		t.Fatal("a load of b.hcl was offered the outcome of a load of a.hcl")
	}
	// b.hcl edited where its summaries do not tell: the same Sets, and a.hcl
	// replayed: the outcome stands, but not from the stats.
	if err := os.WriteFile(filepath.Join(dir, "b.hcl"), []byte("app \"b\" {\n  image = \"r/b:2\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := streamOutcome(t, opts, true); !r.replayed || r.quick || !slices.Equal(r.apps, []bool{false}) {
		t.Fatalf("after an edit of b.hcl's image: replayed %t, by the quick key %t, offered with apps %v; want replayed by its full key, the apps' memos replayed", r.replayed, r.quick, r.apps)
	}
	if err := os.WriteFile(filepath.Join(dir, "b.hcl"), []byte("app \"b\" {\n  image = \"r/b:2\"\n  port \"http\" {\n    to = 80\n  }\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := streamOutcome(t, opts, true); r.offered {
		t.Fatal("offered the outcome after b.hcl's summaries changed")
	}
}

// TestAnEditOfTheSelectedFileAloneReadsNoOther: once a load whose other
// files are settled kept or replayed an outcome, a load after an edit of
// the selected file alone reads that file and no other (replayEdited),
// and replays when the file's summaries are what they were. Its index
// entry is written again; every other entry stays as it was. After an
// edit the summaries tell, or a change to another file, the load goes on
// as usual, and visits the selected file once.
func TestAnEditOfTheSelectedFileAloneReadsNoOther(t *testing.T) {
	t.Parallel() // waits out the racy window
	dir := outcomeProject(t)
	opts := StreamOptions{LoadOptions: LoadOptions{Paths: []string{"a.hcl"}, WorkDir: dir}, AllEnvironments: true}
	write := func(name, src string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a := func(image string) string {
		return "variable \"tag\" {\n  default = \"1\"\n}\napp \"a\" {\n  image = \"" + image + "\"\n}\n"
	}
	streamOutcome(t, opts, true)
	settle()
	if r := streamOutcome(t, opts, true); !r.replayed || r.edited {
		t.Fatalf("settled: replayed %t, without the others %t; want replayed as usual", r.replayed, r.edited)
	}

	write("a.hcl", a("r/a:x${var.tag}"))
	r := streamOutcome(t, opts, true)
	if !r.replayed || !r.edited || !slices.Equal(r.apps, []bool{true}) || r.memos["a"] != 2 {
		t.Fatalf("after an edit of a.hcl's image: replayed %t, without the others %t, offered with apps %v, a visited %d times; want replayed without the others, visited in both environments",
			r.replayed, r.edited, r.apps, r.memos["a"])
	}
	// a.hcl's new entry was written, and the others' stand: a.hcl's memos
	// replay from the index, and b.hcl and c.hcl are still not read.
	if r := streamOutcome(t, opts, true); !r.replayed || !r.edited || !slices.Equal(r.apps, []bool{false}) || len(r.memos) != 0 {
		t.Fatalf("the same again: replayed %t, without the others %t, offered with apps %v, visits %v; want a.hcl's memos replayed from its new entry", r.replayed, r.edited, r.apps, r.memos)
	}
	ix := readIndexFile(dir, sha256.Sum256(testutil.ReadFile(t, filepath.Join(dir, ProjectFileName)))).decode()
	for _, name := range []string{"a.hcl", "b.hcl", "c.hcl"} {
		if e := ix.lookup(name); e == nil || e.hash != sha256.Sum256(testutil.ReadFile(t, filepath.Join(dir, name))) {
			t.Errorf("index entry of %s: %+v; want one of its bytes", name, e)
		}
	}

	// An edit the summaries tell: read with the others, visited once.
	write("a.hcl", a("r/a:y${var.tag}")+"app \"d\" {\n  image = \"r/d:1\"\n}\n")
	if r := streamOutcome(t, opts, true); r.offered || r.edited || len(r.sets) != 2 || len(r.sets[0].Apps) != 4 || r.memos["a"] != 2 || r.memos["d"] != 2 {
		t.Fatalf("after a new app: offered %t, without the others %t, %d Sets, visits %v; want 2 Sets of 4 apps, each new visit once an environment", r.offered, r.edited, len(r.sets), r.memos)
	}
	settle()
	streamOutcome(t, opts, true) // replayed, settled: others recorded
	// Another file changed: its stat no longer says it is as it was.
	write("a.hcl", a("r/a:z${var.tag}")+"app \"d\" {\n  image = \"r/d:1\"\n}\n")
	write("b.hcl", string(testutil.ReadFile(t, filepath.Join(dir, "b.hcl"))))
	if r := streamOutcome(t, opts, true); !r.replayed || r.edited || r.memos["a"] != 2 {
		t.Fatalf("after an edit of a.hcl and b.hcl written again: replayed %t, without the others %t, visits %v; want replayed as usual, a visited once an environment", r.replayed, r.edited, r.memos)
	}
}

// TestAnEditedFileThatNeedsTheOthersIsReadWithThem: a selected file whose
// variables depend on earlier files' declarations (an input sets one the
// project does not declare) cannot be read alone: it is read in the pass
// with the others, once.
func TestAnEditedFileThatNeedsTheOthersIsReadWithThem(t *testing.T) {
	t.Parallel() // waits out the racy window
	dir := outcomeProject(t)
	opts := StreamOptions{LoadOptions: LoadOptions{Paths: []string{"a.hcl"}, WorkDir: dir, Inputs: VarInputs{Vars: []string{"tag=2"}}}}
	streamOutcome(t, opts, true)
	settle()
	streamOutcome(t, opts, true)
	if err := os.WriteFile(filepath.Join(dir, "a.hcl"), []byte("variable \"tag\" {\n  default = \"1\"\n}\napp \"a\" {\n  image = \"r/a:v${var.tag}\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := streamOutcome(t, opts, true)
	if r.edited || r.memos["a"] != 1 {
		t.Fatalf("after an edit: without the others %t, a visited %d times; want read with the others, once", r.edited, r.memos["a"])
	}
	if r.images["a"] != "r/a:v2" {
		t.Fatalf("a visited with image %q; want the one the input gives", r.images["a"])
	}
}

// TestOutcomeOfALoadWithDiagnosticsIsNotKept: a warning is reported on
// every load, so such a load never replays.
func TestOutcomeOfALoadWithDiagnosticsIsNotKept(t *testing.T) {
	dir := outcomeProject(t)
	if err := os.WriteFile(filepath.Join(dir, "warned.hcl"), []byte(`app "warned" {
  image = "r/warned:1"
  env = {
    DB_PASSWORD = "hunter2-but-longer"
  }
}`), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := StreamOptions{LoadOptions: LoadOptions{Paths: []string{"."}, WorkDir: dir}}
	_, diags := Stream(opts)
	if len(diags) == 0 {
		t.Fatal("the fixture has no warning")
	}
	for i := range 3 {
		if r := streamOutcome(t, opts, true); r.offered {
			t.Fatalf("load %d: offered an outcome", i+1)
		}
	}
}

// TestOutcomeOfAScopedLoadBesideABrokenSpec: a load of one spec while
// another has errors warns that they were not checked, every time: it is
// never kept, though every file comes from the index.
func TestOutcomeOfAScopedLoadBesideABrokenSpec(t *testing.T) {
	dir := outcomeProject(t)
	if err := os.WriteFile(filepath.Join(dir, "broken.hcl"), []byte("app \"broken\" {\n  imagee = \"r/x:1\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	streamOutcome(t, StreamOptions{LoadOptions: LoadOptions{Paths: []string{"."}, WorkDir: dir}}, true) // indexes broken.hcl
	opts := StreamOptions{LoadOptions: LoadOptions{Paths: []string{"a.hcl"}, WorkDir: dir}}
	if _, diags := Stream(StreamOptions{LoadOptions: opts.LoadOptions, Index: true}); len(diags) != 1 || diags[0].Summary != "Other specs have errors" {
		t.Fatalf("the fixture's one-spec load reports %v", diags)
	}
	for i := range 3 {
		if r := streamOutcome(t, opts, true); r.offered {
			t.Fatalf("load %d: offered an outcome", i+1)
		}
	}
}

// TestOutcomesFileRoundTrip: the outcomes file reads back as written, its
// memos only when asked for, for the drover.hcl it was written for only;
// a damaged one reads as none, and a memo changed or gone as no memo.
// Writing it again removes the memos it no longer lists.
func TestOutcomesFileRoundTrip(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, IndexDir), 0o755); err != nil {
		t.Fatal(err)
	}
	ph := sha256.Sum256([]byte("project"))
	var kept []keptOutcome
	for _, c := range []struct {
		key, quick string
		memo       []byte
	}{{"a", "quick", []byte("first")}, {"b", "", []byte{}}, {"c", "", bytes.Repeat([]byte("large "), 10_000)}} {
		k := keptOutcome{key: sha256.Sum256([]byte(c.key)), memo: c.memo, sum: sha256.Sum256(c.memo), size: len(c.memo)}
		if c.quick != "" {
			k.quick = sha256.Sum256([]byte(c.quick))
		}
		kept = append(kept, k)
	}
	(&Outcome{root: root, project: ph}).writeOutcomes(slices.Clone(kept))
	read := readOutcomes(root, ph)
	if len(read) != len(kept) {
		t.Fatalf("read back %d outcomes, want %d", len(read), len(kept))
	}
	o := &Outcome{root: root, project: ph, kept: read}
	for i, k := range kept {
		if read[i].key != k.key || read[i].quick != k.quick || read[i].memo != nil {
			t.Errorf("outcome %d: read keys %x %x (memo read: %t), want %x %x", i, read[i].key, read[i].quick, read[i].memo != nil, k.key, k.quick)
		}
		if memo, ok := o.memoOf(i); !ok || !bytes.Equal(memo, k.memo) {
			t.Errorf("outcome %d: memo %q (%t), want %q", i, memo, ok, k.memo)
		}
	}
	if got := readOutcomes(root, sha256.Sum256([]byte("another project"))); got != nil {
		t.Fatalf("read for another drover.hcl: %v", got)
	}
	path := filepath.Join(root, IndexDir, outcomesFileName)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(data) {
		if err := os.WriteFile(path, data[:n], 0o600); err != nil {
			t.Fatal(err)
		}
		if got := readOutcomes(root, ph); got != nil {
			t.Fatalf("cut to %d of %d bytes: read %v", n, len(data), got)
		}
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	// A memo changed, and one gone, since the list was read.
	o = &Outcome{root: root, project: ph, kept: readOutcomes(root, ph)}
	if err := os.WriteFile(memoPath(root, kept[0].sum), []byte("fir5t"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(memoPath(root, kept[2].sum)); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 2} {
		if memo, ok := o.memoOf(i); ok {
			t.Errorf("memo %d changed or gone: read %q", i, memo)
		}
	}
	// Written again without the first: its memo goes, the second's stays.
	(&Outcome{root: root, project: ph}).writeOutcomes(kept[1:2])
	if _, err := os.Stat(memoPath(root, kept[0].sum)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the memo of an outcome no longer listed: %v", err)
	}
	if got := readOutcomes(root, ph); len(got) != 1 || got[0].key != kept[1].key {
		t.Errorf("written again with one outcome: read %v", got)
	}
	if _, err := os.Stat(memoPath(root, kept[1].sum)); err != nil {
		t.Errorf("the memo of the outcome listed: %v", err)
	}
	// A root without an index directory gets none.
	bare := t.TempDir()
	(&Outcome{root: bare, project: ph}).writeOutcomes(kept)
	if _, err := os.Stat(filepath.Join(bare, IndexDir)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("outcomes kept where there was no index directory: %v", err)
	}
}

// TestParsingIsCalledOnceAsASpecIsParsed: Parsing (render readies its
// encoders then) is called once on a load that parses specs, however
// many, and not at all on one that replays them all.
func TestParsingIsCalledOnceAsASpecIsParsed(t *testing.T) {
	dir := outcomeProject(t)
	var calls int
	opts := StreamOptions{LoadOptions: LoadOptions{Paths: []string{"."}, WorkDir: dir}, Parsing: func() { calls++ }}
	streamOutcome(t, opts, true)
	if calls != 1 {
		t.Errorf("first load, which parses three specs: Parsing called %d times, want once", calls)
	}
	calls = 0
	if r := streamOutcome(t, opts, true); !r.replayed || calls != 0 {
		t.Errorf("a replayed load: replayed %t, Parsing called %d times, want none", r.replayed, calls)
	}
	if err := os.WriteFile(filepath.Join(dir, "b.hcl"), []byte("app \"b\" {\n  image = \"r/b:2\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	calls = 0
	if streamOutcome(t, opts, true); calls != 1 {
		t.Errorf("after an edit of b.hcl: Parsing called %d times, want once", calls)
	}
}

// TestReplaySetsIsOfferedALoadOfTheSameSets: ReplaySets is offered what
// was kept after a load whose inputs were the same but for the selected
// files' memos and where in their files the summaries are (an edit to the
// image, and a line added above); not after an edit that the summaries
// tell (a port). When it stands, the Sets hold the project alone.
func TestReplaySetsIsOfferedALoadOfTheSameSets(t *testing.T) {
	dir := outcomeProject(t)
	visits := 0
	// load streams a.hcl, offered kept memos (stands: whether they stand),
	// keeps keep, and returns the memo offered.
	load := func(stands bool, keep string) (offered string, sets []*Set) {
		t.Helper()
		o := &Outcome{Replay: func([]byte, bool) bool { return true }, ReplaySets: func(memo []byte) bool {
			offered = string(memo)
			return stands
		}}
		opts := StreamOptions{LoadOptions: LoadOptions{Paths: []string{"a.hcl"}, WorkDir: dir}, AllEnvironments: true, Index: true, MemoKey: "k", Outcome: o,
			// A memo of its own for every visit: no load replays another.
			Memo: func(set *Set, app *App) ([]byte, bool) {
				visits++
				return fmt.Appendf(nil, "%s %d", app.Name, visits), true
			},
			Replay: func(set *Set, app *App, memo []byte) (func(), bool) { return nil, false }}
		sets, diags := Stream(opts)
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		if o.Replayed() || o.SetsReplayed() != (offered != "" && stands) {
			t.Fatalf("replayed %t, the Sets replayed %t", o.Replayed(), o.SetsReplayed())
		}
		o.Keep([]byte(keep))
		return offered, sets
	}
	edit := func(from, to string) {
		t.Helper()
		path := filepath.Join(dir, "a.hcl")
		src := string(testutil.ReadFile(t, path))
		if !strings.Contains(src, from) {
			t.Fatalf("no %q in a.hcl", from)
		}
		if err := os.WriteFile(path, []byte(strings.Replace(src, from, to, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if memo, _ := load(false, "first"); memo != "" {
		t.Fatalf("offered %q before anything was kept", memo)
	}

	edit(`app "a" {
  image = "r/a:${var.tag}"`, `# The image is another.
app "a" {
  image = "r/a:v${var.tag}"`)
	memo, sets := load(false, "second")
	if memo != "first" {
		t.Fatalf("after an edit the summaries do not tell: offered %q, want %q", memo, "first")
	}
	if len(sets) != 2 || len(sets[0].Apps) != 3 {
		t.Fatalf("not standing, yet %d Sets, the first with %d apps; want 2, with 3", len(sets), len(sets[0].Apps))
	}
	edit(`image = "r/a:v${var.tag}"`, `image = "r/a:w${var.tag}"`)
	memo, sets = load(true, "third")
	if memo != "second" {
		t.Fatalf("after another such edit: offered %q, want %q", memo, "second")
	}
	if len(sets) != 2 || sets[0].Project == nil || sets[0].Project.Name != "p" || len(sets[0].Apps) != 0 {
		t.Fatalf("standing, yet %d Sets, the first %+v; want 2, with the project alone", len(sets), sets[0])
	}

	edit(`image = "r/a:w${var.tag}"`, `image = "r/a:w${var.tag}"
  port "http" {
    to = 8080
  }`)
	if memo, _ := load(true, "fourth"); memo != "" {
		t.Fatalf("after an edit the summaries tell (a port), offered %q", memo)
	}
}

package spec

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
)

// memoRun is one Stream with Memo and Replay, counting what each did.
type memoRun struct {
	memos, replays map[string]int
	sets           []*Set
	diags          hcl.Diagnostics
}

func streamMemo(t *testing.T, dir, key string, in VarInputs, refuse map[string]bool, paths ...string) memoRun {
	t.Helper()
	var mu sync.Mutex
	run := memoRun{memos: map[string]int{}, replays: map[string]int{}}
	run.sets, run.diags = Stream(StreamOptions{LoadOptions: LoadOptions{Paths: paths, WorkDir: dir, Inputs: in}, AllEnvironments: true, Index: true, MemoKey: key,
		Memo: func(set *Set, app *App) ([]byte, bool) {
			mu.Lock()
			defer mu.Unlock()
			run.memos[app.Name]++
			return []byte("memo of " + app.Name + " in " + set.Environment), true
		},
		Replay: func(set *Set, app *App, memo []byte) (func(), bool) {
			if refuse[app.Name] {
				return nil, false
			}
			if want := "memo of " + app.Name + " in " + set.Environment; string(memo) != want {
				t.Errorf("replay of %s: memo %q, want %q", app.Name, memo, want)
			}
			return func() {
				mu.Lock()
				defer mu.Unlock()
				run.replays[app.Name]++
			}, true
		}})
	return run
}

// TestMemoReplaysUnchangedCleanFiles: a selected file unchanged since its
// apps were visited, with no problem, is replayed from its memos instead
// of being read; a changed file, a file with a warning, another memo key,
// a new variable value or a refused replay makes the file read and
// visited again, all its apps at once.
func TestMemoReplaysUnchangedCleanFiles(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"drover.hcl": `project "p" {
  environment "prod" {}
}
variable "tag" {
  default = "1"
}`,
		"pair.hcl": `app "api" {
  image = "r/api:${var.tag}"
}
app "worker" {
  image = "r/worker:1"
}`,
		"web.hcl": `app "web" {
  image = "r/web:1"
}`,
		"warned.hcl": `app "warned" {
  image = "r/warned:1"
  env = {
    DB_PASSWORD = "hunter2-but-longer"
  }
}`,
	})
	both := map[string]int{"api": 2, "worker": 2, "web": 2, "warned": 2} // base and prod
	first := streamMemo(t, dir, "k", VarInputs{}, nil, ".")
	if diff := cmp.Diff(both, first.memos); diff != "" {
		t.Fatalf("first run: memos (-want +got):\n%s", diff)
	}
	again := streamMemo(t, dir, "k", VarInputs{}, nil, ".")
	if diff := cmp.Diff(map[string]int{"warned": 2}, again.memos); diff != "" {
		t.Errorf("unchanged: visited again (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"api": 2, "worker": 2, "web": 2}, again.replays); diff != "" {
		t.Errorf("unchanged: replayed (-want +got):\n%s", diff)
	}
	// A replayed file still counts in the checks across files and keeps
	// its diagnostics out: the warning is warned's own, reported again.
	if got := diagSummaries(again.diags); !cmp.Equal(got, diagSummaries(first.diags)) || again.sets[0].App("api") == nil {
		t.Errorf("unchanged: diagnostics %v (first run %v), apps %v", got, diagSummaries(first.diags), again.sets[0].Apps)
	}

	// Another caller's key: its own memos, none of the first's replayed.
	other := streamMemo(t, dir, "other", VarInputs{}, nil, ".")
	if len(other.replays) != 0 || other.memos["web"] != 2 {
		t.Errorf("another key: replays %v, memos %v", other.replays, other.memos)
	}
	// ... and both keys' memos are kept.
	if r := streamMemo(t, dir, "k", VarInputs{}, nil, "."); r.replays["web"] != 2 {
		t.Errorf("the first key's memos did not survive another key's run: %v", r.replays)
	}

	// A variable the file reads, set on the command line: read again.
	r := streamMemo(t, dir, "k", VarInputs{Vars: []string{"tag=2"}}, nil, ".")
	if r.memos["api"] != 2 || r.memos["worker"] != 2 || r.replays["web"] != 2 {
		t.Errorf("-var tag=2: memos %v, replays %v", r.memos, r.replays)
	}

	// A refused replay of one app reads its whole file again.
	streamMemo(t, dir, "k", VarInputs{}, nil, ".") // memos for the default tag again
	r = streamMemo(t, dir, "k", VarInputs{}, map[string]bool{"worker": true}, ".")
	if r.memos["api"] != 2 || r.memos["worker"] != 2 || r.replays["api"] != 0 || r.replays["web"] != 2 {
		t.Errorf("refused replay of worker: memos %v, replays %v", r.memos, r.replays)
	}

	// A changed file is read again, the others replayed.
	web := filepath.Join(dir, "web.hcl")
	src, _ := os.ReadFile(web)
	if err := os.WriteFile(web, []byte(strings.Replace(string(src), "r/web:1", "r/web:2", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	r = streamMemo(t, dir, "k", VarInputs{}, nil, ".")
	if r.memos["web"] != 2 || r.replays["web"] != 0 || r.replays["api"] != 2 {
		t.Errorf("after editing web.hcl: memos %v, replays %v", r.memos, r.replays)
	}
}

// TestMemoFailedVisitIsNotReplayed: a Memo that reports a problem (a
// render that failed) keeps the file from being replayed.
func TestMemoFailedVisitIsNotReplayed(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"drover.hcl": `project "p" {}`,
		"a.hcl":      `app "a" { image = "r/a:1" }`,
	})
	stream := func() (memos, replays int) {
		Stream(StreamOptions{LoadOptions: LoadOptions{Paths: []string{"."}, WorkDir: dir}, Index: true, MemoKey: "k",
			Memo:   func(*Set, *App) ([]byte, bool) { memos++; return nil, false },
			Replay: func(*Set, *App, []byte) (func(), bool) { replays++; return func() {}, true }})
		return memos, replays
	}
	stream()
	if m, r := stream(); m != 1 || r != 0 {
		t.Errorf("after a failed visit: %d visits, %d replays; want 1, 0", m, r)
	}
}

func diagSummaries(d hcl.Diagnostics) []string {
	var out []string
	for _, one := range d {
		out = append(out, one.Summary)
	}
	return out
}

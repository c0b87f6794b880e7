package devenv

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

const allocID = "2c7580dd-a438-43c9-3475-c5aebc9033b0"

func TestAllocDirs(t *testing.T) {
	tmp := t.TempDir()
	for _, d := range []string{
		"NomadClient123/" + allocID + "/t/secrets",
		"NomadClient123/not-an-alloc",
		"nomad-keystore42",
		"other/" + "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
	} {
		if err := os.MkdirAll(filepath.Join(tmp, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if got := allocDirs(tmp); !slices.Equal(got, []string{allocID}) {
		t.Errorf("allocDirs = %v, want [%s]", got, allocID)
	}
	if got := allocDirs(""); got != nil {
		t.Errorf("allocDirs without a TMPDIR = %v", got)
	}
}

func TestPruneEmptyDirsKeepsFiles(t *testing.T) {
	root := filepath.Join(t.TempDir(), "tmp")
	for _, d := range []string{"a/NomadClient1", "a/nomad-keystore1/x/y", "b/NomadClient2/alloc"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	keep := filepath.Join(root, "b/NomadClient2/alloc/file")
	if err := os.WriteFile(keep, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	pruneEmptyDirs(root)
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("a file was removed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "a")); !os.IsNotExist(err) {
		t.Errorf("empty tree a/ kept: %v", err)
	}
	pruneEmptyDirs(filepath.Join(root, "b/NomadClient2/alloc")) // not empty: stays
	os.Remove(keep)
	pruneEmptyDirs(root)
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("root kept once empty: %v", err)
	}
}

// fakeNomadAllocs serves /v1/allocations with the given body.
func fakeNomadAllocs(t *testing.T, body func() string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/allocations" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, body())
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestWaitAllocTeardown(t *testing.T) {
	log := slog.New(slog.DiscardHandler)

	t.Run("purged allocation: waits for its directory to go", func(t *testing.T) {
		tmp := t.TempDir()
		dir := filepath.Join(tmp, "NomadClient1", allocID)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		addr := fakeNomadAllocs(t, func() string { return `[]` }) // the servers forgot it
		go func() {
			time.Sleep(300 * time.Millisecond)
			os.RemoveAll(dir)
		}()
		start := time.Now()
		waitAllocTeardown(t.Context(), log, addr, tmp, 10*time.Second)
		if d := time.Since(start); d < 300*time.Millisecond || d > 5*time.Second {
			t.Errorf("returned after %v, want just after the directory went", d)
		}
	})

	t.Run("stopping allocation: waits until it is terminal", func(t *testing.T) {
		start := time.Now()
		addr := fakeNomadAllocs(t, func() string {
			if time.Since(start) < 300*time.Millisecond {
				return `[{"ID":"a","DesiredStatus":"stop","ClientStatus":"running"},{"ID":"b","DesiredStatus":"run","ClientStatus":"running"}]`
			}
			return `[{"ID":"a","DesiredStatus":"stop","ClientStatus":"complete"},{"ID":"b","DesiredStatus":"run","ClientStatus":"running"}]`
		})
		waitAllocTeardown(t.Context(), log, addr, "", 10*time.Second)
		if d := time.Since(start); d < 300*time.Millisecond || d > 5*time.Second {
			t.Errorf("returned after %v", d)
		}
	})

	t.Run("running allocations of known jobs: no wait", func(t *testing.T) {
		tmp := t.TempDir()
		if err := os.MkdirAll(filepath.Join(tmp, "NomadClient1", allocID), 0o700); err != nil {
			t.Fatal(err)
		}
		addr := fakeNomadAllocs(t, func() string { return `[{"ID":"` + allocID + `","DesiredStatus":"run","ClientStatus":"running"}]` })
		start := time.Now()
		waitAllocTeardown(t.Context(), log, addr, tmp, 10*time.Second)
		if d := time.Since(start); d > time.Second {
			t.Errorf("waited %v", d)
		}
	})

	t.Run("bounded", func(t *testing.T) {
		tmp := t.TempDir()
		if err := os.MkdirAll(filepath.Join(tmp, "NomadClient1", allocID), 0o700); err != nil {
			t.Fatal(err)
		}
		addr := fakeNomadAllocs(t, func() string { return `[]` })
		start := time.Now()
		waitAllocTeardown(t.Context(), log, addr, tmp, 500*time.Millisecond)
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("waited %v, bound 500ms", d)
		}
	})

	t.Run("nomad not answering: no wait", func(t *testing.T) {
		start := time.Now()
		waitAllocTeardown(t.Context(), log, "http://127.0.0.1:1", t.TempDir(), 10*time.Second)
		if d := time.Since(start); d > time.Second {
			t.Errorf("waited %v", d)
		}
	})
}

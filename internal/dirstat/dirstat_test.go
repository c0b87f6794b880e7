package dirstat

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// want is what os.Stat says of path.
func want(t *testing.T, path string) Stat {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return Stat{Size: info.Size(), Mtime: info.ModTime().UnixNano(), Regular: info.Mode().IsRegular()}
}

// comparable drops what os.Stat does not show portably.
func comparable(s Stat) Stat { s.Ctime, s.Ino = 0, 0; return s }

func TestDirsStatIsOSStat(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "manifest.json"), "{}")
	write(t, filepath.Join(root, "nomad", "jobs", "a.json"), "aaaa")
	write(t, filepath.Join(root, "nomad", "jobs", "b.json"), "bbbbbbbb")
	write(t, filepath.Join(root, "consul", "service-defaults", "a.json"), "c")
	if err := os.Symlink("a.json", filepath.Join(root, "nomad", "jobs", "link.json")); err != nil {
		t.Fatal(err)
	}
	d := NewDirs(root)
	defer d.Close()
	for _, rel := range []string{"manifest.json", "nomad/jobs/a.json", "nomad/jobs/b.json", "consul/service-defaults/a.json", "nomad/jobs/link.json", "nomad"} {
		got, err := d.Stat(filepath.FromSlash(rel))
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		if w := want(t, filepath.Join(root, filepath.FromSlash(rel))); comparable(got) != w {
			t.Errorf("%s: %+v, os.Stat says %+v", rel, got, w)
		}
	}
	if runtime.GOOS == "linux" {
		if a, _ := d.Stat(filepath.FromSlash("nomad/jobs/a.json")); a.Ino == 0 || a.Ctime == 0 {
			t.Errorf("no inode or change time on Linux: %+v", a)
		}
	}
}

// A Dirs holds directories open, never stats: a file replaced after the
// first stat is seen as it is now, and a directory missing at first is
// found once it exists.
func TestDirsSeeChanges(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, "jobs", "a.json")
	write(t, path, "a")
	d := NewDirs(root)
	defer d.Close()
	rel := filepath.Join("jobs", "a.json")
	before, err := d.Stat(rel)
	if err != nil {
		t.Fatal(err)
	}
	write(t, path+".new", "replaced")
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
	after, err := d.Stat(rel)
	if err != nil {
		t.Fatal(err)
	}
	if after.Size != int64(len("replaced")) || runtime.GOOS == "linux" && after.Ino == before.Ino {
		t.Errorf("after a replace: %+v, before %+v", after, before)
	}

	late := filepath.Join("later", "b.json")
	if _, err := d.Stat(late); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a file in a missing directory: %v, want not exist", err)
	}
	write(t, filepath.Join(root, late), "b")
	if s, err := d.Stat(late); err != nil || s.Size != 1 {
		t.Errorf("once the directory exists: %+v, %v", s, err)
	}
}

func TestDirsErrorsNameTheFullPath(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "jobs", "a.json"), "a")
	d := NewDirs(root)
	defer d.Close()
	for _, rel := range []string{filepath.Join("jobs", "missing.json"), filepath.Join("jobs", "a.json", "below")} {
		_, err := d.Stat(rel)
		_, osErr := os.Stat(filepath.Join(root, rel))
		var pe *fs.PathError
		if !errors.As(err, &pe) || pe.Path != filepath.Join(root, rel) || !errors.Is(err, errors.Unwrap(osErr)) {
			t.Errorf("%s: %v; os.Stat says %v", rel, err, osErr)
		}
	}
}

// BenchmarkStat stats the files of a render's layout (three directories
// of 500) through Dirs, beside os.Stat of their full paths: the floor
// Dirs replaced.
func BenchmarkStat(b *testing.B) {
	root := b.TempDir()
	var rels []string
	for _, dir := range []string{"nomad", filepath.Join("consul", "service-defaults"), filepath.Join("vault", "role")} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			b.Fatal(err)
		}
		for i := range 500 {
			rel := filepath.Join(dir, fmt.Sprintf("svc-%04d.json", i))
			if err := os.WriteFile(filepath.Join(root, rel), []byte("{}"), 0o644); err != nil {
				b.Fatal(err)
			}
			rels = append(rels, rel)
		}
	}
	b.Run("os.Stat", func(b *testing.B) {
		for b.Loop() {
			for _, rel := range rels {
				if _, err := os.Stat(filepath.Join(root, rel)); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("Dirs", func(b *testing.B) {
		d := NewDirs(root)
		defer d.Close()
		for b.Loop() {
			for _, rel := range rels {
				if _, err := d.Stat(rel); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

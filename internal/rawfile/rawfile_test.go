package rawfile

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/drover-io/drover/internal/testutil"
)

// TestReadFileIsOSReadFile: the same bytes and the same errors as
// os.ReadFile, for files whose stat tells their size, files it does not
// (/proc), a directory and a missing file.
func TestReadFileIsOSReadFile(t *testing.T) {
	dir := t.TempDir()
	paths := []string{filepath.Join(dir, "missing"), dir}
	for _, size := range []int{0, 1, 511, 512, 513, 100_000, 3 << 20} {
		p := filepath.Join(dir, strconv.Itoa(size))
		if err := os.WriteFile(p, bytes.Repeat([]byte("drover\n"), size/7+1)[:size], 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	if runtime.GOOS == "linux" {
		paths = append(paths, "/proc/self/cmdline") // stat says 0 bytes
	}
	for _, p := range paths {
		want, wantErr := os.ReadFile(p)
		got, err := ReadFile(p)
		if !bytes.Equal(got, want) || errString(err) != errString(wantErr) {
			t.Errorf("ReadFile(%s) = %d bytes, %v; os.ReadFile: %d bytes, %v", p, len(got), err, len(want), wantErr)
		}
	}
	if _, err := ReadFile(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: %v, not fs.ErrNotExist", err)
	}
}

// TestReadFullFillsOrEnds: ReadFull reads the whole file when the buffer
// has room, and stops at a full buffer when not.
func TestReadFullFillsOrEnds(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	data := bytes.Repeat([]byte("0123456789"), 10_000)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(data)+1)
	if n, err := ReadFull(p, buf); err != nil || n != len(data) || !bytes.Equal(buf[:n], data) {
		t.Errorf("room for all: read %d bytes, %v; want %d", n, err, len(data))
	}
	if n, err := ReadFull(p, buf[:100]); err != nil || n != 100 || !bytes.Equal(buf[:n], data[:100]) {
		t.Errorf("room for 100: read %d bytes, %v", n, err)
	}
	if _, err := ReadFull(p+".missing", buf); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
}

// TestWriteFileIsOSWriteFile: the same file (bytes and mode) as
// os.WriteFile writes, a longer file truncated, and the same error where
// the directory is missing.
func TestWriteFileIsOSWriteFile(t *testing.T) {
	dir := t.TempDir()
	data := bytes.Repeat([]byte("x"), 1<<20+3)
	for _, perm := range []os.FileMode{0o644, 0o600} {
		mine, theirs := filepath.Join(dir, "mine"+perm.String()), filepath.Join(dir, "os"+perm.String())
		if err := os.WriteFile(mine, append(data, data...), 0o644); err != nil { // longer, to truncate
			t.Fatal(err)
		}
		if err := os.Remove(mine); err != nil {
			t.Fatal(err)
		}
		if err := WriteFile(mine, data, perm); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(theirs, data, perm); err != nil {
			t.Fatal(err)
		}
		a, b := testutil.Stat(t, mine), testutil.Stat(t, theirs)
		if a.Mode() != b.Mode() || !bytes.Equal(testutil.ReadFile(t, mine), data) {
			t.Errorf("perm %v: wrote mode %v, %d bytes; os.WriteFile: mode %v", perm, a.Mode(), a.Size(), b.Mode())
		}
	}
	long := filepath.Join(dir, "long")
	if err := os.WriteFile(long, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(long, []byte("short"), 0o644); err != nil || string(testutil.ReadFile(t, long)) != "short" {
		t.Errorf("over a longer file: %v, %q", err, testutil.ReadFile(t, long))
	}
	missing := filepath.Join(dir, "no", "such")
	if err, want := WriteFile(missing, data, 0o644), os.WriteFile(missing, data, 0o644); errString(err) != errString(want) {
		t.Errorf("into a missing directory: %v; os.WriteFile: %v", err, want)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// BenchmarkWriteFile writes a small file (a config entry's size) through
// os.WriteFile and through WriteFile, side by side; compare ns/op.
func BenchmarkWriteFile(b *testing.B) {
	data := bytes.Repeat([]byte("{\"Kind\": \"service-defaults\"}\n"), 20)
	dir := b.TempDir()
	for _, c := range []struct {
		name  string
		write func(string, []byte, os.FileMode) error
	}{{"os", os.WriteFile}, {"rawfile", WriteFile}} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				if err := c.write(filepath.Join(dir, c.name+strconv.Itoa(i%1000)), data, 0o644); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReadFile reads a small file (a spec's size) through os.ReadFile
// and through ReadFile, side by side; compare ns/op.
func BenchmarkReadFile(b *testing.B) {
	p := filepath.Join(b.TempDir(), "spec.hcl")
	if err := os.WriteFile(p, bytes.Repeat([]byte("app \"api\" {}\n"), 80), 0o644); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		read func(string) ([]byte, error)
	}{{"os", os.ReadFile}, {"rawfile", ReadFile}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := c.read(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package spec

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/drover-io/drover/internal/parallel"
)

// ErrNoProject means that no drover.hcl was found at or above a directory.
var ErrNoProject = errors.New("no " + ProjectFileName + " found")

// FindRoot returns the project root for dir: the nearest directory at or
// above dir that holds drover.hcl, looking no higher than the root of a
// repository (a directory holding .git). Without one the error wraps
// ErrNoProject. Commands given no path use it to find their project from
// any directory inside it.
func FindRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(abs); err != nil {
		return "", unwrapPathError(err)
	}
	if root, ok := projectRootAbove(abs); ok {
		return root, nil
	}
	return "", fmt.Errorf("%w in %s or above it", ErrNoProject, abs)
}

// projectRootAbove walks up from start, a file or directory, to the nearest
// directory holding drover.hcl, stopping at a repository root (.git).
func projectRootAbove(start string) (string, bool) {
	if info, err := os.Stat(start); err == nil && !info.IsDir() {
		start = filepath.Dir(start)
	}
	for dir := start; ; {
		if _, err := os.Stat(filepath.Join(dir, ProjectFileName)); err == nil {
			return dir, true
		}
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			return "", false
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// findRoot finds the project root of the given paths (see FindRoot).
// Without a project, the root is the deepest directory holding all the
// paths.
func findRoot(abs []string) (string, bool) {
	if root, ok := projectRootAbove(abs[0]); ok {
		return root, true
	}
	common := abs[0]
	if info, err := os.Stat(common); err == nil && !info.IsDir() {
		common = filepath.Dir(common)
	}
	for _, a := range abs[1:] {
		for !strings.HasPrefix(a+string(filepath.Separator), common+string(filepath.Separator)) {
			common = filepath.Dir(common)
		}
	}
	return common, false
}

// discover lists the spec files at path: the file itself, or every *.hcl
// below a directory except drover.hcl, variable files (*.vars.hcl) and other
// tools' HCL (*.nomad.hcl, *.pkr.hcl). It skips hidden directories,
// testdata, node_modules and render output (see isRenderOutput).
//
// Symlinked directories are followed after the real tree, so that a file
// reachable both ways loads once, under its real path; each directory is
// walked once. A link to a directory that contains it is a loop: it is
// reported as a warning and not followed.
//
// With stat, each file found is also stated (see fileStat) while its
// directory is open: relative to the directory, which spares the kernel a
// walk of the whole path for every file of a large project.
func discover(path string, display func(string) string, stat bool) ([]foundFile, hcl.Diagnostics) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, nil
	}
	if !info.IsDir() {
		f := foundFile{path: path}
		if stat {
			f.stat, _ = statFile(path)
		}
		return []foundFile{f}, nil
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, nil
	}
	w := &walker{visited: map[string]bool{}, stat: stat}
	w.dir(path, real)
	for len(w.links) > 0 {
		l := w.links[0]
		w.links = w.links[1:]
		target, err := filepath.EvalSymlinks(l.path)
		switch {
		case err != nil || w.visited[target] && !contains(target, l.parent):
		case contains(target, l.parent):
			w.diags = append(w.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Symlink loop",
				Detail: fmt.Sprintf("%s links to %s, a directory that contains the link, so following it would never end. It is not followed.", display(l.path), display(target))})
		default:
			w.dir(l.path, target)
		}
	}
	return w.files, w.diags
}

// foundFile is a spec file discover found, and its stat when asked for
// (zero when it could not be had).
type foundFile struct {
	path string
	stat fileStat
}

// walker collects spec files for discover.
type walker struct {
	stat  bool
	files []foundFile
	// visited holds the real path of every directory walked.
	visited map[string]bool
	// links are the symlinked directories still to follow.
	links []symlinkedDir
	diags hcl.Diagnostics
}

type symlinkedDir struct {
	path   string // the link, as the walk reached it
	parent string // real path of the directory holding the link
}

// dir walks the directory at path, whose real path is real.
func (w *walker) dir(path, real string) {
	if w.visited[real] {
		return
	}
	w.visited[real] = true
	d, err := os.Open(path)
	if err != nil {
		return
	}
	entries, err := d.ReadDir(-1)
	if err != nil {
		d.Close()
		return
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	// This directory's spec files first, stated while it is open; then its
	// directories, in order.
	type subdir struct {
		name string
		link bool
	}
	var dirs []subdir
	files := len(w.files)
	w.files = slices.Grow(w.files, len(entries)) // room for as many spec files
	for _, e := range entries {
		name, isDir, isLink := e.Name(), e.IsDir(), e.Type()&fs.ModeSymlink != 0
		if isLink {
			info, err := os.Stat(filepath.Join(path, name))
			isDir = err == nil && info.IsDir()
		}
		switch {
		case isDir:
			dirs = append(dirs, subdir{name: name, link: isLink})
		case isSpecFileName(name):
			w.files = append(w.files, foundFile{path: filepath.Join(path, name)})
		}
	}
	if w.stat {
		statAll(d, w.files[files:])
	}
	d.Close()
	for _, sub := range dirs {
		p := filepath.Join(path, sub.name)
		switch {
		case strings.HasPrefix(sub.name, ".") || sub.name == "testdata" || sub.name == "node_modules" || isRenderOutput(p):
		case sub.link:
			w.links = append(w.links, symlinkedDir{path: p, parent: real})
		default:
			w.dir(p, filepath.Join(real, sub.name))
		}
	}
}

// statAll stats files, all in the open directory d: a share on each core
// when there are many.
func statAll(d *os.File, files []foundFile) {
	fd := d.Fd()
	const chunk = 256
	parallel.ForEach((len(files)+chunk-1)/chunk, func(c int) {
		for k := c * chunk; k < min((c+1)*chunk, len(files)); k++ {
			f := &files[k]
			f.stat, _ = statAt(fd, f.path, filepath.Base(f.path))
		}
	})
}

// contains reports whether dir is sub or one of its parents.
func contains(dir, sub string) bool {
	return sub == dir || len(sub) > len(dir) && sub[len(dir)] == filepath.Separator && strings.HasPrefix(sub, dir)
}

// renderManifestName is the index `drover render -o DIR` writes in DIR
// (pkg/render ManifestFileName; spec cannot import render).
const renderManifestName = "manifest.json"

// isRenderOutput reports whether dir holds the manifest of a render: its
// files (Vault policies in HCL among them) are output, never specs. The
// manifest must open as render writes it, an object with a drover_version
// string and an artifacts list, so that another tool's manifest.json does
// not hide a directory of specs. Only that opening is read: the manifest
// of a large project runs to megabytes, and render writes it whole or not
// at all (by rename).
func isRenderOutput(dir string) bool {
	f, err := os.Open(filepath.Join(dir, renderManifestName))
	if err != nil {
		return false
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReaderSize(f, 4<<10))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	var version, artifacts bool
	for !version || !artifacts {
		key, err := dec.Token()
		if err != nil || key == json.Delim('}') {
			return false
		}
		switch key {
		case "drover_version":
			v, err := dec.Token()
			if _, ok := v.(string); err != nil || !ok {
				return false
			}
			version = true
		case "artifacts":
			if version { // as render orders the keys: the list's start will do
				t, err := dec.Token()
				return err == nil && t == json.Delim('[')
			}
			var list json.RawMessage
			if dec.Decode(&list) != nil || list[0] != '[' {
				return false
			}
			artifacts = true
		default:
			if dec.Decode(new(json.RawMessage)) != nil {
				return false
			}
		}
	}
	return true
}

func isSpecFileName(name string) bool {
	if !strings.HasSuffix(name, ".hcl") || name == ProjectFileName {
		return false
	}
	for _, skip := range []string{".vars.hcl", ".nomad.hcl", ".pkr.hcl"} {
		if strings.HasSuffix(name, skip) {
			return false
		}
	}
	return true
}

package app

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"github.com/drover-io/drover/internal/dirstat"
	"github.com/drover-io/drover/internal/rawfile"
	"github.com/drover-io/drover/pkg/render"
	"github.com/drover-io/drover/pkg/spec"
)

// Output formats of render.
const (
	FormatJSON = "json"
	FormatHCL  = "hcl"
)

// RenderOptions say what to render and where.
type RenderOptions struct {
	Load spec.LoadOptions
	// OutDir receives one file per artifact plus manifest.json; when empty
	// the bundle goes to Stdout as one document.
	OutDir string
	// Format is json or hcl (stdout only; files use each system's format).
	Format string
	// Version is recorded in ownership metadata.
	Version string
	Stdout  io.Writer
}

// RenderResult says what was rendered.
type RenderResult struct {
	Diagnostics
	// Bundle is what was rendered. With OutDir, its app jobs carry their
	// owner and ID only and its apps' Vault policies and roles no text or
	// data: they went to the files as they were rendered. Nil when the
	// render was Replayed.
	Bundle *render.Bundle
	// Written lists the files written under OutDir, in no set order.
	Written []string
	// Counts counts the artifacts rendered, of each kind.
	Counts render.Counts
	// Replayed: with OutDir, nothing had changed since a render of the
	// same inputs into OutDir, whose files are as it wrote them: they
	// stand for this render (see spec.Outcome), and Bundle is nil.
	Replayed bool
	// SetsReplayed: with OutDir, a render of the same Sets into OutDir
	// (before an edit its summaries do not tell) wrote the config
	// entries, gateways and registrations as this one would, and they
	// stand (see spec.Outcome.ReplaySets): only the edited apps were
	// rendered.
	SetsReplayed bool
}

// IndexEnv turns the project index off when set to "off": every command
// then parses the whole project, and reports every spec's problems, even
// when it names one spec (see spec.StreamOptions.Index).
const IndexEnv = "DROVER_INDEX"

func useIndex() bool { return os.Getenv(IndexEnv) != "off" }

// Render loads, validates and renders the specs, offline. With OutDir, each
// app's artifacts are written as the app is loaded, so that memory stays
// flat however large the project; nothing in OutDir changes unless the
// whole render succeeds.
func Render(opts RenderOptions) (*RenderResult, error) {
	// Only a spec that is parsed is rendered: a load that replays every
	// one (see spec.Outcome) encodes nothing.
	load := spec.StreamOptions{LoadOptions: opts.Load, Index: useIndex(), Parsing: func() { go render.WarmEncoders() }}
	if opts.OutDir != "" {
		return renderFiles(opts, load)
	}
	var mu sync.Mutex
	var full []*spec.App
	load.Visit = func(_ *spec.Set, app *spec.App) {
		mu.Lock()
		full = append(full, app)
		mu.Unlock()
	}
	sets, diags := spec.Stream(load)
	res := &RenderResult{Diagnostics: Diagnostics{Diags: diags}}
	if len(sets) > 0 {
		res.Files = sets[0].Files
	}
	if err := inputError(diags, res.Files); err != nil {
		return res, err
	}
	bundle, err := render.Render(sets[0].Complete(full), render.Options{Version: opts.Version})
	if err != nil {
		if err = renderError(err, &res.Diagnostics); errors.As(err, new(*InputError)) {
			return res, err
		}
		return res, fmt.Errorf("render: %w", err)
	}
	res.Bundle, res.Counts = bundle, bundle.Counts()
	switch opts.Format {
	case FormatHCL:
		err = bundle.WriteHCL(opts.Stdout)
	case FormatJSON, "":
		var data []byte
		if data, err = bundle.JSON(opts.Version); err == nil {
			_, err = opts.Stdout.Write(data)
		}
	default:
		err = fmt.Errorf("unknown format %q: use json or hcl", opts.Format)
	}
	return res, err
}

// renderFiles renders into opts.OutDir while the specs load.
func renderFiles(opts RenderOptions, load spec.StreamOptions) (*RenderResult, error) {
	out := newOutDir(opts.OutDir)
	defer out.stats.Close()
	// The previous render's manifest (25,000 artifacts for 5,000 specs) is
	// read while the specs are searched for, not when the first file is
	// written, with every writer waiting.
	go out.previousOnce.Do(out.readPrevious)
	defer out.previousOnce.Do(out.readPrevious) // done before returning
	stream := render.NewStream(render.Options{Version: opts.Version}, out.write)
	// A spec unchanged since the render that wrote OutDir, whose files are
	// still as written, is not read again (see spec.StreamOptions.Memo).
	stream.SetIntact(out.intact)
	stream.SetUnchanged(out.manifestIs, out.asListed)
	load.Memo, load.Replay, load.MemoKey = stream.AppMemo, stream.Replay, "render "+opts.Version
	// A render of the same inputs as one before, into the same directory,
	// skips Finish too when the files it wrote are as written.
	var counts render.Counts
	var replayed []string
	// ... and after an edit where the summaries do not tell (the same
	// Sets), the config entries, gateways and registrations it wrote stand
	// when intact: only the edited apps are rendered.
	load.Outcome = &spec.Outcome{Replay: func(memo []byte, apps bool) bool {
		var ok bool
		counts, replayed, ok = stream.ReplayOutcome(memo, apps)
		return ok
	}, ReplaySets: stream.TakePrior}
	restore := boundMemory(&load)
	defer restore()
	sets, diags := spec.Stream(load)
	if load.Outcome.Replayed() {
		written := make([]string, len(replayed))
		for i, p := range replayed {
			written[i] = filepath.Join(out.dir, filepath.FromSlash(p))
		}
		return &RenderResult{Written: written, Counts: counts, Replayed: true}, nil
	}
	res := &RenderResult{Diagnostics: Diagnostics{Diags: diags}, SetsReplayed: load.Outcome.SetsReplayed()}
	if len(sets) > 0 {
		res.Files = sets[0].Files
	}
	if err := inputError(diags, res.Files); err != nil {
		out.abort()
		return res, err
	}
	bundle, manifest, err := stream.Finish(sets[0], opts.Version)
	if err != nil {
		out.abort()
		if out.err != nil {
			return res, out.err
		}
		if err = renderError(err, &res.Diagnostics); errors.As(err, new(*InputError)) {
			return res, err
		}
		return res, fmt.Errorf("render: %w", err)
	}
	res.Bundle, res.Counts = bundle, bundle.Counts()
	if res.Written, err = out.commit(manifest); err == nil {
		load.Outcome.Keep(stream.OutcomeMemo())
	}
	return res, err
}

// boundMemory sets a soft memory limit for a streamed load (one that keeps
// only summaries, as render -o and validate do) once its size is known,
// and returns what restores the previous limit and GC percent. Such a
// load's live heap grows with the summaries it keeps, a few KiB per spec
// and environment, not with the specs: a limit a little above that keeps
// its peak near the live heap while the collector runs no more often than
// GOGC makes it. A scoped load (one spec of a large project, the rest from
// the index) parses next to nothing, and what it allocates lives to the
// end: it collects only if it nears the limit (GOGC off meanwhile), which
// it does not. A GOMEMLIMIT set by the user wins, and so does a GOGC.
func boundMemory(load *spec.StreamOptions) func() {
	if os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	var mu sync.Mutex
	prevLimit, prevPercent, set, off := int64(0), 0, false, false
	load.Started = func(s spec.StreamStart) {
		mu.Lock()
		defer mu.Unlock()
		prevLimit, set = debug.SetMemoryLimit(streamMemoryBase+int64(s.Files)*int64(max(s.Environments, 1))*streamMemoryPerSpec), true
		if s.Scoped && os.Getenv("GOGC") == "" {
			prevPercent, off = debug.SetGCPercent(-1), true
		}
	}
	return func() {
		mu.Lock()
		defer mu.Unlock()
		if set {
			debug.SetMemoryLimit(prevLimit)
		}
		if off {
			debug.SetGCPercent(prevPercent)
		}
	}
}

// The soft memory limit of a streamed load: a base for the runtime, the
// project file and the specs in flight, and an allowance per spec and
// environment for what is kept of each (about 4 KiB). At 5,000 specs it
// comes to 64 MiB, where bench/ finds the knee: a peak RSS a third of no
// limit's for a tenth more CPU time.
const (
	streamMemoryBase    = 32 << 20
	streamMemoryPerSpec = 6656
)

// outDir writes a render into dir all at once: files whose bytes changed
// go to a staging directory inside dir first, and move into place only
// when the whole render has succeeded. Files that already have the bytes
// are left alone: rewriting is far slower than reading on many file
// systems, and an unchanged mtime keeps make and file watchers quiet. A
// dir that does not exist yet (a render in CI, into a fresh checkout) is
// staged whole beside where it goes and renamed into place: one rename
// rather than one a file.
type outDir struct {
	dir string
	// missing: dir did not exist when the render started.
	missing bool

	// previous holds the checksum of each file the previous render's
	// manifest lists, and when that manifest was written.
	previousOnce sync.Once
	previous     map[string][sha256.Size]byte
	previousAt   time.Time
	// previousPaths are the files it lists, in its order; previousSum
	// and previousSize are its own.
	previousPaths []string
	previousSum   [sha256.Size]byte
	previousSize  int64
	// stats stats the files already in dir (every one, on a render
	// that changes nothing) by name in their open directory.
	stats *dirstat.Dirs

	mu      sync.Mutex
	staging string   // created on the first changed file
	whole   bool     // staging is a sibling that becomes dir (missing)
	staged  []string // slash-separated paths relative to dir
	made    map[string]bool
	created bool // dir did not exist
	err     error
}

func newOutDir(dir string) *outDir {
	return &outDir{dir: dir, stats: dirstat.NewDirs(dir)}
}

func (o *outDir) write(f render.File) error {
	final := filepath.Join(o.dir, filepath.FromSlash(f.Path))
	// The manifest comes last. When files changed, it is written again
	// even with the same bytes: a file is trusted as written while it is
	// no newer than the manifest (intact), and so must the new ones be.
	if (f.Path != render.ManifestFileName || !o.changedAny()) && o.unchanged(f, final) {
		return nil
	}
	staging, err := o.stagingDir()
	if err == nil {
		path := filepath.Join(staging, filepath.FromSlash(f.Path))
		if err = o.mkdir(filepath.Dir(path)); err == nil {
			if err = rawfile.WriteFile(path, f.Data, 0o644); err != nil {
				err = fmt.Errorf("write %s: %w", final, err)
			}
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if err != nil {
		if o.err == nil {
			o.err = err
		}
		return err
	}
	o.staged = append(o.staged, f.Path)
	return nil
}

// changedAny reports whether a file was staged, changed.
func (o *outDir) changedAny() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.staged) > 0
}

// unchanged reports whether the file at final already holds f's bytes.
// A file the previous manifest lists with f's checksum, of f's size and
// not modified since that manifest was written, does without reading.
func (o *outDir) unchanged(f render.File, final string) bool {
	o.previousOnce.Do(o.readPrevious)
	if o.missing {
		return false
	}
	if f.Path == render.ManifestFileName && o.previous != nil {
		// Read (and summed) already: compared without reading it again.
		if st, err := o.stat(f.Path); err == nil && st.Size == o.previousSize && st.Mtime == o.previousAt.UnixNano() {
			return fileSum(f) == o.previousSum
		}
	}
	if want, listed := o.previous[f.Path]; listed {
		st, err := o.stat(f.Path)
		if err != nil {
			return false
		}
		if st.Size == int64(len(f.Data)) && st.Mtime <= o.previousAt.UnixNano() && fileSum(f) == want {
			return true
		}
	}
	old, err := rawfile.ReadFile(final)
	return err == nil && bytes.Equal(old, f.Data)
}

// intact reports whether the file at p (slash-separated, under the output
// directory) is as the previous render wrote it: listed in its manifest
// with sum, of size bytes and not modified since.
func (o *outDir) intact(p string, sum [sha256.Size]byte, size int) bool {
	o.previousOnce.Do(o.readPrevious)
	if p == render.ManifestFileName {
		// The previous manifest itself: intact when it has sum and size
		// and has not changed since it was read.
		if o.previous == nil || sum != o.previousSum || int64(size) != o.previousSize {
			return false
		}
		st, err := o.stat(p)
		return err == nil && st.Regular && st.Size == int64(size) && st.Mtime == o.previousAt.UnixNano()
	}
	want, listed := o.previous[p]
	if !listed || want != sum {
		return false
	}
	st, err := o.stat(p)
	return err == nil && st.Regular && st.Size == int64(size) && st.Mtime <= o.previousAt.UnixNano()
}

// manifestIs reports whether the previous manifest has checksum sum and
// size, and has not changed since it was read.
func (o *outDir) manifestIs(sum [sha256.Size]byte, size int) bool {
	o.previousOnce.Do(o.readPrevious)
	if o.previous == nil || sum != o.previousSum || int64(size) != o.previousSize {
		return false
	}
	st, err := o.stat(render.ManifestFileName)
	return err == nil && st.Regular && st.Size == int64(size) && st.Mtime == o.previousAt.UnixNano()
}

// asListed reports whether the file at p is there as the render that
// wrote the previous manifest left it, of size: no newer than that
// manifest. Only for a file that manifest lists, once manifestIs held.
func (o *outDir) asListed(p string, size int) bool {
	st, err := o.stat(p)
	return err == nil && st.Regular && st.Size == int64(size) && st.Mtime <= o.previousAt.UnixNano()
}

// stat stats the file at p (slash-separated, under dir).
func (o *outDir) stat(p string) (dirstat.Stat, error) {
	return o.stats.Stat(filepath.FromSlash(p))
}

// readPrevious reads the previous render's manifest, and sees whether
// dir exists at all.
func (o *outDir) readPrevious() {
	if _, err := os.Stat(o.dir); errors.Is(err, fs.ErrNotExist) {
		o.missing = true
		return
	}
	// Through a small buffer, summed as it is read: it runs to megabytes,
	// and a render that replays whole keeps none of them.
	f, err := os.Open(filepath.Join(o.dir, render.ManifestFileName))
	if err != nil {
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		return
	}
	h := sha256.New()
	counted := &countingReader{r: io.TeeReader(f, h)}
	paths, sums, ok, err := render.ManifestListingFrom(counted, info.Size())
	if err != nil {
		return
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	if !ok { // not as a render writes it: read whole, as it was summed
		data, err := rawfile.ReadFile(f.Name())
		if err != nil || sha256.Sum256(data) != sum {
			return
		}
		if paths, sums, err = render.ManifestListing(data); err != nil {
			return
		}
	}
	o.previous, o.previousPaths, o.previousAt = sums, paths, info.ModTime()
	o.previousSum, o.previousSize = sum, counted.n
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// fileSum is f's checksum, computed when f does not carry it.
func fileSum(f render.File) [sha256.Size]byte {
	if f.SHA256 == ([sha256.Size]byte{}) {
		return sha256.Sum256(f.Data)
	}
	return f.SHA256
}

func (o *outDir) stagingDir() (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.staging != "" {
		return o.staging, nil
	}
	o.previousOnce.Do(o.readPrevious)
	if o.missing {
		if dir, err := siblingDir(o.dir); err == nil {
			o.staging, o.whole, o.made = dir, true, map[string]bool{dir: true}
			return dir, nil
		}
		// Else stage inside dir, as for one that exists.
	}
	if _, err := os.Stat(o.dir); err != nil {
		o.created = true
	}
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", o.dir, err)
	}
	dir, err := os.MkdirTemp(o.dir, ".drover-render-")
	if err != nil {
		return "", fmt.Errorf("create a staging directory in %s: %w", o.dir, err)
	}
	o.staging, o.made = dir, map[string]bool{dir: true}
	return dir, nil
}

// siblingDir creates an empty directory beside dir (and dir's parents),
// named for it and hidden, with the mode MkdirAll would give dir.
func siblingDir(dir string) (string, error) {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", err
	}
	for i := 0; ; i++ {
		d := filepath.Join(parent, fmt.Sprintf(".%s.drover-render-%d-%d", filepath.Base(dir), os.Getpid(), i))
		err := os.Mkdir(d, 0o755)
		if err == nil || !errors.Is(err, fs.ErrExist) {
			return d, err
		}
	}
}

// mkdir creates dir once.
func (o *outDir) mkdir(dir string) error {
	o.mu.Lock()
	done := o.made[dir]
	o.mu.Unlock()
	if done {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	o.mu.Lock()
	o.made[dir] = true
	o.mu.Unlock()
	return nil
}

// abort forgets a failed render: dir is as it was.
func (o *outDir) abort() {
	if o.staging != "" {
		_ = os.RemoveAll(o.staging)
		if o.created && !o.whole {
			_ = os.Remove(o.dir) // only if still empty
		}
	}
}

// commit removes the files that the previous render listed in dir's
// manifest.json and this one (manifest, written with the rest) does not:
// an app removed since; nothing else in dir is touched. Then it moves the
// changed files into place, the manifest last, and returns every file of
// the render, changed or not.
func (o *outDir) commit(manifest render.Manifest) ([]string, error) {
	if o.err != nil {
		o.abort()
		return nil, o.err
	}
	keep := make(map[string]bool, len(manifest.Artifacts)+1)
	written := make([]string, 0, len(manifest.Artifacts)+1)
	for _, a := range manifest.Artifacts {
		keep[a.Path] = true
		written = append(written, filepath.Join(o.dir, filepath.FromSlash(a.Path)))
	}
	keep[render.ManifestFileName] = true
	written = append(written, filepath.Join(o.dir, render.ManifestFileName))
	o.previousOnce.Do(o.readPrevious)
	for p := range o.previous {
		if !keep[p] && filepath.IsLocal(filepath.FromSlash(p)) {
			_ = os.Remove(filepath.Join(o.dir, filepath.FromSlash(p)))
		}
	}
	if o.staging == "" {
		return written, nil
	}
	defer os.RemoveAll(o.staging)
	if o.whole && os.Rename(o.staging, o.dir) == nil {
		return written, nil
	}
	// dir appeared meanwhile: file by file, as into one that existed.
	made := map[string]bool{}
	manifestStaged := false
	for _, p := range o.staged {
		if p == render.ManifestFileName {
			manifestStaged = true
			continue
		}
		if err := o.move(p, made); err != nil {
			return nil, err
		}
	}
	// The manifest last, so that an interrupted move leaves the previous
	// manifest naming what to prune.
	if manifestStaged {
		if err := o.move(render.ManifestFileName, made); err != nil {
			return nil, err
		}
	}
	return written, nil
}

// move moves one staged file into place.
func (o *outDir) move(p string, made map[string]bool) error {
	final := filepath.Join(o.dir, filepath.FromSlash(p))
	if d := filepath.Dir(final); !made[d] {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
		made[d] = true
	}
	if err := os.Rename(filepath.Join(o.staging, filepath.FromSlash(p)), final); err != nil {
		return fmt.Errorf("write %s: %w", final, err)
	}
	return nil
}

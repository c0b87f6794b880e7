package spec

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/drover-io/drover/internal/hclbody"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/drover-io/drover/internal/parallel"
	"github.com/drover-io/drover/internal/rawfile"
	"github.com/drover-io/drover/pkg/diag"
)

// ProjectFileName is the optional project file at the root of a spec tree.
const ProjectFileName = "drover.hcl"

// LoadOptions says what to load and how to resolve it.
type LoadOptions struct {
	// Paths are spec files or directories (searched recursively); "." when
	// empty. If a drover.hcl sits in or above them, its whole tree is the
	// project: every spec in it is loaded and validated, and Paths only
	// select which apps the caller acts on.
	Paths []string
	// Environment selects an environment overlay; "" for the base spec.
	Environment string
	// Inputs set variable values.
	Inputs VarInputs
	// WorkDir turns absolute paths into the short names diagnostics use;
	// the process's working directory when empty.
	WorkDir string
}

// Load reads, decodes and validates a project for one environment.
// The returned Set is nil only when nothing could be read at all; with
// errors in the diagnostics it is incomplete and must not be rendered.
func Load(opts LoadOptions) (*Set, hcl.Diagnostics) {
	p, diags := open(opts)
	if p == nil {
		return nil, diags
	}
	set, d := p.resolve(opts.Environment)
	diags = append(diags, d...)
	return set, diag.Dedupe(diags)
}

// LoadEnvironments validates the base spec and every environment, so that CI
// catches a mistake in the prod overlay without deploying to prod. It
// returns one Set per environment, the base first.
func LoadEnvironments(opts LoadOptions) ([]*Set, hcl.Diagnostics) {
	p, diags := open(opts)
	if p == nil {
		return nil, diags
	}
	sets, d := p.resolveAll()
	return sets, diag.Dedupe(append(diags, d...))
}

// resolveAll resolves the base spec and every declared environment.
func (p *loadedProject) resolveAll() ([]*Set, hcl.Diagnostics) {
	var sets []*Set
	var diags hcl.Diagnostics
	for _, env := range append([]string{""}, p.environmentNames()...) {
		set, d := p.resolve(env)
		diags = append(diags, d...)
		sets = append(sets, set)
	}
	return sets, diags
}

// parseCache parses each file once and remembers it for diagnostics.
type parseCache struct {
	files map[string]*hcl.File
}

func (c *parseCache) parse(src []byte, name string) (*hcl.File, hcl.Diagnostics) {
	if f, ok := c.files[name]; ok {
		return f, nil
	}
	f, d := parseHCL(src, name)
	if f != nil {
		c.files[name] = f
	}
	return f, d
}

// parseHCL parses one HCL file. A file that is not UTF-8 text (a NUL byte
// or bytes that are not UTF-8: an archive, an image, a UTF-16 export) gets
// one diagnostic and is not parsed, since hcl would report every stray byte.
func parseHCL(src []byte, name string) (*hcl.File, hcl.Diagnostics) {
	if d := notText(src, name); d != nil {
		return nil, hcl.Diagnostics{d}
	}
	return hclsyntax.ParseConfig(src, name, hcl.InitialPos)
}

// notText reports the first NUL byte or invalid UTF-8 in src, or nil.
func notText(src []byte, name string) *hcl.Diagnostic {
	pos := hcl.InitialPos
	for off := 0; off < len(src); {
		r, size := utf8.DecodeRune(src[off:])
		if r == 0 || r == utf8.RuneError && size == 1 {
			what := "a NUL byte"
			if r != 0 {
				what = fmt.Sprintf("the byte 0x%02x, which is not valid UTF-8", src[off])
			}
			end := hcl.Pos{Line: pos.Line, Column: pos.Column + 1, Byte: off + 1}
			return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Not a text file",
				Detail:  fmt.Sprintf("This file is not UTF-8 text: it contains %s. It is not read as a spec; save it as UTF-8, or move it out of the spec tree if it is not a spec.", what),
				Subject: &hcl.Range{Filename: name, Start: pos, End: end}}
		}
		off += size
		pos.Byte = off
		pos.Column++
		if r == '\n' {
			pos.Line, pos.Column = pos.Line+1, 1
		}
	}
	return nil
}

// specFile is one parsed spec file with its top-level blocks.
type specFile struct {
	name     string // for diagnostics: relative to the working directory
	rel      string // relative to the project root: the ownership path
	content  *hcl.BodyContent
	selected bool
	vars     []*Variable
}

// loadedProject is everything that does not depend on the environment:
// parsed files, variable values.
type loadedProject struct {
	root        string
	cache       *parseCache
	projectFile *specFile // nil without drover.hcl
	specs       []*specFile
	variables   map[string][]*Variable
	values      map[*Variable]cty.Value
	projectVars []*Variable
	diags       hcl.Diagnostics
}

// source is one file to load: its contents and the names it goes by.
type source struct {
	display  string // in diagnostics
	rel      string // relative to the project root, slash-separated
	src      []byte
	selected bool
}

// LoadFiles loads a project held in memory: files maps slash-separated
// paths to contents, and a "drover.hcl" among them is the project file.
// Every app is selected. It serves tests, fuzzing and callers that hold
// specs without a file system.
func LoadFiles(files map[string][]byte, env string, inputs VarInputs) (*Set, hcl.Diagnostics) {
	p := openFiles(files, inputs)
	if env != "" && !p.hasEnvironment(env) {
		p.diags = append(p.diags, unknownEnvironment(env, p.environmentSet()))
	}
	set, d := p.resolve(env)
	return set, diag.Dedupe(append(p.diags, d...))
}

// openFiles parses an in-memory project (see LoadFiles).
func openFiles(files map[string][]byte, inputs VarInputs) *loadedProject {
	var project *source
	var specs []source
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := source{display: n, rel: n, src: files[n], selected: true}
		if n == ProjectFileName {
			project = &s
			continue
		}
		specs = append(specs, s)
	}
	return build("", project, specs, inputs)
}

// layout is where a load's files are: the project root, every spec file
// under it, and which of them the caller selected.
type layout struct {
	wd, root   string
	hasProject bool
	// abs are the requested paths, absolute; files every spec file found,
	// absolute and sorted.
	abs, files []string
	// stats are the files' stats, taken as they were found (findLayout
	// with stat), else nil.
	stats []fileStat
	// diags are the warnings of the search (symlink loops).
	diags hcl.Diagnostics
}

// display is the name diagnostics use for path: relative to the working
// directory when under it.
func (l *layout) display(path string) string {
	if rel, ok := relUnder(l.wd, path); ok {
		return rel
	}
	if rel, err := filepath.Rel(l.wd, path); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}

// rel is path relative to the project root, slash-separated: the
// ownership path.
func (l *layout) rel(path string) string {
	rel, ok := relUnder(l.root, path)
	if !ok {
		rel, _ = filepath.Rel(l.root, path)
	}
	return filepath.ToSlash(rel)
}

// relUnder is filepath.Rel(base, path) for clean paths with path under
// base, without the cleaning Rel does again (a call per spec file of a
// large project); ok is false when path is not under base.
func relUnder(base, path string) (string, bool) {
	switch {
	case path == base:
		return ".", true
	case !strings.HasPrefix(path, base):
		return "", false
	case strings.HasSuffix(base, string(filepath.Separator)): // the file system root
		return path[len(base):], true
	case path[len(base)] == filepath.Separator:
		return path[len(base)+1:], true
	}
	return "", false
}

func (l *layout) selected(path string) bool { return isSelected(path, l.abs, l.root, l.hasProject) }

// findLayout finds the project root of opts.Paths and the spec files under
// it. It returns nil, with the diagnostics, when there is nothing to load.
// rootFound, when set, is called with the project root as soon as it is
// known, before the search for spec files. With stat, each file is stated
// as it is found (layout.stats).
func findLayout(opts LoadOptions, rootFound func(root string), stat bool) (*layout, hcl.Diagnostics) {
	wd := opts.WorkDir
	if wd == "" {
		var err error
		if wd, err = os.Getwd(); err != nil {
			return nil, errorDiag("Cannot find the working directory", err.Error())
		}
	}
	paths := opts.Paths
	if len(paths) == 0 {
		paths = []string{"."}
	}
	l := &layout{wd: wd, abs: make([]string, len(paths))}
	for i, path := range paths {
		if !filepath.IsAbs(path) {
			path = filepath.Join(wd, path)
		}
		l.abs[i] = filepath.Clean(path)
		if _, err := os.Stat(l.abs[i]); err != nil {
			return nil, errorDiag("Cannot read spec path", fmt.Sprintf("%s: %s.", paths[i], unwrapPathError(err)))
		}
	}
	l.root, l.hasProject = findRoot(l.abs)
	searched := l.abs
	if l.hasProject {
		searched = []string{l.root}
		if rootFound != nil {
			rootFound(l.root)
		}
	}
	var found []foundFile
	for _, path := range searched {
		f, d := discover(path, l.display, stat)
		if found == nil {
			found = f // most loads search one path
		} else {
			found = append(found, f...)
		}
		l.diags = append(l.diags, d...)
	}
	slices.SortStableFunc(found, func(a, b foundFile) int { return strings.Compare(a.path, b.path) })
	found = slices.CompactFunc(found, func(a, b foundFile) bool { return a.path == b.path })
	l.files = make([]string, len(found))
	for i, f := range found {
		l.files[i] = f.path
	}
	if stat {
		l.stats = make([]fileStat, len(found))
		for i, f := range found {
			l.stats[i] = f.stat
		}
	}
	if len(l.files) == 0 && !l.hasProject {
		return nil, append(l.diags, errorDiag("No spec files found", fmt.Sprintf("No *.hcl spec files were found in %s.", strings.Join(paths, ", ")))...)
	}
	return l, nil
}

func open(opts LoadOptions) (*loadedProject, hcl.Diagnostics) {
	l, diags := findLayout(opts, nil, false)
	if l == nil {
		return nil, diags
	}
	readDiags := l.diags
	var project *source
	if l.hasProject {
		path := filepath.Join(l.root, ProjectFileName)
		if src, err := rawfile.ReadFile(path); err != nil {
			readDiags = append(readDiags, errorDiag("Cannot read spec file", unwrapPathError(err).Error()+".")...)
		} else {
			project = &source{display: l.display(path), rel: l.rel(path), src: src, selected: true}
		}
	}
	read1 := make([]*source, len(l.files))
	errs1 := make([]hcl.Diagnostics, len(l.files))
	parallel.ForEach(len(l.files), func(i int) {
		src, err := rawfile.ReadFile(l.files[i])
		if err != nil {
			errs1[i] = errorDiag("Cannot read spec file", unwrapPathError(err).Error()+".")
			return
		}
		read1[i] = &source{display: l.display(l.files[i]), rel: l.rel(l.files[i]), src: src, selected: l.selected(l.files[i])}
	})
	var specs []source
	for i, s := range read1 {
		readDiags = append(readDiags, errs1[i]...)
		if s != nil {
			specs = append(specs, *s)
		}
	}
	p := build(l.root, project, specs, opts.Inputs)
	p.diags = append(readDiags, p.diags...)
	if opts.Environment != "" && !p.hasEnvironment(opts.Environment) {
		p.diags = append(p.diags, unknownEnvironment(opts.Environment, p.environmentSet()))
	}
	return p, p.diags
}

func unknownEnvironment(env string, known map[string]bool) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown environment",
		Detail: fmt.Sprintf("No environment named %q is declared in drover.hcl or in any app%s.", env, suggestFrom(env, known))}
}

// build parses the sources, collects variables and resolves their values:
// everything that does not depend on the environment.
func build(root string, project *source, specs []source, inputs VarInputs) *loadedProject {
	p := &loadedProject{root: root, cache: &parseCache{files: map[string]*hcl.File{}}, variables: map[string][]*Variable{}}
	if project != nil {
		p.projectFile = p.addParsed(parseSource(*project, projectFileSchema))
	}
	parsed := make([]parsedSource, len(specs))
	parallel.ForEach(len(specs), func(i int) { parsed[i] = parseSource(specs[i], specFileSchema) })
	for _, ps := range parsed {
		if ps.file != nil && !ps.diags.HasErrors() {
			ps.diags = append(ps.diags, emptySpec(ps.file, ps.src.display)...)
		}
		if sf := p.addParsed(ps); sf != nil {
			p.specs = append(p.specs, sf)
		}
	}
	p.collectVariables()
	values, d := resolveVariables(p.variables, inputs, p.cache)
	p.diags = append(p.diags, d...)
	p.values = values
	return p
}

// parsedSource is one source after parsing, before it joins the project.
type parsedSource struct {
	src   source
	file  *hcl.File
	sf    *specFile
	diags hcl.Diagnostics
}

// parseSource parses one file and checks its top level against schema. It
// touches no shared state, so sources parse in parallel.
func parseSource(s source, schema *hcl.BodySchema) parsedSource {
	f, diags := parseHCL(s.src, s.display)
	ps := parsedSource{src: s, file: f, diags: diags}
	if f == nil {
		return ps
	}
	content, d := hclbody.Content(f.Body, schema)
	ps.diags = append(ps.diags, d...)
	ps.sf = &specFile{name: s.display, rel: s.rel, content: content, selected: s.selected}
	return ps
}

// emptySpec warns about a spec file that declares nothing: zero bytes, or
// only blank lines and comments. It is usually a save gone wrong or a spec
// whose content moved elsewhere, and silence would hide both.
func emptySpec(f *hcl.File, name string) hcl.Diagnostics {
	if body, ok := f.Body.(*hclsyntax.Body); !ok || len(body.Attributes) > 0 || len(body.Blocks) > 0 {
		return nil
	}
	return hcl.Diagnostics{{Severity: hcl.DiagWarning, Summary: "Empty spec file",
		Detail:  "This file holds no blocks, so it declares no app, external or variable. Add one, or delete the file.",
		Subject: &hcl.Range{Filename: name, Start: hcl.InitialPos, End: hcl.InitialPos}}}
}

// addParsed records a parsed source in the project, in call order.
func (p *loadedProject) addParsed(ps parsedSource) *specFile {
	p.diags = append(p.diags, ps.diags...)
	if ps.file != nil {
		p.cache.files[ps.src.display] = ps.file
	}
	return ps.sf
}

// collectVariables gathers variable declarations: the project file's are
// visible everywhere, a spec file's only in that file.
func (p *loadedProject) collectVariables() {
	e := &evaluator{}
	declare := func(sf *specFile) []*Variable {
		var out []*Variable
		for _, b := range sf.content.Blocks.OfType("variable") {
			v := decodeVariable(b, e, sf.name)
			if prev := p.variables[v.Name]; len(prev) > 0 && (prev[0].File == p.projectFileName() || sf == p.projectFile || prev[0].File == sf.name) {
				e.errorf(b.LabelRanges[0], "Duplicate variable", "Variable %q is already declared at %s:%d.", v.Name, prev[0].File, prev[0].DeclRange.Start.Line)
				continue
			}
			p.variables[v.Name] = append(p.variables[v.Name], v)
			out = append(out, v)
		}
		return out
	}
	if p.projectFile != nil {
		p.projectVars = declare(p.projectFile)
	}
	for _, sf := range p.specs {
		sf.vars = declare(sf)
	}
	p.diags = append(p.diags, e.diags...)
}

func (p *loadedProject) projectFileName() string {
	if p.projectFile == nil {
		return ""
	}
	return p.projectFile.name
}

// environmentNames lists every environment declared anywhere, sorted.
func (p *loadedProject) environmentNames() []string {
	set := p.environmentSet()
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (p *loadedProject) environmentSet() map[string]bool {
	set := map[string]bool{}
	if p.projectFile != nil {
		for _, n := range projectEnvironmentNames(p.projectFile) {
			set[n] = true
		}
	}
	for _, sf := range p.specs {
		for _, n := range appEnvironmentNames(sf) {
			set[n] = true
		}
	}
	return set
}

// projectEnvironmentNames lists the environments the project file declares.
func projectEnvironmentNames(sf *specFile) []string {
	var out []string
	for _, b := range sf.content.Blocks.OfType("project") {
		if c, _, d := b.Body.PartialContent(projectSchema); !d.HasErrors() {
			for _, eb := range c.Blocks.OfType("environment") {
				out = append(out, eb.Labels[0])
			}
		}
	}
	return out
}

// appEnvironmentNames lists the environments the apps of a file declare.
// A native-syntax app's blocks are read as they are: extracting its whole
// content again would cost as much as decoding it.
func appEnvironmentNames(sf *specFile) []string {
	var out []string
	for _, b := range sf.content.Blocks.OfType("app") {
		if body, ok := b.Body.(*hclsyntax.Body); ok {
			for _, eb := range body.Blocks {
				if eb.Type == "environment" && len(eb.Labels) == 1 {
					out = append(out, eb.Labels[0])
				}
			}
			continue
		}
		if c, _, d := b.Body.PartialContent(appSchema); !d.HasErrors() {
			for _, eb := range c.Blocks.OfType("environment") {
				out = append(out, eb.Labels[0])
			}
		}
	}
	return out
}

func (p *loadedProject) hasEnvironment(name string) bool { return p.environmentSet()[name] }

// resolve decodes the project, apps and externals for one environment and
// validates the result.
func (p *loadedProject) resolve(env string) (*Set, hcl.Diagnostics) {
	set := &Set{Root: p.root, Environment: env, Files: p.cache.files, Selected: map[string]bool{}, SelectedExternals: map[string]bool{}}
	var diags hcl.Diagnostics
	set.Project, diags = decodeProjectFile(p.projectFile, p.values, p.projectVars, env)
	known := knownEnvironments(set.Project)
	files := p.specs
	if p.projectFile != nil {
		files = append([]*specFile{p.projectFile}, files...)
	}
	type decoded struct {
		apps      []*App
		externals []*External
		diags     hcl.Diagnostics
	}
	results := make([]decoded, len(files))
	parallel.ForEach(len(files), func(i int) {
		sf := files[i]
		visible := append(append([]*Variable{}, p.projectVars...), sf.vars...)
		if sf == p.projectFile {
			visible = p.projectVars
		}
		var r decoded
		r.apps, r.externals, r.diags = decodeSpecFile(sf, sf == p.projectFile, evalContext(p.values, visible, env, set.Project.Name), env, known)
		results[i] = r
	})
	for i, r := range results {
		diags = append(diags, r.diags...)
		set.addFile(r.apps, r.externals, files[i].selected)
	}
	sortSet(set)
	diags = append(diags, validate(set)...)
	return set, diags
}

// decodeProjectFile decodes the project block of the project file (nil
// without drover.hcl) for env.
func decodeProjectFile(pf *specFile, values map[*Variable]cty.Value, projectVars []*Variable, env string) (*Project, hcl.Diagnostics) {
	e := &evaluator{}
	var projectBlock *hcl.Block
	name := ""
	if pf != nil {
		name = pf.name
		e.ctx = evalContext(values, projectVars, env, "")
		projectBlock = e.onlyOne(pf.content.Blocks.OfType("project"), ProjectFileName)
		if projectBlock == nil {
			e.errorf(hcl.Range{Filename: name, Start: hcl.InitialPos, End: hcl.InitialPos}, "Missing project block",
				"drover.hcl must contain a project \"<name>\" block.")
		}
	}
	return decodeProject(projectBlock, e, env, name), e.diags
}

// knownEnvironments is the set of environments an app may name: nil when
// the project declares none (any name goes).
func knownEnvironments(p *Project) map[string]bool {
	if len(p.Environments) == 0 {
		return nil
	}
	known := map[string]bool{}
	for n := range p.Environments {
		known[n] = true
	}
	return known
}

// decodeSpecFile decodes the apps and externals of one file for env, in
// the eval context of the file.
func decodeSpecFile(sf *specFile, isProjectFile bool, ctx *hcl.EvalContext, env string, known map[string]bool) ([]*App, []*External, hcl.Diagnostics) {
	fe := &evaluator{ctx: ctx}
	var apps []*App
	var exts []*External
	for _, b := range sf.content.Blocks.OfType("project") {
		if !isProjectFile {
			fe.errorf(b.DefRange, "Project block outside drover.hcl",
				"Project settings belong in %s at the project root, so that every spec sees the same ones.", ProjectFileName)
		}
	}
	for _, b := range sf.content.Blocks.OfType("app") {
		apps = append(apps, decodeApp(b, fe, sf.rel, env, known))
	}
	for _, b := range sf.content.Blocks.OfType("external") {
		exts = append(exts, decodeExternal(b, fe, sf.rel))
	}
	return apps, exts, fe.diags
}

// addFile adds the apps and externals of one file to s, selected when the
// file is.
func (s *Set) addFile(apps []*App, exts []*External, selected bool) {
	s.Apps = append(s.Apps, apps...)
	s.Externals = append(s.Externals, exts...)
	if !selected {
		return
	}
	for _, app := range apps {
		s.Selected[app.Name] = true
	}
	for _, ext := range exts {
		s.SelectedExternals[ext.Name] = true
	}
}

// sortSet sorts the apps and externals of set by name, keeping file order
// among equal names.
func sortSet(set *Set) {
	sort.SliceStable(set.Apps, func(i, j int) bool { return set.Apps[i].Name < set.Apps[j].Name })
	sort.SliceStable(set.Externals, func(i, j int) bool { return set.Externals[i].Name < set.Externals[j].Name })
}

// isSelected reports whether file lies in one of the requested paths. With
// no project every discovered file was requested.
func isSelected(file string, requested []string, root string, hasProject bool) bool {
	if !hasProject {
		return true
	}
	for _, r := range requested {
		if r == root || contains(r, file) {
			return true
		}
	}
	return false
}

func errorDiag(summary, detail string) hcl.Diagnostics {
	return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: detail}}
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

// StreamOptions say what Stream loads and what it hands over on the way.
type StreamOptions struct {
	LoadOptions
	// AllEnvironments loads the base spec and every environment, as
	// LoadEnvironments does, instead of LoadOptions.Environment alone.
	AllEnvironments bool
	// Index keeps the project's index (.drover/ under its root) and
	// uses it when Paths select part of a project: then only the selected
	// spec files, and files changed since the index was written, are
	// parsed; the other files contribute what the checks across files need
	// (names, ports, services, upstreams, exposures, externals,
	// environments and variables) from the index. Problems within those
	// other files are not reported then (one warning says when some have
	// errors): every problem of the selected files, of the command line
	// and across files is.
	Index bool
	// Visit, when set, receives every app of a selected file, complete and
	// checked on its own, once per environment loaded, while the project
	// is still loading: set is that environment's Set, whose Project is
	// final but whose Apps are not all known yet. It may be called from
	// several goroutines at once. Stream keeps nothing of the apps it
	// visits but their summaries.
	Visit func(set *Set, app *App)
	// Started, when set, is called once the spec files are found and the
	// environments known, before any spec is read: what a Stream keeps
	// grows with their number (see Stream).
	Started func(StreamStart)
	// Parsing, when set, is called once, as soon as the load sees that it
	// will likely parse a spec file: a selected one whose stat is not its
	// index entry's (edited), or else the first that must be parsed (one
	// the index cannot stand for). A caller readies what only new visits
	// need (render, its encoders) then, beside the rest of the load, and
	// not on a load that parses nothing but drover.hcl.
	Parsing func()

	// Memo, Replay and MemoKey let a caller skip the selected files that
	// have not changed since it last visited them (with Index). Memo, when
	// set, is called in place of Visit and returns what the caller needs to
	// redo its visit without the app (its rendered files' names and
	// checksums, say), or false when the visit found a problem. The index
	// keeps the memos of a file that had no problem at all under MemoKey
	// (which names the caller and whatever else its visits depend on
	// beyond the file, the project and the variables). When such a file is
	// selected again, unchanged, in the same context, Replay is called with
	// each app, bare (its name, file and ranges: the memo holds the rest),
	// and its memo instead of reading the file: it returns
	// what completes the visit and true, or false when the memo cannot
	// stand (a rendered file has gone), and the file is then read and
	// visited as usual. Either every app of the file is replayed, in every
	// environment, or none is.
	Memo    func(set *Set, app *App) ([]byte, bool)
	Replay  func(set *Set, app *App, memo []byte) (complete func(), ok bool)
	MemoKey string
	// Outcome, when set (with Index and MemoKey), lets the caller skip all
	// that follows a load it has finished before from the same inputs:
	// then Stream returns no Set (see Outcome).
	Outcome *Outcome
}

// StreamStart is what a Stream knows of its size as it starts.
type StreamStart struct {
	Files, Environments int
	// Scoped: the index stands for the spec files not selected, so that
	// only the selected ones (and any changed since) are parsed, and the
	// garbage is theirs alone.
	Scoped bool
}

// Stream loads a project as Load does (LoadEnvironments with
// AllEnvironments) and returns one Set per environment, the base first,
// but one spec file at a time: each file is read, parsed, decoded and
// checked on its own, its apps are handed to Visit, and all that is kept
// of it is a summary of each app (its name, file, ports, service with its
// port, protocol, allow_from and upstreams, and exposure), which the
// checks across files (names, upstreams, public routes) then run on. So
// memory stays flat however large the project: the Sets hold the
// summaries, and the externals in full. (A scoped load, with Index, holds
// only names and ranges of the apps that neither the checks nor the
// selected apps' artifacts need: see index_scope.go.) Set.Complete puts
// full apps kept from Visit back. A Set with errors in the diagnostics is
// incomplete and must not be rendered.
func Stream(opts StreamOptions) ([]*Set, hcl.Diagnostics) {
	// drover.hcl and the index are read while the spec files are searched
	// for: on a large project each takes milliseconds.
	if o := opts.Outcome; o != nil {
		*o = Outcome{Replay: o.Replay, ReplaySets: o.ReplaySets} // nothing of an earlier Stream
	}
	var read projectRead
	l, diags := findLayout(opts.LoadOptions, func(root string) {
		read.wg.Add(1)
		go func() {
			defer read.wg.Done()
			read.src, read.err = rawfile.ReadFile(filepath.Join(root, ProjectFileName))
			if opts.Index && read.err == nil {
				ph := sha256.Sum256(read.src)
				read.index = readIndexFile(root, ph)
				if opts.Outcome != nil {
					startOutcome(opts.Outcome, root, ph)
				}
			}
		}()
	}, opts.Index)
	read.wg.Wait()
	if l == nil {
		return nil, diags
	}
	st := &streamer{opts: opts, l: l, cache: &parseCache{files: map[string]*hcl.File{}}}
	st.projectSrc, st.projectErr, st.indexFile = read.src, read.err, read.index
	return st.run()
}

// projectRead is drover.hcl as a Stream read it, and the index it read
// with it.
type projectRead struct {
	wg    sync.WaitGroup
	src   []byte
	err   error
	index *indexFile
}

// streamer is one Stream.
type streamer struct {
	opts StreamOptions
	l    *layout
	// scoped: Index is on and Paths select part of a project.
	scoped bool
	// cache holds the variable files, for diagnostics.
	cache *parseCache

	projectFile *specFile
	// projectSrc is drover.hcl as read, once: the index records the
	// checksum of the bytes the run used, not of a later edit.
	projectSrc  []byte
	projectErr  error
	projectVars []*Variable
	// projectVar is the project's declaration of each variable name.
	projectVar map[string]*Variable
	values0    map[*Variable]cty.Value
	// inputNames are the variable names the inputs set.
	inputNames map[string]bool
	known      map[string]bool
	envs       []string
	sets       map[string]*Set
	diags      hcl.Diagnostics

	// The declarations of each file, for the few files that need to know
	// what earlier files declare (see fileVariables).
	declMu   sync.Mutex
	declCond *sync.Cond
	declared []bool
	declsOf  [][]*Variable
	frontier int // every file before it has declared its variables

	// indexFile is the index as read, decoded into index unless the load
	// replays its outcome at once (replayQuick); nil without one.
	indexFile *indexFile
	index     *index
	fps       fingerprints
	// alone: the selected files are read before, and maybe without, the
	// others (replayEdited); early holds what that read.
	alone bool
	early *earlyResults
	// others is the others key (othersKey), worked out once.
	othersOnce sync.Once
	others     [sha256.Size]byte
	othersOK   bool
	// parsing calls opts.Parsing once.
	parsing sync.Once
	// decoded holds each result's summaries as decoded so far, by index,
	// for the other environments to share (see shared).
	decoded [][]decodedFacts
}

// fileResult is what a stream keeps of one spec file.
type fileResult struct {
	path, display, rel string
	selected           bool
	// src is kept when the file has diagnostics, for their snippets.
	src   []byte
	diags hcl.Diagnostics
	decls []*Variable
	// envNames are the environments the file's apps declare.
	envNames []string
	// facts are the summaries of the file's apps and its externals in each
	// environment, encoded as the index keeps them (encodeFacts): bytes
	// the garbage collector need not scan while the project loads.
	facts *blobs
	// entry is the file's index entry (with Index).
	entry *indexEntry
	// memos are the Memo results of the file's apps in each environment
	// (encodeMemos); noMemo: a Memo call returned false.
	memos  *blobs
	noMemo bool
	// templates: an app reads a template file (a file block's source),
	// which the index does not watch: the file's memos would stand for
	// the template as it was, so none are kept.
	templates bool
	// fromIndex: the file was not read; its index entry stands for it.
	fromIndex bool
	// needsOthers: read alone (replayEdited), the file turned out to need
	// the declarations of earlier files; it was neither decoded nor
	// visited.
	needsOthers bool
}

// fileFacts are the summaries of one file's apps and its externals in one
// environment, decoded.
type fileFacts struct {
	apps      []*App
	externals []*External
}

func (st *streamer) run() ([]*Set, hcl.Diagnostics) {
	l := st.l
	st.diags = append(st.diags, l.diags...)
	st.scoped = st.opts.Index && l.hasProject && slices.ContainsFunc(l.files, func(f string) bool { return !l.selected(f) })
	project := st.openProjectFile()
	st.inputNames = inputVariableNames(st.opts.Inputs, st.cache)

	if st.opts.AllEnvironments {
		st.envs = []string{""}
		if st.projectFile != nil {
			names := projectEnvironmentNames(st.projectFile)
			sort.Strings(names)
			st.envs = append(st.envs, slices.Compact(names)...)
		}
	} else {
		st.envs = []string{st.opts.Environment}
	}
	st.sets = map[string]*Set{}
	for _, env := range st.envs {
		st.addSet(env)
	}
	if st.opts.Started != nil {
		st.opts.Started(StreamStart{Files: len(l.files), Environments: len(st.envs), Scoped: st.scoped && st.indexFile != nil})
	}
	if st.replayQuick() {
		return nil, nil
	}
	if sets, ok := st.replayEdited(project); ok {
		return sets, nil
	}
	st.index = st.indexFile.decode()
	if st.opts.Parsing != nil && st.selectedEdited() {
		st.parsing.Do(st.opts.Parsing)
	}

	results := st.pass(project, st.envs, st.early)
	// Environments that only apps declare are known once every file has
	// been read: the files are read again for those.
	envSet := st.environmentSet(results)
	if st.opts.AllEnvironments {
		var late []string
		for n := range envSet {
			if st.sets[n] == nil {
				late = append(late, n)
			}
		}
		if len(late) > 0 {
			sort.Strings(late)
			for _, env := range late {
				st.addSet(env)
			}
			more := st.pass(project, late, nil)
			for i, r := range more {
				merged := results[i]
				for _, f := range r.facts.all() {
					merged.facts.set(f.name, f.b)
				}
				merged.diags = append(merged.diags, r.diags...)
				for _, m := range r.memos.all() {
					if merged.memos == nil {
						merged.memos = &blobs{}
					}
					merged.memos.set(m.name, m.b)
				}
				merged.noMemo = merged.noMemo || r.noMemo
				merged.templates = merged.templates || r.templates
				if merged.src == nil {
					merged.src = r.src
				}
				if r.entry != nil && r.entry.changed {
					// Parsed again: the new entry, knowing every environment.
					r.entry.facts = merged.facts
					r.entry.errors = r.entry.errors || merged.diags.HasErrors() || merged.entry != nil && merged.entry.errors
					merged.entry = r.entry
				} else if merged.entry != nil && merged.entry.changed {
					merged.entry.errors = merged.entry.errors || r.diags.HasErrors()
				}
				if e := merged.entry; e != nil && e.changed {
					e.clean = e.clean && len(merged.diags) == 0 && !merged.noMemo && !merged.templates
					st.keepMemos(e, merged)
				}
			}
			st.envs = append(st.envs, late...)
			sort.Strings(st.envs[1:])
		}
	} else if env := st.opts.Environment; env != "" && !envSet[env] {
		st.diags = append(st.diags, unknownEnvironment(env, envSet))
	}
	return st.finish(results)
}

// selectedEdited reports whether a selected spec file has no index entry,
// or one of another stat: most likely it will be parsed.
func (st *streamer) selectedEdited() bool {
	for i, path := range st.l.files {
		if !st.l.selected(path) {
			continue
		}
		e := st.index.lookup(st.l.rel(path))
		if e == nil || !st.opts.Index || e.stat != st.l.stats[i] {
			return true
		}
	}
	return false
}

// openProjectFile reads and parses drover.hcl and resolves the project's
// variables; it returns the project file's result (nil without one).
func (st *streamer) openProjectFile() *fileResult {
	st.values0 = map[*Variable]cty.Value{}
	st.projectVar = map[string]*Variable{}
	if !st.l.hasProject {
		return nil
	}
	path := filepath.Join(st.l.root, ProjectFileName)
	r := &fileResult{path: path, display: st.l.display(path), rel: st.l.rel(path), selected: true, facts: &blobs{}}
	if err := st.projectErr; err != nil {
		st.diags = append(st.diags, errorDiag("Cannot read spec file", unwrapPathError(err).Error()+".")...)
		return nil
	}
	src := st.projectSrc
	r.src = src
	ps := parseSource(source{display: r.display, rel: r.rel, src: src, selected: true}, projectFileSchema)
	st.diags = append(st.diags, ps.diags...)
	if ps.sf == nil {
		return nil
	}
	st.projectFile = ps.sf
	e := &evaluator{}
	decls := map[string][]*Variable{}
	for _, b := range ps.sf.content.Blocks.OfType("variable") {
		v := decodeVariable(b, e, ps.sf.name)
		if prev := st.projectVar[v.Name]; prev != nil {
			e.errorf(b.LabelRanges[0], "Duplicate variable", "Variable %q is already declared at %s:%d.", v.Name, prev.File, prev.DeclRange.Start.Line)
			continue
		}
		st.projectVar[v.Name] = v
		st.projectVars = append(st.projectVars, v)
		decls[v.Name] = []*Variable{v}
	}
	st.diags = append(st.diags, e.diags...)
	// The values only: resolving every declaration at the end reports.
	st.values0, _ = resolveVariables(decls, st.opts.Inputs, &parseCache{files: map[string]*hcl.File{}})
	r.decls = st.projectVars
	return r
}

// addSet starts the Set of env, with the project decoded for it.
func (st *streamer) addSet(env string) {
	project, d := decodeProjectFile(st.projectFile, st.values0, st.projectVars, env)
	st.diags = append(st.diags, d...)
	if st.known == nil {
		st.known = knownEnvironments(project)
	}
	st.sets[env] = &Set{Root: st.l.root, Project: project, Environment: env, Selected: map[string]bool{}, SelectedExternals: map[string]bool{}}
}

// pass reads every spec file for envs: the project file first, then the
// others on every core.
//
// The results early holds (of files read before the others, in envs) are
// taken as they are.
func (st *streamer) pass(project *fileResult, envs []string, early *earlyResults) []*fileResult {
	n := len(st.l.files)
	st.startDeclaring()
	results := make([]*fileResult, n+1)
	switch {
	case early != nil:
		results[0] = early.project
	case project != nil:
		results[0] = st.projectResult(project, envs)
	}
	// Every file's result, and room for its summaries in each environment,
	// in three allocations rather than three a file.
	slab, facts, room := make([]fileResult, n), make([]blobs, n), make([]namedBlob, n*len(envs))
	parallel.ForEach(n, func(i int) {
		if r := early.file(i); r != nil {
			st.declare(i, r.decls)
			results[i+1] = r
			return
		}
		facts[i].s = room[i*len(envs) : i*len(envs) : (i+1)*len(envs)]
		slab[i].facts = &facts[i]
		results[i+1] = st.file(i, envs, &slab[i])
	})
	if results[0] == nil {
		results = results[1:]
		return results
	}
	return results
}

// startDeclaring readies the record of each file's declarations for a
// pass over the files.
func (st *streamer) startDeclaring() {
	n := len(st.l.files)
	st.declared, st.declsOf, st.frontier = make([]bool, n), make([][]*Variable, n), 0
	st.declCond = sync.NewCond(&st.declMu)
}

// projectResult decodes drover.hcl (project) in envs, as the first result
// of a pass.
func (st *streamer) projectResult(project *fileResult, envs []string) *fileResult {
	pr := &fileResult{path: project.path, display: project.display, rel: project.rel, selected: true, facts: &blobs{}, decls: project.decls}
	for _, env := range envs {
		st.decode(pr, st.projectFile, true, st.projectVars, st.values0, env)
	}
	pr.envNames = appEnvironmentNames(st.projectFile)
	if len(pr.diags) > 0 {
		pr.src = project.src
	}
	return pr
}

// file reads, parses, decodes and checks spec file i for envs, or takes
// it from the index when it is not selected and has not changed, into r
// (empty but for its facts).
func (st *streamer) file(i int, envs []string, r *fileResult) *fileResult {
	path := st.l.files[i]
	r.path, r.display, r.rel, r.selected = path, st.l.display(path), st.l.rel(path), st.l.selected(path)
	declared := false
	defer func() {
		if !declared {
			st.declare(i, nil)
		}
	}()
	var stat fileStat
	if st.opts.Index {
		stat = st.l.stats[i] // as found
	}
	var src []byte
	if r.selected && st.opts.Replay != nil && st.index != nil {
		// Only a file that was clean has memos (keepMemos).
		if e := st.index.lookup(r.rel); e != nil {
			if memos, ok := e.memosFor(st.opts.MemoKey, envs); ok {
				if src, ok = st.usable(e, path, stat, envs); ok && st.replay(r, e, envs, memos) {
					st.fromEntry(r, e, envs)
					r.memos = memos
					st.declare(i, r.decls)
					declared = true
					return r
				}
			}
		}
	}
	if src == nil && st.scoped && !r.selected {
		if e := st.index.lookup(r.rel); e != nil {
			var ok bool
			if src, ok = st.usable(e, path, stat, envs); ok {
				st.fromEntry(r, e, envs)
				st.declare(i, r.decls)
				declared = true
				return r
			}
		}
	}
	if f := st.opts.Parsing; f != nil {
		st.parsing.Do(f)
	}
	if src == nil {
		var err error
		if src, err = rawfile.ReadFile(path); err != nil {
			r.diags = errorDiag("Cannot read spec file", unwrapPathError(err).Error()+".")
			return r
		}
	}
	ps := parseSource(source{display: r.display, rel: r.rel, src: src, selected: r.selected}, specFileSchema)
	if ps.file != nil && !ps.diags.HasErrors() {
		ps.diags = append(ps.diags, emptySpec(ps.file, r.display)...)
	}
	r.diags = ps.diags
	if ps.sf != nil {
		sf := ps.sf
		if st.alone && st.needsEarlier(sf) {
			r.needsOthers = true // read again with the others (replayEdited)
			return r
		}
		vars, values, localInputs, d := st.fileVariables(i, sf)
		declared = true
		r.decls = vars
		r.diags = append(r.diags, d...)
		visible := append(append([]*Variable{}, st.projectVars...), vars...)
		for _, env := range envs {
			st.decode(r, sf, false, visible, values, env)
		}
		r.envNames = appEnvironmentNames(sf)
		if st.opts.Index {
			r.entry = st.newEntry(r, stat, src, ps.file, localInputs)
		}
	}
	if len(r.diags) > 0 {
		r.src = src
	}
	return r
}

// replay hands the apps of the unchanged file r, as its entry e summarizes
// them, to Replay with their memos, in every environment of envs; it
// completes the visits only when every one can be replayed.
func (st *streamer) replay(r *fileResult, e *indexEntry, envs []string, memos *blobs) bool {
	var complete []func()
	for _, env := range envs {
		// Bare apps: names and ranges are all a replay needs of an app
		// (a full render replays every spec, so this runs for each).
		f := decodeBare(e.facts.get(env), r.display, r.rel, nil, nil)
		ms, ok := decodeMemos(memos.get(env))
		if !ok || len(ms) != len(f.apps) {
			return false
		}
		for k, app := range f.apps {
			done, ok := st.opts.Replay(st.sets[env], app, ms[k])
			if !ok {
				return false
			}
			complete = append(complete, done)
		}
	}
	for _, done := range complete {
		done()
	}
	return true
}

// decode decodes sf's apps and externals for env, checks them on their
// own, hands the selected ones to Visit and keeps their summaries.
func (st *streamer) decode(r *fileResult, sf *specFile, isProjectFile bool, visible []*Variable, values map[*Variable]cty.Value, env string) {
	set := st.sets[env]
	apps, exts, d := decodeSpecFile(sf, isProjectFile, evalContext(values, visible, env, set.Project.Name), env, st.known)
	d = append(d, validateLocal(set.Project, env, apps, exts)...)
	r.diags = append(r.diags, d...)
	r.templates = r.templates || readsTemplates(apps)
	switch {
	case r.selected && st.opts.Memo != nil:
		memos := make([][]byte, len(apps))
		for k, app := range apps {
			m, ok := st.opts.Memo(set, app)
			memos[k] = m
			r.noMemo = r.noMemo || !ok
		}
		if r.memos == nil {
			r.memos = &blobs{}
		}
		r.memos.set(env, encodeMemos(memos))
	case r.selected && st.opts.Visit != nil:
		for _, app := range apps {
			st.opts.Visit(set, app)
		}
	}
	w := &encoder{}
	encodeFacts(w, apps, exts)
	r.facts.set(env, w.b)
}

// readsTemplates reports whether any of apps reads a template file.
func readsTemplates(apps []*App) bool {
	for _, app := range apps {
		for _, t := range app.Tasks() {
			if t == nil {
				continue
			}
			for _, f := range t.Files {
				if f.Source.Set {
					return true
				}
			}
		}
	}
	return false
}

// declare records the variables spec file i declares.
func (st *streamer) declare(i int, vars []*Variable) {
	st.declMu.Lock()
	st.declsOf[i], st.declared[i] = vars, true
	for st.frontier < len(st.declared) && st.declared[st.frontier] {
		st.frontier++
	}
	st.declMu.Unlock()
	st.declCond.Broadcast()
}

// fileVariables declares the variables of spec file i, as collectVariables
// and resolveVariables do for a whole project: a file's variable is
// visible in that file only, and has the value the inputs give it or its
// default. What a file declares is independent of the others, except in
// two cases that need the declarations of every earlier file (the first
// declaration of a name sets the type an input is read with; a name
// declared twice in a file is a duplicate only if no earlier file declares
// it): only then does the file wait for the earlier ones to declare theirs.
// localInputs reports that an input sets one of the file's variables.
func (st *streamer) fileVariables(i int, sf *specFile) (vars []*Variable, values map[*Variable]cty.Value, localInputs bool, diags hcl.Diagnostics) {
	e := &evaluator{}
	var all []*Variable
	for _, b := range sf.content.Blocks.OfType("variable") {
		all = append(all, decodeVariable(b, e, sf.name))
	}
	for _, v := range all {
		localInputs = localInputs || st.projectVar[v.Name] == nil && st.inputNames[v.Name]
	}
	earlier := map[string]*Variable{}
	if st.needsEarlier(sf) {
		st.declMu.Lock()
		for st.frontier < i {
			st.declCond.Wait()
		}
		for j := i - 1; j >= 0; j-- {
			for k := len(st.declsOf[j]) - 1; k >= 0; k-- {
				v := st.declsOf[j][k]
				earlier[v.Name] = v // the earliest declaration wins
			}
		}
		st.declMu.Unlock()
	}
	blocks := sf.content.Blocks.OfType("variable")
	first := map[string]*Variable{}
	for k, v := range all {
		b := blocks[k]
		if prev := st.projectVar[v.Name]; prev != nil {
			e.errorf(b.LabelRanges[0], "Duplicate variable", "Variable %q is already declared at %s:%d.", v.Name, prev.File, prev.DeclRange.Start.Line)
			continue
		}
		if prev := first[v.Name]; prev != nil && earlier[v.Name] == nil {
			e.errorf(b.LabelRanges[0], "Duplicate variable", "Variable %q is already declared at %s:%d.", v.Name, prev.File, prev.DeclRange.Start.Line)
			continue
		}
		if first[v.Name] == nil {
			first[v.Name] = v
		}
		vars = append(vars, v)
	}
	st.declare(i, vars)

	values = maps.Clone(st.values0)
	if !localInputs {
		for _, v := range vars {
			switch {
			case v.Default != cty.NilVal:
				values[v] = v.Default
			default:
				values[v] = cty.UnknownVal(v.Type)
			}
		}
		return vars, values, false, e.diags
	}
	decls := map[string][]*Variable{}
	for _, v := range vars {
		if decls[v.Name] == nil {
			if ev := earlier[v.Name]; ev != nil {
				decls[v.Name] = []*Variable{ev}
			}
		}
		decls[v.Name] = append(decls[v.Name], v)
	}
	own, _ := resolveVariables(decls, st.opts.Inputs, &parseCache{files: map[string]*hcl.File{}})
	for _, v := range vars {
		values[v] = own[v]
	}
	return vars, values, true, e.diags
}

// needsEarlier reports whether spec file sf is one of the few whose
// variables depend on what earlier files declare (see fileVariables).
func (st *streamer) needsEarlier(sf *specFile) bool {
	count := map[string]int{}
	for _, b := range sf.content.Blocks.OfType("variable") {
		count[b.Labels[0]]++
	}
	for name, n := range count {
		if st.projectVar[name] == nil && (n > 1 || st.inputNames[name]) {
			return true
		}
	}
	return false
}

// inputVariableNames lists the variable names the inputs set: DROVER_VAR_*
// variables, the attributes of the variable files and -var names.
func inputVariableNames(in VarInputs, cache *parseCache) map[string]bool {
	names := map[string]bool{}
	for _, kv := range in.Environ {
		if name, _, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(name, EnvVarPrefix) {
			names[strings.TrimPrefix(name, EnvVarPrefix)] = true
		}
	}
	for _, path := range in.VarFiles {
		src, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		if f, _ := cache.parse(src, path); f != nil {
			attrs, _ := f.Body.JustAttributes()
			for name := range attrs {
				names[name] = true
			}
		}
	}
	for _, kv := range in.Vars {
		if name, _, ok := strings.Cut(kv, "="); ok {
			names[name] = true
		}
	}
	return names
}

// environmentSet is every environment declared: the project's and its
// apps'.
func (st *streamer) environmentSet(results []*fileResult) map[string]bool {
	set := map[string]bool{}
	if st.projectFile != nil {
		for _, n := range projectEnvironmentNames(st.projectFile) {
			set[n] = true
		}
	}
	for _, r := range results {
		for _, n := range r.envNames {
			set[n] = true
		}
	}
	return set
}

// finish resolves every variable declaration, assembles each
// environment's Set from the summaries, runs the checks across files and
// writes the index.
func (st *streamer) finish(results []*fileResult) ([]*Set, hcl.Diagnostics) {
	if st.replayOutcome(results) {
		st.writeIndex(results) // entries refreshed (settled) since, if any
		return nil, nil
	}
	if st.replaySets() {
		st.writeIndex(results)
		st.keyOutcome(0)
		return st.projectSets(), nil
	}
	diags := st.diags
	decls := map[string][]*Variable{}
	var others []string // not selected, with errors (scoped)
	for _, r := range results {
		for _, v := range r.decls {
			decls[v.Name] = append(decls[v.Name], v)
		}
		if st.scoped && !r.selected {
			if r.diags.HasErrors() || r.entry != nil && r.entry.errors {
				others = append(others, r.display)
			}
			continue
		}
		diags = append(diags, r.diags...)
	}
	_, d := resolveVariables(decls, st.opts.Inputs, st.cache)
	// A file taken from the index declares its variables without their
	// defaults; what resolving them reports was reported when it was read.
	fromIndex := map[string]bool{}
	for _, r := range results {
		fromIndex[r.display] = r.fromIndex
	}
	d = slices.DeleteFunc(d, func(d *hcl.Diagnostic) bool { return d.Subject != nil && fromIndex[d.Subject.Filename] })
	diags = append(diags, d...)

	var sets []*Set
	// Room for every environment's decoding of each file, in one piece.
	slab := make([]decodedFacts, len(results)*len(st.envs))
	st.decoded = make([][]decodedFacts, len(results))
	for i := range st.decoded {
		st.decoded[i] = slab[i*len(st.envs) : i*len(st.envs) : (i+1)*len(st.envs)]
	}
	for _, env := range st.envs {
		set := st.sets[env]
		if st.scoped {
			check := st.assembleScoped(set, results, env)
			sortSet(set)
			diags = append(diags, validateProjectChecked(set, func(a *App) bool { return check[a] })...)
			sets = append(sets, set)
			continue
		}
		for i, f := range st.decodeAll(results, env, func(int) bool { return true }, nil) {
			if f == nil {
				continue
			}
			set.addFile(f.apps, f.externals, results[i].selected)
		}
		sortSet(set)
		diags = append(diags, validateProject(set)...)
		sets = append(sets, set)
	}
	if len(others) > 0 {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Other specs have errors",
			Detail: fmt.Sprintf("%d other spec file(s) of the project have errors (%s first); they are not checked here. Validate the project to see them.", len(others), others[0])})
	}
	diags = diag.Dedupe(diags)
	files := st.cache.files
	for _, r := range results {
		if r.src != nil {
			files[r.display] = &hcl.File{Bytes: r.src}
		}
	}
	byDisplay := map[string]string{}
	for _, d := range diags {
		if d.Subject == nil || files[d.Subject.Filename] != nil {
			continue
		}
		if len(byDisplay) == 0 {
			for _, r := range results {
				byDisplay[r.display] = r.path
			}
		}
		if path, ok := byDisplay[d.Subject.Filename]; ok {
			if src, err := os.ReadFile(path); err == nil {
				files[d.Subject.Filename] = &hcl.File{Bytes: src}
			}
		}
	}
	for _, set := range sets {
		set.Files = files
	}
	if st.opts.Index && st.l.hasProject {
		st.writeIndex(results)
	}
	st.keyOutcome(len(diags))
	return sets, diags
}

// validateLocal runs validate's checks that need only the apps and
// externals of one file: all but those across files (unique names,
// upstream targets, public routes), which validateProject runs on the
// summaries of every file. Every upstream's target stands for an app that
// serves in the mesh here, so only validateProject reports on targets.
func validateLocal(project *Project, env string, apps []*App, exts []*External) hcl.Diagnostics {
	set := &Set{Project: project, Environment: env, Apps: apps, Externals: exts}
	ix := &setIndex{apps: map[string]*App{}, externals: map[string]*External{}, callers: map[string][]string{}, public: map[*App]bool{}}
	for _, a := range apps {
		if a.Service != nil {
			for _, u := range a.Service.Upstreams {
				ix.apps[u.Name] = servingTarget
			}
		}
	}
	set.index = ix
	set.indexOnce.Do(func() {})
	v := &validator{set: set, e: &evaluator{}}
	for _, app := range apps {
		v.app(app)
	}
	for _, ext := range exts {
		v.external(ext)
	}
	return v.e.diags
}

// servingTarget is any app that serves in the mesh.
var servingTarget = &App{Service: &Service{Port: Val[string]{V: "service"}}, AppSettings: noSettings}

// validateProject runs validate's checks across files on a Set of
// summaries: names, upstream targets (with each upstream's own checks
// again, which Dedupe then drops) and public routes.
func validateProject(set *Set) hcl.Diagnostics {
	return validateProjectChecked(set, func(*App) bool { return true })
}

// validateProjectChecked is validateProject with the upstreams of the
// apps check selects only.
func validateProjectChecked(set *Set, check func(*App) bool) hcl.Diagnostics {
	v := &validator{set: set, e: &evaluator{}}
	v.uniqueNames()
	for _, app := range set.Apps {
		if app.Service == nil || !check(app) {
			continue
		}
		used := map[int]string{}
		for _, p := range app.Ports {
			if p.To.Set {
				used[p.To.V] = "port " + quote(p.Label)
			}
		}
		for _, u := range app.Service.Upstreams {
			v.upstream(app, u, used)
		}
	}
	v.exposures()
	return v.e.diags
}

// Complete returns a copy of set in which full apps replace their
// summaries: those of the same name and file.
func (s *Set) Complete(full []*App) *Set {
	type key struct{ name, file string }
	byKey := make(map[key]*App, len(full))
	for _, a := range full {
		byKey[key{a.Name, a.File}] = a
	}
	out := &Set{Root: s.Root, Project: s.Project, Environment: s.Environment, Apps: make([]*App, len(s.Apps)), Externals: s.Externals, Files: s.Files, Selected: s.Selected, SelectedExternals: s.SelectedExternals}
	for i, a := range s.Apps {
		if f := byKey[key{a.Name, a.File}]; f != nil {
			a = f
		}
		out.Apps[i] = a
	}
	return out
}

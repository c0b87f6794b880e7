package spec

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/drover-io/drover/internal/parallel"
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
		p.diags = append(p.diags, unknownEnvironment(env, p))
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

func open(opts LoadOptions) (*loadedProject, hcl.Diagnostics) {
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
	abs := make([]string, len(paths))
	for i, path := range paths {
		if !filepath.IsAbs(path) {
			path = filepath.Join(wd, path)
		}
		abs[i] = filepath.Clean(path)
		if _, err := os.Stat(abs[i]); err != nil {
			return nil, errorDiag("Cannot read spec path", fmt.Sprintf("%s: %s.", paths[i], unwrapPathError(err)))
		}
	}

	root, hasProject := findRoot(abs)
	display := func(path string) string {
		if rel, err := filepath.Rel(wd, path); err == nil && !strings.HasPrefix(rel, "..") {
			return rel
		}
		return path
	}
	searched := abs
	if hasProject {
		searched = []string{root}
	}
	var files []string
	var readDiags hcl.Diagnostics
	for _, path := range searched {
		found, d := discover(path, display)
		files = append(files, found...)
		readDiags = append(readDiags, d...)
	}
	files = uniqueSorted(files)
	if len(files) == 0 && !hasProject {
		return nil, append(readDiags, errorDiag("No spec files found", fmt.Sprintf("No *.hcl spec files were found in %s.", strings.Join(paths, ", ")))...)
	}

	read := func(path string, selected bool) *source {
		src, err := os.ReadFile(path)
		if err != nil {
			readDiags = append(readDiags, errorDiag("Cannot read spec file", unwrapPathError(err).Error()+".")...)
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		return &source{display: display(path), rel: filepath.ToSlash(rel), src: src, selected: selected}
	}
	var project *source
	if hasProject {
		project = read(filepath.Join(root, ProjectFileName), true)
	}
	read1 := make([]*source, len(files))
	errs1 := make([]hcl.Diagnostics, len(files))
	parallel.ForEach(len(files), func(i int) {
		src, err := os.ReadFile(files[i])
		if err != nil {
			errs1[i] = errorDiag("Cannot read spec file", unwrapPathError(err).Error()+".")
			return
		}
		rel, _ := filepath.Rel(root, files[i])
		read1[i] = &source{display: display(files[i]), rel: filepath.ToSlash(rel), src: src, selected: isSelected(files[i], abs, root, hasProject)}
	})
	var specs []source
	for i, s := range read1 {
		readDiags = append(readDiags, errs1[i]...)
		if s != nil {
			specs = append(specs, *s)
		}
	}
	p := build(root, project, specs, opts.Inputs)
	p.diags = append(readDiags, p.diags...)
	if opts.Environment != "" && !p.hasEnvironment(opts.Environment) {
		p.diags = append(p.diags, unknownEnvironment(opts.Environment, p))
	}
	return p, p.diags
}

func unknownEnvironment(env string, p *loadedProject) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown environment",
		Detail: fmt.Sprintf("No environment named %q is declared in drover.hcl or in any app%s.", env, suggestFrom(env, p.environmentSet()))}
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
	content, d := f.Body.Content(schema)
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
		for _, b := range p.projectFile.content.Blocks.OfType("project") {
			if c, _, d := b.Body.PartialContent(projectSchema); !d.HasErrors() {
				for _, eb := range c.Blocks.OfType("environment") {
					set[eb.Labels[0]] = true
				}
			}
		}
	}
	for _, sf := range p.specs {
		for _, b := range sf.content.Blocks.OfType("app") {
			if c, _, d := b.Body.PartialContent(appSchema); !d.HasErrors() {
				for _, eb := range c.Blocks.OfType("environment") {
					set[eb.Labels[0]] = true
				}
			}
		}
	}
	return set
}

func (p *loadedProject) hasEnvironment(name string) bool { return p.environmentSet()[name] }

// resolve decodes the project, apps and externals for one environment and
// validates the result.
func (p *loadedProject) resolve(env string) (*Set, hcl.Diagnostics) {
	set := &Set{Root: p.root, Environment: env, Files: p.cache.files, Selected: map[string]bool{}, SelectedExternals: map[string]bool{}}
	e := &evaluator{}

	var projectBlock *hcl.Block
	projectFileName := ""
	if p.projectFile != nil {
		projectFileName = p.projectFile.name
		e.ctx = evalContext(p.values, p.projectVars, env, "")
		projectBlock = e.onlyOne(p.projectFile.content.Blocks.OfType("project"), ProjectFileName)
		if projectBlock == nil {
			e.errorf(hcl.Range{Filename: projectFileName, Start: hcl.InitialPos, End: hcl.InitialPos}, "Missing project block",
				"drover.hcl must contain a project \"<name>\" block.")
		}
	}
	set.Project = decodeProject(projectBlock, e, env, projectFileName)

	known := map[string]bool(nil)
	if len(set.Project.Environments) > 0 {
		known = map[string]bool{}
		for n := range set.Project.Environments {
			known[n] = true
		}
	}
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
		fe := &evaluator{ctx: evalContext(p.values, visible, env, set.Project.Name)}
		var r decoded
		for _, b := range sf.content.Blocks.OfType("project") {
			if sf != p.projectFile {
				fe.errorf(b.DefRange, "Project block outside drover.hcl",
					"Project settings belong in %s at the project root, so that every spec sees the same ones.", ProjectFileName)
			}
		}
		for _, b := range sf.content.Blocks.OfType("app") {
			r.apps = append(r.apps, decodeApp(b, fe, sf.rel, env, known))
		}
		for _, b := range sf.content.Blocks.OfType("external") {
			r.externals = append(r.externals, decodeExternal(b, fe, sf.rel))
		}
		r.diags = fe.diags
		results[i] = r
	})
	for i, r := range results {
		e.diags = append(e.diags, r.diags...)
		set.Apps = append(set.Apps, r.apps...)
		set.Externals = append(set.Externals, r.externals...)
		if files[i].selected {
			for _, app := range r.apps {
				set.Selected[app.Name] = true
			}
			for _, ext := range r.externals {
				set.SelectedExternals[ext.Name] = true
			}
		}
	}
	sort.SliceStable(set.Apps, func(i, j int) bool { return set.Apps[i].Name < set.Apps[j].Name })
	sort.SliceStable(set.Externals, func(i, j int) bool { return set.Externals[i].Name < set.Externals[j].Name })

	diags := e.diags
	diags = append(diags, validate(set)...)
	return set, diags
}

// isSelected reports whether file lies in one of the requested paths. With
// no project every discovered file was requested.
func isSelected(file string, requested []string, root string, hasProject bool) bool {
	if !hasProject {
		return true
	}
	for _, r := range requested {
		if r == root || file == r || strings.HasPrefix(file, r+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

func uniqueSorted(in []string) []string {
	sort.Strings(in)
	out := in[:0]
	for i, s := range in {
		if i == 0 || s != in[i-1] {
			out = append(out, s)
		}
	}
	return out
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

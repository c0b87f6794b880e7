package render

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/pkg/spec"
)

// Stream renders a project's artifacts into files while the project loads
// (spec.Stream's Visit), so that no more than a few apps' jobs are in
// memory at once however large the project: App renders, encodes and
// writes one app's job, Vault policy and role, and keeps only their
// checksums; Finish renders what derives from the whole project (config
// entries, routers, gateways, catalog registrations) from the apps'
// summaries and writes it with the manifest. The files are the same bytes
// Render and Bundle.Files give.
type Stream struct {
	opts  Options
	write func(File) error
	// intact says whether a file an earlier Stream wrote is still in place
	// as written (see SetIntact); nil: Replay replays nothing.
	intact func(path string, sum [sha256.Size]byte, size int) bool
	// manifestIs and unchanged check a whole render's files without the
	// previous manifest's listing (see SetUnchanged); nil: intact does.
	manifestIs func(sum [sha256.Size]byte, size int) bool
	unchanged  func(path string, size int) bool

	mu sync.Mutex
	// apps are the outcome of each app rendered, in no order.
	apps []streamedApp
	err  error // of encoding or writing
	// finished is what the last Finish wrote (OutcomeMemo).
	finished *finished
	// prior are the Set's artifacts an earlier render of the same Set
	// wrote, intact, when priorTaken (TakePrior): maybe none.
	prior      []setArtifact
	priorTaken bool
}

// streamedApp is what Stream keeps of one rendered app: what names its
// artifacts and where they went.
type streamedApp struct {
	name  string
	err   error // a render error that is not diagnostics
	diags hcl.Diagnostics
	// What names the artifacts: the job's owner, ID and whether it keeps
	// its counts; the Vault policy and role's (when the app has secrets).
	owner                         Owner
	jobID                         string
	preserveCounts, vault         bool
	policy, role                  string
	mount                         string
	jobFile, policyFile, roleFile streamedFile
}

// streamedFile is where an artifact went, its checksum and size.
type streamedFile struct {
	path string
	sum  [sha256.Size]byte
	size int
}

// NewStream returns a Stream that passes each file to write, which may be
// called from several goroutines at once.
func NewStream(opts Options, write func(File) error) *Stream {
	return &Stream{opts: opts, write: write}
}

// App renders app's job, Vault policy and role and writes them. set gives
// the project (set.Project); the other apps need not be known yet. It may
// be called from several goroutines at once.
func (s *Stream) App(set *spec.Set, app *spec.App) { s.app(set, app) }

// SetIntact lets Replay reuse what an earlier render wrote: intact reports
// whether the file at path (slash-separated, relative to the output) is
// still there as written, of that checksum and size. It is called from
// several goroutines at once.
func (s *Stream) SetIntact(intact func(path string, sum [sha256.Size]byte, size int) bool) {
	s.intact = intact
}

// SetUnchanged lets ReplayOutcome check the files of a whole render with
// less than intact needs: manifestIs reports whether manifest.json is
// there with checksum sum and size, not changed since it was read; and
// when the memo's manifest is, it lists every other file of the memo with
// the memo's checksum, so that unchanged need only report whether the
// file at path is there as the render that wrote that manifest left it,
// of size. Both are called from several goroutines at once.
func (s *Stream) SetUnchanged(manifestIs func(sum [sha256.Size]byte, size int) bool, unchanged func(path string, size int) bool) {
	s.manifestIs, s.unchanged = manifestIs, unchanged
}

// AppMemo renders app as App does and returns its memo for spec.Stream's
// index (what Replay needs to stand for the render), or false when the
// render found a problem. What App writes for an app depends on the app
// and set.Project only, never on the other apps
// (TestStreamAppDependsOnTheAppAndProjectOnly): the index, which replays
// a spec while its file, the project file and the variables it reads are
// unchanged, relies on it.
func (s *Stream) AppMemo(set *spec.Set, app *spec.App) ([]byte, bool) {
	out := s.app(set, app)
	if out.err != nil || len(out.diags) > 0 || out.jobID == "" {
		return nil, false
	}
	return encodeMemo(&out), true
}

// Replay stands for rendering an app whose spec has not changed since
// AppMemo gave memo: when every file the render wrote is intact, it
// returns what records them as this render's (for Finish and the
// manifest). The app is its summary, as the index keeps it.
func (s *Stream) Replay(_ *spec.Set, app *spec.App, memo []byte) (func(), bool) {
	out, ok := decodeMemo(memo)
	if s.intact == nil || !ok || out.owner.App != app.Name {
		return nil, false
	}
	files := []streamedFile{out.jobFile}
	if out.vault {
		files = append(files, out.policyFile, out.roleFile)
	}
	for _, f := range files {
		if !s.intact(f.path, f.sum, f.size) {
			return nil, false
		}
	}
	out.name = app.Name
	return func() {
		s.mu.Lock()
		s.apps = append(s.apps, out)
		s.mu.Unlock()
	}, true
}

func (s *Stream) app(set *spec.Set, app *spec.App) streamedApp {
	r := &renderer{set: set, opts: s.opts}
	out := streamedApp{name: app.Name}
	job, err := r.appJob(app)
	var de *DiagnosticsError
	switch {
	case errors.As(err, &de):
		out.diags = de.Diags
	case err != nil:
		out.err = err
	default:
		var werr error
		out.owner, out.jobID, out.preserveCounts = job.Owner, job.ID(), job.PreserveCounts
		out.jobFile, werr = s.emit(path.Join(nomadJobsDir, job.ID()+nomadJobExtension), func() ([]byte, error) { return marshalJSON(JobRegisterBody{Job: job.Job}) })
		if p, role := r.vault(app); p != nil && werr == nil {
			out.vault, out.policy, out.role, out.mount = true, p.Name, role.Name, role.Mount
			out.policyFile, werr = s.emit(path.Join(vaultPoliciesDir, p.Name+".hcl"), func() ([]byte, error) { return []byte(p.Policy), nil })
			if werr == nil {
				out.roleFile, werr = s.emit(path.Join(vaultRolesDir, role.Name+".json"), func() ([]byte, error) { return marshalJSON(role.Data) })
			}
		}
		if werr != nil {
			s.fail(werr)
		}
	}
	s.mu.Lock()
	s.apps = append(s.apps, out)
	s.mu.Unlock()
	return out
}

// emit encodes one file and writes it.
func (s *Stream) emit(p string, encode func() ([]byte, error)) (streamedFile, error) {
	data, err := encode()
	if err != nil {
		return streamedFile{}, fmt.Errorf("encode %s: %w", p, err)
	}
	f := streamedFile{path: p, sum: sha256.Sum256(data), size: len(data)}
	return f, s.write(File{Path: p, Data: data, SHA256: f.sum})
}

func (s *Stream) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
}

// Finish renders what derives from the whole project from set
// (spec.Stream's, with summaries of every app): the config entries of the
// selected apps (their intentions name every caller) and of the public
// apps, the externals' entries and registrations, routers and gateways. It
// writes each as it is rendered, then manifest.json, and returns the
// bundle and the manifest. The bundle names every artifact (kind, name,
// owner) and holds no more: the files hold the artifacts. Errors are those
// Render would return: of the first app in name order when it is not
// diagnostics, else every app's diagnostics in a *DiagnosticsError.
func (s *Stream) Finish(set *spec.Set, version string) (*Bundle, Manifest, error) {
	if s.err != nil {
		return nil, Manifest{}, s.err
	}
	apps := append([]streamedApp(nil), s.apps...)
	sort.SliceStable(apps, func(i, j int) bool { return apps[i].name < apps[j].name })
	var diags hcl.Diagnostics
	for _, a := range apps {
		if a.err != nil {
			return nil, Manifest{}, a.err
		}
		diags = append(diags, a.diags...)
	}
	if diags.HasErrors() {
		return nil, Manifest{}, &DiagnosticsError{Diags: diags}
	}

	b := &Bundle{Project: set.Project.Name}
	files := map[any]streamedFile{}
	appsFiles := map[any]bool{} // of files, those the apps' memos stand for
	for i := range apps {
		a := &apps[i]
		if a.jobID == "" {
			continue
		}
		j := &Job{Owner: a.owner, Job: &nomadapi.Job{ID: &a.jobID}, PreserveCounts: a.preserveCounts}
		b.Jobs = append(b.Jobs, j)
		files[j], appsFiles[j] = a.jobFile, true
		if a.vault {
			p, role := &VaultPolicy{Owner: a.owner, Name: a.policy}, &VaultRole{Owner: a.owner, Name: a.role, Mount: a.mount}
			b.VaultPolicies = append(b.VaultPolicies, p)
			b.VaultRoles = append(b.VaultRoles, role)
			files[p], files[role] = a.policyFile, a.roleFile
			appsFiles[p], appsFiles[role] = true, true
		}
	}
	s.apps = nil
	// What derives from the Set alone stands as an earlier render of the
	// same Set wrote it, when that is intact (TakePrior).
	arts := s.prior
	if !s.priorTaken {
		var err error
		if arts, err = s.renderSet(set); err != nil {
			return nil, Manifest{}, err
		}
	}
	for _, a := range arts {
		switch {
		case a.job != nil:
			b.Jobs = append(b.Jobs, a.job)
			files[a.job] = a.file
		case a.entry != nil:
			b.ConfigEntries = append(b.ConfigEntries, a.entry)
			files[a.entry] = a.file
		default:
			b.Registrations = append(b.Registrations, a.reg)
			files[a.reg] = a.file
		}
	}
	sortBundle(b)

	// In the order of Bundle.Files.
	manifest := Manifest{Project: b.Project, DroverVersion: version, Artifacts: make([]ManifestEntry, 0, len(files))}
	add := func(key any, kind, name, writtenBy string, owner Owner) {
		f := files[key]
		manifest.Artifacts = append(manifest.Artifacts, ManifestEntry{
			Kind: kind, Name: name, Path: f.path, App: owner.App, Spec: owner.Spec, WrittenBy: writtenBy, SHA256: hex.EncodeToString(f.sum[:]),
		})
	}
	for _, j := range b.Jobs {
		add(j, KindNomadJob, j.ID(), writtenByDrover, j.Owner)
	}
	for _, ce := range b.ConfigEntries {
		by := writtenByDrover
		if ce.WrittenByNomad {
			by = writtenByNomad
		}
		add(ce, ce.Kind(), ce.Name(), by, ce.Owner)
	}
	for _, reg := range b.Registrations {
		add(reg, KindCatalog, reg.Registration.Service.Service, writtenByDrover, reg.Owner)
	}
	for _, p := range b.VaultPolicies {
		add(p, KindVaultPolicy, p.Name, writtenByDrover, p.Owner)
	}
	for _, role := range b.VaultRoles {
		add(role, KindVaultJWTRole, role.Name, writtenByDrover, role.Owner)
	}
	data := encodeManifest(manifest)
	mf := streamedFile{path: ManifestFileName, sum: sha256.Sum256(data), size: len(data)}
	if err := s.write(File{Path: ManifestFileName, Data: data, SHA256: mf.sum}); err != nil {
		return nil, Manifest{}, err
	}
	done := &finished{counts: b.Counts(), set: arts, files: make([]streamedFile, 0, len(files)-len(appsFiles)+1), appFiles: make([]streamedFile, 0, len(appsFiles))}
	for key, f := range files {
		if appsFiles[key] {
			done.appFiles = append(done.appFiles, f)
		} else {
			done.files = append(done.files, f)
		}
	}
	byPath := func(a, b streamedFile) int { return strings.Compare(a.path, b.path) }
	slices.SortFunc(done.files, byPath)
	slices.SortFunc(done.appFiles, byPath)
	s.finished = done
	done.files = append(done.files, mf)
	return b, manifest, nil
}

// emittedEntry is a config entry Finish wrote: its name, its file and the
// error writing it, if any.
type emittedEntry struct {
	named *ConfigEntry
	file  streamedFile
	err   error
}

// named is ce with its kind and name only, as a Bundle of Finish's holds
// it: the file holds the rest.
func (ce *ConfigEntry) named() *ConfigEntry {
	return &ConfigEntry{Owner: ce.Owner, Entry: namedEntry{kind: ce.Kind(), name: ce.Name()}, WrittenByNomad: ce.WrittenByNomad}
}

// namedEntry stands for a config entry that was written out: its kind and
// name, nothing else.
type namedEntry struct{ kind, name string }

func (e namedEntry) GetKind() string            { return e.kind }
func (e namedEntry) GetName() string            { return e.name }
func (e namedEntry) GetPartition() string       { return "" }
func (e namedEntry) GetNamespace() string       { return "" }
func (e namedEntry) GetMeta() map[string]string { return nil }
func (e namedEntry) GetCreateIndex() uint64     { return 0 }
func (e namedEntry) GetModifyIndex() uint64     { return 0 }

// Check renders app's job as Render would, without keeping it, for what
// only rendering finds: a nomad block (or Nomad's own group, job or docker
// blocks) outside Nomad's vocabulary, a reserved meta key. The error is a
// *DiagnosticsError for problems in the spec. set gives the project.
func Check(set *spec.Set, app *spec.App) error {
	r := &renderer{set: set}
	_, err := r.buildAppJob(app)
	return err
}

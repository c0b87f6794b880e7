package render

import (
	"slices"
	"sync/atomic"

	"github.com/drover-io/drover/internal/parallel"
)

// A render's outcome memo stands for all that Finish wrote, so that a
// render -o of the same inputs as one before (see spec.Outcome) can skip
// Finish when those files are as written: the artifacts of each kind
// counted, the files Finish wrote (config entries, registrations,
// gateways, manifest.json) with their checksums and sizes, and the apps'
// own files (jobs, Vault policies and roles) the same way. The apps' files
// are the apps' memos' (Replay) too, and are checked only when those were
// not replayed. Last come the artifacts Finish derived from the Set alone,
// named, each with its file among Finish's: what a render of the same Set
// takes over when they are intact (see TakePrior).
//
//	version byte (outcomeVersion)
//	jobs, config entries, registrations, Vault policies, roles (uvarints)
//	Finish's files, then the apps' files: each a count (uvarint), then
//	  each path (uvarint length, bytes), SHA-256 (32 bytes), size (uvarint)
//	the Set's artifacts: a count, then each a kind byte (setJob,
//	  setEntry, setRegistration), its owner's project, app and spec, what
//	  names it (see encodeSetArtifact), and its file's index among
//	  Finish's files (uvarint)
const outcomeVersion = 3

// Counts are how many artifacts of each kind a render made.
type Counts struct {
	Jobs, ConfigEntries, Registrations, VaultPolicies, VaultRoles int
}

// Counts counts b's artifacts.
func (b *Bundle) Counts() Counts {
	return Counts{Jobs: len(b.Jobs), ConfigEntries: len(b.ConfigEntries), Registrations: len(b.Registrations), VaultPolicies: len(b.VaultPolicies), VaultRoles: len(b.VaultRoles)}
}

// OutcomeMemo returns the memo of what the last Finish wrote, for
// ReplayOutcome; nil before a Finish that succeeded.
func (s *Stream) OutcomeMemo() []byte {
	if s.finished == nil {
		return nil
	}
	c := s.finished.counts
	w := &memoWriter{b: []byte{outcomeVersion}}
	for _, n := range []int{c.Jobs, c.ConfigEntries, c.Registrations, c.VaultPolicies, c.VaultRoles} {
		w.uvarint(n)
	}
	for _, files := range [][]streamedFile{s.finished.files, s.finished.appFiles} {
		w.uvarint(len(files))
		for _, f := range files {
			w.file(f)
		}
	}
	index := make(map[string]int, len(s.finished.files))
	for i, f := range s.finished.files {
		index[f.path] = i
	}
	w.uvarint(len(s.finished.set))
	for _, a := range s.finished.set {
		encodeSetArtifact(w, a, index[a.file.path])
	}
	return w.b
}

// outcomeMemo is an outcome memo, read.
type outcomeMemo struct {
	counts          Counts
	files, appFiles []streamedFile
	set             []setArtifact
}

// decodeOutcomeMemo decodes memo, with the Set's artifacts when withSet
// (only TakePrior needs them).
func decodeOutcomeMemo(memo []byte, withSet bool) (outcomeMemo, bool) {
	var m outcomeMemo
	if len(memo) == 0 || memo[0] != outcomeVersion {
		return m, false
	}
	r := &memoReader{b: memo[1:]}
	c := &m.counts
	c.Jobs, c.ConfigEntries, c.Registrations, c.VaultPolicies, c.VaultRoles = r.uvarint(), r.uvarint(), r.uvarint(), r.uvarint(), r.uvarint()
	for _, files := range []*[]streamedFile{&m.files, &m.appFiles} {
		n := r.uvarint()
		if n > len(r.b) {
			return m, false
		}
		*files = make([]streamedFile, 0, n)
		for ; n > 0 && !r.bad; n-- {
			*files = append(*files, r.file())
		}
	}
	n := r.uvarint()
	if n > len(r.b) {
		return m, false
	}
	if withSet {
		m.set = make([]setArtifact, 0, n)
	}
	for ; n > 0 && !r.bad; n-- {
		if !withSet {
			if skipSetArtifact(r) >= len(m.files) {
				return m, false
			}
			continue
		}
		a, i := decodeSetArtifact(r)
		if i >= len(m.files) {
			return m, false
		}
		a.file = m.files[i]
		m.set = append(m.set, a)
	}
	return m, r.done()
}

// ReplayOutcome stands for a Finish whose memo is memo: it returns the
// counts of that render and true when every file that Finish wrote is
// intact (see SetIntact, which it calls from several goroutines at once),
// and with apps every file of the apps as well (their memos were not
// replayed), false otherwise (then Finish must run). It returns the paths
// of every file that render wrote too, in no set order.
func (s *Stream) ReplayOutcome(memo []byte, apps bool) (Counts, []string, bool) {
	m, ok := decodeOutcomeMemo(memo, false)
	if s.intact == nil || !ok {
		return Counts{}, nil, false
	}
	check := m.files
	if apps {
		check = slices.Concat(m.files, m.appFiles)
	}
	intact := func(f streamedFile) bool { return s.intact(f.path, f.sum, f.size) }
	if s.unchanged != nil {
		// The memo's manifest, intact, lists the rest as the memo has them.
		i := slices.IndexFunc(m.files, func(f streamedFile) bool { return f.path == ManifestFileName })
		if i < 0 || !s.manifestIs(m.files[i].sum, m.files[i].size) {
			return Counts{}, nil, false
		}
		intact = func(f streamedFile) bool { return f.path == ManifestFileName || s.unchanged(f.path, f.size) }
	}
	if !allOf(check, intact) {
		return Counts{}, nil, false
	}
	paths := make([]string, 0, len(m.files)+len(m.appFiles))
	for _, files := range [][]streamedFile{m.files, m.appFiles} {
		for _, f := range files {
			paths = append(paths, f.path)
		}
	}
	return m.counts, paths, true
}

// allIntact reports whether every one of files is intact.
func (s *Stream) allIntact(files []streamedFile) bool {
	return allOf(files, func(f streamedFile) bool { return s.intact(f.path, f.sum, f.size) })
}

// allOf reports whether ok holds for every one of files, checking a share
// of them on each core: 25,000 stats for a full render of 5,000 specs.
func allOf(files []streamedFile, ok func(streamedFile) bool) bool {
	const share = 512
	var failed atomic.Bool
	parallel.ForEach((len(files)+share-1)/share, func(k int) {
		for _, f := range files[k*share : min((k+1)*share, len(files))] {
			if failed.Load() || !ok(f) {
				failed.Store(true)
				return
			}
		}
	})
	return !failed.Load()
}

// finished is what a Finish wrote: its files and the counts of its bundle.
type finished struct {
	files, appFiles []streamedFile // each sorted by path
	counts          Counts
	// set are the artifacts Finish derived from the Set alone.
	set []setArtifact
}

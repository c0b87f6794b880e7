package render

import (
	"errors"
	"path"

	consulapi "github.com/hashicorp/consul/api"
	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/internal/parallel"
	"github.com/drover-io/drover/pkg/spec"
)

// A setArtifact is one artifact Finish derives from the Set alone, not
// from what App rendered: a gateway's job, a config entry (the apps'
// entries from their summaries, the externals', routers, gateways') or
// an external's catalog registration. It is named only, as Finish's
// bundle holds it, with its file. Exactly one of job, entry and reg is
// set.
type setArtifact struct {
	job   *Job
	entry *ConfigEntry
	reg   *Registration
	file  streamedFile
}

// The kinds of setArtifact in an outcome memo.
const (
	setJob byte = iota + 1
	setEntry
	setRegistration
)

// TakePrior offers Finish the outcome memo (OutcomeMemo) of an earlier
// render of the same Set: the same project, summaries, selection and
// options (spec.Outcome.ReplaySets), though the selected apps' own
// artifacts may differ. When every file it names among the Set's
// artifacts is intact (SetIntact), it returns true, and Finish takes
// those artifacts over instead of rendering them: it needs of its Set
// the project's name alone then. Otherwise it returns false, and Finish
// renders them all.
func (s *Stream) TakePrior(memo []byte) bool {
	s.prior, s.priorTaken = nil, false
	if s.intact == nil {
		return false
	}
	m, ok := decodeOutcomeMemo(memo, true)
	if !ok {
		return false
	}
	files := make([]streamedFile, len(m.set))
	for i, a := range m.set {
		files[i] = a.file
	}
	if !s.allIntact(files) {
		return false
	}
	s.prior, s.priorTaken = m.set, true
	return true
}

func encodeSetArtifact(w *memoWriter, a setArtifact, file int) {
	var owner Owner
	switch {
	case a.job != nil:
		w.b, owner = append(w.b, setJob), a.job.Owner
	case a.entry != nil:
		w.b, owner = append(w.b, setEntry), a.entry.Owner
	default:
		w.b, owner = append(w.b, setRegistration), a.reg.Owner
	}
	w.str(owner.Project)
	w.str(owner.App)
	w.str(owner.Spec)
	switch {
	case a.job != nil:
		w.str(a.job.Gateway)
		w.str(a.job.ID())
		w.uvarint(boolByte(a.job.PreserveCounts))
	case a.entry != nil:
		w.str(a.entry.Kind())
		w.str(a.entry.Name())
		w.uvarint(boolByte(a.entry.WrittenByNomad))
	default:
		w.str(a.reg.Registration.Node)
		w.str(a.reg.Registration.Service.Service)
	}
	w.uvarint(file)
}

// decodeSetArtifact reads what encodeSetArtifact wrote, and the index of
// the artifact's file among Finish's files (r.bad when it is not that).
func decodeSetArtifact(r *memoReader) (setArtifact, int) {
	var a setArtifact
	kind := r.take(1)
	if r.bad {
		return a, 0
	}
	owner := Owner{Project: r.str(), App: r.str(), Spec: r.str()}
	switch kind[0] {
	case setJob:
		gateway, id := r.str(), r.str()
		a.job = &Job{Owner: owner, Gateway: gateway, Job: &nomadapi.Job{ID: &id}, PreserveCounts: r.uvarint() == 1}
	case setEntry:
		kind, name := r.str(), r.str()
		a.entry = &ConfigEntry{Owner: owner, Entry: namedEntry{kind: kind, name: name}, WrittenByNomad: r.uvarint() == 1}
	case setRegistration:
		node, name := r.str(), r.str()
		a.reg = &Registration{Owner: owner, Registration: &consulapi.CatalogRegistration{Node: node, Service: &consulapi.AgentService{ID: name, Service: name}}}
	default:
		r.bad = true
	}
	return a, r.uvarint()
}

// skipSetArtifact reads past what decodeSetArtifact decodes, without
// decoding it, and returns the index of its file.
func skipSetArtifact(r *memoReader) int {
	kind := r.take(1)
	if r.bad {
		return 0
	}
	for range 5 { // the owner's three, and what names it
		r.take(r.uvarint())
	}
	switch kind[0] {
	case setJob, setEntry:
		r.uvarint()
	case setRegistration:
	default:
		r.bad = true
	}
	return r.uvarint()
}

func boolByte(v bool) int {
	if v {
		return 1
	}
	return 0
}

// renderSet renders, encodes and writes what Finish derives from set
// alone (see setArtifact), and returns it named.
func (s *Stream) renderSet(set *spec.Set) ([]setArtifact, error) {
	var arts []setArtifact
	var errs []error
	emitEntry := func(ce *ConfigEntry) (streamedFile, error) {
		return s.emit(path.Join(consulDir, ce.Kind(), ce.Name()+".json"), func() ([]byte, error) { return marshalJSON(ce.Entry) })
	}
	keepEntry := func(e emittedEntry) {
		errs = append(errs, e.err)
		arts = append(arts, setArtifact{entry: e.named, file: e.file})
	}
	entry := func(ce *ConfigEntry) {
		f, err := emitEntry(ce)
		keepEntry(emittedEntry{named: ce.named(), file: f, err: err})
	}
	// What Render renders beside the selected apps' jobs and Vault
	// artifacts, in its order.
	r := &renderer{set: set, opts: s.opts}
	// The gateways, each one large job and its config entry, render on a
	// core of their own while the apps' config entries take the others.
	type emittedGateway struct {
		job   *Job // named
		file  streamedFile
		err   error
		entry emittedEntry
	}
	var gateways []emittedGateway
	gatewaysDone := make(chan struct{})
	go func() {
		defer close(gatewaysDone)
		for _, render := range []func() (*Job, *ConfigEntry){r.ingressGateway, r.terminatingGateway} {
			j, ce := render()
			if j == nil {
				continue
			}
			g := emittedGateway{job: &Job{Owner: j.Owner, Gateway: j.Gateway, Job: &nomadapi.Job{ID: j.Job.ID}, PreserveCounts: j.PreserveCounts}}
			g.file, g.err = s.emit(path.Join(nomadJobsDir, j.ID()+nomadJobExtension), func() ([]byte, error) { return marshalJSON(JobRegisterBody{Job: j.Job}) })
			f, err := emitEntry(ce)
			g.entry = emittedEntry{named: ce.named(), file: f, err: err}
			gateways = append(gateways, g)
		}
	}()
	// The selected apps' config entries, and the protocol of every public
	// app (the ingress gateway needs them): rendered, encoded and written
	// on every core, one or two an app, kept in order. Only their names
	// stay.
	var entryApps []*spec.App
	for _, app := range set.Apps {
		if set.Selected[app.Name] || app.Service != nil && set.PubliclyReachable(app) {
			entryApps = append(entryApps, app)
		}
	}
	emitted := make([][]emittedEntry, len(entryApps))
	parallel.ForEach(len(entryApps), func(i int) {
		app := entryApps[i]
		ces := r.appConfigEntries(app)
		if !set.Selected[app.Name] {
			ces = []*ConfigEntry{r.serviceDefaults(app)}
		}
		emitted[i] = make([]emittedEntry, len(ces))
		for k, ce := range ces {
			f, err := emitEntry(ce)
			emitted[i][k] = emittedEntry{named: ce.named(), file: f, err: err}
		}
	})
	for _, es := range emitted {
		for _, e := range es {
			keepEntry(e)
		}
	}
	for _, ext := range set.Externals {
		if !r.externalSelected(ext) {
			continue
		}
		for _, ce := range r.externalConfigEntries(ext) {
			entry(ce)
		}
		reg := r.registration(ext)
		name := reg.Registration.Service.Service
		f, err := s.emit(path.Join(consulCatalogDir, name+".json"), func() ([]byte, error) { return marshalJSON(reg.Registration) })
		errs = append(errs, err)
		named := &Registration{Owner: reg.Owner, Registration: &consulapi.CatalogRegistration{Node: reg.Registration.Node, Service: &consulapi.AgentService{ID: name, Service: name}}}
		arts = append(arts, setArtifact{reg: named, file: f})
	}
	for _, ce := range r.routers() {
		entry(ce)
	}
	<-gatewaysDone
	for _, g := range gateways {
		errs = append(errs, g.err)
		arts = append(arts, setArtifact{job: g.job, file: g.file})
		keepEntry(g.entry)
	}
	return arts, errors.Join(errs...)
}

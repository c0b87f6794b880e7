package spec

import (
	"bytes"
	"runtime"
	"slices"

	"github.com/hashicorp/hcl/v2"

	"github.com/drover-io/drover/internal/parallel"
)

// A scoped load (Index on, part of a project selected) builds each Set
// without decoding every file's summaries in full: a quick scan of the
// encoded summaries finds which apps the checks across files and the
// selected apps' artifacts need whole, and every other app is only named.
//
// Whole ("full") summaries are those of
//   - the selected files' apps;
//   - apps whose upstreams name an app that is unknown or serves nothing in
//     the mesh (their checks report), and the targets of every upstream of
//     those apps and of the selected ones (the checks look them up);
//   - apps that call a selected app or an external the selected apps'
//     artifacts include (the intentions list their callers);
//   - exposed apps (public routes, the ingress gateway, the protocols it
//     needs).
//
// Every other app is a bare summary: name, file and ranges, which is what
// the names check, suggestions and lists of apps read of it. Upstream
// checks run for the selected apps and those whose upstreams fail only:
// the others' pass, since their targets exist and serve.

// scannedApp is what scanFacts reads of one app.
type scannedApp struct {
	name       string
	serves     bool // has a mesh service with a port to call
	exposed    bool
	upstreams  []scannedUpstream
	fileResult int
}

type scannedUpstream struct{ name, project string }

// scanner reads what a scoped load needs of every file's summaries.
type scanner struct {
	// names interns the names read: each app's recurs as the upstreams of
	// others and in every environment.
	names map[string]string
	// upstreams backs the upstreams of every app scanned.
	upstreams []scannedUpstream
}

// scanFacts reads the names, services, upstreams and exposure of each app
// of an encoded summary, and its externals' names, without decoding the
// rest.
func (sc *scanner) scanFacts(b []byte, fn func(scannedApp), ext func(name string)) {
	d := &decoder{b: factsBody(b), intern: sc.names}
	for n := d.uvarint(); n > 0 && !d.bad; n-- {
		h := d.factHeader("", false, &sc.upstreams)
		if !d.bad {
			fn(scannedApp{name: h.name, serves: h.flags&factServes != 0, exposed: h.flags&factExposed != 0, upstreams: h.upstreams})
		}
	}
	for n := d.uvarint(); n > 0 && !d.bad; n-- {
		name := d.str()
		d.skipStr() // the rest
		if !d.bad {
			ext(name)
		}
	}
}

func (d *decoder) skipStr() { d.bytes(int(d.uvarint())) }

// assembleScoped fills set with every app of results in env, whole where
// a scoped load needs it (see above), and returns the apps whose upstreams
// are to be checked.
func (st *streamer) assembleScoped(set *Set, results []*fileResult, env string) map[*App]bool {
	apps, exts := st.scanAll(results, env)
	externals := map[string]bool{}
	extFiles := map[string][]int{} // external name: files declaring it
	for _, e := range exts {
		externals[e.name] = true
		extFiles[e.name] = append(extFiles[e.name], e.fileResult)
	}
	// The apps of result i are apps[first[i]:first[i+1]].
	first := make([]int, len(results)+1)
	for k := range apps {
		first[apps[k].fileResult+1]++
	}
	for i := range results {
		first[i+1] += first[i]
	}
	byName := map[string]*scannedApp{}
	for i := range apps {
		if byName[apps[i].name] == nil {
			byName[apps[i].name] = &apps[i]
		}
	}
	full := map[int]bool{} // file results decoded whole
	var checked []*scannedApp
	allSelected := true
	for i := range apps {
		if results[apps[i].fileResult].selected {
			checked = append(checked, &apps[i])
		} else {
			allSelected = false
		}
	}
	// The externals the selected apps' artifacts include (externalSelected).
	rendered := map[string]bool{}
	for name, files := range extFiles {
		for _, f := range files {
			rendered[name] = rendered[name] || results[f].selected || allSelected
		}
	}
	for _, a := range checked {
		for _, u := range a.upstreams {
			if u.project == "" && externals[u.name] {
				rendered[u.name] = true
			}
		}
	}
	selectedName := map[string]bool{}
	for _, a := range checked {
		selectedName[a.name] = true
	}
	failing := func(a *scannedApp) bool {
		for _, u := range a.upstreams {
			if u.project != "" || u.name == a.name || externals[u.name] {
				continue
			}
			if t := byName[u.name]; t == nil || !t.serves {
				return true
			}
		}
		return false
	}
	for i := range apps {
		a := &apps[i]
		if results[a.fileResult].selected {
			continue
		}
		if failing(a) {
			checked = append(checked, a)
		}
		if a.exposed {
			full[a.fileResult] = true
		}
		for _, u := range a.upstreams {
			if u.project == "" && (selectedName[u.name] || rendered[u.name]) {
				full[a.fileResult] = true // a caller
			}
		}
	}
	for _, a := range checked {
		full[a.fileResult] = true
		for _, u := range a.upstreams {
			if t := byName[u.name]; t != nil && u.project == "" {
				full[t.fileResult] = true
			}
		}
	}
	check := map[*App]bool{}
	checkName := map[string]bool{}
	for _, a := range checked {
		checkName[a.name+"\x00"+results[a.fileResult].rel] = true
	}
	facts := st.decodeAll(results, env, func(i int) bool { return full[i] || results[i].selected },
		func(i int) []scannedApp { return apps[first[i]:first[i+1]] })
	set.Apps = make([]*App, 0, len(apps))
	for i, r := range results {
		f := facts[i]
		if f == nil {
			continue
		}
		set.addFile(f.apps, f.externals, r.selected)
		if !full[i] && !r.selected {
			continue
		}
		for _, app := range f.apps {
			if checkName[app.Name+"\x00"+r.rel] {
				check[app] = true
			}
		}
	}
	return check
}

// decodedFacts are a file's summaries as decoded for one environment:
// whole, or bare (see decodeBare).
type decodedFacts struct {
	blob  []byte
	whole bool
	facts *fileFacts
}

// decodeAll decodes the summaries of every result in env, whole where
// whole says, bare elsewhere (nil for a result without any): decoding is
// most of assembling a Set, and each file's is its own, so on every core.
// scanned, when set, gives the apps scanAll found in result i, whose names
// its bare apps share.
func (st *streamer) decodeAll(results []*fileResult, env string, whole func(i int) bool, scanned func(i int) []scannedApp) []*fileFacts {
	facts := make([]*fileFacts, len(results))
	parallel.ForEach(len(results), func(i int) {
		if blob := results[i].facts.get(env); blob != nil {
			var names []scannedApp
			if scanned != nil {
				names = scanned(i)
			}
			facts[i] = st.shared(i, results[i], blob, whole(i), names)
		}
	})
	return facts
}

// scannedExternal is an external scanAll found, and the result it is in.
type scannedExternal struct {
	name       string
	fileResult int
}

// scanAll scans the summaries of every result in env: a share of the
// files on each core, each with a scanner of its own. Apps and externals
// come in file order. It decodes each bare as it goes, while the summary
// is in the cache: nearly every file stays bare (see decodeAll).
func (st *streamer) scanAll(results []*fileResult, env string) ([]scannedApp, []scannedExternal) {
	shares := min(runtime.GOMAXPROCS(0), max(1, len(results)/256))
	apps, exts := make([][]scannedApp, shares), make([][]scannedExternal, shares)
	parallel.ForEach(shares, func(k int) {
		from, to := k*len(results)/shares, (k+1)*len(results)/shares
		sc := &scanner{names: make(map[string]string, to-from)}
		mine := make([]scannedApp, 0, to-from) // about one app a file
		for i := from; i < to; i++ {
			blob := results[i].facts.get(env)
			if blob == nil {
				continue
			}
			start := len(mine)
			sc.scanFacts(blob, func(a scannedApp) {
				a.fileResult = i
				mine = append(mine, a)
			}, func(name string) {
				exts[k] = append(exts[k], scannedExternal{name: name, fileResult: i})
			})
			st.shared(i, results[i], blob, false, mine[start:])
		}
		apps[k] = mine
	})
	return slices.Concat(apps...), slices.Concat(exts...)
}

// shared decodes result i's summaries blob, whole or bare, unless an
// environment decoded before holds the same: what is decoded of a file is
// never changed, and a file's summaries are often the same in every
// environment, so the Sets of all share one copy. It runs for several
// files at once, each on its own st.decoded[i].
func (st *streamer) shared(i int, r *fileResult, blob []byte, whole bool, scanned []scannedApp) *fileFacts {
	var bare []*App // the file's bare apps in another environment
	for _, prev := range st.decoded[i] {
		if prev.whole == whole && bytes.Equal(prev.blob, blob) {
			return prev.facts
		}
		if !prev.whole {
			bare = prev.facts.apps
		}
	}
	var f *fileFacts
	if whole {
		f = decodeFacts(blob, r.display, r.rel)
	} else {
		f = decodeBare(blob, r.display, r.rel, bare, scanned)
	}
	st.decoded[i] = append(st.decoded[i], decodedFacts{blob: blob, whole: whole, facts: f})
	return f
}

// decodeBare decodes the names and ranges of an encoded summary's apps,
// and its externals whole. Apps that prev (the file's bare apps in another
// environment) holds as they are are shared: a bare app is only a name
// and ranges, the same in every environment. scanned are the file's apps
// as scanAll found them, whose names the apps share.
func decodeBare(b []byte, display, rel string, prev []*App, scanned []scannedApp) *fileFacts {
	type head struct {
		name                 []byte
		nameRange, declRange hcl.Range
	}
	d := decoder{b: factsBody(b)}
	var room [2]head // most files hold one app
	heads := room[:0]
	for n := d.uvarint(); n > 0 && !d.bad; n-- {
		h := head{name: d.bytes(int(d.uvarint()))}
		if d.uvarint()&factService != 0 {
			for n := d.uvarint(); n > 0 && !d.bad; n-- {
				d.skipStr() // an upstream's name
				d.skipStr() // and project
			}
		}
		dd := decoder{b: d.bytes(int(d.uvarint()))} // the detail, ranges first
		h.nameRange, h.declRange = dd.rng(display), dd.rng(display)
		if dd.bad {
			d.fail()
		}
		heads = append(heads, h)
	}
	var exts fileFacts
	d.externals(&exts, display, rel)
	if d.bad {
		return &fileFacts{}
	}
	same := len(prev) == len(heads)
	for k := 0; same && k < len(heads); k++ {
		a, h := prev[k], &heads[k]
		same = a.Name == string(h.name) && a.NameRange == h.nameRange && a.DeclRange == h.declRange
	}
	if same {
		return &fileFacts{apps: prev, externals: exts.externals}
	}
	// The facts, the list of apps and the apps in one allocation: a bare
	// decoding runs for nearly every file of a scoped load.
	type bare struct {
		facts fileFacts
		list  [1]*App
		apps  [1]App
	}
	var list []*App
	var apps []App
	one := &bare{}
	if len(heads) == 1 {
		list, apps = one.list[:], one.apps[:]
	} else {
		list, apps = make([]*App, len(heads)), make([]App, len(heads))
	}
	for k, h := range heads {
		a := &apps[k]
		var name string
		if k < len(scanned) && scanned[k].name == string(h.name) {
			name = scanned[k].name
		} else {
			name = string(h.name)
		}
		a.Name, a.NameRange, a.DeclRange, a.File, a.Source, a.AppSettings = name, h.nameRange, h.declRange, rel, display, noSettings
		list[k] = a
	}
	one.facts = fileFacts{apps: list, externals: exts.externals}
	return &one.facts
}

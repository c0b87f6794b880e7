package spec

import (
	"crypto/sha256"
	"slices"

	"github.com/drover-io/drover/internal/parallel"
)

// An edit of the selected files alone (an editor's format on save, a
// render of one spec after a change to its image) leaves every other file
// as the last load saw it. When each file not selected has the stat it had
// in a load that kept an outcome, with none too recent to trust (the
// others key, othersKey, recorded beside it), that load's Sets key stands
// for everything the other files put in this one's: none of them is
// needed. replayEdited then reads and visits the selected files alone,
// without decoding the index, and when their part of the Sets key comes
// out as that load's (selectedKey: their summaries and declarations, not
// their memos), the Sets are that load's. The outcome kept for the new
// memos replays, or else ReplaySets is offered what was kept for those
// Sets, as after a full load; only the selected files' index entries are
// written again. Otherwise the load goes on as usual, taking the selected
// files as they were read (earlyResults), and so visiting each once.

// earlyResults are the results of drover.hcl and of the selected files,
// read before the others (replayEdited); nil is none.
type earlyResults struct {
	project *fileResult
	files   map[int]*fileResult // by the file's position in the layout
}

// file is the early result of file i, or nil.
func (er *earlyResults) file(i int) *fileResult {
	if er == nil {
		return nil
	}
	return er.files[i]
}

// results lists drover.hcl's result and the selected files', in the
// layout's order.
func (er *earlyResults) results() []*fileResult {
	var rs []*fileResult
	if er.project != nil {
		rs = append(rs, er.project)
	}
	keys := make([]int, 0, len(er.files))
	for i := range er.files {
		keys = append(keys, i)
	}
	slices.Sort(keys)
	for _, i := range keys {
		rs = append(rs, er.files[i])
	}
	return rs
}

// replayEdited replays the load's outcome, or the Sets of a kept one, when
// only selected files differ from a kept load of otherwise the same inputs
// (see above). It returns the Sets, none when the outcome replayed, and
// whether either did; when neither did, st.early holds what it read.
func (st *streamer) replayEdited(project *fileResult) ([]*Set, bool) {
	o := st.outcome()
	if o == nil || !st.scoped || st.indexFile == nil {
		return nil, false
	}
	others, ok := st.othersKey()
	if !ok || !slices.ContainsFunc(o.kept, func(k keptOutcome) bool { return k.others == others }) {
		return nil, false
	}
	st.index = st.indexFile.decodeOnly(st.selectedRels())
	early, complete := st.readSelected(project)
	st.early = early
	results := early.results()
	if !complete || slices.ContainsFunc(results, func(r *fileResult) bool { return !keyable(r) }) {
		return nil, false
	}
	selected := st.selectedKey(results)
	i := slices.IndexFunc(o.kept, func(k keptOutcome) bool { return k.others == others && k.selected == selected })
	if i < 0 {
		return nil, false
	}
	o.sets, o.others, o.selected, o.othersOK = o.kept[i].sets, others, selected, true
	o.key, o.keyed = st.keyOf(o.sets, results), true
	o.settled = !slices.ContainsFunc(results, func(r *fileResult) bool { return r.rel != ProjectFileName && !settled(r) })
	switch {
	case st.replayKept(results):
		st.writeEntriesOf(results)
		o.editReplayed = true
		return nil, true
	case st.replaySets():
		st.writeEntriesOf(results)
		st.keyOutcome(0)
		o.editReplayed = true
		return st.projectSets(), true
	}
	return nil, false
}

// selectedRels lists the paths of the selected spec files relative to
// the root.
func (st *streamer) selectedRels() []string {
	var rels []string
	for _, path := range st.l.files {
		if st.l.selected(path) {
			rels = append(rels, st.l.rel(path))
		}
	}
	return rels
}

// readSelected reads drover.hcl and the selected spec files, alone, as a
// pass does; complete is false when one needs the declarations of the
// files before it, and was left for the pass.
func (st *streamer) readSelected(project *fileResult) (early *earlyResults, complete bool) {
	st.startDeclaring()
	st.alone = true
	defer func() { st.alone = false }()
	early = &earlyResults{files: map[int]*fileResult{}}
	if project != nil {
		early.project = st.projectResult(project, st.envs)
	}
	var which []int
	for i, path := range st.l.files {
		if st.l.selected(path) {
			which = append(which, i)
		}
	}
	read := make([]*fileResult, len(which))
	parallel.ForEach(len(which), func(k int) {
		read[k] = st.file(which[k], st.envs, &fileResult{facts: &blobs{}})
	})
	complete = true
	for k, r := range read {
		if r.needsOthers {
			complete = false
			continue
		}
		early.files[which[k]] = r
	}
	return early, complete
}

// projectSets are the Sets of a load whose Sets replayed: those of a load
// that passed every check, of which the caller kept what it needs; they
// hold the project alone.
func (st *streamer) projectSets() []*Set {
	sets := make([]*Set, 0, len(st.envs))
	for _, env := range st.envs {
		set := st.sets[env]
		set.Files = st.cache.files
		sets = append(sets, set)
	}
	return sets
}

// decodeOnly decodes the entries of f of the files rels name, and no
// other: each is looked for in its own shard, by the path each entry
// starts with.
func (f *indexFile) decodeOnly(rels []string) *index {
	ix := &index{entries: map[string]*indexEntry{}}
	intern := map[string]string{}
	for _, rel := range rels {
		for _, b := range f.shard(shardOf(rel)) {
			if entryRel(b) == rel {
				if e := decodeEntry(b, intern); e != nil {
					ix.entries[rel] = e
				}
				break
			}
		}
	}
	return ix
}

// entryRel is the path an encoded index entry is of.
func entryRel(b []byte) string {
	d := &decoder{b: b}
	return string(d.bytes(int(d.uvarint())))
}

// writeEntriesOf writes again the index shards that hold the entries of
// results that changed, with every other entry of those shards as read.
func (st *streamer) writeEntriesOf(results []*fileResult) {
	id := binaryID()
	if id == "" || st.projectErr != nil || !st.l.hasProject {
		return
	}
	changed := map[int]map[string]*indexEntry{}
	for _, r := range results {
		if e := r.entry; e != nil && e.changed {
			k := shardOf(e.rel)
			if changed[k] == nil {
				changed[k] = map[string]*indexEntry{}
			}
			changed[k][e.rel] = e
		}
	}
	ph := sha256.Sum256(st.projectSrc)
	var sw shardWriter
	for k, fresh := range changed {
		var entries []*indexEntry
		for _, b := range st.indexFile.shard(k) {
			rel := entryRel(b)
			if e := fresh[rel]; e != nil {
				entries = append(entries, e)
				delete(fresh, rel)
				continue
			}
			entries = append(entries, &indexEntry{rel: rel, raw: b})
		}
		for _, rel := range sortedKeys(fresh) { // not in the index yet
			entries = append(entries, fresh[rel])
		}
		sw.write(shardPath(st.l.root, k), id, ph, entries)
	}
}

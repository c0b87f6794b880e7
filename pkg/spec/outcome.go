package spec

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/drover-io/drover/internal/rawfile"
)

// Outcome lets the caller of a Stream skip everything that follows a load
// it has finished before from the same inputs: assembling the Sets, the
// checks across files, and whatever the caller does with them (render -o
// writing project-wide artifacts, say). It takes Index and MemoKey. A
// spec file read again (edited) has its summaries and memos worked out
// afresh, and when they are what they were, with nothing reported, the
// outcome stands for the load as well: an edit that changes none of what
// the Sets or the visits make of the file (a comment, or for validate an
// image) replays.
//
// The inputs are everything the Sets are made of: drover.hcl, the values
// of the project's variables and which inputs set variables, the
// environments, the root, which files there are and which are selected,
// each file's summaries (what they say, not where in the file: see
// factsShape) and variable declarations in every environment, the
// selected files' memos, and MemoKey (which names the caller and its
// context). A load with any diagnostic at all is never kept, and so one
// that replays has none: where a summary sits is for diagnostics alone.
//
// Working that key out takes every file's summaries, from the index.
// A load whose spec files all have the stat they had when a load of
// otherwise the same inputs replayed an outcome replays it at once, from
// the stats alone: its quick key (quickKey) is recorded beside the
// outcome then, when no stat was too recent to pin its file's bytes (see
// indexEntry.racy). Such a load reads none of the index's entries, nor
// any spec but drover.hcl.
//
// The Sets a load returns are made of all the inputs but the selected
// files' memos, which stand for the caller's visits alone: a load whose
// inputs differ from a kept one's in those memos only (a selected spec
// edited where its summaries do not tell, say) has the same Sets but for
// where in their files the summaries sit, and ReplaySets offers the caller
// what it kept then, for the part of its work that derives from the Sets.
// When every file but the selected ones has the stat it had in such a
// load, settled, only the selected files are read for either (see
// replayEdited): the index's other entries are not even decoded.
type Outcome struct {
	// Replay is given what the caller kept (Keep) after a load of the same
	// inputs; it returns whether that still stands (the files it names
	// are as they were). When it does, Stream returns no Set and no
	// diagnostics: the caller's earlier work stands for this load.
	//
	// apps says that the selected files' memos were not all replayed
	// (StreamOptions.Replay): the load replayed from the stats alone, or
	// read a selected file again and visited its apps. Then memo stands
	// for the apps' visits as well, and Replay must see that what they did
	// is intact too. Otherwise each app's memo stood.
	Replay func(memo []byte, apps bool) bool
	// ReplaySets, when set, is given what the caller kept after the most
	// recent load of the same Sets as this one (see Outcome), when the
	// outcome itself did not stand: it returns whether what the caller
	// derived from those Sets alone stands for this load's (its files are
	// as they were). Then the Sets are those of a load that passed every
	// check across files, which are not run again, and Stream returns Sets
	// that hold the project alone: the caller takes all it derives from
	// the Sets from what it kept.
	ReplaySets func(memo []byte) bool

	root    string
	project [sha256.Size]byte
	kept    []keptOutcome // as read, the most recent first
	key     [sha256.Size]byte
	keyed   bool // key (and sets) are the load's
	// sets is the fingerprint of the load's inputs but the selected files'
	// memos: of its Sets (see ReplaySets).
	sets     [sha256.Size]byte
	keepable bool // ... and it had no diagnostic: Keep records it
	replayed bool
	// setsReplayed: ReplaySets stood.
	setsReplayed bool
	// quick is the load's quick key, when quickOK; quickReplayed: the
	// outcome was replayed by it; quickFailed: one kept under it was
	// offered and no longer stood.
	quick         [sha256.Size]byte
	quickOK       bool
	quickReplayed bool
	quickFailed   bool
	// settled: every spec file came from the index, none with a stat too
	// recent to trust; only then is the quick key recorded.
	settled bool
	// others is the load's others key (othersKey), when othersOK: every
	// file not selected came from the index, settled; selected is the
	// selected files' part of the Sets key (selectedKey). See
	// replayEdited.
	others, selected [sha256.Size]byte
	othersOK         bool
	// editReplayed: the load replayed without reading the files not
	// selected (replayEdited).
	editReplayed bool
}

// Replayed reports whether the last Stream with o replayed an outcome.
func (o *Outcome) Replayed() bool { return o.replayed }

// SetsReplayed reports whether the last Stream with o had ReplaySets
// stand (and returned Sets that hold the project alone).
func (o *Outcome) SetsReplayed() bool { return o.setsReplayed }

// Keep records memo as the outcome of the load that the last Stream with
// o made, for a later load of the same inputs to replay. It does nothing
// when that load had diagnostics, or could not be keyed. Call it only
// once the work memo stands for is done (its files written).
func (o *Outcome) Keep(memo []byte) {
	if !o.keepable || o.replayed {
		return
	}
	kept := []keptOutcome{{key: o.key, sets: o.sets, memo: memo, sum: sha256.Sum256(memo), size: len(memo)}}
	if o.settled && o.quickOK {
		kept[0].quick = o.quick
	}
	if o.othersOK {
		kept[0].others, kept[0].selected = o.others, o.selected
	}
	size := len(memo)
	for _, k := range o.kept {
		if k.key != o.key && len(kept) < maxKeptOutcomes && size+k.size <= maxOutcomesSize {
			kept = append(kept, k)
			size += k.size
		}
	}
	o.writeOutcomes(kept)
}

// setsMemo returns the memo kept after the most recent load whose Sets
// were the same as this one's: a load of the same inputs but for the
// selected files' memos (see Outcome). False when there is none, or the
// load could not be keyed, or replayed its outcome.
func (o *Outcome) setsMemo() ([]byte, bool) {
	if !o.keyed || o.replayed {
		return nil, false
	}
	for i := range o.kept {
		if o.kept[i].sets == o.sets {
			return o.memoOf(i)
		}
	}
	return nil, false
}

// keptOutcome is one outcome the outcomes file holds.
type keptOutcome struct {
	key [sha256.Size]byte
	// sets is the fingerprint of its Sets (Outcome.sets).
	sets [sha256.Size]byte
	// quick is the quick key of a load that replayed it (zero: none yet).
	quick [sha256.Size]byte
	// others and selected are the others key and the selected files' part
	// of the Sets key of a load with these Sets, settled (zero: none yet).
	others, selected [sha256.Size]byte
	// memo is read when first needed (memoOf): size bytes whose checksum
	// is sum, from the file named by sum.
	memo []byte
	sum  [sha256.Size]byte
	size int
}

// The outcomes file sits beside the index, and like it is dropped whole
// when the binary or drover.hcl changed. It lists the outcomes of the
// last few distinct loads (a full render, one-spec renders into other
// directories...), the most recent first: each one's keys and the
// checksum and size of its memo. Each memo is a file of its own in
// outcomesDir, named by its checksum, and so never written over: a load
// reads the list and the one memo it may replay (a full render's runs to
// megabytes), and keeping an outcome writes its memo and the list alone.
const (
	outcomesFileName = "outcomes"
	outcomesDirName  = "outcomes.d"
	outcomesMagic    = "drover outcomes 6\n"
	maxKeptOutcomes  = 16
	// maxOutcomesSize bounds the memos kept beside the newest. A full
	// render of 5,000 specs keeps about 2.3 MB, one of a single spec of
	// them 30 KB.
	maxOutcomesSize = 16 << 20
)

// readOutcomes reads root's outcomes file; none when it is missing,
// damaged, or written by another binary or for another drover.hcl (ph).
func readOutcomes(root string, ph [sha256.Size]byte) []keptOutcome {
	data, err := rawfile.ReadFile(filepath.Join(root, IndexDir, outcomesFileName))
	if err != nil || !bytes.HasPrefix(data, []byte(outcomesMagic)) {
		return nil
	}
	d := &decoder{b: data[len(outcomesMagic):]}
	if id := binaryID(); id == "" || d.str() != id || !bytes.Equal(d.bytes(sha256.Size), ph[:]) {
		return nil
	}
	n := d.uvarint()
	if n > maxKeptOutcomes {
		return nil
	}
	var kept []keptOutcome
	for ; n > 0 && !d.bad; n-- {
		var k keptOutcome
		copy(k.key[:], d.bytes(sha256.Size))
		copy(k.sets[:], d.bytes(sha256.Size))
		copy(k.quick[:], d.bytes(sha256.Size))
		copy(k.others[:], d.bytes(sha256.Size))
		copy(k.selected[:], d.bytes(sha256.Size))
		copy(k.sum[:], d.bytes(sha256.Size))
		k.size = int(d.uvarint())
		kept = append(kept, k)
	}
	if d.bad || len(d.b) != 0 {
		return nil
	}
	return kept
}

// memoPath is where the memo of checksum sum is kept under root.
func memoPath(root string, sum [sha256.Size]byte) string {
	return filepath.Join(root, IndexDir, outcomesDirName, hex.EncodeToString(sum[:]))
}

// memoOf returns the memo of o.kept[i], reading it the first time; false
// when it is gone or not what was kept.
func (o *Outcome) memoOf(i int) ([]byte, bool) {
	k := &o.kept[i]
	if k.memo != nil {
		return k.memo, true
	}
	memo, err := rawfile.ReadFile(memoPath(o.root, k.sum))
	if err != nil || len(memo) != k.size || sha256.Sum256(memo) != k.sum {
		return nil, false
	}
	k.memo = memo
	return memo, true
}

// writeOutcomes writes kept as root's outcomes file: the memos it lacks
// first, then the list. Memos no outcome lists any more are removed.
func (o *Outcome) writeOutcomes(kept []keptOutcome) {
	id := binaryID()
	if id == "" {
		return
	}
	dir := filepath.Join(o.root, IndexDir)
	memos := filepath.Join(dir, outcomesDirName)
	if err := os.Mkdir(memos, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return // no index directory: nor an index to replay from
	}
	listed := map[string]bool{}
	var stored []keptOutcome
	for _, k := range kept {
		path := memoPath(o.root, k.sum)
		if _, err := os.Stat(path); err == nil || k.memo != nil && writeAtomically(memos, filepath.Base(path), k.memo) {
			stored = append(stored, k)
			listed[filepath.Base(path)] = true
		}
	}
	w := &encoder{b: []byte(outcomesMagic)}
	w.str(id)
	w.raw(o.project[:])
	w.uvarint(uint64(len(stored)))
	for _, k := range stored {
		w.raw(k.key[:])
		w.raw(k.sets[:])
		w.raw(k.quick[:])
		w.raw(k.others[:])
		w.raw(k.selected[:])
		w.raw(k.sum[:])
		w.uvarint(uint64(k.size))
	}
	if !writeAtomically(dir, outcomesFileName, w.b) {
		return
	}
	entries, _ := os.ReadDir(memos)
	for _, e := range entries {
		if !listed[e.Name()] {
			_ = os.Remove(filepath.Join(memos, e.Name()))
		}
	}
}

// writeAtomically writes data as dir/name through a file renamed into
// place, so that no reader sees part of it.
func writeAtomically(dir, name string, data []byte) bool {
	tmp, err := os.CreateTemp(dir, name+".tmp-*")
	if err != nil {
		return false
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), filepath.Join(dir, name)) != nil {
		_ = os.Remove(tmp.Name())
		return false
	}
	return true
}

// outcomeKey is the fingerprint of the load's inputs (see Outcome), and
// that of its Sets: of the same inputs but the selected files' memos;
// false when the load cannot have an outcome: any diagnostic so far, a
// file with errors, a variable without a known value. The key is that of
// the Sets and the memos, so that the summaries are hashed once.
func (st *streamer) outcomeKey(results []*fileResult) (key, sets [sha256.Size]byte, ok bool) {
	// Through a small buffer: the summaries of a large project come to
	// megabytes, which a buffer of them all would copy and fault in.
	h := sha256.New()
	w := &encoder{b: make([]byte, 0, 32<<10)}
	if !st.keyHead(w) {
		return key, sets, false
	}
	w.uvarint(uint64(len(results)))
	for _, r := range results {
		if !keyable(r) {
			return key, sets, false
		}
		st.writeFileKey(w, r)
		if len(w.b) >= 16<<10 {
			h.Write(w.b)
			w.b = w.b[:0]
		}
	}
	h.Write(w.b)
	h.Sum(sets[:0])
	return st.keyOf(sets, results), sets, true
}

// keyable reports whether the file of r lets the load have an outcome: it
// had no diagnostic, every Memo call succeeded, and its entry knows of no
// error.
func keyable(r *fileResult) bool {
	return len(r.diags) == 0 && !r.noMemo && (r.entry == nil || !r.entry.errors)
}

// writeFileKey writes what the Sets key holds of the file of r to w.
func (st *streamer) writeFileKey(w *encoder, r *fileResult) {
	w.str(r.rel)
	w.str(r.display)
	w.bool(r.selected)
	w.strs(r.envNames)
	w.uvarint(uint64(len(r.decls)))
	for _, v := range r.decls {
		w.str(v.Name)
		w.str(v.Type.GoString())
	}
	// This load's environments only: a file read again keeps what its
	// old entry knew of others.
	for _, env := range st.envs {
		hashShape(w, r.facts, env)
	}
}

// keyOf is the outcome key of a load whose Sets key is sets: that and the
// memos of the selected files of results.
func (st *streamer) keyOf(sets [sha256.Size]byte, results []*fileResult) [sha256.Size]byte {
	k := &encoder{b: append([]byte("outcome"), sets[:]...)}
	for _, r := range results {
		if r.selected {
			k.str(r.rel)
			for _, env := range st.envs {
				hashBlob(k, r.memos, env)
			}
		}
	}
	return sha256.Sum256(k.b)
}

// selectedKey is the selected files' part of the Sets key of the load of
// results: what writeFileKey writes of each.
func (st *streamer) selectedKey(results []*fileResult) [sha256.Size]byte {
	w := &encoder{b: []byte("selected")}
	for _, r := range results {
		if r.selected {
			st.writeFileKey(w, r)
		}
	}
	return sha256.Sum256(w.b)
}

// hashShape writes the shape of the summaries bs holds as name (see
// factsShape) to w for a fingerprint: where in their file the summaries
// say what they say is for diagnostics alone, and a load that has any is
// never kept.
func hashShape(w *encoder, bs *blobs, name string) {
	b, ok := bs.lookup(name)
	switch shape := factsShape(b); {
	case !ok:
		w.uvarint(0)
	case shape != nil:
		w.uvarint(1)
		w.raw(shape)
	default: // not summaries: all of it
		w.uvarint(2)
		w.uvarint(uint64(len(b)))
		w.raw(b)
	}
}

// hashBlob writes whether bs has name, and its bytes, to w for a
// fingerprint.
func hashBlob(w *encoder, bs *blobs, name string) {
	b, ok := bs.lookup(name)
	w.bool(ok)
	w.uvarint(uint64(len(b)))
	w.raw(b)
}

// outcome is the Outcome of the load, when it may have one: the caller
// asked, with Index, and there is a project (startOutcome ran).
func (st *streamer) outcome() *Outcome {
	if o := st.opts.Outcome; o != nil && st.opts.Index && o.root != "" {
		return o
	}
	return nil
}

// replayOutcome keys the load of results (see Outcome), and replays the
// outcome kept for it if there is one: every spec file taken from the
// index (the selected ones replayed), nothing reported, and an outcome
// kept for its inputs that still stands.
func (st *streamer) replayOutcome(results []*fileResult) bool {
	o := st.outcome()
	if o == nil {
		return false
	}
	key, sets, ok := st.outcomeKey(results)
	if !ok {
		return false
	}
	o.key, o.sets, o.keyed = key, sets, true
	o.settled = !slices.ContainsFunc(results, func(r *fileResult) bool { return r.rel != ProjectFileName && !settled(r) })
	if st.scoped && !slices.ContainsFunc(results, func(r *fileResult) bool { return !r.selected && !settled(r) }) {
		o.others, o.othersOK = st.othersKey()
		o.selected = st.selectedKey(results)
	}
	return st.replayKept(results)
}

// settled reports whether the file of r came from the index, with a stat
// not too recent to trust.
func settled(r *fileResult) bool { return r.fromIndex && r.entry != nil && !r.entry.racy() }

// replayKept replays the outcome kept under the load's key, keyed from
// results, if it still stands; then it records the load's quick and
// others keys beside it, for the next loads of these inputs to find it
// sooner.
func (st *streamer) replayKept(results []*fileResult) bool {
	o := st.outcome()
	i := slices.IndexFunc(o.kept, func(k keptOutcome) bool { return k.key == o.key })
	if i < 0 || o.quickFailed && o.kept[i].quick == o.quick {
		return false
	}
	// A selected file read again was visited again: what that visit did
	// (files staged, say) stands only if it left everything as the kept
	// outcome has it.
	visited := slices.ContainsFunc(results, func(r *fileResult) bool { return r.selected && !r.fromIndex && r.rel != ProjectFileName })
	if memo, ok := o.memoOf(i); !ok || !o.Replay(memo, visited) {
		return false
	}
	o.replayed = true
	k, record := &o.kept[i], false
	if o.settled && o.quickOK && k.quick != o.quick {
		k.quick, record = o.quick, true
	}
	if o.othersOK && (k.others != o.others || k.selected != o.selected) {
		k.others, k.selected, record = o.others, o.selected, true
	}
	if record {
		o.writeOutcomes(slices.Clone(o.kept))
	}
	return true
}

// replaySets offers the caller what it kept after a load of the same Sets
// (Outcome.ReplaySets), and reports whether that stood.
func (st *streamer) replaySets() bool {
	o := st.outcome()
	if o == nil || o.ReplaySets == nil {
		return false
	}
	memo, ok := o.setsMemo()
	if !ok || !o.ReplaySets(memo) {
		return false
	}
	o.setsReplayed = true
	return true
}

// replayQuick replays the outcome recorded under the load's quick key,
// before any spec file but drover.hcl is read (see Outcome).
func (st *streamer) replayQuick() bool {
	o := st.outcome()
	if o == nil {
		return false
	}
	key, ok := st.quickKey()
	if !ok {
		return false
	}
	o.quick, o.quickOK = key, true
	i := slices.IndexFunc(o.kept, func(k keptOutcome) bool { return k.quick == key })
	if i < 0 {
		return false
	}
	if memo, ok := o.memoOf(i); !ok || !o.Replay(memo, true) {
		o.quickFailed = true // not offered again under its full key
		return false
	}
	o.replayed, o.quickReplayed = true, true
	return true
}

// keyHead writes what both keys of a load begin with to w: the caller's
// key, the root, drover.hcl, the project variables' values, the inputs
// that set variables, the environments. False when the load cannot have
// an outcome: no project, any diagnostic so far, a project variable
// without a known value.
func (st *streamer) keyHead(w *encoder) bool {
	if st.opts.MemoKey == "" || !st.l.hasProject || st.projectErr != nil || len(st.diags) > 0 {
		return false
	}
	vars, ok := st.fps.of(sortedKeys(st.projectVar), st)
	if !ok {
		return false
	}
	w.str(st.opts.MemoKey)
	w.str(st.l.root)
	w.raw(st.outcome().project[:])
	w.raw(vars[:])
	w.strs(sortedKeys(st.inputNames))
	w.str(st.opts.Environment)
	w.bool(st.opts.AllEnvironments)
	w.bool(st.scoped)
	w.strs(st.envs)
	return true
}

// quickKey is the fingerprint of the load's inputs as they are known
// before any spec file is read: the outcome key's inputs, with each spec
// file's stat in place of what the index keeps of it (the others key and
// the selected files' stats). False when the load cannot have an outcome
// (see outcomeKey) or a file has no stat.
func (st *streamer) quickKey() ([sha256.Size]byte, bool) {
	others, ok := st.othersKey()
	if !ok {
		return others, false
	}
	w := &encoder{b: []byte("quick")} // never the same bytes as another key's
	w.raw(others[:])
	for i, path := range st.l.files {
		if !st.l.selected(path) {
			continue
		}
		if st.l.stats[i] == (fileStat{}) {
			return [sha256.Size]byte{}, false
		}
		writeStat(w, st.l.stats[i])
	}
	return sha256.Sum256(w.b), true
}

// othersKey is the fingerprint of the load's inputs but the selected
// files: keyHead, which files there are and which are selected, and the
// stat of each file not selected; false when the load cannot have an
// outcome or a file has no stat. See replayEdited. It is worked out once
// a load, for the quick key starts from it.
func (st *streamer) othersKey() ([sha256.Size]byte, bool) {
	st.othersOnce.Do(func() { st.others, st.othersOK = st.statsOfOthers() })
	return st.others, st.othersOK
}

func (st *streamer) statsOfOthers() ([sha256.Size]byte, bool) {
	w := &encoder{b: make([]byte, 0, 64*len(st.l.files)+1024)}
	w.str("others")
	if len(st.l.stats) != len(st.l.files) || !st.keyHead(w) {
		return [sha256.Size]byte{}, false
	}
	w.uvarint(uint64(len(st.l.files)))
	for i, path := range st.l.files {
		sel := st.l.selected(path)
		w.str(st.l.rel(path))
		w.str(st.l.display(path))
		w.bool(sel)
		if sel {
			continue
		}
		if st.l.stats[i] == (fileStat{}) {
			return [sha256.Size]byte{}, false
		}
		writeStat(w, st.l.stats[i])
	}
	return sha256.Sum256(w.b), true
}

// writeStat writes stat to w, for a fingerprint.
func writeStat(w *encoder, stat fileStat) {
	w.varint(stat.size)
	w.varint(stat.mtime)
	w.varint(stat.ctime)
	w.uvarint(stat.ino)
}

// keyOutcome lets Keep record the load keyed by replayOutcome, which
// ended with diags diagnostics, when it had none.
func (st *streamer) keyOutcome(diags int) {
	if o := st.outcome(); o != nil && o.keyed && diags == 0 {
		o.keepable = true
	}
}

// startOutcome readies o for a Stream of root, whose drover.hcl has the
// checksum ph, with the outcomes kept there.
func startOutcome(o *Outcome, root string, ph [sha256.Size]byte) {
	*o = Outcome{Replay: o.Replay, ReplaySets: o.ReplaySets, root: root, project: ph, kept: readOutcomes(root, ph)}
}

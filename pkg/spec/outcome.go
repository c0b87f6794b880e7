package spec

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"slices"
)

// Outcome lets the caller of a Stream skip everything that follows a load
// it has finished before from the same inputs: assembling the Sets, the
// checks across files, and whatever the caller does with them (render -o
// writing project-wide artifacts, say). It takes Index and MemoKey: the
// load must take every spec file from the index, and replay every
// selected one (see StreamOptions.Memo), for there to be an outcome to
// replay at all.
//
// The inputs are everything the Sets are made of: drover.hcl, the values
// of the project's variables and which inputs set variables, the
// environments, the root, which files there are and which are selected,
// each file's summaries and variable declarations in every environment,
// the selected files' memos, and MemoKey (which names the caller and its
// context). A load with any diagnostic at all is never kept, and so one
// that replays has none.
//
// Working that key out takes every file's summaries, from the index.
// A load whose spec files all have the stat they had when a load of
// otherwise the same inputs replayed an outcome replays it at once, from
// the stats alone: its quick key (quickKey) is recorded beside the
// outcome then, when no stat was too recent to pin its file's bytes (see
// indexEntry.racy). Such a load reads none of the index's entries, nor
// any spec but drover.hcl.
type Outcome struct {
	// Replay is given what the caller kept (Keep) after a load of the same
	// inputs; it returns whether that still stands (the files it names
	// are as they were). When it does, Stream returns no Set and no
	// diagnostics: the caller's earlier work stands for this load.
	//
	// apps says that the load replayed from the stats alone, so that the
	// selected files' memos were not replayed (StreamOptions.Replay): then
	// memo stands for the apps' visits as well, and Replay must see that
	// what they did is intact too. Otherwise each app's memo stood.
	Replay func(memo []byte, apps bool) bool

	root    string
	project [sha256.Size]byte
	kept    []keptOutcome // as read, the most recent first
	// file is the outcomes file kept was read from, open while the Stream
	// runs.
	file     *os.File
	key      [sha256.Size]byte
	keyed    bool // key is the load's
	keepable bool // ... and it had no diagnostic: Keep records it
	replayed bool
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
}

// Replayed reports whether the last Stream with o replayed an outcome.
func (o *Outcome) Replayed() bool { return o.replayed }

// Keep records memo as the outcome of the load that the last Stream with
// o made, for a later load of the same inputs to replay. It does nothing
// when that load had diagnostics, or could not be keyed. Call it only
// once the work memo stands for is done (its files written).
func (o *Outcome) Keep(memo []byte) {
	if !o.keepable || o.replayed {
		return
	}
	kept := []keptOutcome{{key: o.key, memo: memo, size: len(memo)}}
	if o.settled && o.quickOK {
		kept[0].quick = o.quick
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

// keptOutcome is one outcome the outcomes file holds.
type keptOutcome struct {
	key [sha256.Size]byte
	// quick is the quick key of a load that replayed it (zero: none yet).
	quick [sha256.Size]byte
	// memo is read when first needed (memoOf): size bytes at offset at of
	// the file, whose checksum is sum.
	memo []byte
	sum  [sha256.Size]byte
	size int
	at   int64
}

// The outcomes file sits beside the index, and like it is dropped whole
// when the binary or drover.hcl changed. It holds the outcomes of the
// last few distinct loads (a full render, one-spec renders into other
// directories...), the most recent first: a head with each one's keys and
// the checksum and size of its memo, then the memos. A load reads the
// head, and the memo of the one outcome it may replay: a full render's
// runs to megabytes.
const (
	outcomesFileName = "outcomes"
	outcomesMagic    = "drover outcomes 3\n"
	maxKeptOutcomes  = 16
	// maxOutcomesSize bounds the memos kept beside the newest, which Keep
	// reads and writes again. A full render of 5,000 specs keeps about
	// 1.6 MB, one of a single spec of them 30 KB.
	maxOutcomesSize = 4 << 20
)

// readOutcomes reads the head of root's outcomes file; none when it is
// missing, damaged, or written by another binary or for another
// drover.hcl (ph). With outcomes, it returns the file, open: it is only
// ever replaced whole (writeOutcomes), so that the memos read through it
// are the head's.
func readOutcomes(root string, ph [sha256.Size]byte) ([]keptOutcome, *os.File) {
	f, err := os.Open(outcomesPath(root))
	if err != nil {
		return nil, nil
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil
	}
	// The head is a few KB: read a little more, and more again if not.
	for n := int64(8 << 10); ; n *= 4 {
		head := make([]byte, min(n, info.Size()))
		if _, err := f.ReadAt(head, 0); err != nil && err != io.EOF {
			break
		}
		kept, whole := parseOutcomesHead(head, info.Size(), ph)
		if kept != nil {
			return kept, f
		}
		if whole || int64(len(head)) == info.Size() {
			break
		}
	}
	f.Close()
	return nil, nil
}

// parseOutcomesHead parses the head of an outcomes file of size bytes
// that begins with b; whole is false when b ends before the head does.
func parseOutcomesHead(b []byte, size int64, ph [sha256.Size]byte) (kept []keptOutcome, whole bool) {
	if !bytes.HasPrefix(b, []byte(outcomesMagic)) {
		return nil, true // (a file shorter than the magic was read whole)
	}
	d := &decoder{b: b[len(outcomesMagic):]}
	id := binaryID()
	if got := d.str(); d.bad || id == "" || got != id || !bytes.Equal(d.bytes(sha256.Size), ph[:]) {
		return nil, !d.bad
	}
	n := d.uvarint()
	if n > maxKeptOutcomes {
		return nil, true
	}
	for ; n > 0 && !d.bad; n-- {
		var k keptOutcome
		copy(k.key[:], d.bytes(sha256.Size))
		copy(k.quick[:], d.bytes(sha256.Size))
		copy(k.sum[:], d.bytes(sha256.Size))
		k.size = int(d.uvarint())
		kept = append(kept, k)
	}
	if d.bad {
		return nil, false
	}
	at := int64(len(b) - len(d.b))
	for i := range kept {
		kept[i].at = at
		at += int64(kept[i].size)
	}
	if at != size {
		return nil, true // cut, or grown
	}
	return kept, true
}

func outcomesPath(root string) string { return filepath.Join(root, IndexDir, outcomesFileName) }

// memoOf returns the memo of o.kept[i], reading it the first time: from
// the file its head was read from while the Stream runs, else from the
// file there now, when it still holds that memo; false when it cannot be
// read as it was kept.
func (o *Outcome) memoOf(i int) ([]byte, bool) {
	k := &o.kept[i]
	if k.memo != nil {
		return k.memo, true
	}
	memo := make([]byte, k.size)
	if o.file != nil {
		if _, err := o.file.ReadAt(memo, k.at); err != nil {
			return nil, false
		}
		k.memo = memo
		return memo, true
	}
	f, err := os.Open(outcomesPath(o.root))
	if err != nil {
		return nil, false
	}
	defer f.Close()
	if _, err := f.ReadAt(memo, k.at); err != nil || sha256.Sum256(memo) != k.sum {
		return nil, false
	}
	k.memo = memo
	return memo, true
}

// closeFile closes the outcomes file read at the start of a Stream.
func (o *Outcome) closeFile() {
	if o.file != nil {
		o.file.Close()
		o.file = nil
	}
}

// writeOutcomes writes kept as root's outcomes file, with the memos of
// those read from it; one whose memo cannot be read is left out.
func (o *Outcome) writeOutcomes(kept []keptOutcome) {
	id := binaryID()
	if id == "" {
		return
	}
	readable := kept[:0:0]
	for i := range kept {
		if kept[i].memo == nil {
			// One of o.kept, not read yet.
			j := slices.IndexFunc(o.kept, func(k keptOutcome) bool { return k.key == kept[i].key })
			if j < 0 {
				continue
			}
			memo, ok := o.memoOf(j)
			if !ok {
				continue
			}
			kept[i].memo = memo
		}
		readable = append(readable, kept[i])
	}
	w := &encoder{b: []byte(outcomesMagic)}
	w.str(id)
	w.raw(o.project[:])
	w.uvarint(uint64(len(readable)))
	for _, k := range readable {
		sum := sha256.Sum256(k.memo)
		w.raw(k.key[:])
		w.raw(k.quick[:])
		w.raw(sum[:])
		w.uvarint(uint64(len(k.memo)))
	}
	dir := filepath.Join(o.root, IndexDir)
	tmp, err := os.CreateTemp(dir, outcomesFileName+".tmp-*")
	if err != nil {
		return // no index directory: nor an index to replay from
	}
	bw := bufio.NewWriterSize(tmp, 256<<10)
	_, _ = bw.Write(w.b)
	for _, k := range readable {
		_, _ = bw.Write(k.memo)
	}
	werr := bw.Flush()
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), outcomesPath(o.root)) != nil {
		_ = os.Remove(tmp.Name())
	}
}

// outcomeKey is the fingerprint of the load's inputs (see Outcome); false
// when the load cannot have an outcome: any diagnostic so far, a file
// with errors, a variable without a known value.
func (st *streamer) outcomeKey(results []*fileResult) ([sha256.Size]byte, bool) {
	if st.opts.MemoKey == "" || !st.l.hasProject || st.projectErr != nil || len(st.diags) > 0 {
		return [sha256.Size]byte{}, false
	}
	vars, ok := st.fps.of(sortedKeys(st.projectVar), st)
	if !ok {
		return [sha256.Size]byte{}, false
	}
	// Through a small buffer: the summaries of a large project come to
	// megabytes, which a buffer of them all would copy and fault in.
	h := sha256.New()
	w := &encoder{b: make([]byte, 0, 32<<10)}
	flush := func() {
		if len(w.b) >= 16<<10 {
			h.Write(w.b)
			w.b = w.b[:0]
		}
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
	w.uvarint(uint64(len(results)))
	for _, r := range results {
		if len(r.diags) > 0 || r.noMemo || r.entry != nil && r.entry.errors {
			return [sha256.Size]byte{}, false
		}
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
			hashBlob(w, r.facts, env)
			if r.selected {
				hashBlob(w, r.memos, env)
			}
		}
		flush()
	}
	h.Write(w.b)
	var key [sha256.Size]byte
	h.Sum(key[:0])
	return key, true
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
	key, ok := st.outcomeKey(results)
	if !ok {
		return false
	}
	o.key, o.keyed = key, true
	for _, r := range results {
		if !r.fromIndex && r.rel != ProjectFileName {
			return false
		}
	}
	o.settled = !slices.ContainsFunc(results, func(r *fileResult) bool {
		return r.rel != ProjectFileName && (r.entry == nil || r.entry.racy())
	})
	i := slices.IndexFunc(o.kept, func(k keptOutcome) bool { return k.key == key })
	if i < 0 || o.quickFailed && o.kept[i].quick == o.quick {
		return false
	}
	if memo, ok := o.memoOf(i); !ok || !o.Replay(memo, false) {
		return false
	}
	o.replayed = true
	if o.settled && o.quickOK && o.kept[i].quick != o.quick {
		// The next load of these inputs replays from the stats alone.
		o.kept[i].quick = o.quick
		o.writeOutcomes(slices.Clone(o.kept))
	}
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

// quickKey is the fingerprint of the load's inputs as they are known
// before any spec file is read: the outcome key's inputs, with each spec
// file's stat in place of what the index keeps of it. False when the
// load cannot have an outcome (see outcomeKey) or a file has no stat.
func (st *streamer) quickKey() ([sha256.Size]byte, bool) {
	if st.opts.MemoKey == "" || !st.l.hasProject || st.projectErr != nil || len(st.diags) > 0 || len(st.l.stats) != len(st.l.files) {
		return [sha256.Size]byte{}, false
	}
	vars, ok := st.fps.of(sortedKeys(st.projectVar), st)
	if !ok {
		return [sha256.Size]byte{}, false
	}
	w := &encoder{b: make([]byte, 0, 64*len(st.l.files)+1024)}
	w.str("quick") // never the same bytes as an outcome key's
	w.str(st.opts.MemoKey)
	w.str(st.l.root)
	w.raw(st.outcome().project[:])
	w.raw(vars[:])
	w.strs(sortedKeys(st.inputNames))
	w.str(st.opts.Environment)
	w.bool(st.opts.AllEnvironments)
	w.bool(st.scoped)
	w.strs(st.envs)
	w.uvarint(uint64(len(st.l.files)))
	for i, path := range st.l.files {
		stat := st.l.stats[i]
		if stat == (fileStat{}) {
			return [sha256.Size]byte{}, false
		}
		w.str(st.l.rel(path))
		w.str(st.l.display(path))
		w.bool(st.l.selected(path))
		w.varint(stat.size)
		w.varint(stat.mtime)
		w.varint(stat.ctime)
		w.uvarint(stat.ino)
	}
	return sha256.Sum256(w.b), true
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
	*o = Outcome{Replay: o.Replay, root: root, project: ph}
	o.kept, o.file = readOutcomes(root, ph)
}

package spec

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/drover-io/drover/internal/parallel"
	"github.com/drover-io/drover/internal/rawfile"
)

// The project index is what Stream keeps between runs so that a command
// naming one spec of a large project parses that spec (and drover.hcl)
// rather than all of them. For every spec file it holds the file's stat
// and checksum and, per environment, the summaries of its apps and its
// externals (what the checks across files need), with the variables the
// file declares and the project variables it refers to.
//
// It is never trusted blindly. It is dropped whole when drover.hcl or the
// drover binary changed; an entry is used only while the file's stat is
// the one recorded (a file whose stat changed is read and, unless its
// checksum is the same, parsed again), while the project variables it
// refers to have the values they had, and while no input sets a variable
// the file declares. A stat recorded within indexRacyWindow of the moment
// the file was read is not trusted either: a change within the same
// timestamp tick would not show in it (git's "racy" entries).
//
// It lives in .drover/ under the project root (index.0 to index.f, see
// indexShards), with a .gitignore that keeps it out of version control; a
// root that cannot be written to just goes without.
const (
	IndexDir        = ".drover"
	indexFileName   = "index"
	indexMagic      = "drover index 5\n"
	indexRacyWindow = 2 * time.Second
)

// index is a read index: its entries by file, relative to the root.
type index struct {
	entries map[string]*indexEntry
}

func (ix *index) lookup(rel string) *indexEntry {
	if ix == nil {
		return nil
	}
	return ix.entries[rel]
}

// indexEntry is what the index knows of one spec file.
type indexEntry struct {
	rel  string
	stat fileStat
	hash [sha256.Size]byte
	// readAt is when the content was read (Unix ns), for the racy check.
	readAt int64
	// errors: the file had errors when it was last checked.
	errors bool
	// localInputs: an input set one of the file's own variables.
	localInputs bool
	decls       []indexVar
	// refs are the project variables the file refers to, sorted; fp the
	// fingerprint of their values (fpOK false when they had none).
	refs     []string
	fp       [sha256.Size]byte
	fpOK     bool
	envNames []string
	// facts holds each environment's encoded summaries (encodeFacts).
	facts *blobs
	// clean: the file had no diagnostics at all, nor a Memo that failed,
	// when it was last checked; only then are its memos replayed.
	clean bool
	// memos holds the encoded memos (encodeMemos) of the file's apps, by
	// memoSlot: each caller's own, per environment.
	memos *blobs
	// memosRaw are the memos as read, decoded on first use (memoBlobs): a
	// command on one spec needs the memos of that spec only.
	memosRaw []byte
	// changed: not as read (new, or with a new stat or environments);
	// raw is the entry as read, written again as it is when unchanged.
	changed bool
	raw     []byte
}

// indexVar is a variable a file declares.
type indexVar struct {
	name string
	typ  cty.Type
	rng  hcl.Range
}

// binaryID names this build of drover: an index written by another one
// may summarize differently. A build from a clean checkout, or of a
// module version, is named by what it was built from (buildID), so that
// a CI cache of .drover/ outlives rebuilding the same drover; any other
// by its executable's path, size and modification time.
var binaryID = sync.OnceValue(func() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		if id := buildID(info); id != "" {
			return id
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	info, err := os.Stat(exe)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%s %d %d", exe, info.Size(), info.ModTime().UnixNano())
})

// buildID names the build info describes by everything it records (Go
// version, module and dependency versions, build settings and flags,
// revision), when that pins the code: a version control revision with no
// local modification, or a module version ("go install ...@v1.2.3").
// Else "".
func buildID(info *debug.BuildInfo) string {
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	pinned := settings["vcs.revision"] != "" ||
		info.Main.Version != "" && info.Main.Version != "(devel)" && !strings.HasSuffix(info.Main.Version, "+dirty")
	if !pinned || settings["vcs.modified"] == "true" {
		return ""
	}
	sum := sha256.Sum256([]byte(info.String()))
	return "build " + hex.EncodeToString(sum[:])
}

// The index is kept in indexShards files, each entry in the one its
// file's path hashes to (shardOf), so that a command after an edit of one
// spec writes that spec's shard again rather than the whole index (3 MB
// for 5,000 specs). Each shard stands on its own: a missing or damaged
// one only leaves its files to be read again.
const indexShards = 16

// shardOf is the shard of the entry of rel.
func shardOf(rel string) int {
	h := fnv.New32a()
	h.Write([]byte(rel))
	return int(h.Sum32() % indexShards)
}

func shardPath(root string, k int) string {
	return filepath.Join(root, IndexDir, fmt.Sprintf("%s.%x", indexFileName, k))
}

// indexFile is an index as read, its entries not decoded yet: a load
// that replays its outcome at once (replayQuick) needs none of them, and
// one that reads the selected files alone (replayEdited) needs only their
// shards. So each shard is read when first needed (shard).
type indexFile struct {
	root string
	id   string
	ph   [sha256.Size]byte
	once [indexShards]sync.Once
	// bodies are the encoded entries of each shard; read: it was read
	// whole (see readShard).
	bodies [indexShards][][]byte
	read   [indexShards]bool
}

// readIndexFile opens root's index: the shards that are there, and were
// written by this binary for the same drover.hcl (ph: the checksum of the
// bytes this run read, on which every summary depends). Nil when no shard
// is. The first shard is read at once, to tell; the others when needed.
func readIndexFile(root string, ph [sha256.Size]byte) *indexFile {
	id := binaryID()
	if id == "" {
		return nil
	}
	f := &indexFile{root: root, id: id, ph: ph}
	if len(f.shard(0)) > 0 || f.read[0] {
		return f
	}
	// No first shard: most likely no index at all.
	for k := 1; k < indexShards; k++ {
		if f.shard(k); f.read[k] {
			return f
		}
	}
	return nil
}

// shard returns the encoded entries of shard k, reading it the first
// time; none when it is missing, damaged, or another binary's or
// drover.hcl's.
func (f *indexFile) shard(k int) [][]byte {
	f.once[k].Do(func() { f.bodies[k], f.read[k] = readShard(shardPath(f.root, k), f.id, f.ph) })
	return f.bodies[k]
}

// readShard reads the index shard at path, written by the binary id for
// the drover.hcl of checksum ph: its encoded entries, and whether it was
// read whole.
func readShard(path, id string, ph [sha256.Size]byte) ([][]byte, bool) {
	data, err := rawfile.ReadFile(path)
	if err != nil || !bytes.HasPrefix(data, []byte(indexMagic)) {
		return nil, false
	}
	d := &decoder{b: data[len(indexMagic):]}
	if d.str() != id || !bytes.Equal(d.bytes(sha256.Size), ph[:]) {
		return nil, false
	}
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		return nil, false
	}
	bodies := make([][]byte, 0, n)
	for ; n > 0 && !d.bad; n-- {
		bodies = append(bodies, d.bytes(int(d.uvarint())))
	}
	if d.bad || len(d.b) != 0 {
		return nil, false
	}
	return bodies, true
}

// decode decodes the entries of f; nil when f is.
func (f *indexFile) decode() *index {
	if f == nil {
		return nil
	}
	parallel.ForEach(indexShards, func(k int) { f.shard(k) })
	var bodies [][]byte
	for k := range indexShards {
		bodies = append(bodies, f.bodies[k]...)
	}
	// Entries decode on their own: a share of them on each core, each
	// share with its own interned names.
	entries := make([]*indexEntry, len(bodies))
	shares := min(runtime.GOMAXPROCS(0), max(1, len(bodies)/256))
	parallel.ForEach(shares, func(k int) {
		intern := map[string]string{}
		from, to := k*len(bodies)/shares, (k+1)*len(bodies)/shares
		slab := make([]entrySlot, to-from) // one allocation a share
		for i := from; i < to; i++ {
			entries[i] = slab[i-from].decode(bodies[i], intern)
		}
	})
	ix := &index{entries: make(map[string]*indexEntry, len(entries))}
	for _, e := range entries {
		if e != nil {
			ix.entries[e.rel] = e
		}
	}
	return ix
}

// entrySlot is room for an entry and its facts, for a large index to
// decode into a few allocations rather than several an entry.
type entrySlot struct {
	e     indexEntry
	facts blobs
}

// decodeEntry decodes one entry; intern shares the names that recur from
// entry to entry (variables, environments).
func decodeEntry(b []byte, intern map[string]string) *indexEntry {
	return new(entrySlot).decode(b, intern)
}

// decode decodes the entry b into the slot (see decodeEntry); nil when b
// is damaged.
func (slot *entrySlot) decode(b []byte, intern map[string]string) *indexEntry {
	d := &decoder{b: b, intern: intern}
	e := &slot.e
	e.rel = d.str()
	e.stat = fileStat{size: d.varint(), mtime: d.varint(), ctime: d.varint(), ino: d.uvarint()}
	copy(e.hash[:], d.bytes(sha256.Size))
	e.readAt = d.varint()
	flags := d.uvarint()
	e.errors, e.localInputs, e.fpOK, e.clean = flags&1 != 0, flags&2 != 0, flags&4 != 0, flags&8 != 0
	for n := d.uvarint(); n > 0 && !d.bad; n-- {
		v := indexVar{name: d.str()}
		typ, err := ctyjson.UnmarshalType([]byte(d.str()))
		if err != nil {
			typ = cty.DynamicPseudoType
		}
		v.typ, v.rng = typ, d.rng("")
		e.decls = append(e.decls, v)
	}
	for n := d.uvarint(); n > 0 && !d.bad; n-- {
		e.refs = append(e.refs, d.interned())
	}
	copy(e.fp[:], d.bytes(sha256.Size))
	for n := d.uvarint(); n > 0 && !d.bad; n-- {
		e.envNames = append(e.envNames, d.interned())
	}
	e.facts = &slot.facts
	d.blobsInto(e.facts)
	e.memosRaw = d.b // the rest
	if d.bad {
		return nil
	}
	e.raw = b
	return e
}

// memoBlobs returns e's memos, decoding them the first time. Damaged ones
// are none: a file without memos is read again.
func (e *indexEntry) memoBlobs() *blobs {
	if e.memosRaw != nil {
		d := &decoder{b: e.memosRaw}
		if e.memos = d.blobs(); d.bad || len(d.b) != 0 {
			e.memos = nil
		}
		e.memosRaw = nil
	}
	return e.memos
}

func encodeEntry(w *encoder, e *indexEntry) {
	if !e.changed && e.raw != nil {
		w.raw(e.raw)
		return
	}
	w.str(e.rel)
	w.varint(e.stat.size)
	w.varint(e.stat.mtime)
	w.varint(e.stat.ctime)
	w.uvarint(e.stat.ino)
	w.raw(e.hash[:])
	w.varint(e.readAt)
	var flags uint64
	if e.errors {
		flags |= 1
	}
	if e.localInputs {
		flags |= 2
	}
	if e.fpOK {
		flags |= 4
	}
	if e.clean {
		flags |= 8
	}
	w.uvarint(flags)
	w.uvarint(uint64(len(e.decls)))
	for _, v := range e.decls {
		w.str(v.name)
		typ, err := ctyjson.MarshalType(v.typ)
		if err != nil {
			typ = []byte(`"dynamic"`)
		}
		w.str(string(typ))
		w.rng(v.rng)
	}
	w.strs(e.refs)
	w.raw(e.fp[:])
	w.strs(e.envNames)
	w.blobs(e.facts)
	w.blobs(e.memoBlobs())
}

// blobs encodes named byte strings, by name. One the same as an earlier
// one is written as a reference to it: a file's summaries are often the
// same in every environment.
func (w *encoder) blobs(bs *blobs) {
	all := bs.all()
	w.uvarint(uint64(len(all)))
	for i, nb := range all {
		w.str(nb.name)
		if k := slices.IndexFunc(all[:i], func(o namedBlob) bool { return bytes.Equal(o.b, nb.b) }); k >= 0 {
			w.uvarint(0)
			w.uvarint(uint64(k))
			continue
		}
		w.uvarint(uint64(len(nb.b)) + 1)
		w.raw(nb.b)
	}
}

// blobs decodes what encoder.blobs wrote; nil when there are none.
func (d *decoder) blobs() *blobs {
	bs := &blobs{}
	if !d.blobsInto(bs) {
		return nil
	}
	return bs
}

// blobsInto is blobs decoding into bs (empty); false when there are none.
func (d *decoder) blobsInto(bs *blobs) bool {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
	}
	if n == 0 || d.bad {
		return false
	}
	bs.s = make([]namedBlob, 0, n)
	for ; n > 0 && !d.bad; n-- {
		name := d.interned()
		var b []byte
		if size := d.uvarint(); size > 0 {
			b = d.bytes(int(size - 1))
		} else if k := d.uvarint(); k < uint64(len(bs.s)) {
			b = bs.s[k].b
		} else {
			d.fail()
		}
		if k := len(bs.s); k > 0 && bs.s[k-1].name >= name {
			d.fail() // written in name order, each name once
		}
		bs.s = append(bs.s, namedBlob{name: name, b: b})
	}
	if d.bad {
		bs.s = nil
		return false
	}
	return true
}

// usable reports whether the index entry e may stand for the file at path
// in envs. When it read the file to compare checksums, it returns the
// contents, so that a changed file is not read twice.
func (st *streamer) usable(e *indexEntry, path string, stat fileStat, envs []string) ([]byte, bool) {
	if e.localInputs || !e.fpOK {
		return nil, false
	}
	for _, v := range e.decls {
		if st.inputNames[v.name] {
			return nil, false
		}
	}
	for _, env := range envs {
		if e.facts.get(env) == nil {
			return nil, false
		}
	}
	if fp, ok := st.fps.of(e.refs, st); !ok || fp != e.fp {
		return nil, false
	}
	if stat != (fileStat{}) && stat == e.stat && !e.racy() {
		return nil, true
	}
	src, same := readCompare(path, stat.size, e.hash)
	if !same {
		return src, false
	}
	e.stat, e.readAt, e.changed = stat, time.Now().UnixNano(), true
	return nil, true
}

// readCompare reports whether the file at path has checksum sum; when it
// has not, it returns what it read (nil on an error), for the file to be
// parsed. A file whose stat changed but not its bytes (every file of a
// fresh checkout with its index cached) is read into a buffer used again:
// a scoped load runs without the collector, and those bytes would all
// stay in memory.
func readCompare(path string, size int64, sum [sha256.Size]byte) ([]byte, bool) {
	if size <= 0 || size > maxPooledSpec {
		src, err := rawfile.ReadFile(path)
		return src, err == nil && sha256.Sum256(src) == sum
	}
	bp := specBuffers.Get().(*[]byte)
	defer specBuffers.Put(bp)
	if int64(cap(*bp)) <= size {
		*bp = make([]byte, size+1)
	}
	// One byte more than the stat said: a file that grew since is read
	// whole again below.
	n, err := rawfile.ReadFull(path, (*bp)[:size+1])
	switch {
	case err != nil:
		return nil, false
	case n <= int(size) && sha256.Sum256((*bp)[:n]) == sum:
		return nil, true
	case n <= int(size):
		return bytes.Clone((*bp)[:n]), false
	}
	src, err := rawfile.ReadFile(path) // grew
	return src, err == nil && sha256.Sum256(src) == sum
}

// Spec files up to maxPooledSpec are compared through specBuffers.
const maxPooledSpec = 256 << 10

var specBuffers = sync.Pool{New: func() any { return new([]byte) }}

// racy reports whether the file may have changed within the timestamp tick
// its stat was recorded in.
func (e *indexEntry) racy() bool {
	return max(e.stat.mtime, e.stat.ctime) >= e.readAt-int64(indexRacyWindow)
}

// memoSlot names where the memos of key in env are kept.
func memoSlot(key, env string) string { return key + "\x00" + env }

// memosFor returns e's memos of key for envs, by environment, when it has
// them all.
func (e *indexEntry) memosFor(key string, envs []string) (*blobs, bool) {
	if key == "" {
		return nil, false
	}
	out := &blobs{s: make([]namedBlob, 0, len(envs))}
	for _, env := range envs {
		m, ok := e.memoBlobs().lookup(memoSlot(key, env))
		if !ok {
			return nil, false
		}
		out.set(env, m)
	}
	return out, true
}

// keepMemos records r's memos in its new entry e, beside what e already
// keeps of other callers.
func (st *streamer) keepMemos(e *indexEntry, r *fileResult) {
	if st.opts.MemoKey == "" || !e.clean {
		return
	}
	if e.memoBlobs() == nil {
		e.memos = &blobs{}
	}
	for _, m := range r.memos.all() {
		e.memos.set(memoSlot(st.opts.MemoKey, m.name), m.b)
	}
}

// encodeMemos encodes the memos of a file's apps, in order.
func encodeMemos(memos [][]byte) []byte {
	w := &encoder{}
	w.uvarint(uint64(len(memos)))
	for _, m := range memos {
		w.uvarint(uint64(len(m)))
		w.raw(m)
	}
	return w.b
}

func decodeMemos(b []byte) ([][]byte, bool) {
	d := &decoder{b: b}
	n := int(d.uvarint())
	if n > len(b) {
		return nil, false
	}
	out := make([][]byte, 0, n)
	for range n {
		out = append(out, d.bytes(int(d.uvarint())))
	}
	return out, !d.bad
}

// fromEntry fills r from the index entry e for envs.
func (st *streamer) fromEntry(r *fileResult, e *indexEntry, envs []string) {
	r.entry, r.fromIndex = e, true
	r.envNames = e.envNames
	for _, v := range e.decls {
		rng := v.rng
		rng.Filename = r.display
		r.decls = append(r.decls, &Variable{Name: v.name, Type: v.typ, DeclRange: rng, File: r.display})
	}
	for _, env := range envs {
		r.facts.set(env, e.facts.get(env))
	}
}

// newEntry is the index entry of a file parsed in this run: the one read
// when it still describes the file, else a new one.
func (st *streamer) newEntry(r *fileResult, stat fileStat, src []byte, f *hcl.File, localInputs bool) *indexEntry {
	e := &indexEntry{rel: r.rel, stat: stat, hash: sha256.Sum256(src), readAt: time.Now().UnixNano(), errors: r.diags.HasErrors(),
		clean: len(r.diags) == 0 && !r.noMemo && !r.templates, localInputs: localInputs, envNames: r.envNames, facts: r.facts, changed: true}
	if old := st.index.lookup(r.rel); old != nil && old.hash == e.hash {
		e.refs = old.refs
	} else {
		e.refs = variableRefs(f, st.projectVar)
	}
	e.fp, e.fpOK = st.fps.of(e.refs, st)
	for _, v := range r.decls {
		e.decls = append(e.decls, indexVar{name: v.Name, typ: v.Type, rng: v.DeclRange})
	}
	old := st.index.lookup(r.rel)
	if old == nil || old.hash != e.hash || old.fp != e.fp || !old.fpOK || !e.fpOK || old.localInputs || localInputs {
		st.keepMemos(e, r)
		return e
	}
	if e.clean && old.clean {
		// The same file in the same context: other callers' memos hold.
		e.memos = old.memoBlobs().clone()
	}
	st.keepMemos(e, r)
	// The same file in the same context: keep what the old entry knows of
	// other environments.
	covered := true
	for _, f := range e.facts.all() {
		covered = covered && old.facts.get(f.name) != nil
	}
	for _, f := range old.facts.all() {
		if e.facts.get(f.name) == nil {
			e.facts.set(f.name, f.b)
		}
	}
	e.errors = e.errors || old.errors
	if covered && e.errors == old.errors && e.clean == old.clean && e.memoBlobs().equal(old.memoBlobs()) && stat == old.stat && !old.racy() {
		return old
	}
	return e
}

// writeIndex writes the index of results, unless nothing changed.
func (st *streamer) writeIndex(results []*fileResult) {
	id := binaryID()
	if id == "" || st.projectErr != nil || !st.l.hasProject {
		return
	}
	ph := sha256.Sum256(st.projectSrc)
	var shards [indexShards][]*indexEntry
	var changed [indexShards]bool
	for _, r := range results {
		if r.entry == nil {
			continue // drover.hcl, or a file that could not be read
		}
		k := shardOf(r.entry.rel)
		shards[k] = append(shards[k], r.entry)
		changed[k] = changed[k] || r.entry.changed
	}
	dir := filepath.Join(st.l.root, IndexDir)
	made := false
	var sw shardWriter
	for k := range indexShards {
		// A shard as read, with the same entries, none changed, stands.
		if f := st.indexFile; f != nil && len(f.shard(k)) == len(shards[k]) && f.read[k] && !changed[k] {
			continue
		}
		if !made {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return
			}
			ignore := filepath.Join(dir, ".gitignore")
			if _, err := os.Stat(ignore); err != nil {
				_ = os.WriteFile(ignore, []byte("# drover's index of the project's specs: a cache, rebuilt when missing.\n*\n"), 0o644)
			}
			_ = os.Remove(filepath.Join(dir, indexFileName)) // of an earlier drover
			made = true
		}
		sw.write(shardPath(st.l.root, k), id, ph, shards[k])
	}
}

// shardWriter writes index shards through one buffer of its own size and
// one entry encoder for them all, rather than a buffer of each shard (most
// of it entries as they were read).
type shardWriter struct {
	bw *bufio.Writer
	ew encoder
}

// write writes entries as the index shard at path, for the binary id and
// the drover.hcl of checksum ph.
func (sw *shardWriter) write(path, id string, ph [sha256.Size]byte, entries []*indexEntry) {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return
	}
	if sw.bw == nil {
		sw.bw = bufio.NewWriterSize(nil, 64<<10)
	}
	bw := sw.bw
	bw.Reset(tmp)
	head := &encoder{b: []byte(indexMagic)}
	head.str(id)
	head.raw(ph[:])
	head.uvarint(uint64(len(entries)))
	_, _ = bw.Write(head.b)
	var n [binary.MaxVarintLen64]byte
	for _, e := range entries {
		b := e.raw
		if e.changed || b == nil {
			sw.ew.b = sw.ew.b[:0]
			encodeEntry(&sw.ew, e)
			b = sw.ew.b
		}
		_, _ = bw.Write(n[:binary.PutUvarint(n[:], uint64(len(b)))])
		_, _ = bw.Write(b)
	}
	werr := bw.Flush()
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), path) != nil {
		_ = os.Remove(tmp.Name())
	}
}

// variableRefs lists the project variables the file refers to, sorted; a
// reference to var as a whole refers to all of them.
func variableRefs(f *hcl.File, project map[string]*Variable) []string {
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return sortedKeys(project)
	}
	seen := map[string]bool{}
	all := false
	_ = hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
		e, ok := n.(*hclsyntax.ScopeTraversalExpr)
		if !ok || e.Traversal.RootName() != "var" {
			return nil
		}
		if len(e.Traversal) < 2 {
			all = true
			return nil
		}
		a, ok := e.Traversal[1].(hcl.TraverseAttr)
		if !ok {
			all = true
			return nil
		}
		if project[a.Name] != nil {
			seen[a.Name] = true
		}
		return nil
	})
	if all {
		return sortedKeys(project)
	}
	return sortedKeys(seen)
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// fingerprints caches the fingerprint of each set of project variables.
type fingerprints struct {
	mu sync.Mutex
	m  map[string]fingerprint
}

type fingerprint struct {
	sum [sha256.Size]byte
	ok  bool
}

// of returns the fingerprint of the values of the named project
// variables; ok is false when one has no known value.
func (f *fingerprints) of(names []string, st *streamer) ([sha256.Size]byte, bool) {
	key := strings.Join(names, "\x00")
	f.mu.Lock()
	defer f.mu.Unlock()
	if fp, ok := f.m[key]; ok {
		return fp.sum, fp.ok
	}
	h := sha256.New()
	ok := true
	for _, name := range names {
		v := st.projectVar[name]
		if v == nil {
			ok = false
			break
		}
		val := st.values0[v]
		if val == cty.NilVal || !val.IsWhollyKnown() {
			ok = false
			break
		}
		data, err := ctyjson.Marshal(val, val.Type())
		typ, terr := ctyjson.MarshalType(val.Type())
		if err != nil || terr != nil {
			ok = false
			break
		}
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00", name, typ, data)
	}
	var sum [sha256.Size]byte
	if ok {
		h.Sum(sum[:0])
	}
	if f.m == nil {
		f.m = map[string]fingerprint{}
	}
	f.m[key] = fingerprint{sum, ok}
	return sum, ok
}

// The encoding of summaries: every range without its file name, which is
// the spec file's.

// encodeFacts encodes the summaries of apps and exts: what the checks
// across files and the artifacts derived from the whole project
// (intentions, routers, gateways) need of them. Each app starts with what
// a scoped load scans (name, whether it serves and is exposed, its
// upstreams' names), followed by the rest behind its length, its ranges
// first: a reader that needs only names skips the rest in one step, one
// that needs names and ranges stops after them. An external is its name
// and the rest behind its length. The whole opens with its shape (see
// factsShape), which the outcome keys hash in place of the rest.
func encodeFacts(w *encoder, apps []*App, exts []*External) {
	shape := &encoder{noRanges: true}
	encodeFactsBody(shape, apps, exts)
	sum := sha256.Sum256(shape.b)
	w.raw(sum[:])
	encodeFactsBody(w, apps, exts)
}

// factsShapeSize is the size of the shape that opens encoded summaries:
// the SHA-256 of what they say, ranges left out (see factsShape).
const factsShapeSize = sha256.Size

// factsShape is the fingerprint of what encoded summaries say, but where
// in their file they say it; nil when b is not encoded summaries. Two
// loads whose summaries have the same shapes have the same Sets but for
// the source ranges (which only diagnostics show).
func factsShape(b []byte) []byte {
	if len(b) < factsShapeSize {
		return nil
	}
	return b[:factsShapeSize]
}

// factsBody is what follows the shape of encoded summaries.
func factsBody(b []byte) []byte {
	if len(b) < factsShapeSize {
		return nil
	}
	return b[factsShapeSize:]
}

// encodeFactsBody writes the summaries proper (see encodeFacts); with
// w.noRanges, no range.
func encodeFactsBody(w *encoder, apps []*App, exts []*External) {
	w.uvarint(uint64(len(apps)))
	d := &encoder{noRanges: w.noRanges}
	for _, a := range apps {
		w.str(a.Name)
		var flags uint64
		if s := a.Service; s != nil {
			flags |= factService
			if s.Port.V != "" || len(a.Ports) == 1 {
				flags |= factServes
			}
		}
		if a.Expose != nil {
			flags |= factExposed
		}
		w.uvarint(flags)
		if s := a.Service; s != nil {
			w.uvarint(uint64(len(s.Upstreams)))
			for _, u := range s.Upstreams {
				w.str(u.Name)
				w.str(u.Project)
			}
		}
		d.b = d.b[:0]
		d.rng(a.NameRange)
		d.rng(a.DeclRange)
		d.valStr(a.Type)
		d.uvarint(uint64(len(a.Ports)))
		for _, p := range a.Ports {
			d.str(p.Label)
			d.rng(p.LabelRange)
			d.rng(p.DeclRange)
			d.valInt(p.To)
		}
		if s := a.Service; s != nil {
			d.rng(s.DeclRange)
			d.valStr(s.Name)
			d.valBool(s.Mesh)
			d.valStr(s.Port)
			d.valStr(s.Protocol)
			d.valStrs(s.AllowFrom)
			for _, u := range s.Upstreams {
				d.rng(u.NameRange)
				d.rng(u.DeclRange)
				d.valInt(u.LocalPort)
			}
		}
		if x := a.Expose; x != nil {
			d.rng(x.DeclRange)
			d.valStrs(x.Hosts)
			d.valStr(x.Path)
		}
		w.uvarint(uint64(len(d.b)))
		w.raw(d.b)
	}
	w.uvarint(uint64(len(exts)))
	for _, e := range exts {
		w.str(e.Name)
		d.b = d.b[:0]
		d.rng(e.NameRange)
		d.rng(e.DeclRange)
		d.valStr(e.Address)
		d.valInt(e.Port)
		d.valStr(e.Protocol)
		w.uvarint(uint64(len(d.b)))
		w.raw(d.b)
	}
}

// Flags of an encoded app summary.
const (
	factService = 1 << iota // has a mesh service
	factServes              // ... with a port to call
	factExposed
)

// factHeader is the part of an encoded app summary before its detail,
// and the ranges that start the detail when asked for.
type factHeader struct {
	name                 string
	flags                uint64
	upstreams            []scannedUpstream
	nameRange, declRange hcl.Range
	detail               []byte
}

// factHeader reads the part of an app summary before its detail. Its
// names are interned when d interns; its upstreams are appended to arena,
// when given, rather than to a slice of their own.
func (d *decoder) factHeader(display string, ranges bool, arena *[]scannedUpstream) factHeader {
	h := factHeader{name: d.interned(), flags: d.uvarint()}
	if h.flags&factService != 0 {
		if n := int(d.uvarint()); n > 0 && n <= len(d.b) {
			var ups []scannedUpstream
			if arena != nil {
				ups = *arena
			} else {
				ups = make([]scannedUpstream, 0, n)
			}
			start := len(ups)
			for range n {
				ups = append(ups, scannedUpstream{name: d.interned(), project: d.interned()})
			}
			h.upstreams = ups[start:len(ups):len(ups)]
			if arena != nil {
				*arena = ups
			}
		}
	}
	h.detail = d.bytes(int(d.uvarint()))
	if ranges {
		dd := &decoder{b: h.detail}
		h.nameRange, h.declRange = dd.rng(display), dd.rng(display)
		if h.detail = dd.b; dd.bad {
			d.fail()
		}
	}
	return h
}

func (d *decoder) externals(f *fileFacts, display, rel string) {
	for n := d.uvarint(); n > 0 && !d.bad; n-- {
		e := &External{Name: d.str(), File: rel}
		dd := &decoder{b: d.bytes(int(d.uvarint()))}
		e.NameRange, e.DeclRange = dd.rng(display), dd.rng(display)
		e.Address, e.Port, e.Protocol = dd.valStr(display), dd.valInt(display), dd.valStr(display)
		if dd.bad {
			d.fail()
		}
		f.externals = append(f.externals, e)
	}
}

// decodeFacts decodes summaries of the file display (rel to the root).
func decodeFacts(b []byte, display, rel string) *fileFacts {
	b = factsBody(b)
	d := &decoder{b: b}
	f := &fileFacts{}
	n := int(d.uvarint())
	apps := make([]App, min(n, len(b)))
	for i := 0; i < n && !d.bad; i++ {
		h := d.factHeader(display, true, nil)
		a := &apps[i]
		a.Name, a.NameRange, a.DeclRange, a.File, a.Source, a.AppSettings = h.name, h.nameRange, h.declRange, rel, display, noSettings
		dd := &decoder{b: h.detail}
		a.Type = dd.valStr(display)
		if np := int(dd.uvarint()); np > 0 && np <= len(b) {
			ports := make([]Port, np)
			a.Ports = make([]*Port, np)
			for k := range ports {
				p := &ports[k]
				p.Label, p.LabelRange, p.DeclRange, p.To = dd.str(), dd.rng(display), dd.rng(display), dd.valInt(display)
				a.Ports[k] = p
			}
		}
		if h.flags&factService != 0 {
			s := &Service{DeclRange: dd.rng(display)}
			s.Name, s.Mesh, s.Port, s.Protocol, s.AllowFrom = dd.valStr(display), dd.valBool(display), dd.valStr(display), dd.valStr(display), dd.valStrs(display)
			if len(h.upstreams) > 0 {
				ups := make([]Upstream, len(h.upstreams))
				s.Upstreams = make([]*Upstream, len(ups))
				for k, su := range h.upstreams {
					u := &ups[k]
					u.Name, u.Project = su.name, su.project
					u.NameRange, u.DeclRange, u.LocalPort = dd.rng(display), dd.rng(display), dd.valInt(display)
					s.Upstreams[k] = u
				}
			}
			a.Service = s
		}
		if h.flags&factExposed != 0 {
			x := &Expose{DeclRange: dd.rng(display)}
			x.Hosts, x.Path = dd.valStrs(display), dd.valStr(display)
			a.Expose = x
		}
		if dd.bad {
			d.bad = true
		}
		f.apps = append(f.apps, a)
	}
	d.externals(f, display, rel)
	if d.bad {
		return &fileFacts{}
	}
	return f
}

// encoder appends the index's binary encoding: unsigned and zig-zag
// varints, length-prefixed strings.
type encoder struct {
	b []byte
	// noRanges: rng writes nothing (for factsShape).
	noRanges bool
}

func (w *encoder) uvarint(v uint64) { w.b = binary.AppendUvarint(w.b, v) }
func (w *encoder) varint(v int64)   { w.b = binary.AppendVarint(w.b, v) }
func (w *encoder) raw(b []byte)     { w.b = append(w.b, b...) }

func (w *encoder) str(s string) {
	w.uvarint(uint64(len(s)))
	w.b = append(w.b, s...)
}

func (w *encoder) strs(ss []string) {
	w.uvarint(uint64(len(ss)))
	for _, s := range ss {
		w.str(s)
	}
}

func (w *encoder) bool(v bool) {
	if v {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}

func (w *encoder) rng(r hcl.Range) {
	if w.noRanges {
		return
	}
	for _, v := range [...]int{r.Start.Line, r.Start.Column, r.Start.Byte, r.End.Line, r.End.Column, r.End.Byte} {
		w.uvarint(uint64(v))
	}
}

func (w *encoder) valStr(v Val[string]) { w.str(v.V); w.bool(v.Set); w.rng(v.Range) }
func (w *encoder) valInt(v Val[int])    { w.varint(int64(v.V)); w.bool(v.Set); w.rng(v.Range) }
func (w *encoder) valBool(v Val[bool])  { w.bool(v.V); w.bool(v.Set); w.rng(v.Range) }

func (w *encoder) valStrs(v Val[[]string]) {
	w.bool(v.V != nil)
	w.strs(v.V)
	w.bool(v.Set)
	w.rng(v.Range)
}

// decoder reads what encoder wrote; bad is set, and zero values returned,
// once the input runs short.
type decoder struct {
	b      []byte
	bad    bool
	intern map[string]string
}

// interned reads a string, shared with equal ones read before.
func (d *decoder) interned() string {
	b := d.bytes(int(d.uvarint()))
	if s, ok := d.intern[string(b)]; ok {
		return s
	}
	s := string(b)
	if d.intern != nil {
		d.intern[s] = s
	}
	return s
}

// uvarint reads what encoder.uvarint wrote. Most are one byte (counts,
// lengths, lines and columns), read without a call.
func (d *decoder) uvarint() uint64 {
	if len(d.b) > 0 && d.b[0] < 0x80 {
		v := uint64(d.b[0])
		d.b = d.b[1:]
		return v
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// varint reads what encoder.varint (binary.AppendVarint) wrote: a zig-zag
// encoded uvarint.
func (d *decoder) varint() int64 {
	u := d.uvarint()
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return v
}

// fail marks the input damaged: every later read returns zero values.
func (d *decoder) fail() { d.bad, d.b = true, nil }

func (d *decoder) bytes(n int) []byte {
	if n < 0 || n > len(d.b) {
		d.fail()
		return nil
	}
	out := d.b[:n:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) str() string { return string(d.bytes(int(d.uvarint()))) }

func (d *decoder) strs() []string {
	n := int(d.uvarint())
	if n > len(d.b) {
		d.fail()
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.str()
	}
	return out
}

func (d *decoder) bool() bool {
	b := d.bytes(1)
	return len(b) == 1 && b[0] == 1
}

func (d *decoder) rng(filename string) hcl.Range {
	var v [6]int
	for i := range v {
		v[i] = int(d.uvarint())
	}
	return hcl.Range{Filename: filename, Start: hcl.Pos{Line: v[0], Column: v[1], Byte: v[2]}, End: hcl.Pos{Line: v[3], Column: v[4], Byte: v[5]}}
}

func (d *decoder) valStr(file string) Val[string] {
	return Val[string]{V: d.str(), Set: d.bool(), Range: d.rng(file)}
}

func (d *decoder) valInt(file string) Val[int] {
	return Val[int]{V: int(d.varint()), Set: d.bool(), Range: d.rng(file)}
}

func (d *decoder) valBool(file string) Val[bool] {
	return Val[bool]{V: d.bool(), Set: d.bool(), Range: d.rng(file)}
}

func (d *decoder) valStrs(file string) Val[[]string] {
	nonNil := d.bool()
	v := d.strs()
	if nonNil && v == nil {
		v = []string{}
	} else if !nonNil {
		v = nil
	}
	return Val[[]string]{V: v, Set: d.bool(), Range: d.rng(file)}
}

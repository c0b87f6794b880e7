package render

import (
	"crypto/sha256"
	"encoding/binary"
)

// An app's memo is what the project index keeps of its render, for Replay
// to stand for it (see Stream.AppMemo): owner, job, Vault names and each
// file written, with its checksum and size. It is binary and small, as
// the index holds one for every spec of a project:
//
//	version byte (memoVersion)
//	owner project, app, spec; job ID       (strings: uvarint length, bytes)
//	flags byte: 1 preserve counts, 2 Vault
//	with Vault: policy, role, mount        (strings)
//	files: the job's, then with Vault the policy's and the role's:
//	  path (string), SHA-256 (32 bytes), size (uvarint)
const memoVersion = 1

const (
	memoPreserveCounts = 1 << iota
	memoVault
)

func encodeMemo(a *streamedApp) []byte {
	w := &memoWriter{b: []byte{memoVersion}}
	w.str(a.owner.Project)
	w.str(a.owner.App)
	w.str(a.owner.Spec)
	w.str(a.jobID)
	var flags byte
	if a.preserveCounts {
		flags |= memoPreserveCounts
	}
	if a.vault {
		flags |= memoVault
	}
	w.b = append(w.b, flags)
	if a.vault {
		w.str(a.policy)
		w.str(a.role)
		w.str(a.mount)
	}
	w.file(a.jobFile)
	if a.vault {
		w.file(a.policyFile)
		w.file(a.roleFile)
	}
	return w.b
}

// decodeMemo reads what encodeMemo wrote; false when b is not that.
func decodeMemo(b []byte) (streamedApp, bool) {
	var a streamedApp
	if len(b) == 0 || b[0] != memoVersion {
		return a, false
	}
	r := &memoReader{b: b[1:]}
	a.owner.Project, a.owner.App, a.owner.Spec, a.jobID = r.str(), r.str(), r.str(), r.str()
	flags := r.take(1)
	if r.bad {
		return streamedApp{}, false
	}
	a.preserveCounts, a.vault = flags[0]&memoPreserveCounts != 0, flags[0]&memoVault != 0
	if a.vault {
		a.policy, a.role, a.mount = r.str(), r.str(), r.str()
	}
	a.jobFile = r.file()
	if a.vault {
		a.policyFile, a.roleFile = r.file(), r.file()
	}
	if !r.done() {
		return streamedApp{}, false
	}
	return a, true
}

// memoWriter appends the binary encoding the memos share: uvarints,
// strings (a uvarint length, then the bytes) and files (path, SHA-256,
// size).
type memoWriter struct{ b []byte }

func (w *memoWriter) uvarint(v int) { w.b = binary.AppendUvarint(w.b, uint64(v)) }

func (w *memoWriter) str(s string) {
	w.uvarint(len(s))
	w.b = append(w.b, s...)
}

func (w *memoWriter) file(f streamedFile) {
	w.str(f.path)
	w.b = append(w.b, f.sum[:]...)
	w.uvarint(f.size)
}

// memoReader reads what memoWriter wrote; once anything is amiss, bad is
// set and every read gives zero.
type memoReader struct {
	b   []byte
	bad bool
}

func (r *memoReader) take(n int) []byte {
	if r.bad || n < 0 || n > len(r.b) {
		r.bad = true
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

// uvarint reads a count or size: one above 2^40 is not one.
func (r *memoReader) uvarint() int {
	v, n := binary.Uvarint(r.b)
	if r.bad || n <= 0 || v > 1<<40 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return int(v)
}

func (r *memoReader) str() string { return string(r.take(r.uvarint())) }

func (r *memoReader) file() streamedFile {
	f := streamedFile{path: r.str()}
	copy(f.sum[:], r.take(sha256.Size))
	f.size = r.uvarint()
	return f
}

// done reports whether all was read, and well.
func (r *memoReader) done() bool { return !r.bad && len(r.b) == 0 }

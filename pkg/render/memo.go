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
	b := []byte{memoVersion}
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	file := func(f streamedFile) {
		str(f.path)
		b = append(b, f.sum[:]...)
		b = binary.AppendUvarint(b, uint64(f.size))
	}
	str(a.owner.Project)
	str(a.owner.App)
	str(a.owner.Spec)
	str(a.jobID)
	var flags byte
	if a.preserveCounts {
		flags |= memoPreserveCounts
	}
	if a.vault {
		flags |= memoVault
	}
	b = append(b, flags)
	if a.vault {
		str(a.policy)
		str(a.role)
		str(a.mount)
	}
	file(a.jobFile)
	if a.vault {
		file(a.policyFile)
		file(a.roleFile)
	}
	return b
}

// decodeMemo reads what encodeMemo wrote; false when b is not that.
func decodeMemo(b []byte) (streamedApp, bool) {
	var a streamedApp
	bad := len(b) == 0 || b[0] != memoVersion
	if !bad {
		b = b[1:]
	}
	take := func(n int) []byte {
		if bad || n < 0 || n > len(b) {
			bad = true
			return nil
		}
		out := b[:n]
		b = b[n:]
		return out
	}
	uvarint := func() uint64 {
		v, n := binary.Uvarint(b)
		if bad || n <= 0 {
			bad = true
			return 0
		}
		b = b[n:]
		return v
	}
	str := func() string { return string(take(int(uvarint()))) }
	file := func() streamedFile {
		f := streamedFile{path: str()}
		copy(f.sum[:], take(sha256.Size))
		f.size = int(uvarint())
		return f
	}
	a.owner.Project, a.owner.App, a.owner.Spec, a.jobID = str(), str(), str(), str()
	flags := take(1)
	if bad {
		return streamedApp{}, false
	}
	a.preserveCounts, a.vault = flags[0]&memoPreserveCounts != 0, flags[0]&memoVault != 0
	if a.vault {
		a.policy, a.role, a.mount = str(), str(), str()
	}
	a.jobFile = file()
	if a.vault {
		a.policyFile, a.roleFile = file(), file()
	}
	if bad || len(b) != 0 {
		return streamedApp{}, false
	}
	return a, true
}

package render

import (
	"crypto/sha256"
	"encoding/binary"
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
// not replayed.
//
//	version byte (outcomeVersion)
//	jobs, config entries, registrations, Vault policies, roles (uvarints)
//	Finish's files, then the apps' files: each a count (uvarint), then
//	  each path (uvarint length, bytes), SHA-256 (32 bytes), size (uvarint)
const outcomeVersion = 2

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
	b := []byte{outcomeVersion}
	for _, n := range []int{c.Jobs, c.ConfigEntries, c.Registrations, c.VaultPolicies, c.VaultRoles} {
		b = binary.AppendUvarint(b, uint64(n))
	}
	for _, files := range [][]streamedFile{s.finished.files, s.finished.appFiles} {
		b = binary.AppendUvarint(b, uint64(len(files)))
		for _, f := range files {
			b = binary.AppendUvarint(b, uint64(len(f.path)))
			b = append(b, f.path...)
			b = append(b, f.sum[:]...)
			b = binary.AppendUvarint(b, uint64(f.size))
		}
	}
	return b
}

// ReplayOutcome stands for a Finish whose memo is memo: it returns the
// counts of that render and true when every file that Finish wrote is
// intact (see SetIntact, which it calls from several goroutines at once),
// and with apps every file of the apps as well (their memos were not
// replayed), false otherwise (then Finish must run).
func (s *Stream) ReplayOutcome(memo []byte, apps bool) (Counts, bool) {
	if s.intact == nil || len(memo) == 0 || memo[0] != outcomeVersion {
		return Counts{}, false
	}
	b, bad := memo[1:], false
	uvarint := func() int {
		v, n := binary.Uvarint(b)
		if n <= 0 || v > 1<<40 {
			bad = true
			return 0
		}
		b = b[n:]
		return int(v)
	}
	var c Counts
	c.Jobs, c.ConfigEntries, c.Registrations, c.VaultPolicies, c.VaultRoles = uvarint(), uvarint(), uvarint(), uvarint(), uvarint()
	var check []streamedFile
	for part := range 2 {
		n := uvarint()
		if n > len(b) {
			return Counts{}, false
		}
		if part == 0 || apps {
			check = slices.Grow(check, n)
		}
		for ; n > 0 && !bad; n-- {
			size := uvarint()
			if bad || size+sha256.Size > len(b) {
				return Counts{}, false
			}
			f := streamedFile{path: string(b[:size])}
			copy(f.sum[:], b[size:size+sha256.Size])
			b = b[size+sha256.Size:]
			f.size = uvarint()
			if part == 0 || apps {
				check = append(check, f)
			}
		}
	}
	if bad || len(b) != 0 {
		return Counts{}, false
	}
	// A stat each, 25,000 of them for a full render of 5,000 specs: a
	// share of them on each core.
	const share = 512
	var damaged atomic.Bool
	parallel.ForEach((len(check)+share-1)/share, func(k int) {
		for _, f := range check[k*share : min((k+1)*share, len(check))] {
			if damaged.Load() || !s.intact(f.path, f.sum, f.size) {
				damaged.Store(true)
				return
			}
		}
	})
	if damaged.Load() {
		return Counts{}, false
	}
	return c, true
}

// finished is what a Finish wrote: its files and the counts of its bundle.
type finished struct {
	files, appFiles []streamedFile // each sorted by path
	counts          Counts
}

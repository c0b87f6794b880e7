package spec

import (
	"bytes"
	"slices"
	"strings"
)

// blobs are byte strings by name, sorted by name: a file's encoded
// summaries by environment, its memos by slot. A file has one or a few,
// and a project thousands of files: a map each would cost more than what
// it holds, to build and to collect. Like a map, a *blobs is shared by
// whoever holds it; the nil *blobs is empty.
type blobs struct {
	s []namedBlob
}

type namedBlob struct {
	name string
	b    []byte
}

func (bs *blobs) find(name string) (int, bool) {
	if bs == nil {
		return 0, false
	}
	return slices.BinarySearchFunc(bs.s, name, func(nb namedBlob, name string) int { return strings.Compare(nb.name, name) })
}

// get returns the blob of name, nil when there is none.
func (bs *blobs) get(name string) []byte {
	b, _ := bs.lookup(name)
	return b
}

func (bs *blobs) lookup(name string) ([]byte, bool) {
	if i, ok := bs.find(name); ok {
		return bs.s[i].b, true
	}
	return nil, false
}

// set puts b under name, in place of what was there.
func (bs *blobs) set(name string, b []byte) {
	i, ok := bs.find(name)
	if ok {
		bs.s[i].b = b
		return
	}
	bs.s = slices.Insert(bs.s, i, namedBlob{name: name, b: b})
}

// all returns the blobs in name order, not to be changed.
func (bs *blobs) all() []namedBlob {
	if bs == nil {
		return nil
	}
	return bs.s
}

func (bs *blobs) clone() *blobs {
	if bs == nil {
		return nil
	}
	return &blobs{s: slices.Clone(bs.s)}
}

func (bs *blobs) equal(o *blobs) bool {
	return slices.EqualFunc(bs.all(), o.all(), func(a, b namedBlob) bool { return a.name == b.name && bytes.Equal(a.b, b.b) })
}

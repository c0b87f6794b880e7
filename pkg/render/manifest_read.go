package render

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
)

// ManifestSums reads the path and checksum of every artifact a manifest
// lists: what a render compares its files against. A render of 5,000
// specs lists 25,000 artifacts; encoding/json took a tenth of a second to
// read them, so the manifest as Finish writes it (one key a line, no
// escapes) is read line by line, and any other (edited, or written by
// something else) through encoding/json. A checksum that is not one
// reads as zero.
func ManifestSums(data []byte) (map[string][sha256.Size]byte, error) {
	_, sums, err := ManifestListing(data)
	return sums, err
}

// ManifestListing is ManifestSums with the paths in the manifest's order
// too.
func ManifestListing(data []byte) ([]string, map[string][sha256.Size]byte, error) {
	if paths, sums, ok := manifestSumsByLine(data); ok {
		return paths, sums, nil
	}
	var m struct {
		Artifacts []struct {
			Path   string `json:"path"`
			SHA256 string `json:"sha256"`
		} `json:"artifacts"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, nil, err
	}
	sums := make(map[string][sha256.Size]byte, len(m.Artifacts))
	paths := make([]string, 0, len(m.Artifacts))
	for _, a := range m.Artifacts {
		paths = append(paths, a.Path)
		// A checksum that is not one stays listed, matching no content:
		// the file is compared byte by byte, and removed if no longer
		// rendered.
		sum, _ := decodeSum(a.SHA256)
		sums[a.Path] = sum
	}
	return paths, sums, nil
}

// manifestSumsByLine reads a manifest in Finish's shape: each artifact an
// object of one key a line, its "path" and "sha256" among them. It gives
// up (false) on anything else: a backslash anywhere (an escape), an
// artifact without both keys, or no artifacts where the manifest has some.
func manifestSumsByLine(data []byte) ([]string, map[string][sha256.Size]byte, bool) {
	p := newLineListing(bytes.Count(data, []byte(`"sha256": "`)))
	for len(data) > 0 && p.ok {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		p.line(line)
	}
	return p.done()
}

// lineListing reads a manifest in Finish's shape a line at a time (see
// manifestSumsByLine).
type lineListing struct {
	paths                       []string
	sums                        map[string][sha256.Size]byte
	path                        []byte
	sum                         [sha256.Size]byte
	inArtifact, hasPath, hasSum bool
	ok                          bool // not given up
}

// newLineListing readies a lineListing for about n artifacts.
func newLineListing(n int) *lineListing {
	return &lineListing{paths: make([]string, 0, n), sums: make(map[string][sha256.Size]byte, n), ok: true}
}

// line reads the next line, its newline left out or not.
func (p *lineListing) line(line []byte) {
	if bytes.IndexByte(line, '\\') >= 0 {
		p.ok = false
		return
	}
	line = bytes.TrimSpace(line)
	switch {
	case bytes.Equal(line, []byte("{")):
		p.inArtifact, p.hasPath, p.hasSum = true, false, false
	case bytes.Equal(line, []byte("}")) || bytes.Equal(line, []byte("},")):
		if p.inArtifact {
			if !p.hasPath || !p.hasSum {
				p.ok = false
				return
			}
			path := string(p.path)
			p.paths = append(p.paths, path)
			p.sums[path] = p.sum
		}
		p.inArtifact = false
	case !p.inArtifact:
	case bytes.HasPrefix(line, []byte(`"path": "`)):
		v, ok := lineString(line[len(`"path": `):])
		p.path, p.hasPath = append(p.path[:0], v...), ok
		p.ok = p.ok && ok
	case bytes.HasPrefix(line, []byte(`"sha256": "`)):
		v, ok := lineString(line[len(`"sha256": `):])
		if ok {
			p.sum, ok = decodeSum(string(v))
		}
		p.hasSum = true
		p.ok = p.ok && ok
	}
}

// done returns what was read, and whether the manifest was in Finish's
// shape with artifacts (else encoding/json says what it holds).
func (p *lineListing) done() ([]string, map[string][sha256.Size]byte, bool) {
	if !p.ok || len(p.sums) == 0 {
		return nil, nil, false
	}
	return p.paths, p.sums, true
}

// ManifestListingFrom reads a manifest of about size bytes from r as
// ManifestListing does one in Finish's shape, through a small buffer
// rather than all of it at once (a render of 5,000 specs writes 7 MB). It
// reads r to its end in any case; ok is false when the manifest is not in
// Finish's shape, for the caller to read it whole with ManifestListing.
func ManifestListingFrom(r io.Reader, size int64) (paths []string, sums map[string][sha256.Size]byte, ok bool, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	p := newLineListing(int(size / 280)) // about the bytes an artifact takes
	for {
		line, rerr := br.ReadSlice('\n')
		switch {
		case rerr == bufio.ErrBufferFull:
			p.ok = false // a line longer than any of Finish's
		case p.ok:
			p.line(line)
		}
		switch {
		case rerr == io.EOF:
			paths, sums, ok = p.done()
			return paths, sums, ok, nil
		case rerr != nil && rerr != bufio.ErrBufferFull:
			return nil, nil, false, rerr
		}
	}
}

// lineString is the JSON string that opens v, which is all there is on
// its line but a trailing comma.
func lineString(v []byte) ([]byte, bool) {
	v = bytes.TrimSuffix(v, []byte(","))
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' || bytes.IndexByte(v[1:len(v)-1], '"') >= 0 {
		return nil, false
	}
	return v[1 : len(v)-1], true
}

func decodeSum(h string) ([sha256.Size]byte, bool) {
	var sum [sha256.Size]byte
	if len(h) != 2*sha256.Size {
		return sum, false
	}
	_, err := hex.Decode(sum[:], []byte(h))
	return sum, err == nil
}

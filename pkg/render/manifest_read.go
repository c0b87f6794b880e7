package render

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
	if bytes.IndexByte(data, '\\') >= 0 {
		return nil, nil, false
	}
	n := bytes.Count(data, []byte(`"sha256": "`))
	sums := make(map[string][sha256.Size]byte, n)
	paths := make([]string, 0, n)
	var path []byte
	var sum [sha256.Size]byte
	inArtifact, hasPath, hasSum := false, false, false
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimSpace(line)
		switch {
		case bytes.Equal(line, []byte("{")):
			inArtifact, hasPath, hasSum = true, false, false
		case bytes.Equal(line, []byte("}")) || bytes.Equal(line, []byte("},")):
			if inArtifact {
				if !hasPath || !hasSum {
					return nil, nil, false
				}
				p := string(path)
				paths = append(paths, p)
				sums[p] = sum
			}
			inArtifact = false
		case !inArtifact:
		case bytes.HasPrefix(line, []byte(`"path": "`)):
			v, ok := lineString(line[len(`"path": `):])
			path, hasPath = v, ok
			if !ok {
				return nil, nil, false
			}
		case bytes.HasPrefix(line, []byte(`"sha256": "`)):
			v, ok := lineString(line[len(`"sha256": `):])
			if ok {
				sum, ok = decodeSum(string(v))
			}
			if !ok {
				return nil, nil, false
			}
			hasSum = true
		}
	}
	if len(sums) == 0 {
		return nil, nil, false // not this shape, or no artifacts: encoding/json says which
	}
	return paths, sums, true
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

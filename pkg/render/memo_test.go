package render

import (
	"crypto/sha256"
	"testing"
)

// TestMemoRoundTrip: a memo reads back as written, with and without Vault
// artifacts; anything else (cut short, extended, another version) is no
// memo.
func TestMemoRoundTrip(t *testing.T) {
	file := func(p string, size int) streamedFile {
		return streamedFile{path: p, sum: sha256.Sum256([]byte(p)), size: size}
	}
	apps := []streamedApp{
		{owner: Owner{Project: "shop", App: "api", Spec: "api/app.hcl"}, jobID: "api", preserveCounts: true, jobFile: file("nomad/api.json", 4321)},
		{owner: Owner{Project: "shop", App: "web", Spec: "web.hcl"}, jobID: "web", vault: true, policy: "drover-web", role: "drover-web", mount: "jwt-nomad",
			jobFile: file("nomad/web.json", 1<<20), policyFile: file("vault/policy/drover-web.hcl", 90), roleFile: file("vault/role/drover-web.json", 300)},
	}
	for _, want := range apps {
		b := encodeMemo(&want)
		got, ok := decodeMemo(b)
		if !ok || got.owner != want.owner || got.jobID != want.jobID || got.preserveCounts != want.preserveCounts || got.vault != want.vault ||
			got.policy != want.policy || got.role != want.role || got.mount != want.mount ||
			got.jobFile != want.jobFile || got.policyFile != want.policyFile || got.roleFile != want.roleFile {
			t.Errorf("%s: read back %+v (ok %v)", want.jobID, got, ok)
		}
		for name, bad := range map[string][]byte{
			"cut":      b[:len(b)-1],
			"extended": append(append([]byte(nil), b...), 0),
			"version":  append([]byte{memoVersion + 1}, b[1:]...),
			"JSON":     []byte(`{"JobID":"api"}`),
			"empty":    nil,
		} {
			if _, ok := decodeMemo(bad); ok {
				t.Errorf("%s: a %s memo was read", want.jobID, name)
			}
		}
	}
}

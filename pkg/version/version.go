// Package version holds drover's version, set at build time with
//
//	-ldflags "-X github.com/drover-io/drover/pkg/version.Version=1.2.3 -X github.com/drover-io/drover/pkg/version.Commit=abc123"
//
// It imports nothing, so that `drover version` starts fast.
package version

// Version is the release version; "dev" for a local build.
var Version = "0.1.0-dev"

// Commit is the git commit the binary was built from, if known.
var Commit = ""

// String returns "drover <version> (<commit>)".
func String() string {
	if Commit == "" {
		return "drover " + Version
	}
	return "drover " + Version + " (" + Commit + ")"
}

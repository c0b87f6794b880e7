package importer

import (
	"strings"

	"github.com/drover-io/drover/internal/lazyregexp"
)

// The spec's validation finds most literal secrets in env (the importer
// moves what it flags to secret blocks, by the position of its
// diagnostic). These are what it lets pass and an import must not write
// into a spec: credentials in a URL without a user name
// (redis://:password@host), the usual form for Redis.
var userlessURLPassword = lazyregexp.New(`^[a-zA-Z][a-zA-Z0-9+.-]*://:([^/\s@]+)@`)

// localSecret says why value looks like a literal secret that the spec's
// check misses, or "".
func localSecret(value string) string {
	m := userlessURLPassword().FindStringSubmatch(strings.TrimSpace(value))
	if m == nil || strings.Contains(m[1], "${") {
		return ""
	}
	return "its value is a URL with a password"
}

package spec

import (
	"net"
	"regexp"
	"strings"
	"sync"
)

// NameRule explains ValidName; it is the Detail of every name diagnostic.
const NameRule = "A name must be 1 to 63 lowercase letters, digits and dashes, start with a letter and not end with a dash, so that Nomad, Consul and DNS all accept it."

// Regular expressions are compiled on first use, not at start-up, so that
// commands that never validate (drover version) do not pay for them.
var (
	// Consul Connect needs lowercase service and group names, and Nomad
	// checks service names against RFC 1123 (structs/services.go).
	nameRe      = lazyRegexp(`^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$`)
	portLabelRe = lazyRegexp(`^[a-z][a-z0-9_]{0,62}$`)
	envNameRe   = lazyRegexp(`^[A-Za-z_][A-Za-z0-9_]*$`)
	hostLabelRe = lazyRegexp(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
)

func lazyRegexp(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}

// ValidName reports whether s can name an app, external, project or
// environment (see NameRule).
func ValidName(s string) bool      { return nameRe().MatchString(s) }
func validPortLabel(s string) bool { return portLabelRe().MatchString(s) }
func validEnvName(s string) bool   { return envNameRe().MatchString(s) }

// validHost accepts a DNS name, optionally with a "*." wildcard as its
// leftmost label, as Consul's ingress gateway does.
func validHost(h string) bool {
	h = strings.TrimPrefix(strings.ToLower(h), "*.")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if !hostLabelRe().MatchString(label) {
			return false
		}
	}
	return true
}

// validAddress accepts a DNS name or an IP address.
func validAddress(a string) bool {
	return net.ParseIP(a) != nil || validHost(a) && !strings.HasPrefix(a, "*")
}

// Prefixes of environment variables that Nomad sets itself.
var reservedEnvPrefixes = []string{"NOMAD_", "CONSUL_", "VAULT_"}

func reservedEnvName(s string) bool {
	for _, p := range reservedEnvPrefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

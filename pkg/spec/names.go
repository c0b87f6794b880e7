package spec

import (
	"fmt"
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

// Environment variables Nomad sets in a task's environment, from its
// runtime environment reference
// (https://developer.hashicorp.com/nomad/docs/runtime/environment). Other
// NOMAD_, CONSUL_ and VAULT_ names (NOMAD_ADDR, CONSUL_HOST, VAULT_ADDR) are
// ordinary settings an app may need; NOMAD_TOKEN is set only with a workload
// identity in the environment (see reservedEnvName).
var (
	nomadEnvNames = map[string]bool{
		"NOMAD_ALLOC_DIR": true, "NOMAD_TASK_DIR": true, "NOMAD_SECRETS_DIR": true,
		"NOMAD_ALLOC_ID": true, "NOMAD_SHORT_ALLOC_ID": true, "NOMAD_ALLOC_NAME": true, "NOMAD_ALLOC_INDEX": true,
		"NOMAD_CPU_LIMIT": true, "NOMAD_CPU_CORES": true, "NOMAD_MEMORY_LIMIT": true, "NOMAD_MEMORY_MAX_LIMIT": true,
		"NOMAD_DC": true, "NOMAD_REGION": true, "NOMAD_NAMESPACE": true,
		"NOMAD_JOB_ID": true, "NOMAD_JOB_NAME": true, "NOMAD_JOB_PARENT_ID": true, "NOMAD_GROUP_NAME": true, "NOMAD_TASK_NAME": true,
		"NOMAD_PARENT_CGROUP": true, "NOMAD_UNIX_ADDR": true,
		"VAULT_TOKEN": true, "VAULT_NAMESPACE": true, // with a vault block, which secrets bring
	}
	// Families named after a port label, a meta key or an upstream.
	nomadEnvPrefixes = []string{
		"NOMAD_PORT_", "NOMAD_IP_", "NOMAD_ADDR_", "NOMAD_HOST_PORT_", "NOMAD_HOST_IP_", "NOMAD_HOST_ADDR_",
		"NOMAD_ALLOC_PORT_", "NOMAD_META_", "NOMAD_UPSTREAM_",
	}
)

// reservedEnvName says why a task may not set name, or "". nomadAPI is true
// for the main task of an app with nomad_api, whose workload identity puts
// its token in NOMAD_TOKEN and whose NOMAD_ADDR drover points at the task
// API socket.
func reservedEnvName(name string, nomadAPI bool) string {
	if nomadAPI && (name == "NOMAD_TOKEN" || name == "NOMAD_ADDR") {
		return fmt.Sprintf("With nomad_api = true, %s is set for the task to reach the Nomad API", name)
	}
	if nomadEnvNames[name] {
		return fmt.Sprintf("Nomad sets %s in the task's environment", name)
	}
	for _, p := range nomadEnvPrefixes {
		if strings.HasPrefix(name, p) {
			return fmt.Sprintf("Nomad sets the %s* variables in the task's environment", p)
		}
	}
	return ""
}

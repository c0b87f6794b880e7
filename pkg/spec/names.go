package spec

import (
	"fmt"
	"net"
	"strings"
)

// NameRule explains ValidName; it is the Detail of every name diagnostic.
const NameRule = "A name must be 1 to 63 lowercase letters, digits and dashes, start with a letter and not end with a dash, so that Nomad, Consul and DNS all accept it."

// The name rules below are byte loops rather than regular expressions:
// validate runs them for every name of every spec.

// ValidName reports whether s can name an app, external, project or
// environment (see NameRule). Consul Connect needs lowercase service and
// group names, and Nomad checks service names against RFC 1123
// (structs/services.go).
func ValidName(s string) bool {
	return len(s) <= 63 && s != "" && isLower(s[0]) && s[len(s)-1] != '-' && allBytes(s, func(c byte) bool { return isLower(c) || isDigit(c) || c == '-' })
}

// ValidPortLabel reports whether s can label a port: lowercase letters,
// digits, underscores and dashes, starting with a letter. Nomad sets
// NOMAD_PORT_<label> with a dash turned into an underscore.
func ValidPortLabel(s string) bool {
	return len(s) <= 63 && s != "" && isLower(s[0]) && allBytes(s, func(c byte) bool { return isLower(c) || isDigit(c) || c == '_' || c == '-' })
}

func validEnvName(s string) bool {
	return s != "" && !isDigit(s[0]) && allBytes(s, func(c byte) bool { return isLower(c|0x20) || isDigit(c) || c == '_' })
}

// validHostLabel is one label of a DNS name.
func validHostLabel(s string) bool {
	return len(s) <= 63 && s != "" && s[0] != '-' && s[len(s)-1] != '-' && allBytes(s, func(c byte) bool { return isLower(c) || isDigit(c) || c == '-' })
}

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func allBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

// validHost accepts a DNS name, optionally with a "*." wildcard as its
// leftmost label, as Consul's ingress gateway does.
func validHost(h string) bool {
	h = strings.TrimPrefix(strings.ToLower(h), "*.")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if !validHostLabel(label) {
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

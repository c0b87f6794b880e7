package devenv

import (
	"fmt"
	"strings"
)

// AgentError is a failure of one agent: it could not be started, did not
// become healthy, could not be configured or stopped.
type AgentError struct {
	Agent   string // Nomad, Consul or Vault
	Op      string // what was being done, e.g. "wait for health"
	LogFile string // the agent's log, when it helps
	Err     error
}

func (e *AgentError) Error() string {
	msg := "devenv: " + e.Agent + ": " + e.Op + ": " + e.Err.Error()
	if e.LogFile != "" {
		msg += " (log: " + e.LogFile + ")"
	}
	return msg
}

func (e *AgentError) Unwrap() error { return e.Err }

// PortInUseError reports a port that an agent needs but something other
// than this dev environment's agent holds.
type PortInUseError struct {
	Agent string
	Field string // the Ports field, e.g. "NomadHTTP"
	Port  int
	Proto string // "tcp" or "udp"
	Err   error  // the listen error
}

func (e *PortInUseError) Error() string {
	return fmt.Sprintf("devenv: %s: port %d/%s (%s) on 127.0.0.1 is in use by another process: choose another port or stop that process: %v",
		e.Agent, e.Port, e.Proto, e.Field, e.Err)
}

func (e *PortInUseError) Unwrap() error { return e.Err }

// MissingBinariesError lists agent binaries that were not found.
type MissingBinariesError struct {
	// Missing holds one entry per agent, naming the binaries tried,
	// e.g. "consul" or "vault (or bao)".
	Missing []string
	// Searched is the PATH that was searched, one directory per entry.
	Searched []string
	// Errs holds problems with explicit Options.Bin paths.
	Errs []error
}

func (e *MissingBinariesError) Error() string {
	var b strings.Builder
	b.WriteString("devenv: agent binaries not found")
	if len(e.Missing) > 0 {
		b.WriteString(": " + strings.Join(e.Missing, ", "))
		b.WriteString(" (looked in PATH: " + strings.Join(e.Searched, ":") + ")")
	}
	for _, err := range e.Errs {
		b.WriteString("; " + err.Error())
	}
	return b.String()
}

// VaultAPIError is an unexpected answer from Vault's HTTP API.
type VaultAPIError struct {
	Method, Path string
	StatusCode   int
	Errors       []string // Vault's "errors" list
}

func (e *VaultAPIError) Error() string {
	msg := fmt.Sprintf("%s %s: HTTP %d", e.Method, e.Path, e.StatusCode)
	if len(e.Errors) > 0 {
		msg += ": " + strings.Join(e.Errors, "; ")
	}
	return msg
}

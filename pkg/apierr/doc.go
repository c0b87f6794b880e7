// Package apierr is the one error type for failed calls to Nomad, Consul
// and Vault: it names the system, the operation, the object and the reason,
// carries the HTTP status, and classifies the failure (not found, conflict,
// transient) so that callers decide with errors.Is and errors.As, never by
// matching message text.
package apierr

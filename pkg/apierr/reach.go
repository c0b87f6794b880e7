package apierr

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"
)

// Title is a system's name as people write it: "Nomad".
func Title(system string) string {
	switch system {
	case Nomad:
		return "Nomad"
	case Consul:
		return "Consul"
	case Vault:
		return "Vault"
	}
	return system
}

// UnreachableError says that a system could not be reached at all, or that
// what answered at its address is not that system. It is the one line a
// person needs: which system, which address, where the address came from,
// and why.
type UnreachableError struct {
	System string
	// Address is the URL drover used; Source says where it came from
	// ("NOMAD_ADDR", "flag --nomad-addr", "default").
	Address, Source string
	// Reason is short: "connection refused", "no answer within 10s".
	Reason string
	Err    error
}

func (e *UnreachableError) Error() string {
	src := ""
	if e.Source != "" {
		src = " (" + e.Source + ")"
	}
	return fmt.Sprintf("cannot reach %s at %s%s: %s", Title(e.System), e.Address, src, e.Reason)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// Unreachable reports whether err means no answer came from the system:
// the connection was refused or reset, the name did not resolve, or it
// timed out. A response of any status is not unreachable.
func Unreachable(err error) bool {
	var u *UnreachableError
	if errors.As(err, &u) {
		return true
	}
	var e *Error
	if errors.As(err, &e) && e.Status != 0 {
		return false
	}
	var dns *net.DNSError
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) ||
		errors.As(err, &dns)
}

// reason condenses a transport error to a few words.
func reason(err error) string {
	var dns *net.DNSError
	var netErr net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "no route to host"
	case errors.As(err, &dns):
		return "cannot resolve " + dns.Name
	case errors.As(err, &netErr) && netErr.Timeout():
		return "no answer in time"
	}
	var e *Error
	if errors.As(err, &e) && e.Err != nil {
		return e.Err.Error()
	}
	return err.Error()
}

// NewUnreachable builds the error for a probe of system at address that
// failed with err.
func NewUnreachable(system, address, source string, err error) *UnreachableError {
	return &UnreachableError{System: system, Address: address, Source: source, Reason: reason(err), Err: err}
}

// RetryableWrite reports failures of a write worth retrying: only those
// where the system cannot have acted (connection refused, 429, 503). A 500
// is ambiguous or permanent (Consul answers 500 to an entry it refuses),
// and a blind retry of it only repeats the refusal; the next run, not a
// retry, repairs an ambiguous one.
func RetryableWrite(err error) bool {
	var e *Error
	if errors.As(err, &e) && e.Status != 0 {
		return e.Status == http.StatusTooManyRequests || e.Status == http.StatusServiceUnavailable
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

package apierr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
)

// Systems.
const (
	Nomad  = "nomad"
	Consul = "consul"
	Vault  = "vault"
)

// Error is a failed API call.
type Error struct {
	// System is nomad, consul or vault.
	System string
	// Op says what drover was doing: "register job", "write config entry".
	Op string
	// Object names what it was done to: `"api"`, `service-defaults "api"`.
	Object string
	// Status is the HTTP status, 0 when no response arrived.
	Status int
	// Message is the server's explanation, trimmed.
	Message string
	// Err is the underlying error.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", e.System, e.Op)
	if e.Object != "" {
		fmt.Fprintf(&b, " %s", e.Object)
	}
	b.WriteString(": ")
	switch {
	case e.Status != 0 && e.Message != "":
		fmt.Fprintf(&b, "%d %s", e.Status, e.Message)
	case e.Status != 0:
		fmt.Fprintf(&b, "HTTP %d", e.Status)
	case e.Err != nil:
		b.WriteString(e.Err.Error())
	default:
		b.WriteString(e.Message)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// StatusCode returns the HTTP status, 0 when there was no response.
func (e *Error) StatusCode() int { return e.Status }

// Sentinels for errors.Is.
var (
	// ErrNotFound: the object does not exist (HTTP 404).
	ErrNotFound = errors.New("not found")
	// ErrConflict: a check-and-set write lost to a concurrent writer.
	ErrConflict = errors.New("changed by someone else")
	// ErrPermission: the token may not do this (HTTP 403).
	ErrPermission = errors.New("permission denied")
)

// Is makes errors.Is(err, ErrNotFound) and friends work.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == 404
	case ErrPermission:
		return e.Status == 403
	case ErrConflict:
		return e.conflict()
	}
	return false
}

// enforceIndexPrefix starts Nomad's check-and-set failures, which it
// returns as HTTP 500 (nomad/api RegisterEnforceIndexErrPrefix).
const enforceIndexPrefix = "Enforcing job modify index"

func (e *Error) conflict() bool {
	return e.Status == 409 || strings.Contains(e.Message, enforceIndexPrefix)
}

// Transient reports failures worth retrying: no response at all
// (connection refused or reset, timeouts), 429, and 5xx other than
// Nomad's check-and-set conflict.
func Transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var e *Error
	if errors.As(err, &e) && e.Status != 0 {
		if e.conflict() {
			return false
		}
		return e.Status == 429 || e.Status >= 500 && e.Status <= 504
	}
	var netErr net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	case errors.As(err, &netErr):
		return true
	}
	return false
}

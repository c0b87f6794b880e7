package apierr

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
)

func TestClassification(t *testing.T) {
	cases := []struct {
		name      string
		err       error
		transient bool
		notFound  bool
		conflict  bool
	}{
		{"500", &Error{Status: 500, Message: "rpc error: leader lost"}, true, false, false},
		{"503", &Error{Status: 503}, true, false, false},
		{"429", &Error{Status: 429}, true, false, false},
		{"nomad cas", &Error{Status: 500, Message: "Enforcing job modify index 5: job exists with conflicting job modify index: 7"}, false, false, true},
		{"409", &Error{Status: 409}, false, false, true},
		{"404", &Error{Status: 404}, false, true, false},
		{"400", &Error{Status: 400, Message: "bad"}, false, false, false},
		{"refused", &Error{Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}, true, false, false},
		{"wrapped refused", fmt.Errorf("x: %w", syscall.ECONNREFUSED), true, false, false},
		{"canceled", &Error{Err: context.Canceled}, false, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Transient(c.err); got != c.transient {
				t.Errorf("Transient = %v", got)
			}
			if got := errors.Is(c.err, ErrNotFound); got != c.notFound {
				t.Errorf("NotFound = %v", got)
			}
			if got := errors.Is(c.err, ErrConflict); got != c.conflict {
				t.Errorf("Conflict = %v", got)
			}
		})
	}
}

func TestMessageNamesSystemObjectReason(t *testing.T) {
	err := &Error{System: Nomad, Op: "register job", Object: `"api"`, Status: 400, Message: "Task group api validation failed"}
	if got, want := err.Error(), `nomad: register job "api": 400 Task group api validation failed`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestUnreachableMessageNamesSystemAddressAndSource(t *testing.T) {
	err := NewUnreachable(Vault, "http://127.0.0.1:1", "VAULT_ADDR", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED})
	if got, want := err.Error(), "cannot reach Vault at http://127.0.0.1:1 (VAULT_ADDR): connection refused"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !Unreachable(fmt.Errorf("wrapped: %w", err)) {
		t.Error("Unreachable(wrapped UnreachableError) = false")
	}
	if Unreachable(&Error{Status: 404}) {
		t.Error("a 404 is an answer, not unreachable")
	}
}

func TestRetryableWriteOnlyWhereNothingCanHaveHappened(t *testing.T) {
	cases := map[string]struct {
		err  error
		want bool
	}{
		"refused":      {&Error{Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}, true},
		"503":          {&Error{Status: 503}, true},
		"429":          {&Error{Status: 429}, true},
		"500 refusal":  {&Error{Status: 500, Message: `discovery chain "web" uses inconsistent protocols`}, false},
		"400":          {&Error{Status: 400}, false},
		"reset (sent)": {&Error{Err: syscall.ECONNRESET}, false},
	}
	for name, c := range cases {
		if got := RetryableWrite(c.err); got != c.want {
			t.Errorf("%s: RetryableWrite = %v, want %v", name, got, c.want)
		}
	}
}

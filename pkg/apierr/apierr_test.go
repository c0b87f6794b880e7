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

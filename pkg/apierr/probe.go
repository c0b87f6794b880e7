package apierr

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ProbeTimeout bounds a probe: a server that accepts connections and never
// answers is as unreachable as one that refuses them.
const ProbeTimeout = 10 * time.Second

// Probe runs call, a cheap read that only the named system answers the way
// it does, and turns its failure into an *UnreachableError: no answer at
// all, no answer in time, or an answer that is not from that system (a 404
// from a web server at NOMAD_ADDR must not read as "job not found" later).
// An answer that the system refuses for lack of permission is still the
// system, and passes.
func Probe(ctx context.Context, system, address, source string, call func(context.Context) error) error {
	pctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	err := call(pctx)
	switch {
	case err == nil, errors.Is(err, ErrPermission):
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case pctx.Err() != nil:
		return &UnreachableError{System: system, Address: address, Source: source,
			Reason: fmt.Sprintf("no answer within %s", ProbeTimeout), Err: err}
	case Unreachable(err):
		return NewUnreachable(system, address, source, err)
	}
	var e *Error
	status := ""
	if errors.As(err, &e) && e.Status != 0 {
		status = fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	return &UnreachableError{System: system, Address: address, Source: source,
		Reason: fmt.Sprintf("something answered, but not as %s does%s", Title(system), status), Err: err}
}

package apierr

import (
	"context"
	"log/slog"
	"time"

	"github.com/drover-io/drover/pkg/retry"
)

// Calls runs one system's API calls the way every drover client does: each
// error wrapped (Wrap turns the client library's error into an *Error of
// the system), reads retried on transient failures, writes only where the
// system cannot have acted (see RetryableWrite), each retry logged.
type Calls struct {
	Policy retry.Policy
	Log    *slog.Logger
	Wrap   func(op, object string, err error) error
}

// Read runs a read-only call.
func (c Calls) Read(ctx context.Context, op, object string, fn func() error) error {
	return c.run(ctx, op, object, Transient, fn)
}

// Write runs a write. A lost response to a 500 is ambiguous, and the next
// run, not a blind retry, repairs it.
func (c Calls) Write(ctx context.Context, op, object string, fn func() error) error {
	return c.run(ctx, op, object, RetryableWrite, fn)
}

func (c Calls) run(ctx context.Context, op, object string, retryable func(error) bool, fn func() error) error {
	return retry.Do(ctx, c.Policy, func(context.Context) error { return c.Wrap(op, object, fn()) }, retryable,
		func(attempt int, err error, wait time.Duration) {
			c.Log.Warn("retrying", "op", op, "object", object, "attempt", attempt, "wait", wait, "error", err)
		})
}

package retry

import (
	"context"
	"math/rand/v2"
	"time"
)

// Policy bounds a retry loop.
type Policy struct {
	// Attempts is the total number of tries, the first included.
	Attempts int
	// Base is the wait before the second try; it doubles up to Max.
	Base, Max time.Duration
}

// Default suits API calls: 6 tries over about 15 seconds at most.
var Default = Policy{Attempts: 6, Base: 250 * time.Millisecond, Max: 5 * time.Second}

// OrDefault returns p, or Default when p is the zero Policy (not set).
func (p Policy) OrDefault() Policy {
	if p.Attempts == 0 {
		return Default
	}
	return p
}

// Backoff returns the wait before try n+1 (n from 1): Base*2^(n-1) capped at
// Max, with "equal jitter" (half fixed, half random) so that many clients
// retrying at once spread out.
func (p Policy) Backoff(n int) time.Duration {
	d := p.Base
	for i := 1; i < n && d < p.Max; i++ {
		d *= 2
	}
	d = min(d, p.Max)
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(half+1)
}

// Do runs op until it succeeds, returns an error that retryable rejects,
// runs out of attempts, or ctx ends. onRetry, when set, hears about each
// retry before its wait (for progress and logs). The last error is
// returned; when ctx ends during a wait, ctx's error wraps nothing else.
func Do(ctx context.Context, p Policy, op func(context.Context) error, retryable func(error) bool, onRetry func(attempt int, err error, wait time.Duration)) error {
	attempts := max(p.Attempts, 1)
	var err error
	for n := 1; ; n++ {
		if err = op(ctx); err == nil || !retryable(err) || n >= attempts {
			return err
		}
		if ctx.Err() != nil {
			return err
		}
		wait := p.Backoff(n)
		if onRetry != nil {
			onRetry(n, err, wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

package scaling

import "time"

// Clock tells the time and makes tickers, so that the reconciler runs in
// virtual time in tests and benchmarks. Nil means the real clock.
type Clock interface {
	Now() time.Time
	NewTicker(d time.Duration) Ticker
}

// Ticker is the part of *time.Ticker the reconciler uses.
type Ticker interface {
	C() <-chan time.Time
	Reset(d time.Duration)
	Stop()
}

// RealClock is the wall clock.
type RealClock struct{}

// Now implements Clock.
func (RealClock) Now() time.Time { return time.Now() }

// NewTicker implements Clock.
func (RealClock) NewTicker(d time.Duration) Ticker { return realTicker{time.NewTicker(d)} }

type realTicker struct{ t *time.Ticker }

func (r realTicker) C() <-chan time.Time   { return r.t.C }
func (r realTicker) Reset(d time.Duration) { r.t.Reset(d) }
func (r realTicker) Stop()                 { r.t.Stop() }

// safeInterval guards a ticker against a non-positive interval, which
// panics time.NewTicker: a parsed policy never has one, but a hand-built
// one may.
func safeInterval(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultEvaluationInterval
	}
	return d
}

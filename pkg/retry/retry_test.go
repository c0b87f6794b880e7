package retry

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

var errTransient = errors.New("transient")

func isTransient(err error) bool { return errors.Is(err, errTransient) }

func TestDoRetriesUntilSuccess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		var waits []time.Duration
		start := time.Now()
		err := Do(context.Background(), Policy{Attempts: 5, Base: time.Second, Max: 4 * time.Second}, func(context.Context) error {
			calls++
			if calls < 4 {
				return errTransient
			}
			return nil
		}, isTransient, func(_ int, _ error, w time.Duration) { waits = append(waits, w) })
		if err != nil || calls != 4 {
			t.Fatalf("err %v after %d calls", err, calls)
		}
		// Equal jitter: each wait lies in [d/2, d] for d = 1s, 2s, 4s.
		for i, w := range waits {
			d := time.Second << i
			if w < d/2 || w > d {
				t.Errorf("wait %d = %s, want within [%s, %s]", i, w, d/2, d)
			}
		}
		if elapsed := time.Since(start); elapsed < 3500*time.Millisecond || elapsed > 7*time.Second {
			t.Errorf("took %s of fake time", elapsed)
		}
	})
}

func TestDoStopsOnPermanentErrorAndAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		permanent := errors.New("permanent")
		calls := 0
		err := Do(context.Background(), Default, func(context.Context) error { calls++; return permanent }, isTransient, nil)
		if !errors.Is(err, permanent) || calls != 1 {
			t.Errorf("permanent: %v after %d calls", err, calls)
		}
		calls = 0
		err = Do(context.Background(), Policy{Attempts: 3, Base: time.Millisecond, Max: time.Millisecond}, func(context.Context) error { calls++; return errTransient }, isTransient, nil)
		if !errors.Is(err, errTransient) || calls != 3 {
			t.Errorf("exhausted: %v after %d calls", err, calls)
		}
	})
}

func TestDoHonoursCancellationDuringWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			time.Sleep(1500 * time.Millisecond)
			cancel()
		}()
		start := time.Now()
		err := Do(ctx, Policy{Attempts: 10, Base: time.Minute, Max: time.Hour}, func(context.Context) error { return errTransient }, isTransient, nil)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
		if time.Since(start) != 1500*time.Millisecond {
			t.Errorf("returned after %s, want as soon as ctx ended", time.Since(start))
		}
	})
}

func TestBackoffCapped(t *testing.T) {
	p := Policy{Base: time.Second, Max: 3 * time.Second}
	for n := 1; n < 40; n++ {
		if w := p.Backoff(n); w > 3*time.Second {
			t.Fatalf("backoff %d = %s exceeds the cap", n, w)
		}
	}
}

func TestOrDefault(t *testing.T) {
	if got := (Policy{}).OrDefault(); got != Default {
		t.Errorf("zero policy: %+v", got)
	}
	p := Policy{Attempts: 2, Base: time.Millisecond, Max: time.Second}
	if got := p.OrDefault(); got != p {
		t.Errorf("set policy replaced: %+v", got)
	}
}

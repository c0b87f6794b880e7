package devenv

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestPollBacksOffUntilHealthy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var at []time.Duration
		check := func(context.Context) error {
			at = append(at, time.Since(start))
			if len(at) < 7 {
				return errors.New("not yet")
			}
			return nil
		}
		if err := poll(t.Context(), time.Minute, check, func() error { return nil }); err != nil {
			t.Fatal(err)
		}
		// 100ms doubling, capped at 2s
		want := []time.Duration{0, 100, 300, 700, 1500, 3100, 5100}
		for i := range want {
			want[i] *= time.Millisecond
		}
		if len(at) != len(want) {
			t.Fatalf("checked at %v, want %v", at, want)
		}
		for i := range want {
			if at[i] != want[i] {
				t.Errorf("check %d at %v, want %v", i, at[i], want[i])
			}
		}
	})
}

func TestPollTimesOutWithLastError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		err := poll(t.Context(), 30*time.Second, func(context.Context) error { return errors.New("no leader") }, func() error { return nil })
		if !errors.Is(err, errTimeout) || !strings.Contains(err.Error(), "not healthy after 30s") || !strings.Contains(err.Error(), "no leader") {
			t.Errorf("err = %v, want a timeout naming the last check", err)
		}
		if d := time.Since(start); d != 30*time.Second {
			t.Errorf("gave up after %v, want 30s", d)
		}
	})
}

func TestPollStopsWhenProcessExits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		exitAt := start.Add(time.Second)
		gone := func() error {
			if !time.Now().Before(exitAt) {
				return errors.New("exited: exit status 1")
			}
			return nil
		}
		err := poll(t.Context(), time.Minute, func(context.Context) error { return errors.New("connection refused") }, gone)
		if err == nil || !strings.Contains(err.Error(), "exit status 1") || !strings.Contains(err.Error(), "connection refused") {
			t.Errorf("err = %v", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("noticed the exit after %v", d)
		}
	})
}

func TestPollHonoursContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		err := poll(ctx, time.Minute, func(context.Context) error { return errors.New("down") }, func() error { return nil })
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errTimeout) {
			t.Errorf("err = %v, want the caller's context error", err)
		}
	})
}

package blocking

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestBumpTablesAndWait(t *testing.T) {
	var mu sync.Mutex
	x := NewIndex(&mu)
	if x.Latest() != 1 || x.Table("jobs") != 0 {
		t.Fatalf("fresh index: %d, jobs %d", x.Latest(), x.Table("jobs"))
	}
	jobs := func() uint64 { return x.Table("jobs") }

	// A write to another table does not wake a query on jobs.
	done := make(chan time.Duration, 1)
	start := time.Now()
	go func() {
		x.Wait(context.Background(), 1, 5*time.Second, jobs)
		done <- time.Since(start)
	}()
	time.Sleep(20 * time.Millisecond)
	mu.Lock()
	x.Bump("allocs")
	mu.Unlock()
	select {
	case <-done:
		t.Fatal("woke on a write to another table")
	case <-time.After(30 * time.Millisecond):
	}
	mu.Lock()
	idx := x.Bump("jobs")
	mu.Unlock()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("did not wake on a write to its table")
	}
	if idx != 3 || x.Latest() != 3 {
		t.Errorf("index %d, latest %d, want 3", idx, x.Latest())
	}

	// The wait elapses; a zero index never blocks; Close releases.
	start = time.Now()
	x.Wait(context.Background(), 99, 30*time.Millisecond, jobs)
	if time.Since(start) < 30*time.Millisecond {
		t.Error("returned before the wait elapsed")
	}
	x.Wait(context.Background(), 0, time.Hour, jobs)
	go func() {
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		x.Close()
		mu.Unlock()
	}()
	x.Wait(context.Background(), 99, time.Hour, jobs)
	if !x.Closed() {
		t.Error("not closed")
	}
}

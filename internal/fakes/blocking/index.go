package blocking

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Index is a fake agent's raft index. It is guarded by the fake's own
// state mutex (given to NewIndex): methods other than Latest and Wait
// expect the caller to hold it.
type Index struct {
	mu      sync.Locker
	current uint64
	latest  atomic.Uint64 // current, readable without mu for response headers
	tables  map[string]uint64
	changed chan struct{} // closed and replaced on every write, to wake waiters
	closed  bool
}

// NewIndex returns an index at 1 (agents never report 0) guarded by mu.
func NewIndex(mu sync.Locker) *Index {
	x := &Index{mu: mu, current: 1, tables: map[string]uint64{}, changed: make(chan struct{})}
	x.latest.Store(x.current)
	return x
}

// Current is the raft index.
func (x *Index) Current() uint64 { return x.current }

// Latest is the raft index, readable without the fake's mutex.
func (x *Index) Latest() uint64 { return x.latest.Load() }

// Bump advances the index for a write to tables, wakes every waiting
// query, and returns the new index.
func (x *Index) Bump(tables ...string) uint64 {
	x.current++
	x.latest.Store(x.current)
	for _, t := range tables {
		x.tables[t] = x.current
	}
	x.wake()
	return x.current
}

// SetTable records that table t last changed at idx (a write that touches
// a table only sometimes, after Bump).
func (x *Index) SetTable(t string, idx uint64) { x.tables[t] = idx }

// Table is the index at which table t last changed; 0 if never.
func (x *Index) Table(t string) uint64 { return x.tables[t] }

// Close releases every waiting query for good, so that the HTTP server can
// shut down without waiting for them.
func (x *Index) Close() {
	x.closed = true
	x.wake()
}

// Closed reports whether Close was called.
func (x *Index) Closed() bool { return x.closed }

func (x *Index) wake() {
	close(x.changed)
	x.changed = make(chan struct{})
}

// Wait blocks until current() (evaluated under the mutex) exceeds after,
// the wait elapses, the request is cancelled or the index is closed. A
// zero after does not block: the client asked for no blocking.
func (x *Index) Wait(ctx context.Context, after uint64, wait time.Duration, current func() uint64) {
	if after == 0 {
		return
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		x.mu.Lock()
		idx, ch, closed := current(), x.changed, x.closed
		x.mu.Unlock()
		if idx > after || closed {
			return
		}
		select {
		case <-ch:
		case <-timer.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

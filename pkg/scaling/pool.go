package scaling

import "context"

// Pool runs handler ticks on a few long-lived goroutines, so that the
// goroutine of each of thousands of handlers only waits for its ticker and
// keeps the smallest stack: the stack an evaluation grows lives in the
// pool's goroutines, not once per policy.
type Pool struct {
	work chan func()
}

// NewPool starts n workers that stop when ctx ends.
func NewPool(ctx context.Context, n int) *Pool {
	p := &Pool{work: make(chan func())}
	for range max(n, 1) {
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case fn := <-p.work:
					fn()
				}
			}
		}()
	}
	return p
}

// Do runs fn on a worker and waits for it; false when ctx ended first.
func (p *Pool) Do(ctx context.Context, fn func()) bool {
	done := make(chan struct{})
	select {
	case p.work <- func() { defer close(done); fn() }:
	case <-ctx.Done():
		return false
	}
	<-done
	return true
}

// Package parallel runs independent work items on every core while keeping
// results in input order, so output never depends on scheduling.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// ForEach calls fn(i) for every i in [0, n) on up to GOMAXPROCS goroutines
// and returns when all calls have. fn must write only to its own index of
// any shared result slice.
func ForEach(n int, fn func(i int)) { ForEachLimit(n, runtime.GOMAXPROCS(0), fn) }

// ForEachLimit is ForEach with at most workers goroutines, for work that
// waits on the network rather than the CPU.
func ForEachLimit(n, workers int, fn func(i int)) {
	workers = min(max(workers, 1), n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}

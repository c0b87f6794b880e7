package testutil

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSyncBufferKeepsEveryWrite(t *testing.T) {
	var b SyncBuffer
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() { fmt.Fprintf(&b, "line %d\n", i) })
	}
	wg.Wait()
	if n := strings.Count(b.String(), "\n"); n != 50 {
		t.Errorf("%d lines, want 50", n)
	}
}

func TestEventually(t *testing.T) {
	start := time.Now()
	Eventually(t, time.Second, "pass", func() bool { return time.Since(start) > 3*PollInterval })

	// A condition that never holds fails the test, naming what was awaited.
	ft := &fakeT{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Eventually(ft, 30*time.Millisecond, "never", func() bool { return false })
	}()
	<-done
	if !strings.Contains(ft.msg, "waiting to never") {
		t.Errorf("failure message %q", ft.msg)
	}
}

// fakeT records Fatalf and stops the goroutine, as testing.T does.
type fakeT struct {
	testing.TB
	msg string
}

func (f *fakeT) Helper() {}
func (f *fakeT) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestRunContractGivesEachCaseAFreshTarget(t *testing.T) {
	made := 0
	var seen []int
	cases := []ContractCase[int]{
		{"first", func(t *testing.T, n int) { seen = append(seen, n) }},
		{"second", func(t *testing.T, n int) { seen = append(seen, n) }},
	}
	RunContract(t, cases, func(*testing.T) int { made++; return made })
	if made != 2 || len(seen) != 2 || seen[0] != 1 || seen[1] != 2 {
		t.Errorf("targets made %d, cases saw %v; want 2 and [1 2]", made, seen)
	}
}

package main

import (
	"fmt"
	"strings"
	"testing"
)

// TestRunReportsWhatItMeasured: run gives the child's exit code and
// reports three numbers, a wall time at least the child's sleep.
func TestRunReportsWhatItMeasured(t *testing.T) {
	var report strings.Builder
	code, err := run([]string{"/bin/sh", "-c", "sleep 0.05; exit 3"}, &report)
	if err != nil || code != 3 {
		t.Fatalf("run: code %d, %v; want 3", code, err)
	}
	var wall, cpu, rss int64
	if n, err := fmt.Sscan(report.String(), &wall, &cpu, &rss); n != 3 || err != nil {
		t.Fatalf("report %q: %d numbers, %v", report.String(), n, err)
	}
	if wall < 50e6 || cpu < 0 || rss <= 0 {
		t.Errorf("report %q: wall %d ns (want at least 50 ms), cpu %d ns, rss %d KiB", report.String(), wall, cpu, rss)
	}
	if _, err := run([]string{"/no/such/command"}, &report); err == nil {
		t.Error("a command that does not exist ran")
	}
}

package app

import (
	"runtime/debug"
	"testing"

	"github.com/drover-io/drover/pkg/spec"
)

// gcSettings reads the GC percent and memory limit without changing them.
func gcSettings() (percent int, limit int64) {
	percent = debug.SetGCPercent(100)
	debug.SetGCPercent(percent)
	return percent, debug.SetMemoryLimit(-1)
}

func TestBoundMemory(t *testing.T) {
	percent0, limit0 := gcSettings()
	t.Cleanup(func() {
		debug.SetGCPercent(percent0)
		debug.SetMemoryLimit(limit0)
	})
	want := int64(streamMemoryBase + 5000*2*streamMemoryPerSpec)

	for _, c := range []struct {
		what    string
		scoped  bool
		percent int
	}{
		{"a full load collects as GOGC says under the limit", false, 400},
		{"a scoped load collects only near the limit", true, -1},
	} {
		t.Run(c.what, func(t *testing.T) {
			t.Setenv("GOGC", "")
			t.Setenv("GOMEMLIMIT", "")
			debug.SetGCPercent(400)
			var load spec.StreamOptions
			restore := boundMemory(&load)
			load.Started(spec.StreamStart{Files: 5000, Environments: 2, Scoped: c.scoped})
			if p, l := gcSettings(); p != c.percent || l != want {
				t.Errorf("while loading: GC percent %d, limit %d; want %d and %d", p, l, c.percent, want)
			}
			restore()
			if p, l := gcSettings(); p != 400 || l != limit0 {
				t.Errorf("after: GC percent %d, limit %d; want 400 and %d as before", p, l, limit0)
			}
		})
	}
	t.Run("a GOGC set by the user wins", func(t *testing.T) {
		t.Setenv("GOGC", "200")
		t.Setenv("GOMEMLIMIT", "")
		debug.SetGCPercent(200)
		var load spec.StreamOptions
		restore := boundMemory(&load)
		load.Started(spec.StreamStart{Files: 5000, Environments: 2, Scoped: true})
		if p, l := gcSettings(); p != 200 || l != want {
			t.Errorf("while loading: GC percent %d, limit %d; want 200 and %d", p, l, want)
		}
		restore()
	})
	t.Run("a GOMEMLIMIT set by the user wins", func(t *testing.T) {
		t.Setenv("GOGC", "")
		t.Setenv("GOMEMLIMIT", "1GiB")
		var load spec.StreamOptions
		boundMemory(&load)()
		if load.Started != nil {
			t.Error("boundMemory hooked the load although GOMEMLIMIT is set")
		}
	})
}

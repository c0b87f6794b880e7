// Command bench measures drover against the floor it is held to: a bare
// hcl/v2 parse of the same spec files in one process. It also measures how
// fast `drover version` starts and how much memory it takes.
//
//	go run ./bench            # 200 specs, 15 rounds each
//	go run ./bench -n 1000
//
// Numbers are medians over rounds, on whatever machine runs it.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/drover-io/drover/pkg/app"
	"github.com/drover-io/drover/pkg/render"
	"github.com/drover-io/drover/pkg/spec"
)

func main() {
	n := flag.Int("n", 200, "number of generated specs")
	rounds := flag.Int("rounds", 15, "rounds per measurement")
	starts := flag.Int("starts", 50, "process starts for the startup measurement")
	probe := flag.String("probe", "", "internal: time and measure `BIN version` from a fresh, small process")
	flag.Parse()
	if *probe != "" {
		if err := probeStartup(*probe, *starts); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	// The same garbage-collector setting cmd/drover uses, for the floor and
	// for drover alike.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if err := run(*n, *rounds, *starts); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(n, rounds, starts int) error {
	dir, err := os.MkdirTemp("", "drover-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	specs := filepath.Join(dir, "specs")
	out := filepath.Join(dir, "out")
	if err := os.MkdirAll(specs, 0o755); err != nil {
		return err
	}
	if err := writeSpecs(specs, n); err != nil {
		return err
	}
	files, _ := filepath.Glob(filepath.Join(specs, "*.hcl"))
	perSpec := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(len(files)) }

	floor, err := measure(rounds, func() error { return parseAll(files) })
	if err != nil {
		return err
	}
	var artifacts int
	inMemory, err := measure(rounds, func() error {
		set, diags := spec.Load(spec.LoadOptions{Paths: []string{specs}})
		if diags.HasErrors() {
			return diags
		}
		b, err := render.Render(set, render.Options{Version: "bench"})
		if err != nil {
			return err
		}
		fs, err := b.Files("bench")
		artifacts = len(fs)
		return err
	})
	if err != nil {
		return err
	}
	renderTo := func(dir string) func() error {
		return func() error {
			_, err := app.Render(app.RenderOptions{Load: spec.LoadOptions{Paths: []string{specs}}, OutDir: dir, Version: "bench"})
			return err
		}
	}
	again, err := measure(rounds, renderTo(out))
	if err != nil {
		return err
	}
	fresh, err := measureWithSetup(rounds, func() error { return os.RemoveAll(out) }, renderTo(out))
	if err != nil {
		return err
	}
	createOnly, err := measureWithSetup(rounds, func() error { return os.RemoveAll(out) }, func() error { return createFiles(out, artifacts) })
	if err != nil {
		return err
	}

	fmt.Printf("%d spec files (%d apps + drover.hcl) -> %d artifacts; median of %d rounds; GOGC=400 for both\n", len(files), n, artifacts, rounds)
	row := func(what string, d time.Duration) {
		fmt.Printf("  %-52s %7.3f ms/spec %8.1f ms %6.2fx floor\n", what, perSpec(d), ms(d), float64(d)/float64(floor))
	}
	row("floor: read + hcl/v2 parse only", floor)
	row("drover: load+validate+render+serialize, in memory", inMemory)
	row("drover render -o, over its previous output", again)
	row("drover render -o, into an empty directory", fresh)
	row("  of which the file system: create that many files", createOnly)

	bin := filepath.Join(dir, "drover")
	build := exec.Command("go", "build", "-trimpath", "-tags", "urfave_cli_no_docs", "-ldflags", "-s -w", "-o", bin, "./cmd/drover")
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // as make build
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build drover: %w", err)
	}
	cli, err := measure(5, func() error { return exec.Command(bin, "render", specs, "-o", out).Run() })
	if err != nil {
		return err
	}
	row("drover render -o as a process, start to exit", cli)

	// Measure start-up from a fresh copy of this program: a child's peak RSS
	// includes its parent's at fork, and this process is large by now.
	self, err := os.Executable()
	if err != nil {
		return err
	}
	probe := exec.Command(self, "-probe", bin, "-starts", strconv.Itoa(starts))
	probe.Stdout, probe.Stderr = os.Stdout, os.Stderr
	return probe.Run()
}

// probeStartup runs `bin version` starts times from this (small) process.
func probeStartup(bin string, starts int) error {
	var walls []time.Duration
	var maxRSS int64
	for i := 0; i < starts; i++ {
		cmd := exec.Command(bin, "version")
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return err
		}
		walls = append(walls, time.Since(start))
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && ru.Maxrss > maxRSS {
			maxRSS = ru.Maxrss // KiB on Linux
		}
	}
	fmt.Printf("drover version: median %.2f ms wall (fork+exec to exit) over %d starts (target < 5 ms), peak RSS %.1f MiB (target < 20 MiB)\n",
		ms(median(walls)), starts, float64(maxRSS)/1024)
	return nil
}

// parseAll is the floor: read and parse every file with hcl/v2, nothing else.
func parseAll(files []string) error {
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if _, diags := hclsyntax.ParseConfig(src, f, hcl.InitialPos); diags.HasErrors() {
			return diags
		}
	}
	return nil
}

// createFiles creates n 5 KB files under dir: what the file system alone
// costs for a render's output.
func createFiles(dir string, n int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	data := []byte(strings.Repeat("x", 5000))
	for i := 0; i < n; i++ {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d.json", i)), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func measure(rounds int, fn func() error) (time.Duration, error) {
	return measureWithSetup(rounds, func() error { return nil }, fn)
}

// measureWithSetup times fn over rounds, running setup untimed before each.
func measureWithSetup(rounds int, setup, fn func() error) (time.Duration, error) {
	if err := fn(); err != nil { // warm up caches, and fail early
		return 0, err
	}
	var ds []time.Duration
	for i := 0; i < rounds; i++ {
		if err := setup(); err != nil {
			return 0, err
		}
		start := time.Now()
		if err := fn(); err != nil {
			return 0, err
		}
		ds = append(ds, time.Since(start))
	}
	return median(ds), nil
}

func median(ds []time.Duration) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

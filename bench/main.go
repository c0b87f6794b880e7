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
	"sort"
	"syscall"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/drover-io/drover/pkg/app"
	"github.com/drover-io/drover/pkg/spec"
)

func main() {
	n := flag.Int("n", 200, "number of generated specs")
	rounds := flag.Int("rounds", 15, "rounds per measurement")
	starts := flag.Int("starts", 30, "process starts for the startup measurement")
	flag.Parse()
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

	floor, err := measure(rounds, func() error { return parseAll(files) })
	if err != nil {
		return err
	}
	full, err := measure(rounds, func() error {
		_, err := app.Render(app.RenderOptions{Load: spec.LoadOptions{Paths: []string{specs}}, OutDir: out, Version: "bench"})
		return err
	})
	if err != nil {
		return err
	}
	perSpec := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(len(files)) }
	fmt.Printf("specs: %d files (%d apps + drover.hcl), %d rounds, median\n", len(files), n, rounds)
	fmt.Printf("  hcl/v2 parse only (floor)                 %8.3f ms/spec  %8.1f ms total\n", perSpec(floor), ms(floor))
	fmt.Printf("  drover load+validate+render+write, -o     %8.3f ms/spec  %8.1f ms total\n", perSpec(full), ms(full))
	fmt.Printf("  ratio to floor                            %8.2fx (target <= 2x)\n", float64(full)/float64(floor))

	bin := filepath.Join(dir, "drover")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/drover")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build drover: %w", err)
	}
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
	fmt.Printf("drover version: median %.2f ms wall over %d starts (target < 5 ms), max RSS %.1f MiB (target < 20 MiB)\n",
		ms(median(walls)), starts, float64(maxRSS)/1024)

	cli, err := measure(5, func() error {
		return exec.Command(bin, "render", specs, "-o", out).Run()
	})
	if err != nil {
		return err
	}
	fmt.Printf("drover render as a process, start to exit:  %8.3f ms/spec  %8.1f ms total\n", perSpec(cli), ms(cli))
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

func measure(rounds int, fn func() error) (time.Duration, error) {
	if err := fn(); err != nil { // warm up caches, and fail early
		return 0, err
	}
	var ds []time.Duration
	for i := 0; i < rounds; i++ {
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

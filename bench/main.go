// Command bench measures drover against the floors it is held to, as whole
// processes, interleaved round by round so that a busy machine slows every
// contender alike:
//
//   - the parse floor: bench/floor, a program that reads and parses every
//     spec file with hcl/v2 and does nothing else;
//   - the start-up floor: bench/hello, a hello-world Go binary, and
//     bench/foundation, the same linking the libraries drover is built on
//     (their package initializers run at every start);
//   - the one-spec floor: bench/foundation stating every spec file, the
//     least a correct call on one spec does (it must see whether any
//     other spec changed);
//
// both built the way `make build` builds drover. For each project size it
// times a full render and validate, cold (DROVER_INDEX=off: every spec
// read, as in a fresh clone) and warm (the index of the run before stands
// for every unchanged spec), rendering and validating one spec of the
// project, rendering one spec just after an edit to it (as an editor's
// format on save does) and in a fresh copy of the project that kept its
// .drover/ (a CI job with the index cached), and reports wall time, CPU
// time (user+sys) and peak RSS, each as a ratio against the floor measured
// in the same run. Every process runs as a child of bench/spawn, a small
// program that measures it, so that the peak RSS reported is its own (a
// child's counts its parent's at the fork).
//
//	go run ./bench                          # 200 and 5,000 specs, 3 rounds
//	go run ./bench -n 1000 -rounds 5
//	go run ./bench -baseline main=/tmp/drover-main   # and other builds, side by side
//	go run ./bench -levant /path/to/levant           # and Levant's start-up and render
//	TMPDIR=/dev/shm go run ./bench          # keep the disk out of the numbers
//	go run ./bench -gen DIR -n 5000         # only write a generated project
//
// Numbers are medians over rounds, on whatever machine runs it.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

func main() {
	sizes := flag.String("n", "200,5000", "project sizes (spec files), comma-separated")
	rounds := flag.Int("rounds", 3, "interleaved rounds per measurement")
	starts := flag.Int("starts", 30, "process starts per start-up measurement")
	simple := flag.Bool("simple", false, "generate specs without the production blocks (ports published, files, volumes, nomad blocks, ...)")
	baseline := flag.String("baseline", "", "other drover binaries to measure side by side, such as a build of main: `[LABEL=]PATH`, comma-separated")
	levant := flag.String("levant", "", "a Levant binary whose start-up (`levant version`, and `levant render` of one spec's job kept as a Levant template) to measure beside drover's")
	gen := flag.String("gen", "", "only write a generated project of -n specs into `DIR`")
	flag.Parse()
	if *gen != "" {
		n, err := strconv.Atoi(*sizes)
		if err == nil {
			err = os.MkdirAll(*gen, 0o755)
		}
		if err == nil {
			err = writeSpecs(*gen, n, !*simple)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	var ns []int
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 3 {
			fmt.Fprintf(os.Stderr, "bench: -n %q: want sizes of 3 or more\n", *sizes)
			os.Exit(64)
		}
		ns = append(ns, n)
	}
	if err := run(ns, *rounds, *starts, !*simple, *baseline, *levant); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// A contender is one drover binary.
type contender struct {
	label string
	bin   string
}

func run(sizes []int, rounds, starts int, grown bool, baseline, levant string) error {
	dir, err := os.MkdirTemp("", "drover-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	drover := filepath.Join(dir, "drover")
	floor := filepath.Join(dir, "floor")
	hello := filepath.Join(dir, "hello")
	foundation := filepath.Join(dir, "foundation")
	spawner = filepath.Join(dir, "spawn")
	for _, b := range []struct{ out, pkg string }{{drover, "./cmd/drover"}, {floor, "./bench/floor"}, {hello, "./bench/hello"}, {foundation, "./bench/foundation"}, {spawner, "./bench/spawn"}} {
		if err := build(b.out, b.pkg); err != nil {
			return err
		}
	}
	droverBins := []contender{{"drover", drover}}
	for i, b := range strings.Split(baseline, ",") {
		if b == "" {
			continue
		}
		label, path, ok := strings.Cut(b, "=")
		if !ok {
			label, path = "baseline", b
			if i > 0 {
				label = fmt.Sprintf("baseline%d", i+1)
			}
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return err
		}
		droverBins = append(droverBins, contender{label, abs})
	}
	shape := "grown (production blocks in every spec)"
	if !grown {
		shape = "simple"
	}
	fmt.Printf("bench: specs %s; medians of %d interleaved rounds; ratios against the floor of the same run\n", shape, rounds)

	for _, n := range sizes {
		project := filepath.Join(dir, fmt.Sprintf("p%d", n))
		if err := generate(project, n, grown); err != nil {
			return err
		}
		cases := []*bcase{
			{name: "floor: read + hcl/v2 parse of every file", argv: []string{floor, project}},
			{name: "one-spec floor: foundation start + stat every file", argv: []string{foundation, project}, statFloor: true},
		}
		for _, c := range droverBins {
			// Each build its own copy of the project: an index is its
			// writer's, and builds sharing one would drop each other's.
			project := filepath.Join(dir, fmt.Sprintf("p%d-%s", n, c.label))
			if err := generate(project, n, grown); err != nil {
				return err
			}
			one := filepath.Join(project, specName(n/2)+".hcl")
			out := filepath.Join(dir, c.label+"-out", strconv.Itoa(n))
			// Cold: DROVER_INDEX=off reads and renders every spec, as a
			// fresh clone in CI does; warm: the index of the run before
			// stands for every unchanged spec.
			cold := []string{"DROVER_INDEX=off"}
			cases = append(cases,
				&bcase{name: c.label + " render -o (every spec, cold: DROVER_INDEX=off)", argv: []string{c.bin, "render", project, "-o", filepath.Join(out, "cold")}, env: cold, full: true},
				&bcase{name: c.label + " render -o (every spec, warm: nothing changed)", argv: []string{c.bin, "render", project, "-o", filepath.Join(out, "all")}, full: true},
				&bcase{name: c.label + " validate (every spec, every env, cold)", argv: []string{c.bin, "validate", project}, env: cold},
				&bcase{name: c.label + " validate (every spec, every env, warm)", argv: []string{c.bin, "validate", project}},
				&bcase{name: c.label + " render -o ONE spec of the project", argv: []string{c.bin, "render", one, "-o", filepath.Join(out, "one")}, one: true},
				&bcase{name: c.label + " validate ONE spec of the project", argv: []string{c.bin, "validate", one}, one: true},
			)
			// The ONE spec rendered, and validated, again just after an edit,
			// as an editor's format on save does: in a project of its own,
			// since an edit anywhere makes every render of the project check
			// it again. Each of the two edits it before it runs.
			edited := filepath.Join(dir, fmt.Sprintf("p%d-%s-edit", n, c.label))
			if err := generate(edited, n, grown); err != nil {
				return err
			}
			edit, err := editor(filepath.Join(edited, specName(n/2)+".hcl"))
			if err != nil {
				return err
			}
			editedSpec := filepath.Join(edited, specName(n/2)+".hcl")
			cases = append(cases,
				&bcase{name: c.label + " render -o ONE spec, just edited", argv: []string{c.bin, "render", editedSpec, "-o", filepath.Join(out, "edited")}, one: true, before: edit},
				&bcase{name: c.label + " validate ONE spec, just edited", argv: []string{c.bin, "validate", editedSpec}, one: true, before: edit})
			// ... and in a fresh copy of the project that kept its .drover/
			// (a CI job with the index cached): every spec's stat differs.
			clone, cloneOut := filepath.Join(dir, fmt.Sprintf("p%d-%s-clone", n, c.label)), filepath.Join(out, "clone")
			cases = append(cases, &bcase{name: c.label + " render -o ONE spec, fresh clone, .drover/ cached", argv: []string{c.bin, "render", filepath.Join(clone, specName(n/2)+".hcl"), "-o", cloneOut}, one: true,
				before: func() error { return freshCopy(project, clone, cloneOut) }})
		}
		if err := measure(cases, rounds); err != nil {
			return err
		}
		report(n, cases)
	}
	return startup(dir, startFloors{hello: hello, foundation: foundation, levant: levant}, droverBins, starts, grown)
}

// freshCopy makes clone a copy of project, as a checkout makes it (new
// files, modified now), and removes out.
func freshCopy(project, clone, out string) error {
	for _, d := range []string{clone, out} {
		if err := os.RemoveAll(d); err != nil {
			return err
		}
	}
	if err := exec.Command("cp", "-r", project, clone).Run(); err != nil {
		return fmt.Errorf("copy %s: %w", project, err)
	}
	return nil
}

// editor returns what edits the spec file at path before each run: the
// value of its LOG_LEVEL, new every time, so that the app's job changes
// as an editor's save usually changes it (a comment would leave every
// artifact as it was).
func editor(path string) (func() error, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	const value = `LOG_LEVEL    = "info"`
	if !bytes.Contains(src, []byte(value)) {
		return nil, fmt.Errorf("%s: no %s to edit", path, value)
	}
	k := 0
	return func() error {
		k++
		return os.WriteFile(path, bytes.Replace(src, []byte(value), fmt.Appendf(nil, `LOG_LEVEL    = "debug-%d"`, k), 1), 0o644)
	}, nil
}

// bcase is one measured command.
type bcase struct {
	name      string
	argv      []string
	env       []string     // added to the environment
	full, one bool         // a full render (target: 2x the floor), a one-spec call (20 ms, 40 MiB)
	statFloor bool         // the least a one-spec call does
	before    func() error // before each run, untimed
	wall, cpu []time.Duration
	rss       []int64 // KiB
}

func (c *bcase) medians() (wall, cpu time.Duration, rssMiB float64) {
	return median(c.wall), median(c.cpu), float64(medianInt(c.rss)) / 1024
}

// measure runs every case once to warm up (caches, a render's output, an
// index), then rounds times, interleaved.
func measure(cases []*bcase, rounds int) error {
	for _, c := range cases {
		if c.before != nil {
			if err := c.before(); err != nil {
				return err
			}
		}
		if _, _, _, err := runOnce(c.argv, c.env); err != nil {
			return err
		}
	}
	for r := 0; r < rounds; r++ {
		for _, c := range cases {
			if c.before != nil {
				if err := c.before(); err != nil {
					return err
				}
			}
			wall, cpu, rss, err := runOnce(c.argv, c.env)
			if err != nil {
				return err
			}
			c.wall, c.cpu, c.rss = append(c.wall, wall), append(c.cpu, cpu), append(c.rss, rss)
		}
	}
	return nil
}

// spawner is bench/spawn, built: every measured process is its child,
// so that none's peak RSS counts this process's (see bench/spawn).
var spawner string

// runOnce runs argv as a process, with env added to the environment,
// through spawner: its wall time from start to exit, its CPU time (user +
// system) and its peak RSS in KiB.
func runOnce(argv, env []string) (wall, cpu time.Duration, rssKiB int64, err error) {
	r, w, err := os.Pipe()
	if err != nil {
		return 0, 0, 0, err
	}
	defer r.Close()
	cmd := exec.Command(spawner, argv...)
	cmd.Env = append(os.Environ(), env...)
	cmd.ExtraFiles = []*os.File{w} // fd 3
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	err = cmd.Start()
	w.Close()
	if err != nil {
		return 0, 0, 0, err
	}
	out, rerr := io.ReadAll(r)
	if err := cmd.Wait(); err != nil {
		return 0, 0, 0, fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, stderr.String())
	}
	var wallNs, cpuNs int64
	if _, err := fmt.Sscan(string(out), &wallNs, &cpuNs, &rssKiB); rerr != nil || err != nil {
		return 0, 0, 0, fmt.Errorf("%s: no measurement from %s: %q", strings.Join(argv, " "), spawner, out)
	}
	return time.Duration(wallNs), time.Duration(cpuNs), rssKiB, nil
}

func report(n int, cases []*bcase) {
	fw, fc, fr := cases[0].medians()
	var sw time.Duration
	for _, c := range cases {
		if c.statFloor {
			sw, _, _ = c.medians()
		}
	}
	fmt.Printf("\n%d spec files + drover.hcl\n", n)
	fmt.Printf("  %-52s %9s %9s %8s %7s %7s %7s  %s\n", "", "wall ms", "cpu ms", "RSS MiB", "wall/f", "cpu/f", "rss/f", "target")
	for _, c := range cases {
		w, cpu, rss := c.medians()
		target := ""
		switch {
		case c.full:
			target = verdict(float64(w)/float64(fw) <= 2 && float64(cpu)/float64(fc) <= 2 && rss/fr <= 3, "wall, cpu <= 2x floor, rss <= 3x")
		case c.one:
			target = verdict(ms(w) <= 20 && rss <= 40, "<= 20 ms, <= 40 MiB")
			if sw > 0 {
				target += fmt.Sprintf(", %.2fx the one-spec floor", float64(w)/float64(sw))
			}
		}
		fmt.Printf("  %-52s %9.1f %9.1f %8.1f %7.2f %7.2f %7.2f  %s\n", c.name, ms(w), ms(cpu), rss,
			float64(w)/float64(fw), float64(cpu)/float64(fc), rss/fr, target)
	}
}

func verdict(ok bool, what string) string {
	if ok {
		return "ok (" + what + ")"
	}
	return "MISSED (" + what + ")"
}

// startFloors are what start-up is measured against: bench/hello,
// bench/foundation and, when given, a Levant binary.
type startFloors struct{ hello, foundation, levant string }

// startup times `version`, and validate and render of one spec of a
// three-spec project, against the hello-world binary, the foundation
// floor and Levant: starts times each, interleaved.
func startup(dir string, floors startFloors, bins []contender, starts int, grown bool) error {
	// Each build its own copy of the project (an index is its writer's),
	// settled: a command on a project whose specs were all written within
	// the index's two-second racy window cannot trust their stats, which
	// the projects above, generated long before they are measured, can.
	for _, c := range bins {
		if err := generate(filepath.Join(dir, "tiny-"+c.label), 3, grown); err != nil {
			return err
		}
	}
	time.Sleep(2100 * time.Millisecond)
	cases := []*bcase{
		{name: "hello-world Go binary", argv: []string{floors.hello}},
		{name: "foundation: hello-world + nomad/consul/vault api, hcl, cli", argv: []string{floors.foundation}},
	}
	var levant, levantRender *bcase
	if floors.levant != "" {
		tpl, vars := filepath.Join(dir, "job.nomad.tpl"), filepath.Join(dir, "vars.yaml")
		if err := os.WriteFile(tpl, []byte(levantTemplate), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(vars, []byte(levantVars), 0o644); err != nil {
			return err
		}
		levant = &bcase{name: "levant version", argv: []string{floors.levant, "version"}}
		levantRender = &bcase{name: "levant render (one spec's job, as a template)", argv: []string{floors.levant, "render", "-log-level=ERROR", "-var-file", vars, "-out", filepath.Join(dir, "levant-job.nomad"), tpl}}
		cases = append(cases, levant, levantRender)
	}
	nFloors := len(cases)
	for _, c := range bins {
		one := filepath.Join(dir, "tiny-"+c.label, specName(1)+".hcl")
		cases = append(cases,
			&bcase{name: c.label + " version", argv: []string{c.bin, "version"}},
			&bcase{name: c.label + " validate (one spec of three)", argv: []string{c.bin, "validate", one}},
			&bcase{name: c.label + " render -o (one spec of three)", argv: []string{c.bin, "render", one, "-o", filepath.Join(dir, c.label+"-tiny-out")}},
		)
	}
	if err := measure(cases, starts); err != nil {
		return err
	}
	hw, hc, hr := cases[0].medians()
	fmt.Printf("\nstart-up, %d starts each\n", starts)
	fmt.Printf("  %-52s %9s %9s %8s %7s %7s %7s  %s\n", "", "wall ms", "cpu ms", "RSS MiB", "wall/h", "cpu/h", "rss/h", "target")
	fw, _, _ := cases[1].medians()
	for i, c := range cases {
		w, cpu, rss := c.medians()
		target := ""
		if i == 1 {
			target = fmt.Sprintf("(the libraries alone: %.2fx hello-world)", float64(w)/float64(hw))
		}
		if i >= nFloors {
			target = verdict(float64(w)/float64(hw) <= 2, "wall <= 2x hello-world") + fmt.Sprintf(", %.2fx foundation", float64(w)/float64(fw))
			if levant != nil {
				lw, _, _ := levant.medians()
				target += fmt.Sprintf(", %.2fx levant version", float64(w)/float64(lw))
				if strings.Contains(c.name, " render ") {
					rw, _, _ := levantRender.medians()
					target += fmt.Sprintf(", %.2fx levant render", float64(w)/float64(rw))
				}
			}
		}
		fmt.Printf("  %-52s %9.2f %9.2f %8.1f %7.2f %7.2f %7.2f  %s\n", c.name, ms(w), ms(cpu), rss,
			float64(w)/float64(hw), float64(cpu)/float64(hc), rss/hr, target)
	}
	return nil
}

// build builds pkg into out as `make build` builds drover: static, trimmed,
// stripped.
func build(out, pkg string) error {
	cmd := exec.Command("go", "build", "-trimpath", "-tags", "urfave_cli_no_docs", "-ldflags", "-s -w", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build %s: %w", pkg, err)
	}
	return nil
}

// generate writes a project from a child process, so that this one stays
// small.
func generate(dir string, n int, grown bool) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	args := []string{"-gen", dir, "-n", strconv.Itoa(n)}
	if !grown {
		args = append(args, "-simple")
	}
	cmd := exec.Command(self, args...)
	cmd.Stderr = os.Stderr
	return cmd.Run()
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func medianInt(xs []int64) int64 {
	s := append([]int64(nil), xs...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Command autoscale measures the load `drover autoscale` puts on Nomad, and
// its own cost, in the steady state: n policies whose every evaluation is
// "no change", against a fake Nomad (fake.go) that counts requests. When
// the official Nomad Autoscaler is on PATH (or given with -autoscaler) it
// runs the same policies against a fresh fake beside it.
//
//	go run ./bench/autoscale                    # 100, 1,000 and 10,000 policies
//	go run ./bench/autoscale -n 10000 -window 2m
//
// For each run it prints requests a minute to Nomad, CPU seconds a minute,
// RSS and evaluations a minute, measured over -window after the agent has
// read every policy's status once and -settle has passed.
//
// Nomad holds a blocking query up to 5 minutes; -max-wait (default 5m) sets
// the fake's cap. A window shorter than the cap sees few of the
// Autoscaler's long polls come back; -max-wait 30s with a 2m window shows
// its rate ten times over, which the table then divides back (the
// "at 5m" column).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	sizes := flag.String("n", "100,1000,10000", "comma-separated numbers of policies")
	window := flag.Duration("window", time.Minute, "measurement window")
	settle := flag.Duration("settle", 20*time.Second, "wait after warm-up before measuring")
	maxWait := flag.Duration("max-wait", 5*time.Minute, "the fake's cap on blocking-query waits (Nomad's is 5m)")
	interval := flag.String("interval", "10s", "every policy's evaluation_interval")
	drover := flag.String("drover", "", "drover binary (default: build ./cmd/drover)")
	official := flag.String("autoscaler", "", "the official nomad-autoscaler binary (default: from PATH or /work/agents/bin; \"none\" to skip it)")
	flag.Parse()
	if err := run(*sizes, *window, *settle, *maxWait, *interval, *drover, *official); err != nil {
		fmt.Fprintln(os.Stderr, "bench/autoscale:", err)
		os.Exit(1)
	}
}

type result struct {
	agent            string
	n                int
	requestsPerMin   float64
	requestsAt5m     float64
	cpuPerMin        float64
	rssMiB           float64
	evalsPerMin      float64
	byRoute          map[string]float64
	warmup           time.Duration
	cpuPerEvalMicros float64
}

func run(sizes string, window, settle, maxWait time.Duration, interval, droverBin, officialBin string) error {
	if droverBin == "" {
		dir, err := os.MkdirTemp("", "drover-bench-autoscale-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		droverBin = filepath.Join(dir, "drover")
		build := exec.Command("go", "build", "-o", droverBin, "./cmd/drover")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build drover: %w", err)
		}
	}
	if officialBin == "" {
		if p, err := exec.LookPath("nomad-autoscaler"); err == nil {
			officialBin = p
		} else if _, err := os.Stat("/work/agents/bin/nomad-autoscaler"); err == nil {
			officialBin = "/work/agents/bin/nomad-autoscaler"
		}
	}
	var results []result
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return fmt.Errorf("bad -n %q", s)
		}
		agents := []string{"drover"}
		if officialBin != "" && officialBin != "none" {
			agents = append(agents, "nomad-autoscaler")
		}
		for _, agent := range agents {
			bin := droverBin
			if agent != "drover" {
				bin = officialBin
			}
			fmt.Fprintf(os.Stderr, "%s with %d policies...\n", agent, n)
			r, err := measure(agent, bin, n, window, settle, maxWait, interval)
			if err != nil {
				return fmt.Errorf("%s, %d policies: %w", agent, n, err)
			}
			results = append(results, r)
		}
	}
	fmt.Printf("steady state, every evaluation \"no change\"; evaluation_interval %s; fake Nomad's blocking cap %s; window %s\n\n", interval, maxWait, window)
	fmt.Printf("%-17s %8s %12s %12s %12s %10s %12s %10s %12s\n", "agent", "policies", "req/min", "req/min@5m", "req/eval@5m", "CPU s/min", "CPU µs/eval", "RSS MiB", "evals/min")
	for _, r := range results {
		perEval := 0.0
		if r.evalsPerMin > 0 {
			perEval = r.requestsAt5m / r.evalsPerMin
		}
		fmt.Printf("%-17s %8d %12.1f %12.1f %12.5f %10.2f %12.1f %10.1f %12.0f\n", r.agent, r.n, r.requestsPerMin, r.requestsAt5m, perEval, r.cpuPerMin, r.cpuPerEvalMicros, r.rssMiB, r.evalsPerMin)
	}
	fmt.Println("\nrequests a minute by route in the window:")
	for _, r := range results {
		var routes []string
		for k := range r.byRoute {
			routes = append(routes, k)
		}
		sort.Strings(routes)
		var parts []string
		for _, k := range routes {
			parts = append(parts, fmt.Sprintf("%s %.1f", k, r.byRoute[k]))
		}
		fmt.Printf("  %s %d (warm-up %s): %s\n", r.agent, r.n, r.warmup.Round(time.Second), strings.Join(parts, ", "))
	}
	return nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func measure(agent, bin string, n int, window, settle, maxWait time.Duration, interval string) (result, error) {
	f, err := newFakeNomad(n, maxWait, interval)
	if err != nil {
		return result{}, err
	}
	defer f.close()
	port, err := freePort()
	if err != nil {
		return result{}, err
	}
	var cmd *exec.Cmd
	var metricsURL string
	if agent == "drover" {
		cmd = exec.Command(bin, "autoscale", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--log-level", "warn")
		cmd.Env = append(os.Environ(), "NOMAD_ADDR="+f.addr)
		metricsURL = fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	} else {
		cmd = exec.Command("nice", "-n", "10", bin, "agent", "-nomad-address="+f.addr, "-http-bind-address=127.0.0.1",
			fmt.Sprintf("-http-bind-port=%d", port), "-log-level=WARN", "-telemetry-prometheus-metrics")
		metricsURL = fmt.Sprintf("http://127.0.0.1:%d/v1/metrics?format=prometheus", port)
	}
	logf, err := os.CreateTemp("", "bench-autoscale-"+agent+"-*.log")
	if err != nil {
		return result{}, err
	}
	defer os.Remove(logf.Name())
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}()
	pid := cmd.Process.Pid
	if agent != "drover" {
		// nice execs the agent in the same process.
		time.Sleep(200 * time.Millisecond)
	}
	// Warm-up: every job's status read once.
	deadline := time.Now().Add(10 * time.Minute)
	for f.snapshot()["GET /v1/job/:id/scale"] < n {
		if time.Now().After(deadline) {
			return result{}, errors.New("warm-up did not finish in 10 minutes; log: " + tail(logf.Name()))
		}
		if cmd.ProcessState != nil {
			return result{}, errors.New("the agent exited: " + tail(logf.Name()))
		}
		time.Sleep(200 * time.Millisecond)
	}
	warm := time.Since(start)
	time.Sleep(settle)
	before := f.snapshot()
	cpu0, err := cpuSeconds(pid)
	if err != nil {
		return result{}, err
	}
	evals0 := evaluations(agent, metricsURL)
	t0 := time.Now()
	time.Sleep(window)
	elapsed := time.Since(t0).Minutes()
	after := f.snapshot()
	cpu1, _ := cpuSeconds(pid)
	evals1 := evaluations(agent, metricsURL)
	rss, _ := rssMiB(pid)
	r := result{agent: agent, n: n, byRoute: map[string]float64{}, warmup: warm, rssMiB: rss}
	total := 0
	longPolls := 0
	for k, v := range after {
		d := v - before[k]
		if d == 0 {
			continue
		}
		total += d
		if k == "GET /v1/job/:id/scale" || k == "GET /v1/scaling/policies" {
			longPolls += d
		}
		r.byRoute[k] = float64(d) / elapsed
	}
	r.requestsPerMin = float64(total) / elapsed
	// Blocking queries come back once per cap: at Nomad's 5m cap there are
	// maxWait/5m as many.
	scale := maxWait.Minutes() / 5
	r.requestsAt5m = (float64(total-longPolls) + float64(longPolls)*scale) / elapsed
	r.cpuPerMin = (cpu1 - cpu0) / elapsed
	if evals1 >= 0 && evals0 >= 0 {
		r.evalsPerMin = (evals1 - evals0) / elapsed
	}
	if r.evalsPerMin <= 0 {
		// Unknown: what the policies ask for.
		d, _ := time.ParseDuration(interval)
		r.evalsPerMin = float64(n) * float64(time.Minute) / float64(d)
	}
	r.cpuPerEvalMicros = r.cpuPerMin / r.evalsPerMin * 1e6
	return r, nil
}

// cpuSeconds is a process's user and system CPU time.
func cpuSeconds(pid int) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) / 100, nil // USER_HZ
}

func rssMiB(pid int) (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024, nil
		}
	}
	return 0, errors.New("no VmRSS")
}

// evaluations sums the agent's evaluation counter, or -1.
func evaluations(agent, url string) float64 {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	prefix := "drover_autoscale_evaluations_total"
	if agent != "drover" {
		prefix = "nomad_autoscaler_scale_evaluate_ms_count"
	}
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		if i := strings.LastIndexByte(line, ' '); i > 0 {
			v, _ := strconv.ParseFloat(line[i+1:], 64)
			sum += v
		}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return sum
}

func tail(path string) string {
	data, _ := os.ReadFile(path)
	if len(data) > 2000 {
		data = data[len(data)-2000:]
	}
	return string(data)
}

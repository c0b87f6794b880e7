package devenv

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// DefaultGrace is how long Down waits after SIGINT before SIGKILL.
const DefaultGrace = 60 * time.Second

// stopOrder: Nomad first (in dev mode it stops its allocations on SIGINT
// and still needs Consul and Vault for that), then Consul, then Vault.
var stopOrder = []string{Nomad, Consul, Vault}

// StopOptions configures Stop.
type StopOptions struct {
	StateDir string
	// Logger receives progress; nil discards it.
	Logger *slog.Logger
	// Grace is the wait between SIGINT and SIGKILL; zero means DefaultGrace.
	Grace time.Duration
}

// Down stops the agents that Up started from stateDir; it is Stop with
// default options.
func Down(ctx context.Context, stateDir string) error {
	return Stop(ctx, StopOptions{StateDir: stateDir})
}

// Stop stops the agents that Up started from opts.StateDir, by pid file
// only, Nomad, then Consul, then Vault: SIGINT, then SIGKILL after
// opts.Grace or as soon as ctx is done. A pid is signalled only while its
// command line is still the agent binary recorded by Up and the agent's
// subcommand; a pid file naming anything else (the agent died and the pid
// was reused) is removed without signalling. Agents already stopped are
// not an error. Each agent's failure is an *AgentError; Stop carries on
// with the next agent and returns them all joined.
func Stop(ctx context.Context, opts StopOptions) error {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	grace := opts.Grace
	if grace <= 0 {
		grace = DefaultGrace
	}
	dir := absPath(opts.StateDir)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		log.Info("no dev environment to stop", "state_dir", dir)
		return nil
	}
	unlock, err := lockDir(ctx, dir)
	if err != nil {
		return fmt.Errorf("devenv: %w", err)
	}
	defer unlock()

	st, err := readState(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("devenv: %w", err)
	}
	var errs []error
	for _, name := range stopOrder {
		pid, err := readPid(dir, name)
		if err != nil {
			errs = append(errs, &AgentError{Agent: name, Op: "read pid file", Err: err})
			continue
		}
		if pid == 0 {
			log.Debug("agent not started", "agent", name)
			continue
		}
		bin := ""
		if st != nil {
			bin = st.Binaries[name]
		}
		ok, err := ours(ctx, pid, name, bin)
		if err != nil {
			errs = append(errs, &AgentError{Agent: name, Op: "check pid file", Err: err})
			continue
		}
		if !ok {
			if alive(pid) {
				log.Warn("pid file names another process: not signalled", "agent", name, "pid", pid, "binary", bin)
			} else {
				log.Info("agent already stopped", "agent", name, "pid", pid)
			}
			if err := removePid(dir, name); err != nil {
				errs = append(errs, &AgentError{Agent: name, Op: "remove pid file", Err: err})
			}
			continue
		}
		if name == Nomad && st != nil {
			waitAllocTeardown(ctx, log, httpAddr(st.Ports.NomadHTTP), st.NomadTmp, teardownWait)
		}
		log.Info("stopping agent", "agent", name, "pid", pid)
		if err := stopPid(ctx, pid, grace); err != nil {
			errs = append(errs, &AgentError{Agent: name, Op: "stop", LogFile: logPath(dir, name), Err: err})
			continue
		}
		log.Info("agent stopped", "agent", name, "pid", pid)
		if name == Nomad {
			pruneEmptyDirs(filepath.Join(dir, "tmp"))
		}
		if err := removePid(dir, name); err != nil {
			errs = append(errs, &AgentError{Agent: name, Op: "remove pid file", Err: err})
		}
	}
	return errors.Join(errs...)
}

// teardownWait bounds waitAllocTeardown.
const teardownWait = 30 * time.Second

// waitAllocTeardown waits, for at most d, while the dev Nomad at addr
// still tears down allocations: a dev agent interrupted in the middle of
// that leaves the tasks' executors, secrets mounts and containers behind.
// (On SIGINT a dev agent destroys the allocations it still runs, and waits
// for them; it does not wait for those it was already destroying.) Being
// torn down are allocations told to stop whose tasks still run, and
// allocations that the servers forgot (a purged job's) but whose directory
// is still in tmp, the Nomad's TMPDIR.
func waitAllocTeardown(ctx context.Context, log *slog.Logger, addr, tmp string, d time.Duration) {
	hc := newHTTPClient()
	defer hc.CloseIdleConnections()
	pending := func(ctx context.Context) (int, error) {
		var allocs []struct{ ID, DesiredStatus, ClientStatus string }
		if err := getJSON(ctx, hc, addr+"/v1/allocations", &allocs); err != nil {
			return 0, err
		}
		n := 0
		known := map[string]bool{}
		for _, a := range allocs {
			known[a.ID] = true
			if a.DesiredStatus != "run" && (a.ClientStatus == "pending" || a.ClientStatus == "running") {
				n++
			}
		}
		for _, id := range allocDirs(tmp) {
			if !known[id] {
				n++
			}
		}
		return n, nil
	}
	n, err := pending(ctx)
	if err != nil || n == 0 {
		return // not answering (then there is nothing to wait for) or nothing to wait for
	}
	log.Info("waiting for allocations being torn down", "count", n, "max_wait", d)
	err = poll(ctx, d, func(ctx context.Context) error {
		n, err := pending(ctx)
		if err == nil && n > 0 {
			err = fmt.Errorf("%d allocation(s) still being torn down", n)
		}
		return err
	}, func() error { return nil })
	if err != nil {
		log.Warn("stopping Nomad with allocations still being torn down", "err", err)
	}
}

// allocDirs returns the allocation IDs that have a directory in a dev
// Nomad's TMPDIR: tmp/NomadClient*/<alloc ID>.
func allocDirs(tmp string) []string {
	if tmp == "" {
		return nil
	}
	clients, _ := filepath.Glob(filepath.Join(tmp, "NomadClient*"))
	var ids []string
	for _, c := range clients {
		entries, _ := os.ReadDir(c)
		for _, e := range entries {
			if e.IsDir() && isUUID(e.Name()) {
				ids = append(ids, e.Name())
			}
		}
	}
	return ids
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
				return false
			}
		}
	}
	return true
}

// pruneEmptyDirs removes the empty directories under root, deepest first,
// and root itself when it ends up empty: what stopped dev Nomads leave in
// their TMPDIR. It removes no files and no directory that is not empty.
func pruneEmptyDirs(root string) {
	var dirs []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- { // WalkDir lists parents before children
		_ = os.Remove(dirs[i]) // fails, harmlessly, when not empty
	}
}

// AgentStatus is one agent of a dev environment.
type AgentStatus struct {
	Name    string // Nomad, Consul or Vault
	Binary  string // as recorded by Up
	PID     int    // from the pid file; 0 when there is none
	Addr    string // HTTP API address
	LogFile string
	// Running: the pid file names a live process that is this agent.
	Running bool
	// Healthy: Running, and the agent's health endpoint answers OK.
	Healthy bool
}

// Status reports the agents of the dev environment in stateDir, in the
// order Nomad, Consul, Vault. A state directory that Up never used is an
// error wrapping fs.ErrNotExist.
func Status(ctx context.Context, stateDir string) ([]AgentStatus, error) {
	dir := absPath(stateDir)
	st, err := readState(dir)
	if err != nil {
		return nil, fmt.Errorf("devenv: no dev environment in %s: %w", dir, err)
	}
	hc := newHTTPClient()
	defer hc.CloseIdleConnections()
	addr := map[string]string{Nomad: httpAddr(st.Ports.NomadHTTP), Consul: httpAddr(st.Ports.ConsulHTTP), Vault: httpAddr(st.Ports.VaultHTTP)}
	out := make([]AgentStatus, 0, len(stopOrder))
	for _, name := range stopOrder {
		s := AgentStatus{Name: name, Binary: st.Binaries[name], Addr: addr[name], LogFile: logPath(dir, name)}
		pid, err := readPid(dir, name)
		if err != nil {
			return nil, &AgentError{Agent: name, Op: "read pid file", Err: err}
		}
		s.PID = pid
		if s.Running, err = ours(ctx, pid, name, s.Binary); err != nil {
			return nil, &AgentError{Agent: name, Op: "check pid file", Err: err}
		}
		if s.Running {
			cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			s.Healthy = healthCheck(hc, name, st.Ports, false)(cctx) == nil
			cancel()
		}
		out = append(out, s)
	}
	return out, nil
}

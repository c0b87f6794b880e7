package devenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// subcommand is the first argument each agent is started with; Down checks
// it together with the binary before signalling a pid.
var subcommand = map[string]string{Nomad: "agent", Consul: "agent", Vault: "server"}

// child is an agent process started by this Up call.
type child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited and been reaped
	err  error         // Wait's result, valid after done is closed
}

// exited returns a non-nil error once the process has exited.
func (c *child) exited() error {
	select {
	case <-c.done:
		if c.err == nil {
			return errors.New("exited with status 0")
		}
		return fmt.Errorf("exited: %w", c.err)
	default:
		return nil
	}
}

// kill stops a child that failed to come up, waiting briefly for it to go.
func (c *child) kill() {
	_ = c.cmd.Process.Kill()
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
	}
}

// startAgent starts bin with args as a detached process in dir, output
// appended to dir/<name>.log, and records its pid in dir/<name>.pid. The
// process is reaped in the background, so it never lingers as a zombie of a
// long-running caller.
func startAgent(dir, name, bin string, args, env []string) (*child, error) {
	logf, err := os.OpenFile(logPath(dir, name), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own copy
	// Vault prints its root token into this log: keep it private even if an
	// older, wider-open file is being appended to.
	if err := logf.Chmod(0o600); err != nil {
		return nil, err
	}
	fmt.Fprintf(logf, "==> drover dev: %s: %s %s\n", time.Now().Format(time.RFC3339), bin, strings.Join(args, " "))

	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = detached()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	if err := writePid(dir, name, cmd.Process.Pid); err != nil {
		c.kill()
		return nil, fmt.Errorf("write pid file: %w", err)
	}
	return c, nil
}

// agentEnv returns the environment of agent name: the caller's, without
// the variables that point clients at some other cluster (NOMAD_*,
// CONSUL_*, VAULT_*, BAO_*, licences excepted), plus extra. Nomad also
// loses AWS_CA_BUNDLE, which makes its env_aws fingerprinter abort start-up.
func agentEnv(name string, base []string, extra ...string) []string {
	out := make([]string, 0, len(base)+len(extra))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		client := false
		for _, pre := range []string{"NOMAD_", "CONSUL_", "VAULT_", "BAO_"} {
			if strings.HasPrefix(k, pre) && !strings.Contains(k, "LICENSE") {
				client = true
			}
		}
		if client || (name == Nomad && k == "AWS_CA_BUNDLE") {
			continue
		}
		if slices.ContainsFunc(extra, func(e string) bool { return strings.HasPrefix(e, k+"=") }) {
			continue
		}
		out = append(out, kv)
	}
	return append(out, extra...)
}

// prependPath returns PATH=<dir>:<PATH of env>.
func prependPath(env []string, dir string) string {
	path := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	if path == "" {
		return "PATH=" + dir
	}
	return "PATH=" + dir + string(filepath.ListSeparator) + path
}

// ours reports whether pid is alive and its command line is agent name
// started from bin: the same binary (by path, or by base name when the
// recorded path is unknown) and the same subcommand.
func ours(ctx context.Context, pid int, name, bin string) (bool, error) {
	if pid <= 0 || !alive(pid) {
		return false, nil
	}
	argv, err := cmdline(ctx, pid)
	if err != nil {
		if !alive(pid) {
			return false, nil
		}
		return false, fmt.Errorf("read command line of pid %d: %w", pid, err)
	}
	return matchesAgent(argv, name, bin), nil
}

// matchesAgent reports whether argv is agent name run from bin. With bin
// empty (no state recorded), any of the agent's candidate binary names
// matches.
func matchesAgent(argv []string, name, bin string) bool {
	if len(argv) < 2 || argv[1] != subcommand[name] {
		return false
	}
	if bin != "" {
		return argv[0] == bin
	}
	return slices.Contains(candidates[name], filepath.Base(argv[0]))
}

// checkPorts returns a *PortInUseError for the first listener of agent
// name that cannot be bound on 127.0.0.1.
func checkPorts(ctx context.Context, name string, p Ports) error {
	var lc net.ListenConfig
	for _, l := range p.listeners(name) {
		ln, err := lc.Listen(ctx, "tcp", hostPort(l.port))
		if err != nil {
			return &PortInUseError{Agent: name, Field: l.field, Port: l.port, Proto: "tcp", Err: err}
		}
		ln.Close()
		if l.udp {
			pc, err := lc.ListenPacket(ctx, "udp", hostPort(l.port))
			if err != nil {
				return &PortInUseError{Agent: name, Field: l.field, Port: l.port, Proto: "udp", Err: err}
			}
			pc.Close()
		}
	}
	return nil
}

// stopPid stops agent name at pid: SIGINT, then SIGKILL once grace has
// passed or ctx is done. It returns once the process is gone.
func stopPid(ctx context.Context, pid int, grace time.Duration) error {
	if err := signalPid(pid, syscall.SIGINT); err != nil {
		if !alive(pid) {
			return nil
		}
		return fmt.Errorf("SIGINT pid %d: %w", pid, err)
	}
	if waitGone(ctx, pid, grace) {
		return nil
	}
	if err := signalPid(pid, syscall.SIGKILL); err != nil && alive(pid) {
		return fmt.Errorf("SIGKILL pid %d: %w", pid, err)
	}
	// SIGKILL cannot be caught; give the kernel a moment even if ctx is done.
	if waitGone(context.WithoutCancel(ctx), pid, 5*time.Second) {
		if ctx.Err() != nil {
			return fmt.Errorf("killed pid %d before it finished stopping: %w", pid, ctx.Err())
		}
		return nil
	}
	return fmt.Errorf("pid %d still alive after SIGKILL", pid)
}

// waitGone polls until pid is gone, for at most d or until ctx is done.
func waitGone(ctx context.Context, pid int, d time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if !alive(pid) {
			return true
		}
		select {
		case <-ctx.Done():
			return !alive(pid)
		case <-tick.C:
		}
	}
}

package devenv

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// Up starts (or finds running) the dev agents of opts.StateDir, waits until
// each is healthy and configures Vault for Nomad workload identity. See the
// package documentation for the sequence.
//
// Agents already running from the same StateDir are left alone. A port held
// by anything else is a *PortInUseError; missing binaries are a
// *MissingBinariesError; an agent that exits or stays unhealthy is stopped
// again and reported as an *AgentError naming its log. Agents started
// before the failing one keep running: call Up again, or Down.
func Up(ctx context.Context, opts Options) (*Env, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	lookPath := opts.LookPath
	if lookPath == nil {
		lookPath = exec.LookPath
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	dir := opts.StateDir
	if dir == "" {
		d, err := DefaultStateDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	dir = absPath(dir)
	ports := opts.Ports.withDefaults()
	if err := ports.validate(); err != nil {
		return nil, fmt.Errorf("devenv: invalid ports: %w", err)
	}
	bins, err := findBinaries(opts.Bin, lookPath)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("devenv: state directory: %w", err)
	}
	unlock, err := lockDir(ctx, dir)
	if err != nil {
		return nil, fmt.Errorf("devenv: %w", err)
	}
	defer unlock()

	prev, err := readState(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("devenv: %w", err)
	}

	// Decide, before starting anything, which agents run already and
	// whether the others' ports are free.
	runningPid := map[string]int{}
	for _, name := range startOrder {
		pid, err := readPid(dir, name)
		if err != nil {
			return nil, &AgentError{Agent: name, Op: "read pid file", Err: err}
		}
		recorded := ""
		if prev != nil {
			recorded = prev.Binaries[name]
		}
		if pid != 0 {
			ok, err := ours(ctx, pid, name, recorded)
			if err != nil {
				return nil, &AgentError{Agent: name, Op: "check pid file", Err: err}
			}
			if ok {
				// All ports, not just this agent's: a running Nomad also
				// has Consul's and Vault's in its config.
				if prev != nil && prev.Ports != ports {
					return nil, &AgentError{Agent: name, Op: "reuse running agent",
						Err: fmt.Errorf("already running from %s (pid %d) with other ports than asked for: run Down first", dir, pid)}
				}
				if recorded != "" {
					bins[name] = recorded
				}
				runningPid[name] = pid
				log.Info("agent already running", "agent", name, "pid", pid)
				continue
			}
			log.Info("removing stale pid file", "agent", name, "pid", pid)
			if err := removePid(dir, name); err != nil {
				return nil, &AgentError{Agent: name, Op: "remove stale pid file", Err: err}
			}
		}
		if err := checkPorts(ctx, name, ports); err != nil {
			return nil, err
		}
	}

	var token string
	if _, ok := runningPid[Vault]; ok {
		if token = readToken(dir); token == "" {
			return nil, &AgentError{Agent: Vault, Op: "reuse running agent",
				Err: fmt.Errorf("%s is missing, so the running dev server's root token is unknown: run Down first", filepath.Join(dir, tokenFile))}
		}
	} else if token, err = rootToken(dir); err != nil {
		return nil, &AgentError{Agent: Vault, Op: "root token", Err: err}
	}
	u := &upper{log: log, dir: dir, ports: ports, bins: bins, timeout: timeout, running: runningPid}
	defer u.client().CloseIdleConnections()
	nomadTmp := ""
	if _, ok := runningPid[Nomad]; ok {
		if prev != nil {
			nomadTmp = prev.NomadTmp
		}
	} else {
		nomadTmp = u.nomadTmp()
	}
	if err := writeState(dir, &state{Ports: ports, Binaries: bins, NomadTmp: nomadTmp}); err != nil {
		return nil, fmt.Errorf("devenv: %w", err)
	}
	env := newEnv(dir, ports, token, bins)

	// Vault and Consul start side by side; Nomad needs both.
	if err := u.start(Vault, []string{"server", "-dev", "-dev-no-store-token", "-dev-listen-address=" + hostPort(ports.VaultHTTP)},
		"VAULT_DEV_ROOT_TOKEN_ID="+token, "BAO_DEV_ROOT_TOKEN_ID="+token); err != nil {
		return nil, err
	}
	if err := u.writeConfig(Consul, consulConfig(ports)); err != nil {
		return nil, err
	}
	if err := u.start(Consul, []string{"agent", "-dev", "-config-file=" + filepath.Join(dir, "consul.hcl")}); err != nil {
		return nil, err
	}
	if err := u.wait(ctx, Vault, false); err != nil {
		return nil, err
	}
	if err := u.wait(ctx, Consul, false); err != nil {
		return nil, err
	}

	if _, ok := runningPid[Nomad]; !ok {
		np := nomadParams{Ports: ports, Interface: loopbackInterface(), CNIPath: detectCNI(cniCandidates)}
		if np.CNIPath == "" {
			log.Warn("no CNI plugins found: bridge networking and Connect will not work", "looked_in", cniCandidates)
		}
		if opts.Docker {
			ep := dockerEndpoint()
			if err := pingDocker(ctx, ep); err != nil {
				log.Warn("dockerd does not answer: docker driver disabled", "endpoint", ep, "err", err)
			} else {
				np.DockerEndpoint = ep
			}
		}
		if err := u.writeConfig(Nomad, nomadConfig(np)); err != nil {
			return nil, err
		}
	}
	// The Connect sidecar hook runs `consul connect envoy`: put the dev
	// Consul's binary first on Nomad's PATH.
	nomadEnv := []string{prependPath(os.Environ(), filepath.Dir(bins[Consul]))}
	if nomadTmp != "" {
		nomadEnv = append(nomadEnv, "TMPDIR="+nomadTmp)
	}
	if err := u.start(Nomad, []string{"agent", "-dev", "-config=" + filepath.Join(dir, "nomad.hcl")}, nomadEnv...); err != nil {
		return nil, err
	}
	if err := u.wait(ctx, Nomad, true); err != nil {
		return nil, err
	}

	jwks := httpAddr(ports.NomadHTTP) + "/.well-known/jwks.json"
	vc := &vaultClient{addr: env.VaultAddr, token: token, http: u.client()}
	if err := configureVault(ctx, log, vc, jwks); err != nil {
		return nil, &AgentError{Agent: Vault, Op: "configure workload identity and KV", Err: err}
	}
	env.Started = u.started
	log.Info("dev environment ready", "nomad", env.NomadAddr, "consul", env.ConsulAddr, "vault", env.VaultAddr, "state_dir", dir)
	return env, nil
}

// upper carries one Up call's progress.
type upper struct {
	log      *slog.Logger
	dir      string
	ports    Ports
	bins     map[string]string
	timeout  time.Duration
	running  map[string]int    // agents found running, by pid
	children map[string]*child // agents started by this call
	started  []string
	hc       *http.Client
}

func (u *upper) client() *http.Client {
	if u.hc == nil {
		u.hc = newHTTPClient()
	}
	return u.hc
}

// writeConfig writes StateDir/<name>.hcl unless the agent runs already
// (its config on disk then stays the one it was started with).
func (u *upper) writeConfig(name, content string) error {
	if _, ok := u.running[name]; ok {
		return nil
	}
	if err := writeFileAtomic(filepath.Join(u.dir, name+".hcl"), []byte(content), 0o644); err != nil {
		return &AgentError{Agent: name, Op: "write config", Err: err}
	}
	return nil
}

// nomadTmp prepares a fresh StateDir/tmp/<start> as the TMPDIR of the
// Nomad about to start: its client data and allocation directories, keyring
// and plugin sockets then live in the state directory instead of littering
// the system's temp directory (Nomad leaves empty directories behind; Down
// removes them), and Down can tell this Nomad's allocation directories from
// any an earlier, killed one left. It returns "" (the system's temp
// directory) when the path would be too long for unix socket names.
func (u *upper) nomadTmp() string {
	root := filepath.Join(u.dir, "tmp")
	pruneEmptyDirs(root) // what earlier runs left, if empty
	tmp := filepath.Join(root, strconv.FormatInt(time.Now().UnixNano(), 36))
	if len(tmp) > maxTmpLen {
		u.log.Debug("state directory path too long for plugin sockets: Nomad uses the system temp directory", "path", tmp)
		return ""
	}
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		u.log.Warn("Nomad uses the system temp directory", "err", err)
		return ""
	}
	return tmp
}

// maxTmpLen leaves room in a unix socket path (108 bytes on Linux, 104 on
// macOS) for go-plugin's "/plugin<digits>" socket names.
const maxTmpLen = 80

// start starts agent name unless it runs already.
func (u *upper) start(name string, args []string, extraEnv ...string) error {
	if _, ok := u.running[name]; ok {
		return nil
	}
	c, err := startAgent(u.dir, name, u.bins[name], args, agentEnv(name, os.Environ(), extraEnv...))
	if err != nil {
		return &AgentError{Agent: name, Op: "start " + u.bins[name], LogFile: logPath(u.dir, name), Err: err}
	}
	if u.children == nil {
		u.children = map[string]*child{}
	}
	u.children[name] = c
	u.started = append(u.started, name)
	u.log.Info("agent started", "agent", name, "binary", u.bins[name], "pid", c.cmd.Process.Pid, "log", logPath(u.dir, name))
	return nil
}

// wait polls agent name's health. A child of this call that fails is
// killed and its pid file removed.
func (u *upper) wait(ctx context.Context, name string, full bool) error {
	var gone func() error
	if c, ok := u.children[name]; ok {
		gone = c.exited
	} else {
		pid := u.running[name]
		gone = func() error {
			if !alive(pid) {
				return errors.New("pid " + strconv.Itoa(pid) + " exited")
			}
			return nil
		}
	}
	u.log.Info("waiting for agent", "agent", name, "timeout", u.timeout)
	err := poll(ctx, u.timeout, healthCheck(u.client(), name, u.ports, full), gone)
	if err == nil {
		u.log.Info("agent healthy", "agent", name)
		return nil
	}
	if c, ok := u.children[name]; ok {
		c.kill()
		_ = removePid(u.dir, name)
	}
	return &AgentError{Agent: name, Op: "wait for health", LogFile: logPath(u.dir, name), Err: err}
}

package devenv

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Agent names, as used in Options.Bin, AgentStatus.Name, log and pid file
// names. "vault" stands for Vault or OpenBao, whichever binary is used.
const (
	Nomad  = "nomad"
	Consul = "consul"
	Vault  = "vault"
)

// startOrder is the order Up starts agents in: Nomad needs the other two.
// Down stops them in the reverse order.
var startOrder = []string{Vault, Consul, Nomad}

// DefaultTimeout bounds the wait for each agent's health checks when
// Options.Timeout is zero.
const DefaultTimeout = 2 * time.Minute

// Options configures Up.
type Options struct {
	// StateDir holds configs, logs, pid files and the root token.
	// Empty means DefaultStateDir().
	StateDir string
	// Ports of the agents' listeners; zero fields take DefaultPorts' value.
	Ports Ports
	// Bin maps an agent name (Nomad, Consul, Vault) to an explicit binary
	// path; agents not listed are looked up on PATH. For Vault, "vault" is
	// preferred over "bao" when both are on PATH.
	Bin map[string]string
	// Logger receives progress; nil discards it.
	Logger *slog.Logger
	// LookPath finds binaries; nil means exec.LookPath.
	LookPath func(string) (string, error)
	// Docker enables Nomad's docker driver when dockerd answers on
	// DOCKER_HOST (or /var/run/docker.sock). Without it, or when dockerd
	// does not answer, the docker driver is denied so that this agent
	// leaves the machine's containers alone.
	Docker bool
	// Timeout bounds the health wait of each agent; zero means
	// DefaultTimeout.
	Timeout time.Duration
}

// Ports are the TCP (and, for serf and DNS, UDP) ports the agents listen on,
// all on 127.0.0.1. Vault's cluster listener takes VaultHTTP+1, as Vault's
// dev mode derives it.
type Ports struct {
	NomadHTTP, NomadRPC, NomadSerf int

	ConsulHTTP    int
	ConsulGRPC    int // plaintext gRPC (xDS), what Nomad's consul.grpc_address uses
	ConsulDNS     int
	ConsulServer  int // server RPC
	ConsulSerfLAN int
	ConsulSerfWAN int

	VaultHTTP int
}

// DefaultPorts returns the agents' standard ports.
func DefaultPorts() Ports {
	return Ports{
		NomadHTTP: 4646, NomadRPC: 4647, NomadSerf: 4648,
		ConsulHTTP: 8500, ConsulGRPC: 8502, ConsulDNS: 8600,
		ConsulServer: 8300, ConsulSerfLAN: 8301, ConsulSerfWAN: 8302,
		VaultHTTP: 8200,
	}
}

// portUse is one listener of an agent.
type portUse struct {
	field string // Ports field name, for error messages
	port  int
	udp   bool // also listens on UDP
}

// listeners returns the listeners of agent name.
func (p Ports) listeners(name string) []portUse {
	switch name {
	case Nomad:
		return []portUse{{"NomadHTTP", p.NomadHTTP, false}, {"NomadRPC", p.NomadRPC, false}, {"NomadSerf", p.NomadSerf, true}}
	case Consul:
		return []portUse{
			{"ConsulHTTP", p.ConsulHTTP, false}, {"ConsulGRPC", p.ConsulGRPC, false}, {"ConsulDNS", p.ConsulDNS, true},
			{"ConsulServer", p.ConsulServer, false}, {"ConsulSerfLAN", p.ConsulSerfLAN, true}, {"ConsulSerfWAN", p.ConsulSerfWAN, true},
		}
	case Vault:
		return []portUse{{"VaultHTTP", p.VaultHTTP, false}, {"VaultHTTP+1 (cluster)", p.VaultHTTP + 1, false}}
	}
	return nil
}

// withDefaults fills zero fields from DefaultPorts.
func (p Ports) withDefaults() Ports {
	d := DefaultPorts()
	for _, f := range []struct{ v, def *int }{
		{&p.NomadHTTP, &d.NomadHTTP}, {&p.NomadRPC, &d.NomadRPC}, {&p.NomadSerf, &d.NomadSerf},
		{&p.ConsulHTTP, &d.ConsulHTTP}, {&p.ConsulGRPC, &d.ConsulGRPC}, {&p.ConsulDNS, &d.ConsulDNS},
		{&p.ConsulServer, &d.ConsulServer}, {&p.ConsulSerfLAN, &d.ConsulSerfLAN}, {&p.ConsulSerfWAN, &d.ConsulSerfWAN},
		{&p.VaultHTTP, &d.VaultHTTP},
	} {
		if *f.v == 0 {
			*f.v = *f.def
		}
	}
	return p
}

// validate checks that every port is in range and used once.
func (p Ports) validate() error {
	seen := map[int]string{}
	var errs []error
	for _, name := range startOrder {
		for _, l := range p.listeners(name) {
			if l.port < 1 || l.port > 65535 {
				errs = append(errs, fmt.Errorf("port %s = %d is out of range", l.field, l.port))
				continue
			}
			if other, dup := seen[l.port]; dup {
				errs = append(errs, fmt.Errorf("port %d is given to both %s and %s", l.port, other, l.field))
				continue
			}
			seen[l.port] = l.field
		}
	}
	return errors.Join(errs...)
}

// Env describes a running dev environment.
type Env struct {
	NomadAddr  string // http://127.0.0.1:<NomadHTTP>
	ConsulAddr string // http://127.0.0.1:<ConsulHTTP>
	VaultAddr  string // http://127.0.0.1:<VaultHTTP>
	// VaultToken is the dev server's root token. It is a secret of this
	// local dev environment only.
	VaultToken string
	StateDir   string
	Ports      Ports
	// Binaries maps each agent name to the binary it runs.
	Binaries map[string]string
	// Started lists the agents this call started, in start order; agents
	// that were already running from StateDir are not in it.
	Started []string
}

// Exports returns shell lines that point the Nomad, Consul and Vault CLIs
// (and drover) at this environment, in a fixed order, the root token
// included.
func (e Env) Exports() []string {
	vars := []struct{ k, v string }{
		{"NOMAD_ADDR", e.NomadAddr},
		{"CONSUL_HTTP_ADDR", e.ConsulAddr},
		{"VAULT_ADDR", e.VaultAddr},
		{"VAULT_TOKEN", e.VaultToken},
	}
	lines := make([]string, 0, len(vars))
	for _, kv := range vars {
		lines = append(lines, "export "+kv.k+"="+shellQuote(kv.v))
	}
	return lines
}

// shellQuote quotes s for POSIX shells when it holds anything but plainly
// safe characters.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-./:@%+=,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// DefaultStateDir returns $XDG_STATE_HOME/drover/dev, or
// ~/.local/state/drover/dev when XDG_STATE_HOME is unset or not absolute
// (as the XDG base directory specification asks).
func DefaultStateDir() (string, error) {
	if x := os.Getenv("XDG_STATE_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "drover", "dev"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("devenv: default state directory: %w", err)
	}
	return filepath.Join(home, ".local", "state", "drover", "dev"), nil
}

// httpAddr is the base URL of a listener on 127.0.0.1.
func httpAddr(port int) string { return "http://" + hostPort(port) }

func hostPort(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// newEnv returns the Env of the given ports and state.
func newEnv(stateDir string, p Ports, token string, bins map[string]string) *Env {
	return &Env{
		NomadAddr:  httpAddr(p.NomadHTTP),
		ConsulAddr: httpAddr(p.ConsulHTTP),
		VaultAddr:  httpAddr(p.VaultHTTP),
		VaultToken: token,
		StateDir:   stateDir,
		Ports:      p,
		Binaries:   bins,
	}
}

package devenv

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeBinDir puts links named nomad, consul and vault to the test binary
// (which then acts as those agents, see TestMain) first on PATH, and
// returns their directory.
func fakeBinDir(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"nomad", "consul", "vault"} {
		if err := os.Symlink(self, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir+string(filepath.ListSeparator)+os.Getenv("PATH"))
	return dir
}

// freePorts returns ports that are free on 127.0.0.1 right now, VaultHTTP+1
// included.
func freePorts(t *testing.T) Ports {
	t.Helper()
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	take := func() int {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, l)
		return l.Addr().(*net.TCPAddr).Port
	}
	var p Ports
	for _, f := range []*int{&p.NomadHTTP, &p.NomadRPC, &p.NomadSerf, &p.ConsulHTTP, &p.ConsulGRPC, &p.ConsulDNS, &p.ConsulServer, &p.ConsulSerfLAN, &p.ConsulSerfWAN} {
		*f = take()
	}
	for p.VaultHTTP == 0 {
		v := take()
		if l, err := net.Listen("tcp", hostPort(v+1)); err == nil {
			held = append(held, l)
			p.VaultHTTP = v
		}
	}
	return p
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// cleanupStop stops whatever is left of dir's agents when the test ends.
func cleanupStop(t *testing.T, dir string) {
	t.Cleanup(func() {
		if err := Stop(context.Background(), StopOptions{StateDir: dir, Grace: 2 * time.Second}); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
}

func fakeEnvOf(t *testing.T, addr string) []string {
	t.Helper()
	var env []string
	if err := getJSON(t.Context(), http.DefaultClient, addr+"/fake/env", &env); err != nil {
		t.Fatal(err)
	}
	return env
}

func TestUpStatusDown(t *testing.T) {
	bin := fakeBinDir(t)
	dir := filepath.Join(t.TempDir(), "state")
	ports := freePorts(t)
	// variables that must not reach the agents
	t.Setenv("AWS_CA_BUNDLE", "/etc/ssl/ca.pem")
	t.Setenv("VAULT_TOKEN", "outer-token")
	t.Setenv("NOMAD_ADDR", "http://elsewhere:4646")
	opts := Options{StateDir: dir, Ports: ports, Logger: testLogger(t), Timeout: 30 * time.Second}

	env, err := Up(t.Context(), opts)
	cleanupStop(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{Vault, Consul, Nomad}, env.Started); diff != "" {
		t.Errorf("Started (-want +got):\n%s", diff)
	}
	if env.NomadAddr != httpAddr(ports.NomadHTTP) || env.ConsulAddr != httpAddr(ports.ConsulHTTP) || env.VaultAddr != httpAddr(ports.VaultHTTP) {
		t.Errorf("addresses %+v do not match ports %+v", env, ports)
	}
	if env.VaultToken == "" || env.VaultToken != readToken(dir) {
		t.Errorf("VaultToken %q is not the one in %s", env.VaultToken, tokenFile)
	}
	for _, name := range []string{Nomad, Consul, Vault} {
		if env.Binaries[name] != filepath.Join(bin, name) {
			t.Errorf("binary of %s = %s", name, env.Binaries[name])
		}
		fi, err := os.Stat(logPath(dir, name))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("log of %s: %v, %v (want mode 0600)", name, fi, err)
		}
	}

	// The agents got their settings and not the caller's cluster variables.
	vaultEnv := fakeEnvOf(t, env.VaultAddr)
	if !slices.Contains(vaultEnv, "VAULT_DEV_ROOT_TOKEN_ID="+env.VaultToken) || slices.Contains(vaultEnv, "VAULT_TOKEN=outer-token") {
		t.Errorf("vault env: %q", vaultEnv)
	}
	nomadEnv := fakeEnvOf(t, env.NomadAddr)
	if st, err := readState(dir); err != nil || !strings.HasPrefix(st.NomadTmp, filepath.Join(dir, "tmp")+"/") ||
		!slices.Contains(nomadEnv, "TMPDIR="+st.NomadTmp) {
		t.Errorf("nomad TMPDIR: state %+v (%v), env %q", st, err, nomadEnv)
	}
	for _, kv := range nomadEnv {
		if strings.HasPrefix(kv, "AWS_CA_BUNDLE=") || strings.HasPrefix(kv, "NOMAD_ADDR=") || strings.HasPrefix(kv, "VAULT_TOKEN=") {
			t.Errorf("nomad got %s", kv)
		}
		if v, ok := strings.CutPrefix(kv, "PATH="); ok && !strings.HasPrefix(v, bin+":") {
			t.Errorf("nomad PATH %s does not start with Consul's directory", v)
		}
	}

	// Vault was configured through the API, with the generated token.
	vc := &vaultClient{addr: env.VaultAddr, token: env.VaultToken, http: http.DefaultClient}
	var role struct {
		Data struct {
			RoleType       string   `json:"role_type"`
			TokenPolicies  []string `json:"token_policies"`
			BoundAudiences string   `json:"bound_audiences"`
		}
	}
	if err := vc.do(t.Context(), http.MethodGet, "auth/jwt-nomad/role/nomad-workloads", nil, &role); err != nil {
		t.Fatal(err)
	}
	if role.Data.RoleType != "jwt" || role.Data.BoundAudiences != "vault.io" || !slices.Equal(role.Data.TokenPolicies, []string{"nomad-workloads"}) {
		t.Errorf("role = %+v", role.Data)
	}
	var cfg struct {
		Data struct {
			JWKSURL string `json:"jwks_url"`
		}
	}
	if err := vc.do(t.Context(), http.MethodGet, "auth/jwt-nomad/config", nil, &cfg); err != nil {
		t.Fatal(err)
	}
	if want := env.NomadAddr + "/.well-known/jwks.json"; cfg.Data.JWKSURL != want {
		t.Errorf("jwks_url = %s, want %s", cfg.Data.JWKSURL, want)
	}

	st, err := Status(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{Nomad, Consul, Vault} {
		s := st[i]
		if s.Name != name || !s.Running || !s.Healthy || s.PID == 0 || s.Binary != filepath.Join(bin, name) {
			t.Errorf("status[%d] = %+v", i, s)
		}
	}

	// Up again: everything is left alone.
	again, err := Up(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Started) != 0 || again.VaultToken != env.VaultToken {
		t.Errorf("second Up started %v with token %q", again.Started, again.VaultToken)
	}
	st2, _ := Status(t.Context(), dir)
	for i := range st2 {
		if st2[i].PID != st[i].PID {
			t.Errorf("%s restarted: pid %d -> %d", st[i].Name, st[i].PID, st2[i].PID)
		}
	}

	// Up with other ports from the same state directory is refused.
	moved := opts
	moved.Ports.NomadHTTP = freePorts(t).NomadHTTP
	var ae *AgentError
	if _, err := Up(t.Context(), moved); !errors.As(err, &ae) || !strings.Contains(err.Error(), "other ports") {
		t.Errorf("Up with moved ports: %v", err)
	}

	http.DefaultClient.CloseIdleConnections()
	if err := Stop(t.Context(), StopOptions{StateDir: dir, Logger: testLogger(t), Grace: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{Nomad, Consul, Vault} {
		if _, err := os.Stat(pidPath(dir, name)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s pid file left: %v", name, err)
		}
		if alive(st[i].PID) {
			t.Errorf("%s (pid %d) still alive", name, st[i].PID)
		}
	}
	// Nothing answers on the agents' HTTP ports any more (a leaked child
	// would keep its listener and accept). A dial, not a listen: the ports
	// are in the ephemeral range, so once free any outgoing connection on
	// the machine may be bound to one, which makes a listen fail although
	// nothing listens.
	for name, port := range map[string]int{Nomad: ports.NomadHTTP, Consul: ports.ConsulHTTP, Vault: ports.VaultHTTP} {
		if c, err := net.DialTimeout("tcp", hostPort(port), 2*time.Second); err == nil {
			c.Close()
			t.Errorf("%s HTTP port %d still answers after Down", name, port)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "tmp")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Nomad's empty TMPDIR left after Down: %v", err)
	}
	st3, err := Status(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st3 {
		if s.Running || s.Healthy || s.PID != 0 {
			t.Errorf("after Down: %+v", s)
		}
	}
	// Down again: nothing to do, no error.
	if err := Down(t.Context(), dir); err != nil {
		t.Errorf("second Down: %v", err)
	}
}

func TestUpStopsAnAgentThatExits(t *testing.T) {
	fakeBinDir(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, fakeBehaviourFile), []byte("nomad=fail\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := Up(t.Context(), Options{StateDir: dir, Ports: freePorts(t), Logger: testLogger(t), Timeout: time.Minute})
	cleanupStop(t, dir)
	var ae *AgentError
	if !errors.As(err, &ae) || ae.Agent != Nomad || ae.LogFile != logPath(dir, Nomad) || !strings.Contains(err.Error(), "exit status 1") {
		t.Fatalf("err = %v, want an *AgentError for nomad exiting", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %v: the exit should be noticed long before the timeout", d)
	}
	if log, _ := os.ReadFile(logPath(dir, Nomad)); !strings.Contains(string(log), "failing on purpose") {
		t.Errorf("nomad log lacks the agent's output:\n%s", log)
	}
	if _, err := os.Stat(pidPath(dir, Nomad)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("pid file of the failed agent left behind: %v", err)
	}
	st, err := Status(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if st[0].Running || !st[1].Running || !st[2].Running {
		t.Errorf("status: %+v (want consul and vault still up for the next Up or Down)", st)
	}
}

func TestUpRefusesATakenPort(t *testing.T) {
	fakeBinDir(t)
	dir := t.TempDir()
	ports := freePorts(t)
	l, err := net.Listen("tcp", hostPort(ports.ConsulGRPC))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, err = Up(t.Context(), Options{StateDir: dir, Ports: ports, Timeout: 10 * time.Second})
	cleanupStop(t, dir)
	var pe *PortInUseError
	if !errors.As(err, &pe) || pe.Port != ports.ConsulGRPC || pe.Agent != Consul || pe.Field != "ConsulGRPC" {
		t.Fatalf("err = %v, want *PortInUseError for ConsulGRPC %d", err, ports.ConsulGRPC)
	}
	for _, name := range []string{Nomad, Consul, Vault} {
		if _, err := os.Stat(pidPath(dir, name)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s was started although a port was taken", name)
		}
	}
}

func TestUpReportsMissingBinaries(t *testing.T) {
	_, err := Up(t.Context(), Options{StateDir: t.TempDir(), LookPath: fakeLookPath("consul")})
	var me *MissingBinariesError
	if !errors.As(err, &me) || !slices.Equal(me.Missing, []string{"vault (or bao)", "nomad"}) {
		t.Fatalf("err = %v", err)
	}
}

func TestStopKillsAfterGrace(t *testing.T) {
	fakeBinDir(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, fakeBehaviourFile), []byte("consul=ignore-int\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Up(t.Context(), Options{StateDir: dir, Ports: freePorts(t), Timeout: 30 * time.Second}); err != nil {
		t.Fatal(err)
	}
	cleanupStop(t, dir)
	st, _ := Status(t.Context(), dir)
	start := time.Now()
	if err := Stop(t.Context(), StopOptions{StateDir: dir, Logger: testLogger(t), Grace: 500 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if alive(s.PID) {
			t.Errorf("%s (pid %d) survived", s.Name, s.PID)
		}
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Stop took %v", d)
	}
}

// startSleeper starts the test binary as a process that is no agent; the
// channel yields its exit.
func startSleeper(t *testing.T) (*exec.Cmd, <-chan error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "sleep")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	return cmd, exited
}

func TestStopLeavesAForeignPidAlone(t *testing.T) {
	dir := t.TempDir()
	if err := writeState(dir, &state{Ports: DefaultPorts(), Binaries: map[string]string{Nomad: "/usr/local/bin/nomad"}}); err != nil {
		t.Fatal(err)
	}
	// The pid files name live processes that are not the agents: say the
	// agents died and their pids were reused.
	sleeper, exited := startSleeper(t)
	for _, name := range []string{Nomad, Consul} { // Consul: no binary recorded
		if err := writePid(dir, name, sleeper.Process.Pid); err != nil {
			t.Fatal(err)
		}
	}
	if err := Stop(t.Context(), StopOptions{StateDir: dir, Logger: testLogger(t), Grace: time.Second}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		t.Fatalf("the foreign process was signalled: %v", err)
	case <-time.After(500 * time.Millisecond):
	}
	for _, name := range []string{Nomad, Consul} {
		if _, err := os.Stat(pidPath(dir, name)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("stale %s pid file kept: %v", name, err)
		}
	}
	st, err := Status(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if st[0].Running {
		t.Errorf("a foreign pid counts as running: %+v", st[0])
	}
}

func TestStopToleratesStoppedAgents(t *testing.T) {
	dir := t.TempDir()
	sleeper := exec.Command(os.Args[0], "sleep")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	dead := sleeper.Process.Pid
	sleeper.Process.Kill()
	sleeper.Wait()
	if err := writePid(dir, Vault, dead); err != nil {
		t.Fatal(err)
	}
	if err := Down(t.Context(), dir); err != nil {
		t.Fatalf("Down with a dead pid: %v", err)
	}
	if _, err := os.Stat(pidPath(dir, Vault)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("pid file of a stopped agent kept: %v", err)
	}
	if err := Down(t.Context(), filepath.Join(dir, "never-used")); err != nil {
		t.Errorf("Down of a missing state dir: %v", err)
	}
	if _, err := Status(t.Context(), filepath.Join(dir, "never-used")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Status of a missing state dir: %v, want fs.ErrNotExist", err)
	}
}

//go:build integration

package devenv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRealAgents runs Up, Status and Down against the real nomad, consul
// and vault (or bao) binaries on PATH, on free non-default ports and in a
// temporary state directory, so that it can run beside another stack (a
// test bed on the default ports). DEVENV_TEST_DOCKER=1 also enables the
// docker driver (the dev Nomad then talks to the machine's dockerd).
func TestRealAgents(t *testing.T) {
	var missing []string
	for _, name := range startOrder {
		found := false
		for _, c := range candidates[name] {
			if _, err := exec.LookPath(c); err == nil {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, strings.Join(candidates[name], " or "))
		}
	}
	if len(missing) > 0 {
		t.Skipf("agent binaries not on PATH (%s): put nomad, consul and vault (or bao) on PATH to run this test", strings.Join(missing, ", "))
	}

	dir := t.TempDir()
	ports := freePorts(t)
	docker := os.Getenv("DEVENV_TEST_DOCKER") == "1"
	opts := Options{StateDir: dir, Ports: ports, Logger: testLogger(t), Timeout: 3 * time.Minute, Docker: docker}
	ctx := t.Context()
	t.Cleanup(func() {
		if err := Stop(context.Background(), StopOptions{StateDir: dir, Logger: testLogger(t)}); err != nil {
			t.Errorf("cleanup Stop: %v", err)
		}
	})

	start := time.Now()
	env, err := Up(ctx, opts)
	if err != nil {
		dumpLogs(t, dir)
		t.Fatalf("Up: %v", err)
	}
	t.Logf("Up took %v; binaries %v; ports %+v", time.Since(start).Round(time.Millisecond), env.Binaries, ports)
	for _, b := range env.Binaries {
		out, _ := exec.Command(b, "version").CombinedOutput()
		t.Logf("%s version: %s", b, strings.SplitN(strings.TrimSpace(string(out)), "\n", 2)[0])
	}

	st, err := Status(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		t.Logf("status: %+v", s)
		if !s.Running || !s.Healthy {
			t.Errorf("%s is not running and healthy: %+v", s.Name, s)
		}
	}

	if used, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(used) == 0 {
		t.Errorf("Nomad did not use StateDir/tmp as its TMPDIR")
	}

	hc := newHTTPClient()
	vc := &vaultClient{addr: env.VaultAddr, token: env.VaultToken, http: hc}

	// Vault: KV v2 at secret/, the JWT auth mount, its config and the whole role.
	mounts, err := vc.mounts(ctx, "sys/mounts")
	if err != nil {
		t.Fatal(err)
	}
	if m := mounts["secret/"]; m.Type != "kv" || m.Options["version"] != "2" {
		t.Errorf("secret/ = %+v, want kv v2", m)
	}
	auths, err := vc.mounts(ctx, "sys/auth")
	if err != nil {
		t.Fatal(err)
	}
	if m := auths["jwt-nomad/"]; m.Type != "jwt" {
		t.Errorf("jwt-nomad/ = %+v, want a jwt auth mount", m)
	}
	var cfg struct {
		Data struct {
			JWKSURL     string   `json:"jwks_url"`
			Algs        []string `json:"jwt_supported_algs"`
			DefaultRole string   `json:"default_role"`
		}
	}
	if err := vc.do(ctx, http.MethodGet, "auth/jwt-nomad/config", nil, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Data.JWKSURL != env.NomadAddr+"/.well-known/jwks.json" || cfg.Data.DefaultRole != "nomad-workloads" {
		t.Errorf("auth/jwt-nomad/config = %+v", cfg.Data)
	}
	var role struct{ Data map[string]any }
	if err := vc.do(ctx, http.MethodGet, "auth/jwt-nomad/role/nomad-workloads", nil, &role); err != nil {
		t.Fatal(err)
	}
	if role.Data["role_type"] != "jwt" || role.Data["user_claim"] != "/nomad_job_id" || fmt.Sprint(role.Data["bound_audiences"]) != "[vault.io]" ||
		fmt.Sprint(role.Data["token_policies"]) != "[nomad-workloads]" {
		t.Errorf("role nomad-workloads = %v", role.Data)
	}
	if err := vc.do(ctx, http.MethodGet, "sys/policies/acl/nomad-workloads", nil, nil); err != nil {
		t.Errorf("policy nomad-workloads: %v", err)
	}

	// Nomad: wired to this Consul and Vault, drivers fingerprinted.
	var self struct {
		Config struct {
			Vaults  []struct{ Addr, JWTAuthBackendPath string }
			Consuls []struct{ Addr, GRPCAddr string }
		}
	}
	if err := getJSON(ctx, hc, env.NomadAddr+"/v1/agent/self", &self); err != nil {
		t.Fatal(err)
	}
	if v := self.Config.Vaults; len(v) == 0 || v[0].Addr != env.VaultAddr {
		t.Errorf("nomad vault config = %+v, want %s", v, env.VaultAddr)
	}
	if c := self.Config.Consuls; len(c) == 0 || c[0].Addr != hostPort(ports.ConsulHTTP) || c[0].GRPCAddr != hostPort(ports.ConsulGRPC) {
		t.Errorf("nomad consul config = %+v", c)
	}
	node := nomadNode(t, env.NomadAddr)
	if node.Attributes["driver.raw_exec"] != "1" {
		t.Errorf("raw_exec not detected: %v", node.Drivers["raw_exec"])
	}
	if docker && node.Attributes["driver.docker"] != "1" {
		t.Errorf("docker requested but not detected: %v", node.Drivers["docker"])
	}
	if !docker && node.Drivers["docker"].Detected {
		t.Errorf("docker not requested but detected")
	}
	if p := detectCNI(cniCandidates); p != "" && node.Attributes["plugins.cni.version.bridge"] == "" {
		t.Errorf("CNI plugins in %s not fingerprinted", p)
	}
	t.Logf("nomad node %s: raw_exec=%q docker=%q cni bridge=%q consul.connect=%q", node.Name,
		node.Attributes["driver.raw_exec"], node.Attributes["driver.docker"], node.Attributes["plugins.cni.version.bridge"], node.Attributes["consul.connect"])

	// End to end: a job's workload identity logs in to Vault through the
	// JWT auth method and reads a KV v2 secret into a template. The job
	// keeps running: Down must stop it together with Nomad.
	var taskPids []int
	t.Run("workload identity reads a secret", func(t *testing.T) {
		if err := vc.do(ctx, http.MethodPost, "secret/data/default/devenv-wi", map[string]any{"data": map[string]string{"greeting": "hello from vault"}}, nil); err != nil {
			t.Fatal(err)
		}
		got, pids := runJob(t, hc, env.NomadAddr, "devenv-wi", true)
		taskPids = pids
		t.Logf("template rendered from Vault through workload identity: %q; task and executor pids %v", got, pids)
		if got != "hello from vault" {
			t.Errorf("template rendered %q", got)
		}
	})

	// A job purged just before Down: the servers forget its allocation at
	// once while the client is still tearing it down; Down must wait for
	// that, or the executor and the secrets mounts are left behind.
	t.Run("job purged just before Down", func(t *testing.T) {
		if err := vc.do(ctx, http.MethodPost, "secret/data/default/devenv-purged", map[string]any{"data": map[string]string{"greeting": "bye"}}, nil); err != nil {
			t.Fatal(err)
		}
		_, pids := runJob(t, hc, env.NomadAddr, "devenv-purged", true)
		taskPids = append(taskPids, pids...)
		req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, env.NomadAddr+"/v1/job/devenv-purged?purge=true", nil)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	})

	// Up again: nothing restarted.
	again, err := Up(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Started) != 0 || again.VaultToken != env.VaultToken {
		t.Errorf("second Up started %v", again.Started)
	}

	start = time.Now()
	if err := Stop(ctx, StopOptions{StateDir: dir, Logger: testLogger(t)}); err != nil {
		dumpLogs(t, dir)
		t.Fatal(err)
	}
	t.Logf("Down took %v", time.Since(start).Round(time.Millisecond))
	if left, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(left) != 0 {
		var paths []string
		filepath.WalkDir(filepath.Join(dir, "tmp"), func(p string, d fs.DirEntry, err error) error {
			paths = append(paths, p)
			return nil
		})
		t.Errorf("Nomad's TMPDIR not tidied after Down:\n%s", strings.Join(paths, "\n"))
	}
	for _, pid := range taskPids {
		if alive(pid) {
			argv, _ := cmdline(context.Background(), pid)
			t.Errorf("allocation process %d survived Down: %q", pid, argv)
		}
	}
	for _, s := range st {
		if alive(s.PID) {
			t.Errorf("%s (pid %d) survived Down", s.Name, s.PID)
		}
		if err := checkPorts(ctx, s.Name, ports); err != nil {
			t.Errorf("after Down: %v", err)
		}
	}
}

type nomadNodeInfo struct {
	Name       string
	Attributes map[string]string
	Drivers    map[string]struct {
		Detected, Healthy bool
		HealthDescription string
	}
}

func nomadNode(t *testing.T, addr string) nomadNodeInfo {
	t.Helper()
	hc := newHTTPClient()
	var nodes []struct{ ID string }
	if err := getJSON(t.Context(), hc, addr+"/v1/nodes", &nodes); err != nil || len(nodes) == 0 {
		t.Fatalf("nodes: %v %v", nodes, err)
	}
	var n nomadNodeInfo
	if err := getJSON(t.Context(), hc, addr+"/v1/node/"+nodes[0].ID, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// runJob runs the raw_exec job id and returns the pids of its task and
// of the task's Nomad executor. With secret, the task's template reads
// secret/data/default/<id> through the job's workload identity, and runJob
// also returns what it rendered.
func runJob(t *testing.T, hc *http.Client, addr, id string, secret bool) (string, []int) {
	t.Helper()
	ctx := t.Context()
	task := map[string]any{
		"Name": "t", "Driver": "raw_exec",
		"Config":    map[string]any{"command": "/bin/sh", "args": []string{"-c", "echo $$ > local/pid; exec sleep 600"}},
		"Resources": map[string]any{"CPU": 100, "MemoryMB": 64},
	}
	if secret {
		task["Vault"] = map[string]any{"ChangeMode": "noop"}
		task["Templates"] = []any{map[string]any{
			"EmbeddedTmpl": `{{ with secret "secret/data/default/` + id + `" }}{{ .Data.data.greeting }}{{ end }}`,
			"DestPath":     "local/out.txt", "ChangeMode": "noop",
		}}
	}
	job := map[string]any{"Job": map[string]any{
		"ID": id, "Name": id, "Type": "service", "Datacenters": []string{"*"},
		"TaskGroups": []any{map[string]any{"Name": "g", "Count": 1, "Tasks": []any{task}}},
	}}
	body, _ := json.Marshal(job)
	resp, err := hc.Post(addr+"/v1/jobs", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("register job: HTTP %d: %s", resp.StatusCode, msg)
	}

	cat := func(ctx context.Context, alloc, path string) (string, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, addr+"/v1/client/fs/cat/"+alloc+"?path="+path, nil)
		resp, err := hc.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("cat %s: HTTP %d: %s", path, resp.StatusCode, b)
		}
		return string(b), nil
	}
	var out, pid string
	err = poll(ctx, 2*time.Minute, func(ctx context.Context) error {
		var allocs []struct{ ID, ClientStatus string }
		if err := getJSON(ctx, hc, addr+"/v1/job/"+id+"/allocations", &allocs); err != nil {
			return err
		}
		if len(allocs) == 0 || allocs[0].ClientStatus != "running" {
			return fmt.Errorf("allocations: %+v", allocs)
		}
		var err error
		if secret {
			if out, err = cat(ctx, allocs[0].ID, "t/local/out.txt"); err != nil {
				return err
			}
		}
		pid, err = cat(ctx, allocs[0].ID, "t/local/pid")
		return err
	}, func() error { return nil })
	if err != nil {
		var allocs []map[string]any
		getJSON(ctx, hc, addr+"/v1/job/"+id+"/allocations", &allocs)
		for _, a := range allocs {
			ts, _ := json.MarshalIndent(a["TaskStates"], "", "  ")
			t.Logf("alloc %v %v: %s", a["ID"], a["ClientStatus"], ts)
		}
		t.Fatal(err)
	}
	var pids []int
	if n, err := strconv.Atoi(strings.TrimSpace(pid)); err == nil {
		pids = append(pids, n)
		if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", n)); err == nil {
			// pid (comm) state ppid ...
			if f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:])); len(f) > 1 {
				if ppid, err := strconv.Atoi(f[1]); err == nil {
					pids = append(pids, ppid)
				}
			}
		}
	}
	return out, pids
}

// dumpLogs prints the tail of each agent's log.
func dumpLogs(t *testing.T, dir string) {
	for _, name := range startOrder {
		b, err := os.ReadFile(logPath(dir, name))
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		lines = lines[max(0, len(lines)-25):]
		t.Logf("--- %s.log (tail)\n%s", name, strings.Join(lines, "\n"))
	}
}

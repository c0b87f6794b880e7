package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/internal/fakes/consulfake"
	"github.com/drover-io/drover/internal/fakes/nomadfake"
	"github.com/drover-io/drover/internal/fakes/vaultfake"
)

const clusterWebHCL = `app "web" {
  image = "r/web:1"
  count = 2

  port "http" {
    to = 3000
  }

  secret "TOKEN" {
    path = "p/web"
    key  = "token"
  }

  service {
    port = "http"
  }

  expose {
    hosts = ["web.example.com"]
  }

  update {
    max_parallel = 1
  }
}
`

// fakeCluster is a project directory, the three fakes, and the global
// flags that point drover at them.
type fakeCluster struct {
	dir    string
	nomad  *nomadfake.Server
	consul *consulfake.Server
	vault  *vaultfake.Server
	env    []string
	// ctx, when set, replaces run's ten-second timeout.
	ctx context.Context
	// stdin is what drover reads; inTTY and errTTY say whether stdin and
	// stderr are terminals.
	stdin         string
	inTTY, errTTY bool
}

func newFakeCluster(t *testing.T, autoSucceed bool) *fakeCluster {
	t.Helper()
	f := &fakeCluster{dir: t.TempDir(), nomad: nomadfake.New(t), consul: consulfake.New(t), vault: vaultfake.New(t)}
	f.nomad.AutoSucceed = autoSucceed
	f.write(t, "drover.hcl", "project \"p\" {\n  datacenters = [\"dc1\"]\n}\n")
	f.write(t, "web.hcl", clusterWebHCL)
	// An empty config file, so that no ~/.config/drover/config.hcl leaks in.
	cfg := filepath.Join(t.TempDir(), "config.hcl")
	f.write(t, cfg, "")
	f.env = []string{"DROVER_CONFIG=" + cfg}
	return f
}

func (f *fakeCluster) write(t *testing.T, name, data string) {
	t.Helper()
	if !filepath.IsAbs(name) {
		name = filepath.Join(f.dir, name)
	}
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// run runs drover against the fakes, with the Vault token given (the
// right one when empty), and gives up after ten seconds.
func (f *fakeCluster) run(t *testing.T, vaultToken string, args ...string) result {
	t.Helper()
	if vaultToken == "" {
		vaultToken = vaultfake.RootToken
	}
	args = append(args,
		"--nomad-addr", f.nomad.URL(), "--consul-addr", f.consul.URL(),
		"--vault-addr", f.vault.URL(), "--vault-token", vaultToken)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if f.ctx != nil {
		ctx = f.ctx
	}
	var out, errOut bytes.Buffer
	stdio := IO{
		In: strings.NewReader(f.stdin), Out: &out, Err: &errOut,
		Getenv:     func(k string) string { return lookup(f.env, k) },
		Environ:    func() []string { return f.env },
		IsTerminal: f.errTTY, InIsTerminal: f.inTTY,
	}
	code := Main(ctx, append([]string{"drover"}, args...), stdio)
	return result{code, out.String(), errOut.String()}
}

func TestClusterCommandsExitCodes(t *testing.T) {
	f := newFakeCluster(t, true)
	steps := []struct {
		name   string
		args   []string
		want   ExitCode
		stdout string
	}{
		{"plan with changes", []string{"plan", f.dir}, ExitChanges, "Plan: 7 to create, 0 to change, 0 to remove, 0 unchanged."},
		{"secrets check with a missing secret", []string{"secrets", "check", f.dir}, ExitError, "missing-secret"},
		{"deploy", []string{"deploy", f.dir}, ExitOK, "web: successful"},
		{"plan without changes", []string{"plan", f.dir}, ExitOK, "No changes"},
		{"status", []string{"status", f.dir}, ExitOK, "web.example.com"},
		{"scale within bounds", []string{"scale", "web", "3"}, ExitOK, "Scaled web group web from 2 to 3."},
		{"plan sees the scaled count", []string{"plan", f.dir}, ExitChanges, "~ job web"},
		{"redeploy", []string{"deploy", f.dir}, ExitOK, "web: successful"},
		{"redeploy without changes", []string{"deploy", f.dir}, ExitOK, ""},
	}
	for _, s := range steps {
		r := f.run(t, "", s.args...)
		if r.code != s.want {
			t.Errorf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", s.name, r.code, s.want, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stdout, s.stdout) {
			t.Errorf("%s: stdout lacks %q:\n%s", s.name, s.stdout, r.stdout)
		}
	}
	if n := len(f.nomad.Writes()) + len(f.consul.Writes()) + len(f.vault.Writes()); n == 0 {
		t.Error("nothing reached the fakes: were the address flags ignored?")
	}
}

func TestClusterPlanJSON(t *testing.T) {
	f := newFakeCluster(t, true)
	r := f.run(t, "", "plan", f.dir, "--json")
	if r.code != ExitChanges {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var plan struct {
		Project string
		Changes []struct{ System, Kind, Name, Action string }
		Summary struct{ Create int }
	}
	if err := json.Unmarshal([]byte(r.stdout), &plan); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, r.stdout)
	}
	if plan.Project != "p" || plan.Summary.Create != 7 || len(plan.Changes) != 7 {
		t.Errorf("plan = %+v", plan)
	}
}

func TestClusterErrorsExit1(t *testing.T) {
	t.Run("wrong vault token", func(t *testing.T) {
		const token = "hvs.this-token-is-wrong"
		f := newFakeCluster(t, true)
		for _, cmd := range []string{"plan", "deploy"} {
			r := f.run(t, token, cmd, f.dir)
			if r.code != ExitError {
				t.Errorf("%s: exit %d, want 1", cmd, r.code)
			}
			if !strings.Contains(r.stderr, "vault:") || !strings.Contains(r.stderr, "permission denied") {
				t.Errorf("%s: stderr should name vault and the refusal:\n%s", cmd, r.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, token) {
				t.Errorf("%s: the token is printed", cmd)
			}
		}
		if w := len(f.nomad.Writes()) + len(f.consul.Writes()) + len(f.vault.Writes()); w != 0 {
			t.Errorf("%d writes", w)
		}
	})

	t.Run("object not managed by drover", func(t *testing.T) {
		f := newFakeCluster(t, true)
		f.vault.PutPolicy("drover-web", "path \"secret/data/x\" {\n  capabilities = [\"read\"]\n}\n")
		r := f.run(t, "", "plan", f.dir)
		if r.code != ExitError || !strings.Contains(r.stderr, `vault policy "drover-web"`) || !strings.Contains(r.stderr, "--adopt") {
			t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
		if r := f.run(t, "", "plan", f.dir, "--adopt"); r.code != ExitChanges {
			t.Errorf("plan --adopt: exit %d, want 2\n%s", r.code, r.stderr)
		}
	})

	t.Run("scale of an app the specs lack", func(t *testing.T) {
		f := newFakeCluster(t, true)
		if r := f.run(t, "", "scale", "nope", "3", f.dir); r.code != ExitError || !strings.Contains(r.stderr, `the specs have no app "nope"`) {
			t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
	})

	t.Run("scale of an app never deployed", func(t *testing.T) {
		f := newFakeCluster(t, true)
		if r := f.run(t, "", "scale", "web", "3"); r.code != ExitError || !strings.Contains(r.stderr, "deploy it first") {
			t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
	})
}

func TestClusterDeployFailedDeploymentExits1(t *testing.T) {
	f := newFakeCluster(t, false)
	done := make(chan result, 1)
	go func() { done <- f.run(t, "", "deploy", f.dir) }()

	// Wait, with blocking queries on the fake, for both deployments; then
	// the gateway's succeeds and web's fails, as Nomad fails a deployment
	// whose allocations are unhealthy.
	nc := f.nomad.Client()
	for _, job := range []string{"p-ingress", "web"} {
		var index uint64
		for {
			d, meta, err := nc.Jobs().LatestDeployment(job, &nomadapi.QueryOptions{WaitIndex: index, WaitTime: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if d != nil {
				break
			}
			if meta.LastIndex == index {
				t.Fatalf("%s's deployment never started", job)
			}
			index = meta.LastIndex
		}
	}
	f.nomad.CompleteDeployment("p-ingress")
	f.nomad.FailDeployment("web", "", nil)

	r := <-done
	if r.code != ExitError {
		t.Errorf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "web: failed") || !strings.Contains(r.stderr, "deployment of web did not succeed") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}

	// A CI retry writes nothing, but must not go green while web's
	// deployment is failed.
	writes := len(f.nomad.Writes())
	r = f.run(t, "", "deploy", f.dir)
	if r.code != ExitError || !strings.Contains(r.stdout, "web: failed") {
		t.Errorf("redeploy after a failed deployment: exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if w := len(f.nomad.Writes()); w != writes {
		t.Errorf("the redeploy wrote %d time(s) to Nomad", w-writes)
	}
}

// run2 runs drover with exactly the given arguments (no fake addresses
// appended) and gives up after ten seconds.
func (f *fakeCluster) run2(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	stdio := IO{
		In: strings.NewReader(f.stdin), Out: &out, Err: &errOut,
		Getenv:  func(k string) string { return lookup(f.env, k) },
		Environ: func() []string { return f.env },
	}
	code := Main(ctx, append([]string{"drover"}, args...), stdio)
	return result{code, out.String(), errOut.String()}
}

// closedAddr is an address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + l.Addr().String()
	l.Close()
	return addr
}

func TestClusterUnreachableSystemIsOneClearLine(t *testing.T) {
	f := newFakeCluster(t, true)
	dead := closedAddr(t)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"nomad from a flag", []string{"status", f.dir, "--nomad-addr", dead, "--consul-addr", f.consul.URL()},
			"drover: cannot reach Nomad at " + dead + " (flag --nomad-addr): connection refused"},
		{"vault from its variable", []string{"secrets", "check", f.dir}, "drover: cannot reach Vault at " + dead + " (VAULT_ADDR): connection refused"},
	}
	f.env = append(f.env, "VAULT_ADDR="+dead, "VAULT_TOKEN=x")
	for _, tc := range cases {
		r := f.run2(t, tc.args...)
		if r.code != ExitError {
			t.Errorf("%s: exit %d, want 1", tc.name, r.code)
		}
		if got := strings.TrimSpace(r.stderr); got != tc.want {
			t.Errorf("%s: stderr\n%s\nwant the one line\n%s", tc.name, got, tc.want)
		}
	}
}

func TestClusterSomethingElseAtTheAddressIsNotNotDeployed(t *testing.T) {
	f := newFakeCluster(t, true)
	web := httptest.NewServer(http.NotFoundHandler())
	defer web.Close()
	r := f.run2(t, "status", f.dir, "--nomad-addr", web.URL, "--consul-addr", f.consul.URL())
	if r.code != ExitError || !strings.Contains(r.stderr, "something answered, but not as Nomad does (HTTP 404)") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout, "not deployed") {
		t.Errorf("a 404 from a web server reads as not deployed:\n%s", r.stdout)
	}
}

func TestClusterTimeoutBoundsASilentServer(t *testing.T) {
	f := newFakeCluster(t, true)
	// A server that accepts connections and never answers.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	r := f.run2(t, "status", f.dir, "--timeout", "300ms", "--nomad-addr", "http://"+l.Addr().String(), "--consul-addr", f.consul.URL())
	if r.code != ExitError || !strings.Contains(r.stderr, "gave up after 300ms (--timeout) while reading the status") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

func TestClusterScaleContactsOnlyNomad(t *testing.T) {
	f := newFakeCluster(t, true)
	if r := f.run(t, "", "deploy", f.dir); r.code != ExitOK {
		t.Fatalf("deploy: exit %d\n%s", r.code, r.stderr)
	}
	dead := closedAddr(t)
	r := f.run2(t, "scale", "web", "3", f.dir, "--nomad-addr", f.nomad.URL(), "--consul-addr", dead, "--vault-addr", dead)
	if r.code != ExitOK {
		t.Errorf("scale with Consul and Vault down: exit %d\n%s", r.code, r.stderr)
	}
}

func TestClusterDestroy(t *testing.T) {
	f := newFakeCluster(t, true)
	if r := f.run(t, "", "deploy", f.dir); r.code != ExitOK {
		t.Fatalf("deploy: exit %d\n%s", r.code, r.stderr)
	}
	web := filepath.Join(f.dir, "web.hcl")
	if r := f.run(t, "", "destroy", web); r.code != ExitUsage || !strings.Contains(r.stderr, "pass --yes") {
		t.Errorf("destroy without --yes on a non-terminal: exit %d\n%s", r.code, r.stderr)
	}
	if j := f.nomad.Job("web"); *j.Stop {
		t.Fatal("web was stopped without confirmation")
	}
	r := f.run(t, "", "destroy", web, "--yes", "--json")
	if r.code != ExitOK {
		t.Fatalf("destroy --yes: exit %d\n%s", r.code, r.stderr)
	}
	var out struct{ Applied []string }
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, r.stdout)
	}
	if !slices.Contains(out.Applied, "nomad nomad-job web") || !slices.Contains(out.Applied, "vault vault-policy drover-web") {
		t.Errorf("applied = %v", out.Applied)
	}
	if j := f.nomad.Job("web"); !*j.Stop {
		t.Error("web is still running")
	}
}

// TestClusterJSONDocuments: status and secrets check print their small
// documented documents, never the parsed specs.
func TestClusterJSONDocuments(t *testing.T) {
	f := newFakeCluster(t, true)
	if r := f.run(t, "", "deploy", f.dir); r.code != ExitOK {
		t.Fatalf("deploy: exit %d\n%s", r.code, r.stderr)
	}
	for _, c := range []struct {
		args []string
		code ExitCode
		keys string
	}{
		{[]string{"status", f.dir, "--json"}, ExitOK, "apps"},
		{[]string{"secrets", "check", f.dir, "--json"}, ExitError, "checks error problems"},
	} {
		r := f.run(t, "", c.args...)
		var doc map[string]json.RawMessage
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != c.code {
			t.Errorf("%v: exit %d, %v\n%s", c.args, r.code, err, r.stdout)
			continue
		}
		keys := slices.Sorted(maps.Keys(doc))
		if strings.Join(keys, " ") != c.keys || len(r.stdout) > 2048 {
			t.Errorf("%v: keys %v, %d bytes, want keys %q and a small document:\n%.2000s", c.args, keys, len(r.stdout), c.keys, r.stdout)
		}
	}
	r := f.run(t, "", "secrets", "check", f.dir, "--json")
	if !strings.Contains(r.stdout, `"kind": "secrets_missing"`) || !strings.Contains(r.stdout, `"status": "missing-secret"`) {
		t.Errorf("secrets check --json with a missing secret:\n%s", r.stdout)
	}
}

// TestClusterDeployJSONFailure: a failed deploy --json prints its document
// with the error member, and exits 1.
func TestClusterDeployJSONFailure(t *testing.T) {
	f := newFakeCluster(t, true)
	r := f.run(t, "hvs.wrong", "deploy", f.dir, "--json")
	var doc struct {
		Error *struct{ Message, Kind string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != ExitError || doc.Error == nil || doc.Error.Kind != "error" || !strings.Contains(doc.Error.Message, "permission denied") {
		t.Errorf("exit %d, %v, stdout:\n%s", r.code, err, r.stdout)
	}
	if r := f.run(t, "hvs.wrong", "plan", f.dir, "--json"); r.code != ExitError || !strings.Contains(r.stdout, `"error": {`) {
		t.Errorf("plan --json with a wrong token: exit %d, stdout:\n%s", r.code, r.stdout)
	}
}

// TestClusterDestroyAsksOnlyOnATerminalStdin: the guard tests stdin, not
// stderr.
func TestClusterDestroyAsksOnlyOnATerminalStdin(t *testing.T) {
	f := newFakeCluster(t, true)
	if r := f.run(t, "", "deploy", f.dir); r.code != ExitOK {
		t.Fatalf("deploy: exit %d\n%s", r.code, r.stderr)
	}
	web := filepath.Join(f.dir, "web.hcl")
	f.errTTY, f.inTTY = true, false
	if r := f.run(t, "", "destroy", web); r.code != ExitUsage || !strings.Contains(r.stderr, "pass --yes") {
		t.Errorf("stdin not a terminal, stderr one: exit %d\n%s", r.code, r.stderr)
	}
	f.errTTY, f.inTTY, f.stdin = false, true, "no\n"
	if r := f.run(t, "", "destroy", web); r.code != ExitOK || !strings.Contains(r.stderr, "Destroy these objects?") || !strings.Contains(r.stderr, "Cancelled") {
		t.Errorf("stdin a terminal, stderr not: exit %d\n%s", r.code, r.stderr)
	}
	if j := f.nomad.Job("web"); *j.Stop {
		t.Error("web was stopped without confirmation")
	}
}

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type result struct {
	code           ExitCode
	stdout, stderr string
}

func run(t *testing.T, env []string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	stdio := IO{
		In: strings.NewReader(""), Out: &out, Err: &errOut,
		Getenv:  func(k string) string { return lookup(env, k) },
		Environ: func() []string { return env },
	}
	code := Main(context.Background(), append([]string{"drover"}, args...), stdio)
	return result{code, out.String(), errOut.String()}
}

func lookup(env []string, key string) string {
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}

func TestExitCodes(t *testing.T) {
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "a.hcl"), []byte("app \"a\" {\n  image = \"r/a:1\"\n  bogus = 1\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		args   []string
		want   ExitCode
		stderr string
	}{
		{"help", []string{"--help"}, ExitOK, ""},
		{"valid", []string{"validate", "../../jobs"}, ExitOK, ""},
		{"invalid spec", []string{"validate", bad}, ExitError, "a.hcl:3:3: error: Unsupported argument"},
		{"unknown flag", []string{"validate", "--bogus"}, ExitUsage, "flag provided but not defined"},
		{"unknown command", []string{"valdate"}, ExitUsage, `did you mean "validate"?`},
		{"bad format", []string{"render", "../../jobs", "--format", "xml"}, ExitUsage, "--format must be json or hcl"},
		{"init without name", []string{"init"}, ExitUsage, "exactly one app name"},
		{"unknown environment", []string{"validate", "../../jobs", "--env", "prd"}, ExitError, `did you mean "prod"?`},
		{"missing path", []string{"render", "no/such/dir"}, ExitError, "Cannot read spec path"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := run(t, nil, c.args...)
			if r.code != c.want {
				t.Errorf("exit code = %d, want %d\nstderr: %s", r.code, c.want, r.stderr)
			}
			if !strings.Contains(r.stderr, c.stderr) {
				t.Errorf("stderr lacks %q:\n%s", c.stderr, r.stderr)
			}
		})
	}
}

// TestFlagsAfterArguments: `drover render jobs/ -o out/` must read -o.
func TestFlagsAfterArguments(t *testing.T) {
	out := t.TempDir()
	r := run(t, nil, "render", "../../jobs", "-o", out, "--env", "prod", "--var", "version=9.9.9")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	data, err := os.ReadFile(filepath.Join(out, "nomad", "api.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "api:9.9.9") || !strings.Contains(string(data), `"dc2"`) {
		t.Error("the --var and --env given after the path were not applied")
	}
}

func TestIntersperse(t *testing.T) {
	a := newApp(IO{})
	got := intersperse(a, []string{"drover", "render", "jobs/", "-o", "out", "--format=hcl", "x.hcl", "--", "-literal"})
	want := []string{"drover", "render", "-o", "out", "--format=hcl", "jobs/", "x.hcl", "--", "-literal"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestVarWithCommaAndEnvPrecedence(t *testing.T) {
	dir := t.TempDir()
	spec := `variable "hosts" {
  type = string
}
app "web" {
  image = "r/web:1"
  env = {
    HOSTS = var.hosts
  }
}`
	if err := os.WriteFile(filepath.Join(dir, "web.hcl"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, []string{"DROVER_VAR_hosts=from-env"}, "render", dir, "--var", "hosts=a,b")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, `"HOSTS": "a,b"`) {
		t.Errorf("a comma in --var must not split it, and the flag beats DROVER_VAR_*:\n%s", r.stdout)
	}
}

func TestValidateJSON(t *testing.T) {
	r := run(t, nil, "validate", "../../jobs", "--json")
	var out struct {
		Valid        bool
		Apps         []string
		Environments []string
		Diagnostics  []any
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, r.stdout)
	}
	if !out.Valid || len(out.Apps) != 5 || len(out.Environments) != 2 || out.Diagnostics == nil {
		t.Errorf("unexpected result: %+v", out)
	}
	bad := t.TempDir()
	_ = os.WriteFile(filepath.Join(bad, "a.hcl"), []byte(`app "A" { image = "r:1" }`), 0o644)
	r = run(t, nil, "validate", bad, "--json")
	if r.code != ExitError || !strings.Contains(r.stdout, `"summary": "Invalid app name"`) {
		t.Errorf("exit %d, stdout:\n%s", r.code, r.stdout)
	}
}

func TestRenderHCLToStdout(t *testing.T) {
	r := run(t, nil, "render", "../../jobs/shop/api.hcl", "--format", "hcl")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{`job "api" {`, `job "shop-egress"`, "Vault policy \"drover-api\""} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	if strings.Contains(r.stdout, `job "web"`) {
		t.Error("rendering one spec must not render the others' jobs")
	}
}

func TestHelpTeaches(t *testing.T) {
	for _, cmd := range []string{"init", "validate", "render", "graph"} {
		r := run(t, nil, cmd, "--help")
		if r.code != ExitOK || !strings.Contains(r.stdout, "Examples:") {
			t.Errorf("%s --help: exit %d, want examples in:\n%s", cmd, r.code, r.stdout)
		}
	}
}

func TestVersion(t *testing.T) {
	r := run(t, nil, "version", "--json")
	var v map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v["version"] == "" {
		t.Errorf("version --json: %v %q", err, r.stdout)
	}
}

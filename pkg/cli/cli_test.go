package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	got, err := intersperse(a, []string{"drover", "render", "jobs/", "-o", "out", "--format=hcl", "x.hcl", "--", "-literal"})
	if err != nil {
		t.Fatal(err)
	}
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

func TestVersion(t *testing.T) {
	r := run(t, nil, "version", "--json")
	var v map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v["version"] == "" {
		t.Errorf("version --json: %v %q", err, r.stdout)
	}
}

// badSpecs is a directory with one invalid spec (an unknown argument on
// line 3).
func badSpecs(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.hcl"), []byte("app \"a\" {\n  image = \"r/a:1\"\n  bogus = 1\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestUsageErrors: flag-parsing errors, unknown commands and bad flag
// values exit 64, name flags as typed, and point at the command's help.
func TestUsageErrors(t *testing.T) {
	cases := []struct {
		args   []string
		stderr []string
	}{
		{[]string{"plan", "--bogus"}, []string{"flag provided but not defined: --bogus", "Run 'drover plan --help'"}},
		{[]string{"plan", "jobs/", "--nomad-addr"}, []string{"flag needs an argument: --nomad-addr", "Run 'drover plan --help'"}},
		{[]string{"render", "-o"}, []string{"flag needs an argument: -o", "Run 'drover render --help'"}},
		{[]string{"deploy", "--concurrency", "x"}, []string{"for flag --concurrency", "Run 'drover deploy --help'"}},
		{[]string{"--bogus"}, []string{"--bogus", "Run 'drover --help'"}},
		{[]string{"valdate"}, []string{`did you mean "validate"?`, "Run 'drover --help'"}},
		{[]string{"secrets", "chek"}, []string{`unknown command "chek" for 'drover secrets' (did you mean "check"?)`, "Run 'drover secrets --help'"}},
		{[]string{"autoscale", "simulate", "--trace", "spike"}, []string{"--policy", "Run 'drover autoscale simulate --help'"}},
		{[]string{"render", "../../jobs", "--format", "xml"}, []string{"--format must be json or hcl", "Run 'drover render --help'"}},
		{[]string{"init"}, []string{"exactly one app name", "Run 'drover init --help'"}},
	}
	for _, c := range cases {
		r := run(t, nil, c.args...)
		if r.code != ExitUsage {
			t.Errorf("%v: exit %d, want %d\n%s", c.args, r.code, ExitUsage, r.stderr)
		}
		for _, want := range c.stderr {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("%v: stderr lacks %q:\n%s", c.args, want, r.stderr)
			}
		}
		if r.stdout != "" {
			t.Errorf("%v: a usage error printed on stdout:\n%s", c.args, r.stdout)
		}
	}
}

// TestJSONErrors: every --json command prints one error document on
// stdout when it fails, with the diagnostics of invalid specs.
func TestJSONErrors(t *testing.T) {
	bad := badSpecs(t)
	type document struct {
		Error *struct {
			Message string `json:"message"`
			Kind    string `json:"kind"`
		} `json:"error"`
		Diagnostics []struct {
			File              string
			Line, Column      int
			Severity, Summary string
		} `json:"diagnostics"`
	}
	for _, args := range [][]string{
		{"validate", bad},
		{"render", bad, "-o", t.TempDir()},
		{"graph", bad},
		{"plan", bad},
		{"deploy", bad},
		{"status", bad},
		{"destroy", bad, "--yes"},
		{"secrets", "check", bad},
		{"autoscale", "lint", bad},
	} {
		r := run(t, nil, append(args, "--json")...)
		var doc document
		dec := json.NewDecoder(strings.NewReader(r.stdout))
		if err := dec.Decode(&doc); err != nil || dec.More() {
			t.Errorf("%v: stdout is not one JSON document (%v):\n%s", args, err, r.stdout)
			continue
		}
		if r.code != ExitError || doc.Error == nil || doc.Error.Kind != "invalid_specs" || doc.Error.Message == "" {
			t.Errorf("%v: exit %d, document %s", args, r.code, r.stdout)
			continue
		}
		if len(doc.Diagnostics) != 1 {
			t.Errorf("%v: diagnostics %+v", args, doc.Diagnostics)
			continue
		}
		d := doc.Diagnostics[0]
		if d.File != filepath.Join(bad, "a.hcl") || d.Line != 3 || d.Column != 3 || d.Severity != "error" || d.Summary != "Unsupported argument" {
			t.Errorf("%v: diagnostic %+v", args, d)
		}
	}

	r := run(t, nil, "plan", "--bogus", "--json")
	if r.code != ExitUsage || !strings.Contains(r.stdout, `"kind": "usage"`) || !strings.Contains(r.stdout, "--bogus") {
		t.Errorf("plan --bogus --json: exit %d, stdout:\n%s", r.code, r.stdout)
	}
}

// TestRenderJSONAndFormat: render -o --json lists the files written as the
// manifest does; --format hcl with -o or --json is refused.
func TestRenderJSONAndFormat(t *testing.T) {
	out := t.TempDir()
	r := run(t, nil, "render", "../../jobs", "-o", out, "--json")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var doc struct {
		OutDir string `json:"out_dir"`
		Files  []struct{ Kind, Name, App, Path, SHA256 string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, r.stdout)
	}
	if doc.OutDir != out || len(doc.Files) == 0 {
		t.Fatalf("document %+v", doc)
	}
	for _, f := range doc.Files {
		data, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(data); f.Kind == "" || f.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: kind %q, sha256 %s does not match the file", f.Path, f.Kind, f.SHA256)
		}
	}
	for _, args := range [][]string{
		{"render", "../../jobs", "-o", t.TempDir(), "--format", "hcl"},
		{"render", "../../jobs", "--json", "--format", "hcl"},
	} {
		if r := run(t, nil, args...); r.code != ExitUsage || !strings.Contains(r.stderr, "--format hcl") {
			t.Errorf("%v: exit %d\n%s", args, r.code, r.stderr)
		}
	}
}

// TestGraphAndLintJSON: --json on graph and autoscale lint.
func TestGraphAndLintJSON(t *testing.T) {
	r := run(t, nil, "graph", "../../jobs", "--json")
	var g struct{ Nodes, Edges []map[string]any }
	if err := json.Unmarshal([]byte(r.stdout), &g); err != nil || r.code != ExitOK || len(g.Nodes) == 0 || len(g.Edges) == 0 {
		t.Errorf("graph --json: exit %d, %v:\n%s", r.code, err, r.stdout)
	}
	if r := run(t, nil, "graph", "../../jobs", "--json", "--format", "dot"); r.code != ExitUsage {
		t.Errorf("graph --json --format dot: exit %d, want %d", r.code, ExitUsage)
	}
	r = run(t, nil, "autoscale", "lint", "../../jobs", "--json")
	var lint struct {
		Valid       bool
		Diagnostics []any
	}
	if err := json.Unmarshal([]byte(r.stdout), &lint); err != nil || r.code != ExitOK || !lint.Valid || lint.Diagnostics == nil {
		t.Errorf("autoscale lint --json: exit %d, %v:\n%s", r.code, err, r.stdout)
	}
}

// TestSimulateFlagBounds: --initial outside the policy's bounds and a
// negative --startup are usage errors naming the flag.
func TestSimulateFlagBounds(t *testing.T) {
	sim := []string{"autoscale", "simulate", "--policy", "../../jobs/shop/api.hcl", "--trace", "spike"}
	for _, c := range []struct{ flag, value string }{{"--initial", "11"}, {"--initial", "1"}, {"--startup", "-1s"}} {
		r := run(t, nil, append(sim, c.flag, c.value)...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, c.flag) || r.stdout != "" {
			t.Errorf("%s %s: exit %d, stdout %q\n%s", c.flag, c.value, r.code, r.stdout, r.stderr)
		}
	}
	if r := run(t, nil, append(sim, "--initial", "10")...); r.code != ExitOK || !strings.Contains(r.stdout, "bounds [2, 10]") {
		t.Errorf("--initial at the max: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestDevWithNothingRunning: status and down say so in one line, exit 0.
func TestDevWithNothingRunning(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "never-started")
	for _, cmd := range []string{"status", "down"} {
		r := run(t, nil, "dev", cmd, "--state-dir", dir)
		if out := r.stdout + r.stderr; r.code != ExitOK || strings.Count(out, "\n") != 1 || !strings.Contains(out, "No dev agents") {
			t.Errorf("dev %s: exit %d, output:\n%s", cmd, r.code, out)
		}
	}
	r := run(t, nil, "dev", "status", "--state-dir", dir, "--json")
	if r.code != ExitOK || strings.Join(strings.Fields(r.stdout), "") != `{"agents":[]}` {
		t.Errorf("dev status --json: exit %d, stdout %s", r.code, r.stdout)
	}
}

// TestVersionFlag: --version prints what the version command prints.
func TestVersionFlag(t *testing.T) {
	flag, cmd := run(t, nil, "--version"), run(t, nil, "version")
	if flag.code != ExitOK || flag.stdout == "" || flag.stdout != cmd.stdout {
		t.Errorf("--version: exit %d, %q; version: %q", flag.code, flag.stdout, cmd.stdout)
	}
}

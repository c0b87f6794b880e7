package cli

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	ucli "github.com/urfave/cli/v2"
)

// commandPaths lists every command of the tree as its arguments, such as
// ["autoscale", "simulate"], leaving out urfave's help commands.
func commandPaths(cmds []*ucli.Command, parent []string) [][]string {
	var out [][]string
	for _, c := range cmds {
		if c.Name == "help" {
			continue
		}
		path := append(append([]string{}, parent...), c.Name)
		out = append(out, path)
		out = append(out, commandPaths(c.Subcommands, path)...)
	}
	return out
}

// TestHelpOfEveryCommand: every command's --help has examples and prints
// no flag's default twice.
func TestHelpOfEveryCommand(t *testing.T) {
	paths := commandPaths(newApp(IO{}).Commands, nil)
	if len(paths) < 20 {
		t.Fatalf("only %d commands found", len(paths))
	}
	for _, path := range append(paths, []string{}) {
		r := run(t, nil, append(path, "--help")...)
		name := strings.Join(append([]string{"drover"}, path...), " ")
		if r.code != ExitOK {
			t.Errorf("%s --help: exit %d\n%s", name, r.code, r.stderr)
		}
		if len(path) > 0 && !strings.Contains(r.stdout, "Examples:") {
			t.Errorf("%s --help has no Examples section:\n%s", name, r.stdout)
		}
		for _, line := range strings.Split(r.stdout, "\n") {
			if strings.Count(line, "(default") > 1 || strings.Contains(line, "(default: false)") {
				t.Errorf("%s --help: a default printed twice or for a switch: %s", name, strings.TrimSpace(line))
			}
		}
	}
}

// TestExitCodeNumbers pins the exit codes as numbers: scripts and CI test
// them, so they must not change even if the constants are renamed.
func TestExitCodeNumbers(t *testing.T) {
	bad := badSpecs(t)
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"validate", "../../jobs"}, 0},
		{[]string{"--version"}, 0},
		{[]string{"validate", bad}, 1},
		{[]string{"render", "no/such/dir"}, 1},
		{[]string{"plan", "--bogus"}, 64},
		{[]string{"plan", "jobs/", "--nomad-addr"}, 64},
		{[]string{"valdate"}, 64},
		{[]string{"secrets", "bogus"}, 64},
		{[]string{"autoscale", "simulate"}, 64},
	} {
		if r := run(t, nil, c.args...); int(r.code) != c.want {
			t.Errorf("%v: exit %d, want %d\n%s", c.args, r.code, c.want, r.stderr)
		}
	}

	f := newFakeCluster(t, true)
	if r := f.run(t, "", "plan", f.dir); r.code != 2 {
		t.Errorf("plan with changes: exit %d, want 2\n%s", r.code, r.stderr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f.ctx = ctx
	if r := f.run(t, "", "plan", f.dir); r.code != 130 {
		t.Errorf("interrupted plan: exit %d, want 130\n%s", r.code, r.stderr)
	}
	// A deploy interrupted before it registered anything says nothing
	// changed, not that deployments go on in Nomad.
	r := f.run(t, "", "deploy", f.dir)
	if r.code != 130 || !strings.Contains(r.stderr, "nothing changed") || strings.Contains(r.stderr, "go on in Nomad") {
		t.Errorf("interrupted deploy: exit %d\n%s", r.code, r.stderr)
	}
}

// TestMakeHelp: `make help` into a pipe prints no colour codes and no
// unexpanded make variables.
func TestMakeHelp(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not on PATH")
	}
	out, err := exec.Command("make", "-s", "-C", "../..", "help").Output()
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if strings.Contains(s, "\x1b[") || strings.Contains(s, "$(OUT)") || strings.Contains(s, "$$") {
		t.Errorf("make help prints colour codes or make syntax:\n%q", s)
	}
	if !strings.Contains(s, "into out/") {
		t.Errorf("the demo target's $(OUT) is not expanded:\n%s", s)
	}
}

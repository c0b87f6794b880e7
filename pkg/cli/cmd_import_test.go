package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestImportCommand(t *testing.T) {
	dir := t.TempDir()
	job := filepath.Join(dir, "web.json")
	data := `{"Job": {"ID": "web", "TaskGroups": [{"Name": "web", "Tasks": [{"Name": "web", "Driver": "docker",
	  "Config": {"image": "nginx:1.27"}, "Env": {"DB_PASSWORD": "hunter2-but-longer"}}]}]}}`
	if err := os.WriteFile(job, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "specs")
	r := run(t, nil, "import", job, "-o", out)
	if r.code != ExitOK || !strings.Contains(r.stderr, "round trip: rendering the specs gives the job back") ||
		!strings.Contains(r.stderr, "store the current value of DB_PASSWORD") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, "hunter2") {
		t.Error("the secret value was printed")
	}
	if _, err := os.Stat(filepath.Join(out, "drover.hcl")); err != nil {
		t.Error(err)
	}
	// The written specs validate.
	if r := run(t, nil, "validate", out); r.code != ExitOK {
		t.Errorf("validate: %d %s", r.code, r.stderr)
	}

	r = run(t, nil, "import", job, "--check", "--json")
	var doc struct {
		Summary struct {
			RoundTripEqual int `json:"round_trip_equal"`
		} `json:"summary"`
		Jobs []struct {
			Fields []struct{ Path, Class string } `json:"fields"`
		} `json:"jobs"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != ExitOK || doc.Summary.RoundTripEqual != 1 || len(doc.Jobs[0].Fields) == 0 {
		t.Errorf("--check --json: exit %d, %v\n%s", r.code, err, r.stdout)
	}

	// all_at_once has no place in a spec: dropped, so the job differs.
	dropped := filepath.Join(dir, "all-at-once.json")
	if err := os.WriteFile(dropped, []byte(strings.Replace(data, `"ID": "web",`, `"ID": "web", "AllAtOnce": true,`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	r = run(t, nil, "import", dropped, "--check")
	if r.code != ExitError || !strings.Contains(r.stdout, "AllAtOnce") || !strings.Contains(r.stderr, "do not render back") {
		t.Errorf("--check with a difference: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
}

func TestImportUsage(t *testing.T) {
	for _, args := range [][]string{
		{"import"},
		{"import", "x.json", "-o", "-", "--json"},
		{"import", "x.json", "--namespace", "shop"},
	} {
		if r := run(t, nil, args...); r.code != ExitUsage {
			t.Errorf("%v: exit %d, %s", args, r.code, r.stderr)
		}
	}
}

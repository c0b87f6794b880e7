package app_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/internal/fakes/nomadfake"
	"github.com/drover-io/drover/pkg/app"
	"github.com/drover-io/drover/pkg/config"
	"github.com/drover-io/drover/pkg/nomadx"
)

const importJobJSON = `{"Job": {"ID": "web", "Datacenters": ["dc1"], "TaskGroups": [{"Name": "web", "Count": 2,
  "Networks": [{"DynamicPorts": [{"Label": "http", "To": 8080}]}],
  "Tasks": [{"Name": "web", "Driver": "docker", "Config": {"image": "nginx:1.27", "ports": ["http"]},
    "Env": {"API_TOKEN": "tok_9f8e7d6c5b4a3f2e1d0c", "MODE": "prod"}}]}]}}`

func writeFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestImportWritesSpecs(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "web.json", importJobJSON)
	out := filepath.Join(dir, "specs")
	res, err := app.Import(context.Background(), app.ImportOptions{Files: []string{in}, OutDir: out})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Written) != 2 || res.Report.Summary.RoundTripEqual != 1 {
		t.Fatalf("written %v, summary %+v", res.Written, res.Report.Summary)
	}
	spec, err := os.ReadFile(filepath.Join(out, "web.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(spec), "tok_9f8e7d6c5b4a3f2e1d0c") || !strings.Contains(string(spec), `secret "API_TOKEN"`) {
		t.Errorf("the literal secret should be a secret block:\n%s", spec)
	}
	// A second import keeps what is there, unless forced.
	if _, err := app.Import(context.Background(), app.ImportOptions{Files: []string{in}, OutDir: out}); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("overwrite without --force: %v", err)
	}
	if _, err := app.Import(context.Background(), app.ImportOptions{Files: []string{in}, OutDir: out, Force: true}); err != nil {
		t.Errorf("--force: %v", err)
	}
}

func TestImportStdinAndStdout(t *testing.T) {
	var stdout bytes.Buffer
	_, err := app.Import(context.Background(), app.ImportOptions{Files: []string{"-"}, OutDir: "-", Stdin: strings.NewReader(importJobJSON), Stdout: &stdout})
	if err != nil {
		t.Fatal(err)
	}
	if got := stdout.String(); !strings.Contains(got, "# --- drover.hcl") || !strings.Contains(got, `app "web"`) {
		t.Errorf("stdout:\n%s", got)
	}
}

func TestImportCheckFindsDifferences(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "web.json", strings.Replace(importJobJSON, `"ID": "web",`, `"ID": "web", "AllAtOnce": true,`, 1))
	res, err := app.Import(context.Background(), app.ImportOptions{Files: []string{in}, OutDir: filepath.Join(dir, "out"), Check: true})
	var diff *app.ImportDiffError
	if !errors.As(err, &diff) || diff.Jobs != 1 {
		t.Fatalf("want an ImportDiffError, got %v", err)
	}
	if len(res.Report.Jobs[0].Differences) == 0 {
		t.Error("no differences reported")
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); !os.IsNotExist(err) {
		t.Error("--check wrote files")
	}
}

func TestImportHCLFiles(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "web.nomad.hcl", "job \"web\" {}\n")
	var converted string
	_, err := app.Import(context.Background(), app.ImportOptions{Files: []string{in}, OutDir: "-", Stdout: &bytes.Buffer{},
		NomadCommand: func(_ context.Context, file string) ([]byte, error) {
			converted = file
			return []byte(importJobJSON), nil
		}})
	if err != nil || converted != in {
		t.Fatalf("converted %q: %v", converted, err)
	}
	t.Setenv("PATH", t.TempDir()) // no nomad binary
	_, err = app.Import(context.Background(), app.ImportOptions{Files: []string{in}, OutDir: "-", Stdout: &bytes.Buffer{}})
	if !errors.Is(err, app.ErrNoNomadBinary) {
		t.Errorf("without nomad on PATH: %v", err)
	}
}

func TestImportLiveJob(t *testing.T) {
	fake := nomadfake.New(t)
	nc, err := nomadx.New(config.Endpoint{Address: fake.URL()}, nomadx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	job := &nomadapi.Job{ID: new("worker"), Datacenters: []string{"dc1"}, Type: new("batch"), TaskGroups: []*nomadapi.TaskGroup{{
		Name: new("worker"), Count: new(3),
		Tasks: []*nomadapi.Task{{Name: "worker", Driver: "docker", Config: map[string]any{"image": "registry.example.com/worker:1.0.0"},
			Resources: &nomadapi.Resources{CPU: new(300), MemoryMB: new(256)}}},
	}}}
	if _, err := nc.Register(context.Background(), job, nomadx.RegisterOptions{}); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	res, err := app.Import(context.Background(), app.ImportOptions{
		ClusterOptions: app.ClusterOptions{Clients: &app.Clients{Nomad: nc}},
		JobIDs:         []string{"worker"}, OutDir: "-", Stdout: &stdout,
	})
	if err != nil {
		t.Fatal(err)
	}
	if j := res.Report.Jobs[0]; j.Source != "nomad:default/worker" || j.RoundTrip != "equal" {
		t.Errorf("report: source %q, round trip %q %v", j.Source, j.RoundTrip, j.Differences)
	}
	if !strings.Contains(stdout.String(), `type  = "batch"`) || !strings.Contains(stdout.String(), "count = 3") {
		t.Errorf("spec:\n%s", stdout.String())
	}
}

package app_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drover-io/drover/pkg/apierr"
	"github.com/drover-io/drover/pkg/app"
)

func TestScale(t *testing.T) {
	t.Parallel()
	c := newCluster(t, shopFiles(), autoSucceed)
	c.deploy(app.DeployOptions{})

	t.Run("within bounds", func(t *testing.T) {
		c.nomad.ResetRequests()
		res, err := app.Scale(testContext(t), app.ScaleOptions{ClusterOptions: c.opts(), App: "api", Count: 3})
		if err != nil {
			t.Fatalf("scale: %v", err)
		}
		if res.EvalID == "" {
			t.Error("no evaluation ID in the result")
		}
		res.EvalID = ""
		if diff := cmp.Diff(&app.ScaleResult{App: "api", Group: "api", Previous: 1, Count: 3}, res); diff != "" {
			t.Errorf("result (-want +got):\n%s", diff)
		}
		if got := groupCount(t, c.nomad, "api"); got != 3 {
			t.Errorf("count in Nomad = %d, want 3", got)
		}
		events := c.nomad.ScalingEvents("api", "api")
		if len(events) == 0 {
			t.Fatal("no scaling event recorded")
		}
		ev := events[0]
		if ev.Message != "drover scale api 3" || ev.Count == nil || *ev.Count != 3 || ev.PreviousCount != 1 {
			t.Errorf("event = %+v", ev)
		}
		if ev.Meta["drover.source"] != "drover scale" {
			t.Errorf("event meta = %v", ev.Meta)
		}
	})

	t.Run("message and a group without bounds", func(t *testing.T) {
		res, err := app.Scale(testContext(t), app.ScaleOptions{ClusterOptions: c.opts(), App: "web", Count: 7, Message: "launch day"})
		if err != nil {
			t.Fatalf("scale: %v", err)
		}
		if res.Previous != 2 || groupCount(t, c.nomad, "web") != 7 {
			t.Errorf("result %+v, count in Nomad %d", res, groupCount(t, c.nomad, "web"))
		}
		if ev := c.nomad.ScalingEvents("web", "web"); len(ev) == 0 || ev[0].Message != "launch day" {
			t.Errorf("events = %+v", ev)
		}
	})

	t.Run("without specs, in the configured namespace", func(t *testing.T) {
		opts := app.ScaleOptions{ClusterOptions: c.opts(), App: "nope", Count: 1}
		opts.Load.Paths = nil
		_, err := app.Scale(testContext(t), opts)
		var se *app.ScaleError
		if !errors.As(err, &se) || !strings.Contains(se.Reason, `no Nomad job "nope"`) {
			t.Errorf("want a ScaleError naming the missing job, got %v", err)
		}
	})

	refusals := []struct {
		name   string
		app    string
		count  int
		reason string
	}{
		{"above max", "api", 9, "9 is outside the group's scaling bounds [1, 5]"},
		{"below min", "api", 0, "0 is outside the group's scaling bounds [1, 5]"},
		{"negative", "web", -1, "a count cannot be negative"},
		{"unknown app", "nope", 1, `the specs have no app "nope"`},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			c.nomad.ResetRequests()
			before := groupCount(t, c.nomad, "api")
			_, err := app.Scale(testContext(t), app.ScaleOptions{ClusterOptions: c.opts(), App: tc.app, Count: tc.count})
			var se *app.ScaleError
			if !errors.As(err, &se) || !strings.Contains(se.Reason, tc.reason) {
				t.Fatalf("want a *app.ScaleError with %q, got %v", tc.reason, err)
			}
			if n := len(c.nomad.Writes()); n != 0 {
				t.Errorf("a refused scale sent %d writes to Nomad: %v", n, c.nomad.Writes())
			}
			if after := groupCount(t, c.nomad, "api"); after != before {
				t.Errorf("api count changed from %d to %d", before, after)
			}
		})
	}
}

func TestScaleDuringActiveDeployment(t *testing.T) {
	t.Parallel()
	c := newCluster(t, shopFiles())
	c.deploy(app.DeployOptions{Detach: true}) // the deployments keep running
	_, err := app.Scale(testContext(t), app.ScaleOptions{ClusterOptions: c.opts(), App: "api", Count: 2})
	var se *app.ScaleError
	if !errors.As(err, &se) {
		t.Fatalf("want *app.ScaleError, got %v", err)
	}
	if !strings.Contains(se.Reason, "deployment is in progress") || !strings.Contains(err.Error(), "active deployment") {
		t.Errorf("error should explain the active deployment: %v", err)
	}
	if got := nomadRequests(c.nomad, http.MethodPut, "/v1/job/api/scale"); got != 1 {
		t.Errorf("%d scale requests, want 1 (Nomad's refusal is final)", got)
	}
	if got := groupCount(t, c.nomad, "api"); got != 1 {
		t.Errorf("count = %d, want 1", got)
	}
}

// A job changed between drover's read and its scale request is not
// scaled from a stale view.
func TestScaleConflictsWithConcurrentChange(t *testing.T) {
	t.Parallel()
	c := newCluster(t, shopFiles(), autoSucceed)
	c.deploy(app.DeployOptions{})
	c.hook(&hookedNomad{beforeScale: func(id string) {
		live := c.nomad.Job(id)
		live.TaskGroups[0].Tasks[0].Config["image"] = "r/api:hotfix"
		c.nomad.SeedJob(live)
	}})
	_, err := app.Scale(testContext(t), app.ScaleOptions{ClusterOptions: c.opts(), App: "api", Count: 3})
	var se *app.ScaleError
	if !errors.As(err, &se) || !strings.Contains(se.Reason, "the job changed while scaling") {
		t.Fatalf("want a *app.ScaleError about the change, got %v", err)
	}
	if !errors.Is(err, apierr.ErrConflict) {
		t.Errorf("want apierr.ErrConflict, got %v", err)
	}
	if got := groupCount(t, c.nomad, "api"); got != 1 {
		t.Errorf("count = %d, want 1", got)
	}
}

const secretValue = "hunter2-do-not-print"

// secretsFiles: api reads two keys of p/db, worker one key of p/worker.
func secretsFiles() map[string]string {
	files := shopFiles()
	files["api.hcl"] = strings.Replace(apiHCL, `  service {`, `  secret "DB_USER" {
    path = "p/db"
    key  = "user"
  }

  service {`, 1)
	return files
}

func TestCheckSecrets(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		seed    map[string]map[string]any
		forbid  string // a path drover's token may not read
		want    []app.SecretCheck
		wantErr error
	}{
		{
			name: "all present",
			seed: map[string]map[string]any{
				"p/db":     {"password": secretValue, "user": secretValue + "-user"},
				"p/worker": {"token": secretValue + "-token"},
			},
			want: []app.SecretCheck{
				{App: "api", Task: "api", Env: "DB_PASSWORD", Path: "p/db", Key: "password", Status: app.SecretOK},
				{App: "api", Task: "api", Env: "DB_USER", Path: "p/db", Key: "user", Status: app.SecretOK},
				{App: "worker", Task: "worker", Env: "TOKEN", Path: "p/worker", Key: "token", Status: app.SecretOK},
			},
		},
		{
			name: "missing secret and missing key",
			seed: map[string]map[string]any{"p/db": {"password": secretValue}},
			want: []app.SecretCheck{
				{App: "api", Task: "api", Env: "DB_PASSWORD", Path: "p/db", Key: "password", Status: app.SecretOK},
				{App: "api", Task: "api", Env: "DB_USER", Path: "p/db", Key: "user", Status: app.SecretKeyMissing,
					Detail: `the secret has no key "user" (it has 1 other key(s))`},
				{App: "worker", Task: "worker", Env: "TOKEN", Path: "p/worker", Key: "token", Status: app.SecretMissing,
					Detail: "no secret at secret/data/p/worker"},
			},
			wantErr: app.ErrSecretsMissing,
		},
		{
			name: "secret drover may not read",
			seed: map[string]map[string]any{
				"p/db":     {"password": secretValue, "user": secretValue + "-user"},
				"p/worker": {"token": secretValue + "-token"},
			},
			forbid: "p/worker",
			want: []app.SecretCheck{
				{App: "api", Task: "api", Env: "DB_PASSWORD", Path: "p/db", Key: "password", Status: app.SecretOK},
				{App: "api", Task: "api", Env: "DB_USER", Path: "p/db", Key: "user", Status: app.SecretOK},
				{App: "worker", Task: "worker", Env: "TOKEN", Path: "p/worker", Key: "token", Status: app.SecretForbidden,
					Detail: "drover's Vault token may not read it (the app's own role may still)"},
			},
			wantErr: app.ErrSecretsMissing,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCluster(t, secretsFiles())
			for path, data := range tc.seed {
				c.vault.PutSecret("secret", path, data)
			}
			if tc.forbid != "" {
				c.vault.FailNext(http.MethodGet, "/v1/secret/data/"+tc.forbid, http.StatusForbidden, `{"errors":["1 error occurred:\n\t* permission denied\n\n"]}`, 1)
			}
			c.vault.ResetRequests()
			res, err := app.CheckSecrets(testContext(t), c.opts())
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, res.Checks); diff != "" {
				t.Errorf("checks (-want +got):\n%s", diff)
			}
			if len(res.Problems) != 0 {
				t.Errorf("problems: %v", res.Problems)
			}
			if res.OK() != (tc.wantErr == nil) {
				t.Errorf("OK() = %v", res.OK())
			}

			js, jerr := json.Marshal(res)
			if jerr != nil {
				t.Fatal(jerr)
			}
			var table bytes.Buffer
			if werr := app.WriteSecrets(&table, res); werr != nil {
				t.Fatal(werr)
			}
			for what, s := range map[string]string{
				"result": fmt.Sprintf("%+v", res), "JSON": string(js), "table": table.String(),
				"error": fmt.Sprint(err), "progress": c.progress.String(),
			} {
				if strings.Contains(s, secretValue) {
					t.Errorf("the secret value appears in the %s:\n%s", what, s)
				}
			}
			if w := c.vault.Writes(); len(w) != 0 {
				t.Errorf("a check wrote to Vault: %v", w)
			}
			if n := vaultRequests(c.vault, http.MethodGet, "/v1/secret/data/p/db"); n != 1 {
				t.Errorf("p/db read %d times, want once for its two keys", n)
			}
		})
	}
}

func TestCheckSecretsReportsVaultProblems(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		breakVault func(c *cluster)
		problem    string
	}{
		{"no JWT auth method", func(c *cluster) { c.vault.RemoveMount("jwt-nomad") }, "no auth method at auth/jwt-nomad"},
		{"KV version 1", func(c *cluster) {
			c.vault.RemoveMount("secret")
			c.vault.AddMount("secret", "kv", map[string]string{"version": "1"})
		}, "the KV secrets engine at secret/ is version 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCluster(t, secretsFiles())
			c.vault.PutSecret("secret", "p/db", map[string]any{"password": secretValue, "user": "u"})
			c.vault.PutSecret("secret", "p/worker", map[string]any{"token": "t"})
			tc.breakVault(c)
			res, err := app.CheckSecrets(testContext(t), c.opts())
			if !errors.Is(err, app.ErrSecretsMissing) {
				t.Fatalf("err = %v, want ErrSecretsMissing", err)
			}
			if len(res.Problems) != 1 || !strings.Contains(res.Problems[0], tc.problem) {
				t.Errorf("problems = %q, want one with %q", res.Problems, tc.problem)
			}
		})
	}
}

func TestStatus(t *testing.T) {
	t.Parallel()
	c := newCluster(t, shopFiles(), autoSucceed)
	c.deploy(app.DeployOptions{})
	c.write("extra.hcl", `app "extra" {
  image = "r/extra:1"

  port "http" {
    to = 80
  }

  service {
    port = "http"
  }
}
`)
	if _, _, err := c.nomad.Client().Jobs().Deregister("docs", false, nil); err != nil { // someone stops docs
		t.Fatal(err)
	}
	c.nomad.SetGroupStatus("web", "web", 2, 1)
	c.consul.SetHealth("web", 1, 1, 0)
	c.consul.SetHealth("api", 0, 0, 1)

	res, err := app.Status(testContext(t), app.StatusOptions{ClusterOptions: c.opts()})
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	byApp := map[string]app.AppStatus{}
	var names []string
	for _, a := range res.Apps {
		byApp[a.App] = a
		names = append(names, a.App)
	}
	if diff := cmp.Diff([]string{"api", "docs", "extra", "web", "worker"}, names); diff != "" {
		t.Errorf("apps (-want +got):\n%s", diff)
	}
	want := map[string]app.AppStatus{
		"web": {
			App: "web", Job: "running", Version: 0, Deployment: "successful",
			Groups: []app.GroupStatus{{Name: "web", Desired: 2, Placed: 2, Running: 2, Healthy: 1}},
			Consul: &app.ServiceHealth{Instances: 2, Passing: 1, Warning: 1},
			Public: []string{"web.example.com"},
		},
		"api": {
			App: "api", Job: "running", Version: 0, Deployment: "successful",
			Groups: []app.GroupStatus{{Name: "api", Desired: 1}},
			Consul: &app.ServiceHealth{Instances: 1, Critical: 1},
			Public: []string{},
		},
		"docs": {
			App: "docs", Job: "stopped", Version: 1, Deployment: "successful",
			Groups: []app.GroupStatus{{Name: "docs", Desired: 1}},
			Consul: &app.ServiceHealth{},
			Public: []string{"docs.example.com"},
		},
		"extra": {App: "extra", Job: "not deployed", Public: []string{}},
	}
	for name, w := range want {
		if diff := cmp.Diff(w, byApp[name]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}

	var table bytes.Buffer
	if err := app.WriteStatus(&table, res.Apps); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"extra   not deployed  -", "1/2 passing  web.example.com"} {
		if !strings.Contains(table.String(), line) {
			t.Errorf("table lacks %q:\n%s", line, table.String())
		}
	}
}

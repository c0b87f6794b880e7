package app_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/pkg/apierr"
	"github.com/drover-io/drover/pkg/app"
)

func TestPlanRetriesTransientNomadReads(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		failures int
		wantErr  bool
	}{
		{"two 500s then an answer", 2, false},
		{"500 on every attempt", 3, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCluster(t, shopFiles())
			c.nomad.FailNext(http.MethodGet, "/v1/job/web", http.StatusInternalServerError, "rpc error: No cluster leader", tc.failures)
			res, err := app.RunPlan(context.Background(), app.PlanOptions{ClusterOptions: c.opts()})
			if got := nomadRequests(c.nomad, http.MethodGet, "/v1/job/web"); got != 3 {
				t.Errorf("%d reads of job web, want 3 (two retries)", got)
			}
			if !tc.wantErr {
				if err != nil {
					t.Fatalf("plan: %v", err)
				}
				if diff := cmp.Diff(shopCreates, changes(res.Plan)); diff != "" {
					t.Errorf("plan (-want +got):\n%s", diff)
				}
				return
			}
			var ae *apierr.Error
			if !errors.As(err, &ae) {
				t.Fatalf("want *apierr.Error, got %v", err)
			}
			if ae.System != apierr.Nomad || ae.Status != http.StatusInternalServerError || ae.Object != `"web"` || !apierr.Transient(err) {
				t.Errorf("error = %+v", ae)
			}
			if !strings.Contains(err.Error(), "No cluster leader") {
				t.Errorf("error lacks Nomad's reason: %v", err)
			}
		})
	}
}

// A connection that dies under a register stops the apply (a write whose
// answer is lost is not blindly retried); the next deploy finishes the
// job.
func TestDeployHangupStopsApplyAndRedeployRepairs(t *testing.T) {
	t.Parallel()
	c := newCluster(t, shopFiles(), autoSucceed)
	c.nomad.Hangup("/v1/jobs", 1)
	// One worker: p-egress, the first job in apply order, meets the hangup.
	opts := app.DeployOptions{PlanOptions: app.PlanOptions{ClusterOptions: c.opts()}, Concurrency: 1}
	_, err := app.Deploy(testContext(t), opts)
	ae := applyError(t, err)
	if diff := cmp.Diff([]string{"nomad nomad-job p-egress"}, ae.Failed); diff != "" {
		t.Errorf("failed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(shopAppJobs, ae.Pending); diff != "" {
		t.Errorf("pending (-want +got):\n%s", diff)
	}
	if len(ae.Applied) != len(shopCreates)-5 || !contains(ae.Applied, "nomad nomad-job p-ingress") {
		t.Errorf("applied = %v", ae.Applied)
	}
	var apiErr *apierr.Error
	if !errors.As(err, &apiErr) || apiErr.System != apierr.Nomad || apiErr.Status != 0 || apiErr.Op != "register job" {
		t.Errorf("want a nomad register error without a status, got %v", err)
	}
	if got := nomadRequests(c.nomad, http.MethodPut, "/v1/jobs"); got != 2 {
		t.Errorf("%d registers, want 2 (p-egress once, not retried; p-ingress)", got)
	}

	c.resetRequests()
	res := c.deploy(opts)
	var applied []string
	for _, ch := range res.Applied {
		applied = append(applied, string(ch.Action)+" "+ch.Key())
	}
	want := []string{"create nomad nomad-job p-egress"}
	for _, j := range shopAppJobs {
		want = append(want, "create "+j)
	}
	if diff := cmp.Diff(want, applied); diff != "" {
		t.Errorf("the repairing deploy applied (-want +got):\n%s", diff)
	}
	if w := c.writes(); w.Consul != 0 || w.Vault != 0 {
		t.Errorf("the repairing deploy rewrote what was already applied: %+v", w)
	}
	if got := changes(c.plan(app.PlanOptions{})); len(got) != 0 {
		t.Errorf("plan after repair: %v", got)
	}
}

func TestDeployConsulWriteFailures(t *testing.T) {
	t.Parallel()
	const entries = 12 // 5 service-defaults, 5 intentions, 2 gateway entries

	t.Run("a 500 is not retried, and the next deploy repairs", func(t *testing.T) {
		t.Parallel()
		// Consul answers 500 to entries it refuses (inconsistent protocols):
		// repeating the write repeats the refusal.
		c := newCluster(t, shopFiles(), autoSucceed)
		c.consul.FailNext(http.MethodPut, "/v1/config", http.StatusInternalServerError, "rpc error: leadership lost", 1)
		opts := app.DeployOptions{PlanOptions: app.PlanOptions{ClusterOptions: c.opts()}, Concurrency: 1}
		_, err := app.Deploy(testContext(t), opts)
		ae := applyError(t, err)
		if len(ae.Failed) != 1 {
			t.Errorf("failed %v, want one write", ae.Failed)
		}
		if got := consulRequests(c.consul, http.MethodPut, "/v1/config"); got >= entries {
			t.Errorf("%d config writes: the apply went on after a failed step, or retried", got)
		}
		c.deploy(app.DeployOptions{})
		if got := changes(c.plan(app.PlanOptions{})); len(got) != 0 {
			t.Errorf("plan after the repairing deploy: %v", got)
		}
	})

	t.Run("a 503 is retried", func(t *testing.T) {
		t.Parallel()
		c := newCluster(t, shopFiles(), autoSucceed)
		c.consul.FailNext(http.MethodPut, "/v1/config", http.StatusServiceUnavailable, "No cluster leader", 1)
		c.deploy(app.DeployOptions{})
		if got := consulRequests(c.consul, http.MethodPut, "/v1/config"); got != entries+1 {
			t.Errorf("%d config writes, want %d (one retry)", got, entries+1)
		}
	})

	t.Run("503 on every attempt stops the apply", func(t *testing.T) {
		t.Parallel()
		c := newCluster(t, shopFiles(), autoSucceed)
		c.consul.FailNext(http.MethodPut, "/v1/config", http.StatusServiceUnavailable, "rpc error: leadership lost", 3)
		opts := app.DeployOptions{PlanOptions: app.PlanOptions{ClusterOptions: c.opts()}, Concurrency: 1}
		_, err := app.Deploy(testContext(t), opts)
		ae := applyError(t, err)
		if diff := cmp.Diff([]string{"consul service-defaults api"}, ae.Failed); diff != "" {
			t.Errorf("failed (-want +got):\n%s", diff)
		}
		for _, msg := range []string{"consul", `service-defaults "api"`, "503", "leadership lost"} {
			if !strings.Contains(err.Error(), msg) {
				t.Errorf("error lacks %q: %v", msg, err)
			}
		}
		if !contains(ae.Pending, "consul service-intentions api") || !contains(ae.Pending, "nomad nomad-job api") {
			t.Errorf("pending = %v", ae.Pending)
		}
		if c.nomad.Job("api") != nil {
			t.Error("jobs were registered after a Consul step failed")
		}
	})
}

func TestVaultPermissionDenied(t *testing.T) {
	t.Parallel()
	t.Run("wrong token", func(t *testing.T) {
		t.Parallel()
		const token = "hvs.not-the-right-token"
		c := newCluster(t, shopFiles())
		c.clients.Vault = newVaultClient(t, c.vault, token)
		_, err := app.Deploy(testContext(t), app.DeployOptions{PlanOptions: app.PlanOptions{ClusterOptions: c.opts()}})
		if !errors.Is(err, apierr.ErrPermission) {
			t.Fatalf("want apierr.ErrPermission, got %v", err)
		}
		for _, msg := range []string{"vault:", "auth methods", "permission denied"} {
			if !strings.Contains(err.Error(), msg) {
				t.Errorf("error lacks %q: %v", msg, err)
			}
		}
		if strings.Contains(err.Error(), token) {
			t.Errorf("error shows the token: %v", err)
		}
		if got := c.writes(); got != (writeCounts{}) {
			t.Errorf("deploy wrote %+v after Vault refused it", got)
		}
		if got := vaultRequests(c.vault, http.MethodGet, "/v1/sys/auth"); got != 1 {
			t.Errorf("%d reads of sys/auth, want 1: a 403 is not retried", got)
		}
	})

	t.Run("403 writing a policy", func(t *testing.T) {
		t.Parallel()
		c := newCluster(t, shopFiles(), autoSucceed)
		c.vault.FailNext(http.MethodPut, "/v1/sys/policies/acl/drover-api", http.StatusForbidden, `{"errors":["permission denied"]}`, 1)
		_, err := app.Deploy(testContext(t), app.DeployOptions{PlanOptions: app.PlanOptions{ClusterOptions: c.opts()}})
		ae := applyError(t, err)
		if !errors.Is(err, apierr.ErrPermission) {
			t.Errorf("want apierr.ErrPermission, got %v", err)
		}
		if diff := cmp.Diff([]string{"vault vault-policy drover-api"}, ae.Failed); diff != "" {
			t.Errorf("failed (-want +got):\n%s", diff)
		}
		if want := `vault: write policy "drover-api": 403 permission denied`; !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
		if got := vaultRequests(c.vault, http.MethodPut, "/v1/sys/policies/acl/drover-api"); got != 1 {
			t.Errorf("%d policy writes, want 1: a 403 is not retried", got)
		}
		if w := c.writes(); w.Consul != 0 || w.Nomad != 0 {
			t.Errorf("later steps ran after Vault refused: %+v", w)
		}
	})
}

// Ctrl-C during the apply stops it after the changes in flight; what was
// never attempted is reported as such, so that the user knows what the
// next deploy will do.
func TestDeployCancelledDuringApply(t *testing.T) {
	t.Parallel()
	c := newCluster(t, shopFiles(), autoSucceed)
	ctx, cancel := context.WithCancel(testContext(t))
	c.hook(&hookedNomad{beforeRegister: func(job *nomadapi.Job) {
		if *job.ID == "p-egress" {
			cancel() // Ctrl-C as the first job goes out
		}
	}})
	opts := app.DeployOptions{PlanOptions: app.PlanOptions{ClusterOptions: c.opts()}, Concurrency: 1}
	_, err := app.Deploy(ctx, opts)
	ae := applyError(t, err)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("want context.Canceled, got %v", err)
	}
	if diff := cmp.Diff([]string{"nomad nomad-job p-egress"}, ae.Failed); diff != "" {
		t.Errorf("failed (-want +got):\n%s", diff)
	}
	wantPending := append([]string{"nomad nomad-job p-ingress"}, shopAppJobs...)
	if diff := cmp.Diff(wantPending, ae.Pending); diff != "" {
		t.Errorf("pending (-want +got):\n%s", diff)
	}
	if n := nomadRequests(c.nomad, http.MethodPut, "/v1/jobs"); n != 0 {
		t.Errorf("%d registers reached Nomad after the cancel", n)
	}
}

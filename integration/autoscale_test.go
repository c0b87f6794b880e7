//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover-io/drover/internal/testutil"
	"github.com/drover-io/drover/pkg/cli"
)

// itScalingApp is a spec of an app that really runs (the test image) with
// a scaling policy of 1 to 3 instances, evaluated every 2 seconds.
func itScalingApp(name string, count int, policy string) string {
	return fmt.Sprintf(`
app %q {
  image = var.image
  count = %d
  env = {
    LISTEN_ADDR = ":8080"
  }
  update {
    min_healthy_time  = "1s"
    healthy_deadline  = "25s"
    progress_deadline = "50s"
  }
  scaling {
    min = 1
    max = 3
    policy {
      evaluation_interval = "2s"
%s
    }
  }
}
`, name, count, policy)
}

// it-pinned scales to a fixed count (no metrics); it-cpu scales on real
// CPU usage from Nomad's allocation stats (nomad-apm): an idle test app is
// far under target, so it goes down to its minimum at once (no
// stabilization window).
var itScaled = itScalingApp("it-pinned", 1, `
      cooldown = "5s"
      check "pin" {
        strategy "fixed-value" {
          value = 2
        }
      }`) + itScalingApp("it-cpu", 2, `
      cooldown = "5s"
      check "cpu" {
        source = "nomad-apm"
        query  = "avg_cpu-allocated"
        strategy "target-value" {
          target = 70
        }
      }
      drover {
        scale_down {
          stabilization_window = "0s"
        }
      }`)

// droverBackground runs drover until the returned stop is called, and
// returns its exit code and output then.
func droverBackground(t *testing.T, args ...string) (stop func() itResult) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut testutil.SyncBuffer
	done := make(chan cli.ExitCode, 1)
	go func() {
		done <- cli.Main(ctx, append([]string{"drover"}, args...), cli.IO{
			In: strings.NewReader(""), Out: &out, Err: &errOut, Getenv: os.Getenv, Environ: os.Environ,
		})
	}()
	var once sync.Once
	var res itResult
	t.Cleanup(func() { stop() })
	stop = func() itResult {
		once.Do(func() {
			cancel()
			select {
			case code := <-done:
				res = itResult{code, out.String(), errOut.String()}
			case <-time.After(30 * time.Second):
				t.Errorf("drover %s did not stop within 30s of its context ending", strings.Join(args, " "))
			}
			t.Logf("drover %s -> %d\n%s%s", strings.Join(args, " "), res.code, res.stdout, res.stderr)
		})
		return res
	}
	return stop
}

func groupCount(t *testing.T, nomad, job string) int {
	t.Helper()
	code, body := api(t, "GET", nomad+"/v1/job/"+job+"/scale", "", "")
	if code != 200 {
		t.Fatalf("scale status of %s: %d %s", job, code, body)
	}
	var st struct {
		TaskGroups map[string]struct{ Desired int }
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	return st.TaskGroups[job].Desired
}

// TestAutoscaleAgainstNomad: drover deploys two apps with scaling policies;
// drover autoscale discovers them through Nomad's scaling policy API, reads
// real allocation stats, scales both, records why in Nomad's scaling
// events, explains a policy, and in HA mode holds and then releases a real
// Nomad variable lock.
func TestAutoscaleAgainstNomad(t *testing.T) {
	nomad, _, _ := requireAll(t)
	dir := writeProject(t, map[string]string{"drover.hcl": itProject, "scaled.hcl": itScaled})
	t.Cleanup(func() { drover(t, append([]string{"destroy", dir, "--yes", "--purge"}, imageArgs()...)...) })

	if r := drover(t, append([]string{"deploy", dir}, imageArgs()...)...); r.code != cli.ExitOK {
		t.Fatalf("deploy: exit %d", r.code)
	}

	// Before the reconciler runs: explain says what it would do, with the
	// real data points nomad-apm read.
	r := drover(t, "autoscale", "explain", "it-cpu", "--json")
	if r.code != cli.ExitOK {
		t.Fatalf("explain: exit %d", r.code)
	}
	var x struct {
		Evaluation struct {
			Current int64
			Checks  []struct {
				Strategy string
				Points   []struct{ Value float64 }
			}
			Final struct{ Count int64 }
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &x); err != nil {
		t.Fatalf("explain --json: %v", err)
	}
	if len(x.Evaluation.Checks) != 1 || len(x.Evaluation.Checks[0].Points) == 0 {
		t.Fatalf("explain read no CPU data points from Nomad: %+v", x.Evaluation)
	}
	if x.Evaluation.Current != 2 || x.Evaluation.Final.Count != 1 {
		t.Errorf("an idle app at 2 should go to its minimum 1, explain says %d -> %d", x.Evaluation.Current, x.Evaluation.Final.Count)
	}
	if groupCount(t, nomad, "it-cpu") != 2 {
		t.Fatal("explain must not scale")
	}

	// Two instances in HA mode: one holds the lock and scales.
	lockURL := nomad + "/v1/var/drover/it/autoscale-lock"
	ha := []string{"autoscale", "--ha", "--lock-path", "drover/it/autoscale-lock", "--lock-ttl", "10s", "--listen", ""}
	stopA := droverBackground(t, ha...)
	stopB := droverBackground(t, ha...)
	testutil.Eventually(t, 90*time.Second, "it-pinned is at its fixed 2 and it-cpu at its minimum 1", func() bool {
		return groupCount(t, nomad, "it-pinned") == 2 && groupCount(t, nomad, "it-cpu") == 1
	})
	if code, body := api(t, "GET", lockURL, "", ""); code != 200 || !strings.Contains(body, `"ID":"`) {
		t.Errorf("the HA lock variable while running: %d %s", code, body)
	}

	code, body := api(t, "GET", nomad+"/v1/job/it-pinned/scale", "", "")
	if code != 200 || !strings.Contains(body, `"drover.winner":"pin"`) || !strings.Contains(body, "fixed value is 2") {
		t.Errorf("the scaling event should carry drover's reason: %s", body)
	}
	code, body = api(t, "GET", nomad+"/v1/job/it-cpu/scale", "", "")
	if code != 200 || !strings.Contains(body, `"drover.metric"`) {
		t.Errorf("the scaling event should carry the metric it acted on: %s", body)
	}

	resA, resB := stopA(), stopB()
	if resA.code != cli.ExitOK || resB.code != cli.ExitOK {
		t.Errorf("autoscale exits: %d and %d, want 0 on shutdown", resA.code, resB.code)
	}
	leaders := 0
	for _, r := range []itResult{resA, resB} {
		if strings.Contains(r.stderr, "reconciler active") {
			leaders++
		}
	}
	if leaders != 1 {
		t.Errorf("%d instances became active; the lock allows one", leaders)
	}
	// Released on shutdown, so a standby need not wait out TTL and delay.
	if code, body := api(t, "GET", lockURL, "", ""); code == 200 && strings.Contains(body, `"ID":"`) {
		t.Errorf("the HA lock is still held after both instances stopped: %s", body)
	}
}

// it-prom scales on a PromQL expression that needs no scrape target: a
// constant 140 against a target of 70 asks for twice the instances.
var itProm = itScalingApp("it-prom", 1, `
      cooldown = "1m"
      check "load" {
        source       = "prometheus"
        query        = "vector(140)"
        query_window = "30s"
        strategy "target-value" {
          target = 70
        }
      }`)

// TestAutoscalePrometheusSource: range queries against a real Prometheus
// server (PROMETHEUS_ADDR) drive a scale, and explain shows the points.
func TestAutoscalePrometheusSource(t *testing.T) {
	nomad, _, _ := requireAll(t)
	prom := requireAgent(t, "PROMETHEUS_ADDR", "/-/ready")
	dir := writeProject(t, map[string]string{"drover.hcl": itProject, "prom.hcl": itProm})
	t.Cleanup(func() { drover(t, append([]string{"destroy", dir, "--yes", "--purge"}, imageArgs()...)...) })
	if r := drover(t, append([]string{"deploy", dir}, imageArgs()...)...); r.code != cli.ExitOK {
		t.Fatalf("deploy: exit %d", r.code)
	}

	r := drover(t, "autoscale", "explain", "it-prom", "--prometheus-addr", prom, "--json")
	if r.code != cli.ExitOK {
		t.Fatalf("explain: exit %d", r.code)
	}
	var x struct {
		Evaluation struct {
			Checks []struct{ Points []struct{ Value float64 } }
			Final  struct{ Count int64 }
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &x); err != nil {
		t.Fatal(err)
	}
	if len(x.Evaluation.Checks) != 1 || len(x.Evaluation.Checks[0].Points) < 20 || x.Evaluation.Final.Count != 2 {
		t.Fatalf("want a 30s range of points at 1s steps and a decision of 2, got %+v", x.Evaluation)
	}

	stop := droverBackground(t, "autoscale", "--prometheus-addr", prom, "--listen", "")
	testutil.Eventually(t, 60*time.Second, "it-prom is at 2", func() bool { return groupCount(t, nomad, "it-prom") == 2 })
	if res := stop(); res.code != cli.ExitOK {
		t.Errorf("autoscale exit %d", res.code)
	}
}

//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover-io/drover/pkg/cli"
)

// it-pinned scales to a fixed count (no metrics); it-cpu scales on real
// CPU usage from Nomad's allocation stats (nomad-apm): an idle test app is
// far under target, so it goes down to its minimum at once (no
// stabilization window).
const itScaled = `
app "it-pinned" {
  image = var.image
  count = 1
  env = {
    LISTEN_ADDR = ":8080"
  }
  update {
    min_healthy_time = "1s"
    healthy_deadline = "25s"
    progress_deadline = "50s"
  }
  scaling {
    min = 1
    max = 3
    policy {
      evaluation_interval = "2s"
      cooldown            = "5s"
      check "pin" {
        strategy "fixed-value" {
          value = 2
        }
      }
    }
  }
}

app "it-cpu" {
  image = var.image
  count = 2
  env = {
    LISTEN_ADDR = ":8080"
  }
  update {
    min_healthy_time = "1s"
    healthy_deadline = "25s"
    progress_deadline = "50s"
  }
  scaling {
    min = 1
    max = 3
    policy {
      evaluation_interval = "2s"
      cooldown            = "5s"
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
      }
    }
  }
}
`

// droverBackground runs drover until the returned stop is called, and
// returns its exit code and output then.
func droverBackground(t *testing.T, args ...string) (stop func() itResult) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
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

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
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

func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting until %s", timeout, what)
		}
		time.Sleep(500 * time.Millisecond)
	}
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
	waitUntil(t, 90*time.Second, "it-pinned is at its fixed 2 and it-cpu at its minimum 1", func() bool {
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

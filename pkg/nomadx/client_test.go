package nomadx_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/internal/fakes/nomadfake"
	"github.com/drover-io/drover/pkg/apierr"
	"github.com/drover-io/drover/pkg/config"
	"github.com/drover-io/drover/pkg/nomadx"
	"github.com/drover-io/drover/pkg/retry"
)

func newClient(t *testing.T) (*nomadfake.Server, *nomadx.Client) {
	t.Helper()
	s := nomadfake.New(t)
	c, err := nomadx.New(config.Endpoint{Address: s.URL()}, nomadx.Options{
		Retry: retry.Policy{Attempts: 3, Base: time.Millisecond, Max: 2 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// serviceJob is a service job with an update block, so that registering it
// starts a deployment.
func serviceJob(id string, meta map[string]string) *nomadapi.Job {
	return &nomadapi.Job{
		ID: new(id), Name: new(id), Type: new("service"), Datacenters: []string{"dc1"}, Meta: meta,
		Update: &nomadapi.UpdateStrategy{MaxParallel: new(1)},
		TaskGroups: []*nomadapi.TaskGroup{{
			Name: new(id), Count: new(1),
			Scaling: &nomadapi.ScalingPolicy{Min: new(int64(1)), Max: new(int64(3)), Enabled: new(true)},
			Tasks:   []*nomadapi.Task{{Name: id, Driver: "docker", Config: map[string]any{"image": "r/" + id + ":1"}}},
		}},
	}
}

func count(s *nomadfake.Server, method, path string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

func TestJobNotFound(t *testing.T) {
	_, c := newClient(t)
	_, err := c.Job(ctx(t), "nope")
	if !errors.Is(err, apierr.ErrNotFound) {
		t.Fatalf("want ErrNotFound, got %v", err)
	}
	var e *apierr.Error
	if !errors.As(err, &e) || e.System != apierr.Nomad || e.Op != "read job" || e.Object != `"nope"` || e.Status != http.StatusNotFound {
		t.Errorf("error = %+v", e)
	}
	if errors.Is(err, apierr.ErrConflict) || errors.Is(err, apierr.ErrPermission) || apierr.Transient(err) {
		t.Errorf("a 404 is only not-found: %v", err)
	}
}

func TestRegisterCheckAndSet(t *testing.T) {
	cases := []struct {
		name     string
		existing bool
		index    func(live uint64) uint64
		conflict bool
	}{
		{"create when absent", false, func(uint64) uint64 { return 0 }, false},
		{"create when it exists", true, func(uint64) uint64 { return 0 }, true},
		{"update at the index read", true, func(live uint64) uint64 { return live }, false},
		{"update at a stale index", true, func(live uint64) uint64 { return live - 1 }, true},
		{"update of a job that is gone", false, func(uint64) uint64 { return 7 }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, c := newClient(t)
			var live uint64
			if tc.existing {
				live = s.SeedJob(serviceJob("api", nil))
			}
			s.ResetRequests()
			job := serviceJob("api", map[string]string{"v": "2"})
			resp, err := c.Register(ctx(t), job, nomadx.RegisterOptions{EnforceIndex: true, ModifyIndex: tc.index(live)})
			if got := count(s, http.MethodPut, "/v1/jobs"); got != 1 {
				t.Errorf("%d registers, want 1 (a conflict is final)", got)
			}
			if !tc.conflict {
				if err != nil {
					t.Fatalf("register: %v", err)
				}
				if resp.EvalID == "" || s.Job("api").Meta["v"] != "2" {
					t.Errorf("register did not store the job: %+v", resp)
				}
				return
			}
			if !errors.Is(err, apierr.ErrConflict) {
				t.Fatalf("want ErrConflict, got %v", err)
			}
			if apierr.Transient(err) {
				t.Error("a conflict must not be retried")
			}
			if j := s.Job("api"); j != nil && j.Meta["v"] == "2" {
				t.Error("the conflicting register overwrote the job")
			}
		})
	}
}

func TestRetries(t *testing.T) {
	cases := []struct {
		name     string
		method   string
		path     string
		status   int
		failures int
		call     func(c *nomadx.Client) error
		requests int
		wantErr  bool
	}{
		{
			name: "read: two 500s then success", method: http.MethodGet, path: "/v1/job/api", status: 500, failures: 2,
			call:     func(c *nomadx.Client) error { _, err := c.Job(context.Background(), "api"); return err },
			requests: 3,
		},
		{
			name: "read: 500 on every attempt", method: http.MethodGet, path: "/v1/job/api", status: 500, failures: 5,
			call:     func(c *nomadx.Client) error { _, err := c.Job(context.Background(), "api"); return err },
			requests: 3, wantErr: true,
		},
		{
			name: "read: 429 is retried", method: http.MethodGet, path: "/v1/job/api", status: 429, failures: 1,
			call:     func(c *nomadx.Client) error { _, err := c.Job(context.Background(), "api"); return err },
			requests: 2,
		},
		{
			name: "read: 403 is final", method: http.MethodGet, path: "/v1/job/api", status: 403, failures: 1,
			call:     func(c *nomadx.Client) error { _, err := c.Job(context.Background(), "api"); return err },
			requests: 1, wantErr: true,
		},
		{
			name: "write: a 500 is ambiguous and not retried", method: http.MethodPut, path: "/v1/jobs", status: 500, failures: 1,
			call: func(c *nomadx.Client) error {
				_, err := c.Register(context.Background(), serviceJob("api", nil), nomadx.RegisterOptions{})
				return err
			},
			requests: 1, wantErr: true,
		},
		{
			name: "write: a 503 never reached the scheduler and is retried", method: http.MethodPut, path: "/v1/jobs", status: 503, failures: 2,
			call: func(c *nomadx.Client) error {
				_, err := c.Register(context.Background(), serviceJob("api", nil), nomadx.RegisterOptions{})
				return err
			},
			requests: 3,
		},
		{
			// Nomad answers 500 to a job that fails validation: planning it
			// again gets the same answer.
			name: "plan: a 500 is final", method: http.MethodPut, path: "/v1/job/api/plan", status: 500, failures: 2,
			call: func(c *nomadx.Client) error {
				_, err := c.Plan(context.Background(), serviceJob("api", nil))
				return err
			},
			requests: 1, wantErr: true,
		},
		{
			name: "plan: a 503 is retried", method: http.MethodPut, path: "/v1/job/api/plan", status: 503, failures: 2,
			call: func(c *nomadx.Client) error {
				_, err := c.Plan(context.Background(), serviceJob("api", nil))
				return err
			},
			requests: 3,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, c := newClient(t)
			s.SeedJob(serviceJob("api", nil))
			s.FailNext(tc.method, tc.path, tc.status, "injected failure", tc.failures)
			s.ResetRequests()
			err := tc.call(c)
			if got := count(s, tc.method, tc.path); got != tc.requests {
				t.Errorf("%d requests, want %d", got, tc.requests)
			}
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error: %v", err, tc.wantErr)
			}
			var e *apierr.Error
			if err != nil && (!errors.As(err, &e) || e.Status != tc.status || e.Message != "injected failure") {
				t.Errorf("error = %#v", err)
			}
		})
	}
}

func TestLatestDeploymentBlockingQuery(t *testing.T) {
	t.Run("returns when the deployment changes", func(t *testing.T) {
		s, c := newClient(t)
		if _, err := c.Register(ctx(t), serviceJob("api", nil), nomadx.RegisterOptions{}); err != nil {
			t.Fatal(err)
		}
		d, idx, err := c.LatestDeployment(ctx(t), "api", 0)
		if err != nil || d == nil || d.Status != nomadfake.StatusRunning {
			t.Fatalf("deployment %+v, err %v", d, err)
		}
		type result struct {
			d   *nomadapi.Deployment
			err error
		}
		done := make(chan result, 1)
		go func() {
			d, _, err := c.LatestDeployment(ctx(t), "api", idx)
			done <- result{d, err}
		}()
		// Change the deployment once the query waits in the fake.
		waitForRequest(t, s, "/v1/job/api/deployment", idx)
		s.CompleteDeployment("api")
		r := <-done
		if r.err != nil || r.d == nil || r.d.Status != nomadfake.StatusSuccessful {
			t.Errorf("blocking query returned %+v, %v; want the successful deployment", r.d, r.err)
		}
	})

	t.Run("returns promptly when the context ends", func(t *testing.T) {
		s, c := newClient(t)
		if _, err := c.Register(ctx(t), serviceJob("api", nil), nomadx.RegisterOptions{}); err != nil {
			t.Fatal(err)
		}
		_, idx, err := c.LatestDeployment(ctx(t), "api", 0)
		if err != nil {
			t.Fatal(err)
		}
		qctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		start := time.Now()
		go func() {
			_, _, err := c.LatestDeployment(qctx, "api", idx)
			done <- err
		}()
		waitForRequest(t, s, "/v1/job/api/deployment", idx)
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("want context.Canceled, got %v", err)
			}
			if apierr.Transient(err) {
				t.Error("a cancelled call must not be retried")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the blocking query ignored its context (it would wait five minutes)")
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("cancel took %v", took)
		}
		if got := count(s, http.MethodGet, "/v1/job/api/deployment"); got != 2 {
			t.Errorf("%d deployment reads, want 2 (no retry after cancel)", got)
		}
	})
}

// waitForRequest waits until the fake has received a blocking read of path
// at index: the moment a test may change what the query waits for.
func waitForRequest(t *testing.T, s *nomadfake.Server, path string, index uint64) {
	t.Helper()
	want := strconv.FormatUint(index, 10)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.After(5 * time.Second)
	for {
		for _, r := range s.Requests() {
			if r.Path == path && r.Query.Get("index") == want {
				return
			}
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("no blocking request for %s at index %s", path, want)
		}
	}
}

func TestScale(t *testing.T) {
	s, c := newClient(t)
	live := s.SeedJob(serviceJob("api", nil)) // seeded: no deployment

	if _, err := c.Scale(ctx(t), "api", nomadx.ScaleRequest{Group: "api", Count: 9, Message: "too many"}); err == nil {
		t.Error("a count above the policy's max must be refused")
	} else if e := (*apierr.Error)(nil); !errors.As(err, &e) || e.Status != http.StatusBadRequest || nomadx.IsDeploymentActive(err) {
		t.Errorf("error = %v", err)
	}

	_, err := c.Scale(ctx(t), "api", nomadx.ScaleRequest{Group: "api", Count: 2, JobModifyIndex: live - 1})
	if !errors.Is(err, apierr.ErrConflict) {
		t.Errorf("a stale job modify index: want ErrConflict, got %v", err)
	}

	resp, err := c.Scale(ctx(t), "api", nomadx.ScaleRequest{Group: "api", Count: 2, Message: "m", JobModifyIndex: live, Meta: map[string]any{"k": "v"}})
	if err != nil {
		t.Fatalf("scale: %v", err)
	}
	if resp.EvalID == "" || *s.Job("api").TaskGroups[0].Count != 2 {
		t.Errorf("scale did not apply: %+v", resp)
	}
	ev := s.ScalingEvents("api", "api")[0]
	if ev.Message != "m" || ev.Meta["k"] != "v" {
		t.Errorf("event = %+v", ev)
	}

	// The scale started a deployment; the next scale meets it.
	_, err = c.Scale(ctx(t), "api", nomadx.ScaleRequest{Group: "api", Count: 3})
	if !nomadx.IsDeploymentActive(err) {
		t.Errorf("want the active-deployment refusal, got %v", err)
	}
}

func TestJobsWithMeta(t *testing.T) {
	s, c := newClient(t)
	s.SeedJob(serviceJob("b", map[string]string{"drover-project": "p"}))
	s.SeedJob(serviceJob("a", map[string]string{"drover-project": "p"}))
	s.SeedJob(serviceJob("c", map[string]string{"drover-project": "q"}))
	s.SeedJob(serviceJob("d", nil))
	stubs, err := c.JobsWithMeta(ctx(t), "drover-project", "p")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, st := range stubs {
		ids = append(ids, st.ID+"="+st.Meta["drover-project"])
	}
	if diff := cmp.Diff([]string{"a=p", "b=p"}, ids); diff != "" {
		t.Errorf("jobs (-want +got):\n%s", diff)
	}
}

func TestDeregisterMissingJobSucceeds(t *testing.T) {
	_, c := newClient(t)
	if _, err := c.Deregister(ctx(t), "nope", false); err != nil {
		t.Errorf("deregister of a missing job: %v", err)
	}
}

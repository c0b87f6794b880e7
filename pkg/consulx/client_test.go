package consulx_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	consulapi "github.com/hashicorp/consul/api"

	"github.com/drover-io/drover/internal/fakes/consulfake"
	"github.com/drover-io/drover/pkg/apierr"
	"github.com/drover-io/drover/pkg/config"
	"github.com/drover-io/drover/pkg/consulx"
	"github.com/drover-io/drover/pkg/retry"
)

func newClient(t *testing.T) (*consulfake.Server, *consulx.Client) {
	t.Helper()
	s := consulfake.New(t)
	c, err := consulx.New(config.Endpoint{Address: s.URL()}, consulx.Options{
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

func defaults(name, protocol string) *consulapi.ServiceConfigEntry {
	return &consulapi.ServiceConfigEntry{Kind: consulapi.ServiceDefaults, Name: name, Protocol: protocol}
}

func count(s *consulfake.Server, method, path string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

func protocolOf(t *testing.T, s *consulfake.Server, name string) string {
	t.Helper()
	e, _ := s.ConfigEntry(consulapi.ServiceDefaults, name).(*consulapi.ServiceConfigEntry)
	if e == nil {
		return ""
	}
	return e.Protocol
}

func TestNotFound(t *testing.T) {
	_, c := newClient(t)
	_, err := c.ConfigEntry(ctx(t), consulapi.ServiceDefaults, "nope")
	if !errors.Is(err, apierr.ErrNotFound) {
		t.Errorf("config entry: want ErrNotFound, got %v", err)
	}
	var e *apierr.Error
	if !errors.As(err, &e) || e.System != apierr.Consul || e.Object != `service-defaults "nope"` {
		t.Errorf("error = %+v", e)
	}
	if _, err := c.Node(ctx(t), "external-nope"); !errors.Is(err, apierr.ErrNotFound) {
		t.Errorf("node: want ErrNotFound, got %v", err)
	}
}

func TestSetConfigEntryCheckAndSet(t *testing.T) {
	cases := []struct {
		name     string
		existing bool
		write    *consulapi.ServiceConfigEntry
		index    func(live uint64) uint64
		conflict bool
	}{
		{"create when absent", false, defaults("api", "http"), func(uint64) uint64 { return 0 }, false},
		{"create when it exists", true, defaults("api", "grpc"), func(uint64) uint64 { return 0 }, true},
		{"update at the index read", true, defaults("api", "grpc"), func(live uint64) uint64 { return live }, false},
		{"update at a stale index", true, defaults("api", "grpc"), func(live uint64) uint64 { return live - 1 }, true},
		// Consul skips a write that changes nothing, whatever the index.
		{"same content at a stale index", true, defaults("api", "tcp"), func(live uint64) uint64 { return live - 1 }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, c := newClient(t)
			var live uint64
			if tc.existing {
				s.SeedConfigEntry(defaults("api", "tcp"))
				live = s.ConfigEntry(consulapi.ServiceDefaults, "api").GetModifyIndex()
			}
			s.ResetRequests()
			err := c.SetConfigEntry(ctx(t), tc.write, tc.index(live))
			if got := count(s, http.MethodPut, "/v1/config"); got != 1 {
				t.Errorf("%d writes, want 1", got)
			}
			if !tc.conflict {
				if err != nil {
					t.Fatalf("write: %v", err)
				}
				if got := protocolOf(t, s, "api"); got != tc.write.Protocol {
					t.Errorf("protocol = %q, want %q", got, tc.write.Protocol)
				}
				return
			}
			if !errors.Is(err, apierr.ErrConflict) || apierr.Transient(err) {
				t.Fatalf("want a final ErrConflict, got %v", err)
			}
			if got := protocolOf(t, s, "api"); got != "tcp" {
				t.Errorf("the conflicting write changed the entry: protocol %q", got)
			}
		})
	}
}

func TestDeleteConfigEntryCheckAndSet(t *testing.T) {
	s, c := newClient(t)
	s.SeedConfigEntry(defaults("api", "http"))
	live := s.ConfigEntry(consulapi.ServiceDefaults, "api").GetModifyIndex()

	if err := c.DeleteConfigEntry(ctx(t), consulapi.ServiceDefaults, "api", live-1); !errors.Is(err, apierr.ErrConflict) {
		t.Errorf("stale delete: want ErrConflict, got %v", err)
	}
	if s.ConfigEntry(consulapi.ServiceDefaults, "api") == nil {
		t.Fatal("a stale delete deleted the entry")
	}
	if err := c.DeleteConfigEntry(ctx(t), consulapi.ServiceDefaults, "api", live); err != nil {
		t.Errorf("delete at the index read: %v", err)
	}
	if s.ConfigEntry(consulapi.ServiceDefaults, "api") != nil {
		t.Error("the entry is still there")
	}
	if err := c.DeleteConfigEntry(ctx(t), consulapi.ServiceDefaults, "api", 0); err != nil {
		t.Errorf("deleting an absent entry: %v", err)
	}
}

func TestRetries(t *testing.T) {
	cases := []struct {
		name     string
		method   string
		path     string
		status   int
		failures int
		call     func(c *consulx.Client) error
		requests int
		want     error // a sentinel, or nil for success
		wantErr  bool
	}{
		{
			name: "read: two 500s then success", method: http.MethodGet, path: "/v1/config/service-defaults/api", status: 500, failures: 2,
			call: func(c *consulx.Client) error {
				_, err := c.ConfigEntry(context.Background(), consulapi.ServiceDefaults, "api")
				return err
			},
			requests: 3,
		},
		{
			// Consul answers 500 to an entry it refuses ("discovery chain ...
			// uses inconsistent protocols"): sending it again changes nothing.
			name: "write: a 500 is final", method: http.MethodPut, path: "/v1/config", status: 500, failures: 1,
			call: func(c *consulx.Client) error {
				return c.SetConfigEntry(context.Background(), defaults("web", "http"), 0)
			},
			requests: 1, wantErr: true,
		},
		{
			name: "write: 503 on every attempt", method: http.MethodPut, path: "/v1/config", status: 503, failures: 5,
			call: func(c *consulx.Client) error {
				return c.SetConfigEntry(context.Background(), defaults("web", "http"), 0)
			},
			requests: 3, wantErr: true,
		},
		{
			name: "write: one 503 is retried (Consul did not act)", method: http.MethodPut, path: "/v1/config", status: 503, failures: 1,
			call: func(c *consulx.Client) error {
				return c.SetConfigEntry(context.Background(), defaults("web", "http"), 0)
			},
			requests: 2,
		},
		{
			name: "403 is final", method: http.MethodGet, path: "/v1/config/service-defaults/api", status: 403, failures: 1,
			call: func(c *consulx.Client) error {
				_, err := c.ConfigEntry(context.Background(), consulapi.ServiceDefaults, "api")
				return err
			},
			requests: 1, want: apierr.ErrPermission, wantErr: true,
		},
		{
			name: "400 is final", method: http.MethodPut, path: "/v1/catalog/register", status: 400, failures: 1,
			call: func(c *consulx.Client) error {
				return c.Register(context.Background(), &consulapi.CatalogRegistration{Node: "n", Address: "10.0.0.1"})
			},
			requests: 1, wantErr: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, c := newClient(t)
			s.SeedConfigEntry(defaults("api", "http"))
			s.FailNext(tc.method, tc.path, tc.status, "injected failure", tc.failures)
			s.ResetRequests()
			err := tc.call(c)
			if got := count(s, tc.method, tc.path); got != tc.requests {
				t.Errorf("%d requests, want %d", got, tc.requests)
			}
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error: %v", err, tc.wantErr)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("want %v, got %v", tc.want, err)
			}
			var e *apierr.Error
			if err != nil && (!errors.As(err, &e) || e.Status != tc.status || e.Message != "injected failure") {
				t.Errorf("error = %#v", err)
			}
		})
	}
}

// A lost answer to a config write is not retried: the write may have
// happened, and a check-and-set retry of it would read as a conflict. The
// next run reads what is there and repairs.
func TestWriteNotRetriedAfterHangup(t *testing.T) {
	s, c := newClient(t)
	s.Hangup("/v1/config", 1)
	if err := c.SetConfigEntry(ctx(t), defaults("web", "http"), 0); err == nil {
		t.Fatal("a write whose answer was lost reported success")
	}
	if got := count(s, http.MethodPut, "/v1/config"); got != 1 {
		t.Errorf("%d writes, want 1", got)
	}
}

func TestContextEndsASlowCall(t *testing.T) {
	s, c := newClient(t)
	s.Delay("/v1/config/", time.Minute)
	qctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.ConfigEntries(qctx, consulapi.ServiceDefaults)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("want context.DeadlineExceeded, got %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the call outlived its context by %v", took)
	}
	if got := count(s, http.MethodGet, "/v1/config/service-defaults"); got != 1 {
		t.Errorf("%d requests, want 1 (no retry after the context ended)", got)
	}
}

func TestCatalogAndHealth(t *testing.T) {
	s, c := newClient(t)
	meta := map[string]string{"drover-project": "p"}
	for _, n := range []string{"external-b", "external-a"} {
		err := c.Register(ctx(t), &consulapi.CatalogRegistration{
			Node: n, Address: "10.0.0.1", NodeMeta: meta,
			Service: &consulapi.AgentService{ID: n, Service: n, Port: 5432},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	nodes, err := c.NodesWithMeta(ctx(t), "drover-project", "p")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range nodes {
		names = append(names, n.Node)
	}
	if diff := cmp.Diff([]string{"external-a", "external-b"}, names); diff != "" {
		t.Errorf("nodes (-want +got):\n%s", diff)
	}
	if err := c.Deregister(ctx(t), "external-a"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Node(ctx(t), "external-a"); !errors.Is(err, apierr.ErrNotFound) {
		t.Errorf("deregistered node: want ErrNotFound, got %v", err)
	}

	s.SetHealth("web", 2, 0, 1)
	entries, err := c.Health(ctx(t), "web")
	if err != nil {
		t.Fatal(err)
	}
	var statuses []string
	for _, e := range entries {
		statuses = append(statuses, e.Checks.AggregatedStatus())
	}
	if diff := cmp.Diff([]string{"passing", "passing", "critical"}, statuses); diff != "" {
		t.Errorf("health (-want +got):\n%s", diff)
	}
}

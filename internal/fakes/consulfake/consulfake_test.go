package consulfake_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/drover-io/drover/internal/fakes/consulfake"
)

// Fake-only cases: what a test sets up through the fake's own helpers
// (SetHealth, SeedConfigEntry, injected faults, the request log), and the
// answers to what the fake does not model. They cannot run against a real
// agent; contract_test.go holds the cases that do.

func TestSetHealth(t *testing.T) {
	srv := consulfake.New(t)
	c := srv.Client()
	srv.SetHealth("api", 2, 1, 1)
	all, _, err := c.Health().Service("api", "", false, nil)
	if err != nil || len(all) != 4 {
		t.Fatalf("all instances = %d, %v", len(all), err)
	}
	var statuses []string
	for _, e := range all {
		statuses = append(statuses, e.Checks.AggregatedStatus())
	}
	if got := strings.Join(statuses, " "); got != "passing passing warning critical" {
		t.Errorf("statuses = %s", got)
	}
	srv.SetHealth("api", 0, 0, 0)
	if none, _, err := c.Health().Service("api", "", false, nil); err != nil || len(none) != 0 {
		t.Errorf("after SetHealth(0, 0, 0) = %+v, %v", none, err)
	}
}

func TestSeedConfigEntry(t *testing.T) {
	srv := consulfake.New(t)
	srv.SeedConfigEntry(&api.ServiceConfigEntry{Kind: api.ServiceDefaults, Name: "api", Protocol: "HTTP"})
	e, _, err := srv.Client().ConfigEntries().Get(api.ServiceDefaults, "api", nil)
	if err != nil || e.(*api.ServiceConfigEntry).Protocol != "http" || e.GetModifyIndex() == 0 {
		t.Errorf("seeded entry = %+v, %v", e, err)
	}
	if names := srv.ConfigEntryNames(api.ServiceDefaults); len(names) != 1 || names[0] != "api" {
		t.Errorf("names = %v", names)
	}
	if w := srv.Writes(); len(w) != 0 {
		t.Errorf("seeding logged writes: %+v", w)
	}
}

// A query watches the table it reads: a catalog write does not wake a
// config entry query.
func TestBlockingPerTable(t *testing.T) {
	srv := consulfake.New(t)
	c := srv.Client()
	srv.SeedConfigEntry(&api.ServiceConfigEntry{Kind: api.ServiceDefaults, Name: "api", Protocol: "http"})
	_, meta, err := c.ConfigEntries().List(api.ServiceDefaults, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan uint64, 1)
	go func() {
		_, m, err := c.ConfigEntries().List(api.ServiceDefaults, &api.QueryOptions{WaitIndex: meta.LastIndex, WaitTime: time.Minute})
		if err != nil {
			t.Error(err)
		}
		done <- m.LastIndex
	}()
	srv.SetHealth("x", 1, 0, 0)
	select {
	case <-done:
		t.Fatal("config query woke without a config write")
	case <-time.After(20 * time.Millisecond):
	}
	srv.SeedConfigEntry(&api.ServiceConfigEntry{Kind: api.ServiceDefaults, Name: "web", Protocol: "http"})
	select {
	case idx := <-done:
		if idx <= meta.LastIndex {
			t.Errorf("woken query index %d, want > %d", idx, meta.LastIndex)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("config query did not wake on a write")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, _, err = c.Health().Service("x", "", false, (&api.QueryOptions{WaitIndex: srv.Index(), WaitTime: time.Minute}).WithContext(ctx))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled query err = %v", err)
	}
}

func TestFaultInjection(t *testing.T) {
	srv := consulfake.New(t)
	c := srv.Client()
	srv.FailNext(http.MethodPut, "/v1/config", 500, "rpc error: No cluster leader", 1)
	_, _, err := c.ConfigEntries().Set(defaults("api", "http"), nil)
	if status, body := statusOf(t, err); status != 500 || body != "rpc error: No cluster leader" {
		t.Errorf("injected failure: %d %q", status, body)
	}
	if srv.ConfigEntry(api.ServiceDefaults, "api") != nil {
		t.Errorf("a failed write stored the entry")
	}
	srv.Hangup("/v1/config", 1)
	if _, _, err := c.ConfigEntries().Set(defaults("api", "http"), nil); err == nil {
		t.Errorf("write through a hangup succeeded")
	}
	srv.Delay("/v1/catalog/datacenters", time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := c.Raw().Query("/v1/catalog/datacenters", new([]string), (&api.QueryOptions{}).WithContext(ctx)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("delayed read err = %v", err)
	}
	srv.Delay("/v1/catalog/datacenters", 0)
	dcs, err := c.Catalog().Datacenters()
	if err != nil || len(dcs) != 1 || dcs[0] != "dc1" {
		t.Errorf("datacenters = %v, %v", dcs, err)
	}
	if n := len(srv.Requests()); n != 4 {
		t.Errorf("%d requests logged, want 4 (failed, hung up, delayed, served)", n)
	}
	if w := len(srv.Writes()); w != 2 {
		t.Errorf("%d writes logged, want 2", w)
	}
}

func TestConcurrentWrites(t *testing.T) {
	srv := consulfake.New(t)
	c := srv.Client()
	var wg sync.WaitGroup
	for _, name := range []string{"a", "b", "c", "d", "e", "f"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := c.ConfigEntries().Set(defaults(name, "http"), nil); err != nil {
				t.Error(err)
			}
			if _, _, err := c.ConfigEntries().Get(api.ServiceDefaults, name, nil); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	list, _, err := c.ConfigEntries().List(api.ServiceDefaults, nil)
	if err != nil || len(list) != 6 {
		t.Errorf("list = %d, %v", len(list), err)
	}
}

// What the fake does not model answers 404 (an endpoint it does not serve)
// or 501 (a request it would otherwise answer wrongly).
func TestUnmodelled(t *testing.T) {
	srv := consulfake.New(t)
	tg := newTarget(t, &api.Config{Address: strings.TrimPrefix(srv.URL(), "http://")}, srv)
	for _, tc := range []struct {
		method, path, body string
		status             int
	}{
		{"GET", "/v1/catalog/services", "", 404},
		{"GET", "/v1/kv/x", "", 404},
		{"PUT", "/v1/config", `{"Kind":"proxy-defaults","Name":"global"}`, 501},
		{"PUT", "/v1/catalog/register", `{"Node":"n","Address":"a","Checks":[{"Name":"c"}]}`, 501},
		{"PUT", "/v1/catalog/deregister", `{"Node":"n","ServiceID":"s"}`, 501},
	} {
		if status, body := tg.raw(t, tc.method, tc.path, tc.body); status != tc.status {
			t.Errorf("%s %s: %d %q, want %d", tc.method, tc.path, status, body, tc.status)
		}
	}
}

package vaultfake_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drover-io/drover/internal/fakes/vaultfake"
)

// Fake-only cases: the fake's own helpers (PutSecret, Secret, Role,
// AddMount, RemoveMount), injected faults, the request log, and the
// answers to what the fake does not model. They cannot run against a real
// server; contract_test.go holds the cases that do.

func fakeTarget(t *testing.T) (*vaultfake.Server, *target) {
	srv := vaultfake.New(t)
	return srv, newTarget(srv.URL(), vaultfake.RootToken, srv)
}

func TestHelpers(t *testing.T) {
	srv, tg := fakeTarget(t)
	if got, ok := srv.Policy("default"); !ok || !strings.Contains(got, "lookup-self") {
		t.Errorf("default policy = %q, %v", got, ok)
	}
	srv.PutPolicy("Drover-API", "path \"x\" {}")
	if r := tg.do(t, "GET", "/v1/sys/policies/acl/drover-api", nil); r.status != 200 || data(r)["policy"] != "path \"x\" {}" {
		t.Errorf("PutPolicy: %d %s", r.status, r.raw)
	}

	if r := tg.do(t, "PUT", "/v1/auth/jwt-nomad/role/api", droverRole("drover-api")); r.status != 204 {
		t.Fatalf("write role: %d %s", r.status, r.raw)
	}
	if got := srv.Role("jwt-nomad", "API")["token_period"]; got != int64(1800) {
		t.Errorf("Role helper token_period = %v (%T)", got, got)
	}
	if got := srv.Roles("jwt-nomad"); !cmp.Equal(got, []string{"api"}) {
		t.Errorf("Roles = %v", got)
	}

	srv.PutSecret("secret", "p/db", map[string]any{"password": "x"})
	srv.PutSecret("secret", "p/db", map[string]any{"password": "y"})
	if got := srv.Secret("secret", "p/db"); got["password"] != "y" {
		t.Errorf("Secret = %v", got)
	}
	if r := tg.do(t, "GET", "/v1/secret/data/p/db", nil); data(r)["metadata"].(map[string]any)["version"] != 2.0 {
		t.Errorf("second PutSecret is not version 2: %s", r.raw)
	}
	tg.do(t, "DELETE", "/v1/secret/data/p/db", nil)
	if got := srv.Secret("secret", "p/db"); got != nil {
		t.Errorf("Secret of a deleted version = %v", got)
	}

	// A KV v1 engine: drover only reads, to find it is not v2.
	srv.RemoveMount("secret")
	srv.AddMount("secret", "kv", map[string]string{"version": "1"})
	srv.PutSecret("secret", "p/db", map[string]any{"password": "z"})
	if r := tg.do(t, "GET", "/v1/secret/data/p/db", nil); r.status != 404 {
		t.Errorf("v2 path on a v1 engine: %d %s", r.status, r.raw)
	}
	if r := tg.do(t, "GET", "/v1/secret/p/db", nil); r.status != 200 || data(r)["password"] != "z" {
		t.Errorf("v1 read: %d %s", r.status, r.raw)
	}
	r := tg.do(t, "GET", "/v1/sys/mounts", nil)
	if m, _ := data(r)["secret/"].(map[string]any); !cmp.Equal(m["options"], map[string]any{"version": "1"}) {
		t.Errorf("secret/ after AddMount = %v", m)
	}
	srv.RemoveMount("jwt-nomad")
	if r := tg.do(t, "GET", "/v1/auth/jwt-nomad/role/api", nil); r.status != 404 || !strings.Contains(r.raw, "no handler for route") {
		t.Errorf("role after RemoveMount: %d %s", r.status, r.raw)
	}
}

// What the fake does not model answers 501, so that a test notices.
func TestUnmodelled(t *testing.T) {
	srv, tg := fakeTarget(t)
	srv.PutSecret("secret", "x", map[string]any{"k": "v"})
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/v1/secret/data/x?version=1", nil},
		{"POST", "/v1/sys/mounts/kv2", map[string]any{"type": "kv"}},
		{"POST", "/v1/auth/token/create", map[string]any{}},
		{"PUT", "/v1/secret/data/x", map[string]any{"data": map[string]any{"k": "v"}}},
		{"GET", "/v1/secret/metadata/x", nil},
		{"PUT", "/v1/auth/jwt-nomad/role/x", map[string]any{"role_type": "oidc", "user_claim": "sub", "allowed_redirect_uris": "http://x"}},
		{"PUT", "/v1/auth/jwt-nomad/role/x", map[string]any{"role_type": "jwt", "user_claim": "sub", "bound_subject": "x"}},
		{"PUT", "/v1/auth/jwt-nomad/config", map[string]any{}},
	} {
		if r := tg.do(t, tc.method, tc.path, tc.body); r.status != 501 || !strings.Contains(r.raw, "vaultfake:") {
			t.Errorf("%s %s: %d %s, want 501", tc.method, tc.path, r.status, r.raw)
		}
	}
}

func TestFaultInjection(t *testing.T) {
	srv, tg := fakeTarget(t)
	srv.FailNext("PUT", "/v1/sys/policies/acl/", 503, `{"errors":["Vault is sealed"]}`, 1)
	r := tg.do(t, "PUT", "/v1/sys/policies/acl/p", map[string]string{"policy": "x"})
	if r.status != 503 || errorsOf(r) != `{"errors":["Vault is sealed"]}` {
		t.Errorf("injected: %d %s", r.status, r.raw)
	}
	if _, ok := srv.Policy("p"); ok {
		t.Errorf("a failed write stored the policy")
	}
	srv.Hangup("/v1/sys/policies/acl/", 1)
	if r := tg.do(t, "PUT", "/v1/sys/policies/acl/p", map[string]string{"policy": "x"}); r.status != -1 {
		t.Errorf("hangup answered %d", r.status)
	}
	srv.Delay("/v1/sys/mounts", time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if r := call(t, ctx, tg.addr, "GET", "/v1/sys/mounts", tg.token, nil); r.status != -1 || !strings.Contains(r.raw, context.DeadlineExceeded.Error()) {
		t.Errorf("delayed read: %d %s", r.status, r.raw)
	}
	srv.Delay("/v1/sys/mounts", 0)
	tg.do(t, "GET", "/v1/sys/mounts", nil)
	tg.do(t, "LIST", "/v1/auth/jwt-nomad/role", nil)
	if w := srv.Writes(); len(w) != 2 {
		t.Errorf("writes = %d, want the two policy PUTs", len(w))
	}
	if n := len(srv.Requests()); n != 5 {
		t.Errorf("%d requests logged, want 5", n)
	}
}

func TestConcurrentWrites(t *testing.T) {
	srv, tg := fakeTarget(t)
	var wg sync.WaitGroup
	for _, name := range []string{"a", "b", "c", "d", "e", "f"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := tg.do(t, "PUT", "/v1/auth/jwt-nomad/role/"+name, droverRole(name)); r.status != 204 {
				t.Errorf("write %s: %d", name, r.status)
			}
			srv.PutSecret("secret", name, map[string]any{"k": name})
		}()
	}
	wg.Wait()
	if got := srv.Roles("jwt-nomad"); len(got) != 6 {
		t.Errorf("roles = %v", got)
	}
}

package vaultx_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drover-io/drover/internal/fakes/vaultfake"
	"github.com/drover-io/drover/pkg/apierr"
	"github.com/drover-io/drover/pkg/config"
	"github.com/drover-io/drover/pkg/retry"
	"github.com/drover-io/drover/pkg/vaultx"
)

func newClient(t *testing.T, s *vaultfake.Server, token string) *vaultx.Client {
	t.Helper()
	c, err := vaultx.New(config.Endpoint{Address: s.URL(), Token: config.Secret(token)}, vaultx.Options{
		Retry: retry.Policy{Attempts: 3, Base: time.Millisecond, Max: 2 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func count(s *vaultfake.Server, method, path string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

func TestNotFound(t *testing.T) {
	s := vaultfake.New(t)
	c := newClient(t, s, vaultfake.RootToken)
	s.PutSecret("secret", "gone", map[string]any{"k": "v"})
	if err := c.Delete(ctx(t), "secret/data/gone"); err != nil { // deletes the latest version
		t.Fatal(err)
	}
	cases := []struct {
		name string
		call func() error
	}{
		{"policy", func() error { _, err := c.Policy(ctx(t), "nope"); return err }},
		{"logical read", func() error { _, err := c.Read(ctx(t), "auth/jwt-nomad/role/nope"); return err }},
		{"secret", func() error { _, err := c.SecretKeys(ctx(t), "secret", "nope"); return err }},
		{"secret whose latest version is deleted", func() error { _, err := c.SecretKeys(ctx(t), "secret", "gone"); return err }},
		{"KV engine", func() error { _, err := c.KVVersion(ctx(t), "nope"); return err }},
		{"auth method", func() error { _, err := c.AuthMethod(ctx(t), "nope"); return err }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if !errors.Is(err, apierr.ErrNotFound) {
				t.Fatalf("want ErrNotFound, got %v", err)
			}
			if !strings.HasPrefix(err.Error(), "vault: ") {
				t.Errorf("error does not name vault: %v", err)
			}
		})
	}
	if keys, err := c.List(ctx(t), "auth/jwt-nomad/role"); err != nil || len(keys) != 0 {
		t.Errorf("listing nothing: %v, %v; want no keys and no error", keys, err)
	}
}

func TestWrongTokenIsPermissionDenied(t *testing.T) {
	const token = "hvs.wrong-token-value"
	s := vaultfake.New(t)
	c := newClient(t, s, token)
	err := c.PutPolicy(ctx(t), "drover-api", `path "secret/data/x" { capabilities = ["read"] }`)
	if !errors.Is(err, apierr.ErrPermission) {
		t.Fatalf("want ErrPermission, got %v", err)
	}
	if want := `vault: write policy "drover-api": 403 permission denied`; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if strings.Contains(fmt.Sprintf("%v %+v %#v", err, err, err), token) {
		t.Error("the error shows the token")
	}
	if got := count(s, http.MethodPut, "/v1/sys/policies/acl/drover-api"); got != 1 {
		t.Errorf("%d writes, want 1: a 403 is not retried", got)
	}
	if _, ok := s.Policy("drover-api"); ok {
		t.Error("the policy was written")
	}
}

func TestRetries(t *testing.T) {
	cases := []struct {
		name     string
		method   string
		path     string
		status   int
		failures int
		requests int
		wantErr  bool
	}{
		{"two 500s then success", http.MethodGet, "/v1/sys/policies/acl/drover-api", 500, 2, 3, false},
		{"500 on every attempt", http.MethodGet, "/v1/sys/policies/acl/drover-api", 500, 5, 3, true},
		{"a sealed 503 is retried", http.MethodGet, "/v1/sys/policies/acl/drover-api", 503, 1, 2, false},
		{"400 is final", http.MethodGet, "/v1/sys/policies/acl/drover-api", 400, 1, 1, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := vaultfake.New(t)
			c := newClient(t, s, vaultfake.RootToken)
			s.PutPolicy("drover-api", "# Managed by drover\n")
			s.FailNext(tc.method, tc.path, tc.status, `{"errors":["injected failure"]}`, tc.failures)
			text, err := c.Policy(ctx(t), "drover-api")
			if got := count(s, tc.method, tc.path); got != tc.requests {
				t.Errorf("%d requests, want %d", got, tc.requests)
			}
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error: %v", err, tc.wantErr)
			}
			if err == nil && text != "# Managed by drover\n" {
				t.Errorf("policy = %q", text)
			}
			var e *apierr.Error
			if err != nil && (!errors.As(err, &e) || e.Status != tc.status || e.Message != "injected failure") {
				t.Errorf("error = %#v", err)
			}
		})
	}
}

func TestSecretKeysReturnsNamesNotValues(t *testing.T) {
	const value = "s3cr3t-value-never-returned"
	s := vaultfake.New(t)
	c := newClient(t, s, vaultfake.RootToken)
	s.PutSecret("secret", "p/db", map[string]any{"user": value + "-u", "password": value})
	keys, err := c.SecretKeys(ctx(t), "secret", "p/db")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"password", "user"}, keys); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	if strings.Contains(fmt.Sprint(keys), value) {
		t.Error("a value came back")
	}
	if w := s.Writes(); len(w) != 0 {
		t.Errorf("reading keys wrote: %v", w)
	}
}

func TestMountsAndPolicies(t *testing.T) {
	s := vaultfake.New(t)
	c := newClient(t, s, vaultfake.RootToken)
	s.AddMount("kv1", "kv", map[string]string{"version": "1"})
	for mount, want := range map[string]int{"secret": 2, "kv1": 1, "secret/": 2} {
		if got, err := c.KVVersion(ctx(t), mount); err != nil || got != want {
			t.Errorf("KVVersion(%q) = %d, %v; want %d", mount, got, err, want)
		}
	}
	if typ, err := c.AuthMethod(ctx(t), "jwt-nomad"); err != nil || typ != "jwt" {
		t.Errorf("AuthMethod(jwt-nomad) = %q, %v", typ, err)
	}

	for _, name := range []string{"drover-b", "drover-a"} {
		if err := c.PutPolicy(ctx(t), name, "# Managed by drover\npath \"secret/data/x\" {\n  capabilities = [\"read\"]\n}\n"); err != nil {
			t.Fatal(err)
		}
	}
	names, err := c.Policies(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"default", "drover-a", "drover-b", "root"}, names); diff != "" {
		t.Errorf("policies (-want +got):\n%s", diff)
	}
	if err := c.DeletePolicy(ctx(t), "drover-a"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeletePolicy(ctx(t), "drover-a"); err != nil {
		t.Errorf("deleting an absent policy: %v", err)
	}
	if _, ok := s.Policy("drover-a"); ok {
		t.Error("drover-a is still there")
	}
}

func TestContextEndsASlowCall(t *testing.T) {
	s := vaultfake.New(t)
	c := newClient(t, s, vaultfake.RootToken)
	s.Delay("/v1/sys/policies/acl/", time.Minute)
	qctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Policy(qctx, "drover-api")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("want context.DeadlineExceeded, got %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the call outlived its context by %v", took)
	}
	if got := count(s, http.MethodGet, "/v1/sys/policies/acl/drover-api"); got != 1 {
		t.Errorf("%d requests, want 1 (no retry after the context ended)", got)
	}
}

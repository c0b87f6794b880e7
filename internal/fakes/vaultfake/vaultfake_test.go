package vaultfake_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drover-io/drover/internal/fakes/vaultfake"
)

type response struct {
	status int
	body   map[string]any
	raw    string
}

// call sends one request the way vault/api does: JSON body, X-Vault-Token.
func call(t *testing.T, srv *vaultfake.Server, method, path, token string, body any) response {
	t.Helper()
	return callCtx(t, context.Background(), srv, method, path, token, body)
}

func callCtx(t *testing.T, ctx context.Context, srv *vaultfake.Server, method, path, token string, body any) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequestWithContext(ctx, method, srv.URL()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("X-Vault-Token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{status: -1, raw: err.Error()}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := response{status: resp.StatusCode, raw: string(b)}
	if len(b) > 0 {
		_ = json.Unmarshal(b, &out.body)
	}
	return out
}

func data(r response) map[string]any {
	d, _ := r.body["data"].(map[string]any)
	return d
}

func TestHealthAndToken(t *testing.T) {
	srv := vaultfake.New(t)
	if r := call(t, srv, "GET", "/v1/sys/health", "", nil); r.status != 200 || r.body["sealed"] != false || r.body["initialized"] != true {
		t.Errorf("health = %d %v", r.status, r.body)
	}
	for _, token := range []string{"", "wrong"} {
		r := call(t, srv, "GET", "/v1/sys/policies/acl/default", token, nil)
		if r.status != 403 || strings.TrimSpace(r.raw) != `{"errors":["permission denied"]}` {
			t.Errorf("token %q: %d %s", token, r.status, r.raw)
		}
	}
	srv.SetToken("s.other")
	if r := call(t, srv, "GET", "/v1/sys/policies/acl/default", "s.other", nil); r.status != 200 {
		t.Errorf("new token: %d", r.status)
	}
}

func TestPolicies(t *testing.T) {
	srv := vaultfake.New(t)
	const root = vaultfake.RootToken
	text := "path \"secret/data/api/*\" {\n  capabilities = [\"read\"]\n}\n"

	if r := call(t, srv, "PUT", "/v1/sys/policies/acl/drover-api", root, map[string]string{"policy": text}); r.status != 204 {
		t.Fatalf("put policy: %d %s", r.status, r.raw)
	}
	r := call(t, srv, "GET", "/v1/sys/policies/acl/drover-api", root, nil)
	if r.status != 200 {
		t.Fatalf("get policy: %d %s", r.status, r.raw)
	}
	if diff := cmp.Diff(map[string]any{"name": "drover-api", "policy": text}, data(r)); diff != "" {
		t.Errorf("policy data (-want +got):\n%s", diff)
	}
	for _, tc := range []struct{ method, path string }{{"LIST", "/v1/sys/policies/acl"}, {"GET", "/v1/sys/policies/acl?list=true"}} {
		r := call(t, srv, tc.method, tc.path, root, nil)
		if diff := cmp.Diff([]any{"default", "drover-api", "root"}, data(r)["keys"]); r.status != 200 || diff != "" {
			t.Errorf("%s %s: %d (-want +got):\n%s", tc.method, tc.path, r.status, diff)
		}
	}
	if r := call(t, srv, "DELETE", "/v1/sys/policies/acl/drover-api", root, nil); r.status != 204 {
		t.Errorf("delete: %d", r.status)
	}
	r = call(t, srv, "GET", "/v1/sys/policies/acl/drover-api", root, nil)
	if r.status != 404 || strings.TrimSpace(r.raw) != `{"errors":[]}` {
		t.Errorf("missing policy: %d %s", r.status, r.raw)
	}
	r = call(t, srv, "DELETE", "/v1/sys/policies/acl/default", root, nil)
	if r.status != 400 || strings.TrimSpace(r.raw) != `{"errors":["cannot delete default policy"]}` {
		t.Errorf("delete default: %d %s", r.status, r.raw)
	}
	r = call(t, srv, "PUT", "/v1/sys/policies/acl/x", root, map[string]string{"policy": ""})
	if r.status != 400 || !strings.Contains(r.raw, "'policy' parameter not supplied or empty") {
		t.Errorf("empty policy: %d %s", r.status, r.raw)
	}
	if got, ok := srv.Policy("default"); !ok || !strings.Contains(got, "lookup-self") {
		t.Errorf("default policy = %q, %v", got, ok)
	}
}

// nomadRole is the role `nomad setup vault` writes (command/asset/
// vault-wi-default-role.json), with per-job bound claims.
func nomadRole() map[string]any {
	return map[string]any{
		"role_type":               "jwt",
		"bound_audiences":         "vault.io",
		"bound_claims":            map[string]any{"nomad_namespace": "default", "nomad_job_id": "api"},
		"user_claim":              "/nomad_job_id",
		"user_claim_json_pointer": true,
		"claim_mappings": map[string]any{
			"nomad_namespace": "nomad_namespace", "nomad_job_id": "nomad_job_id", "nomad_task": "nomad_task",
		},
		"token_type":     "service",
		"token_period":   "30m",
		"token_policies": []string{"drover-api"},
	}
}

func TestJWTRoles(t *testing.T) {
	srv := vaultfake.New(t)
	const root = vaultfake.RootToken

	if r := call(t, srv, "POST", "/v1/auth/jwt-nomad/role/API", root, nomadRole()); r.status != 204 {
		t.Fatalf("write role: %d %s", r.status, r.raw)
	}
	r := call(t, srv, "GET", "/v1/auth/jwt-nomad/role/api", root, nil)
	if r.status != 200 {
		t.Fatalf("read role: %d %s", r.status, r.raw)
	}
	want := map[string]any{
		"role_type": "jwt", "expiration_leeway": 0.0, "not_before_leeway": 0.0, "clock_skew_leeway": 0.0,
		"bound_audiences": []any{"vault.io"}, "bound_subject": "", "bound_claims_type": "string",
		"bound_claims":    map[string]any{"nomad_namespace": "default", "nomad_job_id": "api"},
		"claim_mappings":  map[string]any{"nomad_namespace": "nomad_namespace", "nomad_job_id": "nomad_job_id", "nomad_task": "nomad_task"},
		"oauth2_metadata": nil, "user_claim": "/nomad_job_id", "user_claim_json_pointer": true,
		"groups_claim": "", "allowed_redirect_uris": nil, "oidc_scopes": nil, "verbose_oidc_logging": false,
		"max_age": 0.0, "token_bound_cidrs": []any{}, "token_explicit_max_ttl": 0.0, "token_max_ttl": 0.0,
		"token_no_default_policy": false, "token_period": 1800.0, "token_policies": []any{"drover-api"},
		"token_type": "service", "token_ttl": 0.0, "token_num_uses": 0.0,
	}
	if diff := cmp.Diff(want, data(r)); diff != "" {
		t.Errorf("role (-want +got):\n%s", diff)
	}
	if got := srv.Role("jwt-nomad", "api")["token_period"]; got != int64(1800) {
		t.Errorf("Role helper token_period = %v (%T)", got, got)
	}

	r = call(t, srv, "LIST", "/v1/auth/jwt-nomad/role", root, nil)
	if diff := cmp.Diff([]any{"api"}, data(r)["keys"]); r.status != 200 || diff != "" {
		t.Errorf("list roles: %d %s", r.status, diff)
	}
	if r := call(t, srv, "GET", "/v1/auth/jwt-nomad/role/nope", root, nil); r.status != 404 || strings.TrimSpace(r.raw) != `{"errors":[]}` {
		t.Errorf("missing role: %d %s", r.status, r.raw)
	}
	r = call(t, srv, "GET", "/v1/auth/nowhere/role/api", root, nil)
	if r.status != 404 || !strings.Contains(r.raw, `no handler for route \"auth/nowhere/role/api\". route entry not found.`) {
		t.Errorf("unknown mount: %d %s", r.status, r.raw)
	}

	bad := func(mutate func(map[string]any)) response {
		role := nomadRole()
		mutate(role)
		return call(t, srv, "PUT", "/v1/auth/jwt-nomad/role/bad", root, role)
	}
	tests := []struct {
		name   string
		mutate func(map[string]any)
		want   string
	}{
		{"no user claim", func(m map[string]any) { delete(m, "user_claim") }, "a user claim must be defined on the role"},
		{"no bound constraint", func(m map[string]any) { delete(m, "bound_audiences"); delete(m, "bound_claims") }, "must have at least one bound constraint when creating/updating a role"},
		{"oidc by default", func(m map[string]any) { delete(m, "role_type") }, "'allowed_redirect_uris' must be set if 'role_type' is 'oidc' or unspecified."},
		{"token type", func(m map[string]any) { m["token_type"] = "default-service" }, `invalid 'token_type' value "default-service"`},
		{"bad duration", func(m map[string]any) { m["token_period"] = "soon" }, `Field validation failed: error converting input for field "token_period": time: invalid duration "soon"`},
		{"reserved mapping", func(m map[string]any) { m["claim_mappings"] = map[string]any{"x": "role"} }, `metadata key "role" is reserved and may not be a mapping destination`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bad(tt.mutate)
			if r.status != 400 {
				t.Fatalf("status %d %s", r.status, r.raw)
			}
			if diff := cmp.Diff([]any{tt.want}, r.body["errors"]); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
	if roles := srv.Roles("jwt-nomad"); !cmp.Equal(roles, []string{"api"}) {
		t.Errorf("a failed write stored a role: %v", roles)
	}

	// A write updates the fields it names and keeps the others.
	if r := call(t, srv, "PUT", "/v1/auth/jwt-nomad/role/api", root, map[string]any{"role_type": "jwt", "token_policies": "a, b"}); r.status != 204 {
		t.Fatalf("update: %d %s", r.status, r.raw)
	}
	got := srv.Role("jwt-nomad", "api")
	if !cmp.Equal(got["token_policies"], []string{"a", "b"}) || got["user_claim"] != "/nomad_job_id" {
		t.Errorf("updated role = %v", got)
	}
	if r := call(t, srv, "DELETE", "/v1/auth/jwt-nomad/role/api", root, nil); r.status != 204 {
		t.Errorf("delete: %d", r.status)
	}
	if r := call(t, srv, "LIST", "/v1/auth/jwt-nomad/role", root, nil); r.status != 404 {
		t.Errorf("empty list: %d", r.status)
	}
}

func TestMounts(t *testing.T) {
	srv := vaultfake.New(t)
	r := call(t, srv, "GET", "/v1/sys/auth", vaultfake.RootToken, nil)
	jwt, _ := data(r)["jwt-nomad/"].(map[string]any)
	top, _ := r.body["jwt-nomad/"].(map[string]any)
	if r.status != 200 || jwt["type"] != "jwt" || top["type"] != "jwt" {
		t.Errorf("sys/auth = %d %v", r.status, r.body)
	}
	r = call(t, srv, "GET", "/v1/sys/mounts", vaultfake.RootToken, nil)
	secret, _ := data(r)["secret/"].(map[string]any)
	if secret["type"] != "kv" || !cmp.Equal(secret["options"], map[string]any{"version": "2"}) {
		t.Errorf("secret/ mount = %v", secret)
	}
	srv.AddMount("kv1", "kv", map[string]string{"version": "1"})
	srv.AddAuthMount("jwt-other", "jwt")
	r = call(t, srv, "GET", "/v1/sys/auth", vaultfake.RootToken, nil)
	if _, ok := data(r)["jwt-other/"]; !ok {
		t.Errorf("added auth mount missing: %v", data(r))
	}
}

func TestKV(t *testing.T) {
	srv := vaultfake.New(t)
	const root = vaultfake.RootToken
	srv.PutSecret("secret", "default/api/db", map[string]any{"password": "hunter2"})

	r := call(t, srv, "GET", "/v1/secret/data/default/api/db", root, nil)
	d := data(r)
	inner, _ := d["data"].(map[string]any)
	meta, _ := d["metadata"].(map[string]any)
	if r.status != 200 || inner["password"] != "hunter2" || meta["version"] != 1.0 {
		t.Fatalf("read = %d %v", r.status, r.body)
	}
	if r := call(t, srv, "GET", "/v1/secret/data/default/api/none", root, nil); r.status != 404 || strings.TrimSpace(r.raw) != `{"errors":[]}` {
		t.Errorf("missing secret: %d %s", r.status, r.raw)
	}

	w := call(t, srv, "PUT", "/v1/secret/data/default/api/db", root, map[string]any{"data": map[string]any{"password": "x"}, "options": map[string]any{"cas": 0}})
	if w.status != 400 || !strings.Contains(w.raw, "check-and-set parameter did not match the current version") {
		t.Errorf("stale cas: %d %s", w.status, w.raw)
	}
	w = call(t, srv, "PUT", "/v1/secret/data/default/api/db", root, map[string]any{"data": map[string]any{"password": "x"}, "options": map[string]any{"cas": 1}})
	if w.status != 200 || data(w)["version"] != 2.0 {
		t.Errorf("write = %d %v", w.status, w.body)
	}
	if got := srv.Secret("secret", "default/api/db"); got["password"] != "x" {
		t.Errorf("Secret = %v", got)
	}
	l := call(t, srv, "GET", "/v1/secret/metadata/default?list=true", root, nil)
	if diff := cmp.Diff([]any{"api/"}, data(l)["keys"]); l.status != 200 || diff != "" {
		t.Errorf("list: %d %s", l.status, diff)
	}

	call(t, srv, "DELETE", "/v1/secret/data/default/api/db", root, nil)
	r = call(t, srv, "GET", "/v1/secret/data/default/api/db", root, nil)
	if r.status != 404 || data(r)["data"] != nil || data(r)["metadata"] == nil {
		t.Errorf("deleted version: %d %v", r.status, r.body)
	}
	if r := call(t, srv, "GET", "/v1/nowhere/x", root, nil); r.status != 404 || !strings.Contains(r.raw, "no handler for route") {
		t.Errorf("unmounted path: %d %s", r.status, r.raw)
	}
}

func TestFaultInjection(t *testing.T) {
	srv := vaultfake.New(t)
	const root = vaultfake.RootToken
	srv.FailNext("PUT", "/v1/sys/policies/acl/", 503, `{"errors":["Vault is sealed"]}`, 1)
	r := call(t, srv, "PUT", "/v1/sys/policies/acl/p", root, map[string]string{"policy": "x"})
	if r.status != 503 || strings.TrimSpace(r.raw) != `{"errors":["Vault is sealed"]}` {
		t.Errorf("injected: %d %s", r.status, r.raw)
	}
	if _, ok := srv.Policy("p"); ok {
		t.Errorf("a failed write stored the policy")
	}
	srv.Hangup("/v1/sys/policies/acl/", 1)
	if r := call(t, srv, "PUT", "/v1/sys/policies/acl/p", root, map[string]string{"policy": "x"}); r.status != -1 {
		t.Errorf("hangup answered %d", r.status)
	}
	srv.Delay("/v1/sys/mounts", time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if r := callCtx(t, ctx, srv, "GET", "/v1/sys/mounts", root, nil); r.status != -1 || !strings.Contains(r.raw, context.DeadlineExceeded.Error()) {
		t.Errorf("delayed read: %d %s", r.status, r.raw)
	}
	srv.Delay("/v1/sys/mounts", 0)
	call(t, srv, "GET", "/v1/sys/mounts", root, nil)
	call(t, srv, "LIST", "/v1/auth/jwt-nomad/role", root, nil)
	if w := srv.Writes(); len(w) != 2 {
		t.Errorf("writes = %d, want the two policy PUTs", len(w))
	}
	if n := len(srv.Requests()); n != 5 {
		t.Errorf("%d requests logged, want 5", n)
	}
}

func TestConcurrentWrites(t *testing.T) {
	srv := vaultfake.New(t)
	var wg sync.WaitGroup
	for _, name := range []string{"a", "b", "c", "d", "e", "f"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			role := nomadRole()
			if r := call(t, srv, "PUT", "/v1/auth/jwt-nomad/role/"+name, vaultfake.RootToken, role); r.status != 204 {
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

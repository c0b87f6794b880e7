package vaultfake_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drover-io/drover/internal/fakes/vaultfake"
	"github.com/drover-io/drover/internal/testutil"
)

// The contract: what drover relies on from Vault (and OpenBao), stated as
// cases that run against the fake (TestContract) and, under the
// integration build tag, against a real server (TestContractAgainstAgent
// in contract_integration_test.go), so that the fake is shown to answer as
// the server does. A case speaks Vault's HTTP API as vault/api does, names
// what it creates with a unique fake-contract- prefix and removes it
// again. Mounts are set up by the target (AddMount on the fake, sys/mounts
// and sys/auth on a real server), because drover never enables any. What
// only the fake can set up (injected faults, the request log) is tested in
// vaultfake_test.go.

// target is what a contract case talks to.
type target struct {
	addr, token string
	// fake is the fake behind addr; nil against a real server.
	fake *vaultfake.Server
	// prefix makes the names of what a case creates unique.
	prefix string
}

// name is a unique name for an object a case creates.
func (tg *target) name(s string) string { return tg.prefix + s }

func newTarget(addr, token string, fake *vaultfake.Server) *target {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &target{addr: strings.TrimSuffix(addr, "/"), token: token, fake: fake, prefix: "fake-contract-" + hex.EncodeToString(b[:]) + "-"}
}

var contract = []testutil.ContractCase[*target]{
	{Name: "health", Run: contractHealth},
	{Name: "token", Run: contractToken},
	{Name: "policies", Run: contractPolicies},
	{Name: "mounts", Run: contractMounts},
	{Name: "kv v2 reads", Run: contractKV},
	{Name: "jwt roles", Run: contractJWTRoles},
	{Name: "jwt role validation", Run: contractJWTRoleValidation},
	{Name: "no handler", Run: contractNoHandler},
}

// runContract runs every contract case against a target from newTarget.
func runContract(t *testing.T, newTarget func(t *testing.T) *target) {
	testutil.RunContract(t, contract, newTarget)
}

func TestContract(t *testing.T) {
	runContract(t, func(t *testing.T) *target {
		srv := vaultfake.New(t)
		return newTarget(srv.URL(), vaultfake.RootToken, srv)
	})
}

type response struct {
	status int
	body   map[string]any
	raw    string
}

func data(r response) map[string]any {
	d, _ := r.body["data"].(map[string]any)
	return d
}

// call sends one request the way vault/api does: JSON body, X-Vault-Token
// (none when token is "").
func call(t *testing.T, ctx context.Context, addr, method, path, token string, body any) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequestWithContext(ctx, method, addr+path, rd)
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

// do sends a request with the target's token.
func (tg *target) do(t *testing.T, method, path string, body any) response {
	t.Helper()
	return call(t, context.Background(), tg.addr, method, path, tg.token, body)
}

// errorsOf is the error list of a response.
func errorsOf(r response) string { return strings.TrimSpace(r.raw) }

// kvMount mounts a KV v2 engine for the test and returns its path.
func (tg *target) kvMount(t *testing.T) string {
	t.Helper()
	path := tg.name("kv")
	if tg.fake != nil {
		tg.fake.AddMount(path, "kv", map[string]string{"version": "2"})
		return path
	}
	if r := tg.do(t, "POST", "/v1/sys/mounts/"+path, map[string]any{"type": "kv", "options": map[string]string{"version": "2"}}); r.status != 204 {
		t.Fatalf("mount kv at %s: %d %s", path, r.status, r.raw)
	}
	t.Cleanup(func() {
		if r := tg.do(t, "DELETE", "/v1/sys/mounts/"+path, nil); r.status != 204 {
			t.Logf("cleanup: unmount %s: %d %s", path, r.status, r.raw)
		}
	})
	return path
}

// jwtMount returns the path of a JWT auth method for the test: the fake's
// jwt-nomad/, or one enabled for it.
func (tg *target) jwtMount(t *testing.T) string {
	t.Helper()
	if tg.fake != nil {
		return "jwt-nomad"
	}
	path := tg.name("jwt")
	if r := tg.do(t, "POST", "/v1/sys/auth/"+path, map[string]any{"type": "jwt"}); r.status != 204 {
		t.Fatalf("enable jwt at %s: %d %s", path, r.status, r.raw)
	}
	t.Cleanup(func() {
		if r := tg.do(t, "DELETE", "/v1/sys/auth/"+path, nil); r.status != 204 {
			t.Logf("cleanup: disable %s: %d %s", path, r.status, r.raw)
		}
	})
	return path
}

// putSecret writes a KV v2 secret: PutSecret on the fake (drover never
// writes secrets, so the fake does not serve the write), the API on a
// real server.
func (tg *target) putSecret(t *testing.T, mount, path string, data map[string]any) {
	t.Helper()
	if tg.fake != nil {
		tg.fake.PutSecret(mount, path, data)
		return
	}
	if r := tg.do(t, "PUT", "/v1/"+mount+"/data/"+path, map[string]any{"data": data}); r.status != 200 {
		t.Fatalf("write secret %s/%s: %d %s", mount, path, r.status, r.raw)
	}
}

// ---- cases ----

func contractHealth(t *testing.T, tg *target) {
	r := call(t, context.Background(), tg.addr, "GET", "/v1/sys/health", "", nil)
	if r.status != 200 || r.body["initialized"] != true || r.body["sealed"] != false || r.body["standby"] != false {
		t.Errorf("health = %d %v", r.status, r.body)
	}
	if v, _ := r.body["version"].(string); v == "" {
		t.Errorf("health without a version: %v", r.body)
	}
}

func contractToken(t *testing.T, tg *target) {
	for _, token := range []string{"", "s.wrong-" + tg.prefix} {
		r := call(t, context.Background(), tg.addr, "GET", "/v1/sys/policies/acl/default", token, nil)
		if r.status != 403 || errorsOf(r) != `{"errors":["permission denied"]}` {
			t.Errorf("token %q: %d %s", token, r.status, r.raw)
		}
	}
}

func contractPolicies(t *testing.T, tg *target) {
	name := tg.name("api")
	t.Cleanup(func() { tg.do(t, "DELETE", "/v1/sys/policies/acl/"+name, nil) })
	text := "# Managed by drover\npath \"secret/data/" + name + "/*\" {\n  capabilities = [\"read\"]\n}\n"

	if r := tg.do(t, "GET", "/v1/sys/policies/acl/"+name, nil); r.status != 404 || errorsOf(r) != `{"errors":[]}` {
		t.Errorf("missing policy: %d %s", r.status, r.raw)
	}
	if r := tg.do(t, "PUT", "/v1/sys/policies/acl/"+name, map[string]string{"policy": text}); r.status != 204 {
		t.Fatalf("put policy: %d %s", r.status, r.raw)
	}
	r := tg.do(t, "GET", "/v1/sys/policies/acl/"+name, nil)
	if r.status != 200 {
		t.Fatalf("get policy: %d %s", r.status, r.raw)
	}
	// Drover reads the text. (OpenBao adds version, modified, cas_required
	// and its identity template switches; Vault and the fake do not.)
	if got := data(r); got["name"] != name || got["policy"] != text {
		t.Errorf("policy data = %v, want name %q and the text written", got, name)
	}
	// Names are lower-cased, with a warning.
	upper := strings.ToUpper(name)
	r = tg.do(t, "PUT", "/v1/sys/policies/acl/"+upper, map[string]string{"policy": text})
	if r.status != 200 || !cmp.Equal(r.body["warnings"], []any{"policy name was converted to " + name}) {
		t.Errorf("put with an upper-case name: %d %s", r.status, r.raw)
	}
	if r := tg.do(t, "GET", "/v1/sys/policies/acl/"+upper, nil); r.status != 200 || data(r)["name"] != name {
		t.Errorf("get with an upper-case name: %d %s", r.status, r.raw)
	}
	for _, tc := range []struct{ method, path string }{{"LIST", "/v1/sys/policies/acl"}, {"GET", "/v1/sys/policies/acl?list=true"}} {
		r := tg.do(t, tc.method, tc.path, nil)
		keys, _ := data(r)["keys"].([]any)
		if r.status != 200 || !slices.Contains(keys, any("default")) || !slices.Contains(keys, any("root")) || !slices.Contains(keys, any(name)) {
			t.Errorf("%s %s: %d %v", tc.method, tc.path, r.status, keys)
		}
	}
	if r := tg.do(t, "DELETE", "/v1/sys/policies/acl/"+name, nil); r.status != 204 {
		t.Errorf("delete: %d %s", r.status, r.raw)
	}
	if r := tg.do(t, "DELETE", "/v1/sys/policies/acl/"+name, nil); r.status != 204 {
		t.Errorf("delete of a missing policy: %d %s", r.status, r.raw)
	}
	if r := tg.do(t, "GET", "/v1/sys/policies/acl/"+name, nil); r.status != 404 {
		t.Errorf("deleted policy: %d %s", r.status, r.raw)
	}
	for _, tc := range []struct {
		method, name string
		body         any
		want         string
	}{
		{"DELETE", "default", nil, `{"errors":["cannot delete default policy"]}`},
		{"DELETE", "root", nil, `{"errors":["cannot delete \"root\" policy"]}`},
		{"PUT", "root", map[string]string{"policy": text}, `{"errors":["cannot update \"root\" policy"]}`},
		{"PUT", name, map[string]string{"policy": ""}, `{"errors":["'policy' parameter not supplied or empty"]}`},
	} {
		r := tg.do(t, tc.method, "/v1/sys/policies/acl/"+tc.name, tc.body)
		if r.status != 400 || errorsOf(r) != tc.want {
			t.Errorf("%s %s: %d %s, want 400 %s", tc.method, tc.name, r.status, r.raw, tc.want)
		}
	}
}

func contractMounts(t *testing.T, tg *target) {
	kv := tg.kvMount(t)
	jwt := tg.jwtMount(t)
	r := tg.do(t, "GET", "/v1/sys/mounts", nil)
	m, _ := data(r)[kv+"/"].(map[string]any)
	top, _ := r.body[kv+"/"].(map[string]any)
	if r.status != 200 || m["type"] != "kv" || !cmp.Equal(m["options"], map[string]any{"version": "2"}) || top["type"] != "kv" {
		t.Errorf("sys/mounts: %d, %s/ = %v (top level %v)", r.status, kv, m, top)
	}
	if _, ok := data(r)["sys/"]; !ok {
		t.Errorf("sys/mounts lacks sys/: %v", data(r))
	}
	r = tg.do(t, "GET", "/v1/sys/auth", nil)
	a, _ := data(r)[jwt+"/"].(map[string]any)
	top, _ = r.body[jwt+"/"].(map[string]any)
	if r.status != 200 || a["type"] != "jwt" || top["type"] != "jwt" {
		t.Errorf("sys/auth: %d, %s/ = %v (top level %v)", r.status, jwt, a, top)
	}
	if tok, _ := data(r)["token/"].(map[string]any); tok["type"] != "token" {
		t.Errorf("sys/auth token/ = %v", tok)
	}
}

func contractKV(t *testing.T, tg *target) {
	mount := tg.kvMount(t)
	tg.putSecret(t, mount, "default/api/db", map[string]any{"password": "not-a-secret", "user": "u"})

	r := tg.do(t, "GET", "/v1/"+mount+"/data/default/api/db", nil)
	d := data(r)
	inner, _ := d["data"].(map[string]any)
	meta, _ := d["metadata"].(map[string]any)
	if r.status != 200 || !cmp.Equal(inner, map[string]any{"password": "not-a-secret", "user": "u"}) || meta["version"] != 1.0 || meta["deletion_time"] != "" || meta["destroyed"] != false {
		t.Fatalf("read = %d %v", r.status, r.body)
	}
	if r := tg.do(t, "GET", "/v1/"+mount+"/data/default/api/none", nil); r.status != 404 || errorsOf(r) != `{"errors":[]}` {
		t.Errorf("missing secret: %d %s", r.status, r.raw)
	}

	// Deleting soft-deletes the latest version: it reads as a 404 that
	// still carries its metadata.
	if r := tg.do(t, "DELETE", "/v1/"+mount+"/data/default/api/db", nil); r.status != 204 {
		t.Errorf("delete: %d %s", r.status, r.raw)
	}
	r = tg.do(t, "GET", "/v1/"+mount+"/data/default/api/db", nil)
	meta, _ = data(r)["metadata"].(map[string]any)
	if r.status != 404 || data(r)["data"] != nil || meta == nil || meta["deletion_time"] == "" || meta["version"] != 1.0 {
		t.Errorf("deleted version: %d %v", r.status, r.body)
	}
}

// droverRole is the role drover renders for app "api" (render/vault.go),
// bound to the job's workload identity.
func droverRole(policy string) map[string]any {
	return map[string]any{
		"role_type":               "jwt",
		"bound_audiences":         []string{"vault.io"},
		"user_claim":              "/nomad_job_id",
		"user_claim_json_pointer": true,
		"bound_claims":            map[string]any{"nomad_namespace": "default", "nomad_job_id": "api"},
		"claim_mappings": map[string]any{
			"nomad_namespace": "nomad_namespace", "nomad_job_id": "nomad_job_id", "nomad_task": "nomad_task",
		},
		"token_type":     "service",
		"token_period":   "30m",
		"token_policies": []string{policy},
	}
}

func contractJWTRoles(t *testing.T, tg *target) {
	mount := tg.jwtMount(t)
	name := tg.name("api")
	base := "/v1/auth/" + mount + "/role"
	t.Cleanup(func() { tg.do(t, "DELETE", base+"/"+name, nil) })

	if r := tg.do(t, "GET", base+"/"+name, nil); r.status != 404 || errorsOf(r) != `{"errors":[]}` {
		t.Errorf("missing role: %d %s", r.status, r.raw)
	}
	if r := tg.do(t, "LIST", base, nil); r.status != 404 {
		t.Errorf("list of no roles: %d %s", r.status, r.raw)
	}
	// Role names are lower-cased.
	if r := tg.do(t, "POST", base+"/"+strings.ToUpper(name), droverRole(name)); r.status != 204 {
		t.Fatalf("write role: %d %s", r.status, r.raw)
	}
	r := tg.do(t, "GET", base+"/"+name, nil)
	if r.status != 200 {
		t.Fatalf("read role: %d %s", r.status, r.raw)
	}
	// Drover compares what it sets, so this is what must read back the
	// same: durations in seconds, lists as lists. (Vault adds every other
	// field with its default; the fake models only these.)
	want := map[string]any{
		"role_type": "jwt", "bound_audiences": []any{"vault.io"}, "bound_claims_type": "string",
		"bound_claims":   map[string]any{"nomad_namespace": "default", "nomad_job_id": "api"},
		"claim_mappings": map[string]any{"nomad_namespace": "nomad_namespace", "nomad_job_id": "nomad_job_id", "nomad_task": "nomad_task"},
		"user_claim":     "/nomad_job_id", "user_claim_json_pointer": true,
		"token_period": 1800.0, "token_policies": []any{name}, "token_type": "service", "token_ttl": 0.0, "token_max_ttl": 0.0,
	}
	got := map[string]any{}
	for k := range want {
		got[k] = data(r)[k]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("role (-want +got):\n%s", diff)
	}
	if r := tg.do(t, "LIST", base, nil); r.status != 200 || !cmp.Equal(data(r)["keys"], []any{name}) {
		t.Errorf("list roles: %d %s", r.status, r.raw)
	}

	// A write updates the fields it names and keeps the others.
	if r := tg.do(t, "PUT", base+"/"+name, map[string]any{"role_type": "jwt", "token_policies": "a, b"}); r.status != 204 {
		t.Fatalf("update: %d %s", r.status, r.raw)
	}
	r = tg.do(t, "GET", base+"/"+name, nil)
	if d := data(r); !cmp.Equal(d["token_policies"], []any{"a", "b"}) || d["user_claim"] != "/nomad_job_id" || d["token_period"] != 1800.0 {
		t.Errorf("updated role = %v", d)
	}
	if r := tg.do(t, "DELETE", base+"/"+name, nil); r.status != 204 {
		t.Errorf("delete: %d %s", r.status, r.raw)
	}
	if r := tg.do(t, "GET", base+"/"+name, nil); r.status != 404 {
		t.Errorf("deleted role: %d %s", r.status, r.raw)
	}
}

func contractJWTRoleValidation(t *testing.T, tg *target) {
	mount := tg.jwtMount(t)
	name := tg.name("bad")
	path := "/v1/auth/" + mount + "/role/" + name
	t.Cleanup(func() { tg.do(t, "DELETE", path, nil) })
	for _, tc := range []struct {
		name   string
		mutate func(map[string]any)
		want   string
	}{
		{"no user claim", func(m map[string]any) { delete(m, "user_claim") }, "a user claim must be defined on the role"},
		{"no bound constraint", func(m map[string]any) { delete(m, "bound_audiences"); delete(m, "bound_claims") }, "must have at least one bound constraint when creating/updating a role"},
		{"role type", func(m map[string]any) { m["role_type"] = "saml" }, "invalid 'role_type': saml"},
		{"token type", func(m map[string]any) { m["token_type"] = "default-service" }, `invalid 'token_type' value "default-service"`},
		// The role path's existence check meets the bad field first, and
		// reports it without the "Field validation failed: " of a handler.
		{"bad duration", func(m map[string]any) { m["token_period"] = "soon" }, `error converting input for field "token_period": time: invalid duration "soon"`},
		{"reserved mapping", func(m map[string]any) { m["claim_mappings"] = map[string]any{"x": "role"} }, `metadata key "role" is reserved and may not be a mapping destination`},
		{"ttl above max", func(m map[string]any) { m["token_ttl"] = "2h"; m["token_max_ttl"] = "1h" }, "'token_ttl' cannot be greater than 'token_max_ttl'"},
	} {
		role := droverRole(name)
		tc.mutate(role)
		r := tg.do(t, "PUT", path, role)
		if r.status != 400 || !cmp.Equal(r.body["errors"], []any{tc.want}) {
			t.Errorf("%s: %d %s, want 400 %q", tc.name, r.status, r.raw, tc.want)
		}
	}
	if r := tg.do(t, "GET", path, nil); r.status != 404 {
		t.Errorf("a rejected write stored the role: %d %s", r.status, r.raw)
	}
}

func contractNoHandler(t *testing.T, tg *target) {
	for _, path := range []string{tg.name("nowhere") + "/x", "auth/" + tg.name("nowhere") + "/role/api"} {
		r := tg.do(t, "GET", "/v1/"+path, nil)
		want := `{"errors":["no handler for route \"` + path + `\". route entry not found."]}`
		if r.status != 404 || errorsOf(r) != want {
			t.Errorf("GET %s: %d %s, want 404 %s", path, r.status, r.raw, want)
		}
	}
}

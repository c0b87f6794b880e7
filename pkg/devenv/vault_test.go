package devenv

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func newTestVault(t *testing.T) (*fakeVault, *vaultClient) {
	t.Helper()
	fv := newFakeVault("root-token")
	srv := httptest.NewServer(fv)
	t.Cleanup(srv.Close)
	return fv, &vaultClient{addr: srv.URL, token: "root-token", http: srv.Client()}
}

func TestConfigureVaultLikeNomadSetupVault(t *testing.T) {
	fv, vc := newTestVault(t)
	log := slog.New(slog.DiscardHandler)
	const jwks = "http://127.0.0.1:14646/.well-known/jwks.json"
	if err := configureVault(t.Context(), log, vc, jwks); err != nil {
		t.Fatal(err)
	}
	wantWrites := []string{
		"POST sys/auth/jwt-nomad",
		"POST auth/jwt-nomad/config",
		"PUT sys/policies/acl/nomad-workloads",
		"POST auth/jwt-nomad/role/nomad-workloads",
	}
	if diff := cmp.Diff(wantWrites, fv.writes); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}

	var cfg map[string]any
	json.Unmarshal(fv.data["auth/jwt-nomad/config"], &cfg)
	wantCfg := map[string]any{"jwks_url": jwks, "jwt_supported_algs": []any{"EdDSA", "RS256"}, "default_role": "nomad-workloads"}
	if diff := cmp.Diff(wantCfg, cfg); diff != "" {
		t.Errorf("auth config (-want +got):\n%s", diff)
	}

	// The whole role, as in Nomad's vault-wi-default-role.json.
	var role map[string]any
	json.Unmarshal(fv.data["auth/jwt-nomad/role/nomad-workloads"], &role)
	wantRole := map[string]any{
		"role_type": "jwt", "bound_audiences": "vault.io",
		"user_claim": "/nomad_job_id", "user_claim_json_pointer": true,
		"claim_mappings": map[string]any{"nomad_namespace": "nomad_namespace", "nomad_job_id": "nomad_job_id", "nomad_task": "nomad_task"},
		"token_type":     "service", "token_period": "30m", "token_policies": []any{"nomad-workloads"},
	}
	if diff := cmp.Diff(wantRole, role); diff != "" {
		t.Errorf("role (-want +got):\n%s", diff)
	}

	var pol struct{ Policy string }
	json.Unmarshal(fv.data["sys/policies/acl/nomad-workloads"], &pol)
	if strings.Contains(pol.Policy, "auth_jwt_X") || !strings.Contains(pol.Policy,
		`path "secret/data/{{identity.entity.aliases.auth_jwt_fake.metadata.nomad_namespace}}/{{identity.entity.aliases.auth_jwt_fake.metadata.nomad_job_id}}/*"`) {
		t.Errorf("policy not templated with the mount accessor:\n%s", pol.Policy)
	}

	// Idempotent: a second run finds everything in place and writes nothing.
	fv.writes = nil
	if err := configureVault(t.Context(), log, vc, jwks); err != nil {
		t.Fatal(err)
	}
	if len(fv.writes) != 0 {
		t.Errorf("second run wrote %v", fv.writes)
	}

	// A Nomad on another port: only the JWKS URL is rewritten; the role
	// (maybe extended by the user since) is kept.
	fv.writes = nil
	if err := configureVault(t.Context(), log, vc, "http://127.0.0.1:24646/.well-known/jwks.json"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"POST auth/jwt-nomad/config"}, fv.writes); diff != "" {
		t.Errorf("writes after a JWKS change (-want +got):\n%s", diff)
	}
}

func TestConfigureVaultKVMount(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	t.Run("missing", func(t *testing.T) {
		fv, vc := newTestVault(t)
		delete(fv.mounts, "secret/")
		if err := configureVault(t.Context(), log, vc, "http://x/jwks"); err != nil {
			t.Fatal(err)
		}
		if m := fv.mounts["secret/"]; m.Type != "kv" || m.Options["version"] != "2" {
			t.Errorf("secret/ = %+v, want kv v2", m)
		}
	})
	t.Run("kv v1 is upgraded", func(t *testing.T) {
		fv, vc := newTestVault(t)
		fv.mounts["secret/"] = mountInfo{Type: "kv", Accessor: "kv_1", Options: map[string]string{"version": "1"}}
		if err := configureVault(t.Context(), log, vc, "http://x/jwks"); err != nil {
			t.Fatal(err)
		}
		if fv.writes[0] != "POST sys/mounts/secret/tune" || fv.mounts["secret/"].Options["version"] != "2" {
			t.Errorf("writes %v, mount %+v", fv.writes, fv.mounts["secret/"])
		}
	})
	t.Run("another engine is an error", func(t *testing.T) {
		fv, vc := newTestVault(t)
		fv.mounts["secret/"] = mountInfo{Type: "transit"}
		err := configureVault(t.Context(), log, vc, "http://x/jwks")
		if err == nil || !strings.Contains(err.Error(), `secret/ is a "transit" secrets engine`) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("jwt-nomad of another type is an error", func(t *testing.T) {
		fv, vc := newTestVault(t)
		fv.auths["jwt-nomad/"] = mountInfo{Type: "userpass", Accessor: "auth_userpass_1"}
		err := configureVault(t.Context(), log, vc, "http://x/jwks")
		if err == nil || !strings.Contains(err.Error(), `jwt-nomad/ is of type "userpass"`) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestVaultAPIErrorIsTyped(t *testing.T) {
	_, vc := newTestVault(t)
	vc.token = "wrong"
	err := configureVault(t.Context(), slog.New(slog.DiscardHandler), vc, "http://x/jwks")
	var apiErr *VaultAPIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusForbidden || apiErr.Path != "/v1/sys/mounts" {
		t.Fatalf("err = %#v, want a 403 *VaultAPIError for /v1/sys/mounts", err)
	}
	if !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("err = %v, want Vault's message", err)
	}
}

package devenv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
)

// The JWT auth config, role and policy below are those that
// `nomad setup vault` (Nomad 2.0) writes; see its
// command/asset/vault-wi-default-*.

// jwtAuthConfig is auth/jwt-nomad/config for the Nomad agent at jwksURL.
func jwtAuthConfig(jwksURL string) map[string]any {
	return map[string]any{
		"jwks_url":           jwksURL,
		"jwt_supported_algs": []string{"EdDSA", "RS256"},
		"default_role":       jwtRole,
	}
}

// jwtRoleBody is the whole auth/jwt-nomad/role/nomad-workloads. It is
// always written whole: a partial write to a JWT role resets fields such
// as role_type.
func jwtRoleBody() map[string]any {
	return map[string]any{
		"role_type":               "jwt",
		"bound_audiences":         jwtAudience,
		"user_claim":              "/nomad_job_id",
		"user_claim_json_pointer": true,
		"claim_mappings": map[string]string{
			"nomad_namespace": "nomad_namespace",
			"nomad_job_id":    "nomad_job_id",
			"nomad_task":      "nomad_task",
		},
		"token_type":     "service",
		"token_period":   "30m",
		"token_policies": []string{jwtPolicy},
	}
}

// jwtPolicyText is the nomad-workloads policy for the JWT mount with the
// given accessor: read on secret/data/<job namespace>/<job id>[/*], list on
// the metadata.
func jwtPolicyText(accessor string) string {
	const tmpl = `path "secret/data/{{identity.entity.aliases.auth_jwt_X.metadata.nomad_namespace}}/{{identity.entity.aliases.auth_jwt_X.metadata.nomad_job_id}}/*" {
  capabilities = ["read"]
}

path "secret/data/{{identity.entity.aliases.auth_jwt_X.metadata.nomad_namespace}}/{{identity.entity.aliases.auth_jwt_X.metadata.nomad_job_id}}" {
  capabilities = ["read"]
}

path "secret/metadata/{{identity.entity.aliases.auth_jwt_X.metadata.nomad_namespace}}/*" {
  capabilities = ["list"]
}

path "secret/metadata/*" {
  capabilities = ["list"]
}
`
	return strings.ReplaceAll(tmpl, "auth_jwt_X", accessor)
}

// vaultClient is a minimal client of Vault's (and OpenBao's) HTTP API.
type vaultClient struct {
	addr, token string
	http        *http.Client
}

// do sends body (JSON-encoded when non-nil) and decodes a 200 answer into
// out when non-nil. A 404 on GET is returned as a *VaultAPIError too.
func (v *vaultClient) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, v.addr+"/v1/"+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("X-Vault-Token", v.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := v.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		apiErr := &VaultAPIError{Method: method, Path: "/v1/" + path, StatusCode: resp.StatusCode}
		var e struct{ Errors []string }
		if json.Unmarshal(data, &e) == nil {
			apiErr.Errors = e.Errors
		}
		return apiErr
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s /v1/%s: %w", method, path, err)
		}
	}
	return nil
}

// mountInfo is one entry of sys/mounts or sys/auth.
type mountInfo struct {
	Type     string            `json:"type"`
	Accessor string            `json:"accessor"`
	Options  map[string]string `json:"options"`
}

func (v *vaultClient) mounts(ctx context.Context, path string) (map[string]mountInfo, error) {
	var out struct {
		Data map[string]mountInfo `json:"data"`
	}
	if err := v.do(ctx, http.MethodGet, path, nil, &out); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// configureVault makes the dev Vault ready for drover: KV v2 at secret/,
// and Nomad workload identity as `nomad setup vault -jwks-url jwksURL`
// sets it up (JWT auth at jwt-nomad, default role and policy
// nomad-workloads). Like that command it creates the role and the policy
// only when missing, so changes made to them since are kept; the JWKS URL
// is rewritten when it differs, as after a Nomad restart on another port.
func configureVault(ctx context.Context, log *slog.Logger, v *vaultClient, jwksURL string) error {
	// KV v2 at secret/ (the dev server mounts it; Vault before 1.1 mounted v1).
	mounts, err := v.mounts(ctx, "sys/mounts")
	if err != nil {
		return fmt.Errorf("list secrets engines: %w", err)
	}
	switch m, ok := mounts["secret/"]; {
	case !ok:
		log.Info("vault: mounting KV v2 at secret/")
		if err := v.do(ctx, http.MethodPost, "sys/mounts/secret", map[string]any{"type": "kv", "options": map[string]string{"version": "2"}}, nil); err != nil {
			return fmt.Errorf("mount KV v2 at secret/: %w", err)
		}
	case m.Type != "kv":
		return fmt.Errorf("secret/ is a %q secrets engine, want kv version 2", m.Type)
	case m.Options["version"] != "2":
		log.Info("vault: upgrading secret/ to KV v2")
		if err := v.do(ctx, http.MethodPost, "sys/mounts/secret/tune", map[string]any{"options": map[string]string{"version": "2"}}, nil); err != nil {
			return fmt.Errorf("upgrade secret/ to KV v2: %w", err)
		}
	}

	// The JWT auth method.
	auths, err := v.mounts(ctx, "sys/auth")
	if err != nil {
		return fmt.Errorf("list auth methods: %w", err)
	}
	m, ok := auths[jwtMount+"/"]
	if ok && m.Type != "jwt" {
		return fmt.Errorf("auth method %s/ is of type %q, want jwt", jwtMount, m.Type)
	}
	if !ok {
		log.Info("vault: enabling JWT auth", "path", jwtMount)
		if err := v.do(ctx, http.MethodPost, "sys/auth/"+jwtMount, map[string]any{"type": "jwt"}, nil); err != nil {
			return fmt.Errorf("enable JWT auth at %s/: %w", jwtMount, err)
		}
		if auths, err = v.mounts(ctx, "sys/auth"); err != nil {
			return fmt.Errorf("list auth methods: %w", err)
		}
		m = auths[jwtMount+"/"]
	}
	if m.Accessor == "" {
		return fmt.Errorf("auth method %s/ has no accessor", jwtMount)
	}

	var cfg struct {
		Data struct {
			JWKSURL string `json:"jwks_url"`
		} `json:"data"`
	}
	if err := v.do(ctx, http.MethodGet, "auth/"+jwtMount+"/config", nil, &cfg); err != nil && !isNotFound(err) {
		return fmt.Errorf("read auth/%s/config: %w", jwtMount, err)
	}
	if cfg.Data.JWKSURL != jwksURL {
		log.Info("vault: configuring JWT auth", "jwks_url", jwksURL)
		if err := v.do(ctx, http.MethodPost, "auth/"+jwtMount+"/config", jwtAuthConfig(jwksURL), nil); err != nil {
			return fmt.Errorf("configure auth/%s (Vault fetches %s): %w", jwtMount, jwksURL, err)
		}
	}

	// Policy, then role (the role names the policy).
	if err := v.do(ctx, http.MethodGet, "sys/policies/acl/"+jwtPolicy, nil, nil); isNotFound(err) {
		log.Info("vault: writing policy", "policy", jwtPolicy)
		if err := v.do(ctx, http.MethodPut, "sys/policies/acl/"+jwtPolicy, map[string]string{"policy": jwtPolicyText(m.Accessor)}, nil); err != nil {
			return fmt.Errorf("write policy %s: %w", jwtPolicy, err)
		}
	} else if err != nil {
		return fmt.Errorf("read policy %s: %w", jwtPolicy, err)
	}
	rolePath := "auth/" + jwtMount + "/role/" + jwtRole
	if err := v.do(ctx, http.MethodGet, rolePath, nil, nil); isNotFound(err) {
		log.Info("vault: writing JWT role", "role", jwtRole)
		if err := v.do(ctx, http.MethodPost, rolePath, jwtRoleBody(), nil); err != nil {
			return fmt.Errorf("write role %s: %w", rolePath, err)
		}
	} else if err != nil {
		return fmt.Errorf("read role %s: %w", rolePath, err)
	}
	return nil
}

func isNotFound(err error) bool {
	var e *VaultAPIError
	return errors.As(err, &e) && e.StatusCode == http.StatusNotFound
}

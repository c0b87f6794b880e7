package render

import (
	"fmt"
	"sort"
	"strings"

	"github.com/drover-io/drover/pkg/jobspec"
	"github.com/drover-io/drover/pkg/spec"
)

// vaultName is the name of an app's Vault policy and JWT role.
func vaultName(v spec.VaultSettings, app *spec.App) string { return v.PolicyPrefix + app.Name }

// vault renders the least-privilege policy of an app (read on exactly the
// KV v2 data paths its secrets name) and the JWT role that grants it to the
// app's workload identity only: bound to the job ID and namespace claims
// that Nomad signs. Apps without secrets get neither.
func (r *renderer) vault(app *spec.App) (*VaultPolicy, *VaultRole) {
	var kvPaths []string
	for _, s := range app.Secrets() {
		kvPaths = append(kvPaths, s.Path.V)
	}
	for _, t := range app.Tasks() {
		kvPaths = append(kvPaths, fileSecretPaths(t)...)
	}
	if len(kvPaths) == 0 {
		return nil, nil
	}
	v := r.set.Project.Vault
	owner := r.owner(app)
	name := vaultName(v, app)

	seen := map[string]bool{}
	var paths []string
	for _, kp := range kvPaths {
		p := kvDataPath(v.KVMount, kp)
		if !seen[p] {
			seen[p] = true
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	var b strings.Builder
	fmt.Fprintf(&b, "# Managed by drover %s: project %q, app %q, spec %q.\n", r.opts.Version, owner.Project, owner.App, owner.Spec)
	b.WriteString("# Changes made here are overwritten by the next deploy.\n")
	for _, p := range paths {
		fmt.Fprintf(&b, "\npath %q {\n  capabilities = [\"read\"]\n}\n", p)
	}

	role := &VaultRole{Owner: owner, Name: name, Mount: v.AuthPath, Data: map[string]any{
		"role_type":               "jwt",
		"bound_audiences":         append([]string(nil), v.Audience...),
		"user_claim":              "/nomad_job_id",
		"user_claim_json_pointer": true,
		"bound_claims": map[string]any{
			"nomad_namespace": r.namespace(),
			"nomad_job_id":    app.Name,
		},
		"claim_mappings": map[string]any{
			"nomad_namespace": "nomad_namespace",
			"nomad_job_id":    "nomad_job_id",
			"nomad_task":      "nomad_task",
		},
		"token_type":     "service",
		"token_period":   jobspec.FormatDuration(v.TokenPeriod),
		"token_policies": []string{name},
	}}
	return &VaultPolicy{Owner: owner, Name: name, Policy: b.String(), Paths: paths}, role
}

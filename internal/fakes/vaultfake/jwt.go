package vaultfake

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// systemMaxLeaseTTL is Vault's default max lease TTL (32 days), in seconds.
const systemMaxLeaseTTL = 768 * 3600

// jwtRole is a role of the JWT auth plugin (vault-plugin-auth-jwt and
// OpenBao's builtin jwt, path_role.go), durations in seconds. Only the
// fields drover writes are modelled.
type jwtRole struct {
	roleType             string
	boundAudiences       []string
	boundClaimsType      string
	boundClaims          map[string]any
	claimMappings        map[string]string
	userClaim            string
	userClaimJSONPointer bool

	// tokenutil.TokenParams
	tokenMaxTTL   int64
	tokenPeriod   int64
	tokenPolicies []string
	tokenType     string // default, service or batch
	tokenTTL      int64
}

type fieldKind int

const (
	kString fieldKind = iota
	kBool
	kDuration
	kCommaSlice
	kMap
	kKVPairs
)

// roleFields is the part of the role path's field schema that is
// modelled. A write with any other field answers 501, so that a test
// notices a field the fake would drop.
var roleFields = map[string]fieldKind{
	"role_type": kString, "bound_audiences": kCommaSlice, "bound_claims_type": kString,
	"bound_claims": kMap, "claim_mappings": kKVPairs, "user_claim": kString,
	"user_claim_json_pointer": kBool, "token_max_ttl": kDuration, "token_period": kDuration,
	"token_policies": kCommaSlice, "token_type": kString, "token_ttl": kDuration,
}

// parseFields converts every field present, like FieldData.Validate
// followed by GetOk. unmodelled names the first field the fake does not
// model.
func parseFields(data map[string]any) (out map[string]any, unmodelled string, err error) {
	out = map[string]any{}
	for _, key := range sortedKeys(data) {
		kind, ok := roleFields[key]
		if !ok {
			return nil, key, nil
		}
		raw := data[key]
		if raw == nil {
			continue
		}
		var v any
		switch kind {
		case kString:
			v, err = stringValue(raw)
		case kBool:
			v, err = boolValue(raw)
		case kDuration:
			v, err = durationSecondsValue(raw)
		case kCommaSlice:
			v, err = commaSliceValue(raw)
		case kMap:
			v, err = mapValue(raw)
		case kKVPairs:
			v, err = kvPairsValue(raw)
		}
		if err != nil {
			return nil, "", convertErr(key, err) // the existence check's error

		}
		out[key] = v
	}
	return out, "", nil
}

func (s *Server) authPath(w http.ResponseWriter, req request, rest string) {
	var m *mount
	var mountPath string
	for p, candidate := range s.auth {
		if strings.HasPrefix(rest+"/", p) && len(p) > len(mountPath) {
			m, mountPath = candidate, p
		}
	}
	if m == nil {
		noHandler(w, req.path)
		return
	}
	sub := strings.TrimPrefix(rest+"/", mountPath)
	sub = strings.TrimSuffix(sub, "/")
	if m.roles == nil {
		respondError(w, http.StatusNotImplemented, "vaultfake: only the roles of JWT auth methods are modelled")
		return
	}
	switch {
	case sub == "role":
		if req.op != opList {
			respondError(w, http.StatusMethodNotAllowed, "unsupported operation")
			return
		}
		keys := make([]string, 0, len(m.roles))
		for name := range m.roles {
			keys = append(keys, name)
		}
		respondList(w, keys)
	case strings.HasPrefix(sub, "role/"):
		// The role name field is TypeLowerCaseString.
		name := strings.ToLower(strings.TrimPrefix(sub, "role/"))
		switch req.op {
		case opRead:
			role := m.roles[name]
			if role == nil {
				respondError(w, http.StatusNotFound, "")
				return
			}
			respondData(w, http.StatusOK, role.read(), nil)
		case opWrite:
			role, warnings, status, err := writeRole(m.roles[name], req.data)
			if err != "" {
				respondError(w, status, err)
				return
			}
			m.roles[name] = role
			if len(warnings) > 0 {
				respondData(w, http.StatusOK, nil, warnings)
				return
			}
			respondNoContent(w)
		case opDelete:
			delete(m.roles, name)
			respondNoContent(w)
		default:
			respondError(w, http.StatusMethodNotAllowed, "unsupported operation")
		}
	default:
		respondError(w, http.StatusNotImplemented, "vaultfake: only auth/<jwt mount>/role is modelled")
	}
}

// writeRole is pathRoleCreateUpdate for the modelled fields: it applies the
// fields given to a copy of the existing role (or a new one) and validates
// the result. It returns the role, the response warnings, and the status
// and text of an error.
func writeRole(existing *jwtRole, data map[string]any) (*jwtRole, []string, int, string) {
	d, unmodelled, err := parseFields(data)
	switch {
	case unmodelled != "":
		return nil, nil, http.StatusNotImplemented, fmt.Sprintf("vaultfake: role field %q is not modelled", unmodelled)
	case err != nil:
		return nil, nil, http.StatusBadRequest, err.Error()
	}
	role := &jwtRole{}
	if existing != nil {
		c := *existing
		role = &c
	}
	get := func(k string) (any, bool) { v, ok := d[k]; return v, ok }
	bad := func(format string, args ...any) (*jwtRole, []string, int, string) {
		return nil, nil, http.StatusBadRequest, fmt.Sprintf(format, args...)
	}

	// role_type is read with its default: a write without it makes an
	// oidc role, which needs redirect URIs the fake does not model.
	roleType, _ := d["role_type"].(string)
	switch roleType {
	case "jwt":
	case "", "oidc":
		return nil, nil, http.StatusNotImplemented, "vaultfake: only roles of role_type \"jwt\" are modelled"
	default:
		return bad("invalid 'role_type': %s", roleType)
	}
	role.roleType = roleType

	if msg := role.parseTokenFields(d); msg != "" {
		return bad("%s", msg)
	}
	if role.tokenPeriod > systemMaxLeaseTTL {
		return bad("'period' of '%q' is greater than the backend's maximum lease TTL of '%q'",
			durationString(role.tokenPeriod), durationString(systemMaxLeaseTTL))
	}
	if v, ok := get("bound_audiences"); ok {
		role.boundAudiences = v.([]string)
	}
	claimsType, _ := d["bound_claims_type"].(string)
	if claimsType == "" {
		claimsType = "string" // read with its default on every write
	}
	if claimsType != "string" && claimsType != "glob" {
		return bad("invalid 'bound_claims_type': %s", claimsType)
	}
	role.boundClaimsType = claimsType
	if v, ok := get("bound_claims"); ok {
		role.boundClaims = v.(map[string]any)
		if claimsType == "glob" {
			for _, values := range role.boundClaims {
				list, ok := values.([]any)
				if !ok {
					list = []any{values}
				}
				for _, e := range list {
					if _, ok := e.(string); !ok {
						return bad("claim is not a string: %v", e)
					}
				}
			}
		}
	}
	if v, ok := get("claim_mappings"); ok {
		mappings := v.(map[string]string)
		targets := map[string]bool{}
		for _, k := range sortedKeys(mappings) {
			meta := mappings[k]
			if meta == "role" {
				return bad("metadata key %q is reserved and may not be a mapping destination", meta)
			}
			if targets[meta] {
				return bad("multiple keys are mapped to metadata key %q", meta)
			}
			targets[meta] = true
		}
		role.claimMappings = mappings
	}
	if v, ok := get("user_claim"); ok {
		role.userClaim = v.(string)
	}
	if role.userClaim == "" {
		return bad("a user claim must be defined on the role")
	}
	if v, ok := get("user_claim_json_pointer"); ok {
		role.userClaimJSONPointer = v.(bool)
	}
	if len(role.boundAudiences) == 0 && len(role.boundClaims) == 0 {
		return bad("must have at least one bound constraint when creating/updating a role")
	}
	if role.tokenMaxTTL > 0 && role.tokenTTL > role.tokenMaxTTL {
		return bad("ttl should not be greater than max ttl")
	}
	var warnings []string
	if role.tokenMaxTTL > systemMaxLeaseTTL {
		warnings = append(warnings, "token max ttl is greater than the system or backend mount's maximum TTL value; issued tokens' max TTL value will be truncated")
	}
	return role, warnings, 0, ""
}

// parseTokenFields is tokenutil.TokenParams.ParseTokenFields for the
// modelled token fields.
func (r *jwtRole) parseTokenFields(d map[string]any) string {
	if v, ok := d["token_max_ttl"]; ok {
		r.tokenMaxTTL = v.(int64)
	}
	if v, ok := d["token_period"]; ok {
		r.tokenPeriod = v.(int64)
	}
	if v, ok := d["token_policies"]; ok {
		r.tokenPolicies = v.([]string)
	}
	if v, ok := d["token_type"]; ok {
		switch t := v.(string); t {
		case "", "default":
			r.tokenType = "default"
		case "service", "batch":
			r.tokenType = t
		default:
			return fmt.Sprintf("invalid 'token_type' value %q", t)
		}
	}
	if r.tokenType == "batch" && r.tokenPeriod != 0 {
		return "'token_type' cannot be 'batch' or 'default_batch' when set to generate periodic tokens"
	}
	if v, ok := d["token_ttl"]; ok {
		r.tokenTTL = v.(int64)
	}
	if r.tokenTTL > 0 && r.tokenMaxTTL > 0 && r.tokenTTL > r.tokenMaxTTL {
		return "'token_ttl' cannot be greater than 'token_max_ttl'"
	}
	return ""
}

// read is pathRoleRead for the modelled fields: durations in seconds, the
// token fields as PopulateTokenData writes them. (The real plugin also
// reports every other field with its default.)
func (r *jwtRole) read() map[string]any {
	tokenType := r.tokenType
	if tokenType == "" {
		tokenType = "default"
	}
	policies := r.tokenPolicies
	if len(policies) == 0 {
		policies = []string{}
	}
	return map[string]any{
		"role_type":               r.roleType,
		"bound_audiences":         r.boundAudiences,
		"bound_claims_type":       r.boundClaimsType,
		"bound_claims":            r.boundClaims,
		"claim_mappings":          r.claimMappings,
		"user_claim":              r.userClaim,
		"user_claim_json_pointer": r.userClaimJSONPointer,
		"token_max_ttl":           r.tokenMaxTTL,
		"token_period":            r.tokenPeriod,
		"token_policies":          policies,
		"token_type":              tokenType,
		"token_ttl":               r.tokenTTL,
	}
}

// durationString is time.Duration.String for whole seconds.
func durationString(secs int64) string {
	h, m, s := secs/3600, secs/60%60, secs%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%dm%ds", h, m, s)
	case m > 0:
		return fmt.Sprintf("%dm%ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ---- test helpers ----

// Role returns a JWT role as GET auth/<mount>/role/<name> reports its
// data, or nil when there is no such role.
func (s *Server) Role(mountPath, name string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.auth[strings.Trim(mountPath, "/")+"/"]
	if m == nil || m.roles == nil || m.roles[strings.ToLower(name)] == nil {
		return nil
	}
	return m.roles[strings.ToLower(name)].read()
}

// Roles returns the names of the roles of a JWT auth method, sorted.
func (s *Server) Roles(mountPath string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.auth[strings.Trim(mountPath, "/")+"/"]
	if m == nil {
		return nil
	}
	return sortedKeys(m.roles)
}

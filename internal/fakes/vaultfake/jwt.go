package vaultfake

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// systemMaxLeaseTTL is Vault's default max lease TTL (32 days), in seconds.
const systemMaxLeaseTTL = 768 * 3600

// jwtRole is a role of the JWT/OIDC auth plugin (hashicorp/vault-plugin-
// auth-jwt path_role.go), durations in seconds.
type jwtRole struct {
	roleType             string
	boundAudiences       []string
	boundSubject         string
	boundClaimsType      string
	boundClaims          map[string]any
	claimMappings        map[string]string
	oauth2Metadata       []string
	userClaim            string
	userClaimJSONPointer bool
	groupsClaim          string
	allowedRedirectURIs  []string
	oidcScopes           []string
	verboseOIDCLogging   bool
	maxAge               int64
	expirationLeeway     int64
	notBeforeLeeway      int64
	clockSkewLeeway      int64

	// tokenutil.TokenParams
	tokenBoundCIDRs      []string
	tokenExplicitMaxTTL  int64
	tokenMaxTTL          int64
	tokenNoDefaultPolicy bool
	tokenPeriod          int64
	tokenPolicies        []string
	tokenType            string // default, service or batch
	tokenTTL             int64
	tokenNumUses         int64

	// deprecated names of the token fields, reported back when used
	policies   []string
	boundCIDRs []string
	ttl        int64
	maxTTL     int64
	period     int64
	numUses    int64
}

type fieldKind int

const (
	kString fieldKind = iota
	kBool
	kInt
	kDuration
	kSignedDuration
	kCommaSlice
	kMap
	kKVPairs
)

// roleFields is the role path's field schema, token fields included.
var roleFields = map[string]fieldKind{
	"role_type": kString, "policies": kCommaSlice, "num_uses": kInt, "ttl": kDuration,
	"max_ttl": kDuration, "period": kDuration, "bound_cidrs": kCommaSlice,
	"expiration_leeway": kSignedDuration, "not_before_leeway": kSignedDuration,
	"clock_skew_leeway": kSignedDuration, "bound_subject": kString, "bound_audiences": kCommaSlice,
	"bound_claims_type": kString, "bound_claims": kMap, "claim_mappings": kKVPairs,
	"oauth2_metadata": kCommaSlice, "user_claim": kString, "user_claim_json_pointer": kBool,
	"groups_claim": kString, "oidc_scopes": kCommaSlice, "allowed_redirect_uris": kCommaSlice,
	"verbose_oidc_logging": kBool, "max_age": kDuration,
	"token_bound_cidrs": kCommaSlice, "token_explicit_max_ttl": kDuration, "token_max_ttl": kDuration,
	"token_no_default_policy": kBool, "token_period": kDuration, "token_policies": kCommaSlice,
	"token_type": kString, "token_ttl": kDuration, "token_num_uses": kInt,
}

// parseFields converts every known field present, like FieldData.Validate
// followed by GetOk.
func parseFields(data map[string]any) (map[string]any, error) {
	out := map[string]any{}
	for _, key := range sortedKeys(data) {
		kind, ok := roleFields[key]
		raw := data[key]
		if !ok || raw == nil {
			continue
		}
		var v any
		var err error
		switch kind {
		case kString:
			v, err = stringValue(raw)
		case kBool:
			v, err = boolValue(raw)
		case kInt:
			v, err = intValue(raw)
		case kDuration:
			v, err = durationSecondsValue(raw, false)
		case kSignedDuration:
			v, err = durationSecondsValue(raw, true)
		case kCommaSlice:
			v, err = commaSliceValue(raw)
		case kMap:
			v, err = mapValue(raw)
		case kKVPairs:
			v, err = kvPairsValue(raw)
		}
		if err != nil {
			return nil, fieldErr(key, err)
		}
		out[key] = v
	}
	return out, nil
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
		respondError(w, http.StatusNotFound, "unsupported path")
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
			role, warnings, err := writeRole(m.roles[name], req.data)
			if err != "" {
				respondError(w, http.StatusBadRequest, err)
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
		respondError(w, http.StatusNotFound, "unsupported path")
	}
}

// writeRole is pathRoleCreateUpdate: it applies the fields given to a copy
// of the existing role (or a new one) and validates the result. It returns
// the role, the response warnings and an error text for a 400.
func writeRole(existing *jwtRole, data map[string]any) (*jwtRole, []string, string) {
	d, err := parseFields(data)
	if err != nil {
		return nil, nil, err.Error()
	}
	role := &jwtRole{}
	if existing != nil {
		c := *existing
		role = &c
	}
	get := func(k string) (any, bool) { v, ok := d[k]; return v, ok }

	// role_type is read with its default: a write without it makes an
	// oidc role.
	roleType, _ := d["role_type"].(string)
	if roleType == "" {
		roleType = "oidc"
	}
	if roleType != "jwt" && roleType != "oidc" {
		return nil, nil, fmt.Sprintf("invalid 'role_type': %s", roleType)
	}
	role.roleType = roleType

	if msg := role.parseTokenFields(d); msg != "" {
		return nil, nil, msg
	}
	for _, up := range []struct {
		old, new   string
		slice      *[]string
		newSlice   *[]string
		num, newNm *int64
	}{
		{old: "policies", new: "token_policies", slice: &role.policies, newSlice: &role.tokenPolicies},
		{old: "bound_cidrs", new: "token_bound_cidrs", slice: &role.boundCIDRs, newSlice: &role.tokenBoundCIDRs},
		{old: "num_uses", new: "token_num_uses", num: &role.numUses, newNm: &role.tokenNumUses},
		{old: "ttl", new: "token_ttl", num: &role.ttl, newNm: &role.tokenTTL},
		{old: "max_ttl", new: "token_max_ttl", num: &role.maxTTL, newNm: &role.tokenMaxTTL},
		{old: "period", new: "token_period", num: &role.period, newNm: &role.tokenPeriod},
	} {
		// tokenutil.UpgradeValue: the new name wins; the old one is kept
		// only when it alone was given.
		ov, oldOK := get(up.old)
		_, newOK := get(up.new)
		switch {
		case newOK && up.slice != nil:
			*up.slice = nil
		case newOK:
			*up.num = 0
		case oldOK && up.slice != nil:
			*up.slice, *up.newSlice = ov.([]string), ov.([]string)
		case oldOK:
			*up.num, *up.newNm = ov.(int64), ov.(int64)
		}
	}
	if role.tokenPeriod > systemMaxLeaseTTL {
		return nil, nil, fmt.Sprintf("'period' of '%q' is greater than the backend's maximum lease TTL of '%q'",
			durationString(role.tokenPeriod), durationString(systemMaxLeaseTTL))
	}
	if v, ok := get("expiration_leeway"); ok {
		role.expirationLeeway = v.(int64)
	}
	if v, ok := get("not_before_leeway"); ok {
		role.notBeforeLeeway = v.(int64)
	}
	if v, ok := get("clock_skew_leeway"); ok {
		role.clockSkewLeeway = v.(int64)
	}
	if v, ok := get("bound_audiences"); ok {
		role.boundAudiences = v.([]string)
	}
	if v, ok := get("bound_subject"); ok {
		role.boundSubject = v.(string)
	}
	if v, ok := get("verbose_oidc_logging"); ok {
		role.verboseOIDCLogging = v.(bool)
	}
	if v, ok := get("max_age"); ok {
		role.maxAge = v.(int64)
	}
	claimsType, _ := d["bound_claims_type"].(string)
	if claimsType == "" {
		claimsType = "string" // read with its default on every write
	}
	if claimsType != "string" && claimsType != "glob" {
		return nil, nil, fmt.Sprintf("invalid 'bound_claims_type': %s", claimsType)
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
						return nil, nil, fmt.Sprintf("claim is not a string: %v", e)
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
				return nil, nil, fmt.Sprintf("metadata key %q is reserved and may not be a mapping destination", meta)
			}
			if targets[meta] {
				return nil, nil, fmt.Sprintf("multiple keys are mapped to metadata key %q", meta)
			}
			targets[meta] = true
		}
		role.claimMappings = mappings
	}
	if v, ok := get("oauth2_metadata"); ok {
		role.oauth2Metadata = v.([]string)
	}
	if v, ok := get("user_claim"); ok {
		role.userClaim = v.(string)
	}
	if role.userClaim == "" {
		return nil, nil, "a user claim must be defined on the role"
	}
	if v, ok := get("user_claim_json_pointer"); ok {
		role.userClaimJSONPointer = v.(bool)
	}
	if v, ok := get("groups_claim"); ok {
		role.groupsClaim = v.(string)
	}
	if v, ok := get("oidc_scopes"); ok {
		role.oidcScopes = v.([]string)
	}
	if v, ok := get("allowed_redirect_uris"); ok {
		role.allowedRedirectURIs = v.([]string)
	}
	if role.roleType == "oidc" && len(role.allowedRedirectURIs) == 0 {
		return nil, nil, "'allowed_redirect_uris' must be set if 'role_type' is 'oidc' or unspecified."
	}
	if role.roleType != "oidc" && len(role.boundAudiences) == 0 && len(role.tokenBoundCIDRs) == 0 &&
		role.boundSubject == "" && len(role.boundClaims) == 0 {
		return nil, nil, "must have at least one bound constraint when creating/updating a role"
	}
	if role.tokenMaxTTL > 0 && role.tokenTTL > role.tokenMaxTTL {
		return nil, nil, "ttl should not be greater than max ttl"
	}
	var warnings []string
	if role.tokenMaxTTL > systemMaxLeaseTTL {
		warnings = append(warnings, "token max ttl is greater than the system or backend mount's maximum TTL value; issued tokens' max TTL value will be truncated")
	}
	if role.verboseOIDCLogging {
		warnings = append(warnings, "verbose_oidc_logging has been enabled for this role. This is not recommended in production since sensitive information may be present in OIDC responses.")
	}
	return role, warnings, ""
}

// parseTokenFields is tokenutil.TokenParams.ParseTokenFields.
func (r *jwtRole) parseTokenFields(d map[string]any) string {
	if v, ok := d["token_bound_cidrs"]; ok {
		r.tokenBoundCIDRs = v.([]string)
	}
	if v, ok := d["token_explicit_max_ttl"]; ok {
		r.tokenExplicitMaxTTL = v.(int64)
	}
	if v, ok := d["token_max_ttl"]; ok {
		r.tokenMaxTTL = v.(int64)
	}
	if v, ok := d["token_no_default_policy"]; ok {
		r.tokenNoDefaultPolicy = v.(bool)
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
	if v, ok := d["token_num_uses"]; ok {
		r.tokenNumUses = v.(int64)
	}
	if r.tokenNumUses < 0 {
		return "'token_num_uses' cannot be negative"
	}
	if r.tokenType == "batch" {
		if r.tokenPeriod != 0 {
			return "'token_type' cannot be 'batch' or 'default_batch' when set to generate periodic tokens"
		}
		if r.tokenNumUses != 0 {
			return "'token_type' cannot be 'batch' or 'default_batch' when set to generate tokens with limited use count"
		}
	}
	if v, ok := d["token_ttl"]; ok {
		r.tokenTTL = v.(int64)
	}
	if r.tokenTTL > 0 && r.tokenMaxTTL > 0 && r.tokenTTL > r.tokenMaxTTL {
		return "'token_ttl' cannot be greater than 'token_max_ttl'"
	}
	return ""
}

// read is pathRoleRead: every field, durations in seconds, the token
// fields as PopulateTokenData writes them, and the deprecated names only
// when they were used.
func (r *jwtRole) read() map[string]any {
	tokenType := r.tokenType
	if tokenType == "" {
		tokenType = "default"
	}
	policies, cidrs := r.tokenPolicies, r.tokenBoundCIDRs
	if len(policies) == 0 {
		policies = []string{}
	}
	if len(cidrs) == 0 {
		cidrs = []string{}
	}
	d := map[string]any{
		"role_type":               r.roleType,
		"expiration_leeway":       r.expirationLeeway,
		"not_before_leeway":       r.notBeforeLeeway,
		"clock_skew_leeway":       r.clockSkewLeeway,
		"bound_audiences":         r.boundAudiences,
		"bound_subject":           r.boundSubject,
		"bound_claims_type":       r.boundClaimsType,
		"bound_claims":            r.boundClaims,
		"claim_mappings":          r.claimMappings,
		"oauth2_metadata":         r.oauth2Metadata,
		"user_claim":              r.userClaim,
		"user_claim_json_pointer": r.userClaimJSONPointer,
		"groups_claim":            r.groupsClaim,
		"allowed_redirect_uris":   r.allowedRedirectURIs,
		"oidc_scopes":             r.oidcScopes,
		"verbose_oidc_logging":    r.verboseOIDCLogging,
		"max_age":                 r.maxAge,
		"token_bound_cidrs":       cidrs,
		"token_explicit_max_ttl":  r.tokenExplicitMaxTTL,
		"token_max_ttl":           r.tokenMaxTTL,
		"token_no_default_policy": r.tokenNoDefaultPolicy,
		"token_period":            r.tokenPeriod,
		"token_policies":          policies,
		"token_type":              tokenType,
		"token_ttl":               r.tokenTTL,
		"token_num_uses":          r.tokenNumUses,
	}
	if len(r.policies) > 0 {
		d["policies"] = policies
	}
	if len(r.boundCIDRs) > 0 {
		d["bound_cidrs"] = cidrs
	}
	if r.ttl > 0 {
		d["ttl"] = r.ttl
	}
	if r.maxTTL > 0 {
		d["max_ttl"] = r.maxTTL
	}
	if r.period > 0 {
		d["period"] = r.period
	}
	if r.numUses > 0 {
		d["num_uses"] = r.numUses
	}
	return d
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

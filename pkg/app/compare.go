package app

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/drover-io/drover/internal/jsonx"
)

// --- small helpers shared by planning --------------------------------------

// containsString reports whether v (a []any or []string) holds s.
func containsString(v any, s string) bool {
	switch list := v.(type) {
	case []any:
		for _, x := range list {
			if fmt.Sprint(x) == s {
				return true
			}
		}
	case []string:
		for _, x := range list {
			if x == s {
				return true
			}
		}
	}
	return false
}

// pick keeps the keys of live that desired sets.
func pick(live, desired map[string]any) map[string]any {
	out := make(map[string]any, len(desired))
	for k := range desired {
		if v, ok := live[k]; ok {
			out[k] = v
		}
	}
	return out
}

// normalizeRole brings a JWT role's fields to one form: Vault reads
// durations back as seconds, so "30m" becomes 1800.
func normalizeRole(role map[string]any) any {
	g, _ := jsonx.Generic(role)
	m, _ := g.(map[string]any)
	for _, k := range []string{"token_period", "token_ttl", "token_max_ttl"} {
		if s, ok := m[k].(string); ok {
			if d, err := time.ParseDuration(s); err == nil {
				m[k] = d.Seconds()
			}
		}
	}
	out, _ := jsonx.Prune(m)
	return out
}

// reencode decodes a generic JSON value into out.
func reencode(generic any, out any) error {
	data, err := json.Marshal(generic)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, out)
}

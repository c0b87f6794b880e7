package spec

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/drover-io/drover/internal/lazyregexp"
)

// secretNameParts are parts of environment variable names that usually
// hold secrets (matched without underscores and case: API_KEY, apikey).
var secretNameParts = []string{"PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "TOKEN", "APIKEY", "PRIVATEKEY", "ACCESSKEY", "CREDENTIAL"}

// secretName reports whether an env name sounds like it holds a secret.
func secretName(name string) bool {
	n := strings.ToUpper(strings.ReplaceAll(name, "_", ""))
	for _, part := range secretNameParts {
		if strings.Contains(n, part) {
			return true
		}
	}
	return false
}

// secretFormats are credential formats recognisable by their value alone,
// whatever the variable is called. A value is matched against a format's
// expression only when it holds one of the format's hints, so that
// validate compiles none for the values of most specs.
var secretFormats = []struct {
	name  string
	hints []string
	re    func() *regexp.Regexp
}{
	{"a GitHub token", []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"}, lazyregexp.New(`\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})`)},
	{"a Slack token", []string{"xox"}, lazyregexp.New(`\bxox[abprs]-[A-Za-z0-9-]{10,}`)},
	{"a Stripe key", []string{"k_live_", "k_test_"}, lazyregexp.New(`\b[sr]k_(live|test)_[A-Za-z0-9]{16,}`)},
	{"a Google API key", []string{"AIza"}, lazyregexp.New(`\bAIza[0-9A-Za-z_-]{35}\b`)},
	{"an npm token", []string{"npm_"}, lazyregexp.New(`\bnpm_[A-Za-z0-9]{36}\b`)},
	{"a Vault token", []string{"hvs."}, lazyregexp.New(`\bhvs\.[A-Za-z0-9_-]{20,}`)},
	{"a private key", []string{"-----BEGIN "}, lazyregexp.New(`-----BEGIN [A-Z ]*PRIVATE KEY-----`)},
	{"a JSON Web Token", []string{"eyJ"}, lazyregexp.New(`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`)},
	{"a URL with a password", []string{"://"}, lazyregexp.New(`[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:[^/\s@]+@`)},
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// An AWS access key ID names a key pair; it is an identifier, not a secret
// (the secret access key is), so AWS_ACCESS_KEY_ID = "AKIA..." passes.
var (
	awsKeyIDNameRe = lazyregexp.New(`(?i)ACCESS_?KEY_?ID$`)
	awsKeyIDRe     = lazyregexp.New(`^(AKIA|ASIA)[0-9A-Z]{16}$`)
)

// looksLikeSecret says why an env entry looks like a literal secret, or ""
// when it does not. A recognised credential format counts whatever the name;
// a secret-sounding name counts only with a value shaped like a credential,
// so TOKEN_TTL = "5m" or PASSWORD_MIN_LENGTH = "12" pass.
func looksLikeSecret(name, value string) string {
	for _, f := range secretFormats {
		if containsAny(value, f.hints) && f.re().MatchString(value) {
			return "its value looks like " + f.name
		}
	}
	if !secretName(name) || harmlessValue(value) {
		return ""
	}
	if awsKeyIDNameRe().MatchString(name) && awsKeyIDRe().MatchString(value) {
		return ""
	}
	return "its name suggests a secret and its value is a literal"
}

// harmlessValue reports values that cannot be credentials: empty, numbers,
// booleans and switch words (yes, no, on, off, none, empty), durations, file
// paths, URLs without credentials and Nomad runtime interpolations, so that
// ALLOW_EMPTY_PASSWORD = "no" passes.
func harmlessValue(v string) bool {
	v = strings.TrimSpace(v)
	if v == "" || strings.Contains(v, "${") {
		return true
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return true
	}
	if _, err := strconv.ParseBool(v); err == nil {
		return true
	}
	if _, err := time.ParseDuration(v); err == nil {
		return true
	}
	if strings.HasPrefix(v, "/") || strings.HasPrefix(v, "./") {
		return true
	}
	if i := strings.Index(v, "://"); i > 0 && !strings.Contains(v[i:], "@") {
		return true
	}
	switch strings.ToLower(v) {
	case "yes", "no", "y", "n", "on", "off", "none", "null", "nil", "empty", "unset", "disabled", "enabled", "required", "optional":
		return true
	}
	return false
}

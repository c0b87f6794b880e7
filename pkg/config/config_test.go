package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func envOf(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config.hcl")
	if err := os.WriteFile(file, []byte(`
nomad {
  address   = "http://from-file:4646"
  namespace = "file-ns"
  region    = "file-region"
}
vault {
  address = "https://vault-from-file:8200"
}`), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(LoadOptions{
		File:   file,
		Getenv: envOf("NOMAD_ADDR", "http://from-env:4646", "NOMAD_NAMESPACE", "env-ns", "CONSUL_HTTP_ADDR", "consul.internal:8500", "CONSUL_HTTP_TOKEN", "c-token"),
		Flags:  Flags{NomadAddr: "http://from-flag:4646"},
	})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ got, want, what string }{
		{c.Nomad.Address, "http://from-flag:4646", "flag beats env and file"},
		{c.Nomad.Namespace, "env-ns", "env beats file"},
		{c.Nomad.Region, "file-region", "file beats default"},
		{c.Consul.Address, "http://consul.internal:8500", "a bare host:port gets http://"},
		{c.Vault.Address, "https://vault-from-file:8200", "file"},
		{c.Sources["nomad.address"], "flag --nomad-addr", "source of the address"},
		{c.Consul.Token.Reveal(), "c-token", "token from CONSUL_HTTP_TOKEN"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s: got %q, want %q", ch.what, ch.got, ch.want)
		}
	}
}

func TestDefaultsAndTLSEnv(t *testing.T) {
	c, err := Load(LoadOptions{Getenv: envOf("CONSUL_HTTP_SSL_VERIFY", "false", "VAULT_SKIP_VERIFY", "true", "NOMAD_CACERT", "/ca.pem", "CONSUL_HTTP_SSL", "true", "CONSUL_HTTP_ADDR", "c:8501"), File: filepath.Join(t.TempDir(), "none.hcl")})
	if err == nil {
		t.Fatal("an explicitly named config file that is missing is an error")
	}
	c, err = Load(LoadOptions{Getenv: envOf("CONSUL_HTTP_SSL_VERIFY", "false", "VAULT_SKIP_VERIFY", "true", "NOMAD_CACERT", "/ca.pem", "CONSUL_HTTP_SSL", "true", "CONSUL_HTTP_ADDR", "c:8501")})
	if err != nil {
		t.Fatal(err)
	}
	if c.Nomad.Address != "http://127.0.0.1:4646" || !c.Consul.TLS.SkipVerify || !c.Vault.TLS.SkipVerify || c.Nomad.TLS.CACert != "/ca.pem" || c.Consul.Address != "https://c:8501" {
		t.Errorf("unexpected config %+v", c)
	}
	if _, err := Load(LoadOptions{Getenv: envOf("NOMAD_SKIP_VERIFY", "maybe")}); err == nil {
		t.Error("a non-boolean NOMAD_SKIP_VERIFY is an error")
	}
}

// TestTokensNeverPrint: no formatting path shows a token.
func TestTokensNeverPrint(t *testing.T) {
	c, err := Load(LoadOptions{Getenv: envOf("NOMAD_TOKEN", "s3cr3t-nomad", "VAULT_TOKEN", "hvs.s3cr3t-vault")})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "nomad_token", c.Nomad.Token, "config", c)
	data, _ := json.Marshal(c)
	for _, out := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), string(data), logs.String()} {
		if strings.Contains(out, "s3cr3t") {
			t.Errorf("a token leaked: %s", out)
		}
	}
	if c.Nomad.Token.Reveal() != "s3cr3t-nomad" {
		t.Error("Reveal must return the token")
	}
}

// TestHomeFromGetenv: the default config file and ~/.vault-token are found
// under the HOME of the injected environment, never the process's.
func TestHomeFromGetenv(t *testing.T) {
	write := func(path, data string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	broken := t.TempDir()
	write(filepath.Join(broken, ".config", "drover", "config.hcl"), "nomad {\n  address =\n")
	t.Setenv("HOME", broken)
	t.Setenv("USERPROFILE", broken)
	if _, err := Load(LoadOptions{Getenv: envOf()}); err != nil {
		t.Errorf("without HOME in its environment, Load read the process's home: %v", err)
	}

	home := t.TempDir()
	write(filepath.Join(home, ".config", "drover", "config.hcl"), "nomad {\n  address = \"http://from-home:4646\"\n}\n")
	write(filepath.Join(home, ".vault-token"), "hvs.from-home\n")
	c, err := Load(LoadOptions{Getenv: envOf("HOME", home, "USERPROFILE", home)})
	if err != nil {
		t.Fatal(err)
	}
	if c.Nomad.Address != "http://from-home:4646" || c.Vault.Token.Reveal() != "hvs.from-home" {
		t.Errorf("the config and token under the injected HOME were not read: %s, token set %v", c.Nomad.Address, c.Vault.Token != "")
	}

	_, err = Load(LoadOptions{Getenv: envOf("HOME", broken, "USERPROFILE", broken)})
	if err == nil || !strings.Contains(err.Error(), broken) {
		t.Errorf("a broken config under the injected HOME must be an error naming it, got %v", err)
	}
}

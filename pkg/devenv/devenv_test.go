package devenv

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExportsOrderAndQuoting(t *testing.T) {
	env := Env{
		NomadAddr:  "http://127.0.0.1:4646",
		ConsulAddr: "http://127.0.0.1:8500",
		VaultAddr:  "http://127.0.0.1:8200",
		VaultToken: "drover-dev-ABC234",
	}
	want := []string{
		"export NOMAD_ADDR=http://127.0.0.1:4646",
		"export CONSUL_HTTP_ADDR=http://127.0.0.1:8500",
		"export VAULT_ADDR=http://127.0.0.1:8200",
		"export VAULT_TOKEN=drover-dev-ABC234",
	}
	if diff := cmp.Diff(want, env.Exports()); diff != "" {
		t.Errorf("Exports() mismatch (-want +got):\n%s", diff)
	}

	env.VaultToken = "it's $odd"
	got := env.Exports()[3]
	if want := `export VAULT_TOKEN='it'\''s $odd'`; got != want {
		t.Errorf("quoted export = %s, want %s", got, want)
	}
	env.VaultToken = ""
	if got, want := env.Exports()[3], "export VAULT_TOKEN=''"; got != want {
		t.Errorf("empty export = %s, want %s", got, want)
	}
}

func TestDefaultStateDir(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)

	t.Setenv("XDG_STATE_HOME", "/xdg/state")
	if got, _ := DefaultStateDir(); got != "/xdg/state/drover/dev" {
		t.Errorf("with XDG_STATE_HOME: %s", got)
	}
	for _, x := range []string{"", "relative/state"} { // a relative value is ignored, per the spec
		t.Setenv("XDG_STATE_HOME", x)
		if got, _ := DefaultStateDir(); got != filepath.Join(home, ".local/state/drover/dev") {
			t.Errorf("XDG_STATE_HOME=%q: %s", x, got)
		}
	}
}

func TestPortsDefaultsAndValidation(t *testing.T) {
	p := Ports{NomadHTTP: 14646}.withDefaults()
	want := DefaultPorts()
	want.NomadHTTP = 14646
	if p != want {
		t.Errorf("withDefaults = %+v, want %+v", p, want)
	}
	if err := DefaultPorts().validate(); err != nil {
		t.Errorf("DefaultPorts invalid: %v", err)
	}

	bad := DefaultPorts()
	bad.ConsulDNS = bad.NomadRPC // duplicate
	bad.NomadSerf = bad.VaultHTTP + 1
	bad.ConsulSerfWAN = 70000
	err := bad.validate()
	for _, frag := range []string{"port 4647 is given to both ConsulDNS and NomadRPC", "port 8201 is given to both VaultHTTP+1 (cluster) and NomadSerf", "ConsulSerfWAN = 70000 is out of range"} {
		if err == nil || !strings.Contains(err.Error(), frag) {
			t.Errorf("validate() = %v, want it to mention %q", err, frag)
		}
	}
}

// fakeLookPath finds the names in found, in a fake directory.
func fakeLookPath(found ...string) func(string) (string, error) {
	return func(name string) (string, error) {
		if slices.Contains(found, name) {
			return "/fake/bin/" + name, nil
		}
		return "", errors.New("executable file not found in $PATH")
	}
}

func TestFindBinaries(t *testing.T) {
	t.Setenv("PATH", "/fake/bin:/usr/bin")
	exe := filepath.Join(t.TempDir(), "my-nomad")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	notExe := filepath.Join(t.TempDir(), "nomad.txt")
	if err := os.WriteFile(notExe, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		bin     map[string]string
		found   []string
		want    map[string]string
		missing []string // MissingBinariesError.Missing
		errs    []string // fragments of MissingBinariesError.Errs
	}{
		{
			name:  "vault preferred over bao",
			found: []string{"nomad", "consul", "vault", "bao"},
			want:  map[string]string{Nomad: "/fake/bin/nomad", Consul: "/fake/bin/consul", Vault: "/fake/bin/vault"},
		},
		{
			name:  "bao when no vault",
			found: []string{"nomad", "consul", "bao"},
			want:  map[string]string{Nomad: "/fake/bin/nomad", Consul: "/fake/bin/consul", Vault: "/fake/bin/bao"},
		},
		{
			name:  "explicit path wins",
			bin:   map[string]string{Nomad: exe},
			found: []string{"consul", "bao"},
			want:  map[string]string{Nomad: exe, Consul: "/fake/bin/consul", Vault: "/fake/bin/bao"},
		},
		{
			name:    "all missing are listed",
			found:   []string{"nomad"},
			missing: []string{"vault (or bao)", "consul"},
		},
		{
			name:  "bad explicit paths",
			bin:   map[string]string{Nomad: notExe, "consul-template": exe, Vault: "/no/such/vault"},
			found: []string{"consul"},
			errs:  []string{`unknown agent "consul-template"`, "nomad: " + notExe + " is not an executable file", "vault: stat /no/such/vault"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := findBinaries(tt.bin, fakeLookPath(tt.found...))
			if tt.want != nil {
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("binaries (-want +got):\n%s", diff)
				}
				return
			}
			var me *MissingBinariesError
			if !errors.As(err, &me) {
				t.Fatalf("err = %v, want *MissingBinariesError", err)
			}
			if diff := cmp.Diff(tt.missing, me.Missing); diff != "" {
				t.Errorf("Missing (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"/fake/bin", "/usr/bin"}, me.Searched); diff != "" {
				t.Errorf("Searched (-want +got):\n%s", diff)
			}
			if len(me.Errs) != len(tt.errs) {
				t.Fatalf("Errs = %v, want %d", me.Errs, len(tt.errs))
			}
			for _, frag := range tt.errs {
				if !strings.Contains(err.Error(), frag) {
					t.Errorf("error %q does not mention %q", err, frag)
				}
			}
			if len(tt.missing) > 0 && !strings.Contains(err.Error(), "looked in PATH: /fake/bin:/usr/bin") {
				t.Errorf("error %q does not say where it looked", err)
			}
		})
	}
}

func TestAgentEnv(t *testing.T) {
	base := []string{
		"HOME=/home/dev", "PATH=/usr/bin", "AWS_CA_BUNDLE=/etc/ca.pem",
		"NOMAD_ADDR=http://prod:4646", "NOMAD_TOKEN=secret", "CONSUL_HTTP_ADDR=prod:8500",
		"VAULT_TOKEN=prod-token", "BAO_ADDR=http://prod:8200", "NOMAD_LICENSE=lic",
	}
	got := agentEnv(Nomad, base, prependPath(base, "/opt/consul"))
	want := []string{"HOME=/home/dev", "NOMAD_LICENSE=lic", "PATH=/opt/consul:/usr/bin"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("nomad env (-want +got):\n%s", diff)
	}
	got = agentEnv(Vault, base, "VAULT_DEV_ROOT_TOKEN_ID=t")
	want = []string{"HOME=/home/dev", "PATH=/usr/bin", "AWS_CA_BUNDLE=/etc/ca.pem", "NOMAD_LICENSE=lic", "VAULT_DEV_ROOT_TOKEN_ID=t"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("vault env (-want +got):\n%s", diff)
	}
}

func TestMatchesAgent(t *testing.T) {
	tests := []struct {
		argv []string
		name string
		bin  string
		want bool
	}{
		{[]string{"/usr/bin/nomad", "agent", "-dev"}, Nomad, "/usr/bin/nomad", true},
		{[]string{"/opt/nomad", "agent", "-dev"}, Nomad, "/usr/bin/nomad", false},  // another nomad
		{[]string{"/usr/bin/nomad", "job", "run"}, Nomad, "/usr/bin/nomad", false}, // not the agent
		{[]string{"/usr/bin/consul", "agent", "-dev"}, Nomad, "/usr/bin/nomad", false},
		{[]string{"/usr/bin/bao", "server", "-dev"}, Vault, "/usr/bin/bao", true},
		{[]string{"/usr/bin/bao", "server", "-dev"}, Vault, "", true}, // no state: by candidate name
		{[]string{"/usr/bin/python3", "server"}, Vault, "", false},
		{[]string{"sleep"}, Nomad, "", false},
		{nil, Consul, "", false},
	}
	for _, tt := range tests {
		if got := matchesAgent(tt.argv, tt.name, tt.bin); got != tt.want {
			t.Errorf("matchesAgent(%q, %s, %q) = %v, want %v", tt.argv, tt.name, tt.bin, got, tt.want)
		}
	}
}

func TestRootTokenIsPrivateAndStable(t *testing.T) {
	dir := t.TempDir()
	tok, err := rootToken(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) < 20 {
		t.Errorf("token %q is too short", tok)
	}
	fi, err := os.Stat(filepath.Join(dir, tokenFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode = %v, want 0600", fi.Mode().Perm())
	}
	again, err := rootToken(dir)
	if err != nil || again != tok {
		t.Errorf("second rootToken = %q, %v; want %q", again, err, tok)
	}
	other, _ := rootToken(t.TempDir())
	if other == tok {
		t.Error("two state directories got the same token")
	}
}

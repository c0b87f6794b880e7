package devenv

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// customPorts has no port in common with DefaultPorts.
var customPorts = Ports{
	NomadHTTP: 14646, NomadRPC: 14647, NomadSerf: 14648,
	ConsulHTTP: 18500, ConsulGRPC: 18502, ConsulDNS: 18600,
	ConsulServer: 18300, ConsulSerfLAN: 18301, ConsulSerfWAN: 18302,
	VaultHTTP: 18200,
}

func TestGoldenConfigs(t *testing.T) {
	tests := []struct {
		file string
		got  string
	}{
		{"nomad-docker.hcl", nomadConfig(nomadParams{
			Ports: DefaultPorts(), Interface: "lo", CNIPath: "/usr/lib/cni", DockerEndpoint: "unix:///var/run/docker.sock",
		})},
		{"nomad-nodocker.hcl", nomadConfig(nomadParams{Ports: customPorts})},
		{"consul.hcl", consulConfig(customPorts)},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", tt.file+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(tt.got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGoldenConfigs -update)", err)
			}
			if diff := cmp.Diff(string(want), tt.got); diff != "" {
				t.Errorf("%s changed (-golden +got); refresh with -update if intended:\n%s", tt.file, diff)
			}
		})
	}
}

// TestConfigsUseEveryPort checks structurally that no listener is left on
// its default port: a second dev stack must not collide with a first.
func TestConfigsUseEveryPort(t *testing.T) {
	nomad := nomadConfig(nomadParams{Ports: customPorts})
	consul := consulConfig(customPorts)
	for _, name := range startOrder {
		cfg := map[string]string{Nomad: nomad, Consul: consul, Vault: nomad /* vault{ address } */}[name]
		for _, l := range customPorts.listeners(name) {
			if l.field == "VaultHTTP+1 (cluster)" {
				continue // derived by Vault itself
			}
			if !strings.Contains(cfg, strconv.Itoa(l.port)) {
				t.Errorf("%s config does not mention %s = %d", name, l.field, l.port)
			}
		}
	}
	if !strings.Contains(nomad, `consul {`+"\n"+`  address      = "127.0.0.1:18500"`+"\n"+`  grpc_address = "127.0.0.1:18502"`) {
		t.Errorf("nomad consul block does not point at the dev Consul:\n%s", nomad)
	}
	for _, want := range []string{
		`address               = "http://127.0.0.1:18200"`,
		`jwt_auth_backend_path = "jwt-nomad/"`,
		`aud = ["vault.io"]`,
		`"fingerprint.denylist" = "env_aws,env_gce,env_azure,env_digitalocean"`,
		`"driver.denylist" = "docker"`,
		`bind_addr            = "127.0.0.1"`,
	} {
		if !strings.Contains(nomad, want) {
			t.Errorf("nomad config lacks %s", want)
		}
	}
	for _, def := range []string{"= 8503", "= 8500", "= 8502"} {
		if strings.Contains(consul, def) {
			t.Errorf("consul config still uses a default port (%s)", def)
		}
	}
}

func TestHCLString(t *testing.T) {
	got := hclString(`a "b" \c ${d} %{e}` + "\n")
	want := `"a \"b\" \\c $${d} %%{e}\n"`
	if got != want {
		t.Errorf("hclString = %s, want %s", got, want)
	}
}

func TestDetectCNI(t *testing.T) {
	empty, opt, usr := t.TempDir(), t.TempDir(), t.TempDir()
	for _, d := range []string{opt, usr} {
		if err := os.WriteFile(filepath.Join(d, "bridge"), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if got := detectCNI([]string{empty, "/no/such/dir", usr, opt}); got != usr {
		t.Errorf("detectCNI = %q, want the first dir with a bridge plugin %q", got, usr)
	}
	if got := detectCNI([]string{empty}); got != "" {
		t.Errorf("detectCNI without plugins = %q, want none", got)
	}
}

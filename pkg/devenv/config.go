package devenv

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Vault names that Nomad's workload identity uses; the same as
// `nomad setup vault`.
const (
	jwtMount     = "jwt-nomad"
	jwtRole      = "nomad-workloads"
	jwtPolicy    = "nomad-workloads"
	jwtAudience  = "vault.io"
	identityTTL  = "1h"
	fingerprints = "env_aws,env_gce,env_azure,env_digitalocean"
)

// cniCandidates are where CNI plugins are installed: the upstream
// release tarball's (Nomad's default) and Debian/Ubuntu's
// containernetworking-plugins package.
var cniCandidates = []string{"/opt/cni/bin", "/usr/lib/cni"}

// nomadParams is what the generated Nomad config depends on.
type nomadParams struct {
	Ports Ports
	// Interface is the loopback interface name ("lo", "lo0"); empty leaves
	// Nomad's choice.
	Interface string
	// CNIPath is the CNI plugin directory; empty leaves Nomad's default.
	CNIPath string
	// DockerEndpoint enables the docker driver talking to this endpoint;
	// empty denies the driver.
	DockerEndpoint string
}

// nomadConfig renders the Nomad agent config for `nomad agent -dev`.
func nomadConfig(p nomadParams) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Written by drover dev (pkg/devenv) on every start of this agent; edits are lost.\n")
	w("# Used as: nomad agent -dev -config=nomad.hcl\n")
	w("bind_addr            = \"127.0.0.1\"\n")
	w("disable_update_check = true\n\n")
	w("advertise {\n  http = \"127.0.0.1\"\n  rpc  = \"127.0.0.1\"\n  serf = \"127.0.0.1\"\n}\n\n")
	w("ports {\n  http = %d\n  rpc  = %d\n  serf = %d\n}\n\n", p.Ports.NomadHTTP, p.Ports.NomadRPC, p.Ports.NomadSerf)

	w("client {\n  enabled = true\n")
	if p.Interface != "" {
		w("\n  # Node address and the default host network: the loopback.\n")
		w("  network_interface = %s\n", hclString(p.Interface))
	}
	if p.CNIPath != "" {
		w("\n  # CNI plugins for network { mode = \"bridge\" } and Consul Connect.\n")
		w("  cni_path = %s\n", hclString(p.CNIPath))
	}
	w("\n  # Keeps bridge-mode port forwards on 127.0.0.1: without a host_network block the\n")
	w("  # CNI portmap rules match the port on every local address.\n")
	w("  host_network \"loopback\" {\n    cidr = \"127.0.0.1/32\"\n  }\n\n")
	w("  options {\n")
	w("    # Cloud metadata fingerprinters are useless here, and env_aws aborts\n")
	w("    # start-up when AWS_CA_BUNDLE is set.\n")
	w("    \"fingerprint.denylist\" = %q\n", fingerprints)
	if p.DockerEndpoint == "" {
		w("    # Docker not requested or dockerd not answering: keep this agent away from\n")
		w("    # the machine's containers.\n")
		w("    \"driver.denylist\" = \"docker\"\n")
	}
	w("  }\n}\n\n")

	w("plugin \"raw_exec\" {\n  config {\n    enabled = true\n  }\n}\n\n")
	if p.DockerEndpoint != "" {
		w("plugin \"docker\" {\n  config {\n")
		w("    endpoint = %s\n\n", hclString(p.DockerEndpoint))
		w("    volumes {\n      enabled = true\n    }\n\n")
		w("    gc {\n")
		w("      # dockerd may be shared with another Nomad (a test bed, a second dev\n")
		w("      # stack): to this agent their containers look dangling, so do not reap.\n")
		w("      dangling_containers {\n        enabled = false\n      }\n")
		w("    }\n  }\n}\n\n")
	}

	w("# The dev Consul agent (ACLs off, so no token and no workload identity for Consul).\n")
	w("consul {\n  address      = %q\n  grpc_address = %q\n}\n\n", hostPort(p.Ports.ConsulHTTP), hostPort(p.Ports.ConsulGRPC))

	w("# Workload identity for Vault, as `nomad setup vault` prints it.\n")
	w("vault {\n  enabled               = true\n  address               = %q\n", httpAddr(p.Ports.VaultHTTP))
	w("  jwt_auth_backend_path = %q\n\n", jwtMount+"/")
	w("  default_identity {\n    aud = [%q]\n    ttl = %q\n  }\n}\n", jwtAudience, identityTTL)
	return b.String()
}

// consulConfig renders the Consul agent config for `consul agent -dev`.
func consulConfig(p Ports) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Written by drover dev (pkg/devenv) on every start of this agent; edits are lost.\n")
	w("# Used as: consul agent -dev -config-file=consul.hcl\n")
	w("# Dev mode: one server, in-memory state, ACLs off, built-in Connect CA.\n")
	w("node_name      = \"drover-dev\"\n")
	w("datacenter     = \"dc1\"\n")
	w("bind_addr      = \"127.0.0.1\" # server RPC and serf\n")
	w("advertise_addr = \"127.0.0.1\"\n")
	w("client_addr    = \"127.0.0.1\" # HTTP, gRPC, DNS\n")
	w("log_level      = \"INFO\"\n\n")
	w("connect {\n  enabled = true\n}\n\n")
	w("ports {\n")
	w("  http     = %d\n", p.ConsulHTTP)
	w("  https    = -1\n")
	w("  grpc     = %d # plaintext gRPC: Nomad's grpc_address and Envoy bootstrap\n", p.ConsulGRPC)
	w("  grpc_tls = -1 # no TLS here; -dev would otherwise take 8503\n")
	w("  dns      = %d\n", p.ConsulDNS)
	w("  server   = %d\n", p.ConsulServer)
	w("  serf_lan = %d\n", p.ConsulSerfLAN)
	w("  serf_wan = %d\n", p.ConsulSerfWAN)
	w("}\n\n")
	w("ui_config {\n  enabled = true\n}\n")
	return b.String()
}

// hclString quotes s as an HCL string literal.
func hclString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`, "${", "$${", "%{", "%%{")
	return `"` + r.Replace(s) + `"`
}

// detectCNI returns the first directory of dirs that holds the bridge
// plugin, or "".
func detectCNI(dirs []string) string {
	for _, d := range dirs {
		if checkExecutable(filepath.Join(d, "bridge")) == nil {
			return d
		}
	}
	return ""
}

// loopbackInterface returns the name of the loopback interface, or "".
func loopbackInterface() string {
	ifs, err := net.Interfaces()
	if err != nil {
		return ""
	}
	for _, i := range ifs {
		if i.Flags&net.FlagLoopback != 0 && i.Flags&net.FlagUp != 0 {
			return i.Name
		}
	}
	return ""
}

// dockerEndpoint returns the Docker endpoint to use: DOCKER_HOST when set,
// else the default unix socket.
func dockerEndpoint() string {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return h
	}
	return "unix:///var/run/docker.sock"
}

// pingDocker reports whether dockerd answers GET /_ping at endpoint
// (unix:// or tcp://).
func pingDocker(ctx context.Context, endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		return err
	}
	tr := &http.Transport{Proxy: nil}
	base := ""
	switch u.Scheme {
	case "unix":
		sock := u.Path
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}
		base = "http://docker"
	case "tcp", "http":
		base = "http://" + u.Host
	default:
		return fmt.Errorf("unsupported docker endpoint %q", endpoint)
	}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/_ping", nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /_ping: HTTP %d", resp.StatusCode)
	}
	return nil
}

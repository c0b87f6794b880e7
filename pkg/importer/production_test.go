package importer

import (
	"strings"
	"testing"
)

// A template with a line that would close the usual heredoc is written
// as a heredoc with another delimiter, and still renders back.
func TestFileContentWithHeredocDelimiter(t *testing.T) {
	in, err := DecodeJSON([]byte(`{"Job": {"ID": "eot", "Datacenters": ["dc1"], "TaskGroups": [{"Name": "eot", "Tasks": [{"Name": "eot",
	  "Driver": "docker", "Config": {"image": "nginx:1.27"},
	  "Templates": [{"DestPath": "local/x.conf", "EmbeddedTmpl": "a\nEOT\nb\n"}]}]}]}}`), "eot.json")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Import(in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	j := res.Report.Jobs[0]
	if j.Error != "" || j.RoundTrip != "equal" || j.Count(ClassHatch) != 0 {
		t.Fatalf("error %q, round trip %q, %d in the hatch:\n%s", j.Error, j.RoundTrip, j.Count(ClassHatch), strings.Join(j.Differences, "\n"))
	}
	if spec := string(res.Files[1].Data); !strings.Contains(spec, "content = <<EOT1\na\nEOT\nb\nEOT1\n") {
		t.Errorf("spec:\n%s", spec)
	}
}

// The forms the spec gained render as the input has them, with no nomad
// block: services registered from a task (a helper's, in Nomad's own
// discovery), a file loaded into the environment, a file bind-mounted
// beside the docker block's own mounts, a helper that publishes its own
// ports on the host network, a csi_plugin block and a dynamic host
// volume's modes.
func TestTypedTaskForms(t *testing.T) {
	in, err := DecodeJSON([]byte(`{"Job": {"ID": "agent", "Datacenters": ["dc1"], "TaskGroups": [{"Name": "agent",
	  "Networks": [{"Mode": "host", "DynamicPorts": [{"Label": "http"}, {"Label": "metrics"}]}],
	  "Volumes": {"data": {"Name": "data", "Type": "host", "Source": "data", "AccessMode": "single-node-writer", "AttachmentMode": "file-system"}},
	  "Tasks": [
	    {"Name": "agent", "Driver": "docker",
	     "Config": {"image": "r/agent:1", "ports": ["http"], "mount": [
	       {"type": "bind", "source": "local/agent.conf", "target": "/etc/agent.conf", "readonly": true},
	       {"type": "bind", "source": "/var/log", "target": "/host/log", "readonly": true}]},
	     "CSIPluginConfig": {"ID": "agent-csi", "Type": "monolith"},
	     "VolumeMounts": [{"Volume": "data", "Destination": "/data"}],
	     "Services": [{"Name": "agent-http", "PortLabel": "http", "Checks": [{"Name": "up", "Type": "http", "Path": "/health", "Interval": 10000000000, "Timeout": 2000000000}]}],
	     "Templates": [
	       {"DestPath": "local/agent.conf", "EmbeddedTmpl": "level = info\n"},
	       {"DestPath": "local/agent.env", "EmbeddedTmpl": "REGION={{ env \"NOMAD_REGION\" }}\n", "Envvars": true}]},
	    {"Name": "exporter", "Driver": "docker", "Lifecycle": {"Hook": "poststart", "Sidecar": true},
	     "Config": {"image": "r/exporter:1", "ports": ["metrics"]},
	     "Services": [{"Name": "agent-metrics", "PortLabel": "metrics", "Provider": "nomad", "Tags": ["prometheus"]}]}]}]}}`), "agent.json")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Import(in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	j := res.Report.Jobs[0]
	spec := string(res.Files[1].Data)
	if j.Error != "" || j.RoundTrip != "equal" || j.Count(ClassHatch) != 0 || j.Count(ClassDropped) != 0 {
		t.Fatalf("error %q, round trip %q, %d in the hatch, %d dropped:\n%s\n%s", j.Error, j.RoundTrip, j.Count(ClassHatch), j.Count(ClassDropped), spec, strings.Join(j.Differences, "\n"))
	}
	flat := strings.Join(strings.Fields(spec), " ") // whatever the alignment
	for _, want := range []string{
		`task = "agent"`, `task = "exporter" provider = "nomad"`, `env = true`, `mount = "/etc/agent.conf"`,
		`target = "/host/log"`, `docker { ports = ["http"]`, `docker { ports = ["metrics"] }`,
		`csi_plugin { id = "agent-csi" type = "monolith" }`, `access_mode = "single-node-writer"`,
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("spec lacks %s:\n%s", want, spec)
		}
	}
}

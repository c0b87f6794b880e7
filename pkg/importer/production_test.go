package importer

import (
	"strings"
	"testing"
)

// A template with a line that would close the heredoc jobspec writes is
// written as a quoted string, and still renders back.
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
	if spec := string(res.Files[1].Data); !strings.Contains(spec, `content = "a\nEOT\nb\n"`) {
		t.Errorf("spec:\n%s", spec)
	}
}

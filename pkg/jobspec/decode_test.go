package jobspec

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	nomadapi "github.com/hashicorp/nomad/api"
)

func parse(t *testing.T, src string) hcl.Body {
	t.Helper()
	f, diags := hclsyntax.ParseConfig([]byte(src), "x.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return f.Body
}

func TestDecodeGroupVocabulary(t *testing.T) {
	body := parse(t, `
shutdown_delay = "5s"
constraint {
  attribute = "$${node.class}"
  value     = "web"
}
constraint {
  operator = "distinct_hosts"
  value    = "true"
}
spread {
  attribute = "$${node.datacenter}"
  weight    = 50
}
ephemeral_disk {
  size    = 500
  sticky  = true
}
restart {
  attempts = 3
  interval = "5m"
  delay    = "15s"
  mode     = "fail"
}
volume "data" {
  type      = "host"
  source    = "data"
  read_only = true
}
network {
  mode = "host"
  port "http" {
    static = 8080
  }
  port "metrics" {}
}
service {
  name = "x-metrics"
  port = "metrics"
  tags = ["a", "b"]
  check {
    type     = "tcp"
    interval = "10s"
    timeout  = "2s"
  }
}
meta {
  team = "ops"
}
`)
	var g nomadapi.TaskGroup
	if diags := Decode(body, nil, &g, nil); diags.HasErrors() {
		t.Fatal(diags)
	}
	if *g.ShutdownDelay != 5*time.Second || len(g.Constraints) != 2 || g.Constraints[0].Operand != "=" || g.Constraints[1].Operand != "distinct_hosts" {
		t.Errorf("delay/constraints: %v %+v", g.ShutdownDelay, g.Constraints)
	}
	if *g.Spreads[0].Weight != 50 || *g.EphemeralDisk.SizeMB != 500 || !*g.EphemeralDisk.Sticky {
		t.Errorf("spread/disk: %+v %+v", g.Spreads[0], g.EphemeralDisk)
	}
	if *g.RestartPolicy.Attempts != 3 || *g.RestartPolicy.Interval != 5*time.Minute || *g.RestartPolicy.Mode != "fail" {
		t.Errorf("restart: %+v", g.RestartPolicy)
	}
	if v := g.Volumes["data"]; v == nil || v.Name != "data" || v.Source != "data" || !v.ReadOnly {
		t.Errorf("volume: %+v", v)
	}
	n := g.Networks[0]
	if diff := cmp.Diff([]nomadapi.Port{{Label: "http", Value: 8080}}, n.ReservedPorts); diff != "" || n.Mode != "host" {
		t.Errorf("reserved ports (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]nomadapi.Port{{Label: "metrics"}}, n.DynamicPorts); diff != "" {
		t.Errorf("dynamic ports (-want +got):\n%s", diff)
	}
	s := g.Services[0]
	if s.Name != "x-metrics" || s.PortLabel != "metrics" || s.Checks[0].Type != "tcp" || s.Checks[0].Interval != 10*time.Second {
		t.Errorf("service: %+v", s)
	}
	if g.Meta["team"] != "ops" {
		t.Errorf("meta: %v", g.Meta)
	}
}

func TestDecodeTaskVocabulary(t *testing.T) {
	body := parse(t, `
kill_timeout = "30s"
kill_signal  = "SIGINT"
config {
  privileged = true
  cap_add    = ["NET_ADMIN"]
  logging {
    type = "json-file"
    config {
      max-size = "10m"
    }
  }
}
template {
  data          = "x={{ key \"app/x\" }}"
  destination   = "local/x.conf"
  change_mode   = "signal"
  change_signal = "SIGHUP"
  perms         = "0600"
}
volume_mount {
  volume      = "data"
  destination = "/data"
}
`)
	var task nomadapi.Task
	if diags := Decode(body, nil, &task, nil); diags.HasErrors() {
		t.Fatal(diags)
	}
	if *task.KillTimeout != 30*time.Second || task.KillSignal != "SIGINT" {
		t.Errorf("kill: %v %q", task.KillTimeout, task.KillSignal)
	}
	want := map[string]any{"privileged": true, "cap_add": []any{"NET_ADMIN"},
		"logging": []any{map[string]any{"type": "json-file", "config": []any{map[string]any{"max-size": "10m"}}}}}
	if diff := cmp.Diff(want, task.Config); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	tp := task.Templates[0]
	if *tp.DestPath != "local/x.conf" || *tp.ChangeMode != "signal" || *tp.ChangeSignal != "SIGHUP" || *tp.Perms != "0600" {
		t.Errorf("template: %+v", tp)
	}
	if m := task.VolumeMounts[0]; *m.Volume != "data" || *m.Destination != "/data" {
		t.Errorf("volume mount: %+v", m)
	}
}

func TestDecodeDiagnosesEveryProblemAtItsRange(t *testing.T) {
	body := parse(t, `
count = 3
kill_timout = "1s"
restart {
  attempts = "many"
}
ephemeral_disk {
  size = 1.5
}
`)
	var g nomadapi.TaskGroup
	diags := Decode(body, nil, &g, map[string]string{"count": "set it with the spec's count"})
	var got []string
	for _, d := range diags {
		got = append(got, d.Subject.String()+" "+d.Summary)
	}
	want := []string{
		`x.hcl:3,1-12 Unsupported argument`,
		`x.hcl:2,1-6 "count" is drover's`,
		`x.hcl:5,14-20 Invalid value for "attempts"`,
		`x.hcl:8,10-13 Invalid value for "size"`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
	if !strings.Contains(diags[0].Detail, "kill_timeout") && !strings.Contains(diags[0].Detail, "not expected") {
		t.Errorf("the unknown-name diagnostic should explain: %s", diags[0].Detail)
	}
}

func TestMerge(t *testing.T) {
	dst := &nomadapi.TaskGroup{Name: new("web"), Count: new(2), Meta: map[string]string{"a": "1"},
		Constraints: []*nomadapi.Constraint{{LTarget: "x"}}, RestartPolicy: &nomadapi.RestartPolicy{Attempts: new(2)}}
	src := &nomadapi.TaskGroup{Meta: map[string]string{"b": "2"}, Constraints: []*nomadapi.Constraint{{LTarget: "y"}},
		RestartPolicy: &nomadapi.RestartPolicy{Mode: new("fail")}}
	Merge(dst, src)
	if *dst.Name != "web" || *dst.Count != 2 || dst.Meta["a"] != "1" || dst.Meta["b"] != "2" || len(dst.Constraints) != 2 {
		t.Errorf("merge: %+v", dst)
	}
	if *dst.RestartPolicy.Attempts != 2 || *dst.RestartPolicy.Mode != "fail" {
		t.Errorf("nested merge: %+v", dst.RestartPolicy)
	}
}

// TestHeredocReadsBack: a heredoc reads back as the very string, also when
// a line of it is the usual delimiter.
func TestHeredocReadsBack(t *testing.T) {
	for _, s := range []string{"a\nb\n", "a\nEOT\nb\n", "EOT\nEOT1\n"} {
		b := &Body{}
		b.RawAttr("data", Heredoc(s))
		f, diags := hclsyntax.ParseConfig([]byte(b.String()), "x.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%q: %s\n%s", s, diags.Error(), b.String())
		}
		attrs, _ := f.Body.JustAttributes()
		v, _ := attrs["data"].Expr.Value(nil)
		if v.AsString() != s {
			t.Errorf("heredoc of %q reads back as %q", s, v.AsString())
		}
	}
}

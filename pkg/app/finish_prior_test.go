package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drover-io/drover/pkg/spec"
)

// TestRenderOfTheSameSetTakesOverWhatDerivesFromIt: after an edit to the
// selected spec that its summaries do not tell (its environment), a render
// takes the config entries and gateway the last one wrote over (see
// render.Stream.TakePrior), and the files are what a render without the
// index writes; after an edit they do tell (its public host), or with a
// file of theirs damaged, they are rendered again. An edit that changes
// nothing rendered (a comment) replays the last render whole.
func TestRenderOfTheSameSetTakesOverWhatDerivesFromIt(t *testing.T) {
	specs := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(specs, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	web := func(level, host string) string {
		return `app "web" {
  image = "r/web:1"
  port "http" {
    to = 8080
  }
  env = {
    LOG_LEVEL = "` + level + `"
  }
  service {
    port = "http"
    upstream "api" {
      local_port = 9001
    }
  }
  expose {
    hosts = ["` + host + `"]
  }
}`
	}
	write("drover.hcl", `project "p" {
  datacenters = ["dc1"]
  ingress_gateway {
    port = 8080
  }
}`)
	write("web.hcl", web("info", "shop.example.com"))
	write("api.hcl", `app "api" {
  image = "r/api:1"
  port "http" {
    to = 8080
  }
  service {
    port = "http"
  }
  expose {
    hosts = ["api.example.com"]
  }
}`)
	selected := filepath.Join(specs, "web.hcl")
	render := func(dir string) *RenderResult {
		t.Helper()
		res, err := Render(RenderOptions{Load: spec.LoadOptions{Paths: []string{selected}}, OutDir: dir, Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	out := t.TempDir()
	render(out)
	check := func(what string, replayed, setsReplayed bool) {
		t.Helper()
		t.Setenv(IndexEnv, "off")
		reference := filepath.Join(t.TempDir(), "out")
		want := render(reference)
		t.Setenv(IndexEnv, "")
		got := render(out)
		if got.Replayed != replayed || got.SetsReplayed != setsReplayed {
			t.Fatalf("%s: replayed %t, the Sets' artifacts taken over %t; want %t, %t", what, got.Replayed, got.SetsReplayed, replayed, setsReplayed)
		}
		if got.Counts != want.Counts {
			t.Errorf("%s: counts %+v, want %+v", what, got.Counts, want.Counts)
		}
		if diff := cmp.Diff(readTree(t, reference), readTree(t, out)); diff != "" {
			t.Errorf("%s: files (-without the index +with):\n%s", what, diff)
		}
	}
	write("web.hcl", web("debug", "shop.example.com"))
	check("its environment edited", false, true)
	gateway := filepath.Join(out, "consul", "ingress-gateway", "p-ingress.json")
	if data, err := os.ReadFile(gateway); err != nil || !strings.Contains(string(data), "shop.example.com") {
		t.Fatalf("no route to shop.example.com in %s (%v): %s", gateway, err, data)
	}

	// A comment above it all: every range moves, nothing rendered changes.
	write("web.hcl", "# The shop's front.\n"+web("debug", "shop.example.com"))
	check("a comment added", true, false)

	write("web.hcl", web("warn", "www.example.com"))
	check("its public host edited", false, false)

	// Another app's entry, damaged since: rendered again.
	entry := filepath.Join(out, "consul", "service-defaults", "api.json")
	if err := os.WriteFile(entry, []byte(`{}`), 0o644); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Minute)
	if err := os.Chtimes(entry, future, future); err != nil {
		t.Fatal(err)
	}
	write("web.hcl", web("error", "www.example.com"))
	check("another app's entry damaged", false, false)
}

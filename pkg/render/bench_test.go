package render

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/drover-io/drover/pkg/spec"
)

// BenchmarkLoadRenderExamples: load, validate and render jobs/ (every
// artifact, serialized) - what `drover render jobs/` does minus writing.
func BenchmarkLoadRenderExamples(b *testing.B) {
	benchLoadRender(b, "../../jobs")
}

// BenchmarkLoadRender1000 does the same for 1,000 generated specs.
func BenchmarkLoadRender1000(b *testing.B) {
	dir := b.TempDir()
	if err := writeGenerated(dir, 1000); err != nil {
		b.Fatal(err)
	}
	benchLoadRender(b, dir)
}

func benchLoadRender(b *testing.B, dir string) {
	b.ReportAllocs()
	var apps int
	for i := 0; i < b.N; i++ {
		set, diags := spec.Load(spec.LoadOptions{Paths: []string{dir}})
		if diags.HasErrors() {
			b.Fatal(diags.Error())
		}
		bundle, err := Render(set, Options{Version: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := bundle.Files("bench"); err != nil {
			b.Fatal(err)
		}
		apps = len(set.Apps)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(apps), "µs/app")
}

// writeGenerated writes n specs like those of bench/gen.go.
func writeGenerated(dir string, n int) error {
	if err := os.WriteFile(filepath.Join(dir, "drover.hcl"), []byte(`project "bench" {}`), 0o644); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		src := fmt.Sprintf(`app "svc-%04d" {
  image = "registry.example.com/team/svc-%04d:1.0.0"
  port "http" {
    to = 8080
  }
  resources {
    cpu    = 250
    memory = 256
  }
  env = {
    LOG_LEVEL = "info"
  }
  secret "DB_PASSWORD" {
    path = "team/svc-%04d/db"
    key  = "password"
  }
  service {
    check "health" {
      path = "/healthz"
    }
    upstream "svc-%04d" {
      local_port = 9001
    }
  }
  scaling {
    min = 1
    max = 10
    policy {
      check "cpu" {
        query = "avg_cpu-allocated"
        strategy "target-value" {
          target = 70
        }
      }
    }
  }
}
`, i, i, i, (i+1)%n)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("svc-%04d.hcl", i)), []byte(src), 0o644); err != nil {
			return err
		}
	}
	return nil
}

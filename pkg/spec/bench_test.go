package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// BenchmarkLoad loads, decodes and validates the specs in $DROVER_BENCH_DIR
// (default: the jobs/ examples).
func BenchmarkLoad(b *testing.B) {
	dir := os.Getenv("DROVER_BENCH_DIR")
	if dir == "" {
		dir = "../../jobs"
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, diags := Load(LoadOptions{Paths: []string{dir}}); diags.HasErrors() {
			b.Fatal(diags.Error())
		}
	}
}

// BenchmarkScopedStream streams one spec of a generated project of
// $DROVER_BENCH_SPECS specs (default 2,000) with the index warm, beside
// the floor of such a call: stating every spec file. bench/ measures the
// same as whole processes; this isolates the loading.
func BenchmarkScopedStream(b *testing.B) {
	n := 2000
	if v, err := strconv.Atoi(os.Getenv("DROVER_BENCH_SPECS")); err == nil && v > 2 {
		n = v
	}
	dir := b.TempDir()
	files := map[string]string{"drover.hcl": "project \"bench\" {\n  environment \"prod\" {}\n}\n"}
	for i := range n {
		name := fmt.Sprintf("svc-%04d", i)
		spec := fmt.Sprintf("app %q {\n  image = \"r/%s:1\"\n  port \"http\" {\n    to = 8080\n  }\n  service {\n    port = \"http\"\n    upstream %q {\n      local_port = 9001\n    }\n  }\n", name, name, fmt.Sprintf("svc-%04d", (i+1)%n))
		if i%10 == 0 {
			spec += fmt.Sprintf("  expose {\n    hosts = [\"%s.example.com\"]\n  }\n", name)
		}
		files[name+".hcl"] = spec + "}\n"
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	opts := StreamOptions{LoadOptions: LoadOptions{Paths: []string{filepath.Join(dir, "svc-0001.hcl")}, WorkDir: dir}, AllEnvironments: true, Index: true}
	for round := range 2 { // write the index, then settle it
		if round == 1 {
			// An entry recorded within indexRacyWindow of its file's
			// change is checked against the file until a later run.
			time.Sleep(indexRacyWindow + 100*time.Millisecond)
		}
		if _, diags := Stream(opts); diags.HasErrors() {
			b.Fatal(diags.Error())
		}
	}
	b.Run("floor-stat-every-file", func(b *testing.B) {
		for b.Loop() {
			entries, err := os.ReadDir(dir)
			if err != nil {
				b.Fatal(err)
			}
			for _, e := range entries {
				if _, err := os.Stat(filepath.Join(dir, e.Name())); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("stream-one-spec", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, diags := Stream(opts); diags.HasErrors() {
				b.Fatal(diags.Error())
			}
		}
	})
}

package spec

import (
	"os"
	"testing"
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

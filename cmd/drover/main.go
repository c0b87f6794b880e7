// Command drover runs microservices on Nomad, Consul and Vault from one
// HCL app spec each. See `drover --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/drover-io/drover/pkg/cli"
)

func main() {
	// drover is mostly a short-lived batch process that allocates a parsed
	// tree per spec and exits; collecting garbage less often makes rendering
	// a large project markedly faster for a modest peak heap. GOGC still
	// wins when set.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args, cli.DefaultIO())
	stop()
	os.Exit(int(code))
}

// Command drover runs microservices on Nomad, Consul and Vault from one
// HCL app spec each. See `drover --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"syscall"

	"github.com/drover-io/drover/pkg/cli"
)

func main() {
	// Most commands are short batch processes that allocate a parsed tree
	// per spec and exit: collecting garbage less often (GOGC=400) makes
	// them markedly faster. Those that read a project one spec at a time
	// (render -o, validate) also bound their heap with a soft memory limit
	// sized to the project, and collect only near it when the index stands
	// for all but the specs named (pkg/app boundMemory). The long-lived commands (the
	// autoscaler, the dev agents' supervisor) keep Go's defaults. GOGC
	// still wins when set.
	if os.Getenv("GOGC") == "" && !longLived(os.Args[1:]) {
		debug.SetGCPercent(400)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args, cli.DefaultIO())
	stop()
	os.Exit(int(code))
}

// longLived reports whether args run a command that stays up.
func longLived(args []string) bool {
	if i := slices.Index(args, "--"); i >= 0 {
		args = args[:i]
	}
	return slices.Contains(args, "autoscale") || slices.Contains(args, "dev")
}

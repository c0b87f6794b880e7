// Command drover runs microservices on Nomad, Consul and Vault from one
// HCL app spec each. See `drover --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/drover-io/drover/pkg/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args, cli.DefaultIO())
	stop()
	os.Exit(int(code))
}

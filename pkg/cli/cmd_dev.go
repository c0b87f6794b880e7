package cli

import (
	"fmt"
	"text/tabwriter"

	ucli "github.com/urfave/cli/v2"

	"github.com/drover-io/drover/pkg/app"
)

func devCommand(stdio IO) *ucli.Command {
	flags := []ucli.Flag{
		&ucli.StringFlag{Name: "state-dir", Usage: "`DIR` for the agents' configs, logs and pid files (default $XDG_STATE_HOME/drover/dev)"},
	}
	opts := func(c *ucli.Context) (app.DevOptions, error) {
		log, err := newLogger(c, stdio)
		return app.DevOptions{StateDir: c.String("state-dir"), Docker: c.Bool("docker"), Logger: log}, err
	}
	up := func(c *ucli.Context) error {
		o, err := opts(c)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdio.Err, "Starting dev agents (Nomad, Consul, Vault or OpenBao from PATH) on 127.0.0.1 ...")
		env, err := app.DevUp(c.Context, o)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdio.Err, "Dev stack ready. Point drover at it with:")
		return app.WriteExports(stdio.Out, env)
	}
	upFlags := append(append([]ucli.Flag{}, flags...), &ucli.BoolFlag{Name: "docker", Usage: "enable Nomad's docker driver (default: when docker is on PATH)"})
	return &ucli.Command{
		Name:  "dev",
		Usage: "run local dev Nomad, Consul and Vault agents, wired together",
		Description: `Starts dev-mode agents from the nomad, consul and vault (or bao) binaries on
PATH, bound to 127.0.0.1, with their state in one directory: Vault with KV v2
at secret/ and the JWT auth method Nomad's workload identities use (as
'nomad setup vault' sets up), Consul with Connect, Nomad with the Consul and
Vault integrations. Prints the environment variables to export; run it
again to print them again (running agents are left alone).

Examples:
  eval "$(drover dev)"          # start, and export NOMAD_ADDR & co.
  drover deploy jobs/
  drover dev status
  drover dev down`,
		Flags:  upFlags,
		Action: up,
		Subcommands: []*ucli.Command{
			{Name: "up", Usage: "start the agents (the default)", Flags: upFlags, Action: up},
			{Name: "down", Usage: "stop the agents drover dev started", Flags: flags, Action: func(c *ucli.Context) error {
				o, err := opts(c)
				if err != nil {
					return err
				}
				if err := app.DevDown(c.Context, o); err != nil {
					return err
				}
				fmt.Fprintln(stdio.Err, "Dev agents stopped.")
				return nil
			}},
			{Name: "status", Usage: "show whether each agent runs and answers", Flags: append(append([]ucli.Flag{}, flags...), jsonFlag("print as JSON")), Action: func(c *ucli.Context) error {
				o, err := opts(c)
				if err != nil {
					return err
				}
				st, err := app.DevStatus(c.Context, o)
				if err != nil {
					return err
				}
				return printResult(c, stdio, st, func() error {
					tw := tabwriter.NewWriter(stdio.Out, 0, 0, 2, ' ', 0)
					fmt.Fprintln(tw, "AGENT\tPID\tADDRESS\tRUNNING\tHEALTHY\tLOG")
					for _, a := range st {
						fmt.Fprintf(tw, "%s\t%d\t%s\t%v\t%v\t%s\n", a.Name, a.PID, a.Addr, a.Running, a.Healthy, a.LogFile)
					}
					return tw.Flush()
				})
			}},
		},
	}
}

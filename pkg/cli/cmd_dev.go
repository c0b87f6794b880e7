package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"text/tabwriter"

	ucli "github.com/urfave/cli/v2"

	"github.com/drover-io/drover/pkg/app"
)

func devCommand(stdio IO) *ucli.Command {
	flags := []ucli.Flag{
		&ucli.StringFlag{Name: "state-dir", DefaultText: "$XDG_STATE_HOME/drover/dev", Usage: "`DIR` for the agents' configs, logs and pid files"},
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
			{
				Name:  "up",
				Usage: "start the agents (the default)",
				Description: `Starts the dev agents, or finds them running, and prints the environment
variables that point drover and the agents' own CLIs at them.

Examples:
  eval "$(drover dev up)"
  drover dev up --state-dir /tmp/drover-dev --docker`,
				Flags:  upFlags,
				Action: up,
			},
			{
				Name:  "down",
				Usage: "stop the agents drover dev started",
				Description: `Stops the agents 'drover dev' started from the state directory: Nomad first
(it stops its allocations), then Consul, then Vault. Nothing running is not
an error.

Examples:
  drover dev down
  drover dev down --state-dir /tmp/drover-dev`,
				Flags: flags,
				Action: func(c *ucli.Context) error {
					o, err := opts(c)
					if err != nil {
						return err
					}
					st, err := app.DevStatus(c.Context, o)
					if errors.Is(err, fs.ErrNotExist) {
						fmt.Fprintln(stdio.Err, "No dev agents are running: nothing to stop.")
						return nil
					}
					running := err != nil // unknown: say what Down does
					for _, a := range st {
						running = running || a.Running
					}
					// Down also clears the pid files of agents that died.
					if err := app.DevDown(c.Context, o); err != nil {
						return err
					}
					if !running {
						fmt.Fprintln(stdio.Err, "No dev agents were running: nothing to stop.")
						return nil
					}
					fmt.Fprintln(stdio.Err, "Dev agents stopped.")
					return nil
				},
			},
			{
				Name:  "status",
				Usage: "show whether each agent runs and answers",
				Description: `Shows, for each dev agent, its pid, address, whether it runs and whether
its health endpoint answers, and its log file.

Examples:
  drover dev status
  drover dev status --json`,
				Flags: append(append([]ucli.Flag{}, flags...), jsonFlag("print as JSON")),
				Action: func(c *ucli.Context) error {
					o, err := opts(c)
					if err != nil {
						return err
					}
					st, err := app.DevStatus(c.Context, o)
					if errors.Is(err, fs.ErrNotExist) {
						st, err = nil, nil // never started
					}
					if err != nil {
						return err
					}
					out, running := devStatusOutput{Agents: []devAgentOutput{}}, false
					for _, a := range st {
						out.Agents = append(out.Agents, devAgentOutput{Name: a.Name, PID: a.PID, Address: a.Addr, Running: a.Running, Healthy: a.Healthy, LogFile: a.LogFile})
						running = running || a.Running
					}
					return printResult(c, stdio, out, func() error {
						if !running {
							_, err := fmt.Fprintln(stdio.Out, "No dev agents are running; 'drover dev' starts them.")
							return err
						}
						tw := tabwriter.NewWriter(stdio.Out, 0, 0, 2, ' ', 0)
						fmt.Fprintln(tw, "AGENT\tPID\tADDRESS\tRUNNING\tHEALTHY\tLOG")
						for _, a := range st {
							fmt.Fprintf(tw, "%s\t%d\t%s\t%v\t%v\t%s\n", a.Name, a.PID, a.Addr, a.Running, a.Healthy, a.LogFile)
						}
						return tw.Flush()
					})
				},
			},
		},
	}
}

// devStatusOutput is the document of `dev status --json`; Agents is empty
// when the dev stack was never started.
type devStatusOutput struct {
	Agents []devAgentOutput `json:"agents"`
}

// devAgentOutput is one dev agent.
type devAgentOutput struct {
	Name    string `json:"name"` // nomad, consul or vault
	PID     int    `json:"pid"`  // 0 when it has no pid file
	Address string `json:"address"`
	// Running: the pid file names a live process that is this agent.
	Running bool `json:"running"`
	// Healthy: running, and its health endpoint answers.
	Healthy bool   `json:"healthy"`
	LogFile string `json:"log_file"`
}

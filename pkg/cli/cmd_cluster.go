package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/drover-io/drover/pkg/app"
)

const specPathsUsage = "[PATH...]"

func planFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.BoolFlag{Name: "prune", Usage: "also remove what drover owns for this project but the specs no longer have (needs the whole project)"},
		&ucli.BoolFlag{Name: "adopt", Usage: "take over objects that exist but are not managed by drover, instead of refusing"},
	}
}

func planCommand(stdio IO) *ucli.Command {
	return &ucli.Command{
		Name:      "plan",
		Usage:     "show what deploy would change in Nomad, Consul and Vault",
		ArgsUsage: specPathsUsage,
		Description: `Renders the specs and compares every artifact with the live systems: Nomad's
own plan (/v1/job/:id/plan, with placement checks) for jobs, and field-level
diffs for Consul config entries, catalog registrations and Vault policies and
roles. Nothing is written. With --prune it also lists what would be removed.

Exit codes: 0 no changes, 2 changes, 1 error (as terraform plan
-detailed-exitcode), so CI can gate on drift.

Examples:
  drover plan jobs/
  drover plan jobs/ --env prod --var version=1.4.3
  drover plan jobs/ --prune --json > plan.json`,
		Flags: append(append(specFlags(), planFlags()...), jsonFlag("print the plan as JSON on stdout")),
		Action: func(c *ucli.Context) error {
			base, err := clusterOptions(c, stdio)
			if err != nil {
				return err
			}
			res, err := app.RunPlan(c.Context, app.PlanOptions{ClusterOptions: base, Adopt: c.Bool("adopt"), Prune: c.Bool("prune")})
			printDiagnostics(stdio, res.Diagnostics)
			if err != nil {
				return err
			}
			if err := printResult(c, stdio, res.Plan, func() error { return app.WritePlan(stdio.Out, res.Plan) }); err != nil {
				return err
			}
			if res.Plan.HasChanges() {
				return exitError{code: ExitChanges, err: errors.New("changes pending")}
			}
			return nil
		},
	}
}

func deployCommand(stdio IO) *ucli.Command {
	return &ucli.Command{
		Name:      "deploy",
		Usage:     "apply the specs to Nomad, Consul and Vault and watch the deployments",
		ArgsUsage: specPathsUsage,
		Description: `Plans, then applies in dependency order: Vault policies and roles, Consul
service-defaults, intentions, external catalog registrations, routers and
gateway entries, then gateway jobs, then app jobs (in parallel). Only what
changed is written; an unchanged project makes zero writes.

Job registers are check-and-set on the job modify index the plan saw, so a
job changed by someone in between is not overwritten; counts of autoscaled
groups are preserved. Each registration carries the spec source, shown in
Nomad's UI. Then every deployment is watched: canaries, health, promotion
(--promote when auto_promote is off), and failures explained from task
events and placement metrics; an auto-revert counts as a failure.

Ctrl-C stops watching (deployments go on in Nomad) or stops applying after
the changes in flight; drover prints what was applied, and running deploy
again finishes the rest.

Exit codes: 0 success, 1 a failed or rolled-back deployment or an error,
130 interrupted.

Examples:
  drover deploy jobs/
  drover deploy jobs/shop/api.hcl --env prod --var version=1.4.3
  drover deploy jobs/ --prune --promote
  drover deploy jobs/ --detach --json`,
		Flags: append(append(specFlags(), planFlags()...),
			&ucli.BoolFlag{Name: "detach", Usage: "return once registered, without watching deployments"},
			&ucli.BoolFlag{Name: "promote", Usage: "promote healthy canaries of jobs whose auto_promote is off"},
			&ucli.IntFlag{Name: "concurrency", Value: 4, Usage: "app jobs registered and watched at once"},
			jsonFlag("print the plan, the applied changes and the deployment outcomes as JSON on stdout"),
		),
		Action: func(c *ucli.Context) error {
			base, err := clusterOptions(c, stdio)
			if err != nil {
				return err
			}
			if c.Int("concurrency") < 1 {
				return usagef("--concurrency must be at least 1")
			}
			res, err := app.Deploy(c.Context, app.DeployOptions{
				PlanOptions: app.PlanOptions{ClusterOptions: base, Adopt: c.Bool("adopt"), Prune: c.Bool("prune")},
				Detach:      c.Bool("detach"), Promote: c.Bool("promote"), Concurrency: c.Int("concurrency"),
				VariableFlags: varFlags(c),
			})
			printDiagnostics(stdio, res.Diagnostics)
			switch {
			case res.Plan == nil: // failed before planning: nothing to show
			case c.Bool(flagJSON):
				out := deployOutput{Plan: res.Plan, Applied: appliedKeys(res.Applied), Deployments: res.Deployments, Error: newJSONError(err)}
				if out.Deployments == nil {
					out.Deployments = []*app.DeploymentOutcome{}
				}
				if werr := writeJSON(stdio.Out, out); werr != nil {
					return werr
				}
			case len(res.Deployments) > 0:
				_ = app.WriteOutcomes(stdio.Out, res.Deployments)
			}
			return deployExit(err, "deploy", stdio)
		},
	}
}

// deployOutput is the document of `deploy --json`, also when the deploy
// failed after planning (then Error is set).
type deployOutput struct {
	Plan *app.Plan `json:"plan"`
	// Applied are the changes written, as "system kind name".
	Applied     []string                 `json:"applied"`
	Deployments []*app.DeploymentOutcome `json:"deployments"`
	Error       *jsonError               `json:"error,omitempty"`
}

// deployExit explains an interrupted or partial apply (of a deploy or a
// destroy, named by op) and picks the code.
func deployExit(err error, op string, stdio IO) error {
	var apply *app.ApplyError
	var watch *app.WatchStoppedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &apply):
		fmt.Fprintf(stdio.Err, "Applied %d change(s) before stopping.\n", len(apply.Applied))
		for _, f := range apply.Failed {
			fmt.Fprintf(stdio.Err, "  failed:      %s\n", f)
		}
		for _, p := range apply.Pending {
			fmt.Fprintf(stdio.Err, "  not applied: %s\n", p)
		}
		if apply.Registered > 0 {
			fmt.Fprintf(stdio.Err, "The deployments of the %d job(s) registered go on in Nomad.\n", apply.Registered)
		}
		fmt.Fprintf(stdio.Err, "Everything drover applies is idempotent: run the same %s again to finish.\n", op)
		if errors.Is(err, context.Canceled) {
			return exitError{code: ExitInterrupted, err: err}
		}
		return err
	case errors.As(err, &watch):
		fmt.Fprintf(stdio.Err, "Stopped watching: the deployments of %s go on in Nomad; `drover status` shows them.\n", strings.Join(watch.Jobs, ", "))
		return exitError{code: ExitInterrupted, err: err}
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(stdio.Err, "Interrupted before anything was applied: nothing changed.\n")
		return exitError{code: ExitInterrupted, err: err}
	}
	return err
}

func statusCommand(stdio IO) *ucli.Command {
	return &ucli.Command{
		Name:      "status",
		Usage:     "show each app's job, deployment, counts, Consul health and exposure",
		ArgsUsage: specPathsUsage,
		Description: `For every app of the specs: the Nomad job's status and version, its latest
deployment, desired, running and healthy instances, how many service
instances pass their Consul checks, and the public hosts that reach it
("-" for mesh-internal apps).

Examples:
  drover status jobs/
  drover status jobs/shop/api.hcl --json`,
		Flags: append(specFlags(), jsonFlag("print the status as JSON on stdout")),
		Action: func(c *ucli.Context) error {
			base, err := clusterOptions(c, stdio)
			if err != nil {
				return err
			}
			res, err := app.Status(c.Context, app.StatusOptions{ClusterOptions: base})
			printDiagnostics(stdio, res.Diagnostics)
			if err != nil {
				return err
			}
			return printResult(c, stdio, res, func() error { return app.WriteStatus(stdio.Out, res.Apps) })
		},
	}
}

func scaleCommand(stdio IO) *ucli.Command {
	return &ucli.Command{
		Name:      "scale",
		Usage:     "set an app's instance count within its scaling bounds",
		ArgsUsage: "APP COUNT [PATH...]",
		Description: `Sets the count of APP's task group through Nomad's scale endpoint, within the
group's scaling min and max, check-and-set on the job's modify index. The
change is recorded as a scaling event, so an autoscaler's cooldown starts,
and later deploys keep it when the app autoscales. APP must be an app of the
specs at PATH (default: the project around the working directory, found by
its drover.hcl), and its job is found in their project's namespace; outside
a project, in NOMAD_NAMESPACE. Only Nomad is contacted.

Examples:
  drover scale api 6
  drover scale api 6 jobs/
  drover scale worker 0 --message "pause the queue"`,
		Flags: append(specFlags(),
			&ucli.StringFlag{Name: "group", Usage: "task group to scale (default: the job's only group)"},
			&ucli.StringFlag{Name: "message", Usage: "reason recorded with the scaling event"},
			jsonFlag("print the result as JSON on stdout"),
		),
		Action: func(c *ucli.Context) error {
			if c.NArg() < 2 {
				return usagef("scale takes an app and a count, such as 'drover scale api 6'")
			}
			count, err := strconv.Atoi(c.Args().Get(1))
			if err != nil || count < 0 {
				return usagef("count must be a whole number of 0 or more, not %q", c.Args().Get(1))
			}
			base, err := clusterOptions(c, stdio)
			if err != nil {
				return err
			}
			// The paths after APP COUNT, or the project around the working
			// directory; none outside a project (then NOMAD_NAMESPACE says
			// where the job is).
			base.Load.Paths = specPaths(c.Args().Slice()[2:])
			res, err := app.Scale(c.Context, app.ScaleOptions{ClusterOptions: base, App: c.Args().First(), Group: c.String("group"), Count: count, Message: c.String("message")})
			var input *app.InputError
			if errors.As(err, &input) {
				printDiagnostics(stdio, input.Diagnostics)
			}
			if err != nil {
				return err
			}
			return printResult(c, stdio, res, func() error {
				_, err := fmt.Fprintf(stdio.Out, "Scaled %s group %s from %d to %d.\n", res.App, res.Group, res.Previous, res.Count)
				return err
			})
		},
	}
}

func destroyCommand(stdio IO) *ucli.Command {
	return &ucli.Command{
		Name:      "destroy",
		Usage:     "stop apps and remove everything drover made for them",
		ArgsUsage: specPathsUsage,
		Description: `Destroys the apps and externals of the given specs, in reverse order of
deploy: first takes them out of the gateways and intentions of what remains,
then stops their jobs, then deletes their config entries, catalog
registrations, and Vault policies and roles. Only objects drover owns are
touched. An app another app still calls cannot be destroyed.

Shows the plan and asks for confirmation; --yes skips the question (and is
required when stdin is not a terminal).

Examples:
  drover destroy jobs/shop/api.hcl
  drover destroy jobs/ --yes --purge`,
		Flags: append(specFlags(),
			&ucli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "do not ask for confirmation"},
			&ucli.BoolFlag{Name: "purge", Usage: "remove the jobs from Nomad's state instead of only stopping them"},
			jsonFlag("print the plan and applied changes as JSON on stdout"),
		),
		Action: func(c *ucli.Context) error {
			if c.NArg() == 0 {
				return usagef("name the specs to destroy, such as 'drover destroy jobs/shop/api.hcl' (or the project directory for everything)")
			}
			base, err := clusterOptions(c, stdio)
			if err != nil {
				return err
			}
			yes := c.Bool("yes")
			if !yes && !stdio.InIsTerminal {
				return usagef("destroy asks for confirmation, and stdin is not a terminal: pass --yes")
			}
			res, err := app.Destroy(c.Context, app.DestroyOptions{ClusterOptions: base, Purge: c.Bool("purge"), Confirm: func(p *app.Plan) bool {
				_ = app.WritePlan(stdio.Err, p)
				if yes {
					return true
				}
				fmt.Fprint(stdio.Err, "\nDestroy these objects? Only 'yes' confirms: ")
				line, _ := bufio.NewReader(stdio.In).ReadString('\n')
				return strings.TrimSpace(line) == "yes"
			}})
			printDiagnostics(stdio, res.Diagnostics)
			if c.Bool(flagJSON) && res.Plan != nil {
				out := destroyOutput{Plan: res.Plan, Applied: appliedKeys(res.Applied), Cancelled: res.Cancelled, Error: newJSONError(err)}
				if werr := writeJSON(stdio.Out, out); werr != nil {
					return werr
				}
			}
			if res.Cancelled {
				fmt.Fprintln(stdio.Err, "Cancelled: nothing was changed.")
				return nil
			}
			return deployExit(err, "destroy", stdio)
		},
	}
}

// destroyOutput is the document of `destroy --json`, also when the destroy
// failed after planning (then Error is set).
type destroyOutput struct {
	Plan *app.Plan `json:"plan"`
	// Applied are the changes made, as "system kind name".
	Applied []string `json:"applied"`
	// Cancelled: the question was answered with something other than yes.
	Cancelled bool       `json:"cancelled,omitempty"`
	Error     *jsonError `json:"error,omitempty"`
}

func appliedKeys(changes []*app.Change) []string {
	out := []string{}
	for _, ch := range changes {
		out = append(out, ch.Key())
	}
	return out
}

func secretsCommand(stdio IO) *ucli.Command {
	return &ucli.Command{
		Name:  "secrets",
		Usage: "work with the Vault secrets the specs reference",
		Description: `Commands for the Vault secrets the specs' secret blocks reference. No
secret value ever appears in anything drover writes or prints.

Examples:
  drover secrets check jobs/
  drover secrets check jobs/ --env prod --json`,
		Subcommands: []*ucli.Command{{
			Name:      "check",
			Usage:     "prove every referenced secret exists with its key, printing no value",
			ArgsUsage: specPathsUsage,
			Description: `For every secret block of the specs, checks that the KV v2 secret exists in
Vault and has the key the spec names; also that the KV mount is version 2
and the JWT auth method exists. It reads each secret to see its keys (Vault
cannot list them otherwise) and never prints, logs or stores a value.

Exit codes: 0 all present, 1 something missing or an error.

Examples:
  drover secrets check jobs/
  drover secrets check jobs/ --env prod --json`,
			Flags: append(specFlags(), jsonFlag("print the checks as JSON on stdout")),
			Action: func(c *ucli.Context) error {
				base, err := clusterOptions(c, stdio)
				if err != nil {
					return err
				}
				res, err := app.CheckSecrets(c.Context, base)
				printDiagnostics(stdio, res.Diagnostics)
				if err != nil && !errors.Is(err, app.ErrSecretsMissing) {
					return err
				}
				out := secretsOutput{Checks: res.Checks, Problems: res.Problems, Error: newJSONError(err)}
				if perr := printResult(c, stdio, out, func() error { return app.WriteSecrets(stdio.Out, res) }); perr != nil {
					return perr
				}
				return err
			},
		}},
	}
}

// secretsOutput is the document of `secrets check --json`; Error is set
// (kind secrets_missing) when some secret would not resolve.
type secretsOutput struct {
	Checks []app.SecretCheck `json:"checks"`
	// Problems affect every secret: the KV mount, the JWT auth method.
	Problems []string   `json:"problems"`
	Error    *jsonError `json:"error,omitempty"`
}

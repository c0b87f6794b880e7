package cli

import (
	"errors"
	"fmt"

	ucli "github.com/urfave/cli/v2"

	"github.com/drover-io/drover/pkg/app"
)

func importCommand(stdio IO) *ucli.Command {
	return &ucli.Command{
		Name:      "import",
		Usage:     "turn existing Nomad jobs into drover specs",
		ArgsUsage: "[FILE...]",
		Description: `Reads Nomad jobs and writes drover specs: one app per task group, a
drover.hcl project file (datacenters, region, namespace), typed blocks
where the spec has them (image, command, args, env, resources, count,
ports, host networking, placement, services in and outside the mesh,
update, scaling, periodic, parameterized, helper tasks with lifecycle,
volumes and mounts, files from templates, docker options, and Nomad's own
constraint, restart, reschedule, ... blocks at the app level) and
everything else in the app's nomad { } block, in Nomad's own vocabulary.

FILE is a job in Nomad's API JSON (what 'nomad job inspect' and 'nomad job
run -output' print, or a bare job object), or an HCL job file, converted
with 'nomad job run -output' when the nomad binary is on PATH; - reads
stdin. --job ID reads a job from the cluster (NOMAD_ADDR), in --namespace.

The report (stderr; --json prints it on stdout) classifies every field of
every job: typed, carried by the nomad block, transformed (a renamed job,
a job-level constraint moved into the group, a literal secret moved to
Vault) or dropped, with the reason. A literal secret in env becomes a
secret block, and the report says where in Vault to store its value; the
value itself is never written or printed.

The import checks its own work: the written specs are loaded and rendered,
and each job must come back as it was (canonicalized, apart from drover's
ownership metadata and the transformations the report names). --check
writes nothing and prints the differences, exiting 1 if there are any.

Specs go to -o DIR (default "."; existing files are kept unless --force),
or to stdout with -o -.

Examples:
  nomad job inspect api | drover import - -o jobs/
  drover import jobs/*.nomad.hcl -o specs/ --project shop
  drover import --job api --job worker --namespace shop -o jobs/
  drover import api.json --check
  drover import api.json -o - --json > report.json`,
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "out", Aliases: []string{"o"}, Value: ".", Usage: "write the specs under `DIR` (- for stdout)"},
			&ucli.StringSliceFlag{Name: "job", Usage: "import the job with this `ID` from Nomad (repeatable)"},
			&ucli.StringFlag{Name: "namespace", Usage: "the Nomad namespace of --job (default: NOMAD_NAMESPACE)"},
			&ucli.StringFlag{Name: "project", Usage: "the project's `NAME` (default: the jobs' namespace, else the first job's ID)"},
			&ucli.BoolFlag{Name: "check", Usage: "write nothing; print where rendering the specs would not give the jobs back, and exit 1 if anywhere"},
			&ucli.BoolFlag{Name: "force", Usage: "overwrite existing files under DIR"},
			jsonFlag("print the report as JSON on stdout"),
		},
		Action: func(c *ucli.Context) error {
			out, asJSON := c.String("out"), c.Bool(flagJSON)
			switch {
			case c.NArg() == 0 && len(c.StringSlice("job")) == 0:
				return usagef("import takes job files (- for stdin) or --job ID")
			case out == "-" && asJSON && !c.Bool("check"):
				return usagef("-o - and --json both print on stdout: write the specs to a directory, or drop --json")
			case c.IsSet("namespace") && len(c.StringSlice("job")) == 0:
				return usagef("--namespace is the namespace of --job")
			}
			base, err := clusterOptions(c, stdio)
			if err != nil {
				return err
			}
			res, err := app.Import(c.Context, app.ImportOptions{
				ClusterOptions: base,
				Files:          c.Args().Slice(),
				JobIDs:         c.StringSlice("job"),
				Namespace:      c.String("namespace"),
				Project:        c.String("project"),
				OutDir:         out,
				Force:          c.Bool("force"),
				Check:          c.Bool("check"),
				Stdin:          stdio.In,
				Stdout:         stdio.Out,
			})
			if res == nil {
				return err
			}
			if asJSON {
				if jerr := writeJSON(stdio.Out, res.Report); jerr != nil {
					return jerr
				}
			} else if werr := res.Report.WriteText(stdio.Err); werr != nil {
				return werr
			}
			var diff *app.ImportDiffError
			var incomplete *app.ImportIncompleteError
			switch {
			case errors.As(err, &diff):
				if !asJSON {
					_ = res.Report.WriteDifferences(stdio.Out)
				}
				fmt.Fprintf(stdio.Err, "drover: %s\n", err)
				return exitError{code: ExitError, err: err}
			case errors.As(err, &incomplete) && asJSON:
				return exitError{code: ExitError, err: err}
			case err != nil:
				return err
			}
			if !asJSON && out != "-" && !c.Bool("check") {
				fmt.Fprintf(stdio.Err, "Wrote %d file(s) under %s.\n", len(res.Written), out)
			}
			return nil
		},
	}
}

package cli

import (
	ucli "github.com/urfave/cli/v2"
	"os"

	"github.com/drover-io/drover/pkg/spec"
)

// Flags shared by every command that loads specs.
const (
	flagEnv     = "env"
	flagVar     = "var"
	flagVarFile = "var-file"
	flagJSON    = "json"
)

func specFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringFlag{
			Name: flagEnv, Aliases: []string{"e"}, EnvVars: []string{"DROVER_ENV"},
			Usage: "apply the named environment's overlays (counts, resources, hosts) declared in the specs",
		},
		&ucli.StringSliceFlag{
			Name:  flagVar,
			Usage: "set a variable: --var version=1.4.3 (repeatable; overrides --var-file and DROVER_VAR_*)",
		},
		&ucli.StringSliceFlag{
			Name:  flagVarFile,
			Usage: "read variables from an HCL file of name = value lines (repeatable; later files win)",
		},
	}
}

func jsonFlag(usage string) ucli.Flag {
	return &ucli.BoolFlag{Name: flagJSON, Usage: usage}
}

// loadOptions builds spec.LoadOptions from the shared flags and arguments.
func loadOptions(c *ucli.Context, stdio IO) spec.LoadOptions {
	return spec.LoadOptions{
		Paths:       specPaths(c.Args().Slice()),
		Environment: c.String(flagEnv),
		Inputs: spec.VarInputs{
			Vars:     c.StringSlice(flagVar),
			VarFiles: c.StringSlice(flagVarFile),
			Environ:  stdio.Environ(),
		},
	}
}

// specPaths are the paths named, or else the project the working directory
// is in: the nearest drover.hcl upward, not every spec below (a spec tree
// inside another repository's subdirectory stays the project's).
func specPaths(args []string) []string {
	if len(args) > 0 {
		return args
	}
	if wd, err := os.Getwd(); err == nil {
		if root, err := spec.FindRoot(wd); err == nil {
			return []string{root}
		}
	}
	return nil
}

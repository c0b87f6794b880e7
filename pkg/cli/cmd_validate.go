package cli

import (
	"fmt"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/drover-io/drover/pkg/app"
	"github.com/drover-io/drover/pkg/diag"
)

func validateCommand(stdio IO) *ucli.Command {
	return &ucli.Command{
		Name:      "validate",
		Usage:     "check specs offline and report every problem with file:line:col",
		ArgsUsage: "[PATH...]",
		Description: `Loads the specs at PATH (files or directories, default ".") and checks them
without contacting any cluster: schema, names Nomad and Consul accept, port
and upstream references, local port collisions, scaling bounds and policies,
public routes, and literal secrets in env. If a drover.hcl is found in or
above PATH, PATH is checked against the whole project: the specs that have
not changed since the project index (in .drover/) was written, and that
passed then, are taken from it rather than read again, and when nothing at
all changed since a validation that found nothing, it stands; so it does
after an edit that the checks across specs cannot tell (an image, say):
the edited spec is read and checked on its own (DROVER_INDEX=off reads and
checks every spec).

Without --env, the base spec and every environment overlay are validated.

Examples:
  drover validate jobs/
  drover validate jobs/shop/api.hcl --env prod
  drover validate jobs/ --json        # machine-readable result on stdout`,
		Flags: append(specFlags(), jsonFlag("print the result and diagnostics as JSON on stdout")),
		Action: func(c *ucli.Context) error {
			res, err := app.Validate(app.ValidateOptions{Load: loadOptions(c, stdio)})
			printDiagnostics(stdio, res.Diagnostics)
			if err != nil {
				return err
			}
			return printResult(c, stdio, validateJSON(res), func() error {
				envs := ""
				if len(res.Environments) > 0 {
					envs = fmt.Sprintf(" (base and environments %s)", strings.Join(res.Environments, ", "))
				}
				_, warns := diag.Counts(res.Diags)
				_, err := fmt.Fprintf(stdio.Out, "%d apps and %d externals are valid%s; %d warning(s).\n", len(res.Apps), len(res.Externals), envs, warns)
				return err
			})
		},
	}
}

// validateOutput is the document of `validate --json`. Valid is always
// true (invalid specs print the error document, with their diagnostics);
// Diagnostics are the warnings.
type validateOutput struct {
	Valid        bool             `json:"valid"`
	Apps         []string         `json:"apps"`
	Externals    []string         `json:"externals"`
	Environments []string         `json:"environments"`
	Diagnostics  []jsonDiagnostic `json:"diagnostics"`
}

func validateJSON(res *app.ValidateResult) validateOutput {
	out := validateOutput{Valid: true, Apps: res.Apps, Externals: res.Externals, Environments: res.Environments, Diagnostics: jsonDiagnostics(res.Diagnostics)}
	for _, s := range []*[]string{&out.Apps, &out.Externals, &out.Environments} {
		if *s == nil {
			*s = []string{}
		}
	}
	return out
}

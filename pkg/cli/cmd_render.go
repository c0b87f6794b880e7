package cli

import (
	"fmt"

	ucli "github.com/urfave/cli/v2"

	"github.com/drover-io/drover/pkg/app"
	"github.com/drover-io/drover/pkg/version"
)

func renderCommand(stdio IO) *ucli.Command {
	return &ucli.Command{
		Name:      "render",
		Usage:     "render Nomad jobs, Consul config entries and Vault policies, offline",
		ArgsUsage: "[PATH...]",
		Description: `Validates the specs at PATH and renders every artifact they imply:

  nomad/<job>.json               the body PUT /v1/jobs takes (apps and gateways)
  consul/<kind>/<name>.json      service-defaults, service-intentions,
                                 service-router, ingress- and terminating-gateway
  consul/catalog/<name>.json     catalog registration of each external
  vault/policy/<name>.hcl        least-privilege policy per app with secrets
  vault/role/<name>.json         JWT auth role binding it to the app's job
  manifest.json                  every artifact with its owner and checksum

Output is deterministic: the same specs render byte-identical files. Secret
values never appear; only their Vault paths and keys do.

With -o, files are written under DIR (artifacts a previous render listed and
this one no longer has are removed). Without it, everything goes to stdout as
one JSON document, or readable HCL with --format hcl.

When PATH names one spec in a project, only that spec's artifacts are
rendered, but the whole project is validated (upstreams must exist).

Examples:
  drover render jobs/ -o out/
  drover render jobs/shop/api.hcl --format hcl
  drover render jobs/ --env prod --var version=1.4.3 -o out/prod`,
		Flags: append(specFlags(),
			&ucli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "write one file per artifact under `DIR`"},
			&ucli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: app.FormatJSON, Usage: "stdout format: json or hcl"},
			jsonFlag("with -o, print the list of written files as JSON"),
		),
		Action: func(c *ucli.Context) error {
			format := c.String("format")
			if format != app.FormatJSON && format != app.FormatHCL {
				return usagef("--format must be json or hcl, not %q", format)
			}
			res, err := app.Render(app.RenderOptions{
				Load:    loadOptions(c, stdio),
				OutDir:  c.String("out"),
				Format:  format,
				Version: version.Version,
				Stdout:  stdio.Out,
			})
			if res != nil {
				printDiagnostics(stdio, res.Diagnostics)
			}
			if err != nil || c.String("out") == "" {
				return err
			}
			if c.Bool(flagJSON) {
				return writeJSON(stdio.Out, map[string]any{"written": res.Written})
			}
			b := res.Bundle
			fmt.Fprintf(stdio.Out, "Rendered %d Nomad jobs, %d Consul config entries, %d catalog registrations, %d Vault policies and %d roles into %s (%d files).\n",
				len(b.Jobs), len(b.ConfigEntries), len(b.Registrations), len(b.VaultPolicies), len(b.VaultRoles), c.String("out"), len(res.Written))
			return nil
		},
	}
}

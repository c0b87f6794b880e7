package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

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
this one no longer has are removed), and --json lists them. Without it,
everything goes to stdout as one JSON document, or readable HCL with
--format hcl.

When PATH names one spec in a project, only that spec's artifacts are
rendered, and it is checked against the rest of the project (upstreams must
exist), which comes from the project index (in .drover/) for the specs
unchanged since it was written. A spec unchanged since it was rendered into
DIR, whose files there are still as written, is not read again; and when
nothing at all changed since a render into DIR that warned of nothing, and
its files are as written, that render stands (.drover/outcomes). After an
edit that changes none of what the checks across specs and the
project-wide artifacts read (names, ports, services, upstreams, public
routes: an image or an environment variable, say), the config entries and
gateways that render wrote stand too, and only the edited app is rendered;
when no other spec changed since, no other spec's index entry is read.
DROVER_INDEX=off reads and checks every spec.

Examples:
  drover render jobs/ -o out/
  drover render jobs/shop/api.hcl --format hcl
  drover render jobs/ --env prod --var version=1.4.3 -o out/prod
  drover render jobs/ -o out/ --json | jq -r '.files[].path'`,
		Flags: append(specFlags(),
			&ucli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "write one file per artifact under `DIR`"},
			&ucli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: app.FormatJSON, Usage: "stdout format: json or hcl (with -o, files are in each system's own format)"},
			jsonFlag("with -o, print the files written (kind, name, app, path, sha256) as JSON; without, the bundle is JSON"),
		),
		Action: func(c *ucli.Context) error {
			format, out := c.String("format"), c.String("out")
			switch {
			case format != app.FormatJSON && format != app.FormatHCL:
				return usagef("--format must be json or hcl, not %q", format)
			case format == app.FormatHCL && out != "":
				return usagef("--format hcl is for stdout: with -o, each file is in its system's own format (Vault policies are HCL, the rest JSON)")
			case format == app.FormatHCL && c.Bool(flagJSON):
				return usagef("--json and --format hcl conflict: choose one")
			}
			res, err := app.Render(app.RenderOptions{
				Load:    loadOptions(c, stdio),
				OutDir:  out,
				Format:  format,
				Version: version.Version,
				Stdout:  stdio.Out,
			})
			if res != nil {
				printDiagnostics(stdio, res.Diagnostics)
			}
			if err != nil || out == "" {
				return err
			}
			if c.Bool(flagJSON) {
				doc, err := renderJSON(out)
				if err != nil {
					return err
				}
				return writeJSON(stdio.Out, doc)
			}
			n := res.Counts
			fmt.Fprintf(stdio.Out, "Rendered %d Nomad jobs, %d Consul config entries, %d catalog registrations, %d Vault policies and %d roles into %s (%d files).\n",
				n.Jobs, n.ConfigEntries, n.Registrations, n.VaultPolicies, n.VaultRoles, out, len(res.Written))
			return nil
		},
	}
}

// renderOutput is the document of `render -o DIR --json`: every artifact
// written, as DIR/manifest.json lists them.
type renderOutput struct {
	OutDir string         `json:"out_dir"`
	Files  []renderedFile `json:"files"`
}

// renderedFile is one artifact written under OutDir.
type renderedFile struct {
	// Kind is nomad-job, a Consul config entry kind (service-defaults, ...),
	// consul-catalog, vault-policy or vault-jwt-role.
	Kind string `json:"kind"`
	Name string `json:"name"`
	// App is empty for project-wide artifacts such as gateways.
	App string `json:"app,omitempty"`
	// Path is relative to OutDir, with forward slashes.
	Path string `json:"path"`
	// SHA256 is the checksum of the file's bytes, in hex.
	SHA256 string `json:"sha256"`
}

// renderJSON reads back the manifest.json the render just wrote in dir.
func renderJSON(dir string) (renderOutput, error) {
	out := renderOutput{OutDir: dir, Files: []renderedFile{}}
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return out, err
	}
	var m struct {
		Artifacts []renderedFile `json:"artifacts"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return out, fmt.Errorf("%s: %w", filepath.Join(dir, "manifest.json"), err)
	}
	out.Files = append(out.Files, m.Artifacts...)
	return out, nil
}

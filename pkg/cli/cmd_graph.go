package cli

import (
	ucli "github.com/urfave/cli/v2"

	"github.com/drover-io/drover/pkg/app"
)

func graphCommand(stdio IO) *ucli.Command {
	return &ucli.Command{
		Name:      "graph",
		Usage:     "show who is reachable from outside and who calls whom",
		ArgsUsage: "[PATH...]",
		Description: `Prints the project's call graph, exactly the calls the rendered intentions
allow: the internet to exposed apps (by host and path), apps to their
upstreams, and apps to externals through the terminating gateway.

Formats: mermaid (default; renders on GitHub), dot (Graphviz), json.

Examples:
  drover graph jobs/
  drover graph jobs/ --format dot | dot -Tpng > graph.png`,
		Flags: append(specFlags(),
			&ucli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: app.GraphMermaid, Usage: "mermaid, dot or json"},
		),
		Action: func(c *ucli.Context) error {
			switch c.String("format") {
			case app.GraphMermaid, app.GraphDOT, app.GraphJSON:
			default:
				return usagef("--format must be mermaid, dot or json, not %q", c.String("format"))
			}
			res, err := app.RenderGraph(app.GraphOptions{Load: loadOptions(c, stdio), Format: c.String("format"), Stdout: stdio.Out})
			if res != nil {
				printDiagnostics(stdio, *res)
			}
			return err
		},
	}
}

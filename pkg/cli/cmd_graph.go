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

Formats: mermaid (default; renders on GitHub), dot (Graphviz), json (also
--json): {"nodes": [{name, kind, public}], "edges": [{from, to, kind, label}]}.

Examples:
  drover graph jobs/
  drover graph jobs/ --format dot | dot -Tpng > graph.png
  drover graph jobs/ --json | jq '.edges[] | select(.kind == "public")'`,
		Flags: append(specFlags(),
			&ucli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: app.GraphMermaid, Usage: "mermaid, dot or json"},
			jsonFlag("print the graph as JSON on stdout (as --format json)"),
		),
		Action: func(c *ucli.Context) error {
			format := c.String("format")
			switch {
			case format != app.GraphMermaid && format != app.GraphDOT && format != app.GraphJSON:
				return usagef("--format must be mermaid, dot or json, not %q", format)
			case c.Bool(flagJSON) && c.IsSet("format") && format != app.GraphJSON:
				return usagef("--json and --format %s conflict: choose one", format)
			case c.Bool(flagJSON):
				format = app.GraphJSON
			}
			res, err := app.RenderGraph(app.GraphOptions{Load: loadOptions(c, stdio), Format: format, Stdout: stdio.Out})
			if res != nil {
				printDiagnostics(stdio, *res)
			}
			return err
		},
	}
}

package cli

import (
	"fmt"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/drover-io/drover/pkg/app"
	"github.com/drover-io/drover/templates"
)

func initCommand(stdio IO) *ucli.Command {
	var list strings.Builder
	for _, n := range templates.Names() {
		fmt.Fprintf(&list, "  %-9s %s\n", n, templates.Describe(n))
	}
	return &ucli.Command{
		Name:      "init",
		Usage:     "write a starter spec for a new app",
		ArgsUsage: "NAME",
		Description: "Writes NAME.hcl from a starter template. Templates:\n\n" + list.String() + `
Examples:
  drover init api --template service
  drover init storefront --template web --dir jobs/shop`,
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "template", Aliases: []string{"t"}, Value: "service", Usage: "starter to use: " + strings.Join(templates.Names(), ", ")},
			&ucli.StringFlag{Name: "dir", Aliases: []string{"d"}, Value: ".", Usage: "directory to write NAME.hcl in"},
			&ucli.BoolFlag{Name: "force", Usage: "overwrite an existing file"},
		},
		Action: func(c *ucli.Context) error {
			if c.NArg() != 1 {
				return usagef("init takes exactly one app name, such as 'drover init api'")
			}
			path, err := app.Init(app.InitOptions{Name: c.Args().First(), Template: c.String("template"), Dir: c.String("dir"), Force: c.Bool("force")})
			if err != nil {
				return err
			}
			fmt.Fprintf(stdio.Out, "Wrote %s. Next: edit it, then run 'drover validate %s'.\n", path, path)
			return nil
		},
	}
}

package cli

import (
	"fmt"
	"runtime"

	ucli "github.com/urfave/cli/v2"

	"github.com/drover-io/drover/pkg/version"
)

func versionCommand(stdio IO) *ucli.Command {
	return &ucli.Command{
		Name:  "version",
		Usage: "print drover's version",
		Flags: []ucli.Flag{jsonFlag("print version, commit and Go version as JSON")},
		Action: func(c *ucli.Context) error {
			if c.Bool(flagJSON) {
				return writeJSON(stdio.Out, map[string]string{"version": version.Version, "commit": version.Commit, "go": runtime.Version()})
			}
			fmt.Fprintln(stdio.Out, version.String())
			return nil
		},
	}
}

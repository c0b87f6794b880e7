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
		Description: `Prints drover's version and the commit it was built from; 'drover --version'
prints the same.

Examples:
  drover version
  drover version --json | jq -r .version`,
		Flags: []ucli.Flag{jsonFlag("print version, commit and Go version as JSON")},
		Action: func(c *ucli.Context) error {
			if c.NArg() > 0 {
				return usagef("version takes no arguments")
			}
			return printVersion(stdio, c.Bool(flagJSON))
		},
	}
}

// versionOutput is the document of `drover version --json`.
type versionOutput struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Go      string `json:"go"`
}

// printVersion prints what `drover version` and `drover --version` print.
func printVersion(stdio IO, asJSON bool) error {
	if asJSON {
		return writeJSON(stdio.Out, versionOutput{Version: version.Version, Commit: version.Commit, Go: runtime.Version()})
	}
	_, err := fmt.Fprintln(stdio.Out, version.String())
	return err
}

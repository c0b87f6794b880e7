package cli

import (
	"strings"

	ucli "github.com/urfave/cli/v2"
)

// intersperse moves each command's flags before its positional arguments,
// so that `drover render jobs/ -o out/` works: urfave/cli v2, like Go's
// flag package, stops reading flags at the first positional argument.
// Arguments after "--" are left alone.
func intersperse(app *ucli.App, args []string) []string {
	if len(args) == 0 {
		return args
	}
	out := []string{args[0]}
	rest := args[1:]
	flags := app.Flags
	commands := app.Commands
	for {
		var flagArgs, positional []string
		var sub *ucli.Command
		for i := 0; i < len(rest); i++ {
			tok := rest[i]
			switch {
			case tok == "--":
				positional = append(positional, rest[i:]...)
				i = len(rest)
			case strings.HasPrefix(tok, "-") && tok != "-":
				flagArgs = append(flagArgs, tok)
				if !strings.Contains(tok, "=") && takesValue(flags, strings.TrimLeft(tok, "-")) && i+1 < len(rest) {
					i++
					flagArgs = append(flagArgs, rest[i])
				}
			case len(positional) == 0 && findCommand(commands, tok) != nil:
				sub = findCommand(commands, tok)
				out = append(out, flagArgs...)
				out = append(out, tok)
				rest = rest[i+1:]
				i = len(rest)
			default:
				positional = append(positional, tok)
			}
		}
		if sub == nil {
			out = append(out, flagArgs...)
			return append(out, positional...)
		}
		flags, commands = sub.Flags, sub.Subcommands
	}
}

func findCommand(cmds []*ucli.Command, name string) *ucli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// takesValue reports whether the named flag expects a value; unknown flags
// (including --help) are treated as booleans and left for urfave to judge.
func takesValue(flags []ucli.Flag, name string) bool {
	for _, f := range flags {
		for _, n := range f.Names() {
			if n != name {
				continue
			}
			if dv, ok := f.(ucli.DocGenerationFlag); ok {
				return dv.TakesValue()
			}
			return true
		}
	}
	return false
}

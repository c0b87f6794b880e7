package cli

import (
	"fmt"
	"strings"

	ucli "github.com/urfave/cli/v2"
)

// intersperse reorders arguments so that urfave/cli v2, which (like Go's
// flag package) stops reading flags at the first positional argument, sees
// what people type:
//
//	drover render jobs/ -o out/             a command's flag after a path
//	drover deploy jobs/ --nomad-addr http://...   a global flag after the command
//
// Each command's flags move before its positional arguments, and global
// flags move before the command. Arguments after "--" are left alone. A
// flag that takes a value and is the last argument is a usage error (moved
// before the command, it would take the command's name as its value).
func intersperse(app *ucli.App, args []string) ([]string, error) {
	if len(args) == 0 {
		return args, nil
	}
	var global []string
	var out []string
	rest := args[1:]
	flags := app.Flags
	commands := app.Commands
	root := true
	path := app.Name
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
				name := flagName(tok)
				dst, known := &flagArgs, flags
				if !root && !hasFlag(flags, name) && hasFlag(app.Flags, name) {
					dst, known = &global, app.Flags
				}
				*dst = append(*dst, tok)
				if !strings.Contains(tok, "=") && takesValue(known, name) {
					if i+1 == len(rest) {
						return nil, usageError{err: fmt.Errorf("flag needs an argument: %s", tok), cmd: path}
					}
					i++
					*dst = append(*dst, rest[i])
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
			out = append(out, positional...)
			return append(append([]string{args[0]}, global...), out...), nil
		}
		flags, commands, root = sub.Flags, sub.Subcommands, false
		path += " " + sub.Name
	}
}

func flagName(tok string) string {
	name := strings.TrimLeft(tok, "-")
	if i := strings.IndexByte(name, '='); i >= 0 {
		name = name[:i]
	}
	return name
}

func findCommand(cmds []*ucli.Command, name string) *ucli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

func hasFlag(flags []ucli.Flag, name string) bool {
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return true
			}
		}
	}
	return false
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

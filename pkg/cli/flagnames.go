package cli

import (
	ucli "github.com/urfave/cli/v2"
)

// Flags whose names are worked out once. urfave/cli/v2's Names() runs a
// regular expression on every call (it trims v1-style "name, n"
// spellings), and each command run asks IsSet of each of its flags, which
// calls Names() of every flag before the one it looks for: some five
// hundred regexp runs and 100 KB of garbage at every start, a few percent
// of `drover version`. The wrappers keep the flag itself (help, parsing
// and values are urfave's) and answer Names() from a slice.
type (
	boolFlag struct {
		*ucli.BoolFlag
		names []string
	}
	stringFlag struct {
		*ucli.StringFlag
		names []string
	}
	stringSliceFlag struct {
		*ucli.StringSliceFlag
		names []string
	}
	intFlag struct {
		*ucli.IntFlag
		names []string
	}
	int64Flag struct {
		*ucli.Int64Flag
		names []string
	}
	durationFlag struct {
		*ucli.DurationFlag
		names []string
	}
)

func (f boolFlag) Names() []string        { return f.names }
func (f stringFlag) Names() []string      { return f.names }
func (f stringSliceFlag) Names() []string { return f.names }
func (f intFlag) Names() []string         { return f.names }
func (f int64Flag) Names() []string       { return f.names }
func (f durationFlag) Names() []string    { return f.names }

// fixNames replaces each flag of a kind drover uses by its wrapper. Call
// it after anything that asserts a flag's concrete type (hideBoolDefaults).
func fixNames(flags []ucli.Flag) {
	for i, f := range flags {
		names := f.Names()
		switch f := f.(type) {
		case *ucli.BoolFlag:
			flags[i] = boolFlag{f, names}
		case *ucli.StringFlag:
			flags[i] = stringFlag{f, names}
		case *ucli.StringSliceFlag:
			flags[i] = stringSliceFlag{f, names}
		case *ucli.IntFlag:
			flags[i] = intFlag{f, names}
		case *ucli.Int64Flag:
			flags[i] = int64Flag{f, names}
		case *ucli.DurationFlag:
			flags[i] = durationFlag{f, names}
		}
	}
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/agext/levenshtein"
	ucli "github.com/urfave/cli/v2"

	"github.com/drover-io/drover/internal/lazyregexp"
	"github.com/drover-io/drover/pkg/version"
)

// ExitCode is drover's process exit status. The values are part of its CI
// contract and never change meaning; TestExitCodeNumbers pins them.
type ExitCode int

// Exit codes.
const (
	ExitOK ExitCode = 0
	// ExitError: invalid specs or input, a failed deployment, or an
	// operation that failed.
	ExitError ExitCode = 1
	// ExitChanges: `drover plan` found changes (like terraform plan
	// -detailed-exitcode).
	ExitChanges ExitCode = 2
	// ExitUsage: a wrong command line (unknown command or flag, missing
	// argument or flag value, conflicting flags); EX_USAGE of sysexits.h.
	ExitUsage ExitCode = 64
	// ExitInterrupted: stopped by Ctrl-C or SIGTERM.
	ExitInterrupted ExitCode = 130
)

// IO is where a command reads and writes.
type IO struct {
	In     io.Reader
	Out    io.Writer
	Err    io.Writer
	Getenv func(string) string
	// Environ returns the environment as KEY=value pairs.
	Environ func() []string
	// IsTerminal reports whether Err is a terminal (for colour and progress).
	IsTerminal bool
	// InIsTerminal reports whether In is a terminal, so that a question can
	// be asked and answered.
	InIsTerminal bool
}

// usageError marks a command-line mistake (ExitUsage). cmd is the command
// whose help explains the right usage, such as "drover plan".
type usageError struct {
	err error
	cmd string
}

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{err: fmt.Errorf(format, args...)} }

// exitError carries a chosen exit code for an outcome already reported.
type exitError struct {
	code ExitCode
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

// Main runs drover with args (args[0] is the program name) and returns the
// exit code. It is the whole program; cmd/drover only wires the process.
func Main(ctx context.Context, args []string, stdio IO) ExitCode {
	out := &countingWriter{w: stdio.Out}
	stdio.Out = out
	a := newApp(stdio)
	interspersed, err := intersperse(a, args)
	if err == nil {
		err = a.RunContext(ctx, interspersed)
	}
	// A --json run prints one document on stdout: the command's own (those
	// of deploy, destroy and secrets check carry their error), else the
	// error document.
	return report(err, stdio, wantsJSON(args) && out.n == 0)
}

// report prints err the way its kind deserves, as an error document on
// stdout too when jsonDoc, and picks the exit code.
func report(err error, stdio IO, jsonDoc bool) ExitCode {
	if err == nil {
		return ExitOK
	}
	var exit exitError
	if errors.As(err, &exit) {
		return exit.code
	}
	code, kind := classify(err)
	if jsonDoc {
		_ = writeJSON(stdio.Out, errorDocument(err))
	}
	var usage usageError
	switch {
	case errors.As(err, &usage):
		cmd := usage.cmd
		if cmd == "" {
			cmd = "drover"
		}
		fmt.Fprintf(stdio.Err, "drover: %s\nRun '%s --help' for usage.\n", err, cmd)
	case kind == kindInterrupted:
		fmt.Fprintln(stdio.Err, "drover: interrupted")
	default:
		// Invalid specs: the command printed the diagnostics; only the
		// summary is left.
		fmt.Fprintf(stdio.Err, "drover: %s\n", err)
	}
	return code
}

const appDescription = `drover turns one small HCL app spec per service into everything the service
needs on Nomad, Consul and Vault: a Nomad job with Docker tasks, Consul service
registration with health checks and a Connect sidecar, default-deny intentions
derived from declared upstreams, ingress and terminating gateways for what is
public and what is external, Vault policies and roles for secrets injected as
environment variables at run time, and Nomad Autoscaler scaling policies.

Start with:
  drover init api --template service   write a starter spec
  drover validate jobs/                check every spec, offline
  drover render jobs/ -o out/          write every artifact, offline
  drover graph jobs/                   see who is public and who calls whom
  drover plan jobs/                    diff the specs against the clusters
  drover deploy jobs/                  apply them and watch the deployments

Connection settings come from NOMAD_ADDR, CONSUL_HTTP_ADDR, VAULT_ADDR and the
other variables HashiCorp's CLIs read (tokens, namespaces, TLS), or the flags
below. Tokens never appear in output or logs.

Exit codes: 0 success; 1 invalid specs or input, a failed deployment, or any
other failure; 2 (plan only) changes pending; 64 command-line usage error;
130 interrupted.`

func newApp(stdio IO) *ucli.App {
	a := &ucli.App{
		Name:                      "drover",
		Usage:                     "run microservices on Nomad, Consul and Vault from one HCL spec each",
		Description:               appDescription,
		Version:                   version.Version,
		HideVersion:               true, // --version is ours, below: urfave's prints another format
		Reader:                    stdio.In,
		Writer:                    stdio.Out,
		ErrWriter:                 stdio.Err,
		DisableSliceFlagSeparator: true, // -var hosts=a,b is one value
		Suggest:                   true,
		EnableBashCompletion:      true,
		// Errors are returned to Main, which picks the exit code; urfave
		// must never call os.Exit itself.
		ExitErrHandler: func(*ucli.Context, error) {},
		OnUsageError: func(_ *ucli.Context, err error, _ bool) error {
			return usageError{err: flagSpelling(err), cmd: "drover"}
		},
		// Reached only when the first argument names no command.
		Action: func(c *ucli.Context) error {
			switch {
			case c.Bool("version"):
				return printVersion(stdio, false)
			case c.NArg() == 0:
				return ucli.ShowAppHelp(c)
			}
			return usagef("unknown command %q%s", c.Args().First(), suggestCommand(c.App.Commands, c.Args().First()))
		},
		Flags: append(globalFlags(), &ucli.BoolFlag{Name: "version", Usage: "print drover's version, as 'drover version' does"}),
		Commands: []*ucli.Command{
			initCommand(stdio),
			validateCommand(stdio),
			renderCommand(stdio),
			graphCommand(stdio),
			importCommand(stdio),
			planCommand(stdio),
			deployCommand(stdio),
			statusCommand(stdio),
			scaleCommand(stdio),
			destroyCommand(stdio),
			secretsCommand(stdio),
			autoscaleCommand(stdio),
			devCommand(stdio),
			versionCommand(stdio),
		},
	}
	hideBoolDefaults(a.Flags)
	fixNames(a.Flags)
	for _, c := range a.Commands {
		prepare(c, a.Name)
	}
	return a
}

// suggestCommand returns ` (did you mean "x"?)` for a close command name.
func suggestCommand(cmds []*ucli.Command, name string) string {
	for _, c := range cmds {
		if c.Name == "help" {
			continue
		}
		for _, n := range c.Names() {
			if levenshtein.Distance(n, name, nil) <= 2 {
				return fmt.Sprintf(" (did you mean %q?)", n)
			}
		}
	}
	return ""
}

// prepare finishes the command c under parent ("drover", "drover dev") and
// its subcommands: flag-parsing errors and unknown subcommands become usage
// errors, every usage error names the command whose help to read, and bool
// flags stop printing "(default: false)".
func prepare(c *ucli.Command, parent string) {
	path := parent + " " + c.Name
	c.OnUsageError = func(_ *ucli.Context, err error, _ bool) error {
		return usageError{err: flagSpelling(err), cmd: path}
	}
	hideBoolDefaults(c.Flags)
	fixNames(c.Flags)
	action := c.Action
	if len(c.Subcommands) > 0 {
		// Reached only when the first argument names no subcommand.
		run := action
		action = func(ctx *ucli.Context) error {
			switch {
			case ctx.NArg() > 0:
				return usagef("unknown command %q for '%s'%s", ctx.Args().First(), path, suggestCommand(c.Subcommands, ctx.Args().First()))
			case run == nil:
				return ucli.ShowSubcommandHelp(ctx)
			}
			return run(ctx)
		}
	}
	c.Action = func(ctx *ucli.Context) error {
		err := action(ctx)
		if u := (usageError{}); errors.As(err, &u) && u.cmd == "" {
			return usageError{err: err, cmd: path}
		}
		return err
	}
	for _, s := range c.Subcommands {
		prepare(s, path)
	}
}

// hideBoolDefaults keeps help from printing "(default: false)" after every
// switch.
func hideBoolDefaults(flags []ucli.Flag) {
	for _, f := range flags {
		if b, ok := f.(*ucli.BoolFlag); ok {
			b.DisableDefaultText = true
		}
	}
}

// singleDash matches a long flag name as Go's flag package spells it in
// its errors ("flag provided but not defined: -nomad-addr").
var singleDash = lazyregexp.New(`(^|[ :])-([[:alnum:]][[:alnum:]_-]+)`)

// flagSpelling rewrites a flag-parsing error to name long flags as people
// type them: --nomad-addr, not -nomad-addr.
func flagSpelling(err error) error {
	return errors.New(singleDash().ReplaceAllString(err.Error(), "$1--$2"))
}

// DefaultIO is the process's real stdio and environment.
func DefaultIO() IO {
	return IO{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		Getenv: os.Getenv, Environ: os.Environ,
		IsTerminal:   isTerminal(os.Stderr),
		InIsTerminal: isTerminal(os.Stdin),
	}
}

func isTerminal(f *os.File) bool {
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"github.com/agext/levenshtein"
	"io"
	"os"

	ucli "github.com/urfave/cli/v2"

	"github.com/drover-io/drover/pkg/app"
	"github.com/drover-io/drover/pkg/version"
)

// ExitCode is drover's process exit status. The values are part of its CI
// contract and never change meaning.
type ExitCode int

// Exit codes.
const (
	ExitOK ExitCode = 0
	// ExitError: invalid specs or input, or an operation that failed.
	ExitError ExitCode = 1
	// ExitUsage: a wrong command line (unknown flag, missing argument).
	ExitUsage ExitCode = 2
	// ExitChanges: `drover plan` found changes (like terraform plan
	// -detailed-exitcode).
	ExitChanges ExitCode = 2
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
}

// usageError marks a command-line mistake (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// exitError carries a chosen exit code for an error already reported.
type exitError struct {
	code ExitCode
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

// Main runs drover with args (args[0] is the program name) and returns the
// exit code. It is the whole program; cmd/drover only wires the process.
func Main(ctx context.Context, args []string, stdio IO) ExitCode {
	a := newApp(stdio)
	err := a.RunContext(ctx, intersperse(a, args))
	return report(err, stdio)
}

// report prints err the way its kind deserves and picks the exit code.
func report(err error, stdio IO) ExitCode {
	if err == nil {
		return ExitOK
	}
	var input *app.InputError
	var usage usageError
	var exit exitError
	switch {
	case errors.As(err, &exit):
		return exit.code
	case errors.As(err, &input):
		// The command printed the diagnostics; only the summary is left.
		fmt.Fprintf(stdio.Err, "drover: %s\n", input.Error())
		return ExitError
	case errors.As(err, &usage):
		fmt.Fprintf(stdio.Err, "drover: %s\nRun 'drover --help' for usage.\n", usage.Error())
		return ExitUsage
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stdio.Err, "drover: interrupted")
		return ExitInterrupted
	default:
		fmt.Fprintf(stdio.Err, "drover: %s\n", err)
		return ExitError
	}
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

Exit codes: 0 success, 1 invalid input or failure, 2 command-line usage error
(for plan: changes pending), 130 interrupted.`

func newApp(stdio IO) *ucli.App {
	a := &ucli.App{
		Name:                      "drover",
		Usage:                     "run microservices on Nomad, Consul and Vault from one HCL spec each",
		Description:               appDescription,
		Version:                   version.Version,
		HideVersion:               true,
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
			return usageError{err}
		},
		// Reached only when the first argument names no command.
		Action: func(c *ucli.Context) error {
			if c.NArg() == 0 {
				return ucli.ShowAppHelp(c)
			}
			return usagef("unknown command %q%s", c.Args().First(), suggestCommand(c.App, c.Args().First()))
		},
		Flags: globalFlags(),
		Commands: []*ucli.Command{
			initCommand(stdio),
			validateCommand(stdio),
			renderCommand(stdio),
			graphCommand(stdio),
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
	for _, c := range a.Commands {
		markUsageErrors(c)
	}
	return a
}

// suggestCommand returns ` (did you mean "x"?)` for a close command name.
func suggestCommand(a *ucli.App, name string) string {
	for _, c := range a.Commands {
		for _, n := range c.Names() {
			if levenshtein.Distance(n, name, nil) <= 2 {
				return fmt.Sprintf(" (did you mean %q?)", n)
			}
		}
	}
	return ""
}

// markUsageErrors makes flag-parsing errors of c and its subcommands usage
// errors (exit 2) instead of urfave's default.
func markUsageErrors(c *ucli.Command) {
	c.OnUsageError = func(_ *ucli.Context, err error, _ bool) error { return usageError{err} }
	for _, s := range c.Subcommands {
		markUsageErrors(s)
	}
}

// DefaultIO is the process's real stdio and environment.
func DefaultIO() IO {
	return IO{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		Getenv: os.Getenv, Environ: os.Environ,
		IsTerminal: isTerminal(os.Stderr),
	}
}

func isTerminal(f *os.File) bool {
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

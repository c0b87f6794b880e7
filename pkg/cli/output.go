package cli

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/drover-io/drover/pkg/app"
	"github.com/drover-io/drover/pkg/diag"
)

// JSON output.
//
// Every command that prints a result takes --json, and then prints exactly
// one JSON document on stdout (diagnostics and progress still go to stderr,
// as text). The documents, all objects:
//
//	validate             validateOutput
//	render -o DIR        renderOutput (without -o: the bundle document, as --format json)
//	graph                app.Graph: nodes and edges
//	plan                 app.Plan: project, environment, changes, summary
//	deploy               deployOutput
//	status               app.StatusResult: apps
//	scale                app.ScaleResult
//	destroy              destroyOutput
//	secrets check        secretsOutput
//	autoscale explain    app.Explanation
//	autoscale lint       lintOutput
//	autoscale simulate   app.SimulateResult
//	dev status           devStatusOutput
//	version              versionOutput
//
// A command that fails prints errorOutput instead:
//
//	{"error": {"message": "...", "kind": "invalid_specs"}, "diagnostics": [...]}
//
// except deploy, destroy and secrets check, whose documents say how far
// they got and carry the same "error" member. The exit code is the one the
// command has without --json.

// Kinds of error, the "kind" of an error document.
const (
	kindUsage            = "usage"             // a wrong command line; exit 64
	kindInvalidSpecs     = "invalid_specs"     // diagnostics say what; exit 1
	kindDeploymentFailed = "deployment_failed" // exit 1
	kindSecretsMissing   = "secrets_missing"   // exit 1
	kindInterrupted      = "interrupted"       // exit 130
	kindError            = "error"             // anything else; exit 1
)

// jsonError is the "error" member of a failed command's document.
type jsonError struct {
	Message string `json:"message"`
	// Kind is one of usage, invalid_specs, deployment_failed,
	// secrets_missing, interrupted or error.
	Kind string `json:"kind"`
}

// errorOutput is the document of a failed command.
type errorOutput struct {
	Error *jsonError `json:"error"`
	// Diagnostics are there when Kind is invalid_specs.
	Diagnostics []jsonDiagnostic `json:"diagnostics,omitempty"`
}

// jsonDiagnostic is one problem found in a spec; File, Line and Column
// (from 1) are its start, when it has a place.
type jsonDiagnostic struct {
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
	Severity string `json:"severity"` // error or warning
	Summary  string `json:"summary"`
	Detail   string `json:"detail,omitempty"`
}

// classify picks the exit code and the error kind of err.
func classify(err error) (ExitCode, string) {
	var usage usageError
	var input *app.InputError
	var failed *app.DeploymentError
	switch {
	case errors.As(err, &usage):
		return ExitUsage, kindUsage
	case errors.Is(err, context.Canceled):
		return ExitInterrupted, kindInterrupted
	case errors.As(err, &input):
		return ExitError, kindInvalidSpecs
	case errors.As(err, &failed):
		return ExitError, kindDeploymentFailed
	case errors.Is(err, app.ErrSecretsMissing):
		return ExitError, kindSecretsMissing
	}
	return ExitError, kindError
}

// newJSONError is the error member for err; nil when err is.
func newJSONError(err error) *jsonError {
	if err == nil {
		return nil
	}
	_, kind := classify(err)
	return &jsonError{Message: err.Error(), Kind: kind}
}

// errorDocument is the document a failed --json command prints.
func errorDocument(err error) errorOutput {
	out := errorOutput{Error: newJSONError(err)}
	var input *app.InputError
	if errors.As(err, &input) {
		out.Diagnostics = jsonDiagnostics(input.Diagnostics)
	}
	return out
}

// jsonDiagnostics converts diagnostics, sorted, never nil.
func jsonDiagnostics(d app.Diagnostics) []jsonDiagnostic {
	out := []jsonDiagnostic{}
	for _, j := range diag.ToJSON(d.Diags) {
		one := jsonDiagnostic{Severity: j.Severity, Summary: j.Summary, Detail: j.Detail}
		if r := j.Range; r != nil {
			one.File, one.Line, one.Column = r.Filename, r.Start.Line, r.Start.Column
		}
		out = append(out, one)
	}
	return out
}

// writeJSON writes v as one indented JSON document: the one encoder of
// every --json result and error.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// printResult prints a command's result: v as JSON with --json, else
// through text.
func printResult(c *ucli.Context, stdio IO, v any, text func() error) error {
	if c.Bool(flagJSON) {
		return writeJSON(stdio.Out, v)
	}
	return text()
}

// wantsJSON reports whether the command line asks for --json, read from
// the arguments so that it holds for errors urfave finds while parsing.
func wantsJSON(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != flagJSON {
			continue
		}
		on, err := strconv.ParseBool(value)
		return !hasValue || err == nil && on
	}
	return false
}

// countingWriter counts what is written through it.
type countingWriter struct {
	w io.Writer
	n int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += n
	return n, err
}

// printDiagnostics writes diagnostics as text to stderr, coloured on a
// terminal unless NO_COLOR is set.
func printDiagnostics(stdio IO, d app.Diagnostics) {
	if len(d.Diags) == 0 {
		return
	}
	color := stdio.IsTerminal && stdio.Getenv("NO_COLOR") == ""
	_ = diag.Writer{Files: d.Files, Color: color}.Write(stdio.Err, d.Diags)
}

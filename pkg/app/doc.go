// Package app holds drover's use cases (validate, render, graph, init, and
// the ones that talk to clusters) and their wiring. Each use case is a
// function of an options struct that writes only to the writers it is
// given and returns an error: a *InputError when the user's specs are
// wrong, with the diagnostics to print.
//
// It does not parse flags or choose exit codes (pkg/cli does) and it never
// calls os.Exit.
package app

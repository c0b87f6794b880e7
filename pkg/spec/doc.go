// Package spec owns drover's app-spec language: the HCL schema of app,
// external and project files, variables and named environments, decoding into
// a typed model that keeps every declaration range, and the semantic checks
// that run before anything is rendered.
//
// Entry point: Load reads a set of spec files (a project) and returns a *Set
// with hcl.Diagnostics; every problem found is reported, each with the
// tightest source range, never just the first. FindRoot finds the project
// (the nearest drover.hcl) for commands given no path.
//
// Discovery (discover.go) reads the *.hcl spec files below the requested
// paths but skips hidden directories, testdata, node_modules and render
// output (a directory holding drover's manifest.json); it follows symlinked
// directories, warning about loops. A file that is not UTF-8 text gets one
// diagnostic and is not parsed; an empty one gets a warning.
//
// What spec does not do: it knows nothing of Nomad, Consul or Vault types
// (pkg/render turns a Set into those) and it never touches the network.
// The only drover package it imports besides pkg/diag is pkg/scaling, so that
// the Autoscaler policy language (strategy keys and their types) is defined
// once, by the code that runs it.
package spec

// Package cli is drover's command tree: urfave/cli commands that turn flags
// and arguments into pkg/app options, call one use case, and print results
// to stdout and diagnostics to stderr. It owns exit codes (see ExitCode),
// the --json documents every result-printing command prints (see
// output.go), and is the only place diagnostics are printed.
//
// It never talks to Nomad, Consul or Vault itself: pkg/app does.
package cli

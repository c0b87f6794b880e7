// Package jobspec reads Nomad's job file vocabulary (the block and
// attribute names of a `nomad job run` file) into nomad/api's types, and
// merges what it read onto a job drover rendered. The vocabulary is the
// `hcl` struct tags of nomad/api itself, so it is exactly Nomad's, with
// hcl's diagnostics (unknown names are errors at their range, with
// suggestions), and it grows with the API client rather than with a copy.
//
// It is how a spec's `nomad { group { } task "x" { } }` escape hatch is
// decoded, and how `drover import` writes what has no typed block. It does
// not import Nomad's jobspec2 parser (which needs a forked hcl) and knows
// nothing of drover's spec.
package jobspec

// Package scaling owns the scaling-policy model and its semantics: the Nomad
// Autoscaler's policy format (policies, checks, strategies), the four
// built-in strategies with exactly the Autoscaler's arithmetic, the rules
// that combine several checks into one decision, and the lint rules that
// find policies that can never act.
//
// It is the policy language's single source of truth: ParseNomadPolicy is
// the one parser, for policies from Nomad's API, from policy files and from
// app specs alike (pkg/spec builds Nomad's form and calls it). It returns
// typed Problems with key paths, each at a level: a warning, a check that
// cannot run (handled per evaluation by its on_error), or a policy that
// cannot run (logged once, counted and shown by lint and explain, never
// dropped silently).
//
// Policies run under one of two semantics (ApplySemantics):
// "autoscaler" follows the Nomad Autoscaler exactly, configuration and
// errors included (every difference is a case in semantics_test.go, citing
// the Autoscaler's source); "drover" keeps what is better: strict strategy
// values, no scaling during rollouts, stabilization windows and rate
// limits, and a failure that never scales down.
//
// It imports only the standard library; metric sources and the Nomad target
// are reached through small interfaces declared where they are used.
package scaling

// Package scaling owns the scaling-policy model and its semantics: the Nomad
// Autoscaler's policy format (policies, checks, strategies), the four
// built-in strategies with exactly the Autoscaler's arithmetic, the rules
// that combine several checks into one decision, and the lint rules that
// find policies that can never act.
//
// It is the policy language's single source of truth: pkg/spec asks it which
// strategy keys exist and whether a value fits, and `drover autoscale` runs
// the same strategies.
//
// It imports only the standard library; metric sources and the Nomad target
// are reached through small interfaces declared where they are used.
package scaling

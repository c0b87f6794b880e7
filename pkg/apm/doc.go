// Package apm holds the metric sources `drover autoscale` queries, with
// the Nomad Autoscaler's semantics: Prometheus (a query must return exactly
// one series; NaN is an error) and nomad-apm (an aggregate of the resource
// usage of a task group's running allocations).
//
// Each implements scaling.MetricSource; the reconciler knows nothing else
// about them.
package apm

// Package autoscale is the runtime of `drover autoscale`: the Nomad scaling
// target (with a status cache kept fresh by Nomad's event stream, or by
// blocking queries where the stream is not available), the Nomad and file
// policy sources, the reconciler's Prometheus metrics and the wiring of
// pkg/scaling's manager, handlers and evaluator with an HA lock.
//
// It reaches Nomad through small interfaces declared where they are used
// (NomadAPI, PolicyAPI, Locker), with an injectable clock, retry policy and
// lock TTL, so that everything runs against hand-written fakes in tests.
// NewNomad adapts pkg/nomadx and the official client to them.
//
// What it does not own: the policy language and its semantics (pkg/scaling),
// metric sources (pkg/apm), option parsing (pkg/cli, pkg/app).
package autoscale

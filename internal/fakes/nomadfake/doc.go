// Package nomadfake is an in-memory Nomad agent behind an httptest.Server,
// for testing code that talks to Nomad through the official
// github.com/hashicorp/nomad/api client when no real agent can run.
//
// It serves the endpoints drover's adapters call (pkg/nomadx, and through
// it pkg/app and pkg/apm), and follows the real agent's HTTP contract
// for them (command/agent/*_endpoint.go and nomad/*_endpoint.go): status
// codes, text/plain error bodies with Nomad's own messages, the
// X-Nomad-Index, X-Nomad-KnownLeader and X-Nomad-LastContact headers, one
// raft-like index that every write advances, per-table indexes for
// blocking queries (?index=&wait=, capped at five minutes, without
// Nomad's jitter), EnforceIndex and JobModifyIndex checks, job versions
// and submissions, evaluations, deployments, scaling policies and events,
// namespaces, and locks on variables. The contract tests
// (contract_test.go) run against the fake and, with the integration build
// tag, against a real agent.
//
//	/v1/regions                        GET
//	/v1/jobs                           GET (?prefix, ?meta, ?filter), PUT register
//	/v1/job/:id                        GET, DELETE (?purge)
//	/v1/job/:id/{allocations,deployment,plan,scale}
//	/v1/evaluation/:id                 GET
//	/v1/deployment/:id                 GET
//	/v1/deployment/{allocations,promote}/:id
//	/v1/scaling/policies, /v1/scaling/policy/:id
//	/v1/var/:path                      PUT ?lock-acquire, ?lock-renew, ?lock-release; DELETE
//	/v1/namespaces, /v1/namespace[/:name]
//
// The scheduler is not simulated. A register stores the job, creates a
// "complete" evaluation and, for a service job with an update block and a
// non-zero count, a running deployment that tests drive with SetDeployment,
// CompleteDeployment and FailDeployment (or that completes on its own when
// AutoSucceed is set). Allocations exist only when a test seeds them with
// SetAllocations. A job that is not stopped reports status "running" (Nomad
// derives it from allocations and evaluations). Job validation covers only
// what drover relies on (scaling policy bounds and job type changes); plans
// produce a structural diff of the submitted and stored jobs and an
// approximation of the scheduler's annotations.
//
// Fault injection (FailNext, Delay, Hangup) and the request log (Requests,
// Writes) let tests check retries, timeouts and that a dry run wrote
// nothing.
//
// What it does not do: ACLs (every request is treated as a management
// token), multiple regions, pagination, job summaries in the job list,
// filters other than Meta["key"] == "value", reading or writing variables
// other than through locks, and any endpoint not listed above: those answer
// 404, or 501 where the path is served for other requests, so that a test
// notices.
package nomadfake

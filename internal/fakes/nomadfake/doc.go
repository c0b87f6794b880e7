// Package nomadfake is an in-memory Nomad agent behind an httptest.Server,
// for testing code that talks to Nomad through the official
// github.com/hashicorp/nomad/api client when no real agent can run.
//
// It follows the HTTP contract of the real agent (command/agent/*_endpoint.go
// and nomad/*_endpoint.go) for the endpoints drover uses: status codes,
// text/plain error bodies with Nomad's own messages, the X-Nomad-Index,
// X-Nomad-KnownLeader and X-Nomad-LastContact headers, one raft-like index
// that every write advances, per-table indexes for blocking queries
// (?index=&wait=, capped at five minutes, without Nomad's jitter),
// EnforceIndex and JobModifyIndex checks, job versions, submissions,
// evaluations, deployments, scaling policies and events, and variables with
// locks.
//
// The scheduler is not simulated. A register stores the job, creates a
// "complete" evaluation and, for a service job with an update block and a
// non-zero count, a running deployment that tests drive with SetDeployment,
// CompleteDeployment and FailDeployment (or that completes on its own when
// AutoSucceed is set). Allocations exist only when a test seeds them with
// SetAllocations. Job validation covers only what drover relies on (scaling
// policy bounds and job type changes); plans produce a structural diff of
// the submitted and stored jobs, not the scheduler's annotations.
//
// Fault injection (FailNext, Delay, Hangup) and the request log (Requests)
// let tests check retries, timeouts and that a dry run wrote nothing.
//
// What it does not do: ACLs (every request is treated as a management
// token), multiple regions, pagination, or any endpoint not listed in the
// routes in server.go; those answer 404 so that a test notices.
package nomadfake

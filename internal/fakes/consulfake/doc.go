// Package consulfake is an in-memory Consul agent behind an httptest.Server,
// for testing code that talks to Consul through the official
// github.com/hashicorp/consul/api client when no real agent can run.
//
// It follows the HTTP contract of the real agent (agent/*_endpoint.go and
// agent/consul/*) for what drover uses: config entries with check-and-set
// writes and deletes, Consul's normalization (lower-cased protocols,
// intention sources given a computed Precedence and Type "consul" and
// ordered by precedence) and its validation, including the service-graph
// checks that reject an ingress listener whose services speak another
// protocol, a router or splitter on a non-HTTP chain, and L7 intentions on
// a TCP service - both on write and on delete. The catalog (register,
// deregister, nodes, node, services, service) and the health of services
// are kept too. Responses carry X-Consul-Index (never 0),
// X-Consul-KnownLeader, X-Consul-LastContact and
// X-Consul-Effective-Consistency; list, read and health endpoints answer
// blocking queries (?index=&wait=, at most ten minutes) on the index of
// the table they read. Errors are plain text with Consul's status codes
// and messages.
//
// Fault injection (FailNext, Delay, Hangup) and the request log (Requests,
// Writes) let tests check retries, timeouts and that a dry run wrote
// nothing.
//
// What it does not do: ACLs, namespaces and partitions (Enterprise),
// multiple datacenters, the agent's own service and check endpoints, KV,
// sessions, or the parts of discovery-chain compilation that do not decide
// a chain's protocol (subsets, failover targets, peering).
package consulfake

// Package consulfake is an in-memory Consul agent behind an httptest.Server,
// for testing code that talks to Consul through the official
// github.com/hashicorp/consul/api client when no real agent can run.
//
// It serves the endpoints drover's adapter calls (pkg/consulx) and follows
// the real agent's HTTP contract for them (agent/*_endpoint.go and
// agent/consul/*): config entries with check-and-set writes and deletes,
// Consul's normalization (lower-cased protocols, upper-cased HTTP methods,
// intention sources given a computed Precedence and Type "consul" and
// ordered by precedence) and its validation, including the service-graph
// checks that reject an ingress listener whose services speak another
// protocol, a router on a non-HTTP chain, and L7 intentions on a TCP
// service - both on write and on delete; catalog nodes and their services;
// and the health of services. Responses carry X-Consul-Index (never 0),
// X-Consul-KnownLeader, X-Consul-LastContact and
// X-Consul-Effective-Consistency; read endpoints answer blocking queries
// (?index=&wait=, at most ten minutes) on the index of the table they
// read. Errors are plain text with Consul's status codes and messages. The
// contract tests (contract_test.go) run against the fake and, with the
// integration build tag, against a real agent.
//
//	/v1/catalog/datacenters            GET
//	/v1/config                         PUT (?cas)
//	/v1/config/:kind[/:name]           GET, DELETE (?cas)
//	/v1/catalog/register, /v1/catalog/deregister   PUT
//	/v1/catalog/node/:name, /v1/catalog/nodes (?node-meta)   GET
//	/v1/health/service/:name           GET
//
// Only the config entry kinds drover writes are modelled: service-defaults,
// service-router, service-intentions, ingress-gateway and
// terminating-gateway; a write of another kind answers 501. Service
// health comes from SetHealth, or else from the catalog with no checks.
//
// Fault injection (FailNext, Delay, Hangup) and the request log (Requests,
// Writes) let tests check retries, timeouts and that a dry run wrote
// nothing.
//
// What it does not do: ACLs, namespaces and partitions (Enterprise),
// multiple datacenters, splitters, resolvers and proxy-defaults, checks in
// the catalog, deregistering less than a whole node, the ?passing, ?tag
// and ?node-meta filters of health, the agent's own endpoints, KV and
// sessions: unserved endpoints answer 404, unmodelled requests 501.
package consulfake

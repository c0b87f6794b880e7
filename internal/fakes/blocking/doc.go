// Package blocking is the index machinery that the Nomad and Consul fakes
// share: a raft index that every write advances, per-table indexes (what
// X-Nomad-Index and X-Consul-Index report), and blocking queries that wait
// until the index they watch passes the client's, as the real agents'
// blockingRPC and blockingQuery do.
package blocking

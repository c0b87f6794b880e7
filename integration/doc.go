// Package integration holds drover's end-to-end tests against real Nomad,
// Consul and Vault agents. They are behind the "integration" build tag
// (make test-integration) and skip, with a message saying what is missing,
// when NOMAD_ADDR, CONSUL_HTTP_ADDR or VAULT_ADDR does not answer, so they
// never fail for lack of agents.
//
// ../shared/testbed (or `drover dev`) starts a suitable set of agents.
package integration

// Package config owns how drover reaches Nomad, Consul and Vault: address,
// token, namespace and TLS settings for each, layered the way HashiCorp's
// own CLIs do it: defaults < config file < environment (NOMAD_*,
// CONSUL_HTTP_*, VAULT_*) < command-line flags.
//
// Tokens are of type Secret, which never prints its value: not through
// fmt, not through JSON, not through slog.
//
// It does not build API clients (the adapters in pkg/nomadx, pkg/consulx
// and pkg/vaultx do, from a Config) and it reads the environment only
// through the getenv function it is given, HOME included: the process's
// own environment never leaks into a test.
package config

// Package vaultx is drover's thin adapter over the official Vault API
// client (it works with OpenBao too): ACL policies, roles of the JWT auth
// method that Nomad workload identities use, and existence checks of KV v2
// secrets. Every call takes a context, transient failures are retried, and
// errors are *apierr.Error.
//
// Secret values: SecretKeys reads a secret to learn which keys it has and
// returns only the key names; no value leaves this package.
package vaultx

// Package vaultfake is an in-memory Vault (or OpenBao) server behind an
// httptest.Server, for testing code that talks to Vault through
// github.com/hashicorp/vault/api when no real server can run. It speaks
// Vault's JSON by hand and imports no Vault module.
//
// It follows Vault's HTTP contract for what drover uses: the X-Vault-Token
// check (403 {"errors":["permission denied"]} for a missing or wrong
// token), LIST as the LIST method or GET with ?list=true, the secret
// envelope around data, 204 for writes that return nothing, 404 with
// {"errors":[]} for what is not there, 400 with the handler's message for
// a bad request, and the router's "no handler for route" 404 for a path
// no mount serves. It keeps ACL policies (sys/policies/acl), auth methods
// and secrets engines (sys/auth, sys/mounts, with their top-level copy of
// the data), roles of JWT auth methods (auth/<mount>/role) with the JWT
// plugin's field conversions, defaults and validation, and KV secrets
// engines of version 1 and 2.
//
// Fault injection (FailNext, Delay, Hangup) and the request log (Requests,
// Writes) let tests check retries, timeouts and that a dry run wrote
// nothing.
//
// What it does not do: token issuing or lookup, policies enforced on
// requests (one token is allowed everything), JWT login, namespaces,
// leases, or parsing policy text (any non-empty text is stored).
package vaultfake

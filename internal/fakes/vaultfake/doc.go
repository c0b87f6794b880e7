// Package vaultfake is an in-memory Vault (or OpenBao) server behind an
// httptest.Server, for testing code that talks to Vault through
// github.com/hashicorp/vault/api when no real server can run. It speaks
// Vault's JSON by hand and imports no Vault module.
//
// It serves what drover's adapter calls (pkg/vaultx) and follows Vault's
// HTTP contract for it: the X-Vault-Token check (403
// {"errors":["permission denied"]} for a missing or wrong token), LIST as
// the LIST method or GET with ?list=true, the secret envelope around data,
// 204 for writes that return nothing, 404 with {"errors":[]} for what is
// not there, 400 with the handler's message for a bad request, and the
// router's "no handler for route" 404 for a path no mount serves. The
// contract tests (contract_test.go) run against the fake and, with the
// integration build tag, against a real server.
//
//	sys/health                         GET, HEAD (no token needed)
//	sys/policies/acl[/:name]           LIST, GET, PUT, DELETE
//	sys/mounts, sys/auth               GET (with the top-level copy of the data)
//	auth/<jwt mount>/role[/:name]      LIST, GET, PUT, DELETE
//	<kv v2 mount>/data/<path>          GET (latest version), DELETE
//	<kv v1 mount>/<path>               GET
//
// JWT roles model the fields drover writes (role_type "jwt", bound
// audiences and claims, claim mappings, the user claim, token type,
// period, TTLs and policies) with the plugin's conversions, defaults and
// validation; a role with any other field, or of role_type oidc, answers
// 501. Mounts are set up with AddMount and RemoveMount, secrets with
// PutSecret: drover enables no mounts and writes no secrets.
//
// Fault injection (FailNext, Delay, Hangup) and the request log (Requests,
// Writes) let tests check retries, timeouts and that a dry run wrote
// nothing.
//
// What it does not do: token issuing or lookup, policies enforced on
// requests (one token is allowed everything), JWT login or config,
// namespaces, leases, KV metadata and versions, or parsing policy text
// (any non-empty text is stored); other sys/ paths and unmodelled requests
// answer 501.
package vaultfake

// Package render turns a validated spec.Set into everything the platform
// needs: a Nomad job per app, the ingress and terminating gateway jobs, the
// Consul config entries (service-defaults, default-deny service-intentions
// derived from upstreams, ingress and terminating gateways, routers) and the
// catalog registration of each external, and a least-privilege Vault policy
// plus a JWT role per app that reads secrets.
//
// Render is pure: no network, no clock, no randomness. The same Set gives a
// byte-identical Bundle, with every list in a stable order, so rendered
// output can be golden-tested, diffed and committed.
//
// Every artifact carries ownership metadata (project, app, spec file,
// drover version) so that later commands touch only what drover owns.
//
// What render does not do: read or write files (pkg/app does) or talk to
// Nomad, Consul or Vault (pkg/nomadx, pkg/consulx, pkg/vaultx do).
package render

// Package devenv owns `drover dev`: a local, single-machine Nomad + Consul +
// Vault (or OpenBao) stack started from the binaries on PATH, in dev mode,
// bound to 127.0.0.1 and wired together the way drover expects a cluster to
// be:
//
//   - Vault/OpenBao `server -dev` with a generated root token (kept in
//     StateDir/vault-token, mode 0600), KV v2 at secret/, and the JWT auth
//     method, role and policy that `nomad setup vault` creates for Nomad
//     workload identity (auth/jwt-nomad, role and policy nomad-workloads);
//   - Consul `agent -dev` with Connect and plaintext gRPC for Nomad;
//   - Nomad `agent -dev` with raw_exec (and docker when asked for and dockerd
//     answers), the CNI plugins found on the machine, cloud fingerprinters
//     denied, and consul{} and vault{} blocks pointing at the two above.
//
// Every port is configurable (Ports) so that a dev stack can run beside
// another one, and every file lives in one state directory:
//
//	StateDir/
//	  devenv.json          ports and binaries of the last Up (read by Status, Down)
//	  vault-token          the dev root token (0600)
//	  consul.hcl nomad.hcl generated agent configs
//	  <agent>.log          each agent's stdout and stderr (0600: Vault prints its token)
//	  <agent>.pid          pid of each agent that Up started
//	  tmp/<start>/         the dev Nomad's TMPDIR: client data, allocations, keyring
//	  lock                 serialises Up and Down on this directory
//
// Up drives each agent through these states; an agent that is already
// running from the same StateDir (its pid file names a live process whose
// command line is that agent's binary) skips straight to the health wait:
//
//	         pid file names our live agent
//	absent ─────────────────────────────────────┐
//	  │ ports free (else *PortInUseError)       │
//	  ▼                                         ▼
//	started ──(health checks pass)──────────▶ healthy ──▶ configured (Vault, once Nomad is healthy)
//	  │ process exits, timeout or ctx done
//	  ▼
//	killed, pid file removed, *AgentError naming the agent and its log
//
// Down (Stop, with options) stops agents by pid file only, Nomad first (it
// stops its allocations; Down first lets it finish tearing down those it
// was already stopping, such as a just-purged job's), then Consul, then
// Vault: SIGINT, then SIGKILL after a grace period. It signals a pid only
// after checking that its command line still names the agent binary
// recorded by Up, so a reused pid is never signalled.
//
// The package does not print (progress goes to the injected *slog.Logger),
// does not build or install agents, does not touch agents it did not start,
// and does not persist agent data: dev agents keep their state in memory,
// so a restart loses jobs, secrets and config entries. It does not parse
// flags either; pkg/cli maps `drover dev` flags onto Options.
package devenv

#!/usr/bin/env bash
# Enforces drover's package layering (docs/architecture.md) with `go list`,
# the way the Nomad Autoscaler's check-sdk target guards its sdk/ package.
set -euo pipefail
cd "$(dirname "$0")/.."
mod=github.com/drover-io/drover
fail=0

# direct imports of a package, one per line
imports() { go list -f '{{join .Imports "\n"}}' "$1"; }
# every package a package depends on, transitively
deps() { go list -deps "$1"; }

violation() { echo "check-deps: $*" >&2; fail=1; }

# 1. Never the Nomad server module or its jobspec2 (BUSL, and a forked hcl).
if go list -deps ./... | grep -E '^github.com/hashicorp/nomad(/|$)' | grep -vE '^github.com/hashicorp/nomad/api(/|$)' >/tmp/drover-check-deps.$$; then
  violation "imports of the Nomad server module: $(tr '\n' ' ' </tmp/drover-check-deps.$$)"
fi
rm -f /tmp/drover-check-deps.$$

# 2. cmd/drover imports only pkg/cli (and the standard library).
for p in $(imports ./cmd/drover | grep '\.' || true); do
  [[ $p == $mod/pkg/cli ]] || violation "cmd/drover imports $p; it may import only pkg/cli"
done

# 3. pkg/cli never imports an API client; only pkg/cli imports urfave/cli.
for p in $(imports ./pkg/cli); do
  [[ $p == github.com/hashicorp/*/api ]] && violation "pkg/cli imports $p; API clients belong behind pkg/app"
done
# (bench/foundation links the foundation libraries to measure their start-up.)
for pkg in $(go list ./... | grep -v -e "^$mod/pkg/cli$" -e "^$mod/bench/foundation$"); do
  imports "$pkg" | grep -q '^github.com/urfave/cli' && violation "$pkg imports urfave/cli; only pkg/cli may"
done

# 4. pkg/spec knows nothing of Nomad, Consul or Vault.
deps ./pkg/spec | grep -E '^github.com/hashicorp/(nomad|consul|vault)/api' && violation "pkg/spec depends on an API client"

# 5. pkg/scaling is the standard library only.
for p in $(deps ./pkg/scaling | grep '\.' || true); do
  [[ $p == $mod/pkg/scaling* ]] || violation "pkg/scaling depends on $p; it must stay stdlib-only"
done

# 6. pkg/render is pure: no network adapters, no CLI, no app wiring.
for p in $(imports ./pkg/render); do
  case $p in
    $mod/pkg/nomadx|$mod/pkg/consulx|$mod/pkg/vaultx|$mod/pkg/app|$mod/pkg/cli) violation "pkg/render imports $p" ;;
  esac
done

# 7. pkg/diag depends only on hcl.
for p in $(imports ./pkg/diag | grep '\.' || true); do
  [[ $p == github.com/hashicorp/hcl/v2* ]] || violation "pkg/diag imports $p"
done

# 8a. pkg/autoscale is the reconciler's runtime: below pkg/app and pkg/cli,
# beside pkg/render (it never renders).
for p in $(deps ./pkg/autoscale | grep "^$mod/" || true); do
  case $p in
    $mod/pkg/app|$mod/pkg/cli|$mod/pkg/render) violation "pkg/autoscale depends on $p" ;;
  esac
done

# 8. Library packages never print: no fmt.Print*/log.Print* outside cmd, cli and bench.
if grep -rnE '\b(fmt\.Print(ln|f)?|log\.(Print|Fatal|Panic)(ln|f)?)\(' --include='*.go' pkg | grep -v '_test.go' | grep -v '^pkg/cli/'; then
  violation "library packages must write to injected writers, not stdout"
fi

if [[ $fail == 0 ]]; then echo "check-deps: layering ok"; fi
exit $fail

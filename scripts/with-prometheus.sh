#!/usr/bin/env bash
# with-prometheus.sh CMD...: run CMD with PROMETHEUS_ADDR pointing at a
# Prometheus server, for the integration tests of the Prometheus source.
#
# When PROMETHEUS_ADDR is already set it is used as is. Otherwise a
# throwaway server is started on 127.0.0.1 from `prometheus` on PATH, or
# from .tools/bin (installed there with `go install` on first use: it takes
# minutes, which is why this is not part of `make test`). It scrapes itself
# and keeps its data in a temporary directory removed on exit.
set -euo pipefail

PROMETHEUS_VERSION=${PROMETHEUS_VERSION:-v0.316.0}
PORT=${PROMETHEUS_PORT:-19090}

if [[ -n "${PROMETHEUS_ADDR:-}" ]]; then
	exec "$@"
fi

root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(command -v prometheus || true)
if [[ -z "$bin" ]]; then
	bin="$root/.tools/bin/prometheus"
	if [[ ! -x "$bin" ]]; then
		echo "with-prometheus: installing prometheus $PROMETHEUS_VERSION into .tools/bin (takes minutes once)" >&2
		GOBIN="$root/.tools/bin" go install "github.com/prometheus/prometheus/cmd/prometheus@$PROMETHEUS_VERSION"
	fi
fi

data=$(mktemp -d)
cleanup() {
	if [[ -n "${pid:-}" ]]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$data"
}
trap cleanup EXIT

cat > "$data/prometheus.yml" <<YAML
global:
  scrape_interval: 5s
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ["127.0.0.1:$PORT"]
YAML

"$bin" --config.file="$data/prometheus.yml" --storage.tsdb.path="$data/tsdb" \
	--web.listen-address="127.0.0.1:$PORT" >"$data/prometheus.log" 2>&1 &
pid=$!

addr="http://127.0.0.1:$PORT"
for _ in $(seq 1 60); do
	if curl -fsS "$addr/-/ready" >/dev/null 2>&1; then
		break
	fi
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "with-prometheus: prometheus exited:" >&2
		cat "$data/prometheus.log" >&2
		exit 1
	fi
	sleep 0.5
done
echo "with-prometheus: prometheus at $addr" >&2
PROMETHEUS_ADDR=$addr "$@"

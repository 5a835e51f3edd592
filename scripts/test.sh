#!/usr/bin/env bash
# Runs every test: unit tests, CLI tests and the integration tests against
# protocol-faithful fake servers on loopback. This is README's test command.
#
# No real server is started yet: Debian packages none of the products ajar speaks today
# (Elasticsearch, OpenSearch, Kibana, MongoDB), so their tests replay documented responses
# (tests/fixtures/*/SOURCES.md). Probes of Debian-packaged stores will install and start
# their servers here, on loopback, and stop them by PID afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --locked --lib --bins --tests 2>&1 | tee "$log"
# One closing line over every test binary, for CI logs.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"

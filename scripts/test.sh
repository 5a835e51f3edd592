#!/usr/bin/env bash
# Runs every test: unit tests, CLI tests and the integration tests against
# protocol-faithful fake servers on 127.0.0.1. This is README's test command.
# Servers that later probes test against (Redis, PostgreSQL, ...) are installed from
# Debian and started here, on loopback, and stopped after.
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --locked --lib --bins --tests 2>&1 | tee "$log"
# One closing line over every test binary, for CI logs.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"

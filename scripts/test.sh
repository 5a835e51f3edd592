#!/usr/bin/env bash
# Runs every test: unit tests, and the integration tests against protocol-faithful fake
# servers on 127.0.0.1. README's test command. Servers that later probes test against
# (Redis, PostgreSQL, ...) are installed and started here, on loopback, and stopped after.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --locked --all-targets
